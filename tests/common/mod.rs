//! Test harness: a fake consent API (no network), mounting helpers and DOM
//! queries that look at what a user would see.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use consent_widget::api::{HttpRequest, HttpResponse, Transport};
use consent_widget::{Config, MountHandle, mount_app};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, HtmlInputElement};

pub const NOW: u64 = 1_800_000_000;
pub const REQ: &str = "req-123";

/// One canned answer: method, URL suffix, status (0 = network failure),
/// JSON body; `once` answers are used up.
pub struct Route {
    method: &'static str,
    suffix: String,
    status: u16,
    body: String,
    once: bool,
    session: Option<String>,
}

/// A recorded request.
#[derive(Clone, Debug)]
pub struct Call {
    pub method: String,
    pub url: String,
    pub body: Option<String>,
    pub csrf: Option<String>,
    /// The `X-Consent-Session` header sent.
    pub session: Option<String>,
}

impl Call {
    /// The body parsed as JSON.
    pub fn json(&self) -> JsValue {
        js_sys::JSON::parse(self.body.as_deref().unwrap_or("null")).unwrap()
    }
}

#[derive(Default)]
pub struct Fake {
    routes: RefCell<Vec<Route>>,
    pub calls: RefCell<Vec<Call>>,
}

impl Fake {
    pub fn new() -> Rc<Fake> {
        Rc::new(Fake::default())
    }

    /// Always answers `method …suffix` with `status` and `body` (the latest
    /// `on` for a URL wins).
    pub fn on(&self, method: &'static str, suffix: &str, status: u16, body: &str) -> &Self {
        let mut routes = self.routes.borrow_mut();
        let at = routes.iter().take_while(|r| r.once).count();
        routes.insert(
            at,
            Route {
                method,
                suffix: suffix.to_string(),
                status,
                body: body.to_string(),
                once: false,
                session: None,
            },
        );
        self
    }

    /// Answers the next matching request once (before the `on` routes;
    /// several `once` answers are used in the order given).
    pub fn once(&self, method: &'static str, suffix: &str, status: u16, body: &str) -> &Self {
        let mut routes = self.routes.borrow_mut();
        let at = routes.iter().take_while(|r| r.once).count();
        routes.insert(
            at,
            Route {
                method,
                suffix: suffix.to_string(),
                status,
                body: body.to_string(),
                once: true,
                session: None,
            },
        );
        self
    }

    /// Like [`Fake::once`], the answer also carrying a new consent session
    /// secret in `X-Consent-Session`.
    pub fn once_with_session(
        &self,
        method: &'static str,
        suffix: &str,
        status: u16,
        body: &str,
        session: &str,
    ) -> &Self {
        self.once(method, suffix, status, body);
        let mut routes = self.routes.borrow_mut();
        let at = routes.iter().take_while(|r| r.once).count() - 1;
        routes[at].session = Some(session.to_string());
        self
    }

    /// The requests whose URL ends with `suffix`.
    pub fn calls_to(&self, suffix: &str) -> Vec<Call> {
        self.calls
            .borrow()
            .iter()
            .filter(|c| c.url.ends_with(suffix))
            .cloned()
            .collect()
    }

    pub fn transport(self: &Rc<Self>) -> Transport {
        let me = self.clone();
        Rc::new(move |req: HttpRequest| {
            let me = me.clone();
            Box::pin(async move {
                me.calls.borrow_mut().push(Call {
                    method: req.method.to_string(),
                    url: req.url.clone(),
                    body: req.body.clone(),
                    csrf: req.csrf.clone(),
                    session: req.session.clone(),
                });
                // Like a real network: answer on a later task.
                sleep(1).await;
                let mut routes = me.routes.borrow_mut();
                let pos = routes
                    .iter()
                    .position(|r| r.method == req.method && req.url.ends_with(&r.suffix))?;
                let (status, body, once, session) = {
                    let r = &routes[pos];
                    (r.status, r.body.clone(), r.once, r.session.clone())
                };
                if once {
                    routes.remove(pos);
                }
                if status == 0 {
                    return None;
                }
                Some(HttpResponse {
                    status,
                    body,
                    session,
                })
            })
        })
    }
}

pub const METERS: &str = r#"[
  {"said":"E-100","label":"Home electricity","address":"1 Main St, Springfield","service_kind":"electricity"},
  {"said":"G-200","label":"Home gas","address":"1 Main St, Springfield","service_kind":"gas"},
  {"said":"E-300","label":"Workshop","address":"9 Mill Rd, Springfield","service_kind":"electricity"}
]"#;

