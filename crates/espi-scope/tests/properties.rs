//! Property tests: writer round trip and idempotence, the parser never
//! panics and keeps its spans inside the input, narrowing never widens.

use espi_scope::catalog::{Commodity, DataKind};
use espi_scope::final_scope::{Custodian, MeterFacts, final_scope};
use espi_scope::narrow::{
    Choices, NarrowPolicy, effective_requested_end, effective_requested_history, narrow,
};
use espi_scope::{
    AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency, MeterRequest, ScopeValue, parse,
};
use proptest::collection::vec;
use proptest::prelude::*;

const KNOWN_KEYS: [&str; 9] = [
    "fb",
    "intervalduration",
    "blockduration",
    "historylength",
    "subscriptionfrequency",
    "accountcollection",
    "br",
    "preferredauthenddate",
    "additionalscope",
];

#[allow(clippy::ptr_arg)] // used with prop_filter, which passes &String
fn not_key(s: &String) -> bool {
    let l = s.to_ascii_lowercase();
    !KNOWN_KEYS.contains(&l.as_str())
}

fn frequency() -> impl Strategy<Value = Frequency> {
    prop::sample::select(Frequency::ALL.to_vec())
}

fn duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        any::<u64>().prop_map(Duration::Seconds),
        (0u64..100_000).prop_map(Duration::Seconds),
        frequency().prop_map(Duration::Named),
    ]
}

/// Text that survives `_`/`;`/space splitting and is not a prefix keyword.
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.-]{0,8}"
}

fn additional() -> impl Strategy<Value = AdditionalScope> {
    prop_oneof![
        Just(AdditionalScope::NoEdit),
        Just(AdditionalScope::MetersAll),
        token()
            .prop_filter("all", |s| !s.eq_ignore_ascii_case("all"))
            .prop_map(AdditionalScope::Meter),
        token().prop_map(AdditionalScope::ScopeOfUse),
        ("[a-z]{1,6}", prop::option::of(token()))
            .prop_map(|(method, value)| AdditionalScope::Auth { method, value }),
        token().prop_map(AdditionalScope::Historical),
        token().prop_map(AdditionalScope::Ongoing),
        "[A-Z][a-z]{1,8}"
            .prop_filter("keyword", |s| {
                let l = s.to_ascii_lowercase();
                l != "noedit"
            })
            .prop_map(AdditionalScope::Other),
    ]
}

fn extra() -> impl Strategy<Value = ExtraTerm> {
    prop_oneof![
        ("[a-z][A-Za-z0-9]{0,10}", "[A-Za-z0-9.-]{0,10}")
            .prop_filter("known key", |(k, _)| not_key(k))
            .prop_map(|(key, value)| ExtraTerm::KeyValue { key, value }),
        "[a-z][a-z0-9]{0,10}"
            .prop_filter("known key", not_key)
            .prop_map(ExtraTerm::Bare),
    ]
}

fn espi_scope() -> impl Strategy<Value = EspiScope> {
    (
        vec(any::<u16>(), 1..8),
        vec(duration(), 0..4),
        vec(duration(), 0..3),
        prop::option::of(any::<u64>()),
        prop::option::of(duration()),
        prop::option::of(any::<u32>()),
        prop::option::of("[0-9A-Za-z-]{1,12}"),
        prop::option::of(any::<u64>()),
        vec(additional(), 0..5),
        vec(extra(), 0..3),
    )
        .prop_map(|(fbs, ivd, bd, hl, sf, ac, br, end, add, ext)| {
            let mut s = EspiScope::with_function_blocks(fbs);
            s.interval_durations = ivd;
            s.block_durations = bd;
            s.history_length = hl;
            s.subscription_frequency = sf;
            s.account_collection = ac;
            s.bulk_id = br;
            s.preferred_auth_end_date = end;
            s.additional_scope = add;
            s.extra_terms = ext;
            s
        })
}

fn scope_value() -> impl Strategy<Value = ScopeValue> {
    (
        vec(espi_scope(), 0..3),
        vec(
            "[a-z][a-z0-9:._/-]{0,10}".prop_filter("known key", not_key),
            0..3,
        ),
    )
        .prop_filter("empty", |(s, o)| !s.is_empty() || !o.is_empty())
        .prop_map(|(scopes, other_scopes)| ScopeValue {
            scopes,
            other_scopes,
        })
}

