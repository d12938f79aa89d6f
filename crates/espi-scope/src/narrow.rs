//! Narrowing: turn a requested scope plus the customer's choices into the
//! granted scope.
//!
//! The rule above all: **the grant is never wider than the request.**
//!
//! - **Function blocks**: the customer keeps a subset of the requested
//!   blocks. Blocks that share a [`DataKind`](crate::catalog::DataKind)
//!   (usage, bills, account details) may be dropped, as long as one block
//!   of some kind is left when the request had any
//!   ([`NarrowErrorKind::NoFunctionBlockChosen`]); structural and technical
//!   blocks cannot ([`NarrowErrorKind::RequiredFunctionBlockDropped`]). A
//!   block that was not requested cannot be added
//!   ([`NarrowErrorKind::FunctionBlockNotRequested`]).
//! - **History**: may only be shortened. A request without `HistoryLength`
//!   is read as asking for `default_history_seconds` (the seed's default is
//!   2 years), and the grant always carries an explicit `HistoryLength`.
//! - **End date**: may only be made earlier, and not in the past. `0`
//!   (until revoked) is allowed only when the request asked for `0`. A
//!   request without `PreferredAuthEndDate` is read as ending at
//!   `now + default_authorization_seconds` (UtilityAPI's default is 3
//!   years). The grant always carries an explicit `PreferredAuthEndDate`.
//! - **Meters**: with `meters-all` the customer may grant any non-empty
//!   subset of their meters (default: all); with `meters-{SAID}` only the
//!   listed ones (default: the listed ones that are the customer's); with
//!   no meter item the customer must choose at least one. Every chosen SAID
//!   must be one of `customer_meters`. The grant lists each meter as
//!   `meters-{SAID}` (no `meters-all`), in the order of `customer_meters`, and sets `AccountCollection` to the
//!   number of meters granted; `sou-`, `auth-`, `noedit` and other items
//!   are kept.
//! - **`noedit`**: any change of function blocks, history or end date is
//!   [`NarrowErrorKind::EditNotAllowed`]; the meters must equal the request
//!   (`meters-all` = all the customer's meters) unless the request left them
//!   unspecified.
//!
//! ```
//! use espi_scope::narrow::{narrow, Choices, NarrowPolicy};
//! use espi_scope::EspiScope;
//! let req: EspiScope = "FB=1_4_5_16_51;HistoryLength=63072000;AdditionalScope=meters-all".parse().unwrap();
//! let policy = NarrowPolicy::new(1_700_000_000, vec!["A1".into(), "B2".into()]);
//! let choices = Choices { function_blocks: Some(vec![1, 4, 5, 51]), history_length: Some(31_536_000),
//!     end_date: None, meters: Some(vec!["B2".into()]) };
//! let grant = narrow(&req, &choices, &policy).unwrap();
//! assert_eq!(grant.to_string(), "FB=1_4_5_51;HistoryLength=31536000;AccountCollection=1;PreferredAuthEndDate=1794608000;AdditionalScope=meters-B2");
//! ```

use core::fmt;

use crate::catalog;
use crate::model::{AdditionalScope, EspiScope, MeterRequest, sort_function_blocks};

/// Three years in seconds (365-day years), UtilityAPI's default length of
/// an authorization.
pub const DEFAULT_AUTHORIZATION_SECONDS: u64 = 3 * 365 * 86_400;

/// Two years in seconds (`HistoryLength=63072000`), UtilityAPI's default
/// history when a request names none.
pub const DEFAULT_HISTORY_SECONDS: u64 = 2 * 365 * 86_400;

/// What the customer chose on the consent screen. `None` everywhere means
/// "as requested".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Choices {
    /// The function blocks kept; `None` = as requested.
    pub function_blocks: Option<Vec<u16>>,
    /// The history length in seconds; `None` = as requested.
    pub history_length: Option<u64>,
    /// The end date (unix seconds, `0` = until revoked); `None` = as
    /// requested (or the default).
    pub end_date: Option<u64>,
    /// The SAIDs chosen; `None` = the default for the request.
    pub meters: Option<Vec<String>>,
}

/// What the data custodian knows when narrowing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NarrowPolicy {
    /// The current unix time in seconds.
    pub now: u64,
    /// The SAIDs of the customer's meters.
    pub customer_meters: Vec<String>,
    /// Length of an authorization when the request has no
    /// `PreferredAuthEndDate` (UtilityAPI: 3 years).
    pub default_authorization_seconds: u64,
    /// History granted when the request has no `HistoryLength`
    /// (UtilityAPI: 2 years).
    pub default_history_seconds: u64,
}

