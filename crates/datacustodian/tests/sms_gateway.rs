//! One-time codes by text message through an HTTP SMS gateway in Twilio's
//! Messages API shape, against a real HTTP server on loopback that records
//! what it got: the form and the Basic auth; a retry only when the gateway
//! certainly did not take the message (503/429, or no connection), never
//! after a timeout or another error, so a code never reaches a phone twice;
//! and the codes counted as sent or failed in the metrics.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::response::IntoResponse;
use axum::routing::post;
use common::*;
use datacustodian::otp_sender::{HttpSmsSender, MemorySender, Senders, SmsGateway};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What the gateway got: the headers it cares about and the form.
#[derive(Debug, Clone)]
struct Got {
    auth: String,
    idempotency_key: String,
    form: Vec<(String, String)>,
}

/// How the gateway answers the n-th request (0-based).
type Script = Arc<dyn Fn(usize) -> (u16, Option<&'static str>, Duration) + Send + Sync>;

#[derive(Clone)]
struct Gateway {
    got: Arc<Mutex<Vec<Got>>>,
    script: Script,
}

async fn messages(
    State(g): State<Gateway>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let n = {
        let mut got = g.got.lock().expect("lock");
        got.push(Got {
            auth: headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            idempotency_key: headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            form: url::form_urlencoded::parse(&body).into_owned().collect(),
        });
        got.len() - 1
    };
    let (status, retry_after, delay) = (g.script)(n);
    tokio::time::sleep(delay).await;
    let status = AxStatus::from_u16(status).expect("status");
    let mut resp = (status, "{\"sid\":\"SM1\"}").into_response();
    if let Some(r) = retry_after {
        resp.headers_mut()
            .insert("retry-after", r.parse().expect("header"));
    }
    resp
}

/// Starts a gateway answering by `script`; its Messages URL and record.
async fn gateway(script: Script) -> (String, Arc<Mutex<Vec<Got>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/2010-04-01/Accounts/AC123/Messages.json", post(messages))
        .with_state(Gateway {
            got: got.clone(),
            script,
        });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/2010-04-01/Accounts/AC123/Messages.json",
        l.local_addr().expect("addr")
    );
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got)
}

fn sender(url: &str, timeout: Duration) -> Arc<HttpSmsSender> {
    let mut g = SmsGateway::new(
        url.parse().expect("url"),
        "AC123".into(),
        "token-xyz".into(),
        "+15550009999".into(),
    );
    g.timeout = timeout;
    g.max_backoff = Duration::from_secs(2);
    Arc::new(HttpSmsSender::new(g).expect("sender"))
}

/// A server whose text messages go through `sms` (email to memory).
async fn server_with(sms: Arc<HttpSmsSender>) -> TestServer {
    let memory = Arc::new(MemorySender::default());
    start_with_sender(
        |c| c.otp_delivery_inline = true,
        Arc::new(Senders {
            sms,
            email: memory.clone(),
        }),
        memory,
    )
    .await
}

/// Asks for a code by SMS to Alex's phone; the answer.
async fn ask_code(s: &TestServer) -> (StatusCode, Value) {
    let b = s.browser();
    let rid = b.start(&s.seed.authorization_url).await;
    let csrf = b.csrf(&rid).await;
    b.post(
        &format!("/api/consent/requests/{rid}/sign-in/otp"),
        Some(&csrf),
        json!({"identify": {"phone": "+1 555 555 0100"}, "channel": "sms"}),
    )
    .await
}

