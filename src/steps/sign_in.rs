//! Signing in (skipped when the session already is): username and
//! password; account number + ZIP code then a code; a code sent to a phone
//! or an email address; or "Sign in with {utility}" (an OpenID Connect
//! provider of the utility: the browser goes there and comes back signed
//! in). The `auth-*` hint of the request picks the method and prefills its
//! value; `auth-sso-{id}` goes straight to that provider.

use leptos::prelude::*;

use crate::api::{
    ApiError, Customer, ErrorCode, Identify, IdentityProvider, Method, OtpChallenge,
    PasswordOutcome, SsoError,
};
use crate::components::{Choice, Choices, FieldKind, Heading, TextField};
use crate::flow::{Busy, FieldError, Flow, Step, use_flow};
use crate::i18n::M;
use crate::steps::done::DeclineButton;

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
    flow.customer.set(Some(customer));
    flow.challenge.set(None);
    flow.go(if flow.sharing() {
        Step::Sharing
    } else {
        Step::Consent
    });
    if !name.is_empty() {
        flow.status
            .set(flow.f(M::StatusSignedIn, &[("name", &name)]));
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

/// What the sign-in form holds.
#[derive(Clone, Copy)]
struct Form {
    method: RwSignal<Method>,
    email_channel: RwSignal<bool>,
    username: RwSignal<String>,
    password: RwSignal<String>,
    account: RwSignal<String>,
    zip: RwSignal<String>,
    phone: RwSignal<String>,
    email: RwSignal<String>,
}

/// What a submit sends: the chosen method's trimmed values.
#[derive(Clone)]
enum Attempt {
    Password(String, String),
    Code(Method, Identify, bool),
}

impl Form {
    /// The attempt to send, or the errors of the empty fields.
    fn attempt(&self, flow: Flow) -> Result<Attempt, Vec<FieldError>> {
        let v = |s: RwSignal<String>| s.get_untracked().trim().to_string();
        let mut errs = Vec::new();
        let mut need = |name: &str, ok: bool, msg: M| {
            if !ok {
                errs.push(FieldError {
                    id: flow.id(name),
                    text: flow.t(msg),
                });
            }
        };
        let m = self.method.get_untracked();
        let attempt = match m {
            Method::Password => {
                let (u, p) = (v(self.username), self.password.get_untracked());
                need("username", !u.is_empty(), M::ErrUsernameEmpty);
                need("password", !p.is_empty(), M::ErrPasswordEmpty);
                Attempt::Password(u, p)
            }
            Method::AccountOtp => {
                let (a, z) = (v(self.account), v(self.zip));
                need("account", !a.is_empty(), M::ErrAccountEmpty);
                need("zip", !z.is_empty(), M::ErrZipEmpty);
                Attempt::Code(
                    m,
                    Identify::account(a, z),
                    self.email_channel.get_untracked(),
                )
            }
            Method::PhoneOtp => {
                let ph = v(self.phone);
                need("phone", !ph.is_empty(), M::ErrPhoneEmpty);
                Attempt::Code(m, Identify::phone(ph), false)
            }
            Method::EmailOtp => {
                let em = v(self.email);
                need("email", !em.is_empty(), M::ErrEmailEmpty);
                need(
                    "email",
                    em.is_empty() || em.contains('@'),
                    M::ErrEmailInvalid,
                );
                Attempt::Code(m, Identify::email(em), true)
            }
        };
        if errs.is_empty() {
            Ok(attempt)
        } else {
            Err(errs)
        }
    }
}

/// The field an error of `m` belongs to.
fn first_field(m: Method) -> &'static str {
    match m {
        Method::Password => "username",
        Method::AccountOtp => "account",
        Method::PhoneOtp => "phone",
        Method::EmailOtp => "email",
    }
}

/// Sends an attempt; on success moves on, else explains.
async fn send(flow: Flow, attempt: Attempt) {
    let Some(api) = flow.api() else { return };
    let (m, err) = match attempt {
        Attempt::Password(u, p) => match api.sign_in_password(u, p).await {
            Ok(PasswordOutcome::SignedIn(c)) => return signed_in(flow, c),
            // The custodian asks for a second factor: the code step signs in.
            Ok(PasswordOutcome::CodeRequired(ch)) => return code_sent(flow, ch),
            Err(e) => (Method::Password, e),
        },
        Attempt::Code(m, who, email) => match api.start_otp(who, email).await {
            Ok(ch) => return code_sent(flow, ch),
            Err(e) => (m, e),
        },
    };
    explain(flow, m, &err);
}

/// A code went out: on to the code step, saying where.
fn code_sent(flow: Flow, ch: OtpChallenge) {
    let status = crate::steps::code::sent_status(flow, &ch, false);
    flow.challenge.set(Some(ch));
    flow.go(Step::Code);
    flow.status.set(status);
}

