//! The utility's own sign-in: upstream OpenID Connect providers.
//!
//! The flow, for a request bound to a consent session:
//!
//! 1. `POST /api/consent/requests/{id}/sign-in/sso/{provider}` (the
//!    session's CSRF token, like every consent `POST`) stores a sign-in row
//!    keyed by the hash of a fresh `state`, with a `nonce` and a PKCE S256
//!    verifier, and answers the provider's authorization URL
//!    ([`consent_api::SsoStart`]); the widget sends the top window there.
//! 2. The provider sends the browser to `GET /consent/sso/callback`. The
//!    session cookie is `SameSite=Strict`, so a navigation from the
//!    provider's site does not carry it: the callback only answers a page
//!    that moves on, from this site, to `GET /consent/sso/finish` with the
//!    same query, which the cookie does come with.
//! 3. The finish takes the row (single use: a replayed `state` finds
//!    nothing), checks it is fresh and that this browser's session is the
//!    one that started it, exchanges the code with the verifier, validates
//!    the ID token (issuer, audience, signature against the provider's JWKS,
//!    expiry, `nonce`) with the `openidconnect` crate, matches the
//!    configured claim to one customer, signs the session in (rotating its
//!    cookie, as a password does) and sends the browser back to the consent
//!    page. A cancel, an unknown account or a failed check come back as
//!    `?sso_error=` ([`consent_api::SsoError`]); a `state` that matches
//!    nothing gets an error page.
//!
//! Discovery (`.well-known/openid-configuration`, with the JWKS) is read on
//! first use and kept 10 minutes.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine as _;
use consent_api::{SsoError, SsoStart};
use openidconnect::core::{CoreClient, CoreIdToken, CoreProviderMetadata, CoreResponseType};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope,
};
use serde::Deserialize;

use crate::AppState;
use crate::consent::extract::Pending;
use crate::consent::sign_in::count_request_attempt;
use crate::consent::{Carrier, NewSecret, current_session, sign_in_session};
use crate::error::{ApiError, html_escape, html_page};
use crate::metrics::Outcome;
use crate::security::secrets::{Purpose, new_secret};
use crate::store::{Customer, OidcLogin};

/// How long a sign-in sent to a provider may take to come back.
pub const LOGIN_LIFETIME: i64 = 600;
/// How long a provider's discovery document (and JWKS) is kept.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);

/// Which customer field the configured claim is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccountField {
    /// The utility account number.
    AccountNumber,
    /// The login name.
    Username,
    /// The email address (only when the provider says `email_verified`).
    Email,
    /// The customer id itself.
    CustomerId,
}

impl std::str::FromStr for AccountField {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "account-number" => Ok(AccountField::AccountNumber),
            "username" => Ok(AccountField::Username),
            "email" => Ok(AccountField::Email),
            "customer-id" => Ok(AccountField::CustomerId),
            other => Err(format!(
                "match {other:?} is not account-number, username, email or customer-id"
            )),
        }
    }
}

/// A client secret, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// One upstream OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The id in URLs and in `auth-sso-{id}` (letters, digits, `-`).
    pub id: String,
    /// The name the widget shows ("Sign in with {name}").
    pub name: String,
    /// The issuer URL (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// Our client id there.
    pub client_id: String,
    /// Our client secret there.
    pub client_secret: Secret,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// The ID token claim that names the customer's account (`sub`, or a
    /// custom claim such as `account_number`).
    pub claim: String,
    /// The customer field the claim is compared with.
    pub matches: AccountField,
}

impl ProviderConfig {
    /// A provider with the defaults: named by its id, scope `openid`, the
    /// `sub` claim matched against the account number.
    pub fn new(id: &str, issuer: &str, client_id: &str, client_secret: &str) -> Self {
        ProviderConfig {
            id: id.to_string(),
            name: id.to_string(),
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: Secret(client_secret.to_string()),
            scopes: Vec::new(),
            claim: "sub".to_string(),
            matches: AccountField::AccountNumber,
        }
    }

