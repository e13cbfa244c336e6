//! Single-use tokens that arrive by email. Only their hash is stored.

use chrono::{DateTime, Utc};

use super::company::CompanyRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    VerifyEmail,
    ResetPassword,
    CompanyInvite,
}

impl TokenKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::VerifyEmail => "verify_email",
            TokenKind::ResetPassword => "reset_password",
            TokenKind::CompanyInvite => "company_invite",
        }
    }
}

/// What became of a token that was sent, as far as its row still says (used and expired rows
/// are pruned after a while, and then the token is simply unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Unused and unexpired: it still works.
    Valid,
    Used,
    Expired,
}

/// A token about to be stored.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub kind: TokenKind,
    pub token_hash: String,
    pub email: String,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub role: Option<CompanyRole>,
    pub invited_by: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// A token that was just used up.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumedToken {
    pub id: String,
    pub email: String,
    pub user_id: Option<String>,
    pub company_id: Option<String>,
    pub role: Option<CompanyRole>,
    pub invited_by: Option<String>,
}

/// An invitation that has not been used or expired yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingInvite {
    pub id: String,
    pub email: String,
    pub role: CompanyRole,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
