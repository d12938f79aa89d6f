//! The happy paths over real HTTP: the whole code flow with the `oauth2`
//! crate as the third party, refresh rotation, client credentials per kind,
//! revocation, introspection, ESPI resources, the customer API, one-time
//! code sign-in, the password grant opt-in.

mod common;

use common::*;
use datacustodian::admin::{NewClient, create_client};
use datacustodian::store::ClientKind;
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope, TokenIntrospectionResponse,
    TokenResponse,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn whole_code_flow_with_pkce_and_state() {
    let s = start().await;
    let tp = s.third_party();
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf_state) = tp
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new(DEMO_SCOPE.to_string()))
        .set_pkce_challenge(challenge)
        .url();

    let b = s.browser();
    let rid = b.start(url.as_str()).await;
    assert!(rid.len() >= 22, "request id has >= 128 bits");
    let (st, ctx) = b.context(&rid).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(ctx["request_id"], json!(rid));
    assert_eq!(ctx["client"]["client_id"], json!("demo-third-party"));
    assert_eq!(ctx["client"]["name"], json!("Energy Audit Co. (demo)"));
    assert!(
        ctx["client"]["logo_uri"]
            .as_str()
            .is_some_and(|l| l.starts_with("data:image/"))
    );
    assert_eq!(ctx["scope"], json!(DEMO_SCOPE));
    assert_eq!(ctx["scope_of_use"]["name"], json!("energy-audit"));
    assert!(ctx["scope_of_use"]["url"].is_string());
    assert_eq!(ctx["editable"], json!(true));
    assert_eq!(ctx["customer"], Value::Null);
    assert_eq!(
        ctx["sign_in"]["methods"],
        json!(["password", "account_otp", "phone_otp", "email_otp"])
    );
    let now = ctx["now"].as_i64().expect("now");
    assert!(ctx["expires_at"].as_i64().expect("expires_at") > now);
    assert!(ctx["default_end_date"].as_i64().expect("default end") > now + 365 * 86400);
    let csrf = ctx["csrf_token"].as_str().expect("csrf").to_string();

    let (st, cust) = b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    assert_eq!(st, StatusCode::OK, "{cust}");
    assert_eq!(cust["display_name"], json!("Alex Rivera"));
    assert_eq!(cust["meters"].as_array().map(Vec::len), Some(3));
    assert_eq!(cust["meters"][1]["service_kind"], json!("gas"));

    // Signed in: the context now carries the customer (sign-in is skipped).
    let (_, ctx2) = b.context(&rid).await;
    assert_eq!(ctx2["customer"]["display_name"], json!("Alex Rivera"));
    assert_eq!(
        ctx2["csrf_token"],
        json!(csrf),
        "CSRF token survives the cookie rotation"
    );
    let (st, meters) = b.get(&format!("/api/consent/requests/{rid}/meters")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(meters["meters"].as_array().map(Vec::len), Some(3));

    // Narrow: keep two meters, one year of history.
    let (st, res) = b
        .decide(
            &rid,
            Some(&csrf),
            json!({"decision": "authorize", "meters": ["SA-1001", "SA-2001"], "history_length": 31536000}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{res}");
    assert_eq!(res["outcome"], json!("authorized"));
    let receipt = &res["receipt"];
    assert_eq!(receipt["status"], json!("active"));
    assert_eq!(receipt["third_party"], json!("Energy Audit Co. (demo)"));
    assert_eq!(receipt["meters"].as_array().map(Vec::len), Some(2));
    let q = query_of(res["redirect_to"].as_str().expect("redirect_to"));
    assert!(
        res["redirect_to"]
            .as_str()
            .is_some_and(|r| r.starts_with(&s.seed.redirect_uri))
    );
    assert_eq!(&q["state"], csrf_state.secret());
    assert_eq!(q["iss"], s.base, "RFC 9207 iss");
    let code = q["code"].clone();
    assert!(code.len() >= 22, "code has >= 128 bits");

    let token = tp
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http())
        .await
        .expect("token exchange");
    assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(3600));
    assert!(token.refresh_token().is_some());
    let granted = token.scopes().expect("scope")[0].to_string();
    // The final scope: the request (1, 4, 16, 51) narrowed, plus what this
    // server supports (3, 13, 35, 37), the commodity of the two granted
    // electric meters (5) and 18 for more than one meter.
    assert!(granted.starts_with("FB=1_3_4_5_13_16_18_35_37_51;IntervalDuration=900_3600;HistoryLength=31536000;AccountCollection=2;PreferredAuthEndDate="), "{granted}");
    assert!(
        granted.contains("meters-SA-1001_meters-SA-2001") && granted.contains("sou-energy-audit"),
        "{granted}"
    );
    let extra = token.extra_fields();
    assert!(
        extra
            .resource_uri
            .starts_with(&format!("{}/espi/1_1/resource/Batch/Subscription/", s.base))
    );
    assert!(
        extra
            .authorization_uri
            .starts_with(&format!("{}/espi/1_1/resource/Authorization/", s.base))
    );
    assert!(extra.customer_resource_uri.starts_with(&format!(
        "{}/espi/1_1/resource/Batch/RetailCustomer/",
        s.base
    )));

    // UsagePoint feed = exactly the granted meters.
    let access = token.access_token().secret().clone();
    let (st, xml, h) = bearer_get(&s, &format!("{}/UsagePoint", extra.resource_uri), &access).await;
    assert_eq!(st, StatusCode::OK, "{xml}");
    assert!(
        h["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("application/atom+xml"))
    );
    assert_eq!(xml.matches("<entry>").count(), 2, "{xml}");
    assert!(
        xml.contains("<espi:customerAgreement>SA-1001<")
            && xml.contains("<espi:customerAgreement>SA-2001<")
    );
    assert!(!xml.contains("SA-1002"), "an ungranted meter leaked: {xml}");

    // The ESPI Authorization.
    let (st, xml, _) = bearer_get(&s, &extra.authorization_uri, &access).await;
    assert_eq!(st, StatusCode::OK);
    for needle in [
        "<espi:status>1</espi:status>",
        "<espi:authorizedPeriod>",
        "<espi:publishedPeriod><espi:duration>31536000</espi:duration>",
        "<espi:grant_type>authorization_code</espi:grant_type>",
        "<espi:token_type>Bearer</espi:token_type>",
        "<espi:expires_at>",
        &format!(
            "<espi:resourceURI>{}</espi:resourceURI>",
            extra.resource_uri
        ),
        &format!(
            "<espi:authorizationURI>{}</espi:authorizationURI>",
            extra.authorization_uri
        ),
    ] {
        assert!(xml.contains(needle), "missing {needle} in {xml}");
    }
    assert!(xml.contains(&format!(
        "<espi:scope>{}</espi:scope>",
        granted.replace('&', "&amp;")
    )));
}

#[tokio::test]
async fn token_response_has_exactly_the_seed_shape() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (st, v, h) = token_form(
        &s,
        &s.seed.client_id,
        &s.seed.client_secret,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &s.seed.redirect_uri),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(h["cache-control"], "no-store");
    let mut keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "authorizationURI",
            "customerResourceURI",
            "expires_in",
            "refresh_token",
            "resourceURI",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(v["token_type"], json!("Bearer"));
    assert_eq!(v["expires_in"], json!(3600));
    // Default choices: every meter (meters-all), the requested history, an
    // explicit end date.
    let scope = v["scope"].as_str().expect("scope");
    assert!(
        scope.contains("AccountCollection=3") && scope.contains("PreferredAuthEndDate="),
        "{scope}"
    );
}

