//! Versioned schema migrations: numbered `.surql` files embedded in the binary.
//!
//! Each migration runs once, atomically: its statements and the `migration` record that marks
//! it applied share one transaction, so a failure leaves nothing behind and two processes
//! racing against one SurrealDB server cannot both apply it (the record id is the version; the
//! loser's transaction fails and it finds the version applied by the winner). The record keeps
//! a SHA-256 of the file; a file changed after it was applied is refused, because the database
//! no longer matches what the binary believes it ran.
//!
//! Files must not contain `BEGIN`, `COMMIT`, `CANCEL` or a top-level `RETURN`: the runner wraps
//! each one in its own transaction.

use std::time::Instant;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use surrealdb::types::{NotFoundError, QueryError, SurrealValue};

use super::{Database, DbError};

/// One migration as shipped in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// SHA-256 of the file, with line endings normalised so a checkout with CRLF matches.
    pub fn checksum(&self) -> String {
        let normalised = self.sql.replace("\r\n", "\n");
        hex::encode(Sha256::digest(normalised.as_bytes()))
    }

    /// `0001_users`, the file name without its extension.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(stringify!($version), "_", $name, ".surql")),
        }
    };
}

/// Every migration, in order. A new one is a new file `NNNN_name.surql` and a line here.
// The version is written as the file name spells it; the leading zeros are not octal.
#[allow(clippy::zero_prefixed_literal)]
pub static MIGRATIONS: &[Migration] = &[
    migration!(0001, "users"),
    migration!(0002, "accounts"),
    migration!(0003, "tasks"),
    migration!(0004, "jobs"),
    migration!(0005, "candidates"),
    migration!(0006, "embeddings"),
    migration!(0007, "job_writes"),
    migration!(0008, "job_table_schemaless"),
    migration!(0009, "resume_parse_failed"),
    migration!(0010, "job_locations"),
    migration!(0011, "conversations"),
    migration!(0012, "login_failures"),
    migration!(0013, "embedding_claims"),
];

const BOOTSTRAP: &str = "
BEGIN TRANSACTION;
DEFINE TABLE IF NOT EXISTS migration SCHEMAFULL;
DEFINE FIELD IF NOT EXISTS version ON migration TYPE int;
DEFINE FIELD IF NOT EXISTS name ON migration TYPE string;
DEFINE FIELD IF NOT EXISTS checksum ON migration TYPE string;
DEFINE FIELD IF NOT EXISTS applied_at ON migration TYPE datetime;
DEFINE INDEX IF NOT EXISTS migration_version ON migration FIELDS version UNIQUE;
COMMIT TRANSACTION;
";

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "migration {label} was changed after it was applied (recorded checksum {recorded}, \
         file checksum {expected}); restore the original file and put the change in a new migration"
    )]
    Changed { label: String, recorded: String, expected: String },

    #[error(
        "the database has migration {version:04}_{name}, which this jobportal does not know; it \
         was migrated by a newer version: upgrade jobportal"
    )]
    Unknown { version: u32, name: String },

    #[error("migration {label} failed, nothing of it was applied: {message}")]
    Failed { label: String, message: String },

    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<surrealdb::Error> for MigrationError {
    fn from(err: surrealdb::Error) -> Self {
        MigrationError::Db(DbError::Query(err))
    }
}

/// A migration as recorded in the database.
#[derive(Debug, Clone, SurrealValue)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub applied_at: DateTime<Utc>,
}

/// Where one known migration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Applied {
        at: DateTime<Utc>,
    },
    Pending,
    /// Applied, but the file differs from what was applied.
    Changed {
        recorded: String,
    },
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub migration: Migration,
    pub state: State,
}

/// The database's migrations compared with the binary's.
#[derive(Debug, Clone)]
pub struct Status {
    pub entries: Vec<Entry>,
    /// Applied in the database but unknown to this binary.
    pub unknown: Vec<AppliedMigration>,
}

