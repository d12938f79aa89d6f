//! The data model of an ESPI scope value.
//!
//! A [`ScopeValue`] is a whole OAuth `scope` parameter: zero or more ESPI
//! scopes ([`EspiScope`], each starting with an `FB=` term) plus plain OAuth
//! scope tokens such as `openid` ([`ScopeValue::other_scopes`]).
//!
//! [`Display`](core::fmt::Display) writes the canonical form (see
//! [`crate::grammar`] for the rules) and [`FromStr`] is
//! the strict reader: it fails when [`crate::grammar::parse`] reports any
//! error diagnostic.

use core::fmt;
use core::str::FromStr;

use crate::diagnostic::ParseError;

/// A whole OAuth `scope` value: ESPI scopes plus other (plain OAuth) scope
/// tokens.
///
/// ```
/// use espi_scope::ScopeValue;
/// let v: ScopeValue = "openid FB=4_5;IntervalDuration=900".parse().unwrap();
/// assert_eq!(v.other_scopes, vec!["openid".to_string()]);
/// assert_eq!(v.scopes[0].function_blocks, vec![4, 5]);
/// assert_eq!(v.to_string(), "openid FB=4_5;IntervalDuration=900");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ScopeValue {
    /// The ESPI scopes, in input order.
    pub scopes: Vec<EspiScope>,
    /// Plain OAuth scope tokens such as `openid`, in input order.
    pub other_scopes: Vec<String>,
}

/// One ESPI scope: an `FB=` term and its companion terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EspiScope {
    /// Function block ids, ascending and unique.
    pub function_blocks: Vec<u16>,
    /// `IntervalDuration`: interval lengths, input order.
    pub interval_durations: Vec<Duration>,
    /// `BlockDuration`: sizes of the data blocks, input order.
    pub block_durations: Vec<Duration>,
    /// `HistoryLength`, in seconds.
    pub history_length: Option<u64>,
    /// `SubscriptionFrequency`.
    pub subscription_frequency: Option<Duration>,
    /// `AccountCollection`: number of usage points (informational).
    pub account_collection: Option<u32>,
    /// `BR`: the bulk id (leading zeros matter, so it is a string).
    pub bulk_id: Option<String>,
    /// `PreferredAuthEndDate`: unix seconds; `Some(0)` means until revoked.
    pub preferred_auth_end_date: Option<u64>,
    /// `AdditionalScope` items, input order.
    pub additional_scope: Vec<AdditionalScope>,
    /// Unknown `key=value` terms and bare words, input order.
    pub extra_terms: Vec<ExtraTerm>,
}

/// A duration value: a number of seconds or a named frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(untagged))]
pub enum Duration {
    /// A number of seconds (`900` = 15 minutes).
    Seconds(u64),
    /// A named frequency (`daily`, `billingPeriod`, …).
    Named(Frequency),
}

/// The named frequencies (UtilityAPI list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub enum Frequency {
    /// `billingPeriod`
    BillingPeriod,
    /// `daily`
    Daily,
    /// `weekly`
    Weekly,
    /// `monthly`
    Monthly,
    /// `quarterly`
    Quarterly,
    /// `seasonal`
    Seasonal,
    /// `yearly`
    Yearly,
}

impl Frequency {
    /// Every named frequency.
    pub const ALL: [Frequency; 7] = [
        Frequency::BillingPeriod,
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Seasonal,
        Frequency::Yearly,
    ];

    /// The canonical spelling (`billingPeriod`, `daily`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::BillingPeriod => "billingPeriod",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Seasonal => "seasonal",
            Frequency::Yearly => "yearly",
        }
    }

    /// Reads a named frequency in any letter case (`Daily`, `BILLINGPERIOD`).
    pub fn from_name(s: &str) -> Option<Frequency> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Duration::Seconds(s) => write!(f, "{s}"),
            Duration::Named(n) => f.write_str(n.as_str()),
        }
    }
}

