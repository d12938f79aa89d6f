//! The one-time code step: one field (`autocomplete="one-time-code"`,
//! `inputmode="numeric"`, paste works, spaces and dashes tolerated), where
//! the code went (masked), "Send another code" always visible with its
//! cooldown, and a distinct message for a wrong, expired or locked code.

use std::time::Duration;

use espi_scope::describe;
use leptos::prelude::*;

use crate::api::{ApiError, Channel, ErrorCode, OtpChallenge};
use crate::components::{FieldKind, Heading, TextField};
use crate::flow::{Busy, Flow, Step, use_flow};
use crate::i18n::M;
use crate::model::{CodeProblem, normalize_code};
use crate::steps::sign_in::{signed_in, wait_text};

/// The state of the code step.
#[derive(Clone, Copy)]
struct CodeState {
    code: RwSignal<String>,
    /// The challenge is gone: only "Start again" helps.
    locked: RwSignal<bool>,
    /// Seconds before "Send another code" works.
    wait: RwSignal<u64>,
}

async fn verify(flow: Flow, s: CodeState, code: String) {
    let (Some(api), Some(ch)) = (flow.api(), flow.challenge.get_untracked()) else {
        return;
    };
    let err = match api.verify(&ch.challenge_id, code).await {
        Ok(c) => return signed_in(flow, c),
        Err(e) => e,
    };
    if flow.stop_on(&err) {
        return;
    }
    let (field, text) = match err.code() {
        Some(ErrorCode::OtpInvalid) => (
            "code",
            match err.attempts_left() {
                Some(1) => flow.t(M::ErrOtpInvalidOne),
                Some(n) => flow.f(M::ErrOtpInvalidMany, &[("n", &n.to_string())]),
                None => flow.t(M::ErrOtpInvalid),
            },
        ),
        Some(ErrorCode::OtpExpired | ErrorCode::OtpUsed) => ("code", flow.t(M::ErrOtpExpired)),
        Some(ErrorCode::OtpThrottled | ErrorCode::RateLimited) => (
            "code",
            wait_text(flow, M::ErrOtpThrottled, err.retry_after()),
        ),
        Some(ErrorCode::OtpLocked) => {
            s.locked.set(true);
            ("", flow.t(M::ErrOtpLocked))
        }
        Some(ErrorCode::UnknownChallenge) => {
            s.locked.set(true);
            ("", flow.t(M::ErrUnknownChallenge))
        }
        _ => return flow.report(&err, "", None),
    };
    flow.report(&err, field, Some(text));
}

async fn resend(flow: Flow, s: CodeState) {
    let (Some(api), Some(ch)) = (flow.api(), flow.challenge.get_untracked()) else {
        return;
    };
    let err: ApiError = match api.resend(&ch.challenge_id).await {
        Ok(new) => {
            let status = sent_status(flow, &new, true);
            s.wait.set(new.resend_after);
            flow.challenge.set(Some(new));
            flow.errors.set(Vec::new());
            flow.status.set(status);
            flow.focus("input[name=code]");
            return;
        }
        Err(err) => err,
    };
    if flow.stop_on(&err) {
        return;
    }
    let text = match err.code() {
        Some(
            code @ (ErrorCode::ResendTooSoon | ErrorCode::TooManyCodes | ErrorCode::RateLimited),
        ) => {
            let soon = code == ErrorCode::ResendTooSoon;
            s.wait
                .set(err.retry_after().unwrap_or(if soon { 30 } else { 3600 }));
            let m = if soon {
                M::ErrResendTooSoon
            } else {
                M::ErrTooManyCodes
            };
            wait_text(flow, m, err.retry_after())
        }
        Some(ErrorCode::UnknownChallenge) => {
            s.locked.set(true);
            flow.t(M::ErrUnknownChallenge)
        }
        _ => return flow.report(&err, "", None),
    };
    flow.report(&err, "", Some(text));
}

/// The status line for a code sent (`again`: a resend): where it went, or
/// "if these details match an account" when the server names no contact.
pub fn sent_status(flow: Flow, c: &OtpChallenge, again: bool) -> String {
    match (c.sent_to.is_empty(), again) {
        (true, false) => flow.t(M::StatusCodeSentOnFile),
        (true, true) => flow.t(M::StatusCodeResentOnFile),
        (false, false) => flow.f(M::StatusCodeSent, &[("to", &c.sent_to)]),
        (false, true) => flow.f(M::StatusCodeResent, &[("to", &c.sent_to)]),
    }
}

