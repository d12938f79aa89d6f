//! Terms (key and values) and groups (the terms of one OAuth scope token).
//!
//! Rules:
//! - a term is `key=value`, or a bare word; the first `=` ends the key;
//! - terms run together (`FB=4_5IntervalDuration=900`) are split before a
//!   known key (`missing-separator`);
//! - a comma followed by a plain item continues a list (`FB=4,5,15`);
//!   followed by `key=value` it separates terms (`comma-separator` either
//!   way);
//! - `;;`, a leading `;` and `||` are empty terms (`empty-term`); a `;` or
//!   `|` at the end is a `trailing-separator`; `|` joining scopes is a
//!   `pipe-separator`.

use core::ops::Range;

use super::Ctx;
use super::keys::Key;
use super::lex::{Piece, RawTerm, Sep, is_ws_char};
use crate::diagnostic::DiagnosticCode as C;

/// A term with key and value(s) resolved.
#[derive(Debug, Clone)]
pub(super) struct Term {
    pub(super) span: Range<usize>,
    /// `None` for a bare word.
    pub(super) key: Option<Range<usize>>,
    /// Value segments (more than one only for comma-continued lists).
    pub(super) values: Vec<Range<usize>>,
}

/// The known key of a `key=value` term.
pub(super) fn term_key(ctx: &Ctx<'_>, t: &Term) -> Option<Key> {
    t.key.as_ref().and_then(|k| Key::from_name(ctx.slice(k)))
}

/// True for a bare `FB` word (an `FB` term without `=`).
pub(super) fn is_bare_fb(ctx: &Ctx<'_>, t: &Term) -> bool {
    t.key.is_none() && ctx.slice(&t.span).eq_ignore_ascii_case("FB")
}

/// `r` without whitespace at either end.
fn trim(text: &str, r: Range<usize>) -> Range<usize> {
    let s = text.get(r.clone()).unwrap_or("");
    let lead = s.len() - s.trim_start_matches(is_ws_char).len();
    let trail = s.len() - s.trim_end_matches(is_ws_char).len();
    let start = r.start + lead;
    let end = r.end.saturating_sub(trail).max(start);
    start..end
}

/// Splits a raw term into key/value, splitting run-together terms
/// (`FB=4_5IntervalDuration=900`) at known keys.
fn resolve_term(raw: &RawTerm, ctx: &mut Ctx<'_>) -> Vec<Term> {
    let text = ctx.text;
    let Some(&first_eq) = raw.eqs.first() else {
        return vec![Term {
            span: raw.start..raw.end,
            key: None,
            values: Vec::new(),
        }];
    };
    let mut terms = Vec::new();
    let mut key = trim(text, raw.start..first_eq);
    let mut term_start = raw.start;
    let mut value_start = first_eq + 1;
    for &eq in raw.eqs.iter().skip(1) {
        let seg = text.get(value_start..eq).unwrap_or("");
        let seg_trimmed = seg.trim_end_matches(is_ws_char);
        let Some(n) = Key::suffix_len(seg_trimmed) else {
            continue;
        };
        let key_start = value_start + seg_trimmed.len() - n;
        let key_end = value_start + seg_trimmed.len();
        terms.push(Term {
            span: term_start..key_start,
            key: Some(key),
            values: vec![trim(text, value_start..key_start)],
        });
        let msg = format!(
            "\"{}\" follows the previous value without a \";\" between them; it was read as a new term.",
            text.get(key_start..key_end).unwrap_or("")
        );
        ctx.push(C::MissingSeparator, msg, key_start..eq + 1);
        key = key_start..key_end;
        term_start = key_start;
        value_start = eq + 1;
    }
    terms.push(Term {
        span: term_start..raw.end,
        key: Some(key),
        values: vec![trim(text, value_start..raw.end)],
    });
    terms
}

/// The terms between two scope separators (space or `|`).
pub(super) struct Group {
    pub(super) span: Range<usize>,
    /// The separator before this group (Space or Pipe), if any.
    pub(super) sep_before: Option<Sep>,
    pub(super) terms: Vec<Term>,
}

impl Group {
    fn extend(&mut self, terms: impl Iterator<Item = Term>) {
        for t in terms {
            self.span.end = t.span.end;
            self.terms.push(t);
        }
    }
}

