//! `POST /oauth/introspect` (RFC 7662). Client authentication required.
//! `{"active": false}` for anything not live: unknown, expired, revoked,
//! rotated, of a revoked or ended authorization, or another client's (only
//! the token's own client and DataCustodian clients may introspect it).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{Params, authenticate_client};
use crate::AppState;
use crate::error::OAuthError;
use crate::security::secrets::Purpose;
use crate::store::ClientKind;

/// An introspection answer.
#[derive(Debug, Serialize, Default)]
pub struct Introspection {
    /// Whether the token is live.
    pub active: bool,
    /// Granted scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `Bearer` (access tokens) or `refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The GBA token kind (`access_token`, `client_access_token`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_kind: Option<String>,
    /// Expiry, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issued at, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The retail customer, for customer tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The authorization, for customer tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_id: Option<String>,
}

/// The handler.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, &headers, &body).await {
        Ok(i) => Json(i).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Introspection, OAuthError> {
    let params = Params::from_form(headers, body)?;
    let client = authenticate_client(state, headers, &params).await?;
    let token = params.require("token")?;
    let now = state.now();
    let Some(t) = state
        .store()
        .token(&state.key().hash(Purpose::Token, token))
        .await?
    else {
        return Ok(Introspection::default());
    };
    let may_see = t.client_id == client.client_id || client.kind == ClientKind::DataCustodian;
    if !may_see || !t.is_live(now) {
        return Ok(Introspection::default());
    }
    let exp = match (t.expires_at, t.authorization_end) {
        (Some(e), Some(end)) if end != 0 => Some(e.min(end)),
        (Some(e), _) => Some(e),
        (None, Some(end)) if end != 0 => Some(end),
        (None, _) => None,
    };
    Ok(Introspection {
        active: true,
        scope: Some(t.scope.clone()),
        client_id: Some(t.client_id.clone()),
        token_type: Some(
            if t.kind == crate::store::TokenKind::Refresh {
                "refresh_token"
            } else {
                "Bearer"
            }
            .to_string(),
        ),
        token_kind: Some(t.kind.as_str().to_string()),
        exp,
        iat: Some(t.created_at),
        sub: t.customer_id.clone(),
        iss: Some(state.config().public_url.clone()),
        authorization_id: t.authorization_id.clone(),
    })
}
