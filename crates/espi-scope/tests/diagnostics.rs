//! One test case (at least) for every diagnostic code, with its span.

use espi_scope::authorization_url::AuthorizationRequest;
use espi_scope::{Diagnostic, DiagnosticCode, ParseErrorKind, ScopeValue, Severity, parse};

const LONG: &str = "FB=1_3_4_5_13_15_16_28_37_39_51_54_55_56_57_58_59_60_61_62;IntervalDuration=900_3600;BlockDuration=daily_monthly;HistoryLength=63072000;SubscriptionFrequency=daily;PreferredAuthEndDate=1804204800;AdditionalScope=meters-all_sou-research-on-energy-efficiency_auth-login;dataCustodianId=PGE";

/// (input, code, text the span must cover). Inputs starting with `url:` go
/// through `AuthorizationRequest::from_url`.
const CASES: &[(&str, &str, &str)] = &[
    ("", "empty-input", ""),
    (" ; ", "empty-input", " ; "),
    (
        "IntervalDuration=900",
        "missing-function-blocks",
        "IntervalDuration=900",
    ),
    (
        "HistoryLength=100000;BR=1",
        "missing-function-blocks",
        "HistoryLength=100000;BR=1",
    ),
    ("FB=;IntervalDuration=900", "empty-function-blocks", "FB="),
    // A keyless `=` fragment after a pipe: kept, it would read back as the
    // previous token's value.
    ("openid|=x", "empty-term", "=x"),
    ("FB", "empty-function-blocks", "FB"),
    ("FB=_", "empty-function-blocks", "FB=_"),
    ("FB=4_x", "invalid-function-block", "x"),
    ("FB=4_70000", "invalid-function-block", "70000"),
    ("FB=4_-5", "invalid-function-block", "-5"),
    ("FB=4;HistoryLength=2y", "invalid-number", "2y"),
    ("FB=4;AccountCollection=-1", "invalid-number", "-1"),
    (
        "FB=4;AccountCollection=99999999999",
        "invalid-number",
        "99999999999",
    ),
    (
        "FB=4;PreferredAuthEndDate=2027-03-05",
        "invalid-number",
        "2027-03-05",
    ),
    ("FB=4;IntervalDuration=hourly", "invalid-duration", "hourly"),
    (
        "FB=4;BlockDuration=900_fortnightly",
        "invalid-duration",
        "fortnightly",
    ),
    (
        "FB=4;SubscriptionFrequency=daily_weekly",
        "invalid-duration",
        "daily_weekly",
    ),
    (
        "FB=4;IntervalDuration=99999999999999999999",
        "invalid-duration",
        "99999999999999999999",
    ),
    (
        "url:https://u.example/authorize?client_id=c&redirect_uri=r&scope=FB%3D4&state=s",
        "missing-parameter",
        "client_id=c&redirect_uri=r&scope=FB%3D4&state=s",
    ),
    (
        "url:https://u.example/a?response_type=code&client_id=c&redirect_uri=r&scope=FB%3D4&state=s&scope=FB%3D5",
        "duplicate-parameter",
        "scope=FB%3D5",
    ),
    ("url:FB=4_5", "invalid-url", "FB=4_5"),
    ("openid profile", "no-espi-scope", "openid profile"),
    (
        "FB%3D4_5%3BIntervalDuration%3D3600",
        "percent-encoded",
        "FB%3D4_5%3BIntervalDuration%3D3600",
    ),
    ("FB%253D4", "percent-encoded", "FB%253D4"),
    ("FB%3D4;x=100%", "invalid-percent-encoding", "%"),
    ("FB%3D4;x=%FF", "invalid-percent-encoding", "FB%3D4;x=%FF"),
    ("FB=4; HistoryLength=100000", "extra-whitespace", " "),
    // A vertical tab is whitespace too (found by the fuzzer).
    (
        "FB=4;HistoryLength\u{b}=100000",
        "extra-whitespace",
        "\u{b}",
    ),
    ("FB = 4", "extra-whitespace", " "),
    ("  FB=4", "extra-whitespace", "  "),
    ("FB=4;;BR=1", "empty-term", ";"),
    (";FB=4", "empty-term", ";"),
    ("FB=4||FB=5", "empty-term", "|"),
    ("FB=4;", "trailing-separator", ";"),
    ("FB=4|", "trailing-separator", "|"),
    ("fb=4", "key-case", "fb"),
    ("FB=4;historyLength=100000", "key-case", "historyLength"),
    ("FB=4;IntervalDuration=Daily", "value-case", "Daily"),
    (
        "FB=4;BlockDuration=BillingPeriod",
        "value-case",
        "BillingPeriod",
    ),
    ("FB=4;dataCustodianId=PGE", "unknown-key", "dataCustodianId"),
    ("FB=4;=5", "unknown-key", ""),
    ("FB=4;Usage", "bare-word", "Usage"),
    (
        "FB=4;HistoryLength=100000;HistoryLength=200000",
        "duplicate-term",
        "HistoryLength=200000",
    ),
    ("FB=4;HistoryLength=", "missing-value", "HistoryLength="),
    ("FB=4;BR", "missing-value", "BR"),
    ("FB=5_4", "unsorted-function-blocks", "5_4"),
    ("FB=4_5_4", "duplicate-function-block", "4"),
    ("FB=4_14", "deprecated-function-block", "14"),
    ("FB=4_46", "deprecated-function-block", "46"),
    ("FB=4_22", "not-a-scope-term", "22"),
    ("FB=4_45", "not-a-scope-term", "45"),
    ("FB=4_99", "unknown-function-block", "99"),
    ("FB=0_4", "unknown-function-block", "0"),
    ("FB=4__5", "empty-list-item", "_"),
    ("FB=4,5", "comma-separator", ","),
    ("FB=4_5,IntervalDuration=900", "comma-separator", ","),
    (
        "FB=4_5IntervalDuration=900",
        "missing-separator",
        "IntervalDuration=",
    ),
    (
        "FB=4_5 IntervalDuration=900",
        "missing-separator",
        "IntervalDuration=900",
    ),
    ("FB=4|FB=5", "pipe-separator", "|"),
    ("FB=4;FB=5", "joined-scopes", "FB=5"),
    ("FB=4; FB=5;HistoryLength=100000", "joined-scopes", "FB=5"),
    (LONG, "too-long", LONG),
    ("FB=4;x=café", "invalid-character", "é"),
    ("FB=4;x=\"q\"", "invalid-character", "\""),
    ("FB=4;BR=a.b", "invalid-bulk-id", "a.b"),
    (
        "FB=4;AdditionalScope=meters-all_meters-1",
        "conflicting-meters",
        "FB=4;AdditionalScope=meters-all_meters-1",
    ),
    ("FB=4;HistoryLength=13", "ambiguous-history-length", "13"),
    (
        "FB=4;PreferredAuthEndDate=1804204800000",
        "implausible-end-date",
        "1804204800000",
    ),
    (
        "url:https://u.example/a?response_type=token&client_id=c&redirect_uri=r&scope=FB%3D4&state=s",
        "unsupported-response-type",
        "response_type=token&client_id=c&redirect_uri=r&scope=FB%3D4&state=s",
    ),
    (
        "url:https://u.example/a?response_type=code&client_id=c&redirect_uri=r&scope=FB%3D4",
        "missing-state",
        "response_type=code&client_id=c&redirect_uri=r&scope=FB%3D4",
    ),
    (
        "url:https://u.example/a?response_type=code&client_id=c&redirect_uri=r&scope=fb%3D4&state=s",
        "key-case",
        "fb",
    ),
];

