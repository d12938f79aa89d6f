//! The plain words for a scope: what each function block means, the
//! interval lengths, history, end dates and meters, in the widget's
//! language. Shared by the consent step and the receipt.

use espi_scope::catalog::{ConsentRole, role_of};
use espi_scope::describe::{self, Lang};
use espi_scope::{AdditionalScope, EspiScope};

use crate::api::{Meter, ServiceKind};
use crate::flow::Flow;
use crate::i18n::M;

/// What a function block means, in plain words.
pub fn plain(id: u16, lang: Lang) -> String {
    describe::function_block_description(id, lang).to_string()
}

/// "Readings for each period of: 15 minutes, 1 hour".
pub fn intervals_line(flow: Flow, scope: &EspiScope) -> Option<String> {
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

/// "The last 2 years" / "No past data".
pub fn history_text(flow: Flow, secs: u64) -> String {
    if secs == 0 {
        flow.t(M::HistoryNone)
    } else {
        let time = describe::seconds(secs, flow.lang());
        flow.f(M::HistoryOption, &[("time", &time)])
    }
}

/// "Until 1 May 2030" / "Until I revoke it".
pub fn end_text(flow: Flow, end: u64) -> String {
    if end == 0 {
        flow.t(M::EndRevoke)
    } else {
        let date = describe::end_date(end, flow.lang());
        flow.f(M::EndUntil, &[("date", &date)])
    }
}

fn meter_kind(flow: Flow, m: &Meter) -> Option<String> {
    Some(flow.t(match m.service_kind? {
        ServiceKind::Electricity => M::KindElectricity,
        ServiceKind::Gas => M::KindGas,
        ServiceKind::Water => M::KindWater,
    }))
}

/// The kind and address of a meter.
pub fn meter_details(flow: Flow, m: &Meter) -> Vec<String> {
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
pub fn summary_lines(flow: Flow, g: &EspiScope, meters: &[Meter]) -> Vec<String> {
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
        Some(0) => lines.push(flow.t(M::SummaryRevoke)),
        Some(e) => {
            let date = describe::end_date(e, flow.lang());
            lines.push(flow.f(M::SummaryUntil, &[("date", &date)]));
        }
        None => {}
    }
    lines
}
