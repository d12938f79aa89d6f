//! The consent API the widget speaks (`api/consent-api.openapi.yaml`):
//! the request's context, sign-in (password, one-time code), the customer's
//! meters and the decision.
//!
//! Binding: a request is bound to the consent session (`gbcd_session`
//! cookie) that first reads it (or that was present at `/oauth/authorize`);
//! any other session gets `403 request_not_yours`. Every `POST` needs the
//! session's CSRF token in `X-CSRF-Token`.

pub mod context;
pub mod decision;
pub mod extract;
pub mod otp;
pub mod sharing;
pub mod sign_in;

use axum::http::{HeaderMap, HeaderValue, StatusCode};

use crate::AppState;
use crate::error::ApiError;
use crate::security::csrf;
use crate::security::headers::{session_cookie, set_session_cookie};
use crate::security::secrets::{Purpose, new_id, new_secret};
use crate::store::{AuthRequest, Customer, Meter, Session};

/// A loaded request with the session it is bound to. As an extractor
/// ([`extract`]): the path's request, bound to this session, CSRF checked
/// for every method but `GET` and `HEAD`.
pub struct Bound {
    /// The request.
    pub request: AuthRequest,
    /// The consent session.
    pub session: Session,
    /// A `Set-Cookie` to send (new or rotated session).
    pub set_cookie: Option<HeaderValue>,
}

/// A stored meter as the consent API shows it.
pub fn wire_meter(m: &Meter) -> consent_api::Meter {
    use consent_api::ServiceKind;
    consent_api::Meter {
        said: m.said.clone(),
        label: m.label.clone(),
        address: m.address.clone(),
        service_kind: match m.service_kind.as_deref() {
            Some("electricity") => Some(ServiceKind::Electricity),
            Some("gas") => Some(ServiceKind::Gas),
            Some("water") => Some(ServiceKind::Water),
            _ => None,
        },
    }
}

/// The customer as the consent API shows them.
pub async fn customer_view(
    state: &AppState,
    c: &Customer,
) -> Result<consent_api::Customer, ApiError> {
    let meters = state.store().meters(&c.customer_id).await?;
    Ok(consent_api::Customer {
        display_name: c.display_name.clone(),
        meters: meters.iter().map(wire_meter).collect(),
    })
}

fn valid_public_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The live session of the request's cookie.
pub async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, ApiError> {
    let Some(v) = session_cookie(headers, state.config().session_cookie_name()) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .session_by_token(&state.key().hash(Purpose::Session, &v), state.now())
        .await?)
}

/// Starts a new consent session; returns it with its `Set-Cookie`.
pub async fn new_session(state: &AppState) -> Result<(Session, HeaderValue), ApiError> {
    let now = state.now();
    let lifetime = state.config().session_lifetime as i64;
    let value = new_secret();
    let session = Session {
        session_id: new_id(),
        customer_id: None,
        expires_at: now + lifetime,
    };
    state
        .store()
        .create_session(
            &session.session_id,
            &state.key().hash(Purpose::Session, &value),
            now,
            session.expires_at,
        )
        .await?;
    Ok((
        session,
        set_session_cookie(&value, lifetime, state.config()),
    ))
}

/// Signs a session in as `customer_id`, rotating its cookie value (against
/// session fixation); returns the `Set-Cookie`. The CSRF token stays the same.
pub async fn sign_in_session(
    state: &AppState,
    session: &Session,
    customer_id: &str,
) -> Result<HeaderValue, ApiError> {
    let value = new_secret();
    state
        .store()
        .sign_in_session(
            &session.session_id,
            customer_id,
            &state.key().hash(Purpose::Session, &value),
            state.now(),
        )
        .await?;
    Ok(set_session_cookie(
        &value,
        session.expires_at - state.now(),
        state.config(),
    ))
}

/// The cookie value to send for a sign-in by one-time code (the store signs
/// the session in atomically with using the code).
pub fn rotated_cookie(state: &AppState, session: &Session) -> (Vec<u8>, HeaderValue) {
    let value = new_secret();
    (
        state.key().hash(Purpose::Session, &value),
        set_session_cookie(&value, session.expires_at - state.now(), state.config()),
    )
}

/// 404 `unknown_request`.
fn unknown_request() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_request",
        "no such authorization request",
    )
}

async fn load_request(state: &AppState, request_id: &str) -> Result<AuthRequest, ApiError> {
    if !valid_public_id(request_id) {
        return Err(unknown_request());
    }
    state
        .store()
        .request_by_id(&state.key().hash(Purpose::Request, request_id))
        .await?
        .ok_or_else(unknown_request)
}

fn not_yours() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "request_not_yours",
        "this authorization request belongs to another consent session",
    )
}

/// 410 when the request expired or (with `decided_status`) was decided.
pub fn ensure_pending(
    r: &AuthRequest,
    now: i64,
    decided_status: StatusCode,
) -> Result<(), ApiError> {
    if r.decided_at.is_some() {
        return Err(ApiError::new(
            decided_status,
            "request_decided",
            "a decision was already taken for this request",
        ));
    }
    if r.expires_at <= now {
        return Err(ApiError::new(
            StatusCode::GONE,
            "request_expired",
            "this authorization request has expired; start again from the application",
        ));
    }
    Ok(())
}

/// For reading the context: binds the request to this browser's session
/// (creating one when there is none) if it is not bound yet (the
/// [`extract::PendingRead`] extractor).
async fn load_for_read(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
) -> Result<Bound, ApiError> {
    let mut request = load_request(state, request_id).await?;
    let (session, set_cookie) = match current_session(state, headers).await? {
        Some(s) => (s, None),
        None => {
            // A request already bound cannot be read without its session:
            // don't create a session for nothing.
            if request.session_id.is_some() {
                return Err(not_yours());
            }
            let (s, c) = new_session(state).await?;
            (s, Some(c))
        }
    };
    match &request.session_id {
        Some(bound) if *bound == session.session_id => {}
        Some(_) => return Err(not_yours()),
        None => {
            if !state
                .store()
                .bind_request(&request.request_key, &session.session_id)
                .await?
            {
                // Another session bound it first.
                return Err(not_yours());
            }
            request.session_id = Some(session.session_id.clone());
        }
    }
    Ok(Bound {
        request,
        session,
        set_cookie,
    })
}

/// For every other call: the request must be bound to this session, and
/// (for `POST`s) the CSRF token must match (the [`Bound`] extractor).
async fn load_bound(
    state: &AppState,
    headers: &HeaderMap,
    request_id: &str,
    check_csrf: bool,
) -> Result<Bound, ApiError> {
    let request = load_request(state, request_id).await?;
    let session = current_session(state, headers)
        .await?
        .ok_or_else(not_yours)?;
    if request.session_id.as_deref() != Some(session.session_id.as_str()) {
        return Err(not_yours());
    }
    if check_csrf {
        csrf::check(state.key(), &session.session_id, headers)?;
    }
    Ok(Bound {
        request,
        session,
        set_cookie: None,
    })
}
