//! Durability: the real binary is SIGKILLed mid-flow and restarted on the
//! same SQLite file and key. Nothing issued is lost, nothing is issued twice.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{Browser, http, query_of};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    child: Child,
    secret: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Starts `datacustodian serve --demo`; returns when it printed its banner.
fn spawn(dir: &Path, port: u16) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--demo"])
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("dc.sqlite").display()))
        .arg("--otp-outbox")
        .arg(dir.join("outbox.jsonl"))
        .arg("--assets")
        .arg(dir)
        .env_remove("DATACUSTODIAN_DATABASE_URL")
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .stdout(Stdio::piped())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("server.log"))
                .expect("log file"),
        )
        .spawn()
        .expect("spawn the binary");
    let out = child.stdout.take().expect("stdout");
    let mut secret = None;
    for line in BufReader::new(out).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.split("client_secret ").nth(1) {
            secret = Some(rest.trim().to_string());
        }
        if line.starts_with("Metadata:") {
            break;
        }
    }
    Server {
        child,
        secret: secret.expect("the demo printed its client secret"),
    }
}

async fn wait_ready(base: &str) {
    for _ in 0..200 {
        if let Ok(r) = http()
            .get(format!("{base}/.well-known/oauth-authorization-server"))
            .send()
            .await
            && r.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// The demo client requires PKCE: every request here uses this verifier.
const VERIFIER: &str = "durability-test-verifier-0123456789-abcdefghijklmnop";

fn authorize_url(base: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo-third-party")
        .append_pair("redirect_uri", &format!("{base}/playground/callback"))
        .append_pair("scope", datacustodian::admin::DEMO_SCOPE)
        .append_pair("state", "s")
        .append_pair(
            "code_challenge",
            &espi_scope::pkce::challenge_s256(VERIFIER),
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{base}/oauth/authorize?{q}")
}

/// Signs Alex in on a new request; returns (request id, csrf).
async fn signed_in(b: &Browser, base: &str) -> (String, String) {
    let rid = b.start(&authorize_url(base)).await;
    let csrf = b.csrf(&rid).await;
    let (st, v) = b.sign_in(&rid, &csrf, "alex", "green-button-demo").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    (rid, csrf)
}

async fn code(b: &Browser, base: &str) -> String {
    let (rid, csrf) = signed_in(b, base).await;
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    query_of(v["redirect_to"].as_str().expect("redirect"))["code"].clone()
}

async fn token(base: &str, secret: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{base}/oauth/token"))
        .basic_auth("demo-third-party", Some(secret))
        .form(form)
        .send()
        .await
        .expect("token");
    let st = r.status();
    (st, r.json().await.unwrap_or(Value::Null))
}

async fn active(base: &str, secret: &str, tok: &str) -> bool {
    let r = http()
        .post(format!("{base}/oauth/introspect"))
        .basic_auth("demo-third-party", Some(secret))
        .form(&[("token", tok)])
        .send()
        .await
        .expect("introspect");
    r.json::<Value>().await.expect("json")["active"] == json!(true)
}

#[tokio::test]
async fn sigkill_mid_flow_loses_nothing_and_issues_nothing_twice() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("index.html"), "<!doctype html>").expect("index");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let redirect = format!("{base}/playground/callback");

    let mut server = spawn(dir.path(), port);
    wait_ready(&base).await;
    let secret = server.secret.clone();
    let b = Browser::new(&base);

    // Issued before the kill.
    let (st, cc) = token(&base, &secret, &[("grant_type", "client_credentials")]).await;
    assert_eq!(st, StatusCode::OK);
    let cc = cc["access_token"].as_str().expect("cc").to_string();
    let c0 = code(&b, &base).await;
    let (st, t0) = token(
        &base,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c0),
            ("redirect_uri", &redirect),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{t0}");
    let a0 = t0["access_token"].as_str().expect("at").to_string();
    let r0 = t0["refresh_token"].as_str().expect("rt").to_string();
    // Mid-flow: a code not yet redeemed, and a consent not yet decided.
    let c1 = code(&b, &base).await;
    let (pending, csrf) = signed_in(&b, &base).await;

    // SIGKILL (std's Child::kill sends SIGKILL on Unix).
    server.child.kill().expect("kill");
    server.child.wait().expect("wait");
    assert!(
        http().get(format!("{base}/")).send().await.is_err(),
        "the server is down"
    );

    let server2 = spawn(dir.path(), port);
    wait_ready(&base).await;
    assert_eq!(server2.secret, secret, "same key, same demo secret");

    // Nothing lost: tokens issued before the kill are still live.
    assert!(active(&base, &secret, &cc).await);
    assert!(active(&base, &secret, &a0).await);
    assert!(active(&base, &secret, &r0).await);
    // The pending code redeems exactly once.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", c1.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("code_verifier", VERIFIER),
    ];
    let (st, t1) = token(&base, &secret, &form).await;
    assert_eq!(st, StatusCode::OK, "{t1}");
    let (st, v) = token(&base, &secret, &form).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    // The refresh token from before the kill rotates once.
    let (st, _) = token(
        &base,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &r0)],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = token(
        &base,
        &secret,
        &[("grant_type", "refresh_token"), ("refresh_token", &r0)],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // The code redeemed before the kill is not redeemable again
    // (and presenting it again revokes what it issued).
    let (st, _) = token(
        &base,
        &secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &c0),
            ("redirect_uri", &redirect),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(!active(&base, &secret, &a0).await);
    // The consent session and the pending request survived.
    let (st, v) = b
        .decide(&pending, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = b
        .decide(&pending, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::CONFLICT, json!("request_decided"))
    );
    // The key file sits beside the database, 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir.path().join("dc.sqlite.key")).expect("key file");
        assert_eq!(meta.len(), 32);
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    drop(server2);

    // One structured log line per request, and never a secret in the logs.
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" request ")).collect();
    assert!(lines.len() >= 20, "{log}");
    assert!(
        lines.iter().any(|l| l.contains("method=POST")
            && l.contains("path=/oauth/token")
            && l.contains("status=200")
            && l.contains("latency_us=")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("path=/api/consent/requests/{request_id}/decision")),
        "{log}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("path=/oauth/authorize") && l.contains("status=303")),
        "{log}"
    );
    for secret in [
        &c0,
        &c1,
        &a0,
        &r0,
        &cc,
        &pending,
        &csrf,
        &secret,
        &"green-button-demo".to_string(),
    ] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret reached the log: {secret}"
        );
    }
}
