//! Authorization URLs and percent-encoding.

use espi_scope::authorization_url::{
    AuthorizationRequest, PercentDecodeError, form_decode, percent_decode, percent_encode_component,
};

fn req() -> AuthorizationRequest {
    AuthorizationRequest {
        endpoint: "https://utility.example/oauth/authorize".into(),
        response_type: "code".into(),
        client_id: "tp 1".into(),
        redirect_uri: "https://app.example/cb?x=1".into(),
        scope: "openid FB=4_16;HistoryLength=63072000".into(),
        state: Some("s/1".into()),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
    }
}

#[test]
fn round_trip() {
    let r = req();
    let url = r.to_url();
    assert_eq!(
        url,
        "https://utility.example/oauth/authorize?response_type=code&client_id=tp%201&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%3Fx%3D1&scope=openid%20FB%3D4_16%3BHistoryLength%3D63072000&state=s%2F1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    );
    let (back, diags) = AuthorizationRequest::from_url(&url);
    assert_eq!(back, Some(r));
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn endpoint_with_query_and_fragment() {
    let mut r = req();
    r.endpoint = "https://u.example/authorize?tenant=pge".into();
    let url = r.to_url();
    assert!(url.starts_with("https://u.example/authorize?tenant=pge&response_type=code"));
    let (back, _) = AuthorizationRequest::from_url(&format!("{url}#frag"));
    assert_eq!(back, Some(r));
}

#[test]
fn plus_is_a_space_and_scope_diagnostics_point_into_the_url() {
    let url = "https://u.example/a?response_type=code&client_id=c&redirect_uri=r&state=s&scope=openid+fb%3D4_99";
    let (back, diags) = AuthorizationRequest::from_url(url);
    assert_eq!(back.unwrap().scope, "openid fb=4_99");
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["key-case", "unknown-function-block"]);
    assert_eq!(&url[diags[0].span.clone()], "fb");
    assert_eq!(&url[diags[1].span.clone()], "99");
}

#[test]
fn missing_scope_is_an_error() {
    let url = "https://u.example/a?response_type=code&client_id=c&redirect_uri=r&state=s";
    let (back, diags) = AuthorizationRequest::from_url(url);
    assert!(back.is_none());
    assert!(
        diags
            .iter()
            .any(|d| d.is_error() && d.message.contains("scope"))
    );
}

#[test]
fn bad_urls_never_panic() {
    for u in [
        "",
        "?",
        "??",
        "&&",
        "a?=&=",
        "x?scope=%",
        "x?scope=%E9",
        "é?é=é",
        "x?scope=FB%3D4&#",
        " https://a?b ",
    ] {
        let _ = AuthorizationRequest::from_url(u);
    }
}

#[test]
fn percent_encoding() {
    assert_eq!(
        percent_encode_component("a b;c=d_e~f.g-h"),
        "a%20b%3Bc%3Dd_e~f.g-h"
    );
    assert_eq!(percent_encode_component("é"), "%C3%A9");
    assert_eq!(percent_decode("a%20b+c").unwrap(), "a b+c");
    assert_eq!(form_decode("a%20b+c").unwrap(), "a b c");
    assert_eq!(percent_decode("%C3%A9").unwrap(), "é");
    assert_eq!(
        percent_decode("100%"),
        Err(PercentDecodeError::InvalidEscape(3))
    );
    assert_eq!(
        percent_decode("%G1"),
        Err(PercentDecodeError::InvalidEscape(0))
    );
    assert_eq!(percent_decode("%FF"), Err(PercentDecodeError::NotUtf8));
    for s in ["", "FB=4_5;x=y z", "ünï©ødé 🎉", "%%%"] {
        assert_eq!(percent_decode(&percent_encode_component(s)).unwrap(), s);
    }
}
