//! The playground's pure logic: the builder form and its scope, the page
//! state in the URL query, PKCE, and the decoder. No browser APIs here, so
//! everything is unit-tested natively.

use std::collections::BTreeSet;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use espi_scope::authorization_url::{AuthorizationRequest, form_decode, percent_encode_component};
use espi_scope::catalog::{self, Status};
use espi_scope::describe::{self, Lang};
use espi_scope::{AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency, Severity};

/// The blocks UtilityAPI honours in authorization URLs.
pub const UTILITYAPI_BLOCKS: [u16; 3] = [4, 16, 51];

/// The interval lengths offered as checkboxes.
pub const INTERVAL_OPTIONS: [Duration; 7] = [
    Duration::Seconds(300),
    Duration::Seconds(900),
    Duration::Seconds(1800),
    Duration::Seconds(3600),
    Duration::Named(Frequency::Daily),
    Duration::Named(Frequency::Monthly),
    Duration::Named(Frequency::BillingPeriod),
];

/// `auth-{method}` hints offered in the builder.
pub const AUTH_METHODS: [&str; 4] = ["login", "phone", "sso", "utility"];

/// A unit for the history length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryUnit {
    /// 365 days.
    Years,
    /// 7 days.
    Weeks,
    /// 86400 seconds.
    Days,
    /// 3600 seconds.
    Hours,
    /// Plain seconds (for values no larger unit divides).
    Seconds,
}

impl HistoryUnit {
    /// Every unit, largest first.
    pub const ALL: [HistoryUnit; 5] = [
        HistoryUnit::Years,
        HistoryUnit::Weeks,
        HistoryUnit::Days,
        HistoryUnit::Hours,
        HistoryUnit::Seconds,
    ];

    /// Seconds in one unit.
    pub fn seconds(self) -> u64 {
        match self {
            HistoryUnit::Years => 31_536_000,
            HistoryUnit::Weeks => 604_800,
            HistoryUnit::Days => 86_400,
            HistoryUnit::Hours => 3_600,
            HistoryUnit::Seconds => 1,
        }
    }

    /// The form value (`years`, `weeks`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryUnit::Years => "years",
            HistoryUnit::Weeks => "weeks",
            HistoryUnit::Days => "days",
            HistoryUnit::Hours => "hours",
            HistoryUnit::Seconds => "seconds",
        }
    }

    /// Reads a form value.
    pub fn from_name(s: &str) -> Option<HistoryUnit> {
        HistoryUnit::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// How the authorization should end (`PreferredAuthEndDate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndChoice {
    /// No term: the utility's default.
    UtilityDefault,
    /// `PreferredAuthEndDate=0`.
    UntilRevoked,
    /// A date (see [`BuildForm::end_date`]).
    OnDate,
}

/// Which meters the request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetersChoice {
    /// No meter item: the customer chooses.
    CustomerChooses,
    /// `meters-all`.
    All,
    /// `meters-{SAID}` for each id in [`BuildForm::meter_ids`].
    Listed,
}

/// Everything the Build tab edits, in the units a person types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildForm {
    /// Chosen function blocks.
    pub function_blocks: BTreeSet<u16>,
    /// Chosen interval lengths (kept sorted).
    pub intervals: Vec<Duration>,
    /// `BlockDuration`, if any.
    pub block_duration: Option<Duration>,
    /// `SubscriptionFrequency`, if any.
    pub subscription_frequency: Option<Duration>,
    /// History amount as typed ("" leaves `HistoryLength` out).
    pub history_amount: String,
    /// History unit.
    pub history_unit: HistoryUnit,
    /// End of the authorization.
    pub end: EndChoice,
    /// `YYYY-MM-DD` when [`EndChoice::OnDate`].
    pub end_date: String,
    /// `noedit`.
    pub noedit: bool,
    /// Meter choice.
    pub meters: MetersChoice,
    /// Service agreement ids, separated by spaces or commas.
    pub meter_ids: String,
    /// Scope of use (`sou-{name}`), "" for none.
    pub scope_of_use: String,
    /// `auth-{method}`, "" for none.
    pub auth_method: String,
    /// The optional value after the method.
    pub auth_value: String,
    /// Terms the form does not edit, kept from a link (`BR`,
    /// `AccountCollection`, unknown terms, other `AdditionalScope` items).
    pub kept: EspiScope,
    /// The authorization endpoint.
    pub endpoint: String,
    /// The third party's client id.
    pub client_id: String,
    /// The registered redirect URI.
    pub redirect_uri: String,
}

/// The default authorization endpoint (the demo DataCustodian's path).
pub const DEFAULT_ENDPOINT: &str = "/oauth/authorize";
/// The default client id.
pub const DEFAULT_CLIENT_ID: &str = "demo-third-party";
/// The default redirect URI.
pub const DEFAULT_REDIRECT_URI: &str = "https://third-party.example/callback";

