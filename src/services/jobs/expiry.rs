//! Closing published jobs whose `expires_at` has passed, as a scheduled task (search already
//! hides them; this makes their status say so and takes them out of the index). The rule is
//! [`super::close_expired`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::queue::{Attempt, Queue, Task};
use crate::services::TaskContext;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CloseExpiredJobs {
    /// The scheduled time this run belongs to.
    pub slot: i64,
}

impl Task for CloseExpiredJobs {
    const KIND: &'static str = "close_expired_jobs";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 3;
    type Context = Arc<TaskContext>;

    fn dedup_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: Arc<TaskContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let closed = super::close_expired(&ctx.services).await?;
        if closed > 0 {
            tracing::info!(closed, "closed expired jobs");
        }
        Ok(())
    }
}
