//! A strict reader of the canonical form, for a party that receives a scope
//! another party has already normalised.
//!
//! The DataCustodian reads whatever a third party sends with the lenient
//! [`crate::grammar::parse`] and hands its consent screen the canonical form
//! (what `Display` writes). The screen then needs only this reader: it is a
//! small fraction of the lenient parser's code, which matters in a
//! WebAssembly bundle with a size budget.
//!
//! [`read`] accepts exactly the text `Display` writes for one [`EspiScope`]
//! and nothing else, so it can never disagree with the lenient parser: the
//! property tests check that whatever it accepts, [`crate::grammar::parse`]
//! reads to the same value without an error.
//!
//! ```
//! use espi_scope::canonical;
//! let s = canonical::read("FB=4_16;IntervalDuration=900;AdditionalScope=meters-all").unwrap();
//! assert_eq!(s.function_blocks, vec![4, 16]);
//! // Anything else, even a harmless variant, is refused:
//! assert_eq!(canonical::read("FB=16_4"), None);
//! assert_eq!(canonical::read("fb=4;"), None);
//! ```

use crate::grammar::{Key, has_valid_escape, is_ws};
use crate::model::{AdditionalScope, Duration, EspiScope, ExtraTerm, Frequency};

/// Reads one ESPI scope in canonical form; `None` for any other text
/// (a non-canonical spelling, several scopes, other OAuth scope tokens).
pub fn read(text: &str) -> Option<EspiScope> {
    // Whitespace, `,` and `|` (separators to the lenient parser) and percent
    // escapes (which it would decode) never appear in canonical text.
    if text.bytes().any(|b| is_ws(b) || b == b',' || b == b'|') || has_valid_escape(text) {
        return None;
    }
    let mut scope = EspiScope::default();
    for term in text.split(';') {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        // A `=` after a known key's name is where the lenient parser finds a
        // missing `;`.
        if hides_a_term(value) {
            return None;
        }
        match Key::from_name(key) {
            Some(Key::Fb) => scope.function_blocks = list(value, |v| v.parse().ok())?,
            Some(Key::IntervalDuration) => scope.interval_durations = list(value, duration)?,
            Some(Key::BlockDuration) => scope.block_durations = list(value, duration)?,
            Some(Key::HistoryLength) => scope.history_length = Some(value.parse().ok()?),
            Some(Key::SubscriptionFrequency) => {
                scope.subscription_frequency = Some(duration(value)?);
            }
            Some(Key::AccountCollection) => scope.account_collection = Some(value.parse().ok()?),
            Some(Key::Br) if !value.is_empty() => scope.bulk_id = Some(value.to_string()),
            Some(Key::PreferredAuthEndDate) => {
                scope.preferred_auth_end_date = Some(value.parse().ok()?);
            }
            Some(Key::AdditionalScope) => {
                scope.additional_scope = list(value, |v| Some(AdditionalScope::from_item(v)))?;
            }
            Some(Key::Br) => return None,
            // An empty term (a stray `;`) is never written.
            None if term.is_empty() => return None,
            None => scope.extra_terms.push(if term.contains('=') {
                ExtraTerm::KeyValue {
                    key: key.to_string(),
                    value: value.to_string(),
                }
            } else {
                ExtraTerm::Bare(term.to_string())
            }),
        }
    }
    // Exactly canonical: the right order, case, numbers and separators, each
    // known term once, and an FB term first.
    (scope.to_string() == text).then_some(scope)
}

/// True when a `=` in `value` follows a known key's name (`x=aFB=5`).
fn hides_a_term(value: &str) -> bool {
    value
        .match_indices('=')
        .any(|(i, _)| value.get(..i).and_then(Key::suffix_len).is_some())
}

/// A `_`-separated list of non-empty items.
fn list<T>(value: &str, item: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    value
        .split('_')
        .map(|v| if v.is_empty() { None } else { item(v) })
        .collect()
}

fn duration(value: &str) -> Option<Duration> {
    match value.parse() {
        Ok(seconds) => Some(Duration::Seconds(seconds)),
        Err(_) => Frequency::from_name(value).map(Duration::Named),
    }
}

#[cfg(test)]
mod tests {
    use super::read;

    #[test]
    fn reads_what_display_writes() {
        let text = "FB=1_4_16_51;IntervalDuration=monthly_900;BlockDuration=daily;\
                    HistoryLength=63072000;SubscriptionFrequency=daily;AccountCollection=2;\
                    BR=007;PreferredAuthEndDate=0;AdditionalScope=noedit_meters-SA1_sou-x;\
                    dataCustodianId=PGE;flag";
        let s = read(text).unwrap();
        assert_eq!(s.to_string(), text);
        assert_eq!(s.bulk_id.as_deref(), Some("007"));
        assert_eq!(s.preferred_auth_end_date, Some(0));
    }

    #[test]
    fn refuses_every_variant() {
        for text in [
            "",
            "FB=",
            "FB=4_4",
            "FB=04",
            "FB=+4",
            "fb=4",
            "FB=4;",
            "FB=4 ",
            "FB=4;;HistoryLength=1",
            "HistoryLength=1;FB=4",
            "FB=4;HistoryLength=1;IntervalDuration=900",
            "FB=4;HistoryLength=1;HistoryLength=2",
            "FB=4;IntervalDuration=Monthly",
            "FB=4;IntervalDuration=hourly",
            "FB=4;SubscriptionFrequency=",
            "FB=4;x=aFB=5",
            "FB=4;x=1;br=2",
            "FB=4;x=1;fb=5",
            "openid FB=4",
            "FB=4 FB=5",
            "FB=70000",
        ] {
            assert_eq!(read(text), None, "{text:?}");
        }
    }
}
