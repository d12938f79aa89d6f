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
//! [`ScopeValue`] and [`EspiScope`]; `parse(&v.to_string()).value == v` for
//! every value the parser produces.

use core::ops::Range;

use crate::catalog::{self, Status};
use crate::diagnostic::{Diagnostic, DiagnosticCode as C};
use crate::model::{AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency, ScopeValue};

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

// ---------------------------------------------------------------------------
// Percent-decoding with an offset map.

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

pub(crate) struct Decoded {
    pub text: String,
    /// `map[i]` = offset in the original of decoded byte `i`; one extra entry
    /// at the end (the original length).
    pub map: Vec<usize>,
    /// `%` signs not followed by two hex digits (kept literally).
    pub bad_escapes: Vec<usize>,
    /// Decoded bytes were not UTF-8 (the text is then the raw input).
    pub not_utf8: bool,
}

pub(crate) fn decode_with_map(input: &str, plus_as_space: bool) -> Decoded {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut map: Vec<usize> = Vec::with_capacity(bytes.len() + 1);
    let mut bad_escapes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let h = bytes.get(i + 1).copied().and_then(hex_val);
            let l = bytes.get(i + 2).copied().and_then(hex_val);
            if let (Some(h), Some(l)) = (h, l) {
                out.push(h * 16 + l);
                map.push(i);
                i += 3;
                continue;
            }
            bad_escapes.push(i);
            out.push(b);
        } else if b == b'+' && plus_as_space {
            out.push(b' ');
        } else {
            out.push(b);
        }
        map.push(i);
        i += 1;
    }
    map.push(bytes.len());
    // Replace bytes that are not UTF-8 with U+FFFD (each maps to the
    // original offset of the bad byte), so the result is always text.
    let mut text = String::with_capacity(out.len());
    let mut tmap: Vec<usize> = Vec::with_capacity(out.len() + 1);
    let mut not_utf8 = false;
    let mut rest: &[u8] = &out;
    let mut base = 0usize;
    loop {
        match core::str::from_utf8(rest) {
            Ok(good) => {
                text.push_str(good);
                tmap.extend(map.get(base..base + good.len()).unwrap_or(&[]));
                break;
            }
            Err(e) => {
                not_utf8 = true;
                let valid = e.valid_up_to();
                let good = core::str::from_utf8(rest.get(..valid).unwrap_or(&[])).unwrap_or("");
                text.push_str(good);
                tmap.extend(map.get(base..base + valid).unwrap_or(&[]));
                let bad_len = e.error_len().unwrap_or(rest.len() - valid).max(1);
                let at = map.get(base + valid).copied().unwrap_or(bytes.len());
                text.push('\u{FFFD}');
                tmap.extend([at, at, at]);
                let skip = (valid + bad_len).min(rest.len());
                base += skip;
                rest = rest.get(skip..).unwrap_or(&[]);
                if rest.is_empty() {
                    break;
                }
            }
        }
    }
    tmap.push(bytes.len());
    Decoded {
        text,
        map: tmap,
        bad_escapes,
        not_utf8,
    }
}

pub(crate) fn has_valid_escape(input: &str) -> bool {
    let b = input.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && hex_val(w[1]).is_some() && hex_val(w[2]).is_some())
}

// ---------------------------------------------------------------------------
// Known keys.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Fb,
    IntervalDuration,
    BlockDuration,
    HistoryLength,
    SubscriptionFrequency,
    AccountCollection,
    Br,
    PreferredAuthEndDate,
    AdditionalScope,
}

const KEYS: [Key; 9] = [
    Key::Fb,
    Key::IntervalDuration,
    Key::BlockDuration,
    Key::HistoryLength,
    Key::SubscriptionFrequency,
    Key::AccountCollection,
    Key::Br,
    Key::PreferredAuthEndDate,
    Key::AdditionalScope,
];

impl Key {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Fb => "FB",
            Key::IntervalDuration => "IntervalDuration",
            Key::BlockDuration => "BlockDuration",
            Key::HistoryLength => "HistoryLength",
            Key::SubscriptionFrequency => "SubscriptionFrequency",
            Key::AccountCollection => "AccountCollection",
            Key::Br => "BR",
            Key::PreferredAuthEndDate => "PreferredAuthEndDate",
            Key::AdditionalScope => "AdditionalScope",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<Key> {
        KEYS.into_iter().find(|k| k.name().eq_ignore_ascii_case(s))
    }

