//! Backups and restores: `admin backup` and `admin restore` (the real binary) carry every table
//! of a populated portal into a fresh data directory, the search finds the restored jobs, a
//! database that holds data is replaced only with `--force`, a file cut short, changed or not
//! a backup changes nothing, a database `serve` holds is refused at once, and the scheduled
//! backups write one file per slot and keep the newest.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jobportal::core::config::{BackupConfig, DbConfig, EmailBackendConfig, ServeConfig};
use jobportal::db::backup::StoreLock;
use jobportal::db::{Database, Executor};
use jobportal::services::backups::{self, BackupError, ScheduledBackup};
use serde_json::json;
use surrealdb::types::Value;

use crate::helpers::{
    ServeProcess, SurrealServer, TestApp, fixture, jobportal, rust_job, spawn_app_on_disk,
    spawn_app_with_workers, surreal_binary, test_worker_config,
};

fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("jobportal runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `jobportal admin ARGS…` on `data`; the command must succeed. Returns its standard output.
fn admin(data: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(jobportal(data).arg("admin").args(args));
    assert_eq!(code, 0, "admin {args:?}: {out}{err}");
    out
}

/// The embedded database of a data directory (no process may hold it).
async fn open(data: &Path) -> Database {
    Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .expect("the database opens")
}

/// Everything a database holds: `INFO FOR DB` (every table, with its definition), each table's
/// own `INFO FOR TABLE` (fields, indexes, events) and every record of every table, by id.
async fn dump(db: &Database) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    let info: Option<Value> = db.query("INFO FOR DB").await.unwrap().take(0).unwrap();
    out.push(("INFO FOR DB".to_owned(), info.into_iter().collect()));
    for table in db.table_names().await.unwrap() {
        // The name comes from the database's own INFO, not from input.
        let info: Option<Value> =
            db.query(format!("INFO FOR TABLE {table}")).await.unwrap().take(0).unwrap();
        out.push((format!("INFO FOR TABLE {table}"), info.into_iter().collect()));
        let rows: Vec<Value> = db
            .query("SELECT * FROM type::table($t) ORDER BY id")
            .bind(("t", table.clone()))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        out.push((table, rows));
    }
    out
}

/// [`dump`] of the database of a data directory, which is closed again.
async fn dump_dir(data: &Path) -> Vec<(String, Vec<Value>)> {
    let db = open(data).await;
    let dumped = dump(&db).await;
    db.close().await;
    dumped
}

