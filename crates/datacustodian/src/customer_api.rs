//! The customer's own authorizations: `GET /api/customer/authorizations`
//! and `POST /api/customer/authorizations/{id}/revoke` (which revokes every
//! token issued under it). Uses the consent session cookie; the revoke needs
//! the CSRF token from the list.

use crate::consent::wire_meter;
use crate::unix;
use consent_api::{AuthorizationList, AuthorizationStatus, Receipt};
use std::collections::HashMap;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::consent::current_session;
use crate::error::ApiError;
use crate::security::csrf;
use crate::store::{Authorization, Meter, Session};

/// The receipt of an authorization (`all_meters`: the customer's meters).
pub fn receipt(a: &Authorization, third_party: &str, all_meters: &[Meter], now: i64) -> Receipt {
    Receipt {
        authorization_id: a.authorization_id.clone(),
        third_party: third_party.to_string(),
        scope: a.scope.clone(),
        meters: all_meters
            .iter()
            .filter(|m| a.meters.contains(&m.said))
            .map(wire_meter)
            .collect(),
        granted_at: unix(a.granted_at),
        end_date: unix(a.end_date),
        history_length: a.history_length.map(unix),
        status: match a.status(now) {
            "revoked" => AuthorizationStatus::Revoked,
            "expired" => AuthorizationStatus::Expired,
            _ => AuthorizationStatus::Active,
        },
    }
}

/// A signed-in consent session (else `401 not_signed_in`), with its CSRF
/// token checked for every method but `GET` and `HEAD`.
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// Its customer.
    pub customer_id: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = current_session(state, &parts.headers)
            .await?
            .ok_or_else(ApiError::not_signed_in)?;
        let customer_id = session
            .customer_id
            .clone()
            .ok_or_else(ApiError::not_signed_in)?;
        if parts.method != Method::GET && parts.method != Method::HEAD {
            csrf::check(state.key(), &session.session_id, &parts.headers)?;
        }
        Ok(SignedIn {
            session,
            customer_id,
        })
    }
}

/// The list handler.
pub async fn list(
    State(state): State<AppState>,
    SignedIn {
        session,
        customer_id,
    }: SignedIn,
) -> Result<Response, ApiError> {
    let now = state.now();
    let meters = state.store().meters(&customer_id).await?;
    let mut names: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for a in state
        .store()
        .authorizations_of_customer(&customer_id)
        .await?
    {
        if !names.contains_key(&a.client_id) {
            let name = state
                .store()
                .client(&a.client_id)
                .await?
                .map(|c| c.name)
                .unwrap_or_default();
            names.insert(a.client_id.clone(), name);
        }
        let name = names.get(&a.client_id).cloned().unwrap_or_default();
        out.push(receipt(&a, &name, &meters, now));
    }
    Ok(Json(AuthorizationList {
        csrf_token: csrf::token(state.key(), &session.session_id),
        authorizations: out,
    })
    .into_response())
}

/// The revoke handler.
pub async fn revoke(
    State(state): State<AppState>,
    SignedIn { customer_id, .. }: SignedIn,
    Path(authorization_id): Path<String>,
) -> Result<Response, ApiError> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_authorization",
            "no such authorization",
        )
    };
    if authorization_id.len() > 64 {
        return Err(unknown());
    }
    match state
        .store()
        .revoke_authorization(&authorization_id, &customer_id, state.now())
        .await?
    {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(unknown()),
    }
}
