//! Browser end-to-end tests of the scope playground (crates/scope-playground).
//!
//! Build it first (`scripts/build-web.sh`). Build, Decode, Preview, the
//! keyboard and the 320 px checks run against the reference DataCustodian
//! in-process ([`TestServer::start_bare`] with `playground_dir`), so they
//! see its real headers and CSP; CSP violations are recorded and must be
//! none. Try it runs twice: against the real demo DataCustodian in sandbox
//! mode (SERVER-CONTRACT.md: the SPA at /playground/callback,
//! /playground/sandbox.json), and against a tiny in-file stub of the OAuth
//! side that records what the page sends (HTTP Basic, the PKCE verifier).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consent_e2e::axe::assert_no_violations;
use consent_e2e::browser::Browser;
use consent_e2e::eventually::{eventually, eventually_true};
use consent_e2e::server::{ALEX, TestServer};
use consent_e2e::widget::{RECORDER, csp_violations, fill_labelled, press, settle, wait_step};
use fantoccini::Locator;

/// The DataCustodian's CSP (crates/datacustodian/src/security/headers.rs).
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
                   img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

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

/// A stub of the demo DataCustodian's OAuth side, for Try it: the sandbox
/// JSON, an authorization endpoint that approves at once, and a token
/// endpoint that records what it was sent.
#[derive(Clone, Default)]
struct Stub {
    /// `(authorization query, token request head + body)`.
    seen: Arc<Mutex<(String, String)>>,
}

const STUB_SECRET: &str = "s3cret";
/// base64("demo-third-party:s3cret")
const STUB_BASIC: &str = "Basic ZGVtby10aGlyZC1wYXJ0eTpzM2NyZXQ=";
const STUB_FINAL_SCOPE: &str =
    "FB=1_4_16_51;IntervalDuration=900_3600;HistoryLength=63072000;AccountCollection=3";

/// Serves `dist/` on a loopback port like the DataCustodian would: files by
/// path, the SPA index for anything else (so /playground/callback works),
/// and the strict CSP on every answer. With a [`Stub`], also the sandbox and
/// a stub authorization server; without, the sandbox is a 404. Plain std
/// threads: nothing here needs more of tokio than the crate enables.
async fn serve_dist_with(stub: Option<Stub>) -> String {
    let root = dist();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let base2 = base.clone();
    std::thread::spawn(move || {
        for sock in listener.incoming() {
            let Ok(sock) = sock else { continue };
            let (root, stub, base) = (root.clone(), stub.clone(), base2.clone());
            std::thread::spawn(move || answer(sock, &root, stub.as_ref(), &base));
        }
    });
    base
}

async fn serve_dist() -> String {
    serve_dist_with(None).await
}

fn query_value(query: &str, key: &str) -> String {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{key}=")))
        .unwrap_or_default()
        .to_string()
}

fn answer(mut sock: TcpStream, root: &Path, stub: Option<&Stub>, base: &str) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body_in = String::from_utf8_lossy(&buf[head_end..]).to_string();
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut location = None;
    let (status, ctype, body) = match (path, stub) {
        ("/playground/sandbox.json", None) => ("404 Not Found", "application/json", b"{}".to_vec()),
        ("/playground/sandbox.json", Some(_)) => {
            let json = serde_json::json!({
                "client_id": "demo-third-party",
                "client_secret": STUB_SECRET,
                "redirect_uri": format!("{base}/playground/callback"),
                "authorization_endpoint": format!("{base}/oauth/authorize"),
                "token_endpoint": format!("{base}/oauth/token"),
                "issuer": base,
            });
            ("200 OK", "application/json", json.to_string().into_bytes())
        }
        ("/oauth/authorize", Some(stub)) => {
            stub.seen.lock().expect("lock").0 = query.to_string();
            location = Some(format!(
                "{}?code=stub-code&state={}&iss={}",
                "/playground/callback",
                query_value(query, "state"),
                base.replace(':', "%3A").replace('/', "%2F")
            ));
            ("303 See Other", "text/plain", Vec::new())
        }
        ("/oauth/token", Some(stub)) => {
            stub.seen.lock().expect("lock").1 = format!("{head}{body_in}");
            let json = serde_json::json!({
                "token_type": "Bearer",
                "access_token": "stub-access",
                "refresh_token": "stub-refresh",
                "expires_in": 3600,
                "scope": STUB_FINAL_SCOPE,
                "resourceURI": format!("{base}/espi/1_1/resource/Batch/Subscription/1"),
                "authorizationURI": format!("{base}/espi/1_1/resource/Authorization/1"),
            });
            ("200 OK", "application/json", json.to_string().into_bytes())
        }
        _ => {
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
        }
    };
    let location = location
        .map(|l| format!("Location: {l}\r\n"))
        .unwrap_or_default();
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{location}\
         Content-Security-Policy: {CSP}\r\nX-Content-Type-Options: nosniff\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = sock.write_all(resp.as_bytes());
    let _ = sock.write_all(&body);
    let _ = sock.flush();
}

