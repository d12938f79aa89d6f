//! The reference DataCustodian (crates/datacustodian) running in-process on
//! a loopback port, over a real SQLite file and a one-time-code outbox file
//! in a temporary directory, serving the built consent widget (`dist/` at
//! the repository root) at `/consent/`.
//!
//! ```no_run
//! # async fn demo() {
//! use consent_e2e::server::TestServer;
//! let server = TestServer::start().await;          // demo client + customers seeded
//! let tp = server.third_party("Solar Planner").await; // a registered client + redirect catcher
//! // Without the widget (e.g. only the playground): TestServer::start_bare(|c| c.playground_dir = …)
//! println!("{} {}", server.base, tp.redirect_uri);
//! # }
//! ```

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use datacustodian::otp_sender::OutboxSender;
use datacustodian::store::{ClientKind, ScopeOfUse};
use datacustodian::{
    AppState, Argon2Cost, ClientSecret, Config, DemoSeed, HmacKey, NewClient, Store, app,
    create_client, seed_demo,
};

use crate::eventually::eventually;

/// The demo customer with a username and password (`seed_demo`): Alex
/// Rivera, meters SA-1001 (electricity), SA-1002 (gas), SA-2001
/// (electricity), account 1234567890, ZIP 94105.
pub const ALEX: (&str, &str) = ("alex", "green-button-demo");
/// Alex's account number and ZIP code (account + ZIP + code sign-in).
pub const ALEX_ACCOUNT: (&str, &str) = ("1234567890", "94105");
/// Alex's meters (SAIDs), as seeded.
pub const ALEX_METERS: [&str; 3] = ["SA-1001", "SA-1002", "SA-2001"];

/// The built consent widget: `dist/` at the repository root. Panics with
/// the command to run when it is missing or incomplete.
pub fn widget_dist() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../dist"));
    let needed = [
        "index.html",
        "boot.js",
        "embed.js",
        "consent-widget.js",
        "consent-widget_bg.wasm",
        "portal.html",
    ];
    let missing: Vec<&str> = needed
        .iter()
        .copied()
        .filter(|f| !dir.join(f).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "the consent widget is not built at {} (missing: {}): run `source scripts/env.sh && \
         trunk build --release` at the repository root first",
        dir.display(),
        missing.join(", ")
    );
    dir
}

/// A running DataCustodian. Dropping it removes its temporary directory
/// (the server task ends with the test's runtime).
pub struct TestServer {
    /// `http://127.0.0.1:PORT`, or `https://HOST:PORT` (the issuer, no
    /// trailing slash).
    pub base: String,
    /// The server state (store, clock, config) for direct checks.
    pub state: AppState,
    /// What `seed_demo` created (demo client, customers).
    pub seed: DemoSeed,
    /// The outbox file: one JSON line per one-time code sent.
    pub outbox: PathBuf,
    /// The SQLite file.
    pub db_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server with the default configuration (cheap argon2 for
    /// test speed), the widget served from [`widget_dist`], and the demo
    /// seeded.
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], with a chance to change the
    /// configuration first.
    pub async fn start_with(change: impl FnOnce(&mut Config)) -> TestServer {
        let dist = widget_dist();
        TestServer::start_bare(move |config| {
            config.assets_dir = Some(dist);
            change(config);
        })
        .await
    }

    /// A server that does not need the consent widget built: no
    /// `assets_dir` unless `change` sets one (e.g. only `playground_dir`).
    /// Same SQLite file, outbox, cheap argon2 and demo seed as
    /// [`TestServer::start`].
    pub async fn start_bare(change: impl FnOnce(&mut Config)) -> TestServer {
        TestServer::launch(None, change).await
    }

    /// The server with the widget over https at
    /// `https://{host}:PORT` (the browser maps `*.test` to loopback and
    /// trusts `tls`'s certificate; see [`crate::tls::TestTls`]): `Secure`,
    /// `__Host-` cookies and real origins, served with
    /// `datacustodian::tls::serve_tls` as `serve --tls-cert --tls-key` does.
    pub async fn start_https(
        tls: &crate::tls::TestTls,
        host: &str,
        change: impl FnOnce(&mut Config),
    ) -> TestServer {
        let dist = widget_dist();
        TestServer::launch(Some((tls, host)), move |config| {
            config.assets_dir = Some(dist);
            change(config);
        })
        .await
    }

