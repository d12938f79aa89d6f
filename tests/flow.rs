//! Start, sign-in and one-time code steps, with every error state.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CTX: &str = "/api/consent/requests/req-123";

#[wasm_bindgen_test]
async fn loads_the_request_then_shows_sign_in() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount(&fake);
    assert!(m.has_text("Loading"), "never blank while loading");
    m.step("sign-in").await;
    assert_eq!(m.heading(), "Sign in to share your energy data");
    assert!(m.has_text("Sunny Solar is asking to see some of your energy data"));
    assert_eq!(m.labelled("Username").type_(), "text");
    assert_eq!(m.labelled("Password").type_(), "password");
    assert!(m.has_button("Sign in"));
    // The choice of method is a fieldset with a legend.
    let legend = m.q("fieldset legend").unwrap().text_content().unwrap();
    assert_eq!(legend, "How do you want to sign in?");
    // Embedded: the first render does not steal the host page's focus.
    assert!(m.focused().is_none_or(|f| !m.el.contains(Some(&f))));
    let names = m.event_names();
    assert!(names.contains(&"gb-consent:ready".to_string()), "{names:?}");
}

#[wasm_bindgen_test]
async fn unknown_expired_decided_and_foreign_requests_get_a_clear_page() {
    for (status, code, heading) in [
        (404, "unknown_request", "We can't find this request"),
        (410, "request_expired", "This request has expired"),
        (
            410,
            "request_decided",
            "This request has already been answered",
        ),
        (
            403,
            "request_not_yours",
            "This request was opened somewhere else",
        ),
    ] {
        let fake = Fake::new();
        fake.on(
            "GET",
            CTX,
            status,
            &format!(r#"{{"error":"{code}","message":"x"}}"#),
        );
        let m = mount(&fake);
        m.step("error").await;
        assert_eq!(m.heading(), heading);
        assert!(!m.has_button("Retry"), "{code}: retrying cannot help");
        let e = m.event("gb-consent:error").expect("error event");
        assert_eq!(js_str(&e, "code").as_deref(), Some(code));
        assert_eq!(js_num(&e, "version"), Some(1.0));
        assert_eq!(js_str(&e, "request_id").as_deref(), Some(REQ));
    }
}

#[wasm_bindgen_test]
async fn a_missing_request_id_is_an_unknown_request() {
    let fake = Fake::new();
    let m = mount_with(&fake, |c| c.request_id.clear());
    m.step("error").await;
    assert_eq!(m.heading(), "We can't find this request");
    assert!(fake.calls.borrow().is_empty());
}

#[wasm_bindgen_test]
async fn backend_unreachable_offers_retry() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.once("GET", CTX, 0, "");
    let m = mount_with(&fake, |c| c.hosted = true);
    m.step("error").await;
    assert_eq!(m.heading(), "We can't connect right now");
    m.click("Retry");
    m.step("sign-in").await;
    // Hosted page: focus moves to the new step's heading, the title follows.
    assert_eq!(m.focused().unwrap().class_name(), "gbc-h");
    assert!(
        document()
            .title()
            .starts_with("Sign in to share your energy data")
    );
    let server = Fake::new();
    server.on("GET", CTX, 500, "{}");
    let m2 = mount(&server);
    m2.step("error").await;
    assert_eq!(m2.heading(), "Something went wrong");
    assert!(m2.has_button("Retry"));
}