    fn is_list(self) -> bool {
        matches!(
            self,
            Key::Fb | Key::IntervalDuration | Key::BlockDuration | Key::AdditionalScope
        )
    }

    /// The longest known key that `s` ends with (case-insensitive), as its
    /// byte length.
    pub(crate) fn suffix_len(s: &str) -> Option<usize> {
        let mut best: Option<usize> = None;
        for k in KEYS {
            let n = k.name().len();
            if s.len() >= n
                && let Some(tail) = s.get(s.len() - n..)
                && tail.eq_ignore_ascii_case(k.name())
                && best.is_none_or(|b| n > b)
            {
                best = Some(n);
            }
        }
        best
    }
}

/// True when `s` is the name of a known ESPI key (any case).
pub fn is_known_key(s: &str) -> bool {
    Key::from_name(s).is_some()
}

// ---------------------------------------------------------------------------
// Lexing.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Word(usize, usize),
    Eq(usize),
    Semi(usize),
    Comma(usize),
    Pipe(usize),
    Ws(usize, usize),
}

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

fn lex(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'=' => {
                toks.push(Tok::Eq(i));
                i += 1;
            }
            b';' => {
                toks.push(Tok::Semi(i));
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma(i));
                i += 1;
            }
            b'|' => {
                toks.push(Tok::Pipe(i));
                i += 1;
            }
            _ if is_ws(c) => {
                let s = i;
                while i < b.len() && is_ws(b[i]) {
                    i += 1;
                }
                toks.push(Tok::Ws(s, i));
            }
            _ => {
                let s = i;
                while i < b.len() && !matches!(b[i], b'=' | b';' | b',' | b'|') && !is_ws(b[i]) {
                    i += 1;
                }
                toks.push(Tok::Word(s, i));
            }
        }
    }
    toks
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Semi,
    Comma,
    Pipe,
    Space,
}

