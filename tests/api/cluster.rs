//! Several processes on one real SurrealDB server (scripts/surreal-server.sh builds it;
//! `JOBPORTAL_TEST_SURREAL` names it): two `serve` and one `worker`, all the real binary. They
//! migrate once, see each other's jobs in search within the catch-up interval, share the
//! failed-login budget, run each task once, and embed each job text once. And the database
//! server stopped under traffic: requests fail fast with 503 `database_unavailable`, `/readyz`
//! says so, and everything recovers by itself when the server is back. The claims that make
//! one process compute each vector are checked on their own too, without a server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jobportal::db::{Database, Executor};
use serde_json::{Value, json};
use surrealdb::types::SurrealValue;

use crate::helpers::{
    LoggedProcess, PASSWORD, ServeProcess, SmtpServer, SurrealServer, jobportal, surreal_binary,
};

/// How long another process's job write may take to reach a `serve`'s search: the index's
/// catch-up interval (5 s, `INDEX_CATCH_UP` in src/app.rs) and the vectors' (5 s), plus the
/// time to embed and a margin for a loaded machine.
const CATCH_UP: Duration = Duration::from_secs(15);

/// The processes of a cluster share one secret for their tokens.
const JWT_SECRET: &str = "cluster-test-secret-0123456789-abcdefghij";

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// A `jobportal` command on this server, with the cluster's settings.
fn command(server: &SurrealServer, data: &Path, smtp: Option<&SmtpServer>) -> Command {
    let mut command = jobportal(data);
    server.point(&mut command);
    command
        .env("JOBPORTAL_JWT_SECRET", JWT_SECRET)
        .env("JOBPORTAL_MODELS_DIR", models_dir())
        .env("JOBPORTAL_RATE_LIMIT_AUTH_PER_IP", "100000/1m")
        .env("JOBPORTAL_TASK_POLL_INTERVAL", "200ms");
    if let Some(smtp) = smtp {
        command.env("JOBPORTAL_SMTP_URL", smtp.url());
    }
    command
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.timeout(Duration::from_secs(30)).send().await.expect("serve answers");
    let status = response.status().as_u16();
    (status, response.json::<Value>().await.unwrap_or(Value::Null))
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> (u16, Value) {
    send(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password })),
    )
    .await
}

/// The ids a search on one `serve` lists (`mode` keyword or semantic); `None` while semantic
/// search waits for the embedding model.
async fn search(client: &reqwest::Client, base: &str, q: &str, mode: &str) -> Option<Vec<String>> {
    let (status, body) =
        send(client.get(format!("{base}/api/v1/jobs")).query(&[("q", q), ("mode", mode)])).await;
    if status == 503 && body["error"]["code"] == "model_unavailable" {
        return None;
    }
    assert_eq!(status, 200, "{body}");
    Some(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_str().unwrap().to_owned())
            .collect(),
    )
}

