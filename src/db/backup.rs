//! Whole-database copies: SurrealDB's own export and import of the selected database, what a
//! restore asks of a database before it replaces it, and replacing an embedded store's
//! directory with another in one step.
//!
//! The engine renders (export) and parses and executes (import) every record inside the
//! calling task, so both run on a blocking thread of their own, never on the runtime's workers.
//! SurrealDB's SDK exports and imports embedded databases only (over `ws://` it answers that
//! the protocol has no backups): a server's database goes through the server's HTTP endpoints
//! instead ([`super::server_http`]).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::{Database, DbError};

/// The bookkeeping table of the migrations: a database that holds nothing else is empty.
const MIGRATION_TABLE: &str = "migration";

impl Database {
    /// Writes SurrealDB's export of the selected database to `path` (created or truncated):
    /// its definitions, then its records, as SurrealQL, read in one snapshot.
    pub async fn export_to(&self, path: &Path) -> Result<(), DbError> {
        if let Some(http) = &self.http {
            let tables = self.table_names().await?;
            return http.export_to(path, &tables).await;
        }
        let db = self.db.clone();
        let path = path.to_path_buf();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(async move { db.export(path).await }))
            .await
            .map_err(|err| DbError::Export(format!("the export stopped: {err}")))?
            .map_err(|err| DbError::Export(err.message().to_owned()))
    }

    /// Runs the SurrealQL file `path` (an export) against the selected database. It is not
    /// atomic: a failure part-way leaves what ran before it, so import only into a database
    /// that can be thrown away.
    pub async fn import_from(&self, path: &Path) -> Result<(), DbError> {
        if let Some(http) = &self.http {
            return http.import_from(path).await;
        }
        let db = self.db.clone();
        let path = path.to_path_buf();
        let runtime = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || runtime.block_on(async move { db.import(path).await }))
            .await
            .map_err(|err| DbError::Import(format!("the import stopped: {err}")))?
            .map_err(|err| DbError::Import(err.message().to_owned()))
    }

    /// Removes the selected database, named `database`, with everything in it, and defines it
    /// again empty (a restore into a server's database starts from there).
    pub async fn recreate_database(&self, database: &str) -> Result<(), DbError> {
        self.remove_database(database).await?;
        self.db.query(format!("DEFINE DATABASE {database};")).await?.check()?;
        Ok(())
    }

    /// Removes the database `database` of the selected namespace, with everything in it.
    pub async fn remove_database(&self, database: &str) -> Result<(), DbError> {
        // The name is interpolated: only a plain identifier (the configuration checks it too).
        if !crate::core::config::is_identifier(database) {
            return Err(DbError::Unexpected(format!("{database:?} is not a database name")));
        }
        self.db.query(format!("REMOVE DATABASE IF EXISTS {database};")).await?.check()?;
        Ok(())
    }

    /// The tables that hold at least one record, sorted; the migrations' bookkeeping does not
    /// count (a migrated database with no data is empty).
    pub async fn tables_with_records(&self) -> Result<Vec<String>, DbError> {
        let mut held = Vec::new();
        for table in self.table_names().await? {
            if table == MIGRATION_TABLE {
                continue;
            }
            let mut response = self
                .db
                .query("SELECT VALUE id FROM type::table($table) LIMIT 1")
                .bind(("table", table.clone()))
                .await?;
            let ids: Vec<surrealdb::types::Value> = response.take(0)?;
            if !ids.is_empty() {
                held.push(table);
            }
        }
        Ok(held)
    }

    /// How many records each table holds, by table name.
    pub async fn record_counts(&self) -> Result<Vec<(String, u64)>, DbError> {
        let mut counts = Vec::new();
        for table in self.table_names().await? {
            let mut response = self
                .db
                .query("SELECT VALUE count() FROM type::table($table) GROUP ALL")
                .bind(("table", table.clone()))
                .await?;
            let n: Option<i64> = response.take(0)?;
            counts.push((table, u64::try_from(n.unwrap_or(0)).unwrap_or(0)));
        }
        Ok(counts)
    }

    /// The namespaces and databases of the store besides the selected one, as `ns` or
    /// `ns/db`: replacing the store's directory would take them too.
    pub async fn other_databases(
        &self,
        namespace: &str,
        database: &str,
    ) -> Result<Vec<String>, DbError> {
        let names = |info: Option<serde_json::Value>, key: &str| -> Vec<String> {
            info.as_ref()
                .and_then(|i| i.get(key))
                .and_then(|v| v.as_object())
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let mut response = self.db.query("INFO FOR ROOT").await?;
        let mut others: Vec<String> = names(response.take(0)?, "namespaces")
            .into_iter()
            .filter(|ns| ns != namespace)
            .collect();
        let mut response = self.db.query("INFO FOR NS").await?;
        others.extend(
            names(response.take(0)?, "databases")
                .into_iter()
                .filter(|db| db != database)
                .map(|db| format!("{namespace}/{db}")),
        );
        others.sort();
        Ok(others)
    }
}

