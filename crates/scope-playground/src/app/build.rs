//! The Build tab: a form for every part of an ESPI scope and of the
//! authorization URL, with the canonical scope, its diagnostics and the URL
//! next to it.

use espi_scope::catalog;
use espi_scope::describe::{self, Lang};
use espi_scope::{Duration, Frequency};
use leptos::prelude::*;

use super::{Secrets, Status, page_state, secrets};
use crate::browser;
use crate::model::{
    self, AUTH_METHODS, BuildForm, EndChoice, HistoryUnit, INTERVAL_OPTIONS, MetersChoice,
    PageState, Tab, UTILITYAPI_BLOCKS, capitalise,
};

/// The form and the result.
#[component]
pub(super) fn BuildPanel(
    /// Interval lengths of the page's URL that are not among the usual
    /// options (offered as checkboxes too).
    extra_intervals: Vec<Duration>,
) -> impl IntoView {
    let state = page_state();
    let secrets = secrets();
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
    view! {
        <h2>"Build a request"</h2>
        <div class="build">
            <form class="build-form" on:submit=|ev| ev.prevent_default()>
                <FunctionBlocks/>
                <Intervals extra_intervals=extra_intervals/>
                <Timing/>
                <Additional/>
                <Client/>
            </form>
            <BuildResult scope=scope url=url/>
        </div>
    }
}

/// The function blocks: UtilityAPI's three, then the whole catalog.
#[component]
fn FunctionBlocks() -> impl IntoView {
    let state = page_state();
    let others: Vec<u16> = catalog::all()
        .map(|fb| fb.id)
        .filter(|id| !UTILITYAPI_BLOCKS.contains(id))
        .collect();
    view! {
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
    }
}

/// `IntervalDuration`: the usual lengths and any from the page's URL.
#[component]
fn Intervals(
    /// Lengths beyond the usual options.
    extra_intervals: Vec<Duration>,
) -> impl IntoView {
    let state = page_state();
    let mut interval_options: Vec<Duration> = INTERVAL_OPTIONS.to_vec();
    interval_options.extend(extra_intervals);
    view! {
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
    }
}

/// History length, block duration, subscription frequency, end date.
#[component]
fn Timing() -> impl IntoView {
    let state = page_state();
    view! {
        <fieldset>
            <legend>"History, frequency and duration"</legend>
            <History/>
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
            <EndDate/>
        </fieldset>
    }
}

/// `HistoryLength`: an amount and a unit, with the result in words.
#[component]
fn History() -> impl IntoView {
    let state = page_state();
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
    view! {
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
                {history_unit_select(state)}
            </div>
            <p class="hint" id="history-words">
                {move || history_error.get().unwrap_or_default()}
                {history_words}
            </p>
        </div>
    }
}

fn history_unit_select(state: RwSignal<PageState>) -> impl IntoView {
    view! {
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
    }
}

