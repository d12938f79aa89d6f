//! The reactive runtime: Leptos 0.8's reactive core (`reactive_graph`,
//! signals, effects, owners, context) and its executor (`any_spawner`),
//! plus browser timers tied to the current [`crate::dom::Bag`].
//!
//! The widget depends on these two Leptos crates directly rather than on
//! the `leptos` facade: the facade also links `server_fn`, whose
//! dependencies export wasm functions that can never be stripped (about
//! 9 KB of wasm), and the widget does not use Leptos's renderer (see
//! [`crate::dom`]).

pub use reactive_graph::effect::RenderEffect;
pub use reactive_graph::graph::untrack;
pub use reactive_graph::owner::{LocalStorage, Owner, StoredValue};
pub use reactive_graph::signal::RwSignal;
pub use reactive_graph::traits::*;

use std::future::Future;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// Runs a future on the browser's microtask queue.
pub fn spawn_local(fut: impl Future<Output = ()> + 'static) {
    any_spawner::Executor::spawn_local(fut);
}

/// The window.
pub fn window() -> web_sys::Window {
    web_sys::window().unwrap_or_else(|| unreachable!())
}

/// The document.
pub fn document() -> web_sys::Document {
    window().document().unwrap_or_else(|| unreachable!())
}

/// Runs `f` once after `ms` milliseconds (0: after the current task).
pub fn set_timeout(f: Box<dyn FnOnce()>, ms: i32) {
    let c = Closure::once_into_js(f);
    let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(c.unchecked_ref(), ms);
}

/// A running `setInterval`; cleared when dropped.
pub struct Interval {
    id: i32,
    _f: Closure<dyn FnMut()>,
}

impl Drop for Interval {
    fn drop(&mut self) {
        window().clear_interval_with_handle(self.id);
    }
}

/// Calls `f` every `ms` milliseconds for as long as the current bag lives.
pub fn set_interval(f: Box<dyn FnMut()>, ms: i32) {
    let c = Closure::wrap(f);
    let id = window()
        .set_interval_with_callback_and_timeout_and_arguments_0(c.as_ref().unchecked_ref(), ms)
        .unwrap_or(0);
    crate::dom::keep(Box::new(Interval { id, _f: c }));
}
