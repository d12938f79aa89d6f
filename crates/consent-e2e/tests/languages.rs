//! Languages: Spanish from the browser language and from the `lang`
//! parameter.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test languages`.

mod common;

use common::*;

/// Spanish from the browser's languages (Accept-Language /
/// navigator.languages), on the real third-party URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spanish_from_the_browser_language() {
    let (server, tp) = setup().await;
    let b = browser(Options {
        languages: Some("es-ES,es".to_string()),
        ..Options::default()
    })
    .await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    assert_eq!(js(&b, "return document.documentElement.lang").await, "es");
    assert_eq!(
        text(&b, "h1").await,
        "Inicie sesión para compartir sus datos de energía"
    );
    check_a11y(&b, "sign-in (es)").await;
    fill_labelled(&b, "Nombre de usuario", ALEX.0).await;
    fill_labelled(&b, "Contraseña", ALEX.1).await;
    press(&b, "Iniciar sesión").await;
    wait_step(&b, "consent").await;
    check_a11y(&b, "consent (es)").await;
    assert_eq!(
        text(&b, "h1").await,
        format!("¿Compartir sus datos de energía con {NAME}?")
    );
    button(&b, "Autorizar").await;
    button(&b, "Rechazar").await;
    let visible = visible_consent_text(&b).await;
    assert!(
        visible.contains(function_block_description(5, Lang::Es)),
        "data described in Spanish:\n{visible}"
    );
    assert!(title(&b).await.contains("Compartir sus datos de energía"));
    press(&b, "Autorizar").await;
    wait_step(&b, "done").await;
    check_a11y(&b, "done (es)").await;
    press(&b, &format!("Continuar a {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    check_response(&params, &attempt, &server);
    b.close().await;
}

/// Spanish from the page's `lang` parameter, whatever the browser says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spanish_from_the_lang_parameter() {
    let (server, tp) = setup().await;
    let attempt = tp.authorize(&server, SCOPE);
    let request = server.request_id_for(&attempt.url).await;
    let b = browser(Options::default()).await;
    b.client
        .goto(&server.url(&format!("/consent/?request={request}&lang=es")))
        .await
        .unwrap();
    wait_step(&b, "sign-in").await;
    assert_eq!(js(&b, "return document.documentElement.lang").await, "es");
    assert_eq!(
        text(&b, "h1").await,
        "Inicie sesión para compartir sus datos de energía"
    );
    button(&b, "Iniciar sesión").await;
    check_a11y(&b, "sign-in (lang=es)").await;
    b.close().await;
}
