//! Housekeeping: deletes what nobody can use any more, on a schedule ([`Prune`]).
//!
//! Expired or used single-use tokens, refresh tokens past expiry, sessions that ended over 30
//! days ago, finished tasks older than 7 days, failed-login windows begun over 7 days ago,
//! and assistant conversations quiet for longer than the configured retention. Running it
//! twice deletes nothing more.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Context, ServiceError, TaskContext};
use crate::queue::{Attempt, Queue, Task};
use crate::repositories;

/// How long a session that ended or expired is kept.
const ENDED_SESSIONS_KEPT: Duration = Duration::days(30);

/// How long a finished (done) task is kept.
const DONE_TASKS_KEPT: Duration = Duration::days(7);

/// How long a failed-login window is kept after it began (longer than any sensible window:
/// an ended one is started afresh by the next login anyway).
const LOGIN_FAILURES_KEPT: Duration = Duration::days(7);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub tokens: u64,
    pub sessions: u64,
    pub tasks: u64,
    pub conversations: u64,
    pub login_failures: u64,
}

/// Deletes unusable tokens, long-ended sessions, old finished tasks and the assistant
/// conversations with no message for `conversations_kept` (`None`: none of them).
pub async fn prune(
    ctx: &Context,
    conversations_kept: Option<std::time::Duration>,
) -> Result<Pruned, ServiceError> {
    let db = &ctx.db;
    let now = Utc::now();
    let tokens = repositories::tokens::prune(db, now).await?;
    let sessions = repositories::sessions::prune(db, now, now - ENDED_SESSIONS_KEPT).await?;
    let tasks = repositories::tasks::prune_done(db, now - DONE_TASKS_KEPT).await?;
    let login_failures = repositories::login_failures::prune(db, now - LOGIN_FAILURES_KEPT).await?;
    let conversations = match conversations_kept.and_then(|d| Duration::from_std(d).ok()) {
        Some(kept) => repositories::conversations::prune(db, now - kept).await?,
        None => 0,
    };
    Ok(Pruned { tokens, sessions, tasks, conversations, login_failures })
}

/// The scheduled [`prune`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prune {
    /// The scheduled time this run belongs to (one run per slot, however many schedulers).
    pub slot: i64,
}

impl Task for Prune {
    const KIND: &'static str = "prune";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 3;
    type Context = Arc<TaskContext>;

    fn dedup_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: Arc<TaskContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let Pruned { tokens, sessions, tasks, conversations, login_failures } =
            prune(&ctx.services, ctx.config.assistant_retention).await?;
        tracing::info!(tokens, sessions, tasks, conversations, login_failures, "pruned");
        Ok(())
    }
}
