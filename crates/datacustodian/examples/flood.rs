//! Floods the password sign-in of a running DataCustodian (`serve --demo`)
//! while timing the token endpoint and a signed-in customer's decision.
//! Loopback only; bounded in time. Used by `scripts/bench-flood.sh`.
//!
//! ```text
//! cargo run --release -p datacustodian --example flood -- BASE CLIENT_SECRET [SECONDS] [WORKERS]
//! ```
//!
//! Three phases of SECONDS each: quiet (token timing alone), flood (WORKERS
//! attackers, each with fresh requests and sessions, random usernames,
//! each request from its own `X-Forwarded-For` address, which the server
//! believes only with `--trusted-proxy 127.0.0.1`), quiet again. Prints the
//! token endpoint's p50/p99 in each phase, the decision's p50/p99 during the
//! flood, and what became of the flood's sign-ins.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

const DEMO_SCOPE: &str = datacustodian::admin::DEMO_SCOPE;
const VERIFIER: &str = "flood-benchmark-verifier-0123456789-abcdefghijklmnopq";

fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(4)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

fn authorize_url(base: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", "demo-third-party")
        .append_pair("redirect_uri", &format!("{base}/playground/callback"))
        .append_pair("scope", DEMO_SCOPE)
        .append_pair(
            "code_challenge",
            &espi_scope::pkce::challenge_s256(VERIFIER),
        )
        .append_pair("code_challenge_method", "S256")
        .finish();
    format!("{base}/oauth/authorize?{q}")
}

/// A new request read by this client's session: (request id, csrf), or the
/// status that stopped it.
async fn new_request(c: &reqwest::Client, base: &str, ip: &str) -> Result<(String, String), u16> {
    let r = c
        .get(authorize_url(base))
        .header("X-Forwarded-For", ip)
        .send()
        .await
        .map_err(|_| 0u16)?;
    if r.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(r.status().as_u16());
    }
    let loc = r.headers()["location"].to_str().unwrap_or("").to_string();
    let rid = loc.rsplit("request=").next().unwrap_or("").to_string();
    let r = c
        .get(format!("{base}/api/consent/requests/{rid}"))
        .header("X-Forwarded-For", ip)
        .send()
        .await
        .map_err(|_| 0u16)?;
    if !r.status().is_success() {
        return Err(r.status().as_u16());
    }
    let v: Value = r.json().await.map_err(|_| 0u16)?;
    Ok((rid, v["csrf_token"].as_str().unwrap_or("").to_string()))
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn report(name: &str, mut v: Vec<Duration>, seconds: f64) {
    v.sort();
    println!(
        "{name:<34} n={:<6} {:>8.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  max {:>8.2} ms",
        v.len(),
        v.len() as f64 / seconds,
        percentile(&v, 0.50),
        percentile(&v, 0.99),
        v.last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN),
    );
}

/// Times client_credentials token requests, one after another, until `stop`.
async fn time_tokens(base: String, secret: String, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let c = client(false);
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let r = c
            .post(format!("{base}/oauth/token"))
            .basic_auth("demo-third-party", Some(&secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => {
                let _ = r.bytes().await;
                out.push(t.elapsed());
            }
            Ok(r) => eprintln!("token: {}", r.status()),
            Err(e) => eprintln!("token: {e}"),
        }
    }
    out
}

