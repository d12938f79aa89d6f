//! Applying each term to its scope, key by key, and the checks made when a
//! scope is complete.
//!
//! Rules common to every key:
//! - a key written in another case is read (`key-case`);
//! - an unknown `key=value` and a bare word are kept in `extra_terms`
//!   (`unknown-key`, `bare-word`);
//! - a known key without a value is ignored (`missing-value`; for `FB` the
//!   error `empty-function-blocks`);
//! - a duplicate single-valued term keeps the first value; duplicate list
//!   terms are combined (`duplicate-term`);
//! - list items are separated by `_`; empty items are ignored
//!   (`empty-list-item`).

use core::ops::Range;

use super::Ctx;
use super::keys::Key;
use super::terms::Term;
use crate::catalog::{self, Status};
use crate::diagnostic::DiagnosticCode as C;
use crate::model::{AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency};

/// One ESPI scope being read.
#[derive(Default)]
pub(super) struct ScopeBuilder {
    pub(super) scope: EspiScope,
    pub(super) span: Range<usize>,
    has_fb: bool,
    seen: Vec<Key>,
    /// `(id, span)` in input order.
    fb_items: Vec<(u16, Range<usize>)>,
    fb_value_span: Option<Range<usize>>,
}

impl ScopeBuilder {
    /// An empty scope over `span` (so far).
    pub(super) fn new(span: Range<usize>) -> ScopeBuilder {
        ScopeBuilder {
            span,
            ..ScopeBuilder::default()
        }
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits value segments on `_`, reporting empty items.
fn list_items(ctx: &mut Ctx<'_>, values: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut items = Vec::new();
    for v in values {
        let s = ctx.slice(v).to_string();
        if s.is_empty() {
            continue;
        }
        let mut pos = v.start;
        for (i, part) in s.split('_').enumerate() {
            if part.is_empty() {
                // Point at the `_` before the empty item (or after it, at the start).
                let at = if i > 0 { pos.saturating_sub(1) } else { pos };
                ctx.push(
                    C::EmptyListItem,
                    "An empty item in a list (two \"_\" in a row, or one at the start or end) was ignored.",
                    at..at + 1,
                );
            } else {
                items.push(pos..pos + part.len());
            }
            pos += part.len() + 1;
        }
    }
    items
}

/// A duration: a whole number of seconds or a named frequency in any case
/// (`value-case`); anything else is `invalid-duration`.
fn parse_duration(ctx: &mut Ctx<'_>, r: &Range<usize>, key: Key) -> Option<Duration> {
    let s = ctx.slice(r).to_string();
    if all_digits(&s) {
        let n = s.parse::<u64>().ok();
        if n.is_none() {
            let msg = format!(
                "The {} value \"{s}\" is too large to be a number of seconds.",
                key.name()
            );
            ctx.push(C::InvalidDuration, msg, r.clone());
        }
        return n.map(Duration::Seconds);
    }
    let Some(f) = Frequency::from_name(&s) else {
        ctx.push(
            C::InvalidDuration,
            format!(
                "The {} value \"{s}\" is neither a number of seconds nor one of billingPeriod, daily, weekly, monthly, quarterly, seasonal, yearly.",
                key.name()
            ),
            r.clone(),
        );
        return None;
    };
    if f.as_str() != s {
        let msg = format!("\"{s}\" is normally written \"{}\".", f.as_str());
        ctx.push(C::ValueCase, msg, r.clone());
    }
    Some(Duration::Named(f))
}

/// A whole number up to `max` (`invalid-number` otherwise).
fn parse_number(ctx: &mut Ctx<'_>, values: &[Range<usize>], key: Key, max: u64) -> Option<u64> {
    let span = joined_span(values)?;
    let s = joined_text(ctx, values);
    let ok = if all_digits(&s) {
        s.parse::<u64>().ok().filter(|n| *n <= max)
    } else {
        None
    };
    if ok.is_none() {
        let why = if all_digits(&s) {
            "is too large"
        } else {
            "is not a whole number"
        };
        let msg = format!("The {} value \"{s}\" {why}.", key.name());
        ctx.push(C::InvalidNumber, msg, span);
    }
    ok
}

fn joined_span(values: &[Range<usize>]) -> Option<Range<usize>> {
    let first = values.first()?;
    let last = values.last()?;
    Some(first.start..last.end)
}

fn joined_text(ctx: &Ctx<'_>, values: &[Range<usize>]) -> String {
    let parts: Vec<&str> = values.iter().map(|v| ctx.slice(v)).collect();
    parts.join("_")
}

fn values_empty(ctx: &Ctx<'_>, values: &[Range<usize>]) -> bool {
    values.iter().all(|v| ctx.slice(v).is_empty())
}

/// The value of a known term being applied.
struct TermValue<'t> {
    /// The value segments (several only for a comma-continued list).
    values: &'t [Range<usize>],
    /// From the start of the first segment to the end of the last.
    span: Range<usize>,
    /// The key was seen before in this scope.
    duplicate: bool,
}

/// Applies one term to the scope being read (see the module rules).
pub(super) fn apply_term(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, t: Term) {
    let Some(key_range) = t.key.clone() else {
        return apply_bare_word(ctx, b, &t.span);
    };
    let key_text = ctx.slice(&key_range).to_string();
    let Some(key) = Key::from_name(&key_text) else {
        return apply_unknown_key(ctx, b, key_range, key_text, &t.values);
    };
    if key_text != key.name() {
        let msg = format!("\"{key_text}\" is normally written \"{}\".", key.name());
        ctx.push(C::KeyCase, msg, key_range.clone());
    }
    if key == Key::Fb {
        b.has_fb = true;
    }
    if values_empty(ctx, &t.values) {
        return no_value(ctx, key, "\"FB=\"", &t.span);
    }
    let v = TermValue {
        duplicate: note_duplicate(ctx, b, key, &t.span),
        span: joined_span(&t.values).unwrap_or(t.span.clone()),
        values: &t.values,
    };
    match key {
        Key::Fb => apply_fb(ctx, b, &v, &t.span),
        Key::IntervalDuration | Key::BlockDuration => apply_durations(ctx, b, key, v.values),
        Key::SubscriptionFrequency => apply_subscription_frequency(ctx, b, &v),
        Key::HistoryLength | Key::PreferredAuthEndDate => apply_seconds(ctx, b, key, &v),
        Key::AccountCollection => {
            if let Some(n) = parse_number(ctx, v.values, key, u64::from(u32::MAX))
                && !v.duplicate
            {
                b.scope.account_collection = u32::try_from(n).ok();
            }
        }
        Key::Br => apply_bulk_id(ctx, b, &v),
        Key::AdditionalScope => {
            for r in list_items(ctx, v.values) {
                let item = AdditionalScope::from_item(ctx.slice(&r));
                b.scope.additional_scope.push(item);
            }
        }
    }
}

/// A word without `=`: a known key alone has no value; anything else is a
/// `bare-word`, kept in `extra_terms`.
fn apply_bare_word(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, span: &Range<usize>) {
    let w = ctx.slice(span).to_string();
    if let Some(k) = Key::from_name(&w) {
        if k == Key::Fb {
            b.has_fb = true;
        }
        return no_value(ctx, k, "\"FB\"", span);
    }
    ctx.push(
        C::BareWord,
        format!("\"{w}\" is a word without \"=\"; it is not part of the scope syntax and was kept as is."),
        span.clone(),
    );
    b.scope.extra_terms.push(ExtraTerm::Bare(w));
}

/// An `unknown-key` term, kept in `extra_terms` (also `=value` with no key).
fn apply_unknown_key(
    ctx: &mut Ctx<'_>,
    b: &mut ScopeBuilder,
    key_range: Range<usize>,
    key_text: String,
    values: &[Range<usize>],
) {
    let value = joined_text(ctx, values);
    let msg = if key_text.is_empty() {
        format!("The value \"{value}\" has no name before \"=\"; it was kept as is.")
    } else {
        format!(
            "\"{key_text}\" is not a Green Button scope term; it was kept as is but has no defined meaning."
        )
    };
    ctx.push(C::UnknownKey, msg, key_range);
    b.scope.extra_terms.push(ExtraTerm::KeyValue {
        key: key_text,
        value,
    });
}

/// A known key without a value: `empty-function-blocks` for `FB` (written
/// as `fb_text`), `missing-value` for the others.
fn no_value(ctx: &mut Ctx<'_>, key: Key, fb_text: &str, span: &Range<usize>) {
    if key == Key::Fb {
        ctx.push(
            C::EmptyFunctionBlocks,
            format!("{fb_text} has no function block numbers, so the scope does not say which data is shared."),
            span.clone(),
        );
    } else {
        let msg = format!("\"{}\" has no value; it was ignored.", key.name());
        ctx.push(C::MissingValue, msg, span.clone());
    }
}

/// Records `key` as seen; true (and `duplicate-term`) when it already was.
fn note_duplicate(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, key: Key, span: &Range<usize>) -> bool {
    if !b.seen.contains(&key) {
        b.seen.push(key);
        return false;
    }
    let what = if key.is_list() {
        "the lists were combined"
    } else {
        "only the first value is used"
    };
    ctx.push(
        C::DuplicateTerm,
        format!(
            "\"{}\" appears more than once in this scope; {what}.",
            key.name()
        ),
        span.clone(),
    );
    true
}

/// `FB`: a `_` list of numbers up to 65535 (`invalid-function-block`);
/// their order, duplicates and catalog status are checked by
/// [`finish_scope`].
fn apply_fb(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, v: &TermValue<'_>, term_span: &Range<usize>) {
    let items = list_items(ctx, v.values);
    if items.is_empty() {
        // `FB=_`: only empty items.
        no_value(ctx, Key::Fb, "\"FB=\"", term_span);
    }
    for r in items {
        let s = ctx.slice(&r);
        let msg = if !all_digits(s) {
            format!("The function block \"{s}\" is not a number.")
        } else if let Ok(id) = s.parse::<u16>() {
            b.fb_items.push((id, r));
            continue;
        } else {
            format!("The function block \"{s}\" is too large to be a function block number.")
        };
        ctx.push(C::InvalidFunctionBlock, msg, r);
    }
    b.fb_value_span = Some(match b.fb_value_span.take() {
        Some(old) => old.start..v.span.end,
        None => v.span.clone(),
    });
}

/// `IntervalDuration`, `BlockDuration`: `_` lists of durations.
fn apply_durations(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, key: Key, values: &[Range<usize>]) {
    for r in list_items(ctx, values) {
        if let Some(d) = parse_duration(ctx, &r, key) {
            if key == Key::IntervalDuration {
                b.scope.interval_durations.push(d);
            } else {
                b.scope.block_durations.push(d);
            }
        }
    }
}

/// `SubscriptionFrequency`: one duration (several: `invalid-duration`).
fn apply_subscription_frequency(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, v: &TermValue<'_>) {
    let items = list_items(ctx, v.values);
    if items.len() > 1 {
        let msg = format!(
            "SubscriptionFrequency takes one value, but \"{}\" has several.",
            ctx.slice(&v.span)
        );
        ctx.push(C::InvalidDuration, msg, v.span.clone());
    } else if let Some(r) = items.first()
        && let Some(d) = parse_duration(ctx, r, Key::SubscriptionFrequency)
        && !v.duplicate
    {
        b.scope.subscription_frequency = Some(d);
    }
}

/// `HistoryLength`, `PreferredAuthEndDate`: whole numbers of seconds,
/// with a warning when implausible (see [`implausible`]).
fn apply_seconds(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, key: Key, v: &TermValue<'_>) {
    let Some(n) = parse_number(ctx, v.values, key, u64::MAX) else {
        return;
    };
    if let Some((code, msg)) = implausible(key, n) {
        ctx.push(code, msg, v.span.clone());
    }
    if !v.duplicate {
        let field = if key == Key::HistoryLength {
            &mut b.scope.history_length
        } else {
            &mut b.scope.preferred_auth_end_date
        };
        *field = Some(n);
    }
}

/// `HistoryLength` 1 to 999 is probably a count (`ambiguous-history-length`,
/// OpenESPI's `13`); `PreferredAuthEndDate` above 10^11 looks like
/// milliseconds (`implausible-end-date`).
fn implausible(key: Key, n: u64) -> Option<(C, String)> {
    match key {
        Key::HistoryLength if (1..1000).contains(&n) => Some((
            C::AmbiguousHistoryLength,
            format!(
                "HistoryLength={n} means {n} seconds of history, which is very short; some older systems meant a count (such as {n} billing periods)."
            ),
        )),
        Key::PreferredAuthEndDate if n > 100_000_000_000 => Some((
            C::ImplausibleEndDate,
            format!(
                "PreferredAuthEndDate={n} is thousands of years away; it looks like milliseconds, but it must be seconds since 1970."
            ),
        )),
        _ => None,
    }
}

/// `BR`: the bulk id, kept as text; only `[0-9A-Za-z-]` (`invalid-bulk-id`).
fn apply_bulk_id(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, v: &TermValue<'_>) {
    let s = joined_text(ctx, v.values);
    if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        let msg = format!("The bulk id \"{s}\" should only have letters, digits and \"-\".");
        ctx.push(C::InvalidBulkId, msg, v.span.clone());
    }
    if !v.duplicate {
        b.scope.bulk_id = Some(s);
    }
}