/// A customer JSON.
pub fn customer() -> String {
    format!(r#"{{"display_name":"Ana Díaz","meters":{METERS}}}"#)
}

/// A context JSON. `customer`: the signed-in customer or `null`;
/// `sign_in`: the `sign_in` object.
pub fn context_with(
    scope: &str,
    editable: bool,
    customer: &str,
    sign_in: &str,
    sou: &str,
) -> String {
    format!(
        r#"{{"request_id":"{REQ}","csrf_token":"csrf-abc","expires_at":{exp},"now":{NOW},
        "client":{{"client_id":"energy-app","name":"Sunny Solar","logo_uri":"https://sunny.example/logo.png",
          "client_uri":"https://sunny.example/","policy_uri":"https://sunny.example/privacy","tos_uri":null}},
        "scope":"{scope}","scope_of_use":{sou},"editable":{editable},
        "default_end_date":{def},"default_history_length":63072000,"embed_origins":["https://portal.example"],
        "sign_in":{sign_in},"customer":{customer}}}"#,
        exp = NOW + 900,
        def = NOW + 3 * 365 * 86_400,
    )
}

pub const PASSWORD_ONLY: &str =
    r#"{"methods":["password","account_otp","phone_otp","email_otp"],"hint":null}"#;
pub const SOU: &str = r#"{"name":"energy-audit","text":"We compare your usage with similar homes to suggest solar panel sizes.","url":"https://sunny.example/use"}"#;

/// The default context: not signed in, all methods.
pub fn context(scope: &str) -> String {
    context_with(scope, true, "null", PASSWORD_ONLY, SOU)
}

/// A context with the customer already signed in.
pub fn signed_in_context(scope: &str) -> String {
    context_with(scope, true, &customer(), PASSWORD_ONLY, SOU)
}

pub const SCOPE: &str = "FB=1_3_4_5_10_16_51_55_56;IntervalDuration=900_3600;HistoryLength=63072000;PreferredAuthEndDate=1900000000;AdditionalScope=meters-all_sou-energy-audit";

/// A mounted widget; unmounted and removed on drop.
pub struct Mounted {
    pub el: HtmlElement,
    pub handle: MountHandle,
    pub fake: Rc<Fake>,
    pub navigations: Rc<RefCell<Vec<String>>>,
    pub events: Rc<RefCell<Vec<(String, JsValue)>>>,
    _listeners: Vec<Closure<dyn FnMut(web_sys::CustomEvent)>>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.handle.unmount();
        self.el.remove();
    }
}

pub const EVENTS: [&str; 5] = ["ready", "step", "authorized", "declined", "error"];

/// Mounts the widget on a fresh element with `fake` behind it.
pub fn mount_with(fake: &Rc<Fake>, tweak: impl FnOnce(&mut Config)) -> Mounted {
    let doc = document();
    let el: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&el).unwrap();
    let navigations = Rc::new(RefCell::new(Vec::new()));
    let events: Rc<RefCell<Vec<(String, JsValue)>>> = Rc::new(RefCell::new(Vec::new()));
    let mut listeners = Vec::new();
    for name in EVENTS {
        let events = events.clone();
        let cb = Closure::<dyn FnMut(web_sys::CustomEvent)>::new(move |e: web_sys::CustomEvent| {
            events.borrow_mut().push((e.type_(), e.detail()));
        });
        el.add_event_listener_with_callback(
            &format!("gb-consent:{name}"),
            cb.as_ref().unchecked_ref(),
        )
        .unwrap();
        listeners.push(cb);
    }
    let nav = navigations.clone();
    let mut cfg = Config {
        request_id: REQ.to_string(),
        locale: Some("en".into()),
        transport: Some(fake.transport()),
        navigate: Some(Rc::new(move |url: &str| {
            nav.borrow_mut().push(url.to_string())
        })),
        redirect_delay: 0,
        ..Config::default()
    };
    tweak(&mut cfg);
    let handle = mount_app(el.clone(), cfg);
    Mounted {
        el,
        handle,
        fake: fake.clone(),
        navigations,
        events,
        _listeners: listeners,
    }
}

/// Mounts with the defaults.
pub fn mount(fake: &Rc<Fake>) -> Mounted {
    mount_with(fake, |_| {})
}

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Resolves after `ms` milliseconds (a real timer).
pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

/// Lets the widget finish what it is doing (fake requests, renders,
/// focus moves).
pub async fn settle() {
    for _ in 0..4 {
        sleep(5).await;
        leptos::task::tick().await;
    }
}

