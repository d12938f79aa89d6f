//! Hosted flow: sign-in with a password, consent, the choices and the token
//! exchange, decline and `noedit`.
//!
//! Browser end-to-end tests against the real reference DataCustodian in
//! headless Chromium (see `tests/common/mod.rs`). Run: `./scripts/build-web.sh`,
//! then `cargo test -p consent-e2e --test hosted_flow`.

mod common;

use common::*;

const YEAR: u64 = 365 * 86_400;

fn parse_scope(s: &str) -> EspiScope {
    let parsed = espi_scope::parse(s);
    assert!(
        !parsed.has_errors(),
        "scope {s:?} parses: {:?}",
        parsed.diagnostics
    );
    parsed
        .value
        .scopes
        .into_iter()
        .next()
        .expect("an ESPI scope")
}

fn granted_meters(s: &EspiScope) -> Vec<String> {
    let mut v: Vec<String> = s
        .additional_scope
        .iter()
        .filter_map(|a| match a {
            AdditionalScope::Meter(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

/// The server's own record of the authorization behind a grant.
async fn stored_authorization(
    server: &TestServer,
    grant: &Grant,
) -> datacustodian::store::Authorization {
    let id = grant
        .authorization_uri
        .rsplit('/')
        .next()
        .expect("an authorization id")
        .to_string();
    server
        .state
        .store()
        .authorization(&id)
        .await
        .expect("read the store")
        .unwrap_or_else(|| panic!("no authorization {id} in the store"))
}

/// No function block numbers, raw scope syntax or long numbers outside
/// "Technical details".
fn assert_plain_language(visible: &str) {
    for bad in [
        "FB=",
        "FB ",
        "IntervalDuration",
        "HistoryLength",
        "AdditionalScope",
        "meters-",
    ] {
        assert!(
            !visible.contains(bad),
            "the consent step shows {bad:?} outside Technical details:\n{visible}"
        );
    }
    let long_number = visible
        .split(|c: char| !c.is_ascii_digit() && c != '_')
        .find(|w| (w.contains('_') && w.chars().any(|c| c.is_ascii_digit())) || w.len() >= 6);
    assert!(
        long_number.is_none(),
        "the consent step shows a bare number {long_number:?} outside Technical details:\n{visible}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_sign_in_consent_authorize_and_token_exchange() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    check_a11y(&b, "sign-in").await;
    assert_eq!(
        text(&b, "h1").await,
        "Sign in to share your energy data",
        "the hosted page has one h1: the step heading"
    );
    assert!(
        page_text(&b).await.contains(NAME),
        "the sign-in step names the third party"
    );

    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    check_a11y(&b, "consent").await;
    assert_eq!(
        js(
            &b,
            "return document.activeElement === document.querySelector('.gbc h1.gbc-h')"
        )
        .await,
        true,
        "focus moves to the new step's heading"
    );
    assert!(
        text(&b, "[role=status]").await.contains("Alex Rivera"),
        "the status region says who is signed in"
    );

    // Who is asking, and for what: the name, the scope of use, the data in
    // plain language.
    assert_eq!(
        text(&b, "h1").await,
        format!("Share your energy data with {NAME}?")
    );
    assert_eq!(text(&b, ".gbc-client__name").await, NAME);
    let visible = visible_consent_text(&b).await;
    assert!(
        visible.contains("uses your usage data to size a solar system"),
        "the scope of use is shown:\n{visible}"
    );
    for id in parse_scope(SCOPE).function_blocks {
        let line = function_block_description(id, Lang::En);
        if role_of(id) == ConsentRole::Technical {
            continue;
        }
        assert!(
            visible.contains(line),
            "FB {id} is described as {line:?}:\n{visible}"
        );
    }
    for m in ["Home electricity", "Home gas", "Workshop electricity"] {
        assert!(visible.contains(m), "meter {m} is listed:\n{visible}");
    }
    assert_plain_language(&visible);
    assert!(visible.contains("Technical details"));

    // "Technical details" is closed until asked for, and holds the numbers.
    assert_eq!(
        js(
            &b,
            "return document.querySelector('details.gbc-details').open"
        )
        .await,
        false
    );
    click(&b, "details.gbc-details > summary").await;
    settle(&b).await;
    let details = text(&b, "details.gbc-details").await;
    assert!(
        details.contains("FB 5:"),
        "technical details list the blocks:\n{details}"
    );
    let shown_grant = js(
        &b,
        "const c = document.querySelectorAll('details.gbc-details code'); return c[c.length - 1].textContent;",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string();
    check_a11y(&b, "consent (technical details open)").await;

    let params = authorize(&b, &tp).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;

    // The token's scope is the server's final scope and what the customer
    // was shown.
    let stored = stored_authorization(&server, &grant).await;
    assert_eq!(
        grant.scope, stored.scope,
        "token scope = the server's final scope"
    );
    // What the customer was shown is what was granted. The default end date
    // is computed from "now" (by the widget when the page loaded, by the
    // server at the decision), so it may differ by the seconds in between.
    let g = grant.espi_scope();
    let mut shown = parse_scope(&shown_grant);
    let (shown_end, granted_end) = (shown.preferred_auth_end_date, g.preferred_auth_end_date);
    assert!(
        shown_end
            .zip(granted_end)
            .is_some_and(|(s, t)| t >= s && t - s <= 120),
        "the end date shown ({shown_end:?}) is the one granted ({granted_end:?})"
    );
    shown.preferred_auth_end_date = granted_end;
    // The token carries the final scope: the grant shown, completed by what
    // the server adds. This request names its commodity (5) and intervals,
    // so that is the server's supported blocks and 18 for three meters.
    let req = parse_scope(SCOPE);
    let custodian = Custodian {
        supported: server.state.config().supported_function_blocks.clone(),
        meters: vec![MeterFacts::default(); ALEX_METERS.len()],
    };
    assert_eq!(
        g,
        final_scope(&req, &shown, &custodian),
        "token scope {} = the grant shown in Technical details {shown_grant}, completed",
        grant.scope
    );
    assert!(
        req.function_blocks
            .iter()
            .all(|f| g.function_blocks.contains(f)),
        "nothing narrowed: every requested block granted: {}",
        grant.scope
    );
    assert!(
        g.function_blocks.contains(&18),
        "three meters: {}",
        grant.scope
    );
    assert_eq!(g.interval_durations, req.interval_durations);
    assert_eq!(g.history_length, Some(2 * YEAR));
    let mut all: Vec<String> = ALEX_METERS.iter().map(|s| s.to_string()).collect();
    all.sort();
    assert_eq!(granted_meters(&g), all, "every meter granted");
    assert_eq!(
        grant.usage_point_saids().await,
        all,
        "UsagePoint lists exactly the granted meters"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrowed_choices_reach_the_token_scope() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;

    // Kinds of data: requested, so ticked; untick bills and costs (FB 15).
    let bills = el(&b, ".gbc input[type=checkbox][value='bills']").await;
    assert!(
        bills.is_selected().await.unwrap(),
        "a requested kind of data starts ticked"
    );
    bills.click().await.unwrap();
    // Meters: keep only Home electricity (SA-1001).
    for said in ["SA-1002", "SA-2001"] {
        click(&b, &format!(".gbc input[type=checkbox][value='{said}']")).await;
    }
    // History: the second option (one year); end date: the second option
    // (one year from now, earlier than the default).
    let history: Vec<_> = b
        .client
        .find_all(Locator::Css(".gbc input[type=radio][name$='-history']"))
        .await
        .unwrap();
    assert!(history.len() >= 2, "shorter history can be chosen");
    history[1].click().await.unwrap();
    let ends: Vec<_> = b
        .client
        .find_all(Locator::Css(".gbc input[type=radio][name$='-end']"))
        .await
        .unwrap();
    assert!(ends.len() >= 2, "an earlier end date can be chosen");
    ends[1].click().await.unwrap();
    settle(&b).await;
    check_a11y(&b, "consent (narrowed)").await;

    // The summary follows the choices.
    let summary = text(&b, ".gbc-summary").await;
    assert!(
        summary.contains("Home electricity"),
        "summary names the meter:\n{summary}"
    );
    assert!(
        !summary.contains("Home gas") && !summary.contains("Workshop"),
        "{summary}"
    );
    let year = espi_scope::describe::seconds(YEAR, Lang::En);
    assert!(
        summary.contains(&year),
        "summary shows the shorter history ({year}):\n{summary}"
    );
    assert!(
        !summary.contains(function_block_description(15, Lang::En)),
        "the unticked bills are not in the summary:\n{summary}"
    );

    let params = authorize(&b, &tp).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    let g = grant.espi_scope();
    let req = parse_scope(SCOPE);
    // Exactly the bills dropped; the server adds only what it supports
    // (one meter: no 18; the request names its commodity and intervals).
    let mut expected_blocks: Vec<u16> = req
        .function_blocks
        .iter()
        .copied()
        .filter(|f| *f != 15)
        .chain(server.state.config().supported_function_blocks.clone())
        .collect();
    expected_blocks.sort_unstable();
    expected_blocks.dedup();
    assert_eq!(
        g.function_blocks, expected_blocks,
        "exactly the bills (15) dropped: {}",
        grant.scope
    );
    assert!(
        !g.function_blocks
            .iter()
            .any(|f| [12, 15, 16, 17, 27, 28].contains(f)),
        "no bills in the token scope: {}",
        grant.scope
    );
    assert_eq!(
        g.history_length,
        Some(YEAR),
        "history shortened to a year: {}",
        grant.scope
    );
    assert_eq!(
        granted_meters(&g),
        vec!["SA-1001".to_string()],
        "{}",
        grant.scope
    );
    let now = u64::try_from(server.state.now()).unwrap();
    let end = g.preferred_auth_end_date.expect("an end date");
    assert!(
        end > now + YEAR - 600 && end <= now + YEAR,
        "the end date is one year from now ({}), not {end}: {}",
        now + YEAR,
        grant.scope
    );
    assert_eq!(
        g.interval_durations, req.interval_durations,
        "intervals unchanged"
    );
    assert_eq!(grant.usage_point_saids().await, vec!["SA-1001".to_string()]);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_sends_access_denied_and_state_to_the_third_party() {
    let (server, tp) = setup().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    press(&b, "Decline").await;
    let params = tp.catcher.wait(20).await;
    assert_eq!(param(&params, "error"), "access_denied");
    assert_eq!(param(&params, "state"), attempt.state);
    assert_eq!(param(&params, "iss"), server.base);
    assert!(
        params.iter().all(|(k, _)| k != "code"),
        "no code on a decline: {params:?}"
    );
    wait_url(&b, &tp.redirect_uri, Duration::from_secs(10)).await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noedit_request_is_read_only_and_granted_as_requested() {
    let (server, tp) = setup().await;
    let scope = SCOPE.replace("sou-solar", "sou-solar_noedit");
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, &scope).await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    check_a11y(&b, "consent (noedit)").await;
    let visible = visible_consent_text(&b).await;
    assert!(
        visible.contains(&format!(
            "{NAME} asked for exactly this, so it can't be changed here"
        )),
        "the page says why nothing can be changed:\n{visible}"
    );
    let editable = js(
        &b,
        "return [...document.querySelectorAll('.gbc form input, .gbc form select, .gbc form textarea')]
           .filter(e => !e.disabled && !e.readOnly).map(e => e.outerHTML);",
    )
    .await;
    assert_eq!(
        editable,
        serde_json::json!([]),
        "no editable choice on a noedit request"
    );
    assert_plain_language(&visible);

    let params = authorize(&b, &tp).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    let g = grant.espi_scope();
    let req = parse_scope(&scope);
    // Every requested block, and no other kind of data: the server only
    // completes the scope with the blocks it supports and 18 (three meters).
    let mut expected: Vec<u16> = req
        .function_blocks
        .iter()
        .copied()
        .chain(server.state.config().supported_function_blocks.clone())
        .chain([18])
        .collect();
    expected.sort_unstable();
    expected.dedup();
    assert_eq!(g.function_blocks, expected, "{}", grant.scope);
    assert_eq!(
        g.interval_durations, req.interval_durations,
        "{}",
        grant.scope
    );
    assert_eq!(g.history_length, req.history_length, "{}", grant.scope);
    assert!(g.no_edit(), "noedit stays in the grant: {}", grant.scope);
    let mut all: Vec<String> = ALEX_METERS.iter().map(|s| s.to_string()).collect();
    all.sort();
    assert_eq!(
        granted_meters(&g),
        all,
        "meters-all = every meter: {}",
        grant.scope
    );
    let stored = stored_authorization(&server, &grant).await;
    assert_eq!(grant.scope, stored.scope);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chosen_said_preselects_only_that_meter() {
    let (server, tp) = setup().await;
    let scope = SCOPE.replace("meters-all", "meters-SA-2001");
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, &scope).await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    check_a11y(&b, "consent (one meter requested)").await;
    let ticked = js(
        &b,
        "return [...document.querySelectorAll('.gbc input[type=checkbox]')]
           .filter(e => e.value.startsWith('SA-') && e.checked).map(e => e.value);",
    )
    .await;
    assert_eq!(
        ticked,
        serde_json::json!(["SA-2001"]),
        "only the requested meter is ticked"
    );
    let offered = js(
        &b,
        "return [...document.querySelectorAll('.gbc input[type=checkbox]')]
           .filter(e => e.value.startsWith('SA-')).map(e => e.value);",
    )
    .await;
    assert!(
        !offered.as_array().unwrap().iter().any(|v| v == "SA-1002"),
        "a meter outside the request is not offered: {offered}"
    );
    let params = authorize(&b, &tp).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    assert_eq!(
        granted_meters(&grant.espi_scope()),
        vec!["SA-2001".to_string()],
        "{}",
        grant.scope
    );
    assert_eq!(grant.usage_point_saids().await, vec!["SA-2001".to_string()]);
    b.close().await;
}

/// The hosted page must keep its widget when the browser collects garbage:
/// `boot.js` drops the handle `mount()` returns, and a widget that lived
/// only as long as that handle would go blank (a bug seen here once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosted_widget_survives_garbage_collection() {
    let server = TestServer::start().await;
    // No workaround here: the page as shipped.
    let b = Browser::start().await;
    b.client
        .goto(&server.url("/consent/?request=no-such-request"))
        .await
        .unwrap();
    wait_step(&b, "error").await;
    force_gc(&b).await;
    assert_eq!(
        step(&b).await.as_deref(),
        Some("error"),
        "the widget is still mounted after a garbage collection; the page shows:\n{}",
        page_text(&b).await
    );
    b.close().await;
}
