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
use consent_api::{Decision, DecisionKind, DecisionResult, Locale, Outcome, Receipt};
use espi_scope::describe::Lang;
use lettre::message::Mailbox;

use super::extract::{ApiJson, PendingDecision};
use crate::AppState;
use crate::customer_api::receipt;
use crate::error::ApiError;
use crate::mail::receipt::{ReceiptMail, message};
use crate::oauth::redirect_with;
use crate::oauth::token::authorization_record;
use crate::scope::{DecisionChoices, final_grant, parse_stored};
use crate::security::secrets::{Purpose, new_secret};
use crate::store::ScopeOfUse;

fn decided() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "request_decided",
        "a decision was already taken for this request",
    )
}

/// Mails the receipt to the customer's email on file, when there is one
/// and an SMTP relay is set, on a blocking task: the authorization is
/// committed and answered whatever the relay does; a failure is logged and
/// counted (`datacustodian_mails_total{kind="receipt",outcome="failed"}`).
async fn mail_receipt(
    state: &AppState,
    customer_id: &str,
    receipt: &Receipt,
    scope_of_use: Option<ScopeOfUse>,
    locale: Option<Locale>,
) {
    let Some(mailer) = state.mailer().cloned() else {
        return;
    };
    let to = match state.store().customer(customer_id).await {
        Ok(Some(c)) => c.email,
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "receipt not sent: cannot read the customer");
            state.metrics().record_mail("receipt", false);
            return;
        }
    };
    let Some(to) = to else { return };
    let lang = match locale.unwrap_or_default() {
        Locale::En => Lang::En,
        Locale::Es => Lang::Es,
    };
    let sharing_url = state.url(&format!("/consent/sharing?lang={}", lang.as_str()));
    let receipt = receipt.clone();
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let sent = to
            .parse::<Mailbox>()
            .map_err(|e| format!("the email on file is not an address: {e}"))
            .and_then(|to| {
                let mail = ReceiptMail {
                    receipt: &receipt,
                    scope_of_use: scope_of_use.as_ref(),
                    sharing_url,
                    lang,
                };
                message(mailer.from(), to, &mail)
            })
            .and_then(|m| mailer.send(&m).map_err(|e| e.0));
        if let Err(e) = &sent {
            tracing::error!(error = %e, authorization = %receipt.authorization_id, "receipt not sent");
        }
        state.metrics().record_mail("receipt", sent.is_ok());
    });
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
            let receipt = receipt(&authorization, &client.name, &meters, now);
            let scope_of_use = requested.scope_of_use().and_then(|name| {
                client
                    .scopes_of_use
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(name))
                    .cloned()
            });
            mail_receipt(&state, &customer_id, &receipt, scope_of_use, b.locale).await;
            Ok(Json(DecisionResult {
                outcome: Outcome::Authorized,
                redirect_to: redirect_with(&req.redirect_uri, &params),
                receipt: Some(receipt),
            }))
        }
    }
}
