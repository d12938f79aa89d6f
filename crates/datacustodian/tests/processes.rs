//! Two real server processes (`datacustodian serve`) on one database: the
//! test's fresh PostgreSQL database under `scripts/with-postgres.sh`, else a
//! SQLite file. Same key file, same public URL (a load balancer's). A
//! customer signs in at one and decides at the other; the code is redeemed
//! at both at once (issued once); the refresh token is used at both at once
//! (rotated once, and the loser revokes the family).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{Browser, fresh_database, http, query_of};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
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

/// `datacustodian serve --demo` on `port`; returns once it printed its
/// banner (the demo seed is idempotent: the second finds the first's rows).
fn spawn(dir: &Path, db: &str, port: u16, public: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--demo"])
        .args(["--database", db, "--public-url", public])
        .arg("--key-file")
        .arg(dir.join("shared.key"))
        .arg("--otp-outbox")
        .arg(dir.join(format!("outbox-{port}.jsonl")))
        .arg("--assets")
        .arg(dir)
        .env_remove("DATACUSTODIAN_DATABASE_URL")
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
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
        base: format!("http://127.0.0.1:{port}"),
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
    panic!("{base} did not come up");
}

const VERIFIER: &str = "two-processes-test-verifier-0123456789-abcdefghijklmn";
const REDIRECT: &str = "http://127.0.0.1:9999/callback";

