-- Sign-in on "Your data sharing" (/consent/sharing), where there is no
-- authorization request: its one-time code challenges name a key of the
-- consent session (`sharing:{session_id}`) instead of a request, so
-- otp_challenges.request_key no longer references auth_requests. A
-- challenge still goes with its expiry (the purge); nothing else changes.

CREATE TABLE otp_challenges_v3 (
    challenge_id     TEXT PRIMARY KEY,
    request_key      TEXT NOT NULL,
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
INSERT INTO otp_challenges_v3 SELECT challenge_id, request_key, session_id, customer_id, channel,
    contact_hash, code_hash, sent_to, created_at, expires_at, last_sent_at, used_at, failures,
    throttled_until
FROM otp_challenges;
DROP TABLE otp_challenges;
ALTER TABLE otp_challenges_v3 RENAME TO otp_challenges;
CREATE INDEX IF NOT EXISTS otp_challenges_expiry ON otp_challenges(expires_at);
CREATE INDEX IF NOT EXISTS otp_challenges_request ON otp_challenges(request_key);
