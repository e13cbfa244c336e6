//! Bodies of `/api/v1/auth/*`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::user::UserBody;
use crate::models::session::TokenPair;
use crate::models::user::Role;

/// The roles open to registration; admins are made on the command line only.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisterRole {
    Candidate,
    Employer,
}

impl From<RegisterRole> for Role {
    fn from(r: RegisterRole) -> Self {
        match r {
            RegisterRole::Candidate => Role::Candidate,
            RegisterRole::Employer => Role::Employer,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8 to 128 characters, not the email, not a common password.
    #[schema(example = "lighthouse keeper 42")]
    pub password: String,
    #[schema(example = "Ada Lovelace")]
    pub full_name: String,
    pub role: RegisterRole,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the email.
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    pub email: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub token: String,
    pub new_password: String,
}

/// An access token (send it as `Authorization: Bearer …`) and the refresh token that renews it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokensBody {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Single use: each refresh returns a new one. Using one twice ends the session.
    pub refresh_token: String,
    /// Seconds until the refresh token expires.
    pub refresh_expires_in: u64,
}

impl From<TokenPair> for TokensBody {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access_token,
            token_type: "Bearer".into(),
            expires_in: p.access_expires_in,
            refresh_token: p.refresh_token,
            refresh_expires_in: p.refresh_expires_in,
        }
    }
}

/// A signed-in user and their tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthBody {
    pub user: UserBody,
    pub tokens: TokensBody,
}

/// An acknowledgement that says no more than it must.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedBody {
    #[schema(example = "accepted")]
    pub status: String,
    pub message: String,
}

impl AcceptedBody {
    pub fn new(message: impl Into<String>) -> Self {
        Self { status: "accepted".into(), message: message.into() }
    }
}
