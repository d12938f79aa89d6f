//! "Your data sharing" (`/consent/sharing`, the page the receipt mail links
//! to): a customer with no authorization request signs in, sees what they
//! share, stops it; the third party's next resource call gets 401.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test sharing`.

mod common;

use common::*;

/// Authorizes `tp` as Alex in a browser of its own; the third party's grant.
async fn grant(server: &TestServer, tp: &ThirdParty) -> Grant {
    let b = browser(Options::default()).await;
    let attempt = open(&b, server, tp, SCOPE).await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    let params = authorize(&b, tp).await;
    let code = check_response(&params, &attempt, server);
    let grant = tp.exchange(server, &attempt, &code).await;
    b.close().await;
    grant
}

async fn resource_status(grant: &Grant) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/UsagePoint", grant.resource_uri))
        .bearer_auth(&grant.access_token)
        .send()
        .await
        .expect("GET UsagePoint")
        .status()
        .as_u16()
}

/// Signs in on `/consent/sharing{query}` with a fresh browser and stops the
/// sharing with `NAME`; `words`: the username and password labels, the
/// sign-in button, the page heading, the stop button, the stopped status.
async fn stop_sharing(server: &TestServer, query: &str, words: [&str; 6]) {
    let [username, password, sign_in, heading, stop, stopped] = words;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url(&format!("/consent/sharing{query}")))
        .await
        .expect("open /consent/sharing");
    wait_step(&b, "sign-in").await;
    check_a11y(&b, "sharing: sign-in").await;
    fill_labelled(&b, username, ALEX.0).await;
    fill_labelled(&b, password, ALEX.1).await;
    press(&b, sign_in).await;
    wait_step(&b, "sharing").await;
    eventually(Duration::from_secs(10), || async {
        if page_text(&b).await.contains(NAME) {
            Ok(())
        } else {
            Err(())
        }
    })
    .await
    .expect("the authorization is listed");
    assert_eq!(text(&b, "h1").await, heading);
    check_a11y(&b, "sharing: list").await;
    press(&b, stop).await;
    eventually(Duration::from_secs(10), || async {
        if text(&b, "[role=status]").await.contains(stopped) {
            Ok(())
        } else {
            Err(())
        }
    })
    .await
    .expect("the stop is announced");
    assert!(!page_text(&b).await.contains(stop));
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sharing_and_the_third_partys_token_fails() {
    let (server, tp) = setup().await;
    let g = grant(&server, &tp).await;
    assert_eq!(resource_status(&g).await, 200);
    stop_sharing(
        &server,
        "",
        [
            "Username",
            "Password",
            "Sign in",
            "Your data sharing",
            &format!("Stop sharing with {NAME}"),
            &format!("You stopped sharing with {NAME}."),
        ],
    )
    .await;
    assert_eq!(resource_status(&g).await, 401, "revoked: the token fails");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sharing_in_spanish() {
    let (server, tp) = setup().await;
    let g = grant(&server, &tp).await;
    stop_sharing(
        &server,
        "?lang=es",
        [
            "Nombre de usuario",
            "Contraseña",
            "Iniciar sesión",
            "Sus datos compartidos",
            &format!("Dejar de compartir con {NAME}"),
            &format!("Dejó de compartir con {NAME}."),
        ],
    )
    .await;
    assert_eq!(resource_status(&g).await, 401);
}
