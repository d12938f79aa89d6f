//! Building and reading OAuth 2.0 authorization URLs (RFC 6749 §4.1.1).
//!
//! ```
//! use espi_scope::authorization_url::AuthorizationRequest;
//! let req = AuthorizationRequest {
//!     endpoint: "https://utility.example/oauth/authorize".into(),
//!     response_type: "code".into(),
//!     client_id: "third-party".into(),
//!     redirect_uri: "https://app.example/cb".into(),
//!     scope: "FB=4_16;HistoryLength=63072000".into(),
//!     state: Some("xyz".into()),
//!     code_challenge: None,
//!     code_challenge_method: None,
//! };
//! let url = req.to_url();
//! assert_eq!(url, "https://utility.example/oauth/authorize?response_type=code&client_id=third-party&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=FB%3D4_16%3BHistoryLength%3D63072000&state=xyz");
//! let (back, diags) = AuthorizationRequest::from_url(&url);
//! assert_eq!(back, Some(req));
//! assert!(diags.is_empty());
//! ```

use core::fmt;
use core::ops::Range;

use crate::diagnostic::{Diagnostic, DiagnosticCode as C};
use crate::grammar;

/// The parameters of an authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthorizationRequest {
    /// The authorization endpoint (may already have a query).
    pub endpoint: String,
    /// `code` for the authorization code grant.
    pub response_type: String,
    /// The third party's client id.
    pub client_id: String,
    /// Where to send the customer back.
    pub redirect_uri: String,
    /// The scope value (decoded).
    pub scope: String,
    /// Opaque value against CSRF.
    pub state: Option<String>,
    /// PKCE challenge (RFC 7636).
    pub code_challenge: Option<String>,
    /// PKCE method, normally `S256`.
    pub code_challenge_method: Option<String>,
}

/// Percent-encodes everything but RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`); a space becomes `%20`.
pub fn percent_encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// Why percent-decoding failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PercentDecodeError {
    /// A `%` at this byte offset is not followed by two hex digits.
    InvalidEscape(usize),
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl fmt::Display for PercentDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PercentDecodeError::InvalidEscape(at) => write!(
                f,
                "the \"%\" at byte {at} is not followed by two hexadecimal digits"
            ),
            PercentDecodeError::NotUtf8 => f.write_str("the decoded bytes are not valid UTF-8"),
        }
    }
}

impl std::error::Error for PercentDecodeError {}

fn decode(s: &str, plus_as_space: bool) -> Result<String, PercentDecodeError> {
    let d = grammar::decode_with_map(s, plus_as_space);
    if let Some(&at) = d.bad_escapes.first() {
        return Err(PercentDecodeError::InvalidEscape(at));
    }
    if d.not_utf8 {
        return Err(PercentDecodeError::NotUtf8);
    }
    Ok(d.text)
}

/// Decodes `%XX` escapes (a `+` stays a `+`).
///
/// # Errors
///
/// `"100%"` and `"%G1"` ([`PercentDecodeError::InvalidEscape`]), `"%FF"`
/// ([`PercentDecodeError::NotUtf8`]).
pub fn percent_decode(s: &str) -> Result<String, PercentDecodeError> {
    decode(s, false)
}

/// Decodes an `application/x-www-form-urlencoded` value: `%XX` escapes and
/// `+` as a space.
///
/// # Errors
///
/// As [`percent_decode`].
pub fn form_decode(s: &str) -> Result<String, PercentDecodeError> {
    decode(s, true)
}

const PARAMS: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

