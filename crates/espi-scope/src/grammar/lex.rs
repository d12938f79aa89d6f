//! Lexing: tokens, then pieces (raw terms and separators).
//!
//! Rules:
//! - `;` separates terms, `|` and spaces separate scopes; a `,` is an old
//!   separator, of terms or of list items (see [`super::terms`]);
//! - spaces are padding at the ends, next to `;` `,` `|`, and around the
//!   `=` of a *known* key (`HistoryLength = 13`): `extra-whitespace`.
//!   Anywhere else a space separates OAuth scope tokens (RFC 6749).

use super::{Ctx, is_known_key};
use crate::diagnostic::DiagnosticCode as C;

/// A token: byte offsets into the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tok {
    Word(usize, usize),
    Eq(usize),
    Semi(usize),
    Comma(usize),
    Pipe(usize),
    Ws(usize, usize),
}

/// The whitespace the reader trims (vertical tab and form feed included).
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// [`is_ws`] for a `char`.
pub(super) fn is_ws_char(c: char) -> bool {
    c.is_ascii() && is_ws(c as u8)
}

/// Splits the text into words, `=`, `;`, `,`, `|` and whitespace runs.
pub(super) fn lex(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let one = match c {
            b'=' => Some(Tok::Eq(i)),
            b';' => Some(Tok::Semi(i)),
            b',' => Some(Tok::Comma(i)),
            b'|' => Some(Tok::Pipe(i)),
            _ => None,
        };
        if let Some(t) = one {
            toks.push(t);
            i += 1;
            continue;
        }
        let s = i;
        if is_ws(c) {
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            toks.push(Tok::Ws(s, i));
        } else {
            while i < b.len() && !matches!(b[i], b'=' | b';' | b',' | b'|') && !is_ws(b[i]) {
                i += 1;
            }
            toks.push(Tok::Word(s, i));
        }
    }
    toks
}

/// A separator between terms or scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sep {
    Semi,
    Comma,
    Pipe,
    Space,
}

/// A raw term: tokens between separators.
#[derive(Debug, Clone)]
pub(super) struct RawTerm {
    pub(super) start: usize,
    pub(super) end: usize,
    /// Byte positions of `=` signs inside the term.
    pub(super) eqs: Vec<usize>,
}

/// A raw term or a separator (with its byte range).
#[derive(Debug, Clone)]
pub(super) enum Piece {
    Term(RawTerm),
    Sep(Sep, usize, usize),
}

/// Joins tokens into raw terms and separators; whitespace is a separator
/// or padding (see the module rules).
pub(super) fn pieces(toks: &[Tok], ctx: &mut Ctx<'_>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut cur: Option<RawTerm> = None;
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
                flush(&mut cur, &mut out);
                let sep = match *t {
                    Tok::Semi(_) => Sep::Semi,
                    Tok::Comma(_) => Sep::Comma,
                    _ => Sep::Pipe,
                };
                out.push(Piece::Sep(sep, p, p + 1));
            }
            Tok::Ws(s, e) => {
                if is_padding(toks, idx, ctx.text) {
                    ctx.push(C::ExtraWhitespace, padding_message(toks, idx), s..e);
                } else {
                    flush(&mut cur, &mut out);
                    out.push(Piece::Sep(Sep::Space, s, e));
                }
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut Option<RawTerm>, out: &mut Vec<Piece>) {
    if let Some(term) = cur.take() {
        out.push(Piece::Term(term));
    }
}

/// Whether the whitespace token `toks[idx]` is padding: at the ends, next
/// to `;` `,` `|`, or around the `=` of a known key.
fn is_padding(toks: &[Tok], idx: usize, text: &str) -> bool {
    let prev = if idx == 0 { None } else { toks.get(idx - 1) };
    let next = toks.get(idx + 1);
    let known = |t: Option<&Tok>| match t {
        Some(Tok::Word(ws, we)) => text.get(*ws..*we).is_some_and(is_known_key),
        _ => false,
    };
    match (prev, next) {
        (None, _) | (_, None) => true,
        (Some(Tok::Semi(_) | Tok::Comma(_) | Tok::Pipe(_)), _)
        | (_, Some(Tok::Semi(_) | Tok::Comma(_) | Tok::Pipe(_))) => true,
        // After `=`: the word before it (maybe across padding) is a key.
        (Some(Tok::Eq(_)), _) => {
            let mut j = idx.saturating_sub(2);
            if matches!(toks.get(j), Some(Tok::Ws(..))) {
                j = j.saturating_sub(1);
            }
            idx >= 2 && known(toks.get(j))
        }
        (Some(Tok::Word(..)), Some(Tok::Eq(_))) => known(prev),
        _ => false,
    }
}

fn padding_message(toks: &[Tok], idx: usize) -> &'static str {
    if idx == 0 || idx + 1 == toks.len() {
        "Spaces at the start or end of the scope are ignored."
    } else {
        "Spaces around \"=\" or \";\" are not part of the scope syntax; they were ignored."
    }
}
