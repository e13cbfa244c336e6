//! Every SurrealQL query lives here, one file per model. Queries bind their parameters; none is
//! built from user input. Rows are read into private structs that derive `SurrealValue` and are
//! converted to `models/` types before they leave.

pub mod applications;
pub mod audit;
pub mod companies;
pub mod conversations;
pub mod emails;
pub mod embeddings;
pub mod job_index;
pub mod jobs;
pub mod login_failures;
pub mod resumes;
pub mod saved;
pub mod sessions;
pub mod tasks;
pub mod tokens;
pub mod users;

use surrealdb::types::{RecordId, RecordIdKey, SurrealValue};

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// A unique index refused the write; `index` names it (e.g. `user_email`).
    #[error("a record with the same {index} already exists")]
    Duplicate { index: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<surrealdb::Error> for RepoError {
    fn from(err: surrealdb::Error) -> Self {
        if let Some(index) = unique_index_violated(&err) {
            return RepoError::Duplicate { index };
        }
        RepoError::Db(DbError::Query(err))
    }
}

impl RepoError {
    /// True when the same work may succeed if retried (a write conflict between transactions).
    pub fn is_conflict(&self) -> bool {
        matches!(self, RepoError::Db(err) if err.is_conflict())
    }

    /// True when the database server did not answer in time or could not be reached.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, RepoError::Db(err) if err.is_unavailable())
    }

    /// True when the database's disk is full.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, RepoError::Db(err) if err.is_storage_full())
    }
}

/// SurrealDB reports a unique violation as "Database index `NAME` already contains …".
fn unique_index_violated(err: &surrealdb::Error) -> Option<String> {
    let message = err.message();
    let rest = message.split("Database index `").nth(1)?;
    let (name, tail) = rest.split_once('`')?;
    tail.trim_start().starts_with("already contains").then(|| name.to_owned())
}

/// Whether a write failed because a record it creates exists already.
pub(crate) fn record_exists(err: &surrealdb::Error) -> bool {
    matches!(
        err.already_exists_details(),
        Some(surrealdb::types::AlreadyExistsError::Record { .. })
    )
}

/// The key of a record id as the string the API shows (`user:abc` → `abc`).
pub(crate) fn key_string(id: &RecordId) -> String {
    match &id.key {
        RecordIdKey::String(s) => s.clone(),
        RecordIdKey::Number(n) => n.to_string(),
        RecordIdKey::Uuid(u) => u.to_string(),
        other => format!("{other:?}"),
    }
}

/// `SELECT count() AS count … GROUP ALL`.
#[derive(Debug, SurrealValue)]
pub(crate) struct Count {
    pub count: u64,
}

pub(crate) fn unexpected(message: impl Into<String>) -> RepoError {
    RepoError::Db(DbError::Unexpected(message.into()))
}

/// Whether a conditional write (`UPDATE … WHERE … RETURN id`, or `DELETE … RETURN BEFORE`)
/// changed a record: `false` when its condition held for none.
pub(crate) fn wrote_any(mut response: surrealdb::IndexedResults) -> Result<bool, RepoError> {
    #[derive(SurrealValue)]
    struct IdRow {
        #[allow(dead_code)] // read to check the row's shape; only the count matters
        id: RecordId,
    }
    let rows: Vec<IdRow> = response.take(0)?;
    Ok(!rows.is_empty())
}

/// A new record key: a UUIDv7, so keys sort by creation time.
pub(crate) fn new_key() -> String {
    uuid::Uuid::now_v7().to_string()
}
