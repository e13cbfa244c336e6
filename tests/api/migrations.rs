//! Migrations against real databases: in memory, and on disk in a temporary directory.

use jobportal::core::config::DbConfig;
use jobportal::db::Database;
use jobportal::db::migrations::{MIGRATIONS, Migration, MigrationError, Migrator, Outcome, State};

use crate::helpers::memory_db;

const V1: Migration = Migration {
    version: 1,
    name: "things",
    sql: "DEFINE TABLE thing SCHEMAFULL;\nDEFINE FIELD name ON thing TYPE string;\n",
};
const V1_EDITED: Migration = Migration {
    version: 1,
    name: "things",
    sql: "DEFINE TABLE thing SCHEMAFULL;\nDEFINE FIELD name ON thing TYPE string;\nDEFINE FIELD size ON thing TYPE int;\n",
};
const V2: Migration =
    Migration { version: 2, name: "more_things", sql: "DEFINE TABLE other SCHEMAFULL;\n" };
/// Defines a table, then fails: nothing of it may remain.
const V2_BROKEN: Migration = Migration {
    version: 2,
    name: "broken",
    sql: "DEFINE TABLE half_done SCHEMAFULL;\nDEFINE FIELD n ON half_done TYPE int;\nCREATE half_done:1 SET n = 'not a number';\n",
};

fn disk_config(dir: &std::path::Path) -> DbConfig {
    DbConfig { url: format!("surrealkv://{}", dir.join("db").display()), ..DbConfig::memory() }
}

async fn table_exists(db: &Database, table: &str) -> bool {
    db.table_names().await.unwrap().iter().any(|t| t == table)
}

#[tokio::test]
async fn the_shipped_migrations_apply_once_and_then_nothing_is_pending() {
    let db = memory_db().await;
    let first = Migrator::new(&db).apply(|_| {}).await.unwrap();
    assert_eq!(first.len(), MIGRATIONS.len());
    assert!(first.iter().all(|r| r.outcome == Outcome::Applied));
    let second = Migrator::new(&db).apply(|_| {}).await.unwrap();
    assert!(second.is_empty());
    let status = Migrator::new(&db).status().await.unwrap();
    assert!(status.is_current());
    assert_eq!(status.applied(), MIGRATIONS.len());
}

#[tokio::test]
async fn pending_migrations_apply_in_order_and_report_each() {
    let db = memory_db().await;
    let mut heard = Vec::new();
    Migrator::with_migrations(&db, &[V1]).apply(|r| heard.push(r.migration.label())).await.unwrap();
    Migrator::with_migrations(&db, &[V1, V2])
        .apply(|r| heard.push(r.migration.label()))
        .await
        .unwrap();
    assert_eq!(heard, ["0001_things", "0002_more_things"]);
    assert!(table_exists(&db, "thing").await);
    assert!(table_exists(&db, "other").await);
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_behind() {
    let db = memory_db().await;
    let err = Migrator::with_migrations(&db, &[V1, V2_BROKEN]).apply(|_| {}).await.unwrap_err();
    assert!(
        matches!(err, MigrationError::Failed { ref label, .. } if label == "0002_broken"),
        "{err}"
    );
    assert!(err.to_string().contains("nothing of it was applied"), "{err}");
    // The first one landed; the broken one neither defined its table nor was recorded.
    assert!(table_exists(&db, "thing").await);
    assert!(!table_exists(&db, "half_done").await);
    let status = Migrator::with_migrations(&db, &[V1, V2_BROKEN]).status().await.unwrap();
    assert_eq!(status.entries[1].state, State::Pending);
}

#[tokio::test]
async fn an_applied_migration_whose_file_changed_is_refused_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let config = disk_config(dir.path());

    let db = Database::connect(&config).await.unwrap();
    Migrator::with_migrations(&db, &[V1]).apply(|_| {}).await.unwrap();
    db.close().await;

    // Reopen the same files, as a new release of the binary would.
    let db = Database::connect(&config).await.unwrap();
    let migrator = Migrator::with_migrations(&db, &[V1_EDITED, V2]);
    let err = migrator.apply(|_| {}).await.unwrap_err();
    let MigrationError::Changed { label, recorded, expected } = &err else { panic!("{err}") };
    assert_eq!(label, "0001_things");
    assert_eq!(recorded, &V1.checksum());
    assert_eq!(expected, &V1_EDITED.checksum());
    assert!(err.to_string().contains("changed after it was applied"));
    // Nothing after it ran either.
    assert!(!table_exists(&db, "other").await);
    let status = migrator.status().await.unwrap();
    assert!(matches!(status.entries[0].state, State::Changed { .. }));
    assert!(!status.is_current());
    db.close().await;
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_version_is_refused() {
    let db = memory_db().await;
    Migrator::with_migrations(&db, &[V1, V2]).apply(|_| {}).await.unwrap();
    let err = Migrator::with_migrations(&db, &[V1]).apply(|_| {}).await.unwrap_err();
    assert!(matches!(err, MigrationError::Unknown { version: 2, .. }), "{err}");
    assert!(err.to_string().contains("newer version"), "{err}");
}

#[tokio::test]
async fn a_runner_that_lost_the_race_finds_the_migrations_applied_and_runs_nothing_twice() {
    let db = memory_db().await;
    // Two sessions on one datastore, as two processes on one server would be.
    let other = db.clone();
    let migrations = [V1, V2];
    let slow = Migrator::with_migrations(&other, &migrations);
    // The slow runner plans first: it sees both pending…
    let plan = slow.plan().await.unwrap();
    assert_eq!(plan.pending(), 2);
    // …then the fast one applies them…
    let fast = Migrator::with_migrations(&db, &migrations).apply(|_| {}).await.unwrap();
    assert!(fast.iter().all(|r| r.outcome == Outcome::Applied));
    // …and the slow one's transactions fail on the version records, leaving no trace.
    let late = slow.apply_plan(&plan, |_| {}).await.unwrap();
    assert_eq!(late.len(), 2);
    assert!(late.iter().all(|r| r.outcome == Outcome::AppliedElsewhere), "{late:?}");
    assert!(Migrator::with_migrations(&db, &migrations).status().await.unwrap().is_current());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_runners_at_once_apply_each_migration_exactly_once() {
    let db = memory_db().await;
    static MIGRATIONS_UNDER_TEST: [Migration; 2] = [V1, V2];
    let runners: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                Migrator::with_migrations(&db, &MIGRATIONS_UNDER_TEST).apply(|_| {}).await
            })
        })
        .collect();
    let mut reports = Vec::new();
    for runner in runners {
        reports.extend(runner.await.unwrap().expect("every runner succeeds"));
    }
    for version in [1, 2] {
        let applied = reports
            .iter()
            .filter(|r| r.migration.version == version && r.outcome == Outcome::Applied)
            .count();
        assert_eq!(applied, 1, "version {version} applied {applied} times: {reports:?}");
    }
    assert!(
        Migrator::with_migrations(&db, &MIGRATIONS_UNDER_TEST).status().await.unwrap().is_current()
    );
}

