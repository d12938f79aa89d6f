//! `gbscope`: decode Green Button scope strings and build authorization URLs.
//!
//! Exit status: 0 when there is no error diagnostic, 1 when there is one,
//! 2 for a usage mistake.

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Args, Parser, Subcommand};
use espi_scope::authorization_url::AuthorizationRequest;
use espi_scope::catalog;
use espi_scope::describe::{self, Lang};
use espi_scope::pkce::{self, Pkce};
use espi_scope::{
    AdditionalScope, ConsentRole, Diagnostic, DiagnosticCode, Duration, EspiScope, ExtraTerm,
    MeterRequest, ScopeValue, Severity,
};
use serde::Serialize;

/// The help text (`gbscope help`, `--help`, `-h`) and the text shown after a
/// usage mistake.
const USAGE: &str = "\
gbscope: decode Green Button (ESPI) scope strings and build authorization URLs

USAGE:
    gbscope decode [--json] [--lang en|es] [SCOPE]     (SCOPE read from stdin if omitted)
    gbscope decode [--json] [--lang en|es] --url URL
    gbscope url --endpoint URL --client-id ID --redirect-uri URI --scope SCOPE
                [--state S] [--pkce] [--json]
    gbscope help | --help | -h
    gbscope --version

EXIT STATUS:
    0  no error diagnostic      1  at least one error      2  usage mistake
";

/// The command line. A later `--opt` replaces an earlier one; option values
/// may start with `-` (`--state -x`).
#[derive(Parser)]
#[command(name = "gbscope", version, override_help = USAGE, args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode a scope (argument or stdin) or an authorization URL.
    Decode(DecodeArgs),
    /// Build an authorization URL.
    Url(UrlArgs),
}

#[derive(Args)]
struct DecodeArgs {
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Language of the descriptions (a BCP 47 tag: `en`, `es-MX`, …).
    #[arg(long, default_value = "en", value_parser = parse_lang, allow_hyphen_values = true)]
    lang: Lang,
    /// An authorization URL to decode instead of a scope.
    #[arg(long, conflicts_with = "scope", allow_hyphen_values = true)]
    url: Option<String>,
    /// The scope value; read from stdin when omitted or `-`.
    scope: Option<String>,
}

#[derive(Args)]
struct UrlArgs {
    /// The authorization endpoint.
    #[arg(long, allow_hyphen_values = true)]
    endpoint: String,
    /// The third party's client id.
    #[arg(long, allow_hyphen_values = true)]
    client_id: String,
    /// Where the customer is sent back.
    #[arg(long, allow_hyphen_values = true)]
    redirect_uri: String,
    /// The scope value.
    #[arg(long, allow_hyphen_values = true)]
    scope: String,
    /// The `state` parameter.
    #[arg(long, allow_hyphen_values = true)]
    state: Option<String>,
    /// Add an S256 PKCE challenge (the verifier goes to stderr, or the JSON).
    #[arg(long)]
    pkce: bool,
    /// One JSON object instead of the URL.
    #[arg(long)]
    json: bool,
}

fn parse_lang(tag: &str) -> Result<Lang, String> {
    Lang::from_tag(tag).ok_or_else(|| format!("unsupported language {tag:?} (en or es)"))
}

fn main() -> ExitCode {
    // Arguments that are not UTF-8 are read with U+FFFD, like stdin.
    let args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    let result = match cli.command {
        Command::Decode(args) => decode_cmd(args),
        Command::Url(args) => Ok(url_cmd(args)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(msg) => usage_mistake(&msg),
    }
}

/// Help and version go to stdout (status 0); any other clap error is a
/// usage mistake.
fn clap_exit(e: &clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            usage_mistake("missing command")
        }
        _ => {
            // clap's message without its own usage and tips (after the
            // first blank line).
            let text = e.to_string();
            let msg: Vec<&str> = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let msg = msg.join(" ");
            usage_mistake(msg.strip_prefix("error: ").unwrap_or(&msg))
        }
    }
}

/// `gbscope: MESSAGE`, the usage text, status 2.
fn usage_mistake(msg: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "gbscope: {msg}\n\n{USAGE}");
    ExitCode::from(2)
}

fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

