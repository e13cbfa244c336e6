//! Queries on the `user` table.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{RepoError, key_string, new_key};
use crate::db::{Database, DbError};
use crate::models::user::{NewUser, Role, User};

#[derive(Debug, SurrealValue)]
struct UserRow {
    id: RecordId,
    email: String,
    full_name: String,
    role: String,
    email_verified: bool,
    disabled: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = row.role.parse::<Role>().map_err(|err| DbError::Unexpected(err.to_string()))?;
        Ok(User {
            id: key_string(&row.id),
            email: row.email,
            full_name: row.full_name,
            role,
            email_verified: row.email_verified,
            disabled: row.disabled,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

const USER_FIELDS: &str =
    "id, email, full_name, role, email_verified, disabled, created_at, updated_at";

/// Stores a new user; a taken email is `RepoError::Duplicate { index: "user_email" }`.
pub async fn insert(db: &Database, user: &NewUser) -> Result<User, RepoError> {
    let sql = format!(
        "CREATE type::record('user', $id) SET email = $email, full_name = $full_name, \
         role = $role, password_hash = $password_hash, email_verified = $email_verified \
         RETURN {USER_FIELDS}"
    );
    let mut response = db
        .handle()
        .query(sql)
        .bind(("id", new_key()))
        .bind(("email", user.email.clone()))
        .bind(("full_name", user.full_name.clone()))
        .bind(("role", user.role.as_str()))
        .bind(("password_hash", user.password_hash.clone()))
        .bind(("email_verified", user.email_verified))
        .await
        .map_err(DbError::Query)?;
    let row: Option<UserRow> = response.take(0)?;
    let row = row.ok_or_else(|| DbError::Unexpected("CREATE user returned no row".into()))?;
    row.try_into()
}

/// The user with this normalised email, if any.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<User>, RepoError> {
    let sql = format!("SELECT {USER_FIELDS} FROM user WHERE email = $email LIMIT 1");
    let mut response =
        db.handle().query(sql).bind(("email", email.to_owned())).await.map_err(DbError::Query)?;
    let row: Option<UserRow> = response.take(0)?;
    row.map(User::try_from).transpose()
}
