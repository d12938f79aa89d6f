//! `serve --require-second-factor`: a right password answers `202
//! code_required` and sends a code to the phone on file (else the email);
//! the session is signed in only by the code, under the same limits and
//! lock as any code. Without the flag, a password signs in at once.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn password(s: &TestServer) -> (Browser, String, String, StatusCode, Value) {
    let b = s.browser();
    let rid = b.start(&authorize_url(s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, v) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    (b, rid, csrf, st, v)
}

#[tokio::test]
async fn a_password_alone_never_reaches_the_decision() {
    let s = start_with(|c| c.require_second_factor = true).await;
    let (b, rid, csrf, st, v) = password(&s).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["outcome"], json!("code_required"));
    assert_eq!(v["challenge"]["channel"], json!("sms"));
    // Alex has a phone: the code went there, masked in the answer.
    assert_eq!(v["challenge"]["sent_to"], json!("(•••) •••-0100"));
    let msg = s
        .sender
        .messages()
        .last()
        .cloned()
        .expect("a code was sent");
    assert_eq!(msg.to, "+15555550100");

    // Not signed in: the context has no customer, the decision is refused,
    // and so is the customer's own list.
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["customer"], Value::Null, "{ctx}");
    let (st, d) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{d}");
    assert_eq!(d["error"], json!("not_signed_in"));
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // A wrong password still says so.
    let (st, w) = b.sign_in(&rid, &csrf, ALEX.0, "nope").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{w}");

    // The code signs in; then the decision goes through.
    let cid = v["challenge"]["challenge_id"].as_str().expect("cid");
    let verify = |code: String| {
        let b = &b;
        let rid = rid.clone();
        let csrf = csrf.clone();
        async move {
            b.post(
                &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
                Some(&csrf),
                json!({ "code": code }),
            )
            .await
        }
    };
    let wrong = if msg.code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (st, e) = verify(wrong.into()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"], json!("otp_invalid"));
    let (st, c) = verify(msg.code.clone()).await;
    assert_eq!(st, StatusCode::OK, "{c}");
    assert_eq!(c["display_name"], json!("Alex Rivera"));
    let (st, d) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{d}");

    // Nor can the password grant of a client registered for it get
    // around it.
    let mut c = datacustodian::NewClient::third_party("Password client".to_string(), vec![]);
    c.grant_types = vec!["password".to_string()];
    let cs = datacustodian::create_client(&s.state, c)
        .await
        .expect("client");
    let (st, t, _) = token_form(
        &s,
        &cs.client_id,
        &cs.client_secret,
        &[
            ("grant_type", "password"),
            ("username", ALEX.0),
            ("password", ALEX.1),
            ("scope", "FB=1_4_51"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{t}");
    assert_eq!(t["error"], json!("unsupported_grant_type"));
}

#[tokio::test]
async fn the_second_factor_locks_like_any_code() {
    let s = start_with(|c| {
        c.require_second_factor = true;
        // Short delays, so the lock comes before the code expires.
        c.delay_seconds = 1;
    })
    .await;
    let (b, rid, csrf, st, v) = password(&s).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let cid = v["challenge"]["challenge_id"].as_str().expect("cid");
    let code = s.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let mut last = (StatusCode::OK, Value::Null);
    for _ in 0..20 {
        last = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
                Some(&csrf),
                json!({ "code": wrong }),
            )
            .await;
        if last.1["error"] == json!("otp_throttled") {
            // Wait out the delay on the server's clock.
            s.clock()
                .advance(last.1["retry_after"].as_i64().expect("retry_after"));
        }
        if last.1["error"] == json!("otp_locked") {
            break;
        }
    }
    assert_eq!(last.1["error"], json!("otp_locked"), "{:?}", last);
    // The right code no longer helps.
    let (st, e) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({ "code": code }),
        )
        .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{e}");
    let (st, _) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_a_phone_the_code_goes_to_the_email_and_without_the_flag_nothing_changes() {
    let s = start_with(|c| c.require_second_factor = true).await;
    sqlx::query("UPDATE customers SET phone = NULL WHERE username = $1")
        .bind(ALEX.0)
        .execute(&s.db().await)
        .await
        .expect("update");
    let (_, _, _, st, v) = password(&s).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["challenge"]["channel"], json!("email"));
    assert_eq!(v["challenge"]["sent_to"], json!("a•••@example.com"));
    assert_eq!(
        s.sender.messages().last().expect("sent").to,
        "alex@example.com"
    );

    let s = start().await;
    let (_, _, _, st, v) = password(&s).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["display_name"], json!("Alex Rivera"));
    assert!(s.sender.messages().is_empty());
}
