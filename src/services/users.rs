//! Creating and finding users.

use crate::core::security::{self, SecurityError};
use crate::db::Database;
use crate::models::user::{NewUser, Role, User};
use crate::repositories::{self, RepoError};
use crate::utils::validators::{Email, EmailError, Password, PasswordError};

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    InvalidEmail(#[from] EmailError),
    #[error(transparent)]
    InvalidPassword(#[from] PasswordError),
    #[error("full name must be 1 to 200 characters")]
    InvalidName,
    #[error("a user with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Security(#[from] SecurityError),
    #[error(transparent)]
    Repo(RepoError),
}

impl From<RepoError> for UserError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::Duplicate { index } if index == "user_email" => UserError::EmailTaken,
            other => UserError::Repo(other),
        }
    }
}

/// What it takes to create a user, as typed by somebody.
#[derive(Debug)]
pub struct CreateUser<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub password: &'a str,
    /// Set when an administrator vouches for the address (accounts made from the CLI).
    pub email_verified: bool,
}

/// Validates, hashes the password (on a blocking thread) and stores the user.
pub async fn create_user(db: &Database, input: CreateUser<'_>) -> Result<User, UserError> {
    let email = Email::parse(input.email)?;
    let password = Password::parse(input.password, &email)?;
    let full_name = input.full_name.trim();
    if full_name.is_empty()
        || full_name.chars().count() > 200
        || full_name.chars().any(char::is_control)
    {
        return Err(UserError::InvalidName);
    }
    let password_hash = security::hash_password(password.into_secret()).await?;
    let new = NewUser {
        email: email.into_inner(),
        full_name: full_name.to_owned(),
        role: input.role,
        password_hash,
        email_verified: input.email_verified,
    };
    Ok(repositories::users::insert(db, &new).await?)
}

/// The user with this email (any letter case), if any.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<User>, UserError> {
    let email = Email::parse(email)?;
    Ok(repositories::users::find_by_email(db, email.as_str()).await?)
}