fn err_out(s: &str) {
    let _ = std::io::stderr().lock().write_all(s.as_bytes());
}

/// Pretty JSON with the keys in alphabetical order (through `Value`).
fn out_json(v: &impl Serialize) {
    let text = serde_json::to_value(v)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| "null".to_string());
    out(&format!("{text}\n"));
}

// ---------------------------------------------------------------------------
// decode

fn decode_cmd(args: DecodeArgs) -> Result<u8, String> {
    if let Some(u) = &args.url {
        return Ok(decode_url(u, args.json, args.lang));
    }
    let input = match args.scope {
        Some(s) if s != "-" => s,
        _ => read_stdin()?,
    };
    let parsed = espi_scope::parse(&input);
    if args.json {
        out_json(&DecodeJson::new(
            &input,
            None,
            &parsed.value,
            &parsed.diagnostics,
            args.lang,
        ));
    } else {
        let mut s = format!("input: {}\n", printable(&input));
        value_table(&mut s, &parsed.value, args.lang);
        diags_table(&mut s, &input, &parsed.diagnostics);
        out(&s);
    }
    Ok(u8::from(parsed.has_errors()))
}

fn read_stdin() -> Result<String, String> {
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    let mut s = String::from_utf8_lossy(&buf).into_owned();
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    Ok(s)
}

fn decode_url(url: &str, json_out: bool, lang: Lang) -> u8 {
    let (req, diags) = AuthorizationRequest::from_url(url);
    let value = req
        .as_ref()
        .map(|r| espi_scope::parse(&r.scope).value)
        .unwrap_or_default();
    if json_out {
        out_json(&DecodeJson::new(
            url,
            Some(req.as_ref()),
            &value,
            &diags,
            lang,
        ));
    } else {
        let mut s = format!("url: {}\n", printable(url));
        if let Some(r) = &req {
            request_table(&mut s, r);
            value_table(&mut s, &value, lang);
        }
        diags_table(&mut s, url, &diags);
        out(&s);
    }
    u8::from(diags.iter().any(Diagnostic::is_error))
}

// ---------------------------------------------------------------------------
// JSON (`decode --json`, `url --json`): the shape README documents.

/// `decode --json`.
#[derive(Serialize)]
struct DecodeJson<'a> {
    input: &'a str,
    /// Only with `--url`: the parameters, or `null` when one is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Option<&'a AuthorizationRequest>>,
    scopes: Vec<ScopeJson<'a>>,
    other_scopes: &'a [String],
    diagnostics: Vec<DiagnosticJson<'a>>,
}

impl<'a> DecodeJson<'a> {
    fn new(
        input: &'a str,
        request: Option<Option<&'a AuthorizationRequest>>,
        value: &'a ScopeValue,
        diags: &'a [Diagnostic],
        lang: Lang,
    ) -> Self {
        DecodeJson {
            input,
            request,
            scopes: value
                .scopes
                .iter()
                .map(|s| ScopeJson::new(s, lang))
                .collect(),
            other_scopes: &value.other_scopes,
            diagnostics: DiagnosticJson::all(input, diags),
        }
    }
}

/// One ESPI scope: its fields, the catalog's view of its blocks and its
/// terms in words.
#[derive(Serialize)]
struct ScopeJson<'a> {
    canonical: String,
    function_blocks: Vec<FunctionBlockJson>,
    interval_durations: &'a [Duration],
    block_durations: &'a [Duration],
    history_length: Option<u64>,
    subscription_frequency: Option<Duration>,
    account_collection: Option<u32>,
    bulk_id: Option<&'a str>,
    preferred_auth_end_date: Option<u64>,
    additional_scope: Vec<AdditionalJson<'a>>,
    extra_terms: Vec<ExtraJson<'a>>,
    no_edit: bool,
    meter_request: MeterJson,
    scope_of_use: Option<&'a str>,
    described: DescribedJson,
}

