//! One test per rule of consent-bar.md: each fails if the rule is broken.

mod common;

use common::*;
use datacustodian::admin::{NewClient, create_client};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors";

async fn raw_get(url: &str) -> reqwest::Response {
    http().get(url).send().await.expect("get")
}

// ------------------------------------------------------------ authorize

#[tokio::test]
async fn redirect_uri_must_match_exactly_else_error_page() {
    let s = start().await;
    let registered = s.seed.redirect_uri.clone();
    for bad in [
        format!("{registered}/"),
        format!("{registered}?x=1"),
        registered.to_uppercase(),
        registered.replace("/callback", "/callbacK"),
        "https://evil.example/callback".to_string(),
    ] {
        let r = raw_get(&authorize_url_for(
            &s,
            &s.seed.client_id,
            &bad,
            DEMO_SCOPE,
            Some("s"),
            None,
        ))
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            r.headers().get("location").is_none(),
            "never redirect to an unregistered URI ({bad})"
        );
        assert!(
            r.headers()["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("text/html"))
        );
        let body = r.text().await.expect("body");
        assert!(body.contains("not registered"), "{body}");
    }
    // Missing redirect_uri: error page too.
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&scope=FB%3D4",
        s.base, s.seed.client_id
    );
    let r = raw_get(&url).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    // The exact URI works.
    let r = raw_get(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_never_a_redirect() {
    let s = start().await;
    for id in ["no-such-client", ""] {
        let r = raw_get(&authorize_url_for(
            &s,
            id,
            &s.seed.redirect_uri,
            DEMO_SCOPE,
            Some("s"),
            None,
        ))
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers().get("location").is_none());
        let body = r.text().await.expect("body");
        assert!(body.contains("<title>Error: "), "{body}");
    }
}

#[tokio::test]
async fn missing_or_unreadable_scope_redirects_invalid_scope() {
    let s = start().await;
    for (scope, needle) in [
        (None, "missing"),
        (Some(""), "missing"),
        (Some("FB=4_x"), "cannot be read"),
        (Some("IntervalDuration=900"), "cannot be read"),
        (Some("openid"), "no ESPI scope"),
        (Some("FB=4 FB=5"), "exactly one"),
    ] {
        let mut url = authorize_url(&s, "X", Some("st-1"), None);
        url = match scope {
            None => url.replace("&scope=X", ""),
            Some(sc) => url.replace(
                "scope=X",
                &format!(
                    "scope={}",
                    url::form_urlencoded::byte_serialize(sc.as_bytes()).collect::<String>()
                ),
            ),
        };
        let r = raw_get(&url).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{scope:?}");
        let loc = r.headers()["location"]
            .to_str()
            .expect("location")
            .to_string();
        assert!(loc.starts_with(&s.seed.redirect_uri), "{loc}");
        let q = query_of(&loc);
        assert_eq!(q["error"], "invalid_scope", "{scope:?}");
        assert!(
            q["error_description"].contains(needle),
            "{scope:?}: {}",
            q["error_description"]
        );
        assert_eq!(q["state"], "st-1");
        assert_eq!(q["iss"], s.base);
        assert!(!q.contains_key("code"));
    }
}

#[tokio::test]
async fn scope_wider_than_registration_is_invalid_scope() {
    let s = start().await;
    let mut c = NewClient::third_party("Narrow", vec!["http://127.0.0.1:9/cb".into()]);
    c.require_pkce = false; // this test is about scopes
    c.scopes = vec!["FB=1_4_16_51;HistoryLength=31536000".into()];
    let cs = create_client(&s.state, c).await.expect("client");
    for (scope, ok) in [
        ("FB=1_4_51;HistoryLength=100", true),
        ("FB=1_4_5_51;HistoryLength=100", false),
        ("FB=1_4_51;HistoryLength=63072000", false),
        ("FB=1_4_51", false),
    ] {
        let r = raw_get(&authorize_url_for(
            &s,
            &cs.client_id,
            "http://127.0.0.1:9/cb",
            scope,
            None,
            None,
        ))
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let loc = r.headers()["location"].to_str().expect("loc").to_string();
        if ok {
            assert!(loc.starts_with("/consent/"), "{scope}: {loc}");
        } else {
            assert_eq!(query_of(&loc)["error"], "invalid_scope", "{scope}");
        }
    }
}

#[tokio::test]
async fn response_type_must_be_code() {
    let s = start().await;
    let url = authorize_url(&s, DEMO_SCOPE, Some("a"), None)
        .replace("response_type=code", "response_type=token");
    let r = raw_get(&url).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(r.headers()["location"].to_str().expect("loc"));
    assert_eq!(q["error"], "unsupported_response_type");
    assert_eq!(q["iss"], s.base);
    let url = authorize_url(&s, DEMO_SCOPE, Some("a"), None).replace("response_type=code&", "");
    let q = query_of(
        raw_get(&url).await.headers()["location"]
            .to_str()
            .expect("loc"),
    );
    assert_eq!(q["error"], "invalid_request");
}

// ------------------------------------------------------------------ PKCE

fn pkce() -> (String, String) {
    let verifier = datacustodian::security::secrets::random_token(32);
    let challenge = espi_scope::pkce::challenge_s256(&verifier);
    (verifier, challenge)
}

async fn pkce_code(s: &TestServer, challenge: &str) -> String {
    let b = s.browser();
    consent(
        &b,
        &authorize_url(s, DEMO_SCOPE, None, Some((challenge, "S256"))),
        json!({}),
    )
    .await["code"]
        .clone()
}

async fn redeem_with(s: &TestServer, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", s.seed.redirect_uri.as_str()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    demo_token_form(s, &form).await
}

