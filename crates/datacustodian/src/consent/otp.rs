//! One-time codes: identify the customer (account number + ZIP, phone or
//! email), send a 6-digit CSPRNG code by SMS or email, verify it.
//!
//! A code is valid 10 minutes, single use, bound to its challenge, which is
//! bound to the request and the consent session. After 5 wrong codes each
//! try waits a growing delay; after 10 the challenge is locked; a customer
//! may accumulate at most 100 wrong codes over all challenges in 7 days
//! (NIST SP 800-63B), cleared by a right one. Every try is counted before
//! the code is compared, in the statement that checks the limits. A resend
//! needs 30 s since the last send and replaces the code; at most 5 codes an
//! hour go to one contact (and to one identity), counted in the transaction
//! that records the send.
//!
//! No identity oracle: the start answers the same (`201`, the same shape,
//! the same work) whether or not the identity matches a customer who can
//! get a code on that channel. When nothing matches, the challenge exists
//! but sends nothing and no code matches it. `sent_to` shows only a contact
//! the caller typed (masked), else `""`. Starts are limited per client IP
//! and per identity, never per session (which costs nothing to renew).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use super::extract::ApiJson;
use super::sharing::SignInTarget;
use super::sign_in::{count_request_attempt, throttle_key};
use super::{Bound, customer_view, rotated_secret};
use crate::AppState;
use crate::error::ApiError;
use crate::metrics::Outcome;
use crate::otp_sender::{Channel, OtpMessage, mask_email, mask_phone};
use crate::security::limits::ClientIp;
use crate::security::secrets::{Purpose, ct_eq, new_id, six_digits};
use crate::store::{CodeAttempt, Customer, Limit, OtpChallenge, ResendOutcome, Reservation};

#[derive(Deserialize)]
struct Identify {
    account_number: Option<String>,
    zip: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// The body of the start: who the customer says they are, and the channel.
#[derive(Deserialize)]
pub struct StartBody {
    identify: Identify,
    channel: String,
}

/// The body of the verify: the code typed.
#[derive(Deserialize)]
pub struct VerifyBody {
    code: String,
}

/// `OtpChallenge`.
#[derive(Debug, Serialize)]
pub struct ChallengeView {
    challenge_id: String,
    channel: &'static str,
    sent_to: String,
    expires_in: u64,
    resend_after: u64,
    proves_mailbox_only: bool,
}

/// Normalizes a phone number to E.164 (`+` and digits; 10 digits are read as
/// North American).
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        10 => Some(format!("+1{digits}")),
        11..=15 => Some(format!("+{digits}")),
        _ => None,
    }
}

fn normalize_zip(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase()
}

fn code_hash(state: &AppState, challenge_id: &str, code: &str) -> Vec<u8> {
    state
        .key()
        .hash_parts(Purpose::Otp, &[challenge_id.as_bytes(), code.as_bytes()])
}

fn contact_hash(state: &AppState, contact: &str) -> Vec<u8> {
    throttle_key(state, "contact", &[contact])
}

/// What the caller typed to identify: the lookup, the key of the identity
/// (for the per-identity send limit) and the contact typed, if any.
struct Typed {
    key: Vec<u8>,
    contact: Option<(Channel, String)>,
}

fn typed(state: &AppState, id: &Identify) -> Result<Typed, ApiError> {
    if let (Some(acct), Some(zip)) = (&id.account_number, &id.zip) {
        if acct.len() > 64 || zip.len() > 16 {
            return Err(ApiError::invalid_request(
                "account_number or zip is too long",
            ));
        }
        return Ok(Typed {
            key: throttle_key(
                state,
                "identity-account",
                &[acct.trim(), &normalize_zip(zip)],
            ),
            contact: None,
        });
    }
    if let Some(phone) = &id.phone {
        if phone.len() > 32 {
            return Err(ApiError::invalid_request("phone is too long"));
        }
        let p = normalize_phone(phone).unwrap_or_else(|| phone.trim().to_string());
        return Ok(Typed {
            key: throttle_key(state, "identity-phone", &[&p]),
            contact: Some((Channel::Sms, p)),
        });
    }
    if let Some(email) = &id.email {
        if email.len() > 256 {
            return Err(ApiError::invalid_request("email is too long"));
        }
        let e = email.trim().to_string();
        return Ok(Typed {
            key: throttle_key(state, "identity-email", &[&e]),
            contact: Some((Channel::Email, e)),
        });
    }
    Err(ApiError::invalid_request(
        "identify needs account_number and zip, or phone, or email",
    ))
}

