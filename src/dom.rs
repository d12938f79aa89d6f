//! A very small DOM layer over `web-sys`, driven by Leptos's reactive
//! graph.
//!
//! Why not `view!`: the widget must ship in 80 KB (brotli, wasm + js +
//! css). Leptos's renderer (tachys) monomorphises build and rebuild code
//! for every distinct view type; measured here, the full flow written with
//! `view!` came to 133 KB of wasm alone, and an empty shell to 66 KB. These
//! helpers are not generic: each element costs one call, each reactive
//! binding one [`RenderEffect`], each handler one boxed closure.
//!
//! Everything created while a [`Bag`] is active (event closures, effects)
//! lives as long as that bag: the app shell has one, each step has its own,
//! dropped when the step changes.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use crate::rt::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement};

/// Keeps event closures and effects alive.
#[derive(Default)]
pub struct Bag(RefCell<Vec<Box<dyn Any>>>);

thread_local! {
    static CURRENT: RefCell<Option<Rc<Bag>>> = const { RefCell::new(None) };
}

/// Runs `f` with `bag` collecting what it creates.
pub fn with_bag(bag: &Rc<Bag>, f: &mut dyn FnMut()) {
    let prev = CURRENT.with(|c| c.replace(Some(bag.clone())));
    f();
    CURRENT.with(|c| *c.borrow_mut() = prev);
}

/// Keeps `thing` alive as long as the current bag.
pub fn keep(thing: Box<dyn Any>) {
    CURRENT.with(|c| {
        if let Some(bag) = c.borrow().as_ref() {
            bag.0.borrow_mut().push(thing);
        }
    });
}

/// The document.
pub fn doc() -> web_sys::Document {
    document()
}

/// A new `<tag class=…>` appended to `parent`.
#[inline(never)]
pub fn el(parent: &Element, tag: &str, class: &str) -> Element {
    let e = doc().create_element(tag).unwrap_or_else(|_| unreachable!());
    if !class.is_empty() {
        e.set_class_name(class);
    }
    let _ = parent.append_child(&e);
    e
}

/// A new `<tag class=…>text</tag>` appended to `parent`.
#[inline(never)]
pub fn txt(parent: &Element, tag: &str, class: &str, text: &str) -> Element {
    let e = el(parent, tag, class);
    e.set_text_content(Some(text));
    e
}

/// Appends a text node.
#[inline(never)]
pub fn text(parent: &Element, text: &str) {
    let _ = parent.append_with_str_1(text);
}

/// Sets an attribute.
#[inline(never)]
pub fn set(e: &Element, name: &str, value: &str) {
    let _ = e.set_attribute(name, value);
}

/// Sets or removes an attribute.
#[inline(never)]
pub fn set_opt(e: &Element, name: &str, value: Option<&str>) {
    match value {
        Some(v) => set(e, name, v),
        None => {
            let _ = e.remove_attribute(name);
        }
    }
}

/// Sets or removes a boolean attribute (`hidden`, `disabled`).
#[inline(never)]
pub fn flag(e: &Element, name: &str, on: bool) {
    set_opt(e, name, on.then_some(""));
}

/// Listens to `event` on `e` for as long as the current bag lives.
#[inline(never)]
pub fn on(e: &web_sys::EventTarget, event: &str, f: Box<dyn FnMut(Event)>) {
    let c = Closure::wrap(f);
    let _ = e.add_event_listener_with_callback(event, c.as_ref().unchecked_ref());
    keep(Box::new(c));
}

/// Runs `f` now and again whenever a signal it reads changes, for as long
/// as the current bag lives.
#[inline(never)]
pub fn effect(f: Box<dyn Fn()>) {
    let e = RenderEffect::new(move |_: Option<()>| f());
    keep(Box::new(e));
}

/// Binds the text of `e` to `f`.
pub fn bind_text(e: &Element, f: Box<dyn Fn() -> String>) {
    let e = e.clone();
    effect(Box::new(move || e.set_text_content(Some(&f()))));
}

/// Binds a boolean attribute of `e` to `f`.
pub fn bind_flag(e: &Element, name: &'static str, f: Box<dyn Fn() -> bool>) {
    let e = e.clone();
    effect(Box::new(move || flag(&e, name, f())));
}

/// Binds an attribute of `e` to `f` (`None` removes it).
pub fn bind_attr(e: &Element, name: &'static str, f: Box<dyn Fn() -> Option<String>>) {
    let e = e.clone();
    effect(Box::new(move || set_opt(&e, name, f().as_deref())));
}

/// A `<button type=…>` with a click handler.
#[inline(never)]
pub fn button(parent: &Element, class: &str, label: &str, submit: bool) -> Element {
    let b = txt(parent, "button", class, label);
    set(&b, "type", if submit { "submit" } else { "button" });
    b
}

/// Focuses `e` (if it can take focus).
pub fn focus(e: &Element) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        let _ = h.focus();
    }
}

/// The value of an input.
pub fn value(e: &Element) -> String {
    e.dyn_ref::<HtmlInputElement>()
        .map(HtmlInputElement::value)
        .unwrap_or_default()
}

/// The `checked` state of an event's target.
pub fn target_checked(ev: &Event) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        .is_some_and(|i| i.checked())
}

/// Sets `checked` on an input.
pub fn set_checked(e: &Element, on: bool) {
    if let Some(i) = e.dyn_ref::<HtmlInputElement>() {
        i.set_checked(on);
    }
}
