-- PostgreSQL twin of ../0002_abuse_limits.sql (issue 10). The same end
-- state; PostgreSQL alters columns in place where SQLite rebuilds a table.

ALTER TABLE clients ADD COLUMN require_pkce BIGINT NOT NULL DEFAULT 0;

ALTER TABLE auth_requests ADD COLUMN sign_in_attempts BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS auth_requests_expiry ON auth_requests(expires_at);

-- customer_id NULL: a challenge for an identity that matched nobody.
ALTER TABLE otp_challenges ALTER COLUMN customer_id DROP NOT NULL;
ALTER TABLE otp_challenges ADD COLUMN sent_to TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS otp_challenges_expiry ON otp_challenges(expires_at);
CREATE INDEX IF NOT EXISTS otp_challenges_request ON otp_challenges(request_key);

DROP TABLE IF EXISTS otp_sends;

ALTER TABLE throttles ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS throttles_expiry ON throttles(expires_at);

CREATE INDEX IF NOT EXISTS consent_sessions_expiry ON consent_sessions(expires_at);
CREATE INDEX IF NOT EXISTS auth_codes_expiry ON auth_codes(expires_at);

-- The case-insensitive look-ups (`lower(col) = lower($1)`; SQLite's
-- tables are small enough to scan).
CREATE INDEX IF NOT EXISTS customers_username_lower ON customers(lower(username));
CREATE INDEX IF NOT EXISTS customers_email_lower ON customers(lower(email));
-- SQLite's foreign keys need no index on the child column; PostgreSQL's
-- ON DELETE CASCADE scans without one.
CREATE INDEX IF NOT EXISTS auth_requests_session ON auth_requests(session_id);
CREATE INDEX IF NOT EXISTS consent_sessions_customer ON consent_sessions(customer_id);
