//! The Green Button Connect My Data consent widget.
//!
//! A client-side component that walks a customer through an OAuth
//! authorization request of a DataCustodian: load the request, sign in,
//! choose what to share, authorize or decline, receipt. It speaks only the
//! consent API (`api/consent-api.openapi.yaml`) and decodes scopes with
//! `espi-scope`.
//!
//! State and updates run on Leptos 0.8's reactive core ([`rt`]); the
//! markup is built by a small non-generic DOM layer (`dom`) from
//! component functions (`ui`, `steps`), which keeps the wasm small.
//!
//! Two ways in, one component:
//! - hosted page (`index.html` + `boot.js`): `/consent/?request=…`;
//! - embedded (`embed.js`): `<gb-consent request-id="…">` in a portal.
//!
//! Both call [`mount`] (JS) / [`mount_app`] (Rust). See the README section
//! "Consent widget" for the options, the events and the theming.

#![warn(missing_docs)]

pub mod api;
pub mod app;
mod dom;
mod events;
pub mod i18n;
mod json;
pub mod model;
pub mod rt;
mod steps;
mod ui;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::rt::*;
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::api::{Api, Transport};
use crate::app::{Env, Flow};
use crate::i18n::{I18n, Lang, keys};

pub use crate::events::VERSION as EVENT_VERSION;

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
    /// Reads `auto`, `light` or `dark` (anything else: auto).
    pub fn parse(s: &str) -> Theme {
        match s.trim() {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::Auto,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Theme::Auto => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// Follows a redirect (the default is `location.assign`).
pub type Navigate = Rc<dyn Fn(&str)>;

/// Everything [`mount_app`] needs.
pub struct Config {
    /// The request id (`?request=` of the hosted page).
    pub request_id: String,
    /// Origin (and path prefix) of the consent API; empty = this page's.
    pub api_base: String,
    /// A BCP 47 tag (`es`, `en-US`); `None` = the browser's languages.
    pub locale: Option<String>,
    /// The colour scheme.
    pub theme: Theme,
    /// Message overrides: an object (or its JSON text), flat or per
    /// language (`{"es": {"consent.authorize": "…"}}`).
    pub messages: JsValue,
    /// A URL of a message bundle of the same shape, loaded first.
    pub messages_url: Option<String>,
    /// In an iframe: the parent's origin to post events to (only if the
    /// context lists it in `embed_origins`).
    pub parent_origin: Option<String>,
    /// Hosted page: owns the document title and uses `h1`.
    pub hosted: bool,
    /// Seconds the receipt shows before the redirect is followed (0: only
    /// on the customer's click).
    pub redirect_delay: u32,
    /// The HTTP transport (default: `fetch`).
    pub transport: Option<Transport>,
    /// Follows a redirect (default: `location.assign`).
    pub navigate: Option<Navigate>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            request_id: String::new(),
            api_base: String::new(),
            locale: None,
            theme: Theme::Auto,
            messages: JsValue::UNDEFINED,
            messages_url: None,
            parent_origin: None,
            hosted: false,
            redirect_delay: 15,
            transport: None,
            navigate: None,
        }
    }
}

type Mounted = (Owner, Rc<dom::Bag>, HtmlElement);

thread_local! {
    // The live widgets, by mount number. Kept here, not in the handle, so a
    // handle that JS lets go of (and wasm-bindgen finalizes) never tears a
    // widget down: only `unmount()` does.
    static LIVE: RefCell<Vec<(u32, Mounted)>> = const { RefCell::new(Vec::new()) };
}

/// A mounted widget; `unmount()` removes it.
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
            let at = l.iter().position(|(i, _)| *i == id)?;
            Some(l.remove(at).1)
        });
        if let Some((owner, bag, host)) = gone {
            owner.cleanup();
            drop(bag);
            host.set_text_content(None);
        }
    }
}

/// Applies a message bundle: `{key: text}` entries, and the entries of a
/// nested object named after the active language (`"en"` / `"es"`).
pub fn apply_messages(i18n: &mut I18n, bundle: &JsValue) {
    let bundle = match bundle.as_string() {
        Some(text) => json::parse(&text),
        None => bundle.clone(),
    };
    for (k, v) in json::entries(&bundle) {
        if let Some(text) = v.as_string() {
            i18n.set(&k, text);
        } else if k == i18n.lang.as_str() {
            for (k2, v2) in json::entries(&v) {
                if let Some(text) = v2.as_string() {
                    i18n.set(&k2, text);
                }
            }
        }
    }
}

