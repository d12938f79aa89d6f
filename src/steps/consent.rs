//! Step 3: what the customer would share, with whom and for what; the
//! choices they may make (only ever narrower); the exact summary; then
//! "Authorize" or "Decline".
//!
//! Grouping follows the catalog's consent roles: base blocks are a note,
//! data-shape blocks "would receive" lines, commodity blocks follow the
//! meters chosen, customer-data blocks optional checkboxes, technical
//! blocks only under "Technical details" (the only place with numbers).

use crate::rt::*;
use espi_scope::catalog::{ConsentRole, function_block, role_of};
use espi_scope::describe::{self, Lang};
use espi_scope::{AdditionalScope, EspiScope, MeterRequest, NarrowError, NarrowErrorKind};
use web_sys::Element;

use crate::api::Meter;
use std::cell::RefCell;
use std::rc::Rc;

use crate::app::{Failure, Flow, Step, bump};
use crate::dom::{self, bind_flag, bind_text, button, el, on, set, txt};
use crate::i18n::M;
use crate::model::{Plan, Selection};
use crate::steps::done::{decline_button, post_decision};
use crate::ui::{
    Choice, actions, external_link, fieldset, fill, heading, hint, lines, p, row, sub_heading,
};

fn plain(id: u16, lang: Lang) -> String {
    describe::function_block_description(id, lang).to_string()
}

fn intervals_line(flow: Flow, scope: &EspiScope) -> Option<String> {
    if scope.interval_durations.is_empty() {
        return None;
    }
    let lang = flow.lang();
    let list: Vec<String> = scope
        .interval_durations
        .iter()
        .map(|d| describe::duration(d, lang))
        .collect();
    Some(flow.f(M::Intervals, &[("list", &list.join(", "))]))
}

fn history_text(flow: Flow, secs: u64) -> String {
    if secs == 0 {
        flow.ts(M::HistoryNone)
    } else {
        let time = describe::seconds(secs, flow.lang());
        flow.f(M::HistoryOption, &[("time", &time)])
    }
}

fn end_text(flow: Flow, end: u64) -> String {
    if end == 0 {
        flow.ts(M::EndRevoke)
    } else {
        let date = describe::end_date(end, flow.lang());
        flow.f(M::EndUntil, &[("date", &date)])
    }
}

fn meter_kind(flow: Flow, m: &Meter) -> Option<String> {
    Some(flow.ts(match m.service_kind.as_deref()? {
        "electricity" => M::KindElectricity,
        "gas" => M::KindGas,
        "water" => M::KindWater,
        _ => return None,
    }))
}

fn meter_details(flow: Flow, m: &Meter) -> Vec<String> {
    let mut d: Vec<String> = meter_kind(flow, m).into_iter().collect();
    d.extend(m.address.clone());
    d
}

/// "Label (Electricity, 1 Main St)" for summaries and receipts.
pub fn meter_text(flow: Flow, m: &Meter) -> String {
    let d = meter_details(flow, m);
    if d.is_empty() {
        m.label.clone()
    } else {
        format!("{} ({})", m.label, d.join(", "))
    }
}

/// The plain-language lines for a granted scope (no technical blocks).
pub fn plain_lines(flow: Flow, scope: &EspiScope) -> Vec<String> {
    let lang = flow.lang();
    let mut lines: Vec<String> = Vec::new();
    for &id in &scope.function_blocks {
        if role_of(id) != ConsentRole::Technical {
            let l = plain(id, lang);
            if !lines.contains(&l) {
                lines.push(l);
            }
        }
    }
    lines.extend(intervals_line(flow, scope));
    lines
}

/// The summary of exactly what a grant gives.
fn summary_lines(flow: Flow, g: &EspiScope, meters: &[Meter]) -> Vec<String> {
    let mut lines = plain_lines(flow, g);
    let chosen: Vec<String> = g
        .additional_scope
        .iter()
        .filter_map(|a| match a {
            AdditionalScope::Meter(s) => meters.iter().find(|m| &m.said == s),
            _ => None,
        })
        .map(|m| meter_text(flow, m))
        .collect();
    if !chosen.is_empty() {
        lines.push(flow.f(M::SummaryMeters, &[("list", &chosen.join("; "))]));
    }
    if let Some(h) = g.history_length {
        lines.push(history_text(flow, h));
    }
    match g.preferred_auth_end_date {
        Some(0) => lines.push(flow.ts(M::SummaryRevoke)),
        Some(e) => {
            let date = describe::end_date(e, flow.lang());
            lines.push(flow.f(M::SummaryUntil, &[("date", &date)]));
        }
        None => {}
    }
    lines
}

