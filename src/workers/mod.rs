//! Running background work: the loops that claim and run tasks from the durable queue
//! ([`runner`]), cron-like schedules that enqueue periodic work ([`scheduler`]), the
//! [`registry`] of every task kind this binary runs, and starting and stopping all of it
//! ([`Workers`]).
//!
//! What a task is and how it is enqueued is `crate::queue`; the tasks themselves live beside
//! the services that enqueue or own them and run with a `services::TaskContext`. Services
//! enqueue tasks in the same transaction as the data they act on. `serve` runs the workers
//! in-process; `jobportal worker` runs them alone (both through `crate::app`).

pub mod runner;
pub mod scheduler;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use crate::queue::Registry;
use crate::services::health::WorkersReport;
use crate::services::{self, TaskContext};

/// Every task kind this binary runs.
pub fn registry() -> Registry<Arc<TaskContext>> {
    Registry::new()
        .register::<services::email::SendEmail>()
        .register::<services::housekeeping::Prune>()
        .register::<services::jobs::expiry::CloseExpiredJobs>()
        .register::<services::import::task::ImportJobs>()
        .register::<services::alerts::JobAlerts>()
        .register::<services::backups::ScheduledBackup>()
}

/// The running workers and scheduler of a process.
pub struct Workers {
    runner: runner::RunnerHandle,
    scheduler: tokio::task::JoinHandle<()>,
    depth: tokio::task::JoinHandle<()>,
    stop: watch::Sender<bool>,
    pub status: Arc<WorkersStatus>,
}

/// What readiness reports about the workers.
#[derive(Debug)]
pub struct WorkersStatus {
    pub runner: Arc<runner::RunnerState>,
    pub scheduler: Arc<scheduler::SchedulerState>,
    pub mailer: String,
}

impl WorkersStatus {
    /// What readiness reports: the loops, the mailer and the scheduler's next slot.
    pub fn report(&self) -> WorkersReport {
        WorkersReport {
            loops: self.runner.loops.load(Ordering::Relaxed),
            busy: self.runner.busy.load(Ordering::Relaxed),
            mailer: self.mailer.clone(),
            next: self.scheduler.next.lock().map(|n| n.clone()).unwrap_or(None),
        }
    }
}

impl Workers {
    /// Starts the loops, the scheduler and the queue-depth reporter.
    pub fn start(ctx: Arc<TaskContext>) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let runner = runner::start(ctx.clone(), Arc::new(registry()), &ctx.config);
        let scheduler_state = Arc::new(scheduler::SchedulerState::default());
        let schedules = scheduler::schedules(&ctx.config);
        let scheduler = tokio::spawn(scheduler::run(
            ctx.clone(),
            schedules,
            scheduler_state.clone(),
            stop_rx.clone(),
        ));
        let depth =
            tokio::spawn(runner::report_depth(ctx.clone(), Duration::from_secs(5), stop_rx));
        let status = Arc::new(WorkersStatus {
            runner: runner.state.clone(),
            scheduler: scheduler_state,
            mailer: ctx.mailer.describe(),
        });
        Self { runner, scheduler, depth, stop, status }
    }

    /// Stops scheduling and claiming; running tasks get `grace` to finish, then go back to the
    /// queue.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = self.scheduler.await;
        let _ = self.depth.await;
        self.runner.shutdown(grace).await;
        tracing::info!("workers stopped");
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A task kind the registry lacks would be claimed and failed by every worker. Every
    /// `impl Task` in the crate names its kind on one line, so the source lists the kinds.
    #[test]
    fn every_task_kind_has_a_handler() {
        let registry = super::registry();
        let handled: Vec<&str> = registry.kinds().copied().collect();
        let mut kinds = Vec::new();
        kinds_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut kinds);
        assert!(kinds.len() >= 5, "{kinds:?}");
        for kind in kinds {
            assert!(handled.contains(&kind.as_str()), "no handler for the task kind {kind:?}");
        }
    }

    /// The kinds (`const KIND: &'static str = "…";`) defined in the Rust files under `dir`.
    fn kinds_in(dir: &Path, kinds: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("the source directory reads") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                kinds_in(&path, kinds);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file reads");
                kinds.extend(text.lines().filter_map(|line| {
                    let kind = line.trim().strip_prefix("const KIND: &'static str = \"")?;
                    Some(kind.split('"').next()?.to_owned())
                }));
            }
        }
    }
}
