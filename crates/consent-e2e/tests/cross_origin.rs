//! Embedding across origins and sites, over real https origins: the
//! consent server at `https://auth.utility.test:PORT` (TLS with a
//! certificate the test makes), the utility's portal at
//! `https://my.utility.test:PORT` (same site, another origin) or a vendor's
//! at `https://portal-vendor.test:PORT` (another site, third-party cookies
//! blocked). Chromium maps `*.test` to loopback and trusts the test key
//! (`consent_e2e::tls`). The portal page is the README's embedding snippet
//! as written (the consent origin for `auth.example.com`, the request id
//! for `…`).
//!
//! Run: `./scripts/build-web.sh`, then
//! `cargo test -p consent-e2e --test cross_origin`.

mod common;

use common::*;
use consent_e2e::tls::{AUTH_HOST, PORTAL_HOST, Portal, TestTls, UNREGISTERED_HOST, VENDOR_HOST};

/// The consent server over https, a portal, and a third party that
/// registered the portal's origin on `registered` hosts as embed origins.
struct World {
    tls: TestTls,
    portal: Portal,
    server: TestServer,
    tp: ThirdParty,
}

async fn world(consent_page_host: Option<&str>, registered: &[&str]) -> World {
    let tls = TestTls::new();
    let portal = Portal::start(&tls).await;
    let page = consent_page_host.map(|h| portal.url(h, "/connect"));
    let server = TestServer::start_https(&tls, AUTH_HOST, |c| {
        if let Some(page) = page {
            c.consent_page = page;
        }
    })
    .await;
    portal.set_consent_origin(&server.base);
    let origins: Vec<String> = registered.iter().map(|h| portal.origin(h)).collect();
    let tp = server
        .third_party_with(NAME, |c, _| c.frame_ancestors = origins)
        .await;
    World {
        tls,
        portal,
        server,
        tp,
    }
}

async fn chromium(w: &World, block_third_party_cookies: bool) -> Browser {
    browser(Options {
        args: w.tls.chromium_args(),
        third_party_cookies_blocked: Some(block_third_party_cookies),
        ..Options::default()
    })
    .await
}

/// The consent session cookies the browser holds (CDP), as `name@domain`.
async fn session_cookies(b: &Browser) -> Vec<String> {
    let all = b.cdp("Network.getAllCookies", serde_json::json!({})).await;
    all["cookies"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.contains("gbcd_session"))
        })
        .map(|c| format!("{}@{}", c["name"], c["domain"]))
        .collect()
}

/// Whether a page of `page_host` keeps a cookie another site
/// (`probe_host`) sets in a credentialed fetch: proves the browser's
/// third-party cookie setting.
async fn third_party_cookie_kept(
    b: &Browser,
    w: &World,
    page_host: &str,
    probe_host: &str,
) -> bool {
    b.client
        .goto(&w.portal.url(page_host, "/host?src=about:blank"))
        .await
        .expect("open the probe page");
    let script = format!(
        "return fetch('{set}', {{ credentials: 'include' }})
           .then(() => fetch('{read}', {{ credentials: 'include' }}))
           .then((r) => r.text(), (e) => 'failed: ' + e);",
        set = w.portal.url(probe_host, "/probe/set"),
        read = w.portal.url(probe_host, "/probe/read"),
    );
    let seen = js(b, &script).await;
    eprintln!("third-party cookie probe from {page_host} to {probe_host}: {seen}");
    seen == "cookie"
}

