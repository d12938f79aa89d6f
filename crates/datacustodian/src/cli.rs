//! The `datacustodian` command line: `serve`, `client …`, `customer …`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::admin::{self, NewClient, NewCustomer};
use crate::mail::{Mailer, SmtpSender};
use crate::otp_sender::{
    Channel, HttpSmsSender, LogSender, NotConfigured, OtpSender, OutboxSender, Senders, SmsGateway,
};
use crate::store::{Backend, ClientKind, Meter, ScopeOfUse, Store};
use crate::{AppState, Config, HmacKey, app};

/// The reference Green Button Connect My Data DataCustodian.
#[derive(Debug, Parser)]
#[command(name = "datacustodian", version, about)]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (the file is created if missing) or
    /// `postgres://USER@HOST:PORT/DB` (the database must exist; give every
    /// instance the same `--key-file`).
    #[arg(
        long,
        global = true,
        env = "DATACUSTODIAN_DATABASE_URL",
        default_value = "sqlite://datacustodian.sqlite"
    )]
    pub database: String,
    /// The HMAC key file (32 bytes, created 0600 if absent). Default: the
    /// database file's path plus `.key`.
    #[arg(long, global = true, env = "DATACUSTODIAN_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// A TOML file of settings: any option's long name as a key
    /// (`public-url = "https://…"`, `trusted-proxy = ["10.0.0.1"]`). A flag
    /// or a `DATACUSTODIAN_*` variable wins over the file.
    #[arg(long, global = true, env = "DATACUSTODIAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines on stderr: `text`, or `json` (one JSON object a line,
    /// for a log collector).
    #[arg(
        long,
        global = true,
        env = "DATACUSTODIAN_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server.
    Serve(Box<ServeArgs>),
    /// Manage clients (third parties and others).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage customers.
    #[command(subcommand)]
    Customer(CustomerCommand),
}

