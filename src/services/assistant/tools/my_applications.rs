//! `my_applications`: the candidate's own applications with their stages
//! (`services::applications::list_mine`).

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Turn, application_source};
use crate::ai::agents::arguments::nullable_enum;
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::models::application::Stage;
use crate::models::conversation::CitationKind;
use crate::services::{ServiceError, applications};

pub const NAME: &str = "my_applications";

/// The most applications an answer lists.
pub const SHOWN: u32 = 10;

pub struct MyApplications;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for MyApplications {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "List the candidate's own applications, newest first, with the stage of each (optionally only one stage)."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"stage": nullable_enum(Stage::ALL.iter().map(|s| s.as_str()))},
            "required": ["stage"],
            "additionalProperties": false
        })
    }

    fn run<'a>(
        &'a self,
        turn: &'a Turn<'t>,
        arguments: Value,
    ) -> BoxFuture<'a, Result<ToolOutput<CitationKind>, ServiceError>> {
        Box::pin(async move {
            let stage = arguments.get("stage").and_then(Value::as_str).and_then(Stage::parse);
            let (mine, total) =
                match applications::list_mine(turn.ctx, turn.principal, 100, 0).await {
                    Ok(found) => found,
                    Err(err) => return super::refusal(err),
                };
            let items: Vec<_> = mine
                .iter()
                .filter(|(a, _)| stage.is_none_or(|s| a.stage == s))
                .take(SHOWN as usize)
                .map(|(a, job)| application_source(a, job.as_ref()))
                .collect();
            let summary = match (items.len(), stage) {
                (0, None) => "You have not applied to any job yet.".to_owned(),
                (0, Some(s)) => format!("None of your applications is at the {s} stage."),
                (n, None) => format!("You have {total} applications; the newest {n} are listed."),
                (n, Some(s)) => format!("{n} of your applications are at the {s} stage."),
            };
            Ok(ToolOutput::new(summary, items))
        })
    }
}
