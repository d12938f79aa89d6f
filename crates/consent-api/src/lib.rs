//! The consent API's wire types: what the consent widget and a
//! DataCustodian say to each other (`api/consent-api.openapi.yaml`).
//!
//! One set of `serde` types, used by the widget (in wasm) to read answers
//! and by the reference DataCustodian to write them, so the two cannot
//! drift apart; `tests/openapi.rs` checks them against the OpenAPI file.
//!
//! Reading is strict where it matters: a response that lacks a required
//! field fails to deserialize (the widget then shows "something went
//! wrong"), never a silent empty string or zero.

#![warn(missing_docs)]

use serde::{Deserialize, Serialize};

/// A sign-in method the custodian offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Username and password.
    Password,
    /// Account number + ZIP code, then a one-time code.
    AccountOtp,
    /// A code by SMS to a phone number.
    PhoneOtp,
    /// A code by email.
    EmailOtp,
}

impl Method {
    /// Every method, in the reference custodian's order of preference.
    pub const ALL: [Method; 4] = [
        Method::Password,
        Method::AccountOtp,
        Method::PhoneOtp,
        Method::EmailOtp,
    ];

    /// The API spelling (`password`, `account_otp`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::AccountOtp => "account_otp",
            Method::PhoneOtp => "phone_otp",
            Method::EmailOtp => "email_otp",
        }
    }
}

/// Where a one-time code goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A text message to the phone on file.
    #[default]
    Sms,
    /// An email to the address on file.
    Email,
}

/// What kind of service a meter measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Electricity.
    Electricity,
    /// Natural gas.
    Gas,
    /// Water.
    Water,
}

impl ServiceKind {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Electricity => "electricity",
            ServiceKind::Gas => "gas",
            ServiceKind::Water => "water",
        }
    }
}

/// `ThirdParty`: who asks for the data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThirdParty {
    /// OAuth client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Logo URL.
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// Home page.
    #[serde(default)]
    pub client_uri: Option<String>,
    /// Privacy policy.
    #[serde(default)]
    pub policy_uri: Option<String>,
    /// Terms of service.
    #[serde(default)]
    pub tos_uri: Option<String>,
}

/// `ScopeOfUse`: how the third party says it will use the data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeOfUse {
    /// The `sou-{name}` it was registered under.
    pub name: String,
    /// The disclosure text.
    pub text: String,
    /// A link to the full statement.
    #[serde(default)]
    pub url: Option<String>,
}

/// `SignIn.hint`: the method (and value) the scope's `auth-*` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hint {
    /// The method.
    pub method: Method,
    /// A value to prefill (a phone number, a username).
    #[serde(default)]
    pub value: Option<String>,
}

/// `IdentityProvider`: one of the utility's own sign-in services (OpenID
/// Connect), offered as "Sign in with {name}".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityProvider {
    /// The id in `POST …/sign-in/sso/{id}` and `auth-sso-{id}`.
    pub id: String,
    /// The name to show.
    pub name: String,
}

/// `SignIn`: the methods offered, preferred first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignIn {
    /// The methods, in the custodian's order of preference.
    pub methods: Vec<Method>,
    /// The request's `auth-*` hint.
    #[serde(default)]
    pub hint: Option<Hint>,
    /// The utility's own sign-in services, offered beside the methods.
    #[serde(default)]
    pub providers: Vec<IdentityProvider>,
    /// The provider the request's `auth-sso-{id}` names (one of
    /// `providers`): the widget goes straight to it.
    #[serde(default)]
    pub sso: Option<String>,
}

/// `SsoStart`: the answer of `POST …/sign-in/sso/{provider}`: where to send
/// the browser's top window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoStart {
    /// The provider's authorization URL (PKCE, `state` and `nonce` set).
    pub redirect_to: String,
}

/// `SsoError`: why a sign-in through the utility's provider did not end
/// signed in; the consent page gets it as `?sso_error=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SsoError {
    /// The customer cancelled at the provider.
    Cancelled,
    /// The provider's account matches no customer account here.
    UnknownAccount,
    /// The provider failed, or its answer did not check out.
    Failed,
}

