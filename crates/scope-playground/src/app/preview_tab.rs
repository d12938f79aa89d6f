//! The Preview tab: the real consent widget on sample data.

use espi_scope::describe::Lang;
use leptos::prelude::*;

use super::page_state;

/// The consent step for the Build tab's scope, in a chosen language.
#[component]
pub(super) fn PreviewPanel() -> impl IntoView {
    let state = page_state();
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
