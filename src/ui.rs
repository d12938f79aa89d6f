//! The shared components (GOV.UK patterns): status region, error summary,
//! headings, paragraphs, lists, text fields, radios and checkboxes, summary
//! rows, links. Each is a plain function that appends its markup to a
//! parent element (see [`crate::dom`] for why).

use web_sys::Element;

use crate::app::Flow;
use crate::dom::{self, bind_attr, bind_flag, bind_text, el, set, txt};
use crate::i18n::M;

/// Component: the polite `role="status"` region ("Code sent"). Always in
/// the page, so screen readers announce what is put in it.
pub fn status_region(flow: Flow, parent: &Element) {
    let r = el(parent, "div", "gbc-status");
    set(&r, "role", "status");
    bind_text(&r, Box::new(move || flow.status()));
    bind_attr(
        &r,
        "class",
        Box::new(move || {
            Some(
                if flow.status().is_empty() {
                    "gbc-status gbc-status--empty"
                } else {
                    "gbc-status"
                }
                .into(),
            )
        }),
    );
}

/// Component: the error summary. Takes focus when errors appear (see the
/// app shell), links to each field; hidden while there are none.
pub fn error_summary(flow: Flow, parent: &Element) {
    let s = el(parent, "div", "gbc-error-summary");
    set(&s, "tabindex", "-1");
    bind_flag(
        &s,
        "hidden",
        Box::new(move || flow.errors_with(|e| e.is_empty())),
    );
    let alert = el(&s, "div", "");
    set(&alert, "role", "alert");
    let title_id = flow.id("error-summary-title");
    set(&alert, "aria-labelledby", &title_id);
    let h = txt(
        &alert,
        "h2",
        "gbc-error-summary__title",
        flow.t(M::ErrorSummaryTitle),
    );
    set(&h, "id", &title_id);
    let ul = el(&alert, "ul", "gbc-error-summary__list");
    let list = ul.clone();
    dom::effect(Box::new(move || {
        list.set_text_content(None);
        flow.errors_with(|errors| {
            for e in errors {
                let li = el(&list, "li", "");
                if e.id.is_empty() {
                    dom::text(&li, &e.text);
                } else {
                    let a = txt(&li, "a", "", &e.text);
                    set(&a, "href", &format!("#{}", e.id));
                }
            }
        });
    }));
    // One delegated handler: a link moves focus to its field (and does not
    // change the host page's URL).
    dom::on(
        &ul,
        "click",
        Box::new(move |ev| {
            let target = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<Element>(t).ok())
                .and_then(|t| t.get_attribute("href"));
            if let (Some(href), Some(host)) = (target, flow.host()) {
                ev.prevent_default();
                if let Ok(Some(field)) = host.query_selector(&href) {
                    dom::focus(&field);
                }
            }
        }),
    );
}

/// Component: the step's heading: `h1` on the hosted page, `h2` when
/// embedded. Focus moves here when the step changes.
pub fn heading(flow: Flow, parent: &Element, text: &str) -> Element {
    let h = txt(
        parent,
        if flow.hosted() { "h1" } else { "h2" },
        "gbc-h",
        text,
    );
    set(&h, "tabindex", "-1");
    h
}

/// Component: a section heading one level below [`heading`].
pub fn sub_heading(flow: Flow, parent: &Element, text: &str) -> Element {
    txt(
        parent,
        if flow.hosted() { "h2" } else { "h3" },
        "gbc-h2",
        text,
    )
}

/// Component: a paragraph.
pub fn p(parent: &Element, text: &str) -> Element {
    txt(parent, "p", "gbc-body", text)
}

/// Component: a hint paragraph with an id (for `aria-describedby`).
pub fn hint(parent: &Element, id: &str, text: &str) -> Element {
    let h = txt(parent, "p", "gbc-hint", text);
    if !id.is_empty() {
        set(&h, "id", id);
    }
    h
}

