//! Security headers: the strict CSP is enforced and the widget runs under it.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test security_headers`.

mod common;

use common::*;

/// The consent page is served with the strict CSP, the browser enforces it
/// (an injected inline script does not run and is reported), and the
/// widget works under it without a single violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_csp_is_enforced_and_the_widget_runs_under_it() {
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let page = server.url(&format!("/consent/?request={request}"));

    let resp = reqwest::get(&page).await.unwrap();
    let csp = resp
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("the consent page has a Content-Security-Policy")
        .to_string();
    for needed in [
        "script-src 'self' 'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors ",
    ] {
        assert!(csp.contains(needed), "CSP has {needed:?}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "no 'unsafe-inline': {csp}");
    assert_eq!(
        resp.headers()
            .get("referrer-policy")
            .and_then(|v| v.to_str().ok()),
        Some("no-referrer")
    );
    assert_eq!(
        resp.headers()
            .get("x-content-type-options")
            .and_then(|v| v.to_str().ok()),
        Some("nosniff")
    );

    let b = browser(Options::default()).await;
    let _ = b.console_log().await;
    b.client.goto(&page).await.unwrap();
    wait_step(&b, "sign-in").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    assert_eq!(
        csp_violations(&b).await,
        Vec::<serde_json::Value>::new(),
        "no CSP violation"
    );
    let log = b.console_log().await;
    let csp_msgs: Vec<_> = log
        .iter()
        .filter(|(_, m)| m.contains("Content Security Policy"))
        .collect();
    assert!(
        csp_msgs.is_empty(),
        "no CSP message in the console: {csp_msgs:?}"
    );
    // (The server has no favicon; the browser's automatic request for it
    // is not the widget's.)
    let errors: Vec<_> = log
        .iter()
        .filter(|(l, m)| l == "SEVERE" && !m.contains("/favicon.ico"))
        .collect();
    assert!(
        errors.is_empty(),
        "no console errors while the widget runs: {errors:?}"
    );

    // Enforced, not just sent: an inline script is blocked and reported.
    js(
        &b,
        "const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true;';
         document.head.append(s); return null;",
    )
    .await;
    settle(&b).await;
    assert_eq!(
        js(&b, "return window.__inlineRan === true").await,
        false,
        "inline script blocked"
    );
    let v = csp_violations(&b).await;
    assert!(
        v.iter().any(|x| x["directive"]
            .as_str()
            .is_some_and(|d| d.starts_with("script-src"))),
        "the blocked inline script is reported: {v:?}"
    );
    assert_eq!(
        step(&b).await.as_deref(),
        Some("consent"),
        "the widget is unaffected"
    );
    b.close().await;
}