    /// Reads `ID=ISSUER_URL[,key=value…]` (the `--oidc-provider` flag): keys
    /// `client-id`, `client-secret-file`, `name`, `scopes` (space
    /// separated), `claim`, `match`.
    pub fn parse(spec: &str) -> Result<ProviderConfig, String> {
        let mut parts = spec.split(',');
        let head = parts.next().unwrap_or_default();
        let (id, issuer) = head
            .split_once('=')
            .ok_or_else(|| format!("{spec:?} does not start with ID=ISSUER_URL"))?;
        let mut p = ProviderConfig::new(id.trim(), issuer.trim(), "", "");
        for kv in parts {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("{kv:?} is not key=value"))?;
            let v = v.trim();
            match k.trim() {
                "client-id" => p.client_id = v.to_string(),
                "client-secret-file" => {
                    let s = std::fs::read_to_string(v)
                        .map_err(|e| format!("client-secret-file {v}: {e}"))?;
                    p.client_secret = Secret(s.trim().to_string());
                }
                "name" => p.name = v.to_string(),
                "scopes" => p.scopes = v.split_whitespace().map(str::to_string).collect(),
                "claim" => p.claim = v.to_string(),
                "match" => p.matches = v.parse()?,
                other => {
                    return Err(format!(
                        "unknown key {other:?} (client-id, client-secret-file, name, scopes, \
                         claim, match)"
                    ));
                }
            }
        }
        p.check()?;
        Ok(p)
    }

    /// Checks the settings: an id fit for URLs, an http(s) issuer, a client
    /// id and secret, a claim.
    pub fn check(&self) -> Result<(), String> {
        let id = &self.id;
        if id.is_empty()
            || id.len() > 32
            || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            // `_` separates the items of `AdditionalScope` (`auth-sso-{id}`).
            return Err(format!(
                "provider id {id:?} must be 1-32 letters, digits or -"
            ));
        }
        match url::Url::parse(&self.issuer) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(format!(
                    "{id}: issuer {:?} is not an http(s) URL",
                    self.issuer
                ));
            }
        }
        if self.client_id.is_empty() {
            return Err(format!("{id}: client-id is missing"));
        }
        if self.client_secret.0.is_empty() {
            return Err(format!(
                "{id}: the client secret is missing (client-secret-file)"
            ));
        }
        if self.claim.is_empty() {
            return Err(format!("{id}: claim is empty"));
        }
        Ok(())
    }
}

/// The providers' discovery documents, read on first use.
#[derive(Debug, Default)]
pub struct Discovery {
    cache: tokio::sync::Mutex<HashMap<String, (Instant, CoreProviderMetadata)>>,
}

/// The HTTP client for the providers: no redirects (a token request must not
/// be sent on elsewhere), bounded time.
fn http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())
}

impl Discovery {
    async fn metadata(&self, p: &ProviderConfig) -> Result<CoreProviderMetadata, String> {
        let mut cache = self.cache.lock().await;
        if let Some((at, m)) = cache.get(&p.id)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(p.issuer.clone()).map_err(|e| e.to_string())?;
        let m = CoreProviderMetadata::discover_async(issuer, &http_client()?)
            .await
            .map_err(|e| format!("discovery of {}: {e}", p.issuer))?;
        cache.insert(p.id.clone(), (Instant::now(), m.clone()));
        Ok(m)
    }

    /// Forgets a provider's document (its keys may have rotated).
    async fn forget(&self, id: &str) {
        self.cache.lock().await.remove(id);
    }
}

fn provider<'a>(state: &'a AppState, id: &str) -> Option<&'a ProviderConfig> {
    state.config().oidc_providers.iter().find(|p| p.id == id)
}

/// Our redirect URI at every provider.
pub fn redirect_uri(state: &AppState) -> String {
    state.url("/consent/sso/callback")
}

/// A client of a discovered provider (authorization and token endpoints
/// known).
type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

