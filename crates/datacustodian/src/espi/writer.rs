//! The ESPI XML writer (quick-xml): Atom entries whose `<content>` holds
//! `espi:` elements (`http://naesb.org/espi`) or `cust:` elements
//! (`http://naesb.org/espi/customer`), in the element order of the ESPI 4.0
//! schemas, and a [`Sink`] that hands finished chunks to a streamed body.

use std::fmt::Display;

use axum::body::Bytes;
use quick_xml::Writer;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::espi::grant::Window;
use crate::espi::xml::rfc3339;
use crate::store::{Meter, ReadingRow, SummaryRow};

/// The demo's local time: UTC-8 (Pacific standard time), in seconds to add
/// to UTC.
pub const TZ_OFFSET: i64 = -28_800;

/// Atom, ESPI and customer namespaces on a feed or standalone entry.
pub const NAMESPACES: [(&str, &str); 3] = [
    ("xmlns", "http://www.w3.org/2005/Atom"),
    ("xmlns:espi", "http://naesb.org/espi"),
    ("xmlns:cust", "http://naesb.org/espi/customer"),
];

/// A small façade over `quick_xml::Writer` (writes to a `Vec`, which
/// cannot fail).
pub struct Xml<'a> {
    w: Writer<&'a mut Vec<u8>>,
}

impl<'a> Xml<'a> {
    /// Appends to `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Xml<'a> {
        Xml {
            w: Writer::new(buf),
        }
    }

    /// `<?xml …?>`.
    pub fn decl(&mut self) -> &mut Self {
        self.w
            .get_mut()
            .extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        self
    }

    /// `<name a="v" …>`.
    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut s = BytesStart::new(name);
        for a in attrs {
            s.push_attribute(*a);
        }
        let _ = self.w.write_event(Event::Start(s));
        self
    }

    /// `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.open_with(name, &[])
    }

    /// `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
        self
    }

    /// `<name a="v"/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        let mut s = BytesStart::new(name);
        for a in attrs {
            s.push_attribute(*a);
        }
        let _ = self.w.write_event(Event::Empty(s));
        self
    }

    /// `<name>text</name>` (escaped).
    pub fn leaf(&mut self, name: &str, v: impl Display) -> &mut Self {
        let text = v.to_string();
        self.open(name);
        let _ = self.w.write_event(Event::Text(BytesText::new(&text)));
        self.close(name)
    }

    /// `<name><espi:duration>…</espi:duration><espi:start>…</espi:start></name>`.
    pub fn interval(&mut self, name: &str, start: i64, duration: i64) -> &mut Self {
        self.open(name)
            .leaf("espi:duration", duration)
            .leaf("espi:start", start)
            .close(name)
    }
}