impl SsoError {
    /// Every reason.
    pub const ALL: [SsoError; 3] = [
        SsoError::Cancelled,
        SsoError::UnknownAccount,
        SsoError::Failed,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SsoError::Cancelled => "cancelled",
            SsoError::UnknownAccount => "unknown_account",
            SsoError::Failed => "failed",
        }
    }
}

/// `Meter`: a usage point of the customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meter {
    /// Service agreement id.
    pub said: String,
    /// Label.
    pub label: String,
    /// Service address.
    #[serde(default)]
    pub address: Option<String>,
    /// What it measures.
    #[serde(default)]
    pub service_kind: Option<ServiceKind>,
}

/// `Customer`: the signed-in customer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Customer {
    /// Name to show.
    pub display_name: String,
    /// Their meters.
    pub meters: Vec<Meter>,
}

/// `ConsentContext`: everything the consent screen needs about a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentContext {
    /// The request id.
    pub request_id: String,
    /// Sent back as `X-CSRF-Token` on every `POST`.
    pub csrf_token: String,
    /// Unix seconds; the request must be decided before.
    pub expires_at: u64,
    /// The server clock, unix seconds.
    pub now: u64,
    /// The third party.
    pub client: ThirdParty,
    /// The requested scope, canonical.
    pub scope: String,
    /// The registered disclosure, if any.
    #[serde(default)]
    pub scope_of_use: Option<ScopeOfUse>,
    /// False under `noedit`.
    pub editable: bool,
    /// End date applied when the scope has none (unix seconds).
    pub default_end_date: u64,
    /// The history applied when the scope has no `HistoryLength`
    /// (seconds; the seed's default is 2 years).
    pub default_history_length: u64,
    /// Origins allowed to frame or embed the consent page.
    pub embed_origins: Vec<String>,
    /// How the customer may sign in.
    pub sign_in: SignIn,
    /// The customer, when the session is already signed in.
    #[serde(default)]
    pub customer: Option<Customer>,
}

/// `CustomerSession`: "Your data sharing" (`GET /api/customer/session`):
/// the session's CSRF token, how to sign in, and the customer when the
/// session is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSession {
    /// Sent back as `X-CSRF-Token` on every `POST`.
    pub csrf_token: String,
    /// How the customer may sign in.
    pub sign_in: SignIn,
    /// The customer, when the session is signed in.
    #[serde(default)]
    pub customer: Option<Customer>,
}

/// `PasswordSignIn`: the body of `POST …/sign-in/password`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordSignIn {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// `Identify`: how the customer says who they are for a one-time code.
/// Exactly one of the forms is filled in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identify {
    /// Account number (with `zip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_number: Option<String>,
    /// ZIP code of the service address (with `account_number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    /// Mobile phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Identify {
    /// Account number + ZIP code.
    pub fn account(account_number: impl Into<String>, zip: impl Into<String>) -> Identify {
        Identify {
            account_number: Some(account_number.into()),
            zip: Some(zip.into()),
            ..Identify::default()
        }
    }

    /// A phone number.
    pub fn phone(phone: impl Into<String>) -> Identify {
        Identify {
            phone: Some(phone.into()),
            ..Identify::default()
        }
    }

    /// An email address.
    pub fn email(email: impl Into<String>) -> Identify {
        Identify {
            email: Some(email.into()),
            ..Identify::default()
        }
    }
}

/// The body of `POST …/sign-in/otp`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpStart {
    /// Who the customer says they are.
    pub identify: Identify,
    /// Where the code should go.
    pub channel: Channel,
}

/// The body of `POST …/sign-in/otp/{challenge_id}/verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpVerify {
    /// The 6-digit code.
    pub code: String,
}

