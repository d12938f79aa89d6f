//! Embedding across origins and sites, at the HTTP level: CORS with
//! credentials only for registered embed origins (consent API and widget
//! files, never `/oauth/authorize`), and the consent session carried in the
//! `X-Consent-Session` header (for a widget whose cookie is third-party):
//! the same binding, CSRF check and rotation at sign-in as the cookie.
//! The browser end-to-end tests (`crates/consent-e2e/tests/cross_origin.rs`)
//! run the same over https origins in Chromium.

mod common;

use common::*;
use datacustodian::admin::{NewClient, create_client};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

const PORTAL: &str = "https://my.utility.test";
const EVIL: &str = "https://evil.test";
const REDIRECT: &str = "http://127.0.0.1:9/cb";

/// A server with a tiny widget build and a third party that registered
/// [`PORTAL`] as its embed origin; returns the server and the client id.
async fn server() -> (TestServer, tempfile::TempDir, String) {
    let assets = tempfile::tempdir().expect("dir");
    for (name, body) in [
        ("index.html", "<!doctype html><title>w</title>"),
        ("embed.js", "export {};"),
        ("consent-widget_bg.wasm", "\0asm\x01\0\0\0"),
    ] {
        std::fs::write(assets.path().join(name), body).expect("write");
    }
    let dir = assets.path().to_path_buf();
    let s = start_with(move |c| c.assets_dir = Some(dir)).await;
    let mut c = NewClient::third_party("Portal app", vec![REDIRECT.into()]);
    c.require_pkce = false;
    c.frame_ancestors = vec![PORTAL.into()];
    let cs = create_client(&s.state, c).await.expect("client");
    (s, assets, cs.client_id)
}

/// A fresh request of `client_id`, not bound to any session yet (as a
/// portal's backend or the authorization redirect hands it over).
async fn request(s: &TestServer, client_id: &str) -> String {
    let url = authorize_url_for(s, client_id, REDIRECT, DEMO_SCOPE, None, None);
    s.browser().start(&url).await
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn preflight(s: &TestServer, path: &str, origin: &str, method: &str) -> HeaderMap {
    let r = http()
        .request(reqwest::Method::OPTIONS, s.url(path))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", method)
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-csrf-token,x-consent-session",
        )
        .send()
        .await
        .expect("preflight");
    r.headers().clone()
}

#[tokio::test]
async fn cors_with_credentials_only_for_registered_embed_origins() {
    let (s, _assets, client_id) = server().await;
    let rid = request(&s, &client_id).await;
    let api = [
        (format!("/api/consent/requests/{rid}"), "GET"),
        (
            format!("/api/consent/requests/{rid}/sign-in/password"),
            "POST",
        ),
        (format!("/api/consent/requests/{rid}/decision"), "POST"),
        ("/api/consent/session".to_string(), "DELETE"),
    ];
    for (path, method) in &api {
        let h = preflight(&s, path, PORTAL, method).await;
        assert_eq!(
            header(&h, "access-control-allow-origin"),
            Some(PORTAL),
            "{path}: the registered origin, echoed exactly (never *)"
        );
        assert_eq!(header(&h, "access-control-allow-credentials"), Some("true"));
        let allowed = header(&h, "access-control-allow-headers").unwrap_or_default();
        for needed in ["content-type", "x-csrf-token", "x-consent-session"] {
            assert!(allowed.contains(needed), "{path}: {needed} in {allowed:?}");
        }
        let methods = header(&h, "access-control-allow-methods").unwrap_or_default();
        assert!(methods.contains(method), "{path}: {methods:?}");
        assert!(!methods.contains("PUT"), "only the methods used: {methods}");
        assert!(
            h.get_all("vary").iter().any(|v| v
                .to_str()
                .is_ok_and(|v| v.to_lowercase().contains("origin"))),
            "{path}: Vary: Origin"
        );
        // An origin nobody registered: no CORS answer at all.
        let h = preflight(&s, path, EVIL, method).await;
        assert!(
            h.get("access-control-allow-origin").is_none(),
            "{path} must not answer {EVIL}: {h:?}"
        );
        // Not reflected blindly: a look-alike of the registered origin fails.
        for near in [
            "https://my.utility.test:8443",
            "http://my.utility.test",
            "https://my.utility.test.evil.test",
            "null",
        ] {
            let h = preflight(&s, path, near, method).await;
            assert!(h.get("access-control-allow-origin").is_none(), "{near}");
        }
    }
    // The actual answer carries the exact origin and exposes the session
    // header; the widget's files too (module scripts and wasm are CORS).
    let r = http()
        .get(s.url(&format!("/api/consent/requests/{rid}")))
        .header("Origin", PORTAL)
        .header("X-Consent-Session", "new")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        Some(PORTAL)
    );
    assert!(
        header(r.headers(), "access-control-expose-headers")
            .is_some_and(|v| v.to_lowercase().contains("x-consent-session"))
    );
    for file in ["/consent/embed.js", "/consent/consent-widget_bg.wasm"] {
        let r = http()
            .get(s.url(file))
            .header("Origin", PORTAL)
            .send()
            .await
            .expect("asset");
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        assert_eq!(
            header(r.headers(), "access-control-allow-origin"),
            Some(PORTAL),
            "{file}"
        );
        let r = http()
            .get(s.url(file))
            .header("Origin", EVIL)
            .send()
            .await
            .expect("asset");
        assert!(r.headers().get("access-control-allow-origin").is_none());
    }
    // Never on the authorization endpoint, nor the customer API.
    for path in ["/oauth/authorize", "/api/customer/authorizations"] {
        let h = preflight(&s, path, PORTAL, "GET").await;
        assert!(h.get("access-control-allow-origin").is_none(), "{path}");
    }
    let r = http()
        .get(authorize_url_for(
            &s, &client_id, REDIRECT, DEMO_SCOPE, None, None,
        ))
        .header("Origin", PORTAL)
        .send()
        .await
        .expect("authorize");
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // A registration removed is a CORS answer withdrawn.
    datacustodian::remove_client(&s.state, &client_id)
        .await
        .expect("remove");
    let h = preflight(&s, "/consent/embed.js", PORTAL, "GET").await;
    assert!(h.get("access-control-allow-origin").is_none());
}