#[tokio::test]
async fn client_secret_post_is_accepted() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let r = http()
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", s.seed.redirect_uri.as_str()),
            ("client_id", s.seed.client_id.as_str()),
            ("client_secret", s.seed.client_secret.as_str()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_every_time() {
    let s = start().await;
    let tp = s.third_party();
    let code = code_without_pkce(&s).await;
    let t1 = tp
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http())
        .await
        .expect("exchange");
    let r1 = t1.refresh_token().expect("refresh").clone();
    let t2 = tp
        .exchange_refresh_token(&r1)
        .request_async(&http())
        .await
        .expect("refresh 1");
    let r2 = t2.refresh_token().expect("refresh").clone();
    assert_ne!(r1.secret(), r2.secret(), "the refresh token rotates");
    assert_ne!(t1.access_token().secret(), t2.access_token().secret());
    assert_eq!(
        t2.extra_fields().resource_uri,
        t1.extra_fields().resource_uri,
        "same shape, same subscription"
    );
    assert_eq!(t2.expires_in().map(|d| d.as_secs()), Some(3600));
    let t3 = tp
        .exchange_refresh_token(&r2)
        .request_async(&http())
        .await
        .expect("refresh 2");
    assert_ne!(t3.refresh_token().expect("refresh").secret(), r2.secret());
    // The rotated-out refresh token is no longer active; the new access token is.
    assert_eq!(introspect(&s, r1.secret()).await["active"], json!(false));
    assert_eq!(
        introspect(&s, t3.access_token().secret()).await["active"],
        json!(true)
    );
    // Earlier access tokens stay valid until they expire.
    assert_eq!(
        introspect(&s, t1.access_token().secret()).await["active"],
        json!(true)
    );
}

