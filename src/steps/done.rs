//! Posting the decision, the receipt (printable), then the way on to the
//! third party.

use std::time::Duration;

use espi_scope::describe;
use leptos::prelude::*;

use crate::api::{Decision, ErrorCode, Locale, Outcome, Receipt};
use crate::components::{Heading, Row, SubHeading};
use crate::events::WidgetEvent;
use crate::flow::{Busy, Flow, Step, use_flow};
use crate::i18n::M;
use crate::steps::consent::text::{meter_text, plain_lines};

/// Posts a decision; on success shows the done step and tells the host
/// (`gb-consent:authorized` / `:declined`, cancelable). A decline is
/// followed at once, an authorization after the receipt's countdown.
pub async fn post_decision(flow: Flow, mut d: Decision) {
    let Some(api) = flow.api() else { return };
    // The receipt mail is written in the language the customer reads.
    d.locale = Some(match flow.lang() {
        describe::Lang::En => Locale::En,
        describe::Lang::Es => Locale::Es,
    });
    flow.errors.set(Vec::new());
    let e = match api.decide(&d).await {
        Ok(res) => {
            let event = match &res.receipt {
                Some(rc) if res.outcome == Outcome::Authorized => WidgetEvent::Authorized {
                    outcome: Outcome::Authorized,
                    authorization_id: rc.authorization_id.clone(),
                    scope: rc.scope.clone(),
                },
                _ => WidgetEvent::Declined {
                    outcome: Outcome::Declined,
                },
            };
            let authorized = res.outcome == Outcome::Authorized;
            flow.result.set(Some(res));
            let proceed = flow.emit(event);
            flow.held.set(!proceed);
            flow.go(Step::Done);
            if !authorized && proceed {
                flow.follow_redirect();
            }
            return;
        }
        Err(e) => e,
    };
    if flow.stop_on(&e) {
        return;
    }
    match e.code() {
        Some(ErrorCode::NotSignedIn) => {
            flow.customer.set(None);
            flow.go(Step::SignIn);
            flow.report(&e, "", Some(flow.t(M::ErrNotSignedIn)));
        }
        Some(ErrorCode::NoMeterChosen) => flow.report(&e, "meter-0", Some(flow.t(M::ErrNoMeter))),
        Some(ErrorCode::NoDataChosen) => {
            let target = crate::steps::consent::FIRST_KIND;
            flow.report(&e, target, Some(flow.t(M::ErrNoData)))
        }
        None => flow.report(&e, "", None),
        Some(_) => flow.report(&e, "", Some(flow.t(M::ErrDecision))),
    }
}

/// The secondary button that declines the request (on the consent step
/// "Decline", on sign-in "Cancel and go back"), disabled while a request is
/// in flight.
#[component]
pub fn DeclineButton(
    /// The text.
    label: String,
    /// The step's request in flight (shared with its primary button).
    busy: Busy,
) -> impl IntoView {
    let flow = use_flow();
    view! {
        <button
            type="button"
            class="gbc-button gbc-button--secondary"
            disabled=move || busy.get()
            on:click=move |_| busy.run(post_decision(flow, Decision::decline()))
        >
            {label}
        </button>
    }
}