/// `serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "DATACUSTODIAN_LISTEN")]
    pub listen: SocketAddr,
    /// Public base URL (the issuer). Default: http://LISTEN.
    #[arg(long, env = "DATACUSTODIAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Write one-time codes to this file (JSON lines, codes in clear) for
    /// development, for every channel no real sender is configured for.
    /// `--demo` alone writes them beside the database
    /// (`<db>.otp-outbox.jsonl`). Without this, `--demo` or an SMS gateway,
    /// `serve` refuses to start.
    #[arg(long, env = "DATACUSTODIAN_OTP_OUTBOX")]
    pub otp_outbox: Option<PathBuf>,
    /// The SMS gateway's Messages endpoint (Twilio's shape: a form `POST`
    /// of `To`, `From`, `Body` with Basic auth), e.g.
    /// `https://api.twilio.com/2010-04-01/Accounts/SID/Messages.json`.
    #[arg(long, env = "DATACUSTODIAN_SMS_GATEWAY_URL")]
    pub sms_gateway_url: Option<String>,
    /// The gateway account SID (Basic auth user).
    #[arg(long, env = "DATACUSTODIAN_SMS_ACCOUNT_SID")]
    pub sms_account_sid: Option<String>,
    /// The gateway auth token (Basic auth password). Prefer
    /// `--sms-auth-token-file` or the variable: a flag shows in `ps`.
    #[arg(long, env = "DATACUSTODIAN_SMS_AUTH_TOKEN", hide_env_values = true)]
    pub sms_auth_token: Option<String>,
    /// A file holding the gateway auth token (surrounding whitespace
    /// ignored).
    #[arg(
        long,
        env = "DATACUSTODIAN_SMS_AUTH_TOKEN_FILE",
        conflicts_with = "sms_auth_token"
    )]
    pub sms_auth_token_file: Option<PathBuf>,
    /// The sending number (`From`), E.164.
    #[arg(long, env = "DATACUSTODIAN_SMS_FROM")]
    pub sms_from: Option<String>,
    /// The utility's own sign-in, an OpenID Connect provider (repeatable):
    /// `ID=ISSUER_URL,client-id=…,client-secret-file=PATH[,name=…]
    /// [,scopes=openid profile][,claim=sub][,match=account-number]`.
    /// `match` is the customer field the `claim` is compared with:
    /// `account-number`, `username`, `email` (verified emails only) or
    /// `customer-id`. Our redirect URI there is
    /// `{public-url}/consent/sso/callback`. Several in the variable: `;`
    /// between them.
    #[arg(
        long = "oidc-provider",
        env = "DATACUSTODIAN_OIDC_PROVIDER",
        value_delimiter = ';'
    )]
    pub oidc_providers: Vec<String>,
    /// The `[[oidc-provider]]` tables of the config file.
    #[arg(skip)]
    pub oidc_file_providers: Vec<crate::oidc::ProviderConfig>,
    /// Seconds one request to the SMS gateway may take.
    #[arg(long, default_value_t = 10, env = "DATACUSTODIAN_SMS_TIMEOUT")]
    pub sms_timeout: u64,
    /// The built consent widget. Default: `dist` in the current directory.
    #[arg(long, env = "DATACUSTODIAN_ASSETS")]
    pub assets: Option<PathBuf>,
    /// The built scope playground, served at `/`. Default:
    /// `crates/scope-playground/dist` in the current directory.
    #[arg(long, env = "DATACUSTODIAN_PLAYGROUND_ASSETS")]
    pub playground_assets: Option<PathBuf>,
    /// Where `/oauth/authorize` sends the browser.
    #[arg(long, default_value = "/consent/", env = "DATACUSTODIAN_CONSENT_PAGE")]
    pub consent_page: String,
    /// Seed the demo third party and customers and print how to use them.
    #[arg(long, env = "DATACUSTODIAN_DEMO")]
    pub demo: bool,
    /// Rate of the anonymous endpoints (authorize, consent context, sign-in,
    /// code start, resend and verify) per client IP: `N/s[:BURST]`, or
    /// `off`.
    #[arg(
        long,
        default_value = "10/s:60",
        env = "DATACUSTODIAN_RATE_LIMIT_PER_IP"
    )]
    pub rate_limit_per_ip: String,
    /// Rate of the anonymous endpoints for all clients together:
    /// `N/s[:BURST]`, or `off`.
    #[arg(
        long,
        default_value = "300/s:600",
        env = "DATACUSTODIAN_RATE_LIMIT_GLOBAL"
    )]
    pub rate_limit_global: String,
    /// A reverse proxy whose `X-Forwarded-For` gives the client IP
    /// (repeatable). Without one the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "DATACUSTODIAN_TRUSTED_PROXY",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Password hashes computed at once; more are answered 503 with
    /// `Retry-After`. Default: half the cores, at least one.
    #[arg(long, env = "DATACUSTODIAN_MAX_CONCURRENT_HASHES")]
    pub max_concurrent_hashes: Option<usize>,
    /// Sign-in attempts (passwords, code starts, code checks) per
    /// authorization request.
    #[arg(long, default_value_t = 30, env = "DATACUSTODIAN_MAX_SIGN_IN_ATTEMPTS")]
    pub max_sign_in_attempts: u32,
    /// Serve Prometheus metrics at `/metrics` on this address (keep it
    /// private: a port the scraper reaches, not the public one). Default:
    /// no metrics listener.
    #[arg(long, env = "DATACUSTODIAN_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Seconds between two purges of expired rows.
    #[arg(long, default_value_t = 60, env = "DATACUSTODIAN_PURGE_INTERVAL")]
    pub purge_interval: u64,
    /// Serve HTTPS with this PEM certificate chain (with `--tls-key`).
    /// Without it the server speaks plain HTTP: for loopback development,
    /// or behind a proxy that ends TLS.
    #[arg(long, env = "DATACUSTODIAN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert`.
    #[arg(long, env = "DATACUSTODIAN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// History granted when a request has no `HistoryLength`, in seconds
    /// (the seed's default: 2 years).
    #[arg(
        long,
        default_value_t = espi_scope::narrow::DEFAULT_HISTORY_SECONDS,
        env = "DATACUSTODIAN_DEFAULT_HISTORY_LENGTH"
    )]
    pub default_history_length: u64,
    /// Length of an authorization when a request has no
    /// `PreferredAuthEndDate`, in seconds (the seed's default: 3 years).
    #[arg(
        long,
        default_value_t = espi_scope::narrow::DEFAULT_AUTHORIZATION_SECONDS,
        env = "DATACUSTODIAN_DEFAULT_AUTHORIZATION_LENGTH"
    )]
    pub default_authorization_length: u64,
    /// The structural and technical function blocks this data custodian
    /// supports, added to every final scope: `1_3_13_35_37` (or commas).
    #[arg(
        long,
        default_value = "1_3_13_35_37",
        env = "DATACUSTODIAN_SUPPORTED_FUNCTION_BLOCKS"
    )]
    pub supported_function_blocks: String,
    /// Ask for a one-time code (to the phone on file, else the email)
    /// after a correct password, before the consent screen.
    #[arg(long, env = "DATACUSTODIAN_REQUIRE_SECOND_FACTOR")]
    pub require_second_factor: bool,
    /// Send email (one-time codes, receipts) through this SMTP relay:
    /// `smtp://HOST:PORT`, `smtp://HOST:PORT?tls=required` (STARTTLS) or
    /// `smtps://HOST:PORT`, with `USER:PASSWORD@` or `USER@` and
    /// `--smtp-password-file`. Default: codes go to the outbox, no receipt
    /// mail.
    #[arg(long, env = "DATACUSTODIAN_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// The `From` address of the mail (`Name <addr@example.com>` or
    /// `addr@example.com`).
    #[arg(long, env = "DATACUSTODIAN_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// A file holding the SMTP password (of the user in `--smtp-url`).
    #[arg(long, env = "DATACUSTODIAN_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
}

/// Reads `--supported-function-blocks`: ids 1 to 70 separated by `_` or
/// `,`, none of them a kind of data (those are the customer's to choose).
fn supported_blocks_arg(s: &str) -> Result<Vec<u16>, Failure> {
    let flag = "--supported-function-blocks";
    let mut out = Vec::new();
    for part in s.split(['_', ',']).map(str::trim).filter(|p| !p.is_empty()) {
        let id: u16 = part
            .parse()
            .ok()
            .filter(|id| (1..=70).contains(id))
            .ok_or_else(|| {
                Failure::Usage(format!(
                    "{flag}: {part:?} is not a function block (1 to 70)"
                ))
            })?;
        if let Some(kind) = espi_scope::DataKind::of(id) {
            return Err(Failure::Usage(format!(
                "{flag}: {id} shares a kind of data ({kind}), which the customer chooses; list only structural and technical blocks"
            )));
        }
        out.push(id);
    }
    Ok(out)
}

