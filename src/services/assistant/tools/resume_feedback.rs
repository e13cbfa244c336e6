//! `resume_feedback`: what the candidate's default resume shows and misses for a job, from
//! the skills taxonomy, phrased by `ai::chains::resume_feedback`.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{Turn, job_reference_schema, job_source, references, string_arg};
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::ai::chains::recommendation::JobName;
use crate::ai::chains::resume_feedback::{self, FeedbackInput};
use crate::models::conversation::CitationKind;
use crate::repositories;
use crate::services::ServiceError;

pub const NAME: &str = "resume_feedback";

pub struct ResumeFeedback;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for ResumeFeedback {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Say which of a job's skills the candidate's default resume shows and which it misses: a number listed before, or words of the job's title or company."
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
            let resume =
                match repositories::resumes::default_of(&turn.ctx.db, &turn.principal.user_id)
                    .await?
                {
                    Some(id) => repositories::resumes::find(&turn.ctx.db, &id).await?,
                    None => None,
                };
            let Some(resume) = resume else {
                return Ok(ToolOutput::new(
                    "Upload a resume first: the feedback reads your default resume.",
                    Vec::new(),
                ));
            };
            let have: Vec<String> =
                resume.profile().skills.iter().map(|s| s.value.clone()).collect();
            let (emphasise, missing): (Vec<String>, Vec<String>) =
                job.fields.skills.iter().cloned().partition(|s| have.contains(s));
            let input = FeedbackInput {
                job: JobName { title: job.fields.title.clone(), company: company.name.clone() },
                emphasise,
                missing_skills: missing,
            };
            let text = if turn.take_call() {
                resume_feedback::advise(
                    turn.model.as_ref(),
                    &turn.ctx.prompts,
                    turn.ctx.ai.chat_params(),
                    &input,
                    |t| crate::services::resume_parser::taxonomy::find(t, false),
                )
                .await
                .map_err(super::chain_error)?
                .text
            } else {
                resume_feedback::template(&input)
            };
            Ok(ToolOutput::new(text, vec![job_source(&job, &company, false)]))
        })
    }
}
