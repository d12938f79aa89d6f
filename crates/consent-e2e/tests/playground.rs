//! Browser end-to-end tests of the scope playground (crates/scope-playground).
//!
//! The built playground (`crates/scope-playground/dist`, from
//! `scripts/build-web.sh`) is served by a tiny static server in this file,
//! with the strict CSP the DataCustodian sends, so the Build, Decode and
//! Preview tabs are tested without the server. Try it needs the demo
//! DataCustodian's sandbox; its end-to-end test waits for that wiring.

use std::path::PathBuf;
use std::time::Duration;

use consent_e2e::axe::assert_no_violations;
use consent_e2e::browser::Browser;
use fantoccini::Locator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

fn dist() -> PathBuf {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scope-playground/dist"
    ));
    assert!(
        d.join("index.html").is_file() && d.join("scope-playground_bg.wasm").is_file(),
        "the playground is not built at {}: run scripts/build-web.sh",
        d.display()
    );
    d
}

/// Serves `dist/` on a loopback port like the DataCustodian would: files by
/// path, the SPA index for anything else (so /playground/callback works),
/// no sandbox (404), and the strict CSP on every answer.
async fn serve_dist() -> String {
    let root = dist();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            let root = root.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .split('?')
                    .next()
                    .unwrap_or("/")
                    .to_string();
                let (status, ctype, body) = if path == "/playground/sandbox.json" {
                    ("404 Not Found", "application/json", b"{}".to_vec())
                } else {
                    let rel = path.trim_start_matches('/');
                    let file = root.join(rel);
                    let ok = !rel.is_empty() && !rel.contains("..") && file.is_file();
                    let file = if ok { file } else { root.join("index.html") };
                    let ctype = match file.extension().and_then(|e| e.to_str()) {
                        Some("js") => "text/javascript",
                        Some("wasm") => "application/wasm",
                        Some("css") => "text/css",
                        _ => "text/html; charset=utf-8",
                    };
                    ("200 OK", ctype, std::fs::read(&file).unwrap_or_default())
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
                     Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
                     Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

async fn text(b: &Browser, css: &str) -> String {
    b.wait_for(css)
        .await
        .text()
        .await
        .unwrap_or_else(|e| panic!("text of {css}: {e}"))
}

/// Polls until the text of `css` satisfies `pred` (Leptos updates the DOM
/// asynchronously), and returns it.
async fn wait_text(b: &Browser, css: &str, pred: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(el) = b.client.find(Locator::Css(css)).await {
            if let Ok(t) = el.text().await {
                if pred(&t) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never matched; last text: {last:?}");
}

async fn click(b: &Browser, css: &str) {
    b.wait_for(css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

async fn type_into(b: &Browser, css: &str, value: &str) {
    let el = b.wait_for(css).await;
    el.clear().await.expect("clear");
    el.send_keys(value).await.expect("type");
}

/// No element may carry a style attribute (CSP style-src 'self').
async fn assert_no_inline_styles(b: &Browser) {
    let n = b
        .client
        .execute("return document.querySelectorAll('[style]').length;", vec![])
        .await
        .expect("count styled elements");
    assert_eq!(n.as_u64(), Some(0), "elements with a style attribute");
}

#[tokio::test(flavor = "multi_thread")]
async fn build_then_decode_the_url_gives_back_the_same_scope() {
    let base = serve_dist().await;
    let b = Browser::start().await;
    b.client.goto(&format!("{base}/")).await.expect("open");
    let initial = text(&b, "#built-scope").await;
    assert_eq!(
        initial,
        "FB=4_16_51;IntervalDuration=900_3600;HistoryLength=63072000"
    );
    assert_no_violations(&b.client, "build tab").await;

    // Edit: drop bills, add cost of interval data, 3 years, noedit, meters-all,
    // a scope of use and an SSO hint.
    click(&b, "#fb-16").await;
    click(&b, "details summary").await;
    click(&b, "#fb-12").await;
    type_into(&b, "#history-amount", "3").await;
    click(&b, "#noedit").await;
    click(&b, "#meters-all").await;
    type_into(&b, "#scope-of-use", "solar-sizing").await;
    let scope = wait_text(&b, "#built-scope", |t| t.contains("sou-solar-sizing")).await;
    assert_eq!(
        scope,
        "FB=4_12_51;IntervalDuration=900_3600;HistoryLength=94608000;\
         AdditionalScope=noedit_meters-all_sou-solar-sizing"
    );
    let url = text(&b, "#built-url").await;
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("scope=FB%3D4_12_51%3B"), "{url}");
    assert_no_inline_styles(&b).await;

    // The link reproduces the page.
    let here = b.client.current_url().await.expect("url").to_string();
    assert!(here.contains("scope=FB%3D4_12_51"), "{here}");

    // Decode the built URL.
    click(&b, "#decode-built").await;
    let summary = wait_text(&b, "#decode-summary", |t| t.contains("authorization URL")).await;
    assert!(summary.contains("0 error(s), 0 warning(s)"), "{summary}");
    let canonical = text(&b, "#decode-result .canonical").await;
    assert_eq!(canonical, scope);
    let result = text(&b, "#decode-result").await;
    assert!(result.contains("Cost of Interval Data"), "{result}");
    assert!(result.contains("3 years of history"), "{result}");
    assert_no_violations(&b.client, "decode tab, built URL").await;

    // Reloading the link gives back the same scope.
    b.client.goto(&here).await.expect("reload");
    let again = wait_text(&b, "#built-scope", |t| !t.is_empty()).await;
    assert_eq!(again, scope);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_scope_shows_its_diagnostics_in_place() {
    let base = serve_dist().await;
    let b = Browser::start().await;
    b.client
        .goto(&format!("{base}/?tab=decode&theme=dark"))
        .await
        .expect("open");
    type_into(&b, "#decode-input", "FB=4_x;IntervalDuration=hourly;;").await;
    let summary = wait_text(&b, "#decode-summary", |t| t.contains("scope string")).await;
    assert!(summary.contains("2 error(s)"), "{summary}");
    let findings = text(&b, "#decode-result .findings").await;
    assert!(findings.contains("invalid-function-block"), "{findings}");
    assert!(findings.contains("invalid-duration"), "{findings}");
    assert!(findings.contains("empty-term"), "{findings}");
    let marks = b
        .client
        .find_all(Locator::Css("#decode-result .findings mark"))
        .await
        .expect("marks");
    let mut marked = Vec::new();
    for m in marks {
        marked.push(m.text().await.unwrap_or_default());
    }
    assert!(marked.contains(&"x".to_string()), "{marked:?}");
    assert!(marked.contains(&"hourly".to_string()), "{marked:?}");
    // The input lives in the URL too.
    let here = b.client.current_url().await.expect("url").to_string();
    assert!(here.contains("decode=FB%3D4_x"), "{here}");
    assert_no_violations(&b.client, "decode tab, malformed scope, dark").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_shows_the_chosen_scope() {
    let base = serve_dist().await;
    let b = Browser::start().await;
    b.client
        .goto(&format!(
            "{base}/?tab=preview&scope=FB%3D4_16_51_55%3BHistoryLength%3D63072000&lang=es"
        ))
        .await
        .expect("open");
    let preview = wait_text(&b, "#preview", |t| !t.is_empty()).await;
    let lower = preview.to_lowercase();
    assert!(lower.contains("2 años"), "{preview}");
    assert_no_inline_styles(&b).await;
    assert_no_violations(&b.client, "preview tab, Spanish").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn try_it_without_a_sandbox_says_so_and_every_tab_is_accessible() {
    let base = serve_dist().await;
    let b = Browser::start().await;
    b.client.goto(&format!("{base}/?tab=try")).await.expect("open");
    let why = text(&b, "#try-unavailable").await;
    assert!(why.contains("--demo"), "{why}");
    assert_no_violations(&b.client, "try tab, no sandbox").await;
    // Keyboard: arrows move between tabs.
    b.wait_for("#tab-try").await;
    b.client
        .execute("document.getElementById('tab-try').focus();", vec![])
        .await
        .expect("focus");
    b.client
        .active_element()
        .await
        .expect("active")
        .send_keys("\u{E012}") // ArrowLeft
        .await
        .expect("key");
    wait_text(&b, "#tab-preview", |_| true).await;
    let selected = b
        .client
        .execute(
            "return document.activeElement.id + ' ' + document.activeElement.getAttribute('aria-selected');",
            vec![],
        )
        .await
        .expect("active");
    assert_eq!(selected.as_str(), Some("tab-preview true"));
    // The callback page without a pending request explains itself.
    b.client
        .goto(&format!(
            "{base}/playground/callback?error=access_denied&state=abc"
        ))
        .await
        .expect("open callback");
    let err = text(&b, "#callback-error").await;
    assert!(err.contains("access_denied"), "{err}");
    assert_no_violations(&b.client, "callback, declined").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn works_at_320_px() {
    let base = serve_dist().await;
    let b = Browser::start_with_size(320, 800).await;
    for tab in ["build", "decode", "preview", "try"] {
        b.client
            .goto(&format!("{base}/?tab={tab}&decode=FB%3D4_x"))
            .await
            .expect("open");
        wait_text(&b, &format!("#panel-{tab} h2"), |t| !t.is_empty()).await;
        let overflow = b
            .client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .expect("measure");
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "tab {tab} scrolls sideways at 320 px by {overflow}"
        );
    }
    assert_no_violations(&b.client, "320 px").await;
    b.close().await;
}
