//! A thin layer over the browser's own JSON (`JSON.parse` / `Reflect`):
//! smaller in wasm than serde for the handful of shapes the API has.

use js_sys::{Array, JSON, Object, Reflect};
use wasm_bindgen::JsValue;

/// `v[k]`, or `undefined`.
pub fn get(v: &JsValue, k: &str) -> JsValue {
    if !v.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// `v[k]` as a string, or `""`.
pub fn string(v: &JsValue, k: &str) -> String {
    get(v, k).as_string().unwrap_or_default()
}

/// `v[k]` as a non-empty string.
pub fn opt_string(v: &JsValue, k: &str) -> Option<String> {
    get(v, k).as_string().filter(|s| !s.is_empty())
}

/// `v[k]` as a non-negative integer.
pub fn uint(v: &JsValue, k: &str) -> Option<u64> {
    get(v, k)
        .as_f64()
        .filter(|n| *n >= 0.0 && n.is_finite())
        .map(|n| n as u64)
}

/// `v[k]` as a boolean (`false` when absent).
pub fn boolean(v: &JsValue, k: &str) -> bool {
    get(v, k).as_bool().unwrap_or(false)
}

/// `v[k]` as an array (empty when absent).
pub fn array(v: &JsValue, k: &str) -> Vec<JsValue> {
    let a = get(v, k);
    if Array::is_array(&a) {
        Array::from(&a).iter().collect()
    } else {
        Vec::new()
    }
}

/// `v[k]` as a list of strings.
pub fn strings(v: &JsValue, k: &str) -> Vec<String> {
    array(v, k).iter().filter_map(JsValue::as_string).collect()
}

/// A new object with these properties.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

/// Sets `o[k] = v`.
pub fn set(o: &JsValue, k: &str, v: &JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// A JS array of strings.
pub fn string_array(items: &[String]) -> JsValue {
    items
        .iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

/// A JS array of numbers.
pub fn number_array(items: &[u16]) -> JsValue {
    items
        .iter()
        .map(|n| JsValue::from_f64(f64::from(*n)))
        .collect::<Array>()
        .into()
}

/// `JSON.stringify(v)`.
pub fn stringify(v: &JsValue) -> String {
    JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// `JSON.parse(text)`, or `null`.
pub fn parse(text: &str) -> JsValue {
    JSON::parse(text).unwrap_or(JsValue::NULL)
}

/// The own enumerable `(key, value)` pairs of an object.
pub fn entries(v: &JsValue) -> Vec<(String, JsValue)> {
    if !v.is_object() {
        return Vec::new();
    }
    Object::entries(&Object::from(v.clone()))
        .iter()
        .filter_map(|e| {
            let e = Array::from(&e);
            Some((e.get(0).as_string()?, e.get(1)))
        })
        .collect()
}
