//! What the third party received: the subscription feed the token opens,
//! read back into daily totals per meter for the Try it chart.
//!
//! Reading the Atom/ESPI XML uses the browser's `DOMParser` (in a browser);
//! the totals and the chart's geometry are plain functions, tested natively.

/// One day of one meter's interval readings (one ESPI `IntervalBlock`).
#[derive(Clone, Debug, PartialEq)]
pub struct DayTotal {
    /// The usage point's id (service agreement id).
    pub meter: String,
    /// Seconds per reading.
    pub interval: i64,
    /// Unix seconds, the block's start.
    pub day: i64,
    /// Sum of the readings' values (the meter's reading unit).
    pub total: f64,
}

/// One meter's daily series, as charted.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterSeries {
    /// The usage point's id.
    pub meter: String,
    /// Seconds per reading of the series charted.
    pub interval: i64,
    /// `(day start, total)`, by day.
    pub days: Vec<(i64, f64)>,
}

impl MeterSeries {
    /// Sum over the days.
    pub fn total(&self) -> f64 {
        self.days.iter().map(|(_, v)| v).sum()
    }
}

/// The meter and interval length of an IntervalBlock's `self` link
/// (`…/UsagePoint/{id}/MeterReading/{interval}/IntervalBlock/{day}`).
pub fn block_of(href: &str) -> Option<(String, i64)> {
    let (_, rest) = href.split_once("/UsagePoint/")?;
    let mut parts = rest.split('/');
    let meter = parts.next()?;
    (parts.next()? == "MeterReading").then_some(())?;
    let interval = parts.next()?.parse().ok()?;
    Some((percent_decode(meter), interval))
}

fn percent_decode(s: &str) -> String {
    espi_scope::authorization_url::percent_decode(s).unwrap_or_else(|_| s.to_string())
}

/// One series per meter, by meter: of the interval lengths a meter has,
/// the one with the most days (so a meter with 15-minute and hourly data
/// is not counted twice).
pub fn series(blocks: &[DayTotal]) -> Vec<MeterSeries> {
    let mut keys: Vec<(String, i64)> = blocks
        .iter()
        .map(|b| (b.meter.clone(), b.interval))
        .collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<MeterSeries> = Vec::new();
    for (meter, interval) in keys {
        let mut days: Vec<(i64, f64)> = blocks
            .iter()
            .filter(|b| b.meter == meter && b.interval == interval)
            .map(|b| (b.day, b.total))
            .collect();
        days.sort_by_key(|d| d.0);
        match out.iter_mut().find(|s| s.meter == meter) {
            Some(s) if s.days.len() >= days.len() => {}
            Some(s) => {
                *s = MeterSeries {
                    meter,
                    interval,
                    days,
                }
            }
            None => out.push(MeterSeries {
                meter,
                interval,
                days,
            }),
        }
    }
    out
}

/// SVG `points` of a line chart of `values` in a `width` × `height` box
/// (the first value at the left edge, zero at the bottom).
pub fn polyline(values: &[f64], width: f64, height: f64) -> String {
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let y = if max > 0.0 {
                height - v / max * height
            } else {
                height
            };
            format!("{:.1},{:.1}", i as f64 * step, y)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads the IntervalBlocks of a subscription feed into daily totals.
///
/// # Errors
/// When the text is not XML.
pub fn read_feed(xml: &str) -> Result<Vec<DayTotal>, String> {
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    const ESPI: &str = "http://naesb.org/espi";
    let parser = web_sys::DomParser::new().map_err(|_| "no DOMParser")?;
    let doc = parser
        .parse_from_string(xml, web_sys::SupportedType::ApplicationXml)
        .map_err(|_| "the feed is not XML")?;
    if doc.get_elements_by_tag_name("parsererror").length() > 0 {
        return Err("the feed is not well-formed XML".into());
    }
    let all = |el: &web_sys::Element, ns: &str, name: &str| -> Vec<web_sys::Element> {
        match el.get_elements_by_tag_name_ns(Some(ns), name) {
            Ok(list) => (0..list.length()).filter_map(|i| list.item(i)).collect(),
            Err(_) => Vec::new(),
        }
    };
    let root = doc.document_element().ok_or("an empty feed")?;
    let mut out = Vec::new();
    for entry in all(&root, ATOM, "entry") {
        let blocks = all(&entry, ESPI, "IntervalBlock");
        if blocks.is_empty() {
            continue;
        }
        let href = all(&entry, ATOM, "link")
            .into_iter()
            .find(|l| l.get_attribute("rel").as_deref() == Some("self"))
            .and_then(|l| l.get_attribute("href"));
        let Some((meter, interval)) = href.as_deref().and_then(block_of) else {
            continue;
        };
        for block in blocks {
            let text = |el: &web_sys::Element, name: &str| {
                all(el, ESPI, name)
                    .first()
                    .and_then(|e| e.text_content())
                    .and_then(|t| t.trim().parse::<i64>().ok())
            };
            let day = all(&block, ESPI, "interval")
                .first()
                .and_then(|i| text(i, "start"))
                .unwrap_or_default();
            let total = all(&block, ESPI, "IntervalReading")
                .iter()
                .filter_map(|r| text(r, "value"))
                .sum::<i64>() as f64;
            out.push(DayTotal {
                meter: meter.clone(),
                interval,
                day,
                total,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(meter: &str, interval: i64, day: i64, total: f64) -> DayTotal {
        DayTotal {
            meter: meter.into(),
            interval,
            day,
            total,
        }
    }

    #[test]
    fn block_links_name_the_meter_and_interval() {
        assert_eq!(
            block_of(
                "http://x/espi/1_1/resource/Batch/Subscription/7/UsagePoint/SA-1%2F2/MeterReading/900/IntervalBlock/86400"
            ),
            Some(("SA-1/2".into(), 900))
        );
        assert_eq!(block_of("http://x/espi/1_1/resource/UsagePoint/SA-1"), None);
        assert_eq!(
            block_of("http://x/UsagePoint/SA-1/MeterReading/abc/IntervalBlock"),
            None
        );
    }

    #[test]
    fn one_series_per_meter_by_day_from_its_longest_interval() {
        let s = series(&[
            d("B", 3600, 200, 2.0),
            d("A", 900, 100, 1.0),
            d("A", 900, 0, 3.0),
            d("A", 3600, 0, 9.0),
        ]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].meter, "A");
        assert_eq!(
            s[0].interval, 900,
            "two days of 15-minute data beat one hourly"
        );
        assert_eq!(s[0].days, vec![(0, 3.0), (100, 1.0)]);
        assert_eq!(s[0].total(), 4.0);
        assert_eq!(s[1].days, vec![(200, 2.0)]);
    }

    #[test]
    fn the_chart_spans_the_box() {
        assert_eq!(
            polyline(&[0.0, 5.0, 10.0], 100.0, 50.0),
            "0.0,50.0 50.0,25.0 100.0,0.0"
        );
        assert_eq!(polyline(&[0.0, 0.0], 10.0, 10.0), "0.0,10.0 10.0,10.0");
        assert_eq!(polyline(&[], 10.0, 10.0), "");
    }
}
