//! `POST Batch/RetailCustomer/{retailCustomerId}/UsagePoint` with an
//! `upload_access_token` (or a `datacustodian_access_token`): imports an
//! ESPI feed of UsagePoints with their readings and bills, as a meter data
//! system would. The feed is read completely first; any problem answers
//! 400 naming it and nothing is stored; then everything is written in one
//! transaction.
//!
//! Entries are taken in document order: IntervalBlocks and UsageSummaries
//! belong to the UsagePoint entry before them (the order this server
//! writes). A UsagePoint names its meter by
//! `serviceDeliveryPoint/customerAgreement` (the SAID), which must be one
//! of that customer's meters. Each IntervalReading's `timePeriod/duration`
//! is its interval length.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ResourceError;
use crate::espi::bearer;
use crate::espi::reader::{Node, ends_with, walk};
use crate::store::{MeterUsage, ReadingRow, SummaryRow, TokenKind};

/// The largest upload accepted.
pub const MAX_UPLOAD: usize = 256 * 1024 * 1024;

/// The handler.
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    if !matches!(
        tok.kind,
        TokenKind::UploadAccess | TokenKind::DataCustodianAccess
    ) {
        return Err(ResourceError::InsufficientScope);
    }
    state
        .store()
        .customer(&id)
        .await?
        .ok_or(ResourceError::NotFound)?;
    let usage = parse_feed(&body).map_err(ResourceError::BadRequest)?;
    let own: Vec<String> = state
        .store()
        .meters(&id)
        .await?
        .into_iter()
        .map(|m| m.said)
        .collect();
    if let Some(m) = usage.iter().find(|m| !own.contains(&m.said)) {
        return Err(ResourceError::BadRequest(format!(
            "UsagePoint {:?} is not one of this retail customer's service agreements",
            m.said
        )));
    }
    state.store().import_usage(&id, &usage).await?;
    let readings: usize = usage
        .iter()
        .flat_map(|m| m.readings.iter().map(|(_, r)| r.len()))
        .sum();
    let summaries: usize = usage.iter().map(|m| m.summaries.len()).sum();
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "usage_points": usage.len(),
            "interval_readings": readings,
            "usage_summaries": summaries,
        })
        .to_string(),
    )
        .into_response())
}

#[derive(Default)]
struct Reading {
    start: Option<i64>,
    duration: Option<i64>,
    value: Option<i64>,
}

#[derive(Default)]
struct Bill {
    start: Option<i64>,
    duration: Option<i64>,
    amount: Option<i64>,
    currency: Option<i64>,
    consumption: Option<i64>,
    issued: Option<i64>,
}

fn num(what: &str, text: &str) -> Result<i64, String> {
    text.parse::<i64>()
        .map_err(|_| format!("{what} is not an integer: {text:?}"))
}

