//! "Your data sharing" without an authorization request: the customer signs
//! in on `/api/customer/…` (password, or a one-time code, with the second
//! factor when it is required), lists the authorizations and stops one;
//! the third party's next resource call is refused.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A grant for the demo third party by Alex; its token response.
async fn granted(s: &TestServer) -> Value {
    let q = consent(
        &s.browser(),
        &authorize_url(s, DEMO_SCOPE, None, None),
        json!({}),
    )
    .await;
    let (st, t) = redeem(s, &q["code"]).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    t
}

async fn session(b: &Browser) -> Value {
    let (st, v) = b.get("/api/customer/session").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn sign_in_by_password_list_and_stop_sharing() {
    let s = start().await;
    let t = granted(&s).await;
    let access = t["access_token"].as_str().expect("at");
    let usage = format!("{}/UsagePoint", t["resourceURI"].as_str().expect("uri"));
    assert_eq!(bearer_get(&s, &usage, access).await.0, StatusCode::OK);

    // A new browser (from the receipt mail): a session, not signed in.
    let b = s.browser();
    let v = session(&b).await;
    assert_eq!(v["customer"], Value::Null);
    assert_eq!(v["sign_in"]["methods"][0], json!("password"));
    let csrf = v["csrf_token"].as_str().expect("csrf").to_string();
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // No CSRF token: refused before the password is looked at.
    let (st, e) = b
        .post(
            "/api/customer/sign-in/password",
            None,
            json!({"username": ALEX.0, "password": ALEX.1}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let (st, e) = b
        .post(
            "/api/customer/sign-in/password",
            Some(&csrf),
            json!({"username": ALEX.0, "password": "no"}),
        )
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{e}");
    assert_eq!(e["error"], json!("invalid_credentials"));
    let cookie_before = b.get("/api/customer/session").await.1["csrf_token"].clone();
    let (st, c) = b
        .post(
            "/api/customer/sign-in/password",
            Some(&csrf),
            json!({"username": ALEX.0, "password": ALEX.1}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["display_name"], json!("Alex Rivera"));
    let v = session(&b).await;
    assert_eq!(v["customer"]["display_name"], json!("Alex Rivera"));
    assert_eq!(
        v["csrf_token"], cookie_before,
        "the CSRF token survives the rotation"
    );

    let (st, list) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let id = list["authorizations"][0]["authorization_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (st, _) = b
        .post(
            &format!("/api/customer/authorizations/{id}/revoke"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        bearer_get(&s, &usage, access).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_that_signed_in_rotates_its_cookie() {
    let s = start().await;
    let b = s.browser();
    let csrf = session(&b).await["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();
    let r = b
        .http
        .post(s.url("/api/customer/sign-in/password"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"username": ALEX.0, "password": ALEX.1}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("set-cookie").is_some(),
        "signing in sets a new session cookie (no fixation)"
    );
}

#[tokio::test]
async fn sign_in_by_code_and_with_a_second_factor() {
    let s = start().await;
    let b = s.browser();
    let csrf = session(&b).await["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();
    let (st, ch) = b
        .post(
            "/api/customer/sign-in/otp",
            Some(&csrf),
            json!({"identify": {"account_number": "1234567890", "zip": "94105"}, "channel": "sms"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let cid = ch["challenge_id"].as_str().expect("cid");
    // The code of this session's challenge does not work for another session.
    let other = s.browser();
    let other_csrf = session(&other).await["csrf_token"]
        .as_str()
        .expect("c")
        .to_string();
    let (st, e) = other
        .post(
            &format!("/api/customer/sign-in/otp/{cid}/verify"),
            Some(&other_csrf),
            json!({"code": s.last_code()}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    let (st, c) = b
        .post(
            &format!("/api/customer/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({"code": s.last_code()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{c}");
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::OK);

    // With the second factor: the password alone does not sign in here either.
    let s = start_with(|c| c.require_second_factor = true).await;
    let b = s.browser();
    let csrf = session(&b).await["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();
    let (st, v) = b
        .post(
            "/api/customer/sign-in/password",
            Some(&csrf),
            json!({"username": ALEX.0, "password": ALEX.1}),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let cid = v["challenge"]["challenge_id"].as_str().expect("cid");
    let (st, _) = b
        .post(
            &format!("/api/customer/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({"code": s.last_code()}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn password_throttles_apply_on_the_sharing_page_too() {
    let s = start().await;
    let b = s.browser();
    let csrf = session(&b).await["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        last = b
            .post(
                "/api/customer/sign-in/password",
                Some(&csrf),
                json!({"username": ALEX.0, "password": "wrong"}),
            )
            .await
            .0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

/// Fires `n` POSTs of `body(i)` to `path` at once from `b`; the tally of
/// (status, error code).
async fn fire(
    b: &std::sync::Arc<Browser>,
    n: usize,
    path: &str,
    csrf: &str,
    body: impl Fn(usize) -> Value,
) -> std::collections::BTreeMap<(u16, String), usize> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (b, path, csrf, barrier, body) = (
            b.clone(),
            path.to_string(),
            csrf.to_string(),
            barrier.clone(),
            body(i),
        );
        tasks.spawn(async move {
            barrier.wait().await;
            b.post(&path, Some(&csrf), body).await
        });
    }
    let mut tally = std::collections::BTreeMap::new();
    while let Some(r) = tasks.join_next().await {
        let (st, v) = r.expect("task");
        let code = v["error"].as_str().unwrap_or("ok").to_string();
        *tally.entry((st.as_u16(), code)).or_default() += 1;
    }
    tally
}

/// No per-request cap here, so the per-username delay and the code lock
/// are the bound: under 100 parallel tries they hold exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_passwords_and_codes_check_exactly_the_limits() {
    let s = start_with(|c| {
        c.rate_per_ip = None;
        c.rate_global = None;
        c.max_concurrent_hashes = 1_000;
    })
    .await;
    let b = std::sync::Arc::new(s.browser());
    let csrf = session(&b).await["csrf_token"]
        .as_str()
        .expect("csrf")
        .to_string();
    let t = fire(
        &b,
        100,
        "/api/customer/sign-in/password",
        &csrf,
        |i| json!({"username": ALEX.0, "password": format!("wrong-{i}")}),
    )
    .await;
    let n = |st: u16, code: &str| t.get(&(st, code.to_string())).copied().unwrap_or(0);
    assert_eq!(n(401, "invalid_credentials"), 5, "{t:?}");
    assert_eq!(n(429, "too_many_attempts"), 95, "{t:?}");

    let (st, ch) = b
        .post(
            "/api/customer/sign-in/otp",
            Some(&csrf),
            json!({"identify": {"account_number": "1234567890", "zip": "94105"}, "channel": "sms"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let cid = ch["challenge_id"].as_str().expect("cid");
    let code = s.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let path = format!("/api/customer/sign-in/otp/{cid}/verify");
    let t = fire(&b, 100, &path, &csrf, |_| json!({"code": wrong})).await;
    let n = |st: u16, code: &str| t.get(&(st, code.to_string())).copied().unwrap_or(0);
    assert_eq!(n(400, "otp_invalid"), 5, "{t:?}");
    assert_eq!(n(429, "otp_throttled"), 95, "{t:?}");
    // Still not signed in.
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
