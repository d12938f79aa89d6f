//! The consent API client (`api/consent-api.openapi.yaml`).
//!
//! Requests go through a [`Transport`]: in the browser [`fetch_transport`]
//! (a thin `fetch` wrapper), in the component tests a fake that answers
//! from memory. Bodies are read with the browser's JSON parser.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::json;

/// One HTTP request to the consent API.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The absolute (or origin-relative) URL.
    pub url: String,
    /// A JSON body.
    pub body: Option<String>,
    /// The `X-CSRF-Token` header.
    pub csrf: Option<String>,
}

/// The answer: the status and the parsed JSON body (`null` when empty).
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The parsed body.
    pub body: JsValue,
}

/// A boxed, non-`Send` future.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Sends a request; `None` when the network failed (or timed out).
pub type Transport = Rc<dyn Fn(HttpRequest) -> LocalFuture<Option<HttpResponse>>>;

/// The browser transport: `fetch` with credentials (the consent session
/// cookie), JSON, and a 20 s timeout.
pub fn fetch_transport() -> Transport {
    Rc::new(|req| Box::pin(fetch(req)))
}

async fn fetch(req: HttpRequest) -> Option<HttpResponse> {
    let init = web_sys::RequestInit::new();
    init.set_method(req.method);
    init.set_credentials(web_sys::RequestCredentials::Include);
    let headers = web_sys::Headers::new().ok()?;
    headers.set("Accept", "application/json").ok()?;
    if let Some(body) = &req.body {
        headers.set("Content-Type", "application/json").ok()?;
        init.set_body(&JsValue::from_str(body));
    }
    if let Some(csrf) = &req.csrf {
        headers.set("X-CSRF-Token", csrf).ok()?;
    }
    init.set_headers(&headers);
    init.set_signal(Some(&web_sys::AbortSignal::timeout_with_u32(20_000)));
    let window = web_sys::window()?;
    let resp: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&req.url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()?;
    let text = JsFuture::from(resp.text().ok()?)
        .await
        .ok()?
        .as_string()
        .unwrap_or_default();
    let body = if text.is_empty() {
        JsValue::NULL
    } else {
        json::parse(&text)
    };
    Some(HttpResponse {
        status: resp.status(),
        body,
    })
}

/// An API error: a stable code (or `network` / `server`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status; 0 when the network failed.
    pub status: u16,
    /// The `error` code of the body, `network`, or `server` (5xx or an
    /// unreadable answer).
    pub code: String,
    /// `retry_after` seconds (429).
    pub retry_after: Option<u64>,
    /// `attempts_left` (`otp_invalid`).
    pub attempts_left: Option<u64>,
}

impl ApiError {
    fn new(status: u16, code: &str) -> ApiError {
        ApiError {
            status,
            code: code.to_string(),
            retry_after: None,
            attempts_left: None,
        }
    }
}

/// A sign-in method the custodian offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Username and password.
    Password,
    /// Account number + ZIP code, then a one-time code.
    AccountOtp,
    /// A code by SMS to a phone number.
    PhoneOtp,
    /// A code by email.
    EmailOtp,
}

impl Method {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::AccountOtp => "account_otp",
            Method::PhoneOtp => "phone_otp",
            Method::EmailOtp => "email_otp",
        }
    }

    const ALL: [Method; 4] = [
        Method::Password,
        Method::AccountOtp,
        Method::PhoneOtp,
        Method::EmailOtp,
    ];

    /// Reads the API spelling.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// A number for the method (kept in a `u64` signal).
    pub fn index(self) -> u64 {
        self as u64
    }

    /// The method of [`Method::index`].
    pub fn from_index(i: u64) -> Method {
        Method::ALL[(i as usize).min(3)]
    }
}

/// The third party asking for data.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ThirdParty {
    /// OAuth client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Logo URL.
    pub logo_uri: Option<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
}