#[wasm_bindgen_test]
async fn empty_fields_show_an_error_summary_that_takes_focus() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount_with(&fake, |c| c.hosted = true);
    m.step("sign-in").await;
    m.click("Sign in");
    m.until("error summary", |m| m.q(".gbc-error-summary").is_some())
        .await;
    let summary = m.q(".gbc-error-summary").unwrap();
    assert!(
        summary
            .text_content()
            .unwrap()
            .contains("There is a problem")
    );
    assert_eq!(m.focused().unwrap(), summary, "the summary takes focus");
    assert!(document().title().starts_with("Error: "));
    let links = m.qa(".gbc-error-summary a");
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].text_content().unwrap(), "Enter your username");
    // Each link points at its field; the same words are shown inline.
    let user = m.labelled("Username");
    assert_eq!(
        links[0].get_attribute("href").unwrap(),
        format!("#{}", user.id())
    );
    assert_eq!(user.get_attribute("aria-invalid").as_deref(), Some("true"));
    let inline = m
        .qa(".gbc-error-message")
        .into_iter()
        .find(visible)
        .unwrap()
        .text_content()
        .unwrap();
    assert!(inline.ends_with("Enter your username"), "{inline}");
    links[1].unchecked_ref::<web_sys::HtmlElement>().click();
    settle().await;
    assert_eq!(m.focused().unwrap().id(), m.labelled("Password").id());
    assert!(fake.calls_to("/sign-in/password").is_empty());
    // Fixing and sending clears the "Error: " title.
    fake.on("POST", "/sign-in/password", 200, &customer());
    m.fill("Username", "ana");
    m.fill("Password", "secret");
    m.click("Sign in");
    m.step("consent").await;
    assert!(!document().title().starts_with("Error: "));
}

#[wasm_bindgen_test]
async fn wrong_password_is_explained_and_right_one_signs_in() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.once(
        "POST",
        "/sign-in/password",
        401,
        r#"{"error":"invalid_credentials","message":"no"}"#,
    );
    fake.on("POST", "/sign-in/password", 200, &customer());
    let m = mount(&fake);
    m.step("sign-in").await;
    m.fill("Username", "ana");
    m.fill("Password", "wrong");
    m.click("Sign in");
    m.until("error", |m| {
        m.has_text("The username or password is not right")
    })
    .await;
    assert_eq!(m.data_step(), "sign-in");
    let call = &fake.calls_to("/sign-in/password")[0];
    assert_eq!(
        call.csrf.as_deref(),
        Some("csrf-abc"),
        "CSRF header on every POST"
    );
    assert_eq!(js_str(&call.json(), "username").as_deref(), Some("ana"));
    m.fill("Password", "right");
    m.click("Sign in");
    m.step("consent").await;
    // Focus moves to the heading of the new step.
    assert_eq!(m.focused().unwrap().class_name(), "gbc-h");
    assert!(m.has_text("Signed in as Ana Díaz."));
}

#[wasm_bindgen_test]
async fn too_many_sign_in_attempts_says_how_long_to_wait() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/password",
        429,
        r#"{"error":"too_many_attempts","message":"no","retry_after":120}"#,
    );
    let m = mount(&fake);
    m.step("sign-in").await;
    m.fill("Username", "ana");
    m.fill("Password", "x");
    m.click("Sign in");
    m.until("wait", |m| {
        m.has_text("Too many tries. Wait 2 minutes, then try again.")
    })
    .await;
}

#[wasm_bindgen_test]
async fn signed_in_session_skips_sign_in() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    let m = mount(&fake);
    m.step("consent").await;
    assert!(m.qa("input[type=password]").is_empty());
}

fn challenge(to: &str, resend_after: u32) -> String {
    format!(
        r#"{{"challenge_id":"ch-1","channel":"sms","sent_to":"{to}","expires_in":600,"resend_after":{resend_after},"proves_mailbox_only":false}}"#
    )
}

async fn at_code_step(fake: &std::rc::Rc<Fake>, resend_after: u32) -> Mounted {
    at_code_step_with(fake, resend_after, false).await
}

async fn at_code_step_with(fake: &std::rc::Rc<Fake>, resend_after: u32, hosted: bool) -> Mounted {
    let sign_in = r#"{"methods":["password","phone_otp"],"hint":{"method":"phone_otp","value":"5554443333"}}"#;
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", sign_in, "null"),
    );
    fake.on(
        "POST",
        "/sign-in/otp",
        201,
        &challenge("(•••) •••-3333", resend_after),
    );
    let m = mount_with(fake, |c| c.hosted = hosted);
    m.step("sign-in").await;
    m.click("Send code");
    m.step("code").await;
    m
}