fn rate_arg(flag: &str, s: &str) -> Result<Option<crate::Rate>, Failure> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    crate::Rate::parse(s)
        .map(Some)
        .map_err(|e| Failure::Usage(format!("{flag}: {e}")))
}

/// Client kinds on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    /// A third party.
    ThirdParty,
    /// The utility's admin client.
    DataCustodian,
    /// A meter data system uploading.
    Upload,
    /// Dynamic registration.
    Registration,
}

impl From<KindArg> for ClientKind {
    fn from(k: KindArg) -> ClientKind {
        match k {
            KindArg::ThirdParty => ClientKind::ThirdParty,
            KindArg::DataCustodian => ClientKind::DataCustodian,
            KindArg::Upload => ClientKind::Upload,
            KindArg::Registration => ClientKind::Registration,
        }
    }
}

/// `client` subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum ClientCommand {
    /// Register a client; prints its id and secret as JSON.
    Add(ClientAdd),
    /// List clients (JSON).
    List,
    /// Give a client a new secret; prints it as JSON.
    RotateSecret {
        /// The client id.
        id: String,
    },
    /// Remove a client and everything issued to it.
    Remove {
        /// The client id.
        id: String,
    },
}

/// `client add` options.
#[derive(Debug, Args)]
pub struct ClientAdd {
    /// Name shown to customers.
    #[arg(long)]
    pub name: String,
    /// Exact redirect URI (repeatable).
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Widest ESPI scope it may request (repeatable; none = any).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Scope-of-use disclosure `NAME=TEXT[|URL]` (repeatable).
    #[arg(long = "scope-of-use")]
    pub scopes_of_use: Vec<String>,
    /// Origin allowed to frame the consent page (repeatable).
    #[arg(long = "frame-ancestor")]
    pub frame_ancestors: Vec<String>,
    /// Grant type (repeatable; default by kind; `password` only if given).
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// How the client is registered.
    #[arg(long, value_enum, default_value = "third-party")]
    pub kind: KindArg,
    /// Fixed client id (default: random).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Logo URL.
    #[arg(long)]
    pub logo_uri: Option<String>,
    /// Home page URL.
    #[arg(long)]
    pub client_uri: Option<String>,
    /// Privacy policy URL.
    #[arg(long)]
    pub policy_uri: Option<String>,
    /// Terms of service URL.
    #[arg(long)]
    pub tos_uri: Option<String>,
    /// Do not require PKCE from this client (it is required by default;
    /// turn it off only for a confidential client that cannot send it).
    #[arg(long)]
    pub no_require_pkce: bool,
}

/// `customer` subcommands.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once
pub enum CustomerCommand {
    /// Register a customer; prints the customer id as JSON.
    Add(CustomerAdd),
    /// List customers (JSON, without password hashes).
    List,
    /// Remove a customer (by id or username).
    Remove {
        /// Customer id or username.
        id: String,
    },
}

/// `customer add` options.
#[derive(Debug, Args)]
pub struct CustomerAdd {
    /// Login name.
    #[arg(long)]
    pub username: Option<String>,
    /// Password (with --username).
    #[arg(long)]
    pub password: Option<String>,
    /// Shown name.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Phone, E.164.
    #[arg(long)]
    pub phone: Option<String>,
    /// Email.
    #[arg(long)]
    pub email: Option<String>,
    /// Account number (with --zip).
    #[arg(long)]
    pub account_number: Option<String>,
    /// ZIP code (with --account-number).
    #[arg(long)]
    pub zip: Option<String>,
    /// A meter `SAID[=LABEL]` (repeatable, at least one).
    #[arg(long = "meter")]
    pub meters: Vec<String>,
    /// A meter's service address `SAID=ADDRESS` (repeatable).
    #[arg(long = "address")]
    pub addresses: Vec<String>,
    /// A meter's service kind `SAID=electricity|gas|water` (repeatable).
    #[arg(long = "service-kind")]
    pub service_kinds: Vec<String>,
}

/// A bad command line (exit 2) or a failure (exit 1).
enum Failure {
    Usage(String),
    Runtime(String),
}

/// The database file of a SQLite URL, if it names a file.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.contains(":memory:") {
        None
    } else {
        Some(PathBuf::from(path))
    }
}

fn load_key(cli: &Cli) -> Result<HmacKey, Failure> {
    let path = match &cli.key_file {
        Some(p) => p.clone(),
        None => match sqlite_path(&cli.database) {
            Some(db) => {
                let mut s = db.into_os_string();
                s.push(".key");
                PathBuf::from(s)
            }
            None if Backend::of_url(&cli.database) == Some(Backend::Postgres) => {
                return Err(Failure::Usage(
                    "a PostgreSQL database needs --key-file (or DATACUSTODIAN_KEY_FILE), \
                     the same file for every instance"
                        .into(),
                ));
            }
            None => {
                return Err(Failure::Usage(
                    "an in-memory database needs --key-file (or DATACUSTODIAN_KEY_FILE)".into(),
                ));
            }
        },
    };
    HmacKey::load_or_create(&path).map_err(|e| Failure::Runtime(e.to_string()))
}