/// The done step: the receipt (authorized) or a short note (declined), and
/// the way on to the third party.
#[component]
pub fn DoneStep() -> impl IntoView {
    let flow = use_flow();
    let Some(res) = flow.result.get_untracked() else {
        return ().into_any();
    };
    let authorized = res.outcome == Outcome::Authorized;
    let link_ok = crate::model::is_web_url(&res.redirect_to);
    let delay = if authorized && !flow.held.get_untracked() && link_ok && !flow.framed() {
        u64::from(flow.redirect_delay())
    } else {
        0
    };
    let left = RwSignal::new(delay);
    if delay > 0
        && let Ok(h) = set_interval_with_handle(
            move || {
                let n = left.try_get_untracked().unwrap_or(0);
                if n > 0 {
                    left.set(n - 1);
                    if n == 1 {
                        flow.follow_redirect();
                    }
                }
            },
            Duration::from_secs(1),
        )
    {
        on_cleanup(move || h.clear());
    }
    let client = flow.client_name();
    let lang = flow.lang();
    let countdown = move || {
        let time = describe::seconds(left.get().max(1), lang);
        flow.f(M::DoneRedirectIn, &[("client", &client), ("time", &time)])
    };
    view! {
        <div class="gbc-step gbc-done">
            {if authorized {
                view! { <Heading text=flow.fc(M::DoneTitle) /> }.into_any()
            } else {
                view! {
                    <Heading text=flow.t(M::DeclinedTitle) />
                    <p class="gbc-body">{flow.fc(M::DeclinedBody)}</p>
                }
                    .into_any()
            }}
            {res.receipt.map(|rc| view! { <ReceiptPanel receipt=rc /> })}
            {authorized.then(|| view! { <p class="gbc-body">{flow.t(M::DoneRevoke)}</p> })}
            <p class="gbc-body gbc-countdown" hidden=move || left.get() == 0>{countdown}</p>
            <div class="gbc-actions">
                // A button, not a link: the URL holds the authorization
                // code, which stays out of the page's DOM.
                {link_ok.then(|| view! {
                    <button type="button" class="gbc-button" on:click=move |_| flow.follow_redirect()>
                        {flow.fc(M::DoneContinue)}
                    </button>
                })}
                {authorized.then(|| view! {
                    <button
                        type="button"
                        class="gbc-button gbc-button--secondary gbc-noprint"
                        on:click=move |_| {
                            left.set(0);
                            let _ = window().print();
                        }
                    >
                        {flow.t(M::DonePrint)}
                    </button>
                    <button type="button" class="gbc-linkbutton gbc-noprint" hidden=move || left.get() == 0 on:click=move |_| left.set(0)>
                        {flow.t(M::DoneStay)}
                    </button>
                })}
            </div>
        </div>
    }
    .into_any()
}

/// The authorization receipt.
#[component]
fn ReceiptPanel(
    /// What was authorized.
    receipt: Receipt,
) -> impl IntoView {
    let flow = use_flow();
    view! {
        <div class="gbc-panel gbc-receipt">
            <SubHeading text=flow.t(M::DoneReceipt) />
            <ReceiptRows receipt=receipt />
        </div>
    }
}

/// What an authorization shares, as summary rows: with whom, what, which
/// meters, how far back, until when, since when, its reference (the
/// receipt, and each entry of "Your data sharing").
#[component]
pub fn ReceiptRows(
    /// The authorization.
    receipt: Receipt,
) -> impl IntoView {
    let flow = use_flow();
    let lang = flow.lang();
    let rc = receipt;
    let third = if rc.third_party.is_empty() {
        flow.client_name()
    } else {
        rc.third_party.clone()
    };
    let what = espi_scope::canonical::read(&rc.scope)
        .map(|s| plain_lines(flow, &s))
        .unwrap_or_default();
    let meters: Vec<String> = rc.meters.iter().map(|m| meter_text(flow, m)).collect();
    let row = |m: M, v: Vec<String>| view! { <Row key=flow.t(m) value=v /> };
    view! {
        <dl class="gbc-summary-list">
            {row(M::ReceiptWith, vec![third])}
            {(!what.is_empty()).then(|| row(M::ReceiptData, what))}
            {(!meters.is_empty()).then(|| row(M::ReceiptMeters, meters))}
            {rc.history_length.map(|h| row(M::ReceiptHistory, vec![describe::seconds(h, lang)]))}
            {row(M::ReceiptUntil, vec![describe::end_date(rc.end_date, lang)])}
            {(rc.granted_at > 0)
                .then(|| row(M::ReceiptDate, vec![describe::end_date(rc.granted_at, lang)]))}
            {row(M::ReceiptRef, vec![rc.authorization_id.clone()])}
        </dl>
    }
}