/// The registered scope-of-use disclosure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeOfUse {
    /// The `sou-{name}`.
    pub name: String,
    /// The disclosure text.
    pub text: String,
    /// A link to the full statement.
    pub url: Option<String>,
}

/// A meter (usage point).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meter {
    /// Service agreement id.
    pub said: String,
    /// Label.
    pub label: String,
    /// Service address.
    pub address: Option<String>,
    /// `electricity`, `gas` or `water`.
    pub service_kind: Option<String>,
}

/// The signed-in customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Customer {
    /// Name to show.
    pub display_name: String,
    /// Their meters.
    pub meters: Vec<Meter>,
}

/// The context of a pending request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentContext {
    /// The request id.
    pub request_id: String,
    /// Sent back as `X-CSRF-Token`.
    pub csrf_token: String,
    /// Unix seconds.
    pub expires_at: u64,
    /// The server clock.
    pub now: u64,
    /// The third party.
    pub client: ThirdParty,
    /// The requested scope (canonical).
    pub scope: String,
    /// The disclosure, if registered.
    pub scope_of_use: Option<ScopeOfUse>,
    /// False under `noedit`.
    pub editable: bool,
    /// End date when the scope has none.
    pub default_end_date: u64,
    /// Origins allowed to frame the page.
    pub embed_origins: Vec<String>,
    /// Sign-in methods, preferred first.
    pub methods: Vec<Method>,
    /// The `auth-*` hint: method and value.
    pub hint: Option<(Method, Option<String>)>,
    /// The customer when already signed in.
    pub customer: Option<Customer>,
}

/// A one-time code challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Id for resend / verify.
    pub challenge_id: String,
    /// True for email, false for SMS.
    pub email: bool,
    /// The masked destination.
    pub sent_to: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before "send another" works.
    pub resend_after: u64,
    /// An emailed code proves the mailbox only.
    pub proves_mailbox_only: bool,
}

/// The authorization receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Id.
    pub authorization_id: String,
    /// Third party name.
    pub third_party: String,
    /// Granted scope, canonical.
    pub scope: String,
    /// Meters granted.
    pub meters: Vec<Meter>,
    /// Unix seconds.
    pub granted_at: u64,
    /// Unix seconds, 0 = until revoked.
    pub end_date: u64,
    /// Seconds of history.
    pub history_length: Option<u64>,
}

/// The result of a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionResult {
    /// True for `authorized`.
    pub authorized: bool,
    /// Where to send the browser.
    pub redirect_to: String,
    /// The receipt (authorized only).
    pub receipt: Option<Receipt>,
}

/// The customer's decision.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Decision {
    /// Authorize (true) or decline.
    pub authorize: bool,
    /// Function blocks kept; `None` = as requested.
    pub function_blocks: Option<Vec<u16>>,
    /// History seconds; `None` = as requested.
    pub history_length: Option<u64>,
    /// End date; `None` = as requested.
    pub end_date: Option<u64>,
    /// SAIDs granted.
    pub meters: Option<Vec<String>>,
}

fn meter(v: &JsValue) -> Meter {
    Meter {
        said: json::string(v, "said"),
        label: json::string(v, "label"),
        address: json::opt_string(v, "address"),
        service_kind: json::opt_string(v, "service_kind"),
    }
}

fn meters(v: &JsValue, k: &str) -> Vec<Meter> {
    json::array(v, k).iter().map(meter).collect()
}

/// Reads a `Customer`.
pub fn customer(v: &JsValue) -> Customer {
    Customer {
        display_name: json::string(v, "display_name"),
        meters: meters(v, "meters"),
    }
}

