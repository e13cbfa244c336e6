//! Texts the chat model writes for a candidate from the portal's own facts: a cover letter for
//! a job, advice on a resume for a job, and why a job was recommended.
//!
//! The facts are gathered and computed here (the job, the resume's profile with the
//! candidate's corrections, the skills the job asks for that the resume shows or misses, the
//! recommendation's explanation); the chains in `ai::chains` phrase them and check what the
//! model wrote against them.

use std::collections::HashSet;

use crate::ai::chains::cover_letter::{CandidateFacts, CoverLetterInput, JobFacts};
use crate::ai::chains::recommendation::{ExplanationInput, JobName};
use crate::ai::chains::resume_feedback::FeedbackInput;
use crate::ai::chains::{self, ChainError, Written};
use crate::ai::providers::chat::provider::ChatModel;
use crate::ai::providers::chat::types::GenerationParams;
use crate::models::company::Company;
use crate::models::job::{Job, Workplace};
use crate::models::resume::{Profile, Resume};
use crate::repositories;
use crate::services::recommendations::JobRecommendation;
use crate::services::resume_parser::taxonomy;
use crate::services::{Context, Principal, ServiceError, jobs, policy, resumes};
use crate::utils::skills;

pub use crate::ai::chains::Source;

/// The most tokens a cover letter may take (about 250 words).
const LETTER_TOKENS: usize = 400;

/// The skills a line of text names, as the taxonomy reads them (everyday words only with
/// evidence, so "go" in "go further" is no skill).
fn skills_in(text: &str) -> Vec<String> {
    taxonomy::find(text, false)
}

/// One spelling per skill: the portal's normal form of the taxonomy's canonical name, so
/// "Postgres", "PostgreSQL" and "postgresql" compare equal.
fn skill_key(name: &str) -> Option<String> {
    let normal = skills::normalize(name)?;
    Some(taxonomy::canonical(&normal).and_then(skills::normalize).unwrap_or(normal))
}

/// The job's skills split into those the profile shows and those it does not, each in the
/// job's order and spelling.
pub fn compare_skills(job: &Job, profile: &Profile) -> (Vec<String>, Vec<String>) {
    let have: HashSet<String> = profile.skills.iter().filter_map(|s| skill_key(&s.value)).collect();
    job.fields
        .skills
        .iter()
        .cloned()
        .partition(|s| skill_key(s).is_some_and(|key| have.contains(&key)))
}

fn chat_model(ctx: &Context) -> Result<std::sync::Arc<dyn ChatModel>, ServiceError> {
    ctx.ai.chat().ok_or_else(|| {
        ServiceError::ModelUnavailable(
            "writing this needs the chat model, which is not started".into(),
        )
    })
}

fn chain_error(err: ChainError) -> ServiceError {
    match err {
        ChainError::Chat(err) => ServiceError::Chat(err),
        ChainError::Prompt(err) => ServiceError::Internal(anyhow::Error::new(err)),
    }
}

/// A public job and its company (anything else is not found).
async fn public_job(ctx: &Context, job_id: &str) -> Result<(Job, Company), ServiceError> {
    jobs::get(ctx, None, job_id).await
}

/// The caller's resume `resume_id`, or their default one.
async fn resume_of(
    ctx: &Context,
    principal: &Principal,
    resume_id: Option<&str>,
) -> Result<Resume, ServiceError> {
    match resume_id {
        Some(id) if id.trim().is_empty() => {
            Err(ServiceError::validation("resume_id must name one of your resumes"))
        }
        Some(id) => resumes::get(ctx, principal, id).await,
        None => {
            let missing =
                || ServiceError::validation("upload a resume first (or name one with resume_id)");
            let id = repositories::resumes::default_of(&ctx.db, &principal.user_id)
                .await?
                .ok_or_else(missing)?;
            resumes::get(ctx, principal, &id).await
        }
    }
}

/// A cover letter ready to be written: the facts, and the model that writes it.
pub struct CoverLetterDraft {
    pub input: CoverLetterInput,
    model: std::sync::Arc<dyn ChatModel>,
    params: GenerationParams,
}

/// Gathers the facts of a cover letter from the caller (a candidate) for a public job, from
/// `resume_id` or their default resume. Everything that can refuse the request refuses here,
/// before anything is written.
pub async fn prepare_cover_letter(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
    resume_id: Option<&str>,
) -> Result<CoverLetterDraft, ServiceError> {
    policy::keep_resumes(principal)
        .map_err(|_| ServiceError::forbidden("cover letters are written for candidate accounts"))?;
    let (job, company) = public_job(ctx, job_id).await?;
    let resume = resume_of(ctx, principal, resume_id).await?;
    let model = chat_model(ctx)?;
    let params = ctx.ai.chat_params();
    let params = GenerationParams { max_tokens: params.max_tokens.min(LETTER_TOKENS), ..params };
    Ok(CoverLetterDraft {
        input: cover_letter_input(&job, &company, &resume.profile()),
        model,
        params,
    })
}

