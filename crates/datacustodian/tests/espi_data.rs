//! Green Button data behind the consent (issue 13): the resources, the
//! grant enforced on every byte, ESPI 4.0 schema validity (Debian's
//! `xmllint --schema`, package `libxml2-utils`), the upload round trip,
//! Bulk, ApplicationInformation and the FB 37 query parameters. Real server
//! on loopback, real SQLite file.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use datacustodian::admin::{NewClient, create_client};
use datacustodian::seed_demo_usage;
use datacustodian::store::ClientKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

// ------------------------------------------------------------ validation

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/espi-4.0")
}

/// A schema whose root `wrap` holds any ESPI or customer element, checked
/// strictly against its own namespace's schema (the Atom envelope is not
/// part of the ESPI schemas: each `<content>` child is validated).
fn wrapper_xsd(dir: &std::path::Path) -> PathBuf {
    let d = schema_dir();
    let xsd = format!(
        r#"<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:wrap" elementFormDefault="qualified">
  <xs:import namespace="http://naesb.org/espi" schemaLocation="{}"/>
  <xs:import namespace="http://naesb.org/espi/customer" schemaLocation="{}"/>
  <xs:element name="wrap"><xs:complexType><xs:sequence>
    <xs:any namespace="{other}" processContents="strict" minOccurs="1" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"#,
        d.join("espi.xsd").display(),
        d.join("customer.xsd").display(),
        other = "##other"
    );
    let p = dir.join("wrap.xsd");
    std::fs::write(&p, xsd).expect("write xsd");
    p
}

/// The children of every Atom `<content>`.
fn contents(xml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<content>") {
        let after = &rest[i + "<content>".len()..];
        let j = after.find("</content>").expect("</content>");
        out.push(after[..j].to_string());
        rest = &after[j..];
    }
    out
}

/// Validates every `<content>` of an Atom document against the ESPI 4.0
/// schemas with xmllint; panics with xmllint's words otherwise.
fn assert_schema_valid(xml: &str) {
    let found = Command::new("xmllint").arg("--version").output();
    assert!(
        found.is_ok(),
        "xmllint is missing: install Debian's libxml2-utils (scripts/setup.sh does)"
    );
    let parts = contents(xml);
    assert!(!parts.is_empty(), "no <content> in {xml:.300}");
    let dir = tempfile::tempdir().expect("tempdir");
    let xsd = wrapper_xsd(dir.path());
    let doc = format!(
        "<w:wrap xmlns:w=\"urn:test:wrap\" xmlns:espi=\"http://naesb.org/espi\" xmlns:cust=\"http://naesb.org/espi/customer\">{}</w:wrap>",
        parts.concat()
    );
    let file = dir.path().join("doc.xml");
    std::fs::write(&file, doc).expect("write doc");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&file)
        .output()
        .expect("run xmllint");
    assert!(
        out.status.success(),
        "ESPI schema validation failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------ helpers

/// A server with `days` days of demo usage.
async fn server(days: i64) -> TestServer {
    let s = start().await;
    seed_demo_usage(&s.state, days).await.expect("seed usage");
    s
}

/// Consent as Alex for `scope` with `choices`, redeemed: the token JSON.
async fn grant(s: &TestServer, scope: &str, choices: Value) -> Value {
    let b = s.browser();
    let q = consent(&b, &authorize_url(s, scope, Some("st"), None), choices).await;
    let (st, t) = redeem(s, &q["code"]).await;
    assert_eq!(st, StatusCode::OK, "{t}");
    t
}

async fn get(url: &str, token: &str) -> (StatusCode, String) {
    let r = http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let st = r.status();
    (st, r.text().await.unwrap_or_default())
}

fn at(t: &Value) -> &str {
    t["access_token"].as_str().expect("access_token")
}

fn sub_url(t: &Value) -> String {
    t["resourceURI"].as_str().expect("resourceURI").to_string()
}

/// Every `<tag>…</tag>` text.
fn all<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let j = after.find(&close).expect("close");
        out.push(&after[..j]);
        rest = &after[j..];
    }
    out
}

