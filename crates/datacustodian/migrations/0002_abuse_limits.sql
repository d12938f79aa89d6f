-- 0002: abuse resistance (issue 10).
--
-- * clients.require_pkce: new clients require PKCE (the admin layer sets 1);
--   clients registered before this migration keep their behaviour (0).
-- * auth_requests.sign_in_attempts: sign-in attempts (passwords, code starts,
--   code checks) counted per authorization request, capped.
-- * otp_challenges is rebuilt: customer_id may be NULL (a challenge for an
--   identity that matched nobody: it answers like a real one and sends
--   nothing) and sent_to keeps the masked contact shown to the caller.
-- * otp_sends goes: codes sent per contact are counted in throttles, one row
--   per contact, checked and incremented in one statement.
-- * throttles.expires_at: when a counter may be purged.
-- * indexes on every expiry column the purge scans.

ALTER TABLE clients ADD COLUMN require_pkce INTEGER NOT NULL DEFAULT 0;

ALTER TABLE auth_requests ADD COLUMN sign_in_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS auth_requests_expiry ON auth_requests(expires_at);

CREATE TABLE otp_challenges_v2 (
    challenge_id     TEXT PRIMARY KEY,
    request_key      TEXT NOT NULL REFERENCES auth_requests(request_key) ON DELETE CASCADE,
    session_id       TEXT NOT NULL,
    customer_id      TEXT REFERENCES customers(customer_id) ON DELETE CASCADE, -- NULL: matched nobody
    channel          TEXT NOT NULL,
    contact_hash     BLOB NOT NULL,
    code_hash        BLOB NOT NULL,
    sent_to          TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    last_sent_at     INTEGER NOT NULL,
    used_at          INTEGER,
    failures         INTEGER NOT NULL DEFAULT 0,
    throttled_until  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO otp_challenges_v2 (challenge_id, request_key, session_id, customer_id, channel,
    contact_hash, code_hash, created_at, expires_at, last_sent_at, used_at, failures,
    throttled_until)
SELECT challenge_id, request_key, session_id, customer_id, channel, contact_hash, code_hash,
    created_at, expires_at, last_sent_at, used_at, failures, throttled_until
FROM otp_challenges;
DROP TABLE otp_challenges;
ALTER TABLE otp_challenges_v2 RENAME TO otp_challenges;
CREATE INDEX IF NOT EXISTS otp_challenges_expiry ON otp_challenges(expires_at);
CREATE INDEX IF NOT EXISTS otp_challenges_request ON otp_challenges(request_key);

DROP TABLE IF EXISTS otp_sends;

ALTER TABLE throttles ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS throttles_expiry ON throttles(expires_at);

CREATE INDEX IF NOT EXISTS consent_sessions_expiry ON consent_sessions(expires_at);
CREATE INDEX IF NOT EXISTS auth_codes_expiry ON auth_codes(expires_at);
