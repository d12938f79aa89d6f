//! `GET`/`PUT ApplicationInformation/{id}` for a `registration_access_token`
//! (RFC 7592 style): a client reads and updates its own registration. `{id}`
//! is the `client_id`. The `client_secret` is stored only as a keyed hash,
//! so it is written empty; `registration_access_token` is the token the
//! request was made with.
//!
//! PUT takes an `ApplicationInformation` (bare or in an Atom entry) and
//! replaces what a client may change of itself: `client_name`,
//! `redirect_uri` (one or more, absolute http(s), no fragment), `logo_uri`,
//! `client_uri`, `policy_uri`, `tos_uri` (absent = cleared).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;

use crate::AppState;
use crate::error::ResourceError;
use crate::espi::bearer;
use crate::espi::reader::{Node, ends_with, walk};
use crate::espi::resources::atom;
use crate::espi::writer::{self, Head, seg};
use crate::store::{Client, RegistrationUpdate, TokenKind, TokenRow};

async fn own_client(state: &AppState, tok: &TokenRow, id: &str) -> Result<Client, ResourceError> {
    let allowed = match tok.kind {
        TokenKind::RegistrationAccess => tok.client_id == id,
        TokenKind::DataCustodianAccess => true,
        _ => false,
    };
    if !allowed {
        return Err(ResourceError::InsufficientScope);
    }
    state
        .store()
        .client(id)
        .await?
        .ok_or(ResourceError::NotFound)
}

fn presented_token(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .map(|(_, t)| t.trim().to_string())
        .unwrap_or_default()
}

/// The ApplicationInformation entry of a client.
pub fn entry(state: &AppState, c: &Client, registration_token: &str) -> Vec<u8> {
    let href = state.url(&format!(
        "/espi/1_1/resource/ApplicationInformation/{}",
        seg(&c.client_id)
    ));
    let h = Head {
        key: format!("applicationinformation/{}", c.client_id),
        href: href.clone(),
        up: Some(state.url("/espi/1_1/resource/ApplicationInformation")),
        related: vec![],
        title: c.name.clone(),
        published: c.created_at,
        updated: c.created_at,
    };
    let notify = c
        .client_uri
        .clone()
        .or_else(|| c.redirect_uris.first().cloned())
        .unwrap_or_else(|| state.url("/"));
    let mut scopes = c.scopes.clone();
    if scopes.is_empty()
        && let Some(s) = c.kind.client_token_kind().client_scope()
    {
        scopes.push(s.to_string());
    }
    // ESPI GrantType knows these three and wants at least two; every client
    // here may use client_credentials (it gives the token of its kind).
    let mut grants: Vec<&str> = ["authorization_code", "client_credentials", "refresh_token"]
        .into_iter()
        .filter(|g| *g == "client_credentials" || c.grant_types.iter().any(|x| x == g))
        .collect();
    if grants.len() < 2 {
        grants.push("refresh_token");
    }
    let mut buf = Vec::new();
    writer::entry(&mut buf, &h, true, |x| {
        x.open("espi:ApplicationInformation")
            .leaf("espi:dataCustodianId", "reference-datacustodian")
            .leaf("espi:dataCustodianApplicationStatus", 2)
            .leaf("espi:thirdPartyNotifyUri", &notify)
            .leaf(
                "espi:authorizationServerAuthorizationEndpoint",
                state.url("/oauth/authorize"),
            )
            .leaf(
                "espi:authorizationServerTokenEndpoint",
                state.url("/oauth/token"),
            )
            .leaf(
                "espi:dataCustodianBulkRequestURI",
                state.url("/espi/1_1/resource/Batch/Bulk"),
            )
            .leaf(
                "espi:dataCustodianResourceEndpoint",
                state.url("/espi/1_1/resource"),
            )
            .leaf("espi:client_secret", "");
        if let Some(u) = &c.logo_uri {
            x.leaf("espi:logo_uri", u);
        }
        x.leaf("espi:client_name", &c.name);
        if let Some(u) = &c.client_uri {
            x.leaf("espi:client_uri", u);
        }
        for r in &c.redirect_uris {
            x.leaf("espi:redirect_uri", r);
        }
        x.leaf("espi:client_id", &c.client_id);
        if let Some(u) = &c.tos_uri {
            x.leaf("espi:tos_uri", u);
        }
        if let Some(u) = &c.policy_uri {
            x.leaf("espi:policy_uri", u);
        }
        x.leaf("espi:software_id", "datacustodian")
            .leaf("espi:software_version", env!("CARGO_PKG_VERSION"))
            .leaf("espi:client_id_issued_at", c.created_at)
            .leaf("espi:client_secret_expires_at", 0)
            .leaf("espi:token_endpoint_auth_method", "client_secret_basic");
        for s in &scopes {
            x.leaf("espi:scope", s);
        }
        for g in &grants {
            x.leaf("espi:grant_types", g);
        }
        x.leaf("espi:response_types", "code")
            .leaf("espi:registration_client_uri", &href)
            .leaf("espi:registration_access_token", registration_token)
            .close("espi:ApplicationInformation");
    });
    buf
}

/// GET.
pub async fn get_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    let c = own_client(&state, &tok, &id).await?;
    Ok(atom(entry(&state, &c, &presented_token(&headers))))
}

fn uri(field: &str, s: &str) -> Result<String, String> {
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.fragment().is_none() => {
            Ok(s.to_string())
        }
        _ => Err(format!(
            "{field} is not an absolute http(s) URI without a fragment: {s:?}"
        )),
    }
}

/// Reads the fields a client may change from an ApplicationInformation.
pub fn parse_update(xml: &[u8]) -> Result<RegistrationUpdate, String> {
    let mut u = RegistrationUpdate {
        name: String::new(),
        redirect_uris: vec![],
        logo_uri: None,
        client_uri: None,
        policy_uri: None,
        tos_uri: None,
    };
    let mut found = false;
    walk(xml, |n| {
        if let Node::Close(path, text) = n {
            let field = |f: &str| ends_with(path, &["ApplicationInformation", f]);
            if ends_with(path, &["ApplicationInformation"]) {
                found = true;
            } else if field("client_name") {
                u.name = text.to_string();
            } else if field("redirect_uri") {
                u.redirect_uris.push(uri("redirect_uri", text)?);
            } else if field("logo_uri") {
                u.logo_uri = Some(uri("logo_uri", text)?);
            } else if field("client_uri") {
                u.client_uri = Some(uri("client_uri", text)?);
            } else if field("policy_uri") {
                u.policy_uri = Some(uri("policy_uri", text)?);
            } else if field("tos_uri") {
                u.tos_uri = Some(uri("tos_uri", text)?);
            }
        }
        Ok(())
    })?;
    if !found {
        return Err("the body holds no ApplicationInformation".into());
    }
    if u.name.is_empty() || u.name.chars().count() > 256 {
        return Err("client_name must have 1 to 256 characters".into());
    }
    if u.redirect_uris.is_empty() {
        return Err("at least one redirect_uri is required".into());
    }
    Ok(u)
}

/// PUT.
pub async fn put_info(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ResourceError> {
    let tok = bearer(&state, &headers).await?;
    own_client(&state, &tok, &id).await?;
    let u = parse_update(&body).map_err(ResourceError::BadRequest)?;
    if !state.store().update_registration(&id, &u).await? {
        return Err(ResourceError::NotFound);
    }
    let c = own_client(&state, &tok, &id).await?;
    Ok(atom(entry(&state, &c, &presented_token(&headers))))
}
