//! The consent step (roles, meters, narrowing, noedit) and the done step.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CTX: &str = "/api/consent/requests/req-123";

async fn at_consent(scope: &str) -> Mounted {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(scope));
    let m = mount(&fake);
    m.step("consent").await;
    m
}

/// The widget's text outside "Technical details".
fn text_outside_details(m: &Mounted) -> String {
    let clone: web_sys::Element = m.el.clone_node_with_deep(true).unwrap().unchecked_into();
    if let Some(d) = clone.query_selector("details").unwrap() {
        d.remove();
    }
    clone.text_content().unwrap_or_default()
}

fn checked(m: &Mounted, label: &str) -> bool {
    m.labelled(label).checked()
}

fn summary(m: &Mounted) -> String {
    m.q(".gbc-summary").unwrap().text_content().unwrap()
}

#[wasm_bindgen_test]
async fn shows_the_third_party_and_what_it_will_do() {
    let m = at_consent(SCOPE).await;
    assert_eq!(m.heading(), "Share your energy data with Sunny Solar?");
    let logo = m.q("img").unwrap();
    assert_eq!(
        logo.get_attribute("alt").as_deref(),
        Some("Sunny Solar logo")
    );
    assert_eq!(
        logo.get_attribute("src").as_deref(),
        Some("https://sunny.example/logo.png")
    );
    let links: Vec<String> = m
        .qa(".gbc-links a")
        .iter()
        .map(|a| a.text_content().unwrap())
        .collect();
    assert_eq!(links.len(), 2, "{links:?}");
    assert!(links[0].starts_with("Sunny Solar website"));
    assert!(links[1].starts_with("Privacy policy (opens in a new tab)"));
    assert!(m.has_text("What Sunny Solar will use your data for"));
    assert!(m.has_text("We compare your usage with similar homes"));
    assert!(m.has_text("Read Sunny Solar's full statement"));
    assert!(m.has_button("Authorize"));
    assert!(m.has_button("Decline"));
}

#[wasm_bindgen_test]
async fn undisclosed_use_is_said_plainly() {
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(SCOPE, true, &customer(), PASSWORD_ONLY, "null"),
    );
    let m = mount(&fake);
    m.step("consent").await;
    assert!(m.has_text("Sunny Solar has not said what it will use your data for."));
}

#[wasm_bindgen_test]
async fn groups_what_is_shared_by_kind_and_never_shows_bare_numbers() {
    let m = at_consent(SCOPE).await;
    // Structural blocks: a note.
    assert!(m.has_text("Always included, because any sharing needs it:"));
    assert!(m.has_text("Basic information needed to share any of your energy data"));
    assert!(m.has_text("Automatic sharing of your energy data with an app or company you choose"));
    // Each kind of data requested: a checkbox, ticked as requested, under
    // one legend, with what it holds (the intervals in words) as its hint.
    let legends: Vec<String> = m
        .qa("legend")
        .iter()
        .map(|l| l.text_content().unwrap())
        .collect();
    assert!(
        legends.contains(&"Sunny Solar would receive:".to_string()),
        "{legends:?}"
    );
    assert!(legends.contains(&"Which meters?".to_string()));
    assert!(checked(&m, "Your energy use, read from your meters"));
    assert!(checked(&m, "Your bills and what you paid"));
    assert!(checked(&m, "Your account details"));
    assert!(m.has_text("Readings for each period of: 15 minutes, 1 hour"));
    assert!(m.has_text("Your bills and costs"));
    assert!(m.has_text("Your mailing address"));
    // Commodities follow the meters (in the summary).
    assert!(m.has_text("Your electricity usage, measured at regular intervals"));
    assert!(m.has_text("Your natural gas usage"));
    // Numbers only under "Technical details".
    let outside = text_outside_details(&m);
    assert!(
        !outside.contains("FB"),
        "bare function block numbers: {outside}"
    );
    let details = m.q("details").unwrap();
    assert_eq!(
        details
            .query_selector("summary")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        "Technical details"
    );
    let tech = details.text_content().unwrap();
    assert!(tech.contains("FB 3: Connect My Data"), "{tech}");
    assert!(tech.contains(SCOPE));
}

