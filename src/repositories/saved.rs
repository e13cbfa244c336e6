//! Queries on `saved_job` and `saved_search`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{RepoError, key_string, unexpected, wrote_any};
use crate::db::Executor;
use crate::models::saved::{AlertFrequency, SavedJob, SavedSearch, SearchFilters};

/// Bookmarks a job; saving it twice keeps the first. `true` when it was new.
pub async fn save_job(ex: &impl Executor, user_id: &str, job_id: &str) -> Result<bool, RepoError> {
    // The key is derived from both ids, so two racing saves write the same record and the
    // second is refused.
    let key = format!("{user_id}:{job_id}");
    let result = ex
        .query(
            "CREATE type::record('saved_job', $key) SET user = type::record('user', $user), \
             job = type::record('job', $job) RETURN NONE",
        )
        .bind(("key", key))
        .bind(("user", user_id.to_owned()))
        .bind(("job", job_id.to_owned()))
        .await?
        .check();
    match result {
        Ok(_) => Ok(true),
        Err(err) => match RepoError::from(err) {
            RepoError::Duplicate { .. } => Ok(false),
            RepoError::Db(err) if err.to_string().contains("already exists") => Ok(false),
            other => Err(other),
        },
    }
}

pub async fn unsave_job(
    ex: &impl Executor,
    user_id: &str,
    job_id: &str,
) -> Result<bool, RepoError> {
    let response = ex
        .query("DELETE saved_job WHERE user = type::record('user', $user) AND job = type::record('job', $job) RETURN BEFORE")
        .bind(("user", user_id.to_owned()))
        .bind(("job", job_id.to_owned()))
        .await?;
    wrote_any(response)
}

/// A user's bookmarks, newest first.
pub async fn saved_jobs(ex: &impl Executor, user_id: &str) -> Result<Vec<SavedJob>, RepoError> {
    #[derive(SurrealValue)]
    struct Row {
        job: RecordId,
        created_at: DateTime<Utc>,
    }
    let mut response = ex
        .query("SELECT job, created_at FROM saved_job WHERE user = type::record('user', $user) ORDER BY created_at DESC LIMIT 1000")
        .bind(("user", user_id.to_owned()))
        .await?;
    let rows: Vec<Row> = response.take(0)?;
    Ok(rows
        .into_iter()
        .map(|r| SavedJob { job_id: key_string(&r.job), created_at: r.created_at })
        .collect())
}

#[derive(Debug, SurrealValue)]
struct SearchRow {
    id: RecordId,
    user: RecordId,
    name: String,
    filters: Option<serde_json::Value>,
    frequency: String,
    active: bool,
    unsubscribe_token: String,
    last_notified_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SearchRow> for SavedSearch {
    type Error = RepoError;

    fn try_from(r: SearchRow) -> Result<Self, RepoError> {
        let filters: SearchFilters = match r.filters {
            Some(v) => serde_json::from_value(v)
                .map_err(|e| unexpected(format!("stored search filters: {e}")))?,
            None => SearchFilters::default(),
        };
        Ok(SavedSearch {
            id: key_string(&r.id),
            user_id: key_string(&r.user),
            name: r.name,
            filters,
            frequency: AlertFrequency::parse(&r.frequency)
                .ok_or_else(|| unexpected(format!("unknown frequency {:?}", r.frequency)))?,
            active: r.active,
            unsubscribe_token: r.unsubscribe_token,
            last_notified_at: r.last_notified_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const SEARCH_FIELDS: &str = "id, user, name, filters, frequency, active, unsubscribe_token, last_notified_at, created_at, updated_at";

pub async fn insert_search(
    ex: &impl Executor,
    id: &str,
    user_id: &str,
    name: &str,
    filters: &SearchFilters,
    frequency: AlertFrequency,
    token: &str,
) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('saved_search', $id) SET user = type::record('user', $user), name = $name, \
         filters = $filters, frequency = $frequency, unsubscribe_token = $unsubscribe, last_notified_at = time::now() \
         RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("name", name.to_owned()))
    .bind(("filters", serde_json::to_value(filters).map_err(|e| unexpected(e.to_string()))?))
    .bind(("frequency", frequency.as_str()))
    .bind(("unsubscribe", token.to_owned()))
    .await?
    .check()?;
    Ok(())
}

pub async fn find_search(ex: &impl Executor, id: &str) -> Result<Option<SavedSearch>, RepoError> {
    let mut response = ex
        .query(format!("SELECT {SEARCH_FIELDS} FROM type::record('saved_search', $id)"))
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<SearchRow> = response.take(0)?;
    rows.into_iter().next().map(SavedSearch::try_from).transpose()
}

pub async fn searches_of(ex: &impl Executor, user_id: &str) -> Result<Vec<SavedSearch>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {SEARCH_FIELDS} FROM saved_search WHERE user = type::record('user', $user) ORDER BY created_at DESC"
        ))
        .bind(("user", user_id.to_owned()))
        .await?;
    let rows: Vec<SearchRow> = response.take(0)?;
    rows.into_iter().map(SavedSearch::try_from).collect()
}