/// The checks of a whole scope: an `FB` term (`missing-function-blocks`),
/// its function blocks, its meters.
pub(super) fn finish_scope(ctx: &mut Ctx<'_>, mut b: ScopeBuilder) -> EspiScope {
    if !b.has_fb {
        ctx.push(
            C::MissingFunctionBlocks,
            "This scope has no \"FB=\" term, so it does not say which data is shared.",
            b.span.clone(),
        );
    }
    b.scope.function_blocks = function_blocks(ctx, &b);
    check_meters(ctx, &b);
    b.scope
}

/// The function blocks, sorted (`unsorted-function-blocks`) and unique
/// (`duplicate-function-block`), each checked against the catalog.
fn function_blocks(ctx: &mut Ctx<'_>, b: &ScopeBuilder) -> Vec<u16> {
    if b.fb_items.windows(2).any(|w| w[0].0 > w[1].0)
        && let Some(span) = b.fb_value_span.clone()
    {
        ctx.push(
            C::UnsortedFunctionBlocks,
            "The function blocks are not in ascending order; they were sorted.",
            span,
        );
    }
    let mut seen: Vec<u16> = Vec::new();
    for (id, r) in &b.fb_items {
        if seen.contains(id) {
            let msg = format!("Function block {id} is listed more than once.");
            ctx.push(C::DuplicateFunctionBlock, msg, r.clone());
            continue;
        }
        seen.push(*id);
        check_status(ctx, *id, r);
    }
    crate::model::sort_function_blocks(&mut seen);
    seen
}

