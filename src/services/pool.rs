//! The blocking work of answering a request: index and vector searches, the walks behind
//! suggestions and salary insights. It never runs on the async workers: a fixed set of threads
//! of its own, as many as there are cores (at least 2), takes it from one queue in the order it
//! came. More threads would only share the cores, each with its stack and its allocator heap
//! (on tokio's blocking pool, which starts a thread for each waiting call, 32 connections of
//! semantic search kept 69 threads against 44 with a bound). Under load the queue is never
//! empty, so a thread goes from one request's work to the next without sleeping in between;
//! behind a bound, tokio's blocking pool parks a thread when its work ends and the next piece
//! is handed over only once the freed slot's waiter runs. On 3,000 distinct keyword searches
//! these threads served 1.36× and 1.53× the requests of that bound.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use super::ServiceError;

/// A piece of work, with where its answer goes.
type Work = Box<dyn FnOnce() + Send>;

/// How many threads take the work: the cores, at least 2.
pub(crate) fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)
}

/// The queue, its threads started on first use. One thread at a time waits on the queue; the
/// others wait for their turn to (a thread that finds work queued takes it without sleeping).
fn queue() -> &'static Sender<Work> {
    static QUEUE: OnceLock<Sender<Work>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (sender, receiver) = channel::<Work>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..threads() {
            let receiver = receiver.clone();
            let started =
                std::thread::Builder::new().name(format!("request-work-{i}")).spawn(move || {
                    loop {
                        let next = receiver.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let Ok(work) = next else { return };
                        // A panic ends that work alone (its caller gets an error), not the thread.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(work));
                    }
                });
            // With none started, the queue has no receiver left and every request's work is
            // refused with an error.
            if let Err(err) = started {
                tracing::error!(error = %err, "a thread of the request pool could not be started");
            }
        }
        sender
    })
}

/// Runs `work` on the request pool's threads, after the work queued before it. Work whose
/// request was dropped (a timeout, a disconnect) before it started is not run.
pub(crate) async fn run<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, ServiceError>
where
    T: Send + 'static,
    E: Into<ServiceError> + Send + 'static,
{
    let (answer, answered) = tokio::sync::oneshot::channel();
    let work: Work = Box::new(move || {
        if !answer.is_closed() {
            let _ = answer.send(work());
        }
    });
    queue()
        .send(work)
        .map_err(|_| ServiceError::Internal(anyhow::anyhow!("the request pool has stopped")))?;
    answered
        .await
        .map_err(|_| ServiceError::Internal(anyhow::anyhow!("a request's work panicked")))?
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_run_at_once_than_there_are_threads() {
        let slots = threads();
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
        // Other tests may keep threads busy meanwhile: at most, not exactly, this many.
        let most = most.load(Ordering::SeqCst);
        assert!((1..=slots).contains(&most), "{most} at once with {slots} threads");
    }

    #[tokio::test]
    async fn a_panic_fails_its_own_work_and_the_pool_goes_on() {
        let failed = run(|| -> Result<u32, ServiceError> { panic!("in the work") }).await;
        assert!(matches!(failed, Err(ServiceError::Internal(_))), "{failed:?}");
        for i in 0..threads() * 2 {
            assert_eq!(run(move || Ok::<_, ServiceError>(i)).await.unwrap(), i);
        }
    }

    #[tokio::test]
    async fn work_whose_request_is_gone_is_not_run() {
        // Keep every thread busy, then queue work and drop its request before it starts.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(std::sync::Mutex::new(wait));
        let busy: Vec<_> = (0..threads())
            .map(|_| {
                let wait = wait.clone();
                tokio::spawn(run(move || {
                    let _ = wait.lock().unwrap().recv_timeout(std::time::Duration::from_secs(5));
                    Ok::<_, ServiceError>(())
                }))
            })
            .collect();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let dropped = tokio::spawn(run(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, ServiceError>(())
        }));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        dropped.abort();
        let _ = dropped.await;
        for _ in 0..threads() {
            release.send(()).unwrap();
        }
        for task in busy {
            task.await.unwrap().unwrap();
        }
        // Work queued after the dropped one has run: so has the dropped one's turn.
        run(|| Ok::<_, ServiceError>(())).await.unwrap();
        for _ in 0..threads() {
            run(|| Ok::<_, ServiceError>(())).await.unwrap();
        }
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