fn diagnostics_of(input: &str) -> (&str, Vec<Diagnostic>) {
    match input.strip_prefix("url:") {
        Some(url) => (url, AuthorizationRequest::from_url(url).1),
        None => (input, parse(input).diagnostics),
    }
}

#[test]
fn every_case_reports_its_code_with_the_right_span() {
    for &(input, code, covered) in CASES {
        let (text, diags) = diagnostics_of(input);
        let found = diags.iter().find(|d| d.code.as_str() == code);
        let Some(d) = found else {
            panic!("{input:?}: no {code} in {diags:#?}");
        };
        assert_eq!(
            text.get(d.span.clone()),
            Some(covered),
            "{input:?}: {code} span {:?}",
            d.span
        );
        assert_eq!(d.severity, d.code.severity());
        assert!(d.message.len() > 10, "{input:?}: short message");
    }
}

#[test]
fn every_code_has_a_case() {
    for code in DiagnosticCode::ALL {
        assert!(
            CASES.iter().any(|(_, c, _)| *c == code.as_str()),
            "no test case for {}",
            code.as_str()
        );
    }
}

#[test]
fn codes_are_stable_kebab_case_and_round_trip() {
    let mut seen = std::collections::HashSet::new();
    for code in DiagnosticCode::ALL {
        let s = code.as_str();
        assert!(
            s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{s}"
        );
        assert!(seen.insert(s), "duplicate {s}");
        assert_eq!(DiagnosticCode::from_code(s), Some(*code));
        assert_eq!(code.to_string(), s);
    }
    assert_eq!(DiagnosticCode::ALL.len(), 39);
}

