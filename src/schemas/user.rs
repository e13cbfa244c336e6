//! Bodies of `/api/v1/users/*`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::audit::AuditEntry;
use crate::models::company::Membership;
use crate::models::email::QueuedEmail;
use crate::models::session::Session;
use crate::models::user::User;

use super::admin::AuditEntryBody;

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserBody {
    pub id: String,
    pub email: String,
    pub full_name: String,
    /// `candidate`, `employer` or `admin`.
    pub role: String,
    pub email_verified: bool,
    pub disabled: bool,
    /// Candidates: recruiters may find this profile.
    pub discoverable: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            full_name: u.full_name,
            role: u.role.as_str().to_owned(),
            email_verified: u.email_verified,
            disabled: u.disabled,
            discoverable: u.discoverable,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A company the user belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MembershipBody {
    pub slug: String,
    pub name: String,
    /// `owner` or `recruiter`.
    pub role: String,
    pub verified: bool,
}

impl From<Membership> for MembershipBody {
    fn from(m: Membership) -> Self {
        Self {
            slug: m.company.slug,
            name: m.company.name,
            role: m.role.as_str().into(),
            verified: m.company.verified,
        }
    }
}

/// `GET /users/me`: the account and its companies.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MeBody {
    #[serde(flatten)]
    pub user: UserBody,
    pub companies: Vec<MembershipBody>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    pub full_name: Option<String>,
    /// Candidates only.
    pub discoverable: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMeRequest {
    /// The current password, to confirm.
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionBody {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl From<Session> for SessionBody {
    fn from(s: Session) -> Self {
        Self {
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            revoked_reason: s.revoked_reason,
            ip: s.ip,
            user_agent: s.user_agent,
        }
    }
}

/// An email sent to the user (its body stays out of the export: it may hold live links).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmailSummaryBody {
    pub template: String,
    pub subject: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<QueuedEmail> for EmailSummaryBody {
    fn from(e: QueuedEmail) -> Self {
        Self {
            template: e.template,
            subject: e.subject,
            status: e.status,
            created_at: e.created_at,
            sent_at: e.sent_at,
        }
    }
}

/// `GET /users/me/export`: everything the portal holds about the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportBody {
    pub exported_at: DateTime<Utc>,
    pub user: UserBody,
    pub companies: Vec<MembershipBody>,
    pub sessions: Vec<SessionBody>,
    pub emails: Vec<EmailSummaryBody>,
    pub audit_log: Vec<AuditEntryBody>,
    pub resumes: Vec<crate::schemas::resume::ResumeBody>,
    pub applications: Vec<ExportedApplicationBody>,
    pub saved_jobs: Vec<ExportedSavedJobBody>,
    pub saved_searches: Vec<crate::schemas::saved::SavedSearchBody>,
    /// The conversations with the assistant, each with its messages.
    pub conversations: Vec<crate::schemas::assistant::ConversationDetailBody>,
}

/// An application in an export, with its moves.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedApplicationBody {
    #[serde(flatten)]
    pub application: crate::schemas::application::ApplicationBody,
    pub history: Vec<crate::schemas::application::StageEventBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedSavedJobBody {
    pub job_id: String,
    pub saved_at: DateTime<Utc>,
}

pub fn audit_bodies(entries: Vec<AuditEntry>) -> Vec<AuditEntryBody> {
    entries.into_iter().map(AuditEntryBody::from).collect()
}
