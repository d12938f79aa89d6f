//! One-time codes: identify the customer (account number + ZIP, phone or
//! email), send a 6-digit CSPRNG code by SMS or email, verify it.
//!
//! A code is valid 10 minutes, single use, bound to its challenge, which is
//! bound to the request and the consent session. After 5 wrong codes each
//! try waits a growing delay; after 10 the challenge is locked. A resend
//! needs 30 s since the last send and replaces the code; at most 5 codes an
//! hour go to one contact.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::sign_in::{throttle_blocked, throttle_failed, throttle_key};
use super::{Bound, customer_view, ensure_pending, json_body, load_bound, rotated_cookie};
use crate::AppState;
use crate::error::ApiError;
use crate::otp_sender::{Channel, OtpMessage, mask_email, mask_phone};
use crate::security::secrets::{Purpose, ct_eq, new_id, six_digits};
use crate::store::{Customer, OtpChallenge};

#[derive(Deserialize)]
struct Identify {
    account_number: Option<String>,
    zip: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize)]
struct StartBody {
    identify: Identify,
    channel: String,
}

#[derive(Deserialize)]
struct VerifyBody {
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
    state.key().hash_parts(
        Purpose::Throttle,
        &[b"contact", contact.to_lowercase().as_bytes()],
    )
}

async fn identify(state: &AppState, id: &Identify) -> Result<Option<Customer>, ApiError> {
    let store = state.store();
    if let (Some(acct), Some(zip)) = (&id.account_number, &id.zip) {
        if acct.len() > 64 || zip.len() > 16 {
            return Err(ApiError::invalid_request(
                "account_number or zip is too long",
            ));
        }
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
        if phone.len() > 32 {
            return Err(ApiError::invalid_request("phone is too long"));
        }
        let Some(p) = normalize_phone(phone) else {
            return Ok(None);
        };
        return Ok(store.customers_by_phone(&p).await?.into_iter().next());
    }
    if let Some(email) = &id.email {
        if email.len() > 256 {
            return Err(ApiError::invalid_request("email is too long"));
        }
        return Ok(store
            .customers_by_email(email.trim())
            .await?
            .into_iter()
            .next());
    }
    Err(ApiError::invalid_request(
        "identify needs account_number and zip, or phone, or email",
    ))
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

/// Seconds until another code may go to this contact, if the hourly limit is
/// reached.
async fn hourly_limit(state: &AppState, contact: &[u8], now: i64) -> Result<Option<i64>, ApiError> {
    let sends = state.store().sends_since(contact, now - 3600).await?;
    if sends.len() >= state.config().otp_max_per_hour as usize {
        let oldest = sends.first().copied().unwrap_or(now);
        return Ok(Some(oldest + 3600 - now));
    }
    Ok(None)
}

fn send(state: &AppState, channel: Channel, to: String, code: String) -> Result<(), ApiError> {
    let msg = OtpMessage::new(
        channel,
        to,
        code,
        &state.config().public_host(),
        state.config().otp_lifetime / 60,
        state.now(),
    );
    state.otp_sender().send(&msg).map_err(|e| {
        tracing::error!(error = %e, "one-time code not sent");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "send_failed",
            "the code could not be sent; try again later",
        )
    })
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

/// `POST /api/consent/requests/{id}/sign-in/otp`.
pub async fn start(
    State(state): State<AppState>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bound = load_bound(&state, &headers, &request_id, true).await?;
    let now = state.now();
    ensure_pending(&bound.request, now, StatusCode::GONE)?;
    let b: StartBody = json_body(&body)?;
    let channel = match b.channel.as_str() {
        "sms" => Channel::Sms,
        "email" => Channel::Email,
        other => {
            return Err(ApiError::invalid_request(format!(
                "channel must be sms or email, not {other:?}"
            )));
        }
    };
    // Guessing identities is throttled per consent session.
    let id_key = throttle_key(&state, "identify", &bound.session.session_id);
    if let Some(wait) = throttle_blocked(&state, &id_key).await? {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many attempts; wait before trying again",
        )
        .retry_after(wait));
    }
    let Some(customer) = identify(&state, &b.identify).await? else {
        throttle_failed(&state, &id_key).await?;
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "identity_not_found",
            "no customer matches these details",
        ));
    };
    let (to, masked) = destination(&customer, channel)?;
    let contact = contact_hash(&state, &to);
    if let Some(wait) = hourly_limit(&state, &contact, now).await? {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "too many codes were sent to this contact in the last hour",
        )
        .retry_after(wait));
    }
    let challenge_id = new_id();
    let code = six_digits();
    let challenge = OtpChallenge {
        challenge_id: challenge_id.clone(),
        request_key: bound.request.request_key.clone(),
        session_id: bound.session.session_id.clone(),
        customer_id: customer.customer_id.clone(),
        channel: channel.as_str().to_string(),
        contact_hash: contact,
        code_hash: code_hash(&state, &challenge_id, &code),
        created_at: now,
        expires_at: now + state.config().otp_lifetime as i64,
        last_sent_at: now,
        used_at: None,
        failures: 0,
        throttled_until: 0,
    };
    state.store().insert_challenge(&challenge).await?;
    send(&state, channel, to, code)?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &challenge_id, channel, masked)),
    )
        .into_response())
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

