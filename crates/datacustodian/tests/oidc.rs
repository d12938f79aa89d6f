//! The utility's own sign-in through a real, certified OpenID Connect
//! provider: npm `oidc-provider` (`crates/consent-e2e/oidc/provider.mjs`)
//! on a free loopback port, its login form filled in by a real HTTP client
//! with a cookie store (no browser): PKCE, `state` and `nonce`, the ID token
//! checked, the claim matched to a customer, the session signed in; and the
//! refusals (a replayed or unknown `state`, another browser, a changed
//! `nonce`, a cancel, an account that matches nobody).

mod common;

// The provider launcher the browser tests use too (std and serde_json only).
#[path = "../../consent-e2e/src/oidc_provider.rs"]
mod oidc_provider;

use common::*;
use datacustodian::oidc::{AccountField, ProviderConfig};
use oidc_provider::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A server with the provider `utility` configured (claim
/// `account_number` against the account number).
async fn server() -> (TestServer, OidcProvider) {
    let mut provider = None;
    let s = start_with(|c| {
        let p = OidcProvider::start(&c.public_url);
        let mut cfg = ProviderConfig::new("utility", &p.issuer, CLIENT_ID, CLIENT_SECRET);
        cfg.name = "Example Utility".into();
        cfg.scopes = vec!["account".into()];
        cfg.claim = "account_number".into();
        cfg.matches = AccountField::AccountNumber;
        c.oidc_providers = vec![cfg];
        provider = Some(p);
    })
    .await;
    (s, provider.expect("provider"))
}

/// `url` resolved against `base`.
fn join(base: &str, url: &str) -> String {
    reqwest::Url::parse(base)
        .and_then(|b| b.join(url))
        .expect("url")
        .to_string()
}

/// Follows redirects from `url` until the provider shows a page (200) or
/// sends the browser back to the DataCustodian's callback; the last URL
/// and the page.
async fn follow(b: &Browser, mut url: String) -> (String, String) {
    for _ in 0..10 {
        if url.starts_with(&b.base) {
            return (url, String::new());
        }
        let r = b.http.get(&url).send().await.expect("get");
        if r.status().is_redirection() {
            let loc = r.headers()["location"].to_str().expect("location");
            url = join(&url, loc);
            continue;
        }
        assert_eq!(r.status(), StatusCode::OK, "{url}");
        return (url, r.text().await.expect("page"));
    }
    panic!("too many redirects from {url}");
}

/// The value of the first `attr="…"` in `html` after `after`.
fn attr(html: &str, after: &str, attr: &str) -> String {
    let from = html
        .find(after)
        .unwrap_or_else(|| panic!("{after} in {html}"));
    let rest = &html[from..];
    let start = rest.find(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    let end = rest[start..].find('"').expect("end quote");
    rest[start..start + end].replace("&amp;", "&")
}

/// Starts the sign-in for a new request; the request id, the CSRF token
/// and the provider's login page (its URL and HTML).
async fn to_login(s: &TestServer, b: &Browser) -> (String, String, String, String) {
    let rid = b.start(&s.seed.authorization_url).await;
    let csrf = b.csrf(&rid).await;
    let (st, body) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/sso/utility"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let to = body["redirect_to"]
        .as_str()
        .expect("redirect_to")
        .to_string();
    let q = query_of(&to);
    assert_eq!(q["code_challenge_method"], "S256", "{to}");
    assert!(q["state"].len() >= 32 && q["nonce"].len() >= 32, "{to}");
    assert_eq!(q["client_id"], CLIENT_ID);
    let (url, page) = follow(b, to).await;
    assert!(
        page.contains("name=\"login\""),
        "the provider's login form: {page}"
    );
    (rid, csrf, url, page)
}

/// Fills in the provider's login form as `login`; the callback URL the
/// provider sends the browser to.
async fn log_in(b: &Browser, page_url: &str, page: &str, login: &str) -> String {
    let action = join(page_url, &attr(page, "<form", "action"));
    let r = b
        .http
        .post(&action)
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .expect("login");
    assert!(r.status().is_redirection(), "{}", r.status());
    let loc = join(&action, r.headers()["location"].to_str().expect("location"));
    let (callback, _) = follow(b, loc).await;
    assert!(
        callback.starts_with(&format!("{}/consent/sso/callback?", b.base)),
        "{callback}"
    );
    callback
}

/// The callback page and the finish it moves on to; the finish's answer.
async fn finish(b: &Browser, callback: &str) -> reqwest::Response {
    let r = b.http.get(callback).send().await.expect("callback");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.expect("page");
    let next = attr(&page, "http-equiv=\"refresh\"", "content");
    let path = next.strip_prefix("0;url=").expect("refresh target");
    assert!(path.starts_with("/consent/sso/finish?"), "{path}");
    b.http
        .get(format!("{}{path}", b.base))
        .send()
        .await
        .expect("finish")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string()
}

async fn signed_in_as(b: &Browser, rid: &str) -> Option<String> {
    let (st, ctx) = b.context(rid).await;
    assert_eq!(st, StatusCode::OK, "{ctx}");
    ctx["customer"]["display_name"].as_str().map(str::to_string)
}

#[tokio::test]
async fn a_customer_signs_in_through_the_utility_provider_and_authorizes() {
    let (s, _p) = server().await;
    let b = s.browser();
    let (rid, csrf, url, page) = to_login(&s, &b).await;
    // The context offers the provider by name.
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(
        ctx["sign_in"]["providers"],
        json!([{"id": "utility", "name": "Example Utility"}])
    );
    let callback = log_in(&b, &url, &page, "alice").await;
    let r = finish(&b, &callback).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("/consent/?request={rid}"));
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .contains("HttpOnly"),
        "the session cookie is rotated"
    );
    assert_eq!(signed_in_as(&b, &rid).await.as_deref(), Some("Alex Rivera"));
    // The CSRF token stays; the decision goes through and the third party
    // gets its code.
    let (st, body) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(
        body["redirect_to"]
            .as_str()
            .expect("redirect_to")
            .contains("code="),
        "{body}"
    );
    let m = s.state.metrics().render();
    assert!(
        m.contains("datacustodian_sign_ins_total{method=\"sso\",outcome=\"success\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn a_state_is_single_use_bound_to_its_browser_and_must_exist() {
    let (s, _p) = server().await;
    let b = s.browser();
    let (rid, _, url, page) = to_login(&s, &b).await;
    let callback = log_in(&b, &url, &page, "alice").await;
    let finish_url = callback.replace("/consent/sso/callback?", "/consent/sso/finish?");

    // Another browser (no session, or another one) with the right state:
    // refused, and the state is spent.
    let other = s.browser();
    let r = other.http.get(&finish_url).send().await.expect("finish");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .expect("page")
            .contains("This sign-in cannot be completed")
    );
    let r = b.http.get(&finish_url).send().await.expect("finish");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "replayed state");
    assert_eq!(signed_in_as(&b, &rid).await, None);

    // A state that was never issued, and none at all (a new browser: the
    // provider remembers the last one's login).
    let b = s.browser();
    let (_, _, url, page) = to_login(&s, &b).await;
    let callback = log_in(&b, &url, &page, "alice").await;
    let q = query_of(&callback);
    let forged = format!(
        "{}/consent/sso/finish?code={}&state=not-the-state",
        s.base, q["code"]
    );
    let r = b.http.get(&forged).send().await.expect("finish");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "unknown state");
    let r = b
        .http
        .get(format!("{}/consent/sso/finish?code={}", s.base, q["code"]))
        .send()
        .await
        .expect("finish");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no state");

    // The right state once: signed in; a replay of the same answer after it
    // is refused.
    let r = finish(&b, &callback).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = finish(&b, &callback).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "replayed after success"
    );
}