/// Component: a bulleted list of plain lines.
pub fn lines(parent: &Element, items: &[String]) -> Element {
    let ul = el(parent, "ul", "gbc-list");
    fill(&ul, items);
    ul
}

/// Replaces the items of a list.
pub fn fill(ul: &Element, items: &[String]) {
    ul.set_text_content(None);
    for i in items {
        txt(ul, "li", "", i);
    }
}

/// Component: the inline error of a field (the same words as in the
/// summary), shown while the field has an error.
pub fn inline_error(flow: Flow, parent: &Element, id: &str) {
    let p = el(parent, "p", "gbc-error-message");
    set(&p, "id", &format!("{id}-error"));
    txt(
        &p,
        "span",
        "gbc-vh",
        &format!("{} ", flow.t(M::ErrorInline)),
    );
    let msg = el(&p, "span", "");
    let (a, b) = (id.to_string(), id.to_string());
    bind_flag(&p, "hidden", Box::new(move || flow.error_for(&a).is_none()));
    bind_text(
        &msg,
        Box::new(move || flow.error_for(&b).unwrap_or_default()),
    );
}

/// Marks `container` (class) and `input` (`aria-invalid`,
/// `aria-describedby`) while the field `id` has an error.
fn bind_error_state(
    flow: Flow,
    container: &Element,
    base_class: &'static str,
    id: &str,
    hint: bool,
) {
    let a = id.to_string();
    bind_attr(
        container,
        "class",
        Box::new(move || {
            Some(if flow.error_for(&a).is_some() {
                format!("{base_class} gbc-field--error")
            } else {
                base_class.to_string()
            })
        }),
    );
    if let Ok(Some(input)) = container.query_selector(&format!("#{id}")) {
        let b = id.to_string();
        bind_attr(
            &input,
            "aria-invalid",
            Box::new(move || flow.error_for(&b).map(|_| "true".into())),
        );
        let c = id.to_string();
        bind_attr(
            &input,
            "aria-describedby",
            Box::new(move || {
                let mut v = Vec::new();
                if hint {
                    v.push(format!("{c}-hint"));
                }
                if flow.error_for(&c).is_some() {
                    v.push(format!("{c}-error"));
                }
                (!v.is_empty()).then(|| v.join(" "))
            }),
        );
    }
}

/// What a [`text_field`] shows.
pub struct Field {
    /// The short name (the element id is made unique per widget).
    pub name: &'static str,
    /// The label.
    pub label: M,
    /// A hint under the label.
    pub hint: Option<M>,
    /// `type`: `text`, `password`, `email`, `tel`.
    pub kind: &'static str,
    /// `autocomplete`.
    pub autocomplete: &'static str,
    /// `inputmode` (empty: none).
    pub inputmode: &'static str,
    /// The initial value.
    pub value: String,
}

/// Component: a labelled text input with optional hint and inline error.
/// Returns the input.
pub fn text_field(flow: Flow, parent: &Element, f: Field) -> Element {
    let id = flow.id(f.name);
    let wrap = el(parent, "div", "gbc-field");
    let label = txt(&wrap, "label", "gbc-label", flow.t(f.label));
    set(&label, "for", &id);
    if let Some(h) = f.hint {
        hint(&wrap, &format!("{id}-hint"), flow.t(h));
    }
    inline_error(flow, &wrap, &id);
    let input = el(&wrap, "input", "gbc-input");
    set(&input, "id", &id);
    set(&input, "name", f.name);
    set(&input, "type", f.kind);
    set(&input, "autocomplete", f.autocomplete);
    set(&input, "spellcheck", "false");
    if !f.inputmode.is_empty() {
        set(&input, "inputmode", f.inputmode);
    }
    if !f.value.is_empty() {
        set(&input, "value", &f.value);
    }
    bind_error_state(flow, &wrap, "gbc-field", &id, f.hint.is_some());
    input
}

