//! What would be shared: the structural blocks every sharing needs, then
//! one checkbox for each kind of data requested (usage readings, bills and
//! costs, account details), ticked as requested. The customer may untick
//! any as long as one is left; under `noedit` they are read-only lines.

use espi_scope::catalog::{Commodity, DataKind};
use leptos::prelude::*;

use super::text::{intervals_line, plain};
use super::use_choosing;
use crate::components::{Choice, Choices, Lines};
use crate::flow::{Flow, use_flow};
use crate::i18n::M;

/// The name of the first kind's checkbox: where the "choose at least one"
/// error points.
pub const FIRST_KIND: &str = "data-0";

/// The lines of what would be shared.
#[component]
pub fn WhatYouShare() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let lang = flow.lang();
    let (editable, base) = c.plan(|p| {
        let base: Vec<String> = p.base.iter().map(|id| plain(*id, lang)).collect();
        (p.editable, base)
    });
    let noedit = (!editable).then(|| {
        view! { <p class="gbc-panel gbc-panel--info gbc-body">{flow.fc(M::NoEdit)}</p> }
    });
    let base = (!base.is_empty()).then(|| {
        view! {
            <p class="gbc-body">{flow.t(M::BaseNote)}</p>
            <Lines items=base />
        }
    });
    view! {
        {noedit}
        {base}
        <DataKinds />
    }
}

/// A kind of data in words.
fn kind_label(flow: Flow, kind: DataKind) -> String {
    flow.t(match kind {
        DataKind::Usage => M::DataUsage,
        DataKind::Bills => M::DataBills,
        DataKind::Account => M::DataAccount,
    })
}

/// What a kind holds, in words: its blocks (the commodities follow the
/// meters, so they are not repeated here) and, for usage, the intervals.
fn kind_details(flow: Flow, kind: DataKind, ids: &[u16]) -> String {
    let mut lines: Vec<String> = Vec::new();
    for id in ids.iter().filter(|id| Commodity::of_block(**id).is_none()) {
        let l = plain(*id, flow.lang());
        if !lines.contains(&l) {
            lines.push(l);
        }
    }
    if kind == DataKind::Usage {
        lines.extend(use_choosing().plan(|p| intervals_line(flow, &p.requested)));
    }
    lines.join(". ")
}

/// One checkbox per kind of data requested, or read-only lines.
#[component]
fn DataKinds() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let (editable, kinds) = c.plan(|p| (p.editable, p.kinds.clone()));
    if kinds.is_empty() {
        return ().into_any();
    }
    if !editable {
        let lines: Vec<String> = kinds
            .iter()
            .map(|(k, ids)| format!("{}: {}", kind_label(flow, *k), kind_details(flow, *k, ids)))
            .collect();
        return view! {
            <p class="gbc-body">{flow.fc(M::Receive)}</p>
            <Lines items=lines />
        }
        .into_any();
    }
    let choices = kinds
        .iter()
        .enumerate()
        .map(|(i, (k, ids))| {
            let details = kind_details(flow, *k, ids);
            Choice {
                name: format!("data-{i}"),
                label: kind_label(flow, *k),
                value: k.as_str().to_string(),
                hint: (!details.is_empty()).then_some(details),
            }
        })
        .collect();
    view! {
        <Choices
            name="data"
            legend=flow.fc(M::Receive)
            hint=flow.t(M::DataHint)
            choices=choices
            checked=Callback::new(move |v: String| {
                c.sel.with(|s| s.kinds.iter().any(|k| k.as_str() == v))
            })
            on_change=Callback::new(move |(v, on): (String, bool)| {
                if let Some(k) = DataKind::ALL.into_iter().find(|k| k.as_str() == v) {
                    c.sel.update(|s| toggle(&mut s.kinds, k, on));
                }
            })
        />
    }
    .into_any()
}

/// Adds or removes `x`.
pub fn toggle<T: PartialEq>(v: &mut Vec<T>, x: T, on: bool) {
    v.retain(|y| *y != x);
    if on {
        v.push(x);
    }
}
