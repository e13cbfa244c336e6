//! Every SurrealQL query lives here, one file per model. Queries bind their parameters; none is
//! built from user input. Rows are read into private structs that derive `SurrealValue` and are
//! converted to `models/` types before they leave.

pub mod users;

use surrealdb::types::{RecordId, RecordIdKey};

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

/// SurrealDB reports a unique violation as "Database index `NAME` already contains …".
fn unique_index_violated(err: &surrealdb::Error) -> Option<String> {
    let message = err.message();
    let rest = message.split("Database index `").nth(1)?;
    let (name, tail) = rest.split_once('`')?;
    tail.trim_start().starts_with("already contains").then(|| name.to_owned())
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

/// A new record key: a UUIDv7, so keys sort by creation time.
pub(crate) fn new_key() -> String {
    uuid::Uuid::now_v7().to_string()
}
