//! The technical details (the only place with numbers) and the summary of
//! exactly what would be granted.

use espi_scope::NarrowErrorKind;
use espi_scope::catalog::function_block;
use leptos::prelude::*;

use super::text::summary_lines;
use super::use_choosing;
use crate::components::{Lines, Row, SubHeading};
use crate::flow::use_flow;
use crate::i18n::M;

/// "Technical details": the function blocks by number and name, the raw
/// terms, and the requested and granted scope strings.
#[component]
pub fn TechnicalDetails(
    /// The requested scope, as the server sent it.
    requested: String,
) -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let (r, end) = c.plan(|p| (p.requested.clone(), p.end));
    let blocks: Vec<String> = r
        .function_blocks
        .iter()
        .map(|&id| format!("FB {id}: {}", function_block(id).name))
        .collect();
    let join = |v: &[espi_scope::Duration]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let row = |m: M, v: String| view! { <Row key=flow.t(m) value=vec![v] /> };
    let granted = move || c.grant().map(|g| g.to_string()).unwrap_or_default();
    view! {
        <details class="gbc-details">
            <summary class="gbc-details__summary">{flow.t(M::Technical)}</summary>
            <div class="gbc-details__body">
                <p class="gbc-body">{flow.t(M::TechBlocks)}</p>
                <Lines items=blocks />
                <dl class="gbc-summary-list">
                    {(!r.interval_durations.is_empty())
                        .then(|| row(M::TechIntervals, join(&r.interval_durations)))}
                    {(!r.block_durations.is_empty())
                        .then(|| row(M::TechBlockDurations, join(&r.block_durations)))}
                    {r.subscription_frequency.as_ref().map(|f| row(M::TechFrequency, f.to_string()))}
                    {r.history_length.map(|h| row(M::TechHistory, h.to_string()))}
                    {row(M::TechEnd, end.to_string())}
                    <div>
                        <dt>{flow.t(M::TechRequested)}</dt>
                        <dd><code class="gbc-code">{requested}</code></dd>
                    </div>
                    <div>
                        <dt>{flow.t(M::TechGranted)}</dt>
                        <dd><code class="gbc-code">{granted}</code></dd>
                    </div>
                </dl>
            </div>
        </details>
    }
}

/// The summary of exactly what would be granted, kept in step with the
/// choices.
#[component]
pub fn GrantSummary() -> impl IntoView {
    let flow = use_flow();
    let c = use_choosing();
    let lines = Signal::derive(move || {
        c.grant()
            .map(|g| c.meters.with_value(|m| summary_lines(flow, &g, m)))
            .unwrap_or_default()
    });
    let problem = move || match c.grant() {
        Err(e) if e.kind() == NarrowErrorKind::NoMeterChosen => flow.t(M::MetersHintChoose),
        Err(e) if e.kind() == NarrowErrorKind::NoFunctionBlockChosen => flow.t(M::ErrNoData),
        Err(_) => flow.t(M::ErrDecision),
        Ok(_) => String::new(),
    };
    view! {
        <div class="gbc-panel gbc-summary">
            <SubHeading text=flow.t(M::SummaryHeading) />
            <p class="gbc-body">{flow.fc(M::SummaryIntro)}</p>
            <Lines items=lines />
            <p class="gbc-body gbc-summary-problem">{problem}</p>
        </div>
    }
}