async fn identify(state: &AppState, id: &Identify) -> Result<Option<Customer>, ApiError> {
    let store = state.store();
    if let (Some(acct), Some(zip)) = (&id.account_number, &id.zip) {
        let zip = normalize_zip(zip);
        let found = store
            .customers_by_account(acct.trim())
            .await?
            .into_iter()
            .find(|c| {
                c.zip
                    .as_deref()
                    .is_some_and(|z| ct_eq(normalize_zip(z).as_bytes(), zip.as_bytes()))
            });
        return Ok(found);
    }
    if let Some(phone) = &id.phone {
        let Some(p) = normalize_phone(phone) else {
            return Ok(None);
        };
        return Ok(store.customers_by_phone(&p).await?.into_iter().next());
    }
    if let Some(email) = &id.email {
        return Ok(store
            .customers_by_email(email.trim())
            .await?
            .into_iter()
            .next());
    }
    Ok(None)
}

/// A code hash no code can match (the challenge of an identity that
/// matched nobody).
fn unmatchable() -> Vec<u8> {
    let mut b = vec![0u8; 32];
    if getrandom::fill(&mut b).is_err() {
        b = new_id().into_bytes();
    }
    b
}

fn destination(c: &Customer, channel: Channel) -> Result<(String, String), ApiError> {
    let unavailable = |what: &str| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "channel_unavailable",
            format!("there is no {what} on file for this customer"),
        )
    };
    match channel {
        Channel::Sms => c
            .phone
            .clone()
            .map(|p| {
                let masked = mask_phone(&p);
                (p, masked)
            })
            .ok_or_else(|| unavailable("phone number")),
        Channel::Email => c
            .email
            .clone()
            .map(|e| {
                let masked = mask_email(&e);
                (e, masked)
            })
            .ok_or_else(|| unavailable("email address")),
    }
}

/// Hands a code to the sender, on a blocking thread (a sender may wait for
/// an SMS gateway or a mail relay). By default in the background once the
/// challenge is committed, so the answer does not wait for the delivery:
/// it takes the same time whether or not a code goes out (a failure is
/// logged). With `otp_delivery_inline` (tests that read the sender right
/// after the answer) the answer waits, and a failure answers
/// `503 send_failed`. Either way the metrics count the code as sent or
/// failed.
async fn send(
    state: &AppState,
    channel: Channel,
    to: String,
    code: String,
) -> Result<(), ApiError> {
    let msg = OtpMessage::new(
        channel,
        to,
        code,
        &state.config().public_host(),
        state.config().otp_lifetime / 60,
        state.now(),
    );
    let sending = state.clone();
    let task = tokio::task::spawn_blocking(move || {
        let sent = sending.otp_sender().send(&msg);
        sending
            .metrics()
            .record_code(channel.as_str(), sent.is_ok());
        if let Err(e) = &sent {
            tracing::error!(error = %e, channel = channel.as_str(), "one-time code not sent");
        }
        sent.is_ok()
    });
    if !state.config().otp_delivery_inline {
        return Ok(());
    }
    match task.await {
        Ok(true) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "send_failed",
            "the code could not be sent; try again later",
        )),
    }
}

fn view(state: &AppState, id: &str, channel: Channel, sent_to: String) -> ChallengeView {
    ChallengeView {
        challenge_id: id.to_string(),
        channel: channel.as_str(),
        sent_to,
        expires_in: state.config().otp_lifetime,
        resend_after: state.config().otp_resend_after,
        proves_mailbox_only: channel == Channel::Email,
    }
}

fn send_limit(state: &AppState) -> Limit {
    Limit::per_window(i64::from(state.config().otp_max_per_hour), 3600)
}