/// A raw term: tokens between separators.
#[derive(Debug, Clone)]
struct RawTerm {
    start: usize,
    end: usize,
    /// Byte positions of `=` signs inside the term.
    eqs: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Piece {
    Term(RawTerm),
    Sep(Sep, usize, usize),
}

/// A term with key and value(s) resolved.
#[derive(Debug, Clone)]
struct Term {
    span: Range<usize>,
    /// `None` for a bare word.
    key: Option<Range<usize>>,
    /// Value segments (more than one only for comma-continued lists).
    values: Vec<Range<usize>>,
}

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

/// Keeps a plain OAuth scope token, except a keyless `=…` fragment: written
/// after another token it would read back as that token's value.
fn push_other_scope(ctx: &mut Ctx<'_>, value: &mut ScopeValue, span: &Range<usize>) {
    let token = ctx.slice(span);
    if token.starts_with('=') {
        let msg = format!("\"{token}\" has no key before \"=\"; it was ignored.");
        ctx.push(C::EmptyTerm, msg, span.clone());
    } else {
        value.other_scopes.push(token.to_string());
    }
}

fn pieces(toks: &[Tok], ctx: &mut Ctx<'_>) -> Vec<Piece> {
    // Classify each whitespace run: padding (ignored, warned) or a scope
    // separator (between two words).
    let mut out: Vec<Piece> = Vec::new();
    let mut cur: Option<RawTerm> = None;
    let n = toks.len();
    for (idx, t) in toks.iter().enumerate() {
        match *t {
            Tok::Word(s, e) => {
                let term = cur.get_or_insert(RawTerm {
                    start: s,
                    end: e,
                    eqs: Vec::new(),
                });
                term.end = e;
            }
            Tok::Eq(p) => {
                let term = cur.get_or_insert(RawTerm {
                    start: p,
                    end: p + 1,
                    eqs: Vec::new(),
                });
                term.end = p + 1;
                term.eqs.push(p);
            }
            Tok::Semi(p) | Tok::Comma(p) | Tok::Pipe(p) => {
                if let Some(term) = cur.take() {
                    out.push(Piece::Term(term));
                }
                let sep = match *t {
                    Tok::Semi(_) => Sep::Semi,
                    Tok::Comma(_) => Sep::Comma,
                    _ => Sep::Pipe,
                };
                out.push(Piece::Sep(sep, p, p + 1));
            }
            Tok::Ws(s, e) => {
                let prev = if idx == 0 { None } else { toks.get(idx - 1) };
                let next = toks.get(idx + 1);
                let text = ctx.text;
                let known = |t: Option<&Tok>| match t {
                    Some(Tok::Word(ws, we)) => text.get(*ws..*we).is_some_and(is_known_key),
                    _ => false,
                };
                // Spaces are padding at the ends, next to `;` `,` `|`, and
                // around the `=` of a known key (`HistoryLength = 13`);
                // anywhere else they separate OAuth scope tokens (RFC 6749).
                let padding = match (prev, next) {
                    (None, _) | (_, None) => true,
                    (Some(Tok::Semi(_) | Tok::Comma(_) | Tok::Pipe(_)), _)
                    | (_, Some(Tok::Semi(_) | Tok::Comma(_) | Tok::Pipe(_))) => true,
                    (Some(Tok::Eq(_)), _) => {
                        let mut j = idx.saturating_sub(2);
                        if matches!(toks.get(j), Some(Tok::Ws(..))) {
                            j = j.saturating_sub(1);
                        }
                        idx >= 2 && known(toks.get(j))
                    }
                    (Some(Tok::Word(..)), Some(Tok::Eq(_))) => known(prev),
                    _ => false,
                };
                if !padding {
                    if let Some(term) = cur.take() {
                        out.push(Piece::Term(term));
                    }
                    out.push(Piece::Sep(Sep::Space, s, e));
                } else {
                    let msg = if idx == 0 || idx + 1 == n {
                        "Spaces at the start or end of the scope are ignored."
                    } else {
                        "Spaces around \"=\" or \";\" are not part of the scope syntax; they were ignored."
                    };
                    ctx.push(C::ExtraWhitespace, msg, s..e);
                }
            }
        }
    }
    if let Some(term) = cur.take() {
        out.push(Piece::Term(term));
    }
    out
}

/// Splits a raw term into key/value, splitting run-together terms
/// (`FB=4_5IntervalDuration=900`) at known keys.
fn resolve_term(raw: &RawTerm, ctx: &mut Ctx<'_>) -> Vec<Term> {
    let text = ctx.text;
    let trim = |r: Range<usize>| -> Range<usize> {
        let s = text.get(r.clone()).unwrap_or("");
        let lead = s.len() - s.trim_start_matches(is_ws_char).len();
        let trail = s.len() - s.trim_end_matches(is_ws_char).len();
        let start = r.start + lead;
        let end = r.end.saturating_sub(trail).max(start);
        start..end
    };
    let Some(&first_eq) = raw.eqs.first() else {
        return vec![Term {
            span: raw.start..raw.end,
            key: None,
            values: Vec::new(),
        }];
    };
    let mut terms = Vec::new();
    let mut key = trim(raw.start..first_eq);
    let mut term_start = raw.start;
    let mut value_start = first_eq + 1;
    for &eq in raw.eqs.iter().skip(1) {
        let seg = text.get(value_start..eq).unwrap_or("");
        let seg_trimmed = seg.trim_end_matches(is_ws_char);
        if let Some(n) = Key::suffix_len(seg_trimmed) {
            let key_start = value_start + seg_trimmed.len() - n;
            let value = trim(value_start..key_start);
            terms.push(Term {
                span: term_start..key_start,
                key: Some(key.clone()),
                values: vec![value],
            });
            ctx.push(
                C::MissingSeparator,
                format!(
                    "\"{}\" follows the previous value without a \";\" between them; it was read as a new term.",
                    text.get(key_start..value_start + seg_trimmed.len()).unwrap_or("")
                ),
                key_start..eq + 1,
            );
            key = key_start..value_start + seg_trimmed.len();
            term_start = key_start;
            value_start = eq + 1;
        }
    }
    let value = trim(value_start..raw.end);
    terms.push(Term {
        span: term_start..raw.end,
        key: Some(key),
        values: vec![value],
    });
    terms
}

// ---------------------------------------------------------------------------
// Grouping.

struct Group {
    span: Range<usize>,
    /// The separator before this group (Space or Pipe), if any.
    sep_before: Option<Sep>,
    terms: Vec<Term>,
}

fn term_key(ctx: &Ctx<'_>, t: &Term) -> Option<Key> {
    t.key.as_ref().and_then(|k| Key::from_name(ctx.slice(k)))
}

fn groups(pieces: Vec<Piece>, ctx: &mut Ctx<'_>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut cur: Option<Group> = None;
    // Position of the last `;`/`,` in the current group with no term after it yet.
    let mut pending_sep: Option<(Sep, usize)> = None;
    let mut at_group_start = true;
    let mut sep_before: Option<Sep> = None;
    let mut last_pipe: Option<usize> = None;

    let finish = |cur: &mut Option<Group>,
                  groups: &mut Vec<Group>,
                  pending: &mut Option<(Sep, usize)>,
                  ctx: &mut Ctx<'_>| {
        if let Some((_, p)) = pending.take()
            && cur.is_some()
        {
            ctx.push(
                C::TrailingSeparator,
                "The scope ends with a separator; it was ignored.",
                p..p + 1,
            );
        }
        if let Some(g) = cur.take() {
            groups.push(g);
        }
    };

