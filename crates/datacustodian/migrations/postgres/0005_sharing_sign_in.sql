-- Sign-in on "Your data sharing" (/consent/sharing), where there is no
-- authorization request: its one-time code challenges name a key of the
-- consent session (`sharing:{session_id}`), so otp_challenges.request_key
-- no longer references auth_requests (see the SQLite twin).
ALTER TABLE otp_challenges DROP CONSTRAINT IF EXISTS otp_challenges_request_key_fkey;