/// Writes the prepared letter, sending its text to `on_piece` as it passes the facts check.
pub async fn write_cover_letter(
    ctx: &Context,
    draft: CoverLetterDraft,
    on_piece: &mut (dyn FnMut(&str) + Send),
) -> Result<Written, ServiceError> {
    chains::cover_letter::write(
        draft.model.as_ref(),
        &ctx.prompts,
        draft.params,
        &draft.input,
        skills_in,
        on_piece,
    )
    .await
    .map_err(chain_error)
}

/// The facts of a letter: the job's title, company, place and skills; the profile's name,
/// summary, skills, latest jobs and studies.
pub fn cover_letter_input(job: &Job, company: &Company, profile: &Profile) -> CoverLetterInput {
    let location =
        job.fields.primary_location().and_then(|l| l.label()).or_else(|| {
            (job.fields.workplace == Some(Workplace::Remote)).then(|| "remote".to_owned())
        });
    let (matched_skills, _) = compare_skills(job, profile);
    let experience = profile
        .experience
        .iter()
        .filter_map(|e| {
            let e = &e.value;
            let mut line = match (&e.title, &e.company) {
                (Some(title), Some(company)) => format!("{title} at {company}"),
                (Some(title), None) => title.clone(),
                (None, Some(company)) => format!("a job at {company}"),
                (None, None) => return None,
            };
            let end = if e.current { Some("now") } else { e.end.as_deref() };
            match (e.start.as_deref(), end) {
                (Some(start), Some(end)) => line.push_str(&format!(" ({start} to {end})")),
                (Some(start), None) => line.push_str(&format!(" (from {start})")),
                (None, Some(end)) => line.push_str(&format!(" (until {end})")),
                (None, None) => {}
            }
            Some(line)
        })
        .take(3)
        .collect();
    let education = profile
        .education
        .iter()
        .filter_map(|e| {
            let e = &e.value;
            let mut line = match (&e.degree, &e.school) {
                (Some(degree), Some(school)) => format!("{degree}, {school}"),
                (Some(degree), None) => degree.clone(),
                (None, Some(school)) => format!("at {school}"),
                (None, None) => return None,
            };
            if let Some(year) = e.year {
                line.push_str(&format!(" ({year})"));
            }
            Some(line)
        })
        .take(2)
        .collect();
    CoverLetterInput {
        job: JobFacts {
            title: job.fields.title.clone(),
            company: company.name.clone(),
            location,
            skills: job.fields.skills.clone(),
        },
        candidate: CandidateFacts {
            name: profile.name.as_ref().map(|n| n.value.clone()),
            summary: profile
                .summary
                .as_ref()
                .map(|s| s.value.chars().take(400).collect::<String>()),
            skills: skills::normalize_all(profile.skills.iter().map(|s| s.value.as_str()))
                .into_iter()
                .take(20)
                .collect(),
            matched_skills,
            experience,
            education,
        },
    }
}

/// Advice on one of the caller's resumes for a public job.
#[derive(Debug, Clone)]
pub struct Feedback {
    /// The job's skills the resume does not show, in the job's order.
    pub missing_skills: Vec<String>,
    /// The job's skills the resume shows.
    pub matched_skills: Vec<String>,
    /// What to put forward: the matched skills.
    pub emphasise: Vec<String>,
    pub written: Written,
}

/// Compares the caller's resume `resume_id` with the public job `job_id` and phrases the
/// advice. Another's resume is not found; a non-candidate is refused.
pub async fn resume_feedback(
    ctx: &Context,
    principal: &Principal,
    resume_id: &str,
    job_id: &str,
) -> Result<Feedback, ServiceError> {
    policy::keep_resumes(principal)?;
    let resume = resumes::get(ctx, principal, resume_id).await?;
    if job_id.trim().is_empty() {
        return Err(ServiceError::validation("job_id must name a public job"));
    }
    let (job, company) = public_job(ctx, job_id).await?;
    let (matched_skills, missing_skills) = compare_skills(&job, &resume.profile());
    let input = FeedbackInput {
        job: JobName { title: job.fields.title.clone(), company: company.name.clone() },
        emphasise: matched_skills.clone(),
        missing_skills: missing_skills.clone(),
    };
    let model = chat_model(ctx)?;
    let written = chains::resume_feedback::advise(
        model.as_ref(),
        &ctx.prompts,
        ctx.ai.chat_params(),
        &input,
        skills_in,
    )
    .await
    .map_err(chain_error)?;
    Ok(Feedback { emphasise: matched_skills.clone(), matched_skills, missing_skills, written })
}

/// Why `recommendation` was made, in two or three sentences.
pub async fn explain_recommendation(
    ctx: &Context,
    recommendation: &JobRecommendation,
) -> Result<Written, ServiceError> {
    let input = ExplanationInput::new(
        &recommendation.job.fields.title,
        &recommendation.company.name,
        &recommendation.matched.explanation,
    );
    let model = chat_model(ctx)?;
    chains::recommendation::explain(
        model.as_ref(),
        &ctx.prompts,
        ctx.ai.chat_params(),
        &input,
        skills_in,
    )
    .await
    .map_err(chain_error)
}
