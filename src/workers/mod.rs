//! Background work: a durable queue in SurrealDB ([`queue`]), the loops that run it
//! ([`runner`]), cron-like schedules that enqueue periodic work ([`scheduler`]), and the tasks
//! themselves, one file each under [`tasks`].
//!
//! `serve` runs all of it in-process; `jobportal worker` runs it alone. Tasks call
//! `services/`; services enqueue tasks in the same transaction as the data they act on.

pub mod queue;
pub mod runner;
pub mod scheduler;
pub mod tasks;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::core::config::WorkerConfig;
use crate::core::metrics::Metrics;
use crate::services::Context;
use crate::services::email::Mailer;

/// What a running task can reach.
pub struct WorkerContext {
    pub services: Context,
    pub mailer: Mailer,
    pub metrics: Arc<Metrics>,
    pub config: WorkerConfig,
}

/// Every task kind this binary runs.
pub fn registry() -> queue::Registry {
    queue::Registry::new()
        .register::<tasks::send_email::SendEmail>()
        .register::<tasks::prune::Prune>()
        .register::<tasks::close_expired_jobs::CloseExpiredJobs>()
        .register::<tasks::import_jobs::ImportJobs>()
        .register::<tasks::job_alerts::JobAlerts>()
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

impl Workers {
    /// Starts the loops, the scheduler and the queue-depth reporter.
    pub fn start(ctx: Arc<WorkerContext>) -> Self {
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
    /// A task module whose kind the registry lacks would be claimed and failed by every worker.
    /// Task kinds are named after their module, so the module list is the list of kinds.
    #[test]
    fn every_task_module_has_a_handler() {
        let registry = super::registry();
        let kinds: Vec<&str> = registry.kinds().copied().collect();
        let modules: Vec<&str> = include_str!("tasks/mod.rs")
            .lines()
            .filter_map(|line| line.strip_prefix("pub mod ")?.strip_suffix(';'))
            .collect();
        assert!(modules.len() >= 4, "{modules:?}");
        for module in modules {
            assert!(kinds.contains(&module), "no handler for the task kind {module:?}");
        }
    }
}
