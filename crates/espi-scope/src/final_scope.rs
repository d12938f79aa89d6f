//! The final scope: what the data custodian tells the third party to expect
//! once the customer has narrowed the request.
//!
//! As UtilityAPI does, the grant is completed with the function blocks that
//! are relevant to it, so that the token's `scope` says what the third party
//! will actually find:
//!
//! - the structural and technical blocks this data custodian supports (a
//!   configured list such as 1, 3, 13, 19, 31, 34, 35, 39); a block of a
//!   kind of data is never added this way, so nothing the customer dropped
//!   comes back;
//! - when usage readings are granted, the commodity block of each granted
//!   meter (5 electricity, 10 gas, 11 water), unless the request named its
//!   own commodity blocks (then the narrowed ones stand), and the recorded
//!   interval lengths of those meters as `IntervalDuration` when the request
//!   named none;
//! - 18 ("Multiple Usage Points") when more than one meter is granted.
//!
//! ```
//! use espi_scope::catalog::Commodity;
//! use espi_scope::final_scope::{final_scope, Custodian, MeterFacts};
//! use espi_scope::EspiScope;
//! let requested: EspiScope = "FB=4_16_51;AdditionalScope=meters-all".parse().unwrap();
//! // The customer dropped bills and granted two meters.
//! let grant: EspiScope = "FB=4_51;HistoryLength=63072000;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1_meters-G1".parse().unwrap();
//! let custodian = Custodian {
//!     supported: vec![1, 3, 13, 16, 35],
//!     meters: vec![
//!         MeterFacts { commodity: Some(Commodity::Electricity), interval_seconds: vec![900, 3600] },
//!         MeterFacts { commodity: Some(Commodity::Gas), interval_seconds: vec![3600] },
//!     ],
//! };
//! let done = final_scope(&requested, &grant, &custodian);
//! assert_eq!(
//!     done.to_string(),
//!     "FB=1_3_4_5_10_13_18_35_51;IntervalDuration=900_3600;HistoryLength=63072000;AccountCollection=2;PreferredAuthEndDate=1900000000;AdditionalScope=meters-E1_meters-G1"
//! );
//! ```

use crate::catalog::{Commodity, DataKind};
use crate::model::{Duration, EspiScope, sort_function_blocks};

/// One granted meter, as the data custodian knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MeterFacts {
    /// What it measures; `None` when the custodian does not know.
    pub commodity: Option<Commodity>,
    /// The interval lengths (seconds) of the readings recorded for it.
    pub interval_seconds: Vec<u64>,
}

/// What the data custodian knows when it completes a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Custodian {
    /// The function blocks this data custodian supports; its structural and
    /// technical ones are added to every grant.
    pub supported: Vec<u16>,
    /// The granted meters.
    pub meters: Vec<MeterFacts>,
}

/// FB 18, "Multiple Usage Points".
const MULTIPLE_USAGE_POINTS: u16 = 18;

/// Completes `grant` (the result of [`narrow`](crate::narrow())) for
/// `requested` with what `custodian` adds (see the module docs). Never
/// adds a block of a kind of data the grant does not share, and never a
/// commodity when a granted meter's commodity is unknown (then every
/// commodity stays granted, as without commodity blocks).
pub fn final_scope(requested: &EspiScope, grant: &EspiScope, custodian: &Custodian) -> EspiScope {
    let mut out = grant.clone();
    let mut add = |id: u16| {
        if !out.function_blocks.contains(&id) {
            out.function_blocks.push(id);
        }
    };
    for &id in &custodian.supported {
        if DataKind::of(id).is_none() {
            add(id);
        }
    }
    if custodian.meters.len() > 1 {
        add(MULTIPLE_USAGE_POINTS);
    }
    let usage = grant
        .function_blocks
        .iter()
        .any(|id| DataKind::of(*id) == Some(DataKind::Usage));
    let requested_commodities = requested
        .function_blocks
        .iter()
        .any(|id| Commodity::of_block(*id).is_some());
    let all_known = custodian.meters.iter().all(|m| m.commodity.is_some());
    if usage && !requested_commodities && all_known {
        for m in &custodian.meters {
            if let Some(c) = m.commodity {
                add(c.block());
            }
        }
    }
    sort_function_blocks(&mut out.function_blocks);
    if usage && out.interval_durations.is_empty() {
        let mut seconds: Vec<u64> = custodian
            .meters
            .iter()
            .flat_map(|m| m.interval_seconds.iter().copied())
            .filter(|s| *s > 0)
            .collect();
        seconds.sort_unstable();
        seconds.dedup();
        out.interval_durations = seconds.into_iter().map(Duration::Seconds).collect();
    }
    out
}