#[wasm_bindgen_test]
async fn meters_all_preselects_every_meter() {
    let m = at_consent(SCOPE).await;
    assert!(checked(&m, "Home electricity"));
    assert!(checked(&m, "Home gas"));
    assert!(checked(&m, "Workshop"));
    // Addresses are shown with each meter.
    assert!(m.has_text("Electricity · 9 Mill Rd, Springfield"));
}

#[wasm_bindgen_test]
async fn meters_said_offers_and_preselects_only_that_meter() {
    let m = at_consent("FB=1_4_5_51;AdditionalScope=meters-G-200").await;
    let meters: Vec<String> = m
        .qa("input[type=checkbox]")
        .iter()
        .filter_map(|b| b.get_attribute("value"))
        .filter(|v| !["usage", "bills", "account"].contains(&v.as_str()))
        .collect();
    assert_eq!(meters, ["G-200"]);
    assert!(checked(&m, "Home gas"));
    assert!(m.has_text("Sunny Solar asked for these meters only."));
}

#[wasm_bindgen_test]
async fn unspecified_meters_must_be_picked() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context("FB=1_4_5_51"));
    let m = mount_with(&fake, |c| c.hosted = true);
    m.step("consent").await;
    assert!(!checked(&m, "Home electricity"));
    assert!(!checked(&m, "Workshop"));
    assert!(m.has_text("Choose at least one meter."));
    m.click("Authorize");
    m.until("error", |m| m.q(".gbc-error-summary").is_some())
        .await;
    assert!(m.has_text("Choose at least one meter"));
    assert_eq!(m.focused().unwrap().class_name(), "gbc-error-summary");
    assert!(document().title().starts_with("Error: "));
    let link = m.q(".gbc-error-summary a").unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        format!("#{}", m.labelled("Home electricity").id())
    );
    assert!(fake.calls_to("/decision").is_empty());
    m.toggle("Workshop");
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb?code=c&state=s","receipt":null}"#,
    );
    m.click("Authorize");
    m.step("done").await;
    let body = fake.calls_to("/decision")[0].json();
    let meters = js_sys::Array::from(&js_get(&body, "meters"));
    assert_eq!(meters.length(), 1);
    assert_eq!(meters.get(0).as_string().as_deref(), Some("E-300"));
}

#[wasm_bindgen_test]
async fn narrowing_updates_the_summary_and_the_decision() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb?code=c","receipt":{
          "authorization_id":"auth-77","third_party":"Sunny Solar",
          "scope":"FB=1_3_4_10_51_55_56;IntervalDuration=900_3600;HistoryLength=31536000;AccountCollection=1;PreferredAuthEndDate=1900000000;AdditionalScope=sou-energy-audit_meters-G-200",
          "meters":[{"said":"G-200","label":"Home gas","address":"1 Main St, Springfield","service_kind":"gas"}],
          "granted_at":1800000000,"end_date":1900000000,"history_length":31536000,"status":"active"}}"#,
    );
    let m = mount(&fake);
    m.step("consent").await;
    let s = summary(&m);
    assert!(s.contains("If you choose Authorize, Sunny Solar will get:"));
    assert!(s.contains("Your electricity usage"));
    assert!(s.contains("The last 2 years"));
    assert!(s.contains("Until March 17, 2030"), "{s}");
    // Only gas; no bills; one year of history.
    m.toggle("Home electricity");
    m.toggle("Workshop");
    m.toggle("Your bills and what you paid");
    m.toggle("The last 1 year");
    settle().await;
    let s = summary(&m);
    assert!(
        !s.contains("Your electricity usage"),
        "commodity follows the meters: {s}"
    );
    assert!(s.contains("Your natural gas usage"));
    assert!(
        s.contains("From: Home gas (Gas, 1 Main St, Springfield)"),
        "{s}"
    );
    assert!(s.contains("The last 1 year"));
    assert!(!s.contains("Your bills and costs"), "{s}");
    assert!(s.contains("Your mailing address"), "{s}");
    let granted = m.qa("details code")[1].text_content().unwrap();
    assert!(granted.starts_with("FB=1_3_4_10_51_55_56;"), "{granted}");
    m.click("Authorize");
    m.step("done").await;
    let body = fake.calls_to("/decision")[0].json();
    assert_eq!(js_str(&body, "decision").as_deref(), Some("authorize"));
    let fbs: Vec<f64> = js_sys::Array::from(&js_get(&body, "function_blocks"))
        .iter()
        .filter_map(|v| v.as_f64())
        .collect();
    assert_eq!(fbs, vec![1.0, 3.0, 4.0, 10.0, 51.0, 55.0, 56.0]);
    assert_eq!(js_num(&body, "history_length"), Some(31_536_000.0));
    assert!(
        js_get(&body, "end_date").is_undefined(),
        "unchanged: as requested"
    );
    // The receipt.
    assert_eq!(
        m.heading(),
        "You are sharing your energy data with Sunny Solar"
    );
    let r = m.q(".gbc-receipt").unwrap().text_content().unwrap();
    assert!(r.contains("Your receipt"));
    assert!(r.contains("Home gas (Gas, 1 Main St, Springfield)"));
    assert!(r.contains("1 year"));
    assert!(r.contains("March 17, 2030"));
    assert!(r.contains("auth-77"));
    assert!(!r.contains("FB"), "{r}");
    assert!(m.has_button("Print or save this receipt"));
    let e = m.event("gb-consent:authorized").expect("authorized event");
    assert_eq!(js_str(&e, "authorization_id").as_deref(), Some("auth-77"));
    assert_eq!(js_str(&e, "request_id").as_deref(), Some(REQ));
    assert_eq!(js_num(&e, "version"), Some(1.0));
    // No redirect until the customer continues (redirect_delay = 0 here).
    assert!(m.navigations.borrow().is_empty());
    m.click("Continue to Sunny Solar");
    assert_eq!(
        m.navigations.borrow().as_slice(),
        ["https://sunny.example/cb?code=c"]
    );
}