/// The lock of a closed embedded store, held by this process: while it is held, no
/// `jobportal` can open the store (it fails with [`DbError::InUse`]). Released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl StoreLock {
    /// Takes the lock of the store at `path` (a directory), which SurrealKV takes when it
    /// opens it; fails with [`DbError::InUse`] when a process has the store open.
    pub fn acquire(path: &Path) -> Result<StoreLock, DbError> {
        let lock_path = path.join("LOCK");
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|err| DbError::Open {
                url: format!("surrealkv://{}", path.display()),
                message: format!("cannot open {}: {err}", lock_path.display()),
            })?;
        fs2::FileExt::try_lock_exclusive(&file)
            .map_err(|_| DbError::InUse { path: path.to_path_buf() })?;
        Ok(StoreLock { _file: file })
    }
}

/// Swaps the directories `a` and `b` (both on one filesystem): in one step on Linux
/// (`renameat2` with `RENAME_EXCHANGE`), so each path always names a whole directory; where
/// the system or the filesystem cannot, in three renames through a third name beside `b`.
pub fn exchange_dirs(a: &Path, b: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let to_c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
        };
        let (ca, cb) = (to_c(a)?, to_c(b)?);
        // SAFETY: both pointers are NUL-terminated strings that outlive the call; the call
        // reads them and touches no memory of ours.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        // Anything but "not supported here" (a mount point, a missing path…) would fail the
        // renames too.
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
            return Err(err);
        }
    }
    let aside = aside_name(b);
    std::fs::rename(b, &aside)?;
    if let Err(err) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&aside, b);
        return Err(err);
    }
    std::fs::rename(&aside, a)
}

/// A name beside `path` that nothing uses.
fn aside_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{name}.exchange-{}", uuid::Uuid::now_v7()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanging_two_directories_swaps_what_they_hold() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&a).unwrap();
        std::fs::create_dir(&b).unwrap();
        std::fs::write(a.join("which"), "a").unwrap();
        std::fs::write(b.join("which"), "b").unwrap();
        exchange_dirs(&a, &b).unwrap();
        assert_eq!(std::fs::read_to_string(a.join("which")).unwrap(), "b");
        assert_eq!(std::fs::read_to_string(b.join("which")).unwrap(), "a");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "nothing left aside");
        // A path that is not there: an error, and the other is untouched.
        assert!(exchange_dirs(&dir.path().join("absent"), &b).is_err());
        assert_eq!(std::fs::read_to_string(b.join("which")).unwrap(), "a");
    }

    #[test]
    fn a_store_lock_excludes_a_second_holder_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = StoreLock::acquire(dir.path()).unwrap();
        assert!(matches!(StoreLock::acquire(dir.path()), Err(DbError::InUse { .. })));
        drop(first);
        StoreLock::acquire(dir.path()).unwrap();
    }
}
