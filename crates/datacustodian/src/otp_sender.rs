//! Delivery of one-time codes: a pluggable [`OtpSender`].
//!
//! [`Senders`] routes each message by its channel: text messages through an
//! SMS gateway ([`HttpSmsSender`], Twilio's Messages API shape), email
//! through whatever mail sender is configured. Development sinks:
//! [`OutboxSender`] appends one JSON line per message to a file
//! (`{"to","channel","code","message","sent_at"}`), [`LogSender`] writes a
//! log line (without the code).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

/// How the code travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Text message to the phone on file.
    Sms,
    /// Email to the address on file.
    Email,
}

impl Channel {
    /// `sms` or `email`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
}

/// One message to deliver.
#[derive(Debug, Clone, Serialize)]
pub struct OtpMessage {
    /// Phone number (E.164) or email address.
    pub to: String,
    /// SMS or email.
    pub channel: Channel,
    /// The six digits.
    pub code: String,
    /// The full text.
    pub message: String,
    /// Unix seconds.
    pub sent_at: i64,
}

impl OtpMessage {
    /// Builds the message text. SMS ends with the domain-bound line
    /// `@host #123456` (WebOTP / autofill); an email says it proves the
    /// mailbox only.
    pub fn new(
        channel: Channel,
        to: String,
        code: String,
        host: &str,
        minutes: u64,
        now: i64,
    ) -> OtpMessage {
        let message = match channel {
            Channel::Sms => format!(
                "Your Green Button sign-in code is {code}. It expires in {minutes} minutes. \
                 Don't share it with anyone.\n\n@{host} #{code}"
            ),
            Channel::Email => format!(
                "Your Green Button sign-in code is {code}. It expires in {minutes} minutes.\n\n\
                 This code only proves that you can read this mailbox; it is not a second \
                 factor. If you did not ask for it, ignore this email."
            ),
        };
        OtpMessage {
            to,
            channel,
            code,
            message,
            sent_at: now,
        }
    }
}

/// A delivery failure (for logs; the customer sees a generic error).
#[derive(Debug)]
pub struct SendError(pub String);

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Delivers one-time codes.
pub trait OtpSender: Send + Sync + std::fmt::Debug {
    /// Sends one message.
    fn send(&self, message: &OtpMessage) -> Result<(), SendError>;
}

/// Appends JSON lines to a file (development and tests). The file is
/// created with mode 0600: it holds codes in clear.
#[derive(Debug)]
pub struct OutboxSender {
    path: PathBuf,
    lock: Mutex<()>,
}

impl OutboxSender {
    /// Writes to `path` (created if missing).
    pub fn new(path: impl Into<PathBuf>) -> OutboxSender {
        OutboxSender {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The outbox file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl OtpSender for OutboxSender {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        let mut line = serde_json::to_string(message).map_err(|e| SendError(e.to_string()))?;
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        // The outbox holds codes in clear: readable by the server's user only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(&self.path)
            .map_err(|e| SendError(format!("cannot open outbox {}: {e}", self.path.display())))?;
        f.write_all(line.as_bytes())
            .map_err(|e| SendError(format!("cannot write outbox {}: {e}", self.path.display())))
    }
}

/// Logs that a code was sent, without the code (it cannot be used for sign
/// in: pair it with a real sender).
#[derive(Debug, Default)]
pub struct LogSender;

impl OtpSender for LogSender {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        tracing::info!(
            channel = message.channel.as_str(),
            "one-time code sent (log sink; code not logged)"
        );
        Ok(())
    }
}

/// Keeps messages in memory (tests).
#[derive(Debug, Default)]
pub struct MemorySender {
    messages: Mutex<Vec<OtpMessage>>,
}

impl MemorySender {
    /// Every message sent so far.
    pub fn messages(&self) -> Vec<OtpMessage> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl OtpSender for MemorySender {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        self.messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.clone());
        Ok(())
    }
}

/// One sender per channel: [`OtpSender::send`] hands each message to the
/// sender of its channel.
#[derive(Debug, Clone)]
pub struct Senders {
    /// Text messages.
    pub sms: Arc<dyn OtpSender>,
    /// Email.
    pub email: Arc<dyn OtpSender>,
}

impl Senders {
    /// The same sender for both channels (the development outbox, tests).
    pub fn all(sender: Arc<dyn OtpSender>) -> Senders {
        Senders {
            sms: sender.clone(),
            email: sender,
        }
    }
}

impl OtpSender for Senders {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        match message.channel {
            Channel::Sms => self.sms.send(message),
            Channel::Email => self.email.send(message),
        }
    }
}

/// A channel nothing is configured for: every send fails (and is logged),
/// so a missing setting shows up as `codes failed` rather than as codes
/// that silently go nowhere.
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured(pub Channel);

impl OtpSender for NotConfigured {
    fn send(&self, _: &OtpMessage) -> Result<(), SendError> {
        Err(SendError(format!(
            "no {} sender is configured",
            self.0.as_str()
        )))
    }
}

/// Where and how [`HttpSmsSender`] posts.
#[derive(Debug, Clone)]
pub struct SmsGateway {
    /// The Messages endpoint, e.g.
    /// `https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json`.
    pub url: url::Url,
    /// The account SID (the Basic auth user).
    pub account_sid: String,
    /// The auth token (the Basic auth password).
    pub auth_token: String,
    /// The sending number or messaging service (`From`).
    pub from: String,
    /// Time allowed for one attempt, connection included.
    pub timeout: Duration,
    /// Attempts at most (1 = no retry).
    pub attempts: u32,
    /// Longest wait between two attempts (a longer `Retry-After` gives up).
    pub max_backoff: Duration,
}