/// Opens the store and the key, then builds the code senders (`senders`
/// runs after the database and key checks, whose errors come first) and
/// sets the SMTP relay, if any.
async fn open_state(
    cli: &Cli,
    config: Config,
    senders: impl FnOnce() -> Result<Senders, Failure>,
    mailer: Option<Mailer>,
) -> Result<AppState, Failure> {
    if Backend::of_url(&cli.database).is_none() {
        return Err(Failure::Usage(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
            cli.database
        )));
    }
    let key = load_key(cli)?;
    let senders = senders()?;
    let store = Store::open(&cli.database)
        .await
        .map_err(|e| Failure::Runtime(e.to_string()))?;
    let state = AppState::new(config, store, key, Arc::new(senders));
    if let Some(m) = mailer {
        state.set_mailer(m);
    }
    Ok(state)
}

/// The SMS gateway of the `--sms-*` flags, if `--sms-gateway-url` is given.
fn sms_gateway(args: &ServeArgs) -> Result<Option<SmsGateway>, Failure> {
    let Some(raw) = &args.sms_gateway_url else {
        return Ok(None);
    };
    let url = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            Failure::Usage(format!("--sms-gateway-url {raw:?} is not an http(s) URL"))
        })?;
    let need = |v: &Option<String>, flag: &str| {
        v.clone()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Failure::Usage(format!("--sms-gateway-url needs {flag}")))
    };
    let sid = need(&args.sms_account_sid, "--sms-account-sid")?;
    let from = need(&args.sms_from, "--sms-from")?;
    let token = match (&args.sms_auth_token, &args.sms_auth_token_file) {
        (Some(t), _) => t.trim().to_string(),
        (None, Some(p)) => std::fs::read_to_string(p)
            .map_err(|e| Failure::Usage(format!("--sms-auth-token-file {}: {e}", p.display())))?
            .trim()
            .to_string(),
        (None, None) => String::new(),
    };
    if token.is_empty() {
        return Err(Failure::Usage(
            "--sms-gateway-url needs --sms-auth-token-file (or DATACUSTODIAN_SMS_AUTH_TOKEN)"
                .into(),
        ));
    }
    if args.sms_timeout == 0 {
        return Err(Failure::Usage("--sms-timeout must be at least 1".into()));
    }
    let mut g = SmsGateway::new(url, sid, token, from);
    g.timeout = std::time::Duration::from_secs(args.sms_timeout);
    Ok(Some(g))
}

/// The senders of `serve`: text messages through the SMS gateway and email
/// through the SMTP relay when they are configured; the development outbox
/// (only with `--otp-outbox` or `--demo`) for every channel without a real
/// sender. None at all: a usage error naming the flags, so a production
/// server never writes codes to a file by default.
fn serve_senders(
    cli: &Cli,
    args: &ServeArgs,
    mailer: Option<&Mailer>,
) -> Result<(Senders, Option<PathBuf>), Failure> {
    let gateway = sms_gateway(args)?;
    let outbox = match (&args.otp_outbox, args.demo) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(default_outbox(cli)),
        (None, false) => None,
    };
    if gateway.is_none() && mailer.is_none() && outbox.is_none() {
        return Err(Failure::Usage(
            "no way to send one-time codes: configure an SMS gateway (--sms-gateway-url, \
             --sms-account-sid, --sms-auth-token-file, --sms-from) or an SMTP relay \
             (--smtp-url, --smtp-from), or for development write codes to a file with \
             --otp-outbox FILE or --demo"
                .into(),
        ));
    }
    let dev: Option<Arc<dyn OtpSender>> = outbox
        .as_ref()
        .map(|p| Arc::new(OutboxSender::new(p.clone())) as Arc<dyn OtpSender>);
    let fallback = |channel| {
        dev.clone()
            .unwrap_or_else(|| Arc::new(NotConfigured(channel)) as Arc<dyn OtpSender>)
    };
    let sms: Arc<dyn OtpSender> = match gateway {
        Some(g) => Arc::new(HttpSmsSender::new(g).map_err(|e| Failure::Runtime(e.to_string()))?),
        None => fallback(Channel::Sms),
    };
    Ok((
        Senders {
            sms,
            email: match mailer {
                Some(m) => Arc::new(SmtpSender::new(m.clone())),
                None => fallback(Channel::Email),
            },
        },
        outbox,
    ))
}

fn default_outbox(cli: &Cli) -> PathBuf {
    match sqlite_path(&cli.database) {
        Some(db) => {
            let mut s = db.into_os_string();
            s.push(".otp-outbox.jsonl");
            PathBuf::from(s)
        }
        None => std::env::temp_dir().join("datacustodian-otp-outbox.jsonl"),
    }
}

fn print_json<T: Serialize>(v: &T) -> Result<(), Failure> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Failure::Runtime(e.to_string()))?;
    println!("{s}");
    Ok(())
}

fn usage(e: admin::AdminError) -> Failure {
    Failure::Usage(e.0)
}

/// An `[[oidc-provider]]` table of the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileProvider {
    id: String,
    issuer: String,
    client_id: String,
    client_secret_file: PathBuf,
    name: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    claim: Option<String>,
    #[serde(rename = "match")]
    matches: Option<crate::oidc::AccountField>,
}

