//! The host event contract (version 1): `gb-consent:ready`, `:step`,
//! `:authorized`, `:declined`, `:error`, as DOM `CustomEvent`s that bubble
//! to the host element and, in an allowed iframe, `postMessage` to one
//! exact origin.
//!
//! No event carries the redirect URL: it holds the authorization code,
//! which no script of the portal should be able to read. The widget follows
//! the redirect itself; a host that cancels `authorized` or `declined`
//! asks for it later with `proceed()` (see [`crate::ConsentControl`]).

use serde::Serialize;
use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, EventTarget};

use crate::flow::Step;

/// The version of the event contract (`detail.version`).
pub const VERSION: u32 = 1;

/// An event the widget tells its host about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum WidgetEvent {
    /// The first step is shown (or the first error page).
    Ready {
        /// The step shown.
        step: Step,
        /// The third party's client id (empty before the context loaded).
        client_id: String,
    },
    /// The step changed.
    Step {
        /// The new step.
        step: Step,
    },
    /// The customer authorized. Cancelable.
    Authorized {
        /// Always `authorized`.
        outcome: consent_api::Outcome,
        /// The authorization's id.
        authorization_id: String,
        /// The granted scope, canonical.
        scope: String,
    },
    /// The customer declined. Cancelable.
    Declined {
        /// Always `declined`.
        outcome: consent_api::Outcome,
    },
    /// An error page (`fatal`) or a refused request.
    Error {
        /// The API error code, `network` or `server`.
        code: String,
        /// True when the flow cannot go on.
        fatal: bool,
        /// The step it happened on.
        step: Step,
    },
}

impl WidgetEvent {
    /// The name after `gb-consent:`.
    pub fn name(&self) -> &'static str {
        match self {
            WidgetEvent::Ready { .. } => "ready",
            WidgetEvent::Step { .. } => "step",
            WidgetEvent::Authorized { .. } => "authorized",
            WidgetEvent::Declined { .. } => "declined",
            WidgetEvent::Error { .. } => "error",
        }
    }

    /// Whether a host may cancel it (stopping the widget's own redirect).
    pub fn cancelable(&self) -> bool {
        matches!(
            self,
            WidgetEvent::Authorized { .. } | WidgetEvent::Declined { .. }
        )
    }
}

/// `detail` of an event: a plain object with `version`, `request_id` and
/// the event's fields.
fn detail(event: &WidgetEvent, request_id: &str) -> JsValue {
    let detail = event
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or_else(|_| js_sys::Object::new().into());
    set(&detail, "version", &VERSION.into());
    set(&detail, "request_id", &request_id.into());
    detail
}

fn set(object: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(object, &key.into(), value);
}

/// Dispatches `gb-consent:{name}` on `target` (bubbles, composed) and, when
/// `parent_origin` is set, posts `{ type, detail }` to the parent window
/// with exactly that target origin. Returns false when a listener
/// cancelled it.
pub fn emit(
    target: &EventTarget,
    request_id: &str,
    parent_origin: Option<&str>,
    event: &WidgetEvent,
) -> bool {
    let kind = format!("gb-consent:{}", event.name());
    let detail = detail(event, request_id);
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(event.cancelable());
    init.set_detail(&detail);
    let go_on = CustomEvent::new_with_event_init_dict(&kind, &init)
        .ok()
        .and_then(|ev| target.dispatch_event(&ev).ok())
        .unwrap_or(true);
    if let (Some(origin), Some(w)) = (parent_origin, web_sys::window())
        && let Ok(Some(parent)) = w.parent()
    {
        // `{ type, detail }`, what an iframe posts to its parent.
        let msg: JsValue = js_sys::Object::new().into();
        set(&msg, "type", &kind.as_str().into());
        set(&msg, "detail", &detail);
        let _ = parent.post_message(&msg, origin);
    }
    go_on
}