impl Default for BuildForm {
    fn default() -> Self {
        BuildForm {
            function_blocks: UTILITYAPI_BLOCKS.into_iter().collect(),
            intervals: vec![Duration::Seconds(900), Duration::Seconds(3600)],
            block_duration: None,
            subscription_frequency: None,
            history_amount: "2".into(),
            history_unit: HistoryUnit::Years,
            end: EndChoice::UtilityDefault,
            end_date: String::new(),
            noedit: false,
            meters: MetersChoice::CustomerChooses,
            meter_ids: String::new(),
            scope_of_use: String::new(),
            auth_method: String::new(),
            auth_value: String::new(),
            kept: EspiScope::default(),
            endpoint: DEFAULT_ENDPOINT.into(),
            client_id: DEFAULT_CLIENT_ID.into(),
            redirect_uri: DEFAULT_REDIRECT_URI.into(),
        }
    }
}

/// Unix seconds at 00:00 UTC of a `YYYY-MM-DD` date.
pub fn date_to_unix(date: &str) -> Option<u64> {
    let mut it = date.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let unix = u64::try_from(days * 86_400).ok()?;
    // Reject 2027-02-31 and the like.
    (unix_to_date(unix) == format!("{y:04}-{m:02}-{d:02}")).then_some(unix)
}

/// The UTC `YYYY-MM-DD` of a unix time.
pub fn unix_to_date(unix: u64) -> String {
    let (y, m, d) = describe::civil_date(unix);
    format!("{y:04}-{m:02}-{d:02}")
}

fn split_ids(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', ',', '\t', '\n']).filter(|x| !x.is_empty())
}

impl BuildForm {
    /// The history length in seconds; `Ok(None)` when left empty.
    pub fn history_seconds(&self) -> Result<Option<u64>, String> {
        let t = self.history_amount.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(self.history_unit.seconds()))
            .map(Some)
            .ok_or_else(|| "The history length must be a whole number.".to_string())
    }

    /// The scope this form describes.
    pub fn to_scope(&self) -> EspiScope {
        let mut s = self.kept.clone();
        s.function_blocks = self.function_blocks.iter().copied().collect();
        s.interval_durations = self.intervals.clone();
        s.block_durations = self.block_duration.into_iter().collect();
        s.subscription_frequency = self.subscription_frequency;
        s.history_length = self.history_seconds().ok().flatten();
        s.preferred_auth_end_date = match self.end {
            EndChoice::UtilityDefault => None,
            EndChoice::UntilRevoked => Some(0),
            EndChoice::OnDate => date_to_unix(&self.end_date),
        };
        let mut add = Vec::new();
        if self.noedit {
            add.push(AdditionalScope::NoEdit);
        }
        match self.meters {
            MetersChoice::CustomerChooses => {}
            MetersChoice::All => add.push(AdditionalScope::MetersAll),
            MetersChoice::Listed => {
                for id in split_ids(&self.meter_ids) {
                    add.push(AdditionalScope::Meter(id.to_string()));
                }
            }
        }
        let sou = self.scope_of_use.trim();
        if !sou.is_empty() {
            add.push(AdditionalScope::ScopeOfUse(sou.to_string()));
        }
        let method = self.auth_method.trim();
        if !method.is_empty() {
            let v = self.auth_value.trim();
            add.push(AdditionalScope::Auth {
                method: method.to_string(),
                value: (!v.is_empty()).then(|| v.to_string()),
            });
        }
        add.extend(self.kept.additional_scope.iter().cloned());
        s.additional_scope = add;
        s
    }

    /// The canonical scope string.
    pub fn scope_string(&self) -> String {
        self.to_scope().to_string()
    }

    /// A form showing `scope` (the client fields stay as they are).
    pub fn set_scope(&mut self, scope: &EspiScope) {
        let mut kept = scope.clone();
        self.function_blocks = scope.function_blocks.iter().copied().collect();
        let mut intervals = scope.interval_durations.clone();
        intervals.sort();
        intervals.dedup();
        self.intervals = intervals;
        self.block_duration = scope.block_durations.first().copied();
        self.subscription_frequency = scope.subscription_frequency;
        match scope.history_length {
            None => {
                self.history_amount = String::new();
                self.history_unit = HistoryUnit::Years;
            }
            Some(secs) => {
                let unit = HistoryUnit::ALL
                    .into_iter()
                    .find(|u| secs != 0 && secs % u.seconds() == 0)
                    .unwrap_or(HistoryUnit::Seconds);
                self.history_amount = (secs / unit.seconds()).to_string();
                self.history_unit = unit;
            }
        }
        match scope.preferred_auth_end_date {
            None => {
                self.end = EndChoice::UtilityDefault;
                self.end_date = String::new();
            }
            Some(0) => {
                self.end = EndChoice::UntilRevoked;
                self.end_date = String::new();
            }
            Some(t) => {
                self.end = EndChoice::OnDate;
                self.end_date = unix_to_date(t);
            }
        }
        self.noedit = scope.no_edit();
        let mut ids = Vec::new();
        self.meters = MetersChoice::CustomerChooses;
        self.scope_of_use.clear();
        self.auth_method.clear();
        self.auth_value.clear();
        kept.additional_scope.clear();
        let mut have_sou = false;
        let mut have_auth = false;
        for a in &scope.additional_scope {
            match a {
                AdditionalScope::NoEdit => {}
                AdditionalScope::MetersAll => self.meters = MetersChoice::All,
                AdditionalScope::Meter(id) => ids.push(id.clone()),
                AdditionalScope::ScopeOfUse(s) if !have_sou => {
                    have_sou = true;
                    self.scope_of_use = s.clone();
                }
                AdditionalScope::Auth { method, value } if !have_auth => {
                    have_auth = true;
                    self.auth_method = method.clone();
                    self.auth_value = value.clone().unwrap_or_default();
                }
                other => kept.additional_scope.push(other.clone()),
            }
        }
        if self.meters != MetersChoice::All && !ids.is_empty() {
            self.meters = MetersChoice::Listed;
        }
        self.meter_ids = ids.join(" ");
        // What the form edits is rebuilt from the fields; keep the rest.
        kept.function_blocks.clear();
        kept.interval_durations.clear();
        kept.block_durations = scope.block_durations.iter().skip(1).copied().collect();
        kept.history_length = None;
        kept.subscription_frequency = None;
        kept.preferred_auth_end_date = None;
        self.kept = kept;
    }

    /// The authorization request for this form with the given state and
    /// PKCE challenge; a relative endpoint is resolved against `origin`.
    pub fn authorization_request(
        &self,
        origin: &str,
        state: &str,
        challenge: &str,
    ) -> AuthorizationRequest {
        let endpoint = if self.endpoint.starts_with('/') {
            format!("{}{}", origin.trim_end_matches('/'), self.endpoint)
        } else {
            self.endpoint.clone()
        };
        AuthorizationRequest {
            endpoint,
            response_type: "code".into(),
            client_id: self.client_id.clone(),
            redirect_uri: self.redirect_uri.clone(),
            scope: self.scope_string(),
            state: Some(state.to_string()),
            code_challenge: Some(challenge.to_string()),
            code_challenge_method: Some("S256".into()),
        }
    }
}