impl<'a> ScopeJson<'a> {
    fn new(s: &'a EspiScope, lang: Lang) -> Self {
        ScopeJson {
            canonical: s.to_string(),
            function_blocks: s
                .function_blocks
                .iter()
                .map(|&id| FunctionBlockJson::new(id, lang))
                .collect(),
            interval_durations: &s.interval_durations,
            block_durations: &s.block_durations,
            history_length: s.history_length,
            subscription_frequency: s.subscription_frequency,
            account_collection: s.account_collection,
            bulk_id: s.bulk_id.as_deref(),
            preferred_auth_end_date: s.preferred_auth_end_date,
            additional_scope: s.additional_scope.iter().map(AdditionalJson::new).collect(),
            extra_terms: s.extra_terms.iter().map(ExtraJson::new).collect(),
            no_edit: s.no_edit(),
            meter_request: MeterJson::new(s.meter_request()),
            scope_of_use: s.scope_of_use(),
            described: DescribedJson::new(s, lang),
        }
    }
}

#[derive(Serialize)]
struct FunctionBlockJson {
    id: u16,
    name: &'static str,
    status: &'static str,
    role: ConsentRole,
    replaced_by: Option<u16>,
    description: &'static str,
}

impl FunctionBlockJson {
    fn new(id: u16, lang: Lang) -> Self {
        let fb = catalog::function_block(id);
        FunctionBlockJson {
            id,
            name: fb.name,
            status: fb.status.as_str(),
            role: fb.role,
            replaced_by: fb.replaced_by(),
            description: describe::function_block_description(id, lang),
        }
    }
}

#[derive(Serialize)]
struct AdditionalJson<'a> {
    kind: &'static str,
    text: String,
    value: Option<&'a str>,
    method: Option<&'a str>,
}

impl<'a> AdditionalJson<'a> {
    fn new(a: &'a AdditionalScope) -> Self {
        let (kind, value, method) = match a {
            AdditionalScope::NoEdit => ("no-edit", None, None),
            AdditionalScope::MetersAll => ("meters-all", None, None),
            AdditionalScope::Meter(s) => ("meter", Some(s), None),
            AdditionalScope::ScopeOfUse(s) => ("scope-of-use", Some(s), None),
            AdditionalScope::Auth { method, value } => ("auth", value.as_ref(), Some(method)),
            AdditionalScope::Historical(s) => ("historical", Some(s), None),
            AdditionalScope::Ongoing(s) => ("ongoing", Some(s), None),
            AdditionalScope::Other(s) => ("other", Some(s), None),
        };
        AdditionalJson {
            kind,
            text: a.to_string(),
            value: value.map(String::as_str),
            method: method.map(String::as_str),
        }
    }
}

/// An unknown term; `key` is `null` for a bare word.
#[derive(Serialize)]
struct ExtraJson<'a> {
    key: Option<&'a str>,
    value: &'a str,
}

impl<'a> ExtraJson<'a> {
    fn new(t: &'a ExtraTerm) -> Self {
        match t {
            ExtraTerm::KeyValue { key, value } => ExtraJson {
                key: Some(key),
                value,
            },
            ExtraTerm::Bare(w) => ExtraJson {
                key: None,
                value: w,
            },
        }
    }
}

#[derive(Serialize)]
struct MeterJson {
    kind: &'static str,
    meters: Vec<String>,
}

impl MeterJson {
    fn new(m: MeterRequest) -> Self {
        let (kind, meters) = match m {
            MeterRequest::All => ("all", Vec::new()),
            MeterRequest::Listed(v) => ("listed", v),
            MeterRequest::Unspecified => ("unspecified", Vec::new()),
        };
        MeterJson { kind, meters }
    }
}

/// The scope's terms in words.
#[derive(Serialize)]
struct DescribedJson {
    lang: Lang,
    interval_durations: Vec<String>,
    block_durations: Vec<String>,
    history_length: Option<String>,
    subscription_frequency: Option<String>,
    preferred_auth_end_date: Option<String>,
}

impl DescribedJson {
    fn new(s: &EspiScope, lang: Lang) -> Self {
        let words = |ds: &[Duration]| ds.iter().map(|d| describe::duration(d, lang)).collect();
        DescribedJson {
            lang,
            interval_durations: words(&s.interval_durations),
            block_durations: words(&s.block_durations),
            history_length: s.history_length.map(|h| describe::history_length(h, lang)),
            subscription_frequency: s
                .subscription_frequency
                .map(|d| describe::duration(&d, lang)),
            preferred_auth_end_date: s
                .preferred_auth_end_date
                .map(|e| describe::end_date(e, lang)),
        }
    }
}

