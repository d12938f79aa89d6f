//! Realistic scope strings of every form in the domain brief
//! (`tests/corpus.txt`): the canonical output and the exact set of
//! diagnostic codes of each.

use espi_scope::{ScopeValue, parse};

struct Case {
    what: String,
    input: String,
    out: String,
    codes: Vec<String>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("corpus.txt");
    let mut cases = Vec::new();
    let mut what = String::new();
    let mut input = None;
    let mut out = None;
    for line in text.lines() {
        if let Some(w) = line.strip_prefix("# ") {
            what = w.to_string();
        } else if let Some(i) = line.strip_prefix("in: ") {
            input = Some(i.to_string());
        } else if let Some(o) = line.strip_prefix("out: ") {
            out = Some(o.to_string());
        } else if let Some(c) = line.strip_prefix("codes:") {
            let codes = c
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            cases.push(Case {
                what: what.clone(),
                input: input.take().expect("in: line"),
                out: out.take().expect("out: line"),
                codes,
            });
        }
    }
    cases
}

#[test]
fn corpus_has_every_form() {
    assert!(cases().len() >= 40);
}

#[test]
fn corpus_canonical_forms_and_codes() {
    for c in cases() {
        let p = parse(&c.input);
        let mut codes: Vec<String> = p
            .diagnostics
            .iter()
            .map(|d| d.code.as_str().to_string())
            .collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes, c.codes, "{}: {:?}", c.what, c.input);
        for d in &p.diagnostics {
            assert!(d.span.end <= c.input.len(), "{}: span", c.what);
        }
        if c.out == "!error" {
            assert!(p.has_errors(), "{}", c.what);
            assert!(c.input.parse::<ScopeValue>().is_err(), "{}", c.what);
            continue;
        }
        assert!(!p.has_errors(), "{}: {:?}", c.what, p.diagnostics);
        let canonical = p.value.to_string();
        assert_eq!(canonical, c.out, "{}", c.what);
        // The canonical form reads back to the same value and is stable.
        let again = parse(&canonical);
        assert_eq!(again.value, p.value, "{}", c.what);
        assert_eq!(again.value.to_string(), canonical, "{}", c.what);
        // The canonical form only keeps warnings about meaning, never about form.
        for d in &again.diagnostics {
            assert!(
                matches!(
                    d.code.as_str(),
                    "deprecated-function-block"
                        | "not-a-scope-term"
                        | "unknown-function-block"
                        | "unknown-key"
                        | "bare-word"
                        | "too-long"
                        | "ambiguous-history-length"
                        | "implausible-end-date"
                ),
                "{}: canonical form has {}",
                c.what,
                d.code
            );
        }
    }
}

#[test]
fn corpus_details() {
    let v: ScopeValue = "openid profile FB=4_5_15;IntervalDuration=3600 FB=1_51_54_55"
        .parse()
        .unwrap();
    assert_eq!(v.other_scopes, ["openid", "profile"]);
    assert_eq!(v.scopes.len(), 2);
    assert_eq!(v.scopes[1].function_blocks, [1, 51, 54, 55]);

    let p = parse("FB=35;BR=00042");
    assert_eq!(p.value.scopes[0].bulk_id.as_deref(), Some("00042"));

    let p = parse("FB=4_51;AdditionalScope=auth-phone-5554443333_auth-sso-okta1_auth-login");
    assert_eq!(
        p.value.scopes[0].auth_hints(),
        vec![
            ("phone".to_string(), Some("5554443333".to_string())),
            ("sso".to_string(), Some("okta1".to_string())),
            ("login".to_string(), None),
        ]
    );
    // A provider id with hyphens stays whole (the DataCustodian's
    // `auth-sso-{id}` goes straight to that provider) and round-trips.
    let p = parse("FB=4_51;AdditionalScope=auth-sso-my-utility-idp");
    assert_eq!(
        p.value.scopes[0].auth_hints(),
        vec![("sso".to_string(), Some("my-utility-idp".to_string()))]
    );
    assert!(
        p.value.scopes[0]
            .to_string()
            .contains("AdditionalScope=auth-sso-my-utility-idp")
    );
}
