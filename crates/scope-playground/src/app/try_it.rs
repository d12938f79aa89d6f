//! The Try it tab: the real authorization code flow against the demo
//! DataCustodian's sandbox client.

use leptos::prelude::*;

use super::{CALLBACK_PATH, PENDING_KEY, Sandbox, Secrets, load_sandbox, page_state, secrets};
use crate::browser;
use crate::model::PageState;

/// The sandbox (loaded once, as a local resource) and the button that
/// starts the flow.
#[component]
pub(super) fn TryPanel() -> impl IntoView {
    let sandbox = LocalResource::new(load_sandbox);
    view! {
        <h2>"Try it"</h2>
        <p>
            "Runs the real authorization code flow (with PKCE) against this demo DataCustodian, with its demo client and the scope of the Build tab. You sign in as a sample customer, decide, and come back to "
            <code>{CALLBACK_PATH}</code>
            ", which exchanges the code and shows the token response."
        </p>
        {move || match sandbox.get() {
            None => view! { <p>"Looking for the demo sandbox…"</p> }.into_any(),
            Some(Err(why)) => {
                view! {
                    <p class="notice" id="try-unavailable">
                        "Try it is not available here. "
                        {why}
                    </p>
                }
                    .into_any()
            }
            Some(Ok(sb)) => view! { <SandboxStart sandbox=sb/> }.into_any(),
        }}
    }
}

/// The sandbox client's details and the start button.
#[component]
fn SandboxStart(
    /// The demo client.
    sandbox: Sandbox,
) -> impl IntoView {
    let state = page_state();
    let secrets = secrets();
    let sb = sandbox.clone();
    view! {
        <dl class="sandbox">
            <dt>"Client id"</dt>
            <dd>
                <code>{sandbox.client_id}</code>
            </dd>
            <dt>"Redirect URI"</dt>
            <dd>
                <code>{sandbox.redirect_uri}</code>
            </dd>
            <dt>"Authorization endpoint"</dt>
            <dd>
                <code>{sandbox.authorization_endpoint}</code>
            </dd>
            <dt>"Token endpoint"</dt>
            <dd>
                <code>{sandbox.token_endpoint}</code>
            </dd>
            <dt>"Issuer"</dt>
            <dd>
                <code>{sandbox.issuer}</code>
            </dd>
            <dt>"Requested scope"</dt>
            <dd>
                <code id="try-scope">{move || state.with(|s| s.form.scope_string())}</code>
            </dd>
        </dl>
        <button type="button" id="try-start" class="primary" on:click=move |_| start(&sb, state, secrets)>
            "Start the authorization"
        </button>
    }
}

/// Remembers the request for the callback page (this tab's session
/// storage) and goes to the authorization endpoint.
fn start(sb: &Sandbox, state: RwSignal<PageState>, secrets: RwSignal<Secrets>) {
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
        code_challenge_method: Some(espi_scope::pkce::METHOD_S256.into()),
    };
    let pending = serde_json::json!({
        "state": sec.state,
        "verifier": sec.verifier,
        "scope": scope,
        "back": back,
    });
    browser::session_set(PENDING_KEY, &pending.to_string());
    browser::navigate(&req.to_url());
}
