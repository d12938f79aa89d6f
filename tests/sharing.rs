//! "Your data sharing" (`sharing: true`): sign in without a request, see
//! every active authorization in plain words, stop one.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SESSION: &str = r#"{"csrf_token":"csrf-s","sign_in":{"methods":["password","account_otp","phone_otp","email_otp"]},"customer":null}"#;

fn entry(id: &str, name: &str, status: &str) -> String {
    format!(
        r#"{{"authorization_id":"{id}","third_party":"{name}","scope":"FB=1_4_51;IntervalDuration=3600;HistoryLength=31536000;AdditionalScope=meters-all","meters":[{{"said":"E-100","label":"Home electricity","address":"1 Main St, Springfield","service_kind":"electricity"}}],"granted_at":1800000000,"end_date":1900000000,"history_length":31536000,"status":"{status}"}}"#
    )
}

fn list(entries: &[String]) -> String {
    format!(
        r#"{{"csrf_token":"csrf-l","authorizations":[{}]}}"#,
        entries.join(",")
    )
}

fn sharing(fake: &std::rc::Rc<Fake>, lang: &str) -> Mounted {
    let lang = lang.to_string();
    mount_with(fake, move |c| {
        c.sharing = true;
        c.request_id = String::new();
        c.locale = Some(lang);
    })
}

#[wasm_bindgen_test]
async fn signs_in_without_a_request_then_lists_what_is_shared() {
    let fake = Fake::new();
    fake.on("GET", "/api/customer/session", 200, SESSION);
    fake.on("POST", "/api/customer/sign-in/password", 200, &customer());
    fake.on(
        "GET",
        "/api/customer/authorizations",
        200,
        &list(&[
            entry("a-1", "Sunny Solar", "active"),
            entry("a-2", "Old App", "revoked"),
        ]),
    );
    let m = sharing(&fake, "en");
    m.step("sign-in").await;
    assert_eq!(m.heading(), "Sign in to see your data sharing");
    // No request: nothing to decline.
    assert!(!m.has_button("Cancel"));
    m.fill("Username", "ana");
    m.fill("Password", "right");
    m.click("Sign in");
    m.step("sharing").await;
    let call = &fake.calls_to("/api/customer/sign-in/password")[0];
    assert_eq!(call.csrf.as_deref(), Some("csrf-s"));
    m.until("list", |m| m.has_text("Sunny Solar")).await;
    assert_eq!(m.heading(), "Your data sharing");
    // Only the active one, in plain words.
    assert!(!m.has_text("Old App"));
    assert!(m.has_text("Home electricity"), "{}", m.text());
    assert!(m.has_text("March 17, 2030"), "{}", m.text());
    assert!(m.has_button("Stop sharing with Sunny Solar"));
}

#[wasm_bindgen_test]
async fn stopping_revokes_and_says_so() {
    let fake = Fake::new();
    fake.on(
        "GET",
        "/api/customer/session",
        200,
        &SESSION.replace(
            r#""customer":null"#,
            &format!(r#""customer":{}"#, customer()),
        ),
    );
    fake.once(
        "GET",
        "/api/customer/authorizations",
        200,
        &list(&[entry("a-1", "Sunny Solar", "active")]),
    );
    fake.on(
        "GET",
        "/api/customer/authorizations",
        200,
        &list(&[entry("a-1", "Sunny Solar", "revoked")]),
    );
    fake.on("POST", "/api/customer/authorizations/a-1/revoke", 204, "");
    let m = sharing(&fake, "en");
    m.step("sharing").await;
    m.until("list", |m| m.has_button("Stop sharing with Sunny Solar"))
        .await;
    m.click("Stop sharing with Sunny Solar");
    m.until("stopped", |m| {
        m.has_text("You stopped sharing with Sunny Solar. They can no longer get your data.")
    })
    .await;
    let call = &fake.calls_to("/revoke")[0];
    assert_eq!(
        call.csrf.as_deref(),
        Some("csrf-l"),
        "the list's CSRF token"
    );
    assert!(m.has_text("You are not sharing your energy data with anyone."));
    assert!(m.q(".gbc-error-summary").is_none_or(|e| !visible(&e)));
}

#[wasm_bindgen_test]
async fn in_spanish_and_signed_out_meanwhile() {
    let fake = Fake::new();
    fake.on("GET", "/api/customer/session", 200, SESSION);
    fake.on("POST", "/api/customer/sign-in/password", 200, &customer());
    fake.once(
        "GET",
        "/api/customer/authorizations",
        200,
        &list(&[entry("a-1", "Sunny Solar", "active")]),
    );
    fake.on(
        "POST",
        "/revoke",
        401,
        r#"{"error":"not_signed_in","message":"x"}"#,
    );
    let m = sharing(&fake, "es");
    m.step("sign-in").await;
    assert_eq!(m.heading(), "Inicie sesión para ver sus datos compartidos");
    m.fill("Nombre de usuario", "ana");
    m.fill("Contraseña", "right");
    m.click("Iniciar sesión");
    m.step("sharing").await;
    m.until("lista", |m| {
        m.has_button("Dejar de compartir con Sunny Solar")
    })
    .await;
    assert_eq!(m.heading(), "Sus datos compartidos");
    m.click("Dejar de compartir con Sunny Solar");
    // The session ended meanwhile: back to sign-in, nothing claimed.
    m.step("sign-in").await;
    assert!(!m.has_text("Dejó de compartir"));
}