impl FileProvider {
    fn into_config(self) -> Result<crate::oidc::ProviderConfig, String> {
        let secret = std::fs::read_to_string(&self.client_secret_file).map_err(|e| {
            format!(
                "--config: oidc-provider {}: client-secret-file {}: {e}",
                self.id,
                self.client_secret_file.display()
            )
        })?;
        let mut p = crate::oidc::ProviderConfig::new(
            &self.id,
            &self.issuer,
            &self.client_id,
            secret.trim(),
        );
        if let Some(n) = self.name {
            p.name = n;
        }
        p.scopes = self.scopes;
        if let Some(c) = self.claim {
            p.claim = c;
        }
        if let Some(m) = self.matches {
            p.matches = m;
        }
        p.check()
            .map_err(|e| format!("--config: oidc-provider {e}"))?;
        Ok(p)
    }
}

/// The settings a `--config` TOML file may hold: the long option names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileSettings {
    database: Option<String>,
    key_file: Option<PathBuf>,
    log_format: Option<String>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    otp_outbox: Option<PathBuf>,
    sms_gateway_url: Option<String>,
    sms_account_sid: Option<String>,
    sms_auth_token_file: Option<PathBuf>,
    sms_from: Option<String>,
    sms_timeout: Option<u64>,
    oidc_provider: Option<Vec<FileProvider>>,
    assets: Option<PathBuf>,
    playground_assets: Option<PathBuf>,
    consent_page: Option<String>,
    demo: Option<bool>,
    rate_limit_per_ip: Option<String>,
    rate_limit_global: Option<String>,
    trusted_proxy: Option<Vec<std::net::IpAddr>>,
    max_concurrent_hashes: Option<usize>,
    max_sign_in_attempts: Option<u32>,
    purge_interval: Option<u64>,
    metrics_listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    default_history_length: Option<u64>,
    default_authorization_length: Option<u64>,
    supported_function_blocks: Option<String>,
    require_second_factor: Option<bool>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    smtp_password_file: Option<PathBuf>,
}

/// Fills from the `--config` file every setting that neither a flag nor
/// a variable gave.
fn apply_config_file(cli: &mut Cli, matches: &ArgMatches, path: &Path) -> Result<(), String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let f: FileSettings =
        toml::from_str(&text).map_err(|e| format!("--config {}: {e}", path.display()))?;
    let unset = |m: &ArgMatches, id: &str| {
        !matches!(
            m.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        )
    };
    if let Some(v) = f.database
        && unset(matches, "database")
    {
        cli.database = v;
    }
    if let Some(v) = f.key_file
        && unset(matches, "key_file")
    {
        cli.key_file = Some(v);
    }
    if let Some(v) = f.log_format
        && unset(matches, "log_format")
    {
        cli.log_format = LogFormat::from_str(&v, true)
            .map_err(|_| format!("--config: log-format {v:?} is not text or json"))?;
    }
    let (Command::Serve(a), Some(m)) = (&mut cli.command, matches.subcommand_matches("serve"))
    else {
        return Ok(());
    };
    macro_rules! take {
        ($field:ident, $id:literal, $wrap:expr) => {
            if let Some(v) = f.$field
                && unset(m, $id)
            {
                a.$field = $wrap(v);
            }
        };
    }
    take!(listen, "listen", |v| v);
    take!(public_url, "public_url", Some);
    take!(otp_outbox, "otp_outbox", Some);
    take!(sms_gateway_url, "sms_gateway_url", Some);
    take!(sms_account_sid, "sms_account_sid", Some);
    take!(sms_auth_token_file, "sms_auth_token_file", Some);
    take!(sms_from, "sms_from", Some);
    take!(sms_timeout, "sms_timeout", |v| v);
    if let Some(list) = f.oidc_provider
        && unset(m, "oidc_providers")
    {
        a.oidc_file_providers = list
            .into_iter()
            .map(FileProvider::into_config)
            .collect::<Result<_, _>>()?;
    }
    take!(assets, "assets", Some);
    take!(playground_assets, "playground_assets", Some);
    take!(consent_page, "consent_page", |v| v);
    take!(demo, "demo", |v| v);
    take!(rate_limit_per_ip, "rate_limit_per_ip", |v| v);
    take!(rate_limit_global, "rate_limit_global", |v| v);
    take!(max_concurrent_hashes, "max_concurrent_hashes", Some);
    take!(max_sign_in_attempts, "max_sign_in_attempts", |v| v);
    take!(purge_interval, "purge_interval", |v| v);
    take!(metrics_listen, "metrics_listen", Some);
    take!(tls_cert, "tls_cert", Some);
    take!(tls_key, "tls_key", Some);
    take!(default_history_length, "default_history_length", |v| v);
    take!(
        default_authorization_length,
        "default_authorization_length",
        |v| v
    );
    take!(
        supported_function_blocks,
        "supported_function_blocks",
        |v| v
    );
    take!(require_second_factor, "require_second_factor", |v| v);
    take!(smtp_url, "smtp_url", Some);
    take!(smtp_from, "smtp_from", Some);
    take!(smtp_password_file, "smtp_password_file", Some);
    if let Some(v) = f.trusted_proxy
        && unset(m, "trusted_proxies")
    {
        a.trusted_proxies = v;
    }
    Ok(())
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|c| (c, m)));
    let (mut cli, matches) = match parsed {
        Ok(c) => c,
        Err(e) => {
            // Help and version exit 0; bad arguments exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(path) = cli.config.clone()
        && let Err(e) = apply_config_file(&mut cli, &matches, &path)
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_current_span(false)
            .init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Serve(args) => serve(&cli, args).await,
        Command::Client(c) => client(&cli, c).await,
        Command::Customer(c) => customer(&cli, c).await,
    }
}