fn code_limit(state: &AppState) -> Limit {
    let cfg = state.config();
    Limit {
        window: i64::MAX,
        max: i64::from(cfg.attempts_before_lock),
        delay_after: i64::from(cfg.attempts_before_delay),
        base_delay: cfg.delay_seconds as i64,
        max_delay: cfg.lockout_seconds as i64,
    }
}

/// `POST /api/consent/requests/{id}/sign-in/otp`.
pub async fn start(
    State(state): State<AppState>,
    ip: ClientIp,
    SignInTarget { bound, now }: SignInTarget,
    ApiJson(b): ApiJson<StartBody>,
) -> Result<Response, ApiError> {
    let channel = match b.channel.as_str() {
        "sms" => Channel::Sms,
        "email" => Channel::Email,
        other => {
            return Err(ApiError::invalid_request(format!(
                "channel must be sms or email, not {other:?}"
            )));
        }
    };
    let typed = typed(&state, &b.identify)?;
    count_request_attempt(&state, &bound).await?;
    // Starts per client IP, whatever they match.
    let per_ip = Limit::per_window(i64::from(state.config().otp_starts_per_ip_per_hour), 3600);
    if let Reservation::Refused(wait) = state
        .store()
        .reserve_attempts(
            &[(
                throttle_key(&state, "otp-start-ip", &[&ip.subject()]),
                per_ip,
            )],
            now,
        )
        .await?
    {
        return Err(too_many_starts(wait));
    }
    let found = identify(&state, &b.identify)
        .await?
        .and_then(|c| destination(&c, channel).ok().map(|(to, _)| (c, to)));
    let sent_to = match &typed.contact {
        Some((ch, contact)) if *ch == channel => match channel {
            Channel::Sms => mask_phone(contact),
            Channel::Email => mask_email(contact),
        },
        _ => String::new(),
    };
    let challenge_id = new_id();
    let code = six_digits();
    let (customer_id, contact, code_hash, to) = match found {
        Some((c, to)) => (
            Some(c.customer_id),
            contact_hash(&state, &to),
            code_hash(&state, &challenge_id, &code),
            Some(to),
        ),
        None => (None, typed.key.clone(), unmatchable(), None),
    };
    // The identity's and the contact's hourly sends, counted with the insert.
    let mut send_keys = vec![typed.key];
    if to.is_some() {
        send_keys.push(contact.clone());
    }
    let challenge = OtpChallenge {
        challenge_id: challenge_id.clone(),
        request_key: bound.request.request_key.clone(),
        session_id: bound.session.session_id.clone(),
        customer_id,
        channel: channel.as_str().to_string(),
        contact_hash: contact,
        code_hash,
        sent_to: sent_to.clone(),
        created_at: now,
        expires_at: now + state.config().otp_lifetime as i64,
        last_sent_at: now,
        used_at: None,
        failures: 0,
        throttled_until: 0,
    };
    if let Reservation::Refused(wait) = state
        .store()
        .start_challenge(&challenge, &send_keys, send_limit(&state))
        .await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many codes were asked for these details in the last hour",
        )
        .retry_after(wait));
    }
    if let Some(to) = to {
        send(&state, channel, to, code).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &challenge_id, channel, sent_to)),
    )
        .into_response())
}

