//! The server's use of the scope library (`espi-scope`): reading a request's
//! scope, checking it against a client's registration, narrowing it by a
//! customer's decision and completing the final scope.

use axum::http::StatusCode;
use consent_api::Method;
use espi_scope::catalog::Commodity;
use espi_scope::final_scope::{Custodian, MeterFacts, final_scope};
use espi_scope::narrow::{Choices, NarrowErrorKind, NarrowPolicy};
use espi_scope::{AdditionalScope, DiagnosticCode, EspiScope, ParseError, ParseErrorKind};

use crate::AppState;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::Meter;

/// Reads a requested `scope` value: it must parse without error diagnostics
/// and hold exactly one ESPI scope (plain OAuth tokens such as `openid` are
/// ignored: this server grants only ESPI scopes).
/// [`scope_error_description`] words the error for the client.
pub fn parse_request_scope(raw: &str) -> Result<EspiScope, ParseError> {
    EspiScope::from_request(raw)
}

/// The OAuth `error_description` of a requested scope that cannot be used.
pub fn scope_error_description(e: &ParseError) -> String {
    let empty = e
        .diagnostics()
        .iter()
        .any(|d| d.code == DiagnosticCode::EmptyInput);
    match e.kind() {
        ParseErrorKind::Invalid if empty => {
            "the scope is empty: send an ESPI scope such as FB=1_4_16_51".to_string()
        }
        ParseErrorKind::NotExactlyOneScope { espi_scopes: 0, .. } => {
            "the scope has no ESPI scope (no FB= term)".to_string()
        }
        ParseErrorKind::NotExactlyOneScope { espi_scopes: n, .. } => {
            format!("the scope holds {n} ESPI scopes; send exactly one")
        }
        _ => {
            let msgs: Vec<&str> = e
                .diagnostics()
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.as_str())
                .collect();
            format!("the scope cannot be read: {}", msgs.join("; "))
        }
    }
}

/// Reads a stored (canonical) scope.
pub fn parse_stored(raw: &str) -> Option<EspiScope> {
    raw.parse::<EspiScope>().ok()
}

