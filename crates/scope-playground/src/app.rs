//! The playground UI: four tabs (Build, Decode, Preview, Try it) and the
//! built-in redirect page at `/playground/callback`.

use espi_scope::catalog;
use espi_scope::describe::{self, Lang};
use espi_scope::pkce::{self, Pkce};
use espi_scope::{Duration, Frequency, ScopeValue, Severity};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::model::{
    self, AUTH_METHODS, BuildForm, EndChoice, HistoryUnit, INTERVAL_OPTIONS, InputKind,
    MetersChoice, PageState, Tab, Theme, UTILITYAPI_BLOCKS,
};

/// Where the callback page finds what the Try-it tab started.
const PENDING_KEY: &str = "scope-playground.pending";
/// The demo DataCustodian's sandbox (see SERVER-CONTRACT.md).
const SANDBOX_URL: &str = "/playground/sandbox.json";
/// The built-in redirect page.
const CALLBACK_PATH: &str = "/playground/callback";

/// The state and PKCE pair of the next authorization request (never in
/// the URL).
#[derive(Clone, Debug, PartialEq)]
struct Secrets {
    state: String,
    verifier: String,
    challenge: String,
}

impl Secrets {
    fn generate() -> Secrets {
        let Pkce {
            verifier,
            challenge,
        } = Pkce::from_random(&browser::random_bytes::<32>());
        Secrets {
            state: pkce::base64url(&browser::random_bytes::<16>()),
            challenge,
            verifier,
        }
    }
}

/// The demo client, from the server's sandbox JSON.
#[derive(Clone, Debug, PartialEq)]
struct Sandbox {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    authorization_endpoint: String,
    token_endpoint: String,
    issuer: String,
}

#[derive(Clone, Debug, PartialEq)]
enum SandboxState {
    Loading,
    Unavailable(String),
    Ready(Sandbox),
}

fn str_field(v: &serde_json::Value, k: &str) -> String {
    v.get(k)
        .and_then(|x| x.as_str())
        .unwrap_or_default()
        .to_string()
}

async fn load_sandbox() -> SandboxState {
    match browser::fetch_text(SANDBOX_URL, None).await {
        Ok((200, body)) => match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(v) => SandboxState::Ready(Sandbox {
                client_id: str_field(&v, "client_id"),
                client_secret: str_field(&v, "client_secret"),
                redirect_uri: str_field(&v, "redirect_uri"),
                authorization_endpoint: str_field(&v, "authorization_endpoint"),
                token_endpoint: str_field(&v, "token_endpoint"),
                issuer: str_field(&v, "issuer"),
            }),
            Err(e) => SandboxState::Unavailable(format!("The sandbox answer is not JSON: {e}.")),
        },
        Ok((status, _)) => SandboxState::Unavailable(format!(
            "This server has no demo sandbox (HTTP {status} for {SANDBOX_URL}). Start the demo DataCustodian with --demo."
        )),
        Err(e) => SandboxState::Unavailable(e),
    }
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(String::new());
    let body = if browser::pathname().ends_with(CALLBACK_PATH) {
        view! { <Callback status=status/> }.into_any()
    } else {
        view! { <Playground status=status/> }.into_any()
    };
    view! {
        <a class="skip" href="#main">"Skip to the content"</a>
        <header class="site">
            <p class="brand">"Green Button Connect My Data"</p>
        </header>
        <main id="main" tabindex="-1">{body}</main>
        <p class="status" role="status" aria-live="polite">{move || status.get()}</p>
        <footer class="site">
            <p>
                "Scope grammar: GBA ESPI OAuth2 Scope Definition. This page never calls the consent API; only Try it talks to the demo DataCustodian."
            </p>
        </footer>
    }
}

fn announce(status: RwSignal<String>, msg: String) {
    // Clear first so the same message is announced again.
    status.set(String::new());
    spawn_local(async move {
        status.set(msg);
    });
}

fn copy(status: RwSignal<String>, what: &'static str, text: String) {
    spawn_local(async move {
        let msg = if browser::copy_text(&text).await {
            format!("{what} copied to the clipboard.")
        } else {
            format!(
                "Could not copy the {}: select it and copy it by hand.",
                what.to_lowercase()
            )
        };
        announce(status, msg);
    });
}

