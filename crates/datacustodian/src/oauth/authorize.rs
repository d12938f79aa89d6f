//! `GET /oauth/authorize`: validates the request, records it under a
//! single-use request id and sends the browser (303) to the consent page.
//!
//! An unknown client, a missing or unregistered `redirect_uri` (exact string
//! match) gives an HTML error page (400), never a redirect. Every other
//! problem redirects to the client with `error`, `error_description`,
//! `state` and `iss` (RFC 9207).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::redirect_with;
use crate::AppState;
use crate::error::AuthorizeError;
use crate::scope::{parse_request_scope, scope_error_description, within_registered};
use crate::security::headers::session_cookie;
use crate::security::secrets::{Purpose, new_id, new_secret};
use crate::store::AuthRequest;
use espi_scope::pkce::is_pkce_string;

const MAX_STATE: usize = 2048;

fn page(msg: impl Into<String>) -> AuthorizeError {
    AuthorizeError::Page(StatusCode::BAD_REQUEST, msg.into())
}

/// The handler.
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, AuthorizeError> {
    let query = query.unwrap_or_default();
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        params
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned());
    }
    let single = |name: &str| -> Result<Option<&str>, String> {
        match params.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([v]) if v.is_empty() => Ok(None),
            Some([v]) => Ok(Some(v.as_str())),
            Some(_) => Err(format!("the parameter {name} is repeated")),
        }
    };

    // 1. Who is asking, and where would we send the answer? Failures here
    //    must not redirect anywhere.
    let client_id = single("client_id")
        .map_err(page)?
        .ok_or_else(|| page("The request has no client_id."))?;
    let client = if client_id.len() <= 256 {
        state.store().client(client_id).await?
    } else {
        None
    };
    let client =
        client.ok_or_else(|| page("The application that sent you here is not registered."))?;
    let redirect_uri = single("redirect_uri")
        .map_err(page)?
        .ok_or_else(|| page("The request has no redirect_uri."))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(page(
            "The redirect address in this request is not registered for this application.",
        ));
    }

    // 2. From here on, errors go back to the client.
    let iss = state.config().public_url.clone();
    let state_param = single("state").ok().flatten().map(str::to_string);
    let fail = |error: &str, description: &str| -> AuthorizeError {
        let mut p: Vec<(&str, &str)> = vec![("error", error), ("error_description", description)];
        if let Some(s) = state_param.as_deref()
            && s.len() <= MAX_STATE
        {
            p.push(("state", s));
        }
        p.push(("iss", &iss));
        AuthorizeError::Redirect(redirect_with(redirect_uri, &p))
    };

    if let Some((name, _)) = params.iter().find(|(_, v)| v.len() > 1) {
        return Err(fail(
            "invalid_request",
            &format!("the parameter {name} is repeated"),
        ));
    }
    if state_param.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(fail("invalid_request", "state is too long"));
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail(
            "unauthorized_client",
            "this client may not use the authorization code flow",
        ));
    }
    match single("response_type").ok().flatten() {
        None => return Err(fail("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    let Some(raw_scope) = single("scope").ok().flatten() else {
        return Err(fail(
            "invalid_scope",
            "the scope is missing: send the ESPI scope you need (nothing is granted by default)",
        ));
    };
    let scope = match parse_request_scope(raw_scope) {
        Ok(s) => s,
        Err(e) => return Err(fail("invalid_scope", &scope_error_description(&e))),
    };
    if !within_registered(&scope, &client.scopes) {
        return Err(fail(
            "invalid_scope",
            "the scope is wider than the scopes registered for this client",
        ));
    }

    // PKCE: S256 only.
    let challenge = single("code_challenge").ok().flatten();
    let method = single("code_challenge_method").ok().flatten();
    let code_challenge = match (challenge, method) {
        (None, None) => None,
        (_, Some("plain")) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method plain is not supported: use S256",
            ));
        }
        (_, Some(m)) if m != "S256" => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        (Some(_), None) => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method=S256 is required with a code_challenge (plain is not supported)",
            ));
        }
        (None, Some(_)) => {
            return Err(fail("invalid_request", "code_challenge is missing"));
        }
        (Some(c), Some(_)) => {
            if c.len() != 43 || !is_pkce_string(c) {
                return Err(fail(
                    "invalid_request",
                    "code_challenge must be the 43-character base64url SHA-256 of the verifier",
                ));
            }
            Some(c.to_string())
        }
    };

    if client.require_pkce && code_challenge.is_none() {
        return Err(fail(
            "invalid_request",
            "this client must use PKCE: send code_challenge with code_challenge_method=S256",
        ));
    }

    // 3. Record the request. If the browser already has a live consent
    //    session, bind the request to it now; otherwise the first session
    //    that reads it is bound.
    //    Only when the consent page is this server's: a portal on another
    //    origin embeds the widget, whose session travels in a header.
    let now = state.now();
    let cookie = session_cookie(&headers, state.config().session_cookie_name())
        .filter(|_| consent_page_is_ours(state.config()));
    let session_id = match cookie {
        Some(v) => state
            .store()
            .session_by_token(&state.key().hash(Purpose::Session, &v), now)
            .await?
            .map(|s| s.session_id),
        None => None,
    };
    let request_id = new_secret();
    let record = AuthRequest {
        request_key: new_id(),
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_string(),
        state: state_param.clone(),
        scope: scope.to_string(),
        code_challenge,
        session_id,
        created_at: now,
        expires_at: now + state.config().request_lifetime as i64,
        decided_at: None,
        outcome: None,
    };
    state
        .store()
        .insert_request(&record, &state.key().hash(Purpose::Request, &request_id))
        .await?;
    let page = &state.config().consent_page;
    let sep = if page.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{page}{sep}request={request_id}")).into_response())
}

/// Whether the consent page is served by this server (a path, or a URL on
/// the public origin), where the session cookie is first-party.
fn consent_page_is_ours(config: &crate::Config) -> bool {
    let page = config.consent_page.as_str();
    page.starts_with('/') && !page.starts_with("//")
        || page
            .strip_prefix(config.public_url.trim_end_matches('/'))
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
}
