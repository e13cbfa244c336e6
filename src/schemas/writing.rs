//! Bodies of the texts the chat model writes for a candidate: a cover letter draft
//! (`/api/v1/jobs/{id}/cover-letter`), advice on a resume for a job
//! (`/api/v1/resumes/{id}/feedback`) and the phrased summary of one job's recommendation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::recommendation::JobRecommendationBody;

/// Who wrote a text: the chat model (each of its sentences checked against the facts it was
/// given) or the portal's template, from the facts alone, when the model's text did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WrittenBy {
    Model,
    Template,
}

impl WrittenBy {
    pub fn new(by_model: bool) -> Self {
        if by_model { WrittenBy::Model } else { WrittenBy::Template }
    }
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverLetterDraftRequest {
    /// One of the caller's resumes; the default resume when absent.
    pub resume_id: Option<String>,
}

/// A cover letter draft. It is not stored: send it as `cover_letter` when applying
/// (`POST /api/v1/jobs/{id}/applications`) or to an application's `PATCH
/// /api/v1/applications/{id}` while the company has not opened it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CoverLetterDraftBody {
    #[schema(
        example = "Dear Acme team,\n\nI am writing to apply for the Rust Developer position…"
    )]
    pub draft: String,
    pub source: WrittenBy,
}

/// The `token` event of a streamed draft: the next piece of its text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TextPieceEvent {
    pub text: String,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeFeedbackRequest {
    /// The public job to compare the resume with.
    pub job_id: String,
}

/// How a resume compares with a job's skills, and advice in words.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResumeFeedbackBody {
    /// The job's skills the resume does not show, in the job's order.
    #[schema(example = json!(["kubernetes"]))]
    pub missing_skills: Vec<String>,
    /// The job's skills the resume shows.
    #[schema(example = json!(["rust", "postgresql"]))]
    pub matched_skills: Vec<String>,
    /// What to put forward for this job.
    #[schema(example = json!(["rust", "postgresql"]))]
    pub emphasise: Vec<String>,
    /// The advice, naming only the skills above.
    pub text: String,
    pub source: WrittenBy,
}

/// A text and who wrote it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WrittenBody {
    pub text: String,
    pub source: WrittenBy,
}

/// One job's recommendation for the caller, with its explanation in two or three sentences.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExplainedRecommendationBody {
    #[serde(flatten)]
    pub recommendation: JobRecommendationBody,
    /// The explanation phrased; it names no skill or fact the explanation does not hold.
    pub summary: WrittenBody,
}
