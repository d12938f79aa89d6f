//! The utility's own sign-in in the browser: "Sign in with Example Utility"
//! sends the customer to a real, certified OpenID Connect provider (npm
//! `oidc-provider` on a loopback port, its own login form), and back to the
//! consent page signed in; then the authorization and the token exchange as
//! after any sign-in. `auth-sso-{id}` in the scope goes straight to the
//! provider; a cancel there comes back as a clear error, not a loop.
//!
//! Run: `./scripts/build-web.sh`, then `cargo test -p consent-e2e --test sso`.

mod common;

use common::*;
use consent_e2e::oidc_provider::{CLIENT_ID, CLIENT_SECRET, OidcProvider};
use datacustodian::oidc::{AccountField, ProviderConfig};

const PROVIDER: &str = "Example Utility";

/// A server with the provider `utility` (its `account_number` claim
/// against the account number) and the third party.
async fn setup_sso() -> (TestServer, ThirdParty, OidcProvider) {
    let mut provider = None;
    let server = TestServer::start_with(|c| {
        let p = OidcProvider::start(&c.public_url);
        let mut cfg = ProviderConfig::new("utility", &p.issuer, CLIENT_ID, CLIENT_SECRET);
        cfg.name = PROVIDER.into();
        cfg.scopes = vec!["account".into()];
        cfg.claim = "account_number".into();
        cfg.matches = AccountField::AccountNumber;
        c.oidc_providers = vec![cfg];
        provider = Some(p);
    })
    .await;
    let tp = server.third_party(NAME).await;
    (server, tp, provider.expect("provider"))
}

/// On the provider's own login page: signs in as `login`.
async fn provider_login(b: &Browser, issuer: &str, login: &str) {
    wait_url(b, issuer, Duration::from_secs(20)).await;
    let field = el(b, "input[name=login]").await;
    field.send_keys(login).await.expect("type the login");
    el(b, "input[name=password]")
        .await
        .send_keys("any password")
        .await
        .expect("type the password");
    el(b, "button.login-submit")
        .await
        .click()
        .await
        .expect("submit the provider's form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_signs_in_with_the_utility_and_authorizes() {
    let (server, tp, provider) = setup_sso().await;
    let b = browser(Options::default()).await;
    let attempt = open(&b, &server, &tp, SCOPE).await;
    check_a11y(&b, "sign-in with a provider").await;
    press(&b, &format!("Sign in with {PROVIDER}")).await;
    provider_login(&b, &provider.issuer, "alice").await;
    // Back on the consent page, signed in as the account's customer.
    wait_step(&b, "consent").await;
    let url = b.client.current_url().await.expect("url").to_string();
    assert!(
        url.starts_with(&server.url("/consent/?request=")),
        "back on the hosted consent page: {url}"
    );
    assert!(
        page_text(&b).await.contains("Alex Rivera"),
        "signed in as Alex Rivera"
    );
    let params = authorize(&b, &tp).await;
    let code = check_response(&params, &attempt, &server);
    let grant = tp.exchange(&server, &attempt, &code).await;
    assert!(
        !grant.usage_point_saids().await.is_empty(),
        "the third party reads the granted meters"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_sso_goes_straight_to_the_provider_and_a_cancel_comes_back_as_an_error() {
    let (server, tp, provider) = setup_sso().await;
    let b = browser(Options::default()).await;
    let scope = SCOPE.replace("sou-solar", "sou-solar_auth-sso-utility");
    let attempt = tp.authorize(&server, &scope);
    b.client.goto(&attempt.url).await.expect("open");
    // No choice to make: the provider's login form.
    wait_url(&b, &provider.issuer, Duration::from_secs(20)).await;
    el(&b, "input[name=login]").await;
    el(&b, ".login-help a")
        .await
        .click()
        .await
        .expect("cancel at the provider");
    wait_step(&b, "sign-in").await;
    assert_error_summary(&b, "Signing in with your utility account was cancelled").await;
    // It stays: the customer can choose another way.
    settle(&b).await;
    assert_eq!(step(&b).await.as_deref(), Some("sign-in"));
    check_a11y(&b, "sign-in after a cancelled provider sign-in").await;
    sign_in_password(&b, ALEX.1).await;
    wait_step(&b, "consent").await;
    b.close().await;
}
