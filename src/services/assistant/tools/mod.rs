//! The assistant's tools, each over the service it calls: `search_jobs` (every filter of
//! `GET /jobs`), `get_job`, `recommend_jobs`, `my_applications`, `application_status`,
//! `draft_cover_letter`, `save_job` and `resume_feedback`.
//!
//! Each is an [`agents::tool_loop::Tool`](crate::ai::agents::tool_loop::Tool) run in a [`Turn`]
//! (the caller, the conversation so far, the new message) that cites portal items. The facts
//! a tool gives (titles, companies, places, pay, stages) are written here, by code.
//!
//! A tool that names a job or an application takes a reference as the user gives one: a
//! number the assistant handed out earlier (`2`, `[2]`, "the second"), or words of its title
//! or company ([`references`]). Writes (`save_job`, a draft saved as an application's cover
//! letter) only ask: the question goes to the user with a [`PendingAction`], and
//! [`run_pending`] runs it once they say yes, with the arguments stored then.
//!
//! [`ROUTES`] is the routing table: example phrases and keywords per tool.

mod application_status;
mod draft_cover_letter;
mod get_job;
mod my_applications;
pub mod recommend_jobs;
pub mod references;
mod resume_feedback;
mod save_job;
pub mod search_jobs;

use std::sync::Arc;

use serde_json::Value;

pub use search_jobs::SearchArgs;

use super::{Citation, CitationKind, ConversationMessage, PendingAction, ToolStep};
use crate::ai::agents::citations::Source;
use crate::ai::agents::router::{NO_TOOL, Route, Router, THRESHOLD};
use crate::ai::agents::tool_loop::{Budget, ToolOutput, Toolbox};
use crate::ai::providers::chat::provider::ChatModel;
use crate::models::company::Company;
use crate::models::job::Job;
use crate::services::{Context, Principal, ServiceError};

/// One turn as the tools see it.
pub struct Turn<'a> {
    pub ctx: &'a Context,
    pub principal: &'a Principal,
    /// The conversation before this message, oldest first.
    pub history: &'a [ConversationMessage],
    /// The new message (invisible characters stripped).
    pub message: &'a str,
    /// The chat model, for the tools that phrase with it (chains).
    pub model: Arc<dyn ChatModel>,
    /// The turn's requests to the model still allowed.
    pub budget: std::sync::Mutex<Budget>,
    /// Hears how many answers come first while a request of the turn waits for the model.
    pub queued: &'a (dyn Fn(usize) + Send + Sync),
}

impl Turn<'_> {
    /// Takes one model request from the turn's budget; `false` when none is left.
    pub fn take_call(&self) -> bool {
        self.budget.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The citations of the assistant's messages, newest message first.
    pub fn cited(&self) -> impl Iterator<Item = &Citation> {
        self.history.iter().rev().flat_map(|m| m.citations.iter())
    }

    /// The citations of the assistant's last message that cited anything.
    pub fn last_cited(&self) -> &[Citation] {
        self.history
            .iter()
            .rev()
            .find(|m| !m.citations.is_empty())
            .map_or(&[], |m| m.citations.as_slice())
    }
}

/// The tools, as the model and the router know them.
pub type Tools<'a> = Toolbox<Turn<'a>, CitationKind, ServiceError>;

/// Every tool, in a fixed order (their definitions are part of a cached prompt prefix).
pub fn toolbox<'a>() -> Tools<'a> {
    Toolbox::new(vec![
        Box::new(search_jobs::SearchJobs),
        Box::new(get_job::GetJob),
        Box::new(recommend_jobs::RecommendJobs),
        Box::new(my_applications::MyApplications),
        Box::new(application_status::ApplicationStatus),
        Box::new(draft_cover_letter::DraftCoverLetter),
        Box::new(save_job::SaveJob),
        Box::new(resume_feedback::ResumeFeedback),
    ])
}

/// The words of a message about the asker's own records: the routes to them need one.
const FIRST_PERSON: &[&str] = &["i", "i'm", "i've", "me", "my", "mine", "myself"];

/// The words of a message that asks for recommendations: one of the asker's own, or the
/// verb itself ("what would you recommend"); "which jobs ask for SQL skills" is a search.
const FOR_ME: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "me",
    "my",
    "mine",
    "myself",
    "recommend",
    "recommendations",
    "suggest",
    "suggestions",
];