/// The second factor after a right password (`serve
/// --require-second-factor`): a code to the phone on file, else the email,
/// on a challenge of this request and session that names the customer, so
/// `verify` (with its throttles and lock) is what signs the session in.
/// Answers `202` [`consent_api::CodeRequired`].
pub async fn second_factor(
    state: &AppState,
    bound: &Bound,
    customer: &Customer,
) -> Result<Response, ApiError> {
    let now = state.now();
    let channel = if customer.phone.is_some() {
        Channel::Sms
    } else {
        Channel::Email
    };
    let (to, sent_to) = destination(customer, channel)?;
    let challenge_id = new_id();
    let code = six_digits();
    let contact = contact_hash(state, &to);
    let send_keys = vec![
        throttle_key(state, "identity-2fa", &[&customer.customer_id]),
        contact.clone(),
    ];
    let challenge = OtpChallenge {
        challenge_id: challenge_id.clone(),
        request_key: bound.request.request_key.clone(),
        session_id: bound.session.session_id.clone(),
        customer_id: Some(customer.customer_id.clone()),
        channel: channel.as_str().to_string(),
        contact_hash: contact,
        code_hash: code_hash(state, &challenge_id, &code),
        sent_to: sent_to.clone(),
        created_at: now,
        expires_at: now + state.config().otp_lifetime as i64,
        last_sent_at: now,
        used_at: None,
        failures: 0,
        throttled_until: 0,
    };
    if let Reservation::Refused(wait) = state
        .store()
        .start_challenge(&challenge, &send_keys, send_limit(state))
        .await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many codes were sent to this customer in the last hour",
        )
        .retry_after(wait));
    }
    send(state, channel, to, code).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CodeRequiredView {
            outcome: consent_api::SecondFactorOutcome::CodeRequired,
            challenge: view(state, &challenge_id, channel, sent_to),
        }),
    )
        .into_response())
}

/// `CodeRequired`.
#[derive(Serialize)]
struct CodeRequiredView {
    outcome: consent_api::SecondFactorOutcome,
    challenge: ChallengeView,
}

fn too_many_starts(wait: i64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "too many attempts; wait before trying again",
    )
    .retry_after(wait)
}

async fn load_challenge(
    state: &AppState,
    bound: &Bound,
    challenge_id: &str,
) -> Result<OtpChallenge, ApiError> {
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_challenge",
            "no such one-time code challenge",
        )
    };
    if challenge_id.len() > 64 {
        return Err(unknown());
    }
    let c = state
        .store()
        .challenge(challenge_id, &bound.request.request_key)
        .await?
        .ok_or_else(unknown)?;
    if c.session_id != bound.session.session_id {
        return Err(unknown());
    }
    Ok(c)
}

fn locked_error() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "otp_locked",
        "too many wrong codes: start again",
    )
}

fn channel_of(c: &OtpChallenge) -> Channel {
    if c.channel == "email" {
        Channel::Email
    } else {
        Channel::Sms
    }
}

/// `POST …/sign-in/otp/{challenge_id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Path(path): Path<HashMap<String, String>>,
    SignInTarget { bound, now }: SignInTarget,
) -> Result<Response, ApiError> {
    let challenge_id = path.get("challenge_id").cloned().unwrap_or_default();
    let c = load_challenge(&state, &bound, &challenge_id).await?;
    let channel = channel_of(&c);
    let to = match &c.customer_id {
        Some(id) => {
            let customer = state
                .store()
                .customer(id)
                .await?
                .ok_or_else(ApiError::server_error)?;
            Some(destination(&customer, channel)?.0)
        }
        None => None,
    };
    let code = six_digits();
    let hash = if to.is_some() {
        code_hash(&state, &c.challenge_id, &code)
    } else {
        unmatchable()
    };
    let cfg = state.config();
    let outcome = state
        .store()
        .resend_challenge(
            &c.challenge_id,
            &hash,
            now,
            now + cfg.otp_lifetime as i64,
            cfg.otp_resend_after as i64,
            i64::from(cfg.attempts_before_lock),
            std::slice::from_ref(&c.contact_hash),
            send_limit(&state),
        )
        .await?;
    match outcome {
        ResendOutcome::Sent => {}
        ResendOutcome::Gone => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_challenge",
                "this code was already used",
            ));
        }
        ResendOutcome::Locked => return Err(locked_error()),
        ResendOutcome::TooSoon(wait) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "resend_too_soon",
                "wait before asking for another code",
            )
            .retry_after(wait));
        }
        ResendOutcome::TooMany(wait) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_codes",
                "too many codes were sent to this contact in the last hour",
            )
            .retry_after(wait));
        }
    }
    if let Some(to) = to {
        send(&state, channel, to, code).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &c.challenge_id, channel, c.sent_to.clone())),
    )
        .into_response())
}

