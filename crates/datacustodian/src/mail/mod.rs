//! Real email over SMTP (`lettre`, rustls): the one-time codes of the
//! email channel ([`SmtpSender`]) and the receipt of an authorization
//! ([`receipt`]).
//!
//! `--smtp-url` is `smtp://HOST:PORT` (plain, e.g. a relay on loopback),
//! `smtp://HOST:PORT?tls=required` (STARTTLS) or `smtps://HOST:PORT`
//! (implicit TLS), with `user:password@` in the URL or the password from
//! `--smtp-password-file`. The URL is never logged: it may hold a password.

pub mod receipt;

use std::path::Path;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};

use crate::otp_sender::{Channel, OtpMessage, OtpSender, SendError};

/// How long one SMTP conversation may take before it is given up.
const TIMEOUT: Duration = Duration::from_secs(20);

/// An SMTP relay and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    // Not the transport: its credentials must not reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// Reads `--smtp-url`, `--smtp-from` and `--smtp-password-file`; the
    /// error names what is wrong (never the password).
    pub fn new(url: &str, from: &str, password_file: Option<&Path>) -> Result<Mailer, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--smtp-url is not a URL ({e})"))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(format!(
                "--smtp-url must start with smtp:// or smtps://, not {}://",
                parsed.scheme()
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("--smtp-url names no host".into());
        }
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("--smtp-from {from:?} is not an email address ({e})"))?;
        let mut builder = SmtpTransport::from_url(url)
            .map_err(|e| format!("--smtp-url cannot be used: {e}"))?
            .timeout(Some(TIMEOUT));
        if let Some(file) = password_file {
            if parsed.username().is_empty() {
                return Err(
                    "--smtp-password-file needs a user in --smtp-url (smtp://USER@HOST)".into(),
                );
            }
            let password = std::fs::read_to_string(file)
                .map_err(|e| format!("--smtp-password-file {}: {e}", file.display()))?;
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(format!("--smtp-password-file {} is empty", file.display()));
            }
            let user = percent_decode(parsed.username());
            builder = builder.credentials(Credentials::new(user, password.to_string()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// The sender address.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Sends one message (blocking: call it on a blocking thread).
    pub fn send(&self, message: &Message) -> Result<(), SendError> {
        self.transport
            .send(message)
            .map(|_| ())
            .map_err(|e| SendError(format!("SMTP: {e}")))
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("u={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// The email channel of one-time codes: the code's text as a plain-text
/// mail.
#[derive(Debug, Clone)]
pub struct SmtpSender {
    mailer: Mailer,
}

impl SmtpSender {
    /// Sends through `mailer`.
    pub fn new(mailer: Mailer) -> SmtpSender {
        SmtpSender { mailer }
    }
}

impl OtpSender for SmtpSender {
    fn send(&self, message: &OtpMessage) -> Result<(), SendError> {
        if message.channel != Channel::Email {
            return Err(SendError("the SMTP sender only sends email".into()));
        }
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| SendError(format!("not an email address on file: {e}")))?;
        let mail = Message::builder()
            .from(self.mailer.from().clone())
            .to(to)
            .subject(format!("Your sign-in code: {}", message.code))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(message.message.clone())
            .map_err(|e| SendError(format!("cannot build the mail: {e}")))?;
        self.mailer.send(&mail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_named() {
        let e = Mailer::new("http://x", "a@b.c", None).unwrap_err();
        assert!(e.contains("smtp:// or smtps://"), "{e}");
        let e = Mailer::new("smtp://127.0.0.1:25", "not an address", None).unwrap_err();
        assert!(e.contains("--smtp-from"), "{e}");
        let e = Mailer::new(
            "smtp://127.0.0.1:25",
            "a@b.c",
            Some(Path::new("/nonexistent")),
        )
        .unwrap_err();
        assert!(e.contains("needs a user"), "{e}");
        let e = Mailer::new(
            "smtp://u@127.0.0.1:25",
            "a@b.c",
            Some(Path::new("/nonexistent/pw")),
        )
        .unwrap_err();
        assert!(e.contains("/nonexistent/pw"), "{e}");
    }

    #[test]
    fn the_debug_form_hides_the_password() {
        let m = Mailer::new("smtp://u:hunter2@127.0.0.1:25", "a@b.c", None).expect("mailer");
        assert!(!format!("{m:?}").contains("hunter2"));
    }
}