#[tokio::test]
async fn pkce_plain_is_rejected() {
    let s = start().await;
    let (v, _) = pkce();
    let r = raw_get(&authorize_url(
        &s,
        DEMO_SCOPE,
        Some("p"),
        Some((&v, "plain")),
    ))
    .await;
    let q = query_of(r.headers()["location"].to_str().expect("loc"));
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("plain"));
    assert_eq!(q["iss"], s.base);
    // A challenge without a method would default to plain: rejected too.
    let url = authorize_url(&s, DEMO_SCOPE, Some("p"), Some((&v, "S256")))
        .replace("&code_challenge_method=S256", "");
    let q = query_of(
        raw_get(&url).await.headers()["location"]
            .to_str()
            .expect("loc"),
    );
    assert_eq!(q["error"], "invalid_request");
}

#[tokio::test]
async fn pkce_missing_verifier_fails() {
    let s = start().await;
    let (_, c) = pkce();
    let code = pkce_code(&s, &c).await;
    let (st, v) = redeem_with(&s, &code, None).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("code_verifier is required"))
    );
}

#[tokio::test]
async fn pkce_wrong_verifier_fails() {
    let s = start().await;
    let (verifier, c) = pkce();
    let code = pkce_code(&s, &c).await;
    let (other, _) = pkce();
    let (st, v) = redeem_with(&s, &code, Some(&other)).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    // The failed attempt burnt the code: the right verifier no longer helps.
    let (st, _) = redeem_with(&s, &code, Some(&verifier)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // And the right verifier on a fresh code works.
    let code = pkce_code(&s, &c).await;
    let (st, v) = redeem_with(&s, &code, Some(&verifier)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

#[tokio::test]
async fn pkce_verifier_without_challenge_is_a_downgrade() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (verifier, _) = pkce();
    let (st, v) = redeem_with(&s, &code, Some(&verifier)).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("no code_challenge"))
    );
}

// ----------------------------------------------------------------- codes

#[tokio::test]
async fn code_reuse_fails_and_revokes_its_tokens() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (st, t) = redeem(&s, &code).await;
    assert_eq!(st, StatusCode::OK);
    let access = t["access_token"].as_str().expect("at");
    let refresh = t["refresh_token"].as_str().expect("rt");
    // Rotate once: the new tokens belong to the same code, and must die too.
    let (st, t2) = demo_token_form(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(introspect(&s, access).await["active"], json!(true));

    let (st, v) = redeem(&s, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    for tok in [
        access,
        refresh,
        t2["access_token"].as_str().expect("at"),
        t2["refresh_token"].as_str().expect("rt"),
    ] {
        assert_eq!(
            introspect(&s, tok).await,
            json!({"active": false}),
            "a token from a reused code stays live"
        );
    }
    let (st, _, _) = bearer_get(
        &s,
        t["authorizationURI"].as_str().expect("uri"),
        t2["access_token"].as_str().expect("at"),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_code_fails() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    s.clock().advance(61);
    let (st, v) = redeem(&s, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert!(
        v["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("expired"))
    );
}

#[tokio::test]
async fn code_lifetime_is_configurable_and_capped_at_60s() {
    let s = start_with(|c| c.code_lifetime = 5).await;
    let code = code_without_pkce(&s).await;
    s.clock().advance(6);
    assert_eq!(redeem(&s, &code).await.0, StatusCode::BAD_REQUEST);
    let s = start_with(|c| c.code_lifetime = 600).await;
    let code = code_without_pkce(&s).await;
    s.clock().advance(61);
    assert_eq!(
        redeem(&s, &code).await.0,
        StatusCode::BAD_REQUEST,
        "never more than 60 s"
    );
}

#[tokio::test]
async fn code_is_bound_to_client_and_redirect_uri() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let other = create_client(
        &s.state,
        NewClient::third_party("Other", vec![s.seed.redirect_uri.clone()]),
    )
    .await
    .expect("client");
    let (st, v, _) = token_form(
        &s,
        &other.client_id,
        &other.client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.seed.redirect_uri),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    let (st, v) = demo_token_form(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/callback"),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
}

// --------------------------------------------------------------- tokens

#[tokio::test]
async fn old_refresh_token_reuse_revokes_the_family() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (_, t1) = redeem(&s, &code).await;
    let r1 = t1["refresh_token"].as_str().expect("rt").to_string();
    let (st, t2) = demo_token_form(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let r2 = t2["refresh_token"].as_str().expect("rt").to_string();
    let a2 = t2["access_token"].as_str().expect("at").to_string();
    // The old one again: refused, and everything of the family dies.
    let (st, v) = demo_token_form(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert_eq!(introspect(&s, &a2).await, json!({"active": false}));
    assert_eq!(introspect(&s, &r2).await, json!({"active": false}));
    let (st, _) = demo_token_form(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &r2)],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn access_token_expires_after_an_hour() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (_, t) = redeem(&s, &code).await;
    assert_eq!(t["expires_in"], json!(3600));
    let at = t["access_token"].as_str().expect("at");
    let uri = format!("{}/UsagePoint", t["resourceURI"].as_str().expect("uri"));
    assert_eq!(bearer_get(&s, &uri, at).await.0, StatusCode::OK);
    s.clock().advance(3601);
    let (st, _, h) = bearer_get(&s, &uri, at).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        h["www-authenticate"]
            .to_str()
            .is_ok_and(|w| w.contains("invalid_token"))
    );
    assert_eq!(introspect(&s, at).await, json!({"active": false}));
}

#[tokio::test]
async fn token_endpoint_errors_follow_rfc6749() {
    let s = start().await;
    let (st, v, h) = token_form(
        &s,
        &s.seed.client_id,
        "wrong-secret-wrong-secret",
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"], json!("invalid_client"));
    assert!(
        h["www-authenticate"]
            .to_str()
            .is_ok_and(|w| w.starts_with("Basic"))
    );
    let (st, v, _) = token_form(&s, "nobody", "x", &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_client"))
    );
    let (st, v) = demo_token_form(&s, &[("grant_type", "implicit")]).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("unsupported_grant_type"))
    );
    let (st, v) = demo_token_form(
        &s,
        &[("grant_type", "authorization_code"), ("redirect_uri", "x")],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_request"))
    );
    let (st, v) = demo_token_form(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", "x"),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    assert!(v["error_description"].is_string());
}

// ------------------------------------------------------------------- OTP

async fn otp_start(b: &Browser, rid: &str, csrf: &str) -> (StatusCode, Value) {
    b.post(
        &format!("/api/consent/requests/{rid}/sign-in/otp"),
        Some(csrf),
        json!({"identify": {"account_number": "1234567890", "zip": "94105"}, "channel": "sms"}),
    )
    .await
}

async fn otp_verify(
    b: &Browser,
    rid: &str,
    cid: &str,
    csrf: &str,
    code: &str,
) -> (StatusCode, Value) {
    b.post(
        &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
        Some(csrf),
        json!({"code": code}),
    )
    .await
}

fn wrong(code: &str) -> String {
    let d = (code.as_bytes()[0] - b'0' + 1) % 10;
    format!("{d}{}", &code[1..])
}

async fn challenge(s: &TestServer) -> (Browser, String, String, String, String) {
    let b = s.browser();
    let rid = b.start(&authorize_url(s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, ch) = otp_start(&b, &rid, &csrf).await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let cid = ch["challenge_id"].as_str().expect("cid").to_string();
    let code = s.last_code();
    (b, rid, csrf, cid, code)
}

#[tokio::test]
async fn otp_wrong_code_is_refused() {
    let s = start().await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &wrong(&code)).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("otp_invalid"))
    );
    assert_eq!(v["attempts_left"], json!(9));
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, "abc").await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("otp_invalid"))
    );
    let (st, _) = b.get(&format!("/api/consent/requests/{rid}/meters")).await;
    assert_eq!(
        st,
        StatusCode::UNAUTHORIZED,
        "not signed in after wrong codes"
    );
    let (st, _) = otp_verify(&b, &rid, &cid, &csrf, &code).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn otp_is_single_use() {
    let s = start().await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    assert_eq!(
        otp_verify(&b, &rid, &cid, &csrf, &code).await.0,
        StatusCode::OK
    );
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::GONE, json!("otp_used"))
    );
}