impl AuthorizationRequest {
    /// The URL: the endpoint, then `response_type`, `client_id`,
    /// `redirect_uri`, `scope`, and the optional `state`, `code_challenge`,
    /// `code_challenge_method`, each percent-encoded.
    pub fn to_url(&self) -> String {
        let mut url = self.endpoint.clone();
        let mut sep = if url.contains('?') {
            if url.ends_with('?') || url.ends_with('&') {
                ""
            } else {
                "&"
            }
        } else {
            "?"
        };
        let mut push = |k: &str, v: &str| {
            url.push_str(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&percent_encode_component(v));
            sep = "&";
        };
        push("response_type", &self.response_type);
        push("client_id", &self.client_id);
        push("redirect_uri", &self.redirect_uri);
        push("scope", &self.scope);
        if let Some(s) = &self.state {
            push("state", s);
        }
        if let Some(s) = &self.code_challenge {
            push("code_challenge", s);
        }
        if let Some(s) = &self.code_challenge_method {
            push("code_challenge_method", s);
        }
        url
    }

    /// Reads an authorization URL. Returns the request when every required
    /// parameter (`response_type`, `client_id`, `redirect_uri`, `scope`) is
    /// present, plus diagnostics about the URL and about its scope, with
    /// spans into `url`. Unknown parameters stay in the endpoint.
    ///
    /// # Errors
    ///
    /// Never fails; problems are diagnostics: `"https://u.example/authorize"`
    /// (invalid-url: no query), `"https://u.example/a?client_id=x"`
    /// (missing-parameter), `"...?scope=FB%3D4&scope=FB%3D5"`
    /// (duplicate-parameter), `"...&response_type=token"`
    /// (unsupported-response-type), and every scope diagnostic of
    /// [`grammar::parse`].
    pub fn from_url(url: &str) -> (Option<AuthorizationRequest>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let Some(parts) = UrlParts::of(url) else {
            diags.push(Diagnostic::new(
                C::InvalidUrl,
                "This is not an authorization URL: it has no \"?\" followed by parameters.",
                0..url.len(),
            ));
            return (None, diags);
        };
        let query = Query::read(parts.query, parts.query_start, &mut diags);
        let query_span = parts.query_start..parts.query_start + parts.query.len();
        let missing = query.check(query_span, &mut diags);
        if let Some((off, raw)) = query.scope_raw {
            let parsed = grammar::parse_component(raw, off);
            diags.extend(parsed.diagnostics);
        }
        crate::diagnostic::sort_by_span(&mut diags);
        if missing {
            return (None, diags);
        }
        (Some(query.into_request(parts.endpoint)), diags)
    }
}

/// `endpoint?query#fragment`, spaces at the ends of the URL ignored.
struct UrlParts<'u> {
    endpoint: &'u str,
    query: &'u str,
    /// Byte offset of the query in the URL.
    query_start: usize,
}

