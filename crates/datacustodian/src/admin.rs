//! Administration: register clients and customers, rotate secrets, and seed
//! the demo. Used by the CLI and, in-process, by tests of this and other
//! crates. Every function validates its input and names the problem.

use std::fmt;

use serde::Serialize;

use crate::AppState;
use crate::consent::otp::normalize_phone;
use crate::scope::parse_request_scope;
use crate::security::passwords;
use crate::security::secrets::{Purpose, new_id, new_secret, random_token};
use crate::store::{Client, ClientKind, Customer, Meter, ScopeOfUse, StoreError};
use espi_scope::pkce::{base64url, challenge_s256};

/// The demo third party's client id.
pub const DEMO_CLIENT_ID: &str = "demo-third-party";
/// The scope of the demo authorization URL.
pub const DEMO_SCOPE: &str = "FB=1_4_16_51;IntervalDuration=900_3600;HistoryLength=63072000;AdditionalScope=meters-all_sou-energy-audit";

/// An administration error (bad input or storage failure), with a message
/// naming the problem.
#[derive(Debug)]
pub struct AdminError(pub String);

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError(e.to_string())
    }
}

fn bad(msg: impl Into<String>) -> AdminError {
    AdminError(msg.into())
}

/// A client to register.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// Fixed client id; `None` = random.
    pub client_id: Option<String>,
    /// Fixed secret; `None` = random (256 bits).
    pub client_secret: Option<String>,
    /// Name shown to customers.
    pub name: String,
    /// How it is registered.
    pub kind: ClientKind,
    /// Exact redirect URIs (absolute http(s), no fragment).
    pub redirect_uris: Vec<String>,
    /// The widest scopes it may request; empty = any.
    pub scopes: Vec<String>,
    /// Scope-of-use disclosures.
    pub scopes_of_use: Vec<ScopeOfUse>,
    /// Origins allowed to frame the consent page.
    pub frame_ancestors: Vec<String>,
    /// Grant types; empty = the kind's default (`password` is never a default).
    pub grant_types: Vec<String>,
    /// Logo URL.
    pub logo_uri: Option<String>,
    /// Home page.
    pub client_uri: Option<String>,
    /// Privacy policy.
    pub policy_uri: Option<String>,
    /// Terms of service.
    pub tos_uri: Option<String>,
    /// Authorization requests must carry a PKCE S256 challenge (default on).
    pub require_pkce: bool,
}

impl NewClient {
    /// A third party with these redirect URIs and defaults elsewhere.
    pub fn third_party(name: impl Into<String>, redirect_uris: Vec<String>) -> NewClient {
        NewClient {
            client_id: None,
            client_secret: None,
            name: name.into(),
            kind: ClientKind::ThirdParty,
            redirect_uris,
            scopes: Vec::new(),
            scopes_of_use: Vec::new(),
            frame_ancestors: Vec::new(),
            grant_types: Vec::new(),
            logo_uri: None,
            client_uri: None,
            policy_uri: None,
            tos_uri: None,
            require_pkce: true,
        }
    }
}

