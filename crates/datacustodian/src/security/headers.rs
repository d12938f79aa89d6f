//! Response headers on every response, CORS (any origin for the four OAuth
//! endpoints that allow it; registered embed origins only, with
//! credentials, for the consent API and the widget's files), the consent
//! session cookie, and the per-request log line.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use super::secrets::Purpose;
use crate::{AppState, Config};

/// The session cookie's name over http (see
/// [`crate::Config::session_cookie_name`]: `__Host-gbcd_session` over https).
pub const SESSION_COOKIE: &str = "gbcd_session";

/// `Strict-Transport-Security` sent when the public URL is https: a year,
/// subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The CSP, with `frame-ancestors` filled in.
pub fn csp(frame_ancestors: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors {frame_ancestors}"
    )
}

/// CORS for token, metadata, revocation and introspection: any origin, no
/// credentials (clients authenticate with their secret, not cookies).
pub fn cors_layer() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}

/// CORS for the consent API and the widget's files: only for an origin
/// some client registered as an embed origin (`client add
/// --frame-ancestor ORIGIN`), echoed exactly with
/// `Access-Control-Allow-Credentials: true` and `Vary: Origin`; any other
/// origin gets no CORS header at all, so its page can neither load the
/// widget nor read an answer. The preflight allows only what the widget
/// sends: `GET`, `POST`, `DELETE` (sign-out), and the `Content-Type`,
/// `X-CSRF-Token` and `X-Consent-Session` headers; the new session secret
/// comes back in `X-Consent-Session`, which is exposed. Never on
/// `/oauth/authorize`.
pub fn embed_cors_layer(state: &AppState) -> CorsLayer {
    let state = state.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(move |origin, _parts| {
            let state = state.clone();
            async move {
                match origin.to_str() {
                    Ok(o) => embed_origin_registered(&state, o).await,
                    Err(_) => false,
                }
            }
        }))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::HeaderName::from_static(crate::security::csrf::HEADER),
            header::HeaderName::from_static(crate::consent::SESSION_HEADER),
        ])
        .expose_headers([header::HeaderName::from_static(
            crate::consent::SESSION_HEADER,
        )])
        .vary([header::ORIGIN])
        .max_age(std::time::Duration::from_secs(600))
}

/// Whether some client registered `origin` (exactly, as the browser sends
/// it: scheme, host, port) as an embed origin. This server's own origin
/// needs no CORS (the hosted page's `POST`s carry `Origin` too): no
/// database read for it.
async fn embed_origin_registered(state: &AppState, origin: &str) -> bool {
    let own = url::Url::parse(&state.config().public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    if origin == own {
        return false;
    }
    match state.store().clients().await {
        Ok(clients) => clients
            .iter()
            .any(|c| c.frame_ancestors.iter().any(|a| a == origin)),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the clients for CORS");
            false
        }
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The `frame-ancestors` value for a request: the client's registered
/// origins when this is the consent page of a known request, else `'none'`.
async fn frame_ancestors_for(state: &AppState, path: &str, query: Option<&str>) -> String {
    let page = state.config().consent_page.as_str();
    let is_page = path == page
        || path == page.trim_end_matches('/')
        || (path.starts_with(page) && path.ends_with(".html"));
    if !is_page {
        return "'none'".to_string();
    }
    let Some(id) = query.and_then(|q| query_param(q, "request")) else {
        return "'none'".to_string();
    };
    if id.len() > 64 {
        return "'none'".to_string();
    }
    let hash = state.key().hash(Purpose::Request, &id);
    let Ok(Some(r)) = state.store().request_by_id(&hash).await else {
        return "'none'".to_string();
    };
    let Ok(Some(client)) = state.store().client(&r.client_id).await else {
        return "'none'".to_string();
    };
    if client.frame_ancestors.is_empty() {
        "'none'".to_string()
    } else {
        client.frame_ancestors.join(" ")
    }
}

/// Adds CSP, `Referrer-Policy`, `X-Content-Type-Options` and (unless the
/// handler chose a cache policy, as static assets do) `Cache-Control:
/// no-store` to every response.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let ancestors = frame_ancestors_for(&state, &path, query.as_deref()).await;
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(&ancestors)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if ancestors == "'none'" {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if state.config().secure_cookies() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// One structured log line per request: method, path (never the query,
/// which may hold codes), status, latency. Paths that carry a request id
/// (a bearer secret until the request is bound) are logged as their route
/// template, e.g. `/api/consent/requests/{request_id}/decision`.
pub async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = match req.extensions().get::<MatchedPath>() {
        Some(m) if m.as_str().contains("{request_id}") => m.as_str().to_string(),
        _ => req.uri().path().to_string(),
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    let latency_us = start.elapsed().as_micros() as u64;
    tracing::info!(
        target: "datacustodian::http",
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        latency_us,
        "request"
    );
    resp
}

/// The session cookie value sent by the browser, if any (the cookie named
/// `name`).
pub fn session_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// `Set-Cookie` for the session: HttpOnly, SameSite=Strict, Path=/, no
/// Domain; over https `Secure` and the `__Host-` name prefix.
pub fn set_session_cookie(value: &str, max_age: i64, config: &Config) -> HeaderValue {
    let s = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        config.session_cookie_name(),
        max_age.max(0),
        if config.secure_cookies() {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&s)
        .unwrap_or_else(|_| HeaderValue::from_static("gbcd_session=; Max-Age=0"))
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(config: &Config) -> HeaderValue {
    set_session_cookie("", 0, config)
}
