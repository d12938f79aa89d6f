//! Embedding: the widget in the portal (events, cancelled navigation,
//! Spanish) and the hosted page in a registered or unregistered frame.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test embedding`.

mod common;

use common::*;

/// The sample portal embeds `<gb-consent>`: the widget mounts inside the
/// host element and the host receives the versioned events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_in_the_portal_the_host_gets_the_events() {
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url(&format!("/consent/portal.html?request={request}")))
        .await
        .unwrap();
    wait_step(&b, "sign-in").await;
    assert_eq!(
        js(
            &b,
            "return !!document.querySelector('gb-consent#consent .gbc[data-step]')"
        )
        .await,
        true,
        "the widget mounts inside the host element"
    );
    assert_eq!(
        text(&b, "h1").await,
        "Connect an app to your account",
        "the portal keeps its own h1; the widget uses h2"
    );
    check_a11y(&b, "portal: sign-in").await;
    let cls = layout_shift(&b).await;
    assert!(
        cls < 0.1,
        "mounting the widget shifts the portal's layout (CLS {cls:.3})"
    );
    eprintln!("portal CLS on mount: {cls:.4}");
    // A wrong password: a non-fatal error event, the summary in the portal.
    sign_in_password(&b, "not-the-password").await;
    el(&b, "gb-consent .gbc-error-summary").await;
    settle(&b).await;
    check_a11y(&b, "portal: wrong password").await;
    let errs: Vec<_> = events(&b)
        .await
        .into_iter()
        .filter(|(t, _)| t == "gb-consent:error")
        .collect();
    assert_eq!(errs.len(), 1, "one error event: {errs:?}");
    assert_eq!(errs[0].1["code"], "invalid_credentials");
    assert_eq!(errs[0].1["fatal"], false);
    assert_eq!(errs[0].1["step"], "sign-in");
    assert_eq!(
        title(&b).await,
        "Connect an app – Example Utility",
        "an embedded widget leaves the host page's title alone"
    );
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    check_a11y(&b, "portal: consent").await;
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    check_a11y(&b, "portal: done").await;

    let evs = events(&b).await;
    let names: Vec<&str> = evs.iter().map(|(t, _)| t.as_str()).collect();
    for (t, d) in &evs {
        assert_eq!(d["version"], 1, "{t} carries the contract version");
        assert_eq!(
            d["request_id"],
            request.as_str(),
            "{t} carries the request id"
        );
    }
    let ready: Vec<_> = evs
        .iter()
        .filter(|(t, _)| t == "gb-consent:ready")
        .collect();
    assert_eq!(ready.len(), 1, "one ready event: {names:?}");
    assert_eq!(ready[0].1["step"], "sign-in");
    assert_eq!(ready[0].1["client_id"], tp.secret.client_id.as_str());
    let steps: Vec<&str> = evs
        .iter()
        .filter(|(t, _)| t == "gb-consent:step")
        .filter_map(|(_, d)| d["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        ["sign-in", "consent", "done"],
        "step events in order"
    );
    let authorized: Vec<_> = evs
        .iter()
        .filter(|(t, _)| t == "gb-consent:authorized")
        .collect();
    assert_eq!(authorized.len(), 1, "one authorized event: {names:?}");
    let d = &authorized[0].1;
    assert_eq!(d["outcome"], "authorized");
    assert!(
        d["authorization_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{d}"
    );
    // No script of the portal can read the authorization code: not in any
    // event, not in the widget's markup.
    assert!(d.get("redirect_to").is_none(), "{d}");
    let everything = format!("{evs:?}");
    assert!(!everything.contains("code="), "{everything}");
    let markup = js(&b, "return document.querySelector('gb-consent').outerHTML").await;
    assert!(!markup.as_str().unwrap().contains("code="), "{markup}");
    // The portal's own log shows them too.
    let log = text(&b, "#event-log").await;
    assert!(
        log.contains("gb-consent:ready") && log.contains("gb-consent:authorized"),
        "{log}"
    );

    // The customer continues; the code the third party receives is real.
    press(&b, &format!("Continue to {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &server);
    assert_eq!(
        d["scope"].as_str(),
        Some(tp.exchange(&server, &attempt, &code).await.scope.as_str())
    );
    b.close().await;
}

/// A portal that cancels `gb-consent:authorized` keeps the customer on its
/// page, then asks the element to follow the redirect with `proceed()`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_cancels_the_redirect_proceeds_through_the_element() {
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url(&format!("/consent/portal.html?request={request}")))
        .await
        .unwrap();
    wait_step(&b, "sign-in").await;
    js(
        &b,
        "const el = document.querySelector('gb-consent');
         window.__early = el.proceed();
         el.addEventListener('gb-consent:authorized', (e) => e.preventDefault());
         return true",
    )
    .await;
    assert_eq!(
        js(&b, "return window.__early").await,
        false,
        "nothing to follow yet"
    );
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    let url = b.client.current_url().await.unwrap().to_string();
    assert!(
        url.contains("/consent/portal.html"),
        "still on the portal: {url}"
    );
    assert!(
        !text(&b, "gb-consent").await.contains("We will take you to"),
        "no countdown once the portal cancelled"
    );
    assert_eq!(
        js(&b, "return document.querySelector('gb-consent').proceed()").await,
        true
    );
    let params = tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &server);
    tp.exchange(&server, &attempt, &code).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_in_spanish_the_third_party_gets_a_code() {
    // The portal passes `locale="es"` to the custom element; the customer
    // goes from sign-in to a code the third party redeems, all in Spanish.
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url(&format!("/consent/portal.html?request={request}&lang=es")))
        .await
        .unwrap();
    wait_step(&b, "sign-in").await;
    assert_eq!(
        js(&b, "return document.querySelector('gb-consent .gbc').lang").await,
        "es"
    );
    check_a11y(&b, "portal (es): sign-in").await;
    fill_labelled(&b, "Nombre de usuario", ALEX.0).await;
    fill_labelled(&b, "Contraseña", ALEX.1).await;
    press(&b, "Iniciar sesión").await;
    wait_step(&b, "consent").await;
    let visible = visible_consent_text(&b).await;
    assert!(
        visible.contains(function_block_description(5, Lang::Es)),
        "data described in Spanish:\n{visible}"
    );
    button(&b, "Rechazar").await;
    check_a11y(&b, "portal (es): consent").await;
    press(&b, "Autorizar").await;
    wait_step(&b, "done").await;
    check_a11y(&b, "portal (es): done").await;
    let authorized: Vec<_> = events(&b)
        .await
        .into_iter()
        .filter(|(t, _)| t == "gb-consent:authorized")
        .collect();
    assert_eq!(authorized.len(), 1, "one authorized event");
    press(&b, &format!("Continuar a {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    assert!(grant.scope.starts_with("FB="), "{}", grant.scope);
    b.close().await;
}

/// In the portal, the host cancels `gb-consent:declined` (it handles the
/// navigation itself): the widget stays on its "You declined" page, which
/// must be accessible, and nothing reaches the third party until the
/// customer follows the link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_decline_cancelled_by_the_host_shows_the_declined_page() {
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let b = browser(Options::default()).await;
    b.add_init_script(
        "document.addEventListener('gb-consent:declined', (e) => e.preventDefault(), true);",
    )
    .await;
    b.client
        .goto(&server.url(&format!("/consent/portal.html?request={request}")))
        .await
        .unwrap();
    wait_step(&b, "sign-in").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    press(&b, "Decline").await;
    wait_step(&b, "done").await;
    assert_eq!(text(&b, "gb-consent .gbc-h").await, "You declined");
    assert!(
        page_text(&b)
            .await
            .contains(&format!("Nothing was shared with {NAME}."))
    );
    check_a11y(&b, "portal: declined").await;
    let evs = events(&b).await;
    let declined: Vec<_> = evs
        .iter()
        .filter(|(t, _)| t == "gb-consent:declined")
        .collect();
    assert_eq!(declined.len(), 1, "one declined event: {evs:?}");
    assert_eq!(declined[0].1["request_id"], request.as_str());
    // The widget decided on its redirect when it dispatched the event,
    // before it showed the declined page: the browser is still on the
    // portal, and the third party has heard nothing.
    let portal = server.url("/consent/portal.html");
    let at = b.client.current_url().await.unwrap().to_string();
    assert!(at.starts_with(&portal), "still on the portal: {at}");
    assert_eq!(
        tp.catcher.count(),
        0,
        "a cancelled event stops the widget's redirect"
    );
    // What follows: the customer's own "Continue" is the one navigation
    // that reaches the third party.
    press(&b, &format!("Continue to {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    assert_eq!(param(&params, "error"), "access_denied");
    assert_eq!(param(&params, "state"), attempt.state);
    wait_url(&b, &tp.redirect_uri, Duration::from_secs(10)).await;
    assert_eq!(
        tp.catcher.count(),
        1,
        "only the customer's Continue reached the third party"
    );
    b.close().await;
}

/// The hosted page in an iframe of a registered origin: the consent page
/// allows exactly that framer, posts its events to exactly that origin,
/// and leaves the navigation to the top page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framed_by_a_registered_origin_posts_events_to_it() {
    let server = TestServer::start().await;
    let tp = server
        .third_party_with(NAME, |c, origin| {
            c.frame_ancestors = vec![origin.to_string()]
        })
        .await;
    let parent = tp.catcher.origin();
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let src = server.url(&format!(
        "/consent/?request={request}&parent_origin={}",
        enc(&parent)
    ));
    let resp = reqwest::get(&src).await.unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains(&format!("frame-ancestors {parent}")), "{csp}");

    let b = browser(Options::default()).await;
    b.client.goto(&tp.catcher.host_page(&src)).await.unwrap();
    b.wait_for("iframe#consent").await;
    b.client
        .enter_frame(0)
        .await
        .expect("enter the consent frame");
    wait_step(&b, "sign-in").await;
    check_a11y(&b, "framed: sign-in").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    check_a11y(&b, "framed: done").await;
    b.client.enter_parent_frame().await.unwrap();
    // The parent has the authorized message: the widget has taken its
    // decision on the navigation.
    let msgs = posted_until(&b, "gb-consent:authorized").await;
    assert!(
        !msgs.is_empty(),
        "the parent received the widget's messages"
    );
    for (origin, t, d) in &msgs {
        assert_eq!(
            origin, &server.base,
            "{t} comes from the consent page's origin"
        );
        assert_eq!(
            d["request_id"],
            request.as_str(),
            "{t} carries the request id"
        );
        assert_eq!(d["version"], 1);
    }
    let types: Vec<&str> = msgs.iter().map(|(_, t, _)| t.as_str()).collect();
    for t in [
        "gb-consent:ready",
        "gb-consent:step",
        "gb-consent:authorized",
    ] {
        assert!(types.contains(&t), "the parent got {t}: {types:?}");
    }
    let at = b.client.current_url().await.unwrap().to_string();
    assert!(
        !at.starts_with(&tp.redirect_uri),
        "the top page is still the framer's: {at}"
    );
    assert_eq!(
        tp.catcher.count(),
        0,
        "a framed widget does not navigate by itself"
    );
    // The customer's "Continue" replaces the whole page (not the frame)
    // with the third party's redirect URI, code and all.
    b.client.enter_frame(0).await.unwrap();
    press(&b, &format!("Continue to {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    check_response(&params, &attempt, &server);
    b.client.enter_parent_frame().await.unwrap();
    wait_url(&b, &tp.redirect_uri, Duration::from_secs(10)).await;
    assert_eq!(
        tp.catcher.count(),
        1,
        "only the customer's Continue reached the third party"
    );
    b.close().await;
}

/// An unregistered framer is refused (CSP `frame-ancestors`), and a
/// `parent_origin` the client did not register gets no message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unregistered_framers_and_parent_origins_get_nothing() {
    let server = TestServer::start().await;
    let b = browser(Options::default()).await;

    // 1. Registered framer, but the page is told to post to another origin.
    let tp = server
        .third_party_with(NAME, |c, origin| {
            c.frame_ancestors = vec![origin.to_string()]
        })
        .await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let src = server.url(&format!(
        "/consent/?request={request}&parent_origin={}",
        enc("http://127.0.0.1:9")
    ));
    b.client.goto(&tp.catcher.host_page(&src)).await.unwrap();
    b.wait_for("iframe#consent").await;
    b.client.enter_frame(0).await.unwrap();
    wait_step(&b, "sign-in").await;
    b.client.enter_parent_frame().await.unwrap();
    settle(&b).await;
    assert_eq!(
        posted(&b).await,
        vec![],
        "no message to an origin the client did not register"
    );

    // 2. A client that registered no framer: its consent page refuses frames.
    let other = server.third_party("Unframed Co").await;
    let attempt = other.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let src = server.url(&format!("/consent/?request={request}"));
    let resp = reqwest::get(&src).await.unwrap();
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let _ = b.console_log().await;
    b.client.goto(&other.catcher.host_page(&src)).await.unwrap();
    b.wait_for("iframe#consent").await;
    let log = console_until(&b, frame_refused).await;
    assert!(
        frame_refused(&log),
        "the browser refused to frame the consent page: {log:?}"
    );
    b.client.enter_frame(0).await.unwrap();
    assert!(
        b.client.find(Locator::Css(".gbc")).await.is_err(),
        "no widget inside a refused frame"
    );
    b.close().await;
}
