//! The flow's shared state ([`Flow`], in context), its side effects (focus,
//! document title, host events) and the app shell: status region, error
//! summary and the slot where the current step is built.
//!
//! Each step is built on its own under a child [`Owner`] (so its signals
//! and effects go away with it) when [`Flow::step`] changes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::rt::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, HtmlElement};

use crate::api::{Api, ApiError, Challenge, ConsentContext, Customer, DecisionResult};
use crate::dom::{self, Bag, el, set, with_bag};
use crate::events;
use crate::i18n::{I18n, Lang, M};
use crate::json;
use crate::steps;
use crate::ui;

/// The steps of the flow; `data-step` on the widget's root says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Loading the request's context.
    Loading,
    /// A page explaining why the flow cannot go on.
    Error,
    /// Signing in.
    SignIn,
    /// Entering a one-time code.
    Code,
    /// Choosing what to share.
    Consent,
    /// Authorized (receipt) or declined.
    Done,
}

impl Step {
    const ALL: [Step; 6] = [
        Step::Loading,
        Step::Error,
        Step::SignIn,
        Step::Code,
        Step::Consent,
        Step::Done,
    ];

    fn from_u64(n: u64) -> Step {
        Step::ALL[(n as usize).min(5)]
    }

    /// The `data-step` value and the `step` of the events.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Loading => "loading",
            Step::Error => "error",
            Step::SignIn => "sign-in",
            Step::Code => "code",
            Step::Consent => "consent",
            Step::Done => "done",
        }
    }
}

/// Why the flow stopped (the error pages).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Failure {
    /// 404 `unknown_request` (or no request id).
    #[default]
    Unknown,
    /// 410 `request_expired`.
    Expired,
    /// 410/409 `request_decided`.
    Decided,
    /// 403 `request_not_yours`.
    NotYours,
    /// The backend cannot be reached.
    Unreachable,
    /// 5xx or an answer the widget cannot read.
    Server,
    /// 403 `csrf_invalid`.
    Session,
}

impl Failure {
    /// The failure an API error code means, if it ends the flow.
    pub fn of(code: &str) -> Option<Failure> {
        Some(match code {
            "unknown_request" => Failure::Unknown,
            "request_expired" => Failure::Expired,
            "request_decided" => Failure::Decided,
            "request_not_yours" => Failure::NotYours,
            "csrf_invalid" => Failure::Session,
            "network" => Failure::Unreachable,
            "server" => Failure::Server,
            _ => return None,
        })
    }

    /// Whether a retry can help.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Failure::Unreachable | Failure::Server | Failure::Session
        )
    }

    /// The `code` of the `gb-consent:error` event.
    pub fn code(self) -> &'static str {
        match self {
            Failure::Unknown => "unknown_request",
            Failure::Expired => "request_expired",
            Failure::Decided => "request_decided",
            Failure::NotYours => "request_not_yours",
            Failure::Unreachable => "network",
            Failure::Server => "server",
            Failure::Session => "csrf_invalid",
        }
    }
}

/// One error: the id of the field it belongs to (empty: none) and the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The full element id of the field.
    pub id: String,
    /// The message.
    pub text: String,
}

/// What the flow has learnt so far (read when a step is built; not
/// reactive).
#[derive(Default)]
pub struct Data {
    /// Why the flow stopped.
    pub failure: Failure,
    /// The request's context.
    pub ctx: Option<Rc<ConsentContext>>,
    /// The signed-in customer.
    pub customer: Option<Rc<Customer>>,
    /// The pending one-time code challenge.
    pub challenge: Option<Challenge>,
    /// The decision's result.
    pub result: Option<Rc<DecisionResult>>,
    /// False once a host cancelled `gb-consent:authorized` (no redirect).
    pub stay: bool,
}

