//! Sign-in for "Your data sharing" (`/consent/sharing`), where there is no
//! authorization request: the same password and one-time code handlers,
//! under `/api/customer/sign-in/…`, on the browser's consent session.
//!
//! [`SignInTarget`] is what those handlers sign in for: the path's pending
//! request (the consent flow) or, on the customer routes, the session
//! itself. A session's challenges carry the key `sharing:{session_id}`
//! (never a request's key, which is random hex), so a code of one session
//! or request never verifies on another. The same throttles per username,
//! IP, identity and contact apply; there is no per-request cap (a session
//! costs nothing to renew, so the per-IP and per-identity limits are the
//! bound).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use consent_api::{CustomerSession, SignIn};

use super::extract::Pending;
use super::{Bound, Carrier, current_session, customer_view, new_session};
use crate::AppState;
use crate::error::ApiError;
use crate::security::csrf;
use crate::store::AuthRequest;

/// The prefix of a session's sign-in key.
const SHARING: &str = "sharing:";

/// True for the sign-in key of a session (no request, no per-request cap).
pub fn is_session_key(request_key: &str) -> bool {
    request_key.starts_with(SHARING)
}

/// What a sign-in handler signs in for: the request and session, and the
/// instant they were checked.
pub struct SignInTarget {
    /// The request (or the session's stand-in) and the session.
    pub bound: Bound,
    /// Unix seconds.
    pub now: i64,
}

impl FromRequestParts<AppState> for SignInTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let has_request = Path::<HashMap<String, String>>::from_request_parts(parts, &())
            .await
            .is_ok_and(|Path(p)| p.contains_key("request_id"));
        if has_request {
            let Pending { bound, now } = Pending::<410>::from_request_parts(parts, state).await?;
            return Ok(SignInTarget { bound, now });
        }
        // No session: no CSRF token can match either.
        let session = current_session(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::csrf_invalid)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            csrf::check(state.key(), &session.session_id, &parts.headers)?;
        }
        let now = state.now();
        let request = AuthRequest {
            request_key: format!("{SHARING}{}", session.session_id),
            client_id: String::new(),
            redirect_uri: String::new(),
            state: None,
            scope: String::new(),
            code_challenge: None,
            session_id: Some(session.session_id.clone()),
            created_at: now,
            expires_at: session.expires_at,
            decided_at: None,
            outcome: None,
        };
        Ok(SignInTarget {
            bound: Bound {
                request,
                session,
                carrier: Carrier::of(&parts.headers),
                new_secret: None,
            },
            now,
        })
    }
}

/// `GET /api/customer/session`: the CSRF token, the sign-in methods and
/// the customer when signed in; starts a consent session when the browser
/// has none.
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (session, new_secret) = match current_session(&state, &headers).await? {
        Some(s) => (s, None),
        None => {
            let (s, secret) = new_session(&state, Carrier::of(&headers)).await?;
            (s, Some(secret))
        }
    };
    let customer = match &session.customer_id {
        Some(id) => match state.store().customer(id).await? {
            Some(c) => Some(customer_view(&state, &c).await?),
            None => None,
        },
        None => None,
    };
    let mut resp = Json(CustomerSession {
        csrf_token: csrf::token(state.key(), &session.session_id),
        sign_in: SignIn {
            methods: consent_api::Method::ALL.to_vec(),
            hint: None,
            // The utility's own sign-in returns to a consent request.
            providers: Vec::new(),
            sso: None,
        },
        customer,
    })
    .into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Some(secret) = new_secret {
        secret.apply(resp.headers_mut());
    }
    Ok(resp)
}