fn authorize_url(base: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo-third-party")
        .append_pair("redirect_uri", REDIRECT)
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

/// The same form posted to the token endpoint of both servers at once.
async fn race(servers: [&Server; 2], form: &[(&str, &str)]) -> Vec<(StatusCode, Value)> {
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let mut tasks = tokio::task::JoinSet::new();
    for s in servers {
        let (url, secret) = (format!("{}/oauth/token", s.base), s.secret.clone());
        let (form, barrier) = (form.clone(), barrier.clone());
        tasks.spawn(async move {
            let c = http();
            barrier.wait().await;
            let r = c
                .post(url)
                .basic_auth("demo-third-party", Some(secret))
                .form(&form)
                .send()
                .await
                .expect("token");
            let st = r.status();
            (st, r.json().await.unwrap_or(Value::Null))
        });
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        out.push(r.expect("task"));
    }
    out
}

async fn active(s: &Server, tok: &str) -> bool {
    let r = http()
        .post(format!("{}/oauth/introspect", s.base))
        .basic_auth("demo-third-party", Some(&s.secret))
        .form(&[("token", tok)])
        .send()
        .await
        .expect("introspect");
    let v: Value = r.json().await.expect("json");
    v["active"] == json!(true)
}

fn one_ok(answers: &[(StatusCode, Value)]) -> Value {
    let ok: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(ok.len(), 1, "exactly one succeeds: {answers:?}");
    for (st, v) in answers {
        if *st != StatusCode::OK {
            assert_eq!(
                (*st, v["error"].clone()),
                (StatusCode::BAD_REQUEST, json!("invalid_grant"))
            );
        }
    }
    ok[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_sessions_codes_and_refresh_tokens() {
    let dir = tempfile::tempdir().expect("dir");
    let db = fresh_database(dir.path()).await;
    let (pa, pb) = (free_port(), free_port());
    let public = format!("http://127.0.0.1:{pa}");
    let a = spawn(dir.path(), &db, pa, &public);
    wait_ready(&a.base).await;
    let b = spawn(dir.path(), &db, pb, &public);
    wait_ready(&b.base).await;
    assert_eq!(a.secret, b.secret, "one key, one demo secret");

    // Signed in at A, decided at B (one cookie jar: the host is the same).
    let at_a = Browser::new(&a.base);
    let rid = at_a.start(&authorize_url(&a.base)).await;
    let csrf = at_a.csrf(&rid).await;
    let (st, v) = at_a.sign_in(&rid, &csrf, "alex", "green-button-demo").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let at_b = Browser {
        http: at_a.http.clone(),
        base: b.base.clone(),
    };
    let (st, v) = at_b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "decision at B: {v}");
    let code = query_of(v["redirect_to"].as_str().expect("redirect"))["code"].clone();

    // The code at both at once: issued once.
    let answers = race(
        [&a, &b],
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let t = one_ok(&answers);
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();
    // (Presented twice: its tokens are revoked. A fresh consent for the
    // refresh race.)
    assert!(!active(&a, t["access_token"].as_str().expect("at")).await);
    let rid = at_b.start(&authorize_url(&b.base)).await;
    let csrf = at_b.csrf(&rid).await;
    let (st, v) = at_b.sign_in(&rid, &csrf, "alex", "green-button-demo").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = at_a
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "decision at A: {v}");
    let code = query_of(v["redirect_to"].as_str().expect("redirect"))["code"].clone();
    let r = http()
        .post(format!("{}/oauth/token", b.base))
        .basic_auth("demo-third-party", Some(&b.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.expect("json");
    assert_ne!(t["refresh_token"].as_str(), Some(refresh.as_str()));
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();

    // The refresh token at both at once: rotated once; the loser presented
    // a rotated token, so the family (the winner's new tokens too) is gone.
    let answers = race(
        [&a, &b],
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    let rotated = one_ok(&answers);
    for s in [&a, &b] {
        for tok in ["access_token", "refresh_token"] {
            let tok = rotated[tok].as_str().expect("token");
            assert!(!active(s, tok).await, "{tok} still live at {}", s.base);
        }
    }
}

/// Settings from `DATACUSTODIAN_*` variables; `--log-format json` writes
/// one JSON object a line (the request log included).
#[tokio::test]
async fn settings_from_the_environment_and_json_logs() {
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(["serve", "--log-format", "json"])
        .env(
            "DATACUSTODIAN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("env.sqlite").display()),
        )
        .env("DATACUSTODIAN_KEY_FILE", dir.path().join("env.key"))
        .env("DATACUSTODIAN_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATACUSTODIAN_OTP_OUTBOX", dir.path().join("outbox.jsonl"))
        .env("DATACUSTODIAN_ASSETS", dir.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let r = http()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dir.path().join("env.key").exists(),
        "the key file from the env"
    );
    let text = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "something was logged");
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["level"].is_string(), "{l}");
    }
    assert!(text.contains("/healthz"), "the request log line: {text}");
}

/// `--config FILE` (TOML, the long option names as keys); a flag wins over
/// the file; an unknown key is a usage error.
#[tokio::test]
async fn settings_from_a_toml_config_file() {
    let dir = tempfile::tempdir().expect("dir");
    let (port, metrics_port) = (free_port(), free_port());
    let file = dir.path().join("datacustodian.toml");
    std::fs::write(
        &file,
        format!(
            "database = \"sqlite://{db}\"\nkey-file = \"{key}\"\nlisten = \"127.0.0.1:1\"\n\
             otp-outbox = \"{outbox}\"\nassets = \"{assets}\"\n\
             metrics-listen = \"127.0.0.1:{metrics_port}\"\ntrusted-proxy = [\"10.0.0.1\"]\n\
             purge-interval = 30\nlog-format = \"json\"\n",
            db = dir.path().join("file.sqlite").display(),
            key = dir.path().join("file.key").display(),
            outbox = dir.path().join("outbox.jsonl").display(),
            assets = dir.path().display(),
        ),
    )
    .expect("write");
    let log = dir.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .arg("--config")
        .arg(&file)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("DATACUSTODIAN_DATABASE_URL")
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .env_remove("DATACUSTODIAN_LISTEN")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("spawn");
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await;
    let metrics = http()
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status(), StatusCode::OK);
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        dir.path().join("file.sqlite").exists(),
        "the file's database"
    );
    assert!(dir.path().join("file.key").exists(), "the file's key");
    let text = std::fs::read_to_string(&log).expect("log");
    let first = text.lines().next().expect("a log line");
    serde_json::from_str::<Value>(first).unwrap_or_else(|e| panic!("{e}: {first}"));

    std::fs::write(&file, "listen = \"127.0.0.1:1\"\nfrobnicate = 1\n").expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("frobnicate"));
}
