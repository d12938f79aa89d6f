//! Two-factor sign-in (`serve --require-second-factor`): a right password
//! leads to the code step (the code went to the phone on file), and only
//! the code signs in and reaches the consent step; in English and Spanish.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test second_factor`.

mod common;

use common::*;

/// Password, then the code step, then consent; returns nothing (asserts).
async fn password_then_code(languages: Option<&str>, words: [&str; 4]) {
    let [sign_in, heading, code_label, submit] = words;
    let server = TestServer::start_with(|c| c.require_second_factor = true).await;
    let tp = server.third_party(NAME).await;
    let b = browser(Options {
        languages: languages.map(String::from),
        ..Options::default()
    })
    .await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    fill_labelled(
        &b,
        if languages.is_some() {
            "Nombre de usuario"
        } else {
            "Username"
        },
        ALEX.0,
    )
    .await;
    fill_labelled(
        &b,
        if languages.is_some() {
            "Contraseña"
        } else {
            "Password"
        },
        ALEX.1,
    )
    .await;
    press(&b, sign_in).await;
    // The right password is not enough: the code step, naming the phone.
    wait_step(&b, "code").await;
    assert_eq!(text(&b, ".gbc-h").await, heading);
    assert!(text(&b, "[role=status]").await.contains("0100"));
    check_a11y(&b, "code (second factor)").await;
    let code = server.wait_code(1).await;
    assert_eq!(server.outbox_messages()[0]["to"], "+15555550100");
    fill_labelled(&b, code_label, &code).await;
    press(&b, submit).await;
    wait_step(&b, "consent").await;
    if languages.is_none() {
        let params = authorize(&b, &tp).await;
        let code = check_response(&params, &attempt, &server);
        let grant = tp.exchange(&server, &attempt, &code).await;
        assert!(!grant.usage_point_saids().await.is_empty());
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_then_code_then_consent() {
    password_then_code(
        None,
        [
            "Sign in",
            "Check your phone",
            "Enter the 6-digit code",
            "Continue",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_then_code_then_consent_in_spanish() {
    password_then_code(
        Some("es-ES,es"),
        [
            "Iniciar sesión",
            "Revise su teléfono",
            "Escriba el código de 6 dígitos",
            "Continuar",
        ],
    )
    .await;
}
