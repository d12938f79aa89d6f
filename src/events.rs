//! The host event contract (version 1): `gb-consent:ready`, `:step`,
//! `:authorized`, `:declined`, `:error`, as DOM `CustomEvent`s on the host
//! element and, in an allowed iframe, `postMessage` to one exact origin.

use wasm_bindgen::JsValue;
use web_sys::{CustomEvent, CustomEventInit, HtmlElement};

use crate::json;

/// The version of the event contract (`detail.version`).
pub const VERSION: u32 = 1;

/// Dispatches `gb-consent:{name}` on `host` with `detail = { version,
/// request_id, ...extra }` (bubbles, composed; `authorized` and `declined`
/// are cancelable: cancelling stops the widget's own redirect). When
/// `parent_origin` is set, also posts `{ type, detail }` to the parent
/// window with exactly that target origin. Returns false when cancelled.
pub fn emit(
    host: &HtmlElement,
    request_id: &str,
    parent_origin: Option<&str>,
    name: &str,
    extra: &[(&str, JsValue)],
) -> bool {
    let detail = crate::app::detail(request_id, extra);
    let kind = format!("gb-consent:{name}");
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_cancelable(matches!(name, "authorized" | "declined"));
    init.set_detail(&detail);
    let mut go_on = true;
    if let Ok(ev) = CustomEvent::new_with_event_init_dict(&kind, &init) {
        go_on = host.dispatch_event(&ev).unwrap_or(true);
    }
    if let (Some(origin), Some(w)) = (parent_origin, web_sys::window())
        && let Ok(Some(parent)) = w.parent()
    {
        let msg = json::object(&[("type", kind.as_str().into()), ("detail", detail)]);
        let _ = parent.post_message(&msg, origin);
    }
    go_on
}
