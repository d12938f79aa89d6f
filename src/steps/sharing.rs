//! "Your data sharing" (`/consent/sharing`): every active authorization of
//! the signed-in customer (who, what, which meters, until when), each with
//! a button that stops it. Stopping revokes the authorization and every
//! token issued under it.

use leptos::prelude::*;

use crate::api::{AuthorizationStatus, ErrorCode, Receipt};
use crate::components::{Heading, SubHeading};
use crate::flow::{Busy, Flow, Step, use_flow};
use crate::i18n::M;
use crate::steps::done::ReceiptRows;

/// Stops the authorization `stop` names (its id and third party), if any,
/// then reads the list again (`None` until it arrives). One future for
/// both: the widget ships each `async fn` as its own state machine.
async fn refresh(flow: Flow, list: RwSignal<Option<Vec<Receipt>>>, stop: Option<(String, String)>) {
    let Some(api) = flow.api() else { return };
    if let Some((id, _)) = &stop
        && let Err(e) = api.revoke(id).await
    {
        return refused(flow, &e);
    }
    match api.authorizations().await {
        Ok(l) => {
            // The CSRF token of the revokes.
            api.set_csrf(&l.csrf_token);
            list.set(Some(
                l.authorizations
                    .into_iter()
                    .filter(|a| a.status == AuthorizationStatus::Active)
                    .collect(),
            ));
            if let Some((_, client)) = stop {
                flow.errors.set(Vec::new());
                flow.status
                    .set(flow.f(M::SharingStopped, &[("client", &client)]));
                flow.focus(".gbc-h");
            }
        }
        Err(e) => refused(flow, &e),
    }
}

/// An error of the list or a revoke: signed out meanwhile means sign in
/// again; anything else is said in place.
fn refused(flow: Flow, e: &crate::api::ApiError) {
    if flow.stop_on(e) {
        return;
    }
    if e.code() == Some(ErrorCode::NotSignedIn) {
        flow.customer.set(None);
        flow.go(Step::SignIn);
    }
    flow.report(e, "", None);
}

/// The "Your data sharing" step.
#[component]
pub fn SharingStep() -> impl IntoView {
    let flow = use_flow();
    let list = RwSignal::new(None::<Vec<Receipt>>);
    let busy = Busy::new();
    busy.run(refresh(flow, list, None));
    view! {
        <div class="gbc-step">
            <Heading text=flow.t(M::SharingTitle) />
            {move || {
                let v = list.get();
                let intro = match &v {
                    None => M::Working,
                    Some(v) if v.is_empty() => M::SharingNone,
                    Some(_) => M::SharingIntro,
                };
                view! {
                    <p class="gbc-body">{flow.t(intro)}</p>
                    {v.unwrap_or_default().into_iter().map(|r| view! { <SharingEntry receipt=r list=list busy=busy /> }).collect_view()}
                }
            }}
        </div>
    }
}

/// One authorization and its "Stop sharing" button.
#[component]
fn SharingEntry(
    /// The authorization.
    receipt: Receipt,
    /// The list (read again after a stop).
    list: RwSignal<Option<Vec<Receipt>>>,
    /// The step's request in flight.
    busy: Busy,
) -> impl IntoView {
    let flow = use_flow();
    let client = receipt.third_party.clone();
    let id = receipt.authorization_id.clone();
    let label = flow.f(M::SharingStop, &[("client", &client)]);
    view! {
        <section class="gbc-panel">
            <SubHeading text=client.clone() />
            <ReceiptRows receipt=receipt />
            <div class="gbc-actions">
                <button
                    type="button"
                    class="gbc-button gbc-button--secondary"
                    disabled=move || busy.get()
                    on:click=move |_| busy.run(refresh(flow, list, Some((id.clone(), client.clone()))))
                >
                    {label}
                </button>
            </div>
        </section>
    }
}
