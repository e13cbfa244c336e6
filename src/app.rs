//! The composition root: the one place that assembles a process from its configuration.
//!
//! Every command that works on the database (`serve`, `worker`, `import-jobs`, `admin …`) and
//! the tests' servers are put together here, always in the same order: connect
//! ([`with_database`], which also closes the database whatever happens), apply the migrations
//! ([`migrate`], where the command wants them), then [`Builder::start`]: open the search index,
//! the AI runtime (with the chat model, for `serve`: it loads in the background) and the
//! document reader, build the services context, compare the index with the database, start the
//! workers and the scheduler, and start the loops that keep the search index and the job
//! vectors caught up with the database, and the load of the suggestions' copy of the public
//! jobs. [`App::shutdown`] stops the loops,
//! then the workers (running tasks get the grace period), then writes the job vectors' file
//! (`serve` reads it at its next start); the database closes last.
//!
//! It stands just below `cli` and above `api` and `workers`, which it wires together; nothing
//! but `cli`, the benchmarks and the tests imports it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::task::JoinHandle;

use crate::ai::prompts::Prompts;
use crate::ai::rag::vectorstore::VectorIndex;
use crate::ai::{Ai, ModelState};
use crate::api::AppState;
use crate::core::config::{ChatSettings, Config, DbConfig, Secret, ServeConfig, WorkerConfig};
use crate::core::metrics::Metrics;
use crate::core::security::{self, TokenKeys};
use crate::db::Database;
use crate::db::migrations::{Migrator, Outcome};
use crate::repositories::job_index::{self, JobIndex};
use crate::services::email::Mailer;
use crate::services::resume_parser::isolated::DocumentReader;
use crate::services::{self, TaskContext, embeddings, jobs};
use crate::workers::Workers;

/// How often the search index looks for job changes it has not seen (another process's).
const INDEX_CATCH_UP: Duration = Duration::from_secs(5);

/// How often the job vectors look for job changes they have not seen (a job written in this
/// process wakes them at once).
const VECTOR_CATCH_UP: Duration = Duration::from_secs(5);

/// Connects to the database, runs `work` with it, and closes it whatever `work` returned, so
/// the engine flushes and releases its lock while the runtime still runs.
pub async fn with_database<T>(
    config: &DbConfig,
    work: impl AsyncFnOnce(&Database) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let db = Database::connect(config).await?;
    let result = work(&db).await;
    db.close().await;
    result
}

/// Applies pending migrations, logging each.
pub async fn migrate(db: &Database) -> anyhow::Result<()> {
    let reports = Migrator::new(db)
        .apply(|report| match report.outcome {
            Outcome::Applied => tracing::info!(
                migration = report.migration.label(),
                millis = report.millis as u64,
                "applied migration"
            ),
            Outcome::AppliedElsewhere => tracing::info!(
                migration = report.migration.label(),
                "migration applied by another process"
            ),
        })
        .await?;
    if reports.is_empty() {
        tracing::info!("schema is current");
    }
    Ok(())
}

/// The settings of a command that serves no HTTP and signs no tokens (import, worker, admin):
/// the defaults, with the data and models directories of `config`.
pub fn offline_settings(config: &Config) -> ServeConfig {
    ServeConfig {
        data_dir: config.data_dir.clone(),
        models_dir: config.models_dir.clone(),
        prompts_dir: config.prompts_dir.clone(),
        ..ServeConfig::default()
    }
}

/// A process's services and what runs beside them.
pub struct App {
    /// What the services run with (database, search index, models, settings).
    pub services: services::Context,
    /// The metrics of this process, shared by the API and the workers.
    pub metrics: Arc<Metrics>,
    settings: ServeConfig,
    workers: Option<Workers>,
    loops: Vec<JoinHandle<()>>,
    /// Where the job vectors are kept between starts, when this app keeps them in step.
    vectors_file: Option<PathBuf>,
}

/// What a command asks for; [`Builder::start`] assembles it.
pub struct Builder {
    settings: ServeConfig,
    index_dir: Option<PathBuf>,
    vectors_file: Option<PathBuf>,
    check_index: bool,
    catch_up: bool,
    load_models: bool,
    chat: Option<ChatSettings>,
    workers: Option<(WorkerConfig, Mailer)>,
}

