//! How fast a customer sees the consent page: from following the third
//! party's authorization link to the first step (sign-in) drawn, in headless
//! Chromium against the reference DataCustodian on loopback.
//!
//! Prints, over `FIRST_PAINT_RUNS` loads (default 15) with the browser cache
//! off (a first visit) and then on (a return visit):
//! - first contentful paint (the page shell),
//! - the sign-in step shown (the widget's `gb-consent:step` event),
//! - the wasm module's download time, from resource timing.
//!
//! Each is measured twice: on loopback as it is (the browser's and the
//! widget's own cost on this machine), and on consent-bar.md's throttled
//! mobile profile through the DevTools protocol: 1.6 Mbps down, 750 Kbps
//! up, 150 ms latency, CPU slowed 4x (aim: the first field usable in under
//! 1.5 s). consent-bar.md's anchors: first paint of the Leptos benchmark
//! app 230 ms, vanilla JS 66 ms.
//!
//! `FIRST_PAINT_COMPARE=DIR` also measures the widget build in `DIR` (for
//! example an older `dist/`) on its own server, back to back in the same
//! run, labelled "compare".
//!
//! Run: `./scripts/build-web.sh`, then
//! `cargo bench -p consent-e2e --bench first_paint`.

use consent_e2e::browser::{Browser, Options};
use consent_e2e::server::{TestServer, ThirdParty};
use serde_json::{Value, json};

const SCOPE: &str = "FB=1_4_5_15_51_56_58;IntervalDuration=900_3600;HistoryLength=63072000;\
                     AdditionalScope=meters-all_sou-solar";

/// Records when the widget first shows a step other than "loading".
const PROBE: &str = r#"
addEventListener('gb-consent:step', (e) => {
  if (!window.__shown && e.detail && e.detail.step !== 'loading') window.__shown = performance.now();
}, true);
"#;

const READ: &str = r#"
const paint = performance.getEntriesByName('first-contentful-paint')[0];
const wasm = performance.getEntriesByType('resource').find((r) => r.name.endsWith('.wasm'));
return window.__shown ? [paint ? paint.startTime : null, window.__shown, wasm ? wasm.duration : null] : null;
"#;

fn stats(name: &str, mut v: Vec<f64>) {
    if v.is_empty() {
        println!("    {name:<34} not reported by the browser");
        return;
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    println!(
        "    {name:<34} median {:7.1} ms   p90 {:7.1} ms   min {:7.1} ms",
        at(0.5),
        at(0.9),
        v[0]
    );
}

/// The throttled mobile profile of consent-bar.md, or none.
async fn throttle(b: &Browser, on: bool) {
    b.cdp(
        "Network.emulateNetworkConditions",
        if on {
            json!({ "offline": false, "latency": 150,
                    "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8 })
        } else {
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 })
        },
    )
    .await;
    b.cdp(
        "Emulation.setCPUThrottlingRate",
        json!({ "rate": if on { 4 } else { 1 } }),
    )
    .await;
}

async fn measure(b: &Browser, server: &TestServer, tp: &ThirdParty, runs: usize, cache: bool) {
    b.cdp("Network.enable", json!({})).await;
    b.cdp(
        "Network.setCacheDisabled",
        json!({ "cacheDisabled": !cache }),
    )
    .await;
    let (mut paint, mut shown, mut wasm) = (Vec::new(), Vec::new(), Vec::new());
    // One load first, not counted: it warms the server and the browser.
    for i in 0..=runs {
        let attempt = tp.authorize(server, SCOPE);
        b.client.goto(&attempt.url).await.expect("open the page");
        let mut got = Value::Null;
        for _ in 0..800 {
            got = b.client.execute(READ, vec![]).await.expect("read timings");
            if !got.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(!got.is_null(), "the sign-in step was never shown");
        if i > 0 {
            paint.extend(got[0].as_f64());
            shown.extend(got[1].as_f64());
            wasm.extend(got[2].as_f64());
        }
    }
    println!(
        "  {} ({runs} loads):",
        if cache {
            "return visit, browser cache on"
        } else {
            "first visit, browser cache off"
        }
    );
    stats("first contentful paint", paint);
    stats("sign-in step shown", shown);
    stats("wasm download (resource timing)", wasm);
}

/// Every profile against one server serving the build in `dist`.
async fn bench(label: &str, dist: std::path::PathBuf, runs: usize) {
    let server = TestServer::start_with(|c| c.assets_dir = Some(dist.clone())).await;
    let tp = server.third_party("First Paint Bench").await;
    let b = Browser::start_with(Options::default()).await;
    b.add_init_script(PROBE).await;
    for throttled in [false, true] {
        println!(
            "{label} ({}), consent page, headless Chromium, server on loopback, {}:",
            dist.display(),
            if throttled {
                "throttled mobile profile (1.6 Mbps down, 750 Kbps up, 150 ms, CPU 4x)"
            } else {
                "unthrottled"
            }
        );
        throttle(&b, throttled).await;
        measure(&b, &server, &tp, runs, false).await;
        measure(&b, &server, &tp, runs, true).await;
    }
    b.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let runs = std::env::var("FIRST_PAINT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    if let Ok(dir) = std::env::var("FIRST_PAINT_COMPARE") {
        bench("compare", dir.into(), runs).await;
    }
    bench("this build", consent_e2e::server::widget_dist(), runs).await;
}