impl Mounted {
    /// Waits (up to 3 s) until `f` holds.
    pub async fn until(&self, what: &str, f: impl Fn(&Mounted) -> bool) {
        for _ in 0..300 {
            if f(self) {
                settle().await;
                return;
            }
            sleep(10).await;
        }
        panic!("timed out waiting for {what}; page text: {}", self.text());
    }

    /// Waits until the widget shows `step`.
    pub async fn step(&self, step: &str) {
        self.until(&format!("step {step}"), |m| m.data_step() == step)
            .await;
    }

    pub fn data_step(&self) -> String {
        self.q(".gbc")
            .and_then(|e| e.get_attribute("data-step"))
            .unwrap_or_default()
    }

    /// The visible text (`innerText`: nothing hidden; collapsed whitespace).
    pub fn text(&self) -> String {
        self.el
            .inner_text()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn has_text(&self, s: &str) -> bool {
        self.text().contains(s)
    }

    pub fn q(&self, sel: &str) -> Option<Element> {
        self.el.query_selector(sel).unwrap()
    }

    pub fn qa(&self, sel: &str) -> Vec<Element> {
        let list = self.el.query_selector_all(sel).unwrap();
        (0..list.length())
            .filter_map(|i| list.item(i))
            .map(|n| n.unchecked_into())
            .collect()
    }

    /// The step heading's text.
    pub fn heading(&self) -> String {
        self.q(".gbc-h")
            .and_then(|h| h.text_content())
            .unwrap_or_default()
    }

    /// The control labelled by a `<label>` whose text contains `text`.
    pub fn labelled(&self, text: &str) -> HtmlInputElement {
        let labels: Vec<Element> = self.qa("label").into_iter().filter(visible).collect();
        let t = |l: &Element| l.text_content().unwrap_or_default();
        let label = labels
            .iter()
            .find(|l| t(l) == text)
            .or_else(|| labels.iter().find(|l| t(l).starts_with(text)))
            .or_else(|| labels.iter().find(|l| t(l).contains(text)))
            .cloned()
            .unwrap_or_else(|| panic!("no label with {text:?} in {}", self.text()));
        let id = label.get_attribute("for").expect("label has for");
        document()
            .get_element_by_id(&id)
            .unwrap_or_else(|| panic!("no control #{id}"))
            .unchecked_into()
    }

    /// Types into the control labelled `label` (fires `input`).
    pub fn fill(&self, label: &str, value: &str) {
        let input = self.labelled(label);
        input.set_value(value);
        let ev = web_sys::Event::new("input").unwrap();
        input.dispatch_event(&ev).unwrap();
    }

    /// Clicks the control labelled `label` (checkbox / radio).
    pub fn toggle(&self, label: &str) {
        self.labelled(label).click();
    }

    /// The visible button (or link styled as one) whose text is exactly
    /// `text`.
    pub fn button(&self, text: &str) -> HtmlElement {
        self.qa("button, a.gbc-button")
            .into_iter()
            .find(|b| visible(b) && b.text_content().unwrap_or_default().trim() == text)
            .unwrap_or_else(|| panic!("no button {text:?} in {}", self.text()))
            .unchecked_into()
    }

    /// True when a visible button reads `text`.
    pub fn has_button(&self, text: &str) -> bool {
        self.qa("button, a.gbc-button")
            .into_iter()
            .any(|b| visible(&b) && b.text_content().unwrap_or_default().trim() == text)
    }

    pub fn click(&self, text: &str) {
        self.button(text).click();
    }

    /// True when the button is disabled.
    pub fn disabled(&self, text: &str) -> bool {
        self.button(text).has_attribute("disabled")
    }

    /// The focused element.
    pub fn focused(&self) -> Option<Element> {
        document().active_element()
    }

    /// Names of the events received so far.
    pub fn event_names(&self) -> Vec<String> {
        self.events
            .borrow()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// The detail of the last event named `name` (`gb-consent:…`).
    pub fn event(&self, name: &str) -> Option<JsValue> {
        self.events
            .borrow()
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
    }
}

/// True when the element takes up space (not `hidden`, not inside a
/// hidden element).
pub fn visible(e: &Element) -> bool {
    e.get_client_rects().length() > 0
}

/// `v[k]` as a string.
pub fn js_str(v: &JsValue, k: &str) -> Option<String> {
    js_sys::Reflect::get(v, &k.into()).ok()?.as_string()
}

/// `v[k]` as a number.
pub fn js_num(v: &JsValue, k: &str) -> Option<f64> {
    js_sys::Reflect::get(v, &k.into()).ok()?.as_f64()
}

/// `v[k]` (undefined when absent).
pub fn js_get(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &k.into()).unwrap_or(JsValue::UNDEFINED)
}
