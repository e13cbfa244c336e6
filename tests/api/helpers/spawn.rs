//! Starting the real application on a random port (over a fresh database, with or without its
//! workers) and stopping it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum::Router;
use jobportal::api::{self, AppState};
use jobportal::core::config::{
    BackupConfig, DbConfig, EmailBackendConfig, EmailConfig, ServeConfig, WorkerConfig,
};
use jobportal::db::Database;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: Database,
    /// What the services of this app use (database, search index, settings).
    pub ctx: jobportal::services::Context,
    pub metrics: std::sync::Arc<jobportal::core::metrics::Metrics>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// The app running beside the server (its workers and catch-up loops), when the test
    /// asked for them.
    pub running: Option<jobportal::app::App>,
    /// Set by [`TestApp::expect_dead_tasks`]: dropping the app does not check for dead tasks.
    pub(super) dead_tasks_expected: std::sync::atomic::AtomicBool,
}

/// The real application over a fresh, migrated in-memory database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeConfig::default()).await
}

pub async fn spawn_app_with(config: ServeConfig) -> TestApp {
    let config = with_document_reader(config);
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.expect("migrations apply");
    spawn_router(db, config, api::router).await
}

/// The real application over a fresh, migrated database on disk (SurrealKV) in `dir`. Its
/// commits take long enough for concurrent requests to overlap in the engine, so races that an
/// in-memory database settles one after the other happen here as they do in production.
pub async fn spawn_app_on_disk(config: ServeConfig, dir: &Path) -> TestApp {
    let url = format!("surrealkv://{}", dir.join("db").display());
    let db = Database::connect(&DbConfig { url, ..DbConfig::memory() })
        .await
        .expect("on-disk database opens");
    jobportal::app::migrate(&db).await.expect("migrations apply");
    spawn_router(db, config, api::router).await
}

/// Worker settings for tests: one loop per queue, quick polling, short leases and backoff, no
/// schedules, email to `backend` (scheduled backups, when a test enqueues one, into a
/// directory of the system's temporary one).
pub fn test_worker_config(backend: EmailBackendConfig) -> WorkerConfig {
    WorkerConfig {
        email_loops: 1,
        default_loops: 1,
        lease: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        email: EmailConfig { backend, from: "jobportal <noreply@jobs.test>".into() },
        schedules: Vec::new(),
        alerts_settle: Duration::ZERO,
        assistant_retention: Some(Duration::from_secs(180 * 86_400)),
        backups: BackupConfig {
            dir: std::env::temp_dir()
                .join(format!("jobportal-test-backups-{}", std::process::id())),
            keep: 7,
        },
    }
}

/// The real application with its workers running in-process, as `serve` runs them.
pub async fn spawn_app_with_workers(config: ServeConfig, workers: WorkerConfig) -> TestApp {
    let config = with_document_reader(config);
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.expect("migrations apply");
    let running = jobportal::app::App::builder(config)
        .check_index()
        .catch_up(false)
        .workers(workers)
        .expect("mailer")
        .start(&db)
        .await
        .expect("the app starts");
    let mut app = spawn_state(running.api_state(), api::router).await;
    app.running = Some(running);
    app
}

/// The real application serving the chat model `chat` names, as `serve` does (a local model
/// loads in the background: the app starts before it is ready).
pub async fn spawn_app_with_chat(
    config: ServeConfig,
    chat: jobportal::core::config::ChatSettings,
) -> TestApp {
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.expect("migrations apply");
    let app = jobportal::app::App::builder(with_document_reader(config))
        .chat_model(chat)
        .start(&db)
        .await
        .expect("the app starts");
    spawn_state(app.api_state(), api::router).await
}

/// The real application over a database nobody migrated.
pub async fn spawn_unmigrated_app() -> TestApp {
    let db = memory_db().await;
    spawn_router(db, ServeConfig::default(), api::router).await
}

pub async fn memory_db() -> Database {
    Database::connect(&DbConfig::memory()).await.expect("in-memory database opens")
}

/// With TEST_LOG set (e.g. `TEST_LOG=debug`), the server's logs go to the test output.
fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// Serves whatever router `build` makes from the state, through the real `api::serve`.
pub async fn spawn_router(
    db: Database,
    config: ServeConfig,
    build: impl FnOnce(AppState) -> Router,
) -> TestApp {
    let app = jobportal::app::App::builder(with_document_reader(config))
        .start(&db)
        .await
        .expect("the app starts");
    spawn_state(app.api_state(), build).await
}

/// Documents are read by the real binary's `parse-document` command: the server's default,
/// this process's own executable, is the test harness here.
pub fn with_document_reader(mut config: ServeConfig) -> ServeConfig {
    if config.documents.program.is_none() {
        config.documents.program = Some(env!("CARGO_BIN_EXE_jobportal").into());
    }
    config
}

/// Serves a prepared state.
pub async fn spawn_state(state: AppState, build: impl FnOnce(AppState) -> Router) -> TestApp {
    init_test_logging();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
    let addr = listener.local_addr().unwrap();
    let db = state.db().clone();
    let ctx = state.ctx.clone();
    let metrics = state.metrics.clone();
    let app = build(state);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(
        listener,
        app,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        db,
        ctx,
        metrics,
        shutdown: Some(tx),
        server: Some(server),
        running: None,
        dead_tasks_expected: Default::default(),
    }
}

impl TestApp {
    /// Signals shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn wait_stopped(mut self) -> std::io::Result<()> {
        let server = self.server.take().expect("server still running");
        tokio::time::timeout(Duration::from_secs(10), server).await.expect("server stops").unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.assert_no_dead_tasks();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
