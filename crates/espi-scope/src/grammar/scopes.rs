//! From groups to scopes: which groups are ESPI scopes, which are plain
//! OAuth scope tokens, and where one ESPI scope ends.
//!
//! Rules:
//! - a group of one bare word that is not a key (`openid`), or a group
//!   without any known key, is a plain OAuth scope token;
//! - a space-separated group of terms without `FB` right after an ESPI
//!   scope continues it (`missing-separator`);
//! - a second `FB` term in a group starts a new scope (`joined-scopes`);
//! - no scope at all: `empty-input` (an error) when there is nothing else
//!   either, `no-espi-scope` when there are only plain OAuth tokens.

use core::ops::Range;

use super::Ctx;
use super::apply::{ScopeBuilder, apply_term, finish_scope};
use super::keys::Key;
use super::lex::Sep;
use super::terms::{Group, Term, is_bare_fb, term_key};
use crate::diagnostic::DiagnosticCode as C;
use crate::model::ScopeValue;

/// Reads the groups into a value.
pub(super) fn read(ctx: &mut Ctx<'_>, groups: Vec<Group>) -> ScopeValue {
    let mut value = ScopeValue::default();
    let mut builders: Vec<ScopeBuilder> = Vec::new();
    // Whether the last group produced an ESPI scope (so a space-separated
    // group of terms may continue it).
    let mut last_was_espi = false;
    for g in groups {
        last_was_espi = read_group(ctx, g, &mut value, &mut builders, last_was_espi);
    }
    for b in builders {
        let s = finish_scope(ctx, b);
        value.scopes.push(s);
    }
    if value.scopes.is_empty() {
        report_no_scope(ctx, &value);
    }
    value
}

/// Reads one group; true when it was (or continued) an ESPI scope.
fn read_group(
    ctx: &mut Ctx<'_>,
    g: Group,
    value: &mut ScopeValue,
    builders: &mut Vec<ScopeBuilder>,
    last_was_espi: bool,
) -> bool {
    let has_fb = g.terms.iter().any(|t| is_fb(ctx, t));
    let has_known = g.terms.iter().any(|t| {
        term_key(ctx, t).is_some()
            || (t.key.is_none() && Key::from_name(ctx.slice(&t.span)).is_some())
    });
    let single_bare = g.terms.len() == 1 && g.terms.iter().all(|t| t.key.is_none()) && !has_known;
    if single_bare {
        push_other_scope(ctx, value, &g.span);
        return false;
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
            apply_term(ctx, b, t);
        }
        return true;
    }
    if !has_known {
        push_other_scope(ctx, value, &g.span);
        return false;
    }
    split_at_fb(ctx, g, builders);
    true
}

fn is_fb(ctx: &Ctx<'_>, t: &Term) -> bool {
    term_key(ctx, t) == Some(Key::Fb) || is_bare_fb(ctx, t)
}

/// The scopes of a group: a new one at each `FB` term after the first.
fn split_at_fb(ctx: &mut Ctx<'_>, g: Group, builders: &mut Vec<ScopeBuilder>) {
    let mut cur = ScopeBuilder::new(g.span.clone());
    let mut cur_has_fb_term = false;
    for t in g.terms {
        let fb = is_fb(ctx, &t);
        if fb && cur_has_fb_term {
            ctx.push(
                C::JoinedScopes,
                "A second \"FB=\" starts a new scope; scopes are normally separated by a space.",
                t.span.clone(),
            );
            cur.span.end = t.span.start;
            builders.push(cur);
            cur = ScopeBuilder::new(t.span.start..g.span.end);
        }
        cur_has_fb_term |= fb;
        apply_term(ctx, &mut cur, t);
    }
    builders.push(cur);
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

fn report_no_scope(ctx: &mut Ctx<'_>, value: &ScopeValue) {
    let len = ctx.text.len();
    if value.other_scopes.is_empty() {
        ctx.push(
            C::EmptyInput,
            "The scope is empty, so it does not say which data is shared.",
            0..len,
        );
    } else {
        ctx.push(
            C::NoEspiScope,
            "The scope has no Green Button part (no \"FB=\" term), only other OAuth scopes.",
            0..len,
        );
    }
}