    for piece in pieces {
        match piece {
            Piece::Term(raw) => {
                let resolved = resolve_term(&raw, ctx);
                let mut resolved = resolved.into_iter();
                let Some(first) = resolved.next() else {
                    continue;
                };
                // Comma continuation of a list: `FB=4,5,15`.
                if let (Some((Sep::Comma, _)), Some(g)) = (pending_sep, cur.as_mut()) {
                    let prev_is_list = g
                        .terms
                        .last()
                        .and_then(|t| t.key.as_ref())
                        .and_then(|k| Key::from_name(ctx.text.get(k.clone()).unwrap_or("")))
                        .is_some_and(Key::is_list);
                    if first.key.is_none() && prev_is_list {
                        if let Some(last) = g.terms.last_mut() {
                            last.values.push(first.span.clone());
                            last.span.end = first.span.end;
                        }
                        g.span.end = first.span.end;
                        pending_sep = None;
                        for t in resolved {
                            g.span.end = t.span.end;
                            g.terms.push(t);
                        }
                        continue;
                    }
                }
                pending_sep = None;
                at_group_start = false;
                let g = cur.get_or_insert(Group {
                    span: first.span.clone(),
                    sep_before: sep_before.take(),
                    terms: Vec::new(),
                });
                g.span.end = first.span.end;
                g.terms.push(first);
                for t in resolved {
                    g.span.end = t.span.end;
                    g.terms.push(t);
                }
            }
            Piece::Sep(sep @ (Sep::Semi | Sep::Comma), s, _) => {
                if sep == Sep::Comma {
                    ctx.push(
                        C::CommaSeparator,
                        "A comma is used as a separator (an old form); \";\" separates terms and \"_\" separates list items.",
                        s..s + 1,
                    );
                }
                if at_group_start || pending_sep.is_some() {
                    ctx.push(
                        C::EmptyTerm,
                        "An empty term (two separators in a row, or a separator at the start) was ignored.",
                        s..s + 1,
                    );
                }
                pending_sep = Some((sep, s));
            }
            Piece::Sep(sep, s, e) => {
                if sep == Sep::Pipe {
                    ctx.push(
                        C::PipeSeparator,
                        "Scopes are joined with \"|\"; OAuth separates scopes with a space.",
                        s..e,
                    );
                    if cur.is_none() {
                        ctx.push(
                            C::EmptyTerm,
                            "An empty scope before \"|\" was ignored.",
                            s..e,
                        );
                    }
                    last_pipe = Some(s);
                } else {
                    last_pipe = None;
                }
                finish(&mut cur, &mut groups, &mut pending_sep, ctx);
                at_group_start = true;
                sep_before = Some(sep);
            }
        }
    }
    if let (Some(p), None) = (last_pipe, cur.as_ref()) {
        ctx.push(
            C::TrailingSeparator,
            "The scope ends with \"|\"; it was ignored.",
            p..p + 1,
        );
    }
    finish(&mut cur, &mut groups, &mut pending_sep, ctx);
    groups
}

// ---------------------------------------------------------------------------
// Interpretation.

