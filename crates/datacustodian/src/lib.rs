//! The reference Green Button Connect My Data DataCustodian.
//!
//! An OAuth 2.0 authorization server (authorization code + PKCE, refresh
//! rotation, client credentials per GBA token kind, RFC 7009 revocation,
//! RFC 7662 introspection, RFC 8414 metadata, RFC 9207 `iss`), the consent
//! API the consent widget speaks (`api/consent-api.openapi.yaml`), the
//! customers' authorization list, and Bearer-protected ESPI resources.
//!
//! # In-process use (tests, other crates)
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use datacustodian::{AppState, Config, HmacKey, Store, seed_demo};
//! use datacustodian::otp_sender::OutboxSender;
//!
//! let dir = std::env::temp_dir();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let public_url = format!("http://{}", listener.local_addr()?);
//! let store = Store::open(&format!("sqlite://{}/dc.sqlite", dir.display())).await?;
//! let state = AppState::new(
//!     Config::new(&public_url),
//!     store,
//!     HmacKey::random(),
//!     Arc::new(OutboxSender::new(dir.join("outbox.jsonl"))),
//! );
//! let seed = seed_demo(&state).await?;
//! println!("{} {}", seed.client_id, seed.authorization_url);
//! // The client IP of the rate limits comes from the connection; the purge
//! // of expired rows runs beside the server.
//! tokio::spawn(datacustodian::serve(listener, state));
//! # Ok(()) }
//! ```

pub mod admin;
pub mod cli;
pub mod config;
pub mod consent;
pub mod customer_api;
pub mod error;
pub mod espi;
pub mod health;
pub mod housekeeping;
pub mod mail;
pub mod metrics;
pub mod oauth;
pub mod oidc;
pub mod otp_sender;
pub mod scope;
pub mod security;
pub mod static_files;
pub mod store;
pub mod tls;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post};

pub use admin::{
    ClientSecret, DemoCustomer, DemoSeed, NewClient, NewCustomer, create_client, create_customer,
    remove_client, remove_customer, rotate_client_secret, seed_demo, set_client_require_pkce,
};
pub use config::{Argon2Cost, Clock, Config, Rate};
pub use espi::demo::seed_demo_usage;
pub use security::secrets::HmacKey;
pub use store::Store;

use otp_sender::OtpSender;

/// Shared server state: configuration, storage, the HMAC key, the code
/// sender and the clock. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    key: HmacKey,
    otp: Arc<dyn OtpSender>,
    mailer: std::sync::OnceLock<mail::Mailer>,
    clock: Clock,
    metadata: String,
    limits: security::limits::Limits,
    metrics: metrics::Metrics,
    discovery: oidc::Discovery,
}

impl AppState {
    /// State with the system clock.
    pub fn new(config: Config, store: Store, key: HmacKey, otp: Arc<dyn OtpSender>) -> AppState {
        AppState::with_clock(config, store, key, otp, Clock::system())
    }