/// A client's credentials (the secret is shown once).
#[derive(Debug, Clone, Serialize)]
pub struct ClientSecret {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn check_url(what: &str, s: &str, allow_data: bool) -> Result<(), AdminError> {
    if allow_data && s.starts_with("data:image/") {
        return Ok(());
    }
    let u =
        url::Url::parse(s).map_err(|e| bad(format!("{what} {s:?} is not an absolute URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad(format!("{what} {s:?} must be http or https")));
    }
    if u.fragment().is_some() {
        return Err(bad(format!("{what} {s:?} must not have a #fragment")));
    }
    Ok(())
}

/// True for the loopback hosts a native or development client may use over
/// plain http: `127.0.0.1`, `[::1]` and `localhost`.
pub fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A redirect URI: absolute, no fragment, https unless the host is loopback
/// (RFC 9700 §2.6, RFC 8252 §7.3).
fn check_redirect_uri(s: &str) -> Result<(), AdminError> {
    check_url("redirect URI", s, false)?;
    let u = url::Url::parse(s).map_err(|e| bad(format!("redirect URI {s:?}: {e}")))?;
    if u.scheme() != "https" && !is_loopback_host(&u) {
        return Err(bad(format!(
            "redirect URI {s:?} must be https (plain http only for 127.0.0.1, [::1] or localhost)"
        )));
    }
    Ok(())
}

fn check_origin(s: &str) -> Result<(), AdminError> {
    let u = url::Url::parse(s)
        .map_err(|e| bad(format!("frame ancestor {s:?} is not an origin: {e}")))?;
    let origin = u.origin().ascii_serialization();
    if !matches!(u.scheme(), "http" | "https")
        || origin != s.trim_end_matches('/')
        || s.contains(['*', ';', ' ', ','])
    {
        return Err(bad(format!(
            "frame ancestor {s:?} must be an exact origin such as https://portal.example.com"
        )));
    }
    Ok(())
}

const GRANTS: [&str; 4] = [
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
];

/// Registers a client; returns its id and secret.
pub async fn create_client(state: &AppState, c: NewClient) -> Result<ClientSecret, AdminError> {
    let name = c.name.trim().to_string();
    if name.is_empty() || name.len() > 200 {
        return Err(bad("the client name must be 1 to 200 characters"));
    }
    let client_id = match c.client_id {
        Some(id) if !valid_id(&id) => {
            return Err(bad(format!(
                "client id {id:?} may only hold letters, digits, '-', '_' and '.' (at most 128)"
            )));
        }
        Some(id) => id,
        None => new_id(),
    };
    let mut grant_types = if c.grant_types.is_empty() {
        c.kind.default_grant_types()
    } else {
        c.grant_types.clone()
    };
    grant_types.dedup();
    for g in &grant_types {
        if !GRANTS.contains(&g.as_str()) {
            return Err(bad(format!(
                "unknown grant type {g:?} (use authorization_code, refresh_token, client_credentials or password)"
            )));
        }
    }
    let needs_redirect = grant_types.iter().any(|g| g == "authorization_code");
    if needs_redirect && c.redirect_uris.is_empty() {
        return Err(bad(
            "a client of the authorization code flow needs at least one --redirect-uri",
        ));
    }
    for r in &c.redirect_uris {
        check_redirect_uri(r)?;
    }
    let mut scopes = Vec::new();
    for s in &c.scopes {
        let parsed = parse_request_scope(s).map_err(|e| bad(format!("scope {s:?}: {e}")))?;
        scopes.push(parsed.to_string());
    }
    for s in &c.scopes_of_use {
        if !valid_id(&s.name) || s.name.contains(['_', '.']) {
            return Err(bad(format!(
                "scope-of-use name {:?} may only hold letters, digits and '-'",
                s.name
            )));
        }
        if s.text.trim().is_empty() {
            return Err(bad(format!("scope-of-use {:?} needs a text", s.name)));
        }
        if let Some(u) = &s.url {
            check_url("scope-of-use URL", u, false)?;
        }
    }
    for o in &c.frame_ancestors {
        check_origin(o)?;
    }
    let frame_ancestors: Vec<String> = c
        .frame_ancestors
        .iter()
        .map(|o| o.trim_end_matches('/').to_string())
        .collect();
    for (what, u) in [
        ("logo URI", &c.logo_uri),
        ("client URI", &c.client_uri),
        ("policy URI", &c.policy_uri),
        ("terms URI", &c.tos_uri),
    ] {
        if let Some(u) = u {
            check_url(what, u, what == "logo URI")?;
        }
    }
    let secret = c.client_secret.unwrap_or_else(new_secret);
    if secret.len() < 16 {
        return Err(bad("a client secret must have at least 16 characters"));
    }
    if state.store().client(&client_id).await?.is_some() {
        return Err(bad(format!("a client {client_id:?} already exists")));
    }
    state
        .store()
        .insert_client(&Client {
            client_id: client_id.clone(),
            secret_hash: state.key().hash(Purpose::ClientSecret, &secret),
            name,
            kind: c.kind,
            redirect_uris: c.redirect_uris,
            scopes,
            scopes_of_use: c.scopes_of_use,
            frame_ancestors,
            grant_types,
            logo_uri: c.logo_uri,
            client_uri: c.client_uri,
            policy_uri: c.policy_uri,
            tos_uri: c.tos_uri,
            require_pkce: c.require_pkce,
            created_at: state.now(),
        })
        .await?;
    Ok(ClientSecret {
        client_id,
        client_secret: secret,
    })
}

/// Gives a client a new random secret (the old one stops working).
pub async fn rotate_client_secret(
    state: &AppState,
    client_id: &str,
) -> Result<ClientSecret, AdminError> {
    let secret = new_secret();
    if !state
        .store()
        .set_client_secret(client_id, &state.key().hash(Purpose::ClientSecret, &secret))
        .await?
    {
        return Err(bad(format!("no client {client_id:?}")));
    }
    Ok(ClientSecret {
        client_id: client_id.to_string(),
        client_secret: secret,
    })
}

/// Turns a client's PKCE requirement on or off.
pub async fn set_client_require_pkce(
    state: &AppState,
    client_id: &str,
    on: bool,
) -> Result<(), AdminError> {
    if state.store().set_client_require_pkce(client_id, on).await? {
        Ok(())
    } else {
        Err(bad(format!("no client {client_id:?}")))
    }
}

/// Removes a client and everything issued to it.
pub async fn remove_client(state: &AppState, client_id: &str) -> Result<(), AdminError> {
    if state.store().delete_client(client_id).await? {
        Ok(())
    } else {
        Err(bad(format!("no client {client_id:?}")))
    }
}

/// A customer to register.
#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    /// Login name (needs a password).
    pub username: Option<String>,
    /// Password (needs a username).
    pub password: Option<String>,
    /// Shown name; defaults to the username or "Customer".
    pub display_name: Option<String>,
    /// Phone (E.164, or 10 North American digits).
    pub phone: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Account number (with `zip`).
    pub account_number: Option<String>,
    /// ZIP code (with `account_number`).
    pub zip: Option<String>,
    /// At least one meter.
    pub meters: Vec<Meter>,
}

/// Registers a customer; returns the customer id.
pub async fn create_customer(state: &AppState, c: NewCustomer) -> Result<String, AdminError> {
    match (&c.username, &c.password) {
        (Some(u), Some(p)) => {
            if u.trim().is_empty() || u.len() > 256 {
                return Err(bad("the username must be 1 to 256 characters"));
            }
            if p.chars().count() < 8 || p.len() > 1024 {
                return Err(bad("the password must have 8 to 1024 characters"));
            }
        }
        (Some(_), None) => return Err(bad("a username needs a --password")),
        (None, Some(_)) => return Err(bad("a password needs a --username")),
        (None, None) => {}
    }
    if c.account_number.is_some() != c.zip.is_some() {
        return Err(bad("--account-number and --zip go together"));
    }
    if let Some(a) = &c.account_number
        && (a.trim().is_empty() || a.len() > 64)
    {
        return Err(bad("the account number must be 1 to 64 characters"));
    }
    let phone = match &c.phone {
        Some(p) => Some(normalize_phone(p).ok_or_else(|| {
            bad(format!(
                "phone {p:?} is not a phone number (use E.164, e.g. +15554443333)"
            ))
        })?),
        None => None,
    };
    if let Some(e) = &c.email {
        let ok = e.len() <= 256
            && e.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !e.contains(char::is_whitespace)
            });
        if !ok {
            return Err(bad(format!("email {e:?} is not an email address")));
        }
    }
    if c.username.is_none() && c.account_number.is_none() && phone.is_none() && c.email.is_none() {
        return Err(bad(
            "a customer needs a way to sign in: --username/--password, --account-number/--zip, --phone or --email",
        ));
    }
    if c.meters.is_empty() {
        return Err(bad("a customer needs at least one --meter"));
    }
    for m in &c.meters {
        if m.said.is_empty()
            || m.said.len() > 64
            || !m
                .said
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad(format!(
                "meter id {:?} may only hold letters, digits and '-' (it goes into scopes as meters-{{SAID}})",
                m.said
            )));
        }
        if let Some(k) = &m.service_kind
            && !matches!(k.as_str(), "electricity" | "gas" | "water")
        {
            return Err(bad(format!(
                "service kind {k:?} of meter {} must be electricity, gas or water",
                m.said
            )));
        }
        if state.store().meter_exists(&m.said).await? {
            return Err(bad(format!("meter {} is already registered", m.said)));
        }
    }
    if let Some(u) = &c.username
        && state.store().customer_by_username(u).await?.is_some()
    {
        return Err(bad(format!("a customer {u:?} already exists")));
    }
    let password_hash = match &c.password {
        Some(p) => Some(
            passwords::hash_async(p.clone(), state.config().argon2_cost)
                .await
                .map_err(|e| bad(format!("cannot hash the password: {e}")))?,
        ),
        None => None,
    };
    let customer_id = new_id();
    let display_name = c
        .display_name
        .clone()
        .or_else(|| c.username.clone())
        .unwrap_or_else(|| "Customer".to_string());
    state
        .store()
        .insert_customer(
            &Customer {
                customer_id: customer_id.clone(),
                username: c.username.clone(),
                password_hash,
                display_name,
                phone,
                email: c.email.clone(),
                account_number: c.account_number.as_ref().map(|a| a.trim().to_string()),
                zip: c.zip.clone(),
                created_at: state.now(),
            },
            &c.meters,
        )
        .await?;
    Ok(customer_id)
}