fn explain(flow: Flow, m: Method, err: &ApiError) {
    if flow.stop_on(err) {
        return;
    }
    let first = first_field(m);
    let (field, text) = match err.code() {
        Some(ErrorCode::InvalidCredentials) => ("password", flow.t(M::ErrInvalidCredentials)),
        Some(ErrorCode::IdentityNotFound) => (first, flow.t(M::ErrIdentityNotFound)),
        Some(ErrorCode::ChannelUnavailable) => (
            if m == Method::AccountOtp {
                "channel-sms"
            } else {
                first
            },
            flow.t(M::ErrChannelUnavailable),
        ),
        Some(ErrorCode::TooManyAttempts | ErrorCode::RateLimited) => (
            first,
            wait_text(flow, M::ErrTooManyAttempts, err.retry_after()),
        ),
        Some(ErrorCode::ServerBusy) => ("", wait_text(flow, M::ErrBusy, err.retry_after())),
        _ => return flow.report(err, "", None),
    };
    flow.report(err, field, Some(text));
}

/// Asks for a provider sign-in and sends the browser there.
async fn start_sso(flow: Flow, provider: String) {
    let Some(api) = flow.api() else { return };
    match api.start_sso(&provider).await {
        Ok(s) => flow.go_to(&s.redirect_to),
        Err(e) if flow.stop_on(&e) => {}
        Err(e) => {
            let text = match e.code() {
                Some(ErrorCode::ProviderUnavailable) => Some(flow.t(M::ErrSsoFailed)),
                _ => None,
            };
            flow.report(&e, "", text);
        }
    }
}

/// The `sso_error` the server put on the consent page's URL after a
/// provider sign-in that did not succeed.
fn returned_sso_error() -> Option<SsoError> {
    let search = window().location().search().ok()?;
    let value = search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("sso_error="))?;
    SsoError::ALL.into_iter().find(|e| e.as_str() == value)
}

/// The sign-in step.
#[component]
pub fn SignInStep() -> impl IntoView {
    let flow = use_flow();
    let (mut methods, hint, providers, sso) = flow
        .sign_in
        .with_untracked(|s| {
            s.as_ref().map(|s| {
                (
                    s.methods.clone(),
                    s.hint.clone(),
                    s.providers.clone(),
                    s.sso.clone(),
                )
            })
        })
        .unwrap_or_default();
    let sharing = flow.sharing();
    // The provider sends the browser back to the hosted page, which finds
    // the session by its cookie: a widget whose session travels in a
    // header (another origin, or framed) does not offer it.
    let providers = match flow.api().is_some_and(|a| a.header_session()) {
        true => Vec::new(),
        false => providers,
    };
    if methods.is_empty() {
        methods.push(Method::Password);
    }
    let hint = hint.filter(|h| methods.contains(&h.method));
    let prefill = |m: Method| {
        hint.as_ref()
            .filter(|h| h.method == m)
            .and_then(|h| h.value.clone())
            .unwrap_or_default()
    };
    let form = Form {
        method: RwSignal::new(hint.as_ref().map_or(methods[0], |h| h.method)),
        email_channel: RwSignal::new(false),
        username: RwSignal::new(prefill(Method::Password)),
        password: RwSignal::new(String::new()),
        account: RwSignal::new(prefill(Method::AccountOtp)),
        zip: RwSignal::new(String::new()),
        phone: RwSignal::new(prefill(Method::PhoneOtp)),
        email: RwSignal::new(prefill(Method::EmailOtp)),
    };
    let busy = Busy::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.now() {
            return;
        }
        match form.attempt(flow) {
            Ok(a) => {
                flow.errors.set(Vec::new());
                busy.run(send(flow, a));
            }
            Err(errs) => flow.errors.set(errs),
        }
    };
    if !flow.sso_handled.get_value() {
        flow.sso_handled.set_value(true);
        match returned_sso_error() {
            Some(e) => flow.error(
                "",
                flow.t(match e {
                    SsoError::Cancelled => M::ErrSsoCancelled,
                    SsoError::UnknownAccount => M::ErrSsoUnknownAccount,
                    SsoError::Failed => M::ErrSsoFailed,
                }),
            ),
            None => {
                if let Some(id) = sso.filter(|id| providers.iter().any(|p| p.id == *id)) {
                    busy.run(start_sso(flow, id));
                }
            }
        }
    }
    let offered = methods.clone();
    let shows = move |m: Method| offered.contains(&m);
    view! {
        <div class="gbc-step">
            <Heading text=flow.t(if sharing { M::SharingSignInTitle } else { M::SignInTitle }) />
            <p class="gbc-body">{if sharing { flow.t(M::SharingSignInIntro) } else { flow.fc(M::SignInIntro) }}</p>
            <ProviderButtons providers=providers busy=busy />
            <form class="gbc-form" novalidate on:submit=on_submit>
                <MethodChoice methods=methods method=form.method />
                {shows(Method::Password).then(|| view! { <PasswordFields form=form /> })}
                {shows(Method::AccountOtp).then(|| view! { <AccountFields form=form /> })}
                {shows(Method::PhoneOtp)
                    .then(|| {
                        view! {
                            <div hidden=move || form.method.get() != Method::PhoneOtp>
                                <TextField name="phone" label=M::FieldPhone kind=FieldKind { input_type: "tel", autocomplete: "tel", inputmode: "" } value=form.phone />
                            </div>
                        }
                    })}
                {shows(Method::EmailOtp)
                    .then(|| {
                        view! {
                            <div hidden=move || form.method.get() != Method::EmailOtp>
                                <TextField name="email" label=M::FieldEmail kind=FieldKind { input_type: "email", autocomplete: "email", inputmode: "" } value=form.email />
                            </div>
                        }
                    })}
                <div class="gbc-actions">
                    <button type="submit" class="gbc-button" disabled=move || busy.get()>
                        {move || {
                            flow.t(if form.method.get() == Method::Password { M::SignInSubmit } else { M::SendCode })
                        }}
                    </button>
                    // No request to decline on "Your data sharing".
                    {(!sharing).then(|| view! { <DeclineButton label=flow.fc(M::CancelToClient) busy=busy /> })}
                </div>
            </form>
        </div>
    }
}

