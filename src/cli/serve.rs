//! `jobportal serve`: migrate, then serve the HTTP API until SIGTERM or ctrl-c.

use anyhow::Context;
use clap::Args;

use crate::api::{self, AppState};
use crate::core::config::{Config, ServeOpts};
use crate::core::security;
use crate::db::Database;
use crate::db::migrations::{Migrator, Outcome};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub opts: ServeOpts,
}

pub async fn run(config: Config, args: ServeArgs) -> anyhow::Result<()> {
    // Installed first, so a SIGTERM during start-up still ends the process cleanly.
    let shutdown = api::shutdown_signal();
    let mut serve = args.opts.resolve()?;
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
    let result = migrate_and_serve(&db, serve, shutdown).await;
    db.close().await;
    result?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate_and_serve(
    db: &Database,
    serve: crate::core::config::ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
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

    let listener = tokio::net::TcpListener::bind(serve.addr)
        .await
        .with_context(|| format!("cannot listen on {} (JOBPORTAL_ADDR)", serve.addr))?;
    let addr = listener.local_addr()?;
    let grace = serve.shutdown_timeout;
    let state = AppState::new(db.clone(), serve);
    // Rate-limit buckets of clients that went quiet are dropped once a minute.
    let limits = state.limits.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.housekeeping();
        }
    });
    let app = api::router(state);
    tracing::info!(%addr, docs = %format!("http://{addr}/docs"), "listening");
    let served = api::serve(listener, app, shutdown, grace).await;
    housekeeping.abort();
    served?;
    Ok(())
}