impl Status {
    pub fn applied(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e.state, State::Applied { .. })).count()
    }

    pub fn pending(&self) -> usize {
        self.entries.iter().filter(|e| e.state == State::Pending).count()
    }

    /// The first reason the schema is unusable, if any.
    pub fn problem(&self) -> Option<MigrationError> {
        if let Some(unknown) = self.unknown.first() {
            return Some(MigrationError::Unknown {
                version: u32::try_from(unknown.version).unwrap_or(u32::MAX),
                name: unknown.name.clone(),
            });
        }
        self.entries.iter().find_map(|e| match &e.state {
            State::Changed { recorded } => Some(MigrationError::Changed {
                label: e.migration.label(),
                recorded: recorded.clone(),
                expected: e.migration.checksum(),
            }),
            _ => None,
        })
    }

    /// Every known migration applied, unchanged, and nothing unknown.
    pub fn is_current(&self) -> bool {
        self.pending() == 0 && self.problem().is_none()
    }
}

/// What applying one migration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Another process applied it while this one was trying.
    AppliedElsewhere,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub migration: Migration,
    pub outcome: Outcome,
    pub millis: u128,
}

/// Runs a list of migrations against a database; [`MIGRATIONS`] in production.
pub struct Migrator<'a> {
    db: &'a Database,
    migrations: &'a [Migration],
}

impl<'a> Migrator<'a> {
    pub fn new(db: &'a Database) -> Self {
        Self::with_migrations(db, MIGRATIONS)
    }

    pub fn with_migrations(db: &'a Database, migrations: &'a [Migration]) -> Self {
        Self { db, migrations }
    }

    /// Compares the database with the migrations; reads only.
    pub async fn status(&self) -> Result<Status, MigrationError> {
        let recorded = self.recorded().await?;
        let mut entries = Vec::with_capacity(self.migrations.len());
        for migration in self.migrations {
            let state = match recorded.iter().find(|r| r.version == i64::from(migration.version)) {
                None => State::Pending,
                Some(r) if r.checksum == migration.checksum() => {
                    State::Applied { at: r.applied_at }
                }
                Some(r) => State::Changed { recorded: r.checksum.clone() },
            };
            entries.push(Entry { migration: *migration, state });
        }
        let unknown = recorded
            .into_iter()
            .filter(|r| !self.migrations.iter().any(|m| i64::from(m.version) == r.version))
            .collect();
        Ok(Status { entries, unknown })
    }

    /// Applies the pending migrations in order; `on_applied` hears of each as it lands.
    /// Refuses to start when an applied migration changed or the database is newer.
    pub async fn apply(
        &self,
        on_applied: impl FnMut(&Report),
    ) -> Result<Vec<Report>, MigrationError> {
        let plan = self.plan().await?;
        self.apply_plan(&plan, on_applied).await
    }

    /// What `apply` would do now: makes sure the `migration` table exists and reads the status.
    pub async fn plan(&self) -> Result<Status, MigrationError> {
        self.bootstrap().await?;
        self.status().await
    }

    /// Applies the migrations a plan found pending. The plan may be stale: a migration another
    /// process applied since is reported as [`Outcome::AppliedElsewhere`], not run twice.
    pub async fn apply_plan(
        &self,
        plan: &Status,
        mut on_applied: impl FnMut(&Report),
    ) -> Result<Vec<Report>, MigrationError> {
        if let Some(problem) = plan.problem() {
            return Err(problem);
        }
        let mut reports = Vec::new();
        for entry in plan.entries.iter().filter(|e| e.state == State::Pending) {
            let report = self.apply_one(&entry.migration).await?;
            on_applied(&report);
            reports.push(report);
        }
        Ok(reports)
    }