/// What the page around the widget provides, and the flow's data.
pub struct Env {
    /// The API client.
    pub api: Rc<Api>,
    /// The element the widget is mounted into.
    pub host: HtmlElement,
    /// The request id.
    pub request_id: String,
    /// Hosted page (owns the document title and `h1`) or embedded.
    pub hosted: bool,
    /// Follows a redirect.
    pub navigate: Rc<dyn Fn(&str)>,
    /// The `parent_origin` given to a framed hosted page.
    pub parent_origin: Option<String>,
    /// Set once the context lists `parent_origin` in `embed_origins`.
    pub post_to_parent: Cell<bool>,
    /// A bundle URL to load before the first step (taken once loaded).
    pub messages_url: RefCell<Option<String>>,
    /// Makes element ids unique per mount.
    pub id_prefix: String,
    /// Whether `gb-consent:ready` was sent (the first rendered step).
    pub ready_sent: Cell<bool>,
    /// Seconds before the receipt page follows the redirect (0: never).
    pub redirect_delay: u32,
    /// The messages.
    pub i18n: RefCell<I18n>,
    /// The flow's data.
    pub data: RefCell<Data>,
    /// The current step's owner and bag (dropped when the step changes).
    pub current: RefCell<Option<(Owner, Rc<Bag>)>>,
    /// The text of the `role="status"` region.
    pub status: RefCell<String>,
    /// The errors of the current step (the error summary).
    pub errors: RefCell<Vec<FieldError>>,
}

/// The flow's state, provided as context to every step.
///
/// The data lives in [`Env`]; three version signals say when the step,
/// the status text or the errors changed (one signal type in the whole
/// widget: `RwSignal<u64>`, which keeps the wasm small).
#[derive(Clone, Copy)]
pub struct Flow {
    env: StoredValue<Env, LocalStorage>,
    step: RwSignal<u64>,
    status_v: RwSignal<u64>,
    errors_v: RwSignal<u64>,
}

impl Flow {
    /// Creates the state (inside the mount's owner).
    pub fn new(env: Env) -> Flow {
        Flow {
            env: StoredValue::new_local(env),
            step: RwSignal::new(0),
            status_v: RwSignal::new(0),
            errors_v: RwSignal::new(0),
        }
    }

    /// The current step (tracked).
    pub fn step(&self) -> Step {
        Step::from_u64(self.step.get())
    }

    /// The current step (not tracked).
    pub fn step_now(&self) -> Step {
        Step::from_u64(self.step.get_untracked())
    }

    /// The status text (tracked).
    pub fn status(&self) -> String {
        self.status_v.track();
        self.with_env(|e| e.status.borrow().clone())
            .unwrap_or_default()
    }

    /// Sets the status text (announced by the `role="status"` region).
    pub fn set_status(&self, text: String) {
        self.with_env(|e| *e.status.borrow_mut() = text);
        bump(self.status_v);
    }

    /// Reads the errors (tracked).
    pub fn errors_with<T>(&self, f: impl FnOnce(&[FieldError]) -> T) -> T {
        self.errors_v.track();
        let errors = self
            .with_env(|e| e.errors.borrow().clone())
            .unwrap_or_default();
        f(&errors)
    }

    /// Shows these errors in the summary (and inline).
    pub fn set_errors(&self, errors: Vec<FieldError>) {
        self.with_env(|e| *e.errors.borrow_mut() = errors);
        bump(self.errors_v);
    }

    /// Clears the errors.
    pub fn clear_errors(&self) {
        if self.has_errors_now() {
            self.set_errors(Vec::new());
        }
    }

    fn has_errors_now(&self) -> bool {
        self.with_env(|e| !e.errors.borrow().is_empty())
            .unwrap_or(false)
    }

    fn with_env<T>(&self, f: impl FnOnce(&Env) -> T) -> Option<T> {
        self.env.try_with_value(f)
    }

    /// Reads the flow's data.
    pub fn data<T>(&self, f: impl FnOnce(&Data) -> T) -> Option<T> {
        self.with_env(|e| f(&e.data.borrow()))
    }

    /// Changes the flow's data.
    pub fn set_data(&self, f: impl FnOnce(&mut Data)) {
        self.with_env(|e| f(&mut e.data.borrow_mut()));
    }

    /// The request's context.
    pub fn ctx(&self) -> Option<Rc<ConsentContext>> {
        self.data(|d| d.ctx.clone()).flatten()
    }

    /// The signed-in customer.
    pub fn customer(&self) -> Option<Rc<Customer>> {
        self.data(|d| d.customer.clone()).flatten()
    }