#[wasm_bindgen_test]
async fn auth_hint_picks_the_phone_and_prefills_it() {
    let fake = Fake::new();
    let m = at_code_step(&fake, 30).await;
    let call = &fake.calls_to("/sign-in/otp")[0];
    let body = call.json();
    assert_eq!(js_str(&body, "channel").as_deref(), Some("sms"));
    assert_eq!(
        js_str(&js_get(&body, "identify"), "phone").as_deref(),
        Some("5554443333")
    );
    assert_eq!(m.heading(), "Check your phone");
    assert!(m.has_text("We sent a 6-digit code to (•••) •••-3333. It expires in 10 minutes."));
    let status = m.q("[role=status]").unwrap().text_content().unwrap();
    assert_eq!(status, "Code sent to (•••) •••-3333.");
}

#[wasm_bindgen_test]
async fn account_number_and_zip_then_email_code() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/otp",
        201,
        r#"{"challenge_id":"ch-9","channel":"email","sent_to":"a•••@example.com","expires_in":600,"resend_after":30,"proves_mailbox_only":true}"#,
    );
    let m = mount(&fake);
    m.step("sign-in").await;
    m.toggle("With your account number and ZIP code");
    settle().await;
    m.click("Send code");
    m.until("errors", |m| m.qa(".gbc-error-summary li").len() == 2)
        .await;
    assert!(m.has_text("Enter your account number"));
    assert!(m.has_text("Enter your ZIP code"));
    m.fill("Account number", "000123");
    m.fill("ZIP code", "94105");
    m.toggle("By email");
    m.click("Send code");
    m.step("code").await;
    let body = fake.calls_to("/sign-in/otp")[0].json();
    let who = js_get(&body, "identify");
    assert_eq!(js_str(&who, "account_number").as_deref(), Some("000123"));
    assert_eq!(js_str(&who, "zip").as_deref(), Some("94105"));
    assert_eq!(js_str(&body, "channel").as_deref(), Some("email"));
    assert_eq!(m.heading(), "Check your email");
    assert!(m.has_text("only shows that you can open that mailbox"));
}

