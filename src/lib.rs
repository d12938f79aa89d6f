//! The Green Button Connect My Data consent widget, a Leptos 0.8 component.
//!
//! It walks a customer through an OAuth authorization request of a
//! DataCustodian: load the request, sign in, choose what to share,
//! authorize or decline, receipt. It speaks only the consent API (the
//! `consent-api` crate's types over `gloo-net`) and decodes scopes with
//! `espi-scope`.
//!
//! Three ways in, one component ([`ConsentWidget`]):
//! - a Leptos app puts `<ConsentWidget request_id=… />` in its `view!`;
//! - the hosted page (`index.html` + `boot.js`): `/consent/?request=…`;
//! - embedded (`embed.js`): `<gb-consent request-id="…">` in a portal.
//!
//! The last two call the wasm export [`mount`]. See the README section
//! "Consent widget" for the options, the events and the theming.
//!
//! ```no_run
//! use consent_widget::{ConsentControl, ConsentWidget, Messages, Theme, WidgetEvent};
//! use leptos::prelude::*;
//! use std::rc::Rc;
//!
//! #[component]
//! fn ConnectedApps(request_id: String) -> impl IntoView {
//!     let control = ConsentControl::new();
//!     let held = control.clone();
//!     // Return false to cancel `authorized`/`declined` (no redirect yet)…
//!     let on_event = Rc::new(|e: &WidgetEvent| !matches!(e, WidgetEvent::Authorized { .. }));
//!     view! {
//!         <ConsentWidget
//!             request_id=request_id
//!             api_base="https://auth.utility.example"
//!             locale="es"
//!             theme=Theme::Auto
//!             messages=Messages::new().with("consent.authorize", "Allow")
//!             redirect_delay=15
//!             on_event=on_event
//!             control=control
//!         />
//!         // …then follow it when the portal is ready.
//!         <button on:click=move |_| { held.proceed(); }>"Continue"</button>
//!     }
//! }
//! ```

#![warn(missing_docs)]

pub mod api;
pub mod components;
pub mod events;
pub mod flow;
pub mod i18n;
pub mod model;
mod steps;

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use leptos::prelude::*;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::api::{Api, Transport};
use crate::components::{ErrorSummary, StatusRegion};
use crate::flow::{Env, EventHook, Flow, use_flow};
pub use crate::i18n::Messages;
use crate::i18n::{I18n, Lang, M};

pub use crate::events::{VERSION as EVENT_VERSION, WidgetEvent};
pub use crate::flow::Navigate;

/// The colour scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Theme {
    /// Follows `prefers-color-scheme`.
    #[default]
    Auto,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

impl Theme {
    /// Every theme.
    pub const ALL: [Theme; 3] = [Theme::Auto, Theme::Light, Theme::Dark];

    /// Reads `auto`, `light` or `dark` (anything else: auto).
    pub fn parse(s: &str) -> Theme {
        Theme::from_name(s.trim()).unwrap_or_default()
    }

