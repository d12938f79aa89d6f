//! One way to wait in these tests: [`eventually`] polls a check until it
//! holds or a timeout passes. A test never sleeps for a fixed time: it waits
//! for a positive signal (the state that follows), then asserts.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long to wait between two tries.
const INTERVAL: Duration = Duration::from_millis(100);

/// Runs `check` until it returns `Ok`, at most for `timeout` (at least
/// once); returns that `Ok`, or the last `Err` (what was seen instead, for
/// the caller's assertion message) once the time is up.
///
/// ```ignore
/// let summary = eventually(Duration::from_secs(10), || async move {
///     let s = text(b, ".gbc-error-summary").await;
///     if s.contains(message) { Ok(s) } else { Err(s) }
/// })
/// .await
/// .unwrap_or_else(|seen| seen);
/// assert!(summary.contains(message), "{summary:?}");
/// ```
pub async fn eventually<T, E, F, Fut>(timeout: Duration, mut check: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    loop {
        let last = check().await;
        if last.is_ok() || start.elapsed() >= timeout {
            return last;
        }
        tokio::time::sleep(INTERVAL).await;
    }
}

/// [`eventually`] for a yes/no check: whether it came true in time.
pub async fn eventually_true<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(timeout, || {
        let fut = check();
        async move { if fut.await { Ok(()) } else { Err(()) } }
    })
    .await
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn returns_the_first_ok() {
        let mut n = 0;
        let r: Result<u32, u32> = eventually(Duration::from_secs(5), || {
            n += 1;
            let v = n;
            async move { if v >= 3 { Ok(v) } else { Err(v) } }
        })
        .await;
        assert_eq!(r, Ok(3));
    }

    #[tokio::test]
    async fn returns_the_last_err_after_the_timeout() {
        let r: Result<(), &str> =
            eventually(Duration::from_millis(250), || async { Err("never") }).await;
        assert_eq!(r, Err("never"));
    }
}