/// A job as the database holds it, whatever the fields this version of jobportal reads.
async fn raw_job(db: &Database, id: &str) -> serde_json::Value {
    use jobportal::db::Executor;
    let row: Option<serde_json::Value> = db
        .query("SELECT * FROM ONLY type::record('job', $id)")
        .bind(("id", id.to_owned()))
        .await
        .unwrap()
        .take(0)
        .unwrap();
    row.expect("the job is there")
}

/// Migration 0010 turned a job's one place (`city`, `region`, `country_code`) into a list of
/// places: a job stored before reads as a job at that one place, a job with no place as one
/// with none, the old fields are gone, and a place of the wrong shape is refused.
#[tokio::test]
async fn jobs_stored_with_one_place_read_as_a_list_of_it_after_0010() {
    use jobportal::db::Executor;
    let db = memory_db().await;
    let before: Vec<Migration> = MIGRATIONS.iter().copied().filter(|m| m.version < 10).collect();
    Migrator::with_migrations(&db, &before).apply(|_| {}).await.unwrap();
    let jobs = "CREATE job:placed SET company = company:acme, title = 'Rust Engineer', city = 'Lisbon', \
                country_code = 'PT', source = 'feed', external_id = '1', content_hash = 'h'; \
                CREATE job:country SET company = company:acme, title = 'Go Engineer', country_code = 'DE', \
                source = 'feed', external_id = '2', content_hash = 'h'; \
                CREATE job:nowhere SET company = company:acme, title = 'Remote Engineer', workplace = 'remote', \
                source = 'feed', external_id = '3', content_hash = 'h'";
    db.query(jobs).await.unwrap().check().unwrap();
    let updated_before = raw_job(&db, "placed").await["updated_at"].clone();

    Migrator::new(&db).apply(|_| {}).await.unwrap();
    let read = |id: &'static str| {
        let db = db.clone();
        async move {
            jobportal::repositories::jobs::find(&db, id).await.unwrap().expect("the job is there")
        }
    };
    let placed = read("placed").await;
    assert_eq!(placed.fields.locations.len(), 1);
    assert_eq!(placed.fields.locations[0].city.as_deref(), Some("Lisbon"));
    assert_eq!(placed.fields.locations[0].region, None);
    assert_eq!(placed.fields.locations[0].country_code.as_deref(), Some("PT"));
    let country = read("country").await;
    assert_eq!(country.fields.locations.len(), 1);
    assert_eq!(
        (
            country.fields.locations[0].city.as_deref(),
            country.fields.locations[0].country_code.as_deref()
        ),
        (None, Some("DE"))
    );
    assert!(read("nowhere").await.fields.locations.is_empty());

    let raw = raw_job(&db, "placed").await;
    for gone in ["city", "region", "country_code"] {
        assert!(raw.get(gone).is_none(), "{gone} is still stored: {raw}");
    }
    assert_eq!(raw["updated_at"], updated_before, "the migration changes no job's version");
    let info: Option<serde_json::Value> =
        db.query("INFO FOR TABLE job").await.unwrap().take(0).unwrap();
    let info = info.expect("the job table is described").to_string();
    assert!(info.contains("DEFINE FIELD locations ON job"), "{info}");
    assert!(!info.contains("DEFINE FIELD city ON job"), "{info}");

    let refused =
        ["locations = ['Lisbon']", "locations = [{ city: 5 }]", "locations = { city: 'Lisbon' }"];
    for (n, bad) in refused.iter().enumerate() {
        let sql = format!(
            "CREATE type::record('job', $id) SET company = company:acme, title = 'T', source = 'feed', \
             external_id = $id, content_hash = 'h', {bad}"
        );
        let result = db.query(sql).bind(("id", format!("bad{n}"))).await.unwrap().check();
        assert!(result.is_err(), "{bad} was accepted");
    }
    let fine = "CREATE job:two SET company = company:acme, title = 'T', source = 'feed', external_id = 'two', \
                content_hash = 'h', locations = [{ city: 'Lisbon', country_code: 'PT' }, { city: 'Madrid', country_code: 'ES' }]";
    db.query(fine).await.unwrap().check().unwrap();
    let two = read("two").await;
    let cities: Vec<_> =
        two.fields.locations.iter().map(|l| l.city.clone().unwrap_or_default()).collect();
    assert_eq!(cities, ["Lisbon", "Madrid"]);
}

