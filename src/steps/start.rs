//! Loading the request, and the pages shown when the flow cannot go on
//! (unknown, expired or decided request, another session, backend
//! unreachable). Never a blank screen.

use leptos::prelude::*;

use crate::components::Heading;
use crate::flow::use_flow;
use crate::i18n::M;

/// While the context loads.
#[component]
pub fn Loading() -> impl IntoView {
    let flow = use_flow();
    view! {
        <div class="gbc-loading">
            <span class="gbc-spinner" aria-hidden="true"></span>
            <p class="gbc-loading__text">{flow.t(M::Loading)}</p>
        </div>
    }
}

/// The page for the flow's failure, with Retry when retrying can help.
#[component]
pub fn FailurePage() -> impl IntoView {
    let flow = use_flow();
    let failure = flow.failure.get_untracked();
    let (title, body) = failure.messages();
    view! {
        <div class="gbc-step gbc-failure" data-failure=failure.code()>
            <Heading text=flow.t(title) />
            <p class="gbc-body">{flow.t(body)}</p>
            <Show when=move || failure.retryable()>
                <button type="button" class="gbc-button" on:click=move |_| flow.load()>
                    {flow.t(M::Retry)}
                </button>
            </Show>
        </div>
    }
}
