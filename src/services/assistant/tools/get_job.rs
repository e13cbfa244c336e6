//! `get_job`: one job's details (the job a reference points at).

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{Turn, job_reference_schema, job_source, references, string_arg};
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::models::conversation::CitationKind;
use crate::services::ServiceError;

pub const NAME: &str = "get_job";

pub struct GetJob;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for GetJob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Show the details of one job: a number listed before (\"2\") or words of its title or company."
    }

    fn schema(&self) -> Value {
        job_reference_schema()
    }

    fn run<'a>(
        &'a self,
        turn: &'a Turn<'t>,
        arguments: Value,
    ) -> BoxFuture<'a, Result<ToolOutput<CitationKind>, ServiceError>> {
        Box::pin(async move {
            let reference = string_arg(&arguments, "job");
            let (job, company) = match references::job(turn, reference.as_deref()).await? {
                Ok(found) => found,
                Err(why) => return Ok(ToolOutput::new(why, Vec::new())),
            };
            let source = job_source(&job, &company, true);
            let mut summary = source.text.lines().next().unwrap_or_default().to_owned();
            if !job.fields.skills.is_empty() {
                summary.push_str(&format!(". Skills: {}", job.fields.skills.join(", ")));
            }
            Ok(ToolOutput::new(summary, vec![source]))
        })
    }
}