async fn phase_quiet(base: &str, secret: &str, seconds: u64) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    let h = tokio::spawn(time_tokens(base.into(), secret.into(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    h.await.expect("timer")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(secret)) = (args.get(1).cloned(), args.get(2).cloned()) else {
        eprintln!("usage: flood BASE CLIENT_SECRET [SECONDS] [WORKERS]");
        std::process::exit(2);
    };
    assert!(
        base.starts_with("http://127.0.0.1:") || base.starts_with("http://[::1]:"),
        "loopback only"
    );
    let seconds: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(1, 120);
    let workers: usize = args
        .get(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
        .clamp(1, 512);

    // The signed-in customer: one session signed in as Alex before the flood.
    let alex = client(true);
    let (rid, csrf) = new_request(&alex, &base, "203.0.113.200")
        .await
        .expect("request");
    let r = alex
        .post(format!(
            "{base}/api/consent/requests/{rid}/sign-in/password"
        ))
        .header("X-CSRF-Token", &csrf)
        .header("X-Forwarded-For", "203.0.113.200")
        .json(&json!({"username": "alex", "password": "green-button-demo"}))
        .send()
        .await
        .expect("sign in");
    assert!(r.status().is_success(), "alex signs in: {}", r.status());
    // Requests for the signed-in session to decide on during the flood.
    let mut pending = Vec::new();
    for i in 0..(seconds * 20).min(400) {
        let ip = format!("192.0.2.{}", i % 250 + 1);
        match new_request(&alex, &base, &ip).await {
            Ok(x) => pending.push(x),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }

    println!("quiet: {seconds} s of token requests");
    let before = phase_quiet(&base, &secret, seconds).await;

    println!("flood: {workers} workers flooding sign-in for {seconds} s");
    let stop = Arc::new(AtomicBool::new(false));
    let tally: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let sent = Arc::new(AtomicU64::new(0));
    let mut floods = Vec::new();
    for w in 0..workers {
        let (base, stop, tally, sent) = (base.clone(), stop.clone(), tally.clone(), sent.clone());
        floods.push(tokio::spawn(async move {
            let mut n: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // A fresh session, request and client address.
                let ip = format!("10.{}.{}.{}", w % 250, (n / 250) % 250, n % 250 + 1);
                let c = client(true);
                let (rid, csrf) = match new_request(&c, &base, &ip).await {
                    Ok(x) => x,
                    Err(st) => {
                        *tally
                            .lock()
                            .await
                            .entry(format!("request refused {st}"))
                            .or_default() += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                for i in 0..40 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                    let r = c
                        .post(format!(
                            "{base}/api/consent/requests/{rid}/sign-in/password"
                        ))
                        .header("X-CSRF-Token", &csrf)
                        .header("X-Forwarded-For", &ip)
                        .json(&json!({"username": format!("u{w}-{n}-{i}"), "password": "guess"}))
                        .send()
                        .await;
                    let key = match r {
                        Ok(r) => {
                            let st = r.status().as_u16();
                            let v: Value = r.json().await.unwrap_or(Value::Null);
                            format!("{st} {}", v["error"].as_str().unwrap_or(""))
                        }
                        Err(_) => "transport error".to_string(),
                    };
                    let next_request = key.contains("request_attempts_exhausted");
                    *tally.lock().await.entry(key).or_default() += 1;
                    if next_request {
                        break;
                    }
                }
            }
        }));
    }
    // The customer decides, during the flood, on requests opened before it
    // (opening a request is an anonymous call the flood competes for).
    let decisions = {
        let (base, stop, alex) = (base.clone(), stop.clone(), alex.clone());
        tokio::spawn(async move {
            let mut out = Vec::new();
            let mut errors = 0u64;
            for (rid, csrf) in pending {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let t = Instant::now();
                let r = alex
                    .post(format!("{base}/api/consent/requests/{rid}/decision"))
                    .header("X-CSRF-Token", &csrf)
                    .header("X-Forwarded-For", "203.0.113.200")
                    .json(&json!({"decision": "authorize"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        out.push(t.elapsed());
                    }
                    Ok(r) => {
                        eprintln!("decision: {}", r.status());
                        errors += 1;
                    }
                    Err(e) => {
                        eprintln!("decision: {e}");
                        errors += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (out, errors)
        })
    };
    let during = phase_quiet(&base, &secret, seconds).await;
    stop.store(true, Ordering::Relaxed);
    for f in floods {
        let _ = f.await;
    }
    let (decided, decision_errors) = decisions.await.expect("decisions");

    println!("quiet again: {seconds} s of token requests");
    let after = phase_quiet(&base, &secret, seconds).await;

    let s = seconds as f64;
    println!();
    report("token (client_credentials), quiet", before, s);
    report("token during the sign-in flood", during, s);
    report("token after the flood", after, s);
    report("signed-in customer's decision, flood", decided, s);
    println!("decisions that failed during the flood: {decision_errors}");
    let sent = sent.load(Ordering::Relaxed);
    println!();
    println!(
        "flood: {sent} sign-in attempts in {seconds} s ({:.0}/s)",
        sent as f64 / s
    );
    let tally = tally.lock().await;
    let mut shed = 0;
    for (k, v) in tally.iter() {
        println!("  {v:>8}  {k}");
        if k.starts_with("503") || k.starts_with("429") {
            shed += v;
        }
    }
    let checked = tally.get("401 invalid_credentials").copied().unwrap_or(0);
    println!(
        "  shed (503 + 429): {shed}; passwords hashed and checked: {checked} ({:.0}/s)",
        checked as f64 / s
    );
}
