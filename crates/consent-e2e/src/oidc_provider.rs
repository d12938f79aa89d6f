//! A real, certified OpenID Connect provider for the tests: npm
//! `oidc-provider` (`oidc/provider.mjs`), started on a free loopback port
//! with one client (the DataCustodian at `public_url`) and its built-in
//! login form (any password; the login name is the account). Accounts:
//! `alice` (`account_number` 1234567890, the demo customer Alex Rivera's)
//! and `stranger` (an account number the utility does not have).
//!
//! Used by this crate's browser tests and, through `#[path]`, by the
//! DataCustodian's own server tests (only `std` and `serde_json` here).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The client id the provider knows the DataCustodian by.
pub const CLIENT_ID: &str = "datacustodian";
/// Its client secret.
pub const CLIENT_SECRET: &str = "a-test-only-client-secret-of-enough-length";

/// The provider process; killed on drop.
pub struct OidcProvider {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub issuer: String,
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl OidcProvider {
    /// Starts the provider for a DataCustodian at `public_url` (redirect
    /// URI `{public_url}/consent/sso/callback`); returns once it listens.
    pub fn start(public_url: &str) -> OidcProvider {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../consent-e2e/oidc/provider.mjs"
        );
        let mut child = Command::new("node")
            .arg(script)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env(
                "OIDC_REDIRECT_URI",
                format!("{public_url}/consent/sso/callback"),
            )
            .env(
                "OIDC_ACCOUNTS",
                serde_json::json!({
                    "alice": {"account_number": "1234567890"},
                    "stranger": {"account_number": "0000000001"},
                })
                .to_string(),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node (scripts/setup.sh installs oidc-provider with npm ci)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the provider's first line");
        let issuer = line
            .trim()
            .strip_prefix("ISSUER ")
            .unwrap_or_else(|| panic!("the OpenID Connect provider did not start: {line:?}"))
            .to_string();
        OidcProvider { child, issuer }
    }
}
