//! `POST /oauth/revoke` (RFC 7009). Client authentication required. Always
//! 200 for a well-formed request, whether or not the token was known.
//! Revoking a refresh token revokes its whole family, access tokens
//! included.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{Params, authenticate_client};
use crate::AppState;
use crate::error::OAuthError;
use crate::security::secrets::Purpose;

/// The handler.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&state, &headers, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: &Bytes) -> Result<(), OAuthError> {
    let params = Params::from_form(headers, body)?;
    let client = authenticate_client(state, headers, &params).await?;
    let token = params.require("token")?;
    // token_type_hint is optional and only an optimisation: every token kind
    // lives in one table, so it is not needed.
    let hash = state.key().hash(Purpose::Token, token);
    state
        .store()
        .revoke_token(&hash, &client.client_id, state.now())
        .await?;
    Ok(())
}
