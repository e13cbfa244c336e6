//! Logins: a session is one sign-in, with the family of refresh tokens rotated from it.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A presented refresh token, with what is needed to decide whether it may be used.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRecord {
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub expires_at: DateTime<Utc>,
    /// Rotated already: presenting it again means it was copied.
    pub used: bool,
    pub session_revoked: bool,
    pub session_expires_at: DateTime<Utc>,
}

/// What an access token's session says about its holder right now.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub user_id: String,
    pub role: String,
    pub disabled: bool,
    pub revoked: bool,
    pub expires_at: DateTime<Utc>,
}

/// A fresh access token and refresh token.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    pub access_expires_in: u64,
    pub refresh_token: String,
    pub refresh_expires_in: u64,
}