/// `OtpChallenge`: a code was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OtpChallenge {
    /// Id for resend and verify.
    pub challenge_id: String,
    /// Where it went.
    pub channel: Channel,
    /// The destination, masked.
    pub sent_to: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before "send another" works.
    pub resend_after: u64,
    /// True for email: it proves the mailbox, not a second factor.
    #[serde(default)]
    pub proves_mailbox_only: bool,
}

/// `CodeRequired`'s outcome: the only one there is (a tag the widget
/// reads, not a string it compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorOutcome {
    /// The password was right; a one-time code was sent.
    CodeRequired,
}

/// `CodeRequired`: the answer (`202`) to a right password when the
/// custodian asks for a second factor. The session is not signed in until
/// the code of `challenge` is verified (`…/sign-in/otp/{challenge_id}/verify`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeRequired {
    /// Always `code_required`.
    pub outcome: SecondFactorOutcome,
    /// Where the code went.
    pub challenge: OtpChallenge,
}

/// The language the customer reads (of the receipt mail).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

/// Authorize or decline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Share the data.
    Authorize,
    /// Share nothing.
    Decline,
}

/// `Decision`: the body of `POST …/decision`. Every choice left out means
/// "as requested"; the server recomputes the grant and refuses anything
/// wider than the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    /// Authorize or decline.
    pub decision: DecisionKind,
    /// The function blocks kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_blocks: Option<Vec<u16>>,
    /// Seconds of history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_length: Option<u64>,
    /// Unix seconds; 0 = until revoked (only if requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date: Option<u64>,
    /// SAIDs granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meters: Option<Vec<String>>,
    /// The language of the receipt mail (default English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<Locale>,
}

impl Decision {
    /// A decline.
    pub fn decline() -> Decision {
        Decision {
            decision: DecisionKind::Decline,
            function_blocks: None,
            history_length: None,
            end_date: None,
            meters: None,
            locale: None,
        }
    }
}

/// What a decision came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The customer authorized.
    Authorized,
    /// The customer declined.
    Declined,
}

/// The state of an authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationStatus {
    /// Live.
    Active,
    /// Revoked by the customer or the third party.
    Revoked,
    /// Past its end date.
    Expired,
}

/// `Receipt`: what was authorized.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    /// The authorization's id.
    pub authorization_id: String,
    /// The third party's name.
    pub third_party: String,
    /// The granted scope, canonical.
    pub scope: String,
    /// The meters granted.
    pub meters: Vec<Meter>,
    /// Unix seconds.
    pub granted_at: u64,
    /// Unix seconds, 0 = until revoked.
    pub end_date: u64,
    /// Seconds of history.
    #[serde(default)]
    pub history_length: Option<u64>,
    /// Active, revoked or expired.
    pub status: AuthorizationStatus,
}

/// The customer's authorizations (`GET /api/customer/authorizations`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizationList {
    /// Sent back as `X-CSRF-Token` to revoke.
    pub csrf_token: String,
    /// Every authorization, newest first.
    pub authorizations: Vec<Receipt>,
}

/// `DecisionResult`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionResult {
    /// Authorized or declined.
    pub outcome: Outcome,
    /// Where the browser goes next (the third party's redirect URI with a
    /// code or `error=access_denied`).
    pub redirect_to: String,
    /// The receipt (authorized only).
    #[serde(default)]
    pub receipt: Option<Receipt>,
}

macro_rules! error_codes {
    ($($variant:ident $code:literal $doc:literal;)*) => {
        /// The stable `error` code of an [`ApiError`] body. Codes this
        /// version does not know read as [`ErrorCode::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $(#[doc = $doc] #[serde(rename = $code)] $variant,)*
            /// A code this version does not know.
            #[serde(other)]
            Other,
        }

        impl ErrorCode {
            /// Every known code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire spelling (`other` for [`ErrorCode::Other`]).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Other => "other",
                }
            }
        }
    };
}

