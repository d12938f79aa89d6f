//! Embedding: the JS `mount` API over the real fetch transport (a fake
//! `window.fetch`), the event contract, themes, message overrides, and no
//! inline styles anywhere.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CTX: &str = "/api/consent/requests/req-123";

#[wasm_bindgen_test]
async fn events_are_typed_versioned_and_on_the_host() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on("POST", "/sign-in/password", 200, &customer());
    let m = mount(&fake);
    m.step("sign-in").await;
    m.until("ready", |m| m.event("gb-consent:ready").is_some())
        .await;
    let ready = m.event("gb-consent:ready").unwrap();
    assert_eq!(js_num(&ready, "version"), Some(1.0));
    assert_eq!(js_str(&ready, "request_id").as_deref(), Some(REQ));
    assert_eq!(js_str(&ready, "step").as_deref(), Some("sign-in"));
    assert_eq!(js_str(&ready, "client_id").as_deref(), Some("energy-app"));
    m.fill("Username", "ana");
    m.fill("Password", "pw");
    m.click("Sign in");
    m.step("consent").await;
    m.until("step event", |m| {
        m.event("gb-consent:step")
            .and_then(|d| js_str(&d, "step"))
            .as_deref()
            == Some("consent")
    })
    .await;
    let names = m.event_names();
    assert_eq!(
        names,
        ["gb-consent:step", "gb-consent:ready", "gb-consent:step"],
        "{names:?}"
    );
}

#[wasm_bindgen_test]
async fn events_bubble_to_the_host_page() {
    let fake = Fake::new();
    fake.on(
        "GET",
        CTX,
        404,
        r#"{"error":"unknown_request","message":"x"}"#,
    );
    let got = std::rc::Rc::new(std::cell::RefCell::new(Vec::<String>::new()));
    let g = got.clone();
    let cb = Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
        g.borrow_mut().push(e.type_());
    });
    let body = document().body().unwrap();
    body.add_event_listener_with_callback("gb-consent:error", cb.as_ref().unchecked_ref())
        .unwrap();
    let m = mount(&fake);
    m.step("error").await;
    body.remove_event_listener_with_callback("gb-consent:error", cb.as_ref().unchecked_ref())
        .unwrap();
    assert_eq!(got.borrow().as_slice(), ["gb-consent:error"]);
}

#[wasm_bindgen_test]
async fn no_inline_styles_in_any_step() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    fake.on(
        "POST",
        "/sign-in/otp",
        201,
        r#"{"challenge_id":"c","channel":"sms","sent_to":"•••3333","expires_in":600,"resend_after":30,"proves_mailbox_only":false}"#,
    );
    fake.on("POST", "/verify", 200, &customer());
    fake.on(
        "POST",
        "/decision",
        200,
        r#"{"outcome":"authorized","redirect_to":"https://sunny.example/cb","receipt":{"authorization_id":"a","third_party":"Sunny Solar","scope":"FB=1_4_51","meters":[],"granted_at":1800000000,"end_date":0,"history_length":null,"status":"active"}}"#,
    );
    let m = mount(&fake);
    let no_styles = |m: &Mounted| {
        assert!(
            m.qa("[style]").is_empty(),
            "style attribute in {}",
            m.data_step()
        );
        assert!(m.qa("style, script").is_empty());
    };
    m.step("sign-in").await;
    no_styles(&m);
    m.toggle("With a code sent to your mobile phone");
    settle().await;
    m.fill("Mobile phone number", "5554443333");
    m.click("Send code");
    m.step("code").await;
    no_styles(&m);
    m.fill("code", "123456");
    m.click("Continue");
    m.step("consent").await;
    no_styles(&m);
    m.click("Authorize");
    m.step("done").await;
    no_styles(&m);
}

#[wasm_bindgen_test]
async fn theme_and_reserved_height_classes() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount_with(&fake, |c| c.theme = consent_widget::Theme::Dark);
    assert!(
        m.el.class_list().contains("gbc-host"),
        "reserves its height at once"
    );
    m.step("sign-in").await;
    let root = m.q(".gbc").unwrap();
    assert!(root.class_list().contains("gbc--dark"));
    let m2 = mount(&fake);
    m2.step("sign-in").await;
    assert!(m2.q(".gbc").unwrap().class_list().contains("gbc--auto"));
}

#[wasm_bindgen_test]
async fn every_message_can_be_overridden() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount_with(&fake, |c| {
        c.messages = consent_widget::Messages::from_js(&JsValue::from_str(
            r#"{"sign_in.submit":"Log in","es":{"sign_in.submit":"Entrar"},"field.username":"Username or email"}"#,
        ));
    });
    m.step("sign-in").await;
    assert!(m.has_button("Log in"));
    m.labelled("Username or email");
    // A bundle URL, per language.
    fake.on(
        "GET",
        "/bundle.json",
        200,
        r#"{"en":{"sign_in.title":"Sign in to Example Utility"},"es":{"sign_in.title":"Entre a Example Utility"}}"#,
    );
    let m2 = mount_with(&fake, |c| {
        c.locale = Some("es".into());
        c.messages_url = Some("https://utility.example/bundle.json".into());
    });
    m2.step("sign-in").await;
    assert_eq!(m2.heading(), "Entre a Example Utility");
    let defaults = consent_widget::default_messages("es");
    assert_eq!(
        js_str(&defaults, "consent.authorize").as_deref(),
        Some("Autorizar")
    );
}