fn client(
    redirect_uri: String,
    p: &ProviderConfig,
    m: CoreProviderMetadata,
) -> Result<OidcClient, String> {
    Ok(CoreClient::from_provider_metadata(
        m,
        ClientId::new(p.client_id.clone()),
        Some(ClientSecret::new(p.client_secret.0.clone())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect_uri).map_err(|e| e.to_string())?))
}

/// The claims of an ID token that checks out: signed by one of the
/// provider's keys (RS256), issued by it, for us (`aud`), not expired, with
/// our `nonce`. The claims are read from the same token's payload, custom
/// ones included.
fn checked_claims(
    c: &OidcClient,
    token: &CoreIdToken,
    nonce: &Nonce,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    token
        .claims(&c.id_token_verifier(), nonce)
        .map_err(|e| e.to_string())?;
    payload(&token.to_string()).ok_or_else(|| "the ID token's payload is not JSON".to_string())
}

fn unknown_provider() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "unknown_provider",
        "no such sign-in provider",
    )
}

/// `POST /api/consent/requests/{request_id}/sign-in/sso/{provider}`.
pub async fn start(
    State(state): State<AppState>,
    Path((request_id, provider_id)): Path<(String, String)>,
    Pending { bound, now }: Pending,
) -> Result<Json<SsoStart>, ApiError> {
    let p = provider(&state, &provider_id).ok_or_else(unknown_provider)?;
    count_request_attempt(&state, &bound).await?;
    let m = state.discovery().metadata(p).await.map_err(|e| {
        tracing::error!(provider = %p.id, error = %e, "OpenID Connect discovery failed");
        state.metrics().record_sign_in("sso", Outcome::Error);
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "provider_unavailable",
            "the sign-in service cannot be reached; try again later or sign in another way",
        )
    })?;
    let c = client(redirect_uri(&state), p, m).map_err(|e| {
        tracing::error!(provider = %p.id, error = %e, "OpenID Connect client");
        ApiError::server_error()
    })?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = c
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            || CsrfToken::new(new_secret()),
            || Nonce::new(new_secret()),
        )
        .set_pkce_challenge(challenge);
    for s in &p.scopes {
        req = req.add_scope(Scope::new(s.clone()));
    }
    let (url, csrf, nonce) = req.url();
    state
        .store()
        .create_oidc_login(&OidcLogin {
            state_hash: state.key().hash(Purpose::OidcState, csrf.secret()),
            provider_id: p.id.clone(),
            request_key: bound.request.request_key.clone(),
            request_id,
            session_id: bound.session.session_id.clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            created_at: now,
            expires_at: now + LOGIN_LIFETIME,
        })
        .await?;
    Ok(Json(SsoStart {
        redirect_to: url.to_string(),
    }))
}

/// `GET /consent/sso/callback`: a page that moves on, from this site, to
/// `/consent/sso/finish` with the same query (so the `SameSite=Strict`
/// session cookie comes along). No script: a meta refresh and a link.
pub async fn callback(RawQuery(query): RawQuery) -> Response {
    let target = format!("/consent/sso/finish?{}", query.unwrap_or_default());
    let t = html_escape(&target);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={t}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Signing you in</title></head><body><main><h1>Signing you in</h1>\
         <p><a href=\"{t}\">Continue</a></p></main></body></html>\n"
    );
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(body),
    )
        .into_response()
}

