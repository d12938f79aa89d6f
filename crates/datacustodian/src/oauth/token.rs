//! `POST /oauth/token`: `authorization_code` (with PKCE), `refresh_token`
//! (rotated on every use; reuse of an old one revokes the family),
//! `client_credentials` (the GBA token kind of the client's registration)
//! and, only for clients registered with it, the resource-owner `password`
//! grant (discouraged by RFC 9700; see the README).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{Params, authenticate_client, espi_uris};
use crate::AppState;
use crate::consent::sign_in::{PasswordCheck, check_password_throttled};
use crate::error::OAuthError;
use crate::scope::{
    DecisionChoices, fbs_within, final_grant, parse_request_scope, parse_stored,
    scope_error_description, within_registered,
};
use crate::security::limits::ClientIp;
use crate::security::secrets::{Purpose, ct_eq, new_id, new_secret};
use crate::store::{Authorization, Client, NewToken, RedeemOutcome, RotateOutcome, TokenKind};
use espi_scope::pkce::{challenge_s256, is_pkce_string};

/// The token response of the customer grants (authorization code, refresh,
/// password).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Seconds (3600).
    pub expires_in: u64,
    /// The final granted scope, canonical.
    pub scope: String,
    /// `.../Batch/Subscription/{id}`
    #[serde(rename = "resourceURI")]
    pub resource_uri: String,
    /// `.../Authorization/{id}`
    #[serde(rename = "authorizationURI")]
    pub authorization_uri: String,
    /// `.../Batch/RetailCustomer/{id}`, only when account details were
    /// granted (otherwise it would point at a resource that refuses).
    #[serde(
        rename = "customerResourceURI",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer_resource_uri: Option<String>,
}

/// The `client_credentials` response.
#[derive(Debug, Serialize)]
pub struct ClientTokenResponse {
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// The token.
    pub access_token: String,
    /// Seconds (3600).
    pub expires_in: u64,
    /// The scope of the client's token kind.
    pub scope: String,
}

/// The handler.
pub async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&state, ip, &headers, &body).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = e.code(), "token request refused");
            e.into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    ip: ClientIp,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let params = Params::from_form(headers, body)?;
    let client = authenticate_client(state, headers, &params).await?;
    let grant_type = params.require("grant_type")?;
    match grant_type {
        "authorization_code" | "refresh_token" | "client_credentials" | "password" => {}
        other => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other} is not supported"
            )));
        }
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(format!(
            "this client is not registered for grant_type {grant_type}"
        )));
    }
    let issued = match grant_type {
        "authorization_code" => authorization_code(state, &client, &params).await,
        "refresh_token" => refresh(state, &client, &params).await,
        "client_credentials" => client_credentials(state, &client, &params).await,
        _ => password(state, &client, &params, ip).await,
    }?;
    state.metrics().record_token(grant_type);
    Ok(issued)
}

struct Issued {
    access: String,
    refresh: String,
    tokens: Vec<NewToken>,
}

fn new_pair(state: &AppState, now: i64) -> Issued {
    let access = new_secret();
    let refresh = new_secret();
    let tokens = vec![
        NewToken {
            token_hash: state.key().hash(Purpose::Token, &access),
            kind: TokenKind::Access,
            expires_at: Some(now + state.config().access_token_lifetime as i64),
        },
        // A refresh token's absolute expiry is the end of its authorization,
        // checked on every use.
        NewToken {
            token_hash: state.key().hash(Purpose::Token, &refresh),
            kind: TokenKind::Refresh,
            expires_at: None,
        },
    ];
    Issued {
        access,
        refresh,
        tokens,
    }
}

