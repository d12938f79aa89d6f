//! What would be shared: the blocks every sharing needs, the data the
//! third party would receive, the commodities that follow the meters, and
//! the account details the customer may leave out.

use leptos::prelude::*;

use super::text::{intervals_line, plain};
use super::use_choosing;
use crate::components::{Choice, Choices, Lines};
use crate::flow::use_flow;
use crate::i18n::M;

/// The lines of what would be shared, and the optional account details.
#[component]
pub fn WhatYouShare() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let lang = flow.lang();
    let plain_of = move |ids: &[u16]| ids.iter().map(|id| plain(*id, lang)).collect::<Vec<_>>();
    let (editable, base, receive, commodity) = c.plan(|p| {
        let mut receive = plain_of(&p.data_shape);
        receive.extend(intervals_line(flow, &p.requested));
        (p.editable, plain_of(&p.base), receive, p.commodity.clone())
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
    let receive = (!receive.is_empty()).then(|| {
        view! {
            <p class="gbc-body">{flow.fc(M::Receive)}</p>
            <Lines items=receive />
        }
    });
    // Commodities follow the meters chosen.
    let commodity = (!commodity.is_empty()).then(|| {
        let items = Signal::derive(move || {
            let kept = c.grant().map(|g| g.function_blocks).ok();
            commodity
                .iter()
                .filter(|id| kept.as_ref().is_none_or(|k| k.contains(id)))
                .map(|id| plain(*id, lang))
                .collect::<Vec<_>>()
        });
        view! {
            <p class="gbc-body">{flow.t(M::Commodity)}</p>
            <Lines items=items />
        }
    });
    view! {
        {noedit}
        {base}
        {receive}
        {commodity}
        <AccountDetails />
    }
}

/// The customer-data blocks: checkboxes, or read-only lines under `noedit`.
#[component]
fn AccountDetails() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let lang = flow.lang();
    let (editable, ids) = c.plan(|p| (p.editable, p.customer_data.clone()));
    if ids.is_empty() {
        return ().into_any();
    }
    if !editable {
        let lines: Vec<String> = ids.iter().map(|id| plain(*id, lang)).collect();
        return view! {
            <p class="gbc-body">{flow.t(M::OptionalLegend)}</p>
            <Lines items=lines />
        }
        .into_any();
    }
    let choices = ids
        .iter()
        .map(|fb| Choice::new(format!("data-{fb}"), plain(*fb, lang), fb.to_string()))
        .collect();
    view! {
        <Choices
            name="data"
            legend=flow.t(M::OptionalLegend)
            hint=flow.t(M::OptionalHint)
            choices=choices
            checked=Callback::new(move |v: String| {
                c.sel.with(|s| s.customer_data.iter().any(|x| x.to_string() == v))
            })
            on_change=Callback::new(move |(v, on): (String, bool)| {
                if let Ok(fb) = v.parse::<u16>() {
                    c.sel.update(|s| toggle(&mut s.customer_data, fb, on));
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
