//! Cron-like schedules that enqueue periodic tasks.
//!
//! At each fire time the scheduler enqueues the schedule's task with a dedup key naming the
//! slot (the fire time). Every process computes the same slots, and the key is unique in the
//! queue, so however many workers run a schedule, each slot runs once. A slot missed while no
//! scheduler was running is skipped, not caught up.

use std::sync::Arc;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::core::config::{WorkerConfig, parse_cron};
use crate::queue;
use crate::repositories::RepoError;
use crate::services::TaskContext;
use crate::services::alerts::JobAlerts;
use crate::services::backups::ScheduledBackup;
use crate::services::housekeeping::Prune;
use crate::services::jobs::expiry::CloseExpiredJobs;

/// What a schedule enqueues at a slot.
type Enqueue = fn(
    Arc<TaskContext>,
    DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>>;

pub struct Schedule {
    pub name: &'static str,
    pub cron: croner::Cron,
    enqueue: Enqueue,
}

/// Readiness: when the scheduler last looked and what comes next.
#[derive(Debug, Default)]
pub struct SchedulerState {
    pub last_tick: Mutex<Option<DateTime<Utc>>>,
    pub next: Mutex<Option<(String, DateTime<Utc>)>>,
}

fn enqueue_close_expired(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    Box::pin(async move {
        queue::enqueue(&ctx.services.db, &CloseExpiredJobs { slot: slot.timestamp() }).await
    })
}

fn enqueue_prune(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    Box::pin(
        async move { queue::enqueue(&ctx.services.db, &Prune { slot: slot.timestamp() }).await },
    )
}

fn enqueue_backup(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    Box::pin(async move {
        queue::enqueue(&ctx.services.db, &ScheduledBackup { slot: slot.timestamp() }).await
    })
}

fn alerts(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
    frequency: &'static str,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    Box::pin(async move {
        queue::enqueue(
            &ctx.services.db,
            &JobAlerts { frequency: frequency.into(), slot: slot.timestamp() },
        )
        .await
    })
}

fn enqueue_alerts_instant(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    alerts(ctx, slot, "instant")
}

fn enqueue_alerts_daily(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    alerts(ctx, slot, "daily")
}

fn enqueue_alerts_weekly(
    ctx: Arc<TaskContext>,
    slot: DateTime<Utc>,
) -> futures_util::future::BoxFuture<'static, Result<Option<String>, RepoError>> {
    alerts(ctx, slot, "weekly")
}

/// The schedules switched on in the configuration.
pub fn schedules(config: &WorkerConfig) -> Vec<Schedule> {
    config
        .schedules
        .iter()
        .filter_map(|s| {
            let cron = parse_cron(s.cron.as_deref()?).ok()?;
            let enqueue: Enqueue = match s.name {
                "prune" => enqueue_prune,
                "close_expired_jobs" => enqueue_close_expired,
                "job_alerts_instant" => enqueue_alerts_instant,
                "job_alerts_daily" => enqueue_alerts_daily,
                "job_alerts_weekly" => enqueue_alerts_weekly,
                "backup" => enqueue_backup,
                _ => return None,
            };
            Some(Schedule { name: s.name, cron, enqueue })
        })
        .collect()
}

/// The next slot of a schedule strictly after `after`.
pub fn next_slot(cron: &croner::Cron, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&after, false).ok()
}

/// Runs until `stop` fires: sleeps until the earliest next slot, enqueues it, repeats.
pub async fn run(
    ctx: Arc<TaskContext>,
    schedules: Vec<Schedule>,
    state: Arc<SchedulerState>,
    mut stop: watch::Receiver<bool>,
) {
    if schedules.is_empty() {
        return;
    }
    let mut after = Utc::now();
    loop {
        let next = schedules
            .iter()
            .filter_map(|s| next_slot(&s.cron, after).map(|at| (s, at)))
            .min_by_key(|(_, at)| *at);
        let Some((_, at)) = next else { return };
        *state.next.lock().expect("scheduler state lock") =
            next.map(|(s, at)| (s.name.to_owned(), at));
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        *state.last_tick.lock().expect("scheduler state lock") = Some(Utc::now());
        // Every schedule due at this instant fires (two may share a slot).
        for schedule in schedules.iter().filter(|s| next_slot(&s.cron, after) == Some(at)) {
            match (schedule.enqueue)(ctx.clone(), at).await {
                Ok(Some(_)) => {
                    tracing::info!(schedule = schedule.name, slot = %at, "scheduled task enqueued")
                }
                Ok(None) => {
                    tracing::debug!(schedule = schedule.name, slot = %at, "slot already enqueued by another scheduler")
                }
                Err(err) => {
                    tracing::warn!(schedule = schedule.name, error = %err, "enqueueing a scheduled task failed")
                }
            }
        }
        after = at;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_next_slot_of_an_hourly_schedule_is_the_next_17th_minute() {
        let cron = parse_cron("17 * * * *").unwrap();
        let after = Utc.with_ymd_and_hms(2026, 1, 1, 10, 17, 0).unwrap();
        assert_eq!(
            next_slot(&cron, after),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 11, 17, 0).unwrap())
        );
        let after = Utc.with_ymd_and_hms(2026, 1, 1, 10, 5, 0).unwrap();
        assert_eq!(
            next_slot(&cron, after),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 17, 0).unwrap())
        );
    }

    #[test]
    fn the_backup_schedule_runs_only_when_it_has_a_cron() {
        let dir = std::path::Path::new("/tmp/jobportal-schedules");
        let mut config = WorkerConfig::for_dir(dir);
        let names = |config: &WorkerConfig| -> Vec<&'static str> {
            schedules(config).iter().map(|s| s.name).collect()
        };
        assert!(!names(&config).contains(&"backup"), "off by default");
        for schedule in &mut config.schedules {
            if schedule.name == "backup" {
                schedule.cron = Some("0 4 * * *".into());
            }
        }
        assert!(names(&config).contains(&"backup"));
    }

    #[test]
    fn six_field_and_broken_expressions_are_refused() {
        assert!(parse_cron("0 17 * * * *").is_err());
        assert!(parse_cron("every hour").is_err());
        assert!(parse_cron("*/5 * * * *").is_ok());
    }
}
