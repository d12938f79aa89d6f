//! The one implementation of [`Store`], on SQLite or PostgreSQL through
//! sqlx's `Any` driver: the same SQL runs on both, so every guarantee holds
//! on both.
//!
//! The SQL is written to the common subset: `$1`-style placeholders (SQLite
//! reads them too), `BIGINT`/`INTEGER` seconds, `BLOB`/`BYTEA` hashes, `TEXT`
//! (JSON arrays as text), `lower(col) = lower($n)` for case-insensitive
//! matches, `INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING`,
//! `CAST(… AS INTEGER)` on the right of `<<`. Atomic steps are one
//! `UPDATE … WHERE <still allowed>` whose affected row count (or
//! `RETURNING`) decides: SQLite serializes writers (one writer connection,
//! WAL); PostgreSQL (READ COMMITTED) takes the row lock and re-checks the
//! `WHERE` after a concurrent writer commits, so two instances on one
//! database race the same way two tasks in one process do.
//!
//! SQLite: WAL, foreign keys, `synchronous = FULL` (a commit survives a
//! crash), a busy timeout so concurrent writers wait instead of failing,
//! readers in one pool and a single writer connection in another.
//! PostgreSQL: one pool; the migrations run under an advisory lock, so
//! instances starting together apply each one once.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, FromRow, Row, Transaction};

use super::{
    AuthRequest, Authorization, Client, ClientKind, CodeAttempt, CodeRow, Customer, Limit, Meter,
    NewToken, OidcLogin, OtpChallenge, PurgeCounts, RedeemOutcome, ResendOutcome, Reservation,
    RotateOutcome, ScopeOfUse, Session, StoreError, Throttle, TokenKind, TokenRow,
};

/// The SQLite migrations, in order; `PRAGMA user_version` is the number
/// applied.
const SQLITE_MIGRATIONS: [&str; 5] = [
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_abuse_limits.sql"),
    include_str!("../../migrations/0003_espi_data.sql"),
    include_str!("../../migrations/0004_oidc_logins.sql"),
    include_str!("../../migrations/0005_sharing_sign_in.sql"),
];
/// The PostgreSQL migrations, the same numbers with the same effect;
/// `schema_migrations` records the ones applied.
const POSTGRES_MIGRATIONS: [&str; 5] = [
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_abuse_limits.sql"),
    include_str!("../../migrations/postgres/0003_espi_data.sql"),
    include_str!("../../migrations/postgres/0004_oidc_logins.sql"),
    include_str!("../../migrations/postgres/0005_sharing_sign_in.sql"),
];
const SCHEMA_VERSION: i64 = SQLITE_MIGRATIONS.len() as i64;
/// `pg_advisory_xact_lock` key of the migrations ("gbcmd" in ASCII).
const MIGRATION_LOCK: i64 = 0x67_6263_6d64;

type Result<T> = std::result::Result<T, StoreError>;

pub mod espi_data;

/// Which database a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (or memory).
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl Backend {
    /// The backend a database URL names, if any.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The storage boundary (see the [module docs](super)).
///
/// On SQLite, two pools on one file: readers (several connections, WAL lets
/// them run beside the writer) and a single writer connection, so writes
/// queue in the pool instead of spinning on SQLite's busy handler. On
/// PostgreSQL both are the same pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

fn json_vec<T: serde::de::DeserializeOwned>(s: &str) -> Result<Vec<T>> {
    Ok(serde_json::from_str(s)?)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    Ok(serde_json::to_string(v)?)
}

/// `clients` as stored (JSON arrays as text).
#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    secret_hash: Vec<u8>,
    name: String,
    kind: String,
    redirect_uris: String,
    scopes: String,
    scopes_of_use: String,
    frame_ancestors: String,
    grant_types: String,
    logo_uri: Option<String>,
    client_uri: Option<String>,
    policy_uri: Option<String>,
    tos_uri: Option<String>,
    require_pkce: i64,
    created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;
    fn try_from(r: ClientRow) -> Result<Client> {
        Ok(Client {
            kind: ClientKind::parse(&r.kind)
                .ok_or_else(|| StoreError(format!("unknown client kind {:?}", r.kind)))?,
            redirect_uris: json_vec(&r.redirect_uris)?,
            scopes: json_vec(&r.scopes)?,
            scopes_of_use: json_vec::<ScopeOfUse>(&r.scopes_of_use)?,
            frame_ancestors: json_vec(&r.frame_ancestors)?,
            grant_types: json_vec(&r.grant_types)?,
            client_id: r.client_id,
            secret_hash: r.secret_hash,
            name: r.name,
            logo_uri: r.logo_uri,
            client_uri: r.client_uri,
            policy_uri: r.policy_uri,
            tos_uri: r.tos_uri,
            require_pkce: r.require_pkce != 0,
            created_at: r.created_at,
        })
    }
}

