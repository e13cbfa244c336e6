//! The error of the business layer: what went wrong, in terms of the portal, not of HTTP.
//! `api::error` maps each kind to a status and a stable code.

use crate::core::security::SecurityError;
use crate::db::DbError;
use crate::repositories::RepoError;

/// Why a caller is not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No credentials, or a token that is not ours.
    Missing,
    /// An access token past its expiry: refresh it.
    Expired,
    /// A token whose session ended (logout, password change, reuse detected).
    SessionEnded,
    /// Login with a wrong email or password (the two are indistinguishable on purpose).
    BadCredentials,
    /// A refresh token that is unknown, expired or of an ended session.
    BadRefreshToken,
    /// A refresh token presented a second time: its session was revoked.
    RefreshReused,
}

/// Something that already exists or a rule about what may coexist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    EmailTaken,
    SlugTaken,
    AlreadyMember,
    LastOwner,
    AlreadyVerified,
    /// A move the lifecycle of the object does not allow (e.g. editing an archived job).
    InvalidTransition,
    /// Another request changed the same data at the same time; retrying may succeed.
    Concurrent,
    /// The candidate applied to this job already.
    AlreadyApplied,
    /// The job is closed, expired or otherwise not taking applications.
    JobClosed,
    /// A resume that an application uses cannot be deleted.
    ResumeInUse,
}

impl From<crate::ai::providers::embedder::EmbedError> for ServiceError {
    fn from(err: crate::ai::providers::embedder::EmbedError) -> Self {
        ServiceError::Internal(anyhow::Error::new(err))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Validation(String),
    /// A parameter outside the range its type allows (a page size).
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{1}")]
    Conflict(ConflictKind, String),
    #[error("not authenticated: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("verify your email address first")]
    EmailNotVerified,
    /// A link token (verification, reset, invitation) that is unknown, used or expired.
    #[error("the token is invalid, used or expired")]
    InvalidToken,
    /// An uploaded file of a kind the portal does not read.
    #[error("{0}")]
    UnsupportedFile(String),
    /// The job takes applications on the employer's own site.
    #[error("this job takes applications at {0}")]
    ApplyExternally(String),
    /// A model the request needs is not loaded (missing, loading or failed).
    #[error("{0}")]
    ModelUnavailable(String),
    /// The document reader could not finish with a stored file (it crashed, or ran past its
    /// time or memory); what was stored before is unchanged.
    #[error("{0}")]
    ReaderFailed(String),
    /// A message to the assistant longer than the configured limit.
    #[error("a message may have at most {max_chars} characters")]
    MessageTooLong { max_chars: usize },
    /// Salary insights over fewer salaries than the configured minimum (`found` in the
    /// currency with most).
    #[error(
        "only {found} matching jobs publish a salary in one currency; at least {min} are needed"
    )]
    TooFewSalaries { found: usize, min: usize },
    /// The chat model could not answer (busy, unavailable, refused by a hosted provider, …).
    /// The database's disk is full: nothing of the request was written.
    #[error("the database's disk is full")]
    StorageFull,
    /// The database server does not answer: nothing of the request was done.
    #[error("the database is unavailable")]
    DatabaseUnavailable,
    #[error(transparent)]
    Chat(#[from] crate::ai::providers::chat::error::ChatError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn validation(message: impl Into<String>) -> Self {
        ServiceError::Validation(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ServiceError::Forbidden(message.into())
    }

    pub fn conflict(kind: ConflictKind, message: impl Into<String>) -> Self {
        ServiceError::Conflict(kind, message.into())
    }
}

impl From<RepoError> for ServiceError {
    fn from(err: RepoError) -> Self {
        if err.is_storage_full() {
            tracing::error!(error = %err, "the database's disk is full: writes fail until space is freed");
            return ServiceError::StorageFull;
        }
        if err.is_unavailable() {
            tracing::warn!(error = %err, "the database is unavailable");
            return ServiceError::DatabaseUnavailable;
        }
        if err.is_conflict() {
            return ServiceError::conflict(
                ConflictKind::Concurrent,
                "another request changed the same data; try again",
            );
        }
        ServiceError::Internal(anyhow::Error::new(err))
    }
}

impl From<DbError> for ServiceError {
    fn from(err: DbError) -> Self {
        RepoError::Db(err).into()
    }
}

impl From<crate::repositories::job_index::IndexError> for ServiceError {
    fn from(err: crate::repositories::job_index::IndexError) -> Self {
        ServiceError::Internal(anyhow::Error::new(err))
    }
}

impl From<SecurityError> for ServiceError {
    fn from(err: SecurityError) -> Self {
        ServiceError::Internal(anyhow::Error::new(err))
    }
}
