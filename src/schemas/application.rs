//! Bodies of applications (`/api/v1/jobs/{id}/applications`, `/api/v1/applications`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::models::application::{Application, Note, StageEvent};
use crate::models::company::Company;
use crate::models::job::Job;
use crate::models::resume::Profile;
use crate::models::user::User;
use crate::schemas::job::JobSummaryBody;

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// One of the caller's resumes; the default resume when absent.
    pub resume_id: Option<String>,
    pub cover_letter: Option<String>,
}

/// An application. `cover_letter_editable` is true until the company first opens it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApplicationBody {
    pub id: String,
    pub job_id: String,
    pub company_id: String,
    pub resume_id: String,
    pub stage: String,
    pub rejection_reason: Option<String>,
    pub cover_letter: String,
    pub cover_letter_editable: bool,
    /// When the company first opened it.
    pub viewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The job, when it still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<JobSummaryBody>,
    /// The candidate (for the company's view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<CandidateBody>,
}

impl ApplicationBody {
    pub fn new(
        a: &Application,
        job: Option<(&Job, &Company)>,
        candidate: Option<CandidateBody>,
    ) -> Self {
        Self {
            id: a.id.clone(),
            job_id: a.job_id.clone(),
            company_id: a.company_id.clone(),
            resume_id: a.resume_id.clone(),
            stage: a.stage.as_str().into(),
            rejection_reason: a.rejection_reason.map(|r| r.as_str().into()),
            cover_letter: a.cover_letter.clone(),
            cover_letter_editable: a.viewed_at.is_none() && !a.stage.is_final(),
            viewed_at: a.viewed_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            job: job.map(|(j, c)| JobSummaryBody::new(j, c)),
            candidate,
        }
    }
}

/// Who applied, as the company sees them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidateBody {
    pub id: String,
    pub full_name: String,
    pub email: String,
    /// The parsed profile of the resume sent, with the candidate's corrections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
}

impl CandidateBody {
    pub fn new(user: &User, profile: Option<Profile>) -> Self {
        Self {
            id: user.id.clone(),
            full_name: user.full_name.clone(),
            email: user.email.clone(),
            profile,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApplicationListBody {
    pub items: Vec<ApplicationBody>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// A job's applications for its company, with the number at each stage (over all of them).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobApplicationsBody {
    pub items: Vec<ApplicationBody>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    #[schema(value_type = Object)]
    pub counts: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobApplicationsQuery {
    /// Comma-separated stages, any of.
    pub stage: Option<String>,
    /// Applications sent at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Applications sent before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Moves an application. Companies move forward through applied → screening → interview →
/// offer → hired, or to `rejected` with a `reason`; `note` is internal to the company.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    #[schema(example = "interview")]
    pub stage: String,
    /// With `rejected`: not_qualified, insufficient_experience, position_filled,
    /// salary_expectations, location, better_fit or other.
    pub reason: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverLetterRequest {
    pub cover_letter: String,
}

/// One move of an application. `note` and `actor_id` are shown to the company only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StageEventBody {
    pub from: Option<String>,
    pub to: String,
    /// `candidate` or `company`.
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

impl StageEventBody {
    pub fn new(e: &StageEvent, for_company: bool) -> Self {
        Self {
            from: e.from.map(|s| s.as_str().into()),
            to: e.to.as_str().into(),
            by: e.by_role.clone(),
            actor_id: for_company.then(|| e.actor_id.clone()),
            reason: e.reason.map(|r| r.as_str().into()),
            note: if for_company { e.note.clone() } else { None },
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HistoryBody {
    pub items: Vec<StageEventBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteBody {
    pub id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Note> for NoteBody {
    fn from(n: &Note) -> Self {
        Self {
            id: n.id.clone(),
            author_id: n.author_id.clone(),
            body: n.body.clone(),
            created_at: n.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NoteListBody {
    pub items: Vec<NoteBody>,
}