    /// Reads exactly `auto`, `light` or `dark`.
    pub fn from_name(s: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The spelling of [`Theme::parse`] (and of the root's class).
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// Lets a host act on a mounted widget: today, follow the decision's
/// redirect after cancelling `authorized` / `declined` (the host never
/// sees the URL, which holds the authorization code).
#[derive(Clone, Default)]
pub struct ConsentControl {
    // Set when the widget mounts; a plain cell, so the control outlives
    // any reactive owner of the host.
    flow: Rc<std::cell::Cell<Option<Flow>>>,
}

impl ConsentControl {
    /// A control to pass to [`ConsentWidget`].
    pub fn new() -> ConsentControl {
        ConsentControl::default()
    }

    /// Follows the decision's redirect; does nothing before a decision.
    /// Returns whether there was one to follow.
    pub fn proceed(&self) -> bool {
        let Some(flow) = self.flow.get() else {
            return false;
        };
        if flow.result.with_untracked(Option::is_none) {
            return false;
        }
        flow.held.set(false);
        flow.follow_redirect();
        true
    }
}

/// Makes element ids unique per widget on a page.
static MOUNTS: AtomicU32 = AtomicU32::new(0);
/// Numbers the handles of [`mount_app`].
static HANDLES: AtomicU32 = AtomicU32::new(0);

/// The language of `locale` (a BCP 47 tag), else the browser's first
/// supported one, else English.
fn widget_lang(locale: Option<&str>) -> Lang {
    locale.and_then(Lang::from_tag).unwrap_or_else(|| {
        let nav = window().navigator();
        let tags: Vec<String> = nav
            .languages()
            .iter()
            .filter_map(|v| v.as_string())
            .chain(nav.language())
            .collect();
        i18n::pick_lang(tags.iter().map(String::as_str)).unwrap_or(Lang::En)
    })
}

/// The consent screen for one authorization request.
///
/// ```ignore
/// view! { <ConsentWidget request_id=id api_base="https://auth.utility.example" locale="es" /> }
/// ```
#[component]
pub fn ConsentWidget(
    /// The request id (`?request=` of the consent page).
    #[prop(into)]
    request_id: String,
    /// Origin (and path prefix) of the consent API; empty: this page's.
    #[prop(optional, into)]
    api_base: String,
    /// A BCP 47 tag (`es`, `en-US`); none: the browser's languages.
    #[prop(optional, into)]
    locale: Option<String>,
    /// The colour scheme.
    #[prop(optional)]
    theme: Theme,
    /// Message overrides (see [`Messages`]).
    #[prop(optional)]
    messages: Messages,
    /// A URL of a message bundle of the same shape, loaded first.
    #[prop(optional, into)]
    messages_url: Option<String>,
    /// Seconds the receipt shows before the redirect is followed (0: only
    /// on the customer's click).
    #[prop(default = 15)]
    redirect_delay: u32,
    /// The hosted page: owns the document title and uses `h1`.
    #[prop(optional)]
    hosted: bool,
    /// In an iframe: the parent's origin to post events to (only if the
    /// request's context lists it in `embed_origins`; never `*`).
    #[prop(optional, into)]
    parent_origin: Option<String>,
    /// Called with every event before it is dispatched on the DOM;
    /// returning false cancels `authorized` / `declined` (no redirect until
    /// [`ConsentControl::proceed`]).
    #[prop(optional)]
    on_event: Option<EventHook>,
    /// A handle the host keeps to act on the widget.
    #[prop(optional)]
    control: Option<ConsentControl>,
    /// The request's context when the page already has it (the hosted page
    /// embeds it): one round trip fewer before the first field. Used once,
    /// and only for this request id.
    #[prop(optional)]
    context: Option<api::ConsentContext>,
    /// "Your data sharing" instead of a request: sign in, then the
    /// customer's authorizations, each of which can be stopped.
    #[prop(optional)]
    sharing: bool,
    /// The HTTP transport (default: `gloo-net`).
    #[prop(optional)]
    transport: Option<Transport>,
    /// Follows a redirect (default: `location.assign`).
    #[prop(optional)]
    navigate: Option<Navigate>,
) -> impl IntoView {
    let lang = widget_lang(locale.as_deref());
    let mut i18n = I18n::new(lang);
    i18n.apply(&messages);
    let transport = transport.unwrap_or_else(api::http_transport);
    let navigate = navigate.unwrap_or_else(|| {
        Rc::new(|url: &str| {
            let _ = window().location().assign(url);
        })
    });
    let n = MOUNTS.fetch_add(1, Ordering::Relaxed) + 1;
    let env = Env {
        api: Rc::new(if sharing {
            Api::customer(transport, &api_base)
        } else {
            Api::new(transport, &api_base, &request_id)
        }),
        request_id,
        hosted,
        navigate,
        parent_origin: parent_origin.filter(|o| !o.is_empty() && o != "*"),
        messages_url: messages_url.filter(|u| !u.is_empty()),
        id_prefix: format!("gbc{n}"),
        redirect_delay,
        on_event,
        preloaded: context,
        sharing,
    };
    let listens_to_parent = env.parent_origin.is_some();
    let flow = Flow::new(env, i18n);
    provide_context(flow);
    if let Some(c) = control {
        c.flow.set(Some(flow));
    }
    if hosted && let Some(root) = document().document_element() {
        let _ = root.set_attribute("lang", lang.as_str());
    }
    if listens_to_parent {
        let handle = window_event_listener(leptos::ev::message, move |ev| flow.on_message(&ev));
        on_cleanup(move || handle.remove());
    }
    flow.load();
    view! { <Shell theme=theme /> }
}

/// The widget's frame: the status region, the error summary and the
/// current step.
#[component]
fn Shell(
    /// The colour scheme (a class on the root).
    theme: Theme,
) -> impl IntoView {
    let flow = use_flow();
    // After a step is shown: focus, title, events.
    Effect::new(move |_| {
        let step = flow.step.get();
        set_timeout(move || flow.after_step(step), std::time::Duration::ZERO);
    });
    // When errors appear: focus the summary; the title says "Error: ".
    Effect::new(move |_| {
        let has_errors = flow.errors.with(|e| !e.is_empty());
        set_timeout(
            move || {
                if has_errors {
                    flow.focus(".gbc-error-summary");
                }
                flow.update_title();
            },
            std::time::Duration::ZERO,
        );
    });
    view! {
        <div
            class=format!("gbc gbc--{}", theme.as_str())
            lang=flow.lang().as_str()
            data-step=move || flow.step.get().as_str()
            node_ref=flow.root
        >
            <StatusRegion />
            <ErrorSummary />
            <div class="gbc-slot">{move || steps::view(flow.step.get())}</div>
        </div>
    }
}

impl Flow {
    /// A framed hosted page answers its parent's `gb-consent:ping` (and
    /// only the parent's, from the allowed origin) with the current step.
    fn on_message(&self, ev: &web_sys::MessageEvent) {
        #[derive(Deserialize)]
        struct Ping {
            #[serde(rename = "type")]
            kind: String,
        }
        let allowed = self.framed()
            && self
                .parent_origin()
                .is_some_and(|o| o == ev.origin().as_str());
        let from_parent = match (ev.source(), window().parent()) {
            (Some(src), Ok(Some(parent))) => js_sys::Object::is(&src, &parent),
            _ => false,
        };
        let ping = serde_wasm_bindgen::from_value::<Ping>(ev.data())
            .is_ok_and(|p| p.kind == "gb-consent:ping");
        if allowed && from_parent && ping {
            self.emit(WidgetEvent::Step {
                step: self.step.get_untracked(),
            });
        }
    }
}

/// Everything [`mount_app`] needs: the props of [`ConsentWidget`].
pub struct Config {
    /// The request id.
    pub request_id: String,
    /// Origin (and path prefix) of the consent API; empty = this page's.
    pub api_base: String,
    /// A BCP 47 tag; `None` = the browser's languages.
    pub locale: Option<String>,
    /// The colour scheme.
    pub theme: Theme,
    /// Message overrides.
    pub messages: Messages,
    /// A URL of a message bundle, loaded first.
    pub messages_url: Option<String>,
    /// In an iframe: the parent's origin to post events to.
    pub parent_origin: Option<String>,
    /// Hosted page: owns the document title and uses `h1`.
    pub hosted: bool,
    /// Seconds the receipt shows before the redirect (0: only on click).
    pub redirect_delay: u32,
    /// The HTTP transport (default: `gloo-net`).
    pub transport: Option<Transport>,
    /// Follows a redirect (default: `location.assign`).
    pub navigate: Option<Navigate>,
    /// The request's context, when the page already has it.
    pub context: Option<api::ConsentContext>,
    /// "Your data sharing" instead of a request.
    pub sharing: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            request_id: String::new(),
            api_base: String::new(),
            locale: None,
            theme: Theme::Auto,
            messages: Messages::default(),
            messages_url: None,
            parent_origin: None,
            hosted: false,
            redirect_delay: 15,
            transport: None,
            navigate: None,
            context: None,
            sharing: false,
        }
    }
}

/// A widget mounted by [`mount_app`]: its number, Leptos's unmount handle
/// (type-erased; dropping it unmounts) and its control.
type Live = (u32, Box<dyn Any>, ConsentControl);

thread_local! {
    // The live widgets, by mount number. Kept here, not in the handle, so a
    // handle that JS lets go of (and wasm-bindgen finalizes) never tears a
    // widget down: only `unmount()` does.
    static LIVE: RefCell<Vec<Live>> = const { RefCell::new(Vec::new()) };
}

/// A mounted widget.
#[wasm_bindgen]
pub struct MountHandle {
    id: u32,
}

#[wasm_bindgen]
impl MountHandle {
    /// Removes the widget from its element and stops its timers.
    pub fn unmount(&mut self) {
        let id = self.id;
        let gone = LIVE.with(|l| {
            let mut l = l.borrow_mut();
            let at = l.iter().position(|(i, _, _)| *i == id)?;
            Some(l.remove(at))
        });
        // Dropping Leptos's handle cleans up and removes the view.
        drop(gone);
    }