#[tokio::test]
async fn otp_expires_after_ten_minutes() {
    let s = start().await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    s.clock().advance(601);
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::GONE, json!("otp_expired"))
    );
}

#[tokio::test]
async fn otp_from_another_request_fails() {
    let s = start().await;
    let (b, rid_a, csrf, cid_a, code_a) = challenge(&s).await;
    // Same browser, a second request with its own challenge.
    let rid_b = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf_b = b.csrf(&rid_b).await;
    s.clock().advance(31);
    let (st, ch) = otp_start(&b, &rid_b, &csrf_b).await;
    assert_eq!(st, StatusCode::CREATED);
    let cid_b = ch["challenge_id"].as_str().expect("cid").to_string();
    // A's challenge under B's request: unknown.
    let (st, v) = otp_verify(&b, &rid_b, &cid_a, &csrf_b, &code_a).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_challenge"))
    );
    // A's code on B's challenge: wrong.
    let (st, v) = otp_verify(&b, &rid_b, &cid_b, &csrf_b, &code_a).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("otp_invalid"))
    );
    // A's code still works on A.
    assert_eq!(
        otp_verify(&b, &rid_a, &cid_a, &csrf, &code_a).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn otp_brute_force_is_delayed_then_locked() {
    // Long lifetimes so the clock can jump past each delay.
    let s = start_with(|c| {
        c.otp_lifetime = 100_000;
        c.request_lifetime = 100_000;
    })
    .await;
    let (b, rid, csrf, cid, code) = challenge(&s).await;
    let bad = wrong(&code);
    for i in 1..=5 {
        let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &bad).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::BAD_REQUEST, json!("otp_invalid")),
            "try {i}"
        );
        assert_eq!(v["attempts_left"], json!(10 - i));
    }
    // After 5 wrong tries: a delay, even for the right code.
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("otp_throttled"))
    );
    assert!(v["retry_after"].as_i64().is_some_and(|r| r > 0));
    for i in 6..=10 {
        s.clock().advance(1000);
        let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &bad).await;
        if i < 10 {
            assert_eq!(
                (st, v["error"].clone()),
                (StatusCode::BAD_REQUEST, json!("otp_invalid")),
                "try {i}"
            );
        } else {
            assert_eq!(
                (st, v["error"].clone()),
                (StatusCode::TOO_MANY_REQUESTS, json!("otp_locked")),
                "try {i}"
            );
        }
    }
    // Locked: the right code no longer works, even later (but still within
    // its lifetime is irrelevant: the challenge is dead).
    s.clock().advance(1000);
    let (st, v) = otp_verify(&b, &rid, &cid, &csrf, &code).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("otp_locked"))
    );
}