fn admin_config() -> Config {
    Config::new("http://127.0.0.1:8080")
}

fn pick_dir(given: &Option<PathBuf>, default: &str) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(default)).filter(|p| p.is_dir()),
    }
}

async fn serve(cli: &Cli, args: &ServeArgs) -> Result<(), Failure> {
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen));
    match url::Url::parse(&public_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.query().is_none() => {}
        _ => {
            return Err(Failure::Usage(format!(
                "--public-url {public_url:?} must be an http(s) URL without a query"
            )));
        }
    }
    if !args.consent_page.starts_with('/') && !args.consent_page.starts_with("http") {
        return Err(Failure::Usage(
            "--consent-page must be a path such as /consent/ or an absolute URL".into(),
        ));
    }
    if let Some(a) = &args.assets
        && !a.is_dir()
    {
        return Err(Failure::Usage(format!(
            "--assets {} is not a directory",
            a.display()
        )));
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            Some(crate::tls::server_config(cert, key).map_err(Failure::Usage)?)
        }
        (None, None) => None,
        _ => {
            return Err(Failure::Usage(
                "--tls-cert and --tls-key go together".into(),
            ));
        }
    };
    if tls.is_some() && !public_url.starts_with("https://") {
        return Err(Failure::Usage(format!(
            "--public-url {public_url:?} must be https:// when the server serves TLS"
        )));
    }
    let mut config = Config::new(public_url);
    config.consent_page = args.consent_page.clone();
    config.assets_dir = pick_dir(&args.assets, "dist");
    config.playground_dir = pick_dir(&args.playground_assets, "crates/scope-playground/dist");
    config.demo_sandbox = args.demo;
    config.rate_per_ip = rate_arg("--rate-limit-per-ip", &args.rate_limit_per_ip)?;
    config.rate_global = rate_arg("--rate-limit-global", &args.rate_limit_global)?;
    config.trusted_proxies = args.trusted_proxies.clone();
    if let Some(n) = args.max_concurrent_hashes {
        if n == 0 {
            return Err(Failure::Usage(
                "--max-concurrent-hashes must be at least 1".into(),
            ));
        }
        config.max_concurrent_hashes = n;
    }
    if args.max_sign_in_attempts == 0 {
        return Err(Failure::Usage(
            "--max-sign-in-attempts must be at least 1".into(),
        ));
    }
    config.max_sign_in_attempts_per_request = args.max_sign_in_attempts;
    config.purge_interval = args.purge_interval.max(1);
    if args.default_authorization_length == 0 {
        return Err(Failure::Usage(
            "--default-authorization-length must be at least 1 second".into(),
        ));
    }
    config.default_history_seconds = args.default_history_length;
    config.default_authorization_seconds = args.default_authorization_length;
    config.supported_function_blocks = supported_blocks_arg(&args.supported_function_blocks)?;
    let mut providers = args.oidc_file_providers.clone();
    for spec in &args.oidc_providers {
        providers.push(
            crate::oidc::ProviderConfig::parse(spec)
                .map_err(|e| Failure::Usage(format!("--oidc-provider: {e}")))?,
        );
    }
    for (i, p) in providers.iter().enumerate() {
        if providers[..i].iter().any(|q| q.id == p.id) {
            return Err(Failure::Usage(format!(
                "--oidc-provider: the id {:?} is given twice",
                p.id
            )));
        }
    }
    config.oidc_providers = providers;
    config.require_second_factor = args.require_second_factor;
    let mailer = match (&args.smtp_url, &args.smtp_from) {
        (Some(url), Some(from)) => Some(
            Mailer::new(url, from, args.smtp_password_file.as_deref()).map_err(Failure::Usage)?,
        ),
        (None, _) if args.smtp_password_file.is_some() => {
            return Err(Failure::Usage(
                "--smtp-password-file needs --smtp-url".into(),
            ));
        }
        (Some(_), None) => return Err(Failure::Usage("--smtp-url needs --smtp-from".into())),
        (None, _) => None,
    };
    let mut outbox = None;
    let state = open_state(
        cli,
        config,
        || {
            let (senders, file) = serve_senders(cli, args, mailer.as_ref())?;
            outbox = file;
            Ok(senders)
        },
        mailer.clone(),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
    if args.demo {
        let seed = admin::seed_demo(&state)
            .await
            .map_err(|e| Failure::Runtime(e.0))?;
        let seeded = crate::espi::demo::seed_demo_usage(&state, crate::espi::demo::DEMO_DAYS)
            .await
            .map_err(|e| Failure::Runtime(e.0))?;
        if seeded > 0 {
            tracing::info!(meters = seeded, "seeded two years of demo usage and bills");
        }
        print_demo(&state, &seed, outbox.as_deref());
    } else {
        println!("DataCustodian listening on {}", state.config().public_url);
    }
    match &state.config().assets_dir {
        Some(d) => tracing::info!(dir = %d.display(), "serving the consent widget at /consent/"),
        None => {
            tracing::warn!("no dist/ found: /consent/ says the widget is not built (use --assets)")
        }
    }
    if let Some(addr) = args.metrics_listen {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::Runtime(format!("cannot listen on {addr}: {e}")))?;
        let metrics = crate::metrics::metrics_app(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, metrics).await {
                tracing::error!("metrics listener: {e}");
            }
        });
        tracing::info!(%addr, "metrics at /metrics");
    }
    let store = state.store().clone();
    if let Some(tls) = tls {
        let listener = listener
            .into_std()
            .map_err(|e| Failure::Runtime(format!("cannot listen on {}: {e}", args.listen)))?;
        let handle = axum_server::Handle::new();
        let stop = handle.clone();
        tokio::spawn(async move {
            shutdown().await;
            stop.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
        });
        crate::tls::serve_tls(listener, state, tls, handle)
            .await
            .map_err(|e| Failure::Runtime(e.to_string()))?;
        store.close().await;
        return Ok(());
    }
    let _housekeeping = crate::housekeeping::spawn(state.clone());
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await
    .map_err(|e| Failure::Runtime(e.to_string()))?;
    store.close().await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

