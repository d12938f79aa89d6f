//! The built-in redirect page (`/playground/callback`): checks the state,
//! exchanges the code with the PKCE verifier, shows the token response.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::decode::ScopeExplain;
use super::{CALLBACK_PATH, PENDING_KEY, Status, load_sandbox, str_field};
use crate::browser;
use crate::model;

/// Where the code exchange is.
#[derive(Clone, Debug, PartialEq)]
enum Exchange {
    Idle,
    Working,
    Failed(String),
    Done { status: u16, body: String },
}

/// The authorization response in this page's query.
struct Response {
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    state: Option<String>,
    iss: Option<String>,
}

impl Response {
    fn read() -> Response {
        let query = browser::search();
        let param = |name| model::query_param(&query, name);
        Response {
            code: param("code"),
            error: param("error"),
            error_description: param("error_description"),
            state: param("state"),
            iss: param("iss"),
        }
    }
}

/// What the Try it tab left in this tab's session storage (taken once).
struct Pending {
    state: Option<String>,
    scope: Option<String>,
    verifier: Option<String>,
    back: String,
}

impl Pending {
    fn take() -> Pending {
        let pending: Option<serde_json::Value> =
            browser::session_get(PENDING_KEY).and_then(|s| serde_json::from_str(&s).ok());
        browser::session_remove(PENDING_KEY);
        let field = |k| pending.as_ref().map(|p| str_field(p, k));
        Pending {
            state: field("state").filter(|s| !s.is_empty()),
            scope: field("scope"),
            verifier: field("verifier"),
            back: format!("/?{}", field("back").unwrap_or_default()),
        }
    }
}

/// The page.
#[component]
pub(super) fn Callback() -> impl IntoView {
    let status = Status::get();
    let response = Response::read();
    let pending = Pending::take();
    // The code is single use: keep it out of the history and the address bar.
    browser::replace_url(CALLBACK_PATH);
    let state_ok = pending.state.is_some() && pending.state == response.state;
    let exchange = RwSignal::new(Exchange::Idle);
    if let (Some(code), Some(verifier), true) =
        (response.code.clone(), pending.verifier.clone(), state_ok)
    {
        exchange.set(Exchange::Working);
        exchange_code(code, verifier, response.iss.clone(), exchange, status);
    }
    let requested = pending.scope.clone().unwrap_or_default();
    let exchange_view = move || exchange_view(exchange.get(), &requested);
    view! {
        <h1>"Authorization response"</h1>
        {outcome(&response)}
        <p id="callback-state">{state_line(&response, &pending, state_ok)}</p>
        {response.iss.map(|i| view! { <p>"Issuer (iss): " <code>{i}</code></p> })}
        {exchange_view}
        <p>
            <a href=pending.back>"Back to the playground"</a>
        </p>
    }
}

/// Exchanges the code at the sandbox's token endpoint (unless `iss` names
/// another issuer: RFC 9207), then announces the result.
fn exchange_code(
    code: String,
    verifier: String,
    iss: Option<String>,
    exchange: RwSignal<Exchange>,
    status: Status,
) {
    spawn_local(async move {
        let result = match load_sandbox().await {
            Ok(sb) if iss.as_ref().is_some_and(|i| *i != sb.issuer) => Exchange::Failed(format!(
                "The response's iss ({}) is not this server's issuer ({}): per RFC 9207 it is rejected and the code is not exchanged.",
                iss.unwrap_or_default(),
                sb.issuer
            )),
            Ok(sb) => {
                let auth = model::basic_auth(&sb.client_id, &sb.client_secret);
                let body = model::token_request_body(&code, &sb.redirect_uri, &verifier);
                match browser::fetch_text(&sb.token_endpoint, Some((&auth, &body))).await {
                    Ok((status, body)) => Exchange::Done { status, body },
                    Err(e) => Exchange::Failed(e),
                }
            }
            Err(why) => Exchange::Failed(why),
        };
        let msg = match &result {
            Exchange::Done { status: 200, .. } => "The token response arrived.".to_string(),
            Exchange::Done { status, .. } => format!("The token endpoint answered HTTP {status}."),
            _ => "The code exchange failed.".to_string(),
        };
        exchange.set(result);
        status.announce(msg);
    });
}

fn state_line(response: &Response, pending: &Pending, state_ok: bool) -> &'static str {
    match (&response.state, &pending.state) {
        (_, None) => {
            "No pending request was found in this tab, so the state cannot be checked (start from the Try it tab)."
        }
        (Some(_), Some(_)) if state_ok => "The state matches the one sent.",
        _ => {
            "The state does NOT match the one sent: a forged or stale response. The code is not exchanged."
        }
    }
}

/// The error the utility answered with, or the code.
fn outcome(response: &Response) -> AnyView {
    match (&response.error, &response.code) {
        (Some(err), _) => view! {
            <div class="notice" id="callback-error">
                <p>
                    "The utility answered with an error: " <code>{err.clone()}</code>
                    {match err.as_str() {
                        "access_denied" => " (the customer declined).",
                        "invalid_scope" => " (the scope was refused).",
                        _ => ".",
                    }}
                </p>
                {response.error_description.clone().map(|d| view! { <p>{d}</p> })}
            </div>
        }
        .into_any(),
        (None, Some(c)) => view! {
            <p>
                "Authorization code: " <code id="callback-code">{c.clone()}</code>
            </p>
        }
        .into_any(),
        (None, None) => {
            view! { <p>"This page expects a code or an error in its query string."</p> }.into_any()
        }
    }
}