fn check_spans(input: &str) {
    let p = parse(input);
    for d in &p.diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= input.len(),
            "span {:?} outside input of length {} ({input:?})",
            d.span,
            input.len()
        );
        assert!(
            input.is_char_boundary(d.span.start) && input.is_char_boundary(d.span.end),
            "span {:?} not on char boundaries ({input:?})",
            d.span
        );
        assert!(!d.message.is_empty());
    }
    // The diagnostics-free reader reads the same value.
    assert_eq!(
        espi_scope::grammar::parse_value(input),
        p.value,
        "parse_value differs for {input:?}"
    );
    // The canonical reader accepts only canonical text, and reads it as the
    // lenient parser does, without an error (warnings about meaning, such as
    // an unknown function block, still apply to canonical text).
    if let Some(read) = espi_scope::canonical::read(input) {
        assert_eq!(read.to_string(), input);
        assert!(!p.has_errors(), "{input:?}: {:?}", p.diagnostics);
        assert_eq!(
            p.value.scopes,
            vec![read],
            "canonical reader differs for {input:?}"
        );
        assert!(p.value.other_scopes.is_empty());
    }
    // And it reads every scope the lenient parser accepts, once written
    // canonically: what the DataCustodian sends its consent screen.
    if !p.has_errors() {
        for scope in &p.value.scopes {
            let text = scope.to_string();
            assert_eq!(
                espi_scope::canonical::read(&text).as_ref(),
                Some(scope),
                "canonical reader refuses {text:?} (read from {input:?})"
            );
        }
    }
    // The canonical form of whatever was read is stable.
    let once = p.value.to_string();
    let again = parse(&once).value.to_string();
    if !p.has_errors() {
        assert_eq!(once, again, "not idempotent for {input:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn espi_scope_round_trip(s in espi_scope()) {
        let text = s.to_string();
        let p = parse(&text);
        prop_assert!(!p.has_errors(), "{text}: {:?}", p.diagnostics);
        prop_assert_eq!(p.value.scopes.len(), 1, "{}", text);
        prop_assert_eq!(&p.value.scopes[0], &s, "{}", text);
        let strict: EspiScope = text.parse().unwrap();
        prop_assert_eq!(&strict, &s);
        // The canonical reader (the consent widget's) reads it back too.
        prop_assert_eq!(espi_scope::canonical::read(&text), Some(s));
        check_spans(&text);
    }

    #[test]
    fn sort_function_blocks_is_sort_and_dedup(ids in vec(any::<u16>(), 0..40), small in vec(0u16..80, 0..40)) {
        for ids in [ids, small] {
            let mut want = ids.clone();
            want.sort_unstable();
            want.dedup();
            let mut got = ids;
            espi_scope::model::sort_function_blocks(&mut got);
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn scope_value_round_trip(v in scope_value()) {
        let text = v.to_string();
        let p = parse(&text);
        prop_assert!(!p.has_errors(), "{text}: {:?}", p.diagnostics);
        prop_assert_eq!(&p.value, &v, "{}", text);
        // Writing is idempotent.
        prop_assert_eq!(p.value.to_string(), text);
    }

    #[test]
    fn parser_never_panics_on_any_string(s in any::<String>()) {
        check_spans(&s);
    }

    #[test]
    fn parser_never_panics_on_scope_like_strings(
        s in "[ A-Za-z0-9=;_,|%+\t\n.:/-]{0,80}"
    ) {
        check_spans(&s);
    }

    #[test]
    fn parser_never_panics_on_mutated_scopes(
        base in espi_scope(),
        edits in vec((any::<prop::sample::Index>(), prop::sample::select(vec![
            "=", ";", "_", ",", "|", " ", "\u{b}", "%", "%3D", "%3b", "%0B", "+", "FB=", "fb", "é", "\u{0}", "\u{1F600}", "%FF", "",
        ])), 0..6),
    ) {
        let mut s = base.to_string();
        for (idx, ins) in edits {
            let mut at = idx.index(s.len() + 1);
            while !s.is_char_boundary(at) { at -= 1; }
            s.insert_str(at, ins);
        }
        check_spans(&s);
    }

    #[test]
    fn parser_never_panics_on_lossy_bytes(bytes in vec(any::<u8>(), 0..120)) {
        let s = String::from_utf8_lossy(&bytes).into_owned();
        check_spans(&s);
    }

    #[test]
    fn narrowing_never_widens(
        req in espi_scope(),
        keep in vec(any::<bool>(), 8),
        history in prop::option::of(any::<u64>()),
        end in prop::option::of(prop_oneof![Just(0u64), any::<u64>(), 1_700_000_000u64..1_900_000_000]),
        meters in prop::option::of(vec(prop::sample::select(vec!["A1", "B2", "C3", "Z9"]), 0..4)),
        customer in vec(prop::sample::select(vec!["A1", "B2", "C3"]), 0..3),
        now in 1_600_000_000u64..1_800_000_000,
    ) {
        let fbs = Some(req.function_blocks.iter().zip(keep.iter().cycle())
            .filter(|(_, k)| **k).map(|(id, _)| *id).collect::<Vec<u16>>());
        let choices = Choices {
            function_blocks: if keep[0] { None } else { fbs },
            history_length: history,
            end_date: end,
            meters: meters.map(|v| v.into_iter().map(String::from).collect()),
        };
        let policy = NarrowPolicy::new(now, customer.into_iter().map(String::from).collect());
        if let Ok(grant) = narrow(&req, &choices, &policy) {
            // Function blocks: a non-empty subset.
            prop_assert!(!grant.function_blocks.is_empty());
            prop_assert!(grant.function_blocks.iter().all(|f| req.function_blocks.contains(f)));
            // Structural and technical blocks stay; some data stays if asked.
            prop_assert!(req.function_blocks.iter()
                .filter(|f| DataKind::of(**f).is_none())
                .all(|f| grant.function_blocks.contains(f)));
            if req.function_blocks.iter().any(|f| DataKind::of(*f).is_some()) {
                prop_assert!(grant.function_blocks.iter().any(|f| DataKind::of(*f).is_some()));
            }
            // The final scope adds no kind of data the grant lacks, and
            // commodity blocks only to granted usage.
            let custodian = Custodian {
                supported: keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| (i * 9 % 71) as u16).collect(),
                meters: keep.iter().take(3).map(|k| MeterFacts {
                    commodity: Some(if *k { Commodity::Electricity } else { Commodity::Gas }),
                    interval_seconds: vec![900],
                }).collect(),
            };
            let done = final_scope(&req, &grant, &custodian);
            let kinds = |s: &EspiScope| {
                let mut v: Vec<DataKind> = s.function_blocks.iter().filter_map(|f| DataKind::of(*f)).collect();
                v.sort();
                v.dedup();
                v
            };
            prop_assert_eq!(kinds(&done), kinds(&grant));
            prop_assert!(grant.function_blocks.iter().all(|f| done.function_blocks.contains(f)));
            prop_assert!(done.function_blocks.iter()
                .filter(|f| !grant.function_blocks.contains(f) && DataKind::of(**f).is_some())
                .all(|f| Commodity::of_block(*f).is_some()));
            prop_assert_eq!(done.to_string().parse::<EspiScope>().ok(), Some(done.clone()));
            // History: explicit, never longer than asked (or the default).
            let h = grant.history_length.expect("explicit history");
            prop_assert!(h <= effective_requested_history(&req, &policy));
            // End date: explicit, in the future, never later; 0 only if asked.
            let g = grant.preferred_auth_end_date.expect("explicit end date");
            let r = effective_requested_end(&req, &policy);
            if g == 0 {
                prop_assert_eq!(r, 0);
            } else {
                prop_assert!(g > now);
                if r != 0 { prop_assert!(g <= r); }
            }
            // Meters: listed, non-empty, the customer's, within the request.
            let granted = match grant.meter_request() {
                MeterRequest::Listed(v) => v,
                other => { prop_assert!(false, "grant meters {:?}", other); unreachable!() }
            };
            prop_assert!(granted.iter().all(|m| policy.customer_meters.contains(m)));
            if let MeterRequest::Listed(asked) = req.meter_request() {
                prop_assert!(granted.iter().all(|m| asked.contains(m)));
            }
            prop_assert_eq!(grant.account_collection, Some(granted.len() as u32));
            // Everything else unchanged.
            prop_assert_eq!(&grant.interval_durations, &req.interval_durations);
            prop_assert_eq!(&grant.block_durations, &req.block_durations);
            prop_assert_eq!(grant.subscription_frequency, req.subscription_frequency);
            prop_assert_eq!(&grant.bulk_id, &req.bulk_id);
            prop_assert_eq!(&grant.extra_terms, &req.extra_terms);
            prop_assert_eq!(grant.no_edit(), req.no_edit());
            prop_assert_eq!(grant.scope_of_use(), req.scope_of_use());
            prop_assert_eq!(grant.auth_hints(), req.auth_hints());
            // With noedit nothing but the meters (when unspecified) may change.
            if req.no_edit() {
                let mut want = req.function_blocks.clone();
                want.sort_unstable();
                prop_assert_eq!(&grant.function_blocks, &want);
                prop_assert_eq!(h, effective_requested_history(&req, &policy));
                prop_assert_eq!(g, r);
            }
            // The grant is itself a valid scope that round-trips.
            let text = grant.to_string();
            prop_assert_eq!(text.parse::<EspiScope>().ok(), Some(grant));
        }
    }
}

/// A long run for when cargo-fuzz is not available:
/// `cargo test -p espi-scope --release --test properties -- --ignored`.
#[test]
#[ignore]
fn long_parser_never_panics() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 1_000_000,
        ..ProptestConfig::default()
    });
    runner
        .run(&"[ -~\t\n\u{80}-\u{10FFFF}]{0,200}", |s| {
            check_spans(&s);
            Ok(())
        })
        .unwrap();
}