    /// Follows the decision's redirect after the host cancelled
    /// `gb-consent:authorized` or `:declined`. Returns false when there is
    /// no decision yet.
    pub fn proceed(&self) -> bool {
        let control = LIVE.with(|l| {
            l.borrow()
                .iter()
                .find(|(i, _, _)| *i == self.id)
                .map(|(_, _, c)| c.clone())
        });
        control.is_some_and(|c| c.proceed())
    }
}

/// Mounts [`ConsentWidget`] into `el` (its placeholder content is
/// replaced).
pub fn mount_app(el: HtmlElement, cfg: Config) -> MountHandle {
    el.set_text_content(None);
    let _ = el.class_list().add_1("gbc-host");
    if !cfg.hosted && !el.has_attribute("aria-label") {
        // Embedded: the host element is a named region of the portal.
        let lang = widget_lang(cfg.locale.as_deref());
        let _ = el.set_attribute("role", "region");
        let _ = el.set_attribute("aria-label", I18n::new(lang).t(M::SiteName));
    }
    let control = ConsentControl::new();
    let props = ConsentWidgetProps {
        request_id: cfg.request_id,
        api_base: cfg.api_base,
        locale: cfg.locale,
        theme: cfg.theme,
        messages: cfg.messages,
        messages_url: cfg.messages_url,
        redirect_delay: cfg.redirect_delay,
        hosted: cfg.hosted,
        parent_origin: cfg.parent_origin,
        on_event: None,
        control: Some(control.clone()),
        transport: cfg.transport,
        navigate: cfg.navigate,
        context: cfg.context,
        sharing: cfg.sharing,
    };
    let handle = leptos::mount::mount_to(el, move || ConsentWidget(props));
    let id = HANDLES.fetch_add(1, Ordering::Relaxed) + 1;
    LIVE.with(|l| l.borrow_mut().push((id, Box::new(handle), control)));
    MountHandle { id }
}

/// The options of [`mount`], as JS passes them.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct MountOptions {
    request_id: Option<String>,
    api_base: Option<String>,
    locale: Option<String>,
    theme: Option<String>,
    messages_url: Option<String>,
    parent_origin: Option<String>,
    hosted: bool,
    redirect_delay: Option<f64>,
    sharing: bool,
}