    async fn launch(
        tls: Option<(&crate::tls::TestTls, &str)>,
        change: impl FnOnce(&mut Config),
    ) -> TestServer {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db_path = dir.path().join("dc.sqlite");
        let outbox = dir.path().join("outbox.jsonl");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let base = match tls {
            Some((_, host)) => format!("https://{host}:{}", addr.port()),
            None => format!("http://{addr}"),
        };
        let mut config = Config::new(&base);
        config.argon2_cost = Argon2Cost::TestOnlyInsecure;
        change(&mut config);
        let store = Store::open(&format!("sqlite://{}", db_path.display()))
            .await
            .expect("open the SQLite store");
        let state = AppState::new(
            config,
            store,
            HmacKey::random(),
            Arc::new(OutboxSender::new(outbox.clone())),
        );
        let seed = seed_demo(&state).await.expect("seed the demo");
        match tls {
            Some((tls, _)) => {
                let config = tls.server_config();
                let listener = listener.into_std().expect("a std listener");
                let state = state.clone();
                tokio::spawn(async move {
                    let handle = axum_server::Handle::new();
                    let _ = datacustodian::tls::serve_tls(listener, state, config, handle).await;
                });
            }
            None => {
                // With each connection's peer address, as `datacustodian
                // serve` runs (the client IP of its rate limits and
                // throttles).
                let router = app(state.clone())
                    .into_make_service_with_connect_info::<std::net::SocketAddr>();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, router).await;
                });
            }
        }
        TestServer {
            base,
            state,
            seed,
            outbox,
            db_path,
            _dir: dir,
        }
    }

    /// `{base}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Registers a third party named `name` whose redirect URI is a fresh
    /// [`Catcher`], with a scope of use `sou-solar`, and returns both.
    pub async fn third_party(&self, name: &str) -> ThirdParty {
        self.third_party_with(name, |_, _| {}).await
    }

    /// Like [`TestServer::third_party`], with a chance to change the
    /// registration first; `change` also gets the catcher's origin (e.g. to
    /// allow it in `frame_ancestors`).
    pub async fn third_party_with(
        &self,
        name: &str,
        change: impl FnOnce(&mut NewClient, &str),
    ) -> ThirdParty {
        let catcher = Catcher::start().await;
        let redirect_uri = catcher.redirect_uri();
        let mut c = NewClient::third_party(name, vec![redirect_uri.clone()]);
        c.kind = ClientKind::ThirdParty;
        c.scopes_of_use = vec![ScopeOfUse {
            name: "solar".to_string(),
            text: format!(
                "{name} uses your usage data to size a solar system for your home. \
                 It does not sell your data."
            ),
            url: Some("https://example.com/solar/how-we-use-data".to_string()),
        }];
        c.client_uri = Some("https://example.com/solar".to_string());
        c.policy_uri = Some("https://example.com/solar/privacy".to_string());
        change(&mut c, &catcher.origin());
        let secret = create_client(&self.state, c)
            .await
            .expect("register the third party");
        ThirdParty {
            name: name.to_string(),
            secret,
            redirect_uri,
            catcher,
        }
    }

    /// Every one-time code message in the outbox, oldest first.
    pub fn outbox_messages(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.outbox)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("an outbox line is JSON"))
            .collect()
    }

    /// Waits (up to 10 s) for the `n`-th message (1-based) in the outbox
    /// and returns its six-digit code.
    pub async fn wait_code(&self, n: usize) -> String {
        let msgs = eventually(Duration::from_secs(10), || async {
            let msgs = self.outbox_messages();
            if msgs.len() >= n { Ok(msgs) } else { Err(()) }
        })
        .await
        .unwrap_or_else(|()| {
            panic!(
                "no one-time code #{n} in the outbox {} after 10 s",
                self.outbox.display()
            )
        });
        msgs[n - 1]["code"]
            .as_str()
            .expect("an outbox message has a code")
            .to_string()
    }

    /// Asks `/oauth/authorize` (without a browser, like a portal's backend
    /// would) and returns the request id of the consent page it redirects
    /// to. The request is not bound to a browser session yet.
    pub async fn request_id_for(&self, authorization_url: &str) -> String {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        self.request_id_via(&http, authorization_url).await
    }

    /// [`TestServer::request_id_for`] through `http` (one that follows no
    /// redirects; e.g. [`crate::tls::TestTls::http_client`] for an https
    /// server).
    pub async fn request_id_via(&self, http: &reqwest::Client, authorization_url: &str) -> String {
        let resp = http
            .get(authorization_url)
            .send()
            .await
            .expect("GET /oauth/authorize");
        assert_eq!(
            resp.status().as_u16(),
            303,
            "/oauth/authorize should redirect (303) to the consent page"
        );
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("a Location header")
            .to_string();
        let full = url::Url::parse(&self.base)
            .and_then(|b| b.join(&location))
            .expect("a consent page URL");
        full.query_pairs()
            .find(|(k, _)| k == "request")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no request id in {location}"))
    }
}