fn browser_lang() -> Option<Lang> {
    let nav = web_sys::window()?.navigator();
    let tags: Vec<String> = nav
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .chain(nav.language())
        .collect();
    i18n::pick_lang(tags.iter().map(String::as_str))
}

static MOUNTS: AtomicU32 = AtomicU32::new(0);

/// Mounts the widget into `el` (its placeholder content is replaced).
pub fn mount_app(el: HtmlElement, cfg: Config) -> MountHandle {
    let lang = cfg
        .locale
        .as_deref()
        .and_then(Lang::from_tag)
        .or_else(browser_lang)
        .unwrap_or(Lang::En);
    let mut i18n = I18n::new(lang);
    apply_messages(&mut i18n, &cfg.messages);
    el.set_text_content(None);
    let _ = el.class_list().add_1("gbc-host");
    if cfg.hosted {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", lang.as_str());
        }
    } else if !el.has_attribute("aria-label") {
        // Embedded: the host element is a named region of the portal.
        let _ = el.set_attribute("role", "region");
        let _ = el.set_attribute("aria-label", i18n.t(i18n::M::SiteName));
    }
    let transport = cfg.transport.unwrap_or_else(api::fetch_transport);
    let navigate = cfg.navigate.unwrap_or_else(|| {
        Rc::new(|url: &str| {
            let _ = window().location().assign(url);
        })
    });
    let n = MOUNTS.fetch_add(1, Ordering::Relaxed) + 1;
    let env = Env {
        api: Rc::new(Api::new(transport, &cfg.api_base, &cfg.request_id)),
        host: el.clone(),
        request_id: cfg.request_id,
        hosted: cfg.hosted,
        navigate,
        parent_origin: cfg.parent_origin.filter(|o| !o.is_empty() && o != "*"),
        post_to_parent: Default::default(),
        messages_url: RefCell::new(cfg.messages_url.filter(|u| !u.is_empty())),
        id_prefix: format!("gbc{n}"),
        ready_sent: Default::default(),
        redirect_delay: cfg.redirect_delay,
        i18n: RefCell::new(i18n),
        data: Default::default(),
        current: Default::default(),
        status: Default::default(),
        errors: Default::default(),
    };
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    let bag = owner.with(|| {
        // The flow is a `Copy` handle to the state, passed to every component.
        app::shell(Flow::new(env), &el, cfg.theme.as_str())
    });
    LIVE.with(|l| l.borrow_mut().push((n, (owner, bag, el))));
    MountHandle { id: n }
}

/// JS entry point: `mount(element, { requestId, apiBase, locale, theme,
/// messages, messagesUrl, parentOrigin, hosted, redirectDelay })`.
#[wasm_bindgen]
pub fn mount(el: HtmlElement, options: JsValue) -> MountHandle {
    let s = |k: &str| json::opt_string(&options, k);
    mount_app(
        el,
        Config {
            request_id: s("requestId").unwrap_or_default(),
            api_base: s("apiBase").unwrap_or_default(),
            locale: s("locale"),
            theme: Theme::parse(&s("theme").unwrap_or_default()),
            messages: json::get(&options, "messages"),
            messages_url: s("messagesUrl"),
            parent_origin: s("parentOrigin"),
            hosted: json::boolean(&options, "hosted"),
            redirect_delay: json::uint(&options, "redirectDelay")
                .map_or(15, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            transport: None,
            navigate: None,
        },
    )
}

/// The built-in messages of a language (`"en"`, `"es"`) as `{key: text}`,
/// for utilities writing their own bundle.
#[wasm_bindgen(js_name = defaultMessages)]
pub fn default_messages(lang: &str) -> JsValue {
    let lang = Lang::from_tag(lang).unwrap_or(Lang::En);
    let o = json::object(&[]);
    for (i, k) in keys().enumerate() {
        json::set(&o, k, &I18n::builtin(lang, i).into());
    }
    o
}
