//! What the consent step shows and sends, as plain data (no DOM): the
//! requested scope grouped by consent role, the choices the customer may
//! make (only ever narrower), and the exact grant, computed with the scope
//! library's `narrow` (the server recomputes it anyway).

use espi_scope::catalog::{ConsentRole, role_of};
use espi_scope::model::sort_function_blocks;
use espi_scope::narrow::{
    Choices, DEFAULT_AUTHORIZATION_SECONDS, NarrowError, NarrowPolicy, effective_requested_end,
    meter_options, narrow,
};
use espi_scope::{EspiScope, MeterRequest};

use crate::api::{Decision, DecisionKind, Meter, ServiceKind};

const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;

/// The consent screen's reading of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The requested ESPI scope (the first one of the scope value).
    pub requested: EspiScope,
    /// Implied blocks (a note).
    pub base: Vec<u16>,
    /// Commodity blocks (follow the meters).
    pub commodity: Vec<u16>,
    /// "You will receive" blocks.
    pub data_shape: Vec<u16>,
    /// Optional blocks (checkboxes).
    pub customer_data: Vec<u16>,
    /// Shown only under "Technical details".
    pub technical: Vec<u16>,
    /// False under `noedit`.
    pub editable: bool,
    /// What the request says about meters.
    pub meter_request: MeterRequest,
    /// The SAIDs the customer may pick from.
    pub meter_choices: Vec<String>,
    /// The SAIDs preselected.
    pub meter_default: Vec<String>,
    /// Requested end date (0 = until revoked), after the default.
    pub end: u64,
    /// What `narrow` needs to know.
    pub policy: NarrowPolicy,
}

/// The customer's current choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Customer-data blocks kept.
    pub customer_data: Vec<u16>,
    /// SAIDs chosen.
    pub meters: Vec<String>,
    /// History seconds.
    pub history: Option<u64>,
    /// End date, 0 = until revoked.
    pub end: u64,
}

/// The commodity a commodity block belongs to (`None`: any meter).
pub fn commodity_kind(id: u16) -> Option<ServiceKind> {
    match id {
        5..=9 => Some(ServiceKind::Electricity),
        10 => Some(ServiceKind::Gas),
        11 => Some(ServiceKind::Water),
        _ => None,
    }
}

impl Plan {
    /// Reads `scope`; `None` when it holds no ESPI scope.
    pub fn new(
        scope: &str,
        editable: bool,
        now: u64,
        default_end_date: u64,
        customer_meters: &[Meter],
    ) -> Option<Plan> {
        // The DataCustodian sends the canonical form (see the OpenAPI file).
        let requested = espi_scope::canonical::read(scope)?;
        let policy = NarrowPolicy {
            now,
            customer_meters: customer_meters.iter().map(|m| m.said.clone()).collect(),
            default_authorization_seconds: if default_end_date > now {
                default_end_date - now
            } else {
                DEFAULT_AUTHORIZATION_SECONDS
            },
        };
        let (meter_choices, meter_default) = meter_options(&requested, &policy);
        let mut plan = Plan {
            base: Vec::new(),
            commodity: Vec::new(),
            data_shape: Vec::new(),
            customer_data: Vec::new(),
            technical: Vec::new(),
            editable: editable && !requested.no_edit(),
            meter_request: requested.meter_request(),
            meter_choices,
            meter_default,
            end: effective_requested_end(&requested, &policy),
            policy,
            requested,
        };
        for &id in &plan.requested.function_blocks {
            match role_of(id) {
                ConsentRole::Base => plan.base.push(id),
                ConsentRole::Commodity => plan.commodity.push(id),
                ConsentRole::DataShape => plan.data_shape.push(id),
                ConsentRole::CustomerData => plan.customer_data.push(id),
                ConsentRole::Technical => plan.technical.push(id),
            }
        }
        Some(plan)
    }

    /// The choices as the request has them.
    pub fn initial(&self) -> Selection {
        Selection {
            customer_data: self.customer_data.clone(),
            meters: self.meter_default.clone(),
            history: self.requested.history_length,
            end: self.end,
        }
    }

    /// History lengths the customer may pick: the request first, then
    /// shorter ones; empty when there is nothing to choose.
    pub fn history_options(&self) -> Vec<u64> {
        let Some(r) = self.requested.history_length else {
            return Vec::new();
        };
        let mut v = vec![r];
        v.extend(
            [2 * YEAR, YEAR, 90 * DAY, 30 * DAY, 0]
                .into_iter()
                .filter(|h| *h < r),
        );
        v
    }

