//! Sign-in with username and password, sign-out, and the attempt limits
//! shared by the sign-in paths.
//!
//! Every password attempt is counted *before* the hash is compared, in the
//! statement that checks the limit ([`crate::store::Store::reserve_attempts`]),
//! and the count is cleared on success. Two counts: per username and client
//! IP (a delay after 5 tries, doubling from 30 s up to 15 min), and per
//! username from every IP (the same from 20 tries). No hard lock-out: a
//! stranger can slow a customer's sign-in down, not shut it.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::extract::ApiJson;
use super::sharing::{SignInTarget, is_session_key};
use super::{Bound, current_session, customer_view, sign_in_session};
use crate::AppState;
use crate::error::ApiError;
use crate::metrics::Outcome;
use crate::security::csrf;
use crate::security::headers::clear_session_cookie;
use crate::security::limits::ClientIp;
use crate::security::passwords;
use crate::security::secrets::Purpose;
use crate::store::{Customer, Limit, Reservation, StoreError};

/// The throttle key of a subject (keyed hash, so usernames and contacts are
/// not stored in clear). `parts` are joined unambiguously.
pub fn throttle_key(state: &AppState, kind: &str, parts: &[&str]) -> Vec<u8> {
    let lowered: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
    let mut all: Vec<&[u8]> = vec![kind.as_bytes()];
    all.extend(lowered.iter().map(|p| p.as_bytes()));
    state.key().hash_parts(Purpose::Throttle, &all)
}

/// The password limits of `username` tried from `ip`: (username, IP) and
/// (username, any IP).
fn login_keys(state: &AppState, username: &str, ip: ClientIp) -> Vec<(Vec<u8>, Limit)> {
    let cfg = state.config();
    let limit = |delay_after: u32| Limit {
        window: cfg.login_window as i64,
        max: i64::MAX,
        delay_after: i64::from(delay_after),
        base_delay: cfg.delay_seconds as i64,
        max_delay: cfg.lockout_seconds as i64,
    };
    vec![
        (
            throttle_key(state, "login-ip", &[username, &ip.subject()]),
            limit(cfg.attempts_before_delay),
        ),
        (
            throttle_key(state, "login", &[username]),
            limit(cfg.login_attempts_before_delay_any_ip),
        ),
    ]
}

/// The result of a throttled password check.
pub enum PasswordCheck {
    /// The customer.
    Ok(Customer),
    /// Unknown username or wrong password (indistinguishable).
    Wrong,
    /// Too many tries: wait this many seconds.
    Throttled(i64),
    /// As many password hashes as the server allows are running: shed.
    Busy,
}

/// Checks a username and password under the limits (used by the consent
/// sign-in and the password grant): takes a hash permit (none free:
/// [`PasswordCheck::Busy`] at once), reserves the attempt, then compares.
pub async fn check_password_throttled(
    state: &AppState,
    username: &str,
    password: &str,
    ip: ClientIp,
) -> Result<PasswordCheck, StoreError> {
    let Some(permit) = state.limits().hash_permit() else {
        return Ok(PasswordCheck::Busy);
    };
    let keys = login_keys(state, username, ip);
    if let Reservation::Refused(wait) = state.store().reserve_attempts(&keys, state.now()).await? {
        return Ok(PasswordCheck::Throttled(wait));
    }
    let customer = if username.len() <= 256 {
        state.store().customer_by_username(username).await?
    } else {
        None
    };
    let ok = passwords::verify_or_dummy(
        password.to_string(),
        customer.as_ref().and_then(|c| c.password_hash.clone()),
        state.config().argon2_cost,
    )
    .await;
    drop(permit);
    match (ok, customer) {
        (true, Some(c)) => {
            let keys: Vec<Vec<u8>> = keys.into_iter().map(|(k, _)| k).collect();
            state.store().clear_throttles(&keys).await?;
            Ok(PasswordCheck::Ok(c))
        }
        _ => Ok(PasswordCheck::Wrong),
    }
}

/// 503 `server_busy` with `Retry-After: 1`: the password hashes are all
/// taken.
pub fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "server_busy",
        "the server is busy; try again in a moment",
    )
    .retry_after(1)
}

/// Counts one sign-in attempt against the request's cap: 429
/// `request_attempts_exhausted` (no `retry_after`: start again from the
/// application) when it is used up.
pub async fn count_request_attempt(state: &AppState, bound: &Bound) -> Result<(), ApiError> {
    if is_session_key(&bound.request.request_key) {
        // "Your data sharing": no request to cap (see `sharing`).
        return Ok(());
    }
    let max = i64::from(state.config().max_sign_in_attempts_per_request);
    if state
        .store()
        .reserve_request_attempt(&bound.request.request_key, max)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "request_attempts_exhausted",
            "too many sign-in attempts for this request; start again from the application",
        ))
    }
}

/// The body of the password sign-in.
#[derive(Deserialize)]
pub struct PasswordBody {
    username: String,
    password: String,
}

/// `POST /api/consent/requests/{id}/sign-in/password`.
pub async fn password(
    State(state): State<AppState>,
    ip: ClientIp,
    SignInTarget { bound, .. }: SignInTarget,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Response, ApiError> {
    let r = password_sign_in(&state, ip, bound, b).await;
    state.metrics().record_sign_in("password", Outcome::of(&r));
    r
}

async fn password_sign_in(
    state: &AppState,
    ip: ClientIp,
    bound: Bound,
    b: PasswordBody,
) -> Result<Response, ApiError> {
    if b.username.len() > 256 || b.password.len() > 1024 {
        return Err(ApiError::invalid_request(
            "username (256) or password (1024) is too long",
        ));
    }
    count_request_attempt(state, &bound).await?;
    let customer = match check_password_throttled(state, b.username.trim(), &b.password, ip).await?
    {
        PasswordCheck::Ok(c) => c,
        PasswordCheck::Wrong => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "wrong username or password",
            ));
        }
        PasswordCheck::Throttled(wait) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed sign-ins; wait before trying again",
            )
            .retry_after(wait));
        }
        PasswordCheck::Busy => return Err(busy()),
    };
    if state.config().require_second_factor {
        // Not signed in yet: the code's verify signs the session in.
        return super::otp::second_factor(state, &bound, &customer).await;
    }
    let secret =
        sign_in_session(state, &bound.session, bound.carrier, &customer.customer_id).await?;
    Ok((secret, Json(customer_view(state, &customer).await?)).into_response())
}

/// `DELETE /api/consent/session`.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(session) = current_session(&state, &headers).await? {
        csrf::check(state.key(), &session.session_id, &headers)?;
        state.store().delete_session(&session.session_id).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie(state.config()));
    Ok(resp)
}
