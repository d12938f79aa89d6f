//! Test harness: the app served on 127.0.0.1:0 over a real SQLite file in a
//! temp dir, or, when `DATACUSTODIAN_TEST_DATABASE` names a PostgreSQL
//! server (`postgres://USER@HOST:PORT/postgres`; `scripts/with-postgres.sh`
//! starts one), over a fresh database of its own on that server; a "browser" (reqwest with a cookie store, no redirects
//! followed) driving the consent API; the `oauth2` crate as the third party.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use datacustodian::otp_sender::MemorySender;
use datacustodian::{AppState, Argon2Cost, Clock, Config, HmacKey, Store, app, seed_demo};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields,
    IntrospectionUrl, RedirectUrl, RevocationUrl, StandardRevocableToken, StandardTokenResponse,
    TokenUrl,
};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use datacustodian::DemoSeed;

/// The ESPI fields of the token response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EspiFields {
    // Absent (empty) in client_credentials responses.
    #[serde(rename = "resourceURI", default)]
    pub resource_uri: String,
    #[serde(rename = "authorizationURI", default)]
    pub authorization_uri: String,
    #[serde(rename = "customerResourceURI", default)]
    pub customer_resource_uri: String,
}
impl ExtraTokenFields for EspiFields {}

pub type EspiTokenResponse = StandardTokenResponse<EspiFields, BasicTokenType>;
pub type EspiClient = oauth2::Client<
    BasicErrorResponse,
    EspiTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
    EndpointSet,
>;

pub const ALEX: (&str, &str) = ("alex", "green-button-demo");
pub const DEMO_SCOPE: &str = datacustodian::admin::DEMO_SCOPE;

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub sender: Arc<MemorySender>,
    pub seed: DemoSeed,
    pub db_path: PathBuf,
    /// The database URL the server runs on (SQLite file or PostgreSQL).
    pub db_url: String,
    pub dir: tempfile::TempDir,
}

/// Another server process on the same database (see
/// [`TestServer::another_instance`]).
pub struct Instance {
    pub base: String,
    pub state: AppState,
}

/// The PostgreSQL server the tests run on, if any.
pub fn test_postgres() -> Option<String> {
    std::env::var("DATACUSTODIAN_TEST_DATABASE")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// True when the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    test_postgres().is_some()
}

/// A fresh database for one test: on PostgreSQL a new, uniquely named
/// database on the test server; otherwise a SQLite file in `dir`.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    let Some(admin) = test_postgres() else {
        return format!("sqlite://{}", dir.join("dc.sqlite").display());
    };
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "dc_test_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("time")
            .subsec_nanos()
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let _ = sqlx::Connection::close(conn).await;
    let mut url = url::Url::parse(&admin).expect("DATACUSTODIAN_TEST_DATABASE");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

impl TestServer {
    pub fn clock(&self) -> &Clock {
        self.state.clock()
    }

    /// A pool on the server's database, for tests that look at the rows
    /// (`$1` placeholders: the same SQL runs on both stores).
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.db_url).await.expect("db")
    }

    /// A second instance of the server: its own store (own connections)
    /// on the same database, its own rate limiters, the same HMAC key and
    /// configuration (one public URL, as behind a load balancer), served on
    /// its own listener. Nothing in memory is shared with this one.
    pub async fn another_instance(&self) -> Instance {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let store = Store::open(&self.db_url).await.expect("open store");
        let state = AppState::with_clock(
            self.state.config().clone(),
            store,
            self.state.key().clone(),
            self.sender.clone(),
            Clock::system(),
        );
        let app = app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Instance { base, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The demo third party as an `oauth2` client.
    pub fn third_party(&self) -> EspiClient {
        self.client(
            &self.seed.client_id,
            &self.seed.client_secret,
            &self.seed.redirect_uri,
        )
    }

    pub fn client(&self, id: &str, secret: &str, redirect: &str) -> EspiClient {
        oauth2::Client::new(ClientId::new(id.to_string()))
            .set_client_secret(ClientSecret::new(secret.to_string()))
            .set_auth_uri(AuthUrl::new(self.url("/oauth/authorize")).expect("auth url"))
            .set_token_uri(TokenUrl::new(self.url("/oauth/token")).expect("token url"))
            .set_introspection_url(
                IntrospectionUrl::new(self.url("/oauth/introspect")).expect("url"),
            )
            .set_revocation_url(RevocationUrl::new(self.url("/oauth/revoke")).expect("url"))
            .set_redirect_uri(RedirectUrl::new(redirect.to_string()).expect("redirect url"))
    }

    /// The last one-time code sent.
    pub fn last_code(&self) -> String {
        self.sender
            .messages()
            .last()
            .expect("a code was sent")
            .code
            .clone()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(f: impl FnOnce(&mut Config)) -> TestServer {
    let sender = Arc::new(MemorySender::default());
    start_with_sender(
        |c| {
            // Most tests read the sender right after the answer; the
            // default background delivery has its own test (abuse.rs).
            c.otp_delivery_inline = true;
            f(c);
        },
        sender.clone(),
        sender,
    )
    .await
}

/// A server whose codes go to `otp` (`memory` is what `last_code` reads:
/// the same sender, or the one `otp` forwards to).
pub async fn start_with_sender(
    f: impl FnOnce(&mut Config),
    otp: Arc<dyn datacustodian::otp_sender::OtpSender>,
    memory: Arc<MemorySender>,
) -> TestServer {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_path = dir.path().join("dc.sqlite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let mut config = Config::new(&base);
    config.argon2_cost = Argon2Cost::TestOnlyInsecure;
    f(&mut config);
    let db_url = fresh_database(dir.path()).await;
    let store = Store::open(&db_url).await.expect("open store");
    let sender = memory;
    let state = AppState::with_clock(config, store, HmacKey::random(), otp, Clock::system());
    let seed = seed_demo(&state).await.expect("seed");
    // The demo client requires PKCE (as the printed URL, the playground and
    // the browser tests use it); most rules here are shown without PKCE, so
    // these tests turn it off. `require_pkce_*` tests turn it back on.
    datacustodian::set_client_require_pkce(&state, &seed.client_id, false)
        .await
        .expect("pkce off");
    // With each connection's peer address, as `datacustodian serve` runs
    // (the client IP of the rate limits); no periodic purge (tests move the
    // clock and purge when they mean to).
    let app = app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer {
        base,
        state,
        sender,
        seed,
        db_path,
        db_url,
        dir,
    }
}

/// HTTP client of a third party: never follows redirects.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// The customer's browser: a cookie store, no automatic redirects.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: base.to_string(),
        }
    }

    /// Opens an authorization URL; returns the request id of the 303 to the
    /// consent page.
    pub async fn start(&self, authorize_url: &str) -> String {
        let r = self
            .http
            .get(authorize_url)
            .send()
            .await
            .expect("authorize");
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "authorize should 303 to the consent page"
        );
        let loc = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        assert!(
            loc.starts_with("/consent/?request="),
            "unexpected location {loc}"
        );
        loc.trim_start_matches("/consent/?request=").to_string()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("get");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, csrf: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}{}", self.base, path)).json(&body);
        if let Some(c) = csrf {
            req = req.header("X-CSRF-Token", c);
        }
        let r = req.send().await.expect("post");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn context(&self, rid: &str) -> (StatusCode, Value) {
        self.get(&format!("/api/consent/requests/{rid}")).await
    }

    /// Reads the context and returns its CSRF token.
    pub async fn csrf(&self, rid: &str) -> String {
        let (s, ctx) = self.context(rid).await;
        assert_eq!(s, StatusCode::OK, "context: {ctx}");
        ctx["csrf_token"].as_str().expect("csrf").to_string()
    }

    pub async fn sign_in(
        &self,
        rid: &str,
        csrf: &str,
        user: &str,
        pw: &str,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/api/consent/requests/{rid}/sign-in/password"),
            Some(csrf),
            json!({"username": user, "password": pw}),
        )
        .await
    }

    pub async fn decide(&self, rid: &str, csrf: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/consent/requests/{rid}/decision"), csrf, body)
            .await
    }
}