#[derive(Default)]
struct ScopeBuilder {
    scope: EspiScope,
    span: Range<usize>,
    has_fb: bool,
    seen: Vec<Key>,
    /// `(id, span)` in input order.
    fb_items: Vec<(u16, Range<usize>)>,
    fb_value_span: Option<Range<usize>>,
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
        let parts: Vec<&str> = s.split('_').collect();
        for (i, part) in parts.into_iter().enumerate() {
            let r = pos..pos + part.len();
            if part.is_empty() {
                // Point at the `_` before the empty item (or after it, at the start).
                let at = if i > 0 { pos.saturating_sub(1) } else { pos };
                ctx.push(
                    C::EmptyListItem,
                    "An empty item in a list (two \"_\" in a row, or one at the start or end) was ignored.",
                    at..at + 1,
                );
            } else {
                items.push(r);
            }
            pos += part.len() + 1;
        }
    }
    items
}

fn parse_duration(ctx: &mut Ctx<'_>, r: &Range<usize>, key: Key) -> Option<Duration> {
    let s = ctx.slice(r).to_string();
    if all_digits(&s) {
        return match s.parse::<u64>() {
            Ok(n) => Some(Duration::Seconds(n)),
            Err(_) => {
                ctx.push(
                    C::InvalidDuration,
                    format!(
                        "The {} value \"{s}\" is too large to be a number of seconds.",
                        key.name()
                    ),
                    r.clone(),
                );
                None
            }
        };
    }
    match Frequency::from_name(&s) {
        Some(f) => {
            if f.as_str() != s {
                ctx.push(
                    C::ValueCase,
                    format!("\"{s}\" is normally written \"{}\".", f.as_str()),
                    r.clone(),
                );
            }
            Some(Duration::Named(f))
        }
        None => {
            ctx.push(
                C::InvalidDuration,
                format!(
                    "The {} value \"{s}\" is neither a number of seconds nor one of billingPeriod, daily, weekly, monthly, quarterly, seasonal, yearly.",
                    key.name()
                ),
                r.clone(),
            );
            None
        }
    }
}

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
        ctx.push(
            C::InvalidNumber,
            format!("The {} value \"{s}\" {why}.", key.name()),
            span,
        );
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