/// The playground's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Build a request.
    Build,
    /// Decode a scope, URL or token response.
    Decode,
    /// Preview the consent step.
    Preview,
    /// Run the flow against the demo DataCustodian.
    TryIt,
}

impl Tab {
    /// Every tab in order.
    pub const ALL: [Tab; 4] = [Tab::Build, Tab::Decode, Tab::Preview, Tab::TryIt];

    /// The id used in the URL and in element ids.
    pub fn id(self) -> &'static str {
        match self {
            Tab::Build => "build",
            Tab::Decode => "decode",
            Tab::Preview => "preview",
            Tab::TryIt => "try",
        }
    }

    /// The visible name.
    pub fn label(self) -> &'static str {
        match self {
            Tab::Build => "Build",
            Tab::Decode => "Decode",
            Tab::Preview => "Preview",
            Tab::TryIt => "Try it",
        }
    }

    /// Reads a URL value.
    pub fn from_id(s: &str) -> Option<Tab> {
        Tab::ALL.into_iter().find(|t| t.id() == s)
    }
}

/// The colour scheme of the preview: the widget's own.
pub use consent_widget::Theme;

/// The whole page state; [`PageState::to_query`] puts it in the URL so a
/// link reproduces it. Secrets (state, PKCE verifier) are never in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageState {
    /// The open tab.
    pub tab: Tab,
    /// The builder.
    pub form: BuildForm,
    /// The Decode tab's input.
    pub decode: String,
    /// Language of the preview.
    pub lang: Lang,
    /// Theme of the page and the preview.
    pub theme: Theme,
}

impl Default for PageState {
    fn default() -> Self {
        PageState {
            tab: Tab::Build,
            form: BuildForm::default(),
            decode: String::new(),
            lang: Lang::En,
            theme: Theme::Auto,
        }
    }
}

impl PageState {
    /// The query string (without `?`).
    pub fn to_query(&self) -> String {
        let mut q = Vec::new();
        let mut push = |k: &str, v: &str| {
            q.push(format!("{k}={}", percent_encode_component(v)));
        };
        push("tab", self.tab.id());
        push("scope", &self.form.scope_string());
        push("client_id", &self.form.client_id);
        push("redirect_uri", &self.form.redirect_uri);
        push("endpoint", &self.form.endpoint);
        if !self.form.history_amount.trim().is_empty() {
            // Keep the unit the person chose (2 years, not 104 weeks).
            push("history_unit", self.form.history_unit.as_str());
        }
        if !self.decode.is_empty() {
            push("decode", &self.decode);
        }
        push("lang", self.lang.as_str());
        push("theme", self.theme.as_str());
        q.join("&")
    }