#[wasm_bindgen_test]
async fn unknown_identity_is_explained() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/otp",
        404,
        r#"{"error":"identity_not_found","message":"no"}"#,
    );
    let m = mount(&fake);
    m.step("sign-in").await;
    m.toggle("With a code sent to your email");
    settle().await;
    m.fill("Email address", "nobody");
    m.click("Send code");
    m.until("format error", |m| {
        m.has_text("Enter an email address like name@example.com")
    })
    .await;
    m.fill("Email address", "nobody@example.com");
    m.click("Send code");
    m.until("not found", |m| {
        m.has_text("We could not find an account with these details")
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_code_field_is_one_accessible_input_and_paste_works() {
    let fake = Fake::new();
    let m = at_code_step(&fake, 30).await;
    assert_eq!(m.qa("form input").len(), 1, "one field, never six boxes");
    let code = m.labelled("code");
    assert_eq!(code.type_(), "text");
    assert_eq!(
        code.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(code.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert!(
        !code.has_attribute("maxlength"),
        "a pasted '123 456' must fit"
    );
    // Empty and malformed codes are caught before any request.
    m.click("Continue");
    m.until("empty", |m| {
        m.has_text("Enter the 6-digit code we sent you")
    })
    .await;
    m.fill("code", "12345");
    m.click("Continue");
    m.until("format", |m| m.has_text("The code must be 6 numbers"))
        .await;
    assert!(fake.calls_to("/verify").is_empty());
    fake.on("POST", "/sign-in/otp/ch-1/verify", 200, &customer());
    m.fill("code", " 123-456 ");
    m.click("Continue");
    m.step("consent").await;
    let body = fake.calls_to("/verify")[0].json();
    assert_eq!(js_str(&body, "code").as_deref(), Some("123456"));
}

#[wasm_bindgen_test]
async fn wrong_expired_throttled_and_locked_codes_have_distinct_messages() {
    let fake = Fake::new();
    let m = at_code_step(&fake, 30).await;
    let verify = "/sign-in/otp/ch-1/verify";
    fake.once(
        "POST",
        verify,
        400,
        r#"{"error":"otp_invalid","message":"x","attempts_left":3}"#,
    );
    m.fill("code", "111111");
    m.click("Continue");
    m.until("wrong", |m| {
        m.has_text("That code is not right. You have 3 more tries.")
    })
    .await;
    fake.once(
        "POST",
        verify,
        400,
        r#"{"error":"otp_invalid","message":"x","attempts_left":1}"#,
    );
    m.click("Continue");
    m.until("one left", |m| m.has_text("You have 1 more try."))
        .await;
    fake.once(
        "POST",
        verify,
        410,
        r#"{"error":"otp_expired","message":"x"}"#,
    );
    m.click("Continue");
    m.until("expired", |m| m.has_text("This code has expired"))
        .await;
    fake.once(
        "POST",
        verify,
        429,
        r#"{"error":"otp_throttled","message":"x","retry_after":45}"#,
    );
    m.click("Continue");
    m.until("throttled", |m| {
        m.has_text("Too many wrong codes. Wait 45 seconds")
    })
    .await;
    fake.once(
        "POST",
        verify,
        429,
        r#"{"error":"otp_locked","message":"x"}"#,
    );
    m.click("Continue");
    m.until("locked", |m| m.has_text("this code is blocked"))
        .await;
    assert!(
        m.labelled("code").disabled(),
        "a locked code cannot be retried"
    );
    assert!(!m.has_button("Continue"));
    m.click("Start again");
    m.step("sign-in").await;
}

#[wasm_bindgen_test]
async fn send_another_code_is_always_visible_with_its_cooldown() {
    let fake = Fake::new();
    let m = at_code_step(&fake, 2).await;
    assert!(m.has_text("Didn't get a code?"));
    assert!(m.disabled("Send another code"));
    assert!(m.has_text("You can ask for another code in 2 seconds."));
    m.until("cooldown over", |m| !m.disabled("Send another code"))
        .await;
    fake.once(
        "POST",
        "/sign-in/otp/ch-1/resend",
        201,
        &challenge("(•••) •••-3333", 1),
    );
    m.click("Send another code");
    m.until("resent", |m| m.has_text("New code sent to (•••) •••-3333"))
        .await;
    assert!(m.disabled("Send another code"), "the cooldown starts again");
    assert_eq!(
        m.focused()
            .unwrap()
            .get_attribute("autocomplete")
            .as_deref(),
        Some("one-time-code")
    );
    // Too many codes: the wait comes from retry_after.
    m.until("cooldown over", |m| !m.disabled("Send another code"))
        .await;
    fake.on(
        "POST",
        "/sign-in/otp/ch-1/resend",
        429,
        r#"{"error":"too_many_codes","message":"x","retry_after":3600}"#,
    );
    m.click("Send another code");
    m.until("too many", |m| {
        m.has_text("You have asked for too many codes. Wait 1 hour, then try again.")
    })
    .await;
    assert!(m.disabled("Send another code"));
    assert!(m.has_text("You can ask for another code in"));
}

#[wasm_bindgen_test]
async fn spanish_labels() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount_with(&fake, |c| c.locale = Some("es-MX".into()));
    m.step("sign-in").await;
    assert_eq!(
        m.heading(),
        "Inicie sesión para compartir sus datos de energía"
    );
    m.labelled("Nombre de usuario");
    m.labelled("Contraseña");
    assert!(m.has_button("Iniciar sesión"));
    assert_eq!(
        m.q(".gbc").unwrap().get_attribute("lang").as_deref(),
        Some("es")
    );
    m.click("Iniciar sesión");
    m.until("errors", |m| m.has_text("Hay un problema")).await;
    assert!(m.has_text("Escriba su nombre de usuario"));
}

#[wasm_bindgen_test]
async fn a_password_that_needs_a_second_factor_goes_to_the_code_step() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/password",
        202,
        &format!(
            r#"{{"outcome":"code_required","challenge":{}}}"#,
            challenge("(•••) •••-0100", 30)
        ),
    );
    fake.on("POST", "/sign-in/otp/ch-1/verify", 200, &customer());
    let m = mount(&fake);
    m.step("sign-in").await;
    m.fill("Username", "ana");
    m.fill("Password", "right");
    m.click("Sign in");
    // Not signed in yet: the code step, saying where the code went.
    m.step("code").await;
    assert_eq!(m.heading(), "Check your phone");
    assert!(m.has_text("We sent a 6-digit code to (•••) •••-0100."));
    assert!(fake.calls_to("/sign-in/otp/ch-1/verify").is_empty());
    m.fill("code", "123456");
    m.click("Continue");
    m.step("consent").await;
    let call = &fake.calls_to("/sign-in/otp/ch-1/verify")[0];
    assert_eq!(js_str(&call.json(), "code").as_deref(), Some("123456"));
}

#[wasm_bindgen_test]
async fn after_a_code_sign_in_the_consent_form_still_works() {
    let fake = Fake::new();
    let m = at_code_step_with(&fake, 30, true).await;
    fake.on("POST", "/sign-in/otp/ch-1/verify", 200, &customer());
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb?code=c","receipt":null}"#,
    );
    fake.once(
        "POST",
        "/sign-in/otp/ch-1/verify",
        400,
        r#"{"error":"otp_invalid","message":"x","attempts_left":9}"#,
    );
    m.fill("code", "000000");
    m.click("Continue");
    m.until("wrong", |m| m.has_text("You have 9 more tries."))
        .await;
    // Let the resend countdown tick while on this step.
    sleep(1200).await;
    m.fill("code", "123 456");
    m.click("Continue");
    m.step("consent").await;
    m.click("Authorize");
    m.step("done").await;
    assert_eq!(fake.calls_to("/decision").len(), 1);
}