fn apply_term(ctx: &mut Ctx<'_>, b: &mut ScopeBuilder, t: Term) {
    let Some(key_range) = t.key.clone() else {
        let w = ctx.slice(&t.span).to_string();
        if let Some(k) = Key::from_name(&w) {
            if k == Key::Fb {
                b.has_fb = true;
                ctx.push(
                    C::EmptyFunctionBlocks,
                    "\"FB\" has no function block numbers, so the scope does not say which data is shared.",
                    t.span.clone(),
                );
            } else {
                ctx.push(
                    C::MissingValue,
                    format!("\"{}\" has no value; it was ignored.", k.name()),
                    t.span.clone(),
                );
            }
            return;
        }
        ctx.push(
            C::BareWord,
            format!("\"{w}\" is a word without \"=\"; it is not part of the scope syntax and was kept as is."),
            t.span.clone(),
        );
        b.scope.extra_terms.push(ExtraTerm::Bare(w));
        return;
    };
    let key_text = ctx.slice(&key_range).to_string();
    let Some(key) = Key::from_name(&key_text) else {
        let value = joined_text(ctx, &t.values);
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
        return;
    };
    if key_text != key.name() {
        ctx.push(
            C::KeyCase,
            format!("\"{key_text}\" is normally written \"{}\".", key.name()),
            key_range.clone(),
        );
    }
    if key == Key::Fb {
        b.has_fb = true;
    }
    if values_empty(ctx, &t.values) {
        if key == Key::Fb {
            ctx.push(
                C::EmptyFunctionBlocks,
                "\"FB=\" has no function block numbers, so the scope does not say which data is shared.",
                t.span.clone(),
            );
        } else {
            ctx.push(
                C::MissingValue,
                format!("\"{}\" has no value; it was ignored.", key.name()),
                t.span.clone(),
            );
        }
        return;
    }
    let duplicate = b.seen.contains(&key);
    if duplicate {
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
            t.span.clone(),
        );
    } else {
        b.seen.push(key);
    }
    let span = joined_span(&t.values).unwrap_or(t.span.clone());
    match key {
        Key::Fb => {
            let items = list_items(ctx, &t.values);
            if items.is_empty() {
                // `FB=_`: only empty items.
                ctx.push(
                    C::EmptyFunctionBlocks,
                    "\"FB=\" has no function block numbers, so the scope does not say which data is shared.",
                    t.span.clone(),
                );
            }
            for r in items {
                let s = ctx.slice(&r).to_string();
                if all_digits(&s) {
                    match s.parse::<u16>() {
                        Ok(id) => b.fb_items.push((id, r)),
                        Err(_) => ctx.push(
                            C::InvalidFunctionBlock,
                            format!("The function block \"{s}\" is too large to be a function block number."),
                            r,
                        ),
                    }
                } else {
                    ctx.push(
                        C::InvalidFunctionBlock,
                        format!("The function block \"{s}\" is not a number."),
                        r,
                    );
                }
            }
            b.fb_value_span = Some(match b.fb_value_span.take() {
                Some(old) => old.start..span.end,
                None => span,
            });
        }
        Key::IntervalDuration | Key::BlockDuration => {
            let items = list_items(ctx, &t.values);
            for r in items {
                if let Some(d) = parse_duration(ctx, &r, key) {
                    if key == Key::IntervalDuration {
                        b.scope.interval_durations.push(d);
                    } else {
                        b.scope.block_durations.push(d);
                    }
                }
            }
        }
        Key::SubscriptionFrequency => {
            let items = list_items(ctx, &t.values);
            if items.len() > 1 {
                ctx.push(
                    C::InvalidDuration,
                    format!(
                        "SubscriptionFrequency takes one value, but \"{}\" has several.",
                        ctx.slice(&span)
                    ),
                    span,
                );
            } else if let Some(r) = items.first()
                && let Some(d) = parse_duration(ctx, r, key)
                && !duplicate
            {
                b.scope.subscription_frequency = Some(d);
            }
        }
        Key::HistoryLength => {
            if let Some(n) = parse_number(ctx, &t.values, key, u64::MAX) {
                if (1..1000).contains(&n) {
                    ctx.push(
                        C::AmbiguousHistoryLength,
                        format!(
                            "HistoryLength={n} means {n} seconds of history, which is very short; some older systems meant a count (such as {n} billing periods)."
                        ),
                        span.clone(),
                    );
                }
                if !duplicate {
                    b.scope.history_length = Some(n);
                }
            }
        }
        Key::AccountCollection => {
            if let Some(n) = parse_number(ctx, &t.values, key, u64::from(u32::MAX))
                && !duplicate
            {
                b.scope.account_collection = u32::try_from(n).ok();
            }
        }
        Key::PreferredAuthEndDate => {
            if let Some(n) = parse_number(ctx, &t.values, key, u64::MAX) {
                if n > 100_000_000_000 {
                    ctx.push(
                        C::ImplausibleEndDate,
                        format!(
                            "PreferredAuthEndDate={n} is thousands of years away; it looks like milliseconds, but it must be seconds since 1970."
                        ),
                        span.clone(),
                    );
                }
                if !duplicate {
                    b.scope.preferred_auth_end_date = Some(n);
                }
            }
        }
        Key::Br => {
            let s = joined_text(ctx, &t.values);
            if !s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
                ctx.push(
                    C::InvalidBulkId,
                    format!("The bulk id \"{s}\" should only have letters, digits and \"-\"."),
                    span,
                );
            }
            if !duplicate {
                b.scope.bulk_id = Some(s);
            }
        }
        Key::AdditionalScope => {
            let items = list_items(ctx, &t.values);
            for r in items {
                let s = ctx.slice(&r).to_string();
                b.scope
                    .additional_scope
                    .push(AdditionalScope::from_item(&s));
            }
        }
    }
}