error_codes! {
    InvalidRequest "invalid_request" "A field is missing or malformed (400).";
    UnknownRequest "unknown_request" "No such request id (404).";
    RequestExpired "request_expired" "The request timed out (410).";
    RequestDecided "request_decided" "The request already has a decision (409/410).";
    RequestNotYours "request_not_yours" "The request is bound to another session (403).";
    CsrfInvalid "csrf_invalid" "Missing or wrong `X-CSRF-Token` (403).";
    NotSignedIn "not_signed_in" "The session is not signed in (401).";
    InvalidCredentials "invalid_credentials" "Wrong username or password (401).";
    TooManyAttempts "too_many_attempts" "Too many tries; wait `retry_after` (429).";
    IdentityNotFound "identity_not_found" "No customer matches (404).";
    ChannelUnavailable "channel_unavailable" "No phone or email on file for that channel (400).";
    SendFailed "send_failed" "The code could not be handed to the sender (503).";
    UnknownChallenge "unknown_challenge" "No such code challenge (404).";
    OtpInvalid "otp_invalid" "Wrong code; `attempts_left` says how many are left (400).";
    OtpExpired "otp_expired" "The code expired (400).";
    OtpUsed "otp_used" "The code was already used (400).";
    OtpThrottled "otp_throttled" "Too many wrong codes for now; wait `retry_after` (429).";
    OtpLocked "otp_locked" "Too many wrong codes; the challenge is locked (423).";
    ResendTooSoon "resend_too_soon" "Another code was sent moments ago; wait `retry_after` (429).";
    TooManyCodes "too_many_codes" "Too many codes sent to this contact; wait `retry_after` (429).";
    NoMeterChosen "no_meter_chosen" "An authorization needs at least one meter (400).";
    NoDataChosen "no_data_chosen" "An authorization needs at least one kind of data (400).";
    ScopeWiderThanRequest "scope_wider_than_request" "The choices ask for more than the request (400).";
    EditNotAllowed "edit_not_allowed" "The request says `noedit` (400).";
    UnknownAuthorization "unknown_authorization" "No such authorization of this customer (404).";
    RateLimited "rate_limited" "Too many requests from this address or overall; wait `retry_after` (429).";
    RequestAttemptsExhausted "request_attempts_exhausted" "This authorization request has used up its sign-in attempts; start again from the third party (429).";
    ServerBusy "server_busy" "The server is shedding load; wait `retry_after` (503).";
    ServerError "server_error" "The server failed (500).";
    UnknownProvider "unknown_provider" "No such sign-in provider (404).";
    ProviderUnavailable "provider_unavailable" "The utility's sign-in service cannot be reached (502).";
}

/// `Error`: the body of every consent API error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// The stable code.
    pub error: ErrorCode,
    /// English, for logs and developers; the widget shows its own words.
    pub message: String,
    /// Seconds to wait (429, 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Wrong codes left before the lock (`otp_invalid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_field_is_an_error_not_a_default() {
        let full = r#"{"challenge_id":"c1","channel":"sms","sent_to":"•••3333","expires_in":600,"resend_after":30}"#;
        let ok: OtpChallenge = serde_json::from_str(full).unwrap();
        assert_eq!(ok.channel, Channel::Sms);
        assert!(!ok.proves_mailbox_only);
        let missing = r#"{"challenge_id":"c1","channel":"sms","expires_in":600,"resend_after":30}"#;
        let err = serde_json::from_str::<OtpChallenge>(missing).unwrap_err();
        assert!(err.to_string().contains("sent_to"), "{err}");
    }

    #[test]
    fn error_codes_round_trip_and_unknown_codes_are_other() {
        for &code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        let e: ApiError = serde_json::from_str(r#"{"error":"brand_new","message":"x"}"#).unwrap();
        assert_eq!(e.error, ErrorCode::Other);
    }

    #[test]
    fn decision_leaves_out_what_is_as_requested() {
        let d = Decision::decline();
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"decision":"decline"}"#
        );
        let start = OtpStart {
            identify: Identify::account("12345", "94105"),
            channel: Channel::Email,
        };
        assert_eq!(
            serde_json::to_string(&start).unwrap(),
            r#"{"identify":{"account_number":"12345","zip":"94105"},"channel":"email"}"#
        );
    }
}