fn print_demo(state: &AppState, seed: &admin::DemoSeed, outbox: Option<&Path>) {
    let base = &state.config().public_url;
    let mut out = String::new();
    out.push_str("Green Button DataCustodian (demo)\n\n");
    out.push_str("Open this authorization URL in a browser (demo third party, PKCE S256):\n\n");
    out.push_str(&format!("  {}\n\n", seed.authorization_url));
    out.push_str(&format!("  state:         {}\n", seed.state));
    out.push_str(&format!("  code_verifier: {}\n\n", seed.code_verifier));
    out.push_str("Demo customers:\n");
    for c in &seed.customers {
        out.push_str(&format!("  - {}\n", c.display_name));
        if let (Some(u), Some(p)) = (&c.username, &c.password) {
            out.push_str(&format!("      username: {u}   password: {p}\n"));
        }
        if let (Some(a), Some(z)) = (&c.account_number, &c.zip) {
            out.push_str(&format!("      account number: {a}   ZIP: {z}\n"));
        }
        if let Some(p) = &c.phone {
            out.push_str(&format!("      phone: {p}\n"));
        }
        if let Some(e) = &c.email {
            out.push_str(&format!("      email: {e}\n"));
        }
        out.push_str(&format!("      meters: {}\n", c.meters.join(", ")));
    }
    if let Some(outbox) = outbox {
        out.push_str(&format!(
            "\nOne-time codes are written to: {}\n\n",
            outbox.display()
        ));
    }
    out.push_str(&format!(
        "Demo third party: client_id {}  client_secret {}\n\n",
        seed.client_id, seed.client_secret
    ));
    out.push_str(
        "Token endpoint (after the consent, the browser lands on the callback with ?code=...):\n\n",
    );
    out.push_str(&format!(
        "  curl -s -u {id}:{secret} {base}/oauth/token \\\n    -d grant_type=authorization_code -d code=CODE \\\n    --data-urlencode redirect_uri={redir} \\\n    -d code_verifier={verifier}\n\n",
        id = seed.client_id,
        secret = seed.client_secret,
        redir = seed.redirect_uri,
        verifier = seed.code_verifier
    ));
    out.push_str(&format!(
        "  curl -s -u {id}:{secret} {base}/oauth/token -d grant_type=refresh_token -d refresh_token=REFRESH_TOKEN\n\n",
        id = seed.client_id,
        secret = seed.client_secret
    ));
    out.push_str(&format!(
        "  curl -s -u {id}:{secret} {base}/oauth/token -d grant_type=client_credentials\n\n",
        id = seed.client_id,
        secret = seed.client_secret
    ));
    out.push_str(&format!(
        "  curl -s -H 'Authorization: Bearer ACCESS_TOKEN' {base}/espi/1_1/resource/Batch/Subscription/ID/UsagePoint\n\n"
    ));
    out.push_str(&format!(
        "Metadata: {base}/.well-known/oauth-authorization-server\n"
    ));
    if state.config().playground_dir.is_some() {
        out.push_str(&format!(
            "Scope playground (build, decode, preview, try the flow): {base}/\n"
        ));
    }
    out.push_str(&format!(
        "Sample utility portal embedding the widget: {base}/consent/portal.html?request=REQUEST_ID\n  (or serve with --consent-page /consent/portal.html to send every customer there)\n"
    ));
    print!("{out}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

fn split_kv<'a>(what: &str, s: &'a str) -> Result<(&'a str, &'a str), Failure> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| Failure::Usage(format!("{what} {s:?} must look like KEY=VALUE")))
}

