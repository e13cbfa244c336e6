//! Restoring a backup into a SurrealDB server's database: the database ends up holding the
//! backup's content, or what it held before.
//!
//! A server has no directory to exchange, so the order is:
//! 1. the file is checked first (trailer, length, SHA-256, migration), as for an embedded one;
//! 2. a database that holds data is refused without `force`; with it, that data is first
//!    written to a backup of its own, `<data dir>/backups/before-restore-STAMP.surql`, which
//!    is imported into a scratch database of the server (then removed) and must give the
//!    same records per table: nothing is removed that this backup could not bring back, and
//!    the server is known to take imports;
//! 3. the database is removed and defined again, the backup is imported through the server's
//!    HTTP import and migrated to this binary's schema, and this machine's search index is
//!    deleted (the caller or the next `serve` builds it again);
//! 4. when the import fails, the database is emptied again and the data it held is imported
//!    back from step 2's backup (or, when it held none, it is left empty and migrated).
//!
//! Other databases on the server are not touched. The steps are not one transaction: stop
//! every `serve` and `worker` that uses the database first, and after the restore delete the
//! search index of every other machine's `serve` (or run `admin reindex-jobs` there).

use std::path::{Path, PathBuf};

use chrono::Utc;

use super::BackupError;
use super::restore::{Restored, checked_file};
use crate::core::config::DbConfig;
use crate::db::Database;
use crate::db::migrations::Migrator;
use crate::repositories::job_index;

/// Replaces the server database of `config` with the backup `file`; see the module.
pub async fn restore(
    config: &DbConfig,
    data_dir: &Path,
    file: &Path,
    force: bool,
) -> Result<Restored, BackupError> {
    let trailer = checked_file(file).await?;
    let target = Database::connect(config).await?;
    let result = replace(&target, config, data_dir, file, force).await;
    target.close().await;
    let (counts, previous) = result?;
    Ok(Restored { trailer, counts, previous })
}

/// Steps 2 to 4 on `target`, the connected database of `config`.
async fn replace(
    target: &Database,
    config: &DbConfig,
    data_dir: &Path,
    file: &Path,
    force: bool,
) -> Result<(Vec<(String, u64)>, Option<PathBuf>), BackupError> {
    let database = config.database.as_str();
    let held = target.tables_with_records().await?;
    if !held.is_empty() && !force {
        return Err(BackupError::NotEmpty { tables: held });
    }
    let previous = if held.is_empty() {
        None
    } else {
        let dir = data_dir.join("backups");
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|error| BackupError::Write { path: dir.clone(), error })?;
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let kept = dir.join(format!("before-restore-{stamp}.surql"));
        super::create(target, &kept).await?;
        let scratch = format!("{database}_restore_check_{}", Utc::now().timestamp_micros());
        check_restorable(target, config, &kept, &scratch).await?;
        Some(kept)
    };
    let search = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || job_index::remove_indexes(&search))
        .await
        .map_err(|err| std::io::Error::other(err.to_string()))
        .and_then(|removed| removed)
        .map_err(|error| BackupError::Write { path: data_dir.join("search"), error })?;
    match load(target, database, file).await {
        Ok(counts) => Ok((counts, previous)),
        Err(err) => {
            let put_back = match &previous {
                Some(kept) => load(target, database, kept).await.map(drop),
                None => empty(target, database).await,
            };
            let cause = Box::new(err);
            match put_back {
                Ok(()) => Err(BackupError::Import { path: file.to_path_buf(), cause }),
                Err(again) => Err(BackupError::PutBack {
                    path: file.to_path_buf(),
                    cause,
                    put_back: again.to_string(),
                    kept: previous,
                }),
            }
        }
    }
}

/// Empties the database, imports `file` into it and migrates it; its records per table.
async fn load(
    target: &Database,
    database: &str,
    file: &Path,
) -> Result<Vec<(String, u64)>, BackupError> {
    target.recreate_database(database).await?;
    target.import_from(file).await?;
    Migrator::new(target).apply(|_| {}).await?;
    Ok(target.record_counts().await?)
}

/// An empty database of this binary's schema.
async fn empty(target: &Database, database: &str) -> Result<(), BackupError> {
    target.recreate_database(database).await?;
    Migrator::new(target).apply(|_| {}).await?;
    Ok(())
}

/// Imports `kept` (a backup just taken of `target`, the database of `config`) into the new
/// database `scratch` of the same server and compares its records per table with `target`'s;
/// removes `scratch` whatever happens.
async fn check_restorable(
    target: &Database,
    config: &DbConfig,
    kept: &Path,
    scratch: &str,
) -> Result<(), BackupError> {
    let config = DbConfig { database: scratch.to_owned(), ..config.clone() };
    let copy = Database::connect(&config).await?;
    let outcome = async {
        copy.import_from(kept).await?;
        Ok::<_, BackupError>((copy.record_counts().await?, target.record_counts().await?))
    }
    .await;
    copy.close().await;
    let removed = target.remove_database(scratch).await;
    let (copied, held) = outcome
        .map_err(|err| BackupError::Import { path: kept.to_path_buf(), cause: Box::new(err) })?;
    removed?;
    if copied != held {
        return Err(BackupError::Damaged {
            path: kept.to_path_buf(),
            detail: format!(
                "imported into a scratch database it gave other records per table than the \
                 database it was taken of ({copied:?} against {held:?}); nothing was replaced"
            ),
        });
    }
    Ok(())
}
