//! Server configuration and the clock.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// What this server supports beyond the kinds of data: 1 Common, 3 Connect
/// My Data, 13 security and privacy classes (TLS, OAuth), 35 REST for bulk
/// (`Batch/Bulk`), 37 query parameters (`published-min` and the like).
pub const SUPPORTED_FUNCTION_BLOCKS: [u16; 5] = [1, 3, 13, 35, 37];

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

/// A token-bucket rate: `per_second` requests a second on average, bursts
/// of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second (at least 1).
    pub per_second: u32,
    /// Burst size (at least 1).
    pub burst: u32,
}

impl Rate {
    /// Reads `N/s` or `N/s:BURST` (e.g. `10/s:50`); the burst defaults to
    /// the rate.
    pub fn parse(s: &str) -> Result<Rate, String> {
        let (rate, burst) = match s.split_once(':') {
            Some((r, b)) => (r, Some(b)),
            None => (s, None),
        };
        let n: u32 = rate
            .trim()
            .strip_suffix("/s")
            .unwrap_or(rate.trim())
            .parse()
            .map_err(|_| format!("rate {s:?} must look like 10/s or 10/s:50"))?;
        let burst: u32 = match burst {
            Some(b) => b
                .trim()
                .parse()
                .map_err(|_| format!("rate {s:?}: the burst must be a number"))?,
            None => n,
        };
        if n == 0 || burst == 0 {
            return Err(format!(
                "rate {s:?} must be at least 1/s with a burst of at least 1"
            ));
        }
        Ok(Rate {
            per_second: n,
            burst,
        })
    }
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
    /// Authorization length when the scope has no `PreferredAuthEndDate`
    /// (the seed's default: 3 years).
    pub default_authorization_seconds: u64,
    /// History granted when the scope has no `HistoryLength` (the seed's
    /// default: 2 years).
    pub default_history_seconds: u64,
    /// The structural and technical function blocks this data custodian
    /// supports, added to every final scope (see
    /// `espi_scope::final_scope`).
    pub supported_function_blocks: Vec<u16>,
    /// One-time code lifetime.
    pub otp_lifetime: u64,
    /// Seconds between two sends for one challenge.
    pub otp_resend_after: u64,
    /// Codes sent to one contact per hour.
    pub otp_max_per_hour: u32,
    /// Wrong codes (or failed logins for one username from one IP) before
    /// each further try is delayed.
    pub attempts_before_delay: u32,
    /// Wrong codes before the challenge is locked.
    pub attempts_before_lock: u32,
    /// The delay imposed after `attempts_before_delay` failures.
    pub delay_seconds: u64,
    /// The longest delay between two tries (the delay doubles from
    /// `delay_seconds` up to this).
    pub lockout_seconds: u64,
    /// Password hashing cost.
    pub argon2_cost: Argon2Cost,
    /// Password hashes computed at once; more are shed with 503 and
    /// `Retry-After` (default: half the cores, at least one).
    pub max_concurrent_hashes: usize,
    /// Rate of the anonymous endpoints (authorize, context, sign-in, code
    /// start, resend, verify) per client IP; `None` = unlimited.
    pub rate_per_ip: Option<Rate>,
    /// Rate of the anonymous endpoints for all clients together.
    pub rate_global: Option<Rate>,
    /// Proxies whose `X-Forwarded-For` is believed. Empty: the client IP is
    /// the peer address, and the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// Sign-in attempts (passwords, code starts, code checks) one
    /// authorization request may make.
    pub max_sign_in_attempts_per_request: u32,
    /// Failed passwords for one username from all IPs together before each
    /// further try is delayed (the per-IP count uses
    /// `attempts_before_delay`).
    pub login_attempts_before_delay_any_ip: u32,
    /// Window over which failed passwords count (seconds).
    pub login_window: u64,
    /// Code starts from one client IP per hour.
    pub otp_starts_per_ip_per_hour: u32,
    /// Wrong codes one customer may accumulate, over all challenges, before
    /// code sign-in is refused for them (NIST SP 800-63B: at most 100
    /// consecutive failures); cleared by a successful code.
    pub otp_customer_max_failures: u32,
    /// The window of `otp_customer_max_failures` (seconds).
    pub otp_customer_window: u64,
    /// Seconds between two housekeeping runs.
    pub purge_interval: u64,
    /// Rows of each kind deleted per batch.
    pub purge_batch: u32,
    /// Hand one-time codes to the sender inside the request instead of on a
    /// background task (default off: the code start then answers in the
    /// same time whether or not a code goes out). For tests that read the
    /// sender right after the answer.
    pub otp_delivery_inline: bool,
    /// A correct password is followed by a one-time code (to the phone on
    /// file, else the email) before the session is signed in.
    pub require_second_factor: bool,
    /// Sandbox mode (`serve --demo`): publishes the demo client's
    /// credentials at `/playground/sandbox.json` so the playground can run
    /// the whole flow. Never on in production: it gives away a secret.
    pub demo_sandbox: bool,
    /// The utility's own sign-in: upstream OpenID Connect providers, offered
    /// as "Sign in with {name}" (see [`crate::oidc`]).
    pub oidc_providers: Vec<crate::oidc::ProviderConfig>,
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
            oidc_providers: Vec::new(),
            code_lifetime: 60,
            access_token_lifetime: 3600,
            request_lifetime: 30 * 60,
            session_lifetime: 8 * 3600,
            default_authorization_seconds: espi_scope::narrow::DEFAULT_AUTHORIZATION_SECONDS,
            default_history_seconds: espi_scope::narrow::DEFAULT_HISTORY_SECONDS,
            supported_function_blocks: SUPPORTED_FUNCTION_BLOCKS.to_vec(),
            otp_lifetime: 600,
            otp_resend_after: 30,
            otp_max_per_hour: 5,
            attempts_before_delay: 5,
            attempts_before_lock: 10,
            delay_seconds: 30,
            lockout_seconds: 15 * 60,
            argon2_cost: Argon2Cost::Default,
            // Half the cores (at least one): hashing on every core starves
            // the token endpoint and the decisions (see the flood benchmark).
            max_concurrent_hashes: std::thread::available_parallelism()
                .map(|n| (usize::from(n) / 2).max(1))
                .unwrap_or(1),
            rate_per_ip: Some(Rate {
                per_second: 10,
                burst: 60,
            }),
            rate_global: Some(Rate {
                per_second: 300,
                burst: 600,
            }),
            trusted_proxies: Vec::new(),
            max_sign_in_attempts_per_request: 30,
            login_attempts_before_delay_any_ip: 20,
            login_window: 24 * 3600,
            otp_starts_per_ip_per_hour: 30,
            otp_customer_max_failures: 100,
            otp_customer_window: 7 * 24 * 3600,
            purge_interval: 60,
            purge_batch: 500,
            otp_delivery_inline: false,
            require_second_factor: false,
        }
    }

    /// The name of the session cookie: `__Host-gbcd_session` when the public
    /// URL is https (the browser then insists on `Secure`, `Path=/` and no
    /// `Domain`), else `gbcd_session`.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-gbcd_session"
        } else {
            "gbcd_session"
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
