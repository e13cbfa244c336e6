//! `jobportal serve`: migrate, then serve the HTTP API (and, unless told not to, run the
//! workers and the scheduler) until SIGTERM or ctrl-c.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio::sync::watch;

use crate::api::{self, AppState};
use crate::core::config::{Config, ServeConfig, ServeOpts, WorkerConfig, WorkerOpts, env};
use crate::core::metrics::Metrics;
use crate::core::security;
use crate::db::Database;
use crate::db::migrations::{Migrator, Outcome};
use crate::repositories::job_index::{self, JobIndex};
use crate::services::email::Mailer;
use crate::services::jobs;
use crate::workers::{WorkerContext, Workers};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub opts: ServeOpts,

    /// Run the background workers and the scheduler in this process (false when a separate
    /// `jobportal worker` runs them)
    #[arg(long, env = env::RUN_WORKERS, default_value = "true", value_name = "BOOL")]
    pub run_workers: String,

    #[command(flatten)]
    pub workers: WorkerOpts,
}

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    // Installed first, so a SIGTERM during start-up still ends the process cleanly.
    let (stop_tx, stop) = watch::channel(false);
    let signal = api::shutdown_signal();
    tokio::spawn(async move {
        signal.await;
        let _ = stop_tx.send(true);
    });

    let mut serve = args.opts.resolve()?;
    serve.data_dir = config.data_dir.clone();
    serve.models_dir = config.models_dir.clone();
    let run_workers = match args.run_workers.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => true,
        "false" | "0" | "no" | "off" => false,
        _ => anyhow::bail!(crate::core::config::ConfigError {
            var: env::RUN_WORKERS,
            flag: "run-workers",
            value: args.run_workers.clone(),
            reason: "expected true or false".into(),
        }),
    };
    let worker_config = args.workers.resolve(&config.data_dir)?;
    if serve.jwt_secret.is_none() {
        let (secret, created) = security::load_or_create_jwt_secret(&config.data_dir)?;
        if created {
            tracing::warn!(
                path = %config.data_dir.join(security::JWT_SECRET_FILE).display(),
                "no JOBPORTAL_JWT_SECRET configured: generated one and stored it in the data directory"
            );
        }
        serve.jwt_secret = Some(secret);
    }
    security::set_hashing_concurrency(
        serve.password_hash_concurrency.unwrap_or_else(security::default_hashing_concurrency),
    );

    let db = Database::connect(&config.db).await?;
    tracing::info!(url = db.url(), "database open");
    let result =
        migrate_and_serve(&db, &config, serve, run_workers.then_some(worker_config), stop).await;
    db.close().await;
    result?;
    tracing::info!("stopped");
    Ok(())
}

