//! Step 2: signing in (skipped when the session already is). Username and
//! password; account number + ZIP code then a code; or a code sent to a
//! phone or an email address. The `auth-*` hint of the request picks the
//! method and prefills its value.

use std::rc::Rc;

use crate::rt::*;
use web_sys::Element;

use crate::api::{Customer, Identify, Method};
use crate::app::{FieldError, Flow, Step};
use crate::dom::{bind_flag, bind_text, button, el, on, set, value};
use crate::i18n::M;
use crate::steps::done::decline_button;
use crate::ui::{Choice, Field, actions, fieldset, heading, p, text_field};

/// "Wait 2 minutes"-style errors, from `retry_after` (default 30 s).
pub fn wait_text(flow: Flow, m: M, retry_after: Option<u64>) -> String {
    let mut secs = retry_after.unwrap_or(30).max(1);
    if secs > 60 {
        // Whole minutes read better than "3309 seconds".
        secs = secs.div_ceil(60) * 60;
    }
    let time = espi_scope::describe::seconds(secs, flow.lang());
    flow.f(m, &[("time", &time)])
}

/// After a successful sign-in: remember the customer, go to consent.
pub fn signed_in(flow: Flow, customer: Customer) {
    let name = customer.display_name.clone();
    flow.set_data(|d| {
        d.customer = Some(Rc::new(customer));
        d.challenge = None;
    });
    flow.go(Step::Consent);
    if !name.is_empty() {
        flow.set_status(flow.f(M::StatusSignedIn, &[("name", &name)]));
    }
}

fn method_label(m: Method) -> M {
    match m {
        Method::Password => M::MethodPassword,
        Method::AccountOtp => M::MethodAccount,
        Method::PhoneOtp => M::MethodPhone,
        Method::EmailOtp => M::MethodEmail,
    }
}

/// A radio of a choice kept in a `u64` signal.
pub fn radio(flow: Flow, name: String, label: String, sig: RwSignal<u64>, value: u64) -> Choice {
    Choice {
        name,
        label,
        value: value.to_string(),
        hint: None,
        checked: Box::new(move || sig.get() == value),
        on_change: Box::new(move |_| {
            flow.clear_errors();
            sig.set(value);
        }),
    }
}

fn field(
    name: &'static str,
    label: M,
    hint: Option<M>,
    kind: &'static str,
    autocomplete: &'static str,
    inputmode: &'static str,
    value: String,
) -> Field {
    Field {
        name,
        label,
        hint,
        kind,
        autocomplete,
        inputmode,
        value,
    }
}