#[tokio::test]
async fn otp_resend_cooldown_and_hourly_limit() {
    let s = start_with(|c| c.request_lifetime = 100_000).await;
    let (b, rid, csrf, cid, old) = challenge(&s).await;
    let resend = format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/resend");
    let (st, v) = b.post(&resend, Some(&csrf), json!({})).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("resend_too_soon"))
    );
    assert!(
        v["retry_after"]
            .as_i64()
            .is_some_and(|r| (1..=30).contains(&r))
    );
    s.clock().advance(30);
    let (st, v) = b.post(&resend, Some(&csrf), json!({})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let new = s.last_code();
    // The old code stops working (unless the CSPRNG repeated itself).
    if new != old {
        let (st, _) = otp_verify(&b, &rid, &cid, &csrf, &old).await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }
    // Codes 3, 4, 5 of the hour go out; the 6th to this contact does not.
    for _ in 0..3 {
        s.clock().advance(31);
        assert_eq!(
            b.post(&resend, Some(&csrf), json!({})).await.0,
            StatusCode::CREATED
        );
    }
    s.clock().advance(31);
    let (st, v) = b.post(&resend, Some(&csrf), json!({})).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("too_many_codes"))
    );
    // A new challenge to the same contact is refused too.
    let (st, v) = otp_start(&b, &rid, &csrf).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts"))
    );
    assert_eq!(s.sender.messages().len(), 5);
    // An hour later it works again; the newest code signs in.
    s.clock().advance(3600);
    assert_eq!(
        b.post(&resend, Some(&csrf), json!({})).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        otp_verify(&b, &rid, &cid, &csrf, &s.last_code()).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn password_sign_in_is_throttled() {
    let s = start_with(|c| c.request_lifetime = 100_000).await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    for _ in 0..5 {
        let (st, v) = b.sign_in(&rid, &csrf, ALEX.0, "not-the-password").await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::UNAUTHORIZED, json!("invalid_credentials"))
        );
    }
    let (st, v) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("too_many_attempts"))
    );
    assert!(v["retry_after"].as_i64().is_some_and(|r| r > 0));
    // Unknown users get the same answer as wrong passwords.
    let (st, v) = b.sign_in(&rid, &csrf, "nobody", "whatever-pass").await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_credentials"))
    );
    // After 10 failures the account is locked for the lock-out period.
    for i in 6..=10 {
        s.clock().advance(500);
        let (st, _) = b.sign_in(&rid, &csrf, ALEX.0, "not-the-password").await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    s.clock().advance(600);
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "locked out"
    );
    s.clock().advance(301);
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await.0,
        StatusCode::OK
    );
}

// -------------------------------------------------------------- decision

async fn signed_in(s: &TestServer, scope: &str) -> (Browser, String, String) {
    let b = s.browser();
    let rid = b.start(&authorize_url(s, scope, Some("d"), None)).await;
    let csrf = b.csrf(&rid).await;
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await.0,
        StatusCode::OK
    );
    (b, rid, csrf)
}

#[tokio::test]
async fn decision_wider_than_request_is_refused() {
    let s = start().await;
    let end = s.state.now() + 86400 * 30;
    let scope = format!(
        "FB=1_4_16_51;HistoryLength=63072000;PreferredAuthEndDate={end};AdditionalScope=meters-SA-1001"
    );
    let (b, rid, csrf) = signed_in(&s, &scope).await;
    for (choices, code) in [
        (
            json!({"function_blocks": [1, 4, 5, 16, 51]}),
            "scope_wider_than_request",
        ),
        (
            json!({"history_length": 94608000}),
            "scope_wider_than_request",
        ),
        (json!({"end_date": end + 1}), "scope_wider_than_request"),
        (json!({"end_date": 0}), "scope_wider_than_request"),
        (
            json!({"meters": ["SA-1001", "SA-1002"]}),
            "scope_wider_than_request",
        ),
        (json!({"meters": ["SA-3001"]}), "scope_wider_than_request"),
        (json!({"meters": []}), "no_meter_chosen"),
    ] {
        let mut body = choices.clone();
        body["decision"] = json!("authorize");
        let (st, v) = b.decide(&rid, Some(&csrf), body).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::BAD_REQUEST, json!(code)),
            "{choices}: {v}"
        );
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // The request stayed pending: a narrower decision goes through.
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize", "function_blocks": [1, 4, 51], "history_length": 86400, "end_date": end - 100}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, t) = redeem(&s, &query_of(v["redirect_to"].as_str().expect("r"))["code"]).await;
    let granted = t["scope"].as_str().expect("scope");
    assert!(
        granted.starts_with("FB=1_3_4_5_13_35_37_51;HistoryLength=86400;AccountCollection=1;"),
        "{granted}"
    );
    assert!(granted.contains(&format!("PreferredAuthEndDate={}", end - 100)));
}

#[tokio::test]
async fn no_edit_refuses_any_change() {
    let s = start().await;
    let scope = "FB=1_4_16_51;HistoryLength=63072000;AdditionalScope=meters-all_noedit";
    let (b, rid, csrf) = signed_in(&s, scope).await;
    for choices in [
        json!({"function_blocks": [1, 4, 51]}),
        json!({"history_length": 100}),
        json!({"end_date": s.state.now() + 1000}),
        json!({"meters": ["SA-1001"]}),
    ] {
        let mut body = choices.clone();
        body["decision"] = json!("authorize");
        let (st, v) = b.decide(&rid, Some(&csrf), body).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::BAD_REQUEST, json!("edit_not_allowed")),
            "{choices}"
        );
    }
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "as requested is fine: {v}");
}