/// Applies pending migrations, logging each.
pub(crate) async fn migrate(db: &Database) -> anyhow::Result<()> {
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

/// Opens the search index of the data directory (in memory for an in-memory database).
pub(crate) fn open_jobs_index(config: &Config) -> anyhow::Result<Arc<JobIndex>> {
    let dir = (config.db.url != "mem://").then(|| job_index::index_dir(&config.data_dir));
    let index = JobIndex::open(dir.as_deref()).context("cannot open the search index")?;
    Ok(Arc::new(index))
}

/// The services context of a command that signs no tokens (import, worker, admin): random keys,
/// default auth settings, the data directory's search index.
pub(crate) fn offline_context(
    config: &Config,
    db: &Database,
) -> anyhow::Result<crate::services::Context> {
    let serve = ServeConfig::default();
    Ok(crate::services::Context {
        db: db.clone(),
        keys: crate::core::security::TokenKeys::new(&crate::core::config::Secret::new(
            crate::core::security::random_token(),
        )),
        auth: serve.auth,
        public_url: serve.public_url,
        app_url: serve.app_url,
        jobs_index: open_jobs_index(config)?,
        ai: Arc::new(crate::ai::Ai::new(&config.models_dir)),
        listings: Arc::default(),
        documents: Arc::new(crate::services::resume_parser::isolated::DocumentReader::new(
            &serve.documents,
        )),
    })
}

/// How often `serve` looks for job changes its search index has not seen.
const INDEX_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(5);

/// How often `serve` looks for job changes its vectors have not seen (a job written in this
/// process wakes it at once).
const VECTOR_CATCH_UP: std::time::Duration = std::time::Duration::from_secs(5);

/// Rebuilds the search index when it is behind the database, logging progress.
pub(crate) async fn ensure_index(ctx: &crate::services::Context) -> anyhow::Result<()> {
    let mut last = std::time::Instant::now();
    let rebuilt = jobs::ensure_index(ctx, |n| {
        if last.elapsed() > std::time::Duration::from_secs(2) {
            tracing::info!(jobs = n, "rebuilding the search index");
            last = std::time::Instant::now();
        }
    })
    .await?;
    if let Some(n) = rebuilt {
        tracing::info!(jobs = n, "search index rebuilt");
    }
    Ok(())
}

async fn migrate_and_serve(
    db: &Database,
    config: &Config,
    serve: ServeConfig,
    workers: Option<WorkerConfig>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    migrate(db).await?;
    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .with_context(|| format!("cannot listen on {} (JOBPORTAL_ADDR)", serve.addr))?;
    let addr = listener.local_addr()?;
    let grace = serve.shutdown_timeout;
    let metrics = Arc::new(Metrics::new());
    let mut state = AppState::new(db.clone(), serve)
        .with_metrics(metrics.clone())
        .with_jobs_index(open_jobs_index(config)?);
    ensure_index(&state.ctx).await?;

    let running = match workers {
        Some(config) => {
            let mailer = Mailer::from_config(&config.email).map_err(anyhow::Error::msg)?;
            tracing::info!(mailer = mailer.describe(), "email delivery");
            let ctx =
                Arc::new(WorkerContext { services: state.ctx.clone(), mailer, metrics, config });
            let workers = Workers::start(ctx);
            state = state.with_workers(workers.status.clone());
            Some(workers)
        }
        None => {
            tracing::info!("workers are not run in this process (JOBPORTAL_RUN_WORKERS=false)");
            None
        }
    };

    // Rate-limit buckets of clients that went quiet are dropped once a minute.
    let limits = state.limits.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.housekeeping();
        }
    });
    // Jobs changed by another process (a `worker` on the same database server) reach this
    // process's search index within seconds.
    let services = state.ctx.clone();
    let catch_up = tokio::spawn(async move {
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
    });
    // The models load in the background: everything else is served meanwhile, and search is
    // keyword-only until the embedder is ready. Then the job vectors are built from the
    // database and kept in step (a job write wakes the loop; every few seconds it also looks
    // for jobs another process changed).
    let services = state.ctx.clone();
    let vectors = tokio::spawn(async move {
        if !matches!(services.ai.load_embedder().await, crate::ai::ModelState::Loaded(_)) {
            return;
        }
        loop {
            let started = std::time::Instant::now();
            match crate::services::embeddings::sync_jobs(&services, |_| {}).await {
                Ok(Some(report)) if report.embedded + report.loaded + report.removed > 0 => {
                    tracing::info!(
                        embedded = report.embedded,
                        loaded = report.loaded,
                        removed = report.removed,
                        vectors = services.ai.jobs.len(),
                        millis = started.elapsed().as_millis() as u64,
                        "job vectors updated"
                    )
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "cannot update the job vectors; retrying"),
            }
            let _ =
                tokio::time::timeout(VECTOR_CATCH_UP, services.ai.jobs_changed.notified()).await;
        }
    });
    let app = api::router(state);
    tracing::info!(%addr, docs = %format!("http://{addr}/docs"), "listening");
    let shutdown = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    let served = api::serve(listener, app, shutdown, grace).await;
    housekeeping.abort();
    catch_up.abort();
    vectors.abort();
    if let Some(workers) = running {
        workers.shutdown(grace).await;
    }
    served?;
    Ok(())
}
