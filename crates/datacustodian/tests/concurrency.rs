//! Races: many parallel redemptions of one code, many parallel decisions of
//! one request. Exactly one wins each time.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_redemptions_of_one_code_exactly_one_succeeds() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let mut tasks = tokio::task::JoinSet::new();
    let form = [
        ("grant_type".to_string(), "authorization_code".to_string()),
        ("code".to_string(), code.clone()),
        ("redirect_uri".to_string(), s.seed.redirect_uri.clone()),
    ];
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(32));
    for _ in 0..32 {
        let url = s.url("/oauth/token");
        let (id, secret) = (s.seed.client_id.clone(), s.seed.client_secret.clone());
        let form = form.clone();
        let barrier = barrier.clone();
        tasks.spawn(async move {
            let c = http();
            barrier.wait().await;
            let r = c
                .post(url)
                .basic_auth(id, Some(secret))
                .form(&form)
                .send()
                .await
                .expect("post");
            let st = r.status();
            let v: serde_json::Value = r.json().await.expect("json");
            (st, v)
        });
    }
    let mut ok = 0;
    let mut refused = 0;
    while let Some(r) = tasks.join_next().await {
        let (st, v) = r.expect("task");
        match st {
            StatusCode::OK => ok += 1,
            StatusCode::BAD_REQUEST => {
                assert_eq!(v["error"], json!("invalid_grant"));
                refused += 1;
            }
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(ok, 1, "exactly one redemption succeeds");
    assert_eq!(refused, 31);
    // Nothing was issued twice: one token family, two tokens.
    let pool = s.db().await;
    let families: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM token_families")
        .fetch_one(&pool)
        .await
        .expect("count");
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tokens WHERE family_id IS NOT NULL")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!((families, tokens), (1, 2));
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_decisions_exactly_one_wins() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await.0,
        StatusCode::OK
    );
    let b = std::sync::Arc::new(b);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (b, rid, csrf) = (b.clone(), rid.clone(), csrf.clone());
        tasks.spawn(async move {
            let d = if i % 2 == 0 { "authorize" } else { "decline" };
            b.decide(&rid, Some(&csrf), json!({"decision": d})).await
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        let (st, v) = r.expect("task");
        match st {
            StatusCode::OK => ok += 1,
            StatusCode::CONFLICT => assert_eq!(v["error"], json!("request_decided")),
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(ok, 1);
    let pool = s.db().await;
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auth_codes")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert!(codes <= 1, "at most one code for one request");
    pool.close().await;
}
