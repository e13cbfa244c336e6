//! Queries on `session` and `refresh_token`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string};
use crate::db::Executor;
use crate::models::session::{RefreshRecord, Session, SessionState};

#[derive(Debug, SurrealValue)]
struct SessionRow {
    id: RecordId,
    user: RecordId,
    created_at: DateTime<Utc>,
    last_used_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    revoked_reason: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<SessionRow> for Session {
    fn from(row: SessionRow) -> Self {
        Session {
            id: key_string(&row.id),
            user_id: key_string(&row.user),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            revoked_reason: row.revoked_reason,
            ip: row.ip,
            user_agent: row.user_agent,
        }
    }
}

/// Starts a session for a user.
pub async fn create(
    ex: &impl Executor,
    id: &str,
    user_id: &str,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('session', $id) SET user = type::record('user', $user), \
         expires_at = $expires_at, ip = $ip, user_agent = $user_agent RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("expires_at", expires_at))
    .bind(("ip", ip))
    .bind(("user_agent", user_agent))
    .await?
    .check()?;
    Ok(())
}

/// Stores a refresh token (its hash) of a session.
pub async fn insert_refresh_token(
    ex: &impl Executor,
    id: &str,
    session_id: &str,
    user_id: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('refresh_token', $id) SET session = type::record('session', $session_id), \
         user = type::record('user', $user), token_hash = $hash, expires_at = $expires_at \
         RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("session_id", session_id.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("hash", token_hash.to_owned()))
    .bind(("expires_at", expires_at))
    .await?
    .check()?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct RefreshRow {
    id: RecordId,
    session: RecordId,
    user: RecordId,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    session_revoked_at: Option<DateTime<Utc>>,
    session_expires_at: DateTime<Utc>,
}

/// The refresh token with this hash, with its session's state.
pub async fn find_refresh_token(
    ex: &impl Executor,
    token_hash: &str,
) -> Result<Option<RefreshRecord>, RepoError> {
    let mut response = ex
        .query(
            "SELECT id, session, user, expires_at, used_at, session.revoked_at AS session_revoked_at, \
             session.expires_at AS session_expires_at FROM refresh_token \
             WHERE token_hash = $hash LIMIT 1",
        )
        .bind(("hash", token_hash.to_owned()))
        .await?;
    let row: Option<RefreshRow> = response.take(0)?;
    Ok(row.map(|r| RefreshRecord {
        id: key_string(&r.id),
        session_id: key_string(&r.session),
        user_id: key_string(&r.user),
        expires_at: r.expires_at,
        used: r.used_at.is_some(),
        session_revoked: r.session_revoked_at.is_some(),
        session_expires_at: r.session_expires_at,
    }))
}

/// Marks a refresh token rotated, unless it already was; true if this call marked it.
pub async fn mark_refresh_token_used(ex: &impl Executor, id: &str) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('refresh_token', $id) SET used_at = time::now() \
             WHERE used_at = NONE RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

pub async fn touch(ex: &impl Executor, session_id: &str) -> Result<(), RepoError> {
    ex.query("UPDATE type::record('session', $id) SET last_used_at = time::now() RETURN NONE")
        .bind(("id", session_id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Ends a session (and so every token of its family); true if it was active.
pub async fn revoke(ex: &impl Executor, session_id: &str, reason: &str) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('session', $id) SET revoked_at = time::now(), revoked_reason = $reason \
             WHERE revoked_at = NONE RETURN VALUE id",
        )
        .bind(("id", session_id.to_owned()))
        .bind(("reason", reason.to_owned()))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

/// Ends every active session of a user; returns how many.
pub async fn revoke_all_for_user(
    ex: &impl Executor,
    user_id: &str,
    reason: &str,
) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "UPDATE session SET revoked_at = time::now(), revoked_reason = $reason \
             WHERE user = type::record('user', $user) AND revoked_at = NONE RETURN VALUE id",
        )
        .bind(("user", user_id.to_owned()))
        .bind(("reason", reason.to_owned()))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(ids.len() as u64)
}

#[derive(Debug, SurrealValue)]
struct StateRow {
    user: RecordId,
    role: Option<String>,
    disabled: Option<bool>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

/// What an access token's session says now: is it live, and is its user still allowed in?
pub async fn state(
    ex: &impl Executor,
    session_id: &str,
) -> Result<Option<SessionState>, RepoError> {
    let mut response = ex
        .query(
            "SELECT user, user.role AS role, user.disabled AS disabled, revoked_at, expires_at \
             FROM ONLY type::record('session', $id)",
        )
        .bind(("id", session_id.to_owned()))
        .await?;
    let row: Option<StateRow> = response.take(0)?;
    Ok(row.and_then(|r| {
        // A session whose user is gone has no role: treat it as not there.
        Some(SessionState {
            user_id: key_string(&r.user),
            role: r.role?,
            disabled: r.disabled.unwrap_or(true),
            revoked: r.revoked_at.is_some(),
            expires_at: r.expires_at,
        })
    }))
}

pub async fn list_for_user(ex: &impl Executor, user_id: &str) -> Result<Vec<Session>, RepoError> {
    let mut response = ex
        .query("SELECT * FROM session WHERE user = type::record('user', $user) ORDER BY created_at")
        .bind(("user", user_id.to_owned()))
        .await?;
    let rows: Vec<SessionRow> = response.take(0)?;
    Ok(rows.into_iter().map(Session::from).collect())
}

/// How many sessions of a user are active.
pub async fn count_active(ex: &impl Executor, user_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM session WHERE user = type::record('user', $user) \
             AND revoked_at = NONE AND expires_at > time::now() GROUP ALL",
        )
        .bind(("user", user_id.to_owned()))
        .await?;
    let count: Option<Count> = response.take(0)?;
    Ok(count.map_or(0, |c| c.count))
}

/// Removes every session and refresh token of a user (account deletion).
pub async fn delete_for_user(ex: &impl Executor, user_id: &str) -> Result<(), RepoError> {
    ex.query(
        "DELETE refresh_token WHERE user = type::record('user', $user); \
         DELETE session WHERE user = type::record('user', $user);",
    )
    .bind(("user", user_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Deletes refresh tokens past expiry, and sessions (with their tokens) that ended or expired
/// before `ended_before`; returns how many sessions went.
pub async fn prune(
    ex: &impl Executor,
    now: DateTime<Utc>,
    ended_before: DateTime<Utc>,
) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "LET $old = (SELECT VALUE id FROM session WHERE (revoked_at != NONE AND revoked_at < $before) \
                 OR expires_at < $before); \
             DELETE refresh_token WHERE expires_at < $now OR session IN $old RETURN NONE; \
             DELETE session WHERE id IN $old RETURN NONE; \
             RETURN array::len($old);",
        )
        .bind(("now", now))
        .bind(("before", ended_before))
        .await?;
    let removed: Option<i64> = response.take(3)?;
    response.check()?;
    Ok(removed.unwrap_or(0).max(0) as u64)
}
