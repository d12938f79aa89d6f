//! Server configuration and the clock.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// How expensive password hashing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Argon2Cost {
    /// argon2id, 19 MiB, 2 passes, 1 lane (OWASP's recommendation). The
    /// default and the only choice of the `datacustodian` binary.
    #[default]
    Default,
    /// argon2id with the smallest parameters: for tests only, never in
    /// production.
    TestOnlyInsecure,
}

/// Everything the server needs to know that is not in the database.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public base URL (the issuer), e.g. `http://127.0.0.1:8080`,
    /// without a trailing slash.
    pub public_url: String,
    /// Where `/oauth/authorize` sends the browser: `{consent_page}?request=ID`.
    pub consent_page: String,
    /// The built consent widget (`dist/`), served at `/consent/`.
    pub assets_dir: Option<PathBuf>,
    /// The built scope playground, served at `/` when present.
    pub playground_dir: Option<PathBuf>,
    /// Authorization code lifetime in seconds (at most 60).
    pub code_lifetime: u64,
    /// Access token lifetime in seconds.
    pub access_token_lifetime: u64,
    /// How long an authorization request may wait for its decision.
    pub request_lifetime: u64,
    /// How long a consent session lives.
    pub session_lifetime: u64,
    /// Authorization length when the scope has no `PreferredAuthEndDate`.
    pub default_authorization_seconds: u64,
    /// One-time code lifetime.
    pub otp_lifetime: u64,
    /// Seconds between two sends for one challenge.
    pub otp_resend_after: u64,
    /// Codes sent to one contact per hour.
    pub otp_max_per_hour: u32,
    /// Wrong codes (or failed logins) before each further try is delayed.
    pub attempts_before_delay: u32,
    /// Wrong codes before the challenge is locked (failed logins before the
    /// account is locked for `lockout_seconds`).
    pub attempts_before_lock: u32,
    /// The delay imposed after `attempts_before_delay` failures.
    pub delay_seconds: u64,
    /// How long a login lockout lasts.
    pub lockout_seconds: u64,
    /// Password hashing cost.
    pub argon2_cost: Argon2Cost,
    /// Sandbox mode (`serve --demo`): publishes the demo client's
    /// credentials at `/playground/sandbox.json` so the playground can run
    /// the whole flow. Never on in production: it gives away a secret.
    pub demo_sandbox: bool,
}

impl Config {
    /// The defaults for a server reachable at `public_url`.
    pub fn new(public_url: impl Into<String>) -> Config {
        let mut public_url: String = public_url.into();
        while public_url.ends_with('/') {
            public_url.pop();
        }
        Config {
            public_url,
            consent_page: "/consent/".to_string(),
            assets_dir: None,
            playground_dir: None,
            demo_sandbox: false,
            code_lifetime: 60,
            access_token_lifetime: 3600,
            request_lifetime: 30 * 60,
            session_lifetime: 8 * 3600,
            default_authorization_seconds: 3 * 365 * 24 * 3600,
            otp_lifetime: 600,
            otp_resend_after: 30,
            otp_max_per_hour: 5,
            attempts_before_delay: 5,
            attempts_before_lock: 10,
            delay_seconds: 30,
            lockout_seconds: 15 * 60,
            argon2_cost: Argon2Cost::Default,
        }
    }

    /// True when the public URL is https (cookies get `Secure`).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The host part of the public URL (for the SMS `@host #code` line).
    pub fn public_host(&self) -> String {
        url::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| {
                u.host_str().map(|h| match u.port() {
                    Some(p) => format!("{h}:{p}"),
                    None => h.to_string(),
                })
            })
            .unwrap_or_else(|| "localhost".to_string())
    }
}

/// The server clock: system time plus an adjustable offset, so tests can move
/// time forward (expired codes, throttling delays) without sleeping.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        let sys = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        sys + self.offset.load(Ordering::SeqCst)
    }

    /// Moves this clock (and every clone of it) forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::SeqCst);
    }
}