async fn customer_response(
    state: &AppState,
    authorization_id: &str,
    issued: Issued,
) -> Result<Response, OAuthError> {
    let a = state
        .store()
        .authorization(authorization_id)
        .await?
        .ok_or_else(OAuthError::server_error)?;
    let uris = espi_uris(state, &a.authorization_id, &a.customer_id);
    let customer_granted = crate::espi::grant::Grant::of(&a, state.now()).customer;
    Ok(Json(TokenResponse {
        token_type: "Bearer",
        access_token: issued.access,
        refresh_token: issued.refresh,
        expires_in: state.config().access_token_lifetime,
        scope: a.scope,
        resource_uri: uris.resource,
        authorization_uri: uris.authorization,
        customer_resource_uri: customer_granted.then_some(uris.customer),
    })
    .into_response())
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let code = params.require("code")?;
    let redirect_uri = params.require("redirect_uri")?;
    let verifier = params.get("code_verifier");
    let now = state.now();
    let issued = new_pair(state, now);
    let family_id = new_id();
    let code_hash = state.key().hash(Purpose::Code, code);
    let outcome = state
        .store()
        .redeem_code(&code_hash, &client.client_id, now, &family_id, &issued.tokens, |c| {
            if c.expires_at <= now {
                return Err("the authorization code has expired");
            }
            if c.redirect_uri != redirect_uri {
                return Err("redirect_uri does not match the authorization request");
            }
            if c.authorization_revoked {
                return Err("the authorization was revoked");
            }
            match (&c.code_challenge, verifier) {
                (None, None) => {}
                (Some(_), None) => return Err("code_verifier is required (PKCE)"),
                (None, Some(_)) => {
                    return Err(
                        "code_verifier sent, but the authorization request had no code_challenge",
                    );
                }
                (Some(ch), Some(v)) => {
                    if !is_pkce_string(v) || !ct_eq(challenge_s256(v).as_bytes(), ch.as_bytes()) {
                        return Err("code_verifier does not match the code_challenge");
                    }
                }
            }
            Ok(())
        })
        .await?;
    match outcome {
        RedeemOutcome::Issued(c) => customer_response(state, &c.authorization_id, issued).await,
        RedeemOutcome::Rejected(msg) => Err(OAuthError::invalid_grant(msg)),
        RedeemOutcome::Reused => {
            tracing::warn!(client_id = %client.client_id, "authorization code reused: its tokens were revoked");
            Err(OAuthError::invalid_grant(
                "the authorization code was already used; every token issued from it is now revoked",
            ))
        }
        RedeemOutcome::NotFound => Err(OAuthError::invalid_grant("unknown authorization code")),
    }
}

async fn refresh(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let presented = params.require("refresh_token")?;
    let hash = state.key().hash(Purpose::Token, presented);
    if let Some(requested) = params.get("scope") {
        // A refresh can only keep the scope; RFC 6749 §6 allows narrowing
        // but ESPI subscriptions are fixed by the customer's decision.
        let current = state.store().token(&hash).await?;
        let same = match (current, parse_request_scope(requested)) {
            (Some(t), Ok(req)) => parse_stored(&t.scope).is_some_and(|cur| cur == req),
            _ => false,
        };
        if !same {
            return Err(OAuthError::invalid_scope(
                "a refresh cannot change the scope of the authorization",
            ));
        }
    }
    let now = state.now();
    let issued = new_pair(state, now);
    match state
        .store()
        .rotate_refresh(&hash, &client.client_id, now, &issued.tokens)
        .await?
    {
        RotateOutcome::Rotated(t) => {
            let auth_id = t.authorization_id.ok_or_else(OAuthError::server_error)?;
            customer_response(state, &auth_id, issued).await
        }
        RotateOutcome::Reused => {
            tracing::warn!(client_id = %client.client_id, "old refresh token reused: family revoked");
            Err(OAuthError::invalid_grant(
                "the refresh token was already used; every token of this grant is now revoked",
            ))
        }
        RotateOutcome::Invalid => Err(OAuthError::invalid_grant(
            "the refresh token is unknown, revoked or expired",
        )),
    }
}

