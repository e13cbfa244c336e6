//! `jobportal serve`: migrate, then serve the HTTP API (and, unless told not to, run the
//! workers and the scheduler) until SIGTERM or ctrl-c. The process is assembled by
//! `crate::app`, with the catch-up loops of the search index and the job vectors, and the chat
//! model (loading in the background).

use anyhow::Context;
use clap::Args;
use tokio::sync::watch;

use crate::api;
use crate::app::{self, App};
use crate::core::config::{
    ChatOpts, ChatSettings, Config, ServeConfig, ServeOpts, WorkerConfig, WorkerOpts, env,
};
use crate::core::security;
use crate::db::Database;

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

    #[command(flatten)]
    pub chat: ChatOpts,
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
    serve.prompts_dir = config.prompts_dir.clone();
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
    let chat = args.chat.resolve()?;
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

    let workers = run_workers.then_some(worker_config);
    let mut mapped = vec![
        ("search index files", crate::repositories::job_index::index_dir(&config.data_dir)),
        ("model files", config.models_dir.clone()),
    ];
    if let Some(path) = config.db.embedded_path() {
        mapped.push(("database files", path.to_path_buf()));
    }
    crate::core::memory::name_dirs(mapped);
    crate::core::memory::log("start", &[]);
    app::with_database(&config.db, async |db| {
        tracing::info!(url = db.url(), "database open");
        crate::core::memory::log("database open", &[]);
        migrate_and_serve(db, &config, serve, chat, workers, stop).await
    })
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate_and_serve(
    db: &Database,
    config: &Config,
    serve: ServeConfig,
    chat: ChatSettings,
    workers: Option<WorkerConfig>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    app::migrate(db).await?;
    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .with_context(|| format!("cannot listen on {} (JOBPORTAL_ADDR)", serve.addr))?;
    let addr = listener.local_addr()?;
    let grace = serve.shutdown_timeout;
    let mut builder =
        App::builder(serve).index_of(config).check_index().catch_up(true).chat_model(chat);
    match workers {
        Some(workers) => builder = builder.workers(workers)?,
        None => {
            tracing::info!("workers are not run in this process (JOBPORTAL_RUN_WORKERS=false)")
        }
    }
    let app = builder.start(db).await?;
    let state = app.api_state();

    // Rate-limit buckets of clients that went quiet are dropped once a minute.
    let limits = state.limits.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.housekeeping();
        }
    });
    let router = api::router(state);
    tracing::info!(%addr, docs = %format!("http://{addr}/docs"), "listening");
    let shutdown = async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    };
    let served = api::serve(listener, router, shutdown, grace).await;
    crate::services::health::log_memory(&app.services, "stopping");
    housekeeping.abort();
    app.shutdown(grace).await;
    served?;
    Ok(())
}