    /// End dates the customer may pick: the request first ("until I
    /// revoke" = 0 only when requested), then earlier ones.
    pub fn end_options(&self) -> Vec<u64> {
        let now = self.policy.now;
        let mut v = vec![self.end];
        let mut last = if self.end == 0 { u64::MAX } else { self.end };
        let default_end = now.saturating_add(self.policy.default_authorization_seconds);
        let first = if self.end == 0 { default_end } else { u64::MAX };
        for e in [first, now + YEAR, now + 90 * DAY, now + 30 * DAY] {
            if e < last && e > now {
                v.push(e);
                last = e;
            }
        }
        v
    }

    /// The function blocks kept by `sel`: commodities follow the meters
    /// chosen (a meter of unknown kind keeps them all).
    pub fn kept_blocks(&self, sel: &Selection, meters: &[Meter]) -> Vec<u16> {
        let chosen: Vec<&Meter> = meters
            .iter()
            .filter(|m| sel.meters.contains(&m.said))
            .collect();
        let any_unknown = chosen.is_empty() || chosen.iter().any(|m| m.service_kind.is_none());
        let mut v: Vec<u16> = self
            .requested
            .function_blocks
            .iter()
            .copied()
            .filter(|id| match role_of(*id) {
                ConsentRole::CustomerData => sel.customer_data.contains(id),
                ConsentRole::Commodity => match commodity_kind(*id) {
                    Some(kind) if !any_unknown => {
                        chosen.iter().any(|m| m.service_kind == Some(kind))
                    }
                    _ => true,
                },
                _ => true,
            })
            .collect();
        sort_function_blocks(&mut v);
        v
    }

    /// The scope library's choices for `sel` (`None` = as requested).
    pub fn choices(&self, sel: &Selection, meters: &[Meter]) -> Choices {
        let meters_chosen = Some(sel.meters.clone());
        if !self.editable {
            return Choices {
                meters: meters_chosen,
                ..Choices::default()
            };
        }
        let kept = self.kept_blocks(sel, meters);
        let mut req = self.requested.function_blocks.clone();
        sort_function_blocks(&mut req);
        Choices {
            function_blocks: (kept != req).then_some(kept),
            history_length: sel
                .history
                .filter(|h| Some(*h) != self.requested.history_length),
            end_date: (sel.end != self.end).then_some(sel.end),
            meters: meters_chosen,
        }
    }

    /// The exact grant for `sel`.
    pub fn grant(&self, sel: &Selection, meters: &[Meter]) -> Result<EspiScope, NarrowError> {
        narrow(&self.requested, &self.choices(sel, meters), &self.policy)
    }

    /// The decision to post for `sel`.
    pub fn decision(&self, sel: &Selection, meters: &[Meter]) -> Decision {
        let c = self.choices(sel, meters);
        Decision {
            decision: DecisionKind::Authorize,
            function_blocks: c.function_blocks,
            history_length: c.history_length,
            end_date: c.end_date,
            meters: c.meters,
            locale: None,
        }
    }
}

/// Why a typed one-time code cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeProblem {
    /// Nothing typed.
    Empty,
    /// Not 6 digits.
    Format,
}

/// The code with spaces and dashes removed, if it is 6 digits.
pub fn normalize_code(typed: &str) -> Result<String, CodeProblem> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '‐' | '‑' | '–' | '—' | '.'))
        .collect();
    if code.is_empty() {
        Err(CodeProblem::Empty)
    } else if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(CodeProblem::Format)
    }
}

