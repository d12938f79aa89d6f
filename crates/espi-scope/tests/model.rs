//! The model: helpers, writer, strict readers, serde.

use espi_scope::{
    AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency, MeterRequest, ScopeValue,
};

#[test]
fn writer_orders_terms_and_sorts_function_blocks() {
    let s = EspiScope {
        function_blocks: vec![16, 4, 4],
        interval_durations: vec![Duration::Named(Frequency::Monthly), Duration::Seconds(900)],
        block_durations: vec![Duration::Named(Frequency::BillingPeriod)],
        history_length: Some(63_072_000),
        subscription_frequency: Some(Duration::Named(Frequency::Daily)),
        account_collection: Some(2),
        bulk_id: Some("007".into()),
        preferred_auth_end_date: Some(0),
        additional_scope: vec![
            AdditionalScope::NoEdit,
            AdditionalScope::Meter("123".into()),
            AdditionalScope::Auth {
                method: "phone".into(),
                value: Some("5554443333".into()),
            },
        ],
        extra_terms: vec![
            ExtraTerm::KeyValue {
                key: "dataCustodianId".into(),
                value: "PGE".into(),
            },
            ExtraTerm::Bare("Usage".into()),
        ],
    };
    assert_eq!(
        s.to_string(),
        "FB=4_16;IntervalDuration=monthly_900;BlockDuration=billingPeriod;HistoryLength=63072000;SubscriptionFrequency=daily;AccountCollection=2;BR=007;PreferredAuthEndDate=0;AdditionalScope=noedit_meters-123_auth-phone-5554443333;dataCustodianId=PGE;Usage"
    );
    let back: EspiScope = s.to_string().parse().unwrap();
    assert_eq!(back.function_blocks, [4, 16]);
    assert_eq!(back.to_string(), s.to_string());
}

#[test]
fn helpers() {
    let s: EspiScope =
        "FB=4;AdditionalScope=sou-research_meters-1_meters-2_meters-1_auth-login_noedit"
            .parse()
            .unwrap();
    assert!(s.no_edit());
    assert_eq!(
        s.meter_request(),
        MeterRequest::Listed(vec!["1".into(), "2".into()])
    );
    assert_eq!(s.scope_of_use(), Some("research"));
    assert_eq!(s.auth_hints(), vec![("login".to_string(), None)]);
    assert!(s.has_function_block(4));
    let s: EspiScope = "FB=4;AdditionalScope=meters-all".parse().unwrap();
    assert_eq!(s.meter_request(), MeterRequest::All);
    assert!(!s.no_edit());
    let s: EspiScope = "FB=4".parse().unwrap();
    assert_eq!(s.meter_request(), MeterRequest::Unspecified);
    assert_eq!(s.scope_of_use(), None);
}

#[test]
fn additional_scope_items() {
    use AdditionalScope as A;
    let cases = [
        ("noedit", A::NoEdit),
        ("NoEdit", A::NoEdit),
        ("meters-all", A::MetersAll),
        ("meters-0042", A::Meter("0042".into())),
        ("sou-energy-audit", A::ScopeOfUse("energy-audit".into())),
        (
            "auth-login",
            A::Auth {
                method: "login".into(),
                value: None,
            },
        ),
        (
            "auth-sso-okta-1",
            A::Auth {
                method: "sso".into(),
                value: Some("okta-1".into()),
            },
        ),
        ("historical-2024-05-09", A::Historical("2024-05-09".into())),
        ("ongoing-none", A::Ongoing("none".into())),
        ("Usage", A::Other("Usage".into())),
        ("meters-", A::Other("meters-".into())),
        ("auth-", A::Other("auth-".into())),
    ];
    for (text, want) in cases {
        assert_eq!(AdditionalScope::from_item(text), want, "{text}");
    }
}

#[test]
fn frequencies() {
    for f in Frequency::ALL {
        assert_eq!(Frequency::from_name(f.as_str()), Some(f));
        assert_eq!(Frequency::from_name(&f.as_str().to_uppercase()), Some(f));
    }
    assert_eq!(Frequency::from_name("hourly"), None);
    assert_eq!(
        Duration::Named(Frequency::BillingPeriod).to_string(),
        "billingPeriod"
    );
    assert_eq!(Duration::Seconds(900).to_string(), "900");
}

#[test]
fn scope_value_display_puts_other_scopes_first() {
    let v = ScopeValue {
        scopes: vec![EspiScope::with_function_blocks([5, 4])],
        other_scopes: vec!["openid".into(), "profile".into()],
    };
    assert_eq!(v.to_string(), "openid profile FB=4_5");
    assert_eq!(ScopeValue::default().to_string(), "");
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip() {
    let v: ScopeValue =
        "openid FB=4_16;IntervalDuration=daily_900;AdditionalScope=meters-1_auth-sso-x;foo=bar;baz"
            .parse()
            .unwrap();
    let j = serde_json::to_value(&v).unwrap();
    assert_eq!(
        j["scopes"][0]["interval_durations"],
        serde_json::json!(["daily", 900])
    );
    assert_eq!(
        j["scopes"][0]["additional_scope"][0],
        serde_json::json!({"meter": "1"})
    );
    let back: ScopeValue = serde_json::from_value(j).unwrap();
    assert_eq!(back, v);
}

#[test]
fn every_ascii_whitespace_around_a_known_key_is_padding() {
    // The lexer's whitespace (with vertical tab and form feed) must be the
    // trimming's whitespace, or `IntervalDuration\v` became an unknown key.
    for ws in [" ", "\t", "\u{b}", "\u{c}"] {
        let v = espi_scope::parse(&format!("FB=3;IntervalDuration{ws}={ws}900")).value;
        assert_eq!(
            v.scopes[0].interval_durations,
            vec![espi_scope::Duration::Seconds(900)],
            "{ws:?}"
        );
        assert!(v.scopes[0].extra_terms.is_empty(), "{ws:?}");
    }
}
