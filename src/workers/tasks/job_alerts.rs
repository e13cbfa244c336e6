//! Sends the job-alert digests of one frequency (instant, daily or weekly).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::models::saved::AlertFrequency;
use crate::services::alerts;
use crate::workers::WorkerContext;
use crate::workers::queue::{Attempt, Permanent, Queue, Task};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobAlerts {
    /// `instant`, `daily` or `weekly`.
    pub frequency: String,
    /// The scheduled time this run belongs to.
    pub slot: i64,
}

impl Task for JobAlerts {
    const KIND: &'static str = "job_alerts";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 5;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.frequency, self.slot))
    }

    async fn run(self, ctx: Arc<WorkerContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let frequency = AlertFrequency::parse(&self.frequency)
            .ok_or_else(|| Permanent(format!("unknown alert frequency {:?}", self.frequency)))?;
        let summary =
            alerts::send_digests(&ctx.services, frequency, ctx.config.alerts_settle).await?;
        if summary.searches > 0 {
            tracing::info!(
                frequency = %self.frequency,
                searches = summary.searches,
                sent = summary.sent,
                empty = summary.empty,
                skipped = summary.skipped,
                failed = summary.failed,
                "job alerts"
            );
        }
        Ok(())
    }
}