#[tokio::test]
async fn refresh_token_ends_with_the_authorization() {
    let s = start().await;
    let b = s.browser();
    let end = s.state.now() + 7200;
    let scope = format!("FB=1_4_16_51;PreferredAuthEndDate={end};AdditionalScope=meters-all");
    let q = consent(&b, &authorize_url(&s, &scope, None, None), json!({})).await;
    let (st, t) = redeem(&s, &q["code"]).await;
    assert_eq!(st, StatusCode::OK);
    s.clock().advance(7201);
    let (st, v) = demo_token_form(
        &s,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().expect("rt")),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], json!("invalid_grant"));
}

async fn register(s: &TestServer, kind: ClientKind, grants: &[&str]) -> (String, String) {
    let mut c = NewClient::third_party(format!("{kind:?} client"), vec![]);
    c.kind = kind;
    c.grant_types = grants.iter().map(|g| g.to_string()).collect();
    let cs = create_client(&s.state, c).await.expect("client");
    (cs.client_id, cs.client_secret)
}

#[tokio::test]
async fn client_credentials_give_the_token_kind_of_the_registration() {
    let s = start().await;
    // The demo third party.
    let tp = s.third_party();
    let t = tp
        .exchange_client_credentials()
        .request_async(&http())
        .await
        .expect("cc");
    assert_eq!(t.scopes().expect("scope")[0].to_string(), "FB=34_35");
    assert!(t.refresh_token().is_none());
    let i = introspect(&s, t.access_token().secret()).await;
    assert_eq!(i["token_kind"], json!("client_access_token"));
    for (kind, token_kind, scope) in [
        (
            ClientKind::DataCustodian,
            "datacustodian_access_token",
            "FB=3_19_32_33_34_35_36_37_38_41_44_45",
        ),
        (ClientKind::Upload, "upload_access_token", "FB=45"),
        (
            ClientKind::Registration,
            "registration_access_token",
            "FB=36_40",
        ),
    ] {
        let (id, secret) = register(&s, kind, &[]).await;
        let (st, v, _) =
            token_form(&s, &id, &secret, &[("grant_type", "client_credentials")]).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["scope"], json!(scope));
        assert_eq!(v["token_type"], json!("Bearer"));
        assert_eq!(v["expires_in"], json!(3600));
        let r = http()
            .post(s.url("/oauth/introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", v["access_token"].as_str().expect("token"))])
            .send()
            .await
            .expect("introspect");
        let i: Value = r.json().await.expect("json");
        assert_eq!(i["active"], json!(true));
        assert_eq!(i["token_kind"], json!(token_kind));
        // These clients have no authorization code flow.
        let (st, v, _) = token_form(
            &s,
            &id,
            &secret,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", "http://x"),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], json!("unauthorized_client"));
    }
    // A wider scope than the kind's is refused.
    let (st, v) = demo_token_form(
        &s,
        &[("grant_type", "client_credentials"), ("scope", "FB=4_34")],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], json!("invalid_scope"));
}

