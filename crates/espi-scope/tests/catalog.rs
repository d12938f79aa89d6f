//! Every catalog rule of the domain brief.

use espi_scope::catalog::{self, Commodity, ConsentRole, DataKind, Status, all, function_block};
use espi_scope::describe::{Lang, function_block_description};

#[test]
fn all_lists_ids_1_to_70_in_order() {
    let ids: Vec<u16> = all().map(|f| f.id).collect();
    assert_eq!(ids, (1..=70).collect::<Vec<u16>>());
    assert!(all().all(|f| f.is_known()));
}

#[test]
fn official_names() {
    let names = [
        (1, "Common"),
        (4, "Interval Metering"),
        (5, "Interval Electricity Metering"),
        (10, "Gas"),
        (11, "Water"),
        (14, "Authorization and Authentication"),
        (16, "Usage Summary with Cost"),
        (27, "Usage Summary with Demands and Previous Day Attributes"),
        (28, "Usage Summary Costs for Current Billing Period"),
        (29, "Temperature Interval Metering"),
        (
            31,
            "Authorization and Authentication without Pre-Negotiated Scope",
        ),
        (35, "REST for Bulk"),
        (41, "Manage ApplicationInformation Resource"),
        (44, "Manage Authorization Resource"),
        (46, "Core Retail Customer"),
        (51, "Retail Customer Common"),
        (54, "Basic Information"),
        (62, "ProgramDateIdMappings Information"),
        (67, "REST for Retail Customer Bulk"),
        (70, "Retail Customer Offline Authorization"),
    ];
    for (id, name) in names {
        assert_eq!(function_block(id).name, name, "{id}");
    }
}

#[test]
fn deprecated_blocks_and_replacements() {
    let replaced = [(14, 31), (46, 51), (47, 67), (48, 66)];
    for (id, by) in replaced {
        assert_eq!(
            function_block(id).status,
            Status::Deprecated {
                replaced_by: Some(by)
            }
        );
        assert_eq!(function_block(id).replaced_by(), Some(by));
    }
    let no_replacement = [18, 19, 32, 33, 34, 36, 38, 49, 50, 66];
    for id in no_replacement {
        assert_eq!(
            function_block(id).status,
            Status::Deprecated { replaced_by: None },
            "{id}"
        );
    }
    let deprecated: Vec<u16> = all()
        .filter(|f| matches!(f.status, Status::Deprecated { .. }))
        .map(|f| f.id)
        .collect();
    assert_eq!(
        deprecated,
        [14, 18, 19, 32, 33, 34, 36, 38, 46, 47, 48, 49, 50, 66]
    );
}

#[test]
fn not_a_scope_term() {
    let ids: Vec<u16> = all()
        .filter(|f| f.status == Status::NotAScopeTerm)
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, [20, 21, 22, 23, 24, 25, 26, 42, 43, 45]);
}

#[test]
fn roles() {
    for f in all() {
        let want = match f.id {
            1 | 3 => ConsentRole::Base,
            4 => ConsentRole::Usage,
            5..=11 | 29 => ConsentRole::Commodity,
            12 | 15 | 16 | 17 | 27 | 28 => ConsentRole::Bills,
            46 | 51 | 54..=62 => ConsentRole::Account,
            _ => ConsentRole::Technical,
        };
        assert_eq!(f.role, want, "{}", f.id);
        assert_eq!(f.role, catalog::role_of(f.id));
        assert_eq!(DataKind::of(f.id), want.data_kind(), "{}", f.id);
    }
    // The seed's three kinds of data, and nothing else, may be dropped.
    for role in [
        ConsentRole::Usage,
        ConsentRole::Commodity,
        ConsentRole::Bills,
        ConsentRole::Account,
    ] {
        assert!(role.droppable(), "{role}");
    }
    assert!(!ConsentRole::Base.droppable());
    assert!(!ConsentRole::Technical.droppable());
    assert_eq!(DataKind::of(4), Some(DataKind::Usage));
    assert_eq!(DataKind::of(10), Some(DataKind::Usage));
    assert_eq!(DataKind::of(16), Some(DataKind::Bills));
    assert_eq!(DataKind::of(46), Some(DataKind::Account));
    assert_eq!(DataKind::of(51), Some(DataKind::Account));
    assert_eq!(DataKind::of(1), None);
    assert_eq!(DataKind::of(13), None);
    assert_eq!(Commodity::of_block(6), Some(Commodity::Electricity));
    assert_eq!(Commodity::of_block(9), None);
    for c in [Commodity::Electricity, Commodity::Gas, Commodity::Water] {
        assert_eq!(Commodity::of_block(c.block()), Some(c));
        assert_eq!(Commodity::from_name(&c.as_str().to_uppercase()), Some(c));
    }
}

#[test]
fn unknown_ids() {
    for id in [0u16, 71, 99, 1000, u16::MAX] {
        let f = function_block(id);
        assert_eq!(f.status, Status::Unknown);
        assert_eq!(f.role, ConsentRole::Technical);
        assert_eq!(f.id, id);
        assert!(!f.description_en.is_empty() && !f.description_es.is_empty());
        assert!(!f.is_known());
    }
}

#[test]
fn customer_descriptions() {
    assert_eq!(
        function_block(4).description_en,
        "Your energy usage readings, measured at regular intervals"
    );
    assert_eq!(function_block(16).description_en, "Your bills and costs");
    assert_eq!(
        function_block(51).description_en,
        "Your account number and service address"
    );
    assert_eq!(function_block(16).description_es, "Sus facturas y costos");
    for f in all().chain([function_block(0), function_block(500)]) {
        for d in [f.description_en, f.description_es] {
            assert!(d.len() > 8, "{}", f.id);
            assert!(
                !d.bytes().any(|b| b.is_ascii_digit()),
                "bare number in description of {}: {d}",
                f.id
            );
            assert!(!d.contains("FB"), "{}", f.id);
        }
        assert_ne!(f.description_en, f.description_es, "{}", f.id);
        assert_eq!(function_block_description(f.id, Lang::En), f.description_en);
        assert_eq!(function_block_description(f.id, Lang::Es), f.description_es);
    }
}

#[test]
fn status_and_role_strings() {
    assert_eq!(Status::Active.as_str(), "active");
    assert_eq!(
        Status::Deprecated { replaced_by: None }.as_str(),
        "deprecated"
    );
    assert_eq!(Status::NotAScopeTerm.as_str(), "not-a-scope-term");
    assert_eq!(Status::Unknown.as_str(), "unknown");
    assert_eq!(ConsentRole::Bills.as_str(), "bills");
    assert_eq!(ConsentRole::Account.to_string(), "account");
    assert_eq!(DataKind::Usage.to_string(), "usage");
}
