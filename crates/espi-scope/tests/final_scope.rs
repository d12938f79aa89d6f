//! The final scope: what the data custodian adds to a grant, and what it
//! never adds.

use espi_scope::EspiScope;
use espi_scope::catalog::Commodity;
use espi_scope::final_scope::{Custodian, MeterFacts, final_scope};

fn scope(s: &str) -> EspiScope {
    s.parse().unwrap()
}

fn meter(c: Option<Commodity>, seconds: &[u64]) -> MeterFacts {
    MeterFacts {
        commodity: c,
        interval_seconds: seconds.to_vec(),
    }
}

const SUPPORTED: [u16; 8] = [1, 3, 13, 19, 31, 34, 35, 39];

fn custodian(meters: Vec<MeterFacts>) -> Custodian {
    Custodian {
        supported: SUPPORTED.to_vec(),
        meters,
    }
}

#[test]
fn one_electric_meter() {
    let req = scope("FB=4_16_51;AdditionalScope=meters-all");
    let grant = scope(
        "FB=4_16_51;HistoryLength=63072000;AccountCollection=1;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1",
    );
    let done = final_scope(
        &req,
        &grant,
        &custodian(vec![meter(Some(Commodity::Electricity), &[3600, 900, 900])]),
    );
    assert_eq!(
        done.to_string(),
        "FB=1_3_4_5_13_16_19_31_34_35_39_51;IntervalDuration=900_3600;HistoryLength=63072000;AccountCollection=1;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1"
    );
}

#[test]
fn dropped_kinds_never_come_back() {
    let req = scope("FB=4_16_51;AdditionalScope=meters-all");
    // The customer kept only bills.
    let grant = scope(
        "FB=16;HistoryLength=63072000;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1_meters-G1",
    );
    let c = Custodian {
        // A utility that lists data blocks among what it supports.
        supported: vec![1, 3, 4, 5, 12, 15, 51, 55],
        meters: vec![
            meter(Some(Commodity::Electricity), &[900]),
            meter(Some(Commodity::Gas), &[3600]),
        ],
    };
    let done = final_scope(&req, &grant, &c);
    // No readings: no commodity, no interval; two meters: 18.
    assert_eq!(done.function_blocks, [1, 3, 16, 18]);
    assert!(done.interval_durations.is_empty());
}

#[test]
fn the_request_s_own_commodities_and_intervals_stand() {
    let req = scope("FB=4_10;IntervalDuration=3600;AdditionalScope=meters-all");
    let grant = scope(
        "FB=4_10;IntervalDuration=3600;HistoryLength=100;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1_meters-G1",
    );
    let done = final_scope(
        &req,
        &grant,
        &custodian(vec![
            meter(Some(Commodity::Electricity), &[900]),
            meter(Some(Commodity::Gas), &[3600]),
        ]),
    );
    assert!(!done.function_blocks.contains(&5), "{done}");
    assert!(done.function_blocks.contains(&10));
    assert!(done.to_string().contains("IntervalDuration=3600;"));
}

#[test]
fn a_meter_of_unknown_kind_adds_no_commodity() {
    let req = scope("FB=4;AdditionalScope=meters-all");
    let grant = scope(
        "FB=4;HistoryLength=100;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1_meters-X1",
    );
    let done = final_scope(
        &req,
        &grant,
        &custodian(vec![
            meter(Some(Commodity::Electricity), &[900]),
            meter(None, &[]),
        ]),
    );
    assert!(!done.function_blocks.contains(&5));
    assert!(done.function_blocks.contains(&18));
    assert_eq!(done.interval_durations.len(), 1);
}

#[test]
fn nothing_to_add() {
    let grant = scope(
        "FB=1_4;HistoryLength=100;AccountCollection=1;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1",
    );
    let done = final_scope(&grant, &grant, &Custodian::default());
    assert_eq!(done, grant);
}
