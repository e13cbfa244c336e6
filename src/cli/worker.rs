//! `jobportal worker`: the workers and the scheduler without the HTTP API, for a SurrealDB
//! server shared by several processes (an embedded database belongs to `serve` alone).

use std::sync::Arc;

use clap::Args;

use crate::api;
use crate::core::config::{Config, WorkerOpts};
use crate::core::metrics::Metrics;
use crate::db::Database;
use crate::services::email::Mailer;
use crate::workers::{WorkerContext, Workers};

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
    let mailer = Mailer::from_config(&worker_config.email).map_err(anyhow::Error::msg)?;
    let db = Database::connect(&config.db).await?;
    tracing::info!(url = db.url(), mailer = mailer.describe(), "database open");
    let result = async {
        super::serve::migrate(&db).await?;
        // Tasks never sign tokens; the services context still wants keys.
        let services =
            crate::services::Context { public_url, ..super::serve::offline_context(&config, &db)? };
        super::serve::ensure_index(&services).await?;
        let ctx = Arc::new(WorkerContext {
            services,
            mailer,
            metrics: Arc::new(Metrics::new()),
            config: worker_config,
        });
        let workers = Workers::start(ctx);
        signal.await;
        workers.shutdown(grace).await;
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result?;
    tracing::info!("stopped");
    Ok(())
}
