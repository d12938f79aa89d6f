//! Plain-language descriptions (English and Spanish) for consent screens.
//!
//! ```
//! use espi_scope::describe::{self, Lang};
//! use espi_scope::{Duration, Frequency};
//! assert_eq!(describe::duration(&Duration::Seconds(900), Lang::En), "15 minutes");
//! assert_eq!(describe::duration(&Duration::Named(Frequency::Daily), Lang::Es), "diaria");
//! assert_eq!(describe::seconds(63_072_000, Lang::En), "2 years");
//! assert_eq!(describe::end_date(1_804_204_800, Lang::En), "March 5, 2027");
//! assert_eq!(describe::end_date(1_804_204_800, Lang::Es), "5 de marzo de 2027");
//! assert_eq!(describe::end_date(0, Lang::En), "until you revoke it");
//! ```

use crate::catalog;
use crate::model::{Duration, Frequency};

/// A language of the descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// Reads a BCP 47 tag by its primary language: `"en"`, `"en-US"`,
    /// `"es-MX"`, `"ES"`, `"es_419"`. `None` for other languages.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("es") {
            Some(Lang::Es)
        } else {
            None
        }
    }

    /// `"en"` or `"es"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }
}

/// A named frequency in words (`daily` / `diaria`).
pub fn frequency(f: Frequency, lang: Lang) -> &'static str {
    match (lang, f) {
        (Lang::En, Frequency::BillingPeriod) => "every billing period",
        (Lang::En, Frequency::Daily) => "daily",
        (Lang::En, Frequency::Weekly) => "weekly",
        (Lang::En, Frequency::Monthly) => "monthly",
        (Lang::En, Frequency::Quarterly) => "quarterly",
        (Lang::En, Frequency::Seasonal) => "seasonal",
        (Lang::En, Frequency::Yearly) => "yearly",
        (Lang::Es, Frequency::BillingPeriod) => "por periodo de facturación",
        (Lang::Es, Frequency::Daily) => "diaria",
        (Lang::Es, Frequency::Weekly) => "semanal",
        (Lang::Es, Frequency::Monthly) => "mensual",
        (Lang::Es, Frequency::Quarterly) => "trimestral",
        (Lang::Es, Frequency::Seasonal) => "estacional",
        (Lang::Es, Frequency::Yearly) => "anual",
    }
}

/// A duration in words: `Seconds(900)` is "15 minutes", `Named(Daily)` is
/// "daily" ("diaria").
pub fn duration(d: &Duration, lang: Lang) -> String {
    match d {
        Duration::Seconds(s) => amount(*s, lang),
        Duration::Named(f) => frequency(*f, lang).to_string(),
    }
}

const UNITS: [(u64, &str, &str, &str, &str); 6] = [
    (31_536_000, "year", "years", "año", "años"),
    (604_800, "week", "weeks", "semana", "semanas"),
    (86_400, "day", "days", "día", "días"),
    (3_600, "hour", "hours", "hora", "horas"),
    (60, "minute", "minutes", "minuto", "minutos"),
    (1, "second", "seconds", "segundo", "segundos"),
];

/// A number of seconds in the largest unit that divides it exactly.
fn amount(secs: u64, lang: Lang) -> String {
    for (size, en1, en, es1, es) in UNITS {
        if secs != 0 && secs.is_multiple_of(size) {
            let n = secs / size;
            let word = match (lang, n == 1) {
                (Lang::En, true) => en1,
                (Lang::En, false) => en,
                (Lang::Es, true) => es1,
                (Lang::Es, false) => es,
            };
            return format!("{n} {word}");
        }
    }
    match lang {
        Lang::En => "0 seconds".to_string(),
        Lang::Es => "0 segundos".to_string(),
    }
}

/// A number of seconds in words, in the largest unit that divides it
/// exactly: 63072000 is "2 years", 3600 is "1 hour", 5400 is "90 minutes";
/// 0 is "no history" ("sin historial").
pub fn seconds(secs: u64, lang: Lang) -> String {
    if secs == 0 {
        return match lang {
            Lang::En => "no history".to_string(),
            Lang::Es => "sin historial".to_string(),
        };
    }
    amount(secs, lang)
}

/// A `HistoryLength` in words: "2 years of history" ("2 años de
/// historial"); 0 is "no history" ("sin historial").
pub fn history_length(secs: u64, lang: Lang) -> String {
    if secs == 0 {
        return seconds(0, lang);
    }
    match lang {
        Lang::En => format!("{} of history", amount(secs, lang)),
        Lang::Es => format!("{} de historial", amount(secs, lang)),
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_ES: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

/// The UTC civil date `(year, month 1-12, day 1-31)` of a unix time.
pub fn civil_date(unix: u64) -> (i64, u32, u32) {
    civil_from_days((unix / 86_400) as i64)
}

/// The civil date `(year, month 1-12, day 1-31)` of a day count from
/// 1970-01-01 (negative before it), Howard Hinnant's civil-from-days.
///
/// ```
/// use espi_scope::describe::civil_from_days;
/// assert_eq!(civil_from_days(0), (1970, 1, 1));
/// assert_eq!(civil_from_days(-1), (1969, 12, 31));
/// assert_eq!(civil_from_days(11_016), (2000, 2, 29));
/// ```
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A `PreferredAuthEndDate` in words (UTC): 0 is "until you revoke it"
/// ("hasta que usted la revoque"); otherwise "March 5, 2027" ("5 de marzo de
/// 2027").
pub fn end_date(unix: u64, lang: Lang) -> String {
    if unix == 0 {
        return match lang {
            Lang::En => "until you revoke it".to_string(),
            Lang::Es => "hasta que usted la revoque".to_string(),
        };
    }
    let (y, m, d) = civil_date(unix);
    let idx = (m as usize).saturating_sub(1).min(11);
    match lang {
        Lang::En => format!("{} {d}, {y}", MONTHS_EN[idx]),
        Lang::Es => format!("{d} de {} de {y}", MONTHS_ES[idx]),
    }
}

/// The customer-facing description of a function block (never a bare
/// number; unknown ids get a generic sentence).
pub fn function_block_description(id: u16, lang: Lang) -> &'static str {
    let fb = catalog::function_block(id);
    match lang {
        Lang::En => fb.description_en,
        Lang::Es => fb.description_es,
    }
}
