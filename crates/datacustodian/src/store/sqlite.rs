//! The SQLite implementation of [`Store`]: WAL, foreign keys, `synchronous =
//! FULL` (a commit survives a crash), a busy timeout so concurrent writers
//! wait instead of failing. Transactions that must be atomic start with their
//! `UPDATE`, so the write lock is taken before anything is read.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::{
    AuthRequest, Authorization, Client, ClientKind, CodeRow, Customer, Meter, NewToken,
    OtpChallenge, RedeemOutcome, RotateOutcome, ScopeOfUse, Session, StoreError, Throttle,
    TokenKind, TokenRow,
};

const SCHEMA: &str = include_str!("../../migrations/0001_initial.sql");
/// Migrations after the first, in order: version `n + 2` is `MIGRATIONS[n]`.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0002_espi_data.sql")];
const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;

type Result<T> = std::result::Result<T, StoreError>;

pub mod espi_data;

/// The storage boundary (see the [module docs](super)).
///
/// Two pools on one file: readers (several connections, WAL lets them run
/// beside the writer) and a single writer connection, so writes queue in
/// the pool instead of spinning on SQLite's busy handler.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    writer: SqlitePool,
}

fn json_vec<T: serde::de::DeserializeOwned>(s: &str) -> Result<Vec<T>> {
    Ok(serde_json::from_str(s)?)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

fn client_from_row(r: &SqliteRow) -> Result<Client> {
    let kind: String = r.try_get("kind")?;
    Ok(Client {
        client_id: r.try_get("client_id")?,
        secret_hash: r.try_get("secret_hash")?,
        name: r.try_get("name")?,
        kind: ClientKind::parse(&kind)
            .ok_or_else(|| StoreError(format!("unknown client kind {kind:?}")))?,
        redirect_uris: json_vec(&r.try_get::<String, _>("redirect_uris")?)?,
        scopes: json_vec(&r.try_get::<String, _>("scopes")?)?,
        scopes_of_use: json_vec::<ScopeOfUse>(&r.try_get::<String, _>("scopes_of_use")?)?,
        frame_ancestors: json_vec(&r.try_get::<String, _>("frame_ancestors")?)?,
        grant_types: json_vec(&r.try_get::<String, _>("grant_types")?)?,
        logo_uri: r.try_get("logo_uri")?,
        client_uri: r.try_get("client_uri")?,
        policy_uri: r.try_get("policy_uri")?,
        tos_uri: r.try_get("tos_uri")?,
        created_at: r.try_get("created_at")?,
    })
}

fn customer_from_row(r: &SqliteRow) -> Result<Customer> {
    Ok(Customer {
        customer_id: r.try_get("customer_id")?,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        display_name: r.try_get("display_name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        account_number: r.try_get("account_number")?,
        zip: r.try_get("zip")?,
        created_at: r.try_get("created_at")?,
    })
}

fn meter_from_row(r: &SqliteRow) -> Result<Meter> {
    Ok(Meter {
        said: r.try_get("said")?,
        label: r.try_get("label")?,
        address: r.try_get("address")?,
        service_kind: r.try_get("service_kind")?,
    })
}

fn request_from_row(r: &SqliteRow) -> Result<AuthRequest> {
    Ok(AuthRequest {
        request_key: r.try_get("request_key")?,
        client_id: r.try_get("client_id")?,
        redirect_uri: r.try_get("redirect_uri")?,
        state: r.try_get("state")?,
        scope: r.try_get("scope")?,
        code_challenge: r.try_get("code_challenge")?,
        session_id: r.try_get("session_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        decided_at: r.try_get("decided_at")?,
        outcome: r.try_get("outcome")?,
    })
}

fn authorization_from_row(r: &SqliteRow) -> Result<Authorization> {
    Ok(Authorization {
        authorization_id: r.try_get("authorization_id")?,
        client_id: r.try_get("client_id")?,
        customer_id: r.try_get("customer_id")?,
        scope: r.try_get("scope")?,
        meters: json_vec(&r.try_get::<String, _>("meters")?)?,
        grant_type: r.try_get("grant_type")?,
        granted_at: r.try_get("granted_at")?,
        end_date: r.try_get("end_date")?,
        history_length: r.try_get("history_length")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

fn code_from_row(r: &SqliteRow) -> Result<CodeRow> {
    Ok(CodeRow {
        client_id: r.try_get("client_id")?,
        authorization_id: r.try_get("authorization_id")?,
        redirect_uri: r.try_get("redirect_uri")?,
        code_challenge: r.try_get("code_challenge")?,
        expires_at: r.try_get("expires_at")?,
        authorization_end: r.try_get("end_date")?,
        authorization_revoked: r.try_get::<Option<i64>, _>("auth_revoked_at")?.is_some(),
    })
}

fn token_from_row(r: &SqliteRow) -> Result<TokenRow> {
    let kind: String = r.try_get("kind")?;
    Ok(TokenRow {
        kind: TokenKind::parse(&kind)
            .ok_or_else(|| StoreError(format!("unknown token kind {kind:?}")))?,
        client_id: r.try_get("client_id")?,
        authorization_id: r.try_get("authorization_id")?,
        family_id: r.try_get("family_id")?,
        scope: r.try_get("scope")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
        revoked_at: r.try_get("revoked_at")?,
        customer_id: r.try_get("customer_id")?,
        authorization_end: r.try_get("end_date")?,
        authorization_revoked: r.try_get::<Option<i64>, _>("auth_revoked_at")?.is_some(),
    })
}

fn otp_from_row(r: &SqliteRow) -> Result<OtpChallenge> {
    Ok(OtpChallenge {
        challenge_id: r.try_get("challenge_id")?,
        request_key: r.try_get("request_key")?,
        session_id: r.try_get("session_id")?,
        customer_id: r.try_get("customer_id")?,
        channel: r.try_get("channel")?,
        contact_hash: r.try_get("contact_hash")?,
        code_hash: r.try_get("code_hash")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_sent_at: r.try_get("last_sent_at")?,
        used_at: r.try_get("used_at")?,
        failures: r.try_get("failures")?,
        throttled_until: r.try_get("throttled_until")?,
    })
}

const TOKEN_SELECT: &str = "SELECT t.kind, t.client_id, t.authorization_id, t.family_id, t.scope, \
     t.created_at, t.expires_at, t.used_at, t.revoked_at, a.customer_id, a.end_date, \
     a.revoked_at AS auth_revoked_at \
     FROM tokens t LEFT JOIN authorizations a ON a.authorization_id = t.authorization_id \
     WHERE t.token_hash = ?";

async fn insert_token_tx(
    tx: &mut Transaction<'_, Sqlite>,
    t: &NewToken,
    client_id: &str,
    authorization_id: Option<&str>,
    family_id: Option<&str>,
    scope: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, kind, client_id, authorization_id, family_id, scope, \
         created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&t.token_hash)
    .bind(t.kind.as_str())
    .bind(client_id)
    .bind(authorization_id)
    .bind(family_id)
    .bind(scope)
    .bind(now)
    .bind(t.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke_family_tx(
    tx: &mut Transaction<'_, Sqlite>,
    family_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE token_families SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Opens (creating if missing) the database at `url`
    /// (`sqlite://path`, `sqlite:path` or `sqlite::memory:`) and applies the
    /// schema.
    pub async fn open(url: &str) -> Result<Store> {
        let memory = url.contains(":memory:");
        let opts = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError(format!("bad database URL {url:?}: {e}")))?
            .create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(15))
            .synchronous(SqliteSynchronous::Full);
        let opts = if memory {
            opts
        } else {
            opts.journal_mode(SqliteJournalMode::Wal)
        };
        let options = |n: u32| {
            SqlitePoolOptions::new()
                .max_connections(n)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(30))
        };
        let writer = options(1).connect_with(opts.clone()).await?;
        let pool = if memory {
            writer.clone()
        } else {
            options(8).connect_with(opts).await?
        };
        let store = Store { pool, writer };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(&self.writer)
            .await?;
        if version > SCHEMA_VERSION {
            return Err(StoreError(format!(
                "the database schema is version {version}, newer than this server's {SCHEMA_VERSION}"
            )));
        }
        if version < SCHEMA_VERSION {
            let mut tx = self.writer.begin().await?;
            if version < 1 {
                sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
            }
            for (i, sql) in MIGRATIONS.iter().enumerate() {
                if version < i as i64 + 2 {
                    sqlx::raw_sql(sql).execute(&mut *tx).await?;
                }
            }
            sqlx::raw_sql(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Closes the pool (flushes the WAL on the last connection).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    // ---------------------------------------------------------------- clients

    /// Registers a client.
    pub async fn insert_client(&self, c: &Client) -> Result<()> {
        sqlx::query(
            "INSERT INTO clients (client_id, secret_hash, name, kind, redirect_uris, scopes, \
             scopes_of_use, frame_ancestors, grant_types, logo_uri, client_uri, policy_uri, \
             tos_uri, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.client_id)
        .bind(&c.secret_hash)
        .bind(&c.name)
        .bind(c.kind.as_str())
        .bind(to_json(&c.redirect_uris)?)
        .bind(to_json(&c.scopes)?)
        .bind(to_json(&c.scopes_of_use)?)
        .bind(to_json(&c.frame_ancestors)?)
        .bind(to_json(&c.grant_types)?)
        .bind(&c.logo_uri)
        .bind(&c.client_uri)
        .bind(&c.policy_uri)
        .bind(&c.tos_uri)
        .bind(c.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// One client.
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>> {
        let row = sqlx::query("SELECT * FROM clients WHERE client_id = ?")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    /// Every client, oldest first.
    pub async fn clients(&self) -> Result<Vec<Client>> {
        let rows = sqlx::query("SELECT * FROM clients ORDER BY created_at, client_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Replaces a client's secret hash; false when there is no such client.
    pub async fn set_client_secret(&self, client_id: &str, secret_hash: &[u8]) -> Result<bool> {
        let r = sqlx::query("UPDATE clients SET secret_hash = ? WHERE client_id = ?")
            .bind(secret_hash)
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes a client and everything issued to it.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM clients WHERE client_id = ?")
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    // -------------------------------------------------------------- customers

    /// Adds a customer and their meters.
    pub async fn insert_customer(&self, c: &Customer, meters: &[Meter]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO customers (customer_id, username, password_hash, display_name, phone, \
             email, account_number, zip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.customer_id)
        .bind(&c.username)
        .bind(&c.password_hash)
        .bind(&c.display_name)
        .bind(&c.phone)
        .bind(&c.email)
        .bind(&c.account_number)
        .bind(&c.zip)
        .bind(c.created_at)
        .execute(&mut *tx)
        .await?;
        for (i, m) in meters.iter().enumerate() {
            sqlx::query(
                "INSERT INTO meters (said, customer_id, label, address, service_kind, position) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&m.said)
            .bind(&c.customer_id)
            .bind(&m.label)
            .bind(&m.address)
            .bind(&m.service_kind)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One customer by id.
    pub async fn customer(&self, customer_id: &str) -> Result<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM customers WHERE customer_id = ?")
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// One customer by username (exact, case-insensitive).
    pub async fn customer_by_username(&self, username: &str) -> Result<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM customers WHERE username = ? COLLATE NOCASE")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// Every customer, oldest first.
    pub async fn customers(&self) -> Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT * FROM customers ORDER BY created_at, customer_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from_row).collect()
    }

    /// Customers whose account number is this one (the caller compares ZIPs
    /// in constant time).
    pub async fn customers_by_account(&self, account_number: &str) -> Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT * FROM customers WHERE account_number = ?")
            .bind(account_number)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from_row).collect()
    }

    /// Customers with this exact (normalized) phone number.
    pub async fn customers_by_phone(&self, phone: &str) -> Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT * FROM customers WHERE phone = ?")
            .bind(phone)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from_row).collect()
    }

    /// Customers with this email (case-insensitive).
    pub async fn customers_by_email(&self, email: &str) -> Result<Vec<Customer>> {
        let rows = sqlx::query("SELECT * FROM customers WHERE email = ? COLLATE NOCASE")
            .bind(email)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from_row).collect()
    }

    /// Removes a customer (their meters, authorizations and tokens go too).
    pub async fn delete_customer(&self, customer_id_or_username: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM customers WHERE customer_id = ? OR username = ?")
            .bind(customer_id_or_username)
            .bind(customer_id_or_username)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() >= 1)
    }

    /// A customer's meters, in registration order.
    pub async fn meters(&self, customer_id: &str) -> Result<Vec<Meter>> {
        let rows = sqlx::query("SELECT * FROM meters WHERE customer_id = ? ORDER BY position")
            .bind(customer_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(meter_from_row).collect()
    }

    /// True when this SAID is registered (to anyone).
    pub async fn meter_exists(&self, said: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meters WHERE said = ?")
            .bind(said)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    // --------------------------------------------------------------- sessions

    /// Creates a consent session.
    pub async fn create_session(
        &self,
        session_id: &str,
        token_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO consent_sessions (session_id, token_hash, created_at, expires_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(session_id)
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live session whose cookie hashes to `token_hash`.
    pub async fn session_by_token(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT session_id, customer_id, expires_at FROM consent_sessions \
             WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Session {
                session_id: r.try_get("session_id")?,
                customer_id: r.try_get("customer_id")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Signs a session in and rotates its cookie value.
    pub async fn sign_in_session(
        &self,
        session_id: &str,
        customer_id: &str,
        new_token_hash: &[u8],
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE consent_sessions SET customer_id = ?, signed_in_at = ?, token_hash = ? \
             WHERE session_id = ?",
        )
        .bind(customer_id)
        .bind(now)
        .bind(new_token_hash)
        .bind(session_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Ends a session.
    pub async fn delete_session(&self, session_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM consent_sessions WHERE session_id = ?")
            .bind(session_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    // --------------------------------------------------------------- requests

    /// Records an authorization request under the hash of its public id.
    pub async fn insert_request(&self, r: &AuthRequest, id_hash: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_requests (request_key, id_hash, client_id, redirect_uri, state, \
             scope, code_challenge, session_id, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&r.request_key)
        .bind(id_hash)
        .bind(&r.client_id)
        .bind(&r.redirect_uri)
        .bind(&r.state)
        .bind(&r.scope)
        .bind(&r.code_challenge)
        .bind(&r.session_id)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The request whose public id hashes to `id_hash`.
    pub async fn request_by_id(&self, id_hash: &[u8]) -> Result<Option<AuthRequest>> {
        let row = sqlx::query("SELECT * FROM auth_requests WHERE id_hash = ?")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Binds an unbound request to a session; false when it already was
    /// bound (to any session).
    pub async fn bind_request(&self, request_key: &str, session_id: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE auth_requests SET session_id = ? WHERE request_key = ? AND session_id IS NULL",
        )
        .bind(session_id)
        .bind(request_key)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a decline; false when the request was already decided (or is
    /// not this session's, or expired).
    pub async fn decline_request(
        &self,
        request_key: &str,
        session_id: &str,
        now: i64,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE auth_requests SET decided_at = ?, outcome = 'declined' \
             WHERE request_key = ? AND session_id = ? AND decided_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(request_key)
        .bind(session_id)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records an authorization, atomically: marks the request decided (only
    /// if it was pending), stores the authorization and its code. False (and
    /// nothing stored) when another decision won.
    pub async fn authorize_request(
        &self,
        request_key: &str,
        session_id: &str,
        now: i64,
        a: &Authorization,
        code_hash: &[u8],
        code_expires_at: i64,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE auth_requests SET decided_at = ?, outcome = 'authorized' \
             WHERE request_key = ? AND session_id = ? AND decided_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(request_key)
        .bind(session_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_authorization_tx(&mut tx, a).await?;
        let req = sqlx::query(
            "SELECT redirect_uri, code_challenge FROM auth_requests WHERE request_key = ?",
        )
        .bind(request_key)
        .fetch_one(&mut *tx)
        .await?;
        let redirect_uri: String = req.try_get("redirect_uri")?;
        let code_challenge: Option<String> = req.try_get("code_challenge")?;
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, authorization_id, redirect_uri, \
             code_challenge, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code_hash)
        .bind(&a.client_id)
        .bind(&a.authorization_id)
        .bind(redirect_uri)
        .bind(code_challenge)
        .bind(now)
        .bind(code_expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    // ---------------------------------------------------------- authorizations

    /// One authorization.
    pub async fn authorization(&self, authorization_id: &str) -> Result<Option<Authorization>> {
        let row = sqlx::query("SELECT * FROM authorizations WHERE authorization_id = ?")
            .bind(authorization_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(authorization_from_row).transpose()
    }

    /// A customer's authorizations, newest first.
    pub async fn authorizations_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Vec<Authorization>> {
        let rows = sqlx::query(
            "SELECT * FROM authorizations WHERE customer_id = ? ORDER BY granted_at DESC, authorization_id",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(authorization_from_row).collect()
    }

    /// A client's authorizations, newest first.
    pub async fn authorizations_of_client(&self, client_id: &str) -> Result<Vec<Authorization>> {
        let rows = sqlx::query(
            "SELECT * FROM authorizations WHERE client_id = ? ORDER BY granted_at DESC, authorization_id",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(authorization_from_row).collect()
    }

    /// Revokes an authorization of this customer and every token issued
    /// under it. `None` when it is not this customer's; `Some(false)` when it
    /// already was revoked.
    pub async fn revoke_authorization(
        &self,
        authorization_id: &str,
        customer_id: &str,
        now: i64,
    ) -> Result<Option<bool>> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE authorizations SET revoked_at = ? \
             WHERE authorization_id = ? AND customer_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(authorization_id)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        let changed = r.rows_affected() == 1;
        if !changed {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM authorizations WHERE authorization_id = ? AND customer_id = ?",
            )
            .bind(authorization_id)
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(if n == 1 { Some(false) } else { None });
        }
        sqlx::query(
            "UPDATE tokens SET revoked_at = ? WHERE authorization_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(authorization_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE token_families SET revoked_at = ? WHERE authorization_id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(authorization_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(true))
    }

    /// Stores an authorization with a fresh token family and its first
    /// tokens, atomically (resource-owner password grant).
    pub async fn insert_authorization_with_tokens(
        &self,
        a: &Authorization,
        family_id: &str,
        tokens: &[NewToken],
        now: i64,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        insert_authorization_tx(&mut tx, a).await?;
        insert_family_tx(&mut tx, family_id, &a.authorization_id, None, now).await?;
        for t in tokens {
            insert_token_tx(
                &mut tx,
                t,
                &a.client_id,
                Some(&a.authorization_id),
                Some(family_id),
                &a.scope,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------------ codes

    /// Redeems a code in one transaction: consumes it if unused (only for the
    /// client it was issued to), runs `check` on it, and stores the tokens
    /// when `check` passes. A code presented again revokes every token issued
    /// from it.
    pub async fn redeem_code<E>(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: i64,
        family_id: &str,
        tokens: &[NewToken],
        check: impl FnOnce(&CodeRow) -> std::result::Result<(), E>,
    ) -> Result<RedeemOutcome<E>> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE auth_codes SET used_at = ? WHERE code_hash = ? AND client_id = ? AND used_at IS NULL",
        )
        .bind(now)
        .bind(code_hash)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "SELECT c.client_id, c.authorization_id, c.redirect_uri, c.code_challenge, \
             c.expires_at, c.used_at, a.end_date, a.revoked_at AS auth_revoked_at, a.scope \
             FROM auth_codes c JOIN authorizations a ON a.authorization_id = c.authorization_id \
             WHERE c.code_hash = ? AND c.client_id = ?",
        )
        .bind(code_hash)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(RedeemOutcome::NotFound);
        };
        if r.rows_affected() != 1 {
            // Used before: revoke everything issued from this code.
            let families: Vec<String> =
                sqlx::query_scalar("SELECT family_id FROM token_families WHERE code_hash = ?")
                    .bind(code_hash)
                    .fetch_all(&mut *tx)
                    .await?;
            for f in &families {
                revoke_family_tx(&mut tx, f, now).await?;
            }
            tx.commit().await?;
            return Ok(RedeemOutcome::Reused);
        }
        let code = code_from_row(&row)?;
        let scope: String = row.try_get("scope")?;
        if let Err(e) = check(&code) {
            // The code stays consumed: a failed attempt burns it.
            tx.commit().await?;
            return Ok(RedeemOutcome::Rejected(e));
        }
        insert_family_tx(
            &mut tx,
            family_id,
            &code.authorization_id,
            Some(code_hash),
            now,
        )
        .await?;
        for t in tokens {
            insert_token_tx(
                &mut tx,
                t,
                client_id,
                Some(&code.authorization_id),
                Some(family_id),
                &scope,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(RedeemOutcome::Issued(code))
    }

    // ----------------------------------------------------------------- tokens

    /// Stores a client token (no authorization).
    pub async fn insert_client_token(
        &self,
        t: &NewToken,
        client_id: &str,
        scope: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        insert_token_tx(&mut tx, t, client_id, None, None, scope, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A token by hash, with its authorization's state.
    pub async fn token(&self, token_hash: &[u8]) -> Result<Option<TokenRow>> {
        let row = sqlx::query(TOKEN_SELECT)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    /// Rotates a refresh token in one transaction: marks it used (only if it
    /// is this client's, unused, unrevoked and unexpired, and its
    /// authorization is live) and stores the new tokens in its family. An
    /// already-rotated token revokes its whole family.
    pub async fn rotate_refresh(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: i64,
        new_tokens: &[NewToken],
    ) -> Result<RotateOutcome> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE tokens SET used_at = ? WHERE token_hash = ? AND kind = 'refresh_token' \
             AND client_id = ? AND used_at IS NULL AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(now)
        .bind(token_hash)
        .bind(client_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(TOKEN_SELECT)
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(RotateOutcome::Invalid);
        };
        let tok = token_from_row(&row)?;
        if tok.kind != TokenKind::Refresh || tok.client_id != client_id {
            tx.rollback().await?;
            return Ok(RotateOutcome::Invalid);
        }
        if r.rows_affected() != 1 {
            if tok.used_at.is_some() {
                if let Some(f) = &tok.family_id {
                    revoke_family_tx(&mut tx, f, now).await?;
                }
                tx.commit().await?;
                return Ok(RotateOutcome::Reused);
            }
            tx.rollback().await?;
            return Ok(RotateOutcome::Invalid);
        }
        let live_authorization = !tok.authorization_revoked
            && tok
                .authorization_end
                .is_some_and(|end| end == 0 || end > now);
        let (Some(auth_id), Some(family_id), true) = (
            tok.authorization_id.as_deref(),
            tok.family_id.as_deref(),
            live_authorization,
        ) else {
            tx.rollback().await?;
            return Ok(RotateOutcome::Invalid);
        };
        for t in new_tokens {
            insert_token_tx(
                &mut tx,
                t,
                client_id,
                Some(auth_id),
                Some(family_id),
                &tok.scope,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(RotateOutcome::Rotated(tok))
    }

    /// RFC 7009: revokes a token of this client. A refresh token takes its
    /// whole family (and so its access tokens) with it. Unknown tokens and
    /// other clients' tokens are ignored.
    pub async fn revoke_token(&self, token_hash: &[u8], client_id: &str, now: i64) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE token_hash = ? AND client_id = ?",
        )
        .bind(now)
        .bind(token_hash)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            let row = sqlx::query("SELECT kind, family_id FROM tokens WHERE token_hash = ?")
                .bind(token_hash)
                .fetch_one(&mut *tx)
                .await?;
            let kind: String = row.try_get("kind")?;
            let family: Option<String> = row.try_get("family_id")?;
            if kind == TokenKind::Refresh.as_str()
                && let Some(f) = family
            {
                revoke_family_tx(&mut tx, &f, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    // -------------------------------------------------------------------- OTP

    /// Stores a new challenge and counts its send.
    pub async fn insert_challenge(&self, c: &OtpChallenge) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO otp_challenges (challenge_id, request_key, session_id, customer_id, \
             channel, contact_hash, code_hash, created_at, expires_at, last_sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.challenge_id)
        .bind(&c.request_key)
        .bind(&c.session_id)
        .bind(&c.customer_id)
        .bind(&c.channel)
        .bind(&c.contact_hash)
        .bind(&c.code_hash)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.last_sent_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO otp_sends (contact_hash, sent_at) VALUES (?, ?)")
            .bind(&c.contact_hash)
            .bind(c.last_sent_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A challenge of this request.
    pub async fn challenge(
        &self,
        challenge_id: &str,
        request_key: &str,
    ) -> Result<Option<OtpChallenge>> {
        let row =
            sqlx::query("SELECT * FROM otp_challenges WHERE challenge_id = ? AND request_key = ?")
                .bind(challenge_id)
                .bind(request_key)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(otp_from_row).transpose()
    }

    /// Codes sent to a contact since `since`.
    pub async fn sends_since(&self, contact_hash: &[u8], since: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT sent_at FROM otp_sends WHERE contact_hash = ? AND sent_at > ? ORDER BY sent_at",
        )
        .bind(contact_hash)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Replaces a challenge's code (resend) and counts the send. False when
    /// the challenge is used or another resend happened since `last_sent_at`.
    pub async fn resend_challenge(
        &self,
        c: &OtpChallenge,
        new_code_hash: &[u8],
        now: i64,
        expires_at: i64,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE otp_challenges SET code_hash = ?, last_sent_at = ?, expires_at = ? \
             WHERE challenge_id = ? AND used_at IS NULL AND last_sent_at = ?",
        )
        .bind(new_code_hash)
        .bind(now)
        .bind(expires_at)
        .bind(&c.challenge_id)
        .bind(c.last_sent_at)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("INSERT INTO otp_sends (contact_hash, sent_at) VALUES (?, ?)")
            .bind(&c.contact_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Counts a wrong code; returns the new failure count.
    pub async fn challenge_failed(&self, challenge_id: &str, throttled_until: i64) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "UPDATE otp_challenges SET failures = failures + 1, \
             throttled_until = MAX(throttled_until, ?) WHERE challenge_id = ? RETURNING failures",
        )
        .bind(throttled_until)
        .bind(challenge_id)
        .fetch_one(&self.writer)
        .await?;
        Ok(n)
    }

    /// Uses a challenge's code once and signs the session in, atomically.
    /// False when it was already used (or is no longer the current code).
    pub async fn use_challenge(
        &self,
        c: &OtpChallenge,
        now: i64,
        new_session_token_hash: &[u8],
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE otp_challenges SET used_at = ? WHERE challenge_id = ? AND used_at IS NULL \
             AND code_hash = ?",
        )
        .bind(now)
        .bind(&c.challenge_id)
        .bind(&c.code_hash)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE consent_sessions SET customer_id = ?, signed_in_at = ?, token_hash = ? \
             WHERE session_id = ?",
        )
        .bind(&c.customer_id)
        .bind(now)
        .bind(new_session_token_hash)
        .bind(&c.session_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    // -------------------------------------------------------------- throttles

    /// The failure counter of a subject.
    pub async fn throttle(&self, key_hash: &[u8]) -> Result<Option<Throttle>> {
        let row = sqlx::query("SELECT * FROM throttles WHERE key_hash = ?")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Throttle {
                failures: r.try_get("failures")?,
                first_failure_at: r.try_get("first_failure_at")?,
                blocked_until: r.try_get("blocked_until")?,
            })
        })
        .transpose()
    }

    /// Counts one failure for a subject, atomically; failures older than
    /// `window_start` are forgotten. Returns the count in the window.
    pub async fn throttle_failure(
        &self,
        key_hash: &[u8],
        now: i64,
        window_start: i64,
    ) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO throttles (key_hash, failures, first_failure_at, blocked_until) \
             VALUES (?, 1, ?, 0) ON CONFLICT(key_hash) DO UPDATE SET \
             failures = CASE WHEN throttles.first_failure_at <= ? THEN 1 ELSE throttles.failures + 1 END, \
             first_failure_at = CASE WHEN throttles.first_failure_at <= ? THEN excluded.first_failure_at \
             ELSE throttles.first_failure_at END RETURNING failures",
        )
        .bind(key_hash)
        .bind(now)
        .bind(window_start)
        .bind(window_start)
        .fetch_one(&self.writer)
        .await?)
    }

    /// Blocks a subject until `until`.
    pub async fn block_throttle(&self, key_hash: &[u8], until: i64) -> Result<()> {
        sqlx::query(
            "UPDATE throttles SET blocked_until = MAX(blocked_until, ?) WHERE key_hash = ?",
        )
        .bind(until)
        .bind(key_hash)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Forgets a subject's failures (after a success).
    pub async fn clear_throttle(&self, key_hash: &[u8]) -> Result<()> {
        sqlx::query("DELETE FROM throttles WHERE key_hash = ?")
            .bind(key_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

async fn insert_authorization_tx(
    tx: &mut Transaction<'_, Sqlite>,
    a: &Authorization,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO authorizations (authorization_id, client_id, customer_id, scope, meters, \
         grant_type, granted_at, end_date, history_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.authorization_id)
    .bind(&a.client_id)
    .bind(&a.customer_id)
    .bind(&a.scope)
    .bind(to_json(&a.meters)?)
    .bind(&a.grant_type)
    .bind(a.granted_at)
    .bind(a.end_date)
    .bind(a.history_length)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_family_tx(
    tx: &mut Transaction<'_, Sqlite>,
    family_id: &str,
    authorization_id: &str,
    code_hash: Option<&[u8]>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO token_families (family_id, authorization_id, code_hash, created_at) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(family_id)
    .bind(authorization_id)
    .bind(code_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