/// Stops an app on disk and closes its database, then waits until no one holds its lock, so
/// the binary can open it.
async fn close(mut app: TestApp, data: &Path) {
    let db = app.db.clone();
    app.begin_shutdown();
    app.wait_stopped().await.unwrap();
    db.close().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while StoreLock::acquire(&data.join("db")).is_err() {
        assert!(Instant::now() < deadline, "the database stayed locked");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The permission bits of a file.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A portal with something in every part: an admin, an employer with a company, two public
/// jobs and a draft, a candidate with a resume, an application, a saved job and search, a
/// conversation with the assistant, emails, sessions and the audit log; then the job vectors
/// (`admin embed-jobs`, with the real embedding model).
async fn populated_portal(data: &Path) {
    let app = spawn_app_on_disk(ServeConfig::default(), data).await;
    let admin = app.admin("admin@example.com").await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let job = app.post_job(&owner, &rust_job("acme")).await;
    let second = json!({
        "company": "acme", "title": "Data Engineer (Rust)", "description": "Pipelines in Rust.",
        "workplace": "hybrid", "employment_type": "full_time", "skills": ["rust", "sql"],
        "locations": [{ "city": "Lisbon", "country_code": "pt" }, { "city": "Porto" }],
        "salary_min": 60000.5, "salary_max": 80000, "salary_currency": "eur",
        "salary_period": "year", "salary_public": true, "tags": ["data"],
        "expires_at": "2099-01-01T00:00:00Z"
    });
    app.post_job(&owner, &second).await;
    let draft = json!({ "company": "acme", "title": "Draft Role", "description": "Not yet." });
    app.create_job(&owner, &draft).await;
    let ada = app.register("ada@example.com", "candidate").await;
    app.upload_resume(&ada.access, "cv.txt", &fixture("resumes/sample-resume.txt")).await;
    app.applied(&ada, &job).await;
    let saved = app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{job}"), &ada.access);
    assert_eq!(saved.send().await.unwrap().status(), 201);
    app.save_search(
        &ada,
        &json!({ "name": "Rust", "filters": { "q": "rust" }, "frequency": "daily" }),
    )
    .await;
    let conversation =
        app.post_authed("/api/v1/assistant/conversations", &ada.access, &json!({})).await;
    assert_eq!(conversation.status(), 201);
    let verify =
        app.post_authed("/api/v1/admin/companies/acme/verify", &admin.access, &json!({})).await;
    assert_eq!(verify.status(), 200);
    close(app, data).await;

    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let (code, out, err) =
        run(jobportal(data).args(["admin", "embed-jobs"]).env("JOBPORTAL_MODELS_DIR", &models));
    assert_eq!(code, 0, "{out}{err}");
}

/// A small portal made with the binary alone: a user and imported jobs of `title`.
fn small_portal(data: &Path, title: &str) {
    small_portal_in(data, title, None);
}

/// `jobportal` on `data`, with its database in `at` (a server and a database name) when given.
fn binary_in(data: &Path, at: Option<(&SurrealServer, &str)>) -> Command {
    let mut command = jobportal(data);
    if let Some((server, database)) = at {
        server.point(&mut command);
        command.env("JOBPORTAL_DB_DATABASE", database);
    }
    command
}

/// [`small_portal`] in the database `at` names, or the embedded one.
fn small_portal_in(data: &Path, title: &str, at: Option<(&SurrealServer, &str)>) {
    let (code, out, err) = run(binary_in(data, at)
        .args(["admin", "create-user", "--email", "root@example.com", "--role", "admin"])
        .env("JOBPORTAL_PASSWORD", "correct horse battery"));
    assert_eq!(code, 0, "{out}{err}");
    import_titles(data, title, at);
}

/// Imports three jobs of `title` with `import-jobs`.
fn import_titles(data: &Path, title: &str, at: Option<(&SurrealServer, &str)>) {
    let jobs = data.parent().unwrap().join(format!("{}.jsonl", title.replace(' ', "-")));
    let lines: String = (1..=3)
        .map(|n| {
            format!(
                "{}\n",
                json!({
                    "source": "feed", "external_id": format!("{title}-{n}"),
                    "title": format!("{title} {n}"), "description": format!("{title} work."),
                    "company": { "name": format!("{title} Company") }
                })
            )
        })
        .collect();
    std::fs::write(&jobs, lines).unwrap();
    let (code, out, err) = run(binary_in(data, at).arg("import-jobs").arg(&jobs));
    assert_eq!(code, 0, "{out}{err}");
}

/// `whole` (a backup) with a statement that does not parse at the end of its export, sealed
/// again with a right trailer: it passes every check but the import.
fn sealed_but_not_importable(whole: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let body_end = whole[..whole.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let mut body = whole[..body_end].to_vec();
    body.extend_from_slice(b"INSERT INTO job [ { id: 'x', title: ;\n");
    // The migration the trailer names: the newest this build has.
    let text = String::from_utf8(whole.to_vec()).unwrap();
    let schema = text.rsplit(" schema=").next().unwrap().split(' ').next().unwrap().to_owned();
    let trailer = format!(
        "-- jobportal backup 1 schema={schema} bytes={} sha256={} created=2026-03-01T04:00:00Z\n",
        body.len(),
        hex::encode(sha2::Sha256::digest(&body))
    );
    body.extend_from_slice(trailer.as_bytes());
    body
}

/// The public job search of a running `serve`: the titles it finds for `q`.
async fn titles(server: &ServeProcess, q: &str) -> Vec<String> {
    let body: serde_json::Value = reqwest::get(server.url(&format!("/api/v1/jobs?q={q}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut titles: Vec<String> = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|j| j["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

#[tokio::test]
async fn backup_then_restore_into_a_fresh_data_dir_carries_every_table_and_search_finds_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    populated_portal(&source).await;
    let file = dir.path().join("portal.surql");
    let before = dump_dir(&source).await;

    let out = admin(&source, &["backup", file.to_str().unwrap()]);
    assert!(out.contains("backed up the database to") && out.contains("migration 00"), "{out}");
    assert!(entries(dir.path()).iter().all(|n| !n.ends_with(".partial")), "no partial file left");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().last().unwrap().starts_with("-- jobportal backup 1 "), "a trailer");
    assert_eq!(mode(&file), 0o600, "password hashes and resumes: for its owner only");

    let out = admin(&target, &["restore", file.to_str().unwrap()]);
    assert!(out.contains("restored") && out.contains("user 3"), "{out}");
    assert!(out.contains("search index rebuilt: 2 public jobs"), "{out}");
    assert!(!out.contains("kept at"), "an empty database is not kept: {out}");
    assert_eq!(entries(&target), ["db", "search"], "no staged or replaced store left beside");

    let after = dump_dir(&target).await;
    assert_eq!(dump_dir(&source).await, before, "the backup left its database as it was");
    let tables: Vec<&str> = before.iter().map(|(t, _)| t.as_str()).collect();
    for table in [
        "application",
        "application_event",
        "audit_log",
        "company",
        "company_member",
        "conversation",
        "email",
        "job",
        "job_embedding",
        "migration",
        "one_time_token",
        "refresh_token",
        "resume",
        "resume_file",
        "saved_job",
        "saved_search",
        "session",
        "task",
        "user",
    ] {
        let rows = before.iter().find(|(t, _)| t == table).map(|(_, rows)| rows.len());
        assert!(
            rows.is_some_and(|n| n > 0),
            "{table} is empty in the populated portal: {tables:?}"
        );
    }
    assert_eq!(before.len(), after.len(), "the same tables");
    for ((table, rows), (restored_table, restored)) in before.iter().zip(&after) {
        assert_eq!(table, restored_table);
        assert_eq!(rows.len(), restored.len(), "{table}: record counts");
        assert_eq!(rows, restored, "{table}: records");
    }

    // The restored portal serves: search finds the restored jobs, sign-in works.
    let server = ServeProcess::start(&target);
    assert_eq!(titles(&server, "rust").await, ["Backend Engineer (Rust)", "Data Engineer (Rust)"]);
    let login = reqwest::Client::new()
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": "ada@example.com", "password": crate::helpers::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
}

#[tokio::test]
async fn restore_refuses_a_database_that_holds_data_and_replaces_it_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    small_portal(&source, "Rust Engineer");
    let file = dir.path().join("rust.surql");
    admin(&source, &["backup", file.to_str().unwrap()]);
    // The target has a portal of its own, and a search index of its jobs.
    small_portal(&target, "Gardener");
    admin(&target, &["reindex-jobs"]);
    let before = dump_dir(&target).await;

    let (code, out, err) = run(jobportal(&target).args(["admin", "restore"]).arg(&file));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("already holds data") && err.contains("--force"), "{err}");
    assert!(err.contains("job") && err.contains("user"), "names what it holds: {err}");
    assert_eq!(dump_dir(&target).await, before, "refused: nothing changed");
    assert_eq!(entries(&target), ["db", "search"]);

    let out = admin(&target, &["restore", "--force", file.to_str().unwrap()]);
    assert!(out.contains("search index rebuilt: 3 public jobs"), "{out}");
    let kept = target.join(
        entries(&target)
            .into_iter()
            .find(|n| n.starts_with("db.before-restore-"))
            .expect("the replaced database is kept"),
    );
    assert!(out.contains(&format!("kept at {}", kept.display())), "{out}");
    // The replaced database is whole where it was kept.
    let old = Database::connect(&DbConfig {
        url: format!("surrealkv://{}", kept.display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    assert_eq!(dump(&old).await, before);
    old.close().await;
    assert_eq!(dump_dir(&target).await, dump_dir(&source).await);

    // Search shows the restored jobs, and none of the replaced ones.
    let server = ServeProcess::start(&target);
    assert_eq!(
        titles(&server, "rust").await,
        ["Rust Engineer 1", "Rust Engineer 2", "Rust Engineer 3"]
    );
    assert!(titles(&server, "gardener").await.is_empty());
}

/// `serve` rebuilds the index itself when the restore could not: after a restore whose index
/// was then deleted, the jobs are found.
#[tokio::test]
async fn after_a_restore_serve_rebuilds_a_missing_search_index_from_the_restored_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    small_portal(&source, "Rust Engineer");
    let file = dir.path().join("rust.surql");
    admin(&source, &["backup", file.to_str().unwrap()]);
    admin(&target, &["restore", file.to_str().unwrap()]);
    std::fs::remove_dir_all(target.join("search")).unwrap();
    let server = ServeProcess::start(&target);
    assert_eq!(titles(&server, "engineer").await.len(), 3);
}

#[tokio::test]
async fn restore_of_a_file_cut_short_changed_or_not_a_backup_fails_clearly_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (source, target) = (dir.path().join("source"), dir.path().join("target"));
    small_portal(&source, "Rust Engineer");
    let file = dir.path().join("rust.surql");
    admin(&source, &["backup", file.to_str().unwrap()]);
    let whole = std::fs::read(&file).unwrap();
    small_portal(&target, "Gardener");
    admin(&target, &["reindex-jobs"]);
    let before = dump_dir(&target).await;
    let search_before = entries(&target.join("search"));

    // A backup whose trailer is right but whose content does not import.
    let broken = sealed_but_not_importable(&whole);
    let body_end = whole[..whole.len() - 1].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let text = String::from_utf8(whole.clone()).unwrap();
    let schema = text.rsplit(" schema=").next().unwrap().split(' ').next().unwrap().to_owned();

    // A whole backup of a database a newer jobportal migrated.
    let newer = text.replace(&format!(" schema={schema} "), " schema=999 ");
    assert_ne!(newer.as_bytes(), whole, "the trailer names migration {schema}");

    let mut flipped = whole.clone();
    flipped[whole.len() / 3] ^= 0x20;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut in half", whole[..whole.len() / 2].to_vec(), "not a jobportal backup"),
        ("cut by one byte", whole[..whole.len() - 1].to_vec(), "cut short"),
        ("cut before its trailer", whole[..body_end].to_vec(), "not a jobportal backup"),
        ("one byte changed", flipped, "is damaged"),
        ("a CSV file", b"title,company\nGardener,Acme\n".to_vec(), "not a jobportal backup"),
        ("empty", Vec::new(), "empty"),
        ("whole but not importable", broken, "left as it was"),
        ("from a newer jobportal", newer.into_bytes(), "migrated by a newer jobportal"),
    ];
    for (case, bytes, says) in cases {
        let path = dir.path().join("case.surql");
        std::fs::write(&path, &bytes).unwrap();
        let started = Instant::now();
        let (code, out, err) =
            run(jobportal(&target).args(["admin", "restore", "--force"]).arg(&path));
        assert_eq!(code, 1, "{case}: {out}{err}");
        assert!(err.starts_with("error: ") && err.contains(says), "{case}: {err}");
        assert!(!err.contains("panicked"), "{case}: {err}");
        assert!(started.elapsed() < Duration::from_secs(30), "{case}: {:?}", started.elapsed());
        assert_eq!(entries(&target), ["db", "search"], "{case}: nothing staged is left");
        assert_eq!(entries(&target.join("search")), search_before, "{case}: the index stays");
    }
    let (code, _, err) =
        run(jobportal(&target).args(["admin", "restore"]).arg(dir.path().join("absent.surql")));
    assert_eq!(code, 1);
    assert!(err.contains("cannot read") && err.contains("absent.surql"), "{err}");
    assert_eq!(dump_dir(&target).await, before, "the database is as it was");
}

#[tokio::test]
async fn backup_and_restore_fail_at_once_while_serve_holds_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (source, held) = (dir.path().join("source"), dir.path().join("held"));
    small_portal(&source, "Rust Engineer");
    let file = dir.path().join("rust.surql");
    admin(&source, &["backup", file.to_str().unwrap()]);
    small_portal(&held, "Gardener");
    let server = ServeProcess::start(&held);
    let out_file = dir.path().join("held.surql");
    for args in [
        vec!["admin", "backup", out_file.to_str().unwrap()],
        vec!["admin", "restore", "--force", file.to_str().unwrap()],
    ] {
        let started = Instant::now();
        let (code, out, err) = run(jobportal(&held).args(&args));
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains("is in use by another process"), "{args:?}: {err}");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        assert!(!err.contains("panicked"), "{err}");
    }
    assert!(!out_file.exists());
    assert!(
        entries(dir.path()).iter().all(|n| !n.contains("partial")),
        "{:?}",
        entries(dir.path())
    );
    assert!(entries(&held).iter().all(|n| !n.contains("restore")), "{:?}", entries(&held));
    // The server is unharmed and still has its own jobs.
    assert_eq!(titles(&server, "gardener").await.len(), 3);
}

/// A database in memory is not restored: it would be gone with the process.
#[tokio::test]
async fn restore_refuses_a_database_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let config = DbConfig::memory();
    let err =
        backups::restore(&config, dir.path(), &dir.path().join("x.surql"), true).await.unwrap_err();
    assert!(matches!(err, BackupError::InMemory { .. }), "{err}");
    assert!(err.to_string().contains("ws://HOST:PORT"), "{err}");
}

