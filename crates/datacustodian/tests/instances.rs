//! Many instances: two servers on one database (each its own store and
//! connections, its own rate limiters, the same key and public URL, as
//! behind a load balancer). On PostgreSQL (`scripts/with-postgres.sh`) this
//! is the production shape; on SQLite the same races hold on one file.
//!
//! A code redeemed at both at once is issued once; a refresh token used at
//! both at once rotates once and the loser revokes the family; a customer
//! who signed in through one instance continues through the other.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// POSTs `form` to `/oauth/token` of every base in `bases`, `per` times
/// each, all released together; the answers.
async fn token_race(
    s: &TestServer,
    bases: &[String],
    per: usize,
    form: &[(&str, &str)],
) -> Vec<(StatusCode, Value)> {
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(bases.len() * per));
    let mut tasks = tokio::task::JoinSet::new();
    for base in bases {
        for _ in 0..per {
            let url = format!("{base}/oauth/token");
            let (id, secret) = (s.seed.client_id.clone(), s.seed.client_secret.clone());
            let (form, barrier) = (form.clone(), barrier.clone());
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
                (st, r.json().await.unwrap_or(Value::Null))
            });
        }
    }
    let mut out = Vec::new();
    while let Some(r) = tasks.join_next().await {
        out.push(r.expect("task"));
    }
    out
}

/// Introspection of `token` at `base`.
async fn active_at(s: &TestServer, base: &str, token: &str) -> bool {
    let r = http()
        .post(format!("{base}/oauth/introspect"))
        .basic_auth(&s.seed.client_id, Some(&s.seed.client_secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    v["active"] == json!(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_code_redeemed_at_two_instances_at_once_is_issued_once() {
    let a = start().await;
    let b = a.another_instance().await;
    let code = code_without_pkce(&a).await;
    let bases = [a.base.clone(), b.base.clone()];
    let answers = token_race(
        &a,
        &bases,
        8,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &a.seed.redirect_uri),
        ],
    )
    .await;
    let issued: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(issued.len(), 1, "exactly one redemption: {answers:?}");
    for (st, v) in &answers {
        if *st != StatusCode::OK {
            assert_eq!(
                (*st, v["error"].clone()),
                (StatusCode::BAD_REQUEST, json!("invalid_grant"))
            );
        }
    }
    // One token family, two tokens, in the shared database.
    let pool = a.db().await;
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
    // The code was presented again: what it issued is revoked, as either
    // instance sees.
    let access = issued[0]["access_token"].as_str().expect("access token");
    assert!(!active_at(&a, &a.base, access).await);
    assert!(!active_at(&a, &b.base, access).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refresh_token_used_at_two_instances_at_once_rotates_once_and_the_loser_revokes_the_family()
 {
    let a = start().await;
    let b = a.another_instance().await;
    let code = code_without_pkce(&a).await;
    let (st, t) = redeem(&a, &code).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let refresh = t["refresh_token"].as_str().expect("refresh").to_string();
    let access = t["access_token"].as_str().expect("access").to_string();
    let bases = [a.base.clone(), b.base.clone()];
    let answers = token_race(
        &a,
        &bases,
        1,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    let rotated: Vec<&Value> = answers
        .iter()
        .filter(|(st, _)| *st == StatusCode::OK)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(rotated.len(), 1, "exactly one rotation: {answers:?}");
    let loser = answers
        .iter()
        .find(|(st, _)| *st != StatusCode::OK)
        .expect("a loser");
    assert_eq!(
        (loser.0, loser.1["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    // The loser presented a rotated token: the whole family is revoked,
    // the winner's new tokens with it, at both instances.
    let new_refresh = rotated[0]["refresh_token"].as_str().expect("new refresh");
    let new_access = rotated[0]["access_token"].as_str().expect("new access");
    for base in &bases {
        for tok in [access.as_str(), refresh.as_str(), new_refresh, new_access] {
            assert!(!active_at(&a, base, tok).await, "{tok} live at {base}");
        }
    }
    let (st, v) = demo_token_form(
        &a,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signed_in_at_one_instance_continues_at_the_other() {
    let a = start().await;
    let b = a.another_instance().await;
    // One browser: the cookie is the host's (127.0.0.1), whichever
    // instance the load balancer picks.
    let at_a = a.browser();
    let rid = at_a
        .start(&authorize_url(&a, DEMO_SCOPE, Some("st"), None))
        .await;
    let csrf = at_a.csrf(&rid).await;
    let (st, v) = at_a.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(st, StatusCode::OK, "sign in at A: {v}");
    let at_b = Browser {
        http: at_a.http.clone(),
        base: b.base.clone(),
    };
    // B knows the session (signed in), the request and its CSRF token.
    let (st, ctx) = at_b.context(&rid).await;
    assert_eq!(st, StatusCode::OK, "context at B: {ctx}");
    assert_eq!(ctx["csrf_token"], json!(csrf));
    let (st, res) = at_b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "decision at B: {res}");
    let q = query_of(res["redirect_to"].as_str().expect("redirect_to"));
    assert_eq!(q["state"], "st");
    // The code B issued redeems at A; the token works at both.
    let (st, t) = redeem(&a, &q["code"]).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    let access = t["access_token"].as_str().expect("access");
    assert!(active_at(&a, &a.base, access).await);
    assert!(active_at(&a, &b.base, access).await);
    // A second decision at A loses: the request was decided at B.
    let (st, v) = at_a
        .decide(&rid, Some(&csrf), json!({"decision": "decline"}))
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
}