/// The exchange's progress, or the token response with the requested and
/// the final scope side by side.
fn exchange_view(exchange: Exchange, requested: &str) -> AnyView {
    let (status, body) = match exchange {
        Exchange::Idle => return ().into_any(),
        Exchange::Working => {
            return view! { <p>"Exchanging the code at the token endpoint…"</p> }.into_any();
        }
        Exchange::Failed(e) => return view! { <p class="notice">{e}</p> }.into_any(),
        Exchange::Done { status, body } => (status, body),
    };
    let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
    let pretty = json
        .as_ref()
        .and_then(|j| serde_json::to_string_pretty(j).ok())
        .unwrap_or_else(|| body.clone());
    let final_scope = json
        .as_ref()
        .and_then(|j| j.get("scope"))
        .and_then(|s| s.as_str())
        .map(|fs| compare_scopes(requested, fs));
    let field = |k: &str| {
        json.as_ref()
            .map(|j| str_field(j, k))
            .filter(|v| !v.is_empty())
    };
    let usage = (status == 200)
        .then(|| field("resourceURI").zip(field("access_token")))
        .flatten()
        .map(|(uri, token)| view! { <UsageChart uri=uri token=token /> });
    view! {
        <h2 id="token-heading">{format!("Token response (HTTP {status})")}</h2>
        <pre class="out" aria-labelledby="token-heading">
            <code id="token-response">{pretty}</code>
        </pre>
        {final_scope}
        {usage}
    }
    .into_any()
}

/// The subscription the token opens, fetched as the third party would and
/// drawn: daily totals over time, one chart per meter.
#[component]
fn UsageChart(
    /// The token response's `resourceURI`.
    uri: String,
    /// Its `access_token`.
    token: String,
) -> impl IntoView {
    let feed = LocalResource::new(move || {
        let (uri, token) = (uri.clone(), token.clone());
        async move {
            match browser::fetch_bearer(&uri, &token).await {
                Ok((200, xml)) => crate::usage::read_feed(&xml).map(|b| crate::usage::series(&b)),
                Ok((status, _)) => Err(format!("The subscription answered HTTP {status}.")),
                Err(e) => Err(e),
            }
        }
    });
    let body = move || {
        feed.get().map(|r| match r {
            Ok(series) if series.is_empty() => {
                view! { <p id="usage-none">"The subscription holds no interval readings."</p> }
                    .into_any()
            }
            Ok(series) => series
                .into_iter()
                .map(|s| view! { <MeterChart series=s /> })
                .collect_view()
                .into_any(),
            Err(e) => view! { <p class="notice" id="usage-error">{e}</p> }.into_any(),
        })
    };
    view! {
        <section aria-labelledby="usage-heading" id="usage">
            <h2 id="usage-heading">"The data you received"</h2>
            <Suspense fallback=|| view! { <p>"Fetching the subscription…"</p> }>{body}</Suspense>
        </section>
    }
}

/// One meter's daily totals as a line, with the figures in words.
#[component]
fn MeterChart(
    /// The meter's series.
    series: crate::usage::MeterSeries,
) -> impl IntoView {
    let values: Vec<f64> = series.days.iter().map(|d| d.1).collect();
    let date = |t: i64| {
        let (y, m, d) = espi_scope::describe::civil_from_days(t.div_euclid(86_400));
        format!("{y}-{m:02}-{d:02}")
    };
    let (first, last) = (
        series.days.first().map_or(0, |d| d.0),
        series.days.last().map_or(0, |d| d.0),
    );
    let caption = format!(
        "Meter {}: {} days of {}-minute readings, {} to {}, total {:.0} (meter units)",
        series.meter,
        series.days.len(),
        series.interval / 60,
        date(first),
        date(last),
        series.total()
    );
    view! {
        <figure class="usage-chart" data-meter=series.meter.clone()>
            <svg viewBox="0 0 600 120" role="img" aria-label=caption.clone() class="usage-svg">
                <polyline class="usage-line" points=crate::usage::polyline(&values, 600.0, 120.0) />
            </svg>
            <figcaption>{caption}</figcaption>
        </figure>
    }
}

fn compare_scopes(requested: &str, granted: &str) -> impl IntoView + use<> {
    view! {
        <h2>"Requested and final scope"</h2>
        <div class="compare">
            <section aria-labelledby="requested-heading">
                <h3 id="requested-heading">"Requested"</h3>
                <ScopeExplain value=espi_scope::parse(requested).value label="Requested"/>
            </section>
            <section aria-labelledby="final-heading">
                <h3 id="final-heading">"Final (granted)"</h3>
                <ScopeExplain value=espi_scope::parse(granted).value label="Final"/>
            </section>
        </div>
    }
}