#[tokio::test]
async fn decision_needs_the_csrf_token() {
    let s = start().await;
    let (b, rid, csrf) = signed_in(&s, DEMO_SCOPE).await;
    let (st, v) = b.decide(&rid, None, json!({"decision": "authorize"})).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("csrf_invalid"))
    );
    let (st, v) = b
        .decide(&rid, Some("forged-token"), json!({"decision": "authorize"}))
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("csrf_invalid"))
    );
    // Another session's token does not fit this session.
    let other = s.browser();
    let rid2 = other
        .start(&authorize_url(&s, DEMO_SCOPE, None, None))
        .await;
    let csrf2 = other.csrf(&rid2).await;
    assert_ne!(csrf, csrf2);
    let (st, _) = b
        .decide(&rid, Some(&csrf2), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Sign-in needs it too (login CSRF).
    let (st, v) = other
        .post(
            &format!("/api/consent/requests/{rid2}/sign-in/password"),
            None,
            json!({"username": ALEX.0, "password": ALEX.1}),
        )
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("csrf_invalid"))
    );
    // Still pending: the right token works.
    assert_eq!(
        b.decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_decision_per_request() {
    let s = start().await;
    let (b, rid, csrf) = signed_in(&s, DEMO_SCOPE).await;
    let (st, _) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    for d in ["authorize", "decline"] {
        let (st, v) = b.decide(&rid, Some(&csrf), json!({"decision": d})).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::CONFLICT, json!("request_decided"))
        );
    }
    let (st, v) = b.context(&rid).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::GONE, json!("request_decided"))
    );
}

#[tokio::test]
async fn authorize_needs_a_signed_in_customer() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::UNAUTHORIZED, json!("not_signed_in"))
    );
}

#[tokio::test]
async fn request_is_bound_to_its_consent_session() {
    let s = start().await;
    let (b, rid, csrf) = signed_in(&s, DEMO_SCOPE).await;
    let intruder = s.browser();
    let (st, v) = intruder.context(&rid).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("request_not_yours"))
    );
    assert!(v.get("csrf_token").is_none());
    // Even with the victim's CSRF token, nothing works from another session.
    let (st, v) = intruder
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("request_not_yours"))
    );
    let (st, _) = intruder.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = intruder
        .get(&format!("/api/consent/requests/{rid}/meters"))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // An intruder with its own session (signed in as someone) fails too.
    let rid2 = intruder
        .start(&authorize_url(&s, DEMO_SCOPE, None, None))
        .await;
    let csrf2 = intruder.csrf(&rid2).await;
    let (st, _) = intruder
        .decide(&rid, Some(&csrf2), json!({"decision": "decline"}))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The owner still decides.
    assert_eq!(
        b.decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
            .await
            .0,
        StatusCode::OK
    );
    // Unknown ids: 404.
    let (st, v) = b
        .context("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_request"))
    );
}

#[tokio::test]
async fn sign_in_is_skipped_for_a_signed_in_session() {
    let s = start().await;
    let (b, _, _) = signed_in(&s, DEMO_SCOPE).await;
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let (st, ctx) = b.context(&rid).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ctx["customer"]["display_name"], json!("Alex Rivera"));
    let csrf = ctx["csrf_token"].as_str().expect("csrf");
    assert_eq!(
        b.decide(&rid, Some(csrf), json!({"decision": "authorize"}))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn request_expires() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    s.clock().advance(31 * 60);
    let (st, v) = b.context(&rid).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::GONE, json!("request_expired"))
    );
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "decline"}))
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::GONE, json!("request_expired"))
    );
}

// --------------------------------------------------------------- headers

fn assert_security_headers(h: &reqwest::header::HeaderMap, what: &str) {
    let csp = h["content-security-policy"].to_str().expect("csp");
    assert!(csp.starts_with(CSP), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let s = start().await;
    let b = s.browser();
    // authorize (redirect), authorize (error page), consent API, token, metadata, 404.
    let r = b
        .http
        .get(authorize_url(&s, DEMO_SCOPE, None, None))
        .send()
        .await
        .expect("authorize");
    assert_security_headers(r.headers(), "authorize");
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .is_ok_and(|c| c.ends_with("frame-ancestors 'none'"))
    );
    let rid = r.headers()["location"]
        .to_str()
        .expect("loc")
        .trim_start_matches("/consent/?request=")
        .to_string();
    let r = raw_get(&authorize_url_for(
        &s,
        "nobody",
        "http://x/",
        DEMO_SCOPE,
        None,
        None,
    ))
    .await;
    assert_security_headers(r.headers(), "error page");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = b
        .http
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .send()
        .await
        .expect("ctx");
    assert_security_headers(r.headers(), "consent API");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.starts_with("gbcd_session="));
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http test server");
    let r = http()
        .post(s.url("/oauth/token"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_security_headers(r.headers(), "token");
    assert_eq!(r.headers()["cache-control"], "no-store");
    for path in [
        "/.well-known/oauth-authorization-server",
        "/nope",
        "/",
        "/consent/",
    ] {
        let r = raw_get(&s.url(path)).await;
        assert_security_headers(r.headers(), path);
    }
}

#[tokio::test]
async fn secure_cookie_when_public_url_is_https() {
    let s = start_with(|c| c.public_url = "https://dc.example.com".into()).await;
    // (The demo redirect URI is registered under the https public URL.)
    let r = http()
        .get(authorize_url(&s, DEMO_SCOPE, None, None))
        .send()
        .await
        .expect("authorize");
    let rid = r.headers()["location"]
        .to_str()
        .expect("loc")
        .trim_start_matches("/consent/?request=")
        .to_string();
    let r = http()
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .send()
        .await
        .expect("ctx");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    // The __Host- prefix: the browser refuses it unless Secure, Path=/ and
    // no Domain, so no sibling subdomain can plant or overwrite it.
    assert!(cookie.starts_with("__Host-gbcd_session="), "{cookie}");
    assert!(
        cookie.contains("; Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // HSTS on every response over https.
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let r = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata");
    assert!(r.headers().contains_key("strict-transport-security"));
    // The cookie is read back under its __Host- name.
    let value = cookie.split(';').next().expect("pair").to_string();
    let r = http()
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .header("cookie", value)
        .send()
        .await
        .expect("ctx");
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "the same session reads its request"
    );
}

#[tokio::test]
async fn no_hsts_and_plain_cookie_name_over_http() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let r = http()
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .send()
        .await
        .expect("ctx");
    assert!(!r.headers().contains_key("strict-transport-security"));
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.starts_with("gbcd_session="), "{cookie}");
}

