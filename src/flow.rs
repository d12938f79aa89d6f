//! The flow's shared state ([`Flow`], provided as context to every
//! component) and what the steps do with it: move between steps, show
//! errors, tell the host, follow redirects.

use std::rc::Rc;

use leptos::prelude::*;
use serde::Serialize;
use wasm_bindgen::JsCast;

use crate::api::{
    Api, ApiError, ConsentContext, Customer, DecisionResult, ErrorCode, OtpChallenge, SignIn,
};
use crate::events::{self, WidgetEvent};
use crate::i18n::{I18n, Lang, M};

/// The steps of the flow; `data-step` on the widget's root says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
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
    /// "Your data sharing": the customer's authorizations, to stop.
    Sharing,
}

impl Step {
    /// The `data-step` value and the `step` of the events.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Loading => "loading",
            Step::Error => "error",
            Step::SignIn => "sign-in",
            Step::Code => "code",
            Step::Consent => "consent",
            Step::Done => "done",
            Step::Sharing => "sharing",
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
    /// 429 `rate_limited` or 503 `server_busy` before the first step.
    Busy,
    /// 429 `request_attempts_exhausted`.
    Exhausted,
}

impl Failure {
    /// The failure an API error means, if it ends the flow.
    pub fn of(e: &ApiError) -> Option<Failure> {
        Some(match e {
            ApiError::Network => Failure::Unreachable,
            ApiError::Server => Failure::Server,
            ApiError::Refused { body, status } => match body.error {
                ErrorCode::UnknownRequest => Failure::Unknown,
                ErrorCode::RequestExpired => Failure::Expired,
                ErrorCode::RequestDecided => Failure::Decided,
                ErrorCode::RequestNotYours => Failure::NotYours,
                ErrorCode::CsrfInvalid => Failure::Session,
                ErrorCode::RequestAttemptsExhausted => Failure::Exhausted,
                // Any other 403 mid-flow is a CSRF or binding problem.
                _ if *status == 403 => Failure::Session,
                _ => return None,
            },
        })
    }

