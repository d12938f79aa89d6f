//! Delivery of one-time codes: a pluggable [`OtpSender`].
//!
//! Development sinks: [`OutboxSender`] appends one JSON line per message to
//! a file (`{"to","channel","code","message","sent_at"}`), [`LogSender`]
//! writes a log line (without the code). A production deployment plugs an
//! SMS gateway or a mail relay in through the same trait.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

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
