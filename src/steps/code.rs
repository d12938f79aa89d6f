//! The one-time code step: one field (`autocomplete="one-time-code"`,
//! `inputmode="numeric"`, paste works, spaces and dashes tolerated), where
//! the code went (masked), "Send another code" always visible with its
//! cooldown, and a distinct message for a wrong, expired or locked code.

use crate::rt::*;
use espi_scope::describe;
use web_sys::Element;

use crate::api::Challenge;
use crate::app::{Flow, Step};
use crate::dom::{bind_flag, bind_text, button, el, focus, on, set, txt, value};
use crate::i18n::M;
use crate::model::{CodeProblem, normalize_code};
use crate::steps::sign_in::{signed_in, wait_text};
use crate::ui::{Field, actions, heading, text_field};

fn sent_text(flow: Flow, c: &Challenge) -> String {
    let time = describe::seconds(c.expires_in, flow.lang());
    flow.f(M::CodeSentTo, &[("to", &c.sent_to), ("time", &time)])
}

/// Component: the code step.
pub fn code_step(flow: Flow, parent: &Element) {
    let first = flow.challenge().unwrap_or(Challenge {
        challenge_id: String::new(),
        email: false,
        sent_to: String::new(),
        expires_in: 600,
        resend_after: 30,
        proves_mailbox_only: false,
    });
    let busy = RwSignal::new(0u64);
    let locked = RwSignal::new(0u64);
    let wait = RwSignal::new(first.resend_after);
    set_interval(
        Box::new(move || {
            let w = wait.try_get_untracked().unwrap_or(0);
            if w > 0 {
                wait.set(w - 1);
            }
        }),
        1000,
    );
    let lang = flow.lang();

    let d = el(parent, "div", "gbc-step");
    heading(
        flow,
        &d,
        flow.t(if first.email {
            M::CodeTitleEmail
        } else {
            M::CodeTitleSms
        }),
    );
    let sent = txt(&d, "p", "gbc-body", &sent_text(flow, &first));
    if first.proves_mailbox_only {
        txt(&d, "p", "gbc-hint", flow.t(M::CodeEmailNote));
    }
    let form = el(&d, "form", "gbc-form");
    set(&form, "novalidate", "");
    let input = text_field(
        flow,
        &form,
        Field {
            name: "code",
            label: M::FieldCode,
            hint: Some(M::HintCode),
            kind: "text",
            autocomplete: "one-time-code",
            inputmode: "numeric",
            value: String::new(),
        },
    );
    bind_flag(&input, "disabled", Box::new(move || locked.get() != 0));
    let row = actions(&form);
    let submit = button(&row, "gbc-button", flow.t(M::CodeSubmit), true);
    bind_flag(&submit, "hidden", Box::new(move || locked.get() != 0));
    bind_flag(&submit, "disabled", Box::new(move || busy.get() != 0));
    let again = button(&row, "gbc-button", flow.t(M::StartAgain), false);
    bind_flag(&again, "hidden", Box::new(move || locked.get() == 0));
    let start_again = move |_| {
        flow.set_data(|d| d.challenge = None);
        flow.go(Step::SignIn);
    };
    on(&again, "click", Box::new(start_again));

    let resend_box = el(&d, "div", "gbc-resend");
    txt(
        &resend_box,
        "p",
        "gbc-body gbc-resend__question",
        flow.t(M::ResendQuestion),
    );
    let resend = button(
        &resend_box,
        "gbc-button gbc-button--secondary",
        flow.t(M::Resend),
        false,
    );
    bind_flag(
        &resend,
        "disabled",
        Box::new(move || busy.get() != 0 || wait.get() > 0 || locked.get() != 0),
    );
    let wait_p = el(&resend_box, "p", "gbc-hint");
    bind_text(
        &wait_p,
        Box::new(move || {
            let w = wait.get();
            if w > 0 && locked.get() == 0 {
                flow.f(M::ResendWait, &[("time", &describe::seconds(w, lang))])
            } else {
                String::new()
            }
        }),
    );
    let other = button(
        &el(&resend_box, "p", "gbc-body"),
        "gbc-linkbutton",
        flow.t(M::OtherWay),
        false,
    );
    on(&other, "click", Box::new(start_again));

    let field = input.clone();
    on(
        &form,
        "submit",
        Box::new(move |ev| {
            ev.prevent_default();
            if busy.get_untracked() != 0 || locked.get_untracked() != 0 {
                return;
            }
            let normalized = match normalize_code(&value(&field)) {
                Ok(c) => c,
                Err(p) => {
                    let m = match p {
                        CodeProblem::Empty => M::ErrCodeEmpty,
                        CodeProblem::Format => M::ErrCodeFormat,
                    };
                    return flow.error("code", flow.t(m));
                }
            };
            let (Some(api), Some(ch)) = (flow.api(), flow.challenge()) else {
                return;
            };
            busy.set(1);
            spawn_local(async move {
                let err = match api.verify(&ch.challenge_id, &normalized).await {
                    Ok(c) => return signed_in(flow, c),
                    Err(e) => e,
                };
                busy.set(0);
                if flow.stop_on(&err) {
                    return;
                }
                let (field, text) = match err.code.as_str() {
                    "otp_invalid" => (
                        "code",
                        match err.attempts_left {
                            Some(1) => flow.ts(M::ErrOtpInvalidOne),
                            Some(n) => flow.f(M::ErrOtpInvalidMany, &[("n", &n.to_string())]),
                            None => flow.ts(M::ErrOtpInvalid),
                        },
                    ),
                    "otp_expired" | "otp_used" => ("code", flow.ts(M::ErrOtpExpired)),
                    "otp_throttled" => {
                        ("code", wait_text(flow, M::ErrOtpThrottled, err.retry_after))
                    }
                    "otp_locked" | "unknown_challenge" => {
                        locked.set(1);
                        let m = if err.code == "otp_locked" {
                            M::ErrOtpLocked
                        } else {
                            M::ErrUnknownChallenge
                        };
                        ("", flow.ts(m))
                    }
                    _ => return flow.report(&err, "", None),
                };
                flow.report(&err, field, Some(&text));
            });
        }),
    );

    on(
        &resend,
        "click",
        Box::new(move |_| {
            if busy.get_untracked() != 0 || wait.get_untracked() > 0 {
                return;
            }
            let (Some(api), Some(ch)) = (flow.api(), flow.challenge()) else {
                return;
            };
            busy.set(1);
            let (field, sent) = (input.clone(), sent.clone());
            spawn_local(async move {
                let result = api.resend(&ch.challenge_id).await;
                busy.set(0);
                let err = match result {
                    Ok(new) => {
                        let to = new.sent_to.clone();
                        wait.set(new.resend_after);
                        sent.set_text_content(Some(&sent_text(flow, &new)));
                        flow.set_data(|d| d.challenge = Some(new));
                        flow.clear_errors();
                        flow.set_status(flow.f(M::StatusCodeResent, &[("to", &to)]));
                        focus(&field);
                        return;
                    }
                    Err(err) => err,
                };
                if flow.stop_on(&err) {
                    return;
                }
                let text = match err.code.as_str() {
                    "resend_too_soon" | "too_many_codes" => {
                        let soon = err.code == "resend_too_soon";
                        wait.set(err.retry_after.unwrap_or(if soon { 30 } else { 3600 }));
                        let m = if soon {
                            M::ErrResendTooSoon
                        } else {
                            M::ErrTooManyCodes
                        };
                        wait_text(flow, m, err.retry_after)
                    }
                    "unknown_challenge" => {
                        locked.set(1);
                        flow.ts(M::ErrUnknownChallenge)
                    }
                    _ => return flow.report(&err, "", None),
                };
                flow.report(&err, "", Some(&text));
            });
        }),
    );
}
