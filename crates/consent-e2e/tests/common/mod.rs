//! What the browser end-to-end tests of the consent widget share (one test
//! file per area: `hosted_flow`, `languages`, `one_time_code`, `errors`,
//! `accessibility`, `embedding`, `cross_origin` (https `*.test` origins),
//! `security_headers`).
//!
//! Each test starts the real reference DataCustodian in-process on
//! 127.0.0.1:0 (real SQLite file, one-time codes in an outbox file, the
//! built widget from `dist/`), a third party registered with a loopback
//! redirect URI, and drives the flow like a customer in headless Chromium:
//! the third party builds its authorization URL with the `oauth2` crate
//! (PKCE S256 + state), the browser opens it, the customer signs in,
//! chooses, authorizes; the third party exchanges the code and calls the
//! ESPI UsagePoint feed. axe-core runs in every state reached and must find
//! nothing. Waits go through `consent_e2e::eventually`, never a fixed sleep.
//!
//! Run: `./scripts/build-web.sh` (or `trunk build --release` at the
//! repository root), then `cargo test -p consent-e2e`.

#![allow(dead_code, unused_imports)]

pub use std::time::Duration;

pub use consent_e2e::browser::{Browser, Options};
pub use consent_e2e::eventually::{eventually, eventually_true};
pub use consent_e2e::oauth::{Attempt, Grant};
pub use consent_e2e::server::{ALEX, ALEX_ACCOUNT, ALEX_METERS, TestServer, ThirdParty, param};
pub use consent_e2e::widget::{
    RECORDER, button, check_a11y, click, csp_violations, el, emulate_media, events, field,
    fill_labelled, force_gc, layout_shift, page_text, press, settle, small_targets, step, text,
    wait_step, wait_url,
};
pub use espi_scope::catalog::{ConsentRole, role_of};
pub use espi_scope::describe::{Lang, function_block_description};
pub use espi_scope::final_scope::{Custodian, MeterFacts, final_scope};
pub use espi_scope::{AdditionalScope, EspiScope};
pub use fantoccini::Locator;
pub use fantoccini::key::Key;

/// What the third party asks for: the structural block 1, usage readings
/// (4, electricity 5), bills (15), account details (51, 56, 58), 15-minute
/// and hourly intervals, two years of history, every meter, and its scope
/// of use.
pub const SCOPE: &str = "FB=1_4_5_15_51_56_58;IntervalDuration=900_3600;HistoryLength=63072000;\
                     AdditionalScope=meters-all_sou-solar";

pub const NAME: &str = "Solar Planner";

/// A browser with the event/CSP recorder installed.
pub async fn browser(opts: Options) -> Browser {
    let b = Browser::start_with(opts).await;
    b.add_init_script(RECORDER).await;
    b
}

pub async fn setup() -> (TestServer, ThirdParty) {
    let server = TestServer::start().await;
    let tp = server.third_party(NAME).await;
    (server, tp)
}