#[tokio::test]
async fn client_access_token_lists_the_clients_authorizations() {
    let s = start().await;
    let code = code_without_pkce(&s).await;
    let (_, t) = redeem(&s, &code).await;
    let (_, cc) = demo_token_form(&s, &[("grant_type", "client_credentials")]).await;
    let cat = cc["access_token"].as_str().expect("token");
    let (st, xml, _) = bearer_get(&s, &s.url("/espi/1_1/resource/Authorization"), cat).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(xml.matches("<espi:Authorization>").count(), 1);
    let (st, _, _) = bearer_get(&s, t["authorizationURI"].as_str().expect("uri"), cat).await;
    assert_eq!(st, StatusCode::OK);
    // A client access token is not a subscription token.
    let (st, _, _) = bearer_get(
        &s,
        &format!("{}/UsagePoint", t["resourceURI"].as_str().expect("uri")),
        cat,
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn revocation_and_introspection() {
    let s = start().await;
    let tp = s.third_party();
    let code = code_without_pkce(&s).await;
    let t = tp
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http())
        .await
        .expect("exchange");
    let access = t.access_token().clone();
    let refresh = t.refresh_token().expect("refresh").clone();

    let i = tp
        .introspect(&access)
        .request_async(&http())
        .await
        .expect("introspect");
    assert!(i.active());
    assert_eq!(
        i.client_id().map(|c| c.to_string()),
        Some("demo-third-party".to_string())
    );
    assert!(i.exp().is_some() && i.scopes().is_some());
    let raw = introspect(&s, refresh.secret()).await;
    assert_eq!(raw["active"], json!(true));
    assert_eq!(raw["token_type"], json!("refresh_token"));

    // Unknown tokens: 200 on revoke, inactive on introspection.
    assert_eq!(
        revoke(&s, "nope").await,
        StatusCode::OK,
        "unknown token: 200"
    );
    assert_eq!(introspect(&s, "nope").await, json!({"active": false}));

    // Revoking the refresh token kills its access tokens.
    assert_eq!(revoke(&s, refresh.secret()).await, StatusCode::OK);
    assert_eq!(
        introspect(&s, access.secret()).await,
        json!({"active": false})
    );
    assert_eq!(
        introspect(&s, refresh.secret()).await,
        json!({"active": false})
    );
    let (st, _, h) = bearer_get(&s, &t.extra_fields().authorization_uri, access.secret()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(
        h["www-authenticate"]
            .to_str()
            .is_ok_and(|w| w.starts_with("Bearer"))
    );

    // Revoking only an access token leaves the refresh token.
    let code = code_without_pkce(&s).await;
    let t = tp
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http())
        .await
        .expect("exchange");
    assert_eq!(revoke(&s, t.access_token().secret()).await, StatusCode::OK);
    assert_eq!(
        introspect(&s, t.access_token().secret()).await["active"],
        json!(false)
    );
    assert_eq!(
        introspect(&s, t.refresh_token().expect("rt").secret()).await["active"],
        json!(true)
    );
}

#[tokio::test]
async fn introspection_and_revocation_need_client_auth() {
    let s = start().await;
    for path in ["/oauth/introspect", "/oauth/revoke"] {
        let r = http()
            .post(s.url(path))
            .form(&[("token", "x")])
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.headers().contains_key("www-authenticate"));
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["error"], json!("invalid_client"));
    }
    // Another client cannot see the demo client's tokens.
    let code = code_without_pkce(&s).await;
    let (_, t) = redeem(&s, &code).await;
    let other = create_client(
        &s.state,
        NewClient::third_party("Other", vec!["http://127.0.0.1:1/cb".into()]),
    )
    .await
    .expect("client");
    let r = http()
        .post(s.url("/oauth/introspect"))
        .basic_auth(&other.client_id, Some(&other.client_secret))
        .form(&[("token", t["access_token"].as_str().expect("at"))])
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"active": false})
    );
}