#[wasm_bindgen_test]
async fn an_account_code_says_where_it_went_without_telling_whether_the_account_exists() {
    // The server answers a match and a non-match alike, with no masked
    // contact the customer did not type: the widget says "on file".
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on("POST", "/sign-in/otp", 201, &challenge("", 0));
    let m = mount(&fake);
    m.step("sign-in").await;
    m.toggle("With your account number and ZIP code");
    settle().await;
    m.fill("Account number", "000123");
    m.fill("ZIP code", "94105");
    m.click("Send code");
    m.step("code").await;
    assert!(
        m.has_text("If these details match an account, we sent a 6-digit code to the mobile phone on file. It expires in 10 minutes."),
        "{}",
        m.text()
    );
    assert!(!m.has_text("code to ."), "no empty destination");
    let status = m.q("[role=status]").unwrap().text_content().unwrap();
    assert_eq!(status, "Code sent, if these details match an account.");
    // A resend names no contact either.
    fake.on("POST", "/resend", 201, &challenge("", 0));
    m.until("resend enabled", |m| !m.disabled("Send another code"))
        .await;
    m.click("Send another code");
    m.until("resent", |m| {
        m.q("[role=status]").unwrap().text_content().unwrap()
            == "New code sent. Earlier codes no longer work."
    })
    .await;
    assert!(!m.has_text("sent to ."), "no empty destination");
}

#[wasm_bindgen_test]
async fn rate_limits_and_a_busy_server_are_explained() {
    // Rate-limited before the first step: a page with Retry, never a blank.
    let fake = Fake::new();
    fake.once(
        "GET",
        CTX,
        429,
        r#"{"error":"rate_limited","message":"slow down","retry_after":5}"#,
    );
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount(&fake);
    m.step("error").await;
    assert_eq!(m.heading(), "We're busy right now");
    assert_eq!(
        js_str(&m.event("gb-consent:error").unwrap(), "code").as_deref(),
        Some("rate_limited")
    );
    m.click("Retry");
    m.step("sign-in").await;
    // A busy server (503 server_busy) mid-flow: wait and try again.
    fake.once(
        "POST",
        "/sign-in/password",
        503,
        r#"{"error":"server_busy","message":"busy","retry_after":1}"#,
    );
    m.fill("Username", "ana");
    m.fill("Password", "x");
    m.click("Sign in");
    m.until("busy", |m| {
        m.has_text("We're busy right now. Wait 1 second, then try again.")
    })
    .await;
    assert_eq!(m.data_step(), "sign-in", "the form stays");
    // Too many tries on this request: only starting again helps.
    fake.on(
        "POST",
        "/sign-in/password",
        429,
        r#"{"error":"request_attempts_exhausted","message":"start again"}"#,
    );
    m.click("Sign in");
    m.step("error").await;
    assert_eq!(m.heading(), "Too many tries for this request");
    assert!(!m.has_button("Retry"));
}

