//! Test support for the browser end-to-end tests of the consent widget:
//!
//! - [`browser`]: a headless Chromium driven through ChromeDriver (at most
//!   two at once per test binary), with early init scripts and the console
//!   log;
//! - [`axe`]: axe-core run inside the page;
//! - [`server`]: the reference DataCustodian in-process on a loopback port
//!   (real SQLite file, outbox file, the built widget at `/consent/`), and a
//!   redirect-URI catcher for third parties;
//! - [`oauth`]: the third party with the `oauth2` crate (PKCE, state, code
//!   exchange) and its Bearer call to the ESPI UsagePoint feed;
//! - [`eventually`]: the one way to wait (a check polled until it holds);
//! - [`tls`]: a test certificate (rcgen) for `*.test` https origins, the
//!   Chromium flags that map them to loopback and trust it, and the sample
//!   portal served on those origins;
//! - [`oidc_provider`]: a real OpenID Connect provider (npm `oidc-provider`)
//!   on a loopback port, for the utility's own sign-in;
//! - [`widget`]: driving the widget like a customer (steps, labelled
//!   fields, buttons) and recording its `gb-consent:*` events.
//!
//! The tests live in `tests/`: one file per area of the consent flow
//! (`hosted_flow`, `languages`, `one_time_code`, `errors`, `accessibility`,
//! `embedding`, `cross_origin`, `security_headers`; shared steps in
//! `tests/common/`) and
//! `playground.rs` (the scope playground). Build the widget first:
//! `trunk build --release` at the repository root.

pub mod axe;
pub mod browser;
pub mod eventually;
pub mod oauth;
pub mod oidc_provider;
pub mod server;
pub mod tls;
pub mod widget;
