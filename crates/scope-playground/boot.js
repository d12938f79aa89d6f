// CSP-clean loader (script-src 'self'): Trunk's own loader is inline.
import init from "/scope-playground.js";

init({ module_or_path: "/scope-playground_bg.wasm" });
