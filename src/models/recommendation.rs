//! What recommendations read and answer: a candidate's stated preferences, and the explained
//! match between a candidate and a job.

use serde::{Deserialize, Serialize};

/// A candidate's stated preferences (all optional; empty lists mean "any").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Preferences {
    /// ISO 3166 alpha-2 codes, upper case.
    #[serde(default)]
    pub countries: Vec<String>,
    /// City names, as written.
    #[serde(default)]
    pub cities: Vec<String>,
    /// onsite, hybrid, remote.
    #[serde(default)]
    pub workplaces: Vec<String>,
    /// intern … executive.
    #[serde(default)]
    pub seniorities: Vec<String>,
    /// Yearly floor in `salary_currency`.
    pub salary_min_yearly: Option<f64>,
    pub salary_currency: Option<String>,
}

/// One thing that moved a match's score up or down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// similarity, skills, workplace, location, seniority, salary.
    pub factor: &'static str,
    /// What the score gained (positive) or lost (negative) by it.
    pub effect: f32,
    pub detail: String,
}

/// Why a job and a candidate match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Cosine similarity of the two texts' embeddings, -1 to 1.
    pub similarity: f32,
    pub matched_skills: Vec<String>,
    pub missing_skills: Vec<String>,
    /// "7 of 9 skills match", or that the job lists none.
    pub skills_summary: String,
    pub reasons: Vec<Reason>,
}

/// A scored, explained match.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub score: f32,
    pub explanation: Explanation,
}