/// `urn:uuid:` of a stable name (SHA-256 based, version 5 layout); a name
/// that already is a URN is kept as it is.
pub fn urn(name: &str) -> String {
    if name.starts_with("urn:") {
        return name.to_string();
    }
    let h = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Percent-encodes one path segment.
pub fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An Atom entry's head.
pub struct Head {
    /// Stable name the `urn:uuid:` id is made from.
    pub key: String,
    /// `self` link.
    pub href: String,
    /// `up` link.
    pub up: Option<String>,
    /// `related` links.
    pub related: Vec<String>,
    /// Title.
    pub title: String,
    /// Unix seconds.
    pub published: i64,
    /// Unix seconds.
    pub updated: i64,
}

/// Writes one entry; `standalone` adds the declaration and namespaces.
pub fn entry(buf: &mut Vec<u8>, h: &Head, standalone: bool, content: impl FnOnce(&mut Xml)) {
    let mut x = Xml::new(buf);
    if standalone {
        x.decl().open_with("entry", &NAMESPACES);
    } else {
        x.open("entry");
    }
    x.leaf("id", urn(&h.key));
    x.empty("link", &[("rel", "self"), ("href", &h.href)]);
    if let Some(up) = &h.up {
        x.empty("link", &[("rel", "up"), ("href", up)]);
    }
    for r in &h.related {
        x.empty("link", &[("rel", "related"), ("href", r)]);
    }
    x.leaf("title", &h.title)
        .leaf("published", rfc3339(h.published))
        .leaf("updated", rfc3339(h.updated))
        .open("content");
    content(&mut x);
    x.close("content").close("entry");
    x.w.get_mut().push(b'\n');
}

/// Opens a feed (with the declaration and namespaces).
pub fn feed_start(buf: &mut Vec<u8>, key: &str, href: &str, title: &str, updated: i64) {
    let mut x = Xml::new(buf);
    x.decl().open_with("feed", &NAMESPACES);
    x.leaf("id", urn(key))
        .empty("link", &[("rel", "self"), ("href", href)])
        .leaf("title", title)
        .leaf("updated", rfc3339(updated));
    x.w.get_mut().push(b'\n');
}

/// Closes a feed.
pub fn feed_end(buf: &mut Vec<u8>) {
    buf.extend_from_slice(b"</feed>\n");
}

/// ESPI ServiceKind: 0 electricity, 1 gas, 2 water.
pub fn service_kind(kind: Option<&str>) -> u8 {
    match kind {
        Some("gas") => 1,
        Some("water") => 2,
        _ => 0,
    }
}

/// `espi:UsagePoint` of a meter: the SAID is the service delivery point's
/// customer agreement, its label the delivery point's name.
pub fn usage_point(x: &mut Xml, m: &Meter) {
    x.open("espi:UsagePoint")
        .open("espi:ServiceCategory")
        .leaf("espi:kind", service_kind(m.service_kind.as_deref()))
        .close("espi:ServiceCategory")
        .leaf("espi:status", 1)
        .open("espi:serviceDeliveryPoint")
        .leaf("espi:name", &m.label)
        .leaf("espi:customerAgreement", &m.said)
        .close("espi:serviceDeliveryPoint")
        .close("espi:UsagePoint");
}

/// `espi:LocalTimeParameters`: US Pacific (UTC-8, DST +1 h from the
/// second Sunday of March to the first Sunday of November).
pub fn local_time(x: &mut Xml) {
    x.open("espi:LocalTimeParameters")
        .leaf("espi:dstEndRule", "B40E2000")
        .leaf("espi:dstOffset", 3600)
        .leaf("espi:dstStartRule", "360E2000")
        .leaf("espi:tzOffset", TZ_OFFSET)
        .close("espi:LocalTimeParameters");
}

/// The reading unit of a service kind: (commodity, uom, powerOfTenMultiplier).
/// Electricity Wh (72); gas 1/1000 therm (169, -3); water litres (m³ 42, -3).
pub fn unit(kind: Option<&str>) -> (u16, u16, i16) {
    match kind {
        Some("gas") => (7, 169, -3),
        Some("water") => (9, 42, -3),
        _ => (1, 72, 0),
    }
}

/// `espi:ReadingType` of a meter's readings of `interval` seconds.
pub fn reading_type(x: &mut Xml, kind: Option<&str>, interval: i64) {
    let (commodity, uom, p10) = unit(kind);
    x.open("espi:ReadingType")
        .leaf("espi:accumulationBehaviour", 4)
        .leaf("espi:commodity", commodity)
        .leaf("espi:currency", 840)
        .leaf("espi:dataQualifier", 12)
        .leaf("espi:flowDirection", 1)
        .leaf("espi:intervalLength", interval)
        .leaf("espi:kind", 12)
        .leaf("espi:powerOfTenMultiplier", p10)
        .leaf("espi:uom", uom)
        .close("espi:ReadingType");
}

/// `espi:IntervalBlock` of readings of `interval` seconds.
pub fn interval_block(x: &mut Xml, start: i64, duration: i64, interval: i64, rows: &[ReadingRow]) {
    x.open("espi:IntervalBlock")
        .interval("espi:interval", start, duration);
    for r in rows {
        x.open("espi:IntervalReading")
            .interval("espi:timePeriod", r.start, interval)
            .leaf("espi:value", r.value)
            .close("espi:IntervalReading");
    }
    x.close("espi:IntervalBlock");
}

/// `espi:UsageSummary` of a bill.
pub fn usage_summary(x: &mut Xml, kind: Option<&str>, s: &SummaryRow) {
    let (commodity, uom, p10) = unit(kind);
    x.open("espi:UsageSummary")
        .interval("espi:billingPeriod", s.period_start, s.period_duration)
        .leaf("espi:billLastPeriod", s.bill_amount)
        .leaf("espi:currency", s.currency)
        .open("espi:overallConsumptionLastPeriod")
        .leaf("espi:powerOfTenMultiplier", p10)
        .leaf("espi:uom", uom)
        .leaf("espi:value", s.consumption)
        .close("espi:overallConsumptionLastPeriod")
        .leaf("espi:statusTimeStamp", s.issued_at)
        .leaf("espi:commodity", commodity)
        .close("espi:UsageSummary");
}

/// The body went away (client closed) or the store failed: stop writing.
#[derive(Debug)]
pub struct Stop;

/// Where a streamed feed goes: a buffer flushed to the response body in
/// chunks, with the FB 37 entry window.
pub struct Sink {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    /// The chunk being written.
    pub buf: Vec<u8>,
    seen: u64,
    window: Window,
}

const CHUNK: usize = 64 * 1024;

impl Sink {
    /// A sink sending to `tx`.
    pub fn new(tx: mpsc::Sender<Result<Bytes, std::io::Error>>, window: Window) -> Sink {
        Sink {
            tx,
            buf: Vec::with_capacity(CHUNK + 8 * 1024),
            seen: 0,
            window,
        }
    }

    /// The time and index filters.
    pub fn window(&self) -> Window {
        self.window
    }

    /// Counts an entry; true when it is inside `start-index` /
    /// `max-results`.
    pub fn take(&mut self) -> bool {
        let i = self.seen;
        self.seen += 1;
        i >= self.window.skip && i - self.window.skip < self.window.limit
    }

    /// True once `max-results` entries were written.
    pub fn full(&self) -> bool {
        self.seen >= self.window.skip.saturating_add(self.window.limit)
    }

    /// Sends the buffer when it is big (or `force`).
    pub async fn flush(&mut self, force: bool) -> Result<(), Stop> {
        if self.buf.len() >= CHUNK || (force && !self.buf.is_empty()) {
            let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK + 8 * 1024));
            self.tx
                .send(Ok(Bytes::from(chunk)))
                .await
                .map_err(|_| Stop)?;
        }
        Ok(())
    }

    /// Ends the body with an error (the client sees a cut connection, not
    /// a short feed that looks complete).
    pub async fn fail(&mut self, why: &str) {
        tracing::error!("feed aborted: {why}");
        let _ = self
            .tx
            .send(Err(std::io::Error::other(why.to_string())))
            .await;
    }
}