fn finish_scope(ctx: &mut Ctx<'_>, mut b: ScopeBuilder) -> EspiScope {
    if !b.has_fb {
        ctx.push(
            C::MissingFunctionBlocks,
            "This scope has no \"FB=\" term, so it does not say which data is shared.",
            b.span.clone(),
        );
    }
    // Function blocks: order, duplicates, catalog status.
    let ids: Vec<u16> = b.fb_items.iter().map(|(id, _)| *id).collect();
    if ids.windows(2).any(|w| w[0] > w[1])
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
            ctx.push(
                C::DuplicateFunctionBlock,
                format!("Function block {id} is listed more than once."),
                r.clone(),
            );
            continue;
        }
        seen.push(*id);
        // The status alone on the common path: a catalog entry's text is
        // looked up only for a message.
        match catalog::status_of(*id) {
            Status::Active => {}
            Status::Deprecated { replaced_by } => {
                let name = catalog::name_of(*id);
                let msg = match replaced_by {
                    Some(n) => format!(
                        "Function block {id} ({name}) is deprecated in ESPI 4.0; function block {n} ({}) replaces it.",
                        catalog::name_of(n)
                    ),
                    None => format!("Function block {id} ({name}) is deprecated in ESPI 4.0."),
                };
                ctx.push(C::DeprecatedFunctionBlock, msg, r.clone());
            }
            Status::NotAScopeTerm => ctx.push(
                C::NotAScopeTerm,
                format!("Function block {id} is not something a scope can ask for."),
                r.clone(),
            ),
            Status::Unknown => ctx.push(
                C::UnknownFunctionBlock,
                format!("Function block {id} is not in the Green Button catalog (1 to 70)."),
                r.clone(),
            ),
        }
    }
    crate::model::sort_function_blocks(&mut seen);
    b.scope.function_blocks = seen;
    // Meters.
    let all = b
        .scope
        .additional_scope
        .contains(&AdditionalScope::MetersAll);
    let listed = b
        .scope
        .additional_scope
        .iter()
        .any(|a| matches!(a, AdditionalScope::Meter(_)));
    if all && listed {
        ctx.push(
            C::ConflictingMeters,
            "The scope asks for all meters and also lists single meters; all meters is used.",
            b.span.clone(),
        );
    }
    b.scope
}