/// The DataCustodian in-process, serving the built playground at `/`.
async fn playground_server() -> TestServer {
    let dist = dist();
    TestServer::start_bare(move |c| c.playground_dir = Some(dist)).await
}

/// Counts the page's `fetch` calls to the consent API (`/api/`), in
/// `window.__apiCalls`; installed before the page's scripts run.
const FETCH_COUNTER: &str = r#"
(() => {
  window.__apiCalls = 0;
  const original = window.fetch;
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (url.includes('/api/')) window.__apiCalls++;
    return original.call(this, input, init);
  };
})();
"#;

/// A browser recording CSP violations (and counting API calls).
async fn browser() -> Browser {
    let b = Browser::start().await;
    b.add_init_script(RECORDER).await;
    b.add_init_script(FETCH_COUNTER).await;
    b
}

async fn assert_no_csp_violations(b: &Browser) {
    let v = csp_violations(b).await;
    assert!(v.is_empty(), "CSP violations: {v:?}");
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
    let pred = &pred;
    eventually(Duration::from_secs(10), || async move {
        let Ok(el) = b.client.find(Locator::Css(css)).await else {
            return Err(None);
        };
        match el.text().await {
            Ok(t) if pred(&t) => Ok(t),
            Ok(t) => Err(Some(t)),
            Err(_) => Err(None),
        }
    })
    .await
    .unwrap_or_else(|last| panic!("{css} never matched; last text: {last:?}"))
}

/// Polls until the address bar holds `part` (the page updates it after a
/// short debounce), and returns the URL.
async fn wait_url(b: &Browser, part: &str) -> String {
    eventually(Duration::from_secs(5), || async move {
        let url = b.client.current_url().await.expect("url").to_string();
        if url.contains(part) {
            Ok(url)
        } else {
            Err(url)
        }
    })
    .await
    .unwrap_or_else(|last| panic!("the URL never held {part:?}; last: {last}"))
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
        .execute(
            "return document.querySelectorAll('[style]').length;",
            vec![],
        )
        .await
        .expect("count styled elements");
    assert_eq!(n.as_u64(), Some(0), "elements with a style attribute");
}