#[tokio::test]
async fn redirect_uris_must_be_https_except_loopback() {
    let s = start().await;
    for ok in [
        "https://tp.example.com/cb",
        "http://127.0.0.1:8000/cb",
        "http://[::1]:8000/cb",
        "http://localhost/cb",
    ] {
        let r = create_client(&s.state, NewClient::third_party("Ok", vec![ok.into()])).await;
        assert!(r.is_ok(), "{ok}: {r:?}");
    }
    for bad in [
        "http://tp.example.com/cb",
        "http://127.0.0.2/cb",
        "http://localhost.example.com/cb",
        "http://10.0.0.1/cb",
    ] {
        let r = create_client(&s.state, NewClient::third_party("Bad", vec![bad.into()])).await;
        let e = r.expect_err(bad);
        assert!(e.0.contains("must be https"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn require_pkce_is_on_for_new_clients_and_the_demo() {
    let s = start().await;
    // The demo client requires PKCE (the harness turned it off; seeding
    // again turns it back on).
    datacustodian::seed_demo(&s.state).await.expect("seed");
    let demo = s
        .state
        .store()
        .client(&s.seed.client_id)
        .await
        .expect("db")
        .expect("demo");
    assert!(demo.require_pkce);
    let r = http()
        .get(authorize_url(&s, DEMO_SCOPE, Some("st"), None))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let q = query_of(r.headers()["location"].to_str().expect("loc"));
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("PKCE"), "{q:?}");
    assert_eq!(q["state"], "st");
    // With a challenge it goes on to the consent page.
    let (_, challenge) = pkce();
    let b = s.browser();
    b.start(&authorize_url(
        &s,
        DEMO_SCOPE,
        None,
        Some((&challenge, "S256")),
    ))
    .await;
    // A new client requires it unless registered otherwise.
    let c = create_client(
        &s.state,
        NewClient::third_party("New", vec!["https://new.example/cb".into()]),
    )
    .await
    .expect("client");
    assert!(
        s.state
            .store()
            .client(&c.client_id)
            .await
            .expect("db")
            .expect("c")
            .require_pkce
    );
    let mut lax = NewClient::third_party("Lax", vec!["https://lax.example/cb".into()]);
    lax.require_pkce = false;
    let lax = create_client(&s.state, lax).await.expect("client");
    let b = s.browser();
    b.start(&authorize_url_for(
        &s,
        &lax.client_id,
        "https://lax.example/cb",
        DEMO_SCOPE,
        None,
        None,
    ))
    .await;
}

#[tokio::test]
async fn consent_page_frame_ancestors_come_from_the_client() {
    let assets = tempfile::tempdir().expect("dir");
    std::fs::write(
        assets.path().join("index.html"),
        "<!doctype html><title>w</title>",
    )
    .expect("write");
    std::fs::write(assets.path().join("app_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    let path = assets.path().to_path_buf();
    let s = start_with(move |c| c.assets_dir = Some(path)).await;
    let mut c = NewClient::third_party("Portal", vec!["http://127.0.0.1:9/cb".into()]);
    c.require_pkce = false; // this test is about framing
    c.frame_ancestors = vec![
        "https://portal.example.com".into(),
        "https://other.example.org".into(),
    ];
    let cs = create_client(&s.state, c).await.expect("client");
    let r = raw_get(&authorize_url_for(
        &s,
        &cs.client_id,
        "http://127.0.0.1:9/cb",
        DEMO_SCOPE,
        None,
        None,
    ))
    .await;
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let r = raw_get(&s.url(&loc)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/html"))
    );
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.ends_with("frame-ancestors https://portal.example.com https://other.example.org"),
        "{csp}"
    );
    assert!(r.headers().get("x-frame-options").is_none());
    // Without a request (or for a client without an allowlist): 'none'.
    let r = raw_get(&s.url("/consent/")).await;
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .is_ok_and(|c| c.ends_with("frame-ancestors 'none'"))
    );
    let r = raw_get(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let loc = r.headers()["location"].to_str().expect("loc").to_string();
    let r = raw_get(&s.url(&loc)).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp");
    assert!(
        csp.ends_with(&format!("frame-ancestors {}", s.base)),
        "the demo allows its own origin: {csp}"
    );
    // Static assets get the right MIME type.
    let r = raw_get(&s.url("/consent/app_bg.wasm")).await;
    assert_eq!(r.headers()["content-type"], "application/wasm");
}

#[tokio::test]
async fn cors_only_on_token_metadata_revoke_introspect() {
    let s = start().await;
    let origin = "https://thirdparty.example";
    let preflight = |path: &str| {
        http()
            .request(reqwest::Method::OPTIONS, s.url(path))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization")
            .send()
    };
    for path in [
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/.well-known/oauth-authorization-server",
    ] {
        let r = preflight(path).await.expect("preflight");
        assert!(
            r.headers().contains_key("access-control-allow-origin"),
            "{path} should allow CORS"
        );
    }
    let rid = s
        .browser()
        .start(&authorize_url(&s, DEMO_SCOPE, None, None))
        .await;
    for path in [
        "/oauth/authorize".to_string(),
        format!("/api/consent/requests/{rid}"),
        format!("/api/consent/requests/{rid}/decision"),
        "/api/customer/authorizations".to_string(),
    ] {
        let r = preflight(&path).await.expect("preflight");
        assert!(
            !r.headers().contains_key("access-control-allow-origin"),
            "{path} must not allow CORS"
        );
    }
    let r = http()
        .get(authorize_url(&s, DEMO_SCOPE, None, None))
        .header("Origin", origin)
        .send()
        .await
        .expect("get");
    assert!(!r.headers().contains_key("access-control-allow-origin"));
    let r = http()
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .header("Origin", origin)
        .send()
        .await
        .expect("get");
    assert!(!r.headers().contains_key("access-control-allow-origin"));
}

// ---------------------------------------------------------- at rest

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_are_stored_only_as_keyed_hashes() {
    let s = start().await;
    // A browser without a cookie jar, so the session cookie is visible.
    let c = http();
    let (verifier, challenge) = {
        let v = datacustodian::security::secrets::random_token(32);
        let ch = espi_scope::pkce::challenge_s256(&v);
        (v, ch)
    };
    let r = c
        .get(authorize_url(
            &s,
            DEMO_SCOPE,
            Some("st"),
            Some((&challenge, "S256")),
        ))
        .send()
        .await
        .expect("authorize");
    let rid = r.headers()["location"]
        .to_str()
        .expect("loc")
        .trim_start_matches("/consent/?request=")
        .to_string();
    let r = c
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .send()
        .await
        .expect("ctx");
    let cookie1 = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("kv")
        .to_string();
    let ctx: Value = r.json().await.expect("json");
    let csrf = ctx["csrf_token"].as_str().expect("csrf").to_string();
    let r = c
        .post(s.url(&format!("/api/consent/requests/{rid}/sign-in/otp")))
        .header("cookie", &cookie1)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"identify": {"phone": "+15555550100"}, "channel": "sms"}))
        .send()
        .await
        .expect("otp");
    let ch: Value = r.json().await.expect("json");
    let otp = s.last_code();
    let r = c
        .post(s.url(&format!(
            "/api/consent/requests/{rid}/sign-in/otp/{}/verify",
            ch["challenge_id"].as_str().expect("cid")
        )))
        .header("cookie", &cookie1)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": otp}))
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), StatusCode::OK);
    let cookie2 = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("kv")
        .to_string();
    assert_ne!(cookie1, cookie2, "the session id rotates at sign-in");
    let r = c
        .post(s.url(&format!("/api/consent/requests/{rid}/decision")))
        .header("cookie", &cookie2)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"decision": "authorize"}))
        .send()
        .await
        .expect("decide");
    let v: Value = r.json().await.expect("json");
    let code = query_of(v["redirect_to"].as_str().expect("r"))["code"].clone();
    let (st, t) = demo_token_form(
        &s,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.seed.redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, cc) = demo_token_form(&s, &[("grant_type", "client_credentials")]).await;

    let secrets = [
        ("request id", rid.clone()),
        (
            "session cookie",
            cookie1.trim_start_matches("gbcd_session=").to_string(),
        ),
        (
            "rotated session cookie",
            cookie2.trim_start_matches("gbcd_session=").to_string(),
        ),
        ("CSRF token", csrf.clone()),
        ("authorization code", code.clone()),
        (
            "access token",
            t["access_token"].as_str().expect("at").to_string(),
        ),
        (
            "refresh token",
            t["refresh_token"].as_str().expect("rt").to_string(),
        ),
        (
            "client access token",
            cc["access_token"].as_str().expect("cat").to_string(),
        ),
        ("client secret", s.seed.client_secret.clone()),
        ("password", ALEX.1.to_string()),
    ];
    // Every file of the database (main, WAL, shared memory); on
    // PostgreSQL, every row of every table as text.
    let mut bytes = Vec::new();
    if common::on_postgres() {
        let pool = s.db().await;
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&pool)
                .await
                .expect("tables");
        for t in tables {
            let rows: Vec<String> =
                sqlx::query_scalar(&format!("SELECT CAST(t AS TEXT) FROM {t} t"))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
            for r in rows {
                bytes.extend(r.into_bytes());
            }
        }
        pool.close().await;
        assert!(bytes.len() > 1_000, "the rows were read");
    } else {
        for entry in std::fs::read_dir(s.dir.path()).expect("dir") {
            let p = entry.expect("entry").path();
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("dc.sqlite"))
            {
                bytes.extend(std::fs::read(&p).expect("read"));
            }
        }
        assert!(bytes.len() > 10_000, "the database files were read");
    }
    for (what, value) in &secrets {
        assert!(
            !contains(&bytes, value),
            "the {what} is stored in plaintext"
        );
    }
    // The OTP: six digits could appear by chance in binary data, so look in
    // the otp table's text columns instead.
    let pool = s.db().await;
    let rows: Vec<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT code_hash, contact_hash FROM otp_challenges")
            .fetch_all(&pool)
            .await
            .expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.len(), 32, "an HMAC-SHA256, not the code");
    assert!(!contains(&rows[0].0, &otp));
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM customers WHERE username = 'alex'")
            .fetch_one(&pool)
            .await
            .expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let token_hashes: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token_hash FROM tokens")
        .fetch_all(&pool)
        .await
        .expect("tokens");
    assert!(token_hashes.iter().all(|h| h.len() == 32));
    pool.close().await;
}

