//! Queries on `login_failure`: the failed logins of one account key in its current window.

use chrono::{DateTime, Utc};
use surrealdb::types::SurrealValue;

use super::RepoError;
use crate::db::Executor;

/// The failures counted for a key, and when their window began.
#[derive(Debug, Clone, Copy, PartialEq, Eq, SurrealValue)]
pub struct FailureWindow {
    pub failures: i64,
    pub window_start: DateTime<Utc>,
}

/// The window of `key`, if one was written.
pub async fn find(ex: &impl Executor, key: &str) -> Result<Option<FailureWindow>, RepoError> {
    let mut response = ex
        .query("SELECT failures, window_start FROM ONLY type::record('login_failure', $key)")
        .bind(("key", key.to_owned()))
        .await?;
    Ok(response.take(0)?)
}

/// Writes the window of `key`.
pub async fn put(ex: &impl Executor, key: &str, window: FailureWindow) -> Result<(), RepoError> {
    ex.query(
        "UPSERT type::record('login_failure', $key) SET failures = $failures, \
         window_start = $start RETURN NONE",
    )
    .bind(("key", key.to_owned()))
    .bind(("failures", window.failures))
    .bind(("start", window.window_start))
    .await?
    .check()?;
    Ok(())
}

/// Gives one counted failure of `key` back (an attempt that turned out to say nothing about
/// the password).
pub async fn give_back(ex: &impl Executor, key: &str) -> Result<(), RepoError> {
    ex.query(
        "UPDATE type::record('login_failure', $key) SET failures = math::max([failures - 1, 0]) \
         RETURN NONE",
    )
    .bind(("key", key.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Forgets the failures of `key` (a successful login).
pub async fn clear(ex: &impl Executor, key: &str) -> Result<(), RepoError> {
    ex.query("DELETE type::record('login_failure', $key)")
        .bind(("key", key.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Deletes the windows that began before `before` (housekeeping); returns how many.
pub async fn prune(ex: &impl Executor, before: DateTime<Utc>) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM login_failure WHERE window_start < $before GROUP ALL; \
             DELETE login_failure WHERE window_start < $before RETURN NONE;",
        )
        .bind(("before", before))
        .await?;
    let count: Option<super::Count> = response.take(0)?;
    response.check()?;
    Ok(count.map_or(0, |c| c.count))
}
