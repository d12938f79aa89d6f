//! The OAuth 2.0 endpoints: authorization, token, revocation, introspection
//! and metadata, plus what they share (form parsing, client
//! authentication).

pub mod authorize;
pub mod introspect;
pub mod metadata;
pub mod revoke;
pub mod token;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use espi_scope::form_decode;

use crate::AppState;
use crate::error::OAuthError;
use crate::security::secrets::{Purpose, ct_eq};
use crate::store::Client;

/// Form parameters of a POST, with repeated names refused (RFC 6749 §3.2).
#[derive(Debug, Default)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn from_form(headers: &HeaderMap, body: &Bytes) -> Result<Params, OAuthError> {
        let ct = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim();
        if !body.is_empty() && !mime.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        Params::from_query(body)
    }

    /// Parses urlencoded pairs.
    pub fn from_query(bytes: &[u8]) -> Result<Params, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(bytes) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {k} is repeated"
                )));
            }
        }
        Ok(Params { map })
    }

    /// A parameter; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// A required parameter.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("the parameter {name} is missing")))
    }
}

/// Authenticates the client: HTTP Basic (`client_secret_basic`, id and
/// secret form-urlencoded as RFC 6749 §2.3.1 says) or `client_id` +
/// `client_secret` in the body (`client_secret_post`); never both.
pub async fn authenticate_client(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Client, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_string())
        });
    let (id, secret) = match (basic, params.get("client_secret")) {
        (Some(_), Some(_)) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not both",
            ));
        }
        (Some(b64), None) => {
            let decoded = STANDARD
                .decode(b64.as_bytes())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let malformed = |_| OAuthError::invalid_client("malformed Basic credentials");
            let id = form_decode(id).map_err(malformed)?;
            if let Some(body_id) = params.get("client_id")
                && body_id != id
            {
                return Err(OAuthError::invalid_request(
                    "client_id in the body differs from the authenticated client",
                ));
            }
            (id, form_decode(secret).map_err(malformed)?)
        }
        (None, Some(secret)) => {
            let id = params
                .get("client_id")
                .ok_or_else(|| OAuthError::invalid_client("client authentication is required"))?;
            (id.to_string(), secret.to_string())
        }
        (None, None) => {
            return Err(OAuthError::invalid_client(
                "client authentication is required",
            ));
        }
    };
    let presented = state.key().hash(Purpose::ClientSecret, &secret);
    let client = if id.len() <= 256 {
        state.store().client(&id).await?
    } else {
        None
    };
    match client {
        Some(c) if ct_eq(&presented, &c.secret_hash) => Ok(c),
        _ => Err(OAuthError::invalid_client("unknown client or wrong secret")),
    }
}

/// The ESPI URIs of an authorization.
pub struct EspiUris {
    /// `.../Batch/Subscription/{id}`
    pub resource: String,
    /// `.../Authorization/{id}`
    pub authorization: String,
    /// `.../Batch/RetailCustomer/{customer}`
    pub customer: String,
}

/// The ESPI URIs of an authorization.
pub fn espi_uris(state: &AppState, authorization_id: &str, customer_id: &str) -> EspiUris {
    EspiUris {
        resource: state.url(&format!(
            "/espi/1_1/resource/Batch/Subscription/{authorization_id}"
        )),
        authorization: state.url(&format!(
            "/espi/1_1/resource/Authorization/{authorization_id}"
        )),
        customer: state.url(&format!(
            "/espi/1_1/resource/Batch/RetailCustomer/{customer_id}"
        )),
    }
}

/// Appends query parameters to a redirect URI (keeping its own query).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}
