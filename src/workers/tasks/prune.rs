//! Housekeeping: deletes what nobody can use any more.
//!
//! Expired or used single-use tokens, refresh tokens past expiry, sessions that ended over 30
//! days ago, and finished tasks older than 7 days. Running it twice deletes nothing more.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::repositories;
use crate::workers::WorkerContext;
use crate::workers::queue::{Attempt, Queue, Task};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prune {
    /// The scheduled time this run belongs to (one run per slot, however many schedulers).
    pub slot: i64,
}

impl Task for Prune {
    const KIND: &'static str = "prune";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 3;

    fn dedup_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: Arc<WorkerContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let db = &ctx.services.db;
        let now = Utc::now();
        let tokens = repositories::tokens::prune(db, now).await?;
        let sessions = repositories::sessions::prune(db, now, now - Duration::days(30)).await?;
        let tasks = repositories::tasks::prune_done(db, now - Duration::days(7)).await?;
        tracing::info!(tokens, sessions, tasks, "pruned");
        Ok(())
    }
}