/// The customer's widget embedded on another origin: no cookie jar, the
/// session secret held in memory and sent in `X-Consent-Session`.
struct Widget {
    base: String,
    session: String,
}

impl Widget {
    fn new(s: &TestServer) -> Widget {
        Widget {
            base: s.base.clone(),
            session: "new".into(),
        }
    }

    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, HeaderMap) {
        let mut req = http()
            .request(method, format!("{}{path}", self.base))
            .header("Origin", PORTAL)
            .header("X-Consent-Session", &self.session);
        if let Some(c) = csrf {
            req = req.header("X-CSRF-Token", c);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let (status, h) = (r.status(), r.headers().clone());
        if let Some(new) = header(&h, "x-consent-session") {
            self.session = new.to_string();
        }
        (status, r.json().await.unwrap_or(Value::Null), h)
    }

    async fn context(&mut self, rid: &str) -> (StatusCode, Value, HeaderMap) {
        let path = format!("/api/consent/requests/{rid}");
        self.send(reqwest::Method::GET, &path, None, None).await
    }

    async fn sign_in(&mut self, rid: &str, csrf: Option<&str>) -> (StatusCode, Value, HeaderMap) {
        let path = format!("/api/consent/requests/{rid}/sign-in/password");
        let body = json!({"username": ALEX.0, "password": ALEX.1});
        self.send(reqwest::Method::POST, &path, csrf, Some(body))
            .await
    }

    async fn decide(&mut self, rid: &str, csrf: &str) -> (StatusCode, Value, HeaderMap) {
        let path = format!("/api/consent/requests/{rid}/decision");
        let body = json!({"decision": "authorize"});
        self.send(reqwest::Method::POST, &path, Some(csrf), Some(body))
            .await
    }
}

#[tokio::test]
async fn header_session_binds_rotates_at_sign_in_and_keeps_csrf() {
    let (s, _assets, client_id) = server().await;
    let rid = request(&s, &client_id).await;
    let mut w = Widget::new(&s);
    let (st, ctx, h) = w.context(&rid).await;
    assert_eq!(st, StatusCode::OK, "{ctx}");
    assert!(
        h.get("set-cookie").is_none(),
        "a header session sets no cookie"
    );
    let first = w.session.clone();
    assert!(
        first.len() >= 22 && first != "new",
        "a random secret: {first:?}"
    );
    let csrf = ctx["csrf_token"].as_str().expect("csrf").to_string();

    // CSRF: the header session does not replace the CSRF token.
    let (st, v, _) = w.sign_in(&rid, None).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("csrf_invalid"))
    );
    let (st, v, _) = w.sign_in(&rid, Some("not-the-token")).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("csrf_invalid"))
    );

    // Sign-in rotates the secret: a new one in the answer, the old dead.
    let (st, v, _) = w.sign_in(&rid, Some(&csrf)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let rotated = w.session.clone();
    assert_ne!(rotated, first, "sign-in sends a new session secret");
    let mut stolen = Widget::new(&s);
    stolen.session = first.clone();
    let (st, v, _) = stolen.context(&rid).await;
    assert_eq!(
        (st, v["error"].clone()),
        (StatusCode::FORBIDDEN, json!("request_not_yours")),
        "the secret from before sign-in no longer works"
    );
    let (st, _, _) = stolen.decide(&rid, &csrf).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // The current secret works: signed in, the customer authorizes.
    let (st, ctx, _) = w.context(&rid).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ctx["customer"]["display_name"], "Alex Rivera");
    let (st, v, _) = w.decide(&rid, &csrf).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v["redirect_to"]
            .as_str()
            .is_some_and(|u| u.contains("code="))
    );
}

