//! The lenient reader of scope values.
//!
//! The grammar (GBA "ESPI OAuth2 Scope Definition"): terms separated by `;`,
//! each `Key=Value`; lists inside a value separated by `_`. Several scopes in
//! one OAuth `scope` value are separated by spaces (RFC 6749).
//!
//! [`parse`] reads every form seen in published material and reports each
//! oddity as a [`Diagnostic`] with a byte span into the original input:
//!
//! - any key case (`fb=`, `historyLength`), spaces around `=` and `;`, empty
//!   segments, trailing `;`;
//! - unsorted or duplicate function blocks, deprecated, unknown and
//!   not-a-scope-term ids;
//! - mixed number/name lists (`Monthly_3600_900_300`), capitalised names;
//! - unknown keys and bare words (kept in [`EspiScope::extra_terms`]);
//! - values longer than 256 characters;
//! - several scopes: space-separated, `|`-joined, or a second `FB=` after `;`;
//! - percent-encoded input (`FB%3D4_5%3BIntervalDuration%3D3600`, `+` as a
//!   space);
//! - legacy forms with commas (`FB=4,5,15`) or without `;` (`FB=4_5
//!   IntervalDuration=900`, `FB=4_5IntervalDuration=900`).
//!
//! Errors are reported only for: empty input, a scope without an `FB` term
//! or with an empty one, a function block that is not a number, a value that
//! must be a number and is not (`HistoryLength`, `AccountCollection`,
//! `PreferredAuthEndDate`), and a duration that is neither a number nor a
//! named frequency.
//!
//! The canonical writer is the [`Display`](core::fmt::Display) impl of
//! [`ScopeValue`] and [`EspiScope`](crate::EspiScope);
//! `parse(&v.to_string()).value == v` for every value the parser produces.
//!
//! The reader works in steps, each in its own module with its rules:
//! 1. `percent`: remove percent-encoding, keeping a map to the original
//!    offsets;
//! 2. the whole text: characters RFC 6749 does not allow
//!    (`invalid-character`), more than 256 characters (`too-long`);
//! 3. `lex`: tokens, then raw terms and separators (spaces: padding or
//!    separators);
//! 4. `terms`: key and values of each term, grouped by scope separators;
//! 5. `scopes`: which groups are ESPI scopes;
//! 6. `apply`: each term applied to its scope, key by key; then the checks
//!    of a whole scope.

use core::ops::Range;

use crate::diagnostic::{Diagnostic, DiagnosticCode as C};
use crate::model::ScopeValue;

mod apply;
mod keys;
mod lex;
mod percent;
mod scopes;
mod terms;

pub(crate) use keys::Key;
pub use keys::is_known_key;
pub(crate) use lex::is_ws;
use lex::is_ws_char;
pub(crate) use percent::{decode_with_map, has_valid_escape};

/// The result of a lenient parse: the value read plus every diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    /// What could be read (best effort when there are errors).
    pub value: ScopeValue,
    /// Errors and warnings, spans into the original input.
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    /// True when any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The error diagnostics.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warning diagnostics.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }
}

/// The maximum length of the ESPI `scope` field (String256).
pub const MAX_SCOPE_LEN: usize = 256;

/// Reads a whole OAuth `scope` value leniently. Never panics, on any input.
///
/// ```
/// use espi_scope::grammar::parse;
/// let p = parse("fb=16_4_4; IntervalDuration=Monthly_900;dataCustodianId=PGE;");
/// assert!(!p.has_errors());
/// assert_eq!(p.value.to_string(), "FB=4_16;IntervalDuration=monthly_900;dataCustodianId=PGE");
/// let codes: Vec<&str> = p.diagnostics.iter().map(|d| d.code.as_str()).collect();
/// assert!(codes.contains(&"key-case"));
/// assert!(codes.contains(&"duplicate-function-block"));
/// assert!(codes.contains(&"unknown-key"));
/// ```
///
/// # Errors
///
/// Never fails; errors are diagnostics with [`Severity::Error`](crate::Severity::Error):
/// `""` and `" ; "` (empty-input), `"IntervalDuration=900"`
/// (missing-function-blocks), `"FB="` (empty-function-blocks), `"FB=4_x"`
/// (invalid-function-block), `"FB=4;HistoryLength=2y"` (invalid-number),
/// `"FB=4;IntervalDuration=hourly"` (invalid-duration).
pub fn parse(input: &str) -> Parsed {
    parse_inner::<true>(input, false, 0)
}

