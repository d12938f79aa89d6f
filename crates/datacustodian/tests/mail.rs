//! Real email: the receipt of an authorization and the emailed one-time
//! code go through a real SMTP server on loopback (aiosmtpd, installed by
//! `scripts/setup.sh` into `target/pyenv`), and the test reads what it
//! received: headers, the plain-text and HTML parts, in both languages.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use datacustodian::mail::{Mailer, SmtpSender};
use datacustodian::otp_sender::MemorySender;
use datacustodian::otp_sender::Senders;
use mailparse::{MailHeaderMap, ParsedMail};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The aiosmtpd server of one test (stopped when dropped).
struct SmtpSink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("DATACUSTODIAN_TEST_PYTHON") {
        return p.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let p = root.join("target/pyenv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup.sh (it installs aiosmtpd)",
        p.display()
    );
    p
}

impl SmtpSink {
    fn start(auth: Option<(&str, &str)>) -> SmtpSink {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut cmd = Command::new(python());
        cmd.arg(script).arg(port.to_string()).arg(dir.path());
        if let Some((u, p)) = auth {
            cmd.args([u, p]);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut out, &mut line).expect("ready line");
        assert_eq!(line.trim(), "ready", "aiosmtpd did not start");
        SmtpSink { port, dir, child }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The raw messages received so far, in order.
    fn received(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read(p).expect("eml"))
            .collect()
    }

    /// Waits (up to 15 s) until `n` messages arrived.
    async fn wait_for(&self, n: usize) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {n} mails arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FROM: &str = "Utility Energy <no-reply@utility.example>";

/// The text of the part of `mail` with MIME type `mime`.
fn part(mail: &ParsedMail, mime: &str) -> String {
    if mail.ctype.mimetype == mime {
        return mail.get_body().expect("body");
    }
    mail.subparts
        .iter()
        .map(|p| part(p, mime))
        .find(|s| !s.is_empty())
        .unwrap_or_default()
}

/// Authorizes the demo request as Alex with `choices`; the decision's
/// answer.
async fn authorize(s: &TestServer, choices: Value) -> Value {
    let b = s.browser();
    let rid = b
        .start(&authorize_url(s, DEMO_SCOPE, Some("st"), None))
        .await;
    let csrf = b.csrf(&rid).await;
    let (st, v) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let mut choices = choices;
    choices["decision"] = json!("authorize");
    let (st, res) = b.decide(&rid, Some(&csrf), choices).await;
    assert_eq!(st, StatusCode::OK, "{res}");
    res
}

#[tokio::test]
async fn the_receipt_is_mailed_in_the_customers_language_as_text_and_html() {
    let sink = SmtpSink::start(None);
    let s = start().await;
    s.state
        .set_mailer(Mailer::new(&sink.url(), FROM, None).expect("mailer"));

    let res = authorize(&s, json!({"locale": "es", "history_length": 31_536_000})).await;
    let id = res["receipt"]["authorization_id"].as_str().expect("id");
    let raw = sink.wait_for(1).await;
    let mail = mailparse::parse_mail(&raw[0]).expect("parse");
    let h = &mail.headers;
    assert_eq!(h.get_first_value("To").as_deref(), Some("alex@example.com"));
    assert_eq!(
        h.get_first_value("From").as_deref(),
        Some("\"Utility Energy\" <no-reply@utility.example>")
    );
    assert_eq!(
        h.get_first_value("Subject").as_deref(),
        Some("Está compartiendo sus datos de energía con Energy Audit Co. (demo)")
    );
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let text = part(&mail, "text/plain");
    let html = part(&mail, "text/html");
    println!("--- received receipt (text/plain) ---\n{text}");
    for want in [
        "Energy Audit Co. (demo)",
        "Medidores",
        "Home electricity (Electricidad, 123 Main St",
        "Desde hace 1 año",
        "It does not sell your data",
        id,
        &format!("{}/consent/sharing?lang=es", s.base),
    ] {
        assert!(text.contains(want), "text lacks {want:?}:\n{text}");
        assert!(
            html.contains(&want.replace('&', "&amp;")),
            "html lacks {want:?}:\n{html}"
        );
    }
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("lang=\"es\""));