/// Query parameters of a URL.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    let u = reqwest::Url::parse(url).expect("url");
    u.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A built authorization URL for the demo client.
pub fn authorize_url(
    s: &TestServer,
    scope: &str,
    state: Option<&str>,
    challenge: Option<(&str, &str)>,
) -> String {
    authorize_url_for(
        s,
        &s.seed.client_id,
        &s.seed.redirect_uri,
        scope,
        state,
        challenge,
    )
}

pub fn authorize_url_for(
    s: &TestServer,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
    state: Option<&str>,
    challenge: Option<(&str, &str)>,
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope);
    if let Some(st) = state {
        q.append_pair("state", st);
    }
    if let Some((c, m)) = challenge {
        q.append_pair("code_challenge", c)
            .append_pair("code_challenge_method", m);
    }
    format!("{}/oauth/authorize?{}", s.base, q.finish())
}

/// Runs the consent flow for `url` as Alex (password) with `choices`;
/// returns the `redirect_to` query.
pub async fn consent(
    b: &Browser,
    url: &str,
    choices: Value,
) -> std::collections::HashMap<String, String> {
    let rid = b.start(url).await;
    let csrf = b.csrf(&rid).await;
    let (st, body) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(st, StatusCode::OK, "sign in: {body}");
    let mut choices = choices;
    choices["decision"] = json!("authorize");
    let (st, res) = b.decide(&rid, Some(&csrf), choices).await;
    assert_eq!(st, StatusCode::OK, "decision: {res}");
    query_of(res["redirect_to"].as_str().expect("redirect_to"))
}

/// A code for the demo client without PKCE (default choices).
pub async fn code_without_pkce(s: &TestServer) -> String {
    let b = s.browser();
    let q = consent(
        &b,
        &authorize_url(s, DEMO_SCOPE, Some("st"), None),
        json!({}),
    )
    .await;
    q["code"].clone()
}

/// POSTs a form to the token endpoint with HTTP Basic auth.
pub async fn token_form(
    s: &TestServer,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let r = http()
        .post(s.url("/oauth/token"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = r.status();
    let headers = r.headers().clone();
    (status, r.json().await.unwrap_or(Value::Null), headers)
}

pub async fn demo_token_form(s: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let (st, v, _) = token_form(s, &s.seed.client_id, &s.seed.client_secret, form).await;
    (st, v)
}

pub async fn introspect(s: &TestServer, token: &str) -> Value {
    let r = http()
        .post(s.url("/oauth/introspect"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

pub async fn redeem(s: &TestServer, code: &str) -> (StatusCode, Value) {
    demo_token_form(
        s,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &s.seed.redirect_uri),
        ],
    )
    .await
}

pub async fn revoke(s: &TestServer, token: &str) -> StatusCode {
    // (The oauth2 crate refuses to revoke over plain http, so by hand.)
    http()
        .post(s.url("/oauth/revoke"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("revoke")
        .status()
}

pub async fn bearer_get(
    _s: &TestServer,
    url: &str,
    token: &str,
) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let r = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let st = r.status();
    let h = r.headers().clone();
    (st, r.text().await.unwrap_or_default(), h)
}
