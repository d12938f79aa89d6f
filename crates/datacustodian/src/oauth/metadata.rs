//! `GET /.well-known/oauth-authorization-server` (RFC 8414). Built once at
//! start-up: the cheapest endpoint of the server.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::config::Config;

/// The metadata document for a configuration.
pub fn document(config: &Config) -> Value {
    let base = &config.public_url;
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "scopes_supported": [
            "FB=1_4_5_15_16_51",
            "FB=34_35",
            "FB=3_19_32_33_34_35_36_37_38_41_44_45",
            "FB=45",
            "FB=36_40"
        ],
        "service_documentation": format!("{base}/"),
    })
}

/// The handler.
pub async fn metadata(State(state): State<AppState>) -> Response {
    let mut resp = state.metadata_json().to_string().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}
