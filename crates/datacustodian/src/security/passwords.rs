//! Customer passwords: argon2id (PHC strings), verified off the async
//! runtime. An unknown user costs the same time as a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Argon2Cost;

fn argon2(cost: Argon2Cost) -> Argon2<'static> {
    let params = match cost {
        // OWASP: m = 19 MiB, t = 2, p = 1.
        Argon2Cost::Default => Params::new(19 * 1024, 2, 1, None),
        Argon2Cost::TestOnlyInsecure => Params::new(8, 1, 1, None),
    };
    let params = params.unwrap_or_else(|_| Params::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (slow: call from a blocking thread).
pub fn hash(password: &str, cost: Argon2Cost) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    argon2(cost)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Verifies a password against a PHC string; a malformed hash is a mismatch.
/// The parameters come from the stored hash.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Verifies `password` against `phc`, or against a dummy hash of the same
/// cost when there is no user, so both take the same time. Runs on a
/// blocking thread.
pub async fn verify_or_dummy(password: String, phc: Option<String>, cost: Argon2Cost) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(h) => verify(&password, &h),
        None => {
            let dummy = dummy_hash(cost);
            let _ = verify(&password, dummy);
            false
        }
    })
    .await
    .unwrap_or(false)
}

fn dummy_hash(cost: Argon2Cost) -> &'static str {
    static DEFAULT: OnceLock<String> = OnceLock::new();
    static TEST: OnceLock<String> = OnceLock::new();
    let cell = match cost {
        Argon2Cost::Default => &DEFAULT,
        Argon2Cost::TestOnlyInsecure => &TEST,
    };
    cell.get_or_init(|| hash("not a password", cost).unwrap_or_default())
}

/// Hashes on a blocking thread.
pub async fn hash_async(password: String, cost: Argon2Cost) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash(&password, cost))
        .await
        .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_round_trip() {
        let h = hash("correct horse", Argon2Cost::TestOnlyInsecure).unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn default_cost_is_owasp() {
        let h = hash("pw", Argon2Cost::Default).unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
    }
}