/// The query of the provider's answer.
#[derive(Debug, Deserialize)]
pub struct Answer {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

/// A finish that cannot be tied to a sign-in this browser started.
fn refused_page(why: &str) -> Response {
    tracing::warn!(why, "OpenID Connect callback refused");
    let body = html_page(
        "Error: this sign-in cannot be completed",
        "<h1>This sign-in cannot be completed</h1><p>The link is not valid, has expired or \
         was already used, or it was opened in another browser.</p><p>Go back to the \
         application that sent you here and start again.</p>",
    );
    (
        StatusCode::BAD_REQUEST,
        [(header::CACHE_CONTROL, "no-store")],
        Html(body),
    )
        .into_response()
}

/// The consent page of `request_id`, with an error when there is one.
fn back_to_consent(state: &AppState, request_id: &str, error: Option<SsoError>) -> String {
    let page = &state.config().consent_page;
    let sep = if page.contains('?') { '&' } else { '?' };
    let mut url = format!("{page}{sep}request={request_id}");
    if let Some(e) = error {
        url.push_str("&sso_error=");
        url.push_str(e.as_str());
    }
    url
}

/// `GET /consent/sso/finish`.
pub async fn finish(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(raw_state) = answer.state.filter(|s| !s.is_empty() && s.len() <= 256) else {
        return refused_page("no state");
    };
    let hash = state.key().hash(Purpose::OidcState, &raw_state);
    let login = match state.store().take_oidc_login(&hash).await {
        Ok(Some(l)) => l,
        Ok(None) => return refused_page("unknown or used state"),
        Err(e) => return ApiError::from(e).into_response(),
    };
    if login.expires_at <= state.now() {
        return refused_page("expired state");
    }
    let session = match current_session(&state, &headers).await {
        Ok(Some(s)) if s.session_id == login.session_id => s,
        Ok(_) => return refused_page("another browser session"),
        Err(e) => return e.into_response(),
    };
    let outcome = complete(&state, &login, &session, answer.code, answer.error).await;
    let secret = match outcome {
        Ok(secret) => secret,
        Err(e) => {
            let o = match e {
                SsoError::Failed => Outcome::Error,
                _ => Outcome::Failure,
            };
            state.metrics().record_sign_in("sso", o);
            let to = back_to_consent(&state, &login.request_id, Some(e));
            return Redirect::to(&to).into_response();
        }
    };
    state.metrics().record_sign_in("sso", Outcome::Success);
    let to = back_to_consent(&state, &login.request_id, None);
    (secret, Redirect::to(&to)).into_response()
}

/// The code exchange, the ID token checks and the account match; the
/// session's new cookie.
async fn complete(
    state: &AppState,
    login: &OidcLogin,
    session: &crate::store::Session,
    code: Option<String>,
    error: Option<String>,
) -> Result<NewSecret, SsoError> {
    let failed = |what: &str, e: &dyn fmt::Display| {
        tracing::warn!(provider = %login.provider_id, error = %e, "OpenID Connect: {what}");
        SsoError::Failed
    };
    if let Some(e) = error {
        tracing::info!(provider = %login.provider_id, error = %e, "provider answered an error");
        return Err(if e == "access_denied" {
            SsoError::Cancelled
        } else {
            SsoError::Failed
        });
    }
    let code = code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| failed("answer", &"no code"))?;
    let p =
        provider(state, &login.provider_id).ok_or_else(|| failed("config", &"provider gone"))?;
    let m = state
        .discovery()
        .metadata(p)
        .await
        .map_err(|e| failed("discovery", &e))?;
    let c = client(redirect_uri(state), p, m).map_err(|e| failed("client", &e))?;
    let http = http_client().map_err(|e| failed("http client", &e))?;
    let tokens = c
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| failed("token endpoint", &e))?
        .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier.clone()))
        .request_async(&http)
        .await
        .map_err(|e| failed("code exchange", &error_chain(&e)))?;
    let id_token = openidconnect::TokenResponse::id_token(&tokens)
        .ok_or_else(|| failed("token response", &"no id_token"))?;
    let claims = match checked_claims(&c, id_token, &Nonce::new(login.nonce.clone())) {
        Ok(claims) => claims,
        Err(e) => {
            // The keys may have rotated: read them again next time.
            state.discovery().forget(&p.id).await;
            return Err(failed("ID token", &e));
        }
    };
    let customer = match_customer(state, p, &claims)
        .await
        .map_err(|e| failed("store", &e.0))?
        .ok_or(SsoError::UnknownAccount)?;
    // The provider sent the browser back to a top-level page of ours: the
    // session came by its cookie.
    sign_in_session(state, session, Carrier::Cookie, &customer.customer_id)
        .await
        .map_err(|_| failed("session", &"sign in"))
}

