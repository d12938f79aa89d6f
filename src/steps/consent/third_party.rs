//! Who asks, and what they say they will use the data for.

use leptos::prelude::*;

use crate::api::ThirdParty;
use crate::components::{ExternalLink, SubHeading};
use crate::flow::use_flow;
use crate::i18n::M;
use crate::model::is_web_url;

/// The third party: logo, name and links.
#[component]
pub fn ThirdPartyCard(
    /// The third party.
    client: ThirdParty,
) -> impl IntoView {
    let flow = use_flow();
    let logo = client.logo_uri.filter(|u| is_web_url(u)).map(|src| {
        view! {
            <img
                class="gbc-client__logo"
                src=src
                alt=flow.fc(M::ClientLogo)
                width="48"
                height="48"
                referrerpolicy="no-referrer"
            />
        }
    });
    let links = [
        (client.client_uri, flow.fc(M::LinkWebsite)),
        (client.policy_uri, flow.t(M::LinkPolicy)),
        (client.tos_uri, flow.t(M::LinkTos)),
    ]
    .into_iter()
    .filter_map(|(u, text)| u.filter(|u| is_web_url(u)).map(|u| (u, text)))
    .map(|(href, text)| view! { <li><ExternalLink href=href text=text /></li> })
    .collect_view();
    view! {
        <div class="gbc-client">
            {logo}
            <div class="gbc-client__text">
                <p class="gbc-client__name">{client.name}</p>
                <ul class="gbc-links">{links}</ul>
            </div>
        </div>
    }
}

/// The scope of use: the registered disclosure, or a plain statement that
/// there is none.
#[component]
pub fn ScopeOfUsePanel(
    /// The disclosure, if registered.
    scope_of_use: Option<crate::api::ScopeOfUse>,
) -> impl IntoView {
    let flow = use_flow();
    let class = if scope_of_use.is_some() {
        "gbc-panel"
    } else {
        "gbc-panel gbc-panel--warning"
    };
    let body = match scope_of_use {
        Some(s) => view! {
            <p class="gbc-body">{s.text}</p>
            {s.url.map(|u| view! {
                <p class="gbc-body"><ExternalLink href=u text=flow.fc(M::SouMore) /></p>
            })}
        }
        .into_any(),
        None => view! { <p class="gbc-body">{flow.fc(M::SouNone)}</p> }.into_any(),
    };
    view! {
        <div class=class>
            <SubHeading text=flow.fc(M::SouHeading) />
            {body}
        </div>
    }
}
