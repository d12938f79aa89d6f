//! Real https origins on loopback: a test CA and a server certificate made
//! here with `rcgen` for the `*.test` names below, the Chromium flags that
//! map `*.test` to 127.0.0.1 and trust the certificate by its key
//! (`--ignore-certificate-errors-spki-list`, which works headless), an
//! http client that trusts it for the third party, and the utility's
//! portal served on those origins.
//!
//! ```no_run
//! # async fn demo() {
//! use consent_e2e::tls::{AUTH_HOST, Portal, TestTls};
//! use consent_e2e::server::TestServer;
//! let tls = TestTls::new();
//! let portal = Portal::start(&tls).await;
//! let server = TestServer::start_https(&tls, AUTH_HOST, |_| {}).await;
//! portal.set_consent_origin(&server.base);
//! println!("{}", portal.url("my.utility.test", "/connect?request=…"));
//! # }
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::server::TestServer;

/// The consent server's host (the utility's own domain).
pub const AUTH_HOST: &str = "auth.utility.test";
/// The utility's portal: the same site as [`AUTH_HOST`], another origin.
pub const PORTAL_HOST: &str = "my.utility.test";
/// A portal run by a vendor: another site.
pub const VENDOR_HOST: &str = "portal-vendor.test";
/// An origin no client registered.
pub const UNREGISTERED_HOST: &str = "unregistered.test";

/// A test CA, a server certificate for every `*.test` host above signed by
/// it, and their PEM files in a temporary directory.
pub struct TestTls {
    dir: tempfile::TempDir,
    ca_der: Vec<u8>,
    spki_sha256: String,
}

impl Default for TestTls {
    fn default() -> TestTls {
        TestTls::new()
    }
}

impl TestTls {
    /// Makes the CA and the certificate (fresh keys each time).
    pub fn new() -> TestTls {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "consent-e2e test CA");
        let ca = ca.self_signed(&ca_key).expect("the CA certificate");
        let key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = [AUTH_HOST, PORTAL_HOST, VENDOR_HOST, UNREGISTERED_HOST]
            .iter()
            .map(|h| h.to_string())
            .collect();
        let leaf = CertificateParams::new(names)
            .expect("server params")
            .signed_by(&key, &ca, &ca_key)
            .expect("the server certificate");
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("cert.pem"),
            format!("{}{}", leaf.pem(), ca.pem()),
        )
        .expect("write cert.pem");
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("write key.pem");
        let spki_sha256 =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(key.public_key_der()));
        TestTls {
            dir,
            ca_der: ca.der().to_vec(),
            spki_sha256,
        }
    }

    /// The PEM certificate chain (server, then CA): `--tls-cert`.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The PEM private key: `--tls-key`.
    pub fn key_path(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// The rustls configuration `datacustodian serve --tls-cert --tls-key`
    /// builds from these files.
    pub fn server_config(&self) -> rustls::ServerConfig {
        datacustodian::tls::server_config(&self.cert_path(), &self.key_path())
            .unwrap_or_else(|e| panic!("the test certificate: {e}"))
    }

    /// Chromium flags: every `*.test` host is 127.0.0.1, and the server
    /// key is trusted (the port stays in the URL, so each origin is
    /// `https://HOST:PORT`).
    pub fn chromium_args(&self) -> Vec<String> {
        vec![
            "--host-resolver-rules=MAP *.test 127.0.0.1".to_string(),
            format!("--ignore-certificate-errors-spki-list={}", self.spki_sha256),
        ]
    }

    /// An http client (the third party's backend) that trusts the test CA
    /// and resolves `server`'s host to loopback.
    pub fn http_client(&self, server: &TestServer) -> reqwest::Client {
        let url = url::Url::parse(&server.base).expect("the server's URL");
        let host = url.host_str().expect("a host").to_string();
        let port = url.port_or_known_default().expect("a port");
        reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_der(&self.ca_der).expect("the CA certificate"),
            )
            .tls_built_in_root_certs(false)
            .resolve(&host, SocketAddr::from(([127, 0, 0, 1], port)))
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an https client")
    }
}

/// The portal's https server: one loopback port, every `*.test` host, so
/// `https://my.utility.test:PORT` (same site as the consent server) and
/// `https://portal-vendor.test:PORT` (another site) are two origins.
pub struct Portal {
    /// The port.
    pub port: u16,
    state: PortalState,
}

#[derive(Clone)]
struct PortalState {
    /// The consent server's origin (`https://auth.utility.test:PORT`),
    /// set once it runs ([`Portal::set_consent_origin`]).
    auth: std::sync::Arc<std::sync::RwLock<String>>,
}