/// A registered third party.
pub struct ThirdParty {
    /// The name customers see.
    pub name: String,
    /// Its client id and secret.
    pub secret: ClientSecret,
    /// Its (only) redirect URI, served by `catcher`.
    pub redirect_uri: String,
    /// Records the authorization responses.
    pub catcher: Catcher,
}

/// A redirect target on `127.0.0.1:0` that records every request's query
/// and answers a small 200 page, so the browser lands somewhere real. It
/// also serves `/host?src=URL`: a page (another origin than the server)
/// that frames `URL` and records the `message` events it receives in
/// `window.__messages` (`{origin, data}`).
pub struct Catcher {
    addr: std::net::SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
}

async fn host_page(RawQuery(q): RawQuery) -> Html<String> {
    let src = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "src")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    framing_page(&src)
}

/// A page (titled "Host") that frames `src` in `iframe#consent` and
/// records the `message` events it receives in `window.__messages`
/// (`{origin, data}`).
pub fn framing_page(src: &str) -> Html<String> {
    let src = src
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Host</title>\
         <script>window.__messages = []; window.addEventListener('message', (e) => \
         window.__messages.push({{ origin: e.origin, data: JSON.parse(JSON.stringify(e.data)) }}));\
         </script></head><body><main><h1>Third-party host page</h1>\
         <iframe id=\"consent\" title=\"Share your energy data\" src=\"{src}\" width=\"800\" height=\"1400\">\
         </iframe></main></body></html>"
    ))
}

async fn catch(State(hits): State<Arc<Mutex<Vec<String>>>>, RawQuery(q): RawQuery) -> Html<String> {
    hits.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(q.unwrap_or_default());
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Third party</title>\
         </head><body><main><h1>Back at the third party</h1><p>ok</p></main></body></html>"
            .to_string(),
    )
}

impl Catcher {
    /// Starts one.
    pub async fn start() -> Catcher {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let hits: Arc<Mutex<Vec<String>>> = Arc::default();
        let router = axum::Router::new()
            .route("/callback", axum::routing::get(catch))
            .route("/host", axum::routing::get(host_page))
            .with_state(hits.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Catcher { addr, hits }
    }

    /// `http://127.0.0.1:PORT` (the catcher's origin).
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/host?src=…`: a page on the catcher's origin
    /// framing `src`.
    pub fn host_page(&self, src: &str) -> String {
        let q: String = url::form_urlencoded::byte_serialize(src.as_bytes()).collect();
        format!("http://{}/host?src={q}", self.addr)
    }

    /// `http://127.0.0.1:PORT/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://{}/callback", self.addr)
    }

    /// Waits (up to `secs`) for the first authorization response and
    /// returns its query parameters.
    pub async fn wait(&self, secs: u64) -> Vec<(String, String)> {
        let q = eventually(Duration::from_secs(secs), || async {
            let first = self
                .hits
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .first()
                .cloned();
            first.ok_or(())
        })
        .await
        .unwrap_or_else(|()| {
            panic!(
                "the browser never reached the redirect URI {}",
                self.redirect_uri()
            )
        });
        url::form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    /// How many responses arrived so far.
    pub fn count(&self) -> usize {
        self.hits.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The value of `name` in `params` (panics naming it when absent).
pub fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in the redirect: {params:?}"))
}
