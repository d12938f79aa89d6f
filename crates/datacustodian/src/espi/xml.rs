//! Atom XML for the ESPI resources (namespace `http://naesb.org/espi`).

use std::fmt::Write;

use crate::AppState;
use crate::oauth::espi_uris;
use crate::store::Authorization;

/// Escapes text for XML.
pub fn esc(s: &str) -> String {
    crate::error::html_escape(s)
}

/// Unix seconds as RFC 3339 UTC (`2024-05-09T12:00:00Z`).
pub fn rfc3339(secs: i64) -> String {
    let (y, m, d) = espi_scope::describe::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
const NS: &str = "xmlns=\"http://www.w3.org/2005/Atom\" xmlns:espi=\"http://naesb.org/espi\"";

/// ESPI status: 1 Active, 0 Revoked (an ended authorization is reported as
/// revoked too: it grants nothing any more).
fn status(a: &Authorization, now: i64) -> u8 {
    if a.status(now) == "active" { 1 } else { 0 }
}

/// One `Authorization` entry (`standalone`: with the XML declaration and
/// namespaces).
pub fn authorization_entry(
    state: &AppState,
    a: &Authorization,
    token_expires_at: Option<i64>,
    standalone: bool,
) -> String {
    let now = state.now();
    let uris = espi_uris(state, &a.authorization_id, &a.customer_id);
    let authorized_duration = if a.end_date == 0 {
        0
    } else {
        (a.end_date - a.granted_at).max(0)
    };
    let history = a.history_length.unwrap_or(0).max(0);
    let mut s = String::new();
    if standalone {
        s.push_str(HEADER);
        let _ = writeln!(s, "<entry {NS}>");
    } else {
        s.push_str("<entry>\n");
    }
    let _ = writeln!(
        s,
        "  <id>urn:uuid:authorization-{}</id>",
        esc(&a.authorization_id)
    );
    let _ = writeln!(
        s,
        "  <link rel=\"self\" href=\"{}\"/>",
        esc(&uris.authorization)
    );
    let _ = writeln!(s, "  <title>Authorization</title>");
    let _ = writeln!(s, "  <published>{}</published>", rfc3339(a.granted_at));
    let _ = writeln!(
        s,
        "  <updated>{}</updated>",
        rfc3339(a.revoked_at.unwrap_or(a.granted_at))
    );
    s.push_str("  <content>\n    <espi:Authorization>\n");
    let _ = writeln!(
        s,
        "      <espi:authorizedPeriod><espi:duration>{authorized_duration}</espi:duration><espi:start>{}</espi:start></espi:authorizedPeriod>",
        a.granted_at
    );
    let _ = writeln!(
        s,
        "      <espi:publishedPeriod><espi:duration>{history}</espi:duration><espi:start>{}</espi:start></espi:publishedPeriod>",
        a.granted_at - history
    );
    let _ = writeln!(s, "      <espi:status>{}</espi:status>", status(a, now));
    if let Some(e) = token_expires_at {
        let _ = writeln!(s, "      <espi:expires_at>{e}</espi:expires_at>");
    } else if a.end_date != 0 {
        let _ = writeln!(s, "      <espi:expires_at>{}</espi:expires_at>", a.end_date);
    }
    let _ = writeln!(
        s,
        "      <espi:grant_type>{}</espi:grant_type>",
        esc(&a.grant_type)
    );
    let _ = writeln!(s, "      <espi:scope>{}</espi:scope>", esc(&a.scope));
    s.push_str("      <espi:token_type>Bearer</espi:token_type>\n");
    let _ = writeln!(
        s,
        "      <espi:resourceURI>{}</espi:resourceURI>",
        esc(&uris.resource)
    );
    let _ = writeln!(
        s,
        "      <espi:authorizationURI>{}</espi:authorizationURI>",
        esc(&uris.authorization)
    );
    // Only when account details were granted: it must not point at a
    // resource that refuses.
    if crate::espi::grant::Grant::of(a, now).customer {
        let _ = writeln!(
            s,
            "      <espi:customerResourceURI>{}</espi:customerResourceURI>",
            esc(&uris.customer)
        );
    }
    s.push_str("    </espi:Authorization>\n  </content>\n</entry>\n");
    s
}

/// A feed of authorizations.
pub fn authorization_feed(state: &AppState, list: &[Authorization]) -> String {
    let mut s = String::from(HEADER);
    let _ = writeln!(s, "<feed {NS}>");
    let _ = writeln!(s, "  <id>urn:uuid:authorizations</id>");
    let _ = writeln!(
        s,
        "  <link rel=\"self\" href=\"{}\"/>",
        esc(&state.url("/espi/1_1/resource/Authorization"))
    );
    s.push_str("  <title>Authorizations</title>\n");
    let _ = writeln!(s, "  <updated>{}</updated>", rfc3339(state.now()));
    for a in list {
        s.push_str(&authorization_entry(state, a, None, false));
    }
    s.push_str("</feed>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