    /// The pending challenge.
    pub fn challenge(&self) -> Option<Challenge> {
        self.data(|d| d.challenge.clone()).flatten()
    }

    /// A message.
    pub fn t(&self, m: M) -> &'static str {
        self.with_env(|e| e.i18n.borrow().t(m)).unwrap_or_default()
    }

    /// A message, owned.
    pub fn ts(&self, m: M) -> String {
        self.t(m).to_string()
    }

    /// A message with placeholders filled in.
    pub fn f(&self, m: M, args: &[(&str, &str)]) -> String {
        self.with_env(|e| e.i18n.borrow().f(m, args))
            .unwrap_or_default()
    }

    /// A message with `{client}` filled in.
    pub fn fc(&self, m: M) -> String {
        let client = self.client_name();
        self.f(m, &[("client", &client)])
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.with_env(|e| e.i18n.borrow().lang).unwrap_or(Lang::En)
    }

    /// A document-unique element id.
    pub fn id(&self, name: &str) -> String {
        self.with_env(|e| format!("{}-{name}", e.id_prefix))
            .unwrap_or_default()
    }

    /// The API client.
    pub fn api(&self) -> Option<Rc<Api>> {
        self.with_env(|e| e.api.clone())
    }

    /// True on the hosted page.
    pub fn hosted(&self) -> bool {
        self.with_env(|e| e.hosted).unwrap_or(false)
    }

    /// True when framed by an allowed parent (links then target `_top`).
    pub fn framed(&self) -> bool {
        self.with_env(|e| e.post_to_parent.get()).unwrap_or(false)
    }

    /// The host element.
    pub fn host(&self) -> Option<HtmlElement> {
        self.with_env(|e| e.host.clone())
    }

    /// Seconds before the receipt page follows the redirect.
    pub fn redirect_delay(&self) -> u32 {
        self.with_env(|e| e.redirect_delay).unwrap_or(0)
    }

    /// The third party's name.
    pub fn client_name(&self) -> String {
        self.ctx()
            .map(|c| c.client.name.clone())
            .unwrap_or_default()
    }

    /// Moves to `step`, clearing the errors and the status.
    pub fn go(&self, step: Step) {
        self.clear_errors();
        if step != Step::Code {
            self.set_status(String::new());
        }
        self.step.set(step as u64);
    }

    /// Shows one error for the field `name` (empty: no field).
    pub fn error(&self, name: &str, text: &str) {
        let id = if name.is_empty() {
            String::new()
        } else {
            self.id(name)
        };
        self.set_errors(vec![FieldError {
            id,
            text: text.to_string(),
        }]);
    }

    /// The error of a field, if any (tracked).
    pub fn error_for(&self, id: &str) -> Option<String> {
        self.errors_with(|v| v.iter().find(|e| e.id == id).map(|e| e.text.clone()))
    }

    /// Shows the page for `f`.
    pub fn fail(&self, f: Failure) {
        self.set_data(|d| d.failure = f);
        self.go(Step::Error);
        self.emit_error(f.code(), true);
    }

    /// Handles the errors that end the flow; true when it did.
    pub fn stop_on(&self, e: &ApiError) -> bool {
        // A 403 during the flow is either a CSRF or a binding problem.
        let code = if e.status == 403 && e.code != "request_not_yours" {
            "csrf_invalid"
        } else {
            e.code.as_str()
        };
        let Some(f) = Failure::of(code) else {
            return false;
        };
        if matches!(f, Failure::Unreachable | Failure::Server) && self.step_now() != Step::Loading {
            // Mid-flow network trouble: say so in place, keep the form.
            return false;
        }
        self.fail(f);
        true
    }

    /// Reports a mid-flow API error: the host event, then `text` (or the
    /// network / server wording) in the error summary, on `field`.
    pub fn report(&self, e: &ApiError, field: &str, text: Option<&str>) {
        self.emit_error(&e.code, false);
        let text = text.unwrap_or_else(|| {
            self.t(match e.code.as_str() {
                "network" => M::ErrNetwork,
                _ => M::ErrUnexpected,
            })
        });
        self.error(field, text);
    }

    /// Dispatches `gb-consent:{name}` on the host (and posts it to an
    /// allowed parent). Returns false when a listener cancelled it.
    pub fn emit(&self, name: &str, extra: &[(&str, JsValue)]) -> bool {
        self.with_env(|e| {
            events::emit(
                &e.host,
                &e.request_id,
                e.post_to_parent
                    .get()
                    .then_some(e.parent_origin.as_deref())
                    .flatten(),
                name,
                extra,
            )
        })
        .unwrap_or(true)
    }

    /// Dispatches `gb-consent:error`.
    pub fn emit_error(&self, code: &str, fatal: bool) {
        self.emit(
            "error",
            &[
                ("code", code.into()),
                ("fatal", fatal.into()),
                ("step", self.step_now().as_str().into()),
            ],
        );
    }

    /// Follows a redirect of the backend (http(s) only), unless framed.
    pub fn navigate(&self, url: &str) {
        if !crate::model::is_web_url(url) || self.framed() {
            return;
        }
        if let Some(nav) = self.with_env(|e| e.navigate.clone()) {
            nav(url);
        }
    }

    /// Loads the messages (once) and the context, then shows the first step.
    pub fn load(self) {
        let Some(api) = self.api() else { return };
        self.go(Step::Loading);
        spawn_local(async move {
            let url = self.with_env(|e| e.messages_url.take()).flatten();
            if let Some(url) = url {
                let bundle = crate::api::load_json(&api.transport(), &url).await;
                self.with_env(|e| crate::apply_messages(&mut e.i18n.borrow_mut(), &bundle));
            }
            if self.with_env(|e| e.request_id.is_empty()).unwrap_or(true) {
                self.fail(Failure::Unknown);
                return;
            }
            match api.context().await {
                Ok(ctx) => {
                    self.with_env(|e| {
                        let allowed = e
                            .parent_origin
                            .as_ref()
                            .is_some_and(|o| ctx.embed_origins.iter().any(|x| x == o));
                        e.post_to_parent.set(allowed && has_parent());
                    });
                    let signed_in = ctx.customer.is_some();
                    self.set_data(|d| {
                        d.customer = ctx.customer.clone().map(Rc::new);
                        d.ctx = Some(Rc::new(ctx));
                    });
                    self.go(if signed_in {
                        Step::Consent
                    } else {
                        Step::SignIn
                    });
                }
                Err(e) => {
                    self.stop_on(&e);
                }
            }
        });
    }

    fn root(&self) -> Option<web_sys::Element> {
        self.host()?.query_selector(".gbc").ok().flatten()
    }

    /// After a step is built: focus, title, events.
    fn after_step(&self, step: Step) {
        if step == Step::Loading {
            return;
        }
        let Some(first) = self.with_env(|e| !e.ready_sent.replace(true)) else {
            return;
        };
        // Focus the new step's heading; not on the first render (the host
        // page, or the browser on page load, owns the focus then).
        if !first {
            focus_first(self.root(), ".gbc-h");
        }
        self.update_title();
        self.emit("step", &[("step", step.as_str().into())]);
        if first {
            let client_id = self
                .ctx()
                .map(|c| c.client.client_id.clone())
                .unwrap_or_default();
            self.emit(
                "ready",
                &[
                    ("step", step.as_str().into()),
                    ("client_id", client_id.into()),
                ],
            );
        }
    }

    /// Sets the document title on the hosted page: "Error: " while errors
    /// show, then the step's heading and the site name.
    pub fn update_title(&self) {
        if !self.hosted() {
            return;
        }
        let heading = self
            .root()
            .and_then(|r| r.query_selector(".gbc-h").ok().flatten())
            .and_then(|h| h.text_content())
            .unwrap_or_default();
        let mut title = String::new();
        if self.has_errors_now() {
            title.push_str(self.t(M::ErrorPrefix));
        }
        if !heading.is_empty() {
            title.push_str(&heading);
            title.push_str(" – ");
        }
        title.push_str(self.t(M::SiteName));
        document().set_title(&title);
    }
}