    /// Reads a query string (with or without `?`); anything missing or
    /// unreadable keeps its default.
    pub fn from_query(query: &str) -> PageState {
        let mut st = PageState::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut unit = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let Ok(v) = form_decode(v) else { continue };
            match k {
                "tab" => st.tab = Tab::from_id(&v).unwrap_or(st.tab),
                "scope" => {
                    let parsed = espi_scope::parse(&v);
                    if let Some(scope) = parsed.value.scopes.first() {
                        st.form.set_scope(scope);
                    }
                }
                "client_id" => st.form.client_id = v,
                "redirect_uri" => st.form.redirect_uri = v,
                "endpoint" => st.form.endpoint = v,
                "history_unit" => unit = HistoryUnit::from_name(&v),
                "decode" => st.decode = v,
                "lang" => st.lang = Lang::from_tag(&v).unwrap_or(st.lang),
                "theme" => st.theme = Theme::from_name(&v).unwrap_or(st.theme),
                _ => {}
            }
        }
        if let (Some(unit), Ok(Some(secs))) = (unit, st.form.history_seconds())
            && secs % unit.seconds() == 0
        {
            st.form.history_unit = unit;
            st.form.history_amount = (secs / unit.seconds()).to_string();
        }
        st
    }
}

// ---------------------------------------------------------------------------
// Token requests (PKCE itself is `espi_scope::pkce`)

/// The HTTP Basic `Authorization` value for a client (RFC 6749 §2.3.1:
/// id and secret form-encoded first).
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let raw = format!(
        "{}:{}",
        percent_encode_component(client_id),
        percent_encode_component(secret)
    );
    format!("Basic {}", STANDARD.encode(raw.as_bytes()))
}

/// The token request body for an authorization code.
pub fn token_request_body(code: &str, redirect_uri: &str, verifier: &str) -> String {
    format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={}",
        percent_encode_component(code),
        percent_encode_component(redirect_uri),
        percent_encode_component(verifier)
    )
}

/// Reads one parameter of a query string (decoded).
pub fn query_param(query: &str, name: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| form_decode(v).unwrap_or_else(|_| v.to_string()))
    })
}

// ---------------------------------------------------------------------------
// Decoding

/// What the Decode tab recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Nothing typed.
    Empty,
    /// A scope value.
    Scope,
    /// An authorization URL.
    AuthorizationUrl,
    /// A token response (JSON).
    TokenResponse,
}

impl InputKind {
    /// Words for the page.
    pub fn label(self) -> &'static str {
        match self {
            InputKind::Empty => "nothing yet",
            InputKind::Scope => "a scope string",
            InputKind::AuthorizationUrl => "an authorization URL",
            InputKind::TokenResponse => "a token response",
        }
    }
}

/// One problem found, with a byte span into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// A stable code (`invalid-function-block`, `invalid-json`, ...).
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
    /// Where in the input.
    pub span: Range<usize>,
}

/// The Decode tab's reading of its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// What the input is.
    pub kind: InputKind,
    /// The scope text found (decoded), if any.
    pub scope_text: Option<String>,
    /// The scope read from it.
    pub scope: Option<espi_scope::ScopeValue>,
    /// Problems, spans into the input.
    pub findings: Vec<Finding>,
    /// The other parameters (URL) or fields (token response), explained.
    pub fields: Vec<Field>,
}

/// A parameter or JSON field and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Value as text.
    pub value: String,
    /// Meaning.
    pub meaning: String,
}

fn finding_from(d: espi_scope::Diagnostic, shift: usize) -> Finding {
    Finding {
        severity: d.severity,
        code: d.code.as_str().to_string(),
        message: d.message,
        span: d.span.start + shift..d.span.end + shift,
    }
}

fn url_field_meaning(name: &str) -> &'static str {
    match name {
        "response_type" => "What the client asks for: \"code\" for the authorization code grant.",
        "client_id" => "The third party's id, registered with the utility.",
        "redirect_uri" => {
            "Where the utility sends the customer back; must match a registered URI exactly."
        }
        "state" => "An opaque value the client checks on return, against forged requests.",
        "code_challenge" => {
            "PKCE (RFC 7636): the hash of a secret the client proves at the token endpoint."
        }
        "code_challenge_method" => "PKCE method; S256 is the one to use.",
        "endpoint" => "The utility's authorization endpoint.",
        _ => "",
    }
}

fn token_field_meaning(name: &str) -> &'static str {
    match name {
        "token_type" => "Always \"Bearer\".",
        "access_token" => "Reads this customer's subscription; short-lived.",
        "refresh_token" => "Gets a new access token; rotated on every use.",
        "expires_in" => "Seconds the access token lives (3600 typical).",
        "scope" => {
            "The FINAL scope: what the customer granted, possibly with extra informational terms."
        }
        "resourceURI" => "The subscription to fetch: .../Batch/Subscription/{id}.",
        "authorizationURI" => "The ESPI Authorization resource of this grant.",
        "customerResourceURI" => "The retail customer resource: .../Batch/RetailCustomer/{id}.",
        "error" => "An OAuth error code.",
        "error_description" => "The server's explanation of the error.",
        _ => "",
    }
}

