//! Imports an uploaded file of jobs (the admin API stores the upload and enqueues this), and
//! records the summary on the task for whoever polls it. Rerunning it is harmless: the import
//! is idempotent.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::repositories;
use crate::services::import::formats::Format;
use crate::services::import::{self, ImportOptions, Input};
use crate::workers::WorkerContext;
use crate::workers::queue::{Attempt, Permanent, Queue, Task};

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

    async fn run(self, ctx: Arc<WorkerContext>, attempt: Attempt) -> anyhow::Result<()> {
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
        let summary = import::import(&ctx.services, vec![input], &options, &mut ()).await?;
        repositories::tasks::set_result(
            &ctx.services.db,
            &attempt.task_id,
            serde_json::to_value(&summary)?,
        )
        .await?;
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
