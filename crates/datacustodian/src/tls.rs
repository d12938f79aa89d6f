//! HTTPS for `serve --tls-cert FILE --tls-key FILE`: rustls (the `ring`
//! provider, TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2 by ALPN). `Secure`
//! cookies, the `__Host-` prefix and real origins for embedding need it;
//! plain HTTP stays for loopback development and for a server behind a TLS
//! proxy.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{AppState, app, housekeeping};

/// A rustls server configuration from a PEM certificate chain and a PEM
/// private key (PKCS#8, PKCS#1 or SEC1).
///
/// # Errors
/// A message naming the file and the problem: unreadable, no certificate,
/// no key, or a key that does not match the certificate.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no PEM certificate in the file",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: no PEM private key: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Serves `app(state)` over TLS on `listener` (each connection's peer
/// address is the client IP of the rate limits), with the housekeeping
/// beside it, until `handle` shuts it down.
///
/// # Errors
/// When the listener fails.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    state: AppState,
    tls: rustls::ServerConfig,
    handle: axum_server::Handle,
) -> std::io::Result<()> {
    let _purge = housekeeping::spawn(state.clone());
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
    axum_server::from_tcp_rustls(listener, tls)
        .handle(handle)
        .serve(app(state).into_make_service_with_connect_info::<SocketAddr>())
        .await
}