/// Where a JSON string field's raw text starts and ends in `json`, when the
/// field `name` is a string at the top level (first occurrence).
fn json_string_span(json: &str, name: &str) -> Option<Range<usize>> {
    let key = format!("\"{name}\"");
    let mut from = 0;
    while let Some(i) = json.get(from..)?.find(&key) {
        let after = from + i + key.len();
        let rest = json.get(after..)?;
        let trimmed = rest.trim_start();
        if let Some(r) = trimmed.strip_prefix(':') {
            let r2 = r.trim_start();
            if r2.starts_with('"') {
                let start = json.len() - r2.len() + 1;
                let bytes = json.as_bytes();
                let mut j = start;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 2,
                        b'"' => return Some(start..j),
                        _ => j += 1,
                    }
                }
                return None;
            }
        }
        from = after;
    }
    None
}

/// Reads a scope string, an authorization URL or a token response JSON.
pub fn decode_input(input: &str) -> Decoded {
    let t = input.trim();
    let mut out = Decoded {
        kind: InputKind::Empty,
        scope_text: None,
        scope: None,
        findings: Vec::new(),
        fields: Vec::new(),
    };
    if t.is_empty() {
        return out;
    }
    if t.starts_with('{') {
        out.kind = InputKind::TokenResponse;
        let v: serde_json::Value = match serde_json::from_str(t) {
            Ok(v) => v,
            Err(e) => {
                let lead = input.len() - input.trim_start().len();
                let at = line_col_to_offset(t, e.line(), e.column()).map_or(0, |o| o + lead);
                out.findings.push(Finding {
                    severity: Severity::Error,
                    code: "invalid-json".into(),
                    message: format!("This is not valid JSON: {e}."),
                    span: at..(at + 1).min(input.len()),
                });
                return out;
            }
        };
        let Some(obj) = v.as_object() else {
            return out;
        };
        for (k, val) in obj {
            let value = match val {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if k != "scope" {
                out.fields.push(Field {
                    name: k.clone(),
                    value,
                    meaning: token_field_meaning(k).to_string(),
                });
            }
        }
        if let Some(scope) = obj.get("scope").and_then(|s| s.as_str()) {
            let parsed = espi_scope::parse(scope);
            let raw = json_string_span(input, "scope");
            for d in parsed.diagnostics {
                let mut f = finding_from(d, 0);
                f.span = match &raw {
                    // No escapes: the raw text is the scope, so spans map 1:1.
                    Some(r) if input.get(r.clone()) == Some(scope) => {
                        f.span.start + r.start..f.span.end + r.start
                    }
                    Some(r) => r.clone(),
                    None => 0..0,
                };
                out.findings.push(f);
            }
            out.scope_text = Some(scope.to_string());
            out.scope = Some(parsed.value);
        } else {
            out.findings.push(Finding {
                severity: Severity::Warning,
                code: "no-scope-field".into(),
                message:
                    "The token response has no \"scope\" field, so the final scope is unknown."
                        .into(),
                span: 0..0,
            });
        }
        return out;
    }
    let looks_like_url = (t.contains("://") || t.starts_with('/')) || t.contains("?");
    if looks_like_url {
        out.kind = InputKind::AuthorizationUrl;
        let (req, diags) = AuthorizationRequest::from_url(input);
        out.findings = diags.into_iter().map(|d| finding_from(d, 0)).collect();
        if let Some(req) = req {
            let scope = espi_scope::parse(&req.scope);
            out.scope_text = Some(req.scope.clone());
            out.scope = Some(scope.value);
            let mut push = |n: &str, v: &str| {
                out.fields.push(Field {
                    name: n.into(),
                    value: v.into(),
                    meaning: url_field_meaning(n).into(),
                })
            };
            push("endpoint", &req.endpoint);
            push("response_type", &req.response_type);
            push("client_id", &req.client_id);
            push("redirect_uri", &req.redirect_uri);
            if let Some(s) = &req.state {
                push("state", s);
            }
            if let Some(s) = &req.code_challenge {
                push("code_challenge", s);
            }
            if let Some(s) = &req.code_challenge_method {
                push("code_challenge_method", s);
            }
        }
        return out;
    }
    out.kind = InputKind::Scope;
    let parsed = espi_scope::parse(input);
    out.findings = parsed
        .diagnostics
        .into_iter()
        .map(|d| finding_from(d, 0))
        .collect();
    out.scope_text = Some(input.to_string());
    out.scope = Some(parsed.value);
    out
}

fn line_col_to_offset(s: &str, line: usize, col: usize) -> Option<usize> {
    let mut off = 0;
    for (i, l) in s.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return Some(off + col.saturating_sub(1).min(l.len()));
        }
        off += l.len();
    }
    None
}