/// `POST …/sign-in/otp/{challenge_id}/verify`.
pub async fn verify(
    State(state): State<AppState>,
    Path(path): Path<HashMap<String, String>>,
    SignInTarget { bound, now }: SignInTarget,
    ApiJson(b): ApiJson<VerifyBody>,
) -> Result<Response, ApiError> {
    let challenge_id = path.get("challenge_id").cloned().unwrap_or_default();
    let r = check_code(&state, &challenge_id, bound, now, b).await;
    state.metrics().record_sign_in("code", Outcome::of(&r));
    r
}

async fn check_code(
    state: &AppState,
    challenge_id: &str,
    bound: Bound,
    now: i64,
    b: VerifyBody,
) -> Result<Response, ApiError> {
    let c = load_challenge(state, &bound, challenge_id).await?;
    count_request_attempt(state, &bound).await?;
    let cfg = state.config();
    let lock = i64::from(cfg.attempts_before_lock);
    let customer_key = c
        .customer_id
        .as_deref()
        .map(|id| throttle_key(state, "otp-customer", &[id]));
    let attempt = state
        .store()
        .reserve_code_attempt(
            &c.challenge_id,
            now,
            code_limit(state),
            customer_key.as_deref(),
            Limit::per_window(
                i64::from(cfg.otp_customer_max_failures),
                cfg.otp_customer_window as i64,
            ),
        )
        .await?;
    let (failures, throttle_mark) = match attempt {
        CodeAttempt::Reserved {
            failures,
            throttle_mark,
        } => (failures, throttle_mark),
        CodeAttempt::Unknown => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_challenge",
                "no such one-time code challenge",
            ));
        }
        CodeAttempt::Used => return Err(used_error()),
        CodeAttempt::Expired => return Err(expired_error()),
        CodeAttempt::Locked => return Err(locked_error()),
        CodeAttempt::Throttled(wait) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "otp_throttled",
                "too many wrong codes; wait before trying again",
            )
            .retry_after(wait));
        }
        CodeAttempt::CustomerLocked(wait) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "otp_locked",
                "too many wrong codes for this account; sign in another way or try later",
            )
            .retry_after(wait));
        }
    };
    let code: String = b
        .code
        .chars()
        .take(32)
        .filter(|ch| !ch.is_whitespace() && *ch != '-')
        .collect();
    let right = code.len() == 6
        && code.bytes().all(|d| d.is_ascii_digit())
        && ct_eq(&code_hash(state, &c.challenge_id, &code), &c.code_hash);
    let customer_id = match (&c.customer_id, right) {
        (Some(id), true) => id.clone(),
        _ => {
            if failures >= lock {
                return Err(locked_error());
            }
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "otp_invalid",
                "that code is not right",
            )
            .attempts_left(lock - failures));
        }
    };
    let (hash, secret) = rotated_secret(state, &bound.session, bound.carrier);
    if !state
        .store()
        .use_challenge(
            &c,
            &customer_id,
            now,
            lock,
            throttle_mark,
            &hash,
            customer_key.as_deref(),
        )
        .await?
    {
        // Used, expired, locked or resent since it was read.
        let now_c = state
            .store()
            .challenge(&c.challenge_id, &c.request_key)
            .await?;
        return Err(match now_c {
            Some(n) if n.used_at.is_none() && n.expires_at <= now => expired_error(),
            Some(n) if n.used_at.is_none() && n.failures >= lock => locked_error(),
            Some(n) if n.used_at.is_none() => ApiError::new(
                StatusCode::BAD_REQUEST,
                "otp_invalid",
                "that code is not right",
            )
            .attempts_left(lock - n.failures),
            _ => used_error(),
        });
    }
    let customer = state
        .store()
        .customer(&customer_id)
        .await?
        .ok_or_else(ApiError::server_error)?;
    Ok((secret, Json(customer_view(state, &customer).await?)).into_response())
}

fn used_error() -> ApiError {
    ApiError::new(StatusCode::GONE, "otp_used", "this code was already used")
}

fn expired_error() -> ApiError {
    ApiError::new(
        StatusCode::GONE,
        "otp_expired",
        "this code has expired; ask for a new one",
    )
}
