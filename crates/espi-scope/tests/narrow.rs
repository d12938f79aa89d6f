//! Narrowing: each rule and each error kind.

use espi_scope::narrow::{Choices, DEFAULT_AUTHORIZATION_SECONDS, NarrowPolicy, meter_options};
use espi_scope::{EspiScope, NarrowErrorKind as K, narrow};

const NOW: u64 = 1_700_000_000;

fn scope(s: &str) -> EspiScope {
    s.parse().unwrap()
}

fn policy() -> NarrowPolicy {
    NarrowPolicy::new(NOW, vec!["A1".into(), "B2".into(), "C3".into()])
}

fn meters(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

const REQ: &str = "FB=1_3_4_5_10_16_51_54;IntervalDuration=900;HistoryLength=63072000;PreferredAuthEndDate=1900000000;AdditionalScope=meters-A1_meters-B2_sou-research_auth-login;dataCustodianId=X";

fn kind(req: &str, c: Choices) -> K {
    narrow(&scope(req), &c, &policy()).unwrap_err().kind()
}

#[test]
fn as_requested() {
    let g = narrow(&scope(REQ), &Choices::default(), &policy()).unwrap();
    assert_eq!(
        g.to_string(),
        "FB=1_3_4_5_10_16_51_54;IntervalDuration=900;HistoryLength=63072000;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=sou-research_auth-login_meters-A1_meters-B2;dataCustodianId=X"
    );
}

#[test]
fn any_kind_of_data_may_be_dropped_but_not_all() {
    let keep = |fbs: Vec<u16>| {
        narrow(
            &scope(REQ),
            &Choices {
                function_blocks: Some(fbs),
                ..Choices::default()
            },
            &policy(),
        )
        .map(|g| g.function_blocks)
    };
    // Bills and commodities dropped.
    assert_eq!(keep(vec![51, 1, 3, 4]).unwrap(), [1, 3, 4, 51]);
    // Account details dropped (FB 51 and 54 are no longer implied).
    assert_eq!(
        keep(vec![1, 3, 4, 5, 10, 16]).unwrap(),
        [1, 3, 4, 5, 10, 16]
    );
    // Usage dropped: bills alone.
    assert_eq!(keep(vec![1, 3, 16]).unwrap(), [1, 3, 16]);
    // Only structural blocks left: no data at all.
    assert_eq!(
        keep(vec![1, 3]).unwrap_err().kind(),
        K::NoFunctionBlockChosen
    );
    // A request of structural blocks only is granted as it is.
    let g = narrow(
        &scope("FB=1_3;AdditionalScope=meters-all"),
        &Choices::default(),
        &policy(),
    )
    .unwrap();
    assert_eq!(g.function_blocks, [1, 3]);
}

#[test]
fn function_block_errors() {
    let c = |fbs: Vec<u16>| Choices {
        function_blocks: Some(fbs),
        ..Choices::default()
    };
    assert_eq!(
        kind(REQ, c(vec![1, 3, 4, 5, 51, 55])),
        K::FunctionBlockNotRequested(55)
    );
    assert_eq!(
        kind(REQ, c(vec![3, 4, 5, 51])),
        K::RequiredFunctionBlockDropped(1)
    );
    assert_eq!(
        kind(REQ, c(vec![1, 4, 5, 51])),
        K::RequiredFunctionBlockDropped(3)
    );
    assert_eq!(
        kind("FB=1_4_13_51;AdditionalScope=meters-all", c(vec![1, 4, 51])),
        K::RequiredFunctionBlockDropped(13)
    );
    assert_eq!(
        kind("FB=5_10;AdditionalScope=meters-all", c(vec![])),
        K::NoFunctionBlockChosen
    );
}

#[test]
fn history() {
    let c = |h| Choices {
        history_length: Some(h),
        ..Choices::default()
    };
    let g = narrow(&scope(REQ), &c(31_536_000), &policy()).unwrap();
    assert_eq!(g.history_length, Some(31_536_000));
    assert_eq!(kind(REQ, c(63_072_001)), K::HistoryLonger);
    // No requested history: the default (2 years) is granted, or less.
    let open = scope("FB=4;AdditionalScope=meters-all");
    let g = narrow(&open, &Choices::default(), &policy()).unwrap();
    assert_eq!(g.history_length, Some(63_072_000));
    let g = narrow(&open, &c(86_400), &policy()).unwrap();
    assert_eq!(g.history_length, Some(86_400));
    assert_eq!(
        narrow(&open, &c(63_072_001), &policy()).unwrap_err().kind(),
        K::HistoryLonger
    );
    // The utility's configured default.
    let short = NarrowPolicy {
        default_history_seconds: 31_536_000,
        ..policy()
    };
    let g = narrow(&open, &Choices::default(), &short).unwrap();
    assert!(g.to_string().contains("HistoryLength=31536000"));
    // Under noedit the default is granted as it is.
    let fixed = scope("FB=4;AdditionalScope=meters-all_noedit");
    assert_eq!(
        narrow(&fixed, &Choices::default(), &policy())
            .unwrap()
            .history_length,
        Some(63_072_000)
    );
    assert_eq!(
        narrow(&fixed, &c(86_400), &policy()).unwrap_err().kind(),
        K::EditNotAllowed
    );
}

#[test]
fn end_date() {
    let c = |e| Choices {
        end_date: Some(e),
        ..Choices::default()
    };
    let g = narrow(&scope(REQ), &c(1_800_000_000), &policy()).unwrap();
    assert_eq!(g.preferred_auth_end_date, Some(1_800_000_000));
    assert_eq!(kind(REQ, c(1_900_000_001)), K::EndDateLater);
    assert_eq!(kind(REQ, c(NOW)), K::EndDateInPast);
    assert_eq!(kind(REQ, c(0)), K::UntilRevokedNotRequested);
    // Requested until revoked: 0 or any future date.
    let req = "FB=4;PreferredAuthEndDate=0;AdditionalScope=meters-all";
    assert_eq!(
        narrow(&scope(req), &c(0), &policy())
            .unwrap()
            .preferred_auth_end_date,
        Some(0)
    );
    assert_eq!(
        narrow(&scope(req), &c(2_500_000_000), &policy())
            .unwrap()
            .preferred_auth_end_date,
        Some(2_500_000_000)
    );
    // No end date requested: the default (3 years) applies and is written.
    let req = "FB=4;AdditionalScope=meters-all";
    let g = narrow(&scope(req), &Choices::default(), &policy()).unwrap();
    assert_eq!(
        g.preferred_auth_end_date,
        Some(NOW + DEFAULT_AUTHORIZATION_SECONDS)
    );
    assert_eq!(
        kind(req, c(NOW + DEFAULT_AUTHORIZATION_SECONDS + 1)),
        K::EndDateLater
    );
    assert_eq!(kind(req, c(0)), K::UntilRevokedNotRequested);
    // A request whose end date is already past cannot be granted.
    assert_eq!(
        kind(
            "FB=4;PreferredAuthEndDate=1600000000;AdditionalScope=meters-all",
            Choices::default()
        ),
        K::EndDateInPast
    );
}

#[test]
fn meter_rules() {
    let c = |m: &[&str]| Choices {
        meters: meters(m),
        ..Choices::default()
    };
    // meters-all: any subset, default all.
    let all = "FB=4;AdditionalScope=meters-all";
    let g = narrow(&scope(all), &Choices::default(), &policy()).unwrap();
    assert_eq!(
        g.to_string(),
        format!(
            "FB=4;HistoryLength=63072000;AccountCollection=3;PreferredAuthEndDate={};AdditionalScope=meters-A1_meters-B2_meters-C3",
            NOW + DEFAULT_AUTHORIZATION_SECONDS
        )
    );
    let g = narrow(&scope(all), &c(&["C3"]), &policy()).unwrap();
    assert_eq!(g.account_collection, Some(1));
    assert_eq!(kind(all, c(&["Z9"])), K::UnknownMeter("Z9".into()));
    assert_eq!(kind(all, c(&[])), K::NoMeterChosen);
    // Listed: only those.
    assert_eq!(kind(REQ, c(&["C3"])), K::MeterNotRequested("C3".into()));
    let g = narrow(&scope(REQ), &c(&["B2"]), &policy()).unwrap();
    assert_eq!(g.account_collection, Some(1));
    // Listed meters that are not the customer's are left out by default.
    let g = narrow(
        &scope("FB=4;AdditionalScope=meters-A1_meters-Q7"),
        &Choices::default(),
        &policy(),
    )
    .unwrap();
    assert!(!g.to_string().contains("meters-Q7"));
    assert_eq!(
        kind("FB=4;AdditionalScope=meters-A1_meters-Q7", c(&["Q7"])),
        K::UnknownMeter("Q7".into())
    );
    // Unspecified: the customer must choose.
    assert_eq!(kind("FB=4", Choices::default()), K::NoMeterChosen);
    let g = narrow(&scope("FB=4"), &c(&["A1", "A1"]), &policy()).unwrap();
    assert_eq!(g.account_collection, Some(1));
}

#[test]
fn meter_options_for_the_widget() {
    let p = policy();
    assert_eq!(
        meter_options(&scope("FB=4;AdditionalScope=meters-all"), &p),
        (
            vec!["A1".into(), "B2".into(), "C3".into()],
            vec!["A1".into(), "B2".into(), "C3".into()]
        )
    );
    assert_eq!(
        meter_options(&scope("FB=4"), &p),
        (vec!["A1".into(), "B2".into(), "C3".into()], vec![])
    );
    assert_eq!(
        meter_options(&scope("FB=4;AdditionalScope=meters-B2_meters-Q7"), &p),
        (vec!["B2".into()], vec!["B2".into()])
    );
}

#[test]
fn noedit() {
    let req = "FB=1_4_5_16;HistoryLength=63072000;PreferredAuthEndDate=1900000000;AdditionalScope=noedit_meters-all";
    let ok = narrow(&scope(req), &Choices::default(), &policy()).unwrap();
    assert!(ok.no_edit());
    // Choosing exactly what was requested is fine.
    let same = Choices {
        function_blocks: Some(vec![16, 5, 4, 1]),
        history_length: Some(63_072_000),
        end_date: Some(1_900_000_000),
        meters: meters(&["C3", "B2", "A1"]),
    };
    assert_eq!(narrow(&scope(req), &same, &policy()).unwrap(), ok);
    let edits = [
        Choices {
            function_blocks: Some(vec![1, 4, 5]),
            ..Choices::default()
        },
        Choices {
            history_length: Some(1),
            ..Choices::default()
        },
        Choices {
            end_date: Some(1_800_000_000),
            ..Choices::default()
        },
        Choices {
            end_date: Some(0),
            ..Choices::default()
        },
        Choices {
            meters: meters(&["A1"]),
            ..Choices::default()
        },
    ];
    for c in edits {
        assert_eq!(kind(req, c.clone()), K::EditNotAllowed, "{c:?}");
    }
    // Unspecified meters may still be chosen with noedit.
    let g = narrow(
        &scope("FB=4;AdditionalScope=noedit"),
        &Choices {
            meters: meters(&["B2"]),
            ..Choices::default()
        },
        &policy(),
    )
    .unwrap();
    assert_eq!(g.account_collection, Some(1));
    // Listed meters must match exactly.
    assert_eq!(
        kind(
            "FB=4;AdditionalScope=noedit_meters-A1_meters-B2",
            Choices {
                meters: meters(&["A1"]),
                ..Choices::default()
            }
        ),
        K::EditNotAllowed
    );
    assert_eq!(
        kind(
            "FB=4;AdditionalScope=noedit_meters-A1_meters-Q7",
            Choices::default()
        ),
        K::UnknownMeter("Q7".into())
    );
}

#[test]
fn error_messages_are_plain_words() {
    let kinds = [
        K::EditNotAllowed,
        K::FunctionBlockNotRequested(55),
        K::RequiredFunctionBlockDropped(4),
        K::NoFunctionBlockChosen,
        K::HistoryLonger,
        K::EndDateLater,
        K::EndDateInPast,
        K::UntilRevokedNotRequested,
        K::MeterNotRequested("C3".into()),
        K::UnknownMeter("Z9".into()),
        K::NoMeterChosen,
    ];
    for k in kinds {
        // Build the error through narrow() where possible by message check only.
        let msg = format!("{}", espi_scope_error(k.clone()));
        assert!(msg.len() > 20 && msg.ends_with('.'), "{k:?}: {msg}");
    }
    let e = narrow(
        &scope(REQ),
        &Choices {
            function_blocks: Some(vec![1, 4, 5, 51]),
            ..Choices::default()
        },
        &policy(),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "\"{}\" (Connect My Data) is required for this request and cannot be removed.",
            espi_scope::function_block(3).description_en
        )
    );
}