/// Splits `input` around `span` (clamped to char boundaries):
/// (before, marked, after).
pub fn split_span<'a>(input: &'a str, span: &Range<usize>) -> (&'a str, &'a str, &'a str) {
    let fix = |mut i: usize| {
        i = i.min(input.len());
        while !input.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(span.start);
    let end = fix(span.end.max(span.start));
    (&input[..start], &input[start..end], &input[end..])
}

/// A function block line for the explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockLine {
    /// The id.
    pub id: u16,
    /// The official name.
    pub name: &'static str,
    /// Status in words ("active", "deprecated, replaced by 51", ...).
    pub status: String,
    /// The status code (`active`, `deprecated`, ...) for styling.
    pub status_code: &'static str,
    /// What it means for the customer.
    pub description: &'static str,
}

/// The status of a block in words.
pub fn status_words(status: Status) -> String {
    match status {
        Status::Active => "active".into(),
        Status::Deprecated {
            replaced_by: Some(r),
        } => format!("deprecated, replaced by {r}"),
        Status::Deprecated { replaced_by: None } => "deprecated".into(),
        Status::NotAScopeTerm => "not a scope term".into(),
        Status::Unknown => "unknown".into(),
    }
}

/// The named list of a scope's function blocks.
pub fn block_lines(scope: &EspiScope) -> Vec<BlockLine> {
    scope
        .function_blocks
        .iter()
        .map(|&id| {
            let fb = catalog::function_block(id);
            BlockLine {
                id,
                name: if fb.is_known() {
                    fb.name
                } else {
                    "Unknown block"
                },
                status: status_words(fb.status),
                status_code: fb.status.as_str(),
                description: fb.description_en,
            }
        })
        .collect()
}

fn list(ds: &[Duration]) -> String {
    ds.iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("_")
}