/// The demo client's secret is published for the playground only in sandbox
/// mode (`serve --demo`); a production server answers 404.
#[tokio::test]
async fn sandbox_credentials_only_in_demo_sandbox_mode() {
    let production = start().await;
    let resp = raw_get(&format!("{}/playground/sandbox.json", production.base)).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let sandbox = start_with(|c| c.demo_sandbox = true).await;
    let resp = raw_get(&format!("{}/playground/sandbox.json", sandbox.base)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["client_id"], sandbox.seed.client_id);
    assert_eq!(body["client_secret"], sandbox.seed.client_secret);
    assert_eq!(
        body["redirect_uri"],
        format!("{}/playground/callback", sandbox.base)
    );
    assert_eq!(
        body["token_endpoint"],
        format!("{}/oauth/token", sandbox.base)
    );
    assert_eq!(body["issuer"], sandbox.base);
}

// ------------------------------------------ kinds of data, defaults, final scope

#[tokio::test]
async fn any_kind_of_data_may_be_dropped_but_not_all_and_not_structure() {
    let s = start().await;
    let scope = "FB=1_4_16_51;HistoryLength=63072000;AdditionalScope=meters-SA-1001";
    let (b, rid, csrf) = signed_in(&s, scope).await;
    for (fbs, code) in [
        (json!([1]), "no_data_chosen"),
        (json!([4, 16, 51]), "invalid_request"),
    ] {
        let (st, v) = b
            .decide(
                &rid,
                Some(&csrf),
                json!({"decision": "authorize", "function_blocks": fbs}),
            )
            .await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::BAD_REQUEST, json!(code)),
            "{fbs}: {v}"
        );
        assert!(
            v["message"].as_str().is_some_and(|m| m.ends_with('.')),
            "{v}"
        );
    }
    // Bills and account details dropped: the token's scope has neither.
    let (st, v) = b
        .decide(
            &rid,
            Some(&csrf),
            json!({"decision": "authorize", "function_blocks": [1, 4]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, t) = redeem(&s, &query_of(v["redirect_to"].as_str().expect("r"))["code"]).await;
    let granted = t["scope"].as_str().expect("scope");
    // 3, 13, 35, 37: what this server supports; 5: the meter is electric.
    assert!(
        granted.starts_with("FB=1_3_4_5_13_35_37;HistoryLength=63072000;AccountCollection=1;"),
        "{granted}"
    );
    // No account details: the token names no customer resource (what the
    // ESPI resources serve for each kind is `tests/espi_data.rs`).
    assert!(t.get("customerResourceURI").is_none(), "{t}");
}

#[tokio::test]
async fn silent_requests_get_the_configured_defaults() {
    // The seed's defaults: 2 years of history, 3 years of access.
    let s = start().await;
    let q = consent(
        &s.browser(),
        &authorize_url(&s, "FB=1_4;AdditionalScope=meters-SA-1001", None, None),
        json!({}),
    )
    .await;
    let (_, t) = redeem(&s, &q["code"]).await;
    let granted = t["scope"].as_str().expect("scope");
    let three_years = s.state.now() + 3 * 365 * 86_400;
    assert!(granted.contains("HistoryLength=63072000;"), "{granted}");
    assert!(
        granted.contains(&format!("PreferredAuthEndDate={three_years};")),
        "{granted}"
    );

    // A utility's own defaults, shown in the context and granted.
    let s = start_with(|c| {
        c.default_history_seconds = 31_536_000;
        c.default_authorization_seconds = 100 * 86_400;
    })
    .await;
    let (b, rid, csrf) = signed_in(&s, "FB=1_4;AdditionalScope=meters-SA-1001").await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["default_history_length"], json!(31_536_000));
    let hundred_days = s.state.now() + 100 * 86_400;
    assert_eq!(ctx["default_end_date"], json!(hundred_days));
    // Longer than the default is wider than the request.
    let (st, v) = b
        .decide(
            &rid,
            Some(&csrf),
            json!({"decision": "authorize", "history_length": 63_072_000}),
        )
        .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("scope_wider_than_request"))
    );
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, t) = redeem(&s, &query_of(v["redirect_to"].as_str().expect("r"))["code"]).await;
    let granted = t["scope"].as_str().expect("scope");
    assert!(granted.contains("HistoryLength=31536000;"), "{granted}");
    assert!(
        granted.contains(&format!("PreferredAuthEndDate={hundred_days};")),
        "{granted}"
    );
}