/// An error with its causes (the token request's own message is terse).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The JSON payload of a compact JWS (already verified by the caller).
fn payload(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let part = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The one customer the configured claim names; none when it is missing,
/// matches nobody or more than one customer, or is an email the provider
/// has not verified.
async fn match_customer(
    state: &AppState,
    p: &ProviderConfig,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<Customer>, crate::store::StoreError> {
    let value = match claims.get(&p.claim) {
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 256 => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Ok(None),
    };
    let store = state.store();
    let found = match p.matches {
        AccountField::AccountNumber => store.customers_by_account(&value).await?,
        AccountField::Email => {
            if claims.get("email_verified") != Some(&serde_json::Value::Bool(true)) {
                return Ok(None);
            }
            store.customers_by_email(&value).await?
        }
        AccountField::Username => store
            .customer_by_username(&value)
            .await?
            .into_iter()
            .collect(),
        AccountField::CustomerId => store.customer(&value).await?.into_iter().collect(),
    };
    Ok(match <[Customer; 1]>::try_from(found) {
        Ok([c]) => Some(c),
        Err(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_flag_reads_every_key() {
        let dir = tempfile::tempdir().expect("dir");
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "s3cret\n").expect("write");
        let p = ProviderConfig::parse(&format!(
            "utility=https://login.example,client-id=dc,client-secret-file={},\
             name=Example Utility,scopes=profile account,claim=account_number,match=email",
            secret.display()
        ))
        .expect("parse");
        assert_eq!(p.id, "utility");
        assert_eq!(p.issuer, "https://login.example");
        assert_eq!(p.client_id, "dc");
        assert_eq!(p.client_secret, Secret("s3cret".into()));
        assert_eq!(p.name, "Example Utility");
        assert_eq!(p.scopes, ["profile", "account"]);
        assert_eq!(p.claim, "account_number");
        assert_eq!(p.matches, AccountField::Email);
        assert!(
            !format!("{p:?}").contains("s3cret"),
            "the secret is never printed"
        );
    }

    #[test]
    fn bad_provider_flags_name_the_problem() {
        for (spec, needle) in [
            ("utility", "ID=ISSUER_URL"),
            ("a_b=https://x.example,client-id=c", "letters, digits or -"),
            ("a=ftp://x.example,client-id=c", "not an http(s) URL"),
            (
                "a=https://x.example,client-id=c",
                "client secret is missing",
            ),
            (
                "a=https://x.example,client-id=c,match=phone",
                "match \"phone\"",
            ),
            (
                "a=https://x.example,client-id=c,client-secret-file=/nonexistent/x",
                "/nonexistent/x",
            ),
        ] {
            let e = ProviderConfig::parse(spec).expect_err(spec);
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    mod id_token {
        use std::sync::OnceLock;

        use chrono::{Duration, Utc};
        use openidconnect::core::{
            CoreIdTokenClaims, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey,
            CoreSubjectIdentifierType,
        };
        use openidconnect::{
            Audience, AuthUrl, EmptyAdditionalClaims, EmptyAdditionalProviderMetadata,
            JsonWebKeyId, JsonWebKeySet, JsonWebKeySetUrl, PrivateSigningKey, ResponseTypes,
            StandardClaims, SubjectIdentifier, TokenUrl,
        };

        use super::super::*;

        const ISSUER: &str = "https://login.utility.example";
        const NONCE: &str = "the-nonce-of-this-sign-in";

        /// An RSA key in PKCS#1 PEM (`openssl genrsa -traditional`), one
        /// per test binary.
        fn pem(n: usize) -> &'static str {
            static KEYS: OnceLock<[String; 2]> = OnceLock::new();
            let gen_key = || {
                let o = std::process::Command::new("openssl")
                    .args(["genrsa", "-traditional", "2048"])
                    .output()
                    .expect("openssl (Debian's openssl package)");
                String::from_utf8(o.stdout).expect("PEM")
            };
            &KEYS.get_or_init(|| [gen_key(), gen_key()])[n]
        }

        fn key(n: usize) -> CoreRsaPrivateSigningKey {
            CoreRsaPrivateSigningKey::from_pem(pem(n), Some(JsonWebKeyId::new("k1".into())))
                .expect("key")
        }

        /// Our client of a provider whose only key is `key(0)`.
        fn our_client() -> OidcClient {
            let m = CoreProviderMetadata::new(
                IssuerUrl::new(ISSUER.into()).expect("issuer"),
                AuthUrl::new(format!("{ISSUER}/auth")).expect("url"),
                JsonWebKeySetUrl::new(format!("{ISSUER}/jwks")).expect("url"),
                vec![ResponseTypes::new(vec![CoreResponseType::Code])],
                vec![CoreSubjectIdentifierType::Public],
                vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
                EmptyAdditionalProviderMetadata {},
            )
            .set_token_endpoint(Some(TokenUrl::new(format!("{ISSUER}/token")).expect("url")))
            .set_jwks(JsonWebKeySet::new(vec![key(0).as_verification_key()]));
            let p = ProviderConfig::new("utility", ISSUER, "datacustodian", "secret");
            client("https://dc.example/consent/sso/callback".into(), &p, m).expect("client")
        }

        /// A token signed by `key(signer)` from `iss` for `aud`, expiring
        /// `exp` seconds from now, with `nonce`.
        fn token(signer: usize, iss: &str, aud: &str, exp: i64, nonce: &str) -> CoreIdToken {
            let now = Utc::now();
            let claims = CoreIdTokenClaims::new(
                IssuerUrl::new(iss.into()).expect("issuer"),
                vec![Audience::new(aud.into())],
                now + Duration::seconds(exp),
                now - Duration::seconds(60),
                StandardClaims::new(SubjectIdentifier::new("alice".into())),
                EmptyAdditionalClaims {},
            )
            .set_nonce(Some(Nonce::new(nonce.into())));
            CoreIdToken::new(
                claims,
                &key(signer),
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                None,
                None,
            )
            .expect("sign")
        }

        fn check(t: &CoreIdToken) -> Result<String, String> {
            checked_claims(&our_client(), t, &Nonce::new(NONCE.into()))
                .map(|c| c["sub"].as_str().unwrap_or_default().to_string())
        }

        #[test]
        fn a_good_token_is_read() {
            assert_eq!(
                check(&token(0, ISSUER, "datacustodian", 300, NONCE)).as_deref(),
                Ok("alice")
            );
        }

        #[test]
        fn another_audience_is_refused() {
            let e = check(&token(0, ISSUER, "another-client", 300, NONCE)).expect_err("aud");
            assert!(e.contains("audience"), "{e}");
        }

        #[test]
        fn an_expired_token_is_refused() {
            let e = check(&token(0, ISSUER, "datacustodian", -1, NONCE)).expect_err("exp");
            assert!(e.contains("expired"), "{e}");
        }

        #[test]
        fn another_issuer_is_refused() {
            let e = check(&token(
                0,
                "https://evil.example",
                "datacustodian",
                300,
                NONCE,
            ))
            .expect_err("iss");
            assert!(e.contains("issuer"), "{e}");
        }

        #[test]
        fn another_nonce_is_refused() {
            let e = check(&token(0, ISSUER, "datacustodian", 300, "replayed")).expect_err("nonce");
            assert!(e.contains("nonce"), "{e}");
        }

        #[test]
        fn a_token_signed_by_another_key_is_refused() {
            let e = check(&token(1, ISSUER, "datacustodian", 300, NONCE)).expect_err("sig");
            assert!(e.to_lowercase().contains("signature"), "{e}");
        }
    }

    #[test]
    fn the_payload_of_a_compact_jws() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"u1","account_number":"42"}"#);
        let p = payload(&format!("e30.{claims}.sig")).expect("payload");
        assert_eq!(p["account_number"], "42");
        assert!(payload("not-a-jwt").is_none());
        assert!(payload("a.!!!.c").is_none());
    }
}