/// "Sign in with {name}" for each of the utility's own sign-in services.
#[component]
fn ProviderButtons(
    /// The providers offered.
    providers: Vec<IdentityProvider>,
    /// The step's busy flag.
    busy: Busy,
) -> impl IntoView {
    let flow = use_flow();
    (!providers.is_empty()).then(|| {
        let buttons = providers
            .into_iter()
            .map(|p| {
                let label = flow.f(M::SsoSignIn, &[("name", &p.name)]);
                let dom_id = flow.id(&format!("sso-{}", p.id));
                let id = p.id;
                view! {
                    <button
                        type="button"
                        class="gbc-button gbc-button--secondary"
                        id=dom_id
                        disabled=move || busy.get()
                        on:click=move |_| {
                            if !busy.now() {
                                busy.run(start_sso(flow, id.clone()));
                            }
                        }
                    >
                        {label}
                    </button>
                }
            })
            .collect_view();
        view! { <div class="gbc-actions">{buttons}</div> }
    })
}

/// The radios that pick a sign-in method (only when there is a choice).
#[component]
fn MethodChoice(
    /// The methods offered.
    methods: Vec<Method>,
    /// The chosen one.
    method: RwSignal<Method>,
) -> impl IntoView {
    let flow = use_flow();
    (methods.len() > 1).then(|| {
        let choices = methods
            .iter()
            .map(|m| {
                Choice::new(
                    format!("method-{}", m.as_str()),
                    flow.t(method_label(*m)),
                    m.as_str().to_string(),
                )
            })
            .collect();
        let by_name = move |v: &str| Method::ALL.into_iter().find(|m| m.as_str() == v);
        view! {
            <Choices
                name="method"
                radio=true
                legend=flow.t(M::MethodLegend)
                choices=choices
                checked=Callback::new(move |v: String| by_name(&v) == Some(method.get()))
                on_change=Callback::new(move |(v, _): (String, bool)| {
                    flow.errors.set(Vec::new());
                    if let Some(m) = by_name(&v) {
                        method.set(m);
                    }
                })
            />
        }
    })
}

/// Username and password.
#[component]
fn PasswordFields(
    /// The form.
    form: Form,
) -> impl IntoView {
    view! {
        <div hidden=move || form.method.get() != Method::Password>
            <TextField name="username" label=M::FieldUsername kind=FieldKind::text("username") value=form.username />
            <TextField name="password" label=M::FieldPassword kind=FieldKind { input_type: "password", autocomplete: "current-password", inputmode: "" } value=form.password />
        </div>
    }
}

/// Account number, ZIP code and where the code goes.
#[component]
fn AccountFields(
    /// The form.
    form: Form,
) -> impl IntoView {
    let flow = use_flow();
    let choices = vec![
        Choice::new("channel-sms".into(), flow.t(M::ChannelSms), "sms".into()),
        Choice::new(
            "channel-email".into(),
            flow.t(M::ChannelEmail),
            "email".into(),
        ),
    ];
    view! {
        <div hidden=move || form.method.get() != Method::AccountOtp>
            <TextField name="account" label=M::FieldAccount hint=M::HintAccount kind=FieldKind::numeric("off") value=form.account />
            <TextField name="zip" label=M::FieldZip hint=M::HintZip kind=FieldKind::numeric("postal-code") value=form.zip />
            <Choices
                name="channel"
                radio=true
                legend=flow.t(M::ChannelLegend)
                choices=choices
                checked=Callback::new(move |v: String| (v == "email") == form.email_channel.get())
                on_change=Callback::new(move |(v, _): (String, bool)| {
                    flow.errors.set(Vec::new());
                    form.email_channel.set(v == "email");
                })
            />
        </div>
    }
}
