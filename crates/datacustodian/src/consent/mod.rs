//! The consent API the widget speaks (`api/consent-api.openapi.yaml`):
//! the request's context, sign-in (password, one-time code), the customer's
//! meters and the decision.
//!
//! Binding: a request is bound to the consent session that first reads it
//! (or that was present at `/oauth/authorize`); any other session gets
//! `403 request_not_yours`. Every `POST` needs the session's CSRF token in
//! `X-CSRF-Token`.
//!
//! The session travels one of two ways ([`Carrier`]): the `gbcd_session`
//! cookie (the hosted page at the top level), or the `X-Consent-Session`
//! header (the widget embedded in another origin or framed, where the
//! browser may block the cookie as third-party). Same session rows, same
//! binding, same CSRF check, same rotation at sign-in: only the way the
//! secret travels differs.

pub mod context;
pub mod decision;
pub mod extract;
pub mod otp;
pub mod sharing;
pub mod sign_in;

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponseParts, ResponseParts};

use crate::error::ApiError;
use crate::security::csrf;
use crate::security::headers::{session_cookie, set_session_cookie};
use crate::security::secrets::{Purpose, new_id, new_secret};
use crate::store::{AuthRequest, Customer, Meter, Session};
use crate::{AppState, Config};

/// The request header (and response header) of the header-carried
/// consent session.
pub const SESSION_HEADER: &str = "x-consent-session";

/// What the widget sends in [`SESSION_HEADER`] before it has a session:
/// "give me one in the header, not in a cookie".
pub const SESSION_HEADER_NEW: &str = "new";

/// How a browser carries its consent session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// The `gbcd_session` cookie (`HttpOnly`, `SameSite=Strict`): the
    /// hosted page at the top level.
    Cookie,
    /// The `X-Consent-Session` header, the secret kept in the widget's
    /// memory: the widget embedded in another origin or framed, where
    /// third-party cookies may be blocked. A custom header cannot be sent
    /// cross-origin without a CORS preflight, which only registered embed
    /// origins pass.
    Header,
}

impl Carrier {
    /// The carrier a request uses: the header when it sends one (even
    /// `new`), else the cookie. Never both: a request with the header is
    /// never read through its cookie.
    pub fn of(headers: &HeaderMap) -> Carrier {
        if headers.contains_key(SESSION_HEADER) {
            Carrier::Header
        } else {
            Carrier::Cookie
        }
    }

    /// The session secret the request sent through this carrier, if any.
    fn secret(self, headers: &HeaderMap, config: &Config) -> Option<String> {
        match self {
            Carrier::Cookie => session_cookie(headers, config.session_cookie_name()),
            Carrier::Header => headers
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| *v != SESSION_HEADER_NEW && !v.is_empty() && v.len() <= 128)
                .map(str::to_string),
        }
    }
}

/// A new or rotated session secret, sent back the way the session came:
/// a `Set-Cookie`, or the `X-Consent-Session` response header. As
/// [`IntoResponseParts`] it goes into any response tuple.
#[derive(Debug)]
pub struct NewSecret(HeaderName, HeaderValue);

impl NewSecret {
    fn new(carrier: Carrier, value: &str, max_age: i64, config: &Config) -> NewSecret {
        match carrier {
            Carrier::Cookie => NewSecret(
                header::SET_COOKIE,
                set_session_cookie(value, max_age, config),
            ),
            // The value is base64url: always a valid header value.
            Carrier::Header => NewSecret(
                HeaderName::from_static(SESSION_HEADER),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            ),
        }
    }

    /// Adds the header to `headers`.
    pub fn apply(self, headers: &mut HeaderMap) {
        headers.append(self.0, self.1);
    }
}

impl IntoResponseParts for NewSecret {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        self.apply(res.headers_mut());
        Ok(res)
    }
}

/// A loaded request with the session it is bound to. As an extractor
/// ([`extract`]): the path's request, bound to this session, CSRF checked
/// for every method but `GET` and `HEAD`.
pub struct Bound {
    /// The request.
    pub request: AuthRequest,
    /// The consent session.
    pub session: Session,
    /// How this browser carries the session.
    pub carrier: Carrier,
    /// The secret of a new session to send back.
    pub new_secret: Option<NewSecret>,
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

/// The live session the request carries (its `X-Consent-Session` header,
/// else its cookie).
pub async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Session>, ApiError> {
    let Some(v) = Carrier::of(headers).secret(headers, state.config()) else {
        return Ok(None);
    };
    Ok(state
        .store()
        .session_by_token(&state.key().hash(Purpose::Session, &v), state.now())
        .await?)
}

/// Starts a new consent session carried by `carrier`; returns it with its
/// secret to send.
pub async fn new_session(
    state: &AppState,
    carrier: Carrier,
) -> Result<(Session, NewSecret), ApiError> {
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
        NewSecret::new(carrier, &value, lifetime, state.config()),
    ))
}

/// Signs `session` in as `customer_id`, rotating its secret (against
/// session fixation: the old cookie or header value is dead); returns the
/// new one, for the carrier the session came by. The CSRF token stays the
/// same.
pub async fn sign_in_session(
    state: &AppState,
    session: &Session,
    carrier: Carrier,
    customer_id: &str,
) -> Result<NewSecret, ApiError> {
    let (hash, secret) = rotated_secret(state, session, carrier);
    state
        .store()
        .sign_in_session(&session.session_id, customer_id, &hash, state.now())
        .await?;
    Ok(secret)
}

/// A rotated session secret (the one-time code step signs the session in
/// atomically with using the code): its keyed hash and the secret to send.
pub fn rotated_secret(
    state: &AppState,
    session: &Session,
    carrier: Carrier,
) -> (Vec<u8>, NewSecret) {
    let value = new_secret();
    (
        state.key().hash(Purpose::Session, &value),
        NewSecret::new(
            carrier,
            &value,
            session.expires_at - state.now(),
            state.config(),
        ),
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
    let carrier = Carrier::of(headers);
    let (session, new_secret) = match current_session(state, headers).await? {
        Some(s) => (s, None),
        None => {
            // A request already bound cannot be read without its session:
            // don't create a session for nothing.
            if request.session_id.is_some() {
                return Err(not_yours());
            }
            let (s, c) = new_session(state, carrier).await?;
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
        carrier,
        new_secret,
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
        carrier: Carrier::of(headers),
        new_secret: None,
    })
}
