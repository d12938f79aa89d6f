//! Housekeeping: expired rows are deleted periodically, in bounded batches,
//! so nothing an anonymous caller creates (authorization requests, consent
//! sessions, code challenges, send and attempt counters) lives forever.

use crate::AppState;
use crate::store::{PurgeCounts, StoreError};

/// Authorization codes are kept this long after they expire, so a replayed
/// code is still recognised and revokes the tokens issued from it.
pub const CODE_GRACE: i64 = 24 * 3600;

/// Batches per kind in one run at most (the rest waits for the next run).
const MAX_BATCHES: u32 = 100;

/// Deletes what is over, batch after batch (each batch a short write
/// transaction, so sign-ins and token requests interleave with it), until
/// a batch comes back short or [`MAX_BATCHES`] ran. Also forgets idle
/// per-IP rate-limit buckets.
pub async fn purge_once(state: &AppState) -> Result<PurgeCounts, StoreError> {
    let batch = i64::from(state.config().purge_batch.max(1));
    let mut total = PurgeCounts::default();
    for _ in 0..MAX_BATCHES {
        let c = state
            .store()
            .purge_expired(state.now(), CODE_GRACE, batch)
            .await?;
        total.requests += c.requests;
        total.sessions += c.sessions;
        total.challenges += c.challenges;
        total.codes += c.codes;
        total.throttles += c.throttles;
        let full = [c.requests, c.sessions, c.challenges, c.codes, c.throttles]
            .into_iter()
            .any(|n| n >= batch as u64);
        if !full {
            break;
        }
        tokio::task::yield_now().await;
    }
    state.limits().shrink();
    Ok(total)
}

/// The periodic purge; stops when dropped.
#[derive(Debug)]
pub struct Housekeeping(tokio::task::JoinHandle<()>);

impl Drop for Housekeeping {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs [`purge_once`] every `purge_interval` seconds.
pub fn spawn(state: AppState) -> Housekeeping {
    Housekeeping(tokio::spawn(async move {
        let every = std::time::Duration::from_secs(state.config().purge_interval.max(1));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match purge_once(&state).await {
                Ok(c) if c.total() > 0 => tracing::info!(
                    requests = c.requests,
                    sessions = c.sessions,
                    challenges = c.challenges,
                    codes = c.codes,
                    counters = c.throttles,
                    "purged expired rows"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    }))
}