/// Where the code went: the masked contact the customer typed, or (when
/// they identified by account, and the server says nothing about whether
/// it matched) "the phone / email on file".
fn sent_text(flow: Flow, c: &OtpChallenge) -> String {
    let time = describe::seconds(c.expires_in, flow.lang());
    match (c.sent_to.is_empty(), c.channel) {
        (false, _) => flow.f(M::CodeSentTo, &[("to", &c.sent_to), ("time", &time)]),
        (true, Channel::Sms) => flow.f(M::CodeSentOnFileSms, &[("time", &time)]),
        (true, Channel::Email) => flow.f(M::CodeSentOnFileEmail, &[("time", &time)]),
    }
}

/// The code step.
#[component]
pub fn CodeStep() -> impl IntoView {
    let flow = use_flow();
    let first = flow.challenge.get_untracked();
    let email = first.as_ref().is_some_and(|c| c.channel == Channel::Email);
    let mailbox_only = first.as_ref().is_some_and(|c| c.proves_mailbox_only);
    let s = CodeState {
        code: RwSignal::new(String::new()),
        locked: RwSignal::new(false),
        wait: RwSignal::new(first.as_ref().map_or(30, |c| c.resend_after)),
    };
    // The resend cooldown ticks down once a second while the step shows.
    if let Ok(h) = set_interval_with_handle(
        move || {
            let w = s.wait.try_get_untracked().unwrap_or(0);
            if w > 0 {
                s.wait.set(w - 1);
            }
        },
        Duration::from_secs(1),
    ) {
        on_cleanup(move || h.clear());
    }
    let busy = Busy::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.now() || s.locked.get_untracked() {
            return;
        }
        match normalize_code(&s.code.get_untracked()) {
            Ok(code) => busy.run(verify(flow, s, code)),
            Err(p) => flow.error(
                "code",
                flow.t(match p {
                    CodeProblem::Empty => M::ErrCodeEmpty,
                    CodeProblem::Format => M::ErrCodeFormat,
                }),
            ),
        }
    };
    let back = move || {
        flow.challenge.set(None);
        flow.go(Step::SignIn);
    };
    let title = if email {
        M::CodeTitleEmail
    } else {
        M::CodeTitleSms
    };
    view! {
        <div class="gbc-step">
            <Heading text=flow.t(title) />
            <p class="gbc-body">
                {move || flow.challenge.with(|c| c.as_ref().map(|c| sent_text(flow, c)))}
            </p>
            {mailbox_only.then(|| view! { <p class="gbc-hint">{flow.t(M::CodeEmailNote)}</p> })}
            <form class="gbc-form" novalidate on:submit=on_submit>
                <TextField name="code" label=M::FieldCode hint=M::HintCode kind=FieldKind::numeric("one-time-code") value=s.code disabled=s.locked />
                <div class="gbc-actions">
                    <button type="submit" class="gbc-button" hidden=s.locked disabled=move || busy.get()>
                        {flow.t(M::CodeSubmit)}
                    </button>
                    <button type="button" class="gbc-button" hidden=move || !s.locked.get() on:click=move |_| back()>
                        {flow.t(M::StartAgain)}
                    </button>
                </div>
            </form>
            <Resend state=s busy=busy start_again=Callback::new(move |()| back()) />
        </div>
    }
}

/// "Didn't get a code? Send another code", always visible, with its
/// cooldown in words, and the way back to another sign-in method.
#[component]
fn Resend(
    /// The step's state.
    state: CodeState,
    /// The step's request in flight (a code being checked or sent).
    busy: Busy,
    /// Back to sign-in.
    start_again: Callback<()>,
) -> impl IntoView {
    let flow = use_flow();
    let s = state;
    let disabled = move || busy.get() || s.wait.get() > 0 || s.locked.get();
    let lang = flow.lang();
    let wait_text = move || {
        let w = s.wait.get();
        if w > 0 && !s.locked.get() {
            flow.f(M::ResendWait, &[("time", &describe::seconds(w, lang))])
        } else {
            String::new()
        }
    };
    view! {
        <div class="gbc-resend">
            <p class="gbc-body gbc-resend__question">{flow.t(M::ResendQuestion)}</p>
            <button
                type="button"
                class="gbc-button gbc-button--secondary"
                disabled=disabled
                on:click=move |_| {
                    if !disabled() {
                        busy.run(resend(flow, s));
                    }
                }
            >
                {flow.t(M::Resend)}
            </button>
            <p class="gbc-hint">{wait_text}</p>
            <p class="gbc-body">
                <button type="button" class="gbc-linkbutton" on:click=move |_| start_again.run(())>
                    {flow.t(M::OtherWay)}
                </button>
            </p>
        </div>
    }
}
