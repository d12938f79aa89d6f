//! The Green Button scope playground: build, decode, preview and try ESPI
//! authorization requests. A Leptos (CSR) app built with Trunk; see
//! README.md.

mod app;
mod browser;
mod model;
mod preview;
mod usage;

fn main() {
    #[cfg(target_arch = "wasm32")]
    leptos::mount::mount_to_body(app::App);
    #[cfg(not(target_arch = "wasm32"))]
    {
        // Compiled natively only for clippy and the unit tests of `model`.
        let _ = app::App;
        eprintln!("scope-playground is a web app: build it with `trunk build` (see README.md)");
    }
}