    // English by default.
    authorize(&s, json!({})).await;
    let raw = sink.wait_for(2).await;
    let mail = mailparse::parse_mail(&raw[1]).expect("parse");
    let text = part(&mail, "text/plain");
    assert!(
        text.contains("You allowed Energy Audit Co. (demo) to get your energy data"),
        "{text}"
    );
    assert!(
        text.contains("Going back 2 years") && text.contains("Meters:"),
        "{text}"
    );
    assert!(text.contains("/consent/sharing?lang=en"), "{text}");
}

#[tokio::test]
async fn an_emailed_code_arrives_by_smtp_and_signs_in() {
    let sink = SmtpSink::start(None);
    let memory = Arc::new(MemorySender::default());
    let sender = Arc::new(Senders {
        email: Arc::new(SmtpSender::new(
            Mailer::new(&sink.url(), FROM, None).expect("mailer"),
        )),
        sms: memory.clone(),
    });
    let s = start_with_sender(|c| c.otp_delivery_inline = true, sender, memory.clone()).await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, ch) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            json!({"identify": {"email": "alex@example.com"}, "channel": "email"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let raw = sink.wait_for(1).await;
    let mail = mailparse::parse_mail(&raw[0]).expect("parse");
    assert_eq!(
        mail.headers.get_first_value("To").as_deref(),
        Some("alex@example.com")
    );
    let body = mail.get_body().expect("body");
    let code: String = body
        .split("code is ")
        .nth(1)
        .expect("code in the mail")
        .chars()
        .take(6)
        .collect();
    assert!(body.contains("only proves that you can read this mailbox"));
    // No SMS went anywhere.
    assert!(memory.messages().is_empty());
    let cid = ch["challenge_id"].as_str().expect("cid");
    let (st, v) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["display_name"], json!("Alex Rivera"));
}

#[tokio::test]
async fn the_password_file_logs_in_and_a_failing_relay_never_fails_the_authorization() {
    let sink = SmtpSink::start(Some(("mailer", "s3cret pw")));
    let dir = tempfile::tempdir().expect("dir");
    let good = dir.path().join("good");
    std::fs::write(&good, "s3cret pw\n").expect("write");
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "wrong\n").expect("write");
    let url = format!("smtp://mailer@127.0.0.1:{}", sink.port);

    // The right password from the file: delivered.
    let s = start().await;
    s.state
        .set_mailer(Mailer::new(&url, FROM, Some(&good)).expect("mailer"));
    authorize(&s, json!({})).await;
    sink.wait_for(1).await;

    // A wrong password: the relay refuses, the authorization still stands
    // and the failure is counted.
    let s = start().await;
    s.state
        .set_mailer(Mailer::new(&url, FROM, Some(&bad)).expect("mailer"));
    let res = authorize(&s, json!({})).await;
    assert_eq!(res["outcome"], json!("authorized"));
    let deadline = Instant::now() + Duration::from_secs(15);
    while !s
        .state
        .metrics()
        .render()
        .contains("datacustodian_mails_total{kind=\"receipt\",outcome=\"failed\"} 1")
    {
        assert!(Instant::now() < deadline, "{}", s.state.metrics().render());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Nothing else arrived, and the code redeems.
    assert_eq!(sink.received().len(), 1);
    let q = query_of(res["redirect_to"].as_str().expect("redirect"));
    let (st, t) = redeem(&s, &q["code"]).await;
    assert_eq!(st, StatusCode::OK, "{t}");

    // A relay that is not there: the same.
    let s = start().await;
    s.state
        .set_mailer(Mailer::new("smtp://127.0.0.1:9", FROM, None).expect("mailer"));
    let res = authorize(&s, json!({})).await;
    assert_eq!(res["outcome"], json!("authorized"));
}