/// Reads a `ConsentContext`.
pub fn context(v: &JsValue) -> ConsentContext {
    let c = json::get(v, "client");
    let sou = json::get(v, "scope_of_use");
    let sign_in = json::get(v, "sign_in");
    let hint = json::get(&sign_in, "hint");
    let cust = json::get(v, "customer");
    ConsentContext {
        request_id: json::string(v, "request_id"),
        csrf_token: json::string(v, "csrf_token"),
        expires_at: json::uint(v, "expires_at").unwrap_or(0),
        now: json::uint(v, "now").unwrap_or(0),
        client: ThirdParty {
            client_id: json::string(&c, "client_id"),
            name: json::string(&c, "name"),
            logo_uri: json::opt_string(&c, "logo_uri"),
            client_uri: json::opt_string(&c, "client_uri"),
            policy_uri: json::opt_string(&c, "policy_uri"),
            tos_uri: json::opt_string(&c, "tos_uri"),
        },
        scope: json::string(v, "scope"),
        scope_of_use: sou.is_object().then(|| ScopeOfUse {
            name: json::string(&sou, "name"),
            text: json::string(&sou, "text"),
            url: json::opt_string(&sou, "url"),
        }),
        editable: json::get(v, "editable").as_bool().unwrap_or(true),
        default_end_date: json::uint(v, "default_end_date").unwrap_or(0),
        embed_origins: json::strings(v, "embed_origins"),
        methods: json::strings(&sign_in, "methods")
            .iter()
            .filter_map(|m| Method::parse(m))
            .collect(),
        hint: Method::parse(&json::string(&hint, "method"))
            .map(|m| (m, json::opt_string(&hint, "value"))),
        customer: cust.is_object().then(|| customer(&cust)),
    }
}

fn challenge(v: &JsValue) -> Challenge {
    Challenge {
        challenge_id: json::string(v, "challenge_id"),
        email: json::string(v, "channel") == "email",
        sent_to: json::string(v, "sent_to"),
        expires_in: json::uint(v, "expires_in").unwrap_or(600),
        resend_after: json::uint(v, "resend_after").unwrap_or(30),
        proves_mailbox_only: json::boolean(v, "proves_mailbox_only"),
    }
}

fn decision_result(v: &JsValue) -> DecisionResult {
    let r = json::get(v, "receipt");
    DecisionResult {
        authorized: json::string(v, "outcome") == "authorized",
        redirect_to: json::string(v, "redirect_to"),
        receipt: r.is_object().then(|| Receipt {
            authorization_id: json::string(&r, "authorization_id"),
            third_party: json::string(&r, "third_party"),
            scope: json::string(&r, "scope"),
            meters: meters(&r, "meters"),
            granted_at: json::uint(&r, "granted_at").unwrap_or(0),
            end_date: json::uint(&r, "end_date").unwrap_or(0),
            history_length: json::uint(&r, "history_length"),
        }),
    }
}

/// How the customer identifies for a one-time code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identify {
    /// Account number + ZIP code.
    Account(String, String),
    /// Phone number.
    Phone(String),
    /// Email address.
    Email(String),
}

/// The consent API of one request.
pub struct Api {
    transport: Transport,
    base: String,
    request_id: String,
    csrf: RefCell<String>,
}

impl Api {
    /// `base` is the origin (and path prefix) of the API, e.g.
    /// `https://auth.example.com`; empty means the page's origin.
    pub fn new(transport: Transport, base: &str, request_id: &str) -> Api {
        Api {
            transport,
            base: base.trim_end_matches('/').to_string(),
            request_id: request_id.to_string(),
            csrf: RefCell::new(String::new()),
        }
    }

    /// The transport (also used to load a message bundle).
    pub fn transport(&self) -> Transport {
        self.transport.clone()
    }

    fn url(&self, tail: &str) -> String {
        let id: String = js_sys::encode_uri_component(&self.request_id).into();
        format!("{}/api/consent/requests/{id}{tail}", self.base)
    }