impl App {
    /// An app whose services apply `settings` (with no JWT secret there, tokens are signed
    /// with a random key that lives as long as the app). Unless asked for more: the search
    /// index in memory, and nothing running in the background.
    pub fn builder(settings: ServeConfig) -> Builder {
        Builder {
            settings,
            index_dir: None,
            vectors_file: None,
            check_index: false,
            catch_up: false,
            load_models: false,
            chat: None,
            workers: None,
        }
    }

    /// The state the HTTP API serves: these services and metrics, and the workers' status.
    pub fn api_state(&self) -> AppState {
        let state = AppState::new(self.services.clone(), self.settings.clone())
            .with_metrics(self.metrics.clone());
        match &self.workers {
            Some(workers) => state.with_workers(workers.status.clone()),
            None => state,
        }
    }

    /// Stops the catch-up loops, then the workers: running tasks get `grace` to finish, then
    /// go back to the queue; then writes the job vectors to their file for the next start.
    /// (Dropped instead, the app leaves both running until the Tokio runtime ends.)
    pub async fn shutdown(self, grace: Duration) {
        for task in &self.loops {
            task.abort();
        }
        if let Some(workers) = self.workers {
            workers.shutdown(grace).await;
        }
        if let Some(path) = self.vectors_file {
            save_vectors(&self.services, path).await;
        }
    }
}

impl Builder {
    /// Keeps the search index in the data directory of `config` (in memory for an in-memory
    /// database).
    pub fn index_of(mut self, config: &Config) -> Self {
        self.index_dir =
            (config.db.url != "mem://").then(|| job_index::index_dir(&config.data_dir));
        self.vectors_file = (config.db.url != "mem://").then(|| vectors_file(&config.data_dir));
        self
    }

    /// Compares the search index with the database at start (count of public jobs and the
    /// newest `updated_at`) and rebuilds it when they differ.
    pub fn check_index(mut self) -> Self {
        self.check_index = true;
        self
    }

    /// Keeps the search index (jobs another process changed) and the job vectors (jobs written
    /// anywhere) caught up with the database in the background. With `load_models`, the
    /// embedding model loads first, in the background (search is keyword-only until then);
    /// without, the vectors follow once something else has loaded it.
    pub fn catch_up(mut self, load_models: bool) -> Self {
        self.catch_up = true;
        self.load_models = load_models;
        self
    }

    /// Serves the chat model these settings name (`Ai::chat`): a local one starts loading on a
    /// thread of its own and `start` does not wait for it. Commands that need no chat model
    /// leave it out and load nothing.
    pub fn chat_model(mut self, settings: ChatSettings) -> Self {
        self.chat = Some(settings);
        self
    }

    /// Runs the workers and the scheduler with these settings. Fails at once when email
    /// delivery is not configured usably.
    pub fn workers(mut self, config: WorkerConfig) -> anyhow::Result<Self> {
        let mailer = Mailer::from_config(&config.email).map_err(anyhow::Error::msg)?;
        self.workers = Some((config, mailer));
        Ok(self)
    }