/// One `AdditionalScope` item.
///
/// The prefixes are read in any letter case; the text after a prefix is kept
/// as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum AdditionalScope {
    /// `noedit`: the customer may not edit the request.
    NoEdit,
    /// `meters-all`: every meter of the customer.
    MetersAll,
    /// `meters-{SAID}`: one service agreement id.
    Meter(String),
    /// `sou-{name}`: the scope of use disclosed to the customer.
    ScopeOfUse(String),
    /// `auth-{method}[-{value}]`, e.g. `auth-phone-5554443333`.
    Auth {
        /// `login`, `phone`, `sso`, `utility`, …
        method: String,
        /// Text after the second `-`, if any.
        value: Option<String>,
    },
    /// `historical-{value}` (generated by UtilityAPI).
    Historical(String),
    /// `ongoing-{value}` (generated by UtilityAPI).
    Ongoing(String),
    /// Any other item, e.g. PG&E category words (`Usage`, `Billing`).
    Other(String),
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

impl AdditionalScope {
    /// Reads one `AdditionalScope` list item (never fails: unknown items
    /// become [`AdditionalScope::Other`]).
    pub fn from_item(item: &str) -> AdditionalScope {
        if item.eq_ignore_ascii_case("noedit") {
            return AdditionalScope::NoEdit;
        }
        if item.eq_ignore_ascii_case("meters-all") {
            return AdditionalScope::MetersAll;
        }
        if let Some(rest) = strip_prefix_ci(item, "meters-")
            && !rest.is_empty()
        {
            return AdditionalScope::Meter(rest.to_string());
        }
        if let Some(rest) = strip_prefix_ci(item, "sou-")
            && !rest.is_empty()
        {
            return AdditionalScope::ScopeOfUse(rest.to_string());
        }
        if let Some(rest) = strip_prefix_ci(item, "auth-") {
            let (method, value) = match rest.split_once('-') {
                Some((m, v)) => (m, if v.is_empty() { None } else { Some(v) }),
                None => (rest, None),
            };
            if !method.is_empty() {
                return AdditionalScope::Auth {
                    method: method.to_string(),
                    value: value.map(str::to_string),
                };
            }
        }
        if let Some(rest) = strip_prefix_ci(item, "historical-")
            && !rest.is_empty()
        {
            return AdditionalScope::Historical(rest.to_string());
        }
        if let Some(rest) = strip_prefix_ci(item, "ongoing-")
            && !rest.is_empty()
        {
            return AdditionalScope::Ongoing(rest.to_string());
        }
        AdditionalScope::Other(item.to_string())
    }
}

impl fmt::Display for AdditionalScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdditionalScope::NoEdit => f.write_str("noedit"),
            AdditionalScope::MetersAll => f.write_str("meters-all"),
            AdditionalScope::Meter(s) => write!(f, "meters-{s}"),
            AdditionalScope::ScopeOfUse(s) => write!(f, "sou-{s}"),
            AdditionalScope::Auth { method, value } => match value {
                Some(v) => write!(f, "auth-{method}-{v}"),
                None => write!(f, "auth-{method}"),
            },
            AdditionalScope::Historical(s) => write!(f, "historical-{s}"),
            AdditionalScope::Ongoing(s) => write!(f, "ongoing-{s}"),
            AdditionalScope::Other(s) => f.write_str(s),
        }
    }
}

/// A term the grammar does not know, kept so nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ExtraTerm {
    /// An unknown `key=value` term such as `dataCustodianId=PGE`.
    KeyValue {
        /// The key as written.
        key: String,
        /// The value as written.
        value: String,
    },
    /// A word without `=`.
    Bare(String),
}

impl fmt::Display for ExtraTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtraTerm::KeyValue { key, value } => write!(f, "{key}={value}"),
            ExtraTerm::Bare(w) => f.write_str(w),
        }
    }
}

/// Which meters a request asks for (from `AdditionalScope`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum MeterRequest {
    /// `meters-all` (wins over listed meters if both are present).
    All,
    /// `meters-{SAID}` items, input order, without duplicates.
    Listed(Vec<String>),
    /// No meter item: the customer chooses.
    Unspecified,
}