    async fn recorded(&self) -> Result<Vec<AppliedMigration>, MigrationError> {
        let mut response = self
            .db
            .handle()
            .query("SELECT version, name, checksum, applied_at FROM migration ORDER BY version")
            .await?;
        match response.take(0) {
            Ok(rows) => Ok(rows),
            // A database nobody migrated has no `migration` table yet.
            Err(err) if matches!(err.not_found_details(), Some(NotFoundError::Table { name }) if name == "migration") => {
                Ok(Vec::new())
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Defines the `migration` table; concurrent runners may conflict, so it retries.
    async fn bootstrap(&self) -> Result<(), MigrationError> {
        let mut attempt = 0;
        loop {
            let mut response = self.db.handle().query(BOOTSTRAP).await?;
            match root_cause(&mut response) {
                None => return Ok(()),
                Some(err) if super::is_conflict(&err) && attempt < 10 => {
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Some(err) => return Err(err.into()),
            }
        }
    }

    async fn apply_one(&self, migration: &Migration) -> Result<Report, MigrationError> {
        let started = Instant::now();
        let body = migration.sql.trim_end();
        let separator = if body.ends_with(';') { "" } else { ";" };
        // The body is a file compiled into the binary, never user input; the values are bound.
        let sql = format!(
            "BEGIN TRANSACTION;\n\
             CREATE type::record('migration', $version) SET version = $version, name = $name, \
             checksum = $checksum, applied_at = time::now() RETURN NONE;\n\
             {body}{separator}\n\
             COMMIT TRANSACTION;"
        );
        let mut response = self
            .db
            .handle()
            .query(sql)
            .bind(("version", i64::from(migration.version)))
            .bind(("name", migration.name.to_owned()))
            .bind(("checksum", migration.checksum()))
            .await?;
        let Some(err) = root_cause(&mut response) else {
            return Ok(Report {
                migration: *migration,
                outcome: Outcome::Applied,
                millis: started.elapsed().as_millis(),
            });
        };
        // Lost a race with another process? Then the version is recorded now.
        let recorded = self.recorded().await?;
        if let Some(r) = recorded.iter().find(|r| r.version == i64::from(migration.version)) {
            if r.checksum == migration.checksum() {
                return Ok(Report {
                    migration: *migration,
                    outcome: Outcome::AppliedElsewhere,
                    millis: started.elapsed().as_millis(),
                });
            }
            return Err(MigrationError::Changed {
                label: migration.label(),
                recorded: r.checksum.clone(),
                expected: migration.checksum(),
            });
        }
        Err(MigrationError::Failed { label: migration.label(), message: err.message().to_owned() })
    }
}

/// The real failure of a `BEGIN … COMMIT` batch: SurrealDB marks the other statements "not
/// executed" or "cancelled", and those knock-on errors are skipped.
fn root_cause(response: &mut surrealdb::IndexedResults) -> Option<surrealdb::Error> {
    let mut errors: Vec<_> = response.take_errors().into_iter().collect();
    errors.sort_by_key(|(index, _)| *index);
    let knock_on = |e: &surrealdb::Error| {
        matches!(e.query_details(), Some(QueryError::NotExecuted) | Some(QueryError::Cancelled))
    };
    match errors.iter().position(|(_, e)| !knock_on(e)) {
        Some(position) => Some(errors.swap_remove(position).1),
        None => errors.pop().map(|(_, e)| e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{} is out of order", m.label());
        }
    }

    #[test]
    fn every_migration_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db/migrations");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".surql"))
            .collect();
        files.sort();
        let listed: Vec<String> =
            MIGRATIONS.iter().map(|m| format!("{}.surql", m.label())).collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn migration_files_leave_transactions_to_the_runner() {
        for m in MIGRATIONS {
            for line in m.sql.lines().map(str::trim_start) {
                let upper = line.to_ascii_uppercase();
                for word in ["BEGIN", "COMMIT", "CANCEL", "RETURN"] {
                    assert!(!upper.starts_with(word), "{}: {line}", m.label());
                }
            }
        }
    }

    #[test]
    fn checksums_ignore_line_ending_style() {
        let lf = Migration { version: 1, name: "x", sql: "DEFINE TABLE a;\nDEFINE TABLE b;\n" };
        let crlf =
            Migration { version: 1, name: "x", sql: "DEFINE TABLE a;\r\nDEFINE TABLE b;\r\n" };
        assert_eq!(lf.checksum(), crlf.checksum());
        let other = Migration { version: 1, name: "x", sql: "DEFINE TABLE c;\n" };
        assert_ne!(lf.checksum(), other.checksum());
    }
}
