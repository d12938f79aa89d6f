//! Accessibility: 200 % zoom with large text, phone width, keyboard only with
//! target sizes, dark mode and reduced motion.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test accessibility`.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zoomed_to_200_percent_with_large_text_nothing_is_cut_off() {
    // A 1280 x 800 screen zoomed to 200% (640 x 400 CSS px at scale 2), and
    // the customer's text size doubled on top (WCAG 1.4.4 and 1.4.10).
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({ "width": 640, "height": 400, "deviceScaleFactor": 2, "mobile": false }),
    )
    .await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    // CSSOM, which the page's CSP allows (as a browser's text setting does).
    js(
        &b,
        "document.documentElement.style.fontSize = '200%'; return 0;",
    )
    .await;
    let fits = "const d = document.documentElement;
        const cut = [...document.querySelectorAll('.gbc *')].filter(e =>
            e.children.length === 0 && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1
            && getComputedStyle(e).overflowX !== 'visible').map(e => e.textContent.trim());
        return [window.innerWidth, d.scrollWidth, cut];";
    let check = |what: &'static str, v: serde_json::Value| {
        assert_eq!(v[0], 640, "{what}: a 640 px viewport");
        assert!(
            v[1].as_u64().unwrap() <= 640,
            "{what}: no sideways scrolling ({v})"
        );
        assert_eq!(v[2], serde_json::json!([]), "{what}: no text cut off");
    };
    check("sign-in", js(&b, fits).await);
    check_a11y(&b, "sign-in at 200% zoom, 200% text").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    click(&b, "details.gbc-details > summary").await;
    settle(&b).await;
    check("consent", js(&b, fits).await);
    check_a11y(&b, "consent at 200% zoom, 200% text").await;
    let params = authorize(&b, &tp).await;
    check_response(&params, &attempt, &server);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_width_shows_the_flow_without_horizontal_scroll() {
    let (server, tp) = setup().await;
    let b = browser(Options {
        width: 320,
        height: 720,
        ..Options::default()
    })
    .await;
    if js(&b, "return window.innerWidth").await != 320 {
        // Headless windows may refuse to be that narrow: emulate the phone.
        b.cdp(
            "Emulation.setDeviceMetricsOverride",
            serde_json::json!({ "width": 320, "height": 720, "deviceScaleFactor": 2, "mobile": true }),
        )
        .await;
    }
    let attempt = open(&b, &server, &tp, SCOPE).await;
    assert_eq!(
        js(&b, "return window.innerWidth").await,
        320,
        "a 320 px viewport"
    );
    let no_scroll = "return document.documentElement.scrollWidth";
    let w = js(&b, no_scroll).await.as_u64().unwrap();
    assert!(w <= 320, "sign-in fits 320 px (scrollWidth {w})");
    check_a11y(&b, "sign-in at 320 px").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    let w = js(&b, no_scroll).await.as_u64().unwrap();
    assert!(w <= 320, "consent fits 320 px (scrollWidth {w})");
    click(&b, "details.gbc-details > summary").await;
    settle(&b).await;
    let w = js(&b, no_scroll).await.as_u64().unwrap();
    assert!(
        w <= 320,
        "consent with technical details open fits 320 px (scrollWidth {w})"
    );
    check_a11y(&b, "consent at 320 px").await;
    let params = authorize(&b, &tp).await;
    check_response(&params, &attempt, &server);
    b.close().await;
}

/// Presses `key` on whatever has focus.
async fn key(b: &Browser, k: Key) {
    let s = char::from(k).to_string();
    b.client
        .active_element()
        .await
        .expect("an active element")
        .send_keys(&s)
        .await
        .expect("send a key");
}

/// Presses Tab until `test` (a JS expression over `a`, the active element)
/// holds; panics after `max` presses.
async fn tab_to(b: &Browser, test: &str, max: usize) {
    let script = format!("const a = document.activeElement; return !!({test});");
    for _ in 0..max {
        key(b, Key::Tab).await;
        if js(b, &script).await == true {
            return;
        }
    }
    let at = js(b, "return document.activeElement.outerHTML.slice(0, 200)").await;
    panic!("Tab never reached an element with {test} in {max} presses (focus is on {at})");
}

/// The whole flow with the keyboard only, and every control at least
/// 24 x 24 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_flow_and_target_sizes() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    let small = small_targets(&b).await;
    assert!(
        small.is_empty(),
        "sign-in targets under 24x24 px: {small:#?}"
    );

    tab_to(&b, "a.name === 'username'", 15).await;
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(ALEX.0)
        .await
        .unwrap();
    key(&b, Key::Tab).await;
    assert_eq!(
        js(&b, "return document.activeElement.name").await,
        "password",
        "Tab goes to Password"
    );
    b.client
        .active_element()
        .await
        .unwrap()
        .send_keys(ALEX.1)
        .await
        .unwrap();
    key(&b, Key::Enter).await;
    wait_step(&b, "consent").await;
    let small = small_targets(&b).await;
    assert!(
        small.is_empty(),
        "consent targets under 24x24 px: {small:#?}"
    );

    // Untick and tick a meter with Space.
    tab_to(&b, "a.value === 'SA-1002'", 40).await;
    key(&b, Key::Space).await;
    settle(&b).await;
    assert_eq!(
        js(&b, "return document.activeElement.checked").await,
        false,
        "Space unticks"
    );
    key(&b, Key::Space).await;
    settle(&b).await;
    assert_eq!(
        js(&b, "return document.activeElement.checked").await,
        true,
        "Space ticks"
    );
    // Technical details open with Enter.
    tab_to(&b, "a.tagName === 'SUMMARY'", 40).await;
    key(&b, Key::Enter).await;
    settle(&b).await;
    assert_eq!(
        js(
            &b,
            "return document.querySelector('details.gbc-details').open"
        )
        .await,
        true
    );
    tab_to(
        &b,
        "a.tagName === 'BUTTON' && a.textContent.trim() === 'Authorize'",
        40,
    )
    .await;
    key(&b, Key::Enter).await;
    wait_step(&b, "done").await;
    let small = small_targets(&b).await;
    assert!(
        small.is_empty(),
        "receipt targets under 24x24 px: {small:#?}"
    );
    tab_to(
        &b,
        &format!("a.textContent.trim() === 'Continue to {NAME}'"),
        20,
    )
    .await;
    key(&b, Key::Enter).await;
    let params = tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    assert_eq!(grant.usage_point_saids().await.len(), 3, "all meters kept");
    b.close().await;
}

/// axe-core in dark mode with reduced motion (contrast of the dark theme).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dark_mode_and_reduced_motion_pass_axe() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    emulate_media(
        &b,
        &[
            ("prefers-color-scheme", "dark"),
            ("prefers-reduced-motion", "reduce"),
        ],
    )
    .await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    assert_eq!(
        js(
            &b,
            "return matchMedia('(prefers-color-scheme: dark)').matches"
        )
        .await,
        true,
        "dark mode is emulated"
    );
    check_a11y(&b, "sign-in (dark)").await;
    press(&b, "Sign in").await;
    el(&b, ".gbc-error-summary").await;
    check_a11y(&b, "sign-in errors (dark)").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    click(&b, "details.gbc-details > summary").await;
    check_a11y(&b, "consent (dark)").await;
    let params = authorize(&b, &tp).await;
    check_response(&params, &attempt, &server);
    b.close().await;
}
