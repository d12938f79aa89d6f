//! The consent API client (`api/consent-api.openapi.yaml`), on the wire
//! types of the `consent-api` crate.
//!
//! Requests go through a [`Transport`]: in the browser [`http_transport`]
//! (`gloo-net`), in the component tests and the playground's preview an
//! in-memory one. Bodies are read with `serde`: an answer that lacks a
//! required field is an [`ApiError::Server`], which the customer sees as
//! "something went wrong".

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

pub use consent_api::{
    AuthorizationList, AuthorizationStatus, Channel, ConsentContext, Customer, CustomerSession,
    Decision, DecisionKind, DecisionResult, ErrorCode, Identify, IdentityProvider, Locale, Meter,
    Method, OtpChallenge, Outcome, Receipt, ScopeOfUse, ServiceKind, SignIn, SsoError, SsoStart,
    ThirdParty,
};
use consent_api::{OtpStart, OtpVerify, PasswordSignIn};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One HTTP request to the consent API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The absolute (or origin-relative) URL.
    pub url: String,
    /// A JSON body.
    pub body: Option<String>,
    /// The `X-CSRF-Token` header.
    pub csrf: Option<String>,
    /// The `X-Consent-Session` header (the consent session when it does not
    /// travel in the cookie; `new` before there is one).
    pub session: Option<String>,
}

/// The answer: the status, the body's text and a new consent session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body (JSON text; empty when there is none).
    pub body: String,
    /// The `X-Consent-Session` response header: the session's new secret
    /// (first read, sign-in).
    pub session: Option<String>,
}

/// The header that carries the consent session when the cookie cannot.
const SESSION_HEADER: &str = "X-Consent-Session";

/// A boxed, non-`Send` future.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// Sends a request; `None` when the network failed (or timed out).
pub type Transport = Rc<dyn Fn(HttpRequest) -> LocalFuture<Option<HttpResponse>>>;

/// How long a request may take before the customer is told the network
/// failed.
const TIMEOUT_MS: u32 = 20_000;

/// The browser transport: `gloo-net` with credentials (the consent session
/// cookie), JSON, and a 20 s timeout.
pub fn http_transport() -> Transport {
    Rc::new(|req| Box::pin(send(req)))
}

async fn send(req: HttpRequest) -> Option<HttpResponse> {
    use gloo_net::http::RequestBuilder;
    let signal = web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS);
    let mut builder = RequestBuilder::new(&req.url)
        .method(match req.method {
            "POST" => gloo_net::http::Method::POST,
            _ => gloo_net::http::Method::GET,
        })
        .credentials(web_sys::RequestCredentials::Include)
        .header("Accept", "application/json")
        .abort_signal(Some(&signal));
    if let Some(csrf) = &req.csrf {
        builder = builder.header("X-CSRF-Token", csrf);
    }
    if let Some(session) = &req.session {
        builder = builder.header(SESSION_HEADER, session);
    }
    let request = match req.body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body)
            .ok()?,
        None => builder.build().ok()?,
    };
    let resp = request.send().await.ok()?;
    let session = resp.headers().get(SESSION_HEADER);
    let body = resp.text().await.ok()?;
    Some(HttpResponse {
        status: resp.status(),
        body,
        session,
    })
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// The network failed or timed out.
    Network,
    /// A 5xx, or an answer the widget cannot read (a missing field).
    Server,
    /// The API refused, with its status and `Error` body.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error body.
        body: consent_api::ApiError,
    },
}

impl ApiError {
    /// The API's error code, when it refused.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Refused { body, .. } => Some(body.error),
            _ => None,
        }
    }

    /// The `code` of the `gb-consent:error` event.
    pub fn event_code(&self) -> &'static str {
        match self {
            ApiError::Network => "network",
            ApiError::Server => "server",
            ApiError::Refused { body, .. } => body.error.as_str(),
        }
    }

    /// The HTTP status (0 when the network failed).
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Network => 0,
            ApiError::Server => 500,
            ApiError::Refused { status, .. } => *status,
        }
    }

    /// `retry_after` seconds.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Refused { body, .. } => body.retry_after,
            _ => None,
        }
    }

    /// `attempts_left` (`otp_invalid`).
    pub fn attempts_left(&self) -> Option<u64> {
        match self {
            ApiError::Refused { body, .. } => body.attempts_left,
            _ => None,
        }
    }
}

