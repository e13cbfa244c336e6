//! The task queue on the embedded database (surrealkv, on disk): tasks per second with 1 and
//! with 4 worker loops (the 1-loop run is the baseline), and emails per second delivered to a
//! real SMTP server on loopback (aiosmtpd) beside the same emails written as files.
//!
//! `scripts/bench.sh queue`. Knobs: BENCH_TASKS (default 2000), BENCH_EMAILS (default 300).
//! The SMTP part needs the test peers (scripts/tools.sh); it is skipped, saying so, without.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobportal::app::App;
use jobportal::core::config::{DbConfig, EmailBackendConfig, Secret, ServeConfig, WorkerConfig};
use jobportal::core::metrics::Metrics;
use jobportal::db::Database;
use jobportal::db::migrations::Migrator;
use jobportal::models::email::OutgoingEmail;
use jobportal::models::task::TaskStatus;
use jobportal::queue::{self, Attempt, Queue, Registry, Task};
use jobportal::repositories;
use jobportal::services::TaskContext;
use jobportal::services::email::{self, Mailer};
use jobportal::workers::runner;
use serde::{Deserialize, Serialize};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A task that does nothing: what is measured is the queue.
#[derive(Serialize, Deserialize)]
struct Nothing {
    n: usize,
}

impl Task for Nothing {
    const KIND: &'static str = "bench_nothing";
    const QUEUE: Queue = Queue::Default;
    type Context = Arc<TaskContext>;

    async fn run(self, _ctx: Arc<TaskContext>, _attempt: Attempt) -> anyhow::Result<()> {
        Ok(())
    }
}

async fn context(db: &Database, config: WorkerConfig) -> Arc<TaskContext> {
    let app = App::builder(ServeConfig::default()).start(db).await.expect("the app starts");
    Arc::new(TaskContext {
        services: app.services.clone(),
        mailer: Mailer::from_config(&config.email).expect("mailer"),
        metrics: Arc::new(Metrics::new()),
        config,
    })
}

fn worker_config(
    dir: &std::path::Path,
    default_loops: usize,
    email_loops: usize,
    backend: EmailBackendConfig,
) -> WorkerConfig {
    let mut config = WorkerConfig::for_dir(dir);
    config.default_loops = default_loops;
    config.email_loops = email_loops;
    config.poll_interval = Duration::from_millis(20);
    config.email.backend = backend;
    config.schedules.clear();
    config
}

async fn wait_done(db: &Database, kind: &str, expected: u64) {
    loop {
        let (_, done) =
            repositories::tasks::list(db, Some(TaskStatus::Done), Some(kind), 1, 0).await.unwrap();
        if done >= expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Enqueues `n` tasks, runs them with `loops` loops; returns (enqueue/s, run/s).
async fn tasks_per_second(
    db: &Database,
    dir: &std::path::Path,
    run: usize,
    n: usize,
    loops: usize,
) -> (f64, f64) {
    let started = Instant::now();
    for i in 0..n {
        queue::enqueue(db, &Nothing { n: run * 1_000_000 + i }).await.unwrap();
    }
    let enqueued = started.elapsed();
    let (_, before) =
        repositories::tasks::list(db, Some(TaskStatus::Done), Some(Nothing::KIND), 1, 0)
            .await
            .unwrap();
    let config = worker_config(dir, loops, 0, EmailBackendConfig::File { dir: dir.join("mail") });
    let started = Instant::now();
    let handle = runner::start(
        context(db, config.clone()).await,
        Arc::new(Registry::new().register::<Nothing>()),
        &config,
    );
    wait_done(db, Nothing::KIND, before + n as u64).await;
    let ran = started.elapsed();
    handle.shutdown(Duration::from_secs(5)).await;
    (n as f64 / enqueued.as_secs_f64(), n as f64 / ran.as_secs_f64())
}

async fn emails_per_second(
    db: &Database,
    dir: &std::path::Path,
    n: usize,
    backend: EmailBackendConfig,
    tag: &str,
) -> f64 {
    for i in 0..n {
        let mail = OutgoingEmail {
            to: format!("bench{i}@example.com"),
            template: format!("bench_{tag}"),
            subject: "Benchmark".into(),
            text: "Hello from the benchmark.\n".repeat(20),
            html: "<p>Hello from the benchmark.</p>".repeat(20),
            message_id: format!("<{}@bench.test>", uuid::Uuid::now_v7()),
            headers: Vec::new(),
        };
        email::queue_rendered(db, &mail).await.unwrap();
    }
    let (_, before) =
        repositories::tasks::list(db, Some(TaskStatus::Done), Some("send_email"), 1, 0)
            .await
            .unwrap();
    let config = worker_config(dir, 0, 4, backend);
    let started = Instant::now();
    let handle = runner::start(
        context(db, config.clone()).await,
        Arc::new(jobportal::workers::registry()),
        &config,
    );
    wait_done(db, "send_email", before + n as u64).await;
    let took = started.elapsed();
    handle.shutdown(Duration::from_secs(5)).await;
    n as f64 / took.as_secs_f64()
}

fn start_smtp(dir: &std::path::Path) -> Option<(Child, u16)> {
    let tools =
        Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tools.sh")).output().ok()?;
    if !tools.status.success() {
        return None;
    }
    let python = String::from_utf8(tools.stdout).ok()?.trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let child = Command::new(python)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(dir.join("smtp-mail"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((child, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn main() {
    let tasks = env_or("BENCH_TASKS", 2000);
    let emails = env_or("BENCH_EMAILS", 300);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&DbConfig {
            url: format!("surrealkv://{}", dir.path().join("db").display()),
            ..DbConfig::memory()
        })
        .await
        .unwrap();
        Migrator::new(&db).apply(|_| {}).await.unwrap();
        let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
        println!(
            "queue benchmark ({profile} build, embedded surrealkv on disk, {} cores)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );

        let (enqueue_1, one) = tasks_per_second(&db, dir.path(), 1, tasks, 1).await;
        let (enqueue_4, four) = tasks_per_second(&db, dir.path(), 2, tasks, 4).await;
        println!("{:<44} {:>12}", "", "per second");
        println!(
            "{:<44} {:>12.0}",
            format!("enqueue {tasks} tasks (one per transaction)"),
            (enqueue_1 + enqueue_4) / 2.0
        );
        println!("{:<44} {:>12.0}", "tasks run, 1 loop (baseline)", one);
        println!("{:<44} {:>12.0}   {:.2}x", "tasks run, 4 loops", four, four / one);

        let files = emails_per_second(
            &db,
            dir.path(),
            emails,
            EmailBackendConfig::File { dir: dir.path().join("mail") },
            "file",
        )
        .await;
        println!("{:<44} {:>12.0}", format!("emails as .eml files, 4 loops ({emails})"), files);
        match start_smtp(dir.path()) {
            Some((mut child, port)) => {
                let backend = EmailBackendConfig::Smtp {
                    url: Secret::new(format!("smtp://127.0.0.1:{port}")),
                    timeout: Duration::from_secs(10),
                };
                let smtp = emails_per_second(&db, dir.path(), emails, backend, "smtp").await;
                println!(
                    "{:<44} {:>12.0}   {:.2}x of files",
                    format!("emails over SMTP to aiosmtpd, 4 loops ({emails})"),
                    smtp,
                    smtp / files
                );
                let _ = child.kill();
                let _ = child.wait();
            }
            None => {
                println!("emails over SMTP: skipped (scripts/tools.sh could not install aiosmtpd)")
            }
        }
        db.close().await;
    });
}
