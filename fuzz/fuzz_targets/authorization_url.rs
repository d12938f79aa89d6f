//! Fuzz the authorization URL reader: never panics, spans inside the URL.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = String::from_utf8_lossy(data);
    let (req, diags) = espi_scope::AuthorizationRequest::from_url(&url);
    for d in &diags {
        assert!(d.span.start <= d.span.end && d.span.end <= url.len());
    }
    if let Some(r) = req {
        let _ = espi_scope::AuthorizationRequest::from_url(&r.to_url());
    }
});