/// Removes a customer (by id or username).
pub async fn remove_customer(state: &AppState, id_or_username: &str) -> Result<(), AdminError> {
    if state.store().delete_customer(id_or_username).await? {
        Ok(())
    } else {
        Err(bad(format!("no customer {id_or_username:?}")))
    }
}

/// A demo customer's credentials.
#[derive(Debug, Clone, Serialize)]
pub struct DemoCustomer {
    /// Shown name.
    pub display_name: String,
    /// Username, if any.
    pub username: Option<String>,
    /// Password, if any.
    pub password: Option<String>,
    /// Phone on file.
    pub phone: Option<String>,
    /// Email on file.
    pub email: Option<String>,
    /// Account number.
    pub account_number: Option<String>,
    /// ZIP code.
    pub zip: Option<String>,
    /// SAIDs.
    pub meters: Vec<String>,
}

/// What `seed_demo` set up.
#[derive(Debug, Clone, Serialize)]
pub struct DemoSeed {
    /// `demo-third-party`.
    pub client_id: String,
    /// Its secret (derived from the HMAC key, so the same on every start).
    pub client_secret: String,
    /// The redirect URIs.
    pub redirect_uris: Vec<String>,
    /// A ready authorization URL (PKCE S256, a state).
    pub authorization_url: String,
    /// The redirect URI used in `authorization_url`.
    pub redirect_uri: String,
    /// The scope used in `authorization_url`.
    pub scope: String,
    /// The state in `authorization_url`.
    pub state: String,
    /// The PKCE verifier matching `authorization_url`'s challenge.
    pub code_verifier: String,
    /// The demo customers.
    pub customers: Vec<DemoCustomer>,
}

