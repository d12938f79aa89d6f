-- PostgreSQL twin of ../0001_initial.sql: the same tables and columns,
-- BYTEA for BLOB and BIGINT for INTEGER (Unix seconds and counts are i64).

-- The reference DataCustodian's schema. Every bearer secret is stored only as
-- an HMAC-SHA256 keyed hash (BYTEA, 32 bytes); the key is not in the database.

CREATE TABLE IF NOT EXISTS clients (
    client_id        TEXT PRIMARY KEY,
    secret_hash      BYTEA NOT NULL,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    redirect_uris    TEXT NOT NULL,  -- JSON array of exact strings
    scopes           TEXT NOT NULL,  -- JSON array of canonical ESPI scopes
    scopes_of_use    TEXT NOT NULL,  -- JSON array of {name, text, url}
    frame_ancestors  TEXT NOT NULL,  -- JSON array of origins
    grant_types      TEXT NOT NULL,  -- JSON array
    logo_uri         TEXT,
    client_uri       TEXT,
    policy_uri       TEXT,
    tos_uri          TEXT,
    created_at       BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS customers (
    customer_id      TEXT PRIMARY KEY,
    username         TEXT UNIQUE,
    password_hash    TEXT,
    display_name     TEXT NOT NULL,
    phone            TEXT,
    email            TEXT,
    account_number   TEXT,
    zip              TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS customers_account ON customers(account_number);

CREATE TABLE IF NOT EXISTS meters (
    said             TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
    label            TEXT NOT NULL,
    address          TEXT,
    service_kind     TEXT,
    position         BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS meters_customer ON meters(customer_id);

CREATE TABLE IF NOT EXISTS consent_sessions (
    session_id       TEXT PRIMARY KEY,           -- internal row id, never sent
    token_hash       BYTEA NOT NULL UNIQUE,       -- HMAC of the cookie value
    customer_id      TEXT REFERENCES customers(customer_id) ON DELETE CASCADE,
    signed_in_at     BIGINT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS auth_requests (
    request_key      TEXT PRIMARY KEY,           -- internal row id
    id_hash          BYTEA NOT NULL UNIQUE,       -- HMAC of the public request id
    client_id        TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    redirect_uri     TEXT NOT NULL,
    state            TEXT,
    scope            TEXT NOT NULL,              -- requested, canonical
    code_challenge   TEXT,
    session_id       TEXT REFERENCES consent_sessions(session_id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    decided_at       BIGINT,
    outcome          TEXT
);

CREATE TABLE IF NOT EXISTS authorizations (
    authorization_id TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    customer_id      TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,              -- granted, canonical
    meters           TEXT NOT NULL,              -- JSON array of SAIDs
    grant_type       TEXT NOT NULL,
    granted_at       BIGINT NOT NULL,
    end_date         BIGINT NOT NULL,           -- 0 = until revoked
    history_length   BIGINT,
    revoked_at       BIGINT
);
CREATE INDEX IF NOT EXISTS authorizations_customer ON authorizations(customer_id);
CREATE INDEX IF NOT EXISTS authorizations_client ON authorizations(client_id);

CREATE TABLE IF NOT EXISTS auth_codes (
    code_hash        BYTEA PRIMARY KEY,
    client_id        TEXT NOT NULL,
    authorization_id TEXT NOT NULL REFERENCES authorizations(authorization_id) ON DELETE CASCADE,
    redirect_uri     TEXT NOT NULL,
    code_challenge   TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);

-- A token family: every token issued from one code (or one password grant),
-- through every refresh rotation.
CREATE TABLE IF NOT EXISTS token_families (
    family_id        TEXT PRIMARY KEY,
    authorization_id TEXT NOT NULL REFERENCES authorizations(authorization_id) ON DELETE CASCADE,
    code_hash        BYTEA,
    created_at       BIGINT NOT NULL,
    revoked_at       BIGINT
);
CREATE INDEX IF NOT EXISTS families_code ON token_families(code_hash);

CREATE TABLE IF NOT EXISTS tokens (
    token_hash       BYTEA PRIMARY KEY,
    kind             TEXT NOT NULL,   -- access_token, refresh_token, client_access_token, ...
    client_id        TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    authorization_id TEXT REFERENCES authorizations(authorization_id) ON DELETE CASCADE,
    family_id        TEXT REFERENCES token_families(family_id) ON DELETE CASCADE,
    scope            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT,         -- NULL = no expiry of its own
    used_at          BIGINT,         -- refresh tokens: when rotated
    revoked_at       BIGINT
);
CREATE INDEX IF NOT EXISTS tokens_family ON tokens(family_id);
CREATE INDEX IF NOT EXISTS tokens_authorization ON tokens(authorization_id);

CREATE TABLE IF NOT EXISTS otp_challenges (
    challenge_id     TEXT PRIMARY KEY,
    request_key      TEXT NOT NULL REFERENCES auth_requests(request_key) ON DELETE CASCADE,
    session_id       TEXT NOT NULL,
    customer_id      TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
    channel          TEXT NOT NULL,
    contact_hash     BYTEA NOT NULL,
    code_hash        BYTEA NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    last_sent_at     BIGINT NOT NULL,
    used_at          BIGINT,
    failures         BIGINT NOT NULL DEFAULT 0,
    throttled_until  BIGINT NOT NULL DEFAULT 0
);

-- One row per code sent, for the per-contact hourly limit.
CREATE TABLE IF NOT EXISTS otp_sends (
    contact_hash     BYTEA NOT NULL,
    sent_at          BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_sends_contact ON otp_sends(contact_hash, sent_at);

-- Failed sign-in attempts per keyed-hashed subject (username, account).
CREATE TABLE IF NOT EXISTS throttles (
    key_hash         BYTEA PRIMARY KEY,
    failures         BIGINT NOT NULL,
    first_failure_at BIGINT NOT NULL,
    blocked_until    BIGINT NOT NULL
);