/// JS entry point: `mount(element, { requestId, apiBase, locale, theme,
/// messages, messagesUrl, parentOrigin, hosted, redirectDelay, context,
/// sharing })`
/// returns a handle with `unmount()` and `proceed()`. A `context` that is
/// not a whole `ConsentContext` is ignored (the widget asks the API).
#[wasm_bindgen]
pub fn mount(el: HtmlElement, options: JsValue) -> MountHandle {
    let get = |k: &str| js_sys::Reflect::get(&options, &k.into()).unwrap_or_default();
    let (messages, context) = (get("messages"), get("context"));
    let o: MountOptions = serde_wasm_bindgen::from_value(options).unwrap_or_default();
    mount_app(
        el,
        Config {
            request_id: o.request_id.unwrap_or_default(),
            api_base: o.api_base.unwrap_or_default(),
            locale: o.locale,
            theme: Theme::parse(o.theme.as_deref().unwrap_or_default()),
            messages: Messages::from_js(&messages),
            messages_url: o.messages_url,
            parent_origin: o.parent_origin,
            hosted: o.hosted,
            // Whole seconds; a negative or unreadable delay is the default.
            redirect_delay: o
                .redirect_delay
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map_or(15, |d| d.min(f64::from(u32::MAX)) as u32),
            transport: None,
            navigate: None,
            context: serde_wasm_bindgen::from_value(context).ok(),
            sharing: o.sharing,
        },
    )
}

/// The built-in messages of a language (`"en"`, `"es"`) as `{key: text}`,
/// for utilities writing their own bundle.
#[wasm_bindgen(js_name = defaultMessages)]
pub fn default_messages(lang: &str) -> JsValue {
    let lang = Lang::from_tag(lang).unwrap_or(Lang::En);
    let o = js_sys::Object::new();
    for (key, text) in I18n::defaults(lang) {
        let _ = js_sys::Reflect::set(&o, &key.into(), &text.into());
    }
    o.into()
}
