//! Plain-language descriptions.

use espi_scope::describe::{self, Lang, civil_date, end_date, history_length, seconds};
use espi_scope::{Duration, Frequency};

#[test]
fn lang_tags() {
    assert_eq!(Lang::from_tag("es-MX"), Some(Lang::Es));
    assert_eq!(Lang::from_tag("ES"), Some(Lang::Es));
    assert_eq!(Lang::from_tag("es_419"), Some(Lang::Es));
    assert_eq!(Lang::from_tag("en-US"), Some(Lang::En));
    assert_eq!(Lang::from_tag("en"), Some(Lang::En));
    assert_eq!(Lang::from_tag("fr-CA"), None);
    assert_eq!(Lang::from_tag(""), None);
}

#[test]
fn durations() {
    let d = |d: Duration, l| describe::duration(&d, l);
    assert_eq!(d(Duration::Seconds(900), Lang::En), "15 minutes");
    assert_eq!(d(Duration::Seconds(900), Lang::Es), "15 minutos");
    assert_eq!(d(Duration::Seconds(3600), Lang::En), "1 hour");
    assert_eq!(d(Duration::Seconds(300), Lang::En), "5 minutes");
    assert_eq!(d(Duration::Seconds(86400), Lang::Es), "1 día");
    assert_eq!(d(Duration::Seconds(45), Lang::En), "45 seconds");
    assert_eq!(d(Duration::Seconds(1), Lang::Es), "1 segundo");
    assert_eq!(d(Duration::Seconds(0), Lang::En), "0 seconds");
    assert_eq!(d(Duration::Named(Frequency::Daily), Lang::En), "daily");
    assert_eq!(d(Duration::Named(Frequency::Daily), Lang::Es), "diaria");
    assert_eq!(
        d(Duration::Named(Frequency::BillingPeriod), Lang::En),
        "every billing period"
    );
    assert_eq!(d(Duration::Named(Frequency::Monthly), Lang::Es), "mensual");
    for f in Frequency::ALL {
        for l in [Lang::En, Lang::Es] {
            assert!(!describe::frequency(f, l).is_empty());
        }
    }
}

#[test]
fn seconds_in_words() {
    assert_eq!(seconds(63_072_000, Lang::En), "2 years");
    assert_eq!(seconds(63_072_000, Lang::Es), "2 años");
    assert_eq!(seconds(31_536_000, Lang::En), "1 year");
    assert_eq!(seconds(3600, Lang::En), "1 hour");
    assert_eq!(seconds(5400, Lang::En), "90 minutes");
    assert_eq!(seconds(1_209_600, Lang::En), "2 weeks");
    assert_eq!(seconds(34_128_000, Lang::En), "395 days");
    assert_eq!(seconds(0, Lang::En), "no history");
    assert_eq!(seconds(0, Lang::Es), "sin historial");
    assert_eq!(seconds(u64::MAX, Lang::En), format!("{} seconds", u64::MAX));
}

#[test]
fn history_lengths() {
    assert_eq!(history_length(63_072_000, Lang::En), "2 years of history");
    assert_eq!(history_length(63_072_000, Lang::Es), "2 años de historial");
    assert_eq!(history_length(0, Lang::En), "no history");
}

#[test]
fn end_dates() {
    assert_eq!(end_date(0, Lang::En), "until you revoke it");
    assert_eq!(end_date(0, Lang::Es), "hasta que usted la revoque");
    assert_eq!(end_date(1_804_204_800, Lang::En), "March 5, 2027");
    assert_eq!(end_date(1_804_204_800, Lang::Es), "5 de marzo de 2027");
    assert_eq!(end_date(1, Lang::En), "January 1, 1970");
    assert_eq!(end_date(951_782_400, Lang::En), "February 29, 2000");
    assert_eq!(end_date(4_102_444_799, Lang::Es), "31 de diciembre de 2099");
    // Never panics on huge values.
    let s = end_date(u64::MAX, Lang::En);
    assert!(!s.is_empty());
}

#[test]
fn civil_dates_match_a_day_by_day_walk() {
    // Walk 1970..2100 day by day with a simple calendar and compare.
    let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    for day in 0..(130 * 366) {
        assert_eq!(civil_date(day * 86_400 + 43_200), (y, m, d), "day {day}");
        let len = match m {
            2 if leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        d += 1;
        if d > len {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
}
