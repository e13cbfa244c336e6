//! Restoring a backup: the embedded database is replaced whole by the backup's content, or
//! left as it was (a SurrealDB server's database: `server_restore.rs`).
//!
//! The order gives that guarantee:
//! 1. the file is checked first (its trailer, length, SHA-256 and migration), so a file cut
//!    short, changed or not a backup at all is refused before anything is opened;
//! 2. the database is opened (no other process may have it: `DbError::InUse`) and asked
//!    whether it holds data (refused without `force`) or shares its store with others;
//! 3. the backup is imported into a new store beside it and migrated to this binary's schema;
//!    when that fails, the new store is deleted;
//! 4. the database is closed and its lock taken again by this process, the search index is
//!    deleted (the next start, or the caller, builds it from the restored jobs), and the two
//!    store directories are exchanged in one step;
//! 5. the store that was replaced is kept beside the new one when it held data, deleted when
//!    it held none.
//!
//! A process that opens the database from step 4 on finds the restored one.

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::{BackupError, Trailer, newest_known_migration};
use crate::core::config::DbConfig;
use crate::db::Database;
use crate::db::backup::{StoreLock, exchange_dirs};
use crate::db::migrations::Migrator;
use crate::repositories::job_index;

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// What the backup's trailer says.
    pub trailer: Trailer,
    /// Records per table of the restored database.
    pub counts: Vec<(String, u64)>,
    /// Where the database that was replaced is kept; `None` when it held no data (it was
    /// deleted).
    pub previous: Option<PathBuf>,
}

/// Replaces the database of `config` (embedded, or on a SurrealDB server) with the backup
/// `file`, and deletes the search index of `data_dir`. A database that holds data is replaced
/// only with `force`.
pub async fn restore(
    config: &DbConfig,
    data_dir: &Path,
    file: &Path,
    force: bool,
) -> Result<Restored, BackupError> {
    if config.is_remote() {
        return super::server_restore::restore(config, data_dir, file, force).await;
    }
    let Some(path) = config.embedded_path().map(Path::to_path_buf) else {
        return Err(BackupError::InMemory { url: config.url.clone() });
    };
    let trailer = checked_file(file).await?;

    let target = Database::connect(config).await?;
    let held = match check_target(&target, config, &path, force).await {
        Ok(held) => held,
        Err(err) => {
            target.close().await;
            return Err(err);
        }
    };
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let staging = sibling(&path, &format!("restore-{stamp}"));
    let counts = match stage(config, &staging, file).await {
        Ok(counts) => counts,
        Err(err) => {
            target.close().await;
            remove_store(&staging).await;
            return Err(BackupError::Import { path: file.to_path_buf(), cause: Box::new(err) });
        }
    };
    target.close().await;

    let data_dir = data_dir.to_path_buf();
    let kept = sibling(&path, &format!("before-restore-{stamp}"));
    let swap = {
        let (path, staging) = (path.clone(), staging.clone());
        tokio::task::spawn_blocking(move || swap(&path, &staging, &data_dir))
    };
    match swap.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            remove_store(&staging).await;
            return Err(BackupError::Import { path: file.to_path_buf(), cause: Box::new(err) });
        }
        Err(err) => {
            return Err(BackupError::Write { path, error: std::io::Error::other(err.to_string()) });
        }
    }
    // The replaced store is where the new one was staged.
    let previous = if held.is_empty() {
        remove_store(&staging).await;
        None
    } else {
        match tokio::fs::rename(&staging, &kept).await {
            Ok(()) => Some(kept),
            Err(_) => Some(staging),
        }
    };
    Ok(Restored { trailer, counts, previous })
}

/// The trailer of the backup `file`, once the file is whole and of a schema this binary knows.
pub(super) async fn checked_file(file: &Path) -> Result<Trailer, BackupError> {
    let trailer = super::verify_file(file).await?;
    let known = newest_known_migration();
    if trailer.schema > known {
        return Err(BackupError::Newer { path: file.to_path_buf(), found: trailer.schema, known });
    }
    Ok(trailer)
}

/// The tables of `target` that hold data; an error when it may not be replaced.
async fn check_target(
    target: &Database,
    config: &DbConfig,
    path: &Path,
    force: bool,
) -> Result<Vec<String>, BackupError> {
    let others = target.other_databases(&config.namespace, &config.database).await?;
    if !others.is_empty() {
        return Err(BackupError::SharedStore { path: path.to_path_buf(), others });
    }
    let held = target.tables_with_records().await?;
    if !held.is_empty() && !force {
        return Err(BackupError::NotEmpty { tables: held });
    }
    Ok(held)
}

/// Imports `file` into a new store at `staging`, migrates it, and counts its records; closes
/// it whatever happens.
async fn stage(
    config: &DbConfig,
    staging: &Path,
    file: &Path,
) -> Result<Vec<(String, u64)>, BackupError> {
    if tokio::fs::try_exists(staging).await.unwrap_or(true) {
        return Err(BackupError::Write {
            path: staging.to_path_buf(),
            error: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "it is already there"),
        });
    }
    let staged_config =
        DbConfig { url: format!("surrealkv://{}", staging.display()), ..config.clone() };
    let staged = Database::connect(&staged_config).await?;
    let result = async {
        staged.import_from(file).await?;
        Migrator::new(&staged).apply(|_| {}).await?;
        Ok(staged.record_counts().await?)
    }
    .await;
    staged.close().await;
    result
}

/// Under the database's lock (refused when another process took it meanwhile): deletes the
/// search index, then exchanges the database's directory with the staged one.
fn swap(path: &Path, staging: &Path, data_dir: &Path) -> Result<(), BackupError> {
    let lock = StoreLock::acquire(path)?;
    job_index::remove_indexes(data_dir)
        .map_err(|source| BackupError::Write { path: data_dir.join("search"), error: source })?;
    exchange_dirs(staging, path)
        .map_err(|source| BackupError::Write { path: path.to_path_buf(), error: source })?;
    drop(lock);
    super::sync_parent(path);
    Ok(())
}

/// `path` with `.suffix` after its name, in the same directory (one filesystem, so a rename
/// moves it).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.{suffix}"))
}

/// Deletes a store directory this restore made, if it is there.
async fn remove_store(path: &Path) {
    if let Err(err) = tokio::fs::remove_dir_all(path).await
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %err, "cannot remove a staged database");
    }
}