/// `DIAGNOSTICS = false` leaves out diagnostics that cost code and never
/// change the value (see [`parse_value`]).
fn parse_inner<const DIAGNOSTICS: bool>(input: &str, url_component: bool, base: usize) -> Parsed {
    let mut pre: Vec<Diagnostic> = Vec::new();
    // Decode until no `%XX` escape is left (double-encoded scopes happen),
    // composing the offset maps so spans still point into `input`.
    let mut decoded: Option<(String, Vec<usize>)> = None;
    let mut levels = 0usize;
    loop {
        let cur: &str = decoded.as_ref().map_or(input, |(t, _)| t.as_str());
        let forced = url_component && levels == 0;
        if !forced && !has_valid_escape(cur) {
            break;
        }
        let d = decode_with_map(cur, true);
        let to_orig = |i: usize| -> usize {
            match &decoded {
                Some((_, m)) => m.get(i).copied().unwrap_or(input.len()),
                None => i,
            }
        };
        if levels == 0 {
            for &p in &d.bad_escapes {
                let o = to_orig(p);
                pre.push(Diagnostic::new(
                    C::InvalidPercentEncoding,
                    "A \"%\" is not followed by two hexadecimal digits; it was kept as is.",
                    o..(o + 1).min(input.len()),
                ));
            }
        }
        if d.not_utf8 {
            pre.push(Diagnostic::new(
                C::InvalidPercentEncoding,
                "Some percent-encoded bytes do not form valid text; they were replaced with \"\u{FFFD}\".",
                0..input.len(),
            ));
        }
        let map: Vec<usize> = d.map.iter().map(|&i| to_orig(i)).collect();
        decoded = Some((d.text, map));
        levels += 1;
    }
    let explicit_levels = if url_component {
        levels.saturating_sub(1)
    } else {
        levels
    };
    if explicit_levels > 0 {
        let msg = if explicit_levels > 1 {
            "The scope is percent-encoded several times over (as in a URL inside a URL); it was decoded first."
        } else if url_component {
            "The scope is percent-encoded twice; it was decoded first."
        } else {
            "The scope is percent-encoded (as in a URL); it was decoded first."
        };
        pre.push(Diagnostic::new(C::PercentEncoded, msg, 0..input.len()));
    }
    let decode = decoded.is_some();
    let (text, decoded_map): (&str, &[usize]) = match &decoded {
        Some((t, m)) => (t.as_str(), m.as_slice()),
        None => (input, &[]),
    };

    let mut ctx = Ctx {
        text,
        diags: Vec::new(),
    };

    // Characters RFC 6749 does not allow (report the first one).
    let mut bad = text
        .char_indices()
        .filter(|(_, c)| !(c.is_ascii_graphic() || is_ws_char(*c)) || *c == '"' || *c == '\\');
    if DIAGNOSTICS && let Some((i, c)) = bad.next() {
        let others = bad.count();
        let more = if others > 0 {
            format!(" (and {others} more)")
        } else {
            String::new()
        };
        ctx.push(
            C::InvalidCharacter,
            format!(
                "The character {c:?} is not allowed in an OAuth scope{more}; it was kept as is."
            ),
            i..i + c.len_utf8(),
        );
    }
    let chars = text.chars().count();
    if chars > MAX_SCOPE_LEN {
        ctx.push(
            C::TooLong,
            format!(
                "The scope is {chars} characters long; the Green Button scope field holds at most {MAX_SCOPE_LEN}."
            ),
            0..text.len(),
        );
    }

    let toks = lex(text);
    let pcs = pieces(&toks, &mut ctx);
    let grps = groups(pcs, &mut ctx);

    let mut value = ScopeValue::default();
    let mut builders: Vec<ScopeBuilder> = Vec::new();
    // Whether the last group produced an ESPI scope (so a space-separated
    // group of terms may continue it).
    let mut last_was_espi = false;
    for g in grps {
        let has_fb = g
            .terms
            .iter()
            .any(|t| term_key(&ctx, t) == Some(Key::Fb) || is_bare_fb(&ctx, t));
        let has_known = g.terms.iter().any(|t| {
            term_key(&ctx, t).is_some()
                || (t.key.is_none() && Key::from_name(ctx.slice(&t.span)).is_some())
        });
        let single_bare =
            g.terms.len() == 1 && g.terms.iter().all(|t| t.key.is_none()) && !has_known;
        if single_bare {
            push_other_scope(&mut ctx, &mut value, &g.span);
            last_was_espi = false;
            continue;
        }
        let continues = !has_fb && last_was_espi && g.sep_before == Some(Sep::Space);
        if continues && let Some(b) = builders.last_mut() {
            ctx.push(
                    C::MissingSeparator,
                    "Terms of one scope are separated by a space instead of \";\"; they were read as one scope.",
                    g.span.clone(),
                );
            b.span.end = g.span.end;
            for t in g.terms {
                apply_term(&mut ctx, b, t);
            }
            continue;
        }
        if !has_known {
            push_other_scope(&mut ctx, &mut value, &g.span);
            last_was_espi = false;
            continue;
        }
        // Split the group into scopes at each FB term.
        let mut cur = ScopeBuilder {
            span: g.span.clone(),
            ..ScopeBuilder::default()
        };
        let mut cur_has_fb_term = false;
        for t in g.terms {
            let is_fb = term_key(&ctx, &t) == Some(Key::Fb) || is_bare_fb(&ctx, &t);
            if is_fb && cur_has_fb_term {
                ctx.push(
                    C::JoinedScopes,
                    "A second \"FB=\" starts a new scope; scopes are normally separated by a space.",
                    t.span.clone(),
                );
                cur.span.end = t.span.start;
                builders.push(cur);
                cur = ScopeBuilder {
                    span: t.span.start..g.span.end,
                    ..ScopeBuilder::default()
                };
            }
            if is_fb {
                cur_has_fb_term = true;
            }
            apply_term(&mut ctx, &mut cur, t);
        }
        builders.push(cur);
        last_was_espi = true;
    }
    for b in builders {
        let s = finish_scope(&mut ctx, b);
        value.scopes.push(s);
    }
    if value.scopes.is_empty() {
        if value.other_scopes.is_empty() {
            ctx.push(
                C::EmptyInput,
                "The scope is empty, so it does not say which data is shared.",
                0..text.len(),
            );
        } else {
            ctx.push(
                C::NoEspiScope,
                "The scope has no Green Button part (no \"FB=\" term), only other OAuth scopes.",
                0..text.len(),
            );
        }
    }

    // Map spans back to the original input.
    let mut diagnostics = pre;
    for mut d in ctx.diags {
        if decode {
            let m = |i: usize| -> usize { decoded_map.get(i).copied().unwrap_or(input.len()) };
            let start = m(d.span.start);
            let end = m(d.span.end).max(start);
            d.span = start..end;
        }
        diagnostics.push(d);
    }
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

fn is_ws_char(c: char) -> bool {
    c.is_ascii() && is_ws(c as u8)
}

fn is_bare_fb(ctx: &Ctx<'_>, t: &Term) -> bool {
    t.key.is_none() && ctx.slice(&t.span).eq_ignore_ascii_case("FB")
}