#[tokio::test]
async fn a_header_session_works_for_its_own_request_only() {
    let (s, _assets, client_id) = server().await;
    let mine = request(&s, &client_id).await;
    let theirs = request(&s, &client_id).await;
    let mut me = Widget::new(&s);
    let mut them = Widget::new(&s);
    let (st, my_ctx, _) = me.context(&mine).await;
    assert_eq!(st, StatusCode::OK);
    let (st, their_ctx, _) = them.context(&theirs).await;
    assert_eq!(st, StatusCode::OK);
    let their_csrf = their_ctx["csrf_token"].as_str().expect("csrf");
    let my_csrf = my_ctx["csrf_token"].as_str().expect("csrf");
    // My live session on their request: refused, even with their CSRF token.
    for csrf in [my_csrf, their_csrf] {
        let (st, v, _) = me.sign_in(&theirs, Some(csrf)).await;
        assert_eq!(
            (st, v["error"].clone()),
            (StatusCode::FORBIDDEN, json!("request_not_yours"))
        );
    }
    let (st, _, _) = me.context(&theirs).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // A request bound through the cookie is not readable by a header
    // session either, and asking for one creates nothing.
    let browser = s.browser();
    let cookie_rid = request(&s, &client_id).await;
    assert_eq!(browser.context(&cookie_rid).await.0, StatusCode::OK);
    let mut newcomer = Widget::new(&s);
    let (st, _, h) = newcomer.context(&cookie_rid).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(h.get("x-consent-session").is_none());
    // And a header-bound request is not the cookie browser's.
    assert_eq!(browser.context(&mine).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_framed_hosted_page_leaves_the_request_to_its_widget() {
    let (s, _assets, client_id) = server().await;
    let rid = request(&s, &client_id).await;
    let page = |dest: &'static str| {
        http()
            .get(s.url(&format!("/consent/?request={rid}")))
            .header("Sec-Fetch-Mode", "navigate")
            .header("Sec-Fetch-Dest", dest)
            .send()
    };
    // In a frame the cookie may be a blocked third-party cookie: the page
    // neither binds the request nor embeds its context.
    let r = page("iframe").await.expect("page");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(!r.text().await.expect("body").contains("gb-consent-context"));
    let mut w = Widget::new(&s);
    assert_eq!(w.context(&rid).await.0, StatusCode::OK, "still unbound");
    // At the top level the page binds and embeds, as before.
    let rid = request(&s, &client_id).await;
    let r = http()
        .get(s.url(&format!("/consent/?request={rid}")))
        .header("Sec-Fetch-Mode", "navigate")
        .header("Sec-Fetch-Dest", "document")
        .send()
        .await
        .expect("page");
    assert!(r.headers().get("set-cookie").is_some());
    assert!(r.text().await.expect("body").contains("gb-consent-context"));
}

#[tokio::test]
async fn a_portal_consent_page_gets_requests_unbound_even_from_a_browser_with_a_session() {
    let s = start_with(|c| c.consent_page = format!("{PORTAL}/connect")).await;
    let mut c = NewClient::third_party("Portal app", vec![REDIRECT.into()]);
    c.require_pkce = false;
    c.frame_ancestors = vec![PORTAL.into()];
    let cs = create_client(&s.state, c).await.expect("client");
    // A browser with a live consent session cookie (from an earlier visit)…
    let b = s.browser();
    let authorize = || authorize_url_for(&s, &cs.client_id, REDIRECT, DEMO_SCOPE, None, None);
    let first = b.http.get(authorize()).send().await.expect("authorize");
    let location = first.headers()["location"].to_str().expect("location");
    assert!(
        location.starts_with(&format!("{PORTAL}/connect?request=")),
        "{location}"
    );
    let rid = location.rsplit("request=").next().expect("id").to_string();
    assert_eq!(
        b.context(&rid).await.0,
        StatusCode::OK,
        "the cookie session"
    );
    // …follows a link to /oauth/authorize that lands on the portal: the
    // request is not bound to that cookie, so the embedded widget's
    // header session can take it.
    let r = b.http.get(authorize()).send().await.expect("authorize");
    let location = r.headers()["location"].to_str().expect("location");
    let rid = location.rsplit("request=").next().expect("id").to_string();
    let mut w = Widget::new(&s);
    let (st, v, _) = w.context(&rid).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}
