//! Storage.
//!
//! [`Store`] is the boundary: handlers only call its methods and use the
//! record types below; every SQL statement lives in [`sql`], one
//! implementation for SQLite and PostgreSQL (chosen by the database URL)
//! through sqlx's `Any` driver. See [`sql`] for how a statement must be
//! written to run on both.
//!
//! Secrets never reach this layer in clear: callers pass keyed hashes
//! (see [`crate::security::secrets`]).

pub mod sql;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use sql::espi_data::{MeterUsage, ReadingRow, RegistrationUpdate, SummaryRow};
pub use sql::{Backend, Store};

/// A storage failure. Its text is for logs only; responses never show it.
#[derive(Debug)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> StoreError {
        StoreError(format!("bad JSON column: {e}"))
    }
}

/// How a client was registered; decides its `client_credentials` token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// A third party (authorization code flow; `client_access_token`).
    ThirdParty,
    /// The utility's own admin client (`datacustodian_access_token`).
    DataCustodian,
    /// A meter data system uploading (`upload_access_token`).
    Upload,
    /// Dynamic registration (`registration_access_token`).
    Registration,
}

impl ClientKind {
    /// `third-party`, `data-custodian`, `upload`, `registration`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::ThirdParty => "third-party",
            ClientKind::DataCustodian => "data-custodian",
            ClientKind::Upload => "upload",
            ClientKind::Registration => "registration",
        }
    }

    /// Reads the names above.
    pub fn parse(s: &str) -> Option<ClientKind> {
        match s {
            "third-party" => Some(ClientKind::ThirdParty),
            "data-custodian" => Some(ClientKind::DataCustodian),
            "upload" => Some(ClientKind::Upload),
            "registration" => Some(ClientKind::Registration),
            _ => None,
        }
    }

    /// The token kind `client_credentials` gives this client.
    pub fn client_token_kind(self) -> TokenKind {
        match self {
            ClientKind::ThirdParty => TokenKind::ClientAccess,
            ClientKind::DataCustodian => TokenKind::DataCustodianAccess,
            ClientKind::Upload => TokenKind::UploadAccess,
            ClientKind::Registration => TokenKind::RegistrationAccess,
        }
    }

    /// The grant types a client of this kind gets when none are given.
    pub fn default_grant_types(self) -> Vec<String> {
        match self {
            ClientKind::ThirdParty => vec![
                "authorization_code".to_string(),
                "refresh_token".to_string(),
                "client_credentials".to_string(),
            ],
            _ => vec!["client_credentials".to_string()],
        }
    }
}

/// The GBA token kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// One customer's subscription.
    Access,
    /// Refresh token of an authorization.
    Refresh,
    /// Third party, bulk (`FB=34_35`).
    ClientAccess,
    /// Utility admin.
    DataCustodianAccess,
    /// Meter data upload (`FB=45`).
    UploadAccess,
    /// Dynamic registration (`FB=36_40`).
    RegistrationAccess,
}

impl TokenKind {
    /// The GBA name, e.g. `client_access_token`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access_token",
            TokenKind::Refresh => "refresh_token",
            TokenKind::ClientAccess => "client_access_token",
            TokenKind::DataCustodianAccess => "datacustodian_access_token",
            TokenKind::UploadAccess => "upload_access_token",
            TokenKind::RegistrationAccess => "registration_access_token",
        }
    }

    /// Reads the names above.
    pub fn parse(s: &str) -> Option<TokenKind> {
        [
            TokenKind::Access,
            TokenKind::Refresh,
            TokenKind::ClientAccess,
            TokenKind::DataCustodianAccess,
            TokenKind::UploadAccess,
            TokenKind::RegistrationAccess,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The fixed scope of a client token (OpenESPI's values).
    pub fn client_scope(self) -> Option<&'static str> {
        match self {
            TokenKind::ClientAccess => Some("FB=34_35"),
            TokenKind::DataCustodianAccess => Some("FB=3_19_32_33_34_35_36_37_38_41_44_45"),
            TokenKind::UploadAccess => Some("FB=45"),
            TokenKind::RegistrationAccess => Some("FB=36_40"),
            TokenKind::Access | TokenKind::Refresh => None,
        }
    }
}

/// A registered scope-of-use disclosure (`sou-{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeOfUse {
    /// The `{name}` of `sou-{name}`.
    pub name: String,
    /// What the third party does with the data, in plain words.
    pub text: String,
    /// A page with more detail.
    pub url: Option<String>,
}