/// What a right password leads to.
pub enum PasswordOutcome {
    /// Signed in.
    SignedIn(Customer),
    /// A one-time code went out; its verify signs in.
    CodeRequired(OtpChallenge),
}

/// The consent API of one request.
pub struct Api {
    transport: Transport,
    base: String,
    /// `/api/consent/requests/{id}`, or `/api/customer` ("Your data
    /// sharing": the same sign-in tails, without a request).
    prefix: String,
    csrf: RefCell<String>,
    /// The consent session's secret when it travels in `X-Consent-Session`
    /// (kept in memory only; empty until the first answer); `None` when
    /// the cookie carries it.
    session: Option<RefCell<String>>,
}

/// Whether the consent session must travel in a header: the API is on
/// another origin than this page (`base` is neither empty nor this origin
/// or a path under it), or this page is framed. There the session cookie
/// is a third-party cookie the browser may block; the hosted page at the
/// top level keeps the `HttpOnly` cookie.
fn header_session(base: &str) -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    let framed = match w.top() {
        Ok(Some(top)) => wasm_bindgen::JsValue::from(top) != wasm_bindgen::JsValue::from(&w),
        _ => false,
    };
    let here = w.location().origin().unwrap_or_default();
    let same_origin = base.is_empty()
        || (base.starts_with('/') && !base.starts_with("//"))
        || base
            .strip_prefix(here.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    framed || !same_origin
}

