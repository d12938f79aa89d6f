//! Abuse resistance (issue 10): limits that hold under concurrency, floods
//! and enumeration. Real server on loopback, real SQLite file; 100 attempts
//! fired at once (behind a barrier), and the limit asserted exactly.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use datacustodian::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

const N: usize = 100;

/// No rate limits, no request cap, plenty of hash permits: what is left is
/// the accounting under test.
fn accounting_only(c: &mut Config) {
    c.rate_per_ip = None;
    c.rate_global = None;
    c.max_sign_in_attempts_per_request = 10_000;
    c.max_concurrent_hashes = 1_000;
    c.otp_starts_per_ip_per_hour = 10_000;
    c.request_lifetime = 1_000_000;
    c.otp_lifetime = 1_000_000;
}

/// Fires `N` POSTs of `body(i)` to `path` at once from one browser (one
/// session); returns the tally of (status, error code).
async fn fire(
    b: &Arc<Browser>,
    path: String,
    csrf: &str,
    body: impl Fn(usize) -> Value,
) -> BTreeMap<(u16, String), usize> {
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..N {
        let (b, path, csrf, barrier, body) = (
            b.clone(),
            path.clone(),
            csrf.to_string(),
            barrier.clone(),
            body(i),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            b.post(&path, Some(&csrf), body).await
        });
    }
    let mut tally = BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let (st, v) = r.expect("task");
        let code = v["error"].as_str().unwrap_or("ok").to_string();
        *tally.entry((st.as_u16(), code)).or_default() += 1;
    }
    tally
}

fn count(t: &BTreeMap<(u16, String), usize>, status: u16, code: &str) -> usize {
    t.get(&(status, code.to_string())).copied().unwrap_or(0)
}

async fn db(s: &TestServer) -> sqlx::AnyPool {
    s.db().await
}

