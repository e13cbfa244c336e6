//! The audit log: who did what, when, from where. Append-only.

use chrono::{DateTime, Utc};

/// Actions recorded in the audit log. The names are stable: filters and reports use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    UserRegistered,
    UserCreatedByAdmin,
    LoginSucceeded,
    LoginFailed,
    Logout,
    RefreshReuseDetected,
    EmailVerified,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    ProfileUpdated,
    AccountDeleted,
    UserDisabled,
    UserEnabled,
    CompanyCreated,
    CompanyUpdated,
    CompanyVerified,
    CompanyUnverified,
    MemberInvited,
    MemberJoined,
    MemberRemoved,
    OwnershipTransferred,
    JobCreated,
    JobUpdated,
    JobPublished,
    JobClosed,
    JobArchived,
    JobApproved,
    JobRejected,
    JobsImported,
}

impl AuditAction {
    pub const ALL: &'static [AuditAction] = &[
        AuditAction::UserRegistered,
        AuditAction::UserCreatedByAdmin,
        AuditAction::LoginSucceeded,
        AuditAction::LoginFailed,
        AuditAction::Logout,
        AuditAction::RefreshReuseDetected,
        AuditAction::EmailVerified,
        AuditAction::PasswordChanged,
        AuditAction::PasswordResetRequested,
        AuditAction::PasswordReset,
        AuditAction::ProfileUpdated,
        AuditAction::AccountDeleted,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::CompanyCreated,
        AuditAction::CompanyUpdated,
        AuditAction::CompanyVerified,
        AuditAction::CompanyUnverified,
        AuditAction::MemberInvited,
        AuditAction::MemberJoined,
        AuditAction::MemberRemoved,
        AuditAction::OwnershipTransferred,
        AuditAction::JobCreated,
        AuditAction::JobUpdated,
        AuditAction::JobPublished,
        AuditAction::JobClosed,
        AuditAction::JobArchived,
        AuditAction::JobApproved,
        AuditAction::JobRejected,
        AuditAction::JobsImported,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::UserRegistered => "user.registered",
            AuditAction::UserCreatedByAdmin => "user.created_by_admin",
            AuditAction::LoginSucceeded => "auth.login_succeeded",
            AuditAction::LoginFailed => "auth.login_failed",
            AuditAction::Logout => "auth.logout",
            AuditAction::RefreshReuseDetected => "auth.refresh_reuse_detected",
            AuditAction::EmailVerified => "auth.email_verified",
            AuditAction::PasswordChanged => "auth.password_changed",
            AuditAction::PasswordResetRequested => "auth.password_reset_requested",
            AuditAction::PasswordReset => "auth.password_reset",
            AuditAction::ProfileUpdated => "user.profile_updated",
            AuditAction::AccountDeleted => "user.deleted",
            AuditAction::UserDisabled => "admin.user_disabled",
            AuditAction::UserEnabled => "admin.user_enabled",
            AuditAction::CompanyCreated => "company.created",
            AuditAction::CompanyUpdated => "company.updated",
            AuditAction::CompanyVerified => "admin.company_verified",
            AuditAction::CompanyUnverified => "admin.company_unverified",
            AuditAction::MemberInvited => "company.member_invited",
            AuditAction::MemberJoined => "company.member_joined",
            AuditAction::MemberRemoved => "company.member_removed",
            AuditAction::OwnershipTransferred => "company.ownership_transferred",
            AuditAction::JobCreated => "job.created",
            AuditAction::JobUpdated => "job.updated",
            AuditAction::JobPublished => "job.published",
            AuditAction::JobClosed => "job.closed",
            AuditAction::JobArchived => "job.archived",
            AuditAction::JobApproved => "admin.job_approved",
            AuditAction::JobRejected => "admin.job_rejected",
            AuditAction::JobsImported => "admin.jobs_imported",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.iter().copied().find(|a| a.as_str() == s)
    }
}

/// An entry about to be written. Ids only: no email or name, so deleting an account leaves no
/// personal data in the log.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub actor: Option<String>,
    pub action: AuditAction,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub details: serde_json::Value,
}

/// Which audit entries to read (an empty filter: all of them).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}