impl<'u> UrlParts<'u> {
    /// `None` when the URL has no `?`.
    fn of(url: &'u str) -> Option<UrlParts<'u>> {
        let trimmed_end = url.trim_end().len();
        let lead = url.len() - url.trim_start().len();
        let url_body = url.get(lead..trimmed_end).unwrap_or("");
        let q = url_body.find('?')?;
        let query_start = lead + q + 1;
        let query_end = url_body
            .get(q + 1..)
            .and_then(|rest| rest.find('#'))
            .map_or(trimmed_end, |h| query_start + h);
        Some(UrlParts {
            endpoint: url_body.get(..q).unwrap_or(""),
            query: url.get(query_start..query_end).unwrap_or(""),
            query_start,
        })
    }
}

/// The parameters of a query: the known ones (in [`PARAMS`] order,
/// decoded), the other pairs as written, and the raw scope with its offset.
#[derive(Default)]
struct Query<'u> {
    values: [Option<String>; 7],
    extra: Vec<&'u str>,
    scope_raw: Option<(usize, &'u str)>,
}

impl<'u> Query<'u> {
    /// Reads the `&`-separated pairs of `query` (at `query_start` in the URL).
    fn read(query: &'u str, query_start: usize, diags: &mut Vec<Diagnostic>) -> Query<'u> {
        let mut q = Query::default();
        let mut pos = query_start;
        for pair in query.split('&') {
            let pair_start = pos;
            pos += pair.len() + 1;
            if !pair.is_empty() {
                q.read_pair(pair, pair_start, diags);
            }
        }
        q
    }

    /// One `key=value` pair. A known parameter given twice keeps the first
    /// (`duplicate-parameter`); a value with a bad `%` escape is
    /// `invalid-percent-encoding` (for the scope, its own diagnostics say so).
    fn read_pair(&mut self, pair: &'u str, pair_start: usize, diags: &mut Vec<Diagnostic>) {
        let (k_raw, v_raw, v_off) = match pair.find('=') {
            Some(i) => (
                pair.get(..i).unwrap_or(""),
                pair.get(i + 1..).unwrap_or(""),
                i + 1,
            ),
            None => (pair, "", pair.len()),
        };
        let key = form_decode(k_raw).unwrap_or_else(|_| k_raw.to_string());
        let Some(idx) = PARAMS.iter().position(|p| *p == key) else {
            self.extra.push(pair);
            return;
        };
        let span = pair_start..pair_start + pair.len();
        if self.values[idx].is_some() {
            diags.push(Diagnostic::new(
                C::DuplicateParameter,
                format!(
                    "The parameter \"{key}\" appears more than once; OAuth does not allow that."
                ),
                span,
            ));
            return;
        }
        if key == "scope" {
            self.scope_raw = Some((pair_start + v_off, v_raw));
        }
        let value = form_decode(v_raw).unwrap_or_else(|_| {
            if key != "scope" {
                diags.push(Diagnostic::new(
                    C::InvalidPercentEncoding,
                    format!("The parameter \"{key}\" has a \"%\" that is not followed by two hexadecimal digits."),
                    span,
                ));
            }
            grammar::decode_with_map(v_raw, true).text
        });
        self.values[idx] = Some(value);
    }

    /// `missing-parameter` for each required parameter not given (then
    /// true), `unsupported-response-type`, `missing-state`; spans: the query.
    fn check(&self, span: Range<usize>, diags: &mut Vec<Diagnostic>) -> bool {
        let mut missing = false;
        for (name, v) in PARAMS.iter().zip(&self.values).take(4) {
            if v.is_none() {
                missing = true;
                let why = if *name == "scope" {
                    " Without a scope the utility cannot know which data is asked for."
                } else {
                    ""
                };
                let msg = format!("The URL has no \"{name}\" parameter.{why}");
                diags.push(Diagnostic::new(C::MissingParameter, msg, span.clone()));
            }
        }
        if let Some(rt) = &self.values[0]
            && rt != "code"
        {
            let msg = format!("response_type is \"{rt}\"; Green Button uses \"code\".");
            diags.push(Diagnostic::new(
                C::UnsupportedResponseType,
                msg,
                span.clone(),
            ));
        }
        if self.values[4].is_none() {
            diags.push(Diagnostic::new(
                C::MissingState,
                "The URL has no \"state\" parameter, which protects the customer against forged requests.",
                span,
            ));
        }
        missing
    }

    /// The request (every required parameter present); unknown parameters
    /// stay in the endpoint.
    fn into_request(self, endpoint_base: &str) -> AuthorizationRequest {
        let mut endpoint = endpoint_base.to_string();
        for (i, e) in self.extra.iter().enumerate() {
            endpoint.push(if i == 0 { '?' } else { '&' });
            endpoint.push_str(e);
        }
        let [
            response_type,
            client_id,
            redirect_uri,
            scope,
            state,
            code_challenge,
            method,
        ] = self.values;
        AuthorizationRequest {
            endpoint,
            response_type: response_type.unwrap_or_default(),
            client_id: client_id.unwrap_or_default(),
            redirect_uri: redirect_uri.unwrap_or_default(),
            scope: scope.unwrap_or_default(),
            state,
            code_challenge,
            code_challenge_method: method,
        }
    }
}
