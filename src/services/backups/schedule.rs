//! Scheduled backups: at each slot of `JOBPORTAL_SCHEDULE_BACKUP`, a backup named after its slot
//! in `<data dir>/backups/`, then the oldest beyond `JOBPORTAL_BACKUP_KEEP` deleted.
//!
//! Only files named as this task names them (`jobportal-20260301T040000Z.surql`) are counted
//! and deleted; anything else in the directory is left alone. Running a slot twice writes the
//! same file again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{BackupError, Created, create};
use crate::core::config::BackupConfig;
use crate::queue::{Attempt, Queue, Task};
use crate::services::{Context, TaskContext};

const PREFIX: &str = "jobportal-";
const SUFFIX: &str = ".surql";
const STAMP: &str = "%Y%m%dT%H%M%SZ";

/// A hidden partial file of a backup that never finished is deleted once it is this old.
const PARTIAL_KEPT: Duration = Duration::from_secs(24 * 3600);

/// The file name of the scheduled backup of `slot`.
pub fn backup_name(slot: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", slot.format(STAMP))
}

/// Whether `name` is one [`backup_name`] gives.
fn is_backup_name(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .is_some_and(|stamp| NaiveDateTime::parse_from_str(stamp, STAMP).is_ok())
}

/// Deletes the scheduled backups in `dir` but the newest `keep` (by the time in their names),
/// and partial files of backups that never finished; returns what it deleted. Blocking.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut backups = Vec::new();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_backup_name(&name) {
            backups.push(name);
        } else if let Some(partial) =
            name.strip_prefix('.').and_then(|n| n.strip_suffix(".partial"))
            && is_backup_name(partial)
        {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| SystemTime::now().duration_since(at).ok())
                .is_some_and(|age| age > PARTIAL_KEPT);
            if old {
                remove(&entry.path(), &mut removed)?;
            }
        }
    }
    // The stamp sorts as the time does.
    backups.sort_unstable_by(|a, b| b.cmp(a));
    for name in backups.iter().skip(keep) {
        remove(&dir.join(name), &mut removed)?;
    }
    Ok(removed)
}

/// Deletes a file; one already gone (another pruner's) is no error.
fn remove(path: &Path, removed: &mut Vec<PathBuf>) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            removed.push(path.to_path_buf());
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err),
    }
}

/// Writes the backup of `slot` into `config.dir` (made if needed, for its owner only), then
/// prunes the directory
/// to `config.keep` backups; returns the backup and the files deleted.
pub async fn scheduled(
    ctx: &Context,
    config: &BackupConfig,
    slot: DateTime<Utc>,
) -> Result<(Created, Vec<PathBuf>), BackupError> {
    let mut dir = tokio::fs::DirBuilder::new();
    dir.recursive(true);
    #[cfg(unix)]
    dir.mode(0o700);
    dir.create(&config.dir)
        .await
        .map_err(|source| BackupError::Write { path: config.dir.clone(), error: source })?;
    let created = create(&ctx.db, &config.dir.join(backup_name(slot))).await?;
    let (dir, keep) = (config.dir.clone(), config.keep.max(1));
    let removed = tokio::task::spawn_blocking(move || prune(&dir, keep))
        .await
        .map_err(|err| BackupError::Write {
            path: config.dir.clone(),
            error: std::io::Error::other(err.to_string()),
        })?
        .map_err(|source| BackupError::Write { path: config.dir.clone(), error: source })?;
    Ok((created, removed))
}

/// The scheduled backup of one slot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduledBackup {
    /// The scheduled time (Unix seconds) this backup belongs to and is named after.
    pub slot: i64,
}

impl Task for ScheduledBackup {
    const KIND: &'static str = "backup";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 3;
    type Context = Arc<TaskContext>;

    fn dedup_key(&self) -> Option<String> {
        Some(self.slot.to_string())
    }

    async fn run(self, ctx: Arc<TaskContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let slot = DateTime::from_timestamp(self.slot, 0).unwrap_or_else(Utc::now);
        let (created, removed) = scheduled(&ctx.services, &ctx.config.backups, slot).await?;
        tracing::info!(
            file = %created.path.display(),
            bytes = created.trailer.bytes,
            removed = removed.len(),
            "backup written"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn backups_are_named_after_their_slot_and_only_those_names_count() {
        let slot = Utc.with_ymd_and_hms(2026, 3, 1, 4, 0, 0).unwrap();
        assert_eq!(backup_name(slot), "jobportal-20260301T040000Z.surql");
        assert!(is_backup_name(&backup_name(slot)));
        for other in [
            "jobportal-latest.surql",
            "jobportal-20260301T040000Z.surql.bak",
            "mine-20260301T040000Z.surql",
            "jobportal-20261301T040000Z.surql",
        ] {
            assert!(!is_backup_name(other), "{other}");
        }
    }

    #[test]
    fn pruning_keeps_the_newest_and_leaves_other_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let at = |day| Utc.with_ymd_and_hms(2026, 3, day, 4, 0, 0).unwrap();
        // Written out of order: the names decide, not the order of writing.
        for day in [3, 1, 5, 2, 4] {
            std::fs::write(dir.path().join(backup_name(at(day))), "x").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        std::fs::write(dir.path().join("jobportal-before-upgrade.surql"), "mine").unwrap();
        let fresh_partial = format!(".{}.partial", backup_name(at(6)));
        std::fs::write(dir.path().join(&fresh_partial), "being written").unwrap();

        let removed = prune(dir.path(), 2).unwrap();
        assert_eq!(removed.len(), 3, "{removed:?}");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                fresh_partial.as_str(),
                "jobportal-20260304T040000Z.surql",
                "jobportal-20260305T040000Z.surql",
                "jobportal-before-upgrade.surql",
                "notes.txt",
            ]
        );
        // Nothing more to do.
        assert!(prune(dir.path(), 2).unwrap().is_empty());
    }
}