/// Migration 0007 moved the job table's checks from ASSERT expressions to literal types, and
/// 0008 made the table SCHEMALESS: a job stored before them reads the same after them, and the
/// database still refuses the values no service writes (types, literals, record links, a
/// READONLY field).
#[tokio::test]
async fn jobs_stored_before_the_literal_types_read_the_same_and_bad_values_are_still_refused() {
    use jobportal::db::Executor;
    let db = memory_db().await;
    let before: Vec<Migration> = MIGRATIONS.iter().copied().filter(|m| m.version < 7).collect();
    let through_0008: Vec<Migration> =
        MIGRATIONS.iter().copied().filter(|m| m.version <= 8).collect();
    assert_eq!(
        before.len() + 2,
        through_0008.len(),
        "this test knows the migrations 0007 and 0008"
    );
    Migrator::with_migrations(&db, &before).apply(|_| {}).await.unwrap();
    let job = "CREATE job:old SET company = company:acme, title = 'Rust Engineer', country_code = 'PT', \
               workplace = 'hybrid', employment_type = 'full_time', seniority = 'senior', salary_currency = 'EUR', \
               salary_period = 'year', salary_min = 50000.0, status = 'published', source = 'feed', external_id = '1', \
               content_hash = 'h'";
    db.query(job).await.unwrap().check().unwrap();
    let old = raw_job(&db, "old").await;

    Migrator::with_migrations(&db, &through_0008).apply(|_| {}).await.unwrap();
    let after = raw_job(&db, "old").await;
    assert_eq!(after, old);
    Migrator::new(&db).apply(|_| {}).await.unwrap();

    let refused = [
        "status = 'bogus'",
        "review = 'maybe'",
        "workplace = 'moon'",
        "employment_type = 'gig'",
        "seniority = 'wizard'",
        "salary_period = 'fortnight'",
        "company = 'acme'",
    ];
    for (n, bad) in refused.iter().enumerate() {
        let sql = format!(
            "CREATE type::record('job', $id) SET company = company:acme, title = 'T', source = 'feed', \
             external_id = $id, content_hash = 'h', {bad}"
        );
        let result = db.query(sql).bind(("id", format!("bad{n}"))).await.unwrap().check();
        assert!(result.is_err(), "{bad} was accepted");
    }
    let result =
        db.query("UPDATE job:old SET created_at = d'2020-01-01T00:00:00Z'").await.unwrap().check();
    assert!(result.is_err(), "a READONLY field was changed");
    let info: Option<serde_json::Value> =
        db.query("INFO FOR TABLE job").await.unwrap().take(0).unwrap();
    let info = info.expect("the job table is described").to_string();
    assert!(info.contains("DEFINE FIELD view_count ON job TYPE int DEFAULT 0"), "{info}");
    let db_info: Option<serde_json::Value> =
        db.query("INFO FOR DB").await.unwrap().take(0).unwrap();
    let table = db_info.expect("the database is described")["tables"]["job"].to_string();
    assert!(table.contains("SCHEMALESS"), "{table}");
    let fine = "CREATE job:new SET company = company:acme, title = 'T', source = 'feed', external_id = 'new', \
                content_hash = 'h', workplace = 'remote', status = 'draft'";
    db.query(fine).await.unwrap().check().unwrap();
    let count: Option<i64> =
        db.query("RETURN count(SELECT id FROM job)").await.unwrap().take(0).unwrap();
    assert_eq!(count, Some(2), "only the old job and the valid new one were stored");
}