    /// State with a given clock (tests keep a clone and move it forward).
    pub fn with_clock(
        config: Config,
        store: Store,
        key: HmacKey,
        otp: Arc<dyn OtpSender>,
        clock: Clock,
    ) -> AppState {
        let metadata = oauth::metadata::document(&config).to_string();
        let limits = security::limits::Limits::new(&config);
        AppState {
            inner: Arc::new(Inner {
                limits,
                config,
                store,
                key,
                otp,
                mailer: std::sync::OnceLock::new(),
                clock,
                metadata,
                metrics: metrics::Metrics::default(),
                discovery: oidc::Discovery::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// This process's metrics (see [`metrics`]).
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    /// The OpenID Connect providers' discovery documents.
    pub(crate) fn discovery(&self) -> &oidc::Discovery {
        &self.inner.discovery
    }

    /// The storage.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The HMAC key.
    pub fn key(&self) -> &HmacKey {
        &self.inner.key
    }

    /// The one-time code sender.
    pub fn otp_sender(&self) -> &dyn OtpSender {
        self.inner.otp.as_ref()
    }

    /// Sends receipts through `mailer` (`serve --smtp-url`). Set once,
    /// before serving; a second call is ignored.
    pub fn set_mailer(&self, mailer: mail::Mailer) {
        let _ = self.inner.mailer.set(mailer);
    }

    /// The SMTP relay, when one is set.
    pub fn mailer(&self) -> Option<&mail::Mailer> {
        self.inner.mailer.get()
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Unix seconds now (by the state's clock).
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// The rate limiters and the password-hash permits.
    pub fn limits(&self) -> &security::limits::Limits {
        &self.inner.limits
    }

    pub(crate) fn metadata_json(&self) -> &str {
        &self.inner.metadata
    }

    /// `{public_url}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.inner.config.public_url, path)
    }
}

/// A server time (unix seconds, `i64` in the store) as the consent API
/// writes it; nothing before 1970 exists here, so a negative one is 0.
pub fn unix(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // CORS only here: token, metadata, revocation, introspection.
    let cors_routes = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::metadata::metadata),
        )
        .route("/oauth/token", post(oauth::token::token))
        .route("/oauth/revoke", post(oauth::revoke::revoke))
        .route("/oauth/introspect", post(oauth::introspect::introspect))
        .layer(security::headers::cors_layer());

    // The consent API a portal on another origin calls: CORS with
    // credentials for registered embed origins only (never on
    // `/oauth/authorize`).
    let consent_anonymous = Router::new()
        .route(
            "/api/consent/requests/{request_id}",
            get(consent::context::get_context),
        )
        .route(
            "/api/consent/requests/{request_id}/sign-in/password",
            post(consent::sign_in::password),
        )
        .route(
            "/api/consent/requests/{request_id}/sign-in/otp",
            post(consent::otp::start),
        )
        .route(
            "/api/consent/requests/{request_id}/sign-in/otp/{challenge_id}/resend",
            post(consent::otp::resend),
        )
        .route(
            "/api/consent/requests/{request_id}/sign-in/otp/{challenge_id}/verify",
            post(consent::otp::verify),
        )
        .route(
            "/api/consent/requests/{request_id}/sign-in/sso/{provider}",
            post(oidc::start),
        )
        .layer(security::headers::embed_cors_layer(&state));

    // The anonymous endpoints: rate-limited per client IP and globally.
    let anonymous = Router::new()
        .route("/oauth/authorize", get(oauth::authorize::authorize))
        .route("/consent/sso/callback", get(oidc::callback))
        .route("/consent/sso/finish", get(oidc::finish))
        .merge(consent_anonymous)
        // "Your data sharing": the same sign-in without a request.
        .route("/api/customer/session", get(consent::sharing::session))
        .route(
            "/api/customer/sign-in/password",
            post(consent::sign_in::password),
        )
        .route("/api/customer/sign-in/otp", post(consent::otp::start))
        .route(
            "/api/customer/sign-in/otp/{challenge_id}/resend",
            post(consent::otp::resend),
        )
        .route(
            "/api/customer/sign-in/otp/{challenge_id}/verify",
            post(consent::otp::verify),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::limits::rate_limit,
        ));

    let consent_api = Router::new()
        .route(
            "/api/consent/requests/{request_id}/meters",
            get(consent::context::meters),
        )
        .route(
            "/api/consent/requests/{request_id}/decision",
            post(consent::decision::decide),
        )
        .route("/api/consent/session", delete(consent::sign_in::sign_out))
        .layer(security::headers::embed_cors_layer(&state));
    let api = Router::new()
        .merge(consent_api)
        .route("/api/customer/authorizations", get(customer_api::list))
        .route(
            "/api/customer/authorizations/{authorization_id}/revoke",
            post(customer_api::revoke),
        );

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(cors_routes)
        .merge(anonymous)
        .merge(api)
        .merge(espi::routes())
        .merge(static_files::routes(&state))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers::security_headers,
        ))
        .layer(axum::middleware::from_fn(security::headers::log_request))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::limits::client_ip_layer,
        ))
        .with_state(state)
}

/// Serves `app(state)` on `listener` with each connection's peer address
/// (the client IP of the rate limits and throttles), and runs the
/// housekeeping (see [`housekeeping::spawn`]) beside it.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    let _purge = housekeeping::spawn(state.clone());
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await
}
