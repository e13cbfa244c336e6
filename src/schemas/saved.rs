//! Bodies of `/api/v1/saved-jobs` and `/api/v1/saved-searches`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::models::saved::{SavedSearch, SearchFilters};
use crate::schemas::job::JobSummaryBody;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SavedJobBody {
    pub job_id: String,
    pub saved_at: DateTime<Utc>,
    /// False once the job is closed, expired or gone.
    pub available: bool,
    /// The job, while it exists.
    pub job: Option<JobSummaryBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SavedJobListBody {
    pub items: Vec<SavedJobBody>,
}

/// A saved search: the filters of `GET /api/v1/jobs` and how often its digest goes out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSavedSearchRequest {
    #[schema(example = "Remote Rust jobs")]
    pub name: String,
    #[serde(default)]
    pub filters: SearchFilters,
    /// `instant`, `daily` or `weekly`.
    #[schema(example = "daily")]
    pub frequency: String,
}

/// Fields to change; absent ones stay.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSavedSearchRequest {
    pub name: Option<String>,
    pub filters: Option<SearchFilters>,
    pub frequency: Option<String>,
    /// False stops the alerts without deleting the search.
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SavedSearchBody {
    pub id: String,
    pub name: String,
    pub filters: SearchFilters,
    pub frequency: String,
    pub active: bool,
    /// The digest covers jobs published after this.
    pub last_notified_at: DateTime<Utc>,
    /// `POST /api/v1/saved-searches/unsubscribe?token=…` turns the alerts off without signing in.
    pub unsubscribe_token: String,
    /// How many public jobs match now (on creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_now: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl SavedSearchBody {
    pub fn new(s: &SavedSearch, matches_now: Option<u64>) -> Self {
        Self {
            id: s.id.clone(),
            name: s.name.clone(),
            filters: s.filters.clone(),
            frequency: s.frequency.as_str().into(),
            active: s.active,
            last_notified_at: s.last_notified_at,
            unsubscribe_token: s.unsubscribe_token.clone(),
            matches_now,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SavedSearchListBody {
    pub items: Vec<SavedSearchBody>,
}

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The token from the alert email.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UnsubscribedBody {
    pub name: String,
    pub active: bool,
}
