//! The worker loops: claim a due task, run it while renewing its lease, record the outcome.
//!
//! Each queue gets its configured number of loops. A task runs in a spawned tokio task, so a
//! panic is an ordinary failure. Failures retry with exponential backoff and jitter until the
//! task's attempts run out (`dead`). On shutdown the loops stop claiming; running tasks get the
//! grace period to finish, then are cancelled and handed back to the queue without counting
//! the attempt. An outcome whose write meets a transaction conflict is written again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::core::config::WorkerConfig;
use crate::models::task::TaskRecord;
use crate::queue::{Attempt, Permanent, Queue, Registry};
use crate::repositories;
use crate::services::TaskContext;

/// When a failed attempt runs again: `base * 2^(attempt-1)`, capped at `max`, times a random
/// factor in [0.75, 1.25) so tasks that failed together do not retry together. `None` once the
/// attempts are used up.
pub fn retry_at(
    attempt: &Attempt,
    base: Duration,
    max: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if attempt.is_last() {
        return None;
    }
    let exponent = attempt.number.saturating_sub(1).min(30);
    let delay = base.saturating_mul(1u32 << exponent).min(max);
    let jitter = rand::rng().random_range(0.75..1.25);
    let delay = delay.mul_f64(jitter);
    Some(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1)))
}

/// What the running loops look like from outside (readiness).
#[derive(Debug, Default)]
pub struct RunnerState {
    pub loops: AtomicUsize,
    pub busy: AtomicUsize,
}

/// The running loops; dropping it does not stop them, [`RunnerHandle::shutdown`] does.
pub struct RunnerHandle {
    stop: watch::Sender<bool>,
    abort: watch::Sender<bool>,
    loops: JoinSet<()>,
    pub state: Arc<RunnerState>,
}

impl RunnerHandle {
    /// Stops claiming, lets running tasks finish for up to `grace`, then hands the rest back.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let all_done = async { while self.loops.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all_done).await.is_err() {
            tracing::warn!(
                "tasks still running after the shutdown grace period; handing them back"
            );
            let _ = self.abort.send(true);
            while self.loops.join_next().await.is_some() {}
        }
    }
}

