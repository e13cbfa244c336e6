//! `jobportal migrate`: apply pending migrations and print what ran; `--status` only reports.

use clap::Args;

use crate::app;
use crate::core::config::Config;
use crate::db::Database;
use crate::db::migrations::{Migrator, Outcome, State};

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// List every migration with its state instead of applying anything
    #[arg(long)]
    pub status: bool,
}

pub async fn run(config: Config, args: MigrateArgs) -> anyhow::Result<()> {
    app::with_database(&config.db, async |db| migrate(db, &args).await).await
}

async fn migrate(db: &Database, args: &MigrateArgs) -> anyhow::Result<()> {
    let migrator = Migrator::new(db);
    if args.status {
        let status = migrator.status().await?;
        for entry in &status.entries {
            let state = match &entry.state {
                State::Applied { at } => format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
                State::Pending => "pending".to_owned(),
                State::Changed { .. } => "CHANGED since it was applied".to_owned(),
            };
            println!("{:<32} {state}", entry.migration.label());
        }
        for unknown in &status.unknown {
            println!(
                "{:04}_{:<27} applied, unknown to this version",
                unknown.version, unknown.name
            );
        }
        println!("{} applied, {} pending", status.applied(), status.pending());
        if let Some(problem) = status.problem() {
            return Err(problem.into());
        }
        return Ok(());
    }
    let reports = migrator
        .apply(|report| match report.outcome {
            Outcome::Applied => {
                println!("applied {} ({} ms)", report.migration.label(), report.millis)
            }
            Outcome::AppliedElsewhere => {
                println!("{} was applied by another process", report.migration.label())
            }
        })
        .await?;
    if reports.is_empty() {
        println!("nothing to apply: the schema is current");
    }
    Ok(())
}
