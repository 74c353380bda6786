//! A scenario's time limit, less the time it spent queued for something the harness rations
//! (a browser tab): a limit that counted the queue would turn a busy run into `error` results
//! for scenarios that were only waiting their turn.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Time spent queued, shared between the scenario (which queues) and its time limit (which
/// leaves it out). Clones share the clock.
#[derive(Clone, Debug, Default)]
pub struct Queued(Arc<Mutex<QueueClock>>);

#[derive(Debug, Default)]
struct QueueClock {
    /// Queued time that has ended.
    total: Duration,
    /// When the wait under way began.
    since: Option<Instant>,
}

impl Queued {
    /// All the time queued so far, the wait under way included.
    pub fn so_far(&self) -> Duration {
        let clock = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        clock.total + clock.since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Runs `wait` (acquiring what is rationed) off the clock.
    pub async fn off_the_clock<T>(&self, wait: impl Future<Output = T>) -> T {
        let _queued = Waiting::start(self);
        wait.await
    }
}

/// A wait under way; its end (also by cancellation) adds it to the total.
struct Waiting<'a>(&'a Queued);

impl<'a> Waiting<'a> {
    fn start(queued: &'a Queued) -> Self {
        queued
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .since = Some(Instant::now());
        Self(queued)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut clock = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(since) = clock.since.take() {
            clock.total += since.elapsed();
        }
    }
}

/// Runs `work` for at most `limit` plus the time `queued` counts; `None` when it ran out.
pub async fn within<T>(
    limit: Duration,
    queued: &Queued,
    work: impl Future<Output = T>,
) -> Option<T> {
    let started = Instant::now();
    tokio::pin!(work);
    loop {
        let deadline = started + limit + queued.so_far();
        tokio::select! {
            done = &mut work => return Some(done),
            () = tokio::time::sleep_until(deadline) => {
                // Queued meanwhile: the deadline has moved on.
                if Instant::now() >= started + limit + queued.so_far() {
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn time_spent_queued_is_not_counted() {
        let queued = Queued::default();
        let work = async {
            queued
                .off_the_clock(tokio::time::sleep(Duration::from_secs(5)))
                .await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            "done"
        };
        assert_eq!(
            within(Duration::from_secs(3), &queued, work).await,
            Some("done")
        );
        assert_eq!(queued.so_far(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn work_past_the_limit_is_cut() {
        let queued = Queued::default();
        let work = async {
            queued
                .off_the_clock(tokio::time::sleep(Duration::from_secs(1)))
                .await;
            tokio::time::sleep(Duration::from_secs(3)).await;
        };
        assert_eq!(within(Duration::from_secs(2), &queued, work).await, None);
    }
}