/// A diagnostic with its byte span and 1-based line and column.
#[derive(Serialize)]
struct DiagnosticJson<'a> {
    severity: Severity,
    code: DiagnosticCode,
    message: &'a str,
    start: usize,
    end: usize,
    line: usize,
    column: usize,
}

impl<'a> DiagnosticJson<'a> {
    fn all(input: &str, diags: &'a [Diagnostic]) -> Vec<Self> {
        diags
            .iter()
            .map(|d| {
                let (line, column) = line_col(input, d.span.start);
                DiagnosticJson {
                    severity: d.severity,
                    code: d.code,
                    message: &d.message,
                    start: d.span.start,
                    end: d.span.end,
                    line,
                    column,
                }
            })
            .collect()
    }
}

/// `url --json`.
#[derive(Serialize)]
struct UrlJson<'a> {
    url: String,
    code_verifier: Option<&'a str>,
    code_challenge: Option<&'a str>,
    code_challenge_method: Option<&'a str>,
    state: Option<&'a str>,
    diagnostics: Vec<DiagnosticJson<'a>>,
}

// ---------------------------------------------------------------------------
// The readable table

fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(input: &str, at: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in input.char_indices() {
        if i >= at {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

fn request_table(s: &mut String, r: &AuthorizationRequest) {
    for (k, v) in [
        ("endpoint", Some(&r.endpoint)),
        ("response_type", Some(&r.response_type)),
        ("client_id", Some(&r.client_id)),
        ("redirect_uri", Some(&r.redirect_uri)),
        ("scope", Some(&r.scope)),
        ("state", r.state.as_ref()),
        ("code_challenge", r.code_challenge.as_ref()),
        ("code_challenge_method", r.code_challenge_method.as_ref()),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("  {k:<22} {}\n", printable(v)));
        }
    }
}

fn value_table(s: &mut String, v: &ScopeValue, lang: Lang) {
    if !v.other_scopes.is_empty() {
        s.push_str(&format!(
            "other scopes: {}\n",
            printable(&v.other_scopes.join(" "))
        ));
    }
    for (n, sc) in v.scopes.iter().enumerate() {
        s.push_str(&format!(
            "\nscope {}: {}\n",
            n + 1,
            printable(&sc.to_string())
        ));
        function_block_table(s, &sc.function_blocks, lang);
        terms_table(s, sc, lang);
        additional_table(s, sc);
        for t in &sc.extra_terms {
            s.push_str(&format!(
                "  other term:             {}\n",
                printable(&t.to_string())
            ));
        }
    }
}

fn function_block_table(s: &mut String, ids: &[u16], lang: Lang) {
    if ids.is_empty() {
        return;
    }
    s.push_str("  function blocks:\n");
    s.push_str(&format!(
        "    {:>4}  {:<48} {:<17} {:<14} {}\n",
        "id", "name", "status", "role", "what it shares"
    ));
    for &id in ids {
        let fb = catalog::function_block(id);
        let status = match fb.replaced_by() {
            Some(r) => format!("deprecated→{r}"),
            None => fb.status.as_str().to_string(),
        };
        s.push_str(&format!(
            "    {:>4}  {:<48} {:<17} {:<14} {}\n",
            id,
            fb.name,
            status,
            fb.role.as_str(),
            describe::function_block_description(id, lang)
        ));
    }
}

fn terms_table(s: &mut String, sc: &EspiScope, lang: Lang) {
    let list = |ds: &[Duration]| -> String {
        ds.iter()
            .map(|d| describe::duration(d, lang))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut line = |label: &str, text: String| s.push_str(&format!("  {label:<23} {text}\n"));
    if !sc.interval_durations.is_empty() {
        line("interval durations:", list(&sc.interval_durations));
    }
    if !sc.block_durations.is_empty() {
        line("block durations:", list(&sc.block_durations));
    }
    if let Some(h) = sc.history_length {
        let words = describe::history_length(h, lang);
        line("history length:", format!("{words} ({h} s)"));
    }
    if let Some(f) = &sc.subscription_frequency {
        line("subscription frequency:", describe::duration(f, lang));
    }
    if let Some(a) = sc.account_collection {
        line("account collection:", a.to_string());
    }
    if let Some(b) = &sc.bulk_id {
        line("bulk id:", printable(b));
    }
    if let Some(e) = sc.preferred_auth_end_date {
        let words = describe::end_date(e, lang);
        line("authorization ends:", format!("{words} ({e})"));
    }
}

fn additional_table(s: &mut String, sc: &EspiScope) {
    if sc.additional_scope.is_empty() {
        return;
    }
    let mut line = |label: &str, text: &str| {
        s.push_str(&format!("  {label:<23} {}\n", printable(text)));
    };
    let meters = match sc.meter_request() {
        MeterRequest::All => "all meters".to_string(),
        MeterRequest::Listed(v) => format!("meters {}", v.join(", ")),
        MeterRequest::Unspecified => "not specified (the customer chooses)".to_string(),
    };
    line("meters:", &meters);
    if sc.no_edit() {
        line("editable:", "no (noedit)");
    }
    if let Some(sou) = sc.scope_of_use() {
        line("scope of use:", sou);
    }
    for (m, v) in sc.auth_hints() {
        let v = v.map(|v| format!(" {v}")).unwrap_or_default();
        line("authentication hint:", &format!("{m}{v}"));
    }
    let items: Vec<String> = sc.additional_scope.iter().map(|a| a.to_string()).collect();
    line("additional scope:", &items.join(", "));
}

fn diags_table(s: &mut String, input: &str, diags: &[Diagnostic]) {
    if diags.is_empty() {
        s.push_str("\nno problems found\n");
        return;
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    s.push_str(&format!(
        "\ndiagnostics: {errors} error(s), {} warning(s)\n",
        diags.len() - errors
    ));
    for d in diags {
        let (line, col) = line_col(input, d.span.start);
        s.push_str(&format!(
            "  {}[{}] line {line}, column {col}: {}\n",
            d.severity, d.code, d.message
        ));
        // The line of the input with a caret under the span.
        let line_text = input.split('\n').nth(line - 1).unwrap_or("");
        if line_text.chars().count() > 200 {
            continue;
        }
        let width = input
            .get(d.span.clone())
            .map(|t| t.split('\n').next().unwrap_or("").chars().count())
            .unwrap_or(1)
            .max(1);
        s.push_str(&format!("    {}\n", printable(line_text)));
        s.push_str(&format!(
            "    {}{}\n",
            " ".repeat(col - 1),
            "^".repeat(width)
        ));
    }
}

// ---------------------------------------------------------------------------
// url

fn url_cmd(args: UrlArgs) -> u8 {
    let pkce = if args.pkce {
        match Pkce::generate() {
            Ok(p) => Some(p),
            Err(e) => {
                err_out(&format!("gbscope: cannot get random bytes for PKCE: {e}\n"));
                return 1;
            }
        }
    } else {
        None
    };
    let req = AuthorizationRequest {
        endpoint: args.endpoint,
        response_type: "code".into(),
        client_id: args.client_id,
        redirect_uri: args.redirect_uri,
        scope: args.scope,
        state: args.state,
        code_challenge: pkce.as_ref().map(|p| p.challenge.clone()),
        code_challenge_method: pkce.as_ref().map(|_| pkce::METHOD_S256.to_string()),
    };
    let url = req.to_url();
    let parsed = espi_scope::parse(&req.scope);
    let verifier = pkce.as_ref().map(|p| p.verifier.as_str());
    if args.json {
        out_json(&UrlJson {
            url,
            code_verifier: verifier,
            code_challenge: req.code_challenge.as_deref(),
            code_challenge_method: req.code_challenge_method.as_deref(),
            state: req.state.as_deref(),
            diagnostics: DiagnosticJson::all(&req.scope, &parsed.diagnostics),
        });
    } else {
        out(&format!("{url}\n"));
        if let Some(v) = verifier {
            err_out(&format!("code_verifier: {v}\n"));
        }
        for d in &parsed.diagnostics {
            let (_, col) = line_col(&req.scope, d.span.start);
            err_out(&format!(
                "scope {}[{}] column {col}: {}\n",
                d.severity, d.code, d.message
            ));
        }
    }
    u8::from(parsed.has_errors())
}
