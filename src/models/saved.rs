//! Saved jobs (bookmarks) and saved searches (job alerts).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

string_enum!(
    /// How often a saved search's digest goes out.
    AlertFrequency { Instant => "instant", Daily => "daily", Weekly => "weekly" }
);

/// The filters of `GET /api/v1/jobs` a saved search keeps (everything but paging and sort).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub country: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workplace: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub employment_type: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seniority: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<String>,
    /// Company slugs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub company: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salary_period: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SavedSearch {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub filters: SearchFilters,
    pub frequency: AlertFrequency,
    pub active: bool,
    pub unsubscribe_token: String,
    pub last_notified_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SavedJob {
    pub job_id: String,
    pub created_at: DateTime<Utc>,
}