pub async fn count_searches(ex: &impl Executor, user_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query("SELECT count() AS count FROM saved_search WHERE user = type::record('user', $user) GROUP ALL")
        .bind(("user", user_id.to_owned()))
        .await?;
    let row: Option<super::Count> = response.take(0)?;
    Ok(row.map_or(0, |c| c.count))
}

/// Writes a search's fields; `active` only when given, so renaming a search never undoes an
/// unsubscribe that raced it.
pub async fn update_search(
    ex: &impl Executor,
    id: &str,
    name: &str,
    filters: &SearchFilters,
    frequency: AlertFrequency,
    active: Option<bool>,
) -> Result<(), RepoError> {
    ex.query(
        "UPDATE type::record('saved_search', $id) SET name = $name, filters = $filters, frequency = $frequency, \
         active = $active ?? active, updated_at = time::now() RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("name", name.to_owned()))
    .bind(("filters", serde_json::to_value(filters).map_err(|e| unexpected(e.to_string()))?))
    .bind(("frequency", frequency.as_str()))
    .bind(("active", active))
    .await?
    .check()?;
    Ok(())
}

pub async fn delete_search(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query("DELETE type::record('saved_search', $id)")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

pub async fn find_by_token(
    ex: &impl Executor,
    token: &str,
) -> Result<Option<SavedSearch>, RepoError> {
    let mut response = ex
        .query(format!("SELECT {SEARCH_FIELDS} FROM saved_search WHERE unsubscribe_token = $unsubscribe LIMIT 1"))
        .bind(("unsubscribe", token.to_owned()))
        .await?;
    let rows: Vec<SearchRow> = response.take(0)?;
    rows.into_iter().next().map(SavedSearch::try_from).transpose()
}

/// Turns off the alerts of the search holding this token: its (name, was active), or `None`
/// for an unknown token.
pub async fn unsubscribe(
    ex: &impl Executor,
    token: &str,
) -> Result<Option<SavedSearch>, RepoError> {
    let mut response = ex
        .query(format!(
            "UPDATE saved_search SET active = false, updated_at = time::now() WHERE unsubscribe_token = $unsubscribe \
             RETURN {SEARCH_FIELDS}"
        ))
        .bind(("unsubscribe", token.to_owned()))
        .await?;
    let rows: Vec<SearchRow> = response.take(0)?;
    rows.into_iter().next().map(SavedSearch::try_from).transpose()
}

/// One page of the active searches of a frequency last notified before `cutoff`, in id order
/// after the id `after` (a digest run walks them all, so searches it skips never crowd out the
/// others).
pub async fn due_searches(
    ex: &impl Executor,
    frequency: AlertFrequency,
    cutoff: DateTime<Utc>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<SavedSearch>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {SEARCH_FIELDS} FROM saved_search WHERE active = true AND frequency = $frequency \
             AND last_notified_at < $cutoff AND ($cursor = NONE OR id > type::record('saved_search', $cursor)) \
             ORDER BY id ASC LIMIT $limit"
        ))
        .bind(("frequency", frequency.as_str()))
        .bind(("cutoff", cutoff))
        .bind(("cursor", after.map(str::to_owned)))
        .bind(("limit", i64::from(limit)))
        .await?;
    let rows: Vec<SearchRow> = response.take(0)?;
    rows.into_iter().map(SavedSearch::try_from).collect()
}

/// Moves the high-water mark of a digest, only from the value it was read at and while the
/// search is active (an unsubscribe during a run wins).
pub async fn set_notified_if(
    ex: &impl Executor,
    id: &str,
    read: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let response = ex
        .query(
            "UPDATE type::record('saved_search', $id) SET last_notified_at = $at \
             WHERE last_notified_at = $read AND active = true RETURN id",
        )
        .bind(("id", id.to_owned()))
        .bind(("read", read))
        .bind(("at", at))
        .await?;
    wrote_any(response)
}

/// Deletes a user's bookmarks and saved searches (account deletion).
pub async fn delete_for_user(ex: &impl Executor, user_id: &str) -> Result<(), RepoError> {
    ex.query(
        "DELETE saved_job WHERE user = type::record('user', $user); \
         DELETE saved_search WHERE user = type::record('user', $user);",
    )
    .bind(("user", user_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}