async fn client(cli: &Cli, c: &ClientCommand) -> Result<(), Failure> {
    let state = open_state(
        cli,
        admin_config(),
        || Ok(Senders::all(Arc::new(LogSender))),
        None,
    )
    .await?;
    let r = match c {
        ClientCommand::Add(a) => {
            let mut sous = Vec::new();
            for s in &a.scopes_of_use {
                let (name, rest) = split_kv("--scope-of-use", s)?;
                let (text, url) = match rest.rsplit_once('|') {
                    Some((t, u)) => (t, Some(u.to_string())),
                    None => (rest, None),
                };
                sous.push(ScopeOfUse {
                    name: name.to_string(),
                    text: text.to_string(),
                    url,
                });
            }
            let secret = admin::create_client(
                &state,
                NewClient {
                    client_id: a.client_id.clone(),
                    client_secret: None,
                    name: a.name.clone(),
                    kind: a.kind.into(),
                    redirect_uris: a.redirect_uris.clone(),
                    scopes: a.scopes.clone(),
                    scopes_of_use: sous,
                    frame_ancestors: a.frame_ancestors.clone(),
                    grant_types: a.grant_types.clone(),
                    logo_uri: a.logo_uri.clone(),
                    client_uri: a.client_uri.clone(),
                    policy_uri: a.policy_uri.clone(),
                    tos_uri: a.tos_uri.clone(),
                    require_pkce: !a.no_require_pkce,
                },
            )
            .await
            .map_err(usage)?;
            print_json(&secret)
        }
        ClientCommand::List => {
            #[derive(Serialize)]
            struct Row {
                client_id: String,
                name: String,
                kind: &'static str,
                redirect_uris: Vec<String>,
                scopes: Vec<String>,
                grant_types: Vec<String>,
                frame_ancestors: Vec<String>,
                require_pkce: bool,
            }
            let rows: Vec<Row> = state
                .store()
                .clients()
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?
                .into_iter()
                .map(|c| Row {
                    client_id: c.client_id,
                    name: c.name,
                    kind: c.kind.as_str(),
                    redirect_uris: c.redirect_uris,
                    scopes: c.scopes,
                    grant_types: c.grant_types,
                    frame_ancestors: c.frame_ancestors,
                    require_pkce: c.require_pkce,
                })
                .collect();
            print_json(&rows)
        }
        ClientCommand::RotateSecret { id } => {
            let s = admin::rotate_client_secret(&state, id)
                .await
                .map_err(usage)?;
            print_json(&s)
        }
        ClientCommand::Remove { id } => {
            admin::remove_client(&state, id).await.map_err(usage)?;
            print_json(&serde_json::json!({ "removed": id }))
        }
    };
    state.store().close().await;
    r
}

async fn customer(cli: &Cli, c: &CustomerCommand) -> Result<(), Failure> {
    let state = open_state(
        cli,
        admin_config(),
        || Ok(Senders::all(Arc::new(LogSender))),
        None,
    )
    .await?;
    let r = match c {
        CustomerCommand::Add(a) => {
            let mut meters: Vec<Meter> = Vec::new();
            for m in &a.meters {
                let (said, label) = match m.split_once('=') {
                    Some((s, l)) => (s.to_string(), l.to_string()),
                    None => (m.clone(), m.clone()),
                };
                meters.push(Meter {
                    said,
                    label,
                    address: None,
                    service_kind: None,
                });
            }
            for (what, list) in [
                ("--address", &a.addresses),
                ("--service-kind", &a.service_kinds),
            ] {
                for s in list {
                    let (said, value) = split_kv(what, s)?;
                    let m = meters.iter_mut().find(|m| m.said == said).ok_or_else(|| {
                        Failure::Usage(format!(
                            "{what} names meter {said:?}, which is not given with --meter"
                        ))
                    })?;
                    if what == "--address" {
                        m.address = Some(value.to_string());
                    } else {
                        m.service_kind = Some(value.to_string());
                    }
                }
            }
            let id = admin::create_customer(
                &state,
                NewCustomer {
                    username: a.username.clone(),
                    password: a.password.clone(),
                    display_name: a.display_name.clone(),
                    phone: a.phone.clone(),
                    email: a.email.clone(),
                    account_number: a.account_number.clone(),
                    zip: a.zip.clone(),
                    meters,
                },
            )
            .await
            .map_err(usage)?;
            print_json(&serde_json::json!({ "customer_id": id }))
        }
        CustomerCommand::List => {
            let mut rows = Vec::new();
            for c in state
                .store()
                .customers()
                .await
                .map_err(|e| Failure::Runtime(e.to_string()))?
            {
                let meters = state
                    .store()
                    .meters(&c.customer_id)
                    .await
                    .map_err(|e| Failure::Runtime(e.to_string()))?;
                rows.push(serde_json::json!({
                    "customer_id": c.customer_id,
                    "username": c.username,
                    "display_name": c.display_name,
                    "phone": c.phone,
                    "email": c.email,
                    "account_number": c.account_number,
                    "zip": c.zip,
                    "meters": meters,
                }));
            }
            print_json(&rows)
        }
        CustomerCommand::Remove { id } => {
            admin::remove_customer(&state, id).await.map_err(usage)?;
            print_json(&serde_json::json!({ "removed": id }))
        }
    };
    state.store().close().await;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_file_reads() {
        let text = include_str!("../datacustodian.example.toml");
        let f: FileSettings = toml::from_str(text).expect("datacustodian.example.toml");
        let providers = f.oidc_provider.expect("an [[oidc-provider]]");
        assert_eq!(providers[0].id, "utility");
        assert_eq!(
            providers[0].matches,
            Some(crate::oidc::AccountField::AccountNumber)
        );
        assert!(f.sms_gateway_url.is_some());
        assert_eq!(
            f.purge_interval,
            Some(60),
            "keys after the tables stay top-level"
        );
    }
}