#[wasm_bindgen_test]
async fn history_and_end_date_can_only_be_shortened() {
    let m = at_consent(SCOPE).await;
    let history: Vec<String> = m
        .qa("input[type=radio]")
        .iter()
        .filter_map(|r| r.get_attribute("name"))
        .collect();
    assert!(!history.is_empty());
    assert!(checked(&m, "The last 2 years (as requested)"));
    m.labelled("The last 1 year");
    m.labelled("No past data");
    assert!(checked(&m, "Until March 17, 2030 (as requested)"));
    assert!(
        !m.has_text("Until I revoke it"),
        "not requested, so not offered"
    );
    let m2 = at_consent("FB=1_4_5_51;PreferredAuthEndDate=0;AdditionalScope=meters-all").await;
    assert!(checked(&m2, "Until I revoke it (as requested)"));
}

#[wasm_bindgen_test]
async fn the_data_custodian_s_defaults_are_choices_too() {
    // No HistoryLength, no PreferredAuthEndDate: 2 years of history and 3
    // years from now, offered as the standard and shortenable.
    let m = at_consent("FB=1_4_5;AdditionalScope=meters-all").await;
    assert!(checked(&m, "The last 2 years (standard)"));
    assert!(
        checked(&m, "Until January 14, 2030 (standard)"),
        "{}",
        m.text()
    );
    m.labelled("The last 1 year");
    m.labelled("No past data");
    assert!(!m.has_text("(as requested)"));
}

#[wasm_bindgen_test]
async fn every_kind_of_data_unticked_is_an_error() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    let m = mount_with(&fake, |c| c.hosted = true);
    m.step("consent").await;
    m.toggle("Your energy use, read from your meters");
    m.toggle("Your bills and what you paid");
    m.toggle("Your account details");
    settle().await;
    m.click("Authorize");
    m.until("error", |m| m.q(".gbc-error-summary").is_some())
        .await;
    assert!(m.has_text("Choose at least one kind of data to share"));
    assert_eq!(m.focused().unwrap().class_name(), "gbc-error-summary");
    let link = m.q(".gbc-error-summary a").unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        format!(
            "#{}",
            m.labelled("Your energy use, read from your meters").id()
        )
    );
    assert!(fake.calls_to("/decision").is_empty());
}