/// (start, duration) of every IntervalReading.
fn reading_periods(xml: &str) -> Vec<(i64, i64)> {
    all(xml, "espi:IntervalReading")
        .iter()
        .map(|r| {
            let p = all(r, "espi:timePeriod")[0];
            (
                all(p, "espi:start")[0].parse().expect("start"),
                all(p, "espi:duration")[0].parse().expect("duration"),
            )
        })
        .collect()
}

async fn client_token(s: &TestServer, kind: ClientKind, id: &str) -> String {
    let secret = create_client(
        &s.state,
        NewClient {
            client_id: Some(id.to_string()),
            client_secret: None,
            name: format!("{id} client"),
            kind,
            redirect_uris: vec!["https://example.com/cb".into()],
            scopes: vec![],
            scopes_of_use: vec![],
            frame_ancestors: vec![],
            grant_types: vec![],
            logo_uri: None,
            client_uri: None,
            policy_uri: None,
            tos_uri: None,
            require_pkce: false,
        },
    )
    .await
    .expect("client");
    let (st, v, _) = token_form(
        s,
        id,
        &secret.client_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["access_token"].as_str().expect("token").to_string()
}

// ------------------------------------------------------------ tests

#[tokio::test]
async fn full_grant_subscription_is_schema_valid_and_every_uri_answers() {
    let s = server(70).await;
    let t = grant(&s, DEMO_SCOPE, json!({})).await;
    let tok = at(&t);
    for key in ["resourceURI", "authorizationURI", "customerResourceURI"] {
        let url = t[key].as_str().unwrap_or_else(|| panic!("{key} in {t}"));
        let (st, xml) = get(url, tok).await;
        assert_eq!(st, StatusCode::OK, "{key} {url}: {xml:.300}");
        assert_schema_valid(&xml);
    }
    let (_, xml) = get(&sub_url(&t), tok).await;
    assert_eq!(all(&xml, "espi:UsagePoint").len(), 3);
    assert_eq!(all(&xml, "espi:LocalTimeParameters").len(), 1);
    assert_eq!(all(&xml, "espi:ReadingType").len(), 3);
    assert!(
        xml.contains("<espi:intervalLength>900<") && xml.contains("<espi:intervalLength>3600<")
    );
    // 70 whole days: at least one whole month billed per meter.
    assert!(all(&xml, "espi:UsageSummary").len() >= 3, "bills granted");
    let periods = reading_periods(&xml);
    // 2 electric meters x 96 + 1 gas meter x 24 readings a day.
    assert_eq!(periods.len(), 70 * (2 * 96 + 24));
    // The UsagePoint collection and each granted member answer.
    let (st, up) = get(&format!("{}/UsagePoint", sub_url(&t)), tok).await;
    assert_eq!(st, StatusCode::OK);
    assert_schema_valid(&up);
    let (st, one) = get(&format!("{}/UsagePoint/SA-1002", sub_url(&t)), tok).await;
    assert_eq!(st, StatusCode::OK);
    assert_schema_valid(&one);
    assert!(one.contains("<espi:customerAgreement>SA-1002<"));
    // The UsagePoint id third parties (and the browser tests) read the
    // SAID from.
    assert!(up.contains("<id>urn:uuid:usagepoint-SA-1001</id>"), "{up}");
    // The Authorization entry's URIs answer too.
    let (_, a) = get(t["authorizationURI"].as_str().expect("a"), tok).await;
    for u in all(&a, "espi:resourceURI")
        .into_iter()
        .chain(all(&a, "espi:customerResourceURI"))
    {
        assert_eq!(get(u, tok).await.0, StatusCode::OK, "{u}");
    }
    // Account details: the customer.xsd entries.
    let (_, c) = get(t["customerResourceURI"].as_str().expect("c"), tok).await;
    assert!(
        c.contains("<cust:customerName>Alex Rivera<") && c.contains("<cust:accountId>1234567890<")
    );
}

/// A request the customer can narrow: electricity and gas readings, bills,
/// no account details.
const NARROWABLE: &str =
    "FB=1_4_5_10_16;IntervalDuration=900_3600;HistoryLength=63072000;AdditionalScope=meters-all";

#[tokio::test]
async fn narrowed_grant_serves_only_the_narrower_data() {
    let s = server(20).await;
    let history = 3 * 86_400;
    let t = grant(
        &s,
        NARROWABLE,
        json!({"meters": ["SA-1001", "SA-1002"], "history_length": history, "function_blocks": [1, 4, 5]}),
    )
    .await;
    let tok = at(&t);
    // No account details: no customerResourceURI, and the resource refuses.
    assert!(t.get("customerResourceURI").is_none(), "{t}");
    let customer = s
        .state
        .store()
        .customer_by_username("alex")
        .await
        .expect("store")
        .expect("alex");
    let (st, _) = get(
        &s.url(&format!(
            "/espi/1_1/resource/Batch/RetailCustomer/{}",
            customer.customer_id
        )),
        tok,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, a) = get(t["authorizationURI"].as_str().expect("a"), tok).await;
    assert!(!a.contains("customerResourceURI"), "{a}");
    assert_schema_valid(&a);

    let (st, xml) = get(&sub_url(&t), tok).await;
    assert_eq!(st, StatusCode::OK);
    assert_schema_valid(&xml);
    // Only the granted meters.
    assert_eq!(
        all(&xml, "espi:customerAgreement"),
        vec!["SA-1001", "SA-1002"]
    );
    assert!(!xml.contains("SA-2001"));
    // No bills without FB 16; no gas readings without FB 10.
    assert!(!xml.contains("UsageSummary"), "bills leaked");
    assert!(
        !xml.contains("<espi:intervalLength>3600<"),
        "gas readings leaked"
    );
    // Readings only within the granted history, none after now.
    let a = s
        .state
        .store()
        .authorizations_of_customer(&customer.customer_id)
        .await
        .expect("auths")
        .pop()
        .expect("one");
    let now = s.state.now();
    let periods = reading_periods(&xml);
    assert!(!periods.is_empty());
    assert!(
        periods
            .iter()
            .all(|(p, d)| *p >= a.granted_at - history && p + d <= now)
    );
    assert!(periods.iter().all(|(_, d)| *d == 900));
    // ~3 days of 15-minute readings (the last day of data ends at local
    // midnight), never the 20 seeded.
    assert!(
        periods.len() <= 3 * 96 && periods.len() >= 2 * 96,
        "{}",
        periods.len()
    );
    // An ungranted meter is not found through this subscription.
    let (st, _) = get(&format!("{}/UsagePoint/SA-2001", sub_url(&t)), tok).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bills_dropped_in_the_consent_are_not_served() {
    // 70 days: at least one whole month billed.
    let s = server(70).await;
    let t = grant(&s, DEMO_SCOPE, json!({"function_blocks": [1, 4, 51]})).await;
    let (_, xml) = get(&sub_url(&t), at(&t)).await;
    assert_schema_valid(&xml);
    assert!(!xml.contains("UsageSummary"), "bills leaked");
    assert!(xml.contains("<espi:IntervalBlock>"));
    let full = grant(&s, DEMO_SCOPE, json!({})).await;
    let (_, xml) = get(&sub_url(&full), at(&full)).await;
    assert!(xml.contains("<espi:UsageSummary>"));
}

#[tokio::test]
async fn readings_after_now_are_not_served() {
    // An upload may hold readings stamped in the future; the grant ends now.
    let s = server(1).await;
    let upload = client_token(&s, ClientKind::Upload, "mdm").await;
    let alex = s
        .state
        .store()
        .customer_by_username("alex")
        .await
        .expect("s")
        .expect("alex");
    let future = s.state.now() + 7200;
    let body = format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:espi=\"http://naesb.org/espi\"><entry><content><espi:UsagePoint><espi:serviceDeliveryPoint><espi:customerAgreement>SA-1001</espi:customerAgreement></espi:serviceDeliveryPoint></espi:UsagePoint></content></entry><entry><content><espi:IntervalBlock><espi:IntervalReading><espi:timePeriod><espi:duration>900</espi:duration><espi:start>{future}</espi:start></espi:timePeriod><espi:value>4242424</espi:value></espi:IntervalReading></espi:IntervalBlock></content></entry></feed>"
    );
    let r = http()
        .post(s.url(&format!(
            "/espi/1_1/resource/Batch/RetailCustomer/{}/UsagePoint",
            alex.customer_id
        )))
        .bearer_auth(&upload)
        .body(body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let t = grant(&s, DEMO_SCOPE, json!({})).await;
    let (_, xml) = get(&sub_url(&t), at(&t)).await;
    assert!(xml.contains("<espi:IntervalBlock>"));
    assert!(!xml.contains("4242424"), "a reading after now was served");
    s.clock().advance(7200 + 900 + 1);
    // (the access token has expired meanwhile: refresh)
    let (st, t2) = demo_token_form(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().expect("rt")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{t2}");
    let (_, xml) = get(&sub_url(&t), at(&t2)).await;
    assert!(
        xml.contains("4242424"),
        "once its interval has passed it is served"
    );
}

#[tokio::test]
async fn revoked_or_expired_authorization_gets_401() {
    let s = server(3).await;
    let t = grant(&s, DEMO_SCOPE, json!({})).await;
    let tok = at(&t).to_string();
    assert_eq!(get(&sub_url(&t), &tok).await.0, StatusCode::OK);
    assert_eq!(
        revoke(&s, t["refresh_token"].as_str().expect("rt")).await,
        StatusCode::OK
    );
    for url in [
        sub_url(&t),
        format!("{}/UsagePoint", sub_url(&t)),
        t["customerResourceURI"].as_str().expect("c").to_string(),
    ] {
        assert_eq!(get(&url, &tok).await.0, StatusCode::UNAUTHORIZED, "{url}");
    }

    // Expired: an authorization that ends in two minutes, then the clock
    // moves past it (the access token would still be within its hour).
    let end = s.state.now() + 120;
    let t = grant(&s, DEMO_SCOPE, json!({"end_date": end})).await;
    assert_eq!(get(&sub_url(&t), at(&t)).await.0, StatusCode::OK);
    s.clock().advance(121);
    assert_eq!(get(&sub_url(&t), at(&t)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_opens_only_its_own_subscription() {
    let s = server(2).await;
    let t1 = grant(&s, DEMO_SCOPE, json!({})).await;
    let t2 = grant(&s, DEMO_SCOPE, json!({"meters": ["SA-1001"]})).await;
    assert_eq!(get(&sub_url(&t1), at(&t2)).await.0, StatusCode::FORBIDDEN);
    let cat = client_token(&s, ClientKind::ThirdParty, "other-tp").await;
    assert_eq!(get(&sub_url(&t1), &cat).await.0, StatusCode::FORBIDDEN);
    assert_eq!(get(&sub_url(&t1), "nope").await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn query_parameters_cut_the_feed() {
    let s = server(10).await;
    let t = grant(&s, DEMO_SCOPE, json!({"meters": ["SA-1001"]})).await;
    let base = sub_url(&t);
    let (_, full) = get(&base, at(&t)).await;
    let n = all(&full, "entry").len();
    let (_, two) = get(&format!("{base}?max-results=2"), at(&t)).await;
    assert_eq!(two.matches("<entry>").count(), 2);
    assert_schema_valid(&two);
    let (_, tail) = get(&format!("{base}?start-index={}", n - 1), at(&t)).await;
    assert_eq!(tail.matches("<entry>").count(), 2);
    // Blocks published in the last three days only.
    let blocks = full.matches("<espi:IntervalBlock>").count();
    let since = s.state.now() - 3 * 86_400;
    let (_, recent) = get(&format!("{base}?published-min={since}"), at(&t)).await;
    let recent_blocks = recent.matches("<espi:IntervalBlock>").count();
    assert!(
        recent_blocks > 0 && recent_blocks < blocks,
        "{recent_blocks} of {blocks}"
    );
    let (_, none) = get(&format!("{base}?updated-max=2000-01-01T00:00:00Z"), at(&t)).await;
    assert_eq!(none.matches("<espi:IntervalBlock>").count(), 0);
    let r = http()
        .get(format!("{base}?max-results=many"))
        .bearer_auth(at(&t))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.expect("text").contains("max-results"));
}

#[tokio::test]
async fn bulk_feed_for_the_client_access_token() {
    let s = server(2).await;
    let scope = "FB=1_4_35;IntervalDuration=900_3600;HistoryLength=86400;BR=0042";
    let t1 = grant(&s, scope, json!({"meters": ["SA-1001"]})).await;
    let _t2 = grant(&s, scope, json!({"meters": ["SA-2001"]})).await;
    let _other = grant(&s, DEMO_SCOPE, json!({"meters": ["SA-1002"]})).await;
    let (st, v) = demo_token_form(&s, &[("grant_type", "client_credentials")]).await;
    assert_eq!(st, StatusCode::OK);
    let cat = v["access_token"].as_str().expect("cat");
    let bulk = s.url("/espi/1_1/resource/Batch/Bulk/0042");
    let (st, xml) = get(&bulk, cat).await;
    assert_eq!(st, StatusCode::OK, "{xml}");
    assert_schema_valid(&xml);
    let mut saids = all(&xml, "espi:customerAgreement");
    saids.sort();
    assert_eq!(saids, vec!["SA-1001", "SA-2001"]);
    assert!(xml.contains("<espi:IntervalBlock>"));
    // The client's Authorization feed is schema-valid too.
    let (st, auths) = get(&s.url("/espi/1_1/resource/Authorization"), cat).await;
    assert_eq!(st, StatusCode::OK);
    assert_schema_valid(&auths);
    // Leading zeros matter; an access token is not a bulk token.
    assert_eq!(
        get(&s.url("/espi/1_1/resource/Batch/Bulk/42"), cat).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&bulk, at(&t1)).await.0, StatusCode::FORBIDDEN);
    // Another third party's client token sees nothing of this bulk id.
    let other = client_token(&s, ClientKind::ThirdParty, "other-tp").await;
    assert_eq!(get(&bulk, &other).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn upload_round_trip_all_or_nothing() {
    // Server A has data; server B has none until a meter data system
    // uploads what A serves.
    let a = server(35).await;
    let ta = grant(&a, DEMO_SCOPE, json!({})).await;
    let (_, feed) = get(&sub_url(&ta), at(&ta)).await;

    let b = start().await;
    let upload = client_token(&b, ClientKind::Upload, "mdm").await;
    let alex = b
        .state
        .store()
        .customer_by_username("alex")
        .await
        .expect("store")
        .expect("alex");
    let url = b.url(&format!(
        "/espi/1_1/resource/Batch/RetailCustomer/{}/UsagePoint",
        alex.customer_id
    ));
    let post = |body: String, token: String| {
        let url = url.clone();
        async move {
            let r = http()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/atom+xml")
                .body(body)
                .send()
                .await
                .expect("post");
            let st = r.status();
            (st, r.text().await.unwrap_or_default())
        }
    };
    // Broken at the end: 400 naming the problem, nothing stored.
    let cut = feed.replacen("</feed>", "<entry>", 1);
    let (st, msg) = post(cut, upload.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("not well-formed"), "{msg}");
    let bad = feed.replacen("<espi:value>", "<espi:value>x", 1);
    let (st, msg) = post(bad, upload.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        msg.contains("IntervalReading/value is not an integer"),
        "{msg}"
    );
    let foreign = feed.replacen(
        "<espi:customerAgreement>SA-1001<",
        "<espi:customerAgreement>SA-3001<",
        1,
    );
    let (st, msg) = post(foreign, upload.clone()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("SA-3001"), "{msg}");
    for said in ["SA-1001", "SA-1002", "SA-2001"] {
        assert!(
            !b.state.store().has_readings(said).await.expect("store"),
            "half-imported {said}"
        );
    }
    // Only an upload token may upload.
    let tb = grant(&b, DEMO_SCOPE, json!({})).await;
    assert_eq!(
        post(feed.clone(), at(&tb).to_string()).await.0,
        StatusCode::FORBIDDEN
    );

    // The whole feed: accepted, and B now serves exactly what A served.
    let (st, msg) = post(feed.clone(), upload.clone()).await;
    assert_eq!(st, StatusCode::CREATED, "{msg}");
    let counts: Value = serde_json::from_str(&msg).expect("json");
    assert_eq!(counts["usage_points"], json!(3));
    assert_eq!(
        counts["interval_readings"],
        json!(reading_periods(&feed).len())
    );
    let tb = grant(&b, DEMO_SCOPE, json!({})).await;
    let (_, served) = get(&sub_url(&tb), at(&tb)).await;
    assert_schema_valid(&served);
    assert_eq!(
        all(&served, "espi:IntervalBlock"),
        all(&feed, "espi:IntervalBlock")
    );
    assert_eq!(
        all(&served, "espi:UsageSummary"),
        all(&feed, "espi:UsageSummary")
    );
}

#[tokio::test]
async fn application_information_for_the_registration_token() {
    let s = start().await;
    let reg = client_token(&s, ClientKind::Registration, "reg-tp").await;
    let url = s.url("/espi/1_1/resource/ApplicationInformation/reg-tp");
    let (st, xml) = get(&url, &reg).await;
    assert_eq!(st, StatusCode::OK, "{xml}");
    assert_schema_valid(&xml);
    assert!(
        xml.contains("<espi:client_id>reg-tp<")
            && xml.contains(&format!("<espi:registration_access_token>{reg}<"))
    );
    // Someone else's registration, or another token kind: refused.
    assert_eq!(
        get(
            &s.url("/espi/1_1/resource/ApplicationInformation/demo-third-party"),
            &reg
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let cat = client_token(&s, ClientKind::ThirdParty, "tp2").await;
    assert_eq!(get(&url, &cat).await.0, StatusCode::FORBIDDEN);

    let put = |body: &'static str| {
        let url = url.clone();
        let reg = reg.clone();
        async move {
            let r = http()
                .put(url)
                .bearer_auth(reg)
                .body(body)
                .send()
                .await
                .expect("put");
            let st = r.status();
            (st, r.text().await.unwrap_or_default())
        }
    };
    let (st, xml) = put(
        r#"<entry xmlns="http://www.w3.org/2005/Atom"><content><ApplicationInformation xmlns="http://naesb.org/espi">
            <client_name>Renamed &amp; Co</client_name>
            <redirect_uri>https://renamed.example/cb</redirect_uri>
            <redirect_uri>https://renamed.example/cb2</redirect_uri>
            <logo_uri>https://renamed.example/logo.png</logo_uri>
        </ApplicationInformation></content></entry>"#,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{xml}");
    assert_schema_valid(&xml);
    let c = s
        .state
        .store()
        .client("reg-tp")
        .await
        .expect("store")
        .expect("client");
    assert_eq!(c.name, "Renamed & Co");
    assert_eq!(
        c.redirect_uris,
        vec!["https://renamed.example/cb", "https://renamed.example/cb2"]
    );
    assert_eq!(
        c.logo_uri.as_deref(),
        Some("https://renamed.example/logo.png")
    );
    let (st, msg) = put("<ApplicationInformation><client_name>x</client_name><redirect_uri>javascript:alert(1)</redirect_uri></ApplicationInformation>").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(msg.contains("redirect_uri"), "{msg}");
    let (st, _) = put("<ApplicationInformation><client_name>x</client_name>").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[test]
fn the_schema_check_rejects_what_espi_does_not_allow() {
    // The validator is real: an element out of the schema's order fails.
    let bad = "<feed><entry><content><espi:UsagePoint><espi:status>1</espi:status><espi:ServiceCategory><espi:kind>0</espi:kind></espi:ServiceCategory></espi:UsagePoint></content></entry></feed>";
    let r = std::panic::catch_unwind(|| assert_schema_valid(bad));
    assert!(r.is_err(), "an invalid UsagePoint passed the schema check");
    assert_schema_valid(
        "<feed><entry><content><espi:UsagePoint><espi:ServiceCategory><espi:kind>0</espi:kind></espi:ServiceCategory><espi:status>1</espi:status></espi:UsagePoint></content></entry></feed>",
    );
}
