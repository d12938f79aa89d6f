//! How the consent widget's files are served: the hosted page names the
//! files of this build and asks for the glue and the wasm at once; those
//! versioned files are cached for a year; every file goes out brotli- or
//! gzip-compressed when the browser accepts it; stable names (what a portal
//! embeds) are revalidated.

mod common;

use std::io::Read;
use std::path::Path;

use datacustodian::admin::{NewClient, create_client};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING};

const WASM: &[u8] = b"\0asm\x01\0\0\0 a stand-in module body, repeated repeated repeated";

/// A widget build as Trunk writes it (with the `.br` and `.gz` twins).
fn build(dir: &Path) {
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html><head><link href=/consent/consent-widget.css rel=stylesheet>\
         <script src=/consent/boot.js type=module></script></head>\
         <body><main id=\"gb-consent\" class=\"gbc-host\"></main></body></html>",
    )
    .unwrap();
    for (name, body) in [
        ("consent-widget_bg.wasm", WASM),
        ("consent-widget.js", b"export default 1;".as_slice()),
        ("embed.js", b"customElements;".as_slice()),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
        let mut br = Vec::new();
        brotli_compress(body, &mut br);
        std::fs::write(dir.join(format!("{name}.br")), br).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, body).unwrap();
        std::fs::write(dir.join(format!("{name}.gz")), gz.finish().unwrap()).unwrap();
    }
}

fn brotli_compress(body: &[u8], out: &mut Vec<u8>) {
    let mut w = brotli::CompressorWriter::new(out, 4096, 11, 22);
    std::io::Write::write_all(&mut w, body).unwrap();
}