/// The customer's choices (read tracked through a version signal) and the
/// plan and meters they apply to.
#[derive(Clone)]
struct Sel {
    v: RwSignal<u64>,
    data: Rc<RefCell<Selection>>,
    plan: Rc<(Plan, Vec<Meter>)>,
}

impl Sel {
    fn with<R>(&self, f: impl FnOnce(&Selection) -> R) -> R {
        self.v.track();
        f(&self.data.borrow())
    }

    fn update(&self, f: &dyn Fn(&mut Selection)) {
        f(&mut self.data.borrow_mut());
        bump(self.v);
    }

    /// The exact grant for the current choices (tracked).
    fn grant(&self) -> Result<EspiScope, NarrowError> {
        self.with(|s| self.plan.0.grant(s, &self.plan.1))
    }
}

/// A radio or checkbox bound to the selection.
fn choice(
    name: String,
    label: String,
    hint: Option<String>,
    sel: &Sel,
    checked: fn(&Selection, &str) -> bool,
    change: fn(&mut Selection, &str, bool),
    key: String,
) -> Choice {
    let (k2, s1, s2) = (key.clone(), sel.clone(), sel.clone());
    Choice {
        name,
        label,
        value: key.clone(),
        hint,
        checked: Box::new(move || s1.with(|s| checked(s, &key))),
        on_change: Box::new(move |on| s2.update(&|s| change(s, &k2, on))),
    }
}

fn toggle<T: PartialEq + Clone>(v: &mut Vec<T>, x: T, on: bool) {
    v.retain(|y| *y != x);
    if on {
        v.push(x);
    }
}

