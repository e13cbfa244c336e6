//! The job vectors kept between starts: `serve` writes them (codes, text hashes and the graph)
//! to `<data dir>/vectors/jobs.bin` when it stops and reads them when it starts, instead of
//! building the graph again. What changed in the database meanwhile is caught up by the first
//! sync (a new job embedded, a deleted one gone, the unchanged ones neither loaded nor
//! computed), and a damaged file is refused and the vectors come from the database.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jobportal::core::config::DbConfig;
use jobportal::db::{Database, Executor};
use serde_json::{Value, json};

use crate::helpers::{ServeProcess, jobportal};

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Imports jobs of these titles (external ids from their titles) with the binary.
fn import(data: &Path, titles: &[&str]) {
    let file = data.parent().unwrap().join("jobs.jsonl");
    let lines: String = titles
        .iter()
        .map(|title| {
            format!(
                "{}\n",
                json!({
                    "source": "feed", "external_id": title, "title": title,
                    "description": format!("{title}: the work of a {title}."),
                    "company": { "name": "Harbour Co" }
                })
            )
        })
        .collect();
    std::fs::write(&file, lines).unwrap();
    let output = jobportal(data).arg("import-jobs").arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn serve(data: &Path) -> ServeProcess {
    let mut command: Command = jobportal(data);
    command.env("JOBPORTAL_MODELS_DIR", models_dir());
    ServeProcess::start_with(command)
}

/// The first log line of `serve` with this message, waited for up to two minutes.
fn until_logged(serve: &ServeProcess, message: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(line) = serve.log_lines().into_iter().find(|l| l["message"] == message) {
            return line;
        }
        assert!(Instant::now() < deadline, "no {message:?}: {:?}", serve.log_lines());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops `serve` gracefully; returns its log.
fn stop(mut serve: ServeProcess) -> Vec<Value> {
    serve.sigterm();
    assert!(serve.wait_exit(Duration::from_secs(60)).success());
    serve.log_lines()
}

/// The titles semantic search finds for `q`.
async fn semantic(serve: &ServeProcess, q: &str) -> Vec<String> {
    let url = serve.url(&format!("/api/v1/jobs?q={q}&mode=semantic&limit=10"));
    let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|j| j["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn serve_starts_from_the_vectors_its_last_stop_wrote_and_catches_up_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(&data, &["Pastry Chef", "Rust Developer", "Forklift Driver"]);

    // The first start computes the three vectors and builds the graph; the stop writes them.
    let first = serve(&data);
    let updated = until_logged(&first, "job vectors updated");
    assert_eq!(updated["embedded"], 3, "{updated}");
    let log = stop(first);
    let written = log.iter().find(|l| l["message"] == "job vectors written to their file");
    assert_eq!(written.map(|l| l["vectors"].clone()), Some(json!(3)), "{log:?}");
    let file = data.join("vectors").join("jobs.bin");
    assert!(file.is_file());

    // While it is down, a job is deleted and another imported.
    let db = Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    db.query("DELETE job WHERE title = $title")
        .bind(("title", "Forklift Driver"))
        .await
        .unwrap()
        .check()
        .unwrap();
    db.close().await;
    import(&data, &["Gardener"]);

    let second = serve(&data);
    let read = until_logged(&second, "job vectors read from their file");
    assert_eq!((read["vectors"].clone(), read["graph"].clone()), (json!(3), json!(3)), "{read}");
    let updated = until_logged(&second, "job vectors updated");
    assert_eq!(
        (updated["embedded"].clone(), updated["loaded"].clone(), updated["removed"].clone()),
        (json!(1), json!(0), json!(1)),
        "only the new job computed, the deleted one gone, the others as read: {updated}"
    );
    assert_eq!(updated["vectors"], 3);
    let found = semantic(&second, "forklift+driver").await;
    assert!(!found.contains(&"Forklift Driver".to_owned()), "{found:?}");
    assert_eq!(
        semantic(&second, "gardening+plants").await.first().map(String::as_str),
        Some("Gardener")
    );
    stop(second);

    // A damaged file is not trusted: the vectors come from the database.
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() / 3;
    bytes[at] ^= 0x01;
    std::fs::write(&file, &bytes).unwrap();
    let third = serve(&data);
    let refused = until_logged(
        &third,
        "the job vectors' file is not used; the graph is built from the database",
    );
    assert!(refused["reason"].as_str().unwrap_or_default().contains("checksum"), "{refused}");
    let updated = until_logged(&third, "job vectors updated");
    assert_eq!(
        (updated["embedded"].clone(), updated["loaded"].clone()),
        (json!(0), json!(3)),
        "{updated}"
    );
    assert!(semantic(&third, "pastry").await.contains(&"Pastry Chef".to_owned()));
}