/// The routing table: what users write when they want each tool. A message closest to the
/// examples of [`NO_TOOL`] (questions about using the portal, greetings) runs no tool.
pub static ROUTES: &[Route] = &[
    Route {
        tool: "search_jobs",
        examples: &[
            "find me remote rust jobs",
            "are there any python developer positions in Berlin",
            "show me senior backend engineer jobs",
            "search for data analyst openings",
            "I'm looking for a part-time job in marketing",
            "which companies are hiring frontend developers",
            "list full-time devops jobs in Germany paying over 80000 EUR",
            "any internships for students",
            "jobs posted this week",
            "I want a job as a nurse in London",
            "looking for contract work as a designer",
            "show me the newest java jobs",
            "what jobs are there in Amsterdam",
            "find hybrid product manager roles",
            "remote jobs with a salary above 100k USD",
            "data engineer jobs",
            "nurse jobs in London",
            "rust developer",
            "what jobs does Stripe have open",
            "is Acme hiring",
            "which jobs ask for SQL skills",
            "jobs that require Kubernetes",
        ],
        keywords: &[
            "jobs",
            "find",
            "search",
            "looking for",
            "openings",
            "positions",
            "hiring",
            "vacancies",
            "jobs in",
            "any jobs",
            "roles",
        ],
        requires: &[],
    },
    Route {
        tool: "get_job",
        examples: &[
            "tell me more about the second job",
            "what does job 1 require",
            "show me the details of [3]",
            "what is the salary of that job",
            "describe the first one",
            "more details about the designer position",
            "what are the requirements of number 2",
            "where is the third job located",
            "open job 4 and show what it says",
            "give me the full description of [1]",
        ],
        keywords: &[
            "details",
            "more about",
            "tell me more",
            "describe",
            "description",
            "requirements",
            "require",
        ],
        requires: &[],
    },
    Route {
        tool: "recommend_jobs",
        examples: &[
            "recommend some jobs for me",
            "which jobs match my resume",
            "what jobs would suit my profile",
            "suggest jobs based on my skills",
            "what should I apply to",
            "jobs that fit my experience",
            "find jobs that match my CV",
            "which openings are a good match for my skills",
            "any good matches for me",
            "what would you recommend",
        ],
        keywords: &[
            "recommend",
            "recommendations",
            "suggest",
            "suit me",
            "match my",
            "fit me",
            "matches for me",
            "for me",
        ],
        requires: FOR_ME,
    },
    Route {
        tool: "my_applications",
        examples: &[
            "show my applications",
            "which jobs have I applied to",
            "list everything I applied for",
            "how many applications have I sent",
            "my job applications",
            "what did I apply for",
            "all the jobs I applied to so far",
        ],
        keywords: &["my applications", "applied to", "applied for", "i applied", "did i apply"],
        requires: FIRST_PERSON,
    },
    Route {
        tool: "application_status",
        examples: &[
            "what is the status of my application to Acme",
            "did I get an interview for the data engineer job",
            "has my application been rejected",
            "where is my application at",
            "any news on my application for the backend role",
            "what stage is my application in",
            "any update on my application to Initech",
            "has the company looked at my application",
            "did they answer my application for the Go job",
        ],
        keywords: &[
            "status",
            "stage",
            "news on",
            "update on",
            "heard back",
            "rejected",
            "interview",
            "my application to",
            "my application for",
        ],
        requires: FIRST_PERSON,
    },
    Route {
        tool: "draft_cover_letter",
        examples: &[
            "write a cover letter for the first job",
            "draft a cover letter for job 2",
            "help me write a cover letter for the Rust position",
            "can you write my motivation letter for this job",
            "prepare an application letter for [1]",
            "I need a cover letter for the data engineer role",
            "compose a letter to apply to this company",
        ],
        keywords: &[
            "cover letter",
            "motivation letter",
            "application letter",
            "letter",
            "draft",
            "write",
        ],
        requires: &[],
    },
    Route {
        tool: "save_job",
        examples: &[
            "save the first job",
            "bookmark job 2",
            "add this job to my saved jobs",
            "save [3] for later",
            "keep that job in my list",
            "remember this position for me",
            "please save the nurse job",
            "put number 2 on my list of saved jobs",
        ],
        keywords: &["save", "bookmark", "saved jobs", "for later", "remember", "keep"],
        requires: &[],
    },
    Route {
        tool: "resume_feedback",
        examples: &[
            "how does my resume fit the first job",
            "give me feedback on my resume for job 2",
            "what is missing from my CV for this position",
            "how can I improve my resume for the marketing job",
            "which skills am I missing for [1]",
            "review my resume against this job",
            "what does my CV lack for the data engineer role",
            "am I qualified for job 3",
            "compare my resume with the second job",
        ],
        keywords: &["resume", "cv", "feedback", "missing skills", "improve", "qualified", "lack"],
        requires: FIRST_PERSON,
    },
    Route {
        tool: NO_TOOL,
        examples: &[
            "how do I reset my password",
            "how do I upload a resume",
            "how can I delete my account",
            "how do saved searches and alerts work",
            "how do I apply to a job",
            "hello",
            "thanks for your help",
            "what can you do",
            "who are you",
        ],
        keywords: &["how do i", "how can i", "password", "account", "hello", "hi", "thanks"],
        requires: &[],
    },
];

/// The router over [`ROUTES`], shared by the process (the examples are embedded once).
pub static ROUTER: Router = Router::new(ROUTES, THRESHOLD);