impl NarrowPolicy {
    /// A policy with the seed's defaults: authorizations of 3 years, 2 years
    /// of history.
    pub fn new(now: u64, customer_meters: Vec<String>) -> NarrowPolicy {
        NarrowPolicy {
            now,
            customer_meters,
            default_authorization_seconds: DEFAULT_AUTHORIZATION_SECONDS,
            default_history_seconds: DEFAULT_HISTORY_SECONDS,
        }
    }
}

/// Why the choices cannot be granted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NarrowErrorKind {
    /// The request has `noedit` and the choices change it.
    EditNotAllowed,
    /// A kept function block was not requested.
    FunctionBlockNotRequested(u16),
    /// A structural or technical function block was dropped.
    RequiredFunctionBlockDropped(u16),
    /// Every kind of data was dropped.
    NoFunctionBlockChosen,
    /// The history chosen is longer than requested.
    HistoryLonger,
    /// The end date chosen is later than requested (or than the default).
    EndDateLater,
    /// The end date chosen (or requested) is not in the future.
    EndDateInPast,
    /// "Until revoked" chosen but the request has an end date.
    UntilRevokedNotRequested,
    /// A chosen meter is not among the requested ones.
    MeterNotRequested(String),
    /// A chosen (or requested) meter is not one of the customer's.
    UnknownMeter(String),
    /// No meter was chosen.
    NoMeterChosen,
}

/// The error of [`narrow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NarrowError {
    kind: NarrowErrorKind,
}

impl NarrowError {
    fn new(kind: NarrowErrorKind) -> NarrowError {
        NarrowError { kind }
    }

    /// Why the choices cannot be granted.
    pub fn kind(&self) -> NarrowErrorKind {
        self.kind.clone()
    }
}

fn fb_words(id: u16) -> String {
    let fb = catalog::function_block(id);
    format!("\"{}\" ({})", fb.description_en, fb.name)
}

impl fmt::Display for NarrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            NarrowErrorKind::EditNotAllowed => f.write_str(
                "This request cannot be changed: the company asked that it be accepted or declined as it is.",
            ),
            NarrowErrorKind::FunctionBlockNotRequested(id) => write!(
                f,
                "{} was not requested, so it cannot be shared.",
                fb_words(*id)
            ),
            NarrowErrorKind::RequiredFunctionBlockDropped(id) => write!(
                f,
                "{} is required for this request and cannot be removed.",
                fb_words(*id)
            ),
            NarrowErrorKind::NoFunctionBlockChosen => {
                f.write_str("Choose at least one kind of data to share.")
            }
            NarrowErrorKind::HistoryLonger => {
                f.write_str("The history chosen is longer than the company asked for.")
            }
            NarrowErrorKind::EndDateLater => {
                f.write_str("The end date chosen is later than the company asked for.")
            }
            NarrowErrorKind::EndDateInPast => f.write_str("The end date must be in the future."),
            NarrowErrorKind::UntilRevokedNotRequested => f.write_str(
                "The company asked for access until a set date, so \"until I revoke it\" is not available.",
            ),
            NarrowErrorKind::MeterNotRequested(s) => {
                write!(f, "The meter {s} was not part of the request.")
            }
            NarrowErrorKind::UnknownMeter(s) => {
                write!(f, "The meter {s} is not one of your meters.")
            }
            NarrowErrorKind::NoMeterChosen => f.write_str("Choose at least one meter to share."),
        }
    }
}

impl std::error::Error for NarrowError {}

fn err<T>(kind: NarrowErrorKind) -> Result<T, NarrowError> {
    Err(NarrowError::new(kind))
}