async fn client_credentials(
    state: &AppState,
    client: &Client,
    params: &Params,
) -> Result<Response, OAuthError> {
    let kind = client.kind.client_token_kind();
    let fixed = kind.client_scope().unwrap_or("FB=34_35");
    let granted = match params.get("scope") {
        None => fixed.to_string(),
        Some(raw) => {
            let req = parse_request_scope(raw)
                .map_err(|e| OAuthError::invalid_scope(scope_error_description(&e)))?;
            let allowed = parse_stored(fixed).ok_or_else(OAuthError::server_error)?;
            if !fbs_within(&req, &allowed) {
                return Err(OAuthError::invalid_scope(format!(
                    "a {} is limited to {fixed}",
                    kind.as_str()
                )));
            }
            req.to_string()
        }
    };
    let now = state.now();
    let token = new_secret();
    let lifetime = state.config().access_token_lifetime;
    state
        .store()
        .insert_client_token(
            &NewToken {
                token_hash: state.key().hash(Purpose::Token, &token),
                kind,
                expires_at: Some(now + lifetime as i64),
            },
            &client.client_id,
            &granted,
            now,
        )
        .await?;
    Ok(Json(ClientTokenResponse {
        token_type: "Bearer",
        access_token: token,
        expires_in: lifetime,
        scope: granted,
    })
    .into_response())
}

async fn password(
    state: &AppState,
    client: &Client,
    params: &Params,
    ip: ClientIp,
) -> Result<Response, OAuthError> {
    // A password alone would get around the second factor.
    if state.config().require_second_factor {
        return Err(OAuthError::unsupported_grant_type(
            "the password grant is off: this server requires a second factor",
        ));
    }
    let username = params.require("username")?;
    let pw = params.require("password")?;
    let raw_scope = params
        .get("scope")
        .ok_or_else(|| OAuthError::invalid_scope("the scope is missing"))?;
    let scope = parse_request_scope(raw_scope)
        .map_err(|e| OAuthError::invalid_scope(scope_error_description(&e)))?;
    if !within_registered(&scope, &client.scopes) {
        return Err(OAuthError::invalid_scope(
            "the scope is wider than the scopes registered for this client",
        ));
    }
    let customer = match check_password_throttled(state, username, pw, ip).await? {
        PasswordCheck::Ok(c) => c,
        PasswordCheck::Wrong => {
            return Err(OAuthError::invalid_grant("wrong username or password"));
        }
        PasswordCheck::Throttled(secs) => {
            return Err(OAuthError::too_many_attempts(format!(
                "too many failed sign-ins; try again in {secs} seconds"
            )));
        }
        PasswordCheck::Busy => return Err(OAuthError::temporarily_unavailable()),
    };
    let now = state.now();
    let meters = state.store().meters(&customer.customer_id).await?;
    let choices = match scope.meter_request() {
        espi_scope::MeterRequest::Unspecified => DecisionChoices {
            meters: Some(meters.iter().map(|m| m.said.clone()).collect()),
            ..DecisionChoices::default()
        },
        _ => DecisionChoices::default(),
    };
    let grant = final_grant(state, &scope, &choices, &meters, now)
        .await
        .map_err(|e| {
            if e.status().is_server_error() {
                OAuthError::server_error()
            } else {
                OAuthError::invalid_scope(e.message)
            }
        })?;
    let default_end = now + state.config().default_authorization_seconds as i64;
    let authorization = authorization_record(
        client,
        &customer.customer_id,
        &grant,
        "password",
        now,
        default_end,
    );
    let issued = new_pair(state, now);
    state
        .store()
        .insert_authorization_with_tokens(&authorization, &new_id(), &issued.tokens, now)
        .await?;
    customer_response(state, &authorization.authorization_id, issued).await
}

/// The authorization record of a grant.
pub fn authorization_record(
    client: &Client,
    customer_id: &str,
    grant: &espi_scope::EspiScope,
    grant_type: &str,
    now: i64,
    default_end: i64,
) -> Authorization {
    let meters = crate::scope::granted_meters(grant);
    Authorization {
        authorization_id: new_id(),
        client_id: client.client_id.clone(),
        customer_id: customer_id.to_string(),
        scope: grant.to_string(),
        meters,
        grant_type: grant_type.to_string(),
        granted_at: now,
        end_date: grant
            .preferred_auth_end_date
            .map(|e| i64::try_from(e).unwrap_or(i64::MAX))
            .unwrap_or(default_end),
        history_length: grant
            .history_length
            .map(|h| i64::try_from(h).unwrap_or(i64::MAX)),
        revoked_at: None,
    }
}
