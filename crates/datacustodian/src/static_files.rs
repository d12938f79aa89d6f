//! Static pages: the consent widget (`dist/`) at `/consent/`, the scope
//! playground (or a small landing page) at `/`, and the demo client's
//! callback page at `/playground/callback`.
//!
//! The widget's files are served precompressed (the `.br` and `.gz` files
//! the build writes beside them) and twice: at `/consent/{name}` with
//! `no-cache` (stable names a portal can embed, such as `embed.js`), and at
//! `/consent/v/{version}/{name}`, where `version` is a hash of the build,
//! cacheable for a year and `immutable`. The hosted page names the
//! versioned files and tells the browser to fetch the glue and the wasm at
//! once (`modulepreload`, `preload`), rather than after `boot.js` ran.

use axum::Router;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::services::ServeDir;

use crate::AppState;
use crate::admin::DEMO_CLIENT_ID;
use crate::error::{html_escape, html_page};
use crate::security::limits::ClientIp;

async fn revalidate(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    resp
}

/// Immutable caching for the versioned files.
async fn immutable(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    if resp.status().is_success() {
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    resp
}

/// The widget build being served.
#[derive(Clone, Debug)]
pub struct WidgetBuild {
    /// A hash of every file of the build (16 hex digits).
    pub version: String,
    /// The hosted page, naming the versioned files.
    page: String,
    /// "Your data sharing" (`/consent/sharing`): the page of the build
    /// with the widget's `sharing` feature, in `sharing/` (its files are
    /// served from there under `/consent/sharing/`); `None` when absent.
    sharing_page: Option<String>,
}

impl WidgetBuild {
    /// Reads the build in `dir` (Trunk's `dist/`).
    ///
    /// # Errors
    /// When `index.html` or a file cannot be read.
    pub fn load(dir: &std::path::Path) -> std::io::Result<WidgetBuild> {
        use sha2::{Digest, Sha256};
        let mut names: Vec<_> = std::fs::read_dir(dir)?
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name())
            .collect();
        names.sort();
        let mut hash = Sha256::new();
        for name in &names {
            hash.update(name.as_encoded_bytes());
            hash.update(std::fs::read(dir.join(name))?);
        }
        let version: String = hash.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let index = std::fs::read_to_string(dir.join("index.html"))?;
        let page = hosted_page(&index, &version);
        // A page of its own, so a customer authorizing never downloads it
        // (`boot.js` mounts the widget in its sharing mode on the page's
        // `data-mode=sharing` mark).
        let sharing_page = std::fs::read_to_string(dir.join("sharing").join("index.html")).ok();
        Ok(WidgetBuild {
            page,
            sharing_page,
            version,
        })
    }
}

/// Trunk's `index.html` with versioned URLs and preload hints for the glue
/// and the wasm (which `boot.js` would otherwise ask for only once it ran).
fn hosted_page(index: &str, version: &str) -> String {
    let base = format!("/consent/v/{version}/");
    let page = index
        .replace("/consent/boot.js", &format!("{base}boot.js"))
        .replace(
            "/consent/consent-widget.css",
            &format!("{base}consent-widget.css"),
        );
    let hints = format!(
        "<link rel=modulepreload href={base}consent-widget.js>\
         <link rel=preload href={base}consent-widget_bg.wasm as=fetch type=application/wasm crossorigin>"
    );
    match page.find("</head>") {
        Some(at) => format!("{}{hints}{}", &page[..at], &page[at..]),
        None => page.replacen("<script", &format!("{hints}<script"), 1),
    }
}

/// What the hosted page needs.
#[derive(Clone)]
struct Hosted {
    app: AppState,
    build: WidgetBuild,
}