fn list_words(ds: &[Duration]) -> String {
    ds.iter()
        .map(|d| describe::duration(d, Lang::En))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Words for one `AdditionalScope` item.
pub fn additional_words(a: &AdditionalScope) -> String {
    match a {
        AdditionalScope::NoEdit => "The customer may not edit the request (noedit).".into(),
        AdditionalScope::MetersAll => "Every meter of the customer.".into(),
        AdditionalScope::Meter(id) => format!("The meter with service agreement id {id}."),
        AdditionalScope::ScopeOfUse(s) => format!("Disclosed scope of use: \"{s}\"."),
        AdditionalScope::Auth {
            method,
            value: Some(v),
        } => format!("Sign-in hint: {method} ({v})."),
        AdditionalScope::Auth {
            method,
            value: None,
        } => format!("Sign-in hint: {method}."),
        AdditionalScope::Historical(v) => format!("Historical data from {v} (set by the utility)."),
        AdditionalScope::Ongoing(v) => format!("Ongoing data: {v} (set by the utility)."),
        AdditionalScope::Other(v) => {
            format!("\"{v}\": not a UtilityAPI item (PG&E uses category words).")
        }
    }
}

/// The terms of a scope other than `FB`, each explained.
pub fn term_fields(scope: &EspiScope) -> Vec<Field> {
    let mut out = Vec::new();
    let mut push = |n: &str, v: String, m: String| {
        out.push(Field {
            name: n.into(),
            value: v,
            meaning: m,
        })
    };
    if !scope.interval_durations.is_empty() {
        push(
            "IntervalDuration",
            list(&scope.interval_durations),
            format!(
                "Interval lengths: {}.",
                list_words(&scope.interval_durations)
            ),
        );
    }
    if !scope.block_durations.is_empty() {
        push(
            "BlockDuration",
            list(&scope.block_durations),
            format!("Data blocks: {}.", list_words(&scope.block_durations)),
        );
    }
    if let Some(h) = scope.history_length {
        push(
            "HistoryLength",
            h.to_string(),
            format!(
                "{} (seconds).",
                capitalise(&describe::history_length(h, Lang::En))
            ),
        );
    }
    if let Some(f) = scope.subscription_frequency {
        push(
            "SubscriptionFrequency",
            f.to_string(),
            format!("New data pushed {}.", describe::duration(&f, Lang::En)),
        );
    }
    if let Some(n) = scope.account_collection {
        push(
            "AccountCollection",
            n.to_string(),
            format!("{n} usage point(s); informational, added by the utility."),
        );
    }
    if let Some(b) = &scope.bulk_id {
        push("BR", b.clone(), format!("Bulk id: .../Batch/Bulk/{b}."));
    }
    if let Some(t) = scope.preferred_auth_end_date {
        let when = describe::end_date(t, Lang::En);
        push(
            "PreferredAuthEndDate",
            t.to_string(),
            if t == 0 {
                "The authorization lasts until the customer revokes it.".into()
            } else {
                format!("The authorization should end on {when} (UTC).")
            },
        );
    }
    for a in &scope.additional_scope {
        push("AdditionalScope", a.to_string(), additional_words(a));
    }
    for e in &scope.extra_terms {
        match e {
            ExtraTerm::KeyValue { key, value } => push(
                key,
                value.clone(),
                "A term the ESPI grammar does not define; kept as written.".into(),
            ),
            ExtraTerm::Bare(w) => push(
                w,
                String::new(),
                "A word without \"=\"; kept as written.".into(),
            ),
        }
    }
    out
}

/// `s` with its first letter in upper case.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use espi_scope::pkce::{self, Pkce};

    #[test]
    fn default_form_builds_the_utilityapi_scope() {
        let f = BuildForm::default();
        assert_eq!(
            f.scope_string(),
            "FB=4_16_51;IntervalDuration=900_3600;HistoryLength=63072000"
        );
    }

    #[test]
    fn every_field_reaches_the_scope() {
        let mut f = BuildForm::default();
        f.function_blocks.insert(1);
        f.function_blocks.insert(46);
        f.intervals = vec![Duration::Seconds(900), Duration::Named(Frequency::Monthly)];
        f.block_duration = Some(Duration::Named(Frequency::Daily));
        f.subscription_frequency = Some(Duration::Named(Frequency::Daily));
        f.history_amount = "13".into();
        f.history_unit = HistoryUnit::Weeks;
        f.end = EndChoice::OnDate;
        f.end_date = "2027-03-05".into();
        f.noedit = true;
        f.meters = MetersChoice::Listed;
        f.meter_ids = "123, 0456".into();
        f.scope_of_use = "solar".into();
        f.auth_method = "phone".into();
        f.auth_value = "5554443333".into();
        assert_eq!(
            f.scope_string(),
            "FB=1_4_16_46_51;IntervalDuration=900_monthly;BlockDuration=daily;\
             HistoryLength=7862400;SubscriptionFrequency=daily;PreferredAuthEndDate=1804204800;\
             AdditionalScope=noedit_meters-123_meters-0456_sou-solar_auth-phone-5554443333"
        );
        f.end = EndChoice::UntilRevoked;
        f.meters = MetersChoice::All;
        f.history_amount = String::new();
        assert!(f.scope_string().contains("PreferredAuthEndDate=0;"));
        assert!(f.scope_string().contains("meters-all"));
        assert!(!f.scope_string().contains("HistoryLength"));
    }

    #[test]
    fn set_scope_round_trips_and_keeps_unknown_terms() {
        let s = "FB=4_5_16;IntervalDuration=900_monthly;BlockDuration=daily;HistoryLength=63072000;\
                 SubscriptionFrequency=daily;AccountCollection=2;BR=007;PreferredAuthEndDate=1804204800;\
                 AdditionalScope=noedit_meters-all_sou-solar_auth-login_Usage;dataCustodianId=PGE";
        let scope: EspiScope = s.parse().unwrap();
        let mut f = BuildForm::default();
        f.set_scope(&scope);
        assert_eq!(f.history_amount, "2");
        assert_eq!(f.history_unit, HistoryUnit::Years);
        assert_eq!(f.end_date, "2027-03-05");
        assert_eq!(f.meters, MetersChoice::All);
        assert_eq!(f.to_scope(), scope);
        assert_eq!(f.scope_string(), s);
    }

    #[test]
    fn query_round_trip_reproduces_the_page() {
        let mut st = PageState {
            tab: Tab::Decode,
            decode: "FB=4_x; a&b=c".into(),
            lang: Lang::Es,
            theme: Theme::Dark,
            ..PageState::default()
        };
        st.form.client_id = "my app".into();
        st.form.redirect_uri = "https://a.example/cb?x=1".into();
        st.form.history_amount = "104".into();
        st.form.history_unit = HistoryUnit::Weeks;
        st.form.scope_of_use = "solar-sizing".into();
        let q = st.to_query();
        assert!(q.starts_with("tab=decode&scope=FB%3D4_16_51%3B"));
        let back = PageState::from_query(&format!("?{q}"));
        assert_eq!(back, st);
        assert_eq!(back.to_query(), q);
    }

    #[test]
    fn query_tolerates_junk() {
        let st = PageState::from_query("?tab=nope&scope=%ZZ&lang=fr&theme=&x");
        assert_eq!(st, PageState::default());
        let st = PageState::from_query("scope=fb%3D16_4");
        assert_eq!(st.form.scope_string(), "FB=4_16");
    }

    #[test]
    fn dates() {
        assert_eq!(date_to_unix("2027-03-05"), Some(1_804_204_800));
        assert_eq!(date_to_unix("1970-01-01"), Some(0));
        assert_eq!(date_to_unix("2024-02-29"), Some(1_709_164_800));
        assert_eq!(date_to_unix("2027-02-31"), None);
        assert_eq!(date_to_unix("soon"), None);
        assert_eq!(unix_to_date(1_709_164_800), "2024-02-29");
    }

    #[test]
    fn pkce_s256() {
        // Expected values computed independently (Python hashlib + base64).
        let bytes: [u8; 32] = core::array::from_fn(|i| i as u8);
        let p = Pkce::from_random(&bytes);
        assert_eq!(p.verifier, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8");
        assert_eq!(p.challenge, "6oZqdX5MOLq_qBJ8vppAnT4fk6AP8UiP9zX8-Rev_9A");
        assert_eq!(
            pkce::challenge_s256("dBjftJeZ4CVP-mJ0tZYuHkSTUrbPOHpVvKIdcGSgBHk"),
            "5xngEcwzPF_Z2YraxzVObhnWRGFn509DsYezk1rgVFw"
        );
    }

    #[test]
    fn base64_and_basic_auth() {
        assert_eq!(STANDARD.encode(b"f"), "Zg==");
        assert_eq!(STANDARD.encode(b"fo"), "Zm8=");
        assert_eq!(STANDARD.encode(b"foo"), "Zm9v");
        assert_eq!(pkce::base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(
            basic_auth("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuJTIwc2VzYW1l"
        );
        assert_eq!(
            token_request_body("a/b", "https://x.example/cb", "v"),
            "grant_type=authorization_code&code=a%2Fb&redirect_uri=https%3A%2F%2Fx.example%2Fcb&code_verifier=v"
        );
    }

    #[test]
    fn authorization_url_decodes_back_to_the_same_scope() {
        let f = BuildForm {
            auth_method: "sso".into(),
            auth_value: "acme".into(),
            ..BuildForm::default()
        };
        let req = f.authorization_request("http://127.0.0.1:8080", "st", "ch");
        let url = req.to_url();
        assert!(url.starts_with("http://127.0.0.1:8080/oauth/authorize?response_type=code&"));
        let d = decode_input(&url);
        assert_eq!(d.kind, InputKind::AuthorizationUrl);
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert_eq!(d.scope.unwrap().to_string(), f.scope_string());
        assert!(
            d.fields
                .iter()
                .any(|x| x.name == "code_challenge_method" && x.value == "S256")
        );
    }

    #[test]
    fn malformed_scope_points_at_the_problem() {
        let input = "FB=4_x;HistoryLength=2y";
        let d = decode_input(input);
        assert_eq!(d.kind, InputKind::Scope);
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(codes.contains(&"invalid-function-block"), "{codes:?}");
        assert!(codes.contains(&"invalid-number"), "{codes:?}");
        let fb = d
            .findings
            .iter()
            .find(|f| f.code == "invalid-function-block")
            .unwrap();
        assert_eq!(split_span(input, &fb.span).1, "x");
    }

    #[test]
    fn token_response_spans_point_into_the_json() {
        let json = r#"{"token_type":"Bearer","access_token":"a","expires_in":3600,
            "scope":"FB=4_16_16;HistoryLength=63072000;AccountCollection=1","resourceURI":"r"}"#;
        let d = decode_input(json);
        assert_eq!(d.kind, InputKind::TokenResponse);
        assert_eq!(
            d.scope.as_ref().unwrap().to_string(),
            "FB=4_16;HistoryLength=63072000;AccountCollection=1"
        );
        let dup = d
            .findings
            .iter()
            .find(|f| f.code == "duplicate-function-block")
            .unwrap();
        assert_eq!(split_span(json, &dup.span).1, "16");
        assert!(
            d.fields
                .iter()
                .any(|f| f.name == "expires_in" && f.value == "3600")
        );
        let bad = decode_input("{\"scope\": ");
        assert_eq!(bad.findings[0].code, "invalid-json");
    }

    #[test]
    fn explanations_name_blocks_and_terms() {
        let scope: EspiScope = "FB=4_46_99;IntervalDuration=900;HistoryLength=63072000;PreferredAuthEndDate=0;AdditionalScope=noedit"
            .parse()
            .unwrap();
        let lines = block_lines(&scope);
        assert_eq!(lines[0].name, "Interval Metering");
        assert_eq!(lines[1].status, "deprecated, replaced by 51");
        assert_eq!(lines[2].status, "unknown");
        let terms = term_fields(&scope);
        assert_eq!(terms[0].meaning, "Interval lengths: 15 minutes.");
        assert_eq!(terms[1].meaning, "2 years of history (seconds).");
        assert!(terms[2].meaning.contains("until the customer revokes"));
        assert!(terms[3].meaning.contains("noedit"));
    }

    #[test]
    fn split_span_is_safe() {
        assert_eq!(split_span("añb", &(1..2)), ("a", "", "ñb"));
        assert_eq!(split_span("ab", &(5..9)), ("ab", "", ""));
        assert_eq!(
            query_param("?code=a%2Fb&state=s", "code").as_deref(),
            Some("a/b")
        );
        assert_eq!(query_param("code=x", "state"), None);
    }
}