const DEMO_LOGO: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E%3Ccircle cx='32' cy='32' r='30' fill='%23137333'/%3E%3Cpath d='M20 36l8 8 16-20' stroke='white' stroke-width='6' fill='none'/%3E%3C/svg%3E";

fn demo_customers() -> Vec<(DemoCustomer, Vec<Meter>)> {
    let m = |said: &str, label: &str, addr: &str, kind: &str| Meter {
        said: said.to_string(),
        label: label.to_string(),
        address: Some(addr.to_string()),
        service_kind: Some(kind.to_string()),
    };
    vec![
        (
            DemoCustomer {
                display_name: "Alex Rivera".to_string(),
                username: Some("alex".to_string()),
                password: Some("green-button-demo".to_string()),
                phone: Some("+15555550100".to_string()),
                email: Some("alex@example.com".to_string()),
                account_number: Some("1234567890".to_string()),
                zip: Some("94105".to_string()),
                meters: vec!["SA-1001".into(), "SA-1002".into(), "SA-2001".into()],
            },
            vec![
                m(
                    "SA-1001",
                    "Home electricity",
                    "123 Main St, San Francisco, CA 94105",
                    "electricity",
                ),
                m(
                    "SA-1002",
                    "Home gas",
                    "123 Main St, San Francisco, CA 94105",
                    "gas",
                ),
                m(
                    "SA-2001",
                    "Workshop electricity",
                    "45 Oak Ave, Oakland, CA 94607",
                    "electricity",
                ),
            ],
        ),
        (
            DemoCustomer {
                display_name: "Sam Chen".to_string(),
                username: None,
                password: None,
                phone: Some("+15555550123".to_string()),
                email: None,
                account_number: Some("5550001111".to_string()),
                zip: Some("94110".to_string()),
                meters: vec!["SA-3001".into()],
            },
            vec![m(
                "SA-3001",
                "Apartment electricity",
                "9 Pine Ct, San Francisco, CA 94110",
                "electricity",
            )],
        ),
    ]
}

