//! Green Button data (issue 13): interval readings and bills per meter, and
//! a third party's own registration (ApplicationInformation). The same SQL
//! on SQLite and PostgreSQL (see the parent module): `$n` placeholders,
//! multi-row `INSERT … ON CONFLICT … DO UPDATE`.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use super::{Result, Store};
use crate::store::StoreError;

/// One interval reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ReadingRow {
    /// Unix seconds, start of the interval.
    #[sqlx(rename = "start_at")]
    pub start: i64,
    /// In the meter's reading unit (Wh, 1/1000 therm, litres).
    pub value: i64,
}

/// One bill (ESPI `UsageSummary`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SummaryRow {
    /// Unix seconds.
    pub period_start: i64,
    /// Seconds.
    pub period_duration: i64,
    /// In the meter's reading unit.
    pub consumption: i64,
    /// In 1/100000 of the currency.
    pub bill_amount: i64,
    /// ISO 4217 numeric (840 = USD).
    pub currency: i64,
    /// Unix seconds.
    pub issued_at: i64,
}

/// Usage data of one meter, to import in one go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterUsage {
    /// The meter.
    pub said: String,
    /// Readings per interval length (seconds).
    pub readings: Vec<(i64, Vec<ReadingRow>)>,
    /// Bills.
    pub summaries: Vec<SummaryRow>,
}

/// What a registration client may change of its own registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationUpdate {
    /// `client_name`.
    pub name: String,
    /// Exact redirect URIs.
    pub redirect_uris: Vec<String>,
    /// `logo_uri`.
    pub logo_uri: Option<String>,
    /// `client_uri`.
    pub client_uri: Option<String>,
    /// `policy_uri`.
    pub policy_uri: Option<String>,
    /// `tos_uri`.
    pub tos_uri: Option<String>,
}

const ROWS_PER_STATEMENT: usize = 400;

impl Store {
    /// Imports usage data of several meters in one transaction: everything
    /// or nothing. Existing readings and bills with the same key are
    /// replaced. Fails when a meter does not belong to `customer_id`.
    pub async fn import_usage(&self, customer_id: &str, usage: &[MeterUsage]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for m in usage {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT customer_id FROM meters WHERE said = $1")
                    .bind(&m.said)
                    .fetch_optional(&mut *tx)
                    .await?;
            if owner.as_deref() != Some(customer_id) {
                return Err(StoreError(format!(
                    "meter {:?} is not the customer's",
                    m.said
                )));
            }
            for (interval, rows) in &m.readings {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut sql = String::from(
                        "INSERT INTO interval_readings (said, interval_length, start_at, value) VALUES ",
                    );
                    for i in 0..chunk.len() {
                        let n = 4 * i;
                        let sep = if i == 0 { "" } else { ", " };
                        sql.push_str(&format!(
                            "{sep}(${}, ${}, ${}, ${})",
                            n + 1,
                            n + 2,
                            n + 3,
                            n + 4
                        ));
                    }
                    sql.push_str(
                        " ON CONFLICT (said, interval_length, start_at) DO UPDATE SET value = excluded.value",
                    );
                    let mut q = sqlx::query(&sql);
                    for r in chunk {
                        q = q.bind(&m.said).bind(*interval).bind(r.start).bind(r.value);
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            for b in &m.summaries {
                sqlx::query(
                    "INSERT INTO usage_summaries (said, period_start, period_duration, consumption, bill_amount, currency, issued_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (said, period_start) DO UPDATE SET period_duration = excluded.period_duration,
                       consumption = excluded.consumption, bill_amount = excluded.bill_amount,
                       currency = excluded.currency, issued_at = excluded.issued_at",
                )
                .bind(&m.said)
                .bind(b.period_start)
                .bind(b.period_duration)
                .bind(b.consumption)
                .bind(b.bill_amount)
                .bind(b.currency)
                .bind(b.issued_at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// True when the meter has any reading.
    pub async fn has_readings(&self, said: &str) -> Result<bool> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(1 AS BIGINT) FROM interval_readings WHERE said = $1 LIMIT 1",
        )
        .bind(said)
        .fetch_optional(&self.pool)
        .await?;
        Ok(n.is_some())
    }

    /// The interval lengths (seconds) the meter has readings of, ascending.
    pub async fn reading_intervals(&self, said: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT interval_length FROM interval_readings WHERE said = $1 ORDER BY interval_length",
        )
        .bind(said)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The readings of one meter and interval length starting in
    /// `[from, to)` whose interval ends by `to`, by start, as a stream (one
    /// reader connection held while it runs).
    pub fn readings(
        &self,
        said: &str,
        interval_length: i64,
        from: i64,
        to: i64,
    ) -> BoxStream<'_, Result<ReadingRow>> {
        sqlx::query_as::<_, ReadingRow>(
            "SELECT start_at, value FROM interval_readings
             WHERE said = $1 AND interval_length = $2 AND start_at >= $3 AND start_at + interval_length <= $4
             ORDER BY start_at",
        )
        .bind(said.to_string())
        .bind(interval_length)
        .bind(from)
        .bind(to)
        .fetch(&self.pool)
        .map(|r| Ok(r?))
        .boxed()
    }

    /// The bills of one meter whose period lies within `[from, to]`.
    pub async fn summaries(&self, said: &str, from: i64, to: i64) -> Result<Vec<SummaryRow>> {
        Ok(sqlx::query_as(
            "SELECT period_start, period_duration, consumption, bill_amount, currency, issued_at
             FROM usage_summaries
             WHERE said = $1 AND period_start >= $2 AND period_start + period_duration <= $3
             ORDER BY period_start",
        )
        .bind(said)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Updates what a client may change of its own registration; false when
    /// there is no such client.
    pub async fn update_registration(
        &self,
        client_id: &str,
        u: &RegistrationUpdate,
    ) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE clients SET name = $1, redirect_uris = $2, logo_uri = $3, client_uri = $4, policy_uri = $5, tos_uri = $6
             WHERE client_id = $7",
        )
        .bind(&u.name)
        .bind(serde_json::to_string(&u.redirect_uris)?)
        .bind(&u.logo_uri)
        .bind(&u.client_uri)
        .bind(&u.policy_uri)
        .bind(&u.tos_uri)
        .bind(client_id)
        .execute(&self.writer)
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