    /// Assembles the app on `db` and starts what was asked for.
    pub async fn start(self, db: &Database) -> anyhow::Result<App> {
        let Builder {
            settings,
            index_dir,
            vectors_file,
            check_index,
            catch_up,
            load_models,
            chat,
            workers,
        } = self;
        // Only an app that keeps the job vectors in step reads and writes their file.
        let vectors_file = vectors_file.filter(|_| catch_up);
        let prompts = load_prompts(&settings)?;
        // Opening reads every segment's cards (about 3 µs a card): off the runtime's threads.
        let index = tokio::task::spawn_blocking(move || JobIndex::open(index_dir.as_deref()))
            .await
            .context("opening the search index stopped")?
            .context("cannot open the search index")?;
        let secret =
            settings.jwt_secret.clone().unwrap_or_else(|| Secret::new(security::random_token()));
        let services = services::Context {
            db: db.clone(),
            keys: TokenKeys::new(&secret),
            auth: settings.auth.clone(),
            public_url: settings.public_url.clone(),
            app_url: settings.app_url.clone(),
            jobs_index: Arc::new(index),
            ai: Arc::new(start_ai(&settings, chat.as_ref())?),
            listings: Arc::default(),
            rankings: Arc::default(),
            documents: Arc::new(DocumentReader::new(&settings.documents)),
            prompts: Arc::new(prompts),
            assistant: settings.assistant.clone(),
            suggestions: Arc::new(services::suggestions::Suggestions::new(
                settings.salary_insights_min_count,
            )),
        };
        if catch_up {
            services::health::log_memory(&services, "search index open");
        }
        if check_index {
            ensure_index(&services).await?;
            if catch_up {
                services::health::log_memory(&services, "search index checked");
            }
        }
        let metrics = Arc::new(Metrics::new());
        let workers = workers.map(|(config, mailer)| {
            tracing::info!(mailer = mailer.describe(), "email delivery");
            Workers::start(Arc::new(TaskContext {
                services: services.clone(),
                mailer,
                metrics: metrics.clone(),
                config,
            }))
        });
        let mut loops = if catch_up {
            vec![
                catch_up_index(services.clone()),
                catch_up_vectors(services.clone(), load_models, vectors_file.clone()),
            ]
        } else {
            Vec::new()
        };
        if !services.suggestions.store().is_loaded() {
            loops.push(load_suggestions(services.clone()));
        }
        Ok(App { services, metrics, settings, workers, loops, vectors_file })
    }
}

/// The prompt templates, with the overrides of the configured directory; a template that does
/// not load is an error naming its file and line.
fn load_prompts(settings: &ServeConfig) -> anyhow::Result<Prompts> {
    let prompts = Prompts::load(settings.prompts_dir.as_deref())
        .context("cannot load the prompts (JOBPORTAL_PROMPTS_DIR)")?;
    if let Some(dir) = &settings.prompts_dir {
        tracing::info!(dir = %dir.display(), overridden = ?prompts.overridden(), "prompts");
    }
    Ok(prompts)
}

/// The AI runtime over the models directory, with the chat model started when asked for.
fn start_ai(settings: &ServeConfig, chat: Option<&ChatSettings>) -> anyhow::Result<Ai> {
    let ai = Ai::new(&settings.models_dir);
    if let Some(chat) = chat {
        let model = ai.start_chat(chat).context("cannot start the chat model")?;
        tracing::info!(model = model.describe(), state = ?model.state(), "chat model");
    }
    Ok(ai)
}

/// Rebuilds the search index when it is behind the database, logging progress.
async fn ensure_index(services: &services::Context) -> anyhow::Result<()> {
    let mut last = Instant::now();
    let rebuilt = jobs::ensure_index(services, |n| {
        if last.elapsed() > Duration::from_secs(2) {
            tracing::info!(jobs = n, "rebuilding the search index");
            last = Instant::now();
        }
    })
    .await?;
    if let Some(n) = rebuilt {
        tracing::info!(jobs = n, "search index rebuilt");
    }
    Ok(())
}

/// The suggestions' copy of the public jobs, read from the database in the background (a
/// rebuilt search index has filled it already).
fn load_suggestions(services: services::Context) -> JoinHandle<()> {
    tokio::spawn(async move {
        let started = Instant::now();
        match services::suggestions::load(&services).await {
            Ok(jobs) => {
                tracing::info!(
                    jobs,
                    millis = started.elapsed().as_millis() as u64,
                    "suggestions loaded"
                );
                services::health::log_memory(&services, "suggestions loaded");
            }
            Err(err) => tracing::warn!(error = %err, "cannot load the suggestions"),
        }
    })
}

/// Jobs changed by another process (a `worker` on the same database server) reach this
/// process's search index within seconds.
fn catch_up_index(services: services::Context) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INDEX_CATCH_UP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match jobs::catch_up_index(&services).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "search index caught up with the database"),
                Err(err) => {
                    tracing::warn!(error = %err, "cannot catch the search index up; retrying")
                }
            }
        }
    })
}