/// A registered client (third party or other).
#[derive(Debug, Clone)]
pub struct Client {
    /// The public client id.
    pub client_id: String,
    /// Keyed hash of the client secret.
    pub secret_hash: Vec<u8>,
    /// Shown to customers.
    pub name: String,
    /// How it was registered.
    pub kind: ClientKind,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The widest scopes it may request (canonical); empty = any.
    pub scopes: Vec<String>,
    /// Its scope-of-use disclosures.
    pub scopes_of_use: Vec<ScopeOfUse>,
    /// Origins allowed to frame the consent page for its requests.
    pub frame_ancestors: Vec<String>,
    /// Allowed grant types.
    pub grant_types: Vec<String>,
    /// Logo.
    pub logo_uri: Option<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
    /// Authorization requests must carry a PKCE S256 challenge.
    pub require_pkce: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl Client {
    /// True when this client may use `grant_type`.
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}

/// A customer (retail customer) of the utility.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    /// Internal id (used in `customerResourceURI`).
    pub customer_id: String,
    /// Login name, if the customer has one.
    pub username: Option<String>,
    /// argon2id PHC string.
    pub password_hash: Option<String>,
    /// Shown in the consent screen.
    pub display_name: String,
    /// E.164 phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Utility account number.
    pub account_number: Option<String>,
    /// Service ZIP code.
    pub zip: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A meter (usage point), identified by its service agreement id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Meter {
    /// Service agreement id.
    pub said: String,
    /// Customer-facing label.
    pub label: String,
    /// Service address.
    pub address: Option<String>,
    /// `electricity`, `gas` or `water`.
    pub service_kind: Option<String>,
}

/// A consent session (the `gbcd_session` cookie).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    /// Internal row id (never sent to the browser).
    pub session_id: String,
    /// The signed-in customer.
    pub customer_id: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A recorded authorization request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthRequest {
    /// Internal row id.
    pub request_key: String,
    /// The client.
    pub client_id: String,
    /// The exact redirect URI it asked for.
    pub redirect_uri: String,
    /// Opaque `state`.
    pub state: Option<String>,
    /// The requested scope, canonical.
    pub scope: String,
    /// PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// The consent session it is bound to.
    pub session_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// When a decision was taken.
    pub decided_at: Option<i64>,
    /// `authorized` or `declined`.
    pub outcome: Option<String>,
}

/// A granted authorization (ESPI `Authorization`).
#[derive(Debug, Clone)]
pub struct Authorization {
    /// Public id (also the subscription id).
    pub authorization_id: String,
    /// The third party.
    pub client_id: String,
    /// The customer.
    pub customer_id: String,
    /// Granted scope, canonical.
    pub scope: String,
    /// Granted SAIDs.
    pub meters: Vec<String>,
    /// `authorization_code` or `password`.
    pub grant_type: String,
    /// Unix seconds.
    pub granted_at: i64,
    /// Unix seconds; 0 = until revoked.
    pub end_date: i64,
    /// Seconds of history granted.
    pub history_length: Option<i64>,
    /// When revoked.
    pub revoked_at: Option<i64>,
}

impl Authorization {
    /// `active`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if self.end_date != 0 && self.end_date <= now {
            "expired"
        } else {
            "active"
        }
    }
}

/// A stored authorization code, with the state of its authorization.
#[derive(Debug, Clone)]
pub struct CodeRow {
    /// The client it was issued to.
    pub client_id: String,
    /// The authorization it redeems.
    pub authorization_id: String,
    /// The redirect URI of the request.
    pub redirect_uri: String,
    /// PKCE challenge of the request.
    pub code_challenge: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The authorization's end (0 = until revoked).
    pub authorization_end: i64,
    /// Whether the authorization was revoked.
    pub authorization_revoked: bool,
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// Keyed hash of the token.
    pub token_hash: Vec<u8>,
    /// Its kind.
    pub kind: TokenKind,
    /// Unix seconds; `None` = no expiry of its own.
    pub expires_at: Option<i64>,
}

/// A stored token, with what decides whether it is live.
#[derive(Debug, Clone)]
pub struct TokenRow {
    /// Its kind.
    pub kind: TokenKind,
    /// The client it was issued to.
    pub client_id: String,
    /// Its authorization, for customer tokens.
    pub authorization_id: Option<String>,
    /// Its family, for customer tokens.
    pub family_id: Option<String>,
    /// Granted scope.
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Refresh tokens: when it was rotated.
    pub used_at: Option<i64>,
    /// When revoked.
    pub revoked_at: Option<i64>,
    /// The authorization's customer.
    pub customer_id: Option<String>,
    /// The authorization's end (0 = until revoked).
    pub authorization_end: Option<i64>,
    /// Whether the authorization was revoked.
    pub authorization_revoked: bool,
}

impl TokenRow {
    /// True when the token can be used at `now`: not revoked, not rotated,
    /// not expired, and its authorization (if any) is active.
    pub fn is_live(&self, now: i64) -> bool {
        if self.revoked_at.is_some() || self.used_at.is_some() || self.authorization_revoked {
            return false;
        }
        if let Some(exp) = self.expires_at
            && exp <= now
        {
            return false;
        }
        if let Some(end) = self.authorization_end
            && end != 0
            && end <= now
        {
            return false;
        }
        true
    }
}

/// What happened to a code presented at the token endpoint.
#[derive(Debug)]
pub enum RedeemOutcome<E> {
    /// Consumed now and tokens issued.
    Issued(CodeRow),
    /// Consumed now, but the request did not match (PKCE, redirect URI,
    /// expiry): nothing issued.
    Rejected(E),
    /// Already used: every token issued from it has now been revoked.
    Reused,
    /// Unknown, or issued to another client.
    NotFound,
}

