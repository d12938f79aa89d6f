//! Sign-in with username and password, sign-out, and the failed-attempt
//! throttle shared by every sign-in path (a delay after 5 failures, a
//! lock-out after 10).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{
    current_session, customer_view, ensure_pending, json_body, load_bound, sign_in_session,
};
use crate::AppState;
use crate::error::ApiError;
use crate::security::csrf;
use crate::security::headers::clear_session_cookie;
use crate::security::passwords;
use crate::security::secrets::Purpose;
use crate::store::{Customer, StoreError};

const WINDOW: i64 = 3600;

/// The throttle key of a subject (keyed hash, so usernames and contacts are
/// not stored in clear).
pub fn throttle_key(state: &AppState, kind: &str, subject: &str) -> Vec<u8> {
    state.key().hash_parts(
        Purpose::Throttle,
        &[kind.as_bytes(), subject.to_lowercase().as_bytes()],
    )
}

/// Seconds to wait before the subject may try again, if blocked.
pub async fn throttle_blocked(state: &AppState, key: &[u8]) -> Result<Option<i64>, StoreError> {
    let now = state.now();
    Ok(state
        .store()
        .throttle(key)
        .await?
        .filter(|t| t.blocked_until > now)
        .map(|t| t.blocked_until - now))
}

/// Counts a failure: from the 5th on, each failure blocks for a growing
/// delay; from the 10th, for the lock-out period.
pub async fn throttle_failed(state: &AppState, key: &[u8]) -> Result<(), StoreError> {
    let cfg = state.config();
    let now = state.now();
    let n = state
        .store()
        .throttle_failure(key, now, now - WINDOW)
        .await?;
    let lock = i64::from(cfg.attempts_before_lock);
    let delay_after = i64::from(cfg.attempts_before_delay);
    if n >= lock {
        state
            .store()
            .block_throttle(key, now + cfg.lockout_seconds as i64)
            .await?;
    } else if n >= delay_after {
        let shift = u32::try_from(n - delay_after).unwrap_or(16).min(16);
        let delay = (cfg.delay_seconds << shift).min(cfg.lockout_seconds);
        state
            .store()
            .block_throttle(key, now + delay as i64)
            .await?;
    }
    Ok(())
}

/// The result of a throttled password check.
pub enum PasswordCheck {
    /// The customer.
    Ok(Customer),
    /// Unknown username or wrong password (indistinguishable).
    Wrong,
    /// Too many failures: wait this many seconds.
    Throttled(i64),
}

/// Checks a username and password with the throttle (used by the consent
/// sign-in and the password grant).
pub async fn check_password_throttled(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<PasswordCheck, StoreError> {
    let key = throttle_key(state, "login", username);
    if let Some(wait) = throttle_blocked(state, &key).await? {
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
    match (ok, customer) {
        (true, Some(c)) => {
            state.store().clear_throttle(&key).await?;
            Ok(PasswordCheck::Ok(c))
        }
        _ => {
            throttle_failed(state, &key).await?;
            Ok(PasswordCheck::Wrong)
        }
    }
}

#[derive(Deserialize)]
struct PasswordBody {
    username: String,
    password: String,
}

/// `POST /api/consent/requests/{id}/sign-in/password`.
pub async fn password(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bound = load_bound(&state, &headers, &request_id, true).await?;
    ensure_pending(&bound.request, state.now(), StatusCode::GONE)?;
    let b: PasswordBody = json_body(&body)?;
    if b.username.len() > 256 || b.password.len() > 1024 {
        return Err(ApiError::invalid_request(
            "username (256) or password (1024) is too long",
        ));
    }
    let customer = match check_password_throttled(&state, b.username.trim(), &b.password).await? {
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
    };
    let cookie = sign_in_session(&state, &bound.session, &customer.customer_id).await?;
    let mut resp = Json(customer_view(&state, &customer).await?).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
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
    resp.headers_mut().insert(
        header::SET_COOKIE,
        clear_session_cookie(state.config().secure_cookies()),
    );
    Ok(resp)
}