#[wasm_bindgen_test]
async fn noedit_shows_everything_read_only_and_says_why() {
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        200,
        &context_with(
            "FB=1_4_5_16_51_55;HistoryLength=63072000;AdditionalScope=noedit_meters-all",
            false,
            &customer(),
            PASSWORD_ONLY,
            "null",
        ),
    );
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb","receipt":null}"#,
    );
    let m = mount(&fake);
    m.step("consent").await;
    assert!(m.has_text(
        "Sunny Solar asked for exactly this, so it can't be changed here. If you don't agree, choose Decline."
    ));
    assert!(m.qa("input").is_empty(), "read-only: no controls");
    assert!(m.has_text("Your mailing address"));
    assert!(m.has_text("Home electricity (Electricity, 1 Main St, Springfield)"));
    assert!(m.has_text("The last 2 years"));
    m.click("Authorize");
    m.step("done").await;
    let body = fake.calls_to("/decision")[0].json();
    assert!(js_get(&body, "function_blocks").is_undefined());
    assert!(js_get(&body, "history_length").is_undefined());
    assert!(js_get(&body, "end_date").is_undefined());
}

#[wasm_bindgen_test]
async fn decline_tells_the_host_and_follows_the_redirect() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"declined","redirect_to":"https://sunny.example/cb?error=access_denied&state=s"}"#,
    );
    let m = mount(&fake);
    m.step("consent").await;
    m.click("Decline");
    m.step("done").await;
    assert_eq!(m.heading(), "You declined");
    assert!(m.has_text("Nothing was shared with Sunny Solar."));
    let body = fake.calls_to("/decision")[0].json();
    assert_eq!(js_str(&body, "decision").as_deref(), Some("decline"));
    assert!(js_get(&body, "meters").is_undefined());
    let e = m.event("gb-consent:declined").unwrap();
    assert_eq!(js_str(&e, "outcome").as_deref(), Some("declined"));
    assert!(js_get(&e, "redirect_to").is_undefined(), "no URL in events");
    assert_eq!(
        *m.navigations.borrow(),
        ["https://sunny.example/cb?error=access_denied&state=s"]
    );
}

#[wasm_bindgen_test]
async fn a_host_can_cancel_the_redirect() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"declined","redirect_to":"https://sunny.example/cb?error=access_denied"}"#,
    );
    let m = mount(&fake);
    let cancel =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
            e.prevent_default()
        });
    m.el.add_event_listener_with_callback("gb-consent:declined", cancel.as_ref().unchecked_ref())
        .unwrap();
    m.step("consent").await;
    m.click("Decline");
    m.step("done").await;
    settle().await;
    assert!(m.navigations.borrow().is_empty());
    // The host asks for the redirect through the handle, not a URL.
    assert!(m.handle.proceed());
    assert_eq!(
        *m.navigations.borrow(),
        ["https://sunny.example/cb?error=access_denied"]
    );
}

#[wasm_bindgen_test]
async fn the_authorization_code_stays_out_of_events_and_the_page() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb?code=SECRETCODE&state=s","receipt":{
          "authorization_id":"auth-1","third_party":"Sunny Solar","scope":"FB=1_4_5_51","meters":[],
          "granted_at":1800000000,"end_date":1900000000,"history_length":null,"status":"active"}}"#,
    );
    let m = mount_with(&fake, |c| c.redirect_delay = 15);
    let cancel =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| {
            e.prevent_default()
        });
    m.el.add_event_listener_with_callback("gb-consent:authorized", cancel.as_ref().unchecked_ref())
        .unwrap();
    assert!(!m.handle.proceed(), "nothing to follow before a decision");
    m.step("consent").await;
    m.click("Authorize");
    m.step("done").await;
    let e = m.event("gb-consent:authorized").unwrap();
    assert_eq!(js_str(&e, "outcome").as_deref(), Some("authorized"));
    assert_eq!(js_str(&e, "authorization_id").as_deref(), Some("auth-1"));
    assert_eq!(js_str(&e, "scope").as_deref(), Some("FB=1_4_5_51"));
    assert_eq!(js_str(&e, "request_id").as_deref(), Some(REQ));
    let json = js_sys::JSON::stringify(&e).unwrap().as_string().unwrap();
    assert!(!json.contains("SECRETCODE"), "{json}");
    // Not in the DOM either (the Continue control is a button).
    assert!(!m.el.outer_html().contains("SECRETCODE"));
    // Cancelled: no countdown, no redirect until the host proceeds.
    assert!(!m.has_text("We will take you to"));
    settle().await;
    assert!(m.navigations.borrow().is_empty());
    assert!(m.handle.proceed());
    assert_eq!(
        *m.navigations.borrow(),
        ["https://sunny.example/cb?code=SECRETCODE&state=s"]
    );
    // The customer's own click works too.
    m.click("Continue to Sunny Solar");
    assert_eq!(m.navigations.borrow().len(), 2);
}