/// The customer follows the third party's link, lands on the portal
/// (the authorization endpoint sends them there), signs in and authorizes
/// in the embedded widget; the portal gets the events; the third party
/// receives and redeems the code.
async fn embedded_flow(w: &World, b: &Browser, portal_host: &str) {
    let attempt = w.tp.authorize(&w.server, SCOPE);
    assert!(attempt.url.starts_with("https://auth.utility.test:"));
    b.client.goto(&attempt.url).await.expect("open the link");
    wait_step(b, "sign-in").await;
    let at = b.client.current_url().await.expect("url").to_string();
    assert!(
        at.starts_with(&w.portal.url(portal_host, "/connect?request=")),
        "the customer is on the portal: {at}"
    );
    assert_eq!(
        js(
            b,
            "return !!document.querySelector('gb-consent .gbc[data-step]')"
        )
        .await,
        true,
        "the widget mounts inside the README's <gb-consent> element"
    );
    sign_in_password(b, ALEX.1).await;
    wait_step(b, "consent").await;
    press(b, "Authorize").await;
    wait_step(b, "done").await;

    // The portal received the events (its own log and the recorder).
    let evs = events(b).await;
    let names: Vec<&str> = evs.iter().map(|(t, _)| t.as_str()).collect();
    for t in ["gb-consent:ready", "gb-consent:authorized"] {
        assert!(names.contains(&t), "the portal got {t}: {names:?}");
    }
    let log = text(b, "#event-log").await;
    assert!(log.contains("gb-consent:authorized"), "{log}");
    let scope = evs
        .iter()
        .find(|(t, _)| t == "gb-consent:authorized")
        .and_then(|(_, d)| d["scope"].as_str())
        .expect("the granted scope")
        .to_string();
    assert_eq!(
        csp_violations(b).await,
        Vec::<serde_json::Value>::new(),
        "the portal's strict CSP (script, style and connect from the consent origin) suffices"
    );
    assert_eq!(
        session_cookies(b).await,
        Vec::<String>::new(),
        "the embedded widget's session never was a cookie"
    );

    press(b, &format!("Continue to {NAME}")).await;
    let params = w.tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &w.server);
    let grant =
        w.tp.exchange_with(&w.tls.http_client(&w.server), &w.server, &attempt, &code)
            .await;
    assert_eq!(grant.scope, scope, "the third party gets what was granted");
}

/// Same site, other origin: `my.utility.test` embeds the widget served by
/// `auth.utility.test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_on_another_origin_of_the_same_site_embeds_the_widget() {
    let w = world(Some(PORTAL_HOST), &[PORTAL_HOST]).await;
    let b = chromium(&w, false).await;
    assert!(
        third_party_cookie_kept(&b, &w, VENDOR_HOST, AUTH_HOST).await,
        "without the setting the probe sees its cookie (so the probe can tell)"
    );
    embedded_flow(&w, &b, PORTAL_HOST).await;
    b.close().await;
}

/// Another site, third-party cookies blocked: a vendor's portal embeds the
/// widget; the session travels in the header, so the flow still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_on_another_site_embeds_the_widget_with_third_party_cookies_blocked() {
    let w = world(Some(VENDOR_HOST), &[VENDOR_HOST]).await;
    let b = chromium(&w, true).await;
    assert!(
        !third_party_cookie_kept(&b, &w, VENDOR_HOST, AUTH_HOST).await,
        "this browser blocks third-party cookies"
    );
    embedded_flow(&w, &b, VENDOR_HOST).await;
    b.close().await;
}

/// The request id `/oauth/authorize` hands out (as the third party's
/// backend would see it, over https).
async fn request_id(w: &World, authorization_url: &str) -> String {
    w.server
        .request_id_via(&w.tls.http_client(&w.server), authorization_url)
        .await
}

