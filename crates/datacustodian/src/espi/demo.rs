//! Deterministic synthetic Green Button data for `--demo`: 15-minute
//! electricity with a daily and a seasonal shape, hourly gas (heating in
//! winter, water heating all year), hourly water, and monthly bills with
//! costs. Every value is a pure function of the meter's SAID and the time,
//! so two servers seeded for the same days hold the same data.

use std::f64::consts::TAU;

use crate::AppState;
use crate::espi::grant::days_from_civil;
use crate::espi::writer::TZ_OFFSET;
use crate::store::{Meter, MeterUsage, ReadingRow, StoreError, SummaryRow};

/// Two years.
pub const DEMO_DAYS: i64 = 730;

fn mix(mut z: u64) -> u64 {
    // splitmix64
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed_of(said: &str) -> u64 {
    said.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Uniform in [0, 1) from the meter and the time.
fn noise(seed: u64, t: i64) -> f64 {
    (mix(seed ^ (t as u64)) >> 11) as f64 / (1u64 << 53) as f64
}

/// (local hour of day as a fraction, day of year, weekend).
fn local(t: i64) -> (f64, f64, bool) {
    let l = t + TZ_OFFSET;
    let hour = l.rem_euclid(86_400) as f64 / 3600.0;
    let days = l.div_euclid(86_400);
    let doy = (days as f64).rem_euclid(365.2425);
    // 1970-01-01 was a Thursday: day 2 and 3 after it are Sat and Sun.
    let weekend = matches!(days.rem_euclid(7), 2 | 3);
    (hour, doy, weekend)
}

fn bump(x: f64, centre: f64, width: f64) -> f64 {
    (-(x - centre).powi(2) / width).exp()
}

/// Wh over the 15 minutes starting at `t`.
pub fn electricity_wh(said: &str, t: i64) -> i64 {
    let seed = seed_of(said);
    let scale = 0.8 + 0.6 * noise(seed, -1);
    let (h, doy, weekend) = local(t);
    let daily = 0.55
        + 0.45 * bump(h, 7.5, 3.0)
        + 1.1 * bump(h, 19.0, 6.0)
        + if weekend {
            0.25 * bump(h, 13.0, 10.0)
        } else {
            0.0
        };
    // Summer air conditioning (peak late July, afternoons), winter lights.
    let summer = 0.5 + 0.5 * (TAU * (doy - 205.0) / 365.2425).cos();
    let winter = 0.5 + 0.5 * (TAU * (doy - 15.0) / 365.2425).cos();
    let seasonal = 1.0 + 0.9 * summer.powi(2) * bump(h, 16.0, 12.0) + 0.25 * winter;
    let kw = 0.45 * scale * daily * seasonal * (0.85 + 0.3 * noise(seed, t));
    (kw * 250.0).round() as i64
}

/// 1/1000 therm over the hour starting at `t`.
pub fn gas_millitherm(said: &str, t: i64) -> i64 {
    let seed = seed_of(said);
    let (h, doy, _) = local(t);
    let winter = 0.5 + 0.5 * (TAU * (doy - 15.0) / 365.2425).cos();
    let heating =
        120.0 * winter.powi(2) * (0.6 + 0.4 * bump(h, 7.0, 4.0) + 0.4 * bump(h, 20.0, 6.0));
    let water = 15.0 + 35.0 * bump(h, 7.0, 1.5) + 25.0 * bump(h, 20.5, 2.0);
    ((heating + water) * (0.85 + 0.3 * noise(seed, t))).round() as i64
}

/// Litres over the hour starting at `t`.
pub fn water_litres(said: &str, t: i64) -> i64 {
    let seed = seed_of(said);
    let (h, doy, _) = local(t);
    let summer = 0.5 + 0.5 * (TAU * (doy - 205.0) / 365.2425).cos();
    let v = 4.0
        + 40.0 * bump(h, 7.0, 1.5)
        + 30.0 * bump(h, 20.0, 2.0)
        + 60.0 * summer * bump(h, 6.0, 0.5);
    (v * (0.8 + 0.4 * noise(seed, t))).round() as i64
}

/// The value of one interval of a meter starting at a time.
type ValueAt = fn(&str, i64) -> i64;

/// (interval seconds, value at t, price per unit in 1/100000 USD, fixed
/// monthly charge in 1/100000 USD) of a service kind.
fn profile(kind: Option<&str>) -> (i64, ValueAt, i64, i64) {
    match kind {
        // $2.10 per therm, $6 a month.
        Some("gas") => (3600, gas_millitherm, 210, 600_000),
        // $0.006 per litre, $12 a month.
        Some("water") => (3600, water_litres, 600, 1_200_000),
        // $0.32 per kWh, $10 a month.
        _ => (900, electricity_wh, 32, 1_000_000),
    }
}

/// Local midnight of the day holding `t`.
pub fn local_midnight(t: i64) -> i64 {
    (t + TZ_OFFSET).div_euclid(86_400) * 86_400 - TZ_OFFSET
}

/// Local midnight of the first of (year, month).
fn month_start(y: i64, m: i64) -> i64 {
    days_from_civil(y, m, 1) * 86_400 - TZ_OFFSET
}

/// The usage of one meter over the `days` local days before `now`'s day.
pub fn meter_usage(m: &Meter, days: i64, now: i64) -> MeterUsage {
    let (interval, value, price, fixed) = profile(m.service_kind.as_deref());
    let end = local_midnight(now);
    let start = end - days * 86_400;
    let readings: Vec<ReadingRow> = (0..(end - start) / interval)
        .map(|i| {
            let t = start + i * interval;
            ReadingRow {
                start: t,
                value: value(&m.said, t),
            }
        })
        .collect();
    // Monthly bills for every whole local calendar month in the range.
    let mut summaries = Vec::new();
    let (y0, m0, _) = espi_scope::describe::civil_from_days((start + TZ_OFFSET).div_euclid(86_400));
    let (mut y, mut mo) = (y0, i64::from(m0));
    loop {
        let p0 = month_start(y, mo);
        (y, mo) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
        let p1 = month_start(y, mo);
        if p1 > end {
            break;
        }
        if p0 < start {
            continue;
        }
        let consumption: i64 = readings
            .iter()
            .filter(|r| r.start >= p0 && r.start < p1)
            .map(|r| r.value)
            .sum();
        let issued_at = p1 + 3 * 86_400;
        if issued_at > now {
            break;
        }
        summaries.push(SummaryRow {
            period_start: p0,
            period_duration: p1 - p0,
            consumption,
            bill_amount: fixed + consumption * price,
            currency: 840,
            issued_at,
        });
    }
    MeterUsage {
        said: m.said.clone(),
        readings: vec![(interval, readings)],
        summaries,
    }
}

/// Seeds `days` days of usage and the bills for every meter that has no
/// readings yet (idempotent). Returns how many meters were seeded.
pub async fn seed_demo_usage(state: &AppState, days: i64) -> Result<usize, StoreError> {
    let now = state.now();
    let mut n = 0;
    for c in state.store().customers().await? {
        for m in state.store().meters(&c.customer_id).await? {
            if state.store().has_readings(&m.said).await? {
                continue;
            }
            let usage = meter_usage(&m, days, now);
            state.store().import_usage(&c.customer_id, &[usage]).await?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_determinism() {
        let t = 1_700_000_000;
        assert_eq!(electricity_wh("SA-1001", t), electricity_wh("SA-1001", t));
        let m = Meter {
            said: "SA-1".into(),
            label: "x".into(),
            address: None,
            service_kind: Some("electricity".into()),
        };
        let u = meter_usage(&m, 60, t);
        assert_eq!(u.readings[0].1.len(), 60 * 96);
        assert!(!u.summaries.is_empty());
        // Evenings use more than nights.
        let night: i64 = (0..60)
            .map(|d| electricity_wh("SA-1", local_midnight(t) - d * 86_400 + 3 * 3600))
            .sum();
        let evening: i64 = (0..60)
            .map(|d| electricity_wh("SA-1", local_midnight(t) - d * 86_400 + 19 * 3600))
            .sum();
        assert!(evening > night, "{evening} {night}");
    }
}
