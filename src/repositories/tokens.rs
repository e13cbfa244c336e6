//! Queries on `one_time_token`: verification, password-reset and invitation tokens.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{RepoError, key_string, new_key, unexpected};
use crate::db::Executor;
use crate::models::company::CompanyRole;
use crate::models::token::{ConsumedToken, NewToken, PendingInvite, TokenKind, TokenState};

pub async fn insert(ex: &impl Executor, token: &NewToken) -> Result<String, RepoError> {
    let id = new_key();
    ex.query(
        "CREATE type::record('one_time_token', $id) SET kind = $kind, token_hash = $hash, \
         email = $email, \
         user = IF $user != NONE { type::record('user', $user) } ELSE { NONE }, \
         company = IF $company != NONE { type::record('company', $company) } ELSE { NONE }, \
         role = $role, \
         invited_by = IF $invited_by != NONE { type::record('user', $invited_by) } ELSE { NONE }, \
         expires_at = $expires_at RETURN NONE",
    )
    .bind(("id", id.clone()))
    .bind(("kind", token.kind.as_str()))
    .bind(("hash", token.token_hash.clone()))
    .bind(("email", token.email.clone()))
    .bind(("user", token.user_id.clone()))
    .bind(("company", token.company_id.clone()))
    .bind(("role", token.role.map(|r| r.as_str().to_owned())))
    .bind(("invited_by", token.invited_by.clone()))
    .bind(("expires_at", token.expires_at))
    .await?
    .check()?;
    Ok(id)
}

#[derive(Debug, SurrealValue)]
struct TokenRow {
    id: RecordId,
    email: String,
    user: Option<RecordId>,
    company: Option<RecordId>,
    role: Option<String>,
    invited_by: Option<RecordId>,
}

/// Uses up the token with this hash if it is of `kind`, unused and unexpired. Two concurrent
/// calls cannot both succeed: the second finds it used, or its transaction conflicts.
pub async fn consume(
    ex: &impl Executor,
    kind: TokenKind,
    token_hash: &str,
) -> Result<Option<ConsumedToken>, RepoError> {
    let mut response = ex
        .query(
            "UPDATE one_time_token SET used_at = time::now() \
             WHERE token_hash = $hash AND kind = $kind AND used_at = NONE AND expires_at > time::now() \
             RETURN id, email, user, company, role, invited_by",
        )
        .bind(("hash", token_hash.to_owned()))
        .bind(("kind", kind.as_str()))
        .await?;
    let rows: Vec<TokenRow> = response.take(0)?;
    rows.into_iter().next().map(consumed).transpose()
}

/// The token with this hash if it is of `kind`, unused and unexpired, without using it up.
pub async fn find_valid(
    ex: &impl Executor,
    kind: TokenKind,
    token_hash: &str,
) -> Result<Option<ConsumedToken>, RepoError> {
    let mut response = ex
        .query(
            "SELECT id, email, user, company, role, invited_by FROM one_time_token \
             WHERE token_hash = $hash AND kind = $kind AND used_at = NONE AND expires_at > time::now() \
             LIMIT 1",
        )
        .bind(("hash", token_hash.to_owned()))
        .bind(("kind", kind.as_str()))
        .await?;
    let rows: Vec<TokenRow> = response.take(0)?;
    rows.into_iter().next().map(consumed).transpose()
}

#[derive(Debug, SurrealValue)]
struct StateRow {
    used_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

/// Whether the token with this hash, if it is of `kind`, still works, was used or expired;
/// `None` when no such token is stored.
pub async fn state(
    ex: &impl Executor,
    kind: TokenKind,
    token_hash: &str,
) -> Result<Option<TokenState>, RepoError> {
    let mut response = ex
        .query(
            "SELECT used_at, expires_at FROM one_time_token \
             WHERE token_hash = $hash AND kind = $kind LIMIT 1",
        )
        .bind(("hash", token_hash.to_owned()))
        .bind(("kind", kind.as_str()))
        .await?;
    let rows: Vec<StateRow> = response.take(0)?;
    Ok(rows.into_iter().next().map(|row| {
        if row.used_at.is_some() {
            TokenState::Used
        } else if row.expires_at <= Utc::now() {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }))
}

fn consumed(row: TokenRow) -> Result<ConsumedToken, RepoError> {
    let role = row.role.map(|r| r.parse::<CompanyRole>()).transpose().map_err(unexpected)?;
    Ok(ConsumedToken {
        id: key_string(&row.id),
        email: row.email,
        user_id: row.user.as_ref().map(key_string),
        company_id: row.company.as_ref().map(key_string),
        role,
        invited_by: row.invited_by.as_ref().map(key_string),
    })
}

/// Marks every unused token of `kind` for a user as used (e.g. older reset links after a reset).
pub async fn invalidate_for_user(
    ex: &impl Executor,
    kind: TokenKind,
    user_id: &str,
) -> Result<(), RepoError> {
    ex.query(
        "UPDATE one_time_token SET used_at = time::now() \
         WHERE user = type::record('user', $user) AND kind = $kind AND used_at = NONE RETURN NONE",
    )
    .bind(("user", user_id.to_owned()))
    .bind(("kind", kind.as_str()))
    .await?
    .check()?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct InviteRow {
    id: RecordId,
    email: String,
    role: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

/// Invitations of a company that can still be accepted.
pub async fn pending_invites(
    ex: &impl Executor,
    company_id: &str,
) -> Result<Vec<PendingInvite>, RepoError> {
    let mut response = ex
        .query(
            "SELECT id, email, role, created_at, expires_at FROM one_time_token \
             WHERE company = type::record('company', $company) AND kind = 'company_invite' \
             AND used_at = NONE AND expires_at > time::now() ORDER BY created_at",
        )
        .bind(("company", company_id.to_owned()))
        .await?;
    let rows: Vec<InviteRow> = response.take(0)?;
    rows.into_iter()
        .map(|r| {
            let role = r.role.as_deref().unwrap_or("recruiter").parse().map_err(unexpected)?;
            Ok(PendingInvite {
                id: key_string(&r.id),
                email: r.email,
                role,
                created_at: r.created_at,
                expires_at: r.expires_at,
            })
        })
        .collect()
}

/// Removes every token that names a user or was sent to an address (account deletion).
pub async fn delete_for_user(
    ex: &impl Executor,
    user_id: &str,
    email: &str,
) -> Result<(), RepoError> {
    ex.query(
        "DELETE one_time_token WHERE user = type::record('user', $user) OR email = $email \
         OR invited_by = type::record('user', $user)",
    )
    .bind(("user", user_id.to_owned()))
    .bind(("email", email.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Removes the tokens of a company (when the company is deleted).
pub async fn delete_for_company(ex: &impl Executor, company_id: &str) -> Result<(), RepoError> {
    ex.query("DELETE one_time_token WHERE company = type::record('company', $company)")
        .bind(("company", company_id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Deletes tokens that can no longer be used (used, or expired before `now`); returns how many.
pub async fn prune(ex: &impl Executor, now: DateTime<Utc>) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM one_time_token WHERE used_at != NONE OR expires_at < $now GROUP ALL; \
             DELETE one_time_token WHERE used_at != NONE OR expires_at < $now RETURN NONE;",
        )
        .bind(("now", now))
        .await?;
    let count: Option<super::Count> = response.take(0)?;
    response.check()?;
    Ok(count.map_or(0, |c| c.count))
}