#[wasm_bindgen_test]
async fn a_server_error_body_is_never_shown_as_a_refusal() {
    // A 500 with an Error body, and a 200 missing a required field, are
    // both "something went wrong".
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/password",
        200,
        r#"{"display_name":"Ana"}"#,
    );
    let m = mount(&fake);
    m.step("sign-in").await;
    m.fill("Username", "ana");
    m.fill("Password", "x");
    m.click("Sign in");
    m.until("error", |m| {
        m.has_text("Something went wrong on our side. Please try again.")
    })
    .await;
    assert_eq!(m.data_step(), "sign-in");
    let missing = Fake::new();
    missing.on(
        "GET",
        CTX,
        200,
        &context(SCOPE).replace(r#""csrf_token":"csrf-abc","#, ""),
    );
    let m2 = mount(&missing);
    m2.step("error").await;
    assert_eq!(m2.heading(), "Something went wrong");
}

#[wasm_bindgen_test]
async fn a_context_the_page_already_has_saves_the_first_read() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/password",
        401,
        r#"{"error":"invalid_credentials","message":"no"}"#,
    );
    let embedded = consent_widget::api::from_json(&context(SCOPE)).unwrap();
    let m = mount_with(&fake, |c| c.context = Some(embedded));
    m.step("sign-in").await;
    assert!(fake.calls_to(CTX).is_empty(), "no context read");
    m.fill("Username", "ana");
    m.fill("Password", "x");
    m.click("Sign in");
    m.until("refused", |m| m.has_text("is not right")).await;
    let post = &fake.calls_to("/sign-in/password")[0];
    assert_eq!(
        post.csrf.as_deref(),
        Some("csrf-abc"),
        "its CSRF token is used"
    );

    // One for another request is not used.
    let other = Fake::new();
    other.on("GET", CTX, 200, &context(SCOPE));
    let foreign =
        consent_widget::api::from_json(&context(SCOPE).replace(REQ, "req-other")).unwrap();
    let m2 = mount_with(&other, |c| c.context = Some(foreign));
    m2.step("sign-in").await;
    assert_eq!(other.calls_to(CTX).len(), 1, "the widget asked the API");
}

/// Its API on another origin, the widget carries the consent session in
/// `X-Consent-Session` (the cookie would be third-party): `new` on the
/// first read, then the server's secret, then the one the sign-in rotated
/// it to; on its own origin it sends no such header (the cookie).
#[wasm_bindgen_test]
async fn on_another_origin_the_session_travels_in_a_header_and_follows_rotation() {
    let fake = Fake::new();
    fake.once_with_session("GET", CTX, 200, &context(SCOPE), "first-secret");
    fake.once_with_session(
        "POST",
        "/sign-in/password",
        200,
        &customer(),
        "rotated-secret",
    );
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"declined","redirect_to":"https://sunny.example/cb?error=access_denied"}"#,
    );
    let m = mount_with(&fake, |c| c.api_base = "https://auth.utility.test".into());
    m.step("sign-in").await;
    let read = &fake.calls_to(CTX)[0];
    assert!(
        read.url
            .starts_with("https://auth.utility.test/api/consent/")
    );
    assert_eq!(read.session.as_deref(), Some("new"));
    m.fill("Username", "ana");
    m.fill("Password", "secret");
    m.click("Sign in");
    m.step("consent").await;
    let sign_in = &fake.calls_to("/sign-in/password")[0];
    assert_eq!(sign_in.session.as_deref(), Some("first-secret"));
    assert_eq!(
        sign_in.csrf.as_deref(),
        Some("csrf-abc"),
        "and the CSRF token"
    );
    m.click("Decline");
    m.until("the decision", |_| !fake.calls_to("/decision").is_empty())
        .await;
    assert_eq!(
        fake.calls_to("/decision")[0].session.as_deref(),
        Some("rotated-secret"),
        "after sign-in only the rotated secret"
    );
    // The secret is in memory only: nowhere in the page.
    let html = document().body().unwrap().inner_html();
    assert!(!html.contains("rotated-secret") && !html.contains("first-secret"));

    let same_origin = Fake::new();
    same_origin.on("GET", CTX, 200, &context(SCOPE));
    let m2 = mount(&same_origin);
    m2.step("sign-in").await;
    assert_eq!(same_origin.calls_to(CTX)[0].session, None);
}