/// `authorizations` as stored (meters as JSON text).
#[derive(sqlx::FromRow)]
struct AuthorizationRow {
    authorization_id: String,
    client_id: String,
    customer_id: String,
    scope: String,
    meters: String,
    grant_type: String,
    granted_at: i64,
    end_date: i64,
    history_length: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<AuthorizationRow> for Authorization {
    type Error = StoreError;
    fn try_from(r: AuthorizationRow) -> Result<Authorization> {
        Ok(Authorization {
            meters: json_vec(&r.meters)?,
            authorization_id: r.authorization_id,
            client_id: r.client_id,
            customer_id: r.customer_id,
            scope: r.scope,
            grant_type: r.grant_type,
            granted_at: r.granted_at,
            end_date: r.end_date,
            history_length: r.history_length,
            revoked_at: r.revoked_at,
        })
    }
}

/// A code joined with its authorization (see `redeem_code`).
#[derive(sqlx::FromRow)]
struct CodeJoinRow {
    client_id: String,
    authorization_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    expires_at: i64,
    end_date: i64,
    auth_revoked_at: Option<i64>,
    scope: String,
}

impl From<&CodeJoinRow> for CodeRow {
    fn from(r: &CodeJoinRow) -> CodeRow {
        CodeRow {
            client_id: r.client_id.clone(),
            authorization_id: r.authorization_id.clone(),
            redirect_uri: r.redirect_uri.clone(),
            code_challenge: r.code_challenge.clone(),
            expires_at: r.expires_at,
            authorization_end: r.end_date,
            authorization_revoked: r.auth_revoked_at.is_some(),
        }
    }
}

/// A token joined with its authorization ([`TOKEN_SELECT`]).
#[derive(sqlx::FromRow)]
struct TokenJoinRow {
    kind: String,
    client_id: String,
    authorization_id: Option<String>,
    family_id: Option<String>,
    scope: String,
    created_at: i64,
    expires_at: Option<i64>,
    used_at: Option<i64>,
    revoked_at: Option<i64>,
    customer_id: Option<String>,
    end_date: Option<i64>,
    auth_revoked_at: Option<i64>,
}

impl TryFrom<TokenJoinRow> for TokenRow {
    type Error = StoreError;
    fn try_from(r: TokenJoinRow) -> Result<TokenRow> {
        Ok(TokenRow {
            kind: TokenKind::parse(&r.kind)
                .ok_or_else(|| StoreError(format!("unknown token kind {:?}", r.kind)))?,
            client_id: r.client_id,
            authorization_id: r.authorization_id,
            family_id: r.family_id,
            scope: r.scope,
            created_at: r.created_at,
            expires_at: r.expires_at,
            used_at: r.used_at,
            revoked_at: r.revoked_at,
            customer_id: r.customer_id,
            authorization_end: r.end_date,
            authorization_revoked: r.auth_revoked_at.is_some(),
        })
    }
}

fn client_from_row(r: &AnyRow) -> Result<Client> {
    ClientRow::from_row(r)?.try_into()
}

fn authorization_from_row(r: &AnyRow) -> Result<Authorization> {
    AuthorizationRow::from_row(r)?.try_into()
}

fn token_from_row(r: &AnyRow) -> Result<TokenRow> {
    TokenJoinRow::from_row(r)?.try_into()
}

fn customer_from_row(r: &AnyRow) -> Result<Customer> {
    Ok(Customer::from_row(r)?)
}

fn meter_from_row(r: &AnyRow) -> Result<Meter> {
    Ok(Meter::from_row(r)?)
}

fn request_from_row(r: &AnyRow) -> Result<AuthRequest> {
    Ok(AuthRequest::from_row(r)?)
}

fn otp_from_row(r: &AnyRow) -> Result<OtpChallenge> {
    Ok(OtpChallenge::from_row(r)?)
}

const TOKEN_SELECT: &str = "SELECT t.kind, t.client_id, t.authorization_id, t.family_id, t.scope, \
     t.created_at, t.expires_at, t.used_at, t.revoked_at, a.customer_id, a.end_date, \
     a.revoked_at AS auth_revoked_at \
     FROM tokens t LEFT JOIN authorizations a ON a.authorization_id = t.authorization_id \
     WHERE t.token_hash = $1";

async fn insert_token_tx(
    tx: &mut Transaction<'_, Any>,
    t: &NewToken,
    client_id: &str,
    authorization_id: Option<&str>,
    family_id: Option<&str>,
    scope: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, kind, client_id, authorization_id, family_id, scope, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
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

async fn revoke_family_tx(tx: &mut Transaction<'_, Any>, family_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE token_families SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(family_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Opens the database at `url` and applies the schema: SQLite
    /// (`sqlite://path`, `sqlite:path` or `sqlite::memory:`; the file is
    /// created when missing) or PostgreSQL (`postgres://…`; the database must
    /// exist).
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        match Backend::of_url(url) {
            Some(Backend::Sqlite) => Store::open_sqlite(url).await,
            Some(Backend::Postgres) => Store::open_postgres(url).await,
            None => Err(StoreError(format!(
                "bad database URL {url:?}: expected sqlite:… or postgres://…"
            ))),
        }
    }

    async fn open_sqlite(url: &str) -> Result<Store> {
        let memory = url.contains(":memory:") || url.contains("mode=memory");
        // Create the file when missing (the URL may say otherwise).
        let url = if memory || url.contains("mode=") {
            url.to_string()
        } else if url.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        let options = |n: u32| {
            AnyPoolOptions::new()
                .max_connections(n)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        for pragma in [
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 15000",
                            "PRAGMA synchronous = FULL",
                        ] {
                            sqlx::Executor::execute(&mut *conn, pragma).await?;
                        }
                        Ok(())
                    })
                })
        };
        let writer = options(1)
            .connect(&url)
            .await
            .map_err(|e| StoreError(format!("cannot open {url:?}: {e}")))?;
        if !memory {
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&writer)
                .await?;
        }
        // Migrate before the readers connect: a reader that saw the old
        // schema would describe `SELECT *` with the old columns.
        Store::migrate_sqlite(&writer).await?;
        let pool = if memory {
            writer.clone()
        } else {
            options(8).connect(&url).await?
        };
        Ok(Store {
            pool,
            writer,
            backend: Backend::Sqlite,
        })
    }

    async fn open_postgres(url: &str) -> Result<Store> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await
            .map_err(|e| StoreError(format!("cannot connect to PostgreSQL: {e}")))?;
        Store::migrate_postgres(&pool).await?;
        Ok(Store {
            writer: pool.clone(),
            pool,
            backend: Backend::Postgres,
        })
    }

    async fn migrate_sqlite(writer: &AnyPool) -> Result<()> {
        let version: i64 = sqlx::query_scalar("PRAGMA user_version")
            .fetch_one(writer)
            .await?;
        if version > SCHEMA_VERSION {
            return Err(StoreError(format!(
                "the database schema is version {version}, newer than this server's {SCHEMA_VERSION}"
            )));
        }
        for (i, sql) in SQLITE_MIGRATIONS
            .iter()
            .enumerate()
            .skip(version.max(0) as usize)
        {
            let mut tx = writer.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Applies the PostgreSQL migrations not yet recorded, all in one
    /// transaction holding an advisory lock: instances starting together
    /// wait for each other and apply each migration once.
    async fn migrate_postgres(pool: &AnyPool) -> Result<()> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations \
             (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let version: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                .fetch_one(&mut *tx)
                .await?;
        if version > SCHEMA_VERSION {
            return Err(StoreError(format!(
                "the database schema is version {version}, newer than this server's {SCHEMA_VERSION}"
            )));
        }
        for (i, sql) in POSTGRES_MIGRATIONS
            .iter()
            .enumerate()
            .skip(version.max(0) as usize)
        {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO schema_migrations (version, applied_at) \
                 VALUES ($1, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))",
            )
            .bind(i as i64 + 1)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Readiness: the database answers and its schema is this server's
    /// (every migration applied, none newer). `Ok(false)`: another schema.
    pub async fn ready(&self) -> Result<bool> {
        let version: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar("PRAGMA user_version")
                    .fetch_one(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(version == SCHEMA_VERSION)
    }

    /// Closes the pools (on SQLite, flushes the WAL on the last connection).
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
             tos_uri, require_pkce, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
        .bind(i64::from(c.require_pkce))
        .bind(c.created_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// One client.
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>> {
        let row = sqlx::query("SELECT * FROM clients WHERE client_id = $1")
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
        let r = sqlx::query("UPDATE clients SET secret_hash = $1 WHERE client_id = $2")
            .bind(secret_hash)
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Turns a client's PKCE requirement on or off; false when there is no
    /// such client.
    pub async fn set_client_require_pkce(&self, client_id: &str, on: bool) -> Result<bool> {
        let r = sqlx::query("UPDATE clients SET require_pkce = $1 WHERE client_id = $2")
            .bind(i64::from(on))
            .bind(client_id)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes a client and everything issued to it.
    pub async fn delete_client(&self, client_id: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM clients WHERE client_id = $1")
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
             email, account_number, zip, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
                 VALUES ($1, $2, $3, $4, $5, $6)",
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
        let row = sqlx::query("SELECT * FROM customers WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// One customer by username (exact, case-insensitive).
    pub async fn customer_by_username(&self, username: &str) -> Result<Option<Customer>> {
        let row = sqlx::query("SELECT * FROM customers WHERE lower(username) = lower($1)")
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

    /// The customers a `WHERE` clause with one `$1` picks.
    async fn customers_where(&self, condition: &str, value: &str) -> Result<Vec<Customer>> {
        let rows = sqlx::query(&format!("SELECT * FROM customers WHERE {condition}"))
            .bind(value)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(customer_from_row).collect()
    }

    /// Customers whose account number is this one (the caller compares ZIPs
    /// in constant time).
    pub async fn customers_by_account(&self, account_number: &str) -> Result<Vec<Customer>> {
        self.customers_where("account_number = $1", account_number)
            .await
    }

    /// Customers with this exact (normalized) phone number.
    pub async fn customers_by_phone(&self, phone: &str) -> Result<Vec<Customer>> {
        self.customers_where("phone = $1", phone).await
    }

    /// Customers with this email (case-insensitive).
    pub async fn customers_by_email(&self, email: &str) -> Result<Vec<Customer>> {
        self.customers_where("lower(email) = lower($1)", email)
            .await
    }

    /// Removes a customer (their meters, authorizations and tokens go too).
    pub async fn delete_customer(&self, customer_id_or_username: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM customers WHERE customer_id = $1 OR username = $2")
            .bind(customer_id_or_username)
            .bind(customer_id_or_username)
            .execute(&self.writer)
            .await?;
        Ok(r.rows_affected() >= 1)
    }

    /// A customer's meters, in registration order.
    pub async fn meters(&self, customer_id: &str) -> Result<Vec<Meter>> {
        let rows = sqlx::query("SELECT * FROM meters WHERE customer_id = $1 ORDER BY position")
            .bind(customer_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(meter_from_row).collect()
    }

    /// True when this SAID is registered (to anyone).
    pub async fn meter_exists(&self, said: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meters WHERE said = $1")
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
             VALUES ($1, $2, $3, $4)",
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
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(Session::from_row).transpose()?)
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
            "UPDATE consent_sessions SET customer_id = $1, signed_in_at = $2, token_hash = $3 \
             WHERE session_id = $4",
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
        sqlx::query("DELETE FROM consent_sessions WHERE session_id = $1")
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
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
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
        let row = sqlx::query("SELECT * FROM auth_requests WHERE id_hash = $1")
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Records a sign-in sent to an OpenID Connect provider.
    pub async fn create_oidc_login(&self, l: &OidcLogin) -> Result<()> {
        sqlx::query(
            "INSERT INTO oidc_logins (state_hash, provider_id, request_key, request_id, \
             session_id, nonce, pkce_verifier, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&l.state_hash)
        .bind(&l.provider_id)
        .bind(&l.request_key)
        .bind(&l.request_id)
        .bind(&l.session_id)
        .bind(&l.nonce)
        .bind(&l.pkce_verifier)
        .bind(l.created_at)
        .bind(l.expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes (deletes and returns) the sign-in of a `state`: one callback
    /// wins, a replay finds nothing. An expired one is taken too, and
    /// returned for the caller to refuse.
    pub async fn take_oidc_login(&self, state_hash: &[u8]) -> Result<Option<OidcLogin>> {
        let row = sqlx::query("DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING *")
            .bind(state_hash)
            .fetch_optional(&self.writer)
            .await?;
        Ok(row.as_ref().map(OidcLogin::from_row).transpose()?)
    }

    /// Binds an unbound request to a session; false when it already was
    /// bound (to any session).
    pub async fn bind_request(&self, request_key: &str, session_id: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE auth_requests SET session_id = $1 WHERE request_key = $2 AND session_id IS NULL",
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
            "UPDATE auth_requests SET decided_at = $1, outcome = 'declined' \
             WHERE request_key = $2 AND session_id = $3 AND decided_at IS NULL AND expires_at > $4",
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
            "UPDATE auth_requests SET decided_at = $1, outcome = 'authorized' \
             WHERE request_key = $2 AND session_id = $3 AND decided_at IS NULL AND expires_at > $4",
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
            "SELECT redirect_uri, code_challenge FROM auth_requests WHERE request_key = $1",
        )
        .bind(request_key)
        .fetch_one(&mut *tx)
        .await?;
        let redirect_uri: String = req.try_get("redirect_uri")?;
        let code_challenge: Option<String> = req.try_get("code_challenge")?;
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, authorization_id, redirect_uri, \
             code_challenge, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
        let row = sqlx::query("SELECT * FROM authorizations WHERE authorization_id = $1")
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
            "SELECT * FROM authorizations WHERE customer_id = $1 ORDER BY granted_at DESC, authorization_id",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(authorization_from_row).collect()
    }

    /// A client's authorizations, newest first.
    pub async fn authorizations_of_client(&self, client_id: &str) -> Result<Vec<Authorization>> {
        let rows = sqlx::query(
            "SELECT * FROM authorizations WHERE client_id = $1 ORDER BY granted_at DESC, authorization_id",
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
            "UPDATE authorizations SET revoked_at = $1 \
             WHERE authorization_id = $2 AND customer_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(authorization_id)
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        let changed = r.rows_affected() == 1;
        if !changed {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM authorizations WHERE authorization_id = $1 AND customer_id = $2",
            )
            .bind(authorization_id)
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(if n == 1 { Some(false) } else { None });
        }
        sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE authorization_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(authorization_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE token_families SET revoked_at = $1 WHERE authorization_id = $2 AND revoked_at IS NULL",
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
            "UPDATE auth_codes SET used_at = $1 WHERE code_hash = $2 AND client_id = $3 AND used_at IS NULL",
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
             WHERE c.code_hash = $1 AND c.client_id = $2",
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
                sqlx::query_scalar("SELECT family_id FROM token_families WHERE code_hash = $1")
                    .bind(code_hash)
                    .fetch_all(&mut *tx)
                    .await?;
            for f in &families {
                revoke_family_tx(&mut tx, f, now).await?;
            }
            tx.commit().await?;
            return Ok(RedeemOutcome::Reused);
        }
        let joined = CodeJoinRow::from_row(&row)?;
        let code = CodeRow::from(&joined);
        let scope = joined.scope;
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
            "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND kind = 'refresh_token' \
             AND client_id = $3 AND used_at IS NULL AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $4)",
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
            "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE token_hash = $2 AND client_id = $3",
        )
        .bind(now)
        .bind(token_hash)
        .bind(client_id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 1 {
            let row = sqlx::query("SELECT kind, family_id FROM tokens WHERE token_hash = $1")
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

    /// Stores a new challenge, counting its send against every key of
    /// `send_keys` (the contact, the identity) under `limit`, all in one
    /// transaction: either every count was below the limit and the
    /// challenge exists, or nothing changed and the answer says how long to
    /// wait.
    pub async fn start_challenge(
        &self,
        c: &OtpChallenge,
        send_keys: &[Vec<u8>],
        limit: Limit,
    ) -> Result<Reservation> {
        let mut tx = self.writer.begin().await?;
        for key in in_lock_order(send_keys) {
            if let Reservation::Refused(wait) =
                reserve_tx(&mut tx, key, limit, c.last_sent_at).await?
            {
                tx.rollback().await?;
                return Ok(Reservation::Refused(wait));
            }
        }
        sqlx::query(
            "INSERT INTO otp_challenges (challenge_id, request_key, session_id, customer_id, \
             channel, contact_hash, code_hash, sent_to, created_at, expires_at, last_sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&c.challenge_id)
        .bind(&c.request_key)
        .bind(&c.session_id)
        .bind(&c.customer_id)
        .bind(&c.channel)
        .bind(&c.contact_hash)
        .bind(&c.code_hash)
        .bind(&c.sent_to)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.last_sent_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Reservation::Reserved(1))
    }

    /// A challenge of this request.
    pub async fn challenge(
        &self,
        challenge_id: &str,
        request_key: &str,
    ) -> Result<Option<OtpChallenge>> {
        let row = sqlx::query(
            "SELECT * FROM otp_challenges WHERE challenge_id = $1 AND request_key = $2",
        )
        .bind(challenge_id)
        .bind(request_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(otp_from_row).transpose()
    }

    /// Replaces a challenge's code (resend; a new lifetime starts) and
    /// counts the send against `send_keys`, in one transaction. The cooldown
    /// (`resend_after` seconds since the last send), the lock (`lock` wrong
    /// codes) and use are checked by the same `UPDATE` that replaces the
    /// code.
    #[allow(clippy::too_many_arguments)]
    pub async fn resend_challenge(
        &self,
        challenge_id: &str,
        new_code_hash: &[u8],
        now: i64,
        expires_at: i64,
        resend_after: i64,
        lock: i64,
        send_keys: &[Vec<u8>],
        limit: Limit,
    ) -> Result<ResendOutcome> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE otp_challenges SET code_hash = $1, last_sent_at = $2, expires_at = $3 \
             WHERE challenge_id = $4 AND used_at IS NULL \
             AND last_sent_at <= $5 AND failures < $6",
        )
        .bind(new_code_hash)
        .bind(now)
        .bind(expires_at)
        .bind(challenge_id)
        .bind(now - resend_after)
        .bind(lock)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            let row = sqlx::query(
                "SELECT used_at, last_sent_at, failures FROM otp_challenges \
                 WHERE challenge_id = $1",
            )
            .bind(challenge_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            let Some(row) = row else {
                return Ok(ResendOutcome::Gone);
            };
            let used: Option<i64> = row.try_get("used_at")?;
            let last: i64 = row.try_get("last_sent_at")?;
            let failures: i64 = row.try_get("failures")?;
            return Ok(if used.is_some() {
                ResendOutcome::Gone
            } else if failures >= lock {
                ResendOutcome::Locked
            } else {
                ResendOutcome::TooSoon((last + resend_after - now).max(1))
            });
        }
        for key in in_lock_order(send_keys) {
            if let Reservation::Refused(wait) = reserve_tx(&mut tx, key, limit, now).await? {
                tx.rollback().await?;
                return Ok(ResendOutcome::TooMany(wait));
            }
        }
        tx.commit().await?;
        Ok(ResendOutcome::Sent)
    }

    /// Reserves one code attempt before the code is compared, in one
    /// transaction: the challenge's count goes up only if it is unused,
    /// unexpired, below `limit.max` and not throttled (one `UPDATE … WHERE
    /// failures < max … RETURNING`), and the same statement sets the delay
    /// the next attempt must wait. With `customer_key`, the customer's
    /// long-window count of code attempts (`customer_limit`) is reserved in
    /// the same transaction. N parallel attempts never compare more codes
    /// than the limits allow.
    pub async fn reserve_code_attempt(
        &self,
        challenge_id: &str,
        now: i64,
        limit: Limit,
        customer_key: Option<&[u8]>,
        customer_limit: Limit,
    ) -> Result<CodeAttempt> {
        let mut tx = self.writer.begin().await?;
        let delay = delay_sql("(failures + 1)", 2, 4, 5, 6);
        let row = sqlx::query(&format!(
            "UPDATE otp_challenges SET failures = failures + 1, throttled_until = {delay} \
             WHERE challenge_id = $1 AND used_at IS NULL AND expires_at > $2 \
             AND failures < $3 AND throttled_until <= $2 RETURNING failures, throttled_until"
        ))
        .bind(challenge_id)
        .bind(now)
        .bind(limit.max)
        .bind(limit.delay_after)
        .bind(limit.base_delay)
        .bind(limit.max_delay)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let row = sqlx::query(
                "SELECT used_at, failures, throttled_until FROM otp_challenges \
                 WHERE challenge_id = $1",
            )
            .bind(challenge_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            let Some(row) = row else {
                return Ok(CodeAttempt::Unknown);
            };
            let used: Option<i64> = row.try_get("used_at")?;
            let failures: i64 = row.try_get("failures")?;
            let until: i64 = row.try_get("throttled_until")?;
            return Ok(if used.is_some() {
                CodeAttempt::Used
            } else if failures >= limit.max {
                CodeAttempt::Locked
            } else if until > now {
                CodeAttempt::Throttled(until - now)
            } else {
                CodeAttempt::Expired
            });
        };
        let failures: i64 = row.try_get("failures")?;
        let throttle_mark: i64 = row.try_get("throttled_until")?;
        if let Some(key) = customer_key
            && let Reservation::Refused(wait) =
                reserve_tx(&mut tx, key, customer_limit, now).await?
        {
            tx.rollback().await?;
            return Ok(CodeAttempt::CustomerLocked(wait));
        }
        tx.commit().await?;
        Ok(CodeAttempt::Reserved {
            failures,
            throttle_mark,
        })
    }

    /// Uses a challenge's code once and signs the session in, atomically,
    /// re-checking in the same `UPDATE` that the challenge is unused, its
    /// code is still `code_hash` (no resend since), it has not expired, it is
    /// not locked (`failures <= lock`, this attempt included) and no later
    /// attempt pushed its throttle past `throttle_mark`. Clears the
    /// customer's long-window count (`clear_key`). False when any check
    /// fails.
    #[allow(clippy::too_many_arguments)]
    pub async fn use_challenge(
        &self,
        c: &OtpChallenge,
        customer_id: &str,
        now: i64,
        lock: i64,
        throttle_mark: i64,
        new_session_token_hash: &[u8],
        clear_key: Option<&[u8]>,
    ) -> Result<bool> {
        let mut tx = self.writer.begin().await?;
        let r = sqlx::query(
            "UPDATE otp_challenges SET used_at = $1 WHERE challenge_id = $2 AND used_at IS NULL \
             AND code_hash = $3 AND expires_at > $1 AND failures <= $4 AND throttled_until <= $5",
        )
        .bind(now)
        .bind(&c.challenge_id)
        .bind(&c.code_hash)
        .bind(lock)
        .bind(throttle_mark.max(now))
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "UPDATE consent_sessions SET customer_id = $1, signed_in_at = $2, token_hash = $3 \
             WHERE session_id = $4",
        )
        .bind(customer_id)
        .bind(now)
        .bind(new_session_token_hash)
        .bind(&c.session_id)
        .execute(&mut *tx)
        .await?;
        if let Some(key) = clear_key {
            sqlx::query("DELETE FROM throttles WHERE key_hash = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    // -------------------------------------------------------------- throttles

    /// The counter of a subject.
    pub async fn throttle(&self, key_hash: &[u8]) -> Result<Option<Throttle>> {
        let row = sqlx::query("SELECT * FROM throttles WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(Throttle::from_row).transpose()?)
    }

    /// Reserves one attempt under every `(key, limit)`, in one transaction:
    /// each key's count goes up only if it is below its limit and not
    /// blocked, in the statement that checks it; if any key refuses,
    /// nothing is counted. Call it *before* checking the attempt (a password,
    /// a code), and [`Store::clear_throttles`] on success.
    pub async fn reserve_attempts(
        &self,
        keys: &[(Vec<u8>, Limit)],
        now: i64,
    ) -> Result<Reservation> {
        let mut tx = self.writer.begin().await?;
        let mut first = None;
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_by(|&a, &b| keys[a].0.cmp(&keys[b].0));
        for i in order {
            let (key, limit) = &keys[i];
            match reserve_tx(&mut tx, key, *limit, now).await? {
                Reservation::Reserved(n) => {
                    if i == 0 {
                        first = Some(n);
                    }
                }
                refused @ Reservation::Refused(_) => {
                    tx.rollback().await?;
                    return Ok(refused);
                }
            }
        }
        tx.commit().await?;
        Ok(Reservation::Reserved(first.unwrap_or(0)))
    }

    /// Forgets these subjects' counts (after a success).
    pub async fn clear_throttles(&self, keys: &[Vec<u8>]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for key in in_lock_order(keys) {
            sqlx::query("DELETE FROM throttles WHERE key_hash = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Counts one sign-in attempt against its authorization request; false
    /// when the request already had `max`.
    pub async fn reserve_request_attempt(&self, request_key: &str, max: i64) -> Result<bool> {
        let row = sqlx::query(
            "UPDATE auth_requests SET sign_in_attempts = sign_in_attempts + 1 \
             WHERE request_key = $1 AND sign_in_attempts < $2 RETURNING sign_in_attempts",
        )
        .bind(request_key)
        .bind(max)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.is_some())
    }

    // ---------------------------------------------------------- housekeeping

    /// Deletes at most `batch` rows of each kind whose time is over: expired
    /// requests (their challenges go with them), sessions (once no request
    /// names them) and challenges,
    /// authorization codes expired before `now - code_grace` (kept that long
    /// so a replayed code still revokes its tokens), and counters whose
    /// window and block are both over. Each `DELETE` takes its rows by primary key
    /// from a `LIMIT`ed subquery, so one batch holds the write lock briefly.
    pub async fn purge_expired(
        &self,
        now: i64,
        code_grace: i64,
        batch: i64,
    ) -> Result<PurgeCounts> {
        let old = now - code_grace;
        let del = |sql: &'static str, t: i64| async move {
            let r = sqlx::query(sql)
                .bind(t)
                .bind(batch)
                .execute(&self.writer)
                .await?;
            Ok::<u64, StoreError>(r.rows_affected())
        };
        Ok(PurgeCounts {
            challenges: del(
                "DELETE FROM otp_challenges WHERE challenge_id IN (SELECT challenge_id \
                 FROM otp_challenges WHERE expires_at < $1 LIMIT $2)",
                now,
            )
            .await?,
            requests: del(
                "DELETE FROM auth_requests WHERE request_key IN (SELECT request_key \
                 FROM auth_requests WHERE expires_at < $1 LIMIT $2)",
                now,
            )
            .await?,
            sessions: del(
                // Not while a request still names it: the request would come
                // unbound (another session could then claim it). Requests go
                // at their expiry, their sessions on the next run.
                "DELETE FROM consent_sessions WHERE session_id IN (SELECT session_id \
                 FROM consent_sessions s WHERE expires_at < $1 AND NOT EXISTS \
                 (SELECT 1 FROM auth_requests r WHERE r.session_id = s.session_id) LIMIT $2)",
                now,
            )
            .await?,
            codes: del(
                "DELETE FROM auth_codes WHERE code_hash IN (SELECT code_hash \
                 FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
                old,
            )
            .await?,
            throttles: del(
                "DELETE FROM throttles WHERE key_hash IN (SELECT key_hash FROM throttles \
                 WHERE expires_at < $1 AND blocked_until < $1 LIMIT $2)",
                now,
            )
            .await?,
        })
    }
}

/// The SQL for the delay an attempt imposes on the next one, in the terms
/// of [`Limit::delay_for`]: `n` is the attempt count (an SQL expression),
/// the numbers are the positions of the bound parameters `now`,
/// `delay_after`, `base_delay` and `max_delay`. Plain `CASE` and `<<` (its
/// right side cast to `INTEGER`: PostgreSQL has `bigint << integer` only),
/// so it runs on SQLite and PostgreSQL alike.
fn delay_sql(n: &str, now: u8, after: u8, base: u8, max: u8) -> String {
    format!(
        "(CASE WHEN {n} >= ${after} THEN ${now} + (CASE WHEN {n} - ${after} >= 16 THEN ${max} \
         WHEN (${base} << CAST({n} - ${after} AS INTEGER)) > ${max} THEN ${max} \
         ELSE (${base} << CAST({n} - ${after} AS INTEGER)) END) ELSE 0 END)"
    )
}

/// Counter keys in the order their rows are locked: one order for every
/// transaction, so two transactions that take the same counters never wait
/// for each other in a cycle (PostgreSQL would abort one as a deadlock).
fn in_lock_order(keys: &[Vec<u8>]) -> Vec<&Vec<u8>> {
    let mut v: Vec<&Vec<u8>> = keys.iter().collect();
    v.sort();
    v
}

/// One key's reservation (see [`Store::reserve_attempts`]): a single upsert
/// whose `DO UPDATE … WHERE` is the limit. A new window starts when the
/// old one is over and no block holds.
async fn reserve_tx(
    tx: &mut Transaction<'_, Any>,
    key: &[u8],
    limit: Limit,
    now: i64,
) -> Result<Reservation> {
    let fresh =
        "(CASE WHEN throttles.first_failure_at <= $3 THEN 1 ELSE throttles.failures + 1 END)";
    let sql = format!(
        "INSERT INTO throttles (key_hash, failures, first_failure_at, blocked_until, expires_at) \
         VALUES ($1, 1, $2, {first_delay}, $2 + $4) \
         ON CONFLICT (key_hash) DO UPDATE SET \
         failures = {fresh}, \
         blocked_until = {delay}, \
         first_failure_at = CASE WHEN throttles.first_failure_at <= $3 THEN $2 \
           ELSE throttles.first_failure_at END, \
         expires_at = CASE WHEN throttles.first_failure_at <= $3 THEN $2 + $4 \
           ELSE throttles.expires_at END \
         WHERE throttles.blocked_until <= $2 \
           AND (throttles.first_failure_at <= $3 OR throttles.failures < $5) \
         RETURNING failures",
        first_delay = delay_sql("1", 2, 6, 7, 8),
        delay = delay_sql(fresh, 2, 6, 7, 8),
    );
    let n: Option<i64> = sqlx::query_scalar(&sql)
        .bind(key)
        .bind(now)
        .bind(now - limit.window)
        .bind(limit.window)
        .bind(limit.max)
        .bind(limit.delay_after)
        .bind(limit.base_delay)
        .bind(limit.max_delay)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(n) = n {
        return Ok(Reservation::Reserved(n));
    }
    let row =
        sqlx::query("SELECT first_failure_at, blocked_until FROM throttles WHERE key_hash = $1")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
    let first: i64 = row.try_get("first_failure_at")?;
    let blocked: i64 = row.try_get("blocked_until")?;
    let wait = if blocked > now {
        blocked - now
    } else {
        first + limit.window - now
    };
    Ok(Reservation::Refused(wait.max(1)))
}

async fn insert_authorization_tx(tx: &mut Transaction<'_, Any>, a: &Authorization) -> Result<()> {
    sqlx::query(
        "INSERT INTO authorizations (authorization_id, client_id, customer_id, scope, meters, \
         grant_type, granted_at, end_date, history_length) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
    tx: &mut Transaction<'_, Any>,
    family_id: &str,
    authorization_id: &str,
    code_hash: Option<&[u8]>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO token_families (family_id, authorization_id, code_hash, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(family_id)
    .bind(authorization_id)
    .bind(code_hash)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
