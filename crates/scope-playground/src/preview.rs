//! The Preview tab: the real consent widget (`consent-widget`), mounted with
//! an in-memory transport that answers the consent API from sample customer
//! data. Nothing leaves the page: no request reaches any server.

use std::rc::Rc;

use consent_widget::ConsentWidget;
use consent_widget::api::{HttpRequest, HttpResponse, LocalFuture, Transport};
use espi_scope::describe::Lang;
use espi_scope::{AdditionalScope, EspiScope};
use leptos::prelude::*;
use serde_json::{Value, json};

use crate::model::{PageState, Tab};

/// The sample third party shown in the preview.
pub const SAMPLE_CLIENT_NAME: &str = "Sample Energy App";
/// The sample customer.
pub const SAMPLE_CUSTOMER: &str = "Alex Rivera";

fn sample_meters(scope: &EspiScope) -> Vec<Value> {
    let mut meters = vec![
        json!({"said": "1000234567", "label": "Home", "address": "12 Elm Street, Springfield", "service_kind": "electricity"}),
        json!({"said": "1000234568", "label": "Home (gas)", "address": "12 Elm Street, Springfield", "service_kind": "gas"}),
        json!({"said": "1000987650", "label": "Workshop", "address": "4 Mill Road, Springfield", "service_kind": "electricity"}),
    ];
    for a in &scope.additional_scope {
        if let AdditionalScope::Meter(said) = a
            && !meters.iter().any(|m| m["said"] == said.as_str())
        {
            meters.push(json!({"said": said, "label": format!("Meter {said}"), "address": null, "service_kind": "electricity"}));
        }
    }
    meters
}

/// The consent context (`GET /api/consent/requests/{id}`) for a scope, as
/// the DataCustodian would send it for a signed-in sample customer.
pub fn sample_context(scope: &str, client_id: &str, now: u64) -> Value {
    let parsed = espi_scope::parse(scope);
    let first = parsed.value.scopes.first().cloned().unwrap_or_default();
    let scope_of_use = first.scope_of_use().map(|name| {
        json!({
            "name": name,
            "text": format!("Sample disclosure registered for \"{name}\": the third party says what it does with your data here."),
            "url": null,
        })
    });
    json!({
        "request_id": "preview",
        "csrf_token": "preview",
        "expires_at": now + 1800,
        "now": now,
        "client": {
            "client_id": client_id,
            "name": SAMPLE_CLIENT_NAME,
            "logo_uri": null,
            "client_uri": null,
            "policy_uri": null,
            "tos_uri": null,
        },
        // Canonical, one ESPI scope: what the DataCustodian sends.
        "scope": first.to_string(),
        "scope_of_use": scope_of_use,
        "editable": !first.no_edit(),
        "default_end_date": now + 3 * 365 * 86_400,
        "default_history_length": 2 * 365 * 86_400,
        "embed_origins": [],
        "sign_in": {"methods": ["password", "account_otp", "phone_otp", "email_otp"], "hint": null},
        "customer": {"display_name": SAMPLE_CUSTOMER, "meters": sample_meters(&first)},
    })
}

/// What the in-memory consent API answers: `(status, JSON body)`.
pub fn answer(
    method: &str,
    url: &str,
    body: Option<&str>,
    scope: &str,
    client_id: &str,
    now: u64,
) -> (u16, Value) {
    let path = url.split('?').next().unwrap_or(url);
    let first = espi_scope::parse(scope)
        .value
        .scopes
        .into_iter()
        .next()
        .unwrap_or_default();
    if method == "GET" && path.ends_with("/meters") {
        return (200, json!({"meters": sample_meters(&first)}));
    }
    if method == "GET" && path.contains("/api/consent/requests/") {
        return (200, sample_context(scope, client_id, now));
    }
    if method == "POST" && path.ends_with("/decision") {
        let d: Value = body
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or(Value::Null);
        if d["decision"] == "decline" {
            return (
                200,
                json!({"outcome": "declined", "redirect_to": "about:blank", "receipt": null}),
            );
        }
        let end = d["end_date"]
            .as_u64()
            .or(first.preferred_auth_end_date)
            .unwrap_or(now + 3 * 365 * 86_400);
        let meters: Vec<Value> = match d["meters"].as_array() {
            Some(list) => sample_meters(&first)
                .into_iter()
                .filter(|m| list.contains(&m["said"]))
                .collect(),
            None => sample_meters(&first),
        };
        return (
            200,
            json!({
                "outcome": "authorized",
                "redirect_to": "about:blank",
                "receipt": {
                    "authorization_id": "preview",
                    "third_party": SAMPLE_CLIENT_NAME,
                    "scope": first.to_string(),
                    "meters": meters,
                    "granted_at": now,
                    "end_date": end,
                    "history_length": d["history_length"].as_u64().or(first.history_length),
                    "status": "active",
                }
            }),
        );
    }
    if method == "DELETE" {
        return (204, Value::Null);
    }
    (
        404,
        json!({"error": "not_in_preview", "message": "The preview answers only the consent step."}),
    )
}

