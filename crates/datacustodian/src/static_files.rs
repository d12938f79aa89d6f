//! Static pages: the consent widget (`dist/`) at `/consent/`, the scope
//! playground (or a small landing page) at `/`, and the demo client's
//! callback page at `/playground/callback`.

use axum::Router;
use axum::extract::{RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use crate::AppState;
use crate::admin::DEMO_CLIENT_ID;
use crate::error::{html_escape, html_page};

async fn revalidate(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

async fn widget_missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(html_page(
            "Consent widget not built",
            "<h1>The consent widget is not built</h1><p>Run <code>trunk build --release</code> \
             at the repository root (it writes <code>dist/</code>), or start the server with \
             <code>--assets DIR</code>.</p>",
        )),
    )
        .into_response()
}

async fn landing(State(state): State<AppState>) -> Html<String> {
    let demo = match state.store().client(DEMO_CLIENT_ID).await {
        Ok(Some(c)) => c.redirect_uris.first().map(|r| {
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("response_type", "code")
                .append_pair("client_id", DEMO_CLIENT_ID)
                .append_pair("redirect_uri", r)
                .append_pair("scope", crate::admin::DEMO_SCOPE)
                .append_pair("state", "landing-page")
                .finish();
            format!(
                "<p><a href=\"/oauth/authorize?{}\">Try the consent flow as the demo third party</a></p>",
                html_escape(&q)
            )
        }),
        _ => None,
    }
    .unwrap_or_default();
    Html(html_page(
        "Green Button DataCustodian",
        &format!(
            "<h1>Green Button Connect My Data: reference DataCustodian</h1>{demo}\
             <ul><li><a href=\"/.well-known/oauth-authorization-server\">OAuth metadata (RFC 8414)</a></li>\
             <li><a href=\"/consent/\">The consent widget</a></li></ul>"
        ),
    ))
}

async fn callback(State(state): State<AppState>, RawQuery(q): RawQuery) -> Html<String> {
    let q = q.unwrap_or_default();
    let mut rows = String::new();
    let mut code = None;
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        if k == "code" {
            code = Some(v.to_string());
        }
        rows.push_str(&format!(
            "<dt>{}</dt><dd><code>{}</code></dd>",
            html_escape(&k),
            html_escape(&v)
        ));
    }
    let redeem = code
        .map(|c| {
            format!(
                "<p>Redeem the code within 60 seconds (add <code>-d code_verifier=…</code> if the \
                 request had a PKCE challenge):</p><pre>curl -s -u {DEMO_CLIENT_ID}:$CLIENT_SECRET \
                 {} -d grant_type=authorization_code -d code={} -d redirect_uri={}</pre>",
                html_escape(&state.url("/oauth/token")),
                html_escape(&c),
                html_escape(&state.url("/playground/callback")),
            )
        })
        .unwrap_or_default();
    Html(html_page(
        "Authorization response",
        &format!("<h1>Authorization response</h1><dl>{rows}</dl>{redeem}"),
    ))
}

/// The playground's own page at its redirect URI: the SPA reads the code,
/// checks `state` and `iss`, and redeems the code itself. `no-store`: the
/// query holds a single-use code.
async fn playground_callback(State(state): State<AppState>) -> Response {
    let Some(dir) = state.config().playground_dir.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match tokio::fs::read_to_string(dir.join("index.html")).await {
        Ok(page) => Html(page).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the playground's index.html");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `GET /playground/sandbox.json`, in demo sandbox mode only: the demo
/// client's credentials and endpoints, so the playground's "Try it" can run
/// the real flow and redeem the code. 404 otherwise: it publishes a secret.
async fn sandbox(State(state): State<AppState>) -> Response {
    if !state.config().demo_sandbox {
        return StatusCode::NOT_FOUND.into_response();
    }
    match state.store().client(DEMO_CLIENT_ID).await {
        Ok(Some(_)) => axum::Json(serde_json::json!({
            "client_id": DEMO_CLIENT_ID,
            "client_secret": crate::admin::demo_client_secret(&state),
            "redirect_uri": state.url("/playground/callback"),
            "authorization_endpoint": state.url("/oauth/authorize"),
            "token_endpoint": state.url("/oauth/token"),
            "issuer": state.config().public_url,
        }))
        .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the demo client");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The routes (the playground, when present, is the fallback service).
/// Static files are served with `Cache-Control: no-cache` (their names are
/// stable, so browsers revalidate); the pages built here get the default
/// `no-store`.
pub fn routes(state: &AppState) -> Router<AppState> {
    let cfg = state.config();
    let playground = cfg.playground_dir.as_ref().filter(|d| d.is_dir());
    let mut r = Router::new()
        .route("/playground/sandbox.json", get(sandbox))
        .route(
            "/playground/callback",
            if playground.is_some() {
                get(playground_callback)
            } else {
                get(callback)
            },
        );
    r = match cfg.assets_dir.as_ref().filter(|d| d.is_dir()) {
        Some(dir) => r.merge(
            Router::new()
                .nest_service(
                    "/consent",
                    ServeDir::new(dir).append_index_html_on_directories(true),
                )
                .layer(middleware::from_fn(revalidate)),
        ),
        None => r
            .route("/consent", get(widget_missing))
            .route("/consent/", get(widget_missing))
            .route("/consent/{*rest}", get(widget_missing)),
    };
    match playground {
        Some(dir) => r.merge(
            Router::new()
                .fallback_service(ServeDir::new(dir).append_index_html_on_directories(true))
                .layer(middleware::from_fn(revalidate)),
        ),
        None => r.route("/", get(landing)),
    }
}