#[wasm_bindgen_test]
async fn the_receipt_page_follows_the_redirect_after_its_countdown() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb?code=x","receipt":null}"#,
    );
    let m = mount_with(&fake, |c| c.redirect_delay = 1);
    m.step("consent").await;
    m.click("Authorize");
    m.step("done").await;
    assert!(m.has_text("We will take you to Sunny Solar in 1 second."));
    assert!(m.has_button("Stay on this page"));
    m.until("redirect", |m| !m.navigations.borrow().is_empty())
        .await;
    assert_eq!(m.navigations.borrow()[0], "https://sunny.example/cb?code=x");
}

#[wasm_bindgen_test]
async fn decision_errors_keep_the_customer_on_the_page_or_explain() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    fake.once(
        "POST",
        "/decision",
        400,
        r#"{"error":"scope_wider_than_request","message":"x"}"#,
    );
    fake.once("POST", "/decision", 0, "");
    fake.once(
        "POST",
        "/decision",
        409,
        r#"{"error":"request_decided","message":"x"}"#,
    );
    let m = mount(&fake);
    m.step("consent").await;
    m.click("Authorize");
    m.until("refused", |m| {
        m.has_text("We could not accept these choices")
    })
    .await;
    assert_eq!(m.data_step(), "consent");
    m.click("Authorize");
    m.until("network", |m| m.has_text("We could not connect"))
        .await;
    assert_eq!(m.data_step(), "consent");
    m.click("Authorize");
    m.step("error").await;
    assert_eq!(m.heading(), "This request has already been answered");
}

#[wasm_bindgen_test]
async fn spanish_consent() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &signed_in_context(SCOPE));
    let m = mount_with(&fake, |c| c.locale = Some("es".into()));
    m.step("consent").await;
    assert_eq!(
        m.heading(),
        "¿Compartir sus datos de energía con Sunny Solar?"
    );
    assert!(m.has_text("Sus facturas y costos"));
    assert!(m.has_text("Hasta el 17 de marzo de 2030"));
    assert!(m.has_button("Autorizar"));
    assert!(m.has_button("Rechazar"));
    // The kinds of data, in Spanish, and their error.
    assert!(checked(&m, "Su consumo de energía, leído de sus medidores"));
    assert!(checked(&m, "Sus facturas y lo que pagó"));
    assert!(checked(&m, "Los datos de su cuenta"));
    m.toggle("Su consumo de energía, leído de sus medidores");
    m.toggle("Sus facturas y lo que pagó");
    m.toggle("Los datos de su cuenta");
    settle().await;
    m.click("Autorizar");
    m.until("error", |m| m.q(".gbc-error-summary").is_some())
        .await;
    assert!(m.has_text("Elija al menos un tipo de datos para compartir"));
}

#[wasm_bindgen_test]
async fn a_scope_not_in_canonical_form_is_a_backend_fault_never_a_guess() {
    // The consent API sends the canonical form (api/consent-api.openapi.yaml).
    // Anything else is shown as the backend's fault, not guessed at: what
    // the customer reads must be exactly what the server grants.
    for scope in ["fb=4_1_51", "FB=1_4_51;", "openid FB=1_4_51", "FB=51_4_1"] {
        let fake = Fake::new();
        fake.on("GET", CTX, 200, &signed_in_context(scope));
        let m = mount(&fake);
        m.step("error").await;
        assert_eq!(m.heading(), "Something went wrong", "{scope}");
        assert!(!m.has_button("Authorize"), "{scope}");
    }
}