fn dedup_keep_order(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// The effective requested history: the request's `HistoryLength`, or
/// `default_history_seconds` when it has none.
pub fn effective_requested_history(requested: &EspiScope, policy: &NarrowPolicy) -> u64 {
    requested
        .history_length
        .unwrap_or(policy.default_history_seconds)
}

/// The effective requested end date: the request's, or
/// `now + default_authorization_seconds` when it has none.
pub fn effective_requested_end(requested: &EspiScope, policy: &NarrowPolicy) -> u64 {
    requested.preferred_auth_end_date.unwrap_or_else(|| {
        policy
            .now
            .saturating_add(policy.default_authorization_seconds)
    })
}

/// The meters the customer may choose from for this request, and the default
/// selection.
pub fn meter_options(requested: &EspiScope, policy: &NarrowPolicy) -> (Vec<String>, Vec<String>) {
    let mine = dedup_keep_order(&policy.customer_meters);
    match requested.meter_request() {
        MeterRequest::All => (mine.clone(), mine),
        MeterRequest::Listed(v) => {
            let allowed: Vec<String> = v.into_iter().filter(|s| mine.contains(s)).collect();
            (allowed.clone(), allowed)
        }
        MeterRequest::Unspecified => (mine, Vec::new()),
    }
}

/// Narrows `requested` by the customer's `choices` (see the module docs for
/// the rules). The result is never wider than `requested`.
///
/// # Errors
///
/// With `requested = FB=1_4_5_16;HistoryLength=63072000;PreferredAuthEndDate=1900000000;AdditionalScope=meters-A1`
/// and `now = 1700000000`, customer meters `A1`, `B2`:
/// - keeping `[1, 4, 5, 16, 51]`: [`NarrowErrorKind::FunctionBlockNotRequested`]`(51)`;
/// - keeping `[4, 5, 16]`: [`NarrowErrorKind::RequiredFunctionBlockDropped`]`(1)`;
///   keeping `[1]`: [`NarrowErrorKind::NoFunctionBlockChosen`];
/// - history `94608000`: [`NarrowErrorKind::HistoryLonger`];
/// - end date `2000000000`: [`NarrowErrorKind::EndDateLater`]; `1600000000`:
///   [`NarrowErrorKind::EndDateInPast`]; `0`:
///   [`NarrowErrorKind::UntilRevokedNotRequested`];
/// - meters `["B2"]`: [`NarrowErrorKind::MeterNotRequested`]; `["Z9"]`:
///   [`NarrowErrorKind::UnknownMeter`]; `[]`: [`NarrowErrorKind::NoMeterChosen`];
/// - any change when the request has `AdditionalScope=noedit`:
///   [`NarrowErrorKind::EditNotAllowed`].
pub fn narrow(
    requested: &EspiScope,
    choices: &Choices,
    policy: &NarrowPolicy,
) -> Result<EspiScope, NarrowError> {
    let no_edit = requested.no_edit();
    let fbs = narrow_function_blocks(requested, choices, no_edit)?;
    let history = narrow_history(requested, choices, policy, no_edit)?;
    let end = narrow_end_date(requested, choices, policy, no_edit)?;
    let meters = narrow_meters(requested, choices, policy, no_edit)?;

    let mut additional: Vec<AdditionalScope> = requested
        .additional_scope
        .iter()
        .filter(|a| !matches!(a, AdditionalScope::MetersAll | AdditionalScope::Meter(_)))
        .cloned()
        .collect();
    additional.extend(meters.iter().cloned().map(AdditionalScope::Meter));

    Ok(EspiScope {
        function_blocks: fbs,
        interval_durations: requested.interval_durations.clone(),
        block_durations: requested.block_durations.clone(),
        history_length: Some(history),
        subscription_frequency: requested.subscription_frequency,
        account_collection: Some(u32::try_from(meters.len()).unwrap_or(u32::MAX)),
        bulk_id: requested.bulk_id.clone(),
        preferred_auth_end_date: Some(end),
        additional_scope: additional,
        extra_terms: requested.extra_terms.clone(),
    })
}

/// Function blocks: only requested ones, never a structural or technical
/// one dropped, none changed under `noedit`, at least one kind of data left
/// when the request had any.
fn narrow_function_blocks(
    requested: &EspiScope,
    choices: &Choices,
    no_edit: bool,
) -> Result<Vec<u16>, NarrowError> {
    let mut req_fbs = requested.function_blocks.clone();
    sort_function_blocks(&mut req_fbs);
    let fbs = match &choices.function_blocks {
        None => req_fbs,
        Some(kept) => {
            let mut kept = kept.clone();
            sort_function_blocks(&mut kept);
            if let Some(&id) = kept.iter().find(|id| !req_fbs.contains(id)) {
                return err(NarrowErrorKind::FunctionBlockNotRequested(id));
            }
            if no_edit && kept != req_fbs {
                return err(NarrowErrorKind::EditNotAllowed);
            }
            if let Some(&id) = req_fbs
                .iter()
                .find(|id| !kept.contains(id) && !catalog::role_of(**id).droppable())
            {
                return err(NarrowErrorKind::RequiredFunctionBlockDropped(id));
            }
            kept
        }
    };
    let shares_data = |v: &[u16]| v.iter().any(|id| catalog::DataKind::of(*id).is_some());
    if fbs.is_empty() || (shares_data(&requested.function_blocks) && !shares_data(&fbs)) {
        return err(NarrowErrorKind::NoFunctionBlockChosen);
    }
    Ok(fbs)
}

/// History: only shorter than requested (or the default), unchanged under
/// `noedit`.
fn narrow_history(
    requested: &EspiScope,
    choices: &Choices,
    policy: &NarrowPolicy,
    no_edit: bool,
) -> Result<u64, NarrowError> {
    let r = effective_requested_history(requested, policy);
    let Some(h) = choices.history_length else {
        return Ok(r);
    };
    if h > r {
        return err(NarrowErrorKind::HistoryLonger);
    }
    if no_edit && h != r {
        return err(NarrowErrorKind::EditNotAllowed);
    }
    Ok(h)
}

/// End date: only earlier and in the future; `0` (until revoked) only if
/// requested; unchanged under `noedit`.
fn narrow_end_date(
    requested: &EspiScope,
    choices: &Choices,
    policy: &NarrowPolicy,
    no_edit: bool,
) -> Result<u64, NarrowError> {
    let req_end = effective_requested_end(requested, policy);
    let end = match choices.end_date {
        None => req_end,
        Some(0) if req_end != 0 => {
            return err(if no_edit {
                NarrowErrorKind::EditNotAllowed
            } else {
                NarrowErrorKind::UntilRevokedNotRequested
            });
        }
        Some(0) => 0,
        Some(e) => {
            if e <= policy.now {
                return err(NarrowErrorKind::EndDateInPast);
            }
            if req_end != 0 && e > req_end {
                return err(NarrowErrorKind::EndDateLater);
            }
            if no_edit && e != req_end {
                return err(NarrowErrorKind::EditNotAllowed);
            }
            e
        }
    };
    if end != 0 && end <= policy.now {
        return err(NarrowErrorKind::EndDateInPast);
    }
    Ok(end)
}

/// Meters: the chosen ones, or what the request implies; in the order of
/// the customer's meters; at least one.
fn narrow_meters(
    requested: &EspiScope,
    choices: &Choices,
    policy: &NarrowPolicy,
    no_edit: bool,
) -> Result<Vec<String>, NarrowError> {
    let mine = dedup_keep_order(&policy.customer_meters);
    let request = requested.meter_request();
    let meters = match &choices.meters {
        Some(chosen) => chosen_meters(chosen, &request, &mine, no_edit)?,
        None => match &request {
            MeterRequest::All => mine.clone(),
            MeterRequest::Listed(v) => {
                if no_edit && let Some(s) = v.iter().find(|s| !mine.contains(s)) {
                    return err(NarrowErrorKind::UnknownMeter(s.clone()));
                }
                v.iter().filter(|s| mine.contains(s)).cloned().collect()
            }
            MeterRequest::Unspecified => Vec::new(),
        },
    };
    if meters.is_empty() {
        return err(NarrowErrorKind::NoMeterChosen);
    }
    // A stable order: the order of the customer's meters.
    Ok(mine.into_iter().filter(|m| meters.contains(m)).collect())
}

/// The customer's choice of meters: requested ones (when listed), their
/// own, at least one; under `noedit` exactly what was requested.
fn chosen_meters(
    chosen: &[String],
    request: &MeterRequest,
    mine: &[String],
    no_edit: bool,
) -> Result<Vec<String>, NarrowError> {
    let chosen = dedup_keep_order(chosen);
    if let MeterRequest::Listed(v) = request
        && let Some(s) = chosen.iter().find(|s| !v.contains(s))
    {
        return err(NarrowErrorKind::MeterNotRequested(s.clone()));
    }
    if let Some(s) = chosen.iter().find(|s| !mine.contains(s)) {
        return err(NarrowErrorKind::UnknownMeter(s.clone()));
    }
    if chosen.is_empty() {
        return err(NarrowErrorKind::NoMeterChosen);
    }
    let same = match request {
        MeterRequest::All => same_set(&chosen, mine),
        MeterRequest::Listed(v) => same_set(&chosen, v),
        MeterRequest::Unspecified => true,
    };
    if no_edit && !same {
        return err(NarrowErrorKind::EditNotAllowed);
    }
    Ok(chosen)
}
