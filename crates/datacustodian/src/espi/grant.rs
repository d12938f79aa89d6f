//! What an authorization lets a third party read: the granted meters, the
//! window of readings, and which kinds of data (readings, bills, account
//! details). Every ESPI data resource asks this before writing a byte.

use espi_scope::{Commodity, DataKind, Duration, EspiScope};

use crate::store::Authorization;

/// The data an authorization grants at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Granted SAIDs.
    pub meters: Vec<String>,
    /// Readings from here (unix seconds): the authorization's start back
    /// `HistoryLength` (no `HistoryLength`: no history).
    pub from: i64,
    /// Readings ending by here: now, or the authorization's end if earlier.
    pub to: i64,
    /// Granted interval lengths in seconds (`None`: any).
    pub intervals: Option<Vec<i64>>,
    /// Interval readings granted.
    pub usage: bool,
    /// The commodities whose readings are granted, when the scope names
    /// commodity blocks (5-8 electricity, 10 gas, 11 water); `None`: FB 4
    /// alone, every commodity.
    pub commodities: Option<Vec<&'static str>>,
    /// Bills (UsageSummary) granted.
    pub bills: bool,
    /// Account details (RetailCustomer) granted.
    pub customer: bool,
    /// `BR`.
    pub bulk_id: Option<String>,
}

impl Grant {
    /// The grant of `a` at `now`.
    pub fn of(a: &Authorization, now: i64) -> Grant {
        let scope = crate::scope::parse_stored(&a.scope).unwrap_or_default();
        Grant::from_scope(a, &scope, now)
    }

    fn from_scope(a: &Authorization, scope: &EspiScope, now: i64) -> Grant {
        // The kinds of data are the scope library's (`DataKind`), the same
        // the customer ticked on the consent page.
        let has = |kind: DataKind| {
            scope
                .function_blocks
                .iter()
                .any(|f| DataKind::of(*f) == Some(kind))
        };
        let history = a
            .history_length
            .or(scope
                .history_length
                .map(|h| i64::try_from(h).unwrap_or(i64::MAX)))
            .unwrap_or(0)
            .max(0);
        let to = if a.end_date != 0 {
            a.end_date.min(now)
        } else {
            now
        };
        let seconds: Vec<i64> = scope
            .interval_durations
            .iter()
            .filter_map(|d| match d {
                Duration::Seconds(s) => i64::try_from(*s).ok(),
                Duration::Named(_) => None,
            })
            .collect();
        let mut commodities = Vec::new();
        for fb in &scope.function_blocks {
            let Some(kind) = Commodity::of_block(*fb).map(Commodity::as_str) else {
                continue;
            };
            if !commodities.contains(&kind) {
                commodities.push(kind);
            }
        }
        Grant {
            meters: a.meters.clone(),
            commodities: (!commodities.is_empty()).then_some(commodities),
            from: a.granted_at.saturating_sub(history),
            to,
            intervals: (!seconds.is_empty()).then_some(seconds),
            usage: has(DataKind::Usage),
            bills: has(DataKind::Bills),
            customer: has(DataKind::Account),
            bulk_id: scope.bulk_id.clone(),
        }
    }

    /// Whether readings of a meter of this service kind are granted.
    pub fn commodity_granted(&self, service_kind: Option<&str>) -> bool {
        let kind = service_kind.unwrap_or("electricity");
        self.usage
            && self
                .commodities
                .as_ref()
                .is_none_or(|list| list.contains(&kind))
    }

    /// Whether readings of this interval length are granted.
    pub fn interval_granted(&self, seconds: i64) -> bool {
        self.usage
            && self
                .intervals
                .as_ref()
                .is_none_or(|list| list.contains(&seconds))
    }
}

/// FB 37 query parameters.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FeedQuery {
    /// RFC 3339 or unix seconds.
    #[serde(rename = "published-min")]
    pub published_min: Option<String>,
    /// RFC 3339 or unix seconds.
    #[serde(rename = "published-max")]
    pub published_max: Option<String>,
    /// RFC 3339 or unix seconds.
    #[serde(rename = "updated-min")]
    pub updated_min: Option<String>,
    /// RFC 3339 or unix seconds.
    #[serde(rename = "updated-max")]
    pub updated_max: Option<String>,
    /// At most this many entries.
    #[serde(rename = "max-results")]
    pub max_results: Option<String>,
    /// 1-based index of the first entry.
    #[serde(rename = "start-index")]
    pub start_index: Option<String>,
}

/// The query parameters, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Entries published (and updated) at or after.
    pub min: i64,
    /// Entries published (and updated) at or before.
    pub max: i64,
    /// Entries to skip.
    pub skip: u64,
    /// Entries to write at most.
    pub limit: u64,
}

impl Window {
    /// Everything.
    pub const ALL: Window = Window {
        min: i64::MIN,
        max: i64::MAX,
        skip: 0,
        limit: u64::MAX,
    };

    /// Whether an entry published/updated at `t` passes the time filters.
    pub fn admits(&self, t: i64) -> bool {
        t >= self.min && t <= self.max
    }
}

impl FeedQuery {
    /// Reads the parameters; the error names the bad one.
    pub fn window(&self) -> Result<Window, String> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<i64>, String> {
            v.as_deref()
                .map(|s| parse_time(s).ok_or_else(|| format!("{name} is not a date-time: {s:?}")))
                .transpose()
        };
        let num = |name: &str, v: &Option<String>| -> Result<Option<u64>, String> {
            v.as_deref()
                .map(|s| {
                    s.trim()
                        .parse::<u64>()
                        .map_err(|_| format!("{name} is not a non-negative integer: {s:?}"))
                })
                .transpose()
        };
        let mins = [
            time("published-min", &self.published_min)?,
            time("updated-min", &self.updated_min)?,
        ];
        let maxs = [
            time("published-max", &self.published_max)?,
            time("updated-max", &self.updated_max)?,
        ];
        let start = num("start-index", &self.start_index)?.unwrap_or(1);
        if start == 0 {
            return Err("start-index counts from 1".into());
        }
        Ok(Window {
            min: mins.into_iter().flatten().max().unwrap_or(i64::MIN),
            max: maxs.into_iter().flatten().min().unwrap_or(i64::MAX),
            skip: start - 1,
            limit: num("max-results", &self.max_results)?.unwrap_or(u64::MAX),
        })
    }
}

/// `2024-05-09T12:00:00Z` (or with an offset, or fractional seconds) or
/// unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh = rest.get(1..3)?.parse::<i64>().ok()?;
            let om = rest.get(4..6)?.parse::<i64>().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some(days * 86_400 + h * 3600 + mi * 60 + se - offset)
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_time("2023-11-14T23:13:20.5+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_time("yesterday"), None);
    }
}