/// The facts of a job as one line, from its record: title, company, place, workplace, kind,
/// seniority and pay when public.
pub fn job_facts(job: &Job, company: &Company) -> String {
    let f = &job.fields;
    let mut parts = vec![format!("{} at {}", f.title, company.name)];
    let places: Vec<String> = f.locations.iter().filter_map(|l| l.label()).take(3).collect();
    if !places.is_empty() {
        parts.push(places.join(" / "));
    }
    if let Some(w) = f.workplace {
        parts.push(w.as_str().to_owned());
    }
    if let Some(t) = f.employment_type {
        parts.push(t.as_str().replace('_', " "));
    }
    if let Some(s) = f.seniority {
        parts.push(s.as_str().to_owned());
    }
    if let Some(salary) = f.salary.as_ref().filter(|s| s.public) {
        let amount = match (salary.min, salary.max) {
            (Some(min), Some(max)) => format!("{}–{}", whole(min), whole(max)),
            (Some(min), None) => format!("from {}", whole(min)),
            (None, Some(max)) => format!("up to {}", whole(max)),
            (None, None) => String::new(),
        };
        if !amount.is_empty() {
            let currency = salary.currency.as_deref().unwrap_or("");
            let period = salary.period.map(|p| format!(" a {}", p.as_str())).unwrap_or_default();
            parts.push(format!("{amount} {currency}{period}").replace("  ", " "));
        }
    }
    parts.join(" · ")
}

/// A number without decimals and with thousands separated: 85000.0 → 85,000.
fn whole(amount: f64) -> String {
    let digits = format!("{:.0}", amount.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The most characters of a description a source carries into the prompt.
pub const DESCRIPTION_CHARS: usize = 600;

/// A job as a source to cite: its facts, then the start of its description (untrusted).
pub fn job_source(job: &Job, company: &Company, with_description: bool) -> Source<CitationKind> {
    let mut text = job_facts(job, company);
    if with_description {
        let description: String = job.fields.description.chars().take(DESCRIPTION_CHARS).collect();
        text.push('\n');
        text.push_str(&description);
    }
    Source { kind: CitationKind::Job, id: job.id.clone(), title: job.fields.title.clone(), text }
}

/// What a tool's refusal says (a job not found, a resume missing, a role without the right):
/// the user's own mistake becomes the tool's summary, not a failed turn.
pub fn refusal(err: ServiceError) -> Result<ToolOutput<CitationKind>, ServiceError> {
    match err {
        ServiceError::Validation(m)
        | ServiceError::InvalidParameter(m)
        | ServiceError::Forbidden(m) => Ok(ToolOutput::new(capitalised(&m), Vec::new())),
        ServiceError::ModelUnavailable(m) => Ok(ToolOutput::new(capitalised(&m), Vec::new())),
        ServiceError::NotFound(what) => {
            Ok(ToolOutput::new(format!("I could not find that {what}."), Vec::new()))
        }
        ServiceError::Conflict(_, m) => Ok(ToolOutput::new(capitalised(&m), Vec::new())),
        other => Err(other),
    }
}

fn capitalised(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Runs a write the user confirmed, with the arguments stored when it was proposed. Gives
/// the step it ran and what to tell the user.
pub async fn run_pending(
    turn: &Turn<'_>,
    pending: &PendingAction,
) -> Result<(ToolStep, String), ServiceError> {
    let step = ToolStep { name: pending.tool.clone(), arguments: pending.arguments.clone() };
    let text = match pending.tool.as_str() {
        save_job::NAME => save_job::apply(turn, &pending.arguments).await?,
        draft_cover_letter::NAME => draft_cover_letter::apply(turn, &pending.arguments).await?,
        other => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "a pending action names {other:?}, which does not write"
            )));
        }
    };
    Ok((step, text))
}

/// The arguments of a tool that names one job.
pub fn job_reference_schema() -> Value {
    serde_json::json!({
        "type": "object",
        "properties": {"job": crate::ai::agents::arguments::nullable_string(80)},
        "required": ["job"],
        "additionalProperties": false
    })
}

/// An application as a source to cite: its job, company and stage, from the records.
pub fn application_source(
    application: &crate::models::application::Application,
    job: Option<&(Job, Company)>,
) -> Source<CitationKind> {
    let title = job.map_or_else(
        || "a job that is gone".to_owned(),
        |(j, c)| format!("{} at {}", j.fields.title, c.name),
    );
    let text = format!(
        "Application to {title}: stage {}, sent {}",
        application.stage.as_str(),
        application.created_at.format("%Y-%m-%d")
    );
    Source { kind: CitationKind::Application, id: application.id.clone(), title, text }
}

/// A chain's failure as the service's: the model's errors keep their kind.
pub fn chain_error(err: crate::ai::chains::ChainError) -> ServiceError {
    match err {
        crate::ai::chains::ChainError::Chat(err) => ServiceError::Chat(err),
        crate::ai::chains::ChainError::Prompt(err) => ServiceError::Internal(err.into()),
    }
}

/// The string `arguments[key]`, trimmed, when there is one.
fn string_arg(arguments: &Value, key: &str) -> Option<String> {
    arguments
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests;