/// A store that holds another database besides the portal's is not replaced: the restore
/// would take that database with it.
#[tokio::test]
async fn restore_refuses_a_store_that_holds_another_database() {
    let dir = tempfile::tempdir().unwrap();
    let portal = crate::helpers::memory_db().await;
    jobportal::app::migrate(&portal).await.unwrap();
    let file = dir.path().join("portal.surql");
    backups::create(&portal, &file).await.unwrap();

    let store = dir.path().join("data").join("db");
    let url = format!("surrealkv://{}", store.display());
    let other = Database::connect(&DbConfig {
        url: url.clone(),
        database: "accounts".into(),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    other.query("CREATE ledger:1 SET total = 42").await.unwrap().check().unwrap();
    other.close().await;

    let config = DbConfig { url: url.clone(), ..DbConfig::memory() };
    let err = backups::restore(&config, &dir.path().join("data"), &file, true).await.unwrap_err();
    assert!(matches!(err, BackupError::SharedStore { .. }), "{err}");
    assert!(err.to_string().contains("jobportal/accounts"), "{err}");

    let other =
        Database::connect(&DbConfig { url, database: "accounts".into(), ..DbConfig::memory() })
            .await
            .unwrap();
    let total: Option<i64> =
        other.query("SELECT VALUE total FROM ONLY ledger:1").await.unwrap().take(0).unwrap();
    assert_eq!(total, Some(42), "the other database is untouched");
    other.close().await;
    assert_eq!(entries(&dir.path().join("data")), ["db"], "nothing staged is left");
}

#[tokio::test]
async fn scheduled_backups_write_one_file_per_slot_and_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let backups_dir: PathBuf = dir.path().join("backups");
    let mut workers = test_worker_config(EmailBackendConfig::File { dir: dir.path().join("mail") });
    workers.backups = BackupConfig { dir: backups_dir.clone(), keep: 2 };
    let app = spawn_app_with_workers(ServeConfig::default(), workers).await;
    app.register("ada@example.com", "candidate").await;

    let slot = |hour| {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-03-01T{hour:02}:00:00Z"))
            .unwrap()
            .to_utc()
    };
    for hour in [1, 2, 3] {
        if hour == 2 {
            // The first backup made the directory; a file of the operator's joins it.
            assert_eq!(mode(&backups_dir), 0o700, "for its owner only");
            std::fs::write(backups_dir.join("notes.txt"), "mine").unwrap();
        }
        let id =
            jobportal::queue::enqueue(&app.db, &ScheduledBackup { slot: slot(hour).timestamp() })
                .await
                .unwrap()
                .expect("enqueued");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let task = jobportal::repositories::tasks::find(&app.db, &id).await.unwrap().unwrap();
            if task.status == jobportal::models::task::TaskStatus::Done {
                break;
            }
            assert!(Instant::now() < deadline, "the backup task did not finish: {task:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert_eq!(
        entries(&backups_dir),
        [
            backups::backup_name(slot(2)).as_str(),
            backups::backup_name(slot(3)).as_str(),
            "notes.txt"
        ],
        "the two newest are kept, the other file is not touched"
    );
    for hour in [2, 3] {
        let path = backups_dir.join(backups::backup_name(slot(hour)));
        let trailer = backups::verify(&path).unwrap();
        assert!(trailer.schema >= 11, "{trailer:?}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("ada@example.com"), "the backup holds the data");
        assert_eq!(mode(&path), 0o600);
    }
    // The same slot again is one task: the queue's key is the slot.
    let again =
        jobportal::queue::enqueue(&app.db, &ScheduledBackup { slot: slot(3).timestamp() }).await;
    assert_eq!(again.unwrap(), None);
}

/// [`dump`] of the database `database` on `server`.
async fn dump_on(server: &SurrealServer, database: &str) -> Vec<(String, Vec<Value>)> {
    let config = DbConfig { database: database.into(), ..server.db_config() };
    let db = Database::connect(&config).await.expect("the server's database opens");
    let dumped = dump(&db).await;
    db.close().await;
    dumped
}

/// A SurrealDB server's database goes through the server's HTTP export and import: backed up
/// from one database and restored into another it holds every table and record; restored over
/// data only with `--force`, the data it replaces kept in a backup of its own; and a restore
/// that cannot import puts back what was there.
#[tokio::test]
async fn a_server_database_is_backed_up_and_restored_whole_and_a_failed_restore_puts_it_back() {
    let Some(binary) = surreal_binary() else { return };
    let server = SurrealServer::start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    small_portal_in(&data, "Rust Engineer", Some((&server, "main")));
    let on =
        |database: &str, args: &[&str]| run(binary_in(&data, Some((&server, database))).args(args));

    let file = dir.path().join("server.surql");
    let (code, out, err) = on("main", &["admin", "backup", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("backed up the database to"), "{out}");
    assert_eq!(mode(&file), 0o600);
    backups::verify(&file).expect("a whole backup");
    let main = dump_on(&server, "main").await;
    assert!(main.iter().any(|(t, rows)| t == "job" && rows.len() == 3), "{main:?}");

    // Into an empty database of the server: every table and record, and the index rebuilt.
    let (code, out, err) = on("copy", &["admin", "restore", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("search index rebuilt: 3 public jobs"), "{out}");
    assert!(!out.contains("kept"), "nothing was replaced: {out}");
    assert_eq!(dump_on(&server, "copy").await, main, "every table and record");

    // Over data: refused without --force, and nothing changes.
    import_titles(&data, "Gardener", Some((&server, "main")));
    let grown = dump_on(&server, "main").await;
    let (code, out, err) = on("main", &["admin", "restore", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("already holds data") && err.contains("--force"), "{err}");
    assert_eq!(dump_on(&server, "main").await, grown);

    // A backup that does not import: the database is put back as it was.
    let broken = dir.path().join("broken.surql");
    std::fs::write(&broken, sealed_but_not_importable(&std::fs::read(&file).unwrap())).unwrap();
    let (code, out, err) = on("main", &["admin", "restore", "--force", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("left as it was"), "{err}");
    assert_eq!(dump_on(&server, "main").await, grown, "put back whole");

    // With --force: replaced, and what it held is in a backup beside the data.
    let (code, out, err) = on("main", &["admin", "restore", "--force", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(dump_on(&server, "main").await, main);
    let kept: Vec<PathBuf> = entries(&data.join("backups"))
        .into_iter()
        .filter(|n| n.starts_with("before-restore-") && n.ends_with(".surql"))
        .map(|n| data.join("backups").join(n))
        .collect();
    assert!(!kept.is_empty(), "the replaced data is kept: {out}");
    let newest = kept.iter().max().unwrap();
    assert!(out.contains(&format!("kept at {}", newest.display())), "{out}");
    let (code, out, err) = on("kept", &["admin", "restore", newest.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(dump_on(&server, "kept").await, grown, "the kept backup holds what was replaced");
}
