//! The preconditions of the consent handlers as typed axum extractors, so
//! each handler shows only its own logic:
//!
//! - [`Bound`]: the request of the path's `request_id`, bound to this
//!   browser's consent session (else `404 unknown_request` /
//!   `403 request_not_yours`), with the session's CSRF token checked for
//!   every method but `GET` and `HEAD` (`403 csrf_invalid`).
//! - [`Pending`]: a [`Bound`] request that is still pending (`410
//!   request_expired`; `request_decided` with the status `DECIDED`, 410 by
//!   default), with the instant it was checked at.
//! - [`PendingRead`]: for reading the context: binds an unbound request to
//!   this browser's session (creating one), then checks it is pending.
//! - [`ApiJson`]: a JSON body; a body that does not parse answers
//!   `400 invalid_request` naming the problem.
//!
//! Extractors run in the order of the handler's arguments, the body last,
//! so a request answers the session, CSRF and pending errors before any
//! complaint about its body.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::{Bound, ensure_pending, load_bound, load_for_read, unknown_request};
use crate::AppState;
use crate::error::ApiError;

/// The `request_id` of the matched path.
async fn request_id(parts: &mut Parts) -> Result<String, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, &())
        .await
        .map_err(|_| unknown_request())?;
    params
        .get("request_id")
        .cloned()
        .ok_or_else(unknown_request)
}

impl FromRequestParts<AppState> for Bound {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let request_id = request_id(parts).await?;
        let check_csrf = parts.method != Method::GET && parts.method != Method::HEAD;
        load_bound(state, &parts.headers, &request_id, check_csrf).await
    }
}

/// A [`Bound`] request that is still pending. `DECIDED` is the status of
/// `request_decided` (410 by default; the decision answers 409).
pub struct Pending<const DECIDED: u16 = 410> {
    /// The request and its session.
    pub bound: Bound,
    /// The instant the request was found pending (unix seconds).
    pub now: i64,
}

/// A pending request for the decision: a decided one answers 409.
pub type PendingDecision = Pending<409>;

fn decided_status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::GONE)
}

impl<const DECIDED: u16> FromRequestParts<AppState> for Pending<DECIDED> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bound = Bound::from_request_parts(parts, state).await?;
        let now = state.now();
        ensure_pending(&bound.request, now, decided_status(DECIDED))?;
        Ok(Pending { bound, now })
    }
}

/// The pending request whose context is read; binds it to this browser's
/// session (creating one) when it is not bound yet.
pub struct PendingRead {
    /// The request, its session and the `Set-Cookie` of a new session.
    pub bound: Bound,
    /// The instant the request was found pending (unix seconds).
    pub now: i64,
}

impl PendingRead {
    /// The read of `request_id` by a browser that sent `headers` (the
    /// hosted page embeds the same read).
    pub async fn load(
        state: &AppState,
        headers: &HeaderMap,
        request_id: &str,
    ) -> Result<Self, ApiError> {
        let bound = load_for_read(state, headers, request_id).await?;
        let now = state.now();
        ensure_pending(&bound.request, now, StatusCode::GONE)?;
        Ok(PendingRead { bound, now })
    }
}

impl FromRequestParts<AppState> for PendingRead {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let request_id = request_id(parts).await?;
        PendingRead::load(state, &parts.headers, &request_id).await
    }
}

/// A JSON body read with the API's own rejection.
pub struct ApiJson<T>(pub T);

/// Why a body was refused: it could not be read (axum's answer, e.g. 413
/// for a body over the limit), or it is not the JSON expected
/// (`400 invalid_request` naming the problem).
pub enum BodyRejection {
    /// The body could not be read.
    Read(BytesRejection),
    /// The body is not the JSON expected.
    Invalid(ApiError),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::Read(r) => r.into_response(),
            BodyRejection::Invalid(e) => e.into_response(),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, BodyRejection> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(BodyRejection::Read)?;
        serde_json::from_slice(&body).map(ApiJson).map_err(|e| {
            BodyRejection::Invalid(ApiError::invalid_request(format!(
                "the JSON body is not valid: {e}"
            )))
        })
    }
}
