//! # espi-scope
//!
//! Parse, check, describe, narrow and write Green Button Connect My Data
//! (ESPI) OAuth scope strings such as
//! `FB=1_3_4_5_13_14_39;IntervalDuration=3600;BlockDuration=monthly;HistoryLength=13`.
//!
//! - [`grammar::parse`] reads any real-world form leniently and never panics;
//!   every oddity is a [`Diagnostic`] with a stable code and a byte span.
//! - `Display` on [`ScopeValue`] / [`EspiScope`] writes the canonical form;
//!   `FromStr` is the strict reader; [`canonical::read`] reads only the
//!   canonical form, with a fraction of the code (for the consent widget).
//! - [`catalog`] knows function blocks 1 to 70 (name, status, consent role,
//!   plain-language English and Spanish descriptions).
//! - [`describe`] turns durations, history lengths and end dates into words.
//! - [`narrow()`] applies a customer's choices to a request; the grant is never
//!   wider than the request. [`final_scope`] completes it with what the data
//!   custodian adds (supported blocks, commodities, interval lengths).
//! - [`authorization_url`] builds and reads OAuth authorization URLs.
//!
//! The library does no I/O, uses no regex and has no required dependency,
//! so it compiles to `wasm32-unknown-unknown` with `default-features = false`.
//!
//! ```
//! use espi_scope::{parse, Severity};
//!
//! let parsed = parse("fb=4_16_4; IntervalDuration=Monthly_900 ;HistoryLength=63072000;");
//! assert!(!parsed.has_errors());
//! let scope = &parsed.value.scopes[0];
//! assert_eq!(scope.function_blocks, vec![4, 16]);
//! assert_eq!(
//!     parsed.value.to_string(),
//!     "FB=4_16;IntervalDuration=monthly_900;HistoryLength=63072000"
//! );
//! for d in &parsed.diagnostics {
//!     assert_eq!(d.severity, Severity::Warning);
//!     println!("{} at {:?}: {}", d.code.as_str(), d.span, d.message);
//! }
//!
//! // Strict reading fails on errors:
//! assert!("FB=4_x".parse::<espi_scope::ScopeValue>().is_err());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod authorization_url;
pub mod canonical;
pub mod catalog;
pub mod describe;
pub mod diagnostic;
pub mod final_scope;
pub mod grammar;
pub mod model;
pub mod narrow;
#[cfg(feature = "pkce")]
pub mod pkce;

pub use authorization_url::{
    AuthorizationRequest, PercentDecodeError, form_decode, percent_decode, percent_encode_component,
};
pub use catalog::{Commodity, ConsentRole, DataKind, FunctionBlock, Status, function_block};
pub use describe::Lang;
pub use diagnostic::{Diagnostic, DiagnosticCode, ParseError, ParseErrorKind, Severity};
pub use grammar::{Parsed, parse};
pub use model::{
    AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency, MeterRequest, ScopeValue,
};
pub use narrow::{Choices, NarrowError, NarrowErrorKind, NarrowPolicy, narrow};