/// `deprecated-function-block` (naming the replacement), `not-a-scope-term`
/// (20 to 26, 42, 43, 45), `unknown-function-block` (0, above 70).
fn check_status(ctx: &mut Ctx<'_>, id: u16, r: &Range<usize>) {
    // The status alone on the common path: a catalog entry's text is
    // looked up only for a message.
    let (code, msg) = match catalog::status_of(id) {
        Status::Active => return,
        Status::Deprecated { replaced_by } => {
            let name = catalog::name_of(id);
            let msg = match replaced_by {
                Some(n) => format!(
                    "Function block {id} ({name}) is deprecated in ESPI 4.0; function block {n} ({}) replaces it.",
                    catalog::name_of(n)
                ),
                None => format!("Function block {id} ({name}) is deprecated in ESPI 4.0."),
            };
            (C::DeprecatedFunctionBlock, msg)
        }
        Status::NotAScopeTerm => (
            C::NotAScopeTerm,
            format!("Function block {id} is not something a scope can ask for."),
        ),
        Status::Unknown => (
            C::UnknownFunctionBlock,
            format!("Function block {id} is not in the Green Button catalog (1 to 70)."),
        ),
    };
    ctx.push(code, msg, r.clone());
}

/// `meters-all` together with listed meters: `conflicting-meters`.
fn check_meters(ctx: &mut Ctx<'_>, b: &ScopeBuilder) {
    let extra = &b.scope.additional_scope;
    let all = extra.contains(&AdditionalScope::MetersAll);
    let listed = extra.iter().any(|a| matches!(a, AdditionalScope::Meter(_)));
    if all && listed {
        ctx.push(
            C::ConflictingMeters,
            "The scope asks for all meters and also lists single meters; all meters is used.",
            b.span.clone(),
        );
    }
}
