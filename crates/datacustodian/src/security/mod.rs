//! Security plumbing: keyed hashes and random ids, password hashing, CSRF
//! tokens, response headers (CSP, CORS, HSTS), request logging, and load
//! shedding (client IP, rate limits, the bound on password hashes).

pub mod csrf;
pub mod headers;
pub mod limits;
pub mod passwords;
pub mod secrets;