/// Component: the sign-in step.
pub fn sign_in(flow: Flow, parent: &Element) {
    let ctx = flow.ctx();
    let mut methods = ctx.as_ref().map(|c| c.methods.clone()).unwrap_or_default();
    if methods.is_empty() {
        methods.push(Method::Password);
    }
    let hint = ctx
        .as_ref()
        .and_then(|c| c.hint.clone())
        .filter(|(m, _)| methods.contains(m));
    let method = RwSignal::new(hint.as_ref().map_or(methods[0], |(m, _)| *m).index());
    let prefill = |m: Method| {
        hint.as_ref()
            .filter(|(h, _)| *h == m)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let channel = RwSignal::new(0u64);
    let busy = RwSignal::new(0u64);

    let d = el(parent, "div", "gbc-step");
    heading(flow, &d, flow.t(M::SignInTitle));
    p(&d, &flow.fc(M::SignInIntro));
    let form = el(&d, "form", "gbc-form");
    set(&form, "novalidate", "");
    if methods.len() > 1 {
        let choices = methods
            .iter()
            .map(|&m| {
                let name = format!("method-{}", m.as_str());
                radio(flow, name, flow.ts(method_label(m)), method, m.index())
            })
            .collect();
        fieldset(
            flow,
            &form,
            "method",
            true,
            flow.t(M::MethodLegend),
            None,
            choices,
        );
    }
    // One group of fields per method offered; only the chosen one shows.
    let group = |m: Method| -> Option<Element> {
        methods.contains(&m).then(|| {
            let g = el(&form, "div", "");
            bind_flag(&g, "hidden", Box::new(move || method.get() != m.index()));
            g
        })
    };
    let mut inputs: [Option<Element>; 6] = Default::default();
    if let Some(g) = group(Method::Password) {
        let v = prefill(Method::Password);
        inputs[0] = Some(text_field(
            flow,
            &g,
            field(
                "username",
                M::FieldUsername,
                None,
                "text",
                "username",
                "",
                v,
            ),
        ));
        let f = field(
            "password",
            M::FieldPassword,
            None,
            "password",
            "current-password",
            "",
            String::new(),
        );
        inputs[1] = Some(text_field(flow, &g, f));
    }
    if let Some(g) = group(Method::AccountOtp) {
        let v = prefill(Method::AccountOtp);
        let f = field(
            "account",
            M::FieldAccount,
            Some(M::HintAccount),
            "text",
            "off",
            "numeric",
            v,
        );
        inputs[2] = Some(text_field(flow, &g, f));
        let f = field(
            "zip",
            M::FieldZip,
            Some(M::HintZip),
            "text",
            "postal-code",
            "numeric",
            String::new(),
        );
        inputs[3] = Some(text_field(flow, &g, f));
        let choices = vec![
            radio(
                flow,
                "channel-sms".into(),
                flow.ts(M::ChannelSms),
                channel,
                0,
            ),
            radio(
                flow,
                "channel-email".into(),
                flow.ts(M::ChannelEmail),
                channel,
                1,
            ),
        ];
        fieldset(
            flow,
            &g,
            "channel",
            true,
            flow.t(M::ChannelLegend),
            None,
            choices,
        );
    }
    if let Some(g) = group(Method::PhoneOtp) {
        let v = prefill(Method::PhoneOtp);
        inputs[4] = Some(text_field(
            flow,
            &g,
            field("phone", M::FieldPhone, None, "tel", "tel", "", v),
        ));
    }
    if let Some(g) = group(Method::EmailOtp) {
        let v = prefill(Method::EmailOtp);
        inputs[5] = Some(text_field(
            flow,
            &g,
            field("email", M::FieldEmail, None, "email", "email", "", v),
        ));
    }

    let row = actions(&form);
    let submit = button(&row, "gbc-button", "", true);
    bind_text(
        &submit,
        Box::new(move || {
            flow.ts(if method.get() == Method::Password.index() {
                M::SignInSubmit
            } else {
                M::SendCode
            })
        }),
    );
    bind_flag(&submit, "disabled", Box::new(move || busy.get() != 0));
    decline_button(flow, &row, &flow.fc(M::CancelToClient), busy);

    on(
        &form,
        "submit",
        Box::new(move |ev| {
            ev.prevent_default();
            if busy.get_untracked() != 0 {
                return;
            }
            let m = Method::from_index(method.get_untracked());
            let v = |i: usize| inputs[i].as_ref().map(value).unwrap_or_default();
            let (u, pw, a, z, ph, em) = (v(0), v(1), v(2), v(3), v(4), v(5));
            let (u, a, z, ph, em) = (
                u.trim().to_string(),
                a.trim().to_string(),
                z.trim().to_string(),
                ph.trim().to_string(),
                em.trim().to_string(),
            );
            let mut errs: Vec<FieldError> = Vec::new();
            let mut need = |name: &str, ok: bool, msg: M| {
                if !ok {
                    errs.push(FieldError {
                        id: flow.id(name),
                        text: flow.ts(msg),
                    });
                }
            };
            let first = match m {
                Method::Password => {
                    need("username", !u.is_empty(), M::ErrUsernameEmpty);
                    need("password", !pw.is_empty(), M::ErrPasswordEmpty);
                    "username"
                }
                Method::AccountOtp => {
                    need("account", !a.is_empty(), M::ErrAccountEmpty);
                    need("zip", !z.is_empty(), M::ErrZipEmpty);
                    "account"
                }
                Method::PhoneOtp => {
                    need("phone", !ph.is_empty(), M::ErrPhoneEmpty);
                    "phone"
                }
                Method::EmailOtp => {
                    need("email", !em.is_empty(), M::ErrEmailEmpty);
                    need(
                        "email",
                        em.is_empty() || em.contains('@'),
                        M::ErrEmailInvalid,
                    );
                    "email"
                }
            };
            if !errs.is_empty() {
                flow.set_errors(errs);
                return;
            }
            let Some(api) = flow.api() else { return };
            busy.set(1);
            flow.clear_errors();
            let by_email = channel.get_untracked() == 1;
            spawn_local(async move {
                let err = if m == Method::Password {
                    match api.sign_in_password(&u, &pw).await {
                        Ok(c) => return signed_in(flow, c),
                        Err(e) => e,
                    }
                } else {
                    let (who, email) = match m {
                        Method::AccountOtp => (Identify::Account(a, z), by_email),
                        Method::PhoneOtp => (Identify::Phone(ph), false),
                        _ => (Identify::Email(em), true),
                    };
                    match api.start_otp(&who, email).await {
                        Ok(ch) => {
                            let to = ch.sent_to.clone();
                            flow.set_data(|d| d.challenge = Some(ch));
                            flow.go(Step::Code);
                            flow.set_status(flow.f(M::StatusCodeSent, &[("to", &to)]));
                            return;
                        }
                        Err(e) => e,
                    }
                };
                busy.set(0);
                if flow.stop_on(&err) {
                    return;
                }
                let (field, text) = match err.code.as_str() {
                    "invalid_credentials" => ("password", flow.ts(M::ErrInvalidCredentials)),
                    "identity_not_found" => (first, flow.ts(M::ErrIdentityNotFound)),
                    "channel_unavailable" => (
                        if m == Method::AccountOtp {
                            "channel-sms"
                        } else {
                            first
                        },
                        flow.ts(M::ErrChannelUnavailable),
                    ),
                    "too_many_attempts" => (
                        first,
                        wait_text(flow, M::ErrTooManyAttempts, err.retry_after),
                    ),
                    _ => return flow.report(&err, "", None),
                };
                flow.report(&err, field, Some(&text));
            });
        }),
    );
}
