//! Test support for the browser end-to-end tests: a headless Chromium driven
//! through ChromeDriver, and axe-core run inside the page.
//!
//! The tests themselves live in `tests/`; they start the reference
//! DataCustodian in-process on a loopback port with a real SQLite file.

pub mod axe;
pub mod browser;
