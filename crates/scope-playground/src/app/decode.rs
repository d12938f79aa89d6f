//! The Decode tab: a scope string, an authorization URL or a token response
//! explained, with every diagnostic marked in the input.

use espi_scope::{EspiScope, ScopeValue, Severity};
use leptos::prelude::*;

use super::{page_state, secrets};
use crate::browser;
use crate::model::{self, Decoded, InputKind, capitalise};

const EXAMPLE_MALFORMED: &str = "fb=4_16_x; IntervalDuration=hourly;HistoryLength=2y;;";
const EXAMPLE_TOKEN: &str = r#"{"token_type":"Bearer","access_token":"demo-access","refresh_token":"demo-refresh","expires_in":3600,"scope":"FB=1_4_16_51;IntervalDuration=900_3600;HistoryLength=63072000;AccountCollection=1","resourceURI":"https://utility.example/espi/1_1/resource/Batch/Subscription/5","authorizationURI":"https://utility.example/espi/1_1/resource/Authorization/7"}"#;

/// A scope explained: canonical form, blocks named with their status, and
/// every other term in words.
#[component]
pub(super) fn ScopeExplain(
    /// The scope value to explain.
    #[prop(into)]
    value: ScopeValue,
    /// Names the tables (`"Scope"`, `"Requested"`, `"Final"`).
    #[prop(into)]
    label: String,
) -> impl IntoView {
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
            let terms_caption = format!("{label}: other terms");
            view! {
                {blocks_table(&s, caption)}
                {terms_table(&s, terms_caption)}
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

/// The function blocks of a scope.
fn blocks_table(s: &EspiScope, caption: String) -> impl IntoView + use<> {
    let rows = model::block_lines(s)
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
        .collect_view();
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
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The other terms of a scope in words (nothing when there are none).
fn terms_table(s: &EspiScope, caption: String) -> impl IntoView + use<> {
    fields_table(model::term_fields(s), caption, "Term")
}

/// The input, example buttons and the explanation.
#[component]
pub(super) fn DecodePanel() -> impl IntoView {
    let state = page_state();
    let secrets = secrets();
    let decoded = Memo::new(move |_| state.with(|s| model::decode_input(&s.decode)));
    let set_input = move |v: String| {
        state.update(|s| s.decode = v);
        browser::focus("decode-input");
    };
    let results = move || state.with(|s| decode_results(&s.decode, decoded.get()));
    let use_built = move |_| {
        let sec = secrets.get();
        let u = state.with(|s| {
            s.form
                .authorization_request(&browser::origin(), &sec.state, &sec.challenge)
                .to_url()
        });
        set_input(u);
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
            <button type="button" on:click=use_built>
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

/// The summary, diagnostics, fields and scope of a decoded input.
fn decode_results(input: &str, d: Decoded) -> AnyView {
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
    let findings = findings_list(input, d.findings);
    view! {
        <p id="decode-summary">{summary}</p>
        {(errors + warnings > 0)
            .then(|| {
                view! {
                    <h3>"Diagnostics"</h3>
                    <ol class="findings">{findings}</ol>
                }
            })}
        {fields_table(d.fields, fields_caption.to_string(), "Name")}
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
}

/// Each finding with the input around its span, the span marked.
fn findings_list(input: &str, findings: Vec<model::Finding>) -> impl IntoView + use<> {
    findings
        .into_iter()
        .map(|f| {
            let (before, mark, after) = model::split_span(input, &f.span);
            let (before, mark, after) = (before.to_string(), mark.to_string(), after.to_string());
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
        .collect_view()
}

/// Named values with their meaning (the URL parameters, the token response
/// fields, a scope's terms); nothing when there are none. `what` heads the
/// name column.
fn fields_table(
    fields: Vec<model::Field>,
    caption: String,
    what: &'static str,
) -> impl IntoView + use<> {
    (!fields.is_empty()).then(|| {
        let rows = fields
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
            .collect_view();
        view! {
            <table class="terms">
                <caption>{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col">{what}</th>
                        <th scope="col">"Value"</th>
                        <th scope="col">"Meaning"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    })
}