/// `PreferredAuthEndDate`: the utility's default, until revoked, or a date.
#[component]
fn EndDate() -> impl IntoView {
    let state = page_state();
    view! {
        <fieldset>
            <legend>"Authorization ends (PreferredAuthEndDate)"</legend>
            {radios(
                state,
                "end",
                [
                    ("default", "When the utility decides (no term)", EndChoice::UtilityDefault),
                    ("revoked", "When the customer revokes it (0)", EndChoice::UntilRevoked),
                    ("date", "On a date", EndChoice::OnDate),
                ],
                |f| f.end,
                |f, c| f.end = c,
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
    }
}

/// `AdditionalScope`: noedit, meters, scope of use, sign-in hint.
#[component]
fn Additional() -> impl IntoView {
    let state = page_state();
    view! {
        <fieldset>
            <legend>"Additional scope (UtilityAPI)"</legend>
            <NoEdit/>
            <Meters/>
            {text_field(
                state,
                "scope-of-use",
                "Scope of use (sou-…)",
                Some("Shown to the customer. Letters, digits and hyphens: \"_\" and \";\" are separators."),
                |f| &f.scope_of_use,
                |f, v| f.scope_of_use = v,
            )}
            <AuthMethod/>
            {text_field(
                state,
                "auth-value",
                "Sign-in hint value",
                Some("A phone number (auth-phone-5554443333), an SSO or utility id; optional."),
                |f| &f.auth_value,
                |f, v| f.auth_value = v,
            )}
        </fieldset>
    }
}

/// `noedit`: the customer may not narrow the request.
#[component]
fn NoEdit() -> impl IntoView {
    let state = page_state();
    view! {
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
    }
}

/// `meters-…`: who chooses the meters.
#[component]
fn Meters() -> impl IntoView {
    let state = page_state();
    view! {
    <fieldset>
        <legend>"Meters"</legend>
        {radios(
            state,
            "meters",
            [
                ("choose", "The customer chooses", MetersChoice::CustomerChooses),
                ("all", "Every meter (meters-all)", MetersChoice::All),
                ("listed", "These service agreements (meters-SAID)", MetersChoice::Listed),
            ],
            |f| f.meters,
            |f, c| f.meters = c,
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
    }
}

/// `auth-…`: the sign-in hint's method.
#[component]
fn AuthMethod() -> impl IntoView {
    let state = page_state();
    view! {
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
    }
}

/// The client: endpoint, id, redirect URI, and the state and PKCE pair.
#[component]
fn Client() -> impl IntoView {
    let state = page_state();
    let secrets = secrets();
    let status = Status::get();
    view! {
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
                    status.announce("New state and PKCE pair generated.".into());
                }
            >
                "New state and PKCE pair"
            </button>
        </fieldset>
    }
}

/// The canonical scope with its diagnostics, and the authorization URL.
#[component]
fn BuildResult(
    /// The canonical scope of the form.
    scope: Memo<String>,
    /// The authorization URL of the form.
    url: Memo<String>,
) -> impl IntoView {
    let state = page_state();
    let status = Status::get();
    let scope_findings = Memo::new(move |_| espi_scope::parse(&scope.get()).diagnostics);
    let decode_built = move |_| {
        let u = url.get();
        state.update(|s| {
            s.decode = u;
            s.tab = Tab::Decode;
        });
        browser::focus("decode-input");
    };
    view! {
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
        <button type="button" id="copy-scope" on:click=move |_| status.copy("Scope", scope.get())>
            "Copy the scope"
        </button>
        {move || scope_notes(scope_findings.get())}
        <h3 id="url-heading">"Authorization URL"</h3>
        <pre class="out" aria-labelledby="url-heading">
            <code id="built-url">{move || url.get()}</code>
        </pre>
        <div class="buttons">
            <button type="button" id="copy-url" on:click=move |_| status.copy("Authorization URL", url.get())>
                "Copy the URL"
            </button>
            <button type="button" id="decode-built" on:click=decode_built>
                "Decode this URL"
            </button>
        </div>
    </div>
    }
}

/// The diagnostics of the built scope (nothing when there are none).
fn scope_notes(findings: Vec<espi_scope::Diagnostic>) -> impl IntoView {
    (!findings.is_empty()).then(|| {
        let items = findings
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
            .collect_view();
        view! { <ul class="findings" aria-label="Notes on the built scope">{items}</ul> }
    })
}

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

/// Radio buttons named `name`, one per `(value, label, choice)`; the
/// checked one is `get` of the form.
fn radios<T: Copy + PartialEq + Send + Sync + 'static>(
    state: RwSignal<PageState>,
    name: &'static str,
    options: [(&'static str, &'static str, T); 3],
    get: fn(&BuildForm) -> T,
    set: fn(&mut BuildForm, T),
) -> impl IntoView {
    let radio = move |(value, label, choice): (&'static str, &'static str, T)| {
        let id = format!("{name}-{value}");
        view! {
            <div class="check">
                <input
                    type="radio"
                    name=name
                    id=id.clone()
                    value=value
                    prop:checked=move || state.with(|s| get(&s.form) == choice)
                    on:change=move |_| state.update(|s| set(&mut s.form, choice))
                />
                <label for=id>{label}</label>
            </div>
        }
    };
    options.into_iter().map(radio).collect_view()
}
