//! What the consent step shows and sends, as plain data (no DOM): the
//! requested scope grouped into structural blocks and kinds of data, the choices the customer may
//! make (only ever narrower), and the exact grant, computed with the scope
//! library's `narrow` (the server recomputes it anyway).

use espi_scope::catalog::{Commodity, ConsentRole, DataKind, role_of};
use espi_scope::model::sort_function_blocks;
use espi_scope::narrow::{
    Choices, DEFAULT_AUTHORIZATION_SECONDS, NarrowError, NarrowPolicy, effective_requested_end,
    effective_requested_history, meter_options, narrow,
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
    /// Structural blocks: "always included".
    pub base: Vec<u16>,
    /// The kinds of data requested, each with its requested blocks, in
    /// [`DataKind::ALL`] order: one checkbox each.
    pub kinds: Vec<(DataKind, Vec<u16>)>,
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
    /// Requested history in seconds, or the data custodian's default.
    pub history: u64,
    /// Requested end date (0 = until revoked), or the default.
    pub end: u64,
    /// What `narrow` needs to know.
    pub policy: NarrowPolicy,
}

/// The customer's current choices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Kinds of data kept.
    pub kinds: Vec<DataKind>,
    /// SAIDs chosen.
    pub meters: Vec<String>,
    /// History seconds.
    pub history: u64,
    /// End date, 0 = until revoked.
    pub end: u64,
}

/// What the data custodian applies when the request is silent (see the
/// consent context).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Defaults {
    /// The server clock (unix seconds).
    pub now: u64,
    /// End date when the request has no `PreferredAuthEndDate`.
    pub end_date: u64,
    /// History seconds when the request has no `HistoryLength`.
    pub history: u64,
}

/// The commodity of a meter's service kind.
fn commodity(kind: ServiceKind) -> Commodity {
    match kind {
        ServiceKind::Electricity => Commodity::Electricity,
        ServiceKind::Gas => Commodity::Gas,
        ServiceKind::Water => Commodity::Water,
    }
}

impl Plan {
    /// Reads `scope`; `None` when it holds no ESPI scope.
    pub fn new(
        scope: &str,
        editable: bool,
        defaults: Defaults,
        customer_meters: &[Meter],
    ) -> Option<Plan> {
        // The DataCustodian sends the canonical form (see the OpenAPI file).
        let requested = espi_scope::canonical::read(scope)?;
        let now = defaults.now;
        let policy = NarrowPolicy {
            now,
            customer_meters: customer_meters.iter().map(|m| m.said.clone()).collect(),
            default_authorization_seconds: if defaults.end_date > now {
                defaults.end_date - now
            } else {
                DEFAULT_AUTHORIZATION_SECONDS
            },
            default_history_seconds: defaults.history,
        };
        let (meter_choices, meter_default) = meter_options(&requested, &policy);
        let mut plan = Plan {
            base: Vec::new(),
            kinds: Vec::new(),
            technical: Vec::new(),
            editable: editable && !requested.no_edit(),
            meter_request: requested.meter_request(),
            meter_choices,
            meter_default,
            history: effective_requested_history(&requested, &policy),
            end: effective_requested_end(&requested, &policy),
            policy,
            requested,
        };
        for kind in DataKind::ALL {
            let ids: Vec<u16> = plan
                .requested
                .function_blocks
                .iter()
                .copied()
                .filter(|id| DataKind::of(*id) == Some(kind))
                .collect();
            if !ids.is_empty() {
                plan.kinds.push((kind, ids));
            }
        }
        for &id in &plan.requested.function_blocks {
            match role_of(id) {
                ConsentRole::Base => plan.base.push(id),
                ConsentRole::Technical => plan.technical.push(id),
                _ => {}
            }
        }
        Some(plan)
    }

    /// The choices as the request has them.
    pub fn initial(&self) -> Selection {
        Selection {
            kinds: self.kinds.iter().map(|(k, _)| *k).collect(),
            meters: self.meter_default.clone(),
            history: self.history,
            end: self.end,
        }
    }

    /// True when the request named no history (the default applies).
    pub fn history_is_default(&self) -> bool {
        self.requested.history_length.is_none()
    }

    /// True when the request named no end date (the default applies).
    pub fn end_is_default(&self) -> bool {
        self.requested.preferred_auth_end_date.is_none()
    }