/// Waits until a search on `base` lists `id` (`listed`) or does not (`!listed`); returns how
/// long it took, and panics after [`CATCH_UP`].
async fn until_listed(
    client: &reqwest::Client,
    base: &str,
    q: &str,
    mode: &str,
    id: &str,
    listed: bool,
) -> Duration {
    let started = Instant::now();
    loop {
        let ids = search(client, base, q, mode).await;
        if ids.as_ref().is_some_and(|ids| ids.iter().any(|i| i == id) == listed) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < CATCH_UP,
            "{mode} search for {q:?} on {base} still {} {id} after {CATCH_UP:?}: {ids:?}",
            if listed { "lacks" } else { "lists" }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until semantic search on `base` answers (the embedding model is loaded).
async fn until_semantic(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while search(client, base, "anything", "semantic").await.is_none() {
        assert!(Instant::now() < deadline, "the embedding model did not load on {base}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A job of Harbour Co that can be published.
fn job(title: &str, description: &str) -> Value {
    json!({
        "company": "harbour-co", "title": title, "description": description,
        "workplace": "onsite", "employment_type": "full_time",
        "location": {"city": "Lisbon", "country_code": "PT"},
        "expires_at": "2099-01-01T00:00:00Z"
    })
}

/// Creates and publishes a job; returns its id.
async fn publish(client: &reqwest::Client, base: &str, access: &str, job: &Value) -> String {
    let (status, body) =
        send(client.post(format!("{base}/api/v1/jobs")).bearer_auth(access).json(job)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let publish = client
        .post(format!("{base}/api/v1/jobs/{id}/publish"))
        .bearer_auth(access)
        .json(&json!({}));
    let (status, body) = send(publish).await;
    assert_eq!(status, 200, "{body}");
    id
}

/// Sums a field of the "job vectors updated" lines of a `serve`'s log.
fn vectors(serve: &ServeProcess, field: &str) -> u64 {
    serve
        .log_lines()
        .iter()
        .filter(|l| l["message"] == "job vectors updated")
        .map(|l| l[field].as_u64().unwrap_or(0))
        .sum()
}

/// Starts two `serve` at the same moment (each its own data directory: its search index).
fn two_serves(
    server: &SurrealServer,
    root: &Path,
    smtp: Option<&SmtpServer>,
    extra: &[(&str, &str)],
) -> (ServeProcess, ServeProcess) {
    let commands: Vec<Command> = ["a", "b"]
        .iter()
        .map(|name| {
            let mut command = command(server, &root.join(name), smtp);
            for (key, value) in extra {
                command.env(key, value);
            }
            command
        })
        .collect();
    let starts: Vec<_> = commands
        .into_iter()
        .map(|command| std::thread::spawn(move || ServeProcess::start_with(command)))
        .collect();
    let mut serves = starts.into_iter().map(|s| s.join().expect("serve starts"));
    (serves.next().unwrap(), serves.next().unwrap())
}

/// Creates the employer (through the CLI, on the server) and Harbour Co; returns its token.
async fn employer(
    server: &SurrealServer,
    root: &Path,
    client: &reqwest::Client,
    base: &str,
) -> String {
    let status = command(server, &root.join("cli"), None)
        .args(["admin", "create-user", "--email", "boss@example.com", "--role", "employer"])
        .env("JOBPORTAL_PASSWORD", PASSWORD)
        .status()
        .unwrap();
    assert!(status.success());
    let (status, body) = login(client, base, "boss@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let boss = body["tokens"]["access_token"].as_str().unwrap().to_owned();
    let (status, body) = send(
        client
            .post(format!("{base}/api/v1/companies"))
            .bearer_auth(&boss)
            .json(&json!({ "name": "Harbour Co" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    boss
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_serves_and_a_worker_on_one_surrealdb_server_act_as_one_portal() {
    let Some(binary) = surreal_binary() else { return };
    let server = SurrealServer::start(&binary);
    let smtp = SmtpServer::start();
    let root = tempfile::tempdir().unwrap();
    let started = Instant::now();

    // Both `serve` start at the same moment on an empty database: both come up, and each
    // migration is recorded once.
    let (a, b) = two_serves(&server, root.path(), Some(&smtp), &[]);
    let db = Database::connect(&server.db_config()).await.expect("the test connects");
    let mut response =
        db.query("SELECT VALUE version FROM migration ORDER BY version").await.unwrap();
    let versions: Vec<i64> = response.take(0).unwrap();
    let expected: Vec<i64> =
        jobportal::db::migrations::MIGRATIONS.iter().map(|m| i64::from(m.version)).collect();
    assert_eq!(versions, expected, "each migration applied once");
    let applied = |serve: &ServeProcess, message: &str| {
        serve.log_lines().iter().filter(|l| l["message"] == message).count()
    };
    let here = applied(&a, "applied migration") + applied(&b, "applied migration");
    let elsewhere = applied(&a, "migration applied by another process")
        + applied(&b, "migration applied by another process");
    assert_eq!(here, expected.len(), "between them the serves applied each migration once");
    eprintln!("migrations: {here} applied, {elsewhere} found applied by the other serve");

    let mut worker = command(&server, &root.path().join("worker"), Some(&smtp));
    worker.arg("worker");
    let mut worker = LoggedProcess::spawn(worker);
    worker.wait_for_message("workers started", Duration::from_secs(60));
    eprintln!("cluster up in {:?}", started.elapsed());

    let client = reqwest::Client::new();
    let (base_a, base_b) = (format!("http://{}", a.addr), format!("http://{}", b.addr));
    let boss = employer(&server, root.path(), &client, &base_a).await;
    until_semantic(&client, &base_a).await;
    until_semantic(&client, &base_b).await;

    // A job posted through A is found by search on B, keyword and semantic, within the
    // catch-up interval; closed through A, it leaves both.
    let lighthouse = job("Lighthouse Keeper", "Keep the lamp of the lighthouse burning at night.");
    let id = publish(&client, &base_a, &boss, &lighthouse).await;
    let mut delays = BTreeMap::new();
    for (name, base) in [("A", &base_a), ("B", &base_b)] {
        for mode in ["keyword", "semantic"] {
            let took = until_listed(&client, base, "lighthouse", mode, &id, true).await;
            delays.insert(format!("posted on A, {mode} on {name}"), took);
        }
    }
    let (status, body) = send(
        client.post(format!("{base_a}/api/v1/jobs/{id}/close")).bearer_auth(&boss).json(&json!({})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    for (name, base) in [("A", &base_a), ("B", &base_b)] {
        for mode in ["keyword", "semantic"] {
            let took = until_listed(&client, base, "lighthouse", mode, &id, false).await;
            delays.insert(format!("closed on A, {mode} on {name}"), took);
        }
    }
    eprintln!("search delays: {delays:?}");

    // Each new or changed job text is embedded by one process and loaded by the other.
    let mut texts = 1; // the lighthouse keeper's
    let mut ids = Vec::new();
    for (i, (base, title)) in [
        (&base_a, "Harbour Pilot"),
        (&base_b, "Tugboat Captain"),
        (&base_a, "Dock Crane Operator"),
        (&base_b, "Sailmaker"),
    ]
    .into_iter()
    .enumerate()
    {
        let description = format!("Work number {i} in the harbour of Lisbon.");
        ids.push((publish(&client, base, &boss, &job(title, &description)).await, title));
        texts += 1;
    }
    // Retitled through the other serve: a new text.
    let (status, body) = send(
        client
            .patch(format!("{base_b}/api/v1/jobs/{}", ids[0].0))
            .bearer_auth(&boss)
            .json(&json!({ "title": "Harbour Night Pilot" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    texts += 1;
    for base in [&base_a, &base_b] {
        until_listed(&client, base, "harbour night pilot", "semantic", &ids[0].0, true).await;
        for (id, title) in &ids[1..] {
            until_listed(&client, base, title, "semantic", id, true).await;
        }
    }
    // Both have every vector: what one computed, the other loaded.
    let deadline = Instant::now() + CATCH_UP;
    while vectors(&a, "embedded") + vectors(&b, "embedded") < texts
        || vectors(&a, "loaded") + vectors(&b, "loaded") < texts
    {
        assert!(Instant::now() < deadline, "vectors: {:?} {:?}", a.log_lines(), b.log_lines());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(6)).await; // one more catch-up of each
    let (embedded, loaded) = (
        (vectors(&a, "embedded"), vectors(&b, "embedded")),
        (vectors(&a, "loaded"), vectors(&b, "loaded")),
    );
    eprintln!(
        "{texts} job texts: embedded by A {}, by B {}; loaded by A {}, by B {}; deferred {} + {}",
        embedded.0,
        embedded.1,
        loaded.0,
        loaded.1,
        vectors(&a, "deferred"),
        vectors(&b, "deferred")
    );
    assert_eq!(embedded.0 + embedded.1, texts, "each text embedded once in the cluster");
    assert_eq!(loaded.0 + loaded.1, texts, "and loaded from the database by the other serve");

    // Failed logins of one account are counted once for both processes: the budget (5 per
    // 15 minutes) is spent across A and B, and then both refuse even the right password.
    let status = command(&server, &root.path().join("cli"), None)
        .args(["admin", "create-user", "--email", "ada@example.com", "--role", "candidate"])
        .env("JOBPORTAL_PASSWORD", PASSWORD)
        .status()
        .unwrap();
    assert!(status.success());
    for base in [&base_a, &base_b, &base_a, &base_b, &base_a] {
        let (status, body) = login(&client, base, "ada@example.com", "wrong password!").await;
        assert_eq!(status, 401, "{body}");
    }
    for base in [&base_b, &base_a] {
        let (status, body) = login(&client, base, "ada@example.com", PASSWORD).await;
        assert_eq!(status, 429, "the sixth attempt, on either serve: {body}");
        assert_eq!(body["error"]["code"], "rate_limited");
    }

    // Tasks enqueued by either serve run once in the cluster: each registration's
    // verification email reaches the SMTP server once.
    let emails: Vec<String> = (0..8).map(|i| format!("sailor{i}@example.com")).collect();
    for (i, email) in emails.iter().enumerate() {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        let (status, body) = send(client.post(format!("{base}/api/v1/auth/register")).json(
            &json!({ "email": email, "password": PASSWORD, "full_name": "Sailor", "role": "candidate" }),
        ))
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let count = |messages: &[String]| {
        let mut per_recipient: BTreeMap<&str, usize> = BTreeMap::new();
        for message in messages {
            if let Some(to) = emails.iter().find(|e| message.contains(e.as_str())) {
                *per_recipient.entry(to.as_str()).or_default() += 1;
            }
        }
        per_recipient
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&smtp.messages()).len() < emails.len() {
        assert!(Instant::now() < deadline, "delivered: {:?}", count(&smtp.messages()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every process polls every 200 ms: a second run would have happened by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let per_recipient = count(&smtp.messages());
    assert_eq!(per_recipient.len(), emails.len(), "{per_recipient:?}");
    assert!(
        per_recipient.values().all(|n| *n == 1),
        "one email per registration: {per_recipient:?}"
    );
    #[derive(Debug, SurrealValue)]
    struct TaskRow {
        kind: String,
        status: String,
        attempts: i64,
        locked_by: Option<String>,
    }
    let mut response =
        db.query("SELECT kind, status, attempts, locked_by FROM task").await.unwrap();
    let tasks: Vec<TaskRow> = response.take(0).unwrap();
    let mut runners = BTreeSet::new();
    let mut done: BTreeMap<&str, usize> = BTreeMap::new();
    for task in &tasks {
        assert!(task.status != "done" || task.attempts == 1, "a task ran more than once: {task:?}");
        if task.status == "done" {
            runners.insert(task.locked_by.clone().unwrap_or_default());
            *done.entry(task.kind.as_str()).or_default() += 1;
        }
    }
    eprintln!(
        "{} tasks, done by kind {done:?}, run by {} processes: {runners:?}",
        tasks.len(),
        runners.len()
    );
    assert!(worker.child.try_wait().unwrap().is_none(), "the worker runs");
    eprintln!("the cluster test took {:?}", started.elapsed());
    db.close().await;
}

/// One answer of the traffic during the outage test.
#[derive(Debug, Clone)]
struct Answer {
    what: &'static str,
    at: Instant,
    took: Duration,
    status: u16,
    code: String,
}

/// Sends `request` again and again until `stop`, noting every answer.
async fn traffic(
    what: &'static str,
    request: impl Fn(u64) -> reqwest::RequestBuilder,
    answers: std::sync::Arc<std::sync::Mutex<Vec<Answer>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    for i in 0.. {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let at = Instant::now();
        let (status, code) = match request(i).timeout(Duration::from_secs(60)).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.json::<Value>().await.unwrap_or(Value::Null);
                (status, body["error"]["code"].as_str().unwrap_or_default().to_owned())
            }
            Err(err) => (0, format!("no answer: {err}")),
        };
        answers.lock().unwrap().push(Answer { what, at, took: at.elapsed(), status, code });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The database's state in `/readyz`: its status and whether the database check passes.
async fn readiness(client: &reqwest::Client, base: &str) -> (u16, bool, String) {
    let (status, body) = send(client.get(format!("{base}/readyz"))).await;
    let check = &body["checks"]["database"];
    (status, check["ok"] == true, check["detail"].as_str().unwrap_or_default().to_owned())
}

/// How long the database server stays stopped in each phase of the outage test:
/// `JOBPORTAL_TEST_DB_OUTAGE` (e.g. `30s`), 10 s by default.
fn outage() -> Duration {
    std::env::var("JOBPORTAL_TEST_DB_OUTAGE")
        .ok()
        .and_then(|raw| jobportal::core::config::parse_duration(&raw))
        .unwrap_or(Duration::from_secs(10))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_database_server_answers_503_database_unavailable_fast_and_serve_recovers_by_itself()
 {
    let Some(binary) = surreal_binary() else { return };
    let mut server = SurrealServer::start(&binary);
    let root = tempfile::tempdir().unwrap();
    // One answer of the server takes at most this long before a request gives up on it.
    let db_timeout = Duration::from_secs(2);
    let mut command = command(&server, &root.path().join("a"), None);
    command.env("JOBPORTAL_DB_TIMEOUT", "2s");
    let serve = ServeProcess::start_with(command);
    let base = format!("http://{}", serve.addr);
    let client = reqwest::Client::new();
    let boss = employer(&server, root.path(), &client, &base).await;
    let id = publish(&client, &base, &boss, &job("Lighthouse Keeper", "Keep the lamp lit.")).await;
    assert_eq!(readiness(&client, &base).await.0, 200);

    let answers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let loops = {
        let (c, b) = (client.clone(), base.clone());
        let job = format!("{b}/api/v1/jobs/{id}");
        let one = traffic("job", move |_| c.get(&job), answers.clone(), stop.clone());
        let (c, b2) = (client.clone(), base.clone());
        let token = boss.clone();
        let two = traffic(
            "me",
            move |_| c.get(format!("{b2}/api/v1/users/me")).bearer_auth(&token),
            answers.clone(),
            stop.clone(),
        );
        let (c, b3) = (client.clone(), base.clone());
        let three = traffic(
            "register",
            move |i| {
                c.post(format!("{b3}/api/v1/auth/register")).json(&json!({
                    "email": format!("walker{i}-{}@example.com", rand_suffix()),
                    "password": PASSWORD, "full_name": "Walker", "role": "candidate"
                }))
            },
            answers.clone(),
            stop.clone(),
        );
        let (c, b4) = (client.clone(), base.clone());
        let four = traffic(
            "search",
            move |_| c.get(format!("{b4}/api/v1/jobs?q=lighthouse&mode=keyword")),
            answers.clone(),
            stop.clone(),
        );
        [tokio::spawn(one), tokio::spawn(two), tokio::spawn(three), tokio::spawn(four)]
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    let outage = outage();
    let mut phases = Vec::new();
    for phase in ["frozen (SIGSTOP)", "killed, then restarted on its data"] {
        let began = Instant::now();
        if phase.starts_with("frozen") {
            server.freeze();
        } else {
            server.kill();
        }
        // `/readyz` says the database is unavailable, within the query timeout.
        let deadline = Instant::now() + db_timeout + Duration::from_secs(3);
        loop {
            let (status, ok, detail) = readiness(&client, &base).await;
            if status == 503 && !ok {
                eprintln!("{phase}: /readyz 503 after {:?}: {detail}", began.elapsed());
                break;
            }
            assert!(Instant::now() < deadline, "{phase}: /readyz still {status} {ok} {detail}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(send(client.get(format!("{base}/healthz"))).await.0, 200, "serve lives");
        tokio::time::sleep(outage.saturating_sub(began.elapsed())).await;
        let back = Instant::now();
        if phase.starts_with("frozen") {
            server.thaw();
        } else {
            server.restart();
        }
        // Everything answers again by itself, without a restart of serve.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = readiness(&client, &base).await.0 == 200;
            let recent: Vec<Answer> = answers
                .lock()
                .unwrap()
                .iter()
                .filter(|a| a.at > back + Duration::from_millis(500) && a.what != "search")
                .cloned()
                .collect();
            let fine = ["job", "me", "register"].iter().all(|w| {
                recent.iter().rev().find(|a| a.what == *w).is_some_and(|a| a.status < 300)
            });
            if ready && fine {
                eprintln!("{phase}: recovered {:?} after the server was back", back.elapsed());
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{phase}: not recovered: ready {ready}, {:?}",
                recent.iter().rev().take(6).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        phases.push((phase, began, back));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for handle in loops {
        handle.await.unwrap();
    }
    let answers = answers.lock().unwrap().clone();

    // Never a hang: every answer came within the query timeout and a margin; no request went
    // unanswered.
    let slowest = answers.iter().max_by_key(|a| a.took).unwrap();
    assert!(slowest.took <= db_timeout + Duration::from_secs(3), "slowest: {slowest:?}");
    assert!(answers.iter().all(|a| a.status != 0), "every request answered");
    for (phase, began, back) in &phases {
        // While the server was away (after the first timeouts), requests that need the
        // database answered 503 database_unavailable, at once. Only requests answered before
        // the server came back count: a registration hashes its password before it asks the
        // database, so one sent just before the thaw may rightly reach a server that is back.
        let during: Vec<&Answer> = answers
            .iter()
            .filter(|a| {
                a.at > *began + db_timeout + Duration::from_millis(500) && a.at + a.took < *back
            })
            .collect();
        for what in ["job", "me", "register"] {
            let of: Vec<&&Answer> = during.iter().filter(|a| a.what == what).collect();
            assert!(!of.is_empty(), "{phase}: no {what} request during the outage");
            for answer in &of {
                assert_eq!(
                    (answer.status, answer.code.as_str()),
                    (503, "database_unavailable"),
                    "{phase}: {answer:?}"
                );
            }
            let mut took: Vec<Duration> = of.iter().map(|a| a.took).collect();
            took.sort();
            let (median, slowest) = (took[took.len() / 2], took[took.len() - 1]);
            eprintln!(
                "{phase}: {} {what} answers 503 database_unavailable, median {median:?}, slowest {slowest:?}",
                of.len()
            );
            // At once, not after waiting on the database (the slowest is bounded above).
            assert!(
                median < Duration::from_millis(250),
                "{phase}: {what} failed slowly: {median:?}"
            );
        }
        let search: Vec<(u16, &str)> = during
            .iter()
            .filter(|a| a.what == "search")
            .map(|a| (a.status, a.code.as_str()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        eprintln!("{phase}: search answered {search:?} (served from its index)");
    }
    // What was acknowledged before is there, and writes work again.
    let (status, body) = send(client.get(format!("{base}/api/v1/jobs/{id}"))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(&client, &base, "boss@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
}

/// A suffix that keeps the registrations of one run apart from another's.
fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

#[tokio::test]
async fn a_job_texts_vector_is_claimed_by_one_process_until_stored_or_its_lease_ends() {
    use jobportal::repositories::embeddings::{claim, release};
    let db = Database::connect(&jobportal::core::config::DbConfig::memory()).await.unwrap();
    jobportal::app::migrate(&db).await.unwrap();
    let lease = Duration::from_secs(60);
    assert!(claim(&db, "job1", "aa", lease).await.unwrap(), "the first claim wins");
    assert!(!claim(&db, "job1", "aa", lease).await.unwrap(), "a second one loses");
    assert!(claim(&db, "job1", "bb", lease).await.unwrap(), "another text is another claim");
    assert!(claim(&db, "job2", "aa", lease).await.unwrap(), "another job too");
    // Stored: released, and the next claimant (which then finds the vector) may take it.
    release(&db, &[("job1".into(), "aa".into())]).await.unwrap();
    assert!(claim(&db, "job1", "aa", lease).await.unwrap());
    // A claimant that died: its claim ends with its lease.
    assert!(claim(&db, "job3", "cc", Duration::from_millis(1)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(claim(&db, "job3", "cc", lease).await.unwrap(), "an expired claim is taken over");
    assert!(!claim(&db, "job3", "cc", lease).await.unwrap());
    db.close().await;
}
