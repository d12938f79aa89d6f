//! `GET /api/consent/requests/{request_id}` (the context of the consent
//! screen) and `GET …/meters`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use consent_api::{ConsentContext, Hint, IdentityProvider, Method, SignIn, ThirdParty};
use serde::Serialize;

use super::extract::PendingRead;
use super::{Bound, customer_view};
use crate::AppState;
use crate::error::ApiError;
use crate::scope::{parse_stored, sign_in_hint, sso_hint};
use crate::security::csrf;
use crate::store::Meter;
use crate::unix;

/// The context handler.
pub async fn get_context(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
    read: PendingRead,
) -> Result<Response, ApiError> {
    context(&state, request_id, read).await
}

/// The context of `request_id` as [`get_context`] answers it to a browser
/// that sent `headers` (the hosted page embeds it).
pub async fn context_for(
    state: &AppState,
    request_id: String,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let read = PendingRead::load(state, headers, &request_id).await?;
    context(state, request_id, read).await
}

async fn context(
    state: &AppState,
    request_id: String,
    PendingRead { bound, now }: PendingRead,
) -> Result<Response, ApiError> {
    let client = state
        .store()
        .client(&bound.request.client_id)
        .await?
        .ok_or_else(ApiError::server_error)?;
    let scope = parse_stored(&bound.request.scope).ok_or_else(ApiError::server_error)?;
    // Without a `sou-` item the client's scope of use named `default`.
    let scope_of_use = Some(scope.scope_of_use().unwrap_or("default")).and_then(|name| {
        client
            .scopes_of_use
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .cloned()
    });
    let customer = match &bound.session.customer_id {
        Some(id) => match state.store().customer(id).await? {
            Some(c) => Some(customer_view(state, &c).await?),
            None => None,
        },
        None => None,
    };
    let ctx = ConsentContext {
        request_id,
        csrf_token: csrf::token(state.key(), &bound.session.session_id),
        expires_at: unix(bound.request.expires_at),
        now: unix(now),
        client: ThirdParty {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            logo_uri: client.logo_uri.clone(),
            client_uri: client.client_uri.clone(),
            policy_uri: client.policy_uri.clone(),
            tos_uri: client.tos_uri.clone(),
        },
        scope: scope.to_string(),
        scope_of_use: scope_of_use.map(|s| consent_api::ScopeOfUse {
            name: s.name,
            text: s.text,
            url: s.url,
        }),
        editable: !scope.no_edit(),
        default_end_date: unix(now) + state.config().default_authorization_seconds,
        default_history_length: state.config().default_history_seconds,
        embed_origins: client.frame_ancestors.clone(),
        sign_in: SignIn {
            methods: Method::ALL.to_vec(),
            hint: sign_in_hint(&scope).map(|(method, value)| Hint { method, value }),
            providers: state
                .config()
                .oidc_providers
                .iter()
                .map(|p| IdentityProvider {
                    id: p.id.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            sso: sso_hint(&scope)
                .filter(|id| state.config().oidc_providers.iter().any(|p| p.id == *id)),
        },
        customer,
    };
    let mut resp = Json(ctx).into_response();
    if let Some(secret) = bound.new_secret {
        secret.apply(resp.headers_mut());
    }
    Ok(resp)
}

/// `{ "meters": [...] }`.
#[derive(Debug, Serialize)]
pub struct Meters {
    meters: Vec<Meter>,
}

/// The meters handler.
pub async fn meters(State(state): State<AppState>, bound: Bound) -> Result<Json<Meters>, ApiError> {
    let customer_id = bound
        .session
        .customer_id
        .ok_or_else(ApiError::not_signed_in)?;
    Ok(Json(Meters {
        meters: state.store().meters(&customer_id).await?,
    }))
}