/// What happened to a refresh token presented at the token endpoint.
#[derive(Debug)]
pub enum RotateOutcome {
    /// Rotated: the new tokens were stored.
    Rotated(TokenRow),
    /// An old (already rotated) refresh token: its family is now revoked.
    Reused,
    /// Unknown, revoked, expired, or another client's.
    Invalid,
}

/// A sign-in sent to an OpenID Connect provider, waiting for its callback.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OidcLogin {
    /// Keyed hash of the `state` sent to the provider.
    pub state_hash: Vec<u8>,
    /// The configured provider.
    pub provider_id: String,
    /// The authorization request.
    pub request_key: String,
    /// Its public id (the consent page to come back to).
    pub request_id: String,
    /// The consent session that started it.
    pub session_id: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier.
    pub pkce_verifier: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A one-time code challenge.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OtpChallenge {
    /// Public id.
    pub challenge_id: String,
    /// The request it belongs to.
    pub request_key: String,
    /// The consent session that started it.
    pub session_id: String,
    /// The customer it signs in; `None` when the identity matched nobody
    /// (the challenge answers like a real one, sends nothing and no code
    /// matches it).
    pub customer_id: Option<String>,
    /// `sms` or `email`.
    pub channel: String,
    /// Keyed hash of the destination (or, matching nobody, of the identity).
    pub contact_hash: Vec<u8>,
    /// Keyed hash of the current code.
    pub code_hash: Vec<u8>,
    /// The masked contact shown to the caller (only one the caller typed;
    /// empty otherwise).
    pub sent_to: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// Unix seconds.
    pub last_sent_at: i64,
    /// When the code was used.
    pub used_at: Option<i64>,
    /// Wrong codes so far.
    pub failures: i64,
    /// No try is accepted before this.
    pub throttled_until: i64,
}

/// A limit on attempts counted in a throttle row: at most `max` in a fixed
/// `window` (seconds, from the first counted attempt), and from the
/// `delay_after`-th on, each attempt blocks the next for a delay that
/// doubles from `base_delay` up to `max_delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Window length in seconds.
    pub window: i64,
    /// Attempts allowed in the window (`i64::MAX`: no hard cap).
    pub max: i64,
    /// The attempt count from which a delay applies (`i64::MAX`: never).
    pub delay_after: i64,
    /// The first delay (seconds).
    pub base_delay: i64,
    /// The longest delay (seconds).
    pub max_delay: i64,
}

impl Limit {
    /// `max` attempts per `window`, no delay.
    pub fn per_window(max: i64, window: i64) -> Limit {
        Limit {
            window,
            max,
            delay_after: i64::MAX,
            base_delay: 0,
            max_delay: 0,
        }
    }

    /// The delay that the `n`-th counted attempt imposes on the next one.
    pub fn delay_for(&self, n: i64) -> i64 {
        if n < self.delay_after {
            return 0;
        }
        let shift = (n - self.delay_after).min(16) as u32;
        (self.base_delay << shift).min(self.max_delay)
    }
}

/// The answer to a reservation of attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; go ahead. The count of the first key after this attempt.
    Reserved(i64),
    /// Refused: wait this many seconds (at least 1).
    Refused(i64),
}

/// What a reserved one-time code attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAttempt {
    /// Counted (`failures` is the count with this attempt; `throttle_mark`
    /// is the challenge's `throttled_until` after it, for `use_challenge`).
    Reserved {
        /// Attempts counted so far, this one included.
        failures: i64,
        /// `throttled_until` as this reservation left it.
        throttle_mark: i64,
    },
    /// Unknown challenge.
    Unknown,
    /// Already used.
    Used,
    /// Expired.
    Expired,
    /// Too many wrong codes: locked.
    Locked,
    /// Wait this many seconds.
    Throttled(i64),
    /// Too many wrong codes for this customer over the long window: wait
    /// this many seconds.
    CustomerLocked(i64),
}

/// What a resend found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResendOutcome {
    /// The code was replaced and the send counted.
    Sent,
    /// Used, expired or unknown.
    Gone,
    /// Locked by wrong codes.
    Locked,
    /// The previous send was too recent: wait this many seconds.
    TooSoon(i64),
    /// The contact's hourly limit: wait this many seconds.
    TooMany(i64),
}

/// Rows deleted by one purge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Authorization requests.
    pub requests: u64,
    /// Consent sessions.
    pub sessions: u64,
    /// One-time code challenges.
    pub challenges: u64,
    /// Authorization codes.
    pub codes: u64,
    /// Throttle and send counters.
    pub throttles: u64,
}

impl PurgeCounts {
    /// All rows.
    pub fn total(&self) -> u64 {
        self.requests + self.sessions + self.challenges + self.codes + self.throttles
    }
}

/// Failed-attempt counter for one subject.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Throttle {
    /// Failures in the current window.
    pub failures: i64,
    /// Start of the window.
    pub first_failure_at: i64,
    /// No try is accepted before this.
    pub blocked_until: i64,
}