#[tokio::test(flavor = "multi_thread")]
async fn build_then_decode_the_url_gives_back_the_same_scope() {
    let server = playground_server().await;
    let base = server.base.clone();
    let b = browser().await;
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
    click(&b, "#copy-scope").await;
    let status = wait_text(&b, ".status", |t| !t.is_empty()).await;
    assert!(
        status.contains("copied") || status.contains("Could not copy"),
        "{status}"
    );
    let url = text(&b, "#built-url").await;
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(url.contains("scope=FB%3D4_12_51%3B"), "{url}");
    assert_no_inline_styles(&b).await;

    // The link reproduces the page.
    let here = wait_url(&b, "scope=FB%3D4_12_51%3BIntervalDuration%3D900_3600%3BHistoryLength%3D94608000%3BAdditionalScope%3Dnoedit_meters-all_sou-solar-sizing").await;

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
    assert_no_csp_violations(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_scope_shows_its_diagnostics_in_place() {
    let server = playground_server().await;
    let base = server.base.clone();
    let b = browser().await;
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
    wait_url(&b, "decode=FB%3D4_x").await;
    assert_no_violations(&b.client, "decode tab, malformed scope, dark").await;
    assert_no_csp_violations(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn preview_shows_the_chosen_scope() {
    let server = playground_server().await;
    let base = server.base.clone();
    let b = browser().await;
    b.client
        .goto(&format!(
            "{base}/?tab=preview&lang=es&scope=FB%3D4_16_51_55%3BHistoryLength%3D63072000\
             %3BAdditionalScope%3Dsou-audit"
        ))
        .await
        .expect("open");
    // Spanish: the blocks in plain words, the history, the disclosure.
    let preview = wait_text(&b, "#preview", |t| t.contains("Alex Rivera")).await;
    assert!(preview.contains("Sus facturas y costos"), "{preview}");
    assert!(preview.contains("2 años"), "{preview}");
    assert!(preview.contains("\"audit\""), "{preview}");
    assert_no_inline_styles(&b).await;
    assert_no_violations(&b.client, "preview tab, Spanish").await;
    // English, after narrowing the scope on the Build tab.
    b.wait_for("#preview-lang")
        .await
        .select_by_value("en")
        .await
        .expect("choose English");
    let preview = wait_text(&b, "#preview", |t| t.contains("Your bills and costs")).await;
    assert!(preview.contains("2 years"), "{preview}");
    click(&b, "#tab-build").await;
    click(&b, "#fb-16").await;
    click(&b, "#tab-preview").await;
    let preview = wait_text(&b, "#preview", |t| {
        t.contains("Alex Rivera") && !t.contains("Your bills and costs")
    })
    .await;
    assert!(preview.contains("2 years"), "{preview}");
    assert_no_violations(&b.client, "preview tab, English").await;
    // Dark: the page and the widget both switch.
    b.wait_for("#theme")
        .await
        .select_by_value("dark")
        .await
        .expect("choose dark");
    wait_text(&b, "#preview", |t| t.contains("Alex Rivera")).await;
    let dark = b
        .client
        .execute(
            "return document.documentElement.dataset.theme + ' ' + \
             !!document.querySelector('#preview .gbc--dark');",
            vec![],
        )
        .await
        .expect("theme");
    assert_eq!(dark.as_str(), Some("dark true"));
    assert_no_violations(&b.client, "preview tab, English, dark").await;
    let calls = b
        .client
        .execute("return window.__apiCalls;", vec![])
        .await
        .expect("count API calls");
    assert_eq!(
        calls.as_u64(),
        Some(0),
        "the preview called the consent API"
    );
    assert_no_csp_violations(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn try_it_without_a_sandbox_says_so_and_every_tab_is_accessible() {
    let base = serve_dist().await;
    let b = Browser::start().await;
    b.client
        .goto(&format!("{base}/?tab=try"))
        .await
        .expect("open");
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

/// Elements (outside the status toast and hidden panels) whose right edge
/// is past `innerWidth`.
const OVERFLOWING: &str = r#"
    const w = window.innerWidth;
    return [...document.querySelectorAll('body *')]
        .filter(e => !e.closest('.status, [hidden]'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 1; })
        .slice(0, 10)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))
        .join(' ') + ' | ' + w;
"#;

#[tokio::test(flavor = "multi_thread")]
async fn works_at_320_px() {
    let server = playground_server().await;
    let b = browser().await;
    // Headless Chromium keeps windows at least 500 px wide: emulate a phone.
    b.cdp(
        "Emulation.setDeviceMetricsOverride",
        serde_json::json!({"width": 320, "height": 800, "deviceScaleFactor": 1, "mobile": true}),
    )
    .await;
    for tab in ["build", "decode", "preview", "try"] {
        b.client
            .goto(&server.url(&format!(
                "/?tab={tab}&decode=FB%3D4_x%3BdataCustodianId%3DPGE"
            )))
            .await
            .expect("open");
        wait_text(&b, &format!("#panel-{tab} h2"), |t| !t.is_empty()).await;
        if tab == "build" {
            click(&b, "details summary").await;
            // The details are open before the layout is measured.
            assert!(
                eventually_true(Duration::from_secs(5), || async {
                    b.client
                        .execute(
                            "return document.querySelector('details summary').parentElement.open;",
                            vec![],
                        )
                        .await
                        .is_ok_and(|open| open == true)
                })
                .await,
                "the details open"
            );
        }
        // The tab has rendered and two animation frames have passed.
        settle(&b).await;
        let found = b
            .client
            .execute(OVERFLOWING, vec![])
            .await
            .expect("measure");
        assert_eq!(
            found.as_str(),
            Some(" | 320"),
            "tab {tab}: elements wider than the 320 px viewport"
        );
        assert_no_violations(&b.client, &format!("{tab} tab, 320 px")).await;
    }
    assert_no_csp_violations(&b).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn try_it_reaches_a_token_response_against_a_stub_server() {
    let stub = Stub::default();
    let base = serve_dist_with(Some(stub.clone())).await;
    let b = Browser::start().await;
    b.client
        .goto(&format!("{base}/?tab=try"))
        .await
        .expect("open");
    let requested = text(&b, "#try-scope").await;
    assert_no_violations(&b.client, "try tab, sandbox ready").await;
    click(&b, "#try-start").await;
    let token = wait_text(&b, "#token-response", |t| t.contains("stub-access")).await;
    assert!(token.contains(STUB_FINAL_SCOPE), "{token}");
    let state_line = text(&b, "#callback-state").await;
    assert!(state_line.contains("matches"), "{state_line}");
    let page = text(&b, "main").await;
    assert!(page.contains("Final (granted)"), "{page}");
    assert!(page.contains("AccountCollection"), "{page}");
    // The single-use code left the address bar.
    let here = b.client.current_url().await.expect("url").to_string();
    assert!(!here.contains("stub-code"), "{here}");
    assert_no_violations(&b.client, "callback, token response").await;

    let (auth_query, token_request) = stub.seen.lock().expect("lock").clone();
    assert!(auth_query.contains("response_type=code"), "{auth_query}");
    assert!(
        auth_query.contains("client_id=demo-third-party"),
        "{auth_query}"
    );
    assert!(
        auth_query.contains("code_challenge_method=S256"),
        "{auth_query}"
    );
    let scope = b
        .client
        .execute(
            "return decodeURIComponent(arguments[0]);",
            vec![query_value(&auth_query, "scope").into()],
        )
        .await
        .expect("decode");
    assert_eq!(scope.as_str(), Some(requested.as_str()));
    assert!(token_request.contains(STUB_BASIC), "{token_request}");
    assert!(
        token_request.contains("grant_type=authorization_code&code=stub-code&redirect_uri="),
        "{token_request}"
    );
    // PKCE: the verifier sent to the token endpoint hashes to the challenge
    // sent to the authorization endpoint (checked with crypto.subtle).
    let verifier = query_value(
        token_request.rsplit("\r\n\r\n").next().unwrap_or(""),
        "code_verifier",
    );
    assert_eq!(verifier.len(), 43, "{token_request}");
    let challenge = b
        .client
        .execute_async(
            r#"const [v, done] = [arguments[0], arguments[arguments.length - 1]];
             crypto.subtle.digest('SHA-256', new TextEncoder().encode(v)).then(h => {
                 const b = btoa(String.fromCharCode(...new Uint8Array(h)));
                 done(b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
             });"#,
            vec![verifier.into()],
        )
        .await
        .expect("sha-256");
    assert_eq!(
        challenge.as_str(),
        Some(query_value(&auth_query, "code_challenge").as_str())
    );
    b.close().await;
}

/// Try it against the real demo DataCustodian. Needs SERVER-CONTRACT.md: the
/// SPA at /playground/callback and /playground/sandbox.json in demo mode.
#[tokio::test(flavor = "multi_thread")]
async fn try_it_reaches_a_token_response_against_the_demo_server() {
    let dist = dist();
    let server = TestServer::start_with(move |c| {
        c.playground_dir = Some(dist);
        c.demo_sandbox = true;
    })
    .await;
    // A week of readings behind every demo meter.
    datacustodian::seed_demo_usage(&server.state, 7)
        .await
        .expect("demo usage");
    let b = browser().await;
    b.client.goto(&server.url("/?tab=try")).await.expect("open");
    let requested = text(&b, "#try-scope").await;
    click(&b, "#try-start").await;
    wait_step(&b, "sign-in").await;
    fill_labelled(&b, "Username", ALEX.0).await;
    fill_labelled(&b, "Password", ALEX.1).await;
    press(&b, "Sign in").await;
    wait_step(&b, "consent").await;
    // The built scope names no meters, so the customer picks one, as a
    // customer would (the widget refuses to authorize with none).
    let meter = b.wait_for(".gbc input[type=checkbox][value^='SA-']").await;
    let chosen = meter.attr("value").await.unwrap().expect("a SAID");
    meter.click().await.expect("tick a meter");
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    // The receipt's "Continue to {third party}" (or its timed redirect).
    if let Ok(link) = b
        .client
        .find(Locator::XPath(
            "//*[self::a or self::button][starts-with(normalize-space(.), 'Continue to')]",
        ))
        .await
    {
        let _ = link.click().await;
    }
    let token = wait_text(&b, "#token-response", |t| t.contains("access_token")).await;
    assert!(token.contains("resourceURI"), "{token}");
    let state_line = text(&b, "#callback-state").await;
    assert!(state_line.contains("matches"), "{state_line}");
    let page = text(&b, "main").await;
    assert!(page.contains("Final (granted)"), "{page}");
    assert!(page.contains(&requested), "{page}");
    // The third party sees what it got: the subscription the token opens,
    // drawn per meter, and only the meter the customer chose.
    let caption = wait_text(&b, "#usage figcaption", |t| t.contains("days of")).await;
    assert!(caption.contains(&format!("Meter {chosen}:")), "{caption}");
    let charted = b
        .client
        .find_all(Locator::Css("#usage figure.usage-chart"))
        .await
        .unwrap();
    assert_eq!(
        charted.len(),
        1,
        "one chart: only the chosen meter is shared"
    );
    assert_no_violations(&b.client, "callback, token response (real server)").await;
    assert_no_csp_violations(&b).await;
    b.close().await;
}
