//! Step 4: post the decision, show the receipt (printable), then follow
//! the backend's redirect.

use std::rc::Rc;

use crate::rt::*;
use espi_scope::describe;
use wasm_bindgen::JsValue;
use web_sys::Element;

use crate::api::Decision;
use crate::app::{Flow, Step};
use crate::dom::{bind_flag, bind_text, button, el, on, set, txt};
use crate::i18n::M;
use crate::steps::consent::{meter_text, plain_lines};
use crate::ui::{actions, heading, p, row, sub_heading};

/// Posts a decision; on success shows the done step and tells the host
/// (`gb-consent:authorized` / `gb-consent:declined`, cancelable). A decline
/// is followed at once; an authorization after the receipt's countdown.
/// Component: the secondary button that declines the request (on the
/// consent step "Decline", on sign-in "Cancel and go back"); disabled while
/// a request is in flight, like the step's primary button.
pub fn decline_button(flow: Flow, parent: &Element, label: &str, busy: RwSignal<u64>) -> Element {
    let decline = button(parent, "gbc-button gbc-button--secondary", label, false);
    bind_flag(&decline, "disabled", Box::new(move || busy.get() != 0));
    on(
        &decline,
        "click",
        Box::new(move |_| {
            let d = Decision {
                authorize: false,
                ..Decision::default()
            };
            post_decision(flow, d, busy);
        }),
    );
    decline
}

pub fn post_decision(flow: Flow, d: Decision, busy: RwSignal<u64>) {
    if busy.get_untracked() != 0 {
        return;
    }
    let Some(api) = flow.api() else { return };
    busy.set(1);
    flow.clear_errors();
    spawn_local(async move {
        let r = api.decide(&d).await;
        busy.set(0);
        let e = match r {
            Ok(res) => {
                let mut extra: Vec<(&str, JsValue)> =
                    vec![("redirect_to", res.redirect_to.as_str().into())];
                if let Some(rc) = &res.receipt {
                    extra.push(("authorization_id", rc.authorization_id.as_str().into()));
                    extra.push(("scope", rc.scope.as_str().into()));
                }
                let name = if res.authorized {
                    "authorized"
                } else {
                    "declined"
                };
                let proceed = flow.emit(name, &extra);
                let redirect = res.redirect_to.clone();
                let authorized = res.authorized;
                flow.set_data(|d| {
                    d.stay = !proceed;
                    d.result = Some(Rc::new(res));
                });
                flow.go(Step::Done);
                if !authorized && proceed {
                    flow.navigate(&redirect);
                }
                return;
            }
            Err(e) => e,
        };
        if flow.stop_on(&e) {
            return;
        }
        match e.code.as_str() {
            "not_signed_in" => {
                flow.set_data(|d| d.customer = None);
                flow.go(Step::SignIn);
                flow.report(&e, "", Some(flow.t(M::ErrNotSignedIn)));
            }
            "no_meter_chosen" => flow.report(&e, "meter-0", Some(flow.t(M::ErrNoMeter))),
            "network" | "server" => flow.report(&e, "", None),
            _ => flow.report(&e, "", Some(flow.t(M::ErrDecision))),
        }
    });
}

/// Component: the done step: the receipt (authorized) or a short note
/// (declined), and the way on to the third party.
pub fn done(flow: Flow, parent: &Element) {
    let Some(res) = flow.data(|d| d.result.clone()).flatten() else {
        return;
    };
    let stay = flow.data(|d| d.stay).unwrap_or(false);
    let client = flow.client_name();
    let lang = flow.lang();
    let link_ok = crate::model::is_web_url(&res.redirect_to);
    let framed = flow.framed();

    let d = el(parent, "div", "gbc-step gbc-done");
    if !res.authorized {
        heading(flow, &d, flow.t(M::DeclinedTitle));
        p(&d, &flow.fc(M::DeclinedBody));
    } else {
        heading(flow, &d, &flow.fc(M::DoneTitle));
    }
    if let Some(rc) = &res.receipt {
        let panel = el(&d, "div", "gbc-panel gbc-receipt");
        sub_heading(flow, &panel, flow.t(M::DoneReceipt));
        let dl = el(&panel, "dl", "gbc-summary-list");
        let third = if rc.third_party.is_empty() {
            client.clone()
        } else {
            rc.third_party.clone()
        };
        row(&dl, flow.t(M::ReceiptWith), &[third]);
        let scope = espi_scope::canonical::read(&rc.scope);
        let what = scope.map(|s| plain_lines(flow, &s)).unwrap_or_default();
        if !what.is_empty() {
            row(&dl, flow.t(M::ReceiptData), &what);
        }
        let meters: Vec<String> = rc.meters.iter().map(|m| meter_text(flow, m)).collect();
        if !meters.is_empty() {
            row(&dl, flow.t(M::ReceiptMeters), &meters);
        }
        if let Some(h) = rc.history_length {
            row(
                &dl,
                flow.t(M::ReceiptHistory),
                &[describe::seconds(h, lang)],
            );
        }
        row(
            &dl,
            flow.t(M::ReceiptUntil),
            &[describe::end_date(rc.end_date, lang)],
        );
        if rc.granted_at > 0 {
            row(
                &dl,
                flow.t(M::ReceiptDate),
                &[describe::end_date(rc.granted_at, lang)],
            );
        }
        row(
            &dl,
            flow.t(M::ReceiptRef),
            std::slice::from_ref(&rc.authorization_id),
        );
    }
    if res.authorized {
        p(&d, flow.t(M::DoneRevoke));
    }

    // Follow the redirect after a countdown the customer can stop.
    let delay = if res.authorized && !stay && link_ok && !framed {
        u64::from(flow.redirect_delay())
    } else {
        0
    };
    let left = RwSignal::new(delay);
    if delay > 0 {
        let target = res.redirect_to.clone();
        set_interval(
            Box::new(move || {
                let n = left.try_get_untracked().unwrap_or(0);
                if n > 0 {
                    left.set(n - 1);
                    if n == 1 {
                        flow.navigate(&target);
                    }
                }
            }),
            1000,
        );
    }
    let countdown = el(&d, "p", "gbc-body gbc-countdown");
    bind_flag(&countdown, "hidden", Box::new(move || left.get() == 0));
    bind_text(
        &countdown,
        Box::new(move || {
            let time = describe::seconds(left.get().max(1), lang);
            flow.f(M::DoneRedirectIn, &[("client", &client), ("time", &time)])
        }),
    );

    let row_el = actions(&d);
    if link_ok {
        let a = txt(&row_el, "a", "gbc-button", &flow.fc(M::DoneContinue));
        set(&a, "href", &res.redirect_to);
        if framed {
            set(&a, "target", "_top");
        } else {
            let target = res.redirect_to.clone();
            on(
                &a,
                "click",
                Box::new(move |ev| {
                    ev.prevent_default();
                    flow.navigate(&target);
                }),
            );
        }
    }
    if res.authorized {
        let print = button(
            &row_el,
            "gbc-button gbc-button--secondary gbc-noprint",
            flow.t(M::DonePrint),
            false,
        );
        on(
            &print,
            "click",
            Box::new(move |_| {
                left.set(0);
                let _ = window().print();
            }),
        );
        let stay_b = button(
            &row_el,
            "gbc-linkbutton gbc-noprint",
            flow.t(M::DoneStay),
            false,
        );
        bind_flag(&stay_b, "hidden", Box::new(move || left.get() == 0));
        on(&stay_b, "click", Box::new(move |_| left.set(0)));
    }
}
