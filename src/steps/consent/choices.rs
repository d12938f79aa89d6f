//! The choices that narrow the grant: which meters, how much past data,
//! until when. Each is a fieldset the customer may change (only ever
//! narrower), or a read-only line when there is nothing to choose.

use espi_scope::MeterRequest;
use leptos::prelude::*;

use super::share::toggle;
use super::text::{end_text, history_text, meter_details, meter_text};
use super::use_choosing;
use crate::components::{Choice, Choices, Lines, Row};
use crate::flow::{Flow, use_flow};
use crate::i18n::M;

/// "{x} (as requested)" for the first option, or "{x} (standard)" when
/// the request named none and the data custodian's default applies.
fn as_requested(flow: Flow, i: usize, is_default: bool, text: String) -> String {
    match (i, is_default) {
        (0, false) => flow.f(M::AsRequested, &[("x", &text)]),
        (0, true) => flow.f(M::AsDefault, &[("x", &text)]),
        _ => text,
    }
}

/// Which meters, with their kind and address.
#[component]
pub fn MeterChoice() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let (choices, default, request, editable) = c.plan(|p| {
        (
            p.meter_choices.clone(),
            p.meter_default.clone(),
            p.meter_request.clone(),
            p.editable,
        )
    });
    let meters = c.meters.get_value();
    let find = |said: &str| meters.iter().find(|m| m.said == said);
    if choices.is_empty() {
        return view! {
            <div class="gbc-panel gbc-panel--warning">
                <p class="gbc-body">{flow.t(M::MetersNone)}</p>
            </div>
        }
        .into_any();
    }
    if !editable && request != MeterRequest::Unspecified {
        let items: Vec<String> = default
            .iter()
            .filter_map(|s| find(s))
            .map(|m| meter_text(flow, m))
            .collect();
        return view! {
            <p class="gbc-body">{flow.t(M::MetersLegend)}</p>
            <Lines items=items />
        }
        .into_any();
    }
    let hint = match request {
        MeterRequest::All => flow.fc(M::MetersHintAll),
        MeterRequest::Listed(_) => flow.fc(M::MetersHintListed),
        MeterRequest::Unspecified => flow.t(M::MetersHintChoose),
    };
    let choices = choices
        .iter()
        .enumerate()
        .map(|(i, said)| {
            let (label, detail) = find(said).map_or_else(
                || (said.clone(), String::new()),
                |m| (m.label.clone(), meter_details(flow, m).join(" · ")),
            );
            Choice {
                name: format!("meter-{i}"),
                label,
                value: said.clone(),
                hint: (!detail.is_empty()).then_some(detail),
            }
        })
        .collect();
    view! {
        <Choices
            name="meters"
            legend=flow.t(M::MetersLegend)
            hint=hint
            choices=choices
            checked=Callback::new(move |v: String| c.sel.with(|s| s.meters.contains(&v)))
            on_change=Callback::new(move |(v, on): (String, bool)| {
                c.sel.update(|s| toggle(&mut s.meters, v, on));
            })
        />
    }
    .into_any()
}

/// How much past data: radios (only shorter), or a read-only row.
#[component]
pub fn HistoryChoice() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let (requested, options, editable, is_default) = c.plan(|p| {
        (
            p.history,
            p.history_options(),
            p.editable,
            p.history_is_default(),
        )
    });
    if !(editable && options.len() > 1) {
        let row = view! { <Row key=flow.t(M::HistoryLegend) value=vec![history_text(flow, requested)] /> };
        return view! { <dl class="gbc-summary-list">{row}</dl> }.into_any();
    }
    let choices = options
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Choice::new(
                format!("history-{i}"),
                as_requested(flow, i, is_default, history_text(flow, *h)),
                h.to_string(),
            )
        })
        .collect();
    view! {
        <Choices
            name="history"
            radio=true
            legend=flow.t(M::HistoryLegend)
            choices=choices
            checked=Callback::new(move |v: String| c.sel.with(|s| s.history.to_string() == v))
            on_change=Callback::new(move |(v, _): (String, bool)| {
                c.sel.update(|s| s.history = v.parse().unwrap_or(s.history));
            })
        />
    }
    .into_any()
}

/// Until when: radios (only earlier), or a read-only row.
#[component]
pub fn EndDateChoice() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let (end, options, editable, is_default) =
        c.plan(|p| (p.end, p.end_options(), p.editable, p.end_is_default()));
    if !(editable && options.len() > 1) {
        return view! {
            <dl class="gbc-summary-list">
                <Row key=flow.fc(M::EndLegend) value=vec![end_text(flow, end)] />
            </dl>
        }
        .into_any();
    }
    let choices = options
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Choice::new(
                format!("end-{i}"),
                as_requested(flow, i, is_default, end_text(flow, *e)),
                e.to_string(),
            )
        })
        .collect();
    view! {
        <Choices
            name="end"
            radio=true
            legend=flow.fc(M::EndLegend)
            hint=flow.t(M::EndHint)
            choices=choices
            checked=Callback::new(move |v: String| c.sel.with(|s| s.end.to_string() == v))
            on_change=Callback::new(move |(v, _): (String, bool)| {
                c.sel.update(|s| s.end = v.parse().unwrap_or(s.end));
            })
        />
    }
    .into_any()
}