/// Where the job vectors are kept between starts in a data directory.
pub fn vectors_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("vectors").join("jobs.bin")
}

/// Reads the job vectors (and their graph) that the last stop wrote, when the file is there
/// and sound; the first sync then replaces what changed since. A file that is refused is
/// logged and left for the next stop to replace: the graph is built from the database.
async fn read_vectors(services: &services::Context, path: PathBuf) {
    let started = Instant::now();
    let config = services.ai.jobs.config();
    let shown = path.display().to_string();
    let opened = tokio::task::spawn_blocking(move || {
        VectorIndex::open(config, crate::ai::providers::embedder::DIMENSIONS, &path)
    })
    .await;
    match opened {
        Ok(Ok(Some(index))) => {
            let (graph, tail, tombstones) = index.shape();
            if services.ai.jobs.adopt(index) {
                tracing::info!(
                    file = shown,
                    vectors = services.ai.jobs.len(),
                    graph,
                    tail,
                    tombstones,
                    millis = started.elapsed().as_millis() as u64,
                    "job vectors read from their file"
                );
            }
        }
        Ok(Ok(None)) => {}
        Ok(Err(reason)) => tracing::warn!(
            file = shown,
            reason,
            "the job vectors' file is not used; the graph is built from the database"
        ),
        Err(err) => tracing::warn!(error = %err, "cannot read the job vectors' file"),
    }
}

/// Writes the job vectors to their file for the next start (logged, never fatal: without it
/// the next start builds the graph).
async fn save_vectors(services: &services::Context, path: PathBuf) {
    let started = Instant::now();
    let index = services.ai.jobs.clone();
    let shown = path.display().to_string();
    let saved = tokio::task::spawn_blocking(move || index.save(&path)).await;
    match saved {
        Ok(Ok(())) => tracing::info!(
            file = shown,
            vectors = services.ai.jobs.len(),
            millis = started.elapsed().as_millis() as u64,
            "job vectors written to their file"
        ),
        Ok(Err(err)) => tracing::warn!(file = shown, error = %err, "cannot write the job vectors"),
        Err(err) => tracing::warn!(error = %err, "cannot write the job vectors"),
    }
}

/// The job vectors, built from the database once the embedding model is loaded and kept in
/// step (a job write wakes the loop; every few seconds it also looks for jobs another process
/// changed). With `load_model`, loads the model first and ends if it cannot. With
/// `vectors_file`, starts (once the model is loaded) from what the last stop wrote there.
fn catch_up_vectors(
    services: services::Context,
    load_model: bool,
    vectors_file: Option<PathBuf>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if load_model && !matches!(services.ai.load_embedder().await, ModelState::Loaded(_)) {
            return;
        }
        // Read once the model is there: the first sync, which needs it, catches the file up
        // with the database; without the model the file's vectors would stay as they were.
        if let Some(path) = vectors_file {
            read_vectors(&services, path).await;
        }
        services::health::log_memory(&services, "embedding model loaded");
        let mut first = true;
        // Before a backfill that may take minutes: the assistant's first message needs them.
        if let Err(err) = services::assistant::prepare(&services).await {
            tracing::warn!(error = %err, "cannot prepare the assistant's router");
        }
        loop {
            let started = Instant::now();
            match embeddings::sync_jobs(&services, |_| {}).await {
                Ok(Some(report))
                    if report.embedded + report.loaded + report.removed + report.deferred > 0 =>
                {
                    tracing::info!(
                        embedded = report.embedded,
                        loaded = report.loaded,
                        removed = report.removed,
                        deferred = report.deferred,
                        vectors = services.ai.jobs.len(),
                        millis = started.elapsed().as_millis() as u64,
                        "job vectors updated"
                    );
                    if std::mem::take(&mut first) {
                        services::health::log_memory(&services, "job vectors in the graph");
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "cannot update the job vectors; retrying"),
            }
            let _ =
                tokio::time::timeout(VECTOR_CATCH_UP, services.ai.jobs_changed.notified()).await;
        }
    })
}
