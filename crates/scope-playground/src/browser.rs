//! Thin wrappers over the browser APIs the playground uses (location,
//! history, sessionStorage, crypto.getRandomValues, clipboard, fetch).

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// `location.pathname`.
pub fn pathname() -> String {
    window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default()
}

/// `location.search` (with its `?`).
pub fn search() -> String {
    window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// `location.origin`.
pub fn origin() -> String {
    window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Replaces the current history entry's URL (no navigation).
pub fn replace_url(url: &str) {
    if let Some(h) = window().and_then(|w| w.history().ok()) {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(url));
    }
}

/// Navigates to `url`.
pub fn navigate(url: &str) {
    if let Some(w) = window() {
        let _ = w.location().assign(url);
    }
}

/// Random bytes from `crypto.getRandomValues`.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Some(c) = window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut buf);
    }
    buf
}

fn session() -> Option<web_sys::Storage> {
    window().and_then(|w| w.session_storage().ok().flatten())
}

/// `sessionStorage.getItem`.
pub fn session_get(key: &str) -> Option<String> {
    session().and_then(|s| s.get_item(key).ok().flatten())
}

/// `sessionStorage.setItem`.
pub fn session_set(key: &str, value: &str) {
    if let Some(s) = session() {
        let _ = s.set_item(key, value);
    }
}

/// `sessionStorage.removeItem`.
pub fn session_remove(key: &str) {
    if let Some(s) = session() {
        let _ = s.remove_item(key);
    }
}

/// Writes `text` to the clipboard; `false` when the browser refused.
pub async fn copy_text(text: &str) -> bool {
    let Some(w) = window() else { return false };
    JsFuture::from(w.navigator().clipboard().write_text(text))
        .await
        .is_ok()
}

/// Sets an attribute on `<html>` (the theme).
pub fn set_root_attribute(name: &str, value: &str) {
    if let Some(el) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = el.set_attribute(name, value);
    }
}

/// Focuses the element with this id.
pub fn focus(id: &str) {
    if let Some(el) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Fetches `url`; `Ok((status, body text))`, or `Err` when the network
/// failed. `post` is `(Authorization header, form body)`.
pub async fn fetch_text(url: &str, post: Option<(&str, &str)>) -> Result<(u16, String), String> {
    match post {
        Some((auth, body)) => {
            let headers = [
                ("Accept", "application/json"),
                ("Authorization", auth),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ];
            fetch(url, &headers, Some(body)).await
        }
        None => fetch(url, &[("Accept", "application/json")], None).await,
    }
}

/// GETs a protected resource with a bearer token (Atom XML).
pub async fn fetch_bearer(url: &str, token: &str) -> Result<(u16, String), String> {
    let auth = format!("Bearer {token}");
    let headers = [("Accept", "application/atom+xml"), ("Authorization", &auth)];
    fetch(url, &headers, None).await
}

/// `fetch` with these headers; a POST when there is a body.
async fn fetch(
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let w = window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    let h = web_sys::Headers::new().map_err(|_| "no Headers")?;
    for (k, v) in headers {
        h.set(k, v).map_err(|_| "bad header")?;
    }
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&h);
    let resp: web_sys::Response = JsFuture::from(w.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| format!("The request failed: {e:?}"))?
        .dyn_into()
        .map_err(|_| "not a Response")?;
    let status = resp.status();
    let text = JsFuture::from(resp.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "the body could not be read")?
        .as_string()
        .unwrap_or_default();
    Ok((status, text))
}
