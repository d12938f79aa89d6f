//! CSRF tokens for the consent and customer APIs.
//!
//! A token is `base64url(HMAC(key, "csrf" || session row id))`: bound to the
//! consent session, unforgeable without the key, never stored, and stable
//! when the session cookie is rotated at sign-in. Every `POST`/`DELETE`
//! of the consent and customer APIs must carry it in `X-CSRF-Token`.

use axum::http::HeaderMap;

use super::secrets::{HmacKey, Purpose, ct_eq};
use crate::error::ApiError;
use espi_scope::pkce::base64url;

/// The header that carries the token.
pub const HEADER: &str = "x-csrf-token";

/// The CSRF token of a session.
pub fn token(key: &HmacKey, session_id: &str) -> String {
    base64url(&key.hash(Purpose::Csrf, session_id))
}

/// Checks the `X-CSRF-Token` header against the session's token in
/// constant time.
pub fn check(key: &HmacKey, session_id: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let sent = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(ApiError::csrf_invalid)?;
    let expected = token(key, session_id);
    if ct_eq(sent.trim().as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::csrf_invalid())
    }
}