const WITH_PROVIDER: &str = r#"{"methods":["password","account_otp","phone_otp","email_otp"],"hint":null,
    "providers":[{"id":"utility","name":"Example Utility"}],"sso":null}"#;

#[wasm_bindgen_test]
async fn sign_in_with_the_utility_posts_then_goes_to_the_provider() {
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", WITH_PROVIDER, SOU),
    );
    fake.on(
        "POST",
        "/sign-in/sso/utility",
        200,
        r#"{"redirect_to":"https://login.utility.example/auth?state=s"}"#,
    );
    let m = mount(&fake);
    m.step("sign-in").await;
    assert!(
        m.navigations.borrow().is_empty(),
        "nothing before the click"
    );
    m.click("Sign in with Example Utility");
    m.until("navigation", |m| !m.navigations.borrow().is_empty())
        .await;
    assert_eq!(
        *m.navigations.borrow(),
        ["https://login.utility.example/auth?state=s"]
    );
    let call = &fake.calls_to("/sign-in/sso/utility")[0];
    assert_eq!(call.csrf.as_deref(), Some("csrf-abc"), "CSRF header");
}

#[wasm_bindgen_test]
async fn embedded_on_another_origin_the_utility_sign_in_is_not_offered() {
    // The provider returns to the hosted page, which knows the session by
    // its cookie; a header session cannot be found there.
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", WITH_PROVIDER, SOU),
    );
    let m = mount_with(&fake, |c| c.api_base = "https://auth.utility.test".into());
    m.step("sign-in").await;
    assert!(!m.has_text("Sign in with Example Utility"), "{}", m.text());
    assert!(m.has_button("Sign in"));
}

#[wasm_bindgen_test]
async fn the_provider_button_speaks_spanish_and_an_unreachable_provider_is_explained() {
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", WITH_PROVIDER, SOU),
    );
    fake.on(
        "POST",
        "/sign-in/sso/utility",
        502,
        r#"{"error":"provider_unavailable","message":"down"}"#,
    );
    let m = mount_with(&fake, |c| c.locale = Some("es".into()));
    m.step("sign-in").await;
    m.click("Iniciar sesión con Example Utility");
    m.until("error", |m| {
        m.has_text("El inicio de sesión con su cuenta de la empresa de servicios no funcionó")
    })
    .await;
    assert!(m.navigations.borrow().is_empty());
    assert_eq!(m.data_step(), "sign-in");
}

#[wasm_bindgen_test]
async fn auth_sso_goes_to_the_provider_without_a_click() {
    let fake = Fake::new();
    let sign_in = WITH_PROVIDER.replace(r#""sso":null"#, r#""sso":"utility""#);
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", &sign_in, SOU),
    );
    fake.on(
        "POST",
        "/sign-in/sso/utility",
        200,
        r#"{"redirect_to":"https://login.utility.example/auth"}"#,
    );
    let m = mount(&fake);
    m.until("navigation", |m| !m.navigations.borrow().is_empty())
        .await;
    assert_eq!(fake.calls_to("/sign-in/sso/utility").len(), 1);
}

#[wasm_bindgen_test]
async fn a_returned_sso_error_is_shown_and_not_followed_again() {
    let fake = Fake::new();
    let sign_in = WITH_PROVIDER.replace(r#""sso":null"#, r#""sso":"utility""#);
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, "null", &sign_in, SOU),
    );
    // The server sent the browser back with `sso_error`.
    let history = web_sys::window().unwrap().history().unwrap();
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("?request=req-123&sso_error=unknown_account"),
        )
        .unwrap();
    let m = mount(&fake);
    m.step("sign-in").await;
    m.until("error", |m| {
        m.has_text("We could not find an energy account for the account you signed in with")
    })
    .await;
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("?"))
        .unwrap();
    settle().await;
    assert!(
        fake.calls_to("/sign-in/sso/utility").is_empty(),
        "no loop back to the provider"
    );
    assert!(m.navigations.borrow().is_empty());
}