/// Component: the consent step.
pub fn consent(flow: Flow, parent: &Element) {
    let (Some(ctx), Some(customer)) = (flow.ctx(), flow.customer()) else {
        set_timeout(Box::new(move || flow.go(Step::SignIn)), 0);
        return;
    };
    let Some(p0) = Plan::new(
        &ctx.scope,
        ctx.editable,
        ctx.now,
        ctx.default_end_date,
        &customer.meters,
    ) else {
        set_timeout(Box::new(move || flow.fail(Failure::Server)), 0);
        return;
    };
    let lang = flow.lang();
    let client = &ctx.client;
    let editable = p0.editable;
    let all_meters = customer.meters.clone();
    let sel = Sel {
        v: RwSignal::new(0),
        data: Rc::new(RefCell::new(p0.initial())),
        plan: Rc::new((p0.clone(), all_meters.clone())),
    };
    let busy = RwSignal::new(0u64);
    let p0 = &p0;

    let d = el(parent, "div", "gbc-step");
    heading(flow, &d, &flow.fc(M::ConsentTitle));

    // The third party.
    let c = el(&d, "div", "gbc-client");
    if let Some(src) = client
        .logo_uri
        .as_deref()
        .filter(|u| crate::model::is_web_url(u))
    {
        let img = el(&c, "img", "gbc-client__logo");
        set(&img, "src", src);
        set(&img, "alt", &flow.fc(M::ClientLogo));
        set(&img, "width", "48");
        set(&img, "height", "48");
        set(&img, "referrerpolicy", "no-referrer");
    }
    let ct = el(&c, "div", "gbc-client__text");
    txt(&ct, "p", "gbc-client__name", &client.name);
    let links = el(&ct, "ul", "gbc-links");
    for (u, text) in [
        (&client.client_uri, flow.fc(M::LinkWebsite)),
        (&client.policy_uri, flow.ts(M::LinkPolicy)),
        (&client.tos_uri, flow.ts(M::LinkTos)),
    ] {
        if let Some(href) = u.as_deref().filter(|u| crate::model::is_web_url(u)) {
            external_link(flow, &el(&links, "li", ""), href, &text);
        }
    }
    if !customer.display_name.is_empty() {
        let text = flow.f(M::ConsentSignedInAs, &[("name", &customer.display_name)]);
        hint(&d, "", &text);
    }

    // Scope of use: the registered disclosure, or a plain statement.
    let sou = ctx.scope_of_use.as_ref();
    let panel = el(
        &d,
        "div",
        if sou.is_some() {
            "gbc-panel"
        } else {
            "gbc-panel gbc-panel--warning"
        },
    );
    sub_heading(flow, &panel, &flow.fc(M::SouHeading));
    match sou {
        Some(s) => {
            p(&panel, &s.text);
            if let Some(u) = &s.url {
                external_link(flow, &el(&panel, "p", "gbc-body"), u, &flow.fc(M::SouMore));
            }
        }
        None => {
            p(&panel, &flow.fc(M::SouNone));
        }
    }

    // What would be shared.
    let form = el(&d, "form", "gbc-form");
    set(&form, "novalidate", "");
    sub_heading(flow, &form, flow.t(M::ShareHeading));
    if !editable {
        txt(
            &form,
            "p",
            "gbc-panel gbc-panel--info gbc-body",
            &flow.fc(M::NoEdit),
        );
    }
    let plain_of = |ids: &[u16]| ids.iter().map(|id| plain(*id, lang)).collect::<Vec<_>>();
    if !p0.base.is_empty() {
        p(&form, flow.t(M::BaseNote));
        lines(&form, &plain_of(&p0.base));
    }
    let mut receive = plain_of(&p0.data_shape);
    receive.extend(intervals_line(flow, &p0.requested));
    if !receive.is_empty() {
        p(&form, &flow.fc(M::Receive));
        lines(&form, &receive);
    }
    if !p0.commodity.is_empty() {
        p(&form, flow.t(M::Commodity));
        let ul = lines(&form, &[]);
        let ids = p0.commodity.clone();
        let sel = sel.clone();
        dom::effect(Box::new(move || {
            let kept = sel.grant().map(|g| g.function_blocks).ok();
            let items: Vec<String> = ids
                .iter()
                .filter(|id| kept.as_ref().is_none_or(|k| k.contains(id)))
                .map(|id| plain(*id, lang))
                .collect();
            fill(&ul, &items);
        }));
    }
    if !p0.customer_data.is_empty() {
        if editable {
            let choices = p0
                .customer_data
                .iter()
                .map(|&fb| {
                    choice(
                        format!("data-{fb}"),
                        plain(fb, lang),
                        None,
                        &sel,
                        |s, k| s.customer_data.iter().any(|x| x.to_string() == k),
                        |s, k, on| toggle(&mut s.customer_data, k.parse().unwrap_or(0), on),
                        fb.to_string(),
                    )
                })
                .collect();
            let (legend, h) = (flow.t(M::OptionalLegend), flow.t(M::OptionalHint));
            fieldset(flow, &form, "data", false, legend, Some(h), choices);
        } else {
            p(&form, flow.t(M::OptionalLegend));
            lines(&form, &plain_of(&p0.customer_data));
        }
    }

    // Meters, with their addresses.
    let find = |said: &str| all_meters.iter().find(|m| m.said == said);
    if p0.meter_choices.is_empty() {
        let w = el(&form, "div", "gbc-panel gbc-panel--warning");
        p(&w, flow.t(M::MetersNone));
    } else if !editable && p0.meter_request != MeterRequest::Unspecified {
        p(&form, flow.t(M::MetersLegend));
        let items: Vec<String> = p0
            .meter_default
            .iter()
            .filter_map(|s| find(s))
            .map(|m| meter_text(flow, m))
            .collect();
        lines(&form, &items);
    } else {
        let h = match p0.meter_request {
            MeterRequest::All => flow.fc(M::MetersHintAll),
            MeterRequest::Listed(_) => flow.fc(M::MetersHintListed),
            MeterRequest::Unspecified => flow.ts(M::MetersHintChoose),
        };
        let choices = p0
            .meter_choices
            .iter()
            .enumerate()
            .map(|(i, said)| {
                let (label, detail) = find(said).map_or_else(
                    || (said.clone(), String::new()),
                    |m| (m.label.clone(), meter_details(flow, m).join(" · ")),
                );
                choice(
                    format!("meter-{i}"),
                    label,
                    (!detail.is_empty()).then_some(detail),
                    &sel,
                    |s, k| s.meters.iter().any(|x| x == k),
                    |s, k, on| toggle(&mut s.meters, k.to_string(), on),
                    said.clone(),
                )
            })
            .collect();
        fieldset(
            flow,
            &form,
            "meters",
            false,
            flow.t(M::MetersLegend),
            Some(&h),
            choices,
        );
    }

    // History and end date: radios (only shorter), or read-only rows.
    let as_requested = |i: usize, text: String| {
        if i == 0 {
            flow.f(M::AsRequested, &[("x", &text)])
        } else {
            text
        }
    };
    if let Some(requested) = p0.requested.history_length {
        let options = p0.history_options();
        if editable && options.len() > 1 {
            let choices = options
                .iter()
                .enumerate()
                .map(|(i, &h)| {
                    choice(
                        format!("history-{i}"),
                        as_requested(i, history_text(flow, h)),
                        None,
                        &sel,
                        |s, k| s.history.map(|h| h.to_string()).as_deref() == Some(k),
                        |s, k, _| s.history = k.parse().ok(),
                        h.to_string(),
                    )
                })
                .collect();
            fieldset(
                flow,
                &form,
                "history",
                true,
                flow.t(M::HistoryLegend),
                None,
                choices,
            );
        } else {
            let dl = el(&form, "dl", "gbc-summary-list");
            row(
                &dl,
                flow.t(M::HistoryLegend),
                &[history_text(flow, requested)],
            );
        }
    }
    let options = p0.end_options();
    if editable && options.len() > 1 {
        let choices = options
            .iter()
            .enumerate()
            .map(|(i, &e)| {
                choice(
                    format!("end-{i}"),
                    as_requested(i, end_text(flow, e)),
                    None,
                    &sel,
                    |s, k| s.end.to_string() == k,
                    |s, k, _| s.end = k.parse().unwrap_or(s.end),
                    e.to_string(),
                )
            })
            .collect();
        let (legend, h) = (flow.fc(M::EndLegend), flow.t(M::EndHint));
        fieldset(flow, &form, "end", true, &legend, Some(h), choices);
    } else {
        let dl = el(&form, "dl", "gbc-summary-list");
        row(&dl, &flow.fc(M::EndLegend), &[end_text(flow, p0.end)]);
    }

    // Technical details: the only place with numbers.
    let details = el(&form, "details", "gbc-details");
    txt(
        &details,
        "summary",
        "gbc-details__summary",
        flow.t(M::Technical),
    );
    let body = el(&details, "div", "gbc-details__body");
    p(&body, flow.t(M::TechBlocks));
    let r = &p0.requested;
    let blocks: Vec<String> = r
        .function_blocks
        .iter()
        .map(|&id| format!("FB {id}: {}", function_block(id).name))
        .collect();
    lines(&body, &blocks);
    let dl = el(&body, "dl", "gbc-summary-list");
    let join = |v: &[espi_scope::Duration]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !r.interval_durations.is_empty() {
        row(
            &dl,
            flow.t(M::TechIntervals),
            &[join(&r.interval_durations)],
        );
    }
    if !r.block_durations.is_empty() {
        row(
            &dl,
            flow.t(M::TechBlockDurations),
            &[join(&r.block_durations)],
        );
    }
    if let Some(f) = &r.subscription_frequency {
        row(&dl, flow.t(M::TechFrequency), &[f.to_string()]);
    }
    if let Some(h) = r.history_length {
        row(&dl, flow.t(M::TechHistory), &[h.to_string()]);
    }
    row(&dl, flow.t(M::TechEnd), &[p0.end.to_string()]);
    for (k, v) in [(M::TechRequested, ""), (M::TechGranted, "granted")] {
        let dd = row(&dl, flow.t(k), &[String::new()]);
        let code = el(&dd, "code", "gbc-code");
        if v.is_empty() {
            code.set_text_content(Some(&ctx.scope));
        } else {
            let sel = sel.clone();
            bind_text(
                &code,
                Box::new(move || sel.grant().map(|g| g.to_string()).unwrap_or_default()),
            );
        }
    }

    // The summary of exactly what would be granted.
    let summary = el(&form, "div", "gbc-panel gbc-summary");
    sub_heading(flow, &summary, flow.t(M::SummaryHeading));
    p(&summary, &flow.fc(M::SummaryIntro));
    let ul = lines(&summary, &[]);
    let s1 = sel.clone();
    dom::effect(Box::new(move || {
        let items = s1
            .grant()
            .map(|g| summary_lines(flow, &g, &s1.plan.1))
            .unwrap_or_default();
        fill(&ul, &items);
    }));
    let problem = el(&summary, "p", "gbc-body gbc-summary-problem");
    let s2 = sel.clone();
    bind_text(
        &problem,
        Box::new(move || match s2.grant() {
            Err(e) if e.kind() == NarrowErrorKind::NoMeterChosen => flow.ts(M::MetersHintChoose),
            Err(_) => flow.ts(M::ErrDecision),
            Ok(_) => String::new(),
        }),
    );

    let row_el = actions(&form);
    let authorize = button(&row_el, "gbc-button", flow.t(M::Authorize), true);
    bind_flag(&authorize, "disabled", Box::new(move || busy.get() != 0));
    decline_button(flow, &row_el, flow.t(M::Decline), busy);
    on(
        &form,
        "submit",
        Box::new(move |ev| {
            ev.prevent_default();
            if sel.plan.0.meter_choices.is_empty() {
                return flow.error("", flow.t(M::MetersNone));
            }
            let s = sel.data.borrow().clone();
            if s.meters.is_empty() {
                return flow.error("meter-0", flow.t(M::ErrNoMeter));
            }
            if sel.plan.0.grant(&s, &sel.plan.1).is_err() {
                return flow.error("", flow.t(M::ErrDecision));
            }
            let d = sel.plan.0.decision(&s, &sel.plan.1);
            post_decision(flow, d, busy);
        }),
    );
}