/// Produces a NarrowError of each kind through the public API.
fn espi_scope_error(k: K) -> espi_scope::NarrowError {
    let (req, c) = match &k {
        K::EditNotAllowed => (
            "FB=4_5;AdditionalScope=noedit_meters-all",
            Choices {
                function_blocks: Some(vec![4]),
                ..Choices::default()
            },
        ),
        K::FunctionBlockNotRequested(_) => (
            "FB=4",
            Choices {
                function_blocks: Some(vec![4, 55]),
                ..Choices::default()
            },
        ),
        K::RequiredFunctionBlockDropped(_) => (
            "FB=1_4_5",
            Choices {
                function_blocks: Some(vec![4, 5]),
                ..Choices::default()
            },
        ),
        K::NoFunctionBlockChosen => (
            "FB=5",
            Choices {
                function_blocks: Some(vec![]),
                ..Choices::default()
            },
        ),
        K::HistoryLonger => (
            "FB=4;HistoryLength=10000",
            Choices {
                history_length: Some(20000),
                ..Choices::default()
            },
        ),
        K::EndDateLater => (
            "FB=4;PreferredAuthEndDate=1800000000",
            Choices {
                end_date: Some(1_800_000_001),
                ..Choices::default()
            },
        ),
        K::EndDateInPast => (
            "FB=4",
            Choices {
                end_date: Some(1),
                ..Choices::default()
            },
        ),
        K::UntilRevokedNotRequested => (
            "FB=4",
            Choices {
                end_date: Some(0),
                ..Choices::default()
            },
        ),
        K::MeterNotRequested(_) => (
            "FB=4;AdditionalScope=meters-A1",
            Choices {
                meters: meters(&["C3"]),
                ..Choices::default()
            },
        ),
        K::UnknownMeter(_) => (
            "FB=4",
            Choices {
                meters: meters(&["Z9"]),
                ..Choices::default()
            },
        ),
        _ => ("FB=4", Choices::default()),
    };
    let e = narrow(&scope(req), &c, &policy()).unwrap_err();
    assert_eq!(
        std::mem::discriminant(&e.kind()),
        std::mem::discriminant(&k),
        "{req}"
    );
    e
}