impl SmsGateway {
    /// A gateway with the default timeout (10 s), 3 attempts and waits of
    /// at most 5 s.
    pub fn new(url: url::Url, account_sid: String, auth_token: String, from: String) -> Self {
        SmsGateway {
            url,
            account_sid,
            auth_token,
            from,
            timeout: Duration::from_secs(10),
            attempts: 3,
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// Sends text messages through an HTTP SMS gateway in the shape of Twilio's
/// Messages API: a form `POST` of `To`, `From` and `Body` with the account
/// SID and auth token as Basic auth; any `2xx` is accepted.
///
/// A code must never reach a phone twice, so an attempt is repeated only
/// when the gateway certainly did not take the message: the connection
/// could not be made (nothing was sent), or the gateway answered `429` or
/// `503` (refused, not queued), after its `Retry-After` (at most
/// `max_backoff`). A timeout after the request went out, a `5xx` or a
/// broken answer may mean the message was accepted: no retry. Every
/// attempt carries the same `Idempotency-Key`, for gateways that honour it.
#[derive(Debug)]
pub struct HttpSmsSender {
    gateway: SmsGateway,
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// What one attempt came to.
enum Attempt {
    Accepted,
    /// Certainly not taken: try again after this wait.
    Refused(Duration, String),
    /// Failed, perhaps after the gateway took it: stop.
    Failed(String),
}

impl HttpSmsSender {
    /// A sender on the current tokio runtime (its `send` runs on a blocking
    /// thread, see [`crate::consent::otp`]).
    pub fn new(gateway: SmsGateway) -> Result<HttpSmsSender, SendError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| SendError("the SMS sender needs a tokio runtime".into()))?;
        let client = reqwest::Client::builder()
            .connect_timeout(gateway.timeout)
            .timeout(gateway.timeout)
            // A redirect would repeat the POST somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError(format!("cannot build the SMS client: {e}")))?;
        Ok(HttpSmsSender {
            gateway,
            client,
            runtime,
        })
    }

    async fn attempt(&self, message: &OtpMessage, key: &str) -> Attempt {
        let g = &self.gateway;
        let sent = self
            .client
            .post(g.url.clone())
            .basic_auth(&g.account_sid, Some(&g.auth_token))
            .header("Idempotency-Key", key)
            .form(&[
                ("To", message.to.as_str()),
                ("From", g.from.as_str()),
                ("Body", message.message.as_str()),
            ])
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            // Not connected: the request never left.
            Err(e) if e.is_connect() => {
                return Attempt::Refused(
                    Duration::from_millis(500),
                    format!("cannot reach the SMS gateway: {e}"),
                );
            }
            Err(e) => return Attempt::Failed(format!("SMS gateway: {e}")),
        };
        let status = resp.status();
        if status.is_success() {
            return Attempt::Accepted;
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body: String = resp
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let why = format!("SMS gateway answered {status}: {body}");
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
        {
            Attempt::Refused(retry_after.unwrap_or(Duration::from_secs(1)), why)
        } else {
            Attempt::Failed(why)
        }
    }

    async fn deliver(&self, message: &OtpMessage) -> Result<(), SendError> {
        let key = crate::security::secrets::new_id();
        let mut last = String::new();
        for n in 1..=self.gateway.attempts.max(1) {
            match self.attempt(message, &key).await {
                Attempt::Accepted => return Ok(()),
                Attempt::Failed(why) => return Err(SendError(why)),
                Attempt::Refused(wait, why) => {
                    last = why;
                    if n == self.gateway.attempts || wait > self.gateway.max_backoff {
                        break;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Err(SendError(last))
    }
}

impl OtpSender for HttpSmsSender {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        if message.channel != Channel::Sms {
            return Err(SendError("the SMS gateway sends text messages only".into()));
        }
        // Called on a blocking thread: wait here for the async client.
        self.runtime.block_on(self.deliver(message))
    }
}

/// Masks a phone number: `(•••) •••-3333`.
pub fn mask_phone(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("(•••) •••-{tail}")
}

/// Masks an email: `a•••@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sms_ends_with_domain_bound_line() {
        let m = OtpMessage::new(
            Channel::Sms,
            "+15554443333".into(),
            "123456".into(),
            "example.com",
            10,
            0,
        );
        assert!(m.message.ends_with("\n@example.com #123456"));
    }

    #[test]
    fn email_says_it_proves_the_mailbox_only() {
        let m = OtpMessage::new(
            Channel::Email,
            "a@b.c".into(),
            "123456".into(),
            "example.com",
            10,
            0,
        );
        assert!(
            m.message
                .contains("only proves that you can read this mailbox")
        );
    }

    #[cfg(unix)]
    #[test]
    fn outbox_is_created_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("outbox.jsonl");
        let sender = OutboxSender::new(&path);
        let m = OtpMessage::new(
            Channel::Sms,
            "+15554443333".into(),
            "123456".into(),
            "h",
            10,
            0,
        );
        sender.send(&m).expect("send");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("+15554443333"), "(•••) •••-3333");
        assert_eq!(mask_email("alice@example.com"), "a•••@example.com");
    }
}
