//! Issue 13 end to end: the customer narrows in the browser (one meter,
//! one year of history) and the third party's subscription feed holds
//! exactly that narrower data.
//!
//! Run: `trunk build --release` at the repository root, then
//! `cargo test -p consent-e2e --test espi_data`.

use consent_e2e::browser::{Browser, Options};
use consent_e2e::server::{ALEX, TestServer, param};
use consent_e2e::widget::{click, fill_labelled, press, settle, wait_step};
use fantoccini::Locator;

const SCOPE: &str = "FB=1_4_5_10_15_51;IntervalDuration=900_3600;HistoryLength=63072000;\
                     AdditionalScope=meters-all_sou-solar";
const NAME: &str = "Solar Planner";
const YEAR: i64 = 365 * 86_400;

fn all<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let j = after.find(&close).expect("closed");
        out.push(&after[..j]);
        rest = &after[j..];
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_holds_exactly_what_the_customer_kept_in_the_browser() {
    let server = TestServer::start().await;
    // 400 days of data: a one-year grant must visibly cut it.
    datacustodian::seed_demo_usage(&server.state, 400)
        .await
        .expect("seed usage");
    let tp = server.third_party(NAME).await;
    let b = Browser::start_with(Options::default()).await;
    let attempt = tp.authorize(&server, SCOPE);
    b.client.goto(&attempt.url).await.expect("open");
    wait_step(&b, "sign-in").await;
    fill_labelled(&b, "Username", ALEX.0).await;
    fill_labelled(&b, "Password", ALEX.1).await;
    press(&b, "Sign in").await;
    wait_step(&b, "consent").await;

    // Keep only Home electricity (SA-1001) and one year of history.
    for said in ["SA-1002", "SA-2001"] {
        click(&b, &format!(".gbc input[type=checkbox][value='{said}']")).await;
    }
    let history: Vec<_> = b
        .client
        .find_all(Locator::Css(".gbc input[type=radio][name$='-history']"))
        .await
        .expect("history options");
    assert!(history.len() >= 2, "shorter history can be chosen");
    history[1].click().await.expect("one year");
    settle(&b).await;
    press(&b, "Authorize").await;
    wait_step(&b, "done").await;
    press(&b, &format!("Continue to {NAME}")).await;
    let params = tp.catcher.wait(20).await;
    let code = param(&params, "code").to_string();
    let grant = tp.exchange(&server, &attempt, &code).await;
    b.close().await;

    let resp = reqwest::Client::new()
        .get(&grant.resource_uri)
        .bearer_auth(&grant.access_token)
        .send()
        .await
        .expect("GET subscription");
    assert_eq!(resp.status().as_u16(), 200);
    let feed = resp.text().await.expect("feed");
    assert_eq!(all(&feed, "espi:customerAgreement"), vec!["SA-1001"]);
    assert!(!feed.contains("SA-1002") && !feed.contains("SA-2001"));
    let now = server.state.now();
    let starts: Vec<i64> = all(&feed, "espi:timePeriod")
        .iter()
        .map(|p| all(p, "espi:start")[0].parse().expect("start"))
        .collect();
    assert!(!starts.is_empty(), "readings are served");
    // One year back from the authorization (granted moments ago), not the
    // 400 days stored.
    let first = *starts.iter().min().expect("first");
    assert!(
        first >= now - YEAR - 600,
        "history beyond the grant: {first}"
    );
    assert!(
        first <= now - YEAR + 86_400,
        "the granted year is served: {first}"
    );
    assert!(starts.iter().all(|s| s + 900 <= now));
}
