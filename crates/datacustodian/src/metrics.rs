//! Prometheus metrics, served by [`metrics_app`] on its own listen address
//! (`serve --metrics-listen ADDR`), never on the public one: requests by
//! route and status (shed requests are the `429` and `503` ones), latency
//! histograms by route, tokens issued by grant type, sign-ins by method
//! and outcome, and one-time codes sent and failed by channel. Routes are the
//! route templates (`/api/consent/requests/{request_id}`), never a path
//! with an id in it; anything no route matched counts as `other`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
    tokens: BTreeMap<String, u64>,
    sign_ins: BTreeMap<(&'static str, &'static str), u64>,
    codes: BTreeMap<(&'static str, &'static str), u64>,
    mails: BTreeMap<(&'static str, &'static str), u64>,
}

/// How a sign-in ended, as the metrics count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Signed in.
    Success,
    /// Wrong credentials, wrong code, unknown account, refused by the
    /// identity provider.
    Failure,
    /// Refused by a limit before any check (429, or 503 when shed).
    Throttled,
    /// Anything else (a server or provider error).
    Error,
}

impl Outcome {
    /// The outcome of a sign-in handler's answer.
    pub fn of<T>(r: &Result<T, crate::error::ApiError>) -> Outcome {
        match r {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::of_status(e.status()),
        }
    }

    /// The outcome of an error status.
    pub fn of_status(status: axum::http::StatusCode) -> Outcome {
        match status.as_u16() {
            429 | 503 => Outcome::Throttled,
            s if s >= 500 => Outcome::Error,
            _ => Outcome::Failure,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Throttled => "throttled",
            Outcome::Error => "error",
        }
    }
}

/// The counters of one process.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one answered request.
    pub fn record_request(&self, route: &str, status: u16, seconds: f64) {
        let mut m = self.lock();
        *m.requests.entry((route.to_string(), status)).or_default() += 1;
        let h = m.latency.entry(route.to_string()).or_default();
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// Counts one token response of `grant_type`.
    pub fn record_token(&self, grant_type: &str) {
        *self
            .lock()
            .tokens
            .entry(grant_type.to_string())
            .or_default() += 1;
    }

    /// Counts one sign-in attempt by `method` (`password`, `code`, `sso`).
    pub fn record_sign_in(&self, method: &'static str, outcome: Outcome) {
        *self
            .lock()
            .sign_ins
            .entry((method, outcome.as_str()))
            .or_default() += 1;
    }

    /// Counts one one-time code handed to the sender of `channel`.
    pub fn record_code(&self, channel: &'static str, sent: bool) {
        let result = if sent { "sent" } else { "failed" };
        *self.lock().codes.entry((channel, result)).or_default() += 1;
    }

    /// Counts one mail of `kind` (`receipt`) handed to the relay or not.
    pub fn record_mail(&self, kind: &'static str, sent: bool) {
        let outcome = if sent { "sent" } else { "failed" };
        *self.lock().mails.entry((kind, outcome)).or_default() += 1;
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str(
            "# HELP datacustodian_http_requests_total Requests answered, by route and status.\n",
        );
        out.push_str("# TYPE datacustodian_http_requests_total counter\n");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "datacustodian_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP datacustodian_http_request_duration_seconds Time to answer, by route.\n",
        );
        out.push_str("# TYPE datacustodian_http_request_duration_seconds histogram\n");
        for (route, h) in &m.latency {
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "datacustodian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "datacustodian_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "datacustodian_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "datacustodian_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP datacustodian_tokens_issued_total Token responses, by grant type.\n");
        out.push_str("# TYPE datacustodian_tokens_issued_total counter\n");
        for (grant, n) in &m.tokens {
            let _ = writeln!(
                out,
                "datacustodian_tokens_issued_total{{grant_type=\"{grant}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP datacustodian_sign_ins_total Sign-in attempts, by method and outcome.\n",
        );
        out.push_str("# TYPE datacustodian_sign_ins_total counter\n");
        for ((method, outcome), n) in &m.sign_ins {
            let _ = writeln!(
                out,
                "datacustodian_sign_ins_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        for (result, help) in [
            ("sent", "One-time codes the sender accepted, by channel."),
            (
                "failed",
                "One-time codes the sender failed to send, by channel.",
            ),
        ] {
            let _ = writeln!(out, "# HELP datacustodian_codes_{result}_total {help}");
            let _ = writeln!(out, "# TYPE datacustodian_codes_{result}_total counter");
            for ((channel, r), n) in &m.codes {
                if *r == result {
                    let _ = writeln!(
                        out,
                        "datacustodian_codes_{result}_total{{channel=\"{channel}\"}} {n}"
                    );
                }
            }
        }
        out.push_str("# HELP datacustodian_mails_total Mails by kind and outcome (sent: accepted by the relay).\n");
        out.push_str("# TYPE datacustodian_mails_total counter\n");
        for ((kind, outcome), n) in &m.mails {
            let _ = writeln!(
                out,
                "datacustodian_mails_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let shed: u64 = m
            .requests
            .iter()
            .filter(|((_, s), _)| *s == 429 || *s == 503)
            .map(|(_, n)| n)
            .sum();
        out.push_str("# HELP datacustodian_shed_requests_total Requests refused by a rate limit (429) or the hash bound (503).\n");
        out.push_str("# TYPE datacustodian_shed_requests_total counter\n");
        let _ = writeln!(out, "datacustodian_shed_requests_total {shed}");
        out
    }
}

/// The route template a request matched; `other` when none did.
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "other".to_string())
}

/// Middleware: counts every request (see [`Metrics::record_request`]).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = route_of(&req);
    let start = Instant::now();
    let resp = next.run(req).await;
    state.metrics().record_request(
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}

async fn render(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(),
    )
}

/// `GET /metrics`, for the metrics listen address only.
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(state)
}
