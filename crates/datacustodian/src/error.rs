//! Error types, one per layer. Each renders its own response shape and never
//! shows internals: storage and I/O failures are logged and answered with a
//! generic message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::store::StoreError;

fn internal(e: &dyn std::fmt::Display) {
    tracing::error!(error = %e, "internal error");
}

// ------------------------------------------------------------ token endpoint

/// RFC 6749 §5.2 errors of the token, revocation and introspection
/// endpoints.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

#[derive(Serialize)]
struct OAuthErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }
    /// `invalid_request` (400).
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    /// `invalid_client` (401 with `WWW-Authenticate: Basic`).
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
    }
    /// `invalid_grant` (400).
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", d)
    }
    /// `unauthorized_client` (400).
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unauthorized_client", d)
    }
    /// `unsupported_grant_type` (400).
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", d)
    }
    /// `invalid_scope` (400).
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_scope", d)
    }
    /// `slow_down`-like throttling of the password grant (429).
    pub fn too_many_attempts(d: impl Into<String>) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "invalid_grant", d)
    }
    /// `temporarily_unavailable` (503 with `Retry-After: 1`): the password
    /// hashes are all taken.
    pub fn temporarily_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server is busy; try again in a moment",
        )
    }
    /// `server_error` (500), details logged only.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request",
        )
    }
    /// The error code.
    pub fn code(&self) -> &'static str {
        self.error
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        internal(&e);
        OAuthError::server_error()
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error,
            error_description: &self.description,
        };
        let mut resp = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"datacustodian\", charset=\"UTF-8\""),
            );
        }
        resp
    }
}

// ------------------------------------------------------- authorize endpoint

/// Errors of `GET /oauth/authorize`: an HTML page when the client or the
/// redirect URI cannot be trusted, otherwise a 303 back to the client.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the user, never redirected.
    Page(StatusCode, String),
    /// A 303 to the client's redirect URI with `error`, `state`, `iss`.
    Redirect(String),
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        internal(&e);
        AuthorizeError::Page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server could not handle this request. Please try again later.".to_string(),
        )
    }
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A minimal HTML page (no script, no inline style: fits the CSP).
pub fn html_page(title: &str, body_html: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title></head><body><main>{}</main></body></html>\n",
        html_escape(title),
        body_html
    )
}

impl IntoResponse for AuthorizeError {
    fn into_response(self) -> Response {
        match self {
            AuthorizeError::Page(status, message) => {
                let body = html_page(
                    "Error: this authorization request cannot be handled",
                    &format!(
                        "<h1>This authorization request cannot be handled</h1><p>{}</p>\
                         <p>Go back to the application that sent you here and try again, or \
                         contact it for help.</p>",
                        html_escape(&message)
                    ),
                );
                (status, Html(body)).into_response()
            }
            AuthorizeError::Redirect(url) => Redirect::to(&url).into_response(),
        }
    }
}

// ------------------------------------------------------------- consent API

/// Errors of the consent and customer APIs (the OpenAPI `Error` shape).
#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    /// Stable code.
    pub error: &'static str,
    /// English, for logs.
    pub message: String,
    /// Seconds to wait (429).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
    /// Wrong codes left (otp_invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<i64>,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            error,
            message: message.into(),
            retry_after: None,
            attempts_left: None,
        }
    }
    /// Adds `retry_after`.
    pub fn retry_after(mut self, seconds: i64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }
    /// Adds `attempts_left`.
    pub fn attempts_left(mut self, n: i64) -> Self {
        self.attempts_left = Some(n.max(0));
        self
    }
    /// 400 `invalid_request`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// 403 `csrf_invalid`.
    pub fn csrf_invalid() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "csrf_invalid",
            "missing or wrong X-CSRF-Token header",
        )
    }
    /// 401 `not_signed_in`.
    pub fn not_signed_in() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in first")
    }
    /// 500 `server_error`.
    pub fn server_error() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the server could not complete the request",
        )
    }
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        internal(&e);
        ApiError::server_error()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry = self.retry_after;
        let mut resp = (status, Json(self)).into_response();
        if let Some(r) = retry
            && let Ok(v) = HeaderValue::from_str(&r.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

// ----------------------------------------------------------- ESPI resources

/// Errors of the Bearer-protected ESPI resources (RFC 6750).
#[derive(Debug)]
pub enum ResourceError {
    /// No usable token: 401 with `WWW-Authenticate: Bearer`.
    InvalidToken(&'static str),
    /// The token does not cover this resource: 403.
    InsufficientScope,
    /// 404.
    NotFound,
    /// 400 with a plain-text description of the problem.
    BadRequest(String),
    /// 500, details logged.
    Internal,
}

impl From<StoreError> for ResourceError {
    fn from(e: StoreError) -> Self {
        internal(&e);
        ResourceError::Internal
    }
}

impl IntoResponse for ResourceError {
    fn into_response(self) -> Response {
        match self {
            ResourceError::InvalidToken(desc) => {
                let mut resp = (StatusCode::UNAUTHORIZED, "invalid_token\n").into_response();
                let v = format!(
                    "Bearer realm=\"datacustodian\", error=\"invalid_token\", error_description=\"{desc}\""
                );
                if let Ok(v) = HeaderValue::from_str(&v) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                resp
            }
            ResourceError::InsufficientScope => {
                let mut resp = (StatusCode::FORBIDDEN, "insufficient_scope\n").into_response();
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        "Bearer realm=\"datacustodian\", error=\"insufficient_scope\"",
                    ),
                );
                resp
            }
            ResourceError::NotFound => (StatusCode::NOT_FOUND, "not found\n").into_response(),
            ResourceError::BadRequest(desc) => {
                (StatusCode::BAD_REQUEST, format!("bad_request: {desc}\n")).into_response()
            }
            ResourceError::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "server error\n").into_response()
            }
        }
    }
}