pub async fn js(b: &Browser, script: &str) -> serde_json::Value {
    b.client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

pub async fn title(b: &Browser) -> String {
    b.client.title().await.expect("the document title")
}

/// Opens the third party's authorization URL: the server redirects to the
/// hosted consent page, which shows the sign-in step.
pub async fn open(b: &Browser, server: &TestServer, tp: &ThirdParty, scope: &str) -> Attempt {
    let attempt = tp.authorize(server, scope);
    b.client
        .goto(&attempt.url)
        .await
        .expect("open the authorization URL");
    wait_step(b, "sign-in").await;
    let url = b.client.current_url().await.expect("url").to_string();
    assert!(
        url.starts_with(&server.url("/consent/?request=")),
        "the authorization endpoint sends the browser to the consent page, not {url}"
    );
    attempt
}

/// Signs in with Alex's username and password (the default method).
pub async fn sign_in_password(b: &Browser, password: &str) {
    fill_labelled(b, "Username", ALEX.0).await;
    fill_labelled(b, "Password", password).await;
    press(b, "Sign in").await;
}

/// Authorizes on the consent step, checks the receipt, follows "Continue"
/// and returns the authorization response the third party received.
pub async fn authorize(b: &Browser, tp: &ThirdParty) -> Vec<(String, String)> {
    press(b, "Authorize").await;
    wait_step(b, "done").await;
    check_a11y(b, "done (receipt)").await;
    let h = text(b, ".gbc-h").await;
    assert_eq!(h, format!("You are sharing your energy data with {NAME}"));
    press(b, &format!("Continue to {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    wait_url(b, &tp.redirect_uri, Duration::from_secs(10)).await;
    params
}

/// The checks every successful authorization response must pass.
pub fn check_response(
    params: &[(String, String)],
    attempt: &Attempt,
    server: &TestServer,
) -> String {
    assert!(
        params.iter().all(|(k, _)| k != "error"),
        "no error in the authorization response: {params:?}"
    );
    assert_eq!(
        param(params, "state"),
        attempt.state,
        "the same state comes back"
    );
    assert_eq!(
        param(params, "iss"),
        server.base,
        "iss (RFC 9207) is the issuer"
    );
    let code = param(params, "code").to_string();
    assert!(
        code.len() >= 22,
        "the code looks random (>= 128 bits): {code:?}"
    );
    code
}

/// The text of the consent step a customer sees without opening
/// "Technical details".
pub async fn visible_consent_text(b: &Browser) -> String {
    js(
        b,
        "const root = document.querySelector('.gbc');
         const d = root.querySelector('details'); if (d) d.open = false;
         return root.innerText;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

pub async fn assert_error_summary(b: &Browser, message: &str) {
    el(b, ".gbc-error-summary").await;
    // The summary appears when the server's answer arrives; give a slow
    // (debug-build, busy CI) server up to 10 s before judging its text.
    let summary = eventually(Duration::from_secs(10), || async move {
        settle(b).await;
        let summary = text(b, ".gbc-error-summary").await;
        if summary.contains(message) {
            Ok(summary)
        } else {
            Err(summary)
        }
    })
    .await
    .unwrap_or_else(|seen| seen);
    assert!(
        summary.contains(message),
        "the error summary says {message:?}: {summary:?}"
    );
    let focused = js(
        b,
        "return document.activeElement && document.activeElement.classList.contains('gbc-error-summary');",
    )
    .await;
    assert_eq!(focused, true, "the error summary takes focus");
    let t = title(b).await;
    assert!(
        t.starts_with("Error: "),
        "the title starts with \"Error: \": {t:?}"
    );
}

/// The recorded `message` events of the host page whose data is a
/// `gb-consent:*` message, as `(origin, type, detail)`.
pub async fn posted(b: &Browser) -> Vec<(String, String, serde_json::Value)> {
    let v = js(b, "return window.__messages || []").await;
    v.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["data"]["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("gb-consent:"))
        })
        .map(|m| {
            (
                m["origin"].as_str().unwrap_or_default().to_string(),
                m["data"]["type"].as_str().unwrap_or_default().to_string(),
                m["data"]["detail"].clone(),
            )
        })
        .collect()
}

/// `s` percent-encoded for a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The host page's [`posted`] messages once one of type `t` arrived (up
/// to 10 s; what arrived by then otherwise).
pub async fn posted_until(b: &Browser, t: &str) -> Vec<(String, String, serde_json::Value)> {
    eventually(Duration::from_secs(10), || async {
        let msgs = posted(b).await;
        if msgs.iter().any(|(_, seen, _)| seen == t) {
            Ok(msgs)
        } else {
            Err(msgs)
        }
    })
    .await
    .unwrap_or_else(|seen| seen)
}

/// The console log once `holds` is true of it (up to 10 s; the log by
/// then otherwise).
pub async fn console_until(
    b: &Browser,
    holds: impl Fn(&[(String, String)]) -> bool,
) -> Vec<(String, String)> {
    eventually(Duration::from_secs(10), || async {
        let log = b.console_log().await;
        if holds(&log) { Ok(log) } else { Err(log) }
    })
    .await
    .unwrap_or_else(|seen| seen)
}

/// Whether the console says the browser refused a frame (CSP
/// `frame-ancestors` or `X-Frame-Options`).
pub fn frame_refused(log: &[(String, String)]) -> bool {
    log.iter()
        .any(|(_, m)| m.contains("frame-ancestors") || m.contains("X-Frame-Options"))
}
