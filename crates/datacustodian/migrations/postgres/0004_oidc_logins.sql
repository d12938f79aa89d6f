-- 0004: the utility's own sign-in through an OpenID Connect provider.
--
-- One row per sign-in sent to a provider: the keyed hash of its `state`
-- (the row is taken, deleted, by the callback: single use), the request and
-- consent session it was started for, the `nonce` and the PKCE verifier
-- (needed in clear at the callback; they live 10 minutes and die with the
-- request).

CREATE TABLE IF NOT EXISTS oidc_logins (
    state_hash       BYTEA PRIMARY KEY,
    provider_id      TEXT NOT NULL,
    request_key      TEXT NOT NULL REFERENCES auth_requests(request_key) ON DELETE CASCADE,
    request_id       TEXT NOT NULL,
    session_id       TEXT NOT NULL,
    nonce            TEXT NOT NULL,
    pkce_verifier    TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_logins_expiry ON oidc_logins(expires_at);