/// Notifies the readers of a version signal.
pub fn bump(v: RwSignal<u64>) {
    v.set(v.get_untracked().wrapping_add(1));
}

fn has_parent() -> bool {
    let w = window();
    match w.parent() {
        Ok(Some(p)) => !js_sys::Object::is(&p, &w),
        _ => false,
    }
}

/// Focuses the first element matching `selector` inside `root`.
pub fn focus_first(root: Option<web_sys::Element>, selector: &str) {
    if let Some(el) = root
        .and_then(|r| r.query_selector(selector).ok().flatten())
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Builds `step` into `slot` (the old step is dropped first).
fn build_step(flow: Flow, app: &Owner, slot: &Element, step: Step) {
    if let Some((owner, bag)) = flow.with_env(|e| e.current.take()).flatten() {
        owner.cleanup();
        drop(bag);
    }
    slot.set_text_content(None);
    let owner = app.child();
    let bag = Rc::new(Bag::default());
    owner.with(|| {
        untrack(|| {
            with_bag(&bag, &mut || match step {
                Step::Loading => steps::start::loading(flow, slot),
                Step::Error => steps::start::failure_page(flow, slot),
                Step::SignIn => steps::sign_in::sign_in(flow, slot),
                Step::Code => steps::code::code_step(flow, slot),
                Step::Consent => steps::consent::consent(flow, slot),
                Step::Done => steps::done::done(flow, slot),
            })
        })
    });
    flow.with_env(|e| *e.current.borrow_mut() = Some((owner, bag)));
}

/// Builds the shell into the host element and starts the flow. Call with
/// the app's owner current; the returned bag keeps the shell alive.
pub fn shell(flow: Flow, host: &Element, theme: &str) -> Rc<Bag> {
    let bag = Rc::new(Bag::default());
    let app = Owner::current().unwrap_or_default();
    with_bag(&bag, &mut || {
        let root = el(host, "div", &format!("gbc gbc--{theme}"));
        set(&root, "lang", flow.lang().as_str());
        ui::status_region(flow, &root);
        ui::error_summary(flow, &root);
        let slot = el(&root, "div", "gbc-slot");
        let app = app.clone();
        dom::effect(Box::new(move || {
            let s = flow.step();
            set(&root, "data-step", s.as_str());
            build_step(flow, &app, &slot, s);
            set_timeout(Box::new(move || flow.after_step(s)), 0);
        }));
        // When errors appear: focus the summary and prefix the title.
        dom::effect(Box::new(move || {
            let has_errors = flow.errors_with(|e| !e.is_empty());
            set_timeout(
                Box::new(move || {
                    if has_errors {
                        focus_first(flow.root(), ".gbc-error-summary");
                    }
                    flow.update_title();
                }),
                0,
            );
        }));
    });
    // Framed hosted page: answer the parent's `gb-consent:ping` (and only
    // the parent's, from the allowed origin) with the current step.
    if flow
        .with_env(|e| e.parent_origin.is_some())
        .unwrap_or(false)
    {
        with_bag(&bag, &mut || {
            dom::on(
                &window(),
                "message",
                Box::new(move |ev| flow.on_message(ev)),
            );
        });
    }
    flow.load();
    bag
}

impl Flow {
    fn on_message(&self, ev: web_sys::Event) {
        let Some(ev) = ev.dyn_ref::<web_sys::MessageEvent>() else {
            return;
        };
        let origin = self.with_env(|e| e.parent_origin.clone()).flatten();
        if origin.as_deref() != Some(ev.origin().as_str()) || !self.framed() {
            return;
        }
        let from_parent = match (ev.source(), window().parent()) {
            (Some(src), Ok(Some(parent))) => js_sys::Object::is(&src, &parent),
            _ => false,
        };
        if from_parent && json::string(&ev.data(), "type") == "gb-consent:ping" {
            self.emit("step", &[("step", self.step_now().as_str().into())]);
        }
    }
}

/// The detail of a `gb-consent:*` event: `version`, `request_id`, then
/// `extra`.
pub fn detail(request_id: &str, extra: &[(&str, JsValue)]) -> JsValue {
    let d = json::object(&[
        (
            "version",
            JsValue::from_f64(f64::from(crate::EVENT_VERSION)),
        ),
        ("request_id", request_id.into()),
    ]);
    for (k, v) in extra {
        json::set(&d, k, v);
    }
    d
}
