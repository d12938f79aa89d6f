//! Security plumbing: keyed hashes and random ids, password hashing, CSRF
//! tokens, response headers (CSP, CORS) and request logging.

pub mod csrf;
pub mod headers;
pub mod passwords;
pub mod secrets;
