//! Readiness: is the database reachable, and does its schema match this binary?

use crate::db::Database;
use crate::db::migrations::Migrator;

/// One check's verdict.
#[derive(Debug, Clone)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Readiness {
    pub database: Check,
    pub migrations: Check,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database.ok && self.migrations.ok
    }
}

pub async fn readiness(db: &Database) -> Readiness {
    let database = match db.ping().await {
        Ok(()) => Check { ok: true, detail: "reachable".into() },
        Err(err) => Check { ok: false, detail: err.to_string() },
    };
    let migrations = if !database.ok {
        Check { ok: false, detail: "not checked: the database is unreachable".into() }
    } else {
        match Migrator::new(db).status().await {
            Ok(status) => match status.problem() {
                Some(problem) => Check { ok: false, detail: problem.to_string() },
                None if status.pending() > 0 => Check {
                    ok: false,
                    detail: format!("{} applied, {} pending", status.applied(), status.pending()),
                },
                None => {
                    Check { ok: true, detail: format!("{} applied, 0 pending", status.applied()) }
                }
            },
            Err(err) => Check { ok: false, detail: err.to_string() },
        }
    };
    Readiness { database, migrations }
}
