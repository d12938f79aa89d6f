//! The third party's side, with a real OAuth 2.0 client library (the
//! `oauth2` crate): the authorization URL with PKCE (S256) and a state, the
//! code exchange, and a Bearer call to the ESPI resources.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::server::{TestServer, ThirdParty};

/// The ESPI fields of the token response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EspiFields {
    /// `.../Batch/Subscription/{id}`.
    #[serde(rename = "resourceURI")]
    pub resource_uri: String,
    /// `.../Authorization/{id}`.
    #[serde(rename = "authorizationURI")]
    pub authorization_uri: String,
}
impl ExtraTokenFields for EspiFields {}

/// The token response with the ESPI fields.
pub type EspiTokenResponse = StandardTokenResponse<EspiFields, BasicTokenType>;

/// An `oauth2` client with the authorization and token endpoints set.
pub type EspiClient = oauth2::Client<
    BasicErrorResponse,
    EspiTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// One authorization attempt: the URL to open and what the third party
/// keeps (state, PKCE verifier).
pub struct Attempt {
    /// The authorization URL (open it in the browser).
    pub url: String,
    /// The `state` sent.
    pub state: String,
    /// The PKCE verifier matching the challenge sent.
    pub verifier: String,
}

/// What the third party got for a code.
#[derive(Debug)]
pub struct Grant {
    /// The access token.
    pub access_token: String,
    /// The `scope` of the token response (the server's final scope).
    pub scope: String,
    /// The `resourceURI` (the subscription).
    pub resource_uri: String,
    /// The `authorizationURI`.
    pub authorization_uri: String,
}

impl ThirdParty {
    /// This third party as an `oauth2` client of `server`.
    pub fn client(&self, server: &TestServer) -> EspiClient {
        oauth2::Client::new(ClientId::new(self.secret.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.secret.client_secret.clone()))
            .set_auth_uri(AuthUrl::new(server.url("/oauth/authorize")).expect("auth url"))
            .set_token_uri(TokenUrl::new(server.url("/oauth/token")).expect("token url"))
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).expect("redirect url"))
    }

    /// Builds an authorization URL for `scope` with PKCE S256 and a random
    /// state.
    pub fn authorize(&self, server: &TestServer, scope: &str) -> Attempt {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client(server)
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new(scope.to_string()))
            .set_pkce_challenge(challenge)
            .url();
        Attempt {
            url: url.to_string(),
            state: state.secret().clone(),
            verifier: verifier.secret().clone(),
        }
    }

    /// Exchanges `code` (with the attempt's PKCE verifier) for tokens.
    pub async fn exchange(&self, server: &TestServer, attempt: &Attempt, code: &str) -> Grant {
        let http = oauth2::reqwest::ClientBuilder::new()
            .redirect(oauth2::reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        self.exchange_with(&http, server, attempt, code).await
    }

    /// [`ThirdParty::exchange`] through `http` (e.g. one that trusts the
    /// test certificate of an https server, [`crate::tls::TestTls::http_client`]).
    pub async fn exchange_with(
        &self,
        http: &reqwest::Client,
        server: &TestServer,
        attempt: &Attempt,
        code: &str,
    ) -> Grant {
        let resp = self
            .client(server)
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(PkceCodeVerifier::new(attempt.verifier.clone()))
            .request_async(http)
            .await
            .unwrap_or_else(|e| panic!("the code exchange failed: {e:?}"));
        let scope = resp
            .scopes()
            .map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
            .expect("the token response has a scope");
        Grant {
            access_token: resp.access_token().secret().clone(),
            scope,
            resource_uri: resp.extra_fields().resource_uri.clone(),
            authorization_uri: resp.extra_fields().authorization_uri.clone(),
        }
    }
}

impl Grant {
    /// `GET {resourceURI}/UsagePoint` with the access token: the Atom feed.
    pub async fn usage_points(&self) -> String {
        let resp = reqwest::Client::new()
            .get(format!("{}/UsagePoint", self.resource_uri))
            .bearer_auth(&self.access_token)
            .send()
            .await
            .expect("GET UsagePoint");
        assert_eq!(
            resp.status().as_u16(),
            200,
            "UsagePoint with the access token"
        );
        resp.text().await.expect("the UsagePoint feed")
    }

    /// The SAIDs in the UsagePoint feed (`urn:uuid:usagepoint-{SAID}` ids).
    pub async fn usage_point_saids(&self) -> Vec<String> {
        let feed = self.usage_points().await;
        let mut saids: Vec<String> = feed
            .split("<id>urn:uuid:usagepoint-")
            .skip(1)
            .filter_map(|rest| rest.split('<').next())
            .map(str::to_string)
            .collect();
        saids.sort();
        saids
    }

    /// The granted scope, decoded with `espi_scope::parse`.
    pub fn espi_scope(&self) -> espi_scope::EspiScope {
        let parsed = espi_scope::parse(&self.scope);
        assert!(
            !parsed.has_errors(),
            "the granted scope {:?} parses",
            self.scope
        );
        parsed
            .value
            .scopes
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("the granted scope {:?} holds an ESPI scope", self.scope))
    }
}