/// The demo third party's secret. Derived from the HMAC key, so it is the
/// same on every start with the same key file.
pub fn demo_client_secret(state: &AppState) -> String {
    base64url(
        &state
            .key()
            .hash(Purpose::ClientSecret, "demo-third-party-secret"),
    )
}

/// Seeds (idempotently) the demo third party and demo customers, and builds
/// a fresh authorization URL with a PKCE verifier.
pub async fn seed_demo(state: &AppState) -> Result<DemoSeed, AdminError> {
    let public = state.config().public_url.clone();
    let redirect_uris = vec![
        format!("{public}/playground/callback"),
        "http://127.0.0.1:9999/callback".to_string(),
    ];
    let client_secret = demo_client_secret(state);
    if state.store().client(DEMO_CLIENT_ID).await?.is_none() {
        create_client(
            state,
            NewClient {
                client_id: Some(DEMO_CLIENT_ID.to_string()),
                client_secret: Some(client_secret.clone()),
                name: "Energy Audit Co. (demo)".to_string(),
                kind: ClientKind::ThirdParty,
                redirect_uris: redirect_uris.clone(),
                scopes: Vec::new(),
                scopes_of_use: vec![
                    ScopeOfUse {
                        name: "energy-audit".to_string(),
                        text: "Energy Audit Co. uses your usage data to find ways to cut your \
                               energy bill and shows them in a report. It does not sell your data."
                            .to_string(),
                        url: Some("https://example.com/energy-audit/how-we-use-data".to_string()),
                    },
                    // Shown when a request names no `sou-` item.
                    ScopeOfUse {
                        name: "default".to_string(),
                        text: "Energy Audit Co. uses your data to show you how your energy use \
                               changes from month to month. It does not sell your data."
                            .to_string(),
                        url: Some("https://example.com/energy-audit/how-we-use-data".to_string()),
                    },
                ],
                frame_ancestors: vec![public.clone()],
                grant_types: Vec::new(),
                logo_uri: Some(DEMO_LOGO.to_string()),
                client_uri: Some("https://example.com/energy-audit".to_string()),
                policy_uri: Some("https://example.com/energy-audit/privacy".to_string()),
                tos_uri: Some("https://example.com/energy-audit/terms".to_string()),
                require_pkce: true,
            },
        )
        .await?;
    } else {
        // A demo client from before PKCE could be required: require it now
        // (the printed URL, the playground and the browser tests use it).
        state
            .store()
            .set_client_require_pkce(DEMO_CLIENT_ID, true)
            .await?;
    }
    let mut customers = Vec::new();
    for (demo, meters) in demo_customers() {
        let exists = match (&demo.username, &demo.account_number) {
            (Some(u), _) => state.store().customer_by_username(u).await?.is_some(),
            (None, Some(a)) => !state.store().customers_by_account(a).await?.is_empty(),
            (None, None) => false,
        };
        if !exists {
            create_customer(
                state,
                NewCustomer {
                    username: demo.username.clone(),
                    password: demo.password.clone(),
                    display_name: Some(demo.display_name.clone()),
                    phone: demo.phone.clone(),
                    email: demo.email.clone(),
                    account_number: demo.account_number.clone(),
                    zip: demo.zip.clone(),
                    meters,
                },
            )
            .await?;
        }
        customers.push(demo);
    }
    let code_verifier = random_token(32);
    let st = random_token(12);
    let redirect_uri = redirect_uris[0].clone();
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", DEMO_SCOPE)
        .append_pair("state", &st)
        .append_pair("code_challenge", &challenge_s256(&code_verifier))
        .append_pair("code_challenge_method", "S256")
        .finish();
    Ok(DemoSeed {
        client_id: DEMO_CLIENT_ID.to_string(),
        client_secret,
        redirect_uris,
        authorization_url: format!("{public}/oauth/authorize?{query}"),
        redirect_uri,
        scope: DEMO_SCOPE.to_string(),
        state: st,
        code_verifier,
        customers,
    })
}