fn locked(state: &AppState, c: &OtpChallenge) -> bool {
    c.failures >= i64::from(state.config().attempts_before_lock)
}

fn locked_error() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "otp_locked",
        "too many wrong codes: start again",
    )
}

/// `POST …/sign-in/otp/{challenge_id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Path((request_id, challenge_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let bound = load_bound(&state, &headers, &request_id, true).await?;
    let now = state.now();
    ensure_pending(&bound.request, now, StatusCode::GONE)?;
    let c = load_challenge(&state, &bound, &challenge_id).await?;
    if c.used_at.is_some() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_challenge",
            "this code was already used",
        ));
    }
    if locked(&state, &c) {
        return Err(locked_error());
    }
    let wait = c.last_sent_at + state.config().otp_resend_after as i64 - now;
    if wait > 0 {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "resend_too_soon",
            "wait before asking for another code",
        )
        .retry_after(wait));
    }
    if let Some(wait) = hourly_limit(&state, &c.contact_hash, now).await? {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes",
            "too many codes were sent to this contact in the last hour",
        )
        .retry_after(wait));
    }
    let customer = state
        .store()
        .customer(&c.customer_id)
        .await?
        .ok_or_else(ApiError::server_error)?;
    let channel = if c.channel == "email" {
        Channel::Email
    } else {
        Channel::Sms
    };
    let (to, masked) = destination(&customer, channel)?;
    let code = six_digits();
    let replaced = state
        .store()
        .resend_challenge(
            &c,
            &code_hash(&state, &c.challenge_id, &code),
            now,
            now + state.config().otp_lifetime as i64,
        )
        .await?;
    if !replaced {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "resend_too_soon",
            "a code was just sent",
        )
        .retry_after(state.config().otp_resend_after as i64));
    }
    send(&state, channel, to, code)?;
    Ok((
        StatusCode::CREATED,
        Json(view(&state, &c.challenge_id, channel, masked)),
    )
        .into_response())
}

/// `POST …/sign-in/otp/{challenge_id}/verify`.
pub async fn verify(
    State(state): State<AppState>,
    Path((request_id, challenge_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let bound = load_bound(&state, &headers, &request_id, true).await?;
    let now = state.now();
    ensure_pending(&bound.request, now, StatusCode::GONE)?;
    let b: VerifyBody = json_body(&body)?;
    let c = load_challenge(&state, &bound, &challenge_id).await?;
    if c.used_at.is_some() {
        return Err(ApiError::new(
            StatusCode::GONE,
            "otp_used",
            "this code was already used",
        ));
    }
    if locked(&state, &c) {
        return Err(locked_error());
    }
    if c.throttled_until > now {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "otp_throttled",
            "too many wrong codes; wait before trying again",
        )
        .retry_after(c.throttled_until - now));
    }
    if c.expires_at <= now {
        return Err(ApiError::new(
            StatusCode::GONE,
            "otp_expired",
            "this code has expired; ask for a new one",
        ));
    }
    let code: String = b
        .code
        .chars()
        .take(32)
        .filter(|ch| !ch.is_whitespace() && *ch != '-')
        .collect();
    let right = code.len() == 6
        && code.bytes().all(|d| d.is_ascii_digit())
        && ct_eq(&code_hash(&state, &c.challenge_id, &code), &c.code_hash);
    if !right {
        let cfg = state.config();
        let delay_after = i64::from(cfg.attempts_before_delay);
        let lock = i64::from(cfg.attempts_before_lock);
        // The count is incremented atomically; the delay grows from the 5th.
        let pending_failures = c.failures + 1;
        let until = if pending_failures >= delay_after {
            let shift = u32::try_from(pending_failures - delay_after)
                .unwrap_or(16)
                .min(16);
            now + (cfg.delay_seconds << shift).min(cfg.lockout_seconds) as i64
        } else {
            0
        };
        let n = state
            .store()
            .challenge_failed(&c.challenge_id, until)
            .await?;
        if n >= lock {
            return Err(locked_error());
        }
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "otp_invalid",
            "that code is not right",
        )
        .attempts_left(lock - n));
    }
    let (hash, cookie) = rotated_cookie(&state, &bound.session);
    if !state.store().use_challenge(&c, now, &hash).await? {
        return Err(ApiError::new(
            StatusCode::GONE,
            "otp_used",
            "this code was already used",
        ));
    }
    let customer = state
        .store()
        .customer(&c.customer_id)
        .await?
        .ok_or_else(ApiError::server_error)?;
    let mut resp = Json(customer_view(&state, &customer).await?).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}
