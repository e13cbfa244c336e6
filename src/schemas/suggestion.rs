//! Bodies of the suggestions: typeahead completions, similar jobs and salary insights (the
//! correction a search may carry is in `job`, with the search).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::job::JobSummaryBody;

/// Query parameters of `GET /api/v1/suggest`. Every bad value is a 422 `validation_failed`.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    /// The text typed: at most 100 characters, with a letter or a digit.
    #[param(required = true)]
    pub q: Option<String>,
    /// Comma separated kinds to complete, among title, skill, company, location; all four when
    /// absent.
    pub kinds: Option<String>,
    /// Completions per kind, from 1 to 20 (default 5).
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// One completion.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompletionBody {
    /// As most jobs write it ("Senior Rust Engineer", "python", "Acme", "Lisbon, PT").
    pub text: String,
    /// Public jobs that carry it (0 for a skill of the taxonomy no public job asks for).
    pub count: u32,
    /// True when it completes the text only with one typo corrected.
    pub corrected: bool,
}

/// The completions of one kind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KindCompletionsBody {
    /// title, skill, company or location.
    pub kind: String,
    /// Best first: those that begin with the text (or have a word that does), then those
    /// reached with one typo; each group by count.
    pub items: Vec<CompletionBody>,
}

/// Typeahead completions, per kind in the order asked for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SuggestBody {
    pub q: String,
    pub kinds: Vec<KindCompletionsBody>,
}

/// Query parameters of `GET /api/v1/jobs/{id}/similar`.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// Similar jobs to list, from 1 to 50 (default 10); any other value is a 422
    /// `validation_failed`.
    #[param(value_type = Option<u32>)]
    pub limit: Option<String>,
}

/// A job similar to another.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimilarJobBody {
    pub job: JobSummaryBody,
    /// Cosine similarity of the embeddings (`embedding`) or the weighted share of skills and
    /// title words (`keyword`), from 0 to 1.
    pub score: f32,
    /// The skills both jobs ask for.
    pub shared_skills: Vec<String>,
}

/// The public jobs most similar to a job, best first (never the job itself).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SimilarJobsBody {
    pub job_id: String,
    /// `embedding` (the embedding model) or `keyword` (shared skills and title words, while the
    /// model is not loaded or the job has no vector yet).
    pub method: String,
    pub items: Vec<SimilarJobBody>,
}

/// Query parameters of `GET /api/v1/insights/salaries`. Every bad value is a 422
/// `validation_failed`.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SalaryInsightsQuery {
    /// Words every job must carry in its title, skills, company or places (at most 200
    /// characters; "Sr." and "senior" are one word).
    pub q: Option<String>,
    /// An ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// One of intern, junior, mid, senior, lead, executive.
    pub seniority: Option<String>,
    /// One of onsite, hybrid, remote.
    pub workplace: Option<String>,
    /// An ISO 4217 currency code: only salaries in it.
    pub currency: Option<String>,
}

/// Yearly amounts at the percentiles (interpolated linearly between the closest ranks).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PercentilesBody {
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
}

/// A bar of the histogram: yearly salaries from `from` up to `to` (the last bar includes
/// `to`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BucketBody {
    pub from: f64,
    pub to: f64,
    pub count: u32,
}

/// The published salaries of one currency, as yearly amounts (the middle of each range).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CurrencySalariesBody {
    pub currency: String,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub percentiles: PercentilesBody,
    /// Ten bars of equal width from `min` to `max` (one when they are equal).
    pub histogram: Vec<BucketBody>,
}

/// Salary insights: per currency with at least `min_count` salaries, the most salaries first.
/// Amounts are never converted between currencies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SalaryInsightsBody {
    /// The fewest salaries a currency needs to be answered.
    pub min_count: u64,
    pub currencies: Vec<CurrencySalariesBody>,
}