impl EspiScope {
    /// A scope with these function blocks (sorted, deduplicated) and nothing
    /// else.
    pub fn with_function_blocks(ids: impl IntoIterator<Item = u16>) -> EspiScope {
        let mut function_blocks: Vec<u16> = ids.into_iter().collect();
        sort_function_blocks(&mut function_blocks);
        EspiScope {
            function_blocks,
            ..EspiScope::default()
        }
    }

    /// True when `AdditionalScope` has `noedit`.
    pub fn no_edit(&self) -> bool {
        self.additional_scope.contains(&AdditionalScope::NoEdit)
    }

    /// The meters asked for.
    pub fn meter_request(&self) -> MeterRequest {
        if self.additional_scope.contains(&AdditionalScope::MetersAll) {
            return MeterRequest::All;
        }
        let mut listed: Vec<String> = Vec::new();
        for a in &self.additional_scope {
            if let AdditionalScope::Meter(s) = a
                && !listed.contains(s)
            {
                listed.push(s.clone());
            }
        }
        if listed.is_empty() {
            MeterRequest::Unspecified
        } else {
            MeterRequest::Listed(listed)
        }
    }

    /// The first `sou-{name}` item, if any.
    pub fn scope_of_use(&self) -> Option<&str> {
        self.additional_scope.iter().find_map(|a| match a {
            AdditionalScope::ScopeOfUse(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// Every `auth-{method}[-{value}]` item as `(method, value)`.
    pub fn auth_hints(&self) -> Vec<(String, Option<String>)> {
        self.additional_scope
            .iter()
            .filter_map(|a| match a {
                AdditionalScope::Auth { method, value } => Some((method.clone(), value.clone())),
                _ => None,
            })
            .collect()
    }

    /// True when the scope has this function block.
    pub fn has_function_block(&self, id: u16) -> bool {
        self.function_blocks.contains(&id)
    }
}

/// Sorts function block ids ascending and drops repeats, in linear time.
///
/// A bitset over the ids' range rather than `sort_unstable` + `dedup`: in
/// WebAssembly the standard sort is several KB of code.
///
/// ```
/// let mut ids = vec![51, 4, 16, 4, 1];
/// espi_scope::model::sort_function_blocks(&mut ids);
/// assert_eq!(ids, [1, 4, 16, 51]);
/// ```
pub fn sort_function_blocks(ids: &mut Vec<u16>) {
    // Usually already so (a canonical scope): nothing to allocate.
    if ids.windows(2).all(|w| w[0] < w[1]) {
        return;
    }
    let (Some(&lo), Some(&hi)) = (ids.iter().min(), ids.iter().max()) else {
        return;
    };
    let mut bits = vec![0u64; usize::from(hi - lo) / 64 + 1];
    for &id in ids.iter() {
        let i = usize::from(id - lo);
        bits[i / 64] |= 1 << (i % 64);
    }
    ids.clear();
    for (w, &word) in bits.iter().enumerate() {
        let mut word = word;
        while word != 0 {
            // `w * 64 + bit` is at most `hi - lo`, so the sum fits in a u16.
            ids.push(lo + (w * 64) as u16 + word.trailing_zeros() as u16);
            word &= word - 1;
        }
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str("_")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

/// The canonical form: `FB` ascending and unique, known terms in the fixed
/// order `FB`, `IntervalDuration`, `BlockDuration`, `HistoryLength`,
/// `SubscriptionFrequency`, `AccountCollection`, `BR`,
/// `PreferredAuthEndDate`, `AdditionalScope`, then unknown terms in input
/// order; no spaces, no trailing `;`.
impl fmt::Display for EspiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut fbs = self.function_blocks.clone();
        sort_function_blocks(&mut fbs);
        f.write_str("FB=")?;
        write_list(f, &fbs)?;
        if !self.interval_durations.is_empty() {
            f.write_str(";IntervalDuration=")?;
            write_list(f, &self.interval_durations)?;
        }
        if !self.block_durations.is_empty() {
            f.write_str(";BlockDuration=")?;
            write_list(f, &self.block_durations)?;
        }
        if let Some(h) = self.history_length {
            write!(f, ";HistoryLength={h}")?;
        }
        if let Some(s) = &self.subscription_frequency {
            write!(f, ";SubscriptionFrequency={s}")?;
        }
        if let Some(a) = self.account_collection {
            write!(f, ";AccountCollection={a}")?;
        }
        if let Some(b) = &self.bulk_id {
            write!(f, ";BR={b}")?;
        }
        if let Some(e) = self.preferred_auth_end_date {
            write!(f, ";PreferredAuthEndDate={e}")?;
        }
        if !self.additional_scope.is_empty() {
            f.write_str(";AdditionalScope=")?;
            write_list(f, &self.additional_scope)?;
        }
        for t in &self.extra_terms {
            write!(f, ";{t}")?;
        }
        Ok(())
    }
}

/// `other_scopes` first, then the ESPI scopes, separated by one space.
impl fmt::Display for ScopeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for o in &self.other_scopes {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(o)?;
        }
        for s in &self.scopes {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// Strict reading of a whole `scope` value.
///
/// # Errors
///
/// Fails when [`crate::grammar::parse`] reports any error diagnostic, e.g. for
/// `""` (empty input), `"IntervalDuration=900"` (no `FB` term), `"FB="`
/// (empty function block list), `"FB=4_x"` (not a number),
/// `"FB=4;HistoryLength=two"` or `"FB=4;IntervalDuration=hourly"`.
impl FromStr for ScopeValue {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = crate::grammar::parse(s);
        if parsed.has_errors() {
            Err(ParseError::from_diagnostics(parsed.diagnostics))
        } else {
            Ok(parsed.value)
        }
    }
}

/// Strict reading of exactly one ESPI scope.
///
/// # Errors
///
/// Everything [`ScopeValue`]'s `FromStr` rejects, and also a value that does
/// not hold exactly one ESPI scope and nothing else: `"openid"`,
/// `"FB=4 FB=5"`, `"openid FB=4"`.
impl EspiScope {
    /// The one ESPI scope of a requested OAuth `scope` value: like
    /// [`FromStr`], but plain OAuth tokens such as `openid` are allowed (and
    /// left out).
    ///
    /// ```
    /// use espi_scope::{EspiScope, ParseErrorKind};
    /// let s = EspiScope::from_request("openid FB=4_16").unwrap();
    /// assert_eq!(s.function_blocks, vec![4, 16]);
    /// let e = EspiScope::from_request("openid").unwrap_err();
    /// assert_eq!(e.kind(), ParseErrorKind::NotExactlyOneScope { espi_scopes: 0, other_scopes: 1 });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ParseErrorKind::Invalid`](crate::ParseErrorKind::Invalid) when the
    /// value has an error diagnostic (`empty-input` included);
    /// [`ParseErrorKind::NotExactlyOneScope`](crate::ParseErrorKind::NotExactlyOneScope)
    /// when it holds no ESPI scope or several.
    pub fn from_request(s: &str) -> Result<EspiScope, ParseError> {
        read_one(s, true)
    }
}

/// The one ESPI scope of `s`; other OAuth scope tokens only if allowed.
fn read_one(s: &str, allow_other_scopes: bool) -> Result<EspiScope, ParseError> {
    let parsed = crate::grammar::parse(s);
    if parsed.has_errors() {
        return Err(ParseError::from_diagnostics(parsed.diagnostics));
    }
    let mut value = parsed.value;
    let others = value.other_scopes.len();
    if value.scopes.len() != 1 || (others > 0 && !allow_other_scopes) {
        return Err(ParseError::not_one_scope(value.scopes.len(), others));
    }
    Ok(value.scopes.remove(0))
}

impl FromStr for EspiScope {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        read_one(s, false)
    }
}