#[tokio::test]
async fn customer_lists_and_revokes_authorizations() {
    let s = start().await;
    let b = s.browser();
    let q = consent(&b, &authorize_url(&s, DEMO_SCOPE, None, None), json!({})).await;
    let (_, t) = redeem(&s, &q["code"]).await;
    let access = t["access_token"].as_str().expect("at").to_string();
    let refresh = t["refresh_token"].as_str().expect("rt").to_string();

    let (st, list) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let auths = list["authorizations"].as_array().expect("list");
    assert_eq!(auths.len(), 1);
    assert_eq!(auths[0]["status"], json!("active"));
    assert_eq!(auths[0]["meters"].as_array().map(Vec::len), Some(3));
    let id = auths[0]["authorization_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert!(
        t["authorizationURI"]
            .as_str()
            .is_some_and(|u| u.ends_with(&id))
    );
    let csrf = list["csrf_token"].as_str().expect("csrf").to_string();
    let usage = format!("{}/UsagePoint", t["resourceURI"].as_str().expect("uri"));
    assert_eq!(bearer_get(&s, &usage, &access).await.0, StatusCode::OK);

    // Without CSRF: refused.
    let (st, v) = b
        .post(
            &format!("/api/customer/authorizations/{id}/revoke"),
            None,
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["error"], json!("csrf_invalid"));
    // Another (anonymous) browser: not signed in.
    let (st, _) = s.browser().get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    let r = b
        .http
        .post(s.url(&format!("/api/customer/authorizations/{id}/revoke")))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // The third party's next resource call is refused.
    assert_eq!(
        bearer_get(&s, &usage, &access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(introspect(&s, &access).await["active"], json!(false));
    assert_eq!(introspect(&s, &refresh).await["active"], json!(false));
    let (st, _) = demo_token_form(
        &s,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (_, list) = b.get("/api/customer/authorizations").await;
    assert_eq!(list["authorizations"][0]["status"], json!("revoked"));
    // Unknown id.
    let r = b
        .http
        .post(s.url("/api/customer/authorizations/nope/revoke"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn decline_redirects_with_access_denied() {
    let s = start().await;
    let b = s.browser();
    let rid = b
        .start(&authorize_url(&s, DEMO_SCOPE, Some("xyz"), None))
        .await;
    let csrf = b.csrf(&rid).await;
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "decline"}))
        .await;
    assert_eq!(st, StatusCode::OK, "declining needs no sign-in: {v}");
    assert_eq!(v["outcome"], json!("declined"));
    assert_eq!(v["receipt"], Value::Null);
    let q = query_of(v["redirect_to"].as_str().expect("redirect"));
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "xyz");
    assert_eq!(q["iss"], s.base);
}

#[tokio::test]
async fn otp_sign_in_by_account_and_zip_over_sms() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, ch) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            json!({"identify": {"account_number": "5550001111", "zip": "94110"}, "channel": "sms"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    assert_eq!(ch["channel"], json!("sms"));
    // The caller typed no phone number: none is shown (not even masked).
    assert_eq!(ch["sent_to"], json!(""));
    assert_eq!(ch["expires_in"], json!(600));
    assert_eq!(ch["resend_after"], json!(30));
    assert_eq!(ch["proves_mailbox_only"], json!(false));
    let msg = s.sender.messages().last().cloned().expect("sent");
    assert_eq!(msg.to, "+15555550123");
    let host = s.base.trim_start_matches("http://");
    assert!(
        msg.message.ends_with(&format!("\n@{host} #{}", msg.code)),
        "{}",
        msg.message
    );
    assert_eq!(msg.code.len(), 6);
    let cid = ch["challenge_id"].as_str().expect("cid");
    // Spaces and dashes are tolerated.
    let spaced = format!("{}-{} ", &msg.code[..3], &msg.code[3..]);
    let (st, cust) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp/{cid}/verify"),
            Some(&csrf),
            json!({"code": spaced}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{cust}");
    assert_eq!(cust["display_name"], json!("Sam Chen"));
    let (st, v) = b
        .decide(&rid, Some(&csrf), json!({"decision": "authorize"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, t) = redeem(&s, &query_of(v["redirect_to"].as_str().expect("r"))["code"]).await;
    assert_eq!(st, StatusCode::OK);
    let (_, xml, _) = bearer_get(
        &s,
        &format!("{}/UsagePoint", t["resourceURI"].as_str().expect("uri")),
        t["access_token"].as_str().expect("at"),
    )
    .await;
    assert_eq!(xml.matches("<entry>").count(), 1);
    assert!(xml.contains("SA-3001"));
}

#[tokio::test]
async fn otp_by_email_says_it_proves_the_mailbox_only() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, ch) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            json!({"identify": {"email": "ALEX@example.com"}, "channel": "email"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    assert_eq!(ch["proves_mailbox_only"], json!(true));
    // The address the caller typed, masked.
    assert_eq!(ch["sent_to"], json!("A•••@example.com"));
    assert!(s.sender.messages().last().is_some_and(|m| {
        m.message
            .contains("only proves that you can read this mailbox")
    }));
    // A customer without email, or nobody at all: the same 201, nothing
    // sent (no identity oracle; see rules.rs `otp_start_is_no_identity_oracle`).
    let sent = s.sender.messages().len();
    for (identify, channel) in [
        (json!({"phone": "+1 555 555 0123"}), "email"),
        (json!({"phone": "+15550000000"}), "sms"),
    ] {
        let (st, v) = b
            .post(
                &format!("/api/consent/requests/{rid}/sign-in/otp"),
                Some(&csrf),
                json!({"identify": identify, "channel": channel}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    assert_eq!(s.sender.messages().len(), sent, "nothing sent");
}

#[tokio::test]
async fn auth_hint_from_the_scope() {
    let s = start().await;
    let b = s.browser();
    let rid = b
        .start(&authorize_url(
            &s,
            "FB=1_4_51;AdditionalScope=meters-all_auth-phone-5555550123",
            None,
            None,
        ))
        .await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(
        ctx["sign_in"]["hint"],
        json!({"method": "phone_otp", "value": "5555550123"})
    );
    let rid = b
        .start(&authorize_url(
            &s,
            "FB=1_4_51;AdditionalScope=noedit",
            None,
            None,
        ))
        .await;
    let (_, ctx) = b.context(&rid).await;
    assert_eq!(ctx["sign_in"]["hint"], Value::Null);
    assert_eq!(ctx["editable"], json!(false));
}

#[tokio::test]
async fn password_grant_only_for_opted_in_clients() {
    let s = start().await;
    // The demo client is not registered for it.
    let (st, v) = demo_token_form(
        &s,
        &[
            ("grant_type", "password"),
            ("username", ALEX.0),
            ("password", ALEX.1),
            ("scope", "FB=1_4_51"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], json!("unauthorized_client"));
    // A client registered with --grant-type password.
    let (id, secret) = register(&s, ClientKind::ThirdParty, &["password", "refresh_token"]).await;
    let (st, v, _) = token_form(
        &s,
        &id,
        &secret,
        &[
            ("grant_type", "password"),
            ("username", ALEX.0),
            ("password", ALEX.1),
            ("scope", "FB=1_4_51"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v["scope"]
            .as_str()
            .is_some_and(|sc| sc.contains("AccountCollection=3"))
    );
    // Limited to that customer's own data.
    let (_, xml, _) = bearer_get(
        &s,
        &format!("{}/UsagePoint", v["resourceURI"].as_str().expect("uri")),
        v["access_token"].as_str().expect("at"),
    )
    .await;
    assert_eq!(xml.matches("<entry>").count(), 3);
    let (st, v, _) = token_form(
        &s,
        &id,
        &secret,
        &[
            ("grant_type", "password"),
            ("username", ALEX.0),
            ("password", "wrong-password"),
            ("scope", "FB=1_4_51"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], json!("invalid_grant"));
}

#[tokio::test]
async fn sign_out_forgets_the_customer() {
    let s = start().await;
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await;
    let r = b
        .http
        .delete(s.url("/api/consent/session"))
        .send()
        .await
        .expect("delete");
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "sign-out needs the CSRF token"
    );
    let r = b
        .http
        .delete(s.url("/api/consent/session"))
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, _) = b.get("/api/customer/authorizations").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn metadata_document() {
    let s = start().await;
    let r = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let m: Value = r.json().await.expect("json");
    assert_eq!(m["issuer"], json!(s.base));
    assert_eq!(
        m["authorization_endpoint"],
        json!(s.url("/oauth/authorize"))
    );
    assert_eq!(m["token_endpoint"], json!(s.url("/oauth/token")));
    assert_eq!(m["revocation_endpoint"], json!(s.url("/oauth/revoke")));
    assert_eq!(
        m["introspection_endpoint"],
        json!(s.url("/oauth/introspect"))
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        m["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    assert_eq!(m["response_types_supported"], json!(["code"]));
    let grants = m["grant_types_supported"].as_array().expect("grants");
    for g in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(grants.contains(&json!(g)));
    }
    assert!(
        m["scopes_supported"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(
        m["token_endpoint_auth_methods_supported"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("client_secret_basic")))
    );
}

#[tokio::test]
async fn healthz_and_readyz() {
    let s = start().await;
    let r = http().get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    let r = http().get(s.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["status"], "ready");
    // The database gone: not ready, and no reason given.
    s.state.store().close().await;
    let r = http().get(s.url("/readyz")).send().await.expect("readyz");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v, serde_json::json!({"status": "unavailable"}));
    let r = http().get(s.url("/healthz")).send().await.expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_tokens_by_grant() {
    let s = start().await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let metrics_base = format!("http://{}", l.local_addr().expect("addr"));
    let metrics = datacustodian::metrics::metrics_app(s.state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(l, metrics).await;
    });
    let (st, _) = demo_token_form(&s, &[("grant_type", "client_credentials")]).await;
    assert_eq!(st, StatusCode::OK);
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    b.csrf(&rid).await;
    // Not on the public listener.
    let r = http().get(s.url("/metrics")).send().await.expect("get");
    assert_ne!(r.status(), StatusCode::OK);
    let text = http()
        .get(format!("{metrics_base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for want in [
        "datacustodian_http_requests_total{route=\"/oauth/token\",status=\"200\"} 1",
        "datacustodian_http_requests_total{route=\"/api/consent/requests/{request_id}\",status=\"200\"} 1",
        "datacustodian_http_request_duration_seconds_count{route=\"/oauth/token\"} 1",
        "datacustodian_tokens_issued_total{grant_type=\"client_credentials\"} 1",
        "datacustodian_shed_requests_total 0",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    // No request id, no secret: only route templates.
    assert!(!text.contains(&rid));
}

#[tokio::test]
async fn metrics_count_sign_ins_by_method_and_outcome_and_codes_by_channel() {
    let s = start().await;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let metrics_base = format!("http://{}", l.local_addr().expect("addr"));
    let metrics = datacustodian::metrics::metrics_app(s.state.clone());
    tokio::spawn(async move {
        let _ = axum::serve(l, metrics).await;
    });
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, "wrong").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.sign_in(&rid, &csrf, ALEX.0, ALEX.1).await.0,
        StatusCode::OK
    );
    let b = s.browser();
    let rid = b.start(&authorize_url(&s, DEMO_SCOPE, None, None)).await;
    let csrf = b.csrf(&rid).await;
    let (st, ch) = b
        .post(
            &format!("/api/consent/requests/{rid}/sign-in/otp"),
            Some(&csrf),
            serde_json::json!({"identify": {"email": "alex@example.com"}, "channel": "email"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{ch}");
    let verify = format!(
        "/api/consent/requests/{rid}/sign-in/otp/{}/verify",
        ch["challenge_id"].as_str().expect("id")
    );
    let code = s.last_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (st, _) = b
        .post(&verify, Some(&csrf), serde_json::json!({"code": wrong}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = b
        .post(&verify, Some(&csrf), serde_json::json!({"code": code}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let text = http()
        .get(format!("{metrics_base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for want in [
        "datacustodian_sign_ins_total{method=\"password\",outcome=\"failure\"} 1",
        "datacustodian_sign_ins_total{method=\"password\",outcome=\"success\"} 1",
        "datacustodian_sign_ins_total{method=\"code\",outcome=\"failure\"} 1",
        "datacustodian_sign_ins_total{method=\"code\",outcome=\"success\"} 1",
        "datacustodian_codes_sent_total{channel=\"email\"} 1",
        "# TYPE datacustodian_codes_failed_total counter",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
}