/// One radio button or checkbox of a [`fieldset`].
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
    /// Whether it is checked (tracked).
    pub checked: Box<dyn Fn() -> bool>,
    /// Called with the new state when the customer changes it.
    pub on_change: Box<dyn Fn(bool)>,
}

/// Component: a fieldset of radios (`radio`) or checkboxes with a legend,
/// an optional hint and the inline error of its first control.
pub fn fieldset(
    flow: Flow,
    parent: &Element,
    name: &str,
    radio: bool,
    legend: &str,
    hint_text: Option<&str>,
    choices: Vec<Choice>,
) -> Element {
    let fs = el(parent, "fieldset", "gbc-fieldset");
    txt(&fs, "legend", "gbc-legend", legend);
    let hint_id = hint_text.map(|h| {
        let id = flow.id(&format!("{name}-hint"));
        hint(&fs, &id, h);
        id
    });
    let first = choices
        .first()
        .map(|c| flow.id(&c.name))
        .unwrap_or_default();
    // The hint, and the error while there is one.
    let err = first.clone();
    bind_attr(
        &fs,
        "aria-describedby",
        Box::new(move || {
            let mut v: Vec<String> = hint_id.iter().cloned().collect();
            if flow.error_for(&err).is_some() {
                v.push(format!("{err}-error"));
            }
            (!v.is_empty()).then(|| v.join(" "))
        }),
    );
    inline_error(flow, &fs, &first);
    let group = el(&fs, "div", "gbc-choices");
    let group_name = flow.id(name);
    for c in choices {
        let id = flow.id(&c.name);
        let row = el(&group, "div", "gbc-choice");
        let input = el(&row, "input", "gbc-choice__input");
        set(&input, "type", if radio { "radio" } else { "checkbox" });
        set(&input, "id", &id);
        set(&input, "value", &c.value);
        if radio {
            set(&input, "name", &group_name);
        }
        let label = txt(&row, "label", "gbc-choice__label", &c.label);
        set(&label, "for", &id);
        if let Some(h) = &c.hint {
            let hid = format!("{id}-hint");
            let hp = hint(&row, &hid, h);
            hp.set_class_name("gbc-hint gbc-choice__hint");
            set(&input, "aria-describedby", &hid);
        }
        let target = input.clone();
        let checked = c.checked;
        dom::effect(Box::new(move || dom::set_checked(&target, checked())));
        let on_change = c.on_change;
        dom::on(
            &input,
            "change",
            Box::new(move |ev| on_change(dom::target_checked(&ev))),
        );
    }
    if !first.is_empty() {
        let f = first.clone();
        bind_attr(
            &fs,
            "class",
            Box::new(move || {
                Some(if flow.error_for(&f).is_some() {
                    "gbc-fieldset gbc-field--error".into()
                } else {
                    "gbc-fieldset".into()
                })
            }),
        );
    }
    fs
}

/// Component: a row of a summary list (`<dt>` / `<dd>`): one line as
/// text, more as a list.
pub fn row(dl: &Element, key: &str, value: &[String]) -> Element {
    let d = el(dl, "div", "");
    txt(&d, "dt", "", key);
    let dd = el(&d, "dd", "");
    if value.len() == 1 {
        dom::text(&dd, &value[0]);
    } else {
        lines(&dd, value);
    }
    dd
}

/// Component: an external link (http/https only), opening in a new tab and
/// saying so.
pub fn external_link(flow: Flow, parent: &Element, href: &str, text: &str) {
    if !crate::model::is_web_url(href) {
        return;
    }
    let a = txt(parent, "a", "gbc-link", text);
    set(&a, "href", href);
    set(&a, "target", "_blank");
    set(&a, "rel", "noopener noreferrer");
    dom::text(&a, " ");
    txt(&a, "span", "gbc-new-tab", flow.t(M::NewTab));
}

/// Component: the row of buttons at the end of a form.
pub fn actions(parent: &Element) -> Element {
    el(parent, "div", "gbc-actions")
}
