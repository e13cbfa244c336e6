//! Backups of the database: [`create`] writes one (`admin backup`, and the scheduled
//! [`ScheduledBackup`] into `<data dir>/backups/`), [`restore()`] replaces a database with one
//! (`admin restore`). Both work on the embedded database and on a SurrealDB server's.
//!
//! A backup is SurrealDB's export of the selected database (every definition and record, read
//! in one snapshot) followed by a trailer line of ours with its length and SHA-256 (`file.rs`).
//! What is derived from the tables is not in it: the search index is deleted by a restore and
//! built again from the restored jobs; the job vectors are a table (`job_embedding`), and the
//! vector index is built from it at start.

mod file;
mod restore;
mod schedule;
mod server_restore;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use file::{Trailer, verify};
pub use restore::{Restored, restore};
pub use schedule::{ScheduledBackup, backup_name, prune};

use crate::db::migrations::{MIGRATIONS, MigrationError, Migrator};
use crate::db::{Database, DbError};

/// Why a backup or a restore did not happen. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },

    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },

    #[error("{} is not a jobportal backup: {detail}", path.display())]
    NotABackup { path: PathBuf, detail: String },

    #[error("{} is damaged: {detail}", path.display())]
    Damaged { path: PathBuf, detail: String },

    #[error(
        "{} was taken of a database migrated by a newer jobportal (migration {found:04}; this one \
         knows up to {known:04}): restore it with that version or a later one",
        path.display()
    )]
    Newer { path: PathBuf, found: u32, known: u32 },

    #[error(
        "the database already holds data (in {}); a restore replaces the whole database: run it \
         again with --force to do so (the database it replaces is kept beside it)",
        tables.join(", ")
    )]
    NotEmpty { tables: Vec<String> },

    #[error(
        "the database at {url} lives in this process's memory only: a restore replaces an \
         embedded database on disk (surrealkv://PATH) or a SurrealDB server's (ws://HOST:PORT)"
    )]
    InMemory { url: String },

    #[error(
        "the database store at {} also holds {}: a restore replaces the whole store, so it \
         would lose them; move them to a store of their own first",
        path.display(),
        others.join(", ")
    )]
    SharedStore { path: PathBuf, others: Vec<String> },

    #[error(
        "{} could not be restored, and the database was left as it was: {cause}",
        path.display()
    )]
    Import { path: PathBuf, cause: Box<BackupError> },

    #[error("cannot back up the database at {url}: {message}")]
    ServerExport { url: String, message: String },

    #[error(
        "{} could not be restored ({cause}), and putting the database back failed too: \
         {put_back}. {}",
        path.display(),
        match kept {
            Some(kept) => format!("The database as it was is in the backup {}", kept.display()),
            None => "It was empty before".to_owned(),
        }
    )]
    PutBack { path: PathBuf, cause: Box<BackupError>, put_back: String, kept: Option<PathBuf> },

    #[error(transparent)]
    Db(#[from] DbError),

    #[error(transparent)]
    Migration(#[from] MigrationError),
}

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Created {
    pub path: PathBuf,
    pub trailer: Trailer,
}

/// Writes a backup of `db` to `path` (mode 0600), replacing a file of that name only once the
/// backup is whole: the export goes to a hidden file beside it, is sealed with its trailer,
/// flushed, and renamed into place. Works while the database serves requests (the export reads one
/// snapshot).
pub async fn create(db: &Database, path: &Path) -> Result<Created, BackupError> {
    let schema = newest_migration(db).await?;
    let partial = partial_path(path);
    let write_error = |source| BackupError::Write { path: path.to_path_buf(), error: source };
    // Made here, readable by its owner only (it holds password hashes and resumes); the export
    // then writes into it. A directory that is not there or not writable is said in our words.
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(&partial).await.map_err(write_error)?;
    if let Err(err) = db.export_to(&partial).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(match err {
            DbError::Export(message) if is_server(db.url()) => {
                BackupError::ServerExport { url: db.url().to_owned(), message }
            }
            other => other.into(),
        });
    }
    let target = path.to_path_buf();
    let sealed = tokio::task::spawn_blocking(move || -> std::io::Result<Trailer> {
        let result = file::seal(&partial, schema, Utc::now()).and_then(|trailer| {
            std::fs::rename(&partial, &target)?;
            sync_parent(&target);
            Ok(trailer)
        });
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    })
    .await
    .map_err(|err| write_error(std::io::Error::other(err.to_string())))?
    .map_err(write_error)?;
    Ok(Created { path: path.to_path_buf(), trailer: sealed })
}

/// [`verify`] on the blocking pool.
pub async fn verify_file(path: &Path) -> Result<Trailer, BackupError> {
    let owned = path.to_path_buf();
    tokio::task::spawn_blocking(move || verify(&owned)).await.map_err(|err| BackupError::Read {
        path: path.to_path_buf(),
        error: std::io::Error::other(err.to_string()),
    })?
}

/// The newest migration recorded in the database (0 when it was never migrated), including
/// ones this binary does not know.
async fn newest_migration(db: &Database) -> Result<u32, BackupError> {
    let status = Migrator::new(db).status().await?;
    let known = status
        .entries
        .iter()
        .filter(|e| matches!(e.state, crate::db::migrations::State::Applied { .. }))
        .map(|e| e.migration.version);
    let unknown = status.unknown.iter().map(|m| u32::try_from(m.version).unwrap_or(u32::MAX));
    Ok(known.chain(unknown).max().unwrap_or(0))
}

/// A SurrealDB server rather than an engine in this process.
fn is_server(url: &str) -> bool {
    !(url.starts_with("surrealkv://") || url == "mem://")
}

/// The newest migration this binary knows.
fn newest_known_migration() -> u32 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Where a backup is written before it is whole: a hidden file beside `path`.
fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Flushes the directory entry of a file just renamed into place (where the system allows).
fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
}

/// When a backup was taken, for messages.
pub fn describe(trailer: &Trailer) -> String {
    let created: DateTime<Utc> = trailer.created;
    format!(
        "{} bytes, migration {:04}, taken {}",
        trailer.bytes,
        trailer.schema,
        created.format("%Y-%m-%d %H:%M:%S UTC")
    )
}