#[test]
fn errors_only_for_the_listed_problems() {
    let errors: Vec<&str> = DiagnosticCode::ALL
        .iter()
        .filter(|c| c.severity() == Severity::Error)
        .map(|c| c.as_str())
        .collect();
    assert_eq!(
        errors,
        [
            "empty-input",
            "missing-function-blocks",
            "empty-function-blocks",
            "invalid-function-block",
            "invalid-number",
            "invalid-duration",
            "missing-parameter",
            "duplicate-parameter",
            "invalid-url",
        ]
    );
}

#[test]
fn spans_point_into_the_original_percent_encoded_input() {
    let input = "fb%3D4_99%3BHistoryLength%3D2y";
    let p = parse(input);
    let get = |code: &str| {
        let d = p
            .diagnostics
            .iter()
            .find(|d| d.code.as_str() == code)
            .unwrap();
        &input[d.span.clone()]
    };
    assert_eq!(get("key-case"), "fb");
    assert_eq!(get("unknown-function-block"), "99");
    assert_eq!(get("invalid-number"), "2y");
    // Double encoding: spans still land in the original.
    let input = "FB%253D4_99";
    let p = parse(input);
    let d = p
        .diagnostics
        .iter()
        .find(|d| d.code.as_str() == "unknown-function-block")
        .unwrap();
    assert_eq!(&input[d.span.clone()], "99");
}

#[test]
fn strict_readers_fail_on_errors_with_diagnostics() {
    let e = "FB=4_x;HistoryLength=two"
        .parse::<ScopeValue>()
        .unwrap_err();
    assert_eq!(e.kind(), ParseErrorKind::Invalid);
    assert_eq!(e.diagnostics().iter().filter(|d| d.is_error()).count(), 2);
    assert_eq!(
        e.to_string(),
        "invalid scope: The function block \"x\" is not a number. (and 1 more errors)"
    );
    let e = "openid FB=4".parse::<espi_scope::EspiScope>().unwrap_err();
    assert_eq!(
        e.kind(),
        ParseErrorKind::NotExactlyOneScope {
            espi_scopes: 1,
            other_scopes: 1
        }
    );
    assert!(e.to_string().contains("exactly one"));
    // Warnings do not make the strict reader fail.
    assert!("fb=5_4;dataCustodianId=PGE".parse::<ScopeValue>().is_ok());
}

#[test]
fn diagnostics_are_sorted_by_position() {
    let p = parse("fb=16_4_4; IntervalDuration=Monthly;x=1;");
    let starts: Vec<usize> = p.diagnostics.iter().map(|d| d.span.start).collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted);
}

#[cfg(feature = "serde")]
#[test]
fn diagnostics_serialize_with_codes() {
    let p = parse("fb=4");
    let json = serde_json::to_value(&p.diagnostics).unwrap();
    assert_eq!(json[0]["code"], "key-case");
    assert_eq!(json[0]["severity"], "warning");
    let back: Vec<Diagnostic> = serde_json::from_value(json).unwrap();
    assert_eq!(back, p.diagnostics);
}