/// Another site frames the hosted page, third-party cookies blocked: the
/// framed page keeps its session in the header, the customer authorizes,
/// the framer gets the messages and the third party the code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_page_framed_by_another_site_works_with_third_party_cookies_blocked() {
    let w = world(None, &[VENDOR_HOST]).await;
    let b = chromium(&w, true).await;
    assert!(
        !third_party_cookie_kept(&b, &w, VENDOR_HOST, PORTAL_HOST).await,
        "this browser blocks third-party cookies"
    );
    let attempt = w.tp.authorize(&w.server, SCOPE);
    let request = request_id(&w, &attempt.url).await;
    let parent = w.portal.origin(VENDOR_HOST);
    let src = w.server.url(&format!(
        "/consent/?request={request}&parent_origin={}",
        enc(&parent)
    ));
    b.client
        .goto(
            &w.portal
                .url(VENDOR_HOST, &format!("/host?src={}", enc(&src))),
        )
        .await
        .expect("open the framing page");
    b.wait_for("iframe#consent").await;
    b.client.enter_frame(0).await.expect("enter the frame");
    wait_step(&b, "sign-in").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    b.client
        .enter_parent_frame()
        .await
        .expect("back to the framer");
    let msgs = posted_until(&b, "gb-consent:authorized").await;
    assert!(
        msgs.iter().any(|(_, t, _)| t == "gb-consent:authorized"),
        "the framer got the authorized message: {msgs:?}"
    );
    assert!(
        msgs.iter().all(|(o, _, _)| *o == w.server.base),
        "from the consent origin: {msgs:?}"
    );
    assert_eq!(session_cookies(&b).await, Vec::<String>::new());
    b.client.enter_frame(0).await.expect("enter the frame");
    press(&b, &format!("Continue to {NAME}")).await;
    let params = w.tp.catcher.wait(20).await;
    let code = check_response(&params, &attempt, &w.server);
    w.tp.exchange_with(&w.tls.http_client(&w.server), &w.server, &attempt, &code)
        .await;
    b.close().await;
}

/// A portal origin nobody registered: the widget's files and the consent
/// API give it no CORS answer (nothing loads, nothing is read), and the
/// hosted page refuses its frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unregistered_portal_gets_no_cors_answer_and_no_frame() {
    let w = world(None, &[PORTAL_HOST]).await;
    let b = chromium(&w, false).await;
    let attempt = w.tp.authorize(&w.server, SCOPE);
    let request = request_id(&w, &attempt.url).await;

    let _ = b.console_log().await;
    b.client
        .goto(
            &w.portal
                .url(UNREGISTERED_HOST, &format!("/connect?request={request}")),
        )
        .await
        .expect("open the unregistered portal");
    let cors_refused = |log: &[(String, String)]| log.iter().any(|(_, m)| m.contains("CORS"));
    let log = console_until(&b, cors_refused).await;
    assert!(
        cors_refused(&log),
        "the browser refused embed.js for want of CORS: {log:?}"
    );
    settle(&b).await;
    assert_eq!(
        js(&b, "return !!document.querySelector('.gbc')").await,
        false,
        "no widget on an unregistered portal"
    );
    // Its own script cannot call the consent API either (no
    // Access-Control-Allow-Origin for it), so it cannot bind the request.
    let api = w.server.url(&format!("/api/consent/requests/{request}"));
    let outcome = js(
        &b,
        &format!(
            "return fetch('{api}', {{ credentials: 'include', headers: {{ 'X-Consent-Session': 'new' }} }})
               .then((r) => 'answered ' + r.status, (e) => 'refused');"
        ),
    )
    .await;
    assert_eq!(outcome, "refused");

    // Framing the hosted page: refused by frame-ancestors.
    let src = w.server.url(&format!("/consent/?request={request}"));
    let _ = b.console_log().await;
    b.client
        .goto(
            &w.portal
                .url(UNREGISTERED_HOST, &format!("/host?src={}", enc(&src))),
        )
        .await
        .expect("open the framing page");
    b.wait_for("iframe#consent").await;
    let log = console_until(&b, frame_refused).await;
    assert!(frame_refused(&log), "the frame was refused: {log:?}");
    b.client.enter_frame(0).await.expect("enter the frame");
    assert!(
        b.client.find(Locator::Css(".gbc")).await.is_err(),
        "no widget inside a refused frame"
    );
    b.client.enter_parent_frame().await.expect("back");

    // The registered portal still can: the request was never bound.
    b.client
        .goto(
            &w.portal
                .url(PORTAL_HOST, &format!("/connect?request={request}")),
        )
        .await
        .expect("open the registered portal");
    wait_step(&b, "sign-in").await;
    b.close().await;
}