#[tokio::test]
async fn the_hosted_page_preloads_versioned_files_served_compressed_and_immutable() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let root = dir.path().to_path_buf();
    let s = common::start_with(move |c| c.assets_dir = Some(root)).await;
    let http = common::http();

    let page = http
        .get(s.url("/consent/?request=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
    let html = page.text().await.unwrap();
    let version = html
        .split("/consent/v/")
        .nth(1)
        .and_then(|t| t.split('/').next())
        .expect("versioned URLs in the page")
        .to_string();
    assert_eq!(version.len(), 16, "{html}");
    let base = format!("/consent/v/{version}/");
    for hint in [
        format!("<link rel=modulepreload href={base}consent-widget.js>"),
        format!(
            "<link rel=preload href={base}consent-widget_bg.wasm as=fetch type=application/wasm crossorigin>"
        ),
        format!("src={base}boot.js"),
        format!("href={base}consent-widget.css"),
    ] {
        assert!(html.contains(&hint), "{hint} missing in {html}");
    }

    // The versioned wasm: brotli when accepted, the same bytes decoded, a
    // year of immutable caching.
    let wasm = http
        .get(s.url(&format!("{base}consent-widget_bg.wasm")))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(wasm.headers()[CONTENT_ENCODING], "br");
    assert_eq!(
        wasm.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let mut decoded = Vec::new();
    brotli::Decompressor::new(wasm.bytes().await.unwrap().as_ref(), 4096)
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, WASM);
    // gzip for a browser without brotli.
    let gz = http
        .get(s.url(&format!("{base}consent-widget_bg.wasm")))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");

    // Another build's version is not this build's file.
    let other = http
        .get(s.url("/consent/v/0123456789abcdef/consent-widget_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    // A stable name a portal embeds: compressed, revalidated.
    let embed = http
        .get(s.url("/consent/embed.js"))
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(embed.status(), StatusCode::OK);
    assert_eq!(embed.headers()[CONTENT_ENCODING], "br");
    assert_eq!(embed.headers()[CACHE_CONTROL], "no-cache");
}

/// The hosted page as a browser opening `?request={rid}` at the top level
/// gets it.
async fn open_page(http: &reqwest::Client, s: &common::TestServer, rid: &str) -> reqwest::Response {
    http.get(s.url(&format!("/consent/?request={rid}")))
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-dest", "document")
        .send()
        .await
        .unwrap()
}

/// The JSON data block of a hosted page, if any.
fn data_block(html: &str) -> Option<serde_json::Value> {
    let start = html.find("<script type=application/json id=gb-consent-context>")?;
    let rest = &html[start..];
    let body = &rest[rest.find('>')? + 1..rest.find("</script>")?];
    Some(serde_json::from_str(body).expect("the data block is JSON"))
}

#[tokio::test]
async fn the_hosted_page_embeds_the_bound_context_and_only_for_its_session() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let root = dir.path().to_path_buf();
    let s = common::start_with(move |c| c.assets_dir = Some(root)).await;
    let url = common::authorize_url(&s, "FB=1_4_5_16", Some("st"), None);
    let b = common::Browser::new(&s.base);
    let rid = b.start(&url).await;

    // A fetch that is not a navigation (a link checker, a script) gets the
    // plain page and binds nothing.
    let fetched = common::http()
        .get(s.url(&format!("/consent/?request={rid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.headers()[CACHE_CONTROL], "no-cache");
    assert!(fetched.headers().get("set-cookie").is_none());
    assert!(data_block(&fetched.text().await.unwrap()).is_none());

    // The browser's navigation binds the request to it, like the API read.
    let page = open_page(&b.http, &s, &rid).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(
        page.headers()[CACHE_CONTROL],
        "no-store",
        "it holds a CSRF token"
    );
    assert!(
        page.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().contains("gbcd_session")),
        "the session cookie comes with the page"
    );
    let ctx = data_block(&page.text().await.unwrap()).expect("the context is embedded");
    assert_eq!(ctx["request_id"], rid.as_str());
    let csrf = ctx["csrf_token"].as_str().unwrap().to_string();
    // The same session's API read agrees, and the token works for a POST.
    assert_eq!(b.csrf(&rid).await, csrf);

    // Another browser gets the page without anything of the request.
    let other = common::Browser::new(&s.base);
    let html = open_page(&other.http, &s, &rid).await.text().await.unwrap();
    assert!(
        data_block(&html).is_none(),
        "a foreign session sees no context"
    );
    assert!(!html.contains(&csrf));

    // An unknown request: no block, cacheable shell.
    let unknown = open_page(&b.http, &s, "no-such-request").await;
    assert_eq!(unknown.headers()[CACHE_CONTROL], "no-cache");
    assert!(data_block(&unknown.text().await.unwrap()).is_none());
}

#[tokio::test]
async fn nothing_in_the_context_can_close_the_data_block() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let root = dir.path().to_path_buf();
    let s = common::start_with(move |c| c.assets_dir = Some(root)).await;
    let evil = "Solar </script><script>alert(1)</script>";
    let mut c = NewClient::third_party(evil, vec!["http://127.0.0.1:9/cb".into()]);
    c.require_pkce = false;
    let client = create_client(&s.state, c).await.expect("client");
    let url = common::authorize_url_for(
        &s,
        &client.client_id,
        "http://127.0.0.1:9/cb",
        "FB=1_4_5_16",
        Some("st"),
        None,
    );
    let b = common::Browser::new(&s.base);
    let rid = b.start(&url).await;
    let html = open_page(&b.http, &s, &rid).await.text().await.unwrap();
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "boot.js and the data block: {html}"
    );
    let ctx = data_block(&html).unwrap();
    assert_eq!(ctx["client"]["name"], evil, "the name survives, escaped");
}

#[tokio::test]
async fn your_data_sharing_is_a_page_of_its_own_under_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    // The build with the widget's `sharing` feature (scripts/build-web.sh).
    let sharing_dir = dir.path().join("sharing");
    std::fs::create_dir(&sharing_dir).unwrap();
    std::fs::write(
        sharing_dir.join("index.html"),
        "<!doctype html><html><head><script src=/consent/sharing/boot.js type=module></script>\
         </head><body><main class=gbc-host data-mode=sharing id=gb-consent></main></body></html>",
    )
    .unwrap();
    std::fs::write(sharing_dir.join("consent-widget_bg.wasm"), b"sharing build").unwrap();
    let root = dir.path().to_path_buf();
    let s = common::start_with(move |c| c.assets_dir = Some(root)).await;
    let http = common::http();
    let consent = http.get(s.url("/consent/")).send().await.unwrap();
    let consent_csp = consent.headers()["content-security-policy"].clone();
    let consent_html = consent.text().await.unwrap();
    for path in ["/consent/sharing", "/consent/sharing/"] {
        let sharing = http.get(s.url(path)).send().await.unwrap();
        assert_eq!(sharing.status(), StatusCode::OK, "{path}");
        assert_eq!(sharing.headers()[CACHE_CONTROL], "no-cache");
        assert_eq!(sharing.headers()["content-security-policy"], consent_csp);
        let html = sharing.text().await.unwrap();
        assert!(html.contains("data-mode=sharing"), "{html}");
        assert!(
            html.contains("/consent/sharing/boot.js"),
            "its own files: {html}"
        );
    }
    // Its files come from its own build; the consent page carries none of it.
    let wasm = http
        .get(s.url("/consent/sharing/consent-widget_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), b"sharing build");
    assert!(!consent_html.contains("sharing"), "{consent_html}");

    // A build without it says so rather than serving the consent page.
    let bare = tempfile::tempdir().unwrap();
    build(bare.path());
    let root = bare.path().to_path_buf();
    let s = common::start_with(move |c| c.assets_dir = Some(root)).await;
    let r = http.get(s.url("/consent/sharing")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
}
