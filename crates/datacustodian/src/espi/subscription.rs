//! Writing a subscription (or several, for Bulk) as a streamed Atom feed:
//! each granted UsagePoint with its LocalTimeParameters, MeterReadings,
//! ReadingTypes, IntervalBlocks (one per local day) and UsageSummaries,
//! cut to the grant ([`Grant`]) and the query window.

use futures_util::StreamExt;

use crate::AppState;
use crate::espi::grant::Grant;
use crate::espi::writer::{self, Head, Sink, Stop, seg};
use crate::store::{Meter, ReadingRow};

/// One subscription to write.
#[derive(Debug, Clone)]
pub struct Sub {
    /// The subscription (= authorization) id.
    pub id: String,
    /// What it grants now.
    pub grant: Grant,
    /// The granted meters (only these).
    pub meters: Vec<Meter>,
    /// When it was granted.
    pub granted_at: i64,
}

impl Sub {
    /// `{public}/espi/1_1/resource/Batch/Subscription/{id}`.
    pub fn href(&self, state: &AppState) -> String {
        state.url(&format!(
            "/espi/1_1/resource/Batch/Subscription/{}",
            seg(&self.id)
        ))
    }

    /// The UsagePoint collection of this subscription.
    pub fn usage_points_href(&self, state: &AppState) -> String {
        format!("{}/UsagePoint", self.href(state))
    }
}

/// The head of a meter's UsagePoint entry.
pub fn usage_point_head(state: &AppState, sub: &Sub, m: &Meter, with_children: bool) -> Head {
    let up = sub.usage_points_href(state);
    let me = format!("{up}/{}", seg(&m.said));
    let mut related = vec![state.url("/espi/1_1/resource/LocalTimeParameters/1")];
    if with_children {
        if sub.grant.commodity_granted(m.service_kind.as_deref()) {
            related.push(format!("{me}/MeterReading"));
        }
        if sub.grant.bills {
            related.push(format!("{me}/UsageSummary"));
        }
    }
    Head {
        // The id this server has always given a UsagePoint (third parties
        // and the browser tests read the SAID from it).
        key: format!("urn:uuid:usagepoint-{}", m.said),
        href: me,
        up: Some(up),
        related,
        title: m.label.clone(),
        published: sub.granted_at,
        updated: sub.granted_at,
    }
}

/// The LocalTimeParameters entry (once per feed).
pub fn local_time_entry(state: &AppState, sink: &mut Sink, at: i64) {
    if sink.take() {
        let h = Head {
            key: "localtimeparameters/1".into(),
            href: state.url("/espi/1_1/resource/LocalTimeParameters/1"),
            up: Some(state.url("/espi/1_1/resource/LocalTimeParameters")),
            related: vec![],
            title: "Pacific Time".into(),
            published: at,
            updated: at,
        };
        writer::entry(&mut sink.buf, &h, false, writer::local_time);
    }
}

/// Writes the UsagePoint entries only (no readings).
pub fn usage_point_entries(state: &AppState, sink: &mut Sink, sub: &Sub) {
    for m in &sub.meters {
        if sink.take() {
            let h = usage_point_head(state, sub, m, true);
            writer::entry(&mut sink.buf, &h, false, |x| writer::usage_point(x, m));
        }
    }
}