    async fn call(
        &self,
        method: &'static str,
        tail: &str,
        body: Option<JsValue>,
    ) -> Result<JsValue, ApiError> {
        let csrf = (method != "GET").then(|| self.csrf.borrow().clone());
        let req = HttpRequest {
            method,
            url: self.url(tail),
            body: body.map(|b| json::stringify(&b)),
            csrf,
        };
        let Some(resp) = (self.transport)(req).await else {
            return Err(ApiError::new(0, "network"));
        };
        if (200..300).contains(&resp.status) {
            return Ok(resp.body);
        }
        let code = json::opt_string(&resp.body, "error");
        let mut e = ApiError::new(
            resp.status,
            match &code {
                Some(c) if resp.status < 500 => c,
                _ => "server",
            },
        );
        e.retry_after = json::uint(&resp.body, "retry_after");
        e.attempts_left = json::uint(&resp.body, "attempts_left");
        Err(e)
    }

    /// `GET /api/consent/requests/{id}`; remembers the CSRF token.
    pub async fn context(&self) -> Result<ConsentContext, ApiError> {
        let v = self.call("GET", "", None).await?;
        let ctx = context(&v);
        *self.csrf.borrow_mut() = ctx.csrf_token.clone();
        Ok(ctx)
    }

    /// `POST …/sign-in/password`.
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Customer, ApiError> {
        let body = json::object(&[("username", username.into()), ("password", password.into())]);
        let v = self.call("POST", "/sign-in/password", Some(body)).await?;
        Ok(customer(&v))
    }

    /// `POST …/sign-in/otp`.
    pub async fn start_otp(&self, who: &Identify, email: bool) -> Result<Challenge, ApiError> {
        let identify = match who {
            Identify::Account(a, z) => {
                json::object(&[("account_number", a.into()), ("zip", z.into())])
            }
            Identify::Phone(p) => json::object(&[("phone", p.into())]),
            Identify::Email(e) => json::object(&[("email", e.into())]),
        };
        let body = json::object(&[
            ("identify", identify),
            ("channel", if email { "email" } else { "sms" }.into()),
        ]);
        let v = self.call("POST", "/sign-in/otp", Some(body)).await?;
        Ok(challenge(&v))
    }

    /// `POST …/sign-in/otp/{challenge}/resend`.
    pub async fn resend(&self, challenge_id: &str) -> Result<Challenge, ApiError> {
        let id: String = js_sys::encode_uri_component(challenge_id).into();
        let v = self
            .call("POST", &format!("/sign-in/otp/{id}/resend"), None)
            .await?;
        Ok(challenge(&v))
    }

    /// `POST …/sign-in/otp/{challenge}/verify`.
    pub async fn verify(&self, challenge_id: &str, code: &str) -> Result<Customer, ApiError> {
        let id: String = js_sys::encode_uri_component(challenge_id).into();
        let body = json::object(&[("code", code.into())]);
        let v = self
            .call("POST", &format!("/sign-in/otp/{id}/verify"), Some(body))
            .await?;
        Ok(customer(&v))
    }

    /// `POST …/decision`.
    pub async fn decide(&self, d: &Decision) -> Result<DecisionResult, ApiError> {
        let body = json::object(&[(
            "decision",
            if d.authorize { "authorize" } else { "decline" }.into(),
        )]);
        if let Some(f) = &d.function_blocks {
            json::set(&body, "function_blocks", &json::number_array(f));
        }
        if let Some(h) = d.history_length {
            json::set(&body, "history_length", &JsValue::from_f64(h as f64));
        }
        if let Some(e) = d.end_date {
            json::set(&body, "end_date", &JsValue::from_f64(e as f64));
        }
        if let Some(m) = &d.meters {
            json::set(&body, "meters", &json::string_array(m));
        }
        let v = self.call("POST", "/decision", Some(body)).await?;
        Ok(decision_result(&v))
    }
}

/// Loads a message bundle (JSON) from `url`; `null` when it fails.
pub async fn load_json(transport: &Transport, url: &str) -> JsValue {
    let req = HttpRequest {
        method: "GET",
        url: url.to_string(),
        body: None,
        csrf: None,
    };
    match transport(req).await {
        Some(r) if (200..300).contains(&r.status) => r.body,
        _ => JsValue::NULL,
    }
}
