//! PKCE (RFC 7636) and base64url: the one implementation the CLI, the
//! playground and the DataCustodian share.
//!
//! Behind the `pkce` feature (`sha2` and `base64`); [`Pkce::generate`] needs
//! the `getrandom` feature as well. Callers without an OS random source (the
//! browser playground) pass their own random bytes to
//! [`Pkce::from_random`].
//!
//! ```
//! use espi_scope::pkce::{self, Pkce};
//! // RFC 7636 Appendix B.
//! let random = [
//!     116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
//!     77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
//! ];
//! let p = Pkce::from_random(&random);
//! assert_eq!(p.verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
//! assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
//! assert_eq!(pkce::challenge_s256(&p.verifier), p.challenge);
//! assert!(pkce::is_pkce_string(&p.challenge));
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The only challenge method this crate makes (`S256`).
pub const METHOD_S256: &str = "S256";

/// Base64url without padding (RFC 4648 §5), as PKCE and bearer tokens use.
pub fn base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The S256 challenge of a verifier: `BASE64URL(SHA256(verifier))`
/// (RFC 7636 §4.2).
pub fn challenge_s256(verifier: &str) -> String {
    base64url(&Sha256::digest(verifier.as_bytes()))
}

/// True for a string of 43 to 128 characters from the PKCE alphabet
/// (`[A-Za-z0-9-._~]`), the shape of both verifiers and S256 challenges
/// (RFC 7636 §4.1).
pub fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A code verifier and its S256 challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// The secret the client keeps and sends with the token request
    /// (43 characters).
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`, sent in the authorization URL.
    pub challenge: String,
}

impl Pkce {
    /// The verifier made from 32 random bytes (base64url: 43 characters) and
    /// its challenge. The bytes must come from a CSPRNG.
    pub fn from_random(random: &[u8; 32]) -> Pkce {
        let verifier = base64url(random);
        let challenge = challenge_s256(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }

    /// A fresh verifier from the operating system's CSPRNG.
    #[cfg(feature = "getrandom")]
    pub fn generate() -> Result<Pkce, getrandom::Error> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)?;
        Ok(Pkce::from_random(&random))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_lengths() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(&[0u8; 32]).len(), 43);
    }

    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            challenge_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!is_pkce_string("short"));
    }

    #[cfg(feature = "getrandom")]
    #[test]
    fn generated_verifiers_differ() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.verifier.len(), 43);
        assert!(is_pkce_string(&a.verifier) && is_pkce_string(&a.challenge));
    }
}