/// Reads an ESPI feed (or a single entry) into usage per meter.
pub fn parse_feed(xml: &[u8]) -> Result<Vec<MeterUsage>, String> {
    // SAID -> (interval -> start -> value, bills)
    type PerMeter = (BTreeMap<i64, BTreeMap<i64, i64>>, Vec<SummaryRow>);
    let mut meters: BTreeMap<String, PerMeter> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    let mut up_said: Option<String> = None;
    let mut reading = Reading::default();
    let mut bill = Bill::default();
    let mut root_checked = false;
    walk(xml, |node| {
        match node {
            Node::Open(path) => {
                if !root_checked {
                    root_checked = true;
                    if !matches!(path[0].as_str(), "feed" | "entry") {
                        return Err(format!(
                            "the root element is <{}>, not an Atom <feed> or <entry>",
                            path[0]
                        ));
                    }
                }
                if ends_with(path, &["content", "UsagePoint"]) {
                    up_said = None;
                } else if ends_with(path, &["IntervalReading"]) {
                    reading = Reading::default();
                } else if ends_with(path, &["content", "UsageSummary"]) {
                    bill = Bill::default();
                }
            }
            Node::Close(path, text) => {
                if ends_with(
                    path,
                    &["UsagePoint", "serviceDeliveryPoint", "customerAgreement"],
                ) {
                    up_said = Some(text.to_string());
                } else if ends_with(path, &["content", "UsagePoint"]) {
                    let said = up_said
                        .take()
                        .filter(|s| !s.is_empty())
                        .ok_or("a UsagePoint has no serviceDeliveryPoint/customerAgreement (its service agreement id)")?;
                    if !meters.contains_key(&said) {
                        order.push(said.clone());
                    }
                    meters.entry(said.clone()).or_default();
                    current = Some(said);
                } else if ends_with(path, &["IntervalReading", "timePeriod", "start"]) {
                    reading.start = Some(num("IntervalReading/timePeriod/start", text)?);
                } else if ends_with(path, &["IntervalReading", "timePeriod", "duration"]) {
                    reading.duration = Some(num("IntervalReading/timePeriod/duration", text)?);
                } else if ends_with(path, &["IntervalReading", "value"]) {
                    reading.value = Some(num("IntervalReading/value", text)?);
                } else if ends_with(path, &["IntervalReading"]) {
                    let said = current
                        .as_ref()
                        .ok_or("an IntervalBlock comes before any UsagePoint entry")?;
                    let (Some(start), Some(duration), Some(value)) =
                        (reading.start, reading.duration, reading.value)
                    else {
                        return Err("an IntervalReading needs timePeriod/start, timePeriod/duration and value".into());
                    };
                    if !(1..=31 * 86_400).contains(&duration) {
                        return Err(format!(
                            "IntervalReading/timePeriod/duration {duration} is out of range"
                        ));
                    }
                    if let Some(m) = meters.get_mut(said) {
                        m.0.entry(duration).or_default().insert(start, value);
                    }
                } else if ends_with(path, &["UsageSummary", "billingPeriod", "start"]) {
                    bill.start = Some(num("UsageSummary/billingPeriod/start", text)?);
                } else if ends_with(path, &["UsageSummary", "billingPeriod", "duration"]) {
                    bill.duration = Some(num("UsageSummary/billingPeriod/duration", text)?);
                } else if ends_with(path, &["UsageSummary", "billLastPeriod"]) {
                    bill.amount = Some(num("UsageSummary/billLastPeriod", text)?);
                } else if ends_with(path, &["UsageSummary", "currency"]) {
                    bill.currency = Some(num("UsageSummary/currency", text)?);
                } else if ends_with(
                    path,
                    &["UsageSummary", "overallConsumptionLastPeriod", "value"],
                ) {
                    bill.consumption = Some(num(
                        "UsageSummary/overallConsumptionLastPeriod/value",
                        text,
                    )?);
                } else if ends_with(path, &["UsageSummary", "statusTimeStamp"]) {
                    bill.issued = Some(num("UsageSummary/statusTimeStamp", text)?);
                } else if ends_with(path, &["content", "UsageSummary"]) {
                    let said = current
                        .as_ref()
                        .ok_or("a UsageSummary comes before any UsagePoint entry")?;
                    let (Some(start), Some(duration), Some(issued)) =
                        (bill.start, bill.duration, bill.issued)
                    else {
                        return Err("a UsageSummary needs billingPeriod/start, billingPeriod/duration and statusTimeStamp".into());
                    };
                    if let Some(m) = meters.get_mut(said) {
                        m.1.push(SummaryRow {
                            period_start: start,
                            period_duration: duration,
                            consumption: bill.consumption.unwrap_or(0),
                            bill_amount: bill.amount.unwrap_or(0),
                            currency: bill.currency.unwrap_or(840),
                            issued_at: issued,
                        });
                    }
                }
            }
        }
        Ok(())
    })?;
    if order.is_empty() {
        return Err("the feed holds no UsagePoint entry".into());
    }
    Ok(order
        .into_iter()
        .map(|said| {
            let (readings, summaries) = meters.remove(&said).unwrap_or_default();
            MeterUsage {
                said,
                readings: readings
                    .into_iter()
                    .map(|(i, rows)| {
                        (
                            i,
                            rows.into_iter()
                                .map(|(start, value)| ReadingRow { start, value })
                                .collect(),
                        )
                    })
                    .collect(),
                summaries,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_problem() {
        assert!(
            parse_feed(b"<feed><entry>")
                .unwrap_err()
                .contains("well-formed")
        );
        assert!(parse_feed(b"<html/>").unwrap_err().contains("<html>"));
        assert!(
            parse_feed(b"<feed/>")
                .unwrap_err()
                .contains("no UsagePoint")
        );
        let e = parse_feed(b"<feed><entry><content><IntervalBlock><IntervalReading><timePeriod><start>0</start><duration>900</duration></timePeriod><value>1</value></IntervalReading></IntervalBlock></content></entry></feed>").unwrap_err();
        assert!(e.contains("before any UsagePoint"), "{e}");
        let e = parse_feed(b"<feed><entry><content><UsagePoint><serviceDeliveryPoint><customerAgreement>A</customerAgreement></serviceDeliveryPoint></UsagePoint></content></entry><entry><content><IntervalBlock><IntervalReading><timePeriod><start>x</start><duration>900</duration></timePeriod><value>1</value></IntervalReading></IntervalBlock></content></entry></feed>").unwrap_err();
        assert!(e.contains("timePeriod/start is not an integer"), "{e}");
    }
}