#[component]
fn Playground(status: RwSignal<String>) -> impl IntoView {
    let initial = PageState::from_query(&browser::search());
    let extra_intervals: Vec<Duration> = initial
        .form
        .intervals
        .iter()
        .copied()
        .filter(|d| !INTERVAL_OPTIONS.contains(d))
        .collect();
    let state = RwSignal::new(initial);
    let secrets = RwSignal::new(Secrets::generate());
    let sandbox = RwSignal::new(SandboxState::Loading);
    spawn_local(async move {
        sandbox.set(load_sandbox().await);
    });

    // The URL always reproduces the page. Debounced: browsers throttle
    // history.replaceState (Chromium: 200 calls in 10 s), and typing fires
    // an update per key.
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let q = state.with(|s| s.to_query());
        let n = generation.get_value().wrapping_add(1);
        generation.set_value(n);
        set_timeout(
            move || {
                if generation.get_value() == n {
                    browser::replace_url(&format!("?{q}"));
                }
            },
            std::time::Duration::from_millis(150),
        );
    });
    Effect::new(move |_| {
        let theme = state.with(|s| s.theme);
        browser::set_root_attribute("data-theme", theme.as_str());
    });

    let tab = Memo::new(move |_| state.with(|s| s.tab));
    let select_tab = move |t: Tab, focus: bool| {
        state.update(|s| s.tab = t);
        if focus {
            browser::focus(&format!("tab-{}", t.id()));
        }
    };
    let on_tab_key = move |ev: leptos::ev::KeyboardEvent| {
        let cur = Tab::ALL.iter().position(|t| *t == tab.get()).unwrap_or(0);
        let n = Tab::ALL.len();
        let next = match ev.key().as_str() {
            "ArrowRight" => (cur + 1) % n,
            "ArrowLeft" => (cur + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        select_tab(Tab::ALL[next], true);
    };

    let tabs = Tab::ALL
        .into_iter()
        .map(|t| {
            view! {
                <button
                    type="button"
                    role="tab"
                    id=format!("tab-{}", t.id())
                    aria-controls=format!("panel-{}", t.id())
                    aria-selected=move || if tab.get() == t { "true" } else { "false" }
                    tabindex=move || if tab.get() == t { "0" } else { "-1" }
                    on:click=move |_| select_tab(t, false)
                >
                    {t.label()}
                </button>
            }
        })
        .collect_view();

    view! {
        <h1>"Scope playground"</h1>
        <p class="lead">
            "Build a Green Button Connect My Data authorization request, decode one you were given, preview the consent screen your customers will see, and try the whole flow against the demo DataCustodian."
        </p>
        <div class="theme-pick">
            <label for="theme">"Theme"</label>
            <select
                id="theme"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    state.update(|s| s.theme = Theme::from_name(&v).unwrap_or_default());
                }
            >
                {Theme::ALL
                    .into_iter()
                    .map(|t| {
                        view! {
                            <option
                                value=t.as_str()
                                prop:selected=move || state.with(|s| s.theme == t)
                            >
                                {match t {
                                    Theme::Auto => "Same as the system",
                                    Theme::Light => "Light",
                                    Theme::Dark => "Dark",
                                }}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
        <div class="tabs" role="tablist" aria-label="Playground" on:keydown=on_tab_key>
            {tabs}
        </div>
        <section
            id="panel-build"
            role="tabpanel"
            aria-labelledby="tab-build"
            tabindex="0"
            hidden=move || tab.get() != Tab::Build
        >
            <BuildPanel state=state secrets=secrets status=status extra_intervals=extra_intervals/>
        </section>
        <section
            id="panel-decode"
            role="tabpanel"
            aria-labelledby="tab-decode"
            tabindex="0"
            hidden=move || tab.get() != Tab::Decode
        >
            <DecodePanel state=state secrets=secrets/>
        </section>
        <section
            id="panel-preview"
            role="tabpanel"
            aria-labelledby="tab-preview"
            tabindex="0"
            hidden=move || tab.get() != Tab::Preview
        >
            <PreviewPanel state=state/>
        </section>
        <section
            id="panel-try"
            role="tabpanel"
            aria-labelledby="tab-try"
            tabindex="0"
            hidden=move || tab.get() != Tab::TryIt
        >
            <TryPanel state=state secrets=secrets sandbox=sandbox/>
        </section>
    }
}

// ---------------------------------------------------------------------------
// Build

fn fb_checkbox(state: RwSignal<PageState>, id: u16, describe_it: bool) -> impl IntoView {
    let fb = catalog::function_block(id);
    let input_id = format!("fb-{id}");
    let status = model::status_words(fb.status);
    let badge = format!("badge badge-{}", fb.status.as_str());
    let hint_id = format!("fb-{id}-hint");
    view! {
        <li class="check">
            <input
                type="checkbox"
                id=input_id.clone()
                aria-describedby=describe_it.then(|| hint_id.clone())
                prop:checked=move || state.with(|s| s.form.function_blocks.contains(&id))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    state
                        .update(|s| {
                            if on {
                                s.form.function_blocks.insert(id);
                            } else {
                                s.form.function_blocks.remove(&id);
                            }
                        });
                }
            />
            <label for=input_id>
                <span class="fb-id">{format!("FB {id}")}</span>
                " "
                {fb.name}
                " "
                <span class=badge>{status}</span>
            </label>
            {describe_it.then(|| view! { <p class="hint" id=hint_id>{fb.description_en}</p> })}
        </li>
    }
}

fn duration_label(d: &Duration) -> String {
    match d {
        Duration::Seconds(_) => format!("{} ({d})", describe::duration(d, Lang::En)),
        Duration::Named(_) => format!("{} ({d})", capitalise(&describe::duration(d, Lang::En))),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn frequency_select(
    state: RwSignal<PageState>,
    id: &'static str,
    label: &'static str,
    get: fn(&BuildForm) -> Option<Duration>,
    set: fn(&mut BuildForm, Option<Duration>),
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select
                id=id
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    let d = Frequency::from_name(&v).map(Duration::Named);
                    state.update(|s| set(&mut s.form, d));
                }
            >
                <option value="" prop:selected=move || state.with(|s| get(&s.form).is_none())>
                    "Not specified"
                </option>
                {Frequency::ALL
                    .into_iter()
                    .map(|f| {
                        view! {
                            <option
                                value=f.as_str()
                                prop:selected=move || {
                                    state.with(|s| get(&s.form) == Some(Duration::Named(f)))
                                }
                            >
                                {format!("{} ({f})", capitalise(describe::frequency(f, Lang::En)))}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </div>
    }
}

fn text_field(
    state: RwSignal<PageState>,
    id: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    get: fn(&BuildForm) -> &String,
    set: fn(&mut BuildForm, String),
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {hint.map(|h| view! { <p class="hint" id=hint_id.clone()>{h}</p> })}
            <input
                type="text"
                id=id
                autocomplete="off"
                spellcheck="false"
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=move || state.with(|s| get(&s.form).clone())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    state.update(|s| set(&mut s.form, v));
                }
            />
        </div>
    }
}

fn radio(
    state: RwSignal<PageState>,
    name: &'static str,
    value: &'static str,
    label: &'static str,
    is: impl Fn(&BuildForm) -> bool + Send + Sync + 'static,
    choose: impl Fn(&mut BuildForm) + Send + Sync + 'static,
) -> impl IntoView {
    let id = format!("{name}-{value}");
    view! {
        <div class="check">
            <input
                type="radio"
                name=name
                id=id.clone()
                value=value
                prop:checked=move || state.with(|s| is(&s.form))
                on:change=move |_| state.update(|s| choose(&mut s.form))
            />
            <label for=id>{label}</label>
        </div>
    }
}

#[component]
fn BuildPanel(
    state: RwSignal<PageState>,
    secrets: RwSignal<Secrets>,
    status: RwSignal<String>,
    extra_intervals: Vec<Duration>,
) -> impl IntoView {
    let scope = Memo::new(move |_| state.with(|s| s.form.scope_string()));
    let url = Memo::new(move |_| {
        let origin = browser::origin();
        let sec = secrets.get();
        state.with(|s| {
            s.form
                .authorization_request(&origin, &sec.state, &sec.challenge)
                .to_url()
        })
    });
    let scope_findings = Memo::new(move |_| espi_scope::parse(&scope.get()).diagnostics);
    let history_error = Memo::new(move |_| state.with(|s| s.form.history_seconds().err()));
    let history_words = move || {
        state.with(|s| match s.form.history_seconds() {
            Ok(Some(secs)) => format!(
                "HistoryLength={secs}: {}.",
                describe::history_length(secs, Lang::En)
            ),
            Ok(None) => "No HistoryLength term: the utility decides.".to_string(),
            Err(_) => String::new(),
        })
    };

    let others: Vec<u16> = catalog::all()
        .map(|fb| fb.id)
        .filter(|id| !UTILITYAPI_BLOCKS.contains(id))
        .collect();
    let mut interval_options: Vec<Duration> = INTERVAL_OPTIONS.to_vec();
    interval_options.extend(extra_intervals);

    view! {
        <h2>"Build a request"</h2>
        <div class="build">
            <form class="build-form" on:submit=|ev| ev.prevent_default()>
                <fieldset>
                    <legend>"Data (function blocks)"</legend>
                    <p class="hint">
                        "UtilityAPI honours only these three in authorization URLs and fills in the rest in the final scope."
                    </p>
                    <ul class="checks">
                        {UTILITYAPI_BLOCKS.into_iter().map(|id| fb_checkbox(state, id, true)).collect_view()}
                    </ul>
                    <details>
                        <summary>"Every function block of the ESPI 4.0 catalog"</summary>
                        <ul class="checks fb-catalog">
                            {others.into_iter().map(|id| fb_checkbox(state, id, false)).collect_view()}
                        </ul>
                    </details>
                </fieldset>

                <fieldset>
                    <legend>"Interval lengths (IntervalDuration)"</legend>
                    <ul class="checks columns">
                        {interval_options
                            .into_iter()
                            .map(|d| {
                                let id = format!("iv-{d}");
                                view! {
                                    <li class="check">
                                        <input
                                            type="checkbox"
                                            id=id.clone()
                                            prop:checked=move || state.with(|s| s.form.intervals.contains(&d))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                state
                                                    .update(|s| {
                                                        s.form.intervals.retain(|x| *x != d);
                                                        if on {
                                                            s.form.intervals.push(d);
                                                            s.form.intervals.sort();
                                                        }
                                                    });
                                            }
                                        />
                                        <label for=id>{duration_label(&d)}</label>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </fieldset>

                <fieldset>
                    <legend>"History, frequency and duration"</legend>
                    <div class="field">
                        <label for="history-amount">"History length"</label>
                        <p class="hint" id="history-hint">"How far back; leave empty to let the utility decide."</p>
                        <div class="inline">
                            <input
                                type="text"
                                inputmode="numeric"
                                id="history-amount"
                                class="short"
                                autocomplete="off"
                                aria-describedby="history-hint history-words"
                                aria-invalid=move || history_error.get().map(|_| "true")
                                prop:value=move || state.with(|s| s.form.history_amount.clone())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    state.update(|s| s.form.history_amount = v);
                                }
                            />
                            <label for="history-unit" class="visually-hidden">"History unit"</label>
                            <select
                                id="history-unit"
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    state
                                        .update(|s| {
                                            s.form.history_unit = HistoryUnit::from_name(&v)
                                                .unwrap_or(HistoryUnit::Years);
                                        });
                                }
                            >
                                {HistoryUnit::ALL
                                    .into_iter()
                                    .map(|u| {
                                        view! {
                                            <option
                                                value=u.as_str()
                                                prop:selected=move || state.with(|s| s.form.history_unit == u)
                                            >
                                                {u.as_str()}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </div>
                        <p class="hint" id="history-words">
                            {move || history_error.get().unwrap_or_default()}
                            {history_words}
                        </p>
                    </div>
                    {frequency_select(
                        state,
                        "block-duration",
                        "Block duration (BlockDuration)",
                        |f| f.block_duration,
                        |f, d| f.block_duration = d,
                    )}
                    {frequency_select(
                        state,
                        "subscription-frequency",
                        "New data pushed (SubscriptionFrequency)",
                        |f| f.subscription_frequency,
                        |f, d| f.subscription_frequency = d,
                    )}
                    <fieldset>
                        <legend>"Authorization ends (PreferredAuthEndDate)"</legend>
                        {radio(
                            state,
                            "end",
                            "default",
                            "When the utility decides (no term)",
                            |f| f.end == EndChoice::UtilityDefault,
                            |f| f.end = EndChoice::UtilityDefault,
                        )}
                        {radio(
                            state,
                            "end",
                            "revoked",
                            "When the customer revokes it (0)",
                            |f| f.end == EndChoice::UntilRevoked,
                            |f| f.end = EndChoice::UntilRevoked,
                        )}
                        {radio(
                            state,
                            "end",
                            "date",
                            "On a date",
                            |f| f.end == EndChoice::OnDate,
                            |f| f.end = EndChoice::OnDate,
                        )}
                        <div class="field indent">
                            <label for="end-date">"End date (UTC)"</label>
                            <input
                                type="date"
                                id="end-date"
                                prop:disabled=move || state.with(|s| s.form.end != EndChoice::OnDate)
                                prop:value=move || state.with(|s| s.form.end_date.clone())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    state.update(|s| s.form.end_date = v);
                                }
                            />
                        </div>
                    </fieldset>
                </fieldset>

                <fieldset>
                    <legend>"Additional scope (UtilityAPI)"</legend>
                    <div class="check">
                        <input
                            type="checkbox"
                            id="noedit"
                            aria-describedby="noedit-hint"
                            prop:checked=move || state.with(|s| s.form.noedit)
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                state.update(|s| s.form.noedit = on);
                            }
                        />
                        <label for="noedit">"The customer may not edit the request (noedit)"</label>
                        <p class="hint" id="noedit-hint">
                            "Use sparingly: customers trust a form they can narrow."
                        </p>
                    </div>
                    <fieldset>
                        <legend>"Meters"</legend>
                        {radio(
                            state,
                            "meters",
                            "choose",
                            "The customer chooses",
                            |f| f.meters == MetersChoice::CustomerChooses,
                            |f| f.meters = MetersChoice::CustomerChooses,
                        )}
                        {radio(
                            state,
                            "meters",
                            "all",
                            "Every meter (meters-all)",
                            |f| f.meters == MetersChoice::All,
                            |f| f.meters = MetersChoice::All,
                        )}
                        {radio(
                            state,
                            "meters",
                            "listed",
                            "These service agreements (meters-SAID)",
                            |f| f.meters == MetersChoice::Listed,
                            |f| f.meters = MetersChoice::Listed,
                        )}
                        <div class="field indent">
                            <label for="meter-ids">"Service agreement ids, separated by spaces"</label>
                            <input
                                type="text"
                                id="meter-ids"
                                autocomplete="off"
                                spellcheck="false"
                                prop:disabled=move || state.with(|s| s.form.meters != MetersChoice::Listed)
                                prop:value=move || state.with(|s| s.form.meter_ids.clone())
                                on:input=move |ev| {
                                    let v = event_target_value(&ev);
                                    state.update(|s| s.form.meter_ids = v);
                                }
                            />
                        </div>
                    </fieldset>
                    {text_field(
                        state,
                        "scope-of-use",
                        "Scope of use (sou-…)",
                        Some("Shown to the customer. Letters, digits and hyphens: \"_\" and \";\" are separators."),
                        |f| &f.scope_of_use,
                        |f, v| f.scope_of_use = v,
                    )}
                    <div class="field">
                        <label for="auth-method">"Sign-in hint (auth-…)"</label>
                        <select
                            id="auth-method"
                            on:change=move |ev| {
                                let v = event_target_value(&ev);
                                state.update(|s| s.form.auth_method = v);
                            }
                        >
                            <option value="" prop:selected=move || state.with(|s| s.form.auth_method.is_empty())>
                                "None"
                            </option>
                            {AUTH_METHODS
                                .into_iter()
                                .map(|m| {
                                    view! {
                                        <option
                                            value=m
                                            prop:selected=move || state.with(|s| s.form.auth_method == m)
                                        >
                                            {m}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    {text_field(
                        state,
                        "auth-value",
                        "Sign-in hint value",
                        Some("A phone number (auth-phone-5554443333), an SSO or utility id; optional."),
                        |f| &f.auth_value,
                        |f, v| f.auth_value = v,
                    )}
                </fieldset>

                <fieldset>
                    <legend>"Client"</legend>
                    {text_field(
                        state,
                        "endpoint",
                        "Authorization endpoint",
                        Some("A path is resolved against this server."),
                        |f| &f.endpoint,
                        |f, v| f.endpoint = v,
                    )}
                    {text_field(state, "client-id", "Client id", None, |f| &f.client_id, |f, v| f.client_id = v)}
                    {text_field(
                        state,
                        "redirect-uri",
                        "Redirect URI",
                        Some("Must equal one the utility registered for the client."),
                        |f| &f.redirect_uri,
                        |f, v| f.redirect_uri = v,
                    )}
                    <dl class="secrets">
                        <dt>"state"</dt>
                        <dd>
                            <code id="built-state">{move || secrets.with(|s| s.state.clone())}</code>
                        </dd>
                        <dt>"PKCE code_verifier (keep it secret; sent only to the token endpoint)"</dt>
                        <dd>
                            <code id="built-verifier">{move || secrets.with(|s| s.verifier.clone())}</code>
                        </dd>
                        <dt>"PKCE code_challenge (S256)"</dt>
                        <dd>
                            <code id="built-challenge">{move || secrets.with(|s| s.challenge.clone())}</code>
                        </dd>
                    </dl>
                    <button
                        type="button"
                        on:click=move |_| {
                            secrets.set(Secrets::generate());
                            announce(status, "New state and PKCE pair generated.".into());
                        }
                    >
                        "New state and PKCE pair"
                    </button>
                </fieldset>
            </form>

            <div class="result">
                <h3 id="scope-heading">"Canonical scope"</h3>
                <pre class="out" aria-labelledby="scope-heading">
                    <code id="built-scope">{move || scope.get()}</code>
                </pre>
                <p class="hint">
                    {move || {
                        let n = scope.with(|s| s.len());
                        format!("{n} characters (the ESPI field holds 256).")
                    }}
                </p>
                <button type="button" id="copy-scope" on:click=move |_| copy(status, "Scope", scope.get())>
                    "Copy the scope"
                </button>
                {move || {
                    let f = scope_findings.get();
                    (!f.is_empty())
                        .then(|| {
                            view! {
                                <ul class="findings" aria-label="Notes on the built scope">
                                    {f
                                        .into_iter()
                                        .map(|d| {
                                            view! {
                                                <li class=format!("finding finding-{}", d.severity.as_str())>
                                                    <strong>{capitalise(d.severity.as_str())}</strong>
                                                    " "
                                                    <code>{d.code.as_str()}</code>
                                                    ": "
                                                    {d.message}
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })
                }}
                <h3 id="url-heading">"Authorization URL"</h3>
                <pre class="out" aria-labelledby="url-heading">
                    <code id="built-url">{move || url.get()}</code>
                </pre>
                <div class="buttons">
                    <button type="button" id="copy-url" on:click=move |_| copy(status, "Authorization URL", url.get())>
                        "Copy the URL"
                    </button>
                    <button
                        type="button"
                        id="decode-built"
                        on:click=move |_| {
                            let u = url.get();
                            state
                                .update(|s| {
                                    s.decode = u;
                                    s.tab = Tab::Decode;
                                });
                            browser::focus("decode-input");
                        }
                    >
                        "Decode this URL"
                    </button>
                </div>
            </div>
        </div>
    }
}

// ---------------------------------------------------------------------------
// Decode

/// A scope explained: canonical form, blocks named with their status, and
/// every other term in words.
#[component]
fn ScopeExplain(#[prop(into)] value: ScopeValue, #[prop(into)] label: String) -> impl IntoView {
    let canonical = value.to_string();
    let others = value.other_scopes.clone();
    let many = value.scopes.len() > 1;
    let scopes = value
        .scopes
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let caption = if many {
                format!("{label}: ESPI scope {} of function blocks", i + 1)
            } else {
                format!("{label}: function blocks")
            };
            let terms = model::term_fields(&s);
            let terms_caption = format!("{label}: other terms");
            view! {
                <table class="blocks">
                    <caption>{caption}</caption>
                    <thead>
                        <tr>
                            <th scope="col">"FB"</th>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"What the customer shares"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {model::block_lines(&s)
                            .into_iter()
                            .map(|b| {
                                view! {
                                    <tr>
                                        <th scope="row">{b.id}</th>
                                        <td>{b.name}</td>
                                        <td>
                                            <span class=format!("badge badge-{}", b.status_code)>{b.status}</span>
                                        </td>
                                        <td>{b.description}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
                {(!terms.is_empty())
                    .then(|| {
                        view! {
                            <table class="terms">
                                <caption>{terms_caption}</caption>
                                <thead>
                                    <tr>
                                        <th scope="col">"Term"</th>
                                        <th scope="col">"Value"</th>
                                        <th scope="col">"Meaning"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {terms
                                        .into_iter()
                                        .map(|t| {
                                            view! {
                                                <tr>
                                                    <th scope="row">{t.name}</th>
                                                    <td>
                                                        <code>{t.value}</code>
                                                    </td>
                                                    <td>{t.meaning}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                    })}
            }
        })
        .collect_view();
    view! {
        <div class="explain">
            <p>
                "Canonical form: " <code class="canonical">{canonical}</code>
            </p>
            {(!others.is_empty())
                .then(|| {
                    view! { <p>"Plain OAuth scopes: " <code>{others.join(" ")}</code></p> }
                })}
            {scopes}
        </div>
    }
}

const EXAMPLE_MALFORMED: &str = "fb=4_16_x; IntervalDuration=hourly;HistoryLength=2y;;";
const EXAMPLE_TOKEN: &str = r#"{"token_type":"Bearer","access_token":"demo-access","refresh_token":"demo-refresh","expires_in":3600,"scope":"FB=1_4_16_51;IntervalDuration=900_3600;HistoryLength=63072000;AccountCollection=1","resourceURI":"https://utility.example/espi/1_1/resource/Batch/Subscription/5","authorizationURI":"https://utility.example/espi/1_1/resource/Authorization/7"}"#;

#[component]
fn DecodePanel(state: RwSignal<PageState>, secrets: RwSignal<Secrets>) -> impl IntoView {
    let decoded = Memo::new(move |_| state.with(|s| model::decode_input(&s.decode)));
    let set_input = move |v: String| {
        state.update(|s| s.decode = v);
        browser::focus("decode-input");
    };
    let results = move || {
        let input = state.with(|s| s.decode.clone());
        let d = decoded.get();
        if d.kind == InputKind::Empty {
            return view! { <p>"Paste something above to see it explained."</p> }.into_any();
        }
        let errors = d
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        let warnings = d.findings.len() - errors;
        let summary = format!(
            "This is {}: {errors} error(s), {warnings} warning(s).",
            d.kind.label()
        );
        let fields_caption = match d.kind {
            InputKind::TokenResponse => "Token response fields",
            _ => "Authorization request parameters",
        };
        let findings = d
            .findings
            .into_iter()
            .map(|f| {
                let (before, mark, after) = model::split_span(&input, &f.span);
                let (before, mark, after) =
                    (before.to_string(), mark.to_string(), after.to_string());
                view! {
                    <li class=format!("finding finding-{}", f.severity.as_str())>
                        <p>
                            <strong>{capitalise(f.severity.as_str())}</strong>
                            " "
                            <code>{f.code}</code>
                            ": "
                            {f.message}
                        </p>
                        <pre class="snippet">
                            <code>
                                {before}
                                <mark>{mark}</mark>
                                {after}
                            </code>
                        </pre>
                    </li>
                }
            })
            .collect_view();
        view! {
            <p id="decode-summary">{summary}</p>
            {(errors + warnings > 0)
                .then(|| {
                    view! {
                        <h3>"Diagnostics"</h3>
                        <ol class="findings">{findings}</ol>
                    }
                })}
            {(!d.fields.is_empty())
                .then(|| {
                    view! {
                        <table class="terms">
                            <caption>{fields_caption}</caption>
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Value"</th>
                                    <th scope="col">"Meaning"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {d
                                    .fields
                                    .into_iter()
                                    .map(|f| {
                                        view! {
                                            <tr>
                                                <th scope="row">{f.name}</th>
                                                <td>
                                                    <code>{f.value}</code>
                                                </td>
                                                <td>{f.meaning}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                })}
            {d
                .scope
                .map(|v| {
                    view! {
                        <h3>"The scope"</h3>
                        <ScopeExplain value=v label="Scope"/>
                    }
                })}
        }
        .into_any()
    };
    view! {
        <h2>"Decode"</h2>
        <div class="field">
            <label for="decode-input">"A scope string, an authorization URL, or a token response (JSON)"</label>
            <textarea
                id="decode-input"
                rows="5"
                spellcheck="false"
                autocomplete="off"
                prop:value=move || state.with(|s| s.decode.clone())
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    state.update(|s| s.decode = v);
                }
            ></textarea>
        </div>
        <div class="buttons">
            <button
                type="button"
                on:click=move |_| {
                    let sec = secrets.get();
                    let u = state
                        .with(|s| {
                            s.form
                                .authorization_request(&browser::origin(), &sec.state, &sec.challenge)
                                .to_url()
                        });
                    set_input(u);
                }
            >
                "Use the built URL"
            </button>
            <button type="button" on:click=move |_| set_input(EXAMPLE_MALFORMED.into())>
                "Example: a malformed scope"
            </button>
            <button type="button" on:click=move |_| set_input(EXAMPLE_TOKEN.into())>
                "Example: a token response"
            </button>
        </div>
        <div id="decode-result">{results}</div>
    }
}

// ---------------------------------------------------------------------------
// Preview

#[component]
fn PreviewPanel(state: RwSignal<PageState>) -> impl IntoView {
    let lang_select = view! {
        <div class="field">
            <label for="preview-lang">"Language"</label>
            <select
                id="preview-lang"
                on:change=move |ev| {
                    let v = event_target_value(&ev);
                    state.update(|s| s.lang = Lang::from_tag(&v).unwrap_or_default());
                }
            >
                <option value="en" prop:selected=move || state.with(|s| s.lang == Lang::En)>
                    "English"
                </option>
                <option value="es" prop:selected=move || state.with(|s| s.lang == Lang::Es)>
                    "Español"
                </option>
            </select>
        </div>
    };
    view! {
        <h2>"Preview"</h2>
        <p>
            "The consent step your customers will see for the scope of the Build tab, on sample customer data. Nothing is sent anywhere. The theme follows the page's theme."
        </p>
        {lang_select}
        <crate::preview::Preview state=state/>
    }
}

// ---------------------------------------------------------------------------
// Try it

#[component]
fn TryPanel(
    state: RwSignal<PageState>,
    secrets: RwSignal<Secrets>,
    sandbox: RwSignal<SandboxState>,
) -> impl IntoView {
    let start = move |sb: Sandbox| {
        let sec = secrets.get_untracked();
        let (scope, back) = state.with_untracked(|s| (s.form.scope_string(), s.to_query()));
        let req = espi_scope::AuthorizationRequest {
            endpoint: sb.authorization_endpoint.clone(),
            response_type: "code".into(),
            client_id: sb.client_id.clone(),
            redirect_uri: sb.redirect_uri.clone(),
            scope: scope.clone(),
            state: Some(sec.state.clone()),
            code_challenge: Some(sec.challenge.clone()),
            code_challenge_method: Some("S256".into()),
        };
        let pending = serde_json::json!({
            "state": sec.state,
            "verifier": sec.verifier,
            "scope": scope,
            "back": back,
        });
        browser::session_set(PENDING_KEY, &pending.to_string());
        browser::navigate(&req.to_url());
    };
    view! {
        <h2>"Try it"</h2>
        <p>
            "Runs the real authorization code flow (with PKCE) against this demo DataCustodian, with its demo client and the scope of the Build tab. You sign in as a sample customer, decide, and come back to "
            <code>{CALLBACK_PATH}</code>
            ", which exchanges the code and shows the token response."
        </p>
        {move || match sandbox.get() {
            SandboxState::Loading => view! { <p>"Looking for the demo sandbox…"</p> }.into_any(),
            SandboxState::Unavailable(why) => {
                view! {
                    <p class="notice" id="try-unavailable">
                        "Try it is not available here. "
                        {why}
                    </p>
                }
                    .into_any()
            }
            SandboxState::Ready(sb) => {
                let sb2 = sb.clone();
                view! {
                    <dl class="sandbox">
                        <dt>"Client id"</dt>
                        <dd>
                            <code>{sb.client_id.clone()}</code>
                        </dd>
                        <dt>"Redirect URI"</dt>
                        <dd>
                            <code>{sb.redirect_uri.clone()}</code>
                        </dd>
                        <dt>"Authorization endpoint"</dt>
                        <dd>
                            <code>{sb.authorization_endpoint.clone()}</code>
                        </dd>
                        <dt>"Token endpoint"</dt>
                        <dd>
                            <code>{sb.token_endpoint.clone()}</code>
                        </dd>
                        <dt>"Issuer"</dt>
                        <dd>
                            <code>{sb.issuer.clone()}</code>
                        </dd>
                        <dt>"Requested scope"</dt>
                        <dd>
                            <code id="try-scope">{move || state.with(|s| s.form.scope_string())}</code>
                        </dd>
                    </dl>
                    <button type="button" id="try-start" class="primary" on:click=move |_| start(sb2.clone())>
                        "Start the authorization"
                    </button>
                }
                    .into_any()
            }
        }}
    }
}

// ---------------------------------------------------------------------------
// Callback

#[derive(Clone, Debug, PartialEq)]
enum Exchange {
    Idle,
    Working,
    Failed(String),
    Done { status: u16, body: String },
}

#[component]
fn Callback(status: RwSignal<String>) -> impl IntoView {
    let query = browser::search();
    let code = model::query_param(&query, "code");
    let error = model::query_param(&query, "error");
    let error_description = model::query_param(&query, "error_description");
    let returned_state = model::query_param(&query, "state");
    let iss = model::query_param(&query, "iss");
    let pending: Option<serde_json::Value> =
        browser::session_get(PENDING_KEY).and_then(|s| serde_json::from_str(&s).ok());
    browser::session_remove(PENDING_KEY);
    // The code is single use: keep it out of the history and the address bar.
    browser::replace_url(CALLBACK_PATH);
    let expected_state = pending
        .as_ref()
        .map(|p| str_field(p, "state"))
        .filter(|s| !s.is_empty());
    let requested_scope = pending.as_ref().map(|p| str_field(p, "scope"));
    let verifier = pending.as_ref().map(|p| str_field(p, "verifier"));
    let back = format!(
        "/?{}",
        pending
            .as_ref()
            .map(|p| str_field(p, "back"))
            .unwrap_or_default()
    );
    let state_ok = expected_state.is_some() && expected_state == returned_state;
    let exchange = RwSignal::new(Exchange::Idle);

    if let (Some(code), Some(verifier), true) = (code.clone(), verifier, state_ok) {
        exchange.set(Exchange::Working);
        let iss = iss.clone();
        spawn_local(async move {
            let result = match load_sandbox().await {
                SandboxState::Ready(sb) if iss.as_ref().is_some_and(|i| *i != sb.issuer) => {
                    Exchange::Failed(format!(
                        "The response's iss ({}) is not this server's issuer ({}): per RFC 9207 it is rejected and the code is not exchanged.",
                        iss.unwrap_or_default(),
                        sb.issuer
                    ))
                }
                SandboxState::Ready(sb) => {
                    let auth = model::basic_auth(&sb.client_id, &sb.client_secret);
                    let body = model::token_request_body(&code, &sb.redirect_uri, &verifier);
                    match browser::fetch_text(&sb.token_endpoint, Some((&auth, &body))).await {
                        Ok((status, body)) => Exchange::Done { status, body },
                        Err(e) => Exchange::Failed(e),
                    }
                }
                SandboxState::Unavailable(why) => Exchange::Failed(why),
                SandboxState::Loading => Exchange::Failed("no sandbox".into()),
            };
            let msg = match &result {
                Exchange::Done { status: 200, .. } => "The token response arrived.".to_string(),
                Exchange::Done { status, .. } => {
                    format!("The token endpoint answered HTTP {status}.")
                }
                _ => "The code exchange failed.".to_string(),
            };
            exchange.set(result);
            announce(status, msg);
        });
    }

    let state_line = match (&returned_state, &expected_state) {
        (_, None) => "No pending request was found in this tab, so the state cannot be checked (start from the Try it tab).".to_string(),
        (Some(_), Some(_)) if state_ok => "The state matches the one sent.".to_string(),
        _ => "The state does NOT match the one sent: a forged or stale response. The code is not exchanged.".to_string(),
    };

    let outcome = match (&error, &code) {
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
                {error_description.clone().map(|d| view! { <p>{d}</p> })}
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
    };

    let exchange_view = move || match exchange.get() {
        Exchange::Idle => ().into_any(),
        Exchange::Working => {
            view! { <p>"Exchanging the code at the token endpoint…"</p> }.into_any()
        }
        Exchange::Failed(e) => view! { <p class="notice">{e}</p> }.into_any(),
        Exchange::Done { status, body } => {
            let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            let pretty = json
                .as_ref()
                .and_then(|j| serde_json::to_string_pretty(j).ok())
                .unwrap_or_else(|| body.clone());
            let final_scope = json
                .as_ref()
                .and_then(|j| j.get("scope"))
                .and_then(|s| s.as_str())
                .map(str::to_string);
            let requested = requested_scope.clone().unwrap_or_default();
            view! {
                <h2 id="token-heading">{format!("Token response (HTTP {status})")}</h2>
                <pre class="out" aria-labelledby="token-heading">
                    <code id="token-response">{pretty}</code>
                </pre>
                {final_scope
                    .map(|fs| {
                        view! {
                            <h2>"Requested and final scope"</h2>
                            <div class="compare">
                                <section aria-labelledby="requested-heading">
                                    <h3 id="requested-heading">"Requested"</h3>
                                    <ScopeExplain value=espi_scope::parse(&requested).value label="Requested"/>
                                </section>
                                <section aria-labelledby="final-heading">
                                    <h3 id="final-heading">"Final (granted)"</h3>
                                    <ScopeExplain value=espi_scope::parse(&fs).value label="Final"/>
                                </section>
                            </div>
                        }
                    })}
            }
                .into_any()
        }
    };

    view! {
        <h1>"Authorization response"</h1>
        {outcome}
        <p id="callback-state">{state_line}</p>
        {iss.map(|i| view! { <p>"Issuer (iss): " <code>{i}</code></p> })}
        {exchange_view}
        <p>
            <a href=back>"Back to the playground"</a>
        </p>
    }
}
