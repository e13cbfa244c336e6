//! `recommend_jobs`: the jobs closest to the candidate's default resume, explained
//! (`services::recommendations`).

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{Turn, job_source};
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::models::conversation::CitationKind;
use crate::services::{ServiceError, recommendations};

pub const NAME: &str = "recommend_jobs";

/// The most recommendations an answer lists.
pub const SHOWN: u32 = 5;

/// The words of a request for recommendations: what it asks for, not what it names.
const ASKING: &[&str] = &[
    "recommend",
    "recommends",
    "recommendation",
    "recommendations",
    "recommended",
    "suggest",
    "suggests",
    "suggestion",
    "suggestions",
    "suggested",
    "match",
    "matches",
    "matching",
    "suit",
    "suits",
    "suitable",
    "fit",
    "fits",
    "fitting",
    "profile",
    "experience",
    "background",
    "based",
    "good",
    "great",
    "best",
    "apply",
    "should",
    "ideas",
];

/// Whether a message routed to recommendations names what it wants ("I'd like an Office
/// Manager job. What can I apply to?", "I'm a dental hygienist. Anything for me?"): then it
/// is a search for that, not the resume's best matches.
pub fn names_a_search(message: &str) -> bool {
    super::search_jobs::SearchArgs::default()
        .grounded(message)
        .query
        .is_some_and(|q| q.split(' ').any(|w| !ASKING.contains(&w)))
}

pub struct RecommendJobs;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for RecommendJobs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Recommend open jobs that match the candidate's default resume, with the skills that match."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"limit": {"type": ["integer", "null"], "minimum": 1, "maximum": SHOWN}},
            "required": ["limit"],
            "additionalProperties": false
        })
    }

    fn run<'a>(
        &'a self,
        turn: &'a Turn<'t>,
        arguments: Value,
    ) -> BoxFuture<'a, Result<ToolOutput<CitationKind>, ServiceError>> {
        Box::pin(async move {
            let limit = arguments
                .get("limit")
                .and_then(Value::as_u64)
                .map_or(SHOWN, |n| (n as u32).clamp(1, SHOWN));
            let found = match recommendations::for_candidate(turn.ctx, turn.principal, limit).await
            {
                Ok(found) => found,
                Err(err) => return super::refusal(err),
            };
            let items = found
                .iter()
                .map(|r| {
                    let mut source = job_source(&r.job, &r.company, false);
                    let e = &r.matched.explanation;
                    source.text.push_str(&format!("\nMatch: {}", e.skills_summary));
                    if !e.matched_skills.is_empty() {
                        source.text.push_str(&format!(
                            "; matching skills: {}",
                            e.matched_skills.join(", ")
                        ));
                    }
                    if !e.missing_skills.is_empty() {
                        source
                            .text
                            .push_str(&format!("; missing: {}", e.missing_skills.join(", ")));
                    }
                    source
                })
                .collect::<Vec<_>>();
            let summary = if items.is_empty() {
                "No open job matches your resume yet.".to_owned()
            } else {
                format!("{} jobs match your resume best.", items.len())
            };
            Ok(ToolOutput::new(summary, items))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_names_a_role_is_a_search_and_the_routes_examples_are_not() {
        let route = super::super::ROUTES.iter().find(|r| r.tool == NAME).unwrap();
        for example in route.examples {
            assert!(!names_a_search(example), "{example:?} asks for recommendations");
        }
        for named in [
            "I'd like an Office Manager job. What can I apply to?",
            "I'm a dental hygienist. Anything for me?",
            "recommend me some rust jobs",
        ] {
            assert!(names_a_search(named), "{named:?} names what it wants");
        }
    }
}