/// Starts the loops of every queue.
pub fn start(
    ctx: Arc<TaskContext>,
    registry: Arc<Registry<Arc<TaskContext>>>,
    config: &WorkerConfig,
) -> RunnerHandle {
    let (stop, stop_rx) = watch::channel(false);
    let (abort, abort_rx) = watch::channel(false);
    let state = Arc::new(RunnerState::default());
    let process =
        format!("pid{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut loops = JoinSet::new();
    for queue in Queue::ALL {
        let count = match queue {
            Queue::Email => config.email_loops,
            Queue::Default => config.default_loops,
        };
        for slot in 0..count {
            let worker = Worker {
                id: format!("{process}-{}{slot}", queue.as_str()),
                queue,
                ctx: ctx.clone(),
                registry: registry.clone(),
                config: config.clone(),
                stop: stop_rx.clone(),
                abort: abort_rx.clone(),
                state: state.clone(),
            };
            state.loops.fetch_add(1, Ordering::Relaxed);
            loops.spawn(worker.run());
        }
    }
    tracing::info!(loops = state.loops.load(Ordering::Relaxed), process, "workers started");
    RunnerHandle { stop, abort, loops, state }
}

struct Worker {
    id: String,
    queue: Queue,
    ctx: Arc<TaskContext>,
    registry: Arc<Registry<Arc<TaskContext>>>,
    config: WorkerConfig,
    stop: watch::Receiver<bool>,
    abort: watch::Receiver<bool>,
    state: Arc<RunnerState>,
}

/// Records a task's outcome, again while the write fails with a transaction conflict (another
/// worker's claim touching the same rows at that moment). An outcome that is not recorded
/// leaves the task `running` under this worker, and once its lease runs out another worker
/// runs it again.
async fn settle<T, F, Fut>(mut write: F) -> Result<T, repositories::RepoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, repositories::RepoError>>,
{
    let mut conflicts = 0;
    loop {
        match write().await {
            Err(err) if err.is_conflict() && conflicts < 20 => {
                conflicts += 1;
                let pause = rand::rng().random_range(5..50);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

impl Worker {
    async fn run(mut self) {
        let db = self.ctx.services.db.clone();
        loop {
            if *self.stop.borrow() {
                break;
            }
            match repositories::tasks::claim(&db, self.queue.as_str(), &self.id, self.config.lease)
                .await
            {
                Ok(Some(task)) => {
                    self.state.busy.fetch_add(1, Ordering::Relaxed);
                    self.run_task(task).await;
                    self.state.busy.fetch_sub(1, Ordering::Relaxed);
                }
                Ok(None) => self.idle(self.config.poll_interval).await,
                // Another worker claimed the same row at the same moment: try again soon.
                Err(err) if err.is_conflict() => {
                    let pause = rand::rng().random_range(5..50);
                    self.idle(Duration::from_millis(pause)).await;
                }
                Err(err) => {
                    tracing::warn!(queue = self.queue.as_str(), error = %err, "claiming a task failed");
                    self.idle(self.config.poll_interval).await;
                }
            }
        }
        self.state.loops.fetch_sub(1, Ordering::Relaxed);
    }

    /// Waits `pause`, or less if shutdown begins.
    async fn idle(&mut self, pause: Duration) {
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = self.stop.changed() => {}
        }
    }

    async fn run_task(&mut self, task: TaskRecord) {
        let db = self.ctx.services.db.clone();
        let started = Instant::now();
        let attempt =
            Attempt { number: task.attempts, max: task.max_attempts, task_id: task.id.clone() };
        let span =
            tracing::info_span!("task", id = %task.id, kind = %task.kind, attempt = attempt.number);
        let Some(handler) = self.registry.handler(&task.kind).cloned() else {
            let message =
                format!("this jobportal has no handler for tasks of kind {:?}", task.kind);
            tracing::error!(parent: &span, "{message}");
            let retry =
                retry_at(&attempt, self.config.backoff_base, self.config.backoff_max, Utc::now());
            let _ = settle(|| repositories::tasks::fail(&db, &task.id, &self.id, &message, retry))
                .await;
            return;
        };
        let mut work =
            tokio::spawn(handler(self.ctx.clone(), task.payload.clone(), attempt.clone()));
        let mut heartbeat = tokio::time::interval(self.config.lease / 3);
        heartbeat.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = heartbeat.tick() => {
                    match repositories::tasks::renew_lease(&db, &task.id, &self.id, self.config.lease).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(parent: &span, "lost the lease; another worker may run this task"),
                        Err(err) => tracing::warn!(parent: &span, error = %err, "renewing the lease failed"),
                    }
                }
                changed = self.abort.changed() => {
                    if changed.is_ok() && *self.abort.borrow() {
                        work.abort();
                        let _ = work.await;
                        let _ = settle(|| repositories::tasks::hand_back(&db, &task.id, &self.id)).await;
                        self.ctx.metrics.observe_task(&task.kind, "handed_back", started.elapsed().as_secs_f64());
                        tracing::info!(parent: &span, "handed back at shutdown");
                        return;
                    }
                }
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let mut permanent = false;
        let error = match result {
            Ok(Ok(())) => {
                match settle(|| repositories::tasks::complete(&db, &task.id, &self.id)).await {
                    Ok(true) => tracing::debug!(parent: &span, seconds, "task done"),
                    Ok(false) => {
                        tracing::warn!(parent: &span, "task finished after its lease was taken over")
                    }
                    Err(err) => {
                        tracing::error!(parent: &span, error = %err, "marking a task done failed")
                    }
                }
                self.ctx.metrics.observe_task(&task.kind, "done", seconds);
                return;
            }
            Ok(Err(err)) => {
                permanent = err.downcast_ref::<Permanent>().is_some();
                format!("{err:#}")
            }
            Err(join) if join.is_panic() => "the task panicked".to_owned(),
            Err(join) => format!("the task was cancelled: {join}"),
        };
        let retry = if permanent {
            None
        } else {
            retry_at(&attempt, self.config.backoff_base, self.config.backoff_max, Utc::now())
        };
        let outcome = if retry.is_some() { "retry" } else { "dead" };
        if retry.is_some() {
            tracing::warn!(parent: &span, error = %error, next = ?retry, "task failed; will retry");
        } else {
            tracing::error!(parent: &span, error = %error, "task failed for the last time");
        }
        if let Err(err) =
            settle(|| repositories::tasks::fail(&db, &task.id, &self.id, &error, retry)).await
        {
            tracing::error!(parent: &span, error = %err, "recording a task failure failed");
        }
        self.ctx.metrics.observe_task(&task.kind, outcome, seconds);
    }
}

/// Refreshes the queue-depth gauges every `every` until `stop` fires.
pub async fn report_depth(ctx: Arc<TaskContext>, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        match repositories::tasks::depth(&ctx.services.db).await {
            Ok(counts) => {
                let counts: Vec<(String, String, u64)> =
                    counts.into_iter().map(|(k, s, n)| (k, s.as_str().to_owned(), n)).collect();
                ctx.metrics.set_queue_depth(&counts);
            }
            Err(err) => tracing::warn!(error = %err, "counting tasks failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_stops_at_the_last_attempt() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(3600);
        let now = Utc::now();
        for (number, expected) in [(1u32, 2.0), (2, 4.0), (3, 8.0), (6, 64.0)] {
            let at = retry_at(&Attempt { number, max: 8, task_id: String::new() }, base, max, now)
                .unwrap();
            let delay = (at - now).num_milliseconds() as f64 / 1000.0;
            assert!(
                delay >= expected * 0.75 - 0.01 && delay < expected * 1.25 + 0.01,
                "{number}: {delay}"
            );
        }
        let capped = retry_at(
            &Attempt { number: 7, max: 20, task_id: String::new() },
            base,
            Duration::from_secs(10),
            now,
        )
        .unwrap();
        assert!((capped - now).num_seconds() <= 13);
        assert!(
            retry_at(&Attempt { number: 8, max: 8, task_id: String::new() }, base, max, now)
                .is_none()
        );
    }
}