/// The context of `?request=` as the consent API would answer it (binding
/// the request to this browser's session, with its `Set-Cookie`), or
/// nothing when that read would not answer 200 or the client is over its
/// rate limit (then the widget asks the API itself, and shows its answer).
async fn embedded_context(
    app: &AppState,
    ip: ClientIp,
    query: Option<&str>,
    headers: axum::http::HeaderMap,
) -> Option<(Vec<u8>, Vec<HeaderValue>)> {
    let request_id = url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "request")
        .map(|(_, v)| v.into_owned())?;
    app.limits().check(ip.0).ok()?;
    let resp = crate::consent::context::context_for(app, request_id, &headers)
        .await
        .ok()?;
    if resp.status() != StatusCode::OK {
        return None;
    }
    let cookies = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    let body = axum::body::to_bytes(resp.into_body(), 256 * 1024)
        .await
        .ok()?;
    Some((body.to_vec(), cookies))
}

/// `/consent/` and `/consent/index.html`: the hosted page of this build,
/// with the request's context in a JSON data block (one round trip fewer
/// before the first field; a data block is not script, so the strict CSP
/// allows it).
async fn hosted(State(h): State<Hosted>, ip: ClientIp, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == "/consent/sharing" || path == "/consent/sharing/" {
        // No request, nothing embedded: the widget reads the session.
        let Some(page) = h.build.sharing_page else {
            return widget_missing().await;
        };
        let mut resp = Html(page).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return resp;
    }
    if path != "/consent/" && path != "/consent/index.html" {
        return next.run(req).await;
    }
    // Only a browser opening the page at the top level (a GET navigation
    // of a document) gets the context: a link checker or a script fetching
    // the URL neither binds the request nor sees it. A framed page does
    // not either: its cookie may be blocked as third-party, so its widget
    // reads the context itself with the session in a header.
    let navigation = req.method() == axum::http::Method::GET
        && req
            .headers()
            .get("sec-fetch-mode")
            .is_some_and(|m| m == "navigate")
        && req
            .headers()
            .get("sec-fetch-dest")
            .is_some_and(|d| d == "document");
    let (query, headers) = (req.uri().query().map(str::to_owned), req.headers().clone());
    let embedded = match navigation {
        true => embedded_context(&h.app, ip, query.as_deref(), headers).await,
        false => None,
    };
    let Some((json, cookies)) = embedded else {
        let mut resp = Html(h.build.page).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return resp;
    };
    // `<` escaped, so nothing in the JSON can close the element.
    let json = String::from_utf8_lossy(&json).replace('<', "\\u003c");
    let block = format!("<script type=application/json id=gb-consent-context>{json}</script>");
    let page = match h.build.page.rfind("</body>") {
        Some(at) => format!("{}{block}{}", &h.build.page[..at], &h.build.page[at..]),
        None => format!("{}{block}", h.build.page),
    };
    let mut resp = Html(page).into_response();
    // It holds the CSRF token (and the customer's name when signed in).
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// `/consent/v/{version}/…` of another build is gone: never cache this
/// build's files under another build's name.
async fn only_this_build(
    State(build): State<WidgetBuild>,
    Path(version): Path<String>,
    req: Request,
    next: Next,
) -> Response {
    if version == build.version {
        next.run(req).await
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
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
    let widget = cfg
        .assets_dir
        .as_ref()
        .filter(|d| d.is_dir())
        .and_then(|dir| match WidgetBuild::load(dir) {
            Ok(build) => Some((dir, build)),
            Err(e) => {
                tracing::error!(error = %e, dir = %dir.display(), "cannot read the widget build");
                None
            }
        });
    r = match widget {
        Some((dir, build)) => {
            let files = || ServeDir::new(dir).precompressed_br().precompressed_gzip();
            // A portal on a registered embed origin loads `embed.js`, the
            // glue and the wasm with CORS (module scripts and wasm fetches
            // are CORS requests).
            let versioned = Router::new()
                .nest_service("/consent/v/{version}", files())
                .layer(middleware::from_fn_with_state(
                    build.clone(),
                    only_this_build,
                ))
                .layer(middleware::from_fn(immutable))
                .layer(crate::security::headers::embed_cors_layer(state));
            let hosted_state = Hosted {
                app: state.clone(),
                build,
            };
            let stable = Router::new()
                .nest_service("/consent", files())
                .layer(middleware::from_fn_with_state(hosted_state, hosted))
                .layer(middleware::from_fn(revalidate))
                .layer(crate::security::headers::embed_cors_layer(state));
            r.merge(versioned).merge(stable)
        }
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
