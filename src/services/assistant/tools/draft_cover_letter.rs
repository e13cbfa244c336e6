//! `draft_cover_letter`: a cover letter for a job from the candidate's default resume and the
//! job's facts (`ai::chains::cover_letter`). When the candidate has applied to that job and
//! the company has not opened the application yet, it offers to save the draft as the
//! application's cover letter: a write, run only after a yes.

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Turn, job_reference_schema, job_source, references, string_arg};
use crate::ai::agents::tool_loop::{Confirm, Tool, ToolOutput};
use crate::ai::chains::cover_letter;
use crate::models::conversation::CitationKind;
use crate::models::resume::Profile;
use crate::repositories;
use crate::services::{ServiceError, applications};

pub const NAME: &str = "draft_cover_letter";

pub struct DraftCoverLetter;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for DraftCoverLetter {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Draft a cover letter for a job from the candidate's default resume: a number listed before, or words of its title or company."
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
            let Some(profile) = default_profile(turn).await? else {
                return Ok(ToolOutput::new(
                    "Upload a resume first: the letter is written from your default resume.",
                    Vec::new(),
                ));
            };
            if !turn.take_call() {
                return Ok(ToolOutput::new(
                    "I cannot write more in this message; ask me again.",
                    Vec::new(),
                ));
            }
            let input = crate::services::writing::cover_letter_input(&job, &company, &profile);
            let written = cover_letter::write(
                turn.model.as_ref(),
                &turn.ctx.prompts,
                turn.ctx.ai.chat_params(),
                &input,
                find_skills,
                &mut |_| {},
            )
            .await
            .map_err(super::chain_error)?;
            let mut output =
                ToolOutput::new(written.text.clone(), vec![job_source(&job, &company, false)]);
            // Offer to save it where it can still change.
            let (mine, _) = applications::list_mine(turn.ctx, turn.principal, 100, 0).await?;
            if let Some((application, _)) =
                mine.iter().find(|(a, _)| a.job_id == job.id && a.viewed_at.is_none())
            {
                let question = format!(
                    "Shall I save this letter as the cover letter of your application to “{}” at {}? Answer yes or no.",
                    job.fields.title, company.name
                );
                output.confirm = Some(Confirm {
                    tool: NAME.into(),
                    arguments: json!({"application_id": application.id, "cover_letter": written.text}),
                    question,
                });
            }
            Ok(output)
        })
    }
}

/// The skills a text names, by the resume parser's taxonomy.
fn find_skills(text: &str) -> Vec<String> {
    crate::services::resume_parser::taxonomy::find(text, false)
}

/// The caller's default resume's profile (with their corrections), if they have one.
async fn default_profile(turn: &Turn<'_>) -> Result<Option<Profile>, ServiceError> {
    let Some(id) = repositories::resumes::default_of(&turn.ctx.db, &turn.principal.user_id).await?
    else {
        return Ok(None);
    };
    Ok(repositories::resumes::find(&turn.ctx.db, &id).await?.map(|r| r.profile()))
}

/// Saves a confirmed draft as the application's cover letter; says what happened.
pub async fn apply(turn: &Turn<'_>, arguments: &Value) -> Result<String, ServiceError> {
    let id = string_arg(arguments, "application_id")
        .ok_or_else(|| ServiceError::validation("the pending cover letter names no application"))?;
    let text = arguments.get("cover_letter").and_then(Value::as_str).unwrap_or_default();
    match applications::update_cover_letter(turn.ctx, turn.principal, &id, text).await {
        Ok(view) => Ok(format!(
            "Saved the letter as the cover letter of your application to “{}” at {}.",
            view.job.fields.title, view.company.name
        )),
        Err(err) => super::refusal(err).map(|o| o.summary),
    }
}