#[tokio::test]
async fn an_id_token_with_another_nonce_is_refused() {
    let (s, _p) = server().await;
    let b = s.browser();
    let (rid, _, url, page) = to_login(&s, &b).await;
    let callback = log_in(&b, &url, &page, "alice").await;
    // The stored nonce no longer matches the one in the provider's ID token.
    let db = s.db().await;
    sqlx::query("UPDATE oidc_logins SET nonce = $1")
        .bind("another-nonce-entirely-0000000000000")
        .execute(&db)
        .await
        .expect("update");
    let r = finish(&b, &callback).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&r),
        format!("/consent/?request={rid}&sso_error=failed")
    );
    assert_eq!(signed_in_as(&b, &rid).await, None);
}

#[tokio::test]
async fn a_changed_pkce_verifier_fails_the_code_exchange() {
    let (s, _p) = server().await;
    let b = s.browser();
    let (rid, _, url, page) = to_login(&s, &b).await;
    let callback = log_in(&b, &url, &page, "alice").await;
    let db = s.db().await;
    sqlx::query("UPDATE oidc_logins SET pkce_verifier = $1")
        .bind("x".repeat(43))
        .execute(&db)
        .await
        .expect("update");
    let r = finish(&b, &callback).await;
    assert_eq!(
        location(&r),
        format!("/consent/?request={rid}&sso_error=failed")
    );
    assert_eq!(signed_in_as(&b, &rid).await, None);
}

