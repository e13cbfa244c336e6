//! Bodies of `/api/v1/admin/*` and the pagination they share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::models::audit::AuditEntry;

/// One page of a list, with the total for the filter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Query parameters of the admin user list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UserListQuery {
    /// `candidate`, `employer` or `admin`.
    pub role: Option<String>,
    pub disabled: Option<bool>,
    /// Text looked for in the email and the name.
    pub q: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// Query parameters of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// User id of who acted.
    pub actor: Option<String>,
    /// An action name such as `auth.login_failed`.
    pub action: Option<String>,
    /// Id of what was acted on (a user or a company).
    pub target: Option<String>,
    /// RFC 3339 time, inclusive.
    pub since: Option<DateTime<Utc>>,
    /// RFC 3339 time, exclusive.
    pub until: Option<DateTime<Utc>>,
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryBody {
    pub id: String,
    pub at: DateTime<Utc>,
    /// User id of who acted; absent for anonymous attempts.
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

impl From<AuditEntry> for AuditEntryBody {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            ip: e.ip,
            details: e.details,
        }
    }
}