    /// History lengths the customer may pick: the request's (or the
    /// default) first, then shorter ones.
    pub fn history_options(&self) -> Vec<u64> {
        let r = self.history;
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

    /// The function blocks kept by `sel`: the structural and technical
    /// ones, and those of the kinds kept; commodities follow the meters
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
            .filter(|id| {
                let Some(kind) = DataKind::of(*id) else {
                    return true;
                };
                sel.kinds.contains(&kind)
                    && match Commodity::of_block(*id) {
                        Some(c) if !any_unknown => chosen
                            .iter()
                            .any(|m| m.service_kind.map(commodity) == Some(c)),
                        _ => true,
                    }
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
            history_length: (sel.history != self.history).then_some(sel.history),
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

    fn defaults(end: u64) -> Defaults {
        Defaults {
            now: NOW,
            end_date: end,
            history: 2 * YEAR,
        }
    }

    #[test]
    fn groups_by_kind_and_preselects_meters() {
        let meters = [m("E1", Some("electricity")), m("G1", Some("gas"))];
        let p = Plan::new(
            "FB=1_3_4_5_10_16_51_55;IntervalDuration=900;HistoryLength=63072000;AdditionalScope=meters-all",
            true,
            defaults(NOW + 3 * YEAR),
            &meters,
        )
        .unwrap();
        assert_eq!(p.base, vec![1, 3]);
        assert_eq!(
            p.kinds,
            vec![
                (DataKind::Usage, vec![4, 5, 10]),
                (DataKind::Bills, vec![16]),
                (DataKind::Account, vec![51, 55]),
            ]
        );
        assert!(p.technical.is_empty());
        assert_eq!(p.meter_default, vec!["E1", "G1"]);
        let listed = Plan::new(
            "FB=1_4;AdditionalScope=meters-G1",
            true,
            defaults(0),
            &meters,
        )
        .unwrap();
        assert_eq!(listed.meter_choices, vec!["G1"]);
        assert_eq!(listed.meter_default, vec!["G1"]);
        let open = Plan::new("FB=1_4", true, defaults(0), &meters).unwrap();
        assert_eq!(open.meter_choices.len(), 2);
        assert!(open.meter_default.is_empty());
    }

    #[test]
    fn dropping_kinds_follows_meters_and_options_only_shorten() {
        let meters = [m("E1", Some("electricity")), m("G1", Some("gas"))];
        let p = Plan::new(
            "FB=1_4_5_10_16_51_55;HistoryLength=63072000;PreferredAuthEndDate=1800000000;AdditionalScope=meters-all",
            true,
            defaults(0),
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
        sel.kinds.retain(|k| *k != DataKind::Account);
        sel.history = YEAR;
        let g = p.grant(&sel, &meters).unwrap();
        assert_eq!(
            g.to_string(),
            "FB=1_4_10_16;HistoryLength=31536000;AccountCollection=1;PreferredAuthEndDate=1800000000;AdditionalScope=meters-G1"
        );
        let d = p.decision(&sel, &meters);
        assert_eq!(d.function_blocks, Some(vec![1, 4, 10, 16]));
        assert_eq!(d.history_length, Some(YEAR));
        assert_eq!(d.end_date, None);
        // Bills dropped: no 16; usage dropped: no 4 and no commodity.
        sel.kinds = vec![DataKind::Account];
        assert_eq!(p.kept_blocks(&sel, &meters), vec![1, 51, 55]);
        // Nothing left: the scope library refuses it.
        sel.kinds.clear();
        assert!(p.grant(&sel, &meters).is_err());
    }

    #[test]
    fn defaults_are_choices_too() {
        let p = Plan::new(
            "FB=4;AdditionalScope=meters-all",
            true,
            defaults(NOW + 3 * YEAR),
            &[],
        )
        .unwrap();
        assert!(p.history_is_default() && p.end_is_default());
        assert_eq!(p.history, 2 * YEAR);
        assert_eq!(
            p.history_options(),
            vec![2 * YEAR, YEAR, 90 * DAY, 30 * DAY, 0]
        );
        let mut sel = p.initial();
        // As offered: nothing to send, the server applies the same default.
        assert_eq!(p.choices(&sel, &[]).history_length, None);
        sel.history = 90 * DAY;
        assert_eq!(p.choices(&sel, &[]).history_length, Some(90 * DAY));
    }

    #[test]
    fn until_revoked_only_when_requested() {
        let p = Plan::new(
            "FB=1_4;PreferredAuthEndDate=0",
            true,
            defaults(NOW + 3 * YEAR),
            &[],
        )
        .unwrap();
        let ends = p.end_options();
        assert_eq!(ends[0], 0);
        assert_eq!(ends[1], NOW + 3 * YEAR);
        let q = Plan::new("FB=1_4", true, defaults(NOW + 3 * YEAR), &[]).unwrap();
        assert!(!q.end_options().contains(&0));
        assert_eq!(q.end_options()[0], NOW + 3 * YEAR);
    }

    #[test]
    fn noedit_sends_only_meters() {
        let meters = [m("E1", None)];
        let p = Plan::new(
            "FB=1_4_5_55;HistoryLength=100;AdditionalScope=noedit_meters-all",
            true,
            defaults(0),
            &meters,
        )
        .unwrap();
        assert!(!p.editable);
        let mut sel = p.initial();
        sel.kinds.clear();
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