impl PortalState {
    fn auth(&self) -> String {
        self.auth.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The README's embedding snippet, exactly as written there.
pub fn readme_snippet() -> String {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Embedding")
        .nth(1)
        .expect("the README has an Embedding section");
    let start = section.find("```html\n").expect("an html block") + "```html\n".len();
    let len = section[start..].find("```").expect("the end of the block");
    section[start..start + len].to_string()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `/connect?request=ID`: the portal page a utility writes from the README
/// snippet (its consent server's origin for `https://auth.example.com`,
/// the request id for `…`, English), under the portal's own strict CSP,
/// which names the consent origin for scripts, styles and connections.
async fn connect(
    State(p): State<PortalState>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let request = q.get("request").map(String::as_str).unwrap_or_default();
    let auth = p.auth();
    let snippet = readme_snippet()
        .replace("https://auth.example.com", &auth)
        .replace(
            "request-id=\"…\"",
            &format!("request-id=\"{}\"", esc(request)),
        )
        .replace("locale=\"es\"", "locale=\"en\"");
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Connect an app – Example Utility</title>\
         <script type=\"module\" src=\"/events.js\"></script></head>\
         <body><main><h1>Connect an app to your account</h1>{snippet}\
         <h2>Widget events</h2><ol id=\"event-log\"></ol></main></body></html>"
    );
    let csp = format!(
        "default-src 'self'; script-src 'self' {a} 'wasm-unsafe-eval'; style-src 'self' {a}; \
         connect-src {a}; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'",
        a = auth
    );
    let mut resp = Html(page).into_response();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

/// The portal's own script: lists the widget's events in `#event-log`.
async fn events_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript")],
        "const log = document.getElementById('event-log');\n\
         for (const n of ['ready', 'step', 'authorized', 'declined', 'error']) {\n\
           document.addEventListener('gb-consent:' + n, (e) => {\n\
             const li = document.createElement('li');\n\
             li.textContent = e.type + ' ' + JSON.stringify(e.detail);\n\
             log.append(li);\n\
           });\n\
         }\n",
    )
        .into_response()
}

/// `/host?src=URL`: a page that frames `URL` and records the `message`
/// events it receives (see [`crate::server::framing_page`]).
async fn host(Query(q): Query<std::collections::HashMap<String, String>>) -> Html<String> {
    crate::server::framing_page(q.get("src").map(String::as_str).unwrap_or_default())
}

/// CORS with credentials for whoever asks (the probe only).
fn probe_cors(headers: &HeaderMap, resp: &mut Response) {
    if let Some(o) = headers.get(header::ORIGIN) {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
        resp.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

/// `/probe/set`: sets a `SameSite=None; Secure` cookie; with
/// `/probe/read` a page on another site checks whether the browser keeps
/// third-party cookies.
async fn probe_set(headers: HeaderMap) -> Response {
    let mut resp = (
        [(header::SET_COOKIE, "probe=1; Path=/; Secure; SameSite=None")],
        "set",
    )
        .into_response();
    probe_cors(&headers, &mut resp);
    resp
}

/// `/probe/read`: `cookie` when the probe cookie came with the request.
async fn probe_read(headers: HeaderMap) -> Response {
    let has = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("probe=1"));
    let mut resp = if has { "cookie" } else { "none" }.into_response();
    probe_cors(&headers, &mut resp);
    resp
}

impl Portal {
    /// Starts the portal (then tell it where the consent server is with
    /// [`Portal::set_consent_origin`]: the server's configuration may need
    /// the portal's URL first).
    pub async fn start(tls: &TestTls) -> Portal {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("local address").port();
        let state = PortalState {
            auth: std::sync::Arc::default(),
        };
        let router = axum::Router::new()
            .route("/connect", axum::routing::get(connect))
            .route("/events.js", axum::routing::get(events_js))
            .route("/host", axum::routing::get(host))
            .route("/probe/set", axum::routing::get(probe_set))
            .route("/probe/read", axum::routing::get(probe_read))
            .with_state(state.clone());
        let config = axum_server::tls_rustls::RustlsConfig::from_config(std::sync::Arc::new(
            tls.server_config(),
        ));
        tokio::spawn(async move {
            let _ = axum_server::from_tcp_rustls(listener, config)
                .serve(router.into_make_service())
                .await;
        });
        Portal { port, state }
    }

    /// The consent server's origin, for the embedding snippet and the CSP.
    pub fn set_consent_origin(&self, origin: &str) {
        *self.state.auth.write().unwrap_or_else(|p| p.into_inner()) =
            origin.trim_end_matches('/').to_string();
    }

    /// `https://{host}:PORT` (an origin).
    pub fn origin(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }

    /// `https://{host}:PORT{path}`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("{}{path}", self.origin(host))
    }
}