/// Writes everything the subscription grants.
pub async fn write_subscription(state: &AppState, sink: &mut Sink, sub: &Sub) -> Result<(), Stop> {
    for m in &sub.meters {
        if sink.full() {
            return Ok(());
        }
        if sink.take() {
            let h = usage_point_head(state, sub, m, true);
            writer::entry(&mut sink.buf, &h, false, |x| writer::usage_point(x, m));
        }
        let me = format!("{}/{}", sub.usage_points_href(state), seg(&m.said));
        if sub.grant.commodity_granted(m.service_kind.as_deref()) {
            let intervals = match state.store().reading_intervals(&m.said).await {
                Ok(v) => v,
                Err(e) => {
                    sink.fail(&e.to_string()).await;
                    return Err(Stop);
                }
            };
            for interval in intervals
                .into_iter()
                .filter(|i| sub.grant.interval_granted(*i))
            {
                write_meter_reading(state, sink, sub, m, &me, interval).await?;
            }
        }
        if sub.grant.bills {
            let bills = match state
                .store()
                .summaries(&m.said, sub.grant.from, sub.grant.to)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    sink.fail(&e.to_string()).await;
                    return Err(Stop);
                }
            };
            for b in bills.iter().filter(|b| b.issued_at <= sub.grant.to) {
                if !sink.window().admits(b.issued_at) || !sink.take() {
                    continue;
                }
                let h = Head {
                    key: format!("usagesummary/{}/{}", m.said, b.period_start),
                    href: format!("{me}/UsageSummary/{}", b.period_start),
                    up: Some(format!("{me}/UsageSummary")),
                    related: vec![],
                    title: "Bill".into(),
                    published: b.issued_at,
                    updated: b.issued_at,
                };
                writer::entry(&mut sink.buf, &h, false, |x| {
                    writer::usage_summary(x, m.service_kind.as_deref(), b)
                });
                sink.flush(false).await?;
            }
        }
        sink.flush(false).await?;
    }
    Ok(())
}

async fn write_meter_reading(
    state: &AppState,
    sink: &mut Sink,
    sub: &Sub,
    m: &Meter,
    me: &str,
    interval: i64,
) -> Result<(), Stop> {
    let mr = format!("{me}/MeterReading/{interval}");
    let rt = state.url(&format!(
        "/espi/1_1/resource/ReadingType/{}-{interval}",
        seg(&m.said)
    ));
    if sink.take() {
        let h = Head {
            key: format!("meterreading/{}/{interval}", m.said),
            href: mr.clone(),
            up: Some(format!("{me}/MeterReading")),
            related: vec![rt.clone(), format!("{mr}/IntervalBlock")],
            title: format!("{} s readings", interval),
            published: sub.granted_at,
            updated: sub.granted_at,
        };
        writer::entry(&mut sink.buf, &h, false, |x| {
            x.empty("espi:MeterReading", &[]);
        });
    }
    if sink.take() {
        let h = Head {
            key: format!("readingtype/{}/{interval}", m.said),
            href: rt,
            up: Some(state.url("/espi/1_1/resource/ReadingType")),
            related: vec![],
            title: "Type of Meter Reading Data".into(),
            published: sub.granted_at,
            updated: sub.granted_at,
        };
        writer::entry(&mut sink.buf, &h, false, |x| {
            writer::reading_type(x, m.service_kind.as_deref(), interval)
        });
    }
    // One IntervalBlock per local day, published when the day ends.
    let mut day: Option<i64> = None;
    let mut rows: Vec<ReadingRow> = Vec::with_capacity(96);
    let mut stream = state
        .store()
        .readings(&m.said, interval, sub.grant.from, sub.grant.to);
    loop {
        let next = stream.next().await;
        let r = match next {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                sink.fail(&e.to_string()).await;
                return Err(Stop);
            }
            None => None,
        };
        let d = r.map(|r| crate::espi::demo::local_midnight(r.start));
        if let Some(cur) = day
            && d != Some(cur)
        {
            block(sink, m, &mr, interval, cur, &rows);
            rows.clear();
            sink.flush(false).await?;
            if sink.full() {
                return Ok(());
            }
        }
        match r {
            Some(r) => {
                day = d;
                rows.push(r);
            }
            None => return Ok(()),
        }
    }
}

fn block(sink: &mut Sink, m: &Meter, mr: &str, interval: i64, day: i64, rows: &[ReadingRow]) {
    let end = day + 86_400;
    if !sink.window().admits(end) || !sink.take() {
        return;
    }
    let h = Head {
        key: format!("intervalblock/{}/{interval}/{day}", m.said),
        href: format!("{mr}/IntervalBlock/{day}"),
        up: Some(format!("{mr}/IntervalBlock")),
        related: vec![],
        title: String::new(),
        published: end,
        updated: end,
    };
    writer::entry(&mut sink.buf, &h, false, |x| {
        writer::interval_block(x, day, 86_400, interval, rows)
    });
}
