//! Bodies of `/api/v1/recommendations` and `/api/v1/jobs/{id}/recommended-candidates`.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::job::JobSummaryBody;
use crate::models::recommendation::{Explanation, Match, Preferences, Reason};

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// 1 to 50, default 10.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReasonBody {
    /// similarity, skills, workplace, location, seniority or salary.
    #[schema(example = "skills")]
    pub factor: String,
    /// What the score gained (positive) or lost (negative) by it; the effects add up to the score.
    #[schema(example = 0.35)]
    pub effect: f32,
    #[schema(example = "7 of 9 skills match; missing: kubernetes, terraform")]
    pub detail: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExplanationBody {
    /// Cosine similarity of the resume's and the job's embeddings.
    pub similarity: f32,
    pub matched_skills: Vec<String>,
    pub missing_skills: Vec<String>,
    #[schema(example = "7 of 9 skills match")]
    pub skills_summary: String,
    pub reasons: Vec<ReasonBody>,
}

impl From<&Explanation> for ExplanationBody {
    fn from(e: &Explanation) -> Self {
        Self {
            similarity: e.similarity,
            matched_skills: e.matched_skills.clone(),
            missing_skills: e.missing_skills.clone(),
            skills_summary: e.skills_summary.clone(),
            reasons: e
                .reasons
                .iter()
                .map(|r: &Reason| ReasonBody {
                    factor: r.factor.into(),
                    effect: r.effect,
                    detail: r.detail.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobRecommendationBody {
    pub job: JobSummaryBody,
    /// The sum of the reasons' effects; higher is better.
    pub score: f32,
    pub explanation: ExplanationBody,
}

impl JobRecommendationBody {
    pub fn new(job: JobSummaryBody, matched: &Match) -> Self {
        Self { job, score: matched.score, explanation: (&matched.explanation).into() }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobRecommendationListBody {
    pub items: Vec<JobRecommendationBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CandidateRecommendationBody {
    pub candidate_id: String,
    /// Their default resume (readable through the application when they applied).
    pub resume_id: String,
    pub name: Option<String>,
    /// The latest job title on the resume.
    pub headline: Option<String>,
    pub years_experience: Option<f32>,
    /// Applied to this job; otherwise they chose to be discoverable.
    pub applied: bool,
    pub score: f32,
    pub explanation: ExplanationBody,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CandidateRecommendationListBody {
    pub items: Vec<CandidateRecommendationBody>,
}

/// A candidate's preferences; every field is optional and lists mean "any of".
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// ISO 3166 alpha-2 codes.
    #[serde(default)]
    #[schema(example = json!(["PT", "ES"]))]
    pub countries: Vec<String>,
    #[serde(default)]
    #[schema(example = json!(["Lisbon"]))]
    pub cities: Vec<String>,
    /// onsite, hybrid, remote.
    #[serde(default)]
    #[schema(example = json!(["remote", "hybrid"]))]
    pub workplaces: Vec<String>,
    /// intern, junior, mid, senior, lead, executive.
    #[serde(default)]
    #[schema(example = json!(["senior"]))]
    pub seniorities: Vec<String>,
    /// Yearly floor, in `salary_currency`.
    pub salary_min_yearly: Option<f64>,
    pub salary_currency: Option<String>,
}

impl From<PreferencesBody> for Preferences {
    fn from(b: PreferencesBody) -> Self {
        Self {
            countries: b.countries,
            cities: b.cities,
            workplaces: b.workplaces,
            seniorities: b.seniorities,
            salary_min_yearly: b.salary_min_yearly,
            salary_currency: b.salary_currency,
        }
    }
}

impl From<Preferences> for PreferencesBody {
    fn from(p: Preferences) -> Self {
        Self {
            countries: p.countries,
            cities: p.cities,
            workplaces: p.workplaces,
            seniorities: p.seniorities,
            salary_min_yearly: p.salary_min_yearly,
            salary_currency: p.salary_currency,
        }
    }
}