fn metric(s: &TestServer, line: &str) -> bool {
    s.state.metrics().render().lines().any(|l| l == line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_goes_out_as_a_twilio_form_post_with_basic_auth() {
    let (url, got) = gateway(Arc::new(|_| (201, None, Duration::ZERO))).await;
    let s = server_with(sender(&url, Duration::from_secs(5))).await;
    let (st, body) = ask_code(&s).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let got = got.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    // Basic base64("AC123:token-xyz").
    assert_eq!(m.auth, "Basic QUMxMjM6dG9rZW4teHl6");
    let field = |k: &str| {
        m.form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(field("To"), "+15555550100");
    assert_eq!(field("From"), "+15550009999");
    let text = field("Body");
    let code = text.rsplit('#').next().expect("code");
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("\n@{} #{code}", s.state.config().public_host())),
        "{text}"
    );
    assert!(!m.idempotency_key.is_empty());
    assert!(metric(
        &s,
        "datacustodian_codes_sent_total{channel=\"sms\"} 1"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_is_retried_with_the_same_key_and_the_code_goes_once() {
    // Refused once (not queued), then accepted.
    let (url, got) = gateway(Arc::new(|n| {
        if n == 0 {
            (503, Some("1"), Duration::ZERO)
        } else {
            (201, None, Duration::ZERO)
        }
    }))
    .await;
    let s = server_with(sender(&url, Duration::from_secs(5))).await;
    let t = Instant::now();
    let (st, body) = ask_code(&s).await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert!(t.elapsed() >= Duration::from_secs(1), "waited Retry-After");
    let got = got.lock().expect("lock").clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].idempotency_key, got[1].idempotency_key);
    assert_eq!(got[0].form, got[1].form, "the same message");
    assert!(metric(
        &s,
        "datacustodian_codes_sent_total{channel=\"sms\"} 1"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_or_a_timeout_is_not_retried() {
    // A 500 may come after the message was queued: one request only.
    let (url, got) = gateway(Arc::new(|_| (500, None, Duration::ZERO))).await;
    let s = server_with(sender(&url, Duration::from_secs(5))).await;
    let (st, body) = ask_code(&s).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "send_failed");
    assert_eq!(got.lock().expect("lock").len(), 1);
    assert!(metric(
        &s,
        "datacustodian_codes_failed_total{channel=\"sms\"} 1"
    ));

    // No answer within the timeout: the gateway may have sent it. One
    // request only.
    let (url, got) = gateway(Arc::new(|_| (201, None, Duration::from_secs(3)))).await;
    let s = server_with(sender(&url, Duration::from_secs(1))).await;
    let (st, _) = ask_code(&s).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(got.lock().expect("lock").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_retry_after_or_no_gateway_gives_up() {
    // 429 asking for longer than the sender waits: one request, failed.
    let (url, got) = gateway(Arc::new(|_| (429, Some("60"), Duration::ZERO))).await;
    let s = server_with(sender(&url, Duration::from_secs(5))).await;
    let (st, _) = ask_code(&s).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(got.lock().expect("lock").len(), 1);

    // Nothing listens: tried (nothing can have been sent), then failed.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let s = server_with(sender(
        &format!("http://{closed}/Messages.json"),
        Duration::from_secs(2),
    ))
    .await;
    let (st, body) = ask_code(&s).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(metric(
        &s,
        "datacustodian_codes_failed_total{channel=\"sms\"} 1"
    ));
}

/// `datacustodian serve` with the `--sms-*` flags and `--demo`: a code asked
/// for by SMS goes to the gateway (in the background, as in production),
/// an emailed one to the outbox; the gateway got the token from its file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_text_messages_through_the_configured_gateway() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let (url, got) = gateway(Arc::new(|_| (201, None, Duration::ZERO))).await;
    let dir = tempfile::tempdir().expect("dir");
    let token = dir.path().join("sms-token");
    std::fs::write(&token, "token-xyz\n").expect("token file");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datacustodian"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--demo"])
        .arg("--database")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("dc.sqlite").display()
        ))
        .args(["--sms-gateway-url", &url, "--sms-account-sid", "AC123"])
        .arg("--sms-auth-token-file")
        .arg(&token)
        .args(["--sms-from", "+15550009999", "--assets"])
        .arg(dir.path())
        .env_remove("DATACUSTODIAN_DATABASE_URL")
        .env_remove("DATACUSTODIAN_KEY_FILE")
        .env_remove("DATACUSTODIAN_OTP_OUTBOX")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the binary");
    let mut banner = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Metadata:") {
            break;
        }
    }
    let outbox = dir.path().join("dc.sqlite.otp-outbox.jsonl");
    assert!(
        banner.contains(&outbox.display().to_string()),
        "--demo names its outbox: {banner}"
    );
    let authorize = banner
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(&format!("{base}/oauth/authorize?")))
        .expect("the printed authorization URL")
        .to_string();
    let b = Browser::new(&base);
    let rid = b.start(&authorize).await;
    let csrf = b.csrf(&rid).await;
    for (identify, channel) in [
        (json!({"phone": "+15555550100"}), "sms"),
        (json!({"email": "alex@example.com"}), "email"),
    ] {
        let (st, body) = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp"),
                Some(&csrf),
                json!({"identify": identify, "channel": channel}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{channel}: {body}");
    }
    // Delivery runs in the background: wait for it.
    let arrived = async {
        for _ in 0..100 {
            if !got.lock().expect("lock").is_empty() && outbox.exists() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        arrived,
        "the SMS reached the gateway and the email the outbox"
    );
    let got = got.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].auth, "Basic QUMxMjM6dG9rZW4teHl6");
    let lines = std::fs::read_to_string(&outbox).expect("outbox");
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(lines.contains("\"channel\":\"email\""), "{lines}");
}
