//! `POST /api/consent/requests/{id}/decision`: authorize (with the
//! customer's narrowing) or decline.
//!
//! The server recomputes the grant from the stored request and the choices
//! with `espi_scope::narrow`; anything wider than the request, or any change
//! under `noedit`, is refused (400) and the request stays pending. The
//! authorization then holds the final scope (`espi_scope::final_scope`). The
//! request accepts exactly one decision: the store marks it decided with
//! `UPDATE … WHERE decided_at IS NULL` in the same transaction that stores
//! the authorization and its code, so of concurrent decisions exactly one
//! wins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use consent_api::{Decision, DecisionKind, DecisionResult, Outcome};

use super::extract::{ApiJson, PendingDecision};
use crate::AppState;
use crate::customer_api::receipt;
use crate::error::ApiError;
use crate::oauth::redirect_with;
use crate::oauth::token::authorization_record;
use crate::scope::{DecisionChoices, final_grant, parse_stored};
use crate::security::secrets::{Purpose, new_secret};

fn decided() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "request_decided",
        "a decision was already taken for this request",
    )
}

/// The handler.
pub async fn decide(
    State(state): State<AppState>,
    PendingDecision { bound, now }: PendingDecision,
    ApiJson(b): ApiJson<Decision>,
) -> Result<Json<DecisionResult>, ApiError> {
    let req = &bound.request;
    let iss = state.config().public_url.clone();
    let mut params: Vec<(&str, &str)> = Vec::new();

    match b.decision {
        DecisionKind::Decline => {
            if !state
                .store()
                .decline_request(&req.request_key, &bound.session.session_id, now)
                .await?
            {
                return Err(decided());
            }
            params.push(("error", "access_denied"));
            params.push(("error_description", "the customer declined"));
            if let Some(s) = req.state.as_deref() {
                params.push(("state", s));
            }
            params.push(("iss", &iss));
            Ok(Json(DecisionResult {
                outcome: Outcome::Declined,
                redirect_to: redirect_with(&req.redirect_uri, &params),
                receipt: None,
            }))
        }
        DecisionKind::Authorize => {
            let customer_id = bound
                .session
                .customer_id
                .clone()
                .ok_or_else(ApiError::not_signed_in)?;
            let requested = parse_stored(&req.scope).ok_or_else(ApiError::server_error)?;
            let meters = state.store().meters(&customer_id).await?;
            let choices = DecisionChoices {
                function_blocks: b.function_blocks,
                history_length: b.history_length,
                end_date: b.end_date,
                meters: b.meters,
            };
            let grant = final_grant(&state, &requested, &choices, &meters, now).await?;
            let client = state
                .store()
                .client(&req.client_id)
                .await?
                .ok_or_else(ApiError::server_error)?;
            let default_end = now + state.config().default_authorization_seconds as i64;
            let authorization = authorization_record(
                &client,
                &customer_id,
                &grant,
                "authorization_code",
                now,
                default_end,
            );
            let code = new_secret();
            let stored = state
                .store()
                .authorize_request(
                    &req.request_key,
                    &bound.session.session_id,
                    now,
                    &authorization,
                    &state.key().hash(Purpose::Code, &code),
                    now + state.config().code_lifetime.min(60) as i64,
                )
                .await?;
            if !stored {
                return Err(decided());
            }
            params.push(("code", &code));
            if let Some(s) = req.state.as_deref() {
                params.push(("state", s));
            }
            params.push(("iss", &iss));
            Ok(Json(DecisionResult {
                outcome: Outcome::Authorized,
                redirect_to: redirect_with(&req.redirect_uri, &params),
                receipt: Some(receipt(&authorization, &client.name, &meters, now)),
            }))
        }
    }
}