/// True for an `http:` or `https:` URL (the only redirects followed and the
/// only links shown).
pub fn is_web_url(url: &str) -> bool {
    let lower = url
        .trim_start()
        .get(..8)
        .unwrap_or(url)
        .to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(said: &str, kind: Option<&str>) -> Meter {
        Meter {
            said: said.into(),
            label: said.into(),
            address: None,
            service_kind: kind.map(|k| match k {
                "gas" => ServiceKind::Gas,
                "water" => ServiceKind::Water,
                _ => ServiceKind::Electricity,
            }),
        }
    }

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn groups_by_role_and_preselects_meters() {
        let meters = [m("E1", Some("electricity")), m("G1", Some("gas"))];
        let p = Plan::new(
            "FB=1_3_4_5_10_16_51_55;IntervalDuration=900;HistoryLength=63072000;AdditionalScope=meters-all",
            true,
            NOW,
            NOW + 3 * YEAR,
            &meters,
        )
        .unwrap();
        assert_eq!(p.base, vec![1, 4, 51]);
        assert_eq!(p.commodity, vec![5, 10]);
        assert_eq!(p.data_shape, vec![16]);
        assert_eq!(p.customer_data, vec![55]);
        assert_eq!(p.technical, vec![3]);
        assert_eq!(p.meter_default, vec!["E1", "G1"]);
        let listed = Plan::new("FB=1_4;AdditionalScope=meters-G1", true, NOW, 0, &meters).unwrap();
        assert_eq!(listed.meter_choices, vec!["G1"]);
        assert_eq!(listed.meter_default, vec!["G1"]);
        let open = Plan::new("FB=1_4", true, NOW, 0, &meters).unwrap();
        assert_eq!(open.meter_choices.len(), 2);
        assert!(open.meter_default.is_empty());
    }

    #[test]
    fn narrowing_follows_meters_and_options_only_shorten() {
        let meters = [m("E1", Some("electricity")), m("G1", Some("gas"))];
        let p = Plan::new(
            "FB=1_4_5_10_16_51_55;HistoryLength=63072000;PreferredAuthEndDate=1800000000;AdditionalScope=meters-all",
            true,
            NOW,
            0,
            &meters,
        )
        .unwrap();
        assert_eq!(
            p.history_options(),
            vec![2 * YEAR, YEAR, 90 * DAY, 30 * DAY, 0]
        );
        let ends = p.end_options();
        assert_eq!(ends[0], 1_800_000_000);
        assert!(ends[1..].iter().all(|e| *e < 1_800_000_000 && *e > NOW));
        let mut sel = p.initial();
        sel.meters = vec!["G1".into()];
        sel.customer_data.clear();
        sel.history = Some(YEAR);
        let g = p.grant(&sel, &meters).unwrap();
        assert_eq!(
            g.to_string(),
            "FB=1_4_10_16_51;HistoryLength=31536000;AccountCollection=1;PreferredAuthEndDate=1800000000;AdditionalScope=meters-G1"
        );
        let d = p.decision(&sel, &meters);
        assert_eq!(d.function_blocks, Some(vec![1, 4, 10, 16, 51]));
        assert_eq!(d.history_length, Some(YEAR));
        assert_eq!(d.end_date, None);
    }

    #[test]
    fn until_revoked_only_when_requested() {
        let p = Plan::new(
            "FB=1_4;PreferredAuthEndDate=0",
            true,
            NOW,
            NOW + 3 * YEAR,
            &[],
        )
        .unwrap();
        let ends = p.end_options();
        assert_eq!(ends[0], 0);
        assert_eq!(ends[1], NOW + 3 * YEAR);
        let q = Plan::new("FB=1_4", true, NOW, NOW + 3 * YEAR, &[]).unwrap();
        assert!(!q.end_options().contains(&0));
        assert_eq!(q.end_options()[0], NOW + 3 * YEAR);
    }

    #[test]
    fn noedit_sends_only_meters() {
        let meters = [m("E1", None)];
        let p = Plan::new(
            "FB=1_4_5_55;HistoryLength=100;AdditionalScope=noedit_meters-all",
            true,
            NOW,
            0,
            &meters,
        )
        .unwrap();
        assert!(!p.editable);
        let mut sel = p.initial();
        sel.customer_data.clear();
        let d = p.decision(&sel, &meters);
        assert_eq!(d.function_blocks, None);
        assert_eq!(d.meters, Some(vec!["E1".to_string()]));
        assert!(p.grant(&sel, &meters).is_ok());
    }

    #[test]
    fn codes() {
        assert_eq!(normalize_code(" 123-456 ").as_deref(), Ok("123456"));
        assert_eq!(normalize_code("12 34 56").as_deref(), Ok("123456"));
        assert_eq!(normalize_code("  "), Err(CodeProblem::Empty));
        assert_eq!(normalize_code("12345"), Err(CodeProblem::Format));
        assert_eq!(normalize_code("12345a"), Err(CodeProblem::Format));
        assert!(is_web_url("https://x.example/cb?code=1"));
        assert!(!is_web_url("javascript:alert(1)"));
    }
}
