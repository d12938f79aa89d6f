//! Bearer-protected ESPI resources (Atom XML):
//!
//! - `GET /espi/1_1/resource/Authorization/{id}`: the ESPI `Authorization`
//!   (for its own access token, a `client_access_token` of its client, or a
//!   `datacustodian_access_token`);
//! - `GET /espi/1_1/resource/Authorization`: the feed of a client's
//!   authorizations (`client_access_token`) or of all
//!   (`datacustodian_access_token`);
//! - the Green Button data resources of [`resources`] (subscriptions,
//!   usage points, retail customer, bulk, upload, ApplicationInformation).
//!
//! A missing, unknown, expired or revoked token answers 401 with
//! `WWW-Authenticate: Bearer …`.

pub mod appinfo;
pub mod customer;
pub mod demo;
pub mod grant;
pub mod import;
pub mod reader;
pub mod resources;
pub mod subscription;
pub mod writer;
pub mod xml;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::error::ResourceError;
use crate::security::secrets::Purpose;
use crate::store::{TokenKind, TokenRow};

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/espi/1_1/resource/Authorization", get(authorization_feed))
        .route("/espi/1_1/resource/Authorization/{id}", get(authorization))
        .merge(resources::routes())
}

/// The live access token of a request (`Authorization: Bearer`), any kind
/// but refresh; 401 otherwise.
pub async fn bearer(state: &AppState, headers: &HeaderMap) -> Result<TokenRow, ResourceError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty() && t.len() <= 256)
        .ok_or(ResourceError::InvalidToken(
            "a Bearer access token is required",
        ))?;
    let row = state
        .store()
        .token(&state.key().hash(Purpose::Token, token))
        .await?
        .ok_or(ResourceError::InvalidToken("unknown token"))?;
    if row.kind == TokenKind::Refresh {
        return Err(ResourceError::InvalidToken(
            "a refresh token is not an access token",
        ));
    }
    if !row.is_live(state.now()) {
        return Err(ResourceError::InvalidToken(
            "the token is expired or revoked",
        ));
    }
    Ok(row)
}

fn atom(body: String) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    resp
}

async fn authorization(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let a = state
        .store()
        .authorization(&id)
        .await?
        .ok_or(ResourceError::NotFound)?;
    let allowed = match tok.kind {
        TokenKind::Access => tok.authorization_id.as_deref() == Some(id.as_str()),
        TokenKind::ClientAccess => tok.client_id == a.client_id,
        TokenKind::DataCustodianAccess => true,
        _ => false,
    };
    if !allowed {
        return Err(ResourceError::InsufficientScope);
    }
    let expires_at = if tok.kind == TokenKind::Access {
        tok.expires_at
    } else {
        None
    };
    Ok(atom(xml::authorization_entry(&state, &a, expires_at, true)))
}

async fn authorization_feed(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let list = match tok.kind {
        TokenKind::ClientAccess => {
            state
                .store()
                .authorizations_of_client(&tok.client_id)
                .await?
        }
        TokenKind::DataCustodianAccess => {
            let mut all = Vec::new();
            for c in state.store().clients().await? {
                all.extend(state.store().authorizations_of_client(&c.client_id).await?);
            }
            all
        }
        _ => return Err(ResourceError::InsufficientScope),
    };
    Ok(atom(xml::authorization_feed(&state, &list)))
}
