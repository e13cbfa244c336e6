//! `jobportal worker`: the workers and the scheduler without the HTTP API, for a SurrealDB
//! server shared by several processes (an embedded database belongs to `serve` alone). The
//! process is assembled by `crate::app`.

use clap::Args;

use crate::api;
use crate::app::{self, App};
use crate::core::config::{Config, ServeConfig, WorkerOpts};

#[derive(Args, Debug)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub workers: WorkerOpts,

    /// After SIGTERM or ctrl-c, how long running tasks may take to finish before they are
    /// handed back to the queue
    #[arg(long, env = crate::core::config::env::SHUTDOWN_TIMEOUT, default_value = "30s", value_name = "DURATION")]
    pub shutdown_timeout: String,

    /// Public base URL of the portal, used in the links that job-alert emails carry (the same
    /// setting as `serve`'s)
    #[arg(long, env = crate::core::config::env::PUBLIC_URL, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub public_url: String,
}

pub async fn run(config: Config, args: WorkerArgs) -> anyhow::Result<()> {
    let signal = api::shutdown_signal();
    let worker_config = args.workers.resolve(&config.data_dir)?;
    let grace = crate::core::config::parse_duration(&args.shutdown_timeout).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid JOBPORTAL_SHUTDOWN_TIMEOUT (--shutdown-timeout) {:?}",
            args.shutdown_timeout
        )
    })?;
    let public_url = crate::core::config::parse_public_url(&args.public_url).map_err(|reason| {
        anyhow::anyhow!(
            "invalid JOBPORTAL_PUBLIC_URL (--public-url) {:?}: {reason}",
            args.public_url
        )
    })?;
    // Built first, so unusable email settings fail before the database is touched. Tasks never
    // sign tokens (the services still get a random key).
    let builder = App::builder(ServeConfig { public_url, ..app::offline_settings(&config) })
        .index_of(&config)
        .check_index()
        .workers(worker_config)?;
    app::with_database(&config.db, async |db| {
        tracing::info!(url = db.url(), "database open");
        app::migrate(db).await?;
        let app = builder.start(db).await?;
        signal.await;
        app.shutdown(grace).await;
        anyhow::Ok(())
    })
    .await?;
    tracing::info!("stopped");
    Ok(())
}