#[tokio::test]
async fn cancel_and_unknown_account_come_back_as_widget_errors() {
    let (s, _p) = server().await;
    let b = s.browser();
    // Cancel at the provider: `access_denied`.
    let (rid, _, url, page) = to_login(&s, &b).await;
    let abort = join(&url, &attr(&page, "login-help", "href"));
    let (callback, _) = follow(&b, abort).await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let r = finish(&b, &callback).await;
    assert_eq!(
        location(&r),
        format!("/consent/?request={rid}&sso_error=cancelled")
    );
    // An account the utility does not have.
    let (rid2, _, url, page) = to_login(&s, &b).await;
    assert_eq!(rid2.len(), rid.len());
    let callback = log_in(&b, &url, &page, "stranger").await;
    let r = finish(&b, &callback).await;
    assert_eq!(
        location(&r),
        format!("/consent/?request={rid2}&sso_error=unknown_account")
    );
    assert_eq!(signed_in_as(&b, &rid2).await, None);
    let m = s.state.metrics().render();
    assert!(
        m.contains("datacustodian_sign_ins_total{method=\"sso\",outcome=\"failure\"} 2"),
        "{m}"
    );
}

#[tokio::test]
async fn the_start_needs_the_session_csrf_and_a_known_provider() {
    let (s, _p) = server().await;
    let b = s.browser();
    let rid = b.start(&s.seed.authorization_url).await;
    let csrf = b.csrf(&rid).await;
    let path = format!("/api/consent/requests/{rid}/sign-in/sso/utility");
    let (st, body) = b.post(&path, None, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "csrf_invalid");
    let (st, body) = s.browser().post(&path, Some(&csrf), json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "another browser: {body}");
    let (st, body) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/sso/nope"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "unknown_provider");
}

#[tokio::test]
async fn auth_sso_in_the_scope_names_the_provider_to_go_to() {
    let (s, _p) = server().await;
    let b = s.browser();
    let url = authorize_url(
        &s,
        &DEMO_SCOPE.replace("sou-energy-audit", "sou-energy-audit_auth-sso-utility"),
        Some("st"),
        None,
    );
    let rid = b.start(&url).await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["sign_in"]["sso"], Value::from("utility"), "{ctx}");
    // A provider that is not configured is no hint.
    let url = authorize_url(
        &s,
        &DEMO_SCOPE.replace("sou-energy-audit", "sou-energy-audit_auth-sso-elsewhere"),
        Some("st"),
        None,
    );
    let rid = b.start(&url).await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["sign_in"]["sso"], Value::Null, "{ctx}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_callbacks_with_one_state_sign_in_once() {
    let (s, _p) = server().await;
    let b = s.browser();
    let (rid, _, url, page) = to_login(&s, &b).await;
    let callback = log_in(&b, &url, &page, "alice").await;
    let finish_url = callback.replace("/consent/sso/callback?", "/consent/sso/finish?");
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let http = b.http.clone();
        let u = finish_url.clone();
        tasks.push(tokio::spawn(async move {
            http.get(&u).send().await.expect("finish").status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let won = statuses
        .iter()
        .filter(|st| **st == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|st| **st == StatusCode::BAD_REQUEST)
            .count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(signed_in_as(&b, &rid).await.as_deref(), Some("Alex Rivera"));
}

#[tokio::test]
async fn an_unreachable_provider_is_a_clear_502() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let s = start_with(|c| {
        c.oidc_providers = vec![ProviderConfig::new(
            "utility",
            &format!("http://{closed}"),
            CLIENT_ID,
            CLIENT_SECRET,
        )];
    })
    .await;
    let b = s.browser();
    let rid = b.start(&s.seed.authorization_url).await;
    let csrf = b.csrf(&rid).await;
    let (st, body) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/sso/utility"),
            Some(&csrf),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(body["error"], "provider_unavailable");
    assert!(
        s.state
            .metrics()
            .render()
            .contains("datacustodian_sign_ins_total{method=\"sso\",outcome=\"error\"} 1")
    );
}
