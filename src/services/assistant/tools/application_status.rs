//! `application_status`: where one of the candidate's applications stands, with its moves
//! (`services::applications`).

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Turn, application_source, references, string_arg};
use crate::ai::agents::arguments::nullable_string;
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::models::conversation::CitationKind;
use crate::services::{ServiceError, applications};

pub const NAME: &str = "application_status";

pub struct ApplicationStatus;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for ApplicationStatus {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Say the stage of one of the candidate's applications and how it got there: a number listed before, or words of the job's title or company."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"application": nullable_string(80)},
            "required": ["application"],
            "additionalProperties": false
        })
    }

    fn run<'a>(
        &'a self,
        turn: &'a Turn<'t>,
        arguments: Value,
    ) -> BoxFuture<'a, Result<ToolOutput<CitationKind>, ServiceError>> {
        Box::pin(async move {
            let (mine, _) = match applications::list_mine(turn.ctx, turn.principal, 100, 0).await {
                Ok(found) => found,
                Err(err) => return super::refusal(err),
            };
            let reference = string_arg(&arguments, "application");
            let (application, job) =
                match references::application(turn, reference.as_deref(), &mine) {
                    Ok(found) => found,
                    Err(why) => return Ok(ToolOutput::new(why, Vec::new())),
                };
            let mut source = application_source(application, job.as_ref());
            let (_, moves) =
                applications::history(turn.ctx, turn.principal, &application.id).await?;
            let moves: Vec<String> = moves
                .iter()
                .map(|m| format!("{} on {}", m.to.as_str(), m.at.format("%Y-%m-%d")))
                .collect();
            if !moves.is_empty() {
                source.text.push_str(&format!("\nMoves: {}", moves.join(", ")));
            }
            let summary = source.text.clone();
            Ok(ToolOutput::new(summary, vec![source]))
        })
    }
}
