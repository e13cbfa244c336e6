//! The import of an uploaded file as a task: the admin API stores the upload and enqueues
//! [`ImportJobs`] (`admin::enqueue_import`); the task imports it and records the summary on
//! itself for whoever polls it. Rerunning it is harmless: the import is idempotent.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::formats::Format;
use super::{ImportOptions, ImportSummary, Input};
use crate::queue::{Attempt, Permanent, Queue, Task};
use crate::repositories;
use crate::services::{Context, ServiceError, TaskContext};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportJobs {
    /// The uploaded file, in the data directory.
    pub path: String,
    /// json, jsonl or csv.
    pub format: Format,
    pub source: String,
}

impl Task for ImportJobs {
    const KIND: &'static str = "import_jobs";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 3;
    type Context = Arc<TaskContext>;

    async fn run(self, ctx: Arc<TaskContext>, attempt: Attempt) -> anyhow::Result<()> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(err) => {
                return Err(Permanent(format!("the upload {} is gone: {err}", self.path)).into());
            }
        };
        let input =
            Input { name: "upload".into(), reader: Box::new(file), format: Some(self.format) };
        let options =
            ImportOptions { default_source: self.source.clone(), ..ImportOptions::default() };
        let summary = super::import(&ctx.services, vec![input], &options, &mut ()).await?;
        record_summary(&ctx.services, &attempt.task_id, &summary).await?;
        let _ = std::fs::remove_file(&self.path);
        tracing::info!(
            created = summary.created,
            updated = summary.updated,
            invalid = summary.invalid,
            "import done"
        );
        Ok(())
    }
}

/// Records an import's summary on its task, where the admin who enqueued it reads it
/// (`admin::get_task`).
async fn record_summary(
    ctx: &Context,
    task_id: &str,
    summary: &ImportSummary,
) -> Result<(), ServiceError> {
    let result = serde_json::to_value(summary).map_err(|e| ServiceError::Internal(e.into()))?;
    repositories::tasks::set_result(&ctx.db, task_id, result).await?;
    Ok(())
}
