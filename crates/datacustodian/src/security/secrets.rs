//! Secrets: random ids, keyed hashes (HMAC-SHA256) and constant-time
//! comparison.
//!
//! Every bearer secret the server hands out (access and refresh tokens,
//! authorization codes, one-time codes, consent session ids, request ids) is
//! stored only as `HMAC-SHA256(key, purpose || 0x00 || value)`. The key lives
//! outside the database (a key file), so a stolen database alone gives
//! nothing usable. The purpose prefix keeps the hash of a value used in one
//! role from matching in another.

use std::fmt;
use std::io::Write;
use std::path::Path;

use espi_scope::pkce::base64url;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// What a keyed hash is for (domain separation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Access, refresh and client tokens (one namespace so introspection and
    /// revocation find any of them).
    Token,
    /// Authorization codes.
    Code,
    /// One-time codes (bound to their challenge id by the caller).
    Otp,
    /// Consent session cookie values.
    Session,
    /// Authorization request ids.
    Request,
    /// Client secrets.
    ClientSecret,
    /// CSRF tokens (derived, never stored).
    Csrf,
    /// Throttle keys (usernames, contacts), so they are not stored in clear.
    Throttle,
    /// The `state` of a sign-in sent to an OpenID Connect provider.
    OidcState,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Token => b"token",
            Purpose::Code => b"code",
            Purpose::Otp => b"otp",
            Purpose::Session => b"session",
            Purpose::Request => b"request",
            Purpose::ClientSecret => b"client-secret",
            Purpose::Csrf => b"csrf",
            Purpose::Throttle => b"throttle",
            Purpose::OidcState => b"oidc-state",
        }
    }
}

/// The HMAC key. Never printed, never stored in the database.
#[derive(Clone)]
pub struct HmacKey([u8; 32]);

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey(..)")
    }
}

/// A problem with the key file.
#[derive(Debug)]
pub struct KeyFileError(pub String);

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyFileError {}

impl HmacKey {
    /// A fresh random key.
    pub fn random() -> HmacKey {
        HmacKey(random_array())
    }

    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> HmacKey {
        HmacKey(bytes)
    }

    /// Reads the key file (exactly 32 bytes), or creates it with 32 random
    /// bytes and mode 0600 when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<HmacKey, KeyFileError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    KeyFileError(format!(
                        "key file {} must hold exactly 32 bytes (it holds {})",
                        path.display(),
                        bytes.len()
                    ))
                })?;
                Ok(HmacKey(arr))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = HmacKey::random();
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    opts.mode(0o600);
                }
                let mut f = opts.open(path).map_err(|e| {
                    KeyFileError(format!("cannot create key file {}: {e}", path.display()))
                })?;
                f.write_all(&key.0)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| {
                        KeyFileError(format!("cannot write key file {}: {e}", path.display()))
                    })?;
                Ok(key)
            }
            Err(e) => Err(KeyFileError(format!(
                "cannot read key file {}: {e}",
                path.display()
            ))),
        }
    }

    /// `HMAC-SHA256(key, purpose || 0 || value)`.
    pub fn hash(&self, purpose: Purpose, value: &str) -> Vec<u8> {
        self.hash_parts(purpose, &[value.as_bytes()])
    }

    /// Keyed hash of several parts, each length-prefixed so that part
    /// boundaries cannot be shifted.
    pub fn hash_parts(&self, purpose: Purpose, parts: &[&[u8]]) -> Vec<u8> {
        // HMAC accepts keys of any length: this cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(purpose.label());
        mac.update(&[0]);
        for p in parts {
            mac.update(&(p.len() as u64).to_be_bytes());
            mac.update(p);
        }
        mac.finalize().into_bytes().to_vec()
    }
}

/// Constant-time equality of two byte strings.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

fn random_array<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // The operating system's CSPRNG; failing to read it is not recoverable.
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system random number generator failed: {e}");
    }
    buf
}

/// `n` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system random number generator failed: {e}");
    }
    base64url(&buf)
}

/// A 256-bit bearer secret (tokens, codes, session ids).
pub fn new_secret() -> String {
    random_token(32)
}

/// A 128-bit public id (authorizations, customers, challenges).
pub fn new_id() -> String {
    random_token(16)
}

/// Six decimal digits from the CSPRNG, without modulo bias.
pub fn six_digits() -> String {
    loop {
        let b: [u8; 4] = random_array();
        let v = u32::from_be_bytes(b);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if v < 4_294_000_000 {
            return format!("{:06}", v % 1_000_000);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_keyed_and_separated() {
        let k1 = HmacKey::from_bytes([1; 32]);
        let k2 = HmacKey::from_bytes([2; 32]);
        assert_ne!(k1.hash(Purpose::Token, "x"), k2.hash(Purpose::Token, "x"));
        assert_ne!(k1.hash(Purpose::Token, "x"), k1.hash(Purpose::Code, "x"));
        assert_eq!(k1.hash(Purpose::Token, "x"), k1.hash(Purpose::Token, "x"));
        assert_eq!(k1.hash(Purpose::Token, "x").len(), 32);
    }

    #[test]
    fn six_digits_are_six_digits() {
        for _ in 0..200 {
            let d = six_digits();
            assert_eq!(d.len(), 6);
            assert!(d.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn secrets_have_enough_entropy() {
        // 32 bytes -> 43 base64url characters.
        assert_eq!(new_secret().len(), 43);
        assert_ne!(new_secret(), new_secret());
        assert_eq!(new_id().len(), 22);
    }

    #[test]
    fn pkce_is_base64url_sha256() {
        use espi_scope::pkce::{challenge_s256, is_pkce_string};
        // Computed independently (Python hashlib + base64.urlsafe_b64encode).
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mJ0bD6APmzqPJ2XvkHC0gdnXhWzt0k"),
            "T1I4ndPY5ToVIluoAm7wnhStlAhdD4A39llHzP-6lqM"
        );
        assert!(is_pkce_string(
            "E9Melhoa2OwvFUYwN5f8WqnGzzHR3XaJ_fEbk5Vd5sM"
        ));
        assert!(!is_pkce_string("short"));
    }
}