async fn new_request(s: &TestServer) -> (Arc<Browser>, String, String) {
    let b = s.browser();
    let rid = b.start(&authorize_url(s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    (Arc::new(b), rid, csrf)
}

fn otp_start_body() -> Value {
    json!({"identify": {"account_number": "1234567890", "zip": "94105"}, "channel": "sms"})
}

// ---------------------------------------------------------------- passwords

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_check_exactly_the_limit() {
    let s = start_with(accounting_only).await;
    let (b, rid, csrf) = new_request(&s).await;
    let t = fire(
        &b,
        format!("/api/consent/requests/{rid}/sign-in/password"),
        &csrf,
        |i| json!({"username": "alex", "password": format!("wrong-{i}")}),
    )
    .await;
    // The delay starts at the 5th failure: exactly 5 of 100 were checked.
    assert_eq!(count(&t, 401, "invalid_credentials"), 5, "{t:?}");
    assert_eq!(count(&t, 429, "too_many_attempts"), N - 5, "{t:?}");
    // Even the right password waits now.
    let (st, v) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts"))
    );
    println!(
        "passwords: {} of {N} parallel attempts checked",
        count(&t, 401, "invalid_credentials")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_attempts_per_request_are_capped() {
    let s = start_with(|c| {
        accounting_only(c);
        c.max_sign_in_attempts_per_request = 20;
    })
    .await;
    let (b, rid, csrf) = new_request(&s).await;
    // Different usernames: no per-username delay, only the request's cap.
    let t = fire(
        &b,
        format!("/api/consent/requests/{rid}/sign-in/password"),
        &csrf,
        |i| json!({"username": format!("user-{i}"), "password": "guess"}),
    )
    .await;
    assert_eq!(count(&t, 401, "invalid_credentials"), 20, "{t:?}");
    assert_eq!(
        count(&t, 429, "request_attempts_exhausted"),
        N - 20,
        "{t:?}"
    );
    // Codes count against the same cap.
    let (st, v) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            otp_start_body(),
        )
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!("request_attempts_exhausted")
        )
    );
    // A new request starts afresh.
    let (b2, rid2, csrf2) = new_request(&s).await;
    assert_eq!(
        b2.sign_in(&rid2, &csrf2, ALEX.0, ALEX.1).await.0,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_delay_grows_per_ip_and_a_stranger_cannot_lock_the_account() {
    // Behind a trusted proxy (loopback), so X-Forwarded-For names the IP.
    let s = start_with(|c| {
        accounting_only(c);
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    // One browser (one session), two client IPs.
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let sign_in = |ip: &'static str, pw: &'static str| {
        let req = b
            .http
            .post(s.url(&format!("/api/consent/requests/{rid}/sign-in/password")))
            .header("X-CSRF-Token", &csrf)
            .header("X-Forwarded-For", ip)
            .json(&json!({"username": "alex", "password": pw}));
        async move {
            let r = req.send().await.expect("post");
            let st = r.status();
            (st, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let attacker = "198.51.100.66";
    let customer = "203.0.113.7";
    for i in 1..=5 {
        assert_eq!(
            sign_in(attacker, "guess").await.0,
            StatusCode::UNAUTHORIZED,
            "failure {i}"
        );
    }
    // From the 5th failure on, each try waits; the delay doubles from 30 s
    // and stops growing at 15 minutes. Never a lock.
    let mut expected = 30;
    for n in 6..=12 {
        let (st, v) = sign_in(attacker, "guess").await;
        assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
        let wait = v["retry_after"].as_i64().expect("retry_after");
        assert!(
            wait <= expected && wait > expected - 3,
            "delay before failure {n}: {wait}, expected {expected}"
        );
        s.clock().advance(wait);
        assert_eq!(
            sign_in(attacker, "guess").await.0,
            StatusCode::UNAUTHORIZED,
            "failure {n} is checked once its delay is over"
        );
        expected = (expected * 2).min(15 * 60);
    }
    assert_eq!(expected, 15 * 60, "the delay reached its ceiling");
    // The customer, from their own IP, is not slowed by the stranger's 12
    // failures (the per-username count from every IP delays from 20).
    let (st, v) = sign_in(customer, "green-button-demo").await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_hashes_beyond_the_bound_are_shed_at_once() {
    let s = start_with(|c| {
        accounting_only(c);
        c.argon2_cost = datacustodian::Argon2Cost::Default; // real cost: 19 MiB
        c.max_concurrent_hashes = 1;
    })
    .await;
    let (b, rid, _csrf) = new_request(&s).await;
    let csrf = b.csrf(&rid).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (b, url, csrf, barrier) = (
            b.clone(),
            s.url(&format!("/api/consent/requests/{rid}/sign-in/password")),
            csrf.clone(),
            barrier.clone(),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            let r = b
                .http
                .post(url)
                .header("X-CSRF-Token", csrf)
                .json(&json!({"username": format!("random-{i}"), "password": "x"}))
                .send()
                .await
                .expect("post");
            let retry = r
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or("").to_string());
            let st = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            (st, v, retry)
        });
    }
    let (mut shed, mut checked) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (st, v, retry) = r.expect("task");
        match st {
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(v["error"], json!("server_busy"));
                assert_eq!(retry.as_deref(), Some("1"));
                shed += 1;
            }
            StatusCode::UNAUTHORIZED => checked += 1,
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert!(
        shed > 0,
        "with one hash permit and 20 at once, some are shed"
    );
    assert!(checked >= 1);
    assert_eq!(shed + checked, 20);
    println!("hash shedding: {shed} of 20 shed, {checked} checked");
}

// -------------------------------------------------------------------- codes

async fn challenge(s: &TestServer) -> (Arc<Browser>, String, String, String, String) {
    let (b, rid, csrf) = new_request(s).await;
    let (st, ch) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            otp_start_body(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let cid = ch["challenge_id"].as_str().expect("cid").to_string();
    (b, rid, csrf, cid, s.last_code())
}

fn wrong(code: &str, i: usize) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1 + i as u32) % 1_000_000)
}

async fn failures(s: &TestServer, cid: &str) -> i64 {
    let pool = db(s).await;
    let n = sqlx::query_scalar("SELECT failures FROM otp_challenges WHERE challenge_id = $1")
        .bind(cid)
        .fetch_one(&pool)
        .await
        .expect("failures");
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_check_exactly_the_limit() {
    let s = start_with(accounting_only).await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let path = format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify");
    let t = fire(
        &b,
        path.clone(),
        &csrf,
        |i| json!({"code": wrong(&code, i)}),
    )
    .await;
    // The delay starts at the 5th wrong code: 5 compared, 95 refused first.
    assert_eq!(count(&t, 400, "otp_invalid"), 5, "{t:?}");
    assert_eq!(count(&t, 429, "otp_throttled"), N - 5, "{t:?}");
    assert_eq!(failures(&s, &cid).await, 5);
    let (st, v) = b.post(&path, Some(&csrf), json!({"code": code})).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("otp_throttled"))
    );
    println!(
        "codes: {} of {N} parallel attempts checked",
        count(&t, 400, "otp_invalid")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_codes_never_pass_the_lock() {
    // No delay before the lock: the lock (10) is the only limit.
    let s = start_with(|c| {
        accounting_only(c);
        c.attempts_before_delay = 1_000;
    })
    .await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let path = format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify");
    let t = fire(
        &b,
        path.clone(),
        &csrf,
        |i| json!({"code": wrong(&code, i)}),
    )
    .await;
    // 10 compared (the 10th answers otp_locked), 90 refused before comparing.
    assert_eq!(count(&t, 400, "otp_invalid"), 9, "{t:?}");
    assert_eq!(count(&t, 429, "otp_locked"), N - 9, "{t:?}");
    assert_eq!(failures(&s, &cid).await, 10, "exactly 10 codes compared");
    let (st, v) = b.post(&path, Some(&csrf), json!({"code": code})).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("otp_locked"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_right_code_among_parallel_wrong_ones_signs_in_at_most_once() {
    let s = start_with(|c| {
        accounting_only(c);
        c.attempts_before_delay = 1_000;
    })
    .await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let path = format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify");
    let t = fire(&b, path, &csrf, |_| json!({"code": code})).await;
    // One sign-in. The others find the challenge used, or locked by the
    // tries counted before it (every try is counted before it is
    // compared), or carry the session cookie the sign-in just rotated.
    assert_eq!(count(&t, 200, "ok"), 1, "{t:?}");
    assert_eq!(
        count(&t, 410, "otp_used")
            + count(&t, 429, "otp_locked")
            + count(&t, 403, "request_not_yours"),
        N - 1,
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_code_starts_send_exactly_the_hourly_limit() {
    let s = start_with(accounting_only).await;
    let (b, rid, csrf) = new_request(&s).await;
    let t = fire(
        &b,
        format!("/api/consent/requests/{rid}/sign-in/otp"),
        &csrf,
        |_| otp_start_body(),
    )
    .await;
    assert_eq!(count(&t, 201, "ok"), 5, "{t:?}");
    assert_eq!(count(&t, 429, "too_many_attempts"), N - 5, "{t:?}");
    assert_eq!(s.sender.messages().len(), 5, "exactly 5 codes sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_resends_send_one_code() {
    let s = start_with(accounting_only).await;
    let (b, rid, csrf, cid, _) = challenge(&s).await;
    s.clock().advance(30);
    let t = fire(
        &b,
        format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/resend"),
        &csrf,
        |_| json!({}),
    )
    .await;
    assert_eq!(count(&t, 201, "ok"), 1, "{t:?}");
    assert_eq!(count(&t, 429, "resend_too_soon"), N - 1, "{t:?}");
    assert_eq!(s.sender.messages().len(), 2);
}

#[tokio::test]
async fn failed_codes_are_limited_per_customer_across_challenges() {
    let s = start_with(|c| {
        accounting_only(c);
        c.attempts_before_delay = 1_000;
        c.otp_customer_max_failures = 12;
        c.otp_customer_window = 7 * 24 * 3600;
    })
    .await;
    let verify = |b: &Arc<Browser>, rid: &str, cid: &str, csrf: &str, code: String| {
        let (b, path, csrf) = (
            b.clone(),
            format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
            csrf.to_string(),
        );
        async move { b.post(&path, Some(&csrf), json!({"code": code})).await }
    };
    // Challenge 1: 10 wrong codes lock it.
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    for i in 0..10 {
        verify(&b, &rid, &cid, &csrf, wrong(&code, i)).await;
    }
    // Challenge 2 (new request, new session): 2 more wrong codes reach 12.
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    for i in 0..2 {
        let (st, _) = verify(&b, &rid, &cid, &csrf, wrong(&code, i)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
    // The 13th try for this customer is refused before comparing, even the
    // right code.
    let (st, v) = verify(&b, &rid, &cid, &csrf, code.clone()).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("otp_locked")),
        "{v}"
    );
    assert!(v["retry_after"].as_i64().is_some_and(|r| r > 6 * 24 * 3600));
    // After the window, a right code works and clears the count.
    s.clock().advance(7 * 24 * 3600 + 1);
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let (st, v) = verify(&b, &rid, &cid, &csrf, code).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

// ---------------------------------------------------------------- no oracle

/// The keys of a JSON object with the JSON type of each value.
fn shape(v: &Value) -> BTreeMap<String, &'static str> {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            let t = match v {
                Value::Null => "null",
                Value::Bool(_) => "bool",
                Value::Number(_) => "number",
                Value::String(_) => "string",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
            };
            (k.clone(), t)
        })
        .collect()
}

#[tokio::test]
async fn otp_start_is_no_identity_oracle() {
    let s = start_with(accounting_only).await;
    let (b, rid, csrf) = new_request(&s).await;
    let start = |identify: Value, channel: &str| {
        let (b, path, csrf) = (
            b.clone(),
            format!("/api/consent/requests/{rid}/sign-in/otp"),
            csrf.clone(),
        );
        let body = json!({"identify": identify, "channel": channel});
        async move { b.post(&path, Some(&csrf), body).await }
    };
    let (st, real) = start(
        json!({"account_number": "1234567890", "zip": "94105"}),
        "sms",
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{real}");
    assert_eq!(s.sender.messages().len(), 1);
    for (identify, channel) in [
        (
            json!({"account_number": "0000000000", "zip": "94105"}),
            "sms",
        ),
        (
            json!({"account_number": "1234567890", "zip": "10001"}),
            "sms",
        ),
        (
            json!({"account_number": "5550001111", "zip": "94110"}),
            "email",
        ),
        (json!({"phone": "+15550009999"}), "sms"),
        (json!({"email": "nobody@example.com"}), "email"),
    ] {
        let (st, fake) = start(identify.clone(), channel).await;
        assert_eq!(st, StatusCode::CREATED, "{identify}: {fake}");
        assert_eq!(shape(&fake), shape(&real), "{identify}");
        assert_eq!(fake["expires_in"], real["expires_in"]);
        assert_eq!(fake["resend_after"], real["resend_after"]);
        // Nothing sent, and no contact shown that was not typed.
        assert_eq!(s.sender.messages().len(), 1, "{identify}: nothing sent");
        let typed_contact = identify.get("phone").or(identify.get("email")).is_some();
        if !typed_contact {
            assert_eq!(fake["sent_to"], json!(""), "{identify}");
        }
        // Verifying answers like a wrong code on a real challenge.
        let cid = fake["challenge_id"].as_str().expect("cid");
        let (st, v) = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
                Some(&csrf),
                json!({"code": "123456"}),
            )
            .await;
        assert_eq!(
            (st, v["error"].clone(), v["attempts_left"].clone()),
            (StatusCode::BAD_REQUEST, json!("otp_invalid"), json!(9))
        );
    }
    // Account sign-in shows no phone number, not even masked.
    assert_eq!(real["sent_to"], json!(""));
    let (st, v) = start(json!({"phone": "(555) 555-0100"}), "sms").await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(
        v["sent_to"],
        json!("(•••) •••-0100"),
        "the typed phone, masked"
    );
}

#[tokio::test]
async fn otp_start_limits_key_on_identity_and_ip_not_session() {
    let s = start_with(|c| {
        accounting_only(c);
        c.otp_starts_per_ip_per_hour = 8;
    })
    .await;
    // The same unknown identity from fresh sessions: 5 an hour, like a real
    // contact (a new session does not reset it).
    let unknown = json!({"identify": {"account_number": "999", "zip": "00000"}, "channel": "sms"});
    for i in 0..6 {
        let (b, rid, csrf) = new_request(&s).await;
        let (st, v) = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp"),
                Some(&csrf),
                unknown.clone(),
            )
            .await;
        if i < 5 {
            assert_eq!(st, StatusCode::CREATED, "start {i}: {v}");
        } else {
            assert_eq!(
                (st, v["error"].clone()),
                (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts")),
                "{v}"
            );
        }
    }
    // Per client IP: 8 starts an hour whatever they name (6 made above).
    for i in 0..3 {
        let (b, rid, csrf) = new_request(&s).await;
        let body =
            json!({"identify": {"account_number": format!("a{i}"), "zip": "1"}, "channel": "sms"});
        let (st, v) = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp"),
                Some(&csrf),
                body,
            )
            .await;
        if i < 2 {
            assert_eq!(st, StatusCode::CREATED, "{v}");
        } else {
            assert_eq!(
                (st, v["error"].clone()),
                (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts")),
                "{v}"
            );
        }
    }
}

// -------------------------------------------------------------- rate limits

#[tokio::test]
async fn anonymous_endpoints_are_rate_limited_per_client_ip() {
    let s = start_with(|c| {
        c.rate_per_ip = Some(datacustodian::Rate {
            per_second: 1,
            burst: 3,
        });
        c.rate_global = None;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let get = |path: String, ip: &'static str| async move {
        http()
            .get(path)
            .header("X-Forwarded-For", ip)
            .send()
            .await
            .expect("get")
    };
    let url = s.url("/api/consent/requests/no-such-request");
    let mut limited = None;
    for _ in 0..10 {
        let r = get(url.clone(), "198.51.100.1").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let r = limited.expect("the 4th quick request from one IP is refused");
    assert!(r.headers().get("retry-after").is_some());
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], json!("rate_limited"));
    // Another client IP has its own bucket.
    assert_eq!(
        get(url.clone(), "198.51.100.2").await.status(),
        StatusCode::NOT_FOUND
    );
    // The authorization endpoint answers with a page.
    let authz = authorize_url(&s, DEMO_SCOPE, None, None);
    let mut page = None;
    for _ in 0..10 {
        let r = get(authz.clone(), "198.51.100.3").await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            page = Some(r);
            break;
        }
    }
    let r = page.expect("authorize is limited too");
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    // Token, metadata and other authenticated endpoints are not limited here.
    for _ in 0..10 {
        let r = get(
            s.url("/.well-known/oauth-authorization-server"),
            "198.51.100.1",
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn forwarded_for_is_ignored_without_a_trusted_proxy() {
    let s = start_with(|c| {
        c.rate_per_ip = Some(datacustodian::Rate {
            per_second: 1,
            burst: 2,
        });
        c.rate_global = None;
    })
    .await;
    let url = s.url("/api/consent/requests/no-such-request");
    let mut refused = false;
    for i in 0..10 {
        // A new "client IP" on every request: not believed.
        let r = http()
            .get(&url)
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .send()
            .await
            .expect("get");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
    }
    assert!(refused, "spoofed X-Forwarded-For does not escape the limit");
}

#[tokio::test]
async fn the_global_rate_limit_holds_across_ips() {
    let s = start_with(|c| {
        c.rate_per_ip = None;
        c.rate_global = Some(datacustodian::Rate {
            per_second: 1,
            burst: 3,
        });
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    })
    .await;
    let url = s.url("/api/consent/requests/no-such-request");
    let mut refused = false;
    for i in 0..10 {
        let r = http()
            .get(&url)
            .header("X-Forwarded-For", format!("198.51.100.{i}"))
            .send()
            .await
            .expect("get");
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = true;
            break;
        }
    }
    assert!(refused);
}

// ------------------------------------------------------------- housekeeping

async fn rows(pool: &sqlx::AnyPool, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn expired_rows_are_purged_in_batches() {
    let s = start_with(|c| {
        accounting_only(c);
        c.request_lifetime = 1800;
        c.otp_lifetime = 600;
        c.purge_batch = 7;
    })
    .await;
    // Anonymous litter: 30 requests read by 30 sessions, a challenge, a
    // wrong password's counters; and one authorization code.
    for _ in 0..30 {
        let b = s.browser();
        let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
        b.csrf(&rid).await;
    }
    let (b, rid, csrf, _, _) = challenge(&s).await;
    b.sign_in(&rid, &csrf, "nobody", "x").await;
    let code = code_without_pkce(&s).await;
    let pool = db(&s).await;
    assert!(rows(&pool, "auth_requests").await >= 32);
    assert!(rows(&pool, "throttles").await >= 2);
    // Nothing is over yet: nothing goes.
    let c = datacustodian::housekeeping::purge_once(&s.state)
        .await
        .expect("purge");
    assert_eq!(c.total(), 0, "{c:?}");
    // A day and a bit later every request, session, challenge and counter
    // is over (sessions last 8 h, counters a day); the code is kept a day
    // past its expiry for replay detection.
    s.clock().advance(24 * 3600 + 120);
    let live = s.browser();
    let live_rid = live.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let c = datacustodian::housekeeping::purge_once(&s.state)
        .await
        .expect("purge");
    assert!(
        c.requests >= 32 && c.sessions >= 31 && c.challenges >= 1 && c.throttles >= 2,
        "{c:?}"
    );
    assert_eq!(
        rows(&pool, "auth_requests").await,
        1,
        "only the live request is left"
    );
    assert_eq!(rows(&pool, "otp_challenges").await, 0);
    assert_eq!(rows(&pool, "throttles").await, 0);
    assert_eq!(
        rows(&pool, "auth_codes").await,
        0,
        "codes older than a day past expiry go"
    );
    let _ = code;
    // The live request still works.
    assert_eq!(live.context(&live_rid).await.0, StatusCode::OK);
    pool.close().await;
}

#[tokio::test]
async fn a_used_code_is_kept_a_day_for_replay_detection() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (st, t) = redeem(&s, &code).await;
    assert_eq!(st, StatusCode::OK);
    s.clock().advance(3600);
    datacustodian::housekeeping::purge_once(&s.state)
        .await
        .expect("purge");
    // Replayed an hour later: still recognised, its tokens revoked.
    assert_eq!(redeem(&s, &code).await.0, StatusCode::BAD_REQUEST);
    let at = t["access_token"].as_str().expect("at");
    assert_eq!(introspect(&s, at).await["active"], json!(false));
}

// ---------------------------------------------------------------- migration

#[tokio::test]
async fn a_version_1_database_is_migrated_in_place() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("v1.sqlite").display());
    {
        let opts = <sqlx::sqlite::SqliteConnectOptions as std::str::FromStr>::from_str(&url)
            .expect("url")
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.expect("db");
        sqlx::raw_sql(include_str!("../migrations/0001_initial.sql"))
            .execute(&pool)
            .await
            .expect("v1");
        sqlx::raw_sql(
            "PRAGMA user_version = 1; \
             INSERT INTO clients VALUES ('old', x'00', 'Old', 'third-party', '[\"https://o.example/cb\"]', \
             '[]', '[]', '[]', '[\"authorization_code\"]', NULL, NULL, NULL, NULL, 0); \
             INSERT INTO customers (customer_id, display_name, created_at) VALUES ('c1', 'C', 0); \
             INSERT INTO auth_requests (request_key, id_hash, client_id, redirect_uri, scope, created_at, expires_at) \
             VALUES ('r1', x'01', 'old', 'https://o.example/cb', 'FB=1', 0, 10); \
             INSERT INTO otp_challenges (challenge_id, request_key, session_id, customer_id, channel, \
             contact_hash, code_hash, created_at, expires_at, last_sent_at) \
             VALUES ('ch1', 'r1', 's', 'c1', 'sms', x'02', x'03', 0, 10, 0); \
             INSERT INTO otp_sends VALUES (x'02', 0);",
        )
        .execute(&pool)
        .await
        .expect("v1 rows");
        pool.close().await;
    }
    let store = datacustodian::Store::open(&url).await.expect("migrated");
    let old = store.client("old").await.expect("db").expect("client kept");
    assert!(
        !old.require_pkce,
        "clients from before keep their behaviour"
    );
    let ch = store
        .challenge("ch1", "r1")
        .await
        .expect("db")
        .expect("challenge kept");
    assert_eq!(ch.customer_id.as_deref(), Some("c1"));
    assert_eq!(ch.sent_to, "");
    store.close().await;
    // Opening again is a no-op.
    let store = datacustodian::Store::open(&url).await.expect("reopen");
    store.close().await;
}

// ----------------------------------------------------------------- delivery

/// Holds every message until the test opens the gate, then hands it to a
/// memory sender.
#[derive(Debug, Default)]
struct GatedSender {
    open: std::sync::Mutex<bool>,
    opened: std::sync::Condvar,
    memory: Arc<datacustodian::otp_sender::MemorySender>,
}

impl datacustodian::otp_sender::OtpSender for GatedSender {
    fn send(
        &self,
        m: &datacustodian::otp_sender::OtpMessage,
    ) -> Result<(), datacustodian::otp_sender::SendError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(|p| p.into_inner());
        }
        self.memory.send(m)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_start_does_not_wait_for_delivery() {
    let gated = Arc::new(GatedSender::default());
    let memory = gated.memory.clone();
    // Background delivery: the production default.
    let s = common::start_with_sender(
        |c| {
            accounting_only(c);
            c.otp_delivery_inline = false;
        },
        gated.clone(),
        memory.clone(),
    )
    .await;
    let (b, rid, csrf) = new_request(&s).await;
    // The sender is stuck, yet the match answers: the answer cannot depend
    // on delivery (an SMS gateway's latency would tell a match from a
    // non-match).
    let (st, v) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            otp_start_body(),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert!(memory.messages().is_empty(), "not delivered yet");
    *gated.open.lock().expect("lock") = true;
    gated.opened.notify_all();
    // Delivered once the gate opens (bounded wait, not a timing assertion).
    for _ in 0..500 {
        if !memory.messages().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(memory.messages().len(), 1);
    let cid = v["challenge_id"].as_str().expect("cid");
    let (st, _) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({"code": memory.messages()[0].code}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn the_purge_keeps_a_session_while_a_pending_request_names_it() {
    let s = start_with(|c| {
        accounting_only(c);
        c.session_lifetime = 100;
        c.request_lifetime = 1800;
    })
    .await;
    let owner = s.browser();
    let rid = owner
        .start(&authorize_url(&s, DEMO_SCOPE, None, None))
        .await;
    owner.csrf(&rid).await;
    // The session is over, the request is not.
    s.clock().advance(200);
    datacustodian::housekeeping::purge_once(&s.state)
        .await
        .expect("purge");
    let pool = db(&s).await;
    assert_eq!(
        rows(&pool, "consent_sessions").await,
        1,
        "kept: the request names it"
    );
    // So the request stays bound to it: nobody else can claim it.
    let stranger = s.browser();
    let (st, v) = stranger.context(&rid).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("request_not_yours"))
    );
    // Once the request is over too, both go.
    s.clock().advance(1800);
    datacustodian::housekeeping::purge_once(&s.state)
        .await
        .expect("purge");
    assert_eq!(rows(&pool, "auth_requests").await, 0);
    assert_eq!(rows(&pool, "consent_sessions").await, 0);
    pool.close().await;
}
