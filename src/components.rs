//! The shared components (GOV.UK patterns): status region, error summary,
//! headings, hints, lists, text fields, radios and checkboxes, summary
//! rows, links, the action row.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::flow::use_flow;
use crate::i18n::M;

/// The polite `role="status"` region ("Code sent"). Always in the page, so
/// screen readers announce what is put in it.
#[component]
pub fn StatusRegion() -> impl IntoView {
    let flow = use_flow();
    let empty = move || flow.status.with(String::is_empty);
    view! {
        <div
            role="status"
            class=move || if empty() { "gbc-status gbc-status--empty" } else { "gbc-status" }
        >
            {move || flow.status.get()}
        </div>
    }
}

/// The error summary: hidden while there are no errors; each error links
/// to its field, and a link moves the focus there without changing the
/// host page's URL.
#[component]
pub fn ErrorSummary() -> impl IntoView {
    let flow = use_flow();
    let title_id = flow.id("error-summary-title");
    let to_field = move |ev: leptos::ev::MouseEvent| {
        let href = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|t| t.get_attribute("href"));
        if let Some(href) = href {
            ev.prevent_default();
            flow.focus(&href);
        }
    };
    view! {
        <div class="gbc-error-summary" tabindex="-1" hidden=move || flow.errors.with(Vec::is_empty)>
            <div role="alert" aria-labelledby=title_id.clone()>
                <h2 class="gbc-error-summary__title" id=title_id.clone()>
                    {flow.t(M::ErrorSummaryTitle)}
                </h2>
                <ul class="gbc-error-summary__list" on:click=to_field>
                    {move || {
                        flow.errors
                            .get()
                            .into_iter()
                            .map(|e| {
                                if e.id.is_empty() {
                                    view! { <li>{e.text}</li> }.into_any()
                                } else {
                                    view! { <li><a href=format!("#{}", e.id)>{e.text}</a></li> }
                                        .into_any()
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </div>
        </div>
    }
}

/// The step's heading: `h1` on the hosted page, `h2` when embedded. Focus
/// moves here when the step changes.
#[component]
pub fn Heading(
    /// The text.
    text: String,
) -> impl IntoView {
    if use_flow().hosted() {
        view! { <h1 class="gbc-h" tabindex="-1">{text}</h1> }.into_any()
    } else {
        view! { <h2 class="gbc-h" tabindex="-1">{text}</h2> }.into_any()
    }
}

/// A section heading one level below [`Heading`].
#[component]
pub fn SubHeading(
    /// The text.
    text: String,
) -> impl IntoView {
    if use_flow().hosted() {
        view! { <h2 class="gbc-h2">{text}</h2> }.into_any()
    } else {
        view! { <h3 class="gbc-h2">{text}</h3> }.into_any()
    }
}

/// A bulleted list of plain lines.
#[component]
pub fn Lines(
    /// The lines.
    #[prop(into)]
    items: Signal<Vec<String>>,
) -> impl IntoView {
    view! {
        <ul class="gbc-list">
            {move || items.get().into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}
        </ul>
    }
}

/// The inline error of a field (the same words as in the summary), shown
/// while the field has one.
#[component]
pub fn InlineError(
    /// The field's element id.
    id: String,
) -> impl IntoView {
    let flow = use_flow();
    let key = id.clone();
    let error = Memo::new(move |_| flow.error_for(&key));
    view! {
        <p class="gbc-error-message" id=format!("{id}-error") hidden=move || error.with(Option::is_none)>
            <span class="gbc-vh">{format!("{} ", flow.t(M::ErrorInline))}</span>
            <span>{move || error.get().unwrap_or_default()}</span>
        </p>
    }
}

/// `aria-describedby` for a control: its hint, then its error while it has
/// one.
fn described_by(hint: Option<String>, error_of: String) -> impl Fn() -> Option<String> {
    let flow = use_flow();
    move || {
        let mut v: Vec<String> = hint.iter().cloned().collect();
        if flow.error_for(&error_of).is_some() {
            v.push(format!("{error_of}-error"));
        }
        (!v.is_empty()).then(|| v.join(" "))
    }
}

/// What a [`TextField`] is.
#[derive(Clone, Copy, Debug)]
pub struct FieldKind {
    /// `type`: `text`, `password`, `email`, `tel`.
    pub input_type: &'static str,
    /// `autocomplete`.
    pub autocomplete: &'static str,
    /// `inputmode` (empty: none).
    pub inputmode: &'static str,
}

impl FieldKind {
    /// Plain text with this `autocomplete`.
    pub const fn text(autocomplete: &'static str) -> FieldKind {
        FieldKind {
            input_type: "text",
            autocomplete,
            inputmode: "",
        }
    }

    /// Digits (`inputmode="numeric"`), still `type="text"`.
    pub const fn numeric(autocomplete: &'static str) -> FieldKind {
        FieldKind {
            input_type: "text",
            autocomplete,
            inputmode: "numeric",
        }
    }
}

/// A labelled text input with an optional hint and its inline error, bound
/// to `value`.
#[component]
pub fn TextField(
    /// The short name (the element id is made unique per widget).
    name: &'static str,
    /// The label.
    label: M,
    /// A hint under the label.
    #[prop(optional)]
    hint: Option<M>,
    /// Type, autocomplete and input mode.
    kind: FieldKind,
    /// The value.
    value: RwSignal<String>,
    /// Disables the input.
    #[prop(optional, into)]
    disabled: Signal<bool>,
) -> impl IntoView {
    let flow = use_flow();
    let id = flow.id(name);
    let hint_id = hint.map(|_| format!("{id}-hint"));
    let key = id.clone();
    let has_error = move || flow.error_for(&key).is_some();
    let has_error2 = has_error.clone();
    view! {
        <div class=move || if has_error() { "gbc-field gbc-field--error" } else { "gbc-field" }>
            <label class="gbc-label" for=id.clone()>{flow.t(label)}</label>
            {hint.map(|h| view! { <p class="gbc-hint" id=hint_id.clone()>{flow.t(h)}</p> })}
            <InlineError id=id.clone() />
            <input
                class="gbc-input"
                id=id.clone()
                name=name
                type=kind.input_type
                autocomplete=kind.autocomplete
                inputmode=(!kind.inputmode.is_empty()).then_some(kind.inputmode)
                spellcheck="false"
                aria-invalid=move || has_error2().then_some("true")
                aria-describedby=described_by(hint_id.clone(), id.clone())
                disabled=disabled
                bind:value=value
            />
        </div>
    }
}

/// One radio button or checkbox of a [`Choices`] fieldset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The short name of the control (unique in the widget).
    pub name: String,
    /// The label.
    pub label: String,
    /// The control's `value` (a SAID, a function block, seconds): what a
    /// form would submit, and a stable hook for assistive tech and tests.
    pub value: String,
    /// A hint under the label.
    pub hint: Option<String>,
}

impl Choice {
    /// A choice without a hint.
    pub fn new(name: String, label: String, value: String) -> Choice {
        Choice {
            name,
            label,
            value,
            hint: None,
        }
    }
}

/// A fieldset of radios or checkboxes with a legend, an optional hint and
/// the inline error of its first control.
#[component]
pub fn Choices(
    /// The group's short name.
    name: &'static str,
    /// Radios (one of) rather than checkboxes (any of).
    #[prop(optional)]
    radio: bool,
    /// The legend.
    legend: String,
    /// A hint under the legend.
    #[prop(optional, into)]
    hint: Option<String>,
    /// The choices.
    choices: Vec<Choice>,
    /// Whether the choice with this value is checked (tracked).
    checked: Callback<String, bool>,
    /// The customer changed the choice with this value.
    on_change: Callback<(String, bool)>,
) -> impl IntoView {
    let flow = use_flow();
    let first = choices
        .first()
        .map(|c| flow.id(&c.name))
        .unwrap_or_default();
    let hint_id = hint.as_ref().map(|_| flow.id(&format!("{name}-hint")));
    let group = flow.id(name);
    let key = first.clone();
    let has_error = move || flow.error_for(&key).is_some();
    let rows = choices
        .into_iter()
        .map(|c| {
            let id = flow.id(&c.name);
            let chint = c.hint.as_ref().map(|_| format!("{id}-hint"));
            let (v1, v2) = (c.value.clone(), c.value.clone());
            view! {
                <div class="gbc-choice">
                    <input
                        class="gbc-choice__input"
                        type=if radio { "radio" } else { "checkbox" }
                        id=id.clone()
                        name=radio.then(|| group.clone())
                        value=c.value
                        aria-describedby=chint.clone()
                        prop:checked=move || checked.run(v1.clone())
                        on:change=move |ev| on_change.run((v2.clone(), event_target_checked(&ev)))
                    />
                    <label class="gbc-choice__label" for=id>{c.label}</label>
                    {c.hint.map(|h| view! { <p class="gbc-hint gbc-choice__hint" id=chint>{h}</p> })}
                </div>
            }
        })
        .collect_view();
    view! {
        <fieldset
            class=move || if has_error() { "gbc-fieldset gbc-field--error" } else { "gbc-fieldset" }
            aria-describedby=described_by(hint_id.clone(), first.clone())
        >
            <legend class="gbc-legend">{legend}</legend>
            {hint.map(|h| view! { <p class="gbc-hint" id=hint_id.clone()>{h}</p> })}
            <InlineError id=first.clone() />
            <div class="gbc-choices">{rows}</div>
        </fieldset>
    }
}

/// A row of a summary list (`<dt>` / `<dd>`): one line as text, more as a
/// list.
#[component]
pub fn Row(
    /// The key.
    key: String,
    /// The value's lines.
    value: Vec<String>,
) -> impl IntoView {
    let value = if value.len() == 1 {
        value.into_iter().next().into_any()
    } else {
        view! { <Lines items=value /> }.into_any()
    };
    view! {
        <div>
            <dt>{key}</dt>
            <dd>{value}</dd>
        </div>
    }
}

/// An external link (http/https only), opening in a new tab and saying so.
#[component]
pub fn ExternalLink(
    /// The URL.
    href: String,
    /// The link text.
    text: String,
) -> impl IntoView {
    let flow = use_flow();
    crate::model::is_web_url(&href).then(|| {
        view! {
            <a class="gbc-link" href=href target="_blank" rel="noopener noreferrer">
                {text}
                " "
                <span class="gbc-new-tab">{flow.t(M::NewTab)}</span>
            </a>
        }
    })
}