/// Percent-encodes a path segment.
fn segment(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

impl Api {
    /// `base` is the origin (and path prefix) of the API, e.g.
    /// `https://auth.example.com`; empty means the page's origin.
    pub fn new(transport: Transport, base: &str, request_id: &str) -> Api {
        Api {
            transport,
            base: base.trim_end_matches('/').to_string(),
            prefix: format!("/api/consent/requests/{}", segment(request_id)),
            csrf: RefCell::new(String::new()),
            session: header_session(base).then(RefCell::default),
        }
    }

    /// The customer's own API ("Your data sharing"), at `base`.
    pub fn customer(transport: Transport, base: &str) -> Api {
        Api {
            prefix: "/api/customer".into(),
            ..Api::new(transport, base, "")
        }
    }

    /// True when the consent session travels in `X-Consent-Session` (the
    /// API on another origin, or the page framed).
    pub fn header_session(&self) -> bool {
        self.session.is_some()
    }

    /// The transport (also used to load a message bundle).
    pub fn transport(&self) -> Transport {
        self.transport.clone()
    }

    fn url(&self, tail: &str) -> String {
        format!("{}{}{tail}", self.base, self.prefix)
    }

    /// Sends a request (`body`: JSON text): a 2xx answer as it came, or the
    /// refusal. Not generic, so the widget ships it once.
    async fn send(
        &self,
        method: &'static str,
        tail: &str,
        body: Option<String>,
    ) -> Result<HttpResponse, ApiError> {
        let req = HttpRequest {
            method,
            url: self.url(tail),
            body,
            csrf: (method != "GET").then(|| self.csrf.borrow().clone()),
            session: self.session.as_ref().map(|s| match s.borrow().as_str() {
                "" => "new".to_string(),
                secret => secret.to_string(),
            }),
        };
        let resp = (self.transport)(req).await.ok_or(ApiError::Network)?;
        // A new session, or the rotated one after sign-in (the old secret
        // no longer works).
        if let (Some(held), Some(new)) = (&self.session, resp.session.as_ref())
            && !new.is_empty()
        {
            *held.borrow_mut() = new.clone();
        }
        match resp.status {
            200..=299 => Ok(resp),
            // A 503 `server_busy` is a refusal the customer can act on;
            // any other 5xx is the server's fault.
            400..=599 => match from_json::<consent_api::ApiError>(&resp.body) {
                Some(body) if body.error != ErrorCode::ServerError => Err(ApiError::Refused {
                    status: resp.status,
                    body,
                }),
                _ => Err(ApiError::Server),
            },
            _ => Err(ApiError::Server),
        }
    }

    /// Remembers the CSRF token of a context read elsewhere.
    pub fn set_csrf(&self, token: &str) {
        *self.csrf.borrow_mut() = token.to_string();
    }

    /// `GET /api/consent/requests/{id}`; remembers the CSRF token.
    pub async fn context(&self) -> Result<ConsentContext, ApiError> {
        let ctx: ConsentContext = read(&self.send("GET", "", None).await?)?;
        *self.csrf.borrow_mut() = ctx.csrf_token.clone();
        Ok(ctx)
    }

    /// `POST …/sign-in/password`.
    pub async fn sign_in_password(
        &self,
        username: String,
        password: String,
    ) -> Result<PasswordOutcome, ApiError> {
        let body = PasswordSignIn { username, password };
        let resp = self
            .send("POST", "/sign-in/password", to_json(&body))
            .await?;
        // 202: a second factor is required (`CodeRequired`: the status
        // says which outcome it is; its `challenge` is what the code step
        // needs).
        if resp.status == 202 {
            js_sys::JSON::parse(&resp.body)
                .ok()
                .and_then(|b| js_sys::Reflect::get(&b, &"challenge".into()).ok())
                .and_then(|c| serde_wasm_bindgen::from_value(c).ok())
                .map(PasswordOutcome::CodeRequired)
        } else {
            from_json(&resp.body).map(PasswordOutcome::SignedIn)
        }
        .ok_or(ApiError::Server)
    }

    /// `POST …/sign-in/otp`.
    pub async fn start_otp(
        &self,
        identify: Identify,
        email: bool,
    ) -> Result<OtpChallenge, ApiError> {
        let body = OtpStart {
            identify,
            channel: if email { Channel::Email } else { Channel::Sms },
        };
        read(&self.send("POST", "/sign-in/otp", to_json(&body)).await?)
    }

    /// `POST …/sign-in/otp/{challenge}/resend`.
    pub async fn resend(&self, challenge_id: &str) -> Result<OtpChallenge, ApiError> {
        let tail = format!("/sign-in/otp/{}/resend", segment(challenge_id));
        read(&self.send("POST", &tail, None).await?)
    }

    /// `POST …/sign-in/sso/{provider}`: where to send the browser.
    pub async fn start_sso(&self, provider: &str) -> Result<SsoStart, ApiError> {
        let tail = format!("/sign-in/sso/{}", segment(provider));
        read(&self.send("POST", &tail, None).await?)
    }

    /// `POST …/sign-in/otp/{challenge}/verify`.
    pub async fn verify(&self, challenge_id: &str, code: String) -> Result<Customer, ApiError> {
        let tail = format!("/sign-in/otp/{}/verify", segment(challenge_id));
        read(
            &self
                .send("POST", &tail, to_json(&OtpVerify { code }))
                .await?,
        )
    }

    /// `GET /api/customer/session`; remembers the CSRF token.
    pub async fn session(&self) -> Result<CustomerSession, ApiError> {
        let s: CustomerSession = read(&self.send("GET", "/session", None).await?)?;
        *self.csrf.borrow_mut() = s.csrf_token.clone();
        Ok(s)
    }

    /// `GET /api/customer/authorizations`.
    pub async fn authorizations(&self) -> Result<AuthorizationList, ApiError> {
        read(&self.send("GET", "/authorizations", None).await?)
    }

    /// `POST /api/customer/authorizations/{id}/revoke`.
    pub async fn revoke(&self, authorization_id: &str) -> Result<(), ApiError> {
        let tail = format!("/authorizations/{}/revoke", segment(authorization_id));
        read(&self.send("POST", &tail, None).await?)
    }

    /// `POST …/decision`.
    pub async fn decide(&self, d: &Decision) -> Result<DecisionResult, ApiError> {
        read(&self.send("POST", "/decision", to_json(d)).await?)
    }
}

/// Reads a 2xx answer as `T` (`204 No Content` reads as `null`, a `()`).
fn read<T: DeserializeOwned>(resp: &HttpResponse) -> Result<T, ApiError> {
    let text = if resp.body.is_empty() {
        "null"
    } else {
        &resp.body
    };
    from_json(text).ok_or(ApiError::Server)
}

/// Reads JSON text into `T` (the browser's parser, then `serde`); `None`
/// when it is not JSON or lacks a required field.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

/// Writes `value` as JSON text.
pub fn to_json(value: &impl Serialize) -> Option<String> {
    let value = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}

/// Loads a message bundle (JSON) from `url`; no overrides when it fails.
pub async fn load_messages(transport: &Transport, url: &str) -> crate::i18n::Messages {
    let req = HttpRequest {
        method: "GET",
        url: url.to_string(),
        body: None,
        csrf: None,
        session: None,
    };
    match transport(req).await {
        Some(r) if (200..300).contains(&r.status) => crate::i18n::Messages::from_js(&r.body.into()),
        _ => crate::i18n::Messages::default(),
    }
}