/// True when `requested` is within one of the client's registered scopes:
/// its function blocks are a subset, its history is no longer, its interval
/// and block durations are among the registered ones (when the registration
/// lists any). A client registered without scopes may request any scope.
pub fn within_registered(requested: &EspiScope, registered: &[String]) -> bool {
    if registered.is_empty() {
        return true;
    }
    registered
        .iter()
        .filter_map(|r| parse_stored(r))
        .any(|reg| {
            requested
                .function_blocks
                .iter()
                .all(|fb| reg.function_blocks.contains(fb))
                && match (reg.history_length, requested.history_length) {
                    (Some(max), Some(h)) => h <= max,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
                && (reg.interval_durations.is_empty()
                    || requested
                        .interval_durations
                        .iter()
                        .all(|d| reg.interval_durations.contains(d)))
                && (reg.block_durations.is_empty()
                    || requested
                        .block_durations
                        .iter()
                        .all(|d| reg.block_durations.contains(d)))
        })
}

/// True when every function block of `requested` is in `allowed`.
pub fn fbs_within(requested: &EspiScope, allowed: &EspiScope) -> bool {
    requested
        .function_blocks
        .iter()
        .all(|fb| allowed.function_blocks.contains(fb))
}

/// The customer's choices in a decision.
#[derive(Debug, Clone, Default)]
pub struct DecisionChoices {
    /// Function blocks kept.
    pub function_blocks: Option<Vec<u16>>,
    /// History in seconds.
    pub history_length: Option<u64>,
    /// End date (0 = until revoked).
    pub end_date: Option<u64>,
    /// SAIDs granted.
    pub meters: Option<Vec<String>>,
}

/// The final grant of a decision: the request narrowed by the customer's
/// choices ([`narrow_decision`]), then completed with what this data
/// custodian adds (`espi_scope::final_scope`: its supported blocks, the
/// commodity and recorded interval lengths of the granted meters, 18 for
/// several meters). This is the scope the token carries.
///
/// # Errors
///
/// The refusals of [`narrow_decision`], and a store failure.
pub async fn final_grant(
    state: &AppState,
    requested: &EspiScope,
    choices: &DecisionChoices,
    customer_meters: &[Meter],
    now: i64,
) -> Result<EspiScope, ApiError> {
    let config = state.config();
    let grant = narrow_decision(
        requested,
        choices,
        now,
        customer_meters.iter().map(|m| m.said.clone()).collect(),
        config,
    )?;
    let mut meters = Vec::new();
    for said in granted_meters(&grant) {
        let commodity = customer_meters
            .iter()
            .find(|m| m.said == said)
            .and_then(|m| m.service_kind.as_deref())
            .and_then(Commodity::from_name);
        let interval_seconds = state
            .store()
            .reading_intervals(&said)
            .await?
            .into_iter()
            .filter_map(|s| u64::try_from(s).ok())
            .collect();
        meters.push(MeterFacts {
            commodity,
            interval_seconds,
        });
    }
    let custodian = Custodian {
        supported: config.supported_function_blocks.clone(),
        meters,
    };
    Ok(final_scope(requested, &grant, &custodian))
}

/// The SAIDs a grant lists (`meters-{SAID}`).
pub fn granted_meters(grant: &EspiScope) -> Vec<String> {
    grant
        .additional_scope
        .iter()
        .filter_map(|a| match a {
            AdditionalScope::Meter(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// Recomputes the grant from the request and the choices with
/// `espi_scope::narrow` (and the configured defaults for history and end
/// date), mapping refusals to the consent API's codes.
pub fn narrow_decision(
    requested: &EspiScope,
    choices: &DecisionChoices,
    now: i64,
    customer_meters: Vec<String>,
    config: &Config,
) -> Result<EspiScope, ApiError> {
    let c = Choices {
        function_blocks: choices.function_blocks.clone(),
        history_length: choices.history_length,
        end_date: choices.end_date,
        meters: choices.meters.clone(),
    };
    let policy = NarrowPolicy {
        now: u64::try_from(now).unwrap_or(0),
        customer_meters,
        default_authorization_seconds: config.default_authorization_seconds,
        default_history_seconds: config.default_history_seconds,
    };
    espi_scope::narrow(requested, &c, &policy).map_err(|e| {
        let code = match e.kind() {
            NarrowErrorKind::EditNotAllowed => "edit_not_allowed",
            NarrowErrorKind::NoMeterChosen => "no_meter_chosen",
            NarrowErrorKind::NoFunctionBlockChosen => "no_data_chosen",
            NarrowErrorKind::FunctionBlockNotRequested(_)
            | NarrowErrorKind::HistoryLonger
            | NarrowErrorKind::EndDateLater
            | NarrowErrorKind::UntilRevokedNotRequested
            | NarrowErrorKind::MeterNotRequested(_)
            | NarrowErrorKind::UnknownMeter(_) => "scope_wider_than_request",
            _ => "invalid_request",
        };
        ApiError::new(StatusCode::BAD_REQUEST, code, e.to_string())
    })
}

/// The sign-in hint from the scope's `auth-{type}[-{value}]` items, as the
/// consent API's `(method, value)`. `auth-login` → `password`,
/// `auth-phone-…`/`auth-sms-…` → `phone_otp`, `auth-email-…` → `email_otp`,
/// `auth-account…` → `account_otp`; SSO and other methods this server does not
/// offer give no hint.
pub fn sign_in_hint(scope: &EspiScope) -> Option<(Method, Option<String>)> {
    scope.auth_hints().into_iter().find_map(|(method, value)| {
        let m = match method.to_ascii_lowercase().as_str() {
            "login" | "password" => Method::Password,
            "phone" | "sms" | "otp" => Method::PhoneOtp,
            "email" => Method::EmailOtp,
            "account" | "accountnumber" => Method::AccountOtp,
            _ => return None,
        };
        Some((m, value))
    })
}

/// The provider id of the scope's `auth-sso-{id}`, if any.
pub fn sso_hint(scope: &EspiScope) -> Option<String> {
    scope
        .auth_hints()
        .into_iter()
        .find(|(method, _)| method.eq_ignore_ascii_case("sso"))
        .and_then(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_unreadable_scopes_are_refused() {
        assert!(parse_request_scope("").is_err());
        assert!(parse_request_scope("   ").is_err());
        assert!(parse_request_scope("FB=4_x").is_err());
        assert!(parse_request_scope("IntervalDuration=900").is_err());
        assert!(parse_request_scope("FB=4 FB=5").is_err());
        assert!(parse_request_scope("FB=1_4;HistoryLength=10").is_ok());
    }

    #[test]
    fn registration_limits_scope() {
        let reg =
            vec!["FB=1_4_5_16_51;IntervalDuration=900_3600;HistoryLength=63072000".to_string()];
        let ok = parse_request_scope("FB=1_4_16;IntervalDuration=900;HistoryLength=100")
            .unwrap_or_default();
        assert!(within_registered(&ok, &reg));
        let wide_fb = parse_request_scope("FB=1_4_12;HistoryLength=100").unwrap_or_default();
        assert!(!within_registered(&wide_fb, &reg));
        let long = parse_request_scope("FB=1_4;HistoryLength=94608000").unwrap_or_default();
        assert!(!within_registered(&long, &reg));
        assert!(within_registered(&long, &[]));
    }
}