#[wasm_bindgen_test]
async fn locale_falls_back_to_the_browser_language() {
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let m = mount_with(&fake, |c| c.locale = None);
    m.step("sign-in").await;
    let nav = web_sys::window().unwrap().navigator();
    let expect_es = nav
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .find_map(|t| {
            let p = t.split('-').next().unwrap_or("").to_ascii_lowercase();
            (p == "en" || p == "es").then_some(p)
        })
        .as_deref()
        == Some("es");
    let lang = m.q(".gbc").unwrap().get_attribute("lang").unwrap();
    assert_eq!(lang, if expect_es { "es" } else { "en" });
}

/// Installs a fake `window.fetch` that records its calls in
/// `window.__gbcCalls`; returns the original to restore.
fn install_fetch(context: &str) -> JsValue {
    let w = web_sys::window().unwrap();
    let original = js_sys::Reflect::get(&w, &"fetch".into()).unwrap();
    let f = js_sys::Function::new_with_args(
        "ctx",
        r#"
        const calls = (window.__gbcCalls = []);
        return async (input, init) => {
          const req = new Request(input, init);
          const url = req.url;
          calls.push({ url, method: req.method, credentials: req.credentials,
                       csrf: req.headers.get('X-CSRF-Token'), body: await req.text() });
          const json = (status, body) => Promise.resolve(new Response(JSON.stringify(body), { status }));
          if (String(url).endsWith('/api/consent/requests/req-js')) return json(200, JSON.parse(ctx));
          if (String(url).endsWith('/sign-in/password')) return json(401, { error: 'invalid_credentials', message: 'no' });
          return json(404, { error: 'nope', message: 'no' });
        };"#,
    );
    let fake = f.call1(&JsValue::NULL, &context.into()).unwrap();
    js_sys::Reflect::set(&w, &"fetch".into(), &fake).unwrap();
    original
}

#[wasm_bindgen_test]
async fn the_js_mount_api_uses_fetch_with_credentials_and_csrf() {
    let ctx = context(SCOPE).replace(REQ, "req-js");
    let original = install_fetch(&ctx);
    let doc = document();
    let el: web_sys::HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    el.set_inner_html("<p>placeholder</p>");
    doc.body().unwrap().append_child(&el).unwrap();
    let opts = js_sys::JSON::parse(
        r#"{"requestId":"req-js","apiBase":"https://auth.example/","locale":"en","theme":"light"}"#,
    )
    .unwrap();
    let mut handle = consent_widget::mount(el.clone(), opts);
    let w = web_sys::window().unwrap();
    let calls = || js_sys::Array::from(&js_sys::Reflect::get(&w, &"__gbcCalls".into()).unwrap());
    for _ in 0..200 {
        if el.query_selector("[data-step=sign-in]").unwrap().is_some() {
            break;
        }
        sleep(10).await;
    }
    assert!(!el.text_content().unwrap().contains("placeholder"));
    assert!(el.query_selector(".gbc--light").unwrap().is_some());
    let first = calls().get(0);
    assert_eq!(
        js_str(&first, "url").as_deref(),
        Some("https://auth.example/api/consent/requests/req-js")
    );
    assert_eq!(js_str(&first, "credentials").as_deref(), Some("include"));
    assert!(js_str(&first, "csrf").is_none(), "no CSRF header on GET");
    // Sign in: the POST carries the context's CSRF token.
    let set = |label: &str, v: &str| {
        let labels = el.query_selector_all("label").unwrap();
        for i in 0..labels.length() {
            let l: web_sys::Element = labels.item(i).unwrap().unchecked_into();
            if l.text_content().unwrap().contains(label) {
                let id = l.get_attribute("for").unwrap();
                let input: web_sys::HtmlInputElement =
                    doc.get_element_by_id(&id).unwrap().unchecked_into();
                input.set_value(v);
                input
                    .dispatch_event(&web_sys::Event::new("input").unwrap())
                    .unwrap();
            }
        }
    };
    set("Username", "ana");
    set("Password", "pw");
    let submit: web_sys::HtmlElement = el
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    submit.click();
    for _ in 0..200 {
        if el.text_content().unwrap().contains("not right") {
            break;
        }
        sleep(10).await;
    }
    assert!(
        el.text_content()
            .unwrap()
            .contains("The username or password is not right")
    );
    let post = calls().get(1);
    assert_eq!(js_str(&post, "method").as_deref(), Some("POST"));
    assert_eq!(js_str(&post, "csrf").as_deref(), Some("csrf-abc"));
    handle.unmount();
    assert!(
        el.query_selector(".gbc").unwrap().is_none(),
        "unmount removes it"
    );
    el.remove();
    js_sys::Reflect::set(&w, &"fetch".into(), &original).unwrap();
}

#[wasm_bindgen_test]
async fn letting_go_of_the_handle_does_not_unmount() {
    // JS may drop (and wasm-bindgen finalize) the handle `mount` returns;
    // the widget must keep working until `unmount()`.
    let fake = Fake::new();
    fake.on("GET", CTX, 200, &context(SCOPE));
    let doc = document();
    let el: web_sys::HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&el).unwrap();
    let cfg = consent_widget::Config {
        request_id: REQ.into(),
        locale: Some("en".into()),
        transport: Some(fake.transport()),
        ..Default::default()
    };
    let _ = consent_widget::mount_app(el.clone(), cfg);
    for _ in 0..200 {
        if el.query_selector("[data-step=sign-in]").unwrap().is_some() {
            break;
        }
        sleep(10).await;
    }
    let submit: web_sys::HtmlElement = el
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    submit.click();
    settle().await;
    assert!(el.inner_text().contains("Enter your username"));
    el.remove();
}