/// Groups the pieces' terms (see the module rules).
pub(super) fn groups(pieces: Vec<Piece>, ctx: &mut Ctx<'_>) -> Vec<Group> {
    let mut g = Grouper {
        ctx,
        groups: Vec::new(),
        cur: None,
        pending_sep: None,
        at_group_start: true,
        sep_before: None,
        last_pipe: None,
    };
    for piece in pieces {
        match piece {
            Piece::Term(raw) => g.term(&raw),
            Piece::Sep(sep @ (Sep::Semi | Sep::Comma), s, _) => g.term_separator(sep, s),
            Piece::Sep(sep, s, e) => g.scope_separator(sep, s, e),
        }
    }
    g.end()
}

struct Grouper<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    groups: Vec<Group>,
    cur: Option<Group>,
    /// The last `;`/`,` of the current group with no term after it yet.
    pending_sep: Option<(Sep, usize)>,
    at_group_start: bool,
    sep_before: Option<Sep>,
    last_pipe: Option<usize>,
}

impl Grouper<'_, '_> {
    fn term(&mut self, raw: &RawTerm) {
        let mut resolved = resolve_term(raw, self.ctx).into_iter();
        let Some(first) = resolved.next() else {
            return;
        };
        if self.continues_list(&first)
            && let Some(g) = self.cur.as_mut()
        {
            // Comma continuation of a list: `FB=4,5,15`.
            if let Some(last) = g.terms.last_mut() {
                last.values.push(first.span.clone());
                last.span.end = first.span.end;
            }
            g.span.end = first.span.end;
            self.pending_sep = None;
            g.extend(resolved);
            return;
        }
        self.pending_sep = None;
        self.at_group_start = false;
        let g = self.cur.get_or_insert(Group {
            span: first.span.clone(),
            sep_before: self.sep_before.take(),
            terms: Vec::new(),
        });
        g.extend(core::iter::once(first).chain(resolved));
    }

    /// A bare item after a `,` that follows a list term continues the list.
    fn continues_list(&self, first: &Term) -> bool {
        let (Some((Sep::Comma, _)), Some(g)) = (self.pending_sep, self.cur.as_ref()) else {
            return false;
        };
        let prev_is_list = g
            .terms
            .last()
            .and_then(|t| t.key.as_ref())
            .and_then(|k| Key::from_name(self.ctx.slice(k)))
            .is_some_and(Key::is_list);
        first.key.is_none() && prev_is_list
    }

    /// A `;` or `,` (`comma-separator`; `empty-term` when nothing precedes
    /// it in its group).
    fn term_separator(&mut self, sep: Sep, s: usize) {
        if sep == Sep::Comma {
            self.ctx.push(
                C::CommaSeparator,
                "A comma is used as a separator (an old form); \";\" separates terms and \"_\" separates list items.",
                s..s + 1,
            );
        }
        if self.at_group_start || self.pending_sep.is_some() {
            self.ctx.push(
                C::EmptyTerm,
                "An empty term (two separators in a row, or a separator at the start) was ignored.",
                s..s + 1,
            );
        }
        self.pending_sep = Some((sep, s));
    }

    /// A space or `|`: ends the current group.
    fn scope_separator(&mut self, sep: Sep, s: usize, e: usize) {
        if sep == Sep::Pipe {
            self.ctx.push(
                C::PipeSeparator,
                "Scopes are joined with \"|\"; OAuth separates scopes with a space.",
                s..e,
            );
            if self.cur.is_none() {
                let msg = "An empty scope before \"|\" was ignored.";
                self.ctx.push(C::EmptyTerm, msg, s..e);
            }
            self.last_pipe = Some(s);
        } else {
            self.last_pipe = None;
        }
        self.finish();
        self.at_group_start = true;
        self.sep_before = Some(sep);
    }

    /// Closes the current group (`trailing-separator` for a `;` or `,` at
    /// its end).
    fn finish(&mut self) {
        if let Some((_, p)) = self.pending_sep.take()
            && self.cur.is_some()
        {
            self.ctx.push(
                C::TrailingSeparator,
                "The scope ends with a separator; it was ignored.",
                p..p + 1,
            );
        }
        if let Some(g) = self.cur.take() {
            self.groups.push(g);
        }
    }

    fn end(mut self) -> Vec<Group> {
        if let (Some(p), None) = (self.last_pipe, self.cur.as_ref()) {
            self.ctx.push(
                C::TrailingSeparator,
                "The scope ends with \"|\"; it was ignored.",
                p..p + 1,
            );
        }
        self.finish();
        self.groups
    }
}
