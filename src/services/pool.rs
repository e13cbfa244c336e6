//! The blocking work of answering a request: index and vector searches, the walks behind
//! suggestions and salary insights. It runs on tokio's blocking pool (never on the async
//! workers), as many at a time as there are cores (at least 2): more would only share the
//! cores, and each would hold a blocking thread of its own, with its stack and its allocator
//! heap. Unbounded, 32 connections of semantic search kept 69 threads (44 bounded) for no more
//! requests served.

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use super::ServiceError;

/// The slots of request work.
fn permits() -> &'static Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| {
        Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)))
    })
}

/// Runs `work` on the blocking pool once a slot is free. The slot travels with the work: a
/// request dropped on timeout or disconnect does not free it while its work still runs.
pub(crate) async fn run<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ServiceError>
where
    T: Send + 'static,
    E: Into<ServiceError> + Send + 'static,
{
    let permit =
        permits().clone().acquire_owned().await.map_err(|e| ServiceError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_run_at_once_than_there_are_slots() {
        let slots = permits().available_permits();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let works = (0..slots * 4).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, ServiceError>(now)
            })
        });
        let done = futures_util::future::join_all(works).await;
        assert!(done.iter().all(Result::is_ok));
        // Other tests may hold slots meanwhile: at most, not exactly, this many.
        let most = most.load(Ordering::SeqCst);
        assert!((1..=slots).contains(&most), "{most} at once with {slots} slots");
    }
}
