//! `save_job`: bookmarks a job (`services::saved`), once the user confirmed it.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Turn, job_reference_schema, job_source, references, string_arg};
use crate::ai::agents::tool_loop::{Confirm, Tool, ToolOutput};
use crate::models::conversation::CitationKind;
use crate::services::{ServiceError, jobs, saved};

pub const NAME: &str = "save_job";

pub struct SaveJob;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for SaveJob {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Save a job to the candidate's saved jobs (asks the user to confirm first): a number listed before, or words of its title or company."
    }

    fn schema(&self) -> Value {
        job_reference_schema()
    }

    fn is_write(&self) -> bool {
        true
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
            let question = format!(
                "Shall I save “{}” at {} to your saved jobs? Answer yes or no.",
                job.fields.title, company.name
            );
            let mut output =
                ToolOutput::new(question.clone(), vec![job_source(&job, &company, false)]);
            output.confirm =
                Some(Confirm { tool: NAME.into(), arguments: json!({"job_id": job.id}), question });
            Ok(output)
        })
    }
}

/// Saves the job the confirmed arguments name; says what happened.
pub async fn apply(turn: &Turn<'_>, arguments: &Value) -> Result<String, ServiceError> {
    let job_id = string_arg(arguments, "job_id")
        .ok_or_else(|| ServiceError::validation("the pending save names no job"))?;
    let (job, company) = match jobs::get(turn.ctx, Some(turn.principal), &job_id).await {
        Ok(found) => found,
        Err(ServiceError::NotFound(_)) => {
            return Ok("That job is no longer open, so I did not save it.".into());
        }
        Err(err) => return Err(err),
    };
    let new = match saved::save_job(turn.ctx, turn.principal, &job_id).await {
        Ok(new) => new,
        Err(err) => return super::refusal(err).map(|o| o.summary),
    };
    Ok(if new {
        format!("Saved “{}” at {} to your saved jobs.", job.fields.title, company.name)
    } else {
        format!("“{}” at {} was already in your saved jobs.", job.fields.title, company.name)
    })
}
