//! The known keys of an ESPI scope.
//!
//! Rules: keys are read in any letter case (`fb`, `historyLength`:
//! `key-case`) and written in their canonical case; `FB`,
//! `IntervalDuration`, `BlockDuration` and `AdditionalScope` take `_`
//! separated lists, the others one value.

/// A known key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    Fb,
    IntervalDuration,
    BlockDuration,
    HistoryLength,
    SubscriptionFrequency,
    AccountCollection,
    Br,
    PreferredAuthEndDate,
    AdditionalScope,
}

const KEYS: [Key; 9] = [
    Key::Fb,
    Key::IntervalDuration,
    Key::BlockDuration,
    Key::HistoryLength,
    Key::SubscriptionFrequency,
    Key::AccountCollection,
    Key::Br,
    Key::PreferredAuthEndDate,
    Key::AdditionalScope,
];

impl Key {
    /// The canonical spelling.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::Fb => "FB",
            Key::IntervalDuration => "IntervalDuration",
            Key::BlockDuration => "BlockDuration",
            Key::HistoryLength => "HistoryLength",
            Key::SubscriptionFrequency => "SubscriptionFrequency",
            Key::AccountCollection => "AccountCollection",
            Key::Br => "BR",
            Key::PreferredAuthEndDate => "PreferredAuthEndDate",
            Key::AdditionalScope => "AdditionalScope",
        }
    }

    /// The key named `s` in any letter case.
    pub(crate) fn from_name(s: &str) -> Option<Key> {
        KEYS.into_iter().find(|k| k.name().eq_ignore_ascii_case(s))
    }

    /// True for the keys whose value is a `_` list.
    pub(super) fn is_list(self) -> bool {
        matches!(
            self,
            Key::Fb | Key::IntervalDuration | Key::BlockDuration | Key::AdditionalScope
        )
    }

    /// The longest known key that `s` ends with (case-insensitive), as its
    /// byte length.
    pub(crate) fn suffix_len(s: &str) -> Option<usize> {
        let mut best: Option<usize> = None;
        for k in KEYS {
            let n = k.name().len();
            if s.len() >= n
                && let Some(tail) = s.get(s.len() - n..)
                && tail.eq_ignore_ascii_case(k.name())
                && best.is_none_or(|b| n > b)
            {
                best = Some(n);
            }
        }
        best
    }
}

/// True when `s` is the name of a known ESPI key (any case).
pub fn is_known_key(s: &str) -> bool {
    Key::from_name(s).is_some()
}
