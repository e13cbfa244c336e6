//! Bodies of `/api/v1/admin/*` and the pagination they share.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::models::audit::AuditEntry;
use crate::models::task::TaskRecord;

/// One page of a list, with the total for the filter.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// Query parameters of the admin user list.
#[derive(Debug, Serialize, Deserialize, IntoParams)]
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
#[derive(Debug, Serialize, Deserialize, IntoParams)]
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

/// Query parameters of the task list.
#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    /// `queued`, `running`, `done`, `failed` or `dead`.
    pub status: Option<String>,
    /// A task kind such as `send_email`.
    pub kind: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TaskBody {
    pub id: String,
    pub kind: String,
    pub queue: String,
    pub status: String,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// What the task reported when it finished (an import's summary).
    pub result: Option<serde_json::Value>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<TaskRecord> for TaskBody {
    fn from(t: TaskRecord) -> Self {
        Self {
            id: t.id,
            kind: t.kind,
            queue: t.queue,
            status: t.status.as_str().into(),
            attempts: t.attempts,
            max_attempts: t.max_attempts,
            run_at: t.run_at,
            lease_until: t.lease_until,
            last_error: t.last_error,
            result: t.result,
            payload: t.payload,
            created_at: t.created_at,
            started_at: t.started_at,
            finished_at: t.finished_at,
        }
    }
}

/// Work accepted to be done in the background.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedTaskBody {
    pub task_id: String,
    /// Poll this for the status and, once done, the result.
    pub status_url: String,
}
