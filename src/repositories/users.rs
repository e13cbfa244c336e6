//! Queries on the `user` table.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, new_key, unexpected};
use crate::db::Executor;
use crate::models::user::{NewUser, Role, User, UserFilter};

#[derive(Debug, SurrealValue)]
struct UserRow {
    id: RecordId,
    email: String,
    full_name: String,
    role: String,
    email_verified: bool,
    disabled: bool,
    discoverable: Option<bool>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = RepoError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        let role = row.role.parse::<Role>().map_err(|err| unexpected(err.to_string()))?;
        Ok(User {
            id: key_string(&row.id),
            email: row.email,
            full_name: row.full_name,
            role,
            email_verified: row.email_verified,
            disabled: row.disabled,
            discoverable: row.discoverable.unwrap_or(false),
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, SurrealValue)]
struct CredentialsRow {
    password_hash: String,
}

const USER_FIELDS: &str =
    "id, email, full_name, role, email_verified, disabled, discoverable, created_at, updated_at";

fn one(rows: Option<UserRow>) -> Result<Option<User>, RepoError> {
    rows.map(User::try_from).transpose()
}

/// Stores a new user; a taken email is `RepoError::Duplicate { index: "user_email" }`.
pub async fn insert(ex: &impl Executor, user: &NewUser) -> Result<User, RepoError> {
    let sql = format!(
        "CREATE type::record('user', $id) SET email = $email, full_name = $full_name, \
         role = $role, password_hash = $password_hash, email_verified = $email_verified \
         RETURN {USER_FIELDS}"
    );
    let mut response = ex
        .query(sql)
        .bind(("id", new_key()))
        .bind(("email", user.email.clone()))
        .bind(("full_name", user.full_name.clone()))
        .bind(("role", user.role.as_str()))
        .bind(("password_hash", user.password_hash.clone()))
        .bind(("email_verified", user.email_verified))
        .await?;
    let row: Option<UserRow> = response.take(0)?;
    one(row)?.ok_or_else(|| unexpected("CREATE user returned no row"))
}

pub async fn find_by_id(ex: &impl Executor, id: &str) -> Result<Option<User>, RepoError> {
    let sql = format!("SELECT {USER_FIELDS} FROM ONLY type::record('user', $id)");
    let mut response = ex.query(sql).bind(("id", id.to_owned())).await?;
    one(response.take(0)?)
}

/// The user with this normalised email, if any.
pub async fn find_by_email(ex: &impl Executor, email: &str) -> Result<Option<User>, RepoError> {
    let sql = format!("SELECT {USER_FIELDS} FROM user WHERE email = $email LIMIT 1");
    let mut response = ex.query(sql).bind(("email", email.to_owned())).await?;
    one(response.take(0)?)
}

/// The password hash of a user.
pub async fn password_hash(ex: &impl Executor, id: &str) -> Result<Option<String>, RepoError> {
    let mut response = ex
        .query("SELECT password_hash FROM ONLY type::record('user', $id)")
        .bind(("id", id.to_owned()))
        .await?;
    let row: Option<CredentialsRow> = response.take(0)?;
    Ok(row.map(|r| r.password_hash))
}

/// Changes the profile fields that are `Some`; returns the updated user.
pub async fn update_profile(
    ex: &impl Executor,
    id: &str,
    full_name: Option<String>,
    discoverable: Option<bool>,
) -> Result<Option<User>, RepoError> {
    let sql = format!(
        "UPDATE ONLY type::record('user', $id) SET full_name = $full_name ?? full_name, \
         discoverable = $discoverable ?? discoverable, updated_at = time::now() \
         RETURN {USER_FIELDS}"
    );
    let mut response = ex
        .query(sql)
        .bind(("id", id.to_owned()))
        .bind(("full_name", full_name))
        .bind(("discoverable", discoverable))
        .await?;
    one(response.take(0)?)
}

pub async fn set_password_hash(
    ex: &impl Executor,
    id: &str,
    hash: String,
) -> Result<(), RepoError> {
    ex.query(
        "UPDATE type::record('user', $id) SET password_hash = $hash, updated_at = time::now() \
         RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("hash", hash))
    .await?
    .check()?;
    Ok(())
}

pub async fn set_email_verified(ex: &impl Executor, id: &str) -> Result<Option<User>, RepoError> {
    let sql = format!(
        "UPDATE ONLY type::record('user', $id) SET email_verified = true, updated_at = time::now() \
         RETURN {USER_FIELDS}"
    );
    let mut response = ex.query(sql).bind(("id", id.to_owned())).await?;
    one(response.take(0)?)
}

pub async fn set_disabled(
    ex: &impl Executor,
    id: &str,
    disabled: bool,
) -> Result<Option<User>, RepoError> {
    let sql = format!(
        "UPDATE ONLY type::record('user', $id) SET disabled = $disabled, updated_at = time::now() \
         RETURN {USER_FIELDS}"
    );
    let mut response =
        ex.query(sql).bind(("id", id.to_owned())).bind(("disabled", disabled)).await?;
    one(response.take(0)?)
}

/// A page of users, newest first, and how many match in all.
pub async fn list(
    ex: &impl Executor,
    filter: &UserFilter,
    limit: u32,
    offset: u32,
) -> Result<(Vec<User>, u64), RepoError> {
    let condition = "($role = NONE OR role = $role) AND ($disabled = NONE OR disabled = $disabled) \
                     AND ($text = NONE OR string::contains(email, $text) \
                     OR string::contains(string::lowercase(full_name), $text))";
    let sql = format!(
        "SELECT {USER_FIELDS} FROM user WHERE {condition} ORDER BY created_at DESC, id DESC \
         LIMIT $limit START $offset; \
         SELECT count() AS count FROM user WHERE {condition} GROUP ALL;"
    );
    let mut response = ex
        .query(sql)
        .bind(("role", filter.role.map(|r| r.as_str().to_owned())))
        .bind(("disabled", filter.disabled))
        .bind(("text", filter.text.clone()))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let rows: Vec<UserRow> = response.take(0)?;
    let count: Option<Count> = response.take(1)?;
    let users = rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?;
    Ok((users, count.map_or(0, |c| c.count)))
}

pub async fn delete(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query("DELETE type::record('user', $id)").bind(("id", id.to_owned())).await?.check()?;
    Ok(())
}
