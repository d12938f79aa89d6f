//! Error pages and error summaries: unknown, expired, answered and foreign
//! requests; a wrong password.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test errors`.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_request_shows_an_accessible_error_page() {
    let server = TestServer::start().await;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url("/consent/?request=no-such-request"))
        .await
        .unwrap();
    wait_step(&b, "error").await;
    el(&b, ".gbc-failure[data-failure=unknown_request]").await;
    assert_eq!(text(&b, "h1").await, "We can't find this request");
    assert!(page_text(&b).await.contains("Nothing has been shared"));
    check_a11y(&b, "error: unknown request").await;
    // No request id at all: the same page.
    b.client.goto(&server.url("/consent/")).await.unwrap();
    wait_step(&b, "error").await;
    assert_eq!(text(&b, "h1").await, "We can't find this request");
    check_a11y(&b, "error: no request id").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_a_focused_error_summary() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    // Nothing typed: the widget's own check.
    press(&b, "Sign in").await;
    assert_error_summary(&b, "Enter your username").await;
    check_a11y(&b, "sign-in: empty fields").await;
    sign_in_password(&b, "not-the-password").await;
    assert_error_summary(&b, "The username or password is not right").await;
    let pw = field(&b, "Password").await;
    assert_eq!(
        pw.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    check_a11y(&b, "sign-in: wrong password").await;
    // The link in the summary leads to the field.
    click(&b, ".gbc-error-summary a").await;
    settle(&b).await;
    assert_eq!(
        js(&b, "return document.activeElement.getAttribute('name')").await,
        "password",
        "the summary link focuses the password field"
    );
    // And the customer can still get through.
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    assert!(!title(&b).await.starts_with("Error: "));
    let params = authorize(&b, &tp).await;
    check_response(&params, &attempt, &server);
    b.close().await;
}

/// The other pages that end the flow: an expired request, a request
/// already answered, a request opened in another browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_answered_and_foreign_requests_show_accessible_error_pages() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;

    // Opened elsewhere first (another browser read it and owns it now).
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let elsewhere = reqwest::get(server.url(&format!("/api/consent/requests/{request}")))
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status().as_u16(),
        200,
        "another browser reads the request first"
    );
    b.client
        .goto(&server.url(&format!("/consent/?request={request}")))
        .await
        .unwrap();
    wait_step(&b, "error").await;
    el(&b, ".gbc-failure[data-failure=request_not_yours]").await;
    assert_eq!(
        text(&b, "h1").await,
        "This request was opened somewhere else"
    );
    check_a11y(&b, "error: opened elsewhere").await;

    // Answered: authorize, then come back to the same consent page.
    let attempt = open(&b, &server, &tp, SCOPE).await;
    let consent_url = b.client.current_url().await.unwrap().to_string();
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    let params = authorize(&b, &tp).await;
    check_response(&params, &attempt, &server);
    b.client.goto(&consent_url).await.unwrap();
    wait_step(&b, "error").await;
    el(&b, ".gbc-failure[data-failure=request_decided]").await;
    assert_eq!(
        text(&b, "h1").await,
        "This request has already been answered"
    );
    check_a11y(&b, "error: already answered").await;

    // Expired: the request outlives its lifetime (30 minutes) unanswered.
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    server.state.clock().advance(31 * 60);
    b.client
        .goto(&server.url(&format!("/consent/?request={request}")))
        .await
        .unwrap();
    wait_step(&b, "error").await;
    el(&b, ".gbc-failure[data-failure=request_expired]").await;
    assert_eq!(text(&b, "h1").await, "This request has expired");
    check_a11y(&b, "error: expired").await;
    b.close().await;
}