#[tokio::test]
async fn without_a_sou_item_the_default_scope_of_use_is_shown() {
    let s = start().await;
    let b = s.browser();
    let rid = b
        .start(&authorize_url(
            &s,
            "FB=1_4;AdditionalScope=meters-all",
            None,
            None,
        ))
        .await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["scope_of_use"]["name"], json!("default"), "{ctx}");
    assert!(
        ctx["scope_of_use"]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    // A named one wins.
    let rid = b
        .start(&authorize_url(
            &s,
            "FB=1_4;AdditionalScope=meters-all_sou-energy-audit",
            None,
            None,
        ))
        .await;
    assert_eq!(
        b.context(&rid).await.1["scope_of_use"]["name"],
        json!("energy-audit")
    );
    // A client with none: nothing disclosed.
    let mut c = NewClient::third_party("Quiet", vec!["http://127.0.0.1:9/cb".into()]);
    c.require_pkce = false;
    let cs = create_client(&s.state, c).await.expect("client");
    let rid = b
        .start(&authorize_url_for(
            &s,
            &cs.client_id,
            "http://127.0.0.1:9/cb",
            "FB=1_4",
            None,
            None,
        ))
        .await;
    assert_eq!(b.context(&rid).await.1["scope_of_use"], Value::Null);
}
