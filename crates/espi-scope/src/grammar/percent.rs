//! Percent-decoding with an offset map, so that spans found in the decoded
//! text still point into the original input.
//!
//! Rules:
//! - input with a valid `%XX` escape is decoded, `+` as a space, and decoded
//!   again until no escape is left (double-encoded scopes happen):
//!   `percent-encoded`;
//! - the raw text of a URL query parameter is always decoded once, and only
//!   further levels are reported;
//! - a `%` without two hex digits is kept as is (`invalid-percent-encoding`,
//!   reported for the first level only);
//! - decoded bytes that are not UTF-8 become U+FFFD
//!   (`invalid-percent-encoding`).

use crate::diagnostic::{Diagnostic, DiagnosticCode as C};

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
    /// Decoded bytes were not UTF-8 (replaced with U+FFFD).
    pub not_utf8: bool,
}

/// One level of decoding: `%XX` escapes (and `+` when `plus_as_space`).
pub(crate) fn decode_with_map(input: &str, plus_as_space: bool) -> Decoded {
    let (out, map, bad_escapes) = unescape(input.as_bytes(), plus_as_space);
    let (text, map, not_utf8) = to_text(&out, &map, input.len());
    Decoded {
        text,
        map,
        bad_escapes,
        not_utf8,
    }
}

/// The unescaped bytes, the original offset of each, and the offsets of
/// `%` signs without two hex digits.
fn unescape(bytes: &[u8], plus_as_space: bool) -> (Vec<u8>, Vec<usize>, Vec<usize>) {
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
    (out, map, bad_escapes)
}

/// The bytes as text, each sequence that is not UTF-8 replaced with U+FFFD
/// (mapped to the original offset of its first byte); the map gets one
/// entry per byte of the text plus `orig_len` at the end.
fn to_text(out: &[u8], map: &[usize], orig_len: usize) -> (String, Vec<usize>, bool) {
    let mut text = String::with_capacity(out.len());
    let mut tmap: Vec<usize> = Vec::with_capacity(out.len() + 1);
    let mut not_utf8 = false;
    let mut rest: &[u8] = out;
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
                let at = map.get(base + valid).copied().unwrap_or(orig_len);
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
    tmap.push(orig_len);
    (text, tmap, not_utf8)
}

/// True when `input` holds a `%` followed by two hex digits.
pub(crate) fn has_valid_escape(input: &str) -> bool {
    let b = input.as_bytes();
    b.windows(3)
        .any(|w| w[0] == b'%' && hex_val(w[1]).is_some() && hex_val(w[2]).is_some())
}

/// Decodes every level of percent-encoding (see the module rules): the
/// decoded text and the map from its bytes to `input`'s, or `None` when
/// `input` is read as it is. Diagnostics (spans into `input`) go to `pre`.
pub(super) fn decode_levels(
    input: &str,
    url_component: bool,
    pre: &mut Vec<Diagnostic>,
) -> Option<(String, Vec<usize>)> {
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
            report_bad_escapes(&d.bad_escapes, input.len(), pre);
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
    report_levels(levels, url_component, input.len(), pre);
    decoded
}

/// `invalid-percent-encoding` for each `%` of the first level (whose
/// offsets are the original's) without two hex digits.
fn report_bad_escapes(bad_escapes: &[usize], input_len: usize, pre: &mut Vec<Diagnostic>) {
    for &o in bad_escapes {
        pre.push(Diagnostic::new(
            C::InvalidPercentEncoding,
            "A \"%\" is not followed by two hexadecimal digits; it was kept as is.",
            o..(o + 1).min(input_len),
        ));
    }
}

/// `percent-encoded`, once, when the input was decoded (a URL component:
/// when it was decoded more than the once its URL calls for).
fn report_levels(levels: usize, url_component: bool, input_len: usize, pre: &mut Vec<Diagnostic>) {
    let explicit_levels = if url_component {
        levels.saturating_sub(1)
    } else {
        levels
    };
    if explicit_levels == 0 {
        return;
    }
    let msg = if explicit_levels > 1 {
        "The scope is percent-encoded several times over (as in a URL inside a URL); it was decoded first."
    } else if url_component {
        "The scope is percent-encoded twice; it was decoded first."
    } else {
        "The scope is percent-encoded (as in a URL); it was decoded first."
    };
    pre.push(Diagnostic::new(C::PercentEncoded, msg, 0..input_len));
}