    /// Whether a retry can help.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            Failure::Unreachable | Failure::Server | Failure::Session | Failure::Busy
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
            Failure::Busy => "rate_limited",
            Failure::Exhausted => "request_attempts_exhausted",
        }
    }

    /// The page's heading and text.
    pub fn messages(self) -> (M, M) {
        match self {
            Failure::Unknown => (M::FailUnknownTitle, M::FailUnknownBody),
            Failure::Expired => (M::FailExpiredTitle, M::FailExpiredBody),
            Failure::Decided => (M::FailDecidedTitle, M::FailDecidedBody),
            Failure::NotYours => (M::FailNotYoursTitle, M::FailNotYoursBody),
            Failure::Unreachable => (M::FailUnreachableTitle, M::FailUnreachableBody),
            Failure::Server => (M::FailServerTitle, M::FailServerBody),
            Failure::Session => (M::FailSessionTitle, M::FailSessionBody),
            Failure::Busy => (M::FailBusyTitle, M::FailBusyBody),
            Failure::Exhausted => (M::FailExhaustedTitle, M::FailExhaustedBody),
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

/// Follows a redirect (the default is `location.assign`).
pub type Navigate = Rc<dyn Fn(&str)>;

/// Called with every event before it is dispatched; returning false
/// cancels a cancelable one (as `preventDefault()` would).
pub type EventHook = Rc<dyn Fn(&WidgetEvent) -> bool>;

/// What the page around the widget provides (fixed for a mount).
pub struct Env {
    /// The API client.
    pub api: Rc<Api>,
    /// The request id.
    pub request_id: String,
    /// Hosted page (owns the document title and `h1`) or embedded.
    pub hosted: bool,
    /// Follows a redirect.
    pub navigate: Navigate,
    /// The `parent_origin` given to a framed hosted page.
    pub parent_origin: Option<String>,
    /// A bundle URL to load before the first step.
    pub messages_url: Option<String>,
    /// Makes element ids unique per mount.
    pub id_prefix: String,
    /// Seconds before the receipt page follows the redirect (0: never).
    pub redirect_delay: u32,
    /// The Leptos host's event hook.
    pub on_event: Option<EventHook>,
    /// The request's context the page already had (the hosted page embeds
    /// it), used once instead of asking the API.
    pub preloaded: Option<ConsentContext>,
    /// "Your data sharing" (`/consent/sharing`): no request; sign in, then
    /// the customer's authorizations.
    pub sharing: bool,
}

/// The flow's state: `Copy` handles to signals, provided as context.
#[derive(Clone, Copy)]
pub struct Flow {
    /// The current step.
    pub step: RwSignal<Step>,
    /// Why the flow stopped (the error page).
    pub failure: RwSignal<Failure>,
    /// The request's context.
    pub ctx: RwSignal<Option<ConsentContext>>,
    /// The signed-in customer.
    pub customer: RwSignal<Option<Customer>>,
    /// How the customer may sign in (the request's context, or the
    /// session's on "Your data sharing").
    pub sign_in: RwSignal<Option<SignIn>>,
    /// The pending one-time code challenge.
    pub challenge: RwSignal<Option<OtpChallenge>>,
    /// The decision's result.
    pub result: RwSignal<Option<DecisionResult>>,
    /// True once the host cancelled `authorized`/`declined` (no redirect
    /// until it calls `proceed()`).
    pub held: RwSignal<bool>,
    /// The text of the `role="status"` region.
    pub status: RwSignal<String>,
    /// The errors of the current step (the error summary).
    pub errors: RwSignal<Vec<FieldError>>,
    /// The messages (set before the first step shows: a bundle from
    /// `messages_url` is loaded first, so the text of a step never changes).
    pub i18n: StoredValue<I18n>,
    /// Set once the context lists `parent_origin` in `embed_origins`.
    pub post_to_parent: RwSignal<bool>,
    /// Whether `gb-consent:ready` was sent.
    pub ready_sent: StoredValue<bool>,
    /// Set once the page's `sso_error` was shown or the request's
    /// `auth-sso` followed: coming back to sign-in does neither again.
    pub sso_handled: StoredValue<bool>,
    /// The widget's root element (events are dispatched on it and bubble
    /// to the host).
    pub root: NodeRef<leptos::html::Div>,
    env: StoredValue<Env, LocalStorage>,
}

/// The flow of the enclosing widget.
pub fn use_flow() -> Flow {
    expect_context::<Flow>()
}

impl Flow {
    /// New state for `env`, in `lang`.
    pub fn new(env: Env, i18n: I18n) -> Flow {
        Flow {
            step: RwSignal::new(Step::Loading),
            failure: RwSignal::new(Failure::Unknown),
            ctx: RwSignal::new(None),
            customer: RwSignal::new(None),
            sign_in: RwSignal::new(None),
            challenge: RwSignal::new(None),
            result: RwSignal::new(None),
            held: RwSignal::new(false),
            status: RwSignal::new(String::new()),
            errors: RwSignal::new(Vec::new()),
            i18n: StoredValue::new(i18n),
            post_to_parent: RwSignal::new(false),
            ready_sent: StoredValue::new(false),
            sso_handled: StoredValue::new(false),
            root: NodeRef::new(),
            env: StoredValue::new_local(env),
        }
    }

    fn env<T>(&self, f: impl FnOnce(&Env) -> T) -> Option<T> {
        self.env.try_with_value(f)
    }

    /// A message.
    pub fn t(&self, m: M) -> String {
        self.i18n.with_value(|i| i.t(m).to_string())
    }

    /// A message with placeholders filled in.
    pub fn f(&self, m: M, args: &[(&str, &str)]) -> String {
        self.i18n.with_value(|i| i.f(m, args))
    }

    /// A message with `{client}` filled in.
    pub fn fc(&self, m: M) -> String {
        let client = self.client_name();
        self.f(m, &[("client", &client)])
    }

    /// The language.
    pub fn lang(&self) -> Lang {
        self.i18n.with_value(|i| i.lang)
    }

    /// A document-unique element id.
    pub fn id(&self, name: &str) -> String {
        self.env(|e| format!("{}-{name}", e.id_prefix))
            .unwrap_or_default()
    }

    /// The API client.
    pub fn api(&self) -> Option<Rc<Api>> {
        self.env(|e| e.api.clone())
    }

    /// The origin of a framing parent, as given.
    pub fn parent_origin(&self) -> Option<String> {
        self.env(|e| e.parent_origin.clone()).flatten()
    }

    /// True on "Your data sharing".
    pub fn sharing(&self) -> bool {
        self.env(|e| e.sharing).unwrap_or(false)
    }

    /// True on the hosted page.
    pub fn hosted(&self) -> bool {
        self.env(|e| e.hosted).unwrap_or(false)
    }

    /// True when framed by an allowed parent (then the redirect is for the
    /// top window).
    pub fn framed(&self) -> bool {
        self.post_to_parent.get_untracked()
    }

    /// Seconds before the receipt page follows the redirect.
    pub fn redirect_delay(&self) -> u32 {
        self.env(|e| e.redirect_delay).unwrap_or(0)
    }

    /// The third party's name.
    pub fn client_name(&self) -> String {
        self.ctx
            .with_untracked(|c| c.as_ref().map(|c| c.client.name.clone()))
            .unwrap_or_default()
    }

    /// Moves to `step`, clearing the errors (and the status, but for the
    /// code step, which announces where the code went).
    pub fn go(&self, step: Step) {
        self.errors.set(Vec::new());
        if step != Step::Code {
            self.status.set(String::new());
        }
        self.step.set(step);
    }

    /// Shows one error for the field `name` (empty: no field).
    pub fn error(&self, name: &str, text: String) {
        let id = if name.is_empty() {
            String::new()
        } else {
            self.id(name)
        };
        self.errors.set(vec![FieldError { id, text }]);
    }

    /// The error of the field with element id `id`, if any (tracked).
    pub fn error_for(&self, id: &str) -> Option<String> {
        self.errors
            .with(|v| v.iter().find(|e| e.id == id).map(|e| e.text.clone()))
    }

    /// Shows the page for `f`.
    pub fn fail(&self, f: Failure) {
        self.failure.set(f);
        self.go(Step::Error);
        self.emit_error(f.code(), true);
    }

    /// Handles the errors that end the flow; true when it did. Network and
    /// server trouble mid-flow is said in place, keeping the form.
    pub fn stop_on(&self, e: &ApiError) -> bool {
        let Some(f) = Failure::of(e) else {
            return false;
        };
        if matches!(f, Failure::Unreachable | Failure::Server)
            && self.step.get_untracked() != Step::Loading
        {
            return false;
        }
        self.fail(f);
        true
    }

    /// Reports a mid-flow API error: the host event, then `text` (or the
    /// network / server wording) in the error summary, on `field`.
    pub fn report(&self, e: &ApiError, field: &str, text: Option<String>) {
        self.emit_error(e.event_code(), false);
        let text = text.unwrap_or_else(|| {
            self.t(match e {
                ApiError::Network => M::ErrNetwork,
                _ => M::ErrUnexpected,
            })
        });
        self.error(field, text);
    }

    /// Tells the host: the Leptos hook, then a `gb-consent:*` DOM event on
    /// the widget's root (and a message to an allowed parent). Returns
    /// false when the host cancelled it.
    pub fn emit(&self, event: WidgetEvent) -> bool {
        let hook = self.env(|e| e.on_event.clone()).flatten();
        let mut go_on = hook.is_none_or(|h| h(&event));
        if let Some(root) = self.root.get_untracked() {
            let parent = self.framed().then(|| self.parent_origin()).flatten();
            let request_id = self.env(|e| e.request_id.clone()).unwrap_or_default();
            go_on &= events::emit(root.unchecked_ref(), &request_id, parent.as_deref(), &event);
        }
        go_on || !event.cancelable()
    }

    /// Tells the host about an error.
    pub fn emit_error(&self, code: &str, fatal: bool) {
        self.emit(WidgetEvent::Error {
            code: code.to_string(),
            fatal,
            step: self.step.get_untracked(),
        });
    }

    /// Follows the decision's redirect (http(s) only): the top window when
    /// framed, else this one.
    pub fn follow_redirect(&self) {
        let Some(url) = self
            .result
            .with_untracked(|r| r.as_ref().map(|r| r.redirect_to.clone()))
        else {
            return;
        };
        self.go_to(&url);
    }

    /// Sends the browser to `url` (http(s) only): the top window when
    /// framed, else this one.
    pub fn go_to(&self, url: &str) {
        if !crate::model::is_web_url(url) {
            return;
        }
        if self.framed() {
            if let Some(top) = window().top().ok().flatten() {
                let _ = top.location().set_href(url);
            }
            return;
        }
        if let Some(nav) = self.env(|e| e.navigate.clone()) {
            nav(url);
        }
    }

    /// "Your data sharing": the session, then the list or the sign-in.
    #[cfg(feature = "sharing")]
    async fn load_sharing(self, api: &crate::api::Api) {
        match api.session().await {
            Ok(s) => {
                let signed_in = s.customer.is_some();
                self.customer.set(s.customer);
                self.sign_in.set(Some(s.sign_in));
                self.go(if signed_in {
                    Step::Sharing
                } else {
                    Step::SignIn
                });
            }
            Err(e) => self.fail_first_read(&e),
        }
    }

    /// Without the `sharing` feature (the consent page's build) there is no
    /// "Your data sharing": the page of its own is `/consent/sharing`.
    #[cfg(not(feature = "sharing"))]
    async fn load_sharing(self, _api: &crate::api::Api) {
        self.fail(Failure::Unknown);
    }

    /// Loads the messages (once) and the context, then shows the first step.
    pub fn load(self) {
        let Some(api) = self.api() else { return };
        self.go(Step::Loading);
        leptos::task::spawn_local(async move {
            let url = self.env(|e| e.messages_url.clone()).flatten();
            if let Some(url) = url.filter(|u| !u.is_empty()) {
                let bundle = crate::api::load_messages(&api.transport(), &url).await;
                self.i18n.update_value(|i| i.apply(&bundle));
            }
            if self.sharing() {
                self.load_sharing(&api).await;
                return;
            }
            if self.env(|e| e.request_id.is_empty()).unwrap_or(true) {
                self.fail(Failure::Unknown);
                return;
            }
            let preloaded = self
                .env
                .try_update_value(|e| e.preloaded.take())
                .flatten()
                .filter(|c| self.env(|e| e.request_id == c.request_id) == Some(true));
            let context = match preloaded {
                Some(ctx) => {
                    api.set_csrf(&ctx.csrf_token);
                    Ok(ctx)
                }
                None => api.context().await,
            };
            match context {
                Ok(ctx) => {
                    let allowed = self
                        .env(|e| {
                            e.parent_origin
                                .as_ref()
                                .is_some_and(|o| ctx.embed_origins.contains(o))
                        })
                        .unwrap_or(false);
                    self.post_to_parent.set(allowed && has_parent());
                    let signed_in = ctx.customer.is_some();
                    self.customer.set(ctx.customer.clone());
                    self.sign_in.set(Some(ctx.sign_in.clone()));
                    self.ctx.set(Some(ctx));
                    self.go(if signed_in {
                        Step::Consent
                    } else {
                        Step::SignIn
                    });
                }
                // Any other refusal of the first read (a rate limit, a
                // busy server) gets a page too: never a blank screen.
                Err(e) => self.fail_first_read(&e),
            }
        });
    }

    /// A refusal of the first read gets a page (a rate limit, a busy
    /// server too): never a blank screen.
    fn fail_first_read(&self, e: &ApiError) {
        if !self.stop_on(e) {
            self.fail(match e.code() {
                Some(ErrorCode::RateLimited | ErrorCode::ServerBusy) => Failure::Busy,
                _ => Failure::Server,
            });
        }
    }

    /// After a step is shown: focus its heading (not on the first render,
    /// where the page owns the focus), the title, the host events.
    pub fn after_step(&self, step: Step) {
        if step == Step::Loading {
            return;
        }
        let first = !self.ready_sent.get_value();
        self.ready_sent.set_value(true);
        if !first {
            self.focus(".gbc-h");
        }
        self.update_title();
        self.emit(WidgetEvent::Step { step });
        if first {
            let client_id = self
                .ctx
                .with_untracked(|c| c.as_ref().map(|c| c.client.client_id.clone()))
                .unwrap_or_default();
            self.emit(WidgetEvent::Ready { step, client_id });
        }
    }

    /// Focuses the first element matching `selector` inside the widget.
    pub fn focus(&self, selector: &str) {
        if let Some(el) = self
            .root
            .get_untracked()
            .and_then(|r| r.query_selector(selector).ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }

    /// Sets the document title on the hosted page: "Error: " while errors
    /// show, then the step's heading and the site name.
    pub fn update_title(&self) {
        if !self.hosted() {
            return;
        }
        let heading = self
            .root
            .get_untracked()
            .and_then(|r| r.query_selector(".gbc-h").ok().flatten())
            .and_then(|h| h.text_content())
            .unwrap_or_default();
        let mut title = String::new();
        self.i18n.with_value(|i| {
            if self.errors.with_untracked(|e| !e.is_empty()) {
                title.push_str(i.t(M::ErrorPrefix));
            }
            if !heading.is_empty() {
                title.push_str(&heading);
                title.push_str(" – ");
            }
            title.push_str(i.t(M::SiteName));
        });
        document().set_title(&title);
    }
}

/// A request of a step in flight: [`Busy::run`] starts one unless one is
/// already running, and the step's buttons are disabled meanwhile.
#[derive(Clone, Copy, Default)]
pub struct Busy(RwSignal<bool>);

impl Busy {
    /// Nothing in flight.
    pub fn new() -> Busy {
        Busy::default()
    }

    /// Whether a request is in flight (tracked).
    pub fn get(&self) -> bool {
        self.0.get()
    }

    /// Whether a request is in flight (untracked).
    pub fn now(&self) -> bool {
        self.0.get_untracked()
    }

    /// Runs `work` unless a request is already in flight.
    pub fn run(self, work: impl std::future::Future<Output = ()> + 'static) {
        if self.now() {
            return;
        }
        self.0.set(true);
        leptos::task::spawn_local(async move {
            work.await;
            // The step may be gone by now (it moved on): nothing to reset.
            self.0.try_set(false);
        });
    }
}

fn has_parent() -> bool {
    let w = window();
    match w.parent() {
        Ok(Some(p)) => !js_sys::Object::is(&p, &w),
        _ => false,
    }
}