/// The value [`parse`] reads, for callers that do not need the diagnostics:
/// always equal to `parse(input).value`, but some diagnostics are not
/// written out (less code in a WebAssembly bundle).
///
/// ```
/// use espi_scope::grammar::{parse, parse_value};
/// let s = "fb=16_4_4; IntervalDuration=Monthly_900;\u{7f}";
/// assert_eq!(parse_value(s), parse(s).value);
/// ```
pub fn parse_value(input: &str) -> ScopeValue {
    parse_inner::<false>(input, false, 0).value
}

/// Parses the raw (still percent-encoded) text of a URL query parameter;
/// spans are shifted by `base` so they point into the URL.
pub(crate) fn parse_component(raw: &str, base: usize) -> Parsed {
    parse_inner::<true>(raw, true, base)
}

/// The text being read and the diagnostics found in it (spans into the
/// text, mapped back to the input at the end).
struct Ctx<'a> {
    text: &'a str,
    diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn slice(&self, r: &Range<usize>) -> &str {
        self.text.get(r.clone()).unwrap_or("")
    }

    fn push(&mut self, code: C, msg: impl Into<String>, span: Range<usize>) {
        self.diags.push(Diagnostic::new(code, msg, span));
    }
}

/// `DIAGNOSTICS = false` leaves out diagnostics that cost code and never
/// change the value (see [`parse_value`]).
fn parse_inner<const DIAGNOSTICS: bool>(input: &str, url_component: bool, base: usize) -> Parsed {
    let mut pre: Vec<Diagnostic> = Vec::new();
    let decoded = percent::decode_levels(input, url_component, &mut pre);
    let (text, decoded_map): (&str, &[usize]) = match &decoded {
        Some((t, m)) => (t.as_str(), m.as_slice()),
        None => (input, &[]),
    };
    let mut ctx = Ctx {
        text,
        diags: Vec::new(),
    };
    if DIAGNOSTICS {
        check_characters(&mut ctx);
    }
    check_length(&mut ctx);
    let toks = lex::lex(text);
    let pieces = lex::pieces(&toks, &mut ctx);
    let groups = terms::groups(pieces, &mut ctx);
    let value = scopes::read(&mut ctx, groups);

    let mut diagnostics = pre;
    let decoded = decoded.is_some().then_some(decoded_map);
    diagnostics.extend(original_spans(ctx.diags, decoded, input.len()));
    if base > 0 {
        for d in &mut diagnostics {
            d.span = d.span.start + base..d.span.end + base;
        }
    }
    if DIAGNOSTICS {
        crate::diagnostic::sort_by_span(&mut diagnostics);
    }
    Parsed { value, diagnostics }
}

/// Rule: control characters, `"`, `\` and non-ASCII are not allowed in an
/// OAuth scope (RFC 6749 §3.3): `invalid-character` for the first one.
fn check_characters(ctx: &mut Ctx<'_>) {
    let mut bad = ctx
        .text
        .char_indices()
        .filter(|(_, c)| !(c.is_ascii_graphic() || is_ws_char(*c)) || *c == '"' || *c == '\\');
    let Some((i, c)) = bad.next() else {
        return;
    };
    let others = bad.count();
    let more = if others > 0 {
        format!(" (and {others} more)")
    } else {
        String::new()
    };
    ctx.push(
        C::InvalidCharacter,
        format!("The character {c:?} is not allowed in an OAuth scope{more}; it was kept as is."),
        i..i + c.len_utf8(),
    );
}

/// Rule: the ESPI scope field holds at most 256 characters (String256):
/// `too-long`.
fn check_length(ctx: &mut Ctx<'_>) {
    let chars = ctx.text.chars().count();
    if chars > MAX_SCOPE_LEN {
        ctx.push(
            C::TooLong,
            format!(
                "The scope is {chars} characters long; the Green Button scope field holds at most {MAX_SCOPE_LEN}."
            ),
            0..ctx.text.len(),
        );
    }
}

/// The diagnostics with spans into the decoded text mapped back to the
/// original input (`map` from [`percent`]; `None` when nothing was decoded).
fn original_spans(
    diags: Vec<Diagnostic>,
    map: Option<&[usize]>,
    input_len: usize,
) -> impl Iterator<Item = Diagnostic> {
    diags.into_iter().map(move |mut d| {
        if let Some(map) = map {
            let m = |i: usize| -> usize { map.get(i).copied().unwrap_or(input_len) };
            let start = m(d.span.start);
            let end = m(d.span.end).max(start);
            d.span = start..end;
        }
        d
    })
}