fn transport(scope: String, client_id: String) -> Transport {
    Rc::new(move |req: HttpRequest| {
        let now = (js_sys::Date::now() / 1000.0) as u64;
        let (status, body) = answer(
            req.method,
            &req.url,
            req.body.as_deref(),
            &scope,
            &client_id,
            now,
        );
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        Box::pin(async move {
            Some(HttpResponse {
                status,
                body,
                ..HttpResponse::default()
            })
        }) as LocalFuture<_>
    })
}

/// The consent step for the built scope: the real [`ConsentWidget`] in
/// this app's own `view!`, rebuilt whenever the scope, language or theme
/// changes, while the tab is open.
#[component]
pub fn Preview(state: RwSignal<PageState>) -> impl IntoView {
    let widget = move || {
        let (active, scope, client_id, lang, theme) = state.with(|s| {
            (
                s.tab == Tab::Preview,
                s.form.scope_string(),
                s.form.client_id.clone(),
                s.lang,
                s.theme,
            )
        });
        active.then(|| {
            view! {
                <ConsentWidget
                    request_id="preview"
                    locale=match lang {
                        Lang::En => "en",
                        Lang::Es => "es",
                    }
                    theme=theme
                    redirect_delay=0
                    transport=transport(scope, client_id)
                    navigate=Rc::new(|_: &str| {})
                />
            }
        })
    };
    view! {
        <div id="preview" class="preview-frame">
            <div class="gbc-host" role="region" aria-label=move || {
                let lang = state.with(|s| s.lang);
                consent_widget::i18n::I18n::new(lang).t(consent_widget::i18n::M::SiteName).to_string()
            }>{widget}</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_reflects_the_scope() {
        let s = "FB=4_16_51;HistoryLength=63072000;AdditionalScope=noedit_meters-555_sou-audit";
        let c = sample_context(s, "app", 1_000);
        assert_eq!(c["scope"], s);
        assert_eq!(c["editable"], false);
        assert_eq!(c["scope_of_use"]["name"], "audit");
        assert_eq!(c["client"]["client_id"], "app");
        let meters = c["customer"]["meters"].as_array().unwrap();
        assert!(meters.iter().any(|m| m["said"] == "555"));
    }

    #[test]
    fn the_fake_api_answers_the_consent_step_only() {
        let s = "FB=4_16;PreferredAuthEndDate=0";
        assert_eq!(
            answer("GET", "/api/consent/requests/preview", None, s, "a", 5).0,
            200
        );
        assert_eq!(
            answer(
                "GET",
                "/api/consent/requests/preview/meters",
                None,
                s,
                "a",
                5
            )
            .0,
            200
        );
        let (st, body) = answer(
            "POST",
            "/api/consent/requests/preview/decision",
            Some(r#"{"decision":"authorize","meters":["1000234567"]}"#),
            s,
            "a",
            5,
        );
        assert_eq!(st, 200);
        assert_eq!(body["receipt"]["end_date"], 0);
        assert_eq!(body["receipt"]["meters"].as_array().unwrap().len(), 1);
        let (_, body) = answer(
            "POST",
            "/api/consent/requests/preview/decision",
            Some(r#"{"decision":"decline"}"#),
            s,
            "a",
            5,
        );
        assert_eq!(body["outcome"], "declined");
        assert_eq!(
            answer(
                "POST",
                "/api/consent/requests/preview/sign-in/password",
                None,
                s,
                "a",
                5
            )
            .0,
            404
        );
    }
}
