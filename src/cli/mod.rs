//! The command line: one clap enum, each arm calls `<module>::run`.
//!
//! `main` loads `.env` (without overriding the environment), parses the arguments, resolves the
//! shared configuration and runs the command on a Tokio runtime. Errors are printed as one
//! `error: …` line with their cause chain; the exit status is 1 (2 for usage errors, from clap).

pub mod admin;
pub mod assistant;
pub mod completions;
pub mod import_jobs;
pub mod migrate;
pub mod parse_document;
pub mod serve;
pub mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::core::config::GlobalOpts;
use crate::services::resume_parser::isolated;

/// A self-hosted job portal in one binary: HTTP API, embedded database, background workers.
#[derive(Parser, Debug)]
#[command(name = "jobportal", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start and moved into its command: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API on the configured database (applies pending migrations first)
    Serve(serve::ServeArgs),
    /// Run the background workers and the scheduler alone (for a shared SurrealDB server)
    Worker(worker::WorkerArgs),
    /// Apply pending schema migrations and print what ran
    Migrate(migrate::MigrateArgs),
    /// Import jobs from JSON, JSON Lines, CSV or schema.org JobPosting files (idempotent)
    ImportJobs(import_jobs::ImportJobsArgs),
    /// Administrative tasks: users and data
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// The candidate's terminal app: chat with the assistant, jobs and applications (an HTTP
    /// client of a running server)
    Assistant(assistant::AssistantArgs),
    /// Print a shell completion script
    Completions(completions::CompletionsArgs),
    /// Read one document from standard input and print its text as JSON (run by the server in a
    /// child process)
    #[command(hide = true)]
    ParseDocument(parse_document::ParseDocumentArgs),
}

/// Entry point of the binary. `before_serving` runs before `serve` starts its runtime (the
/// binary tunes its allocator there).
pub fn main(before_serving: fn()) -> ExitCode {
    // The document reader's child reads no `.env`: it runs with nothing of the server's settings.
    let reads_a_document = std::env::args_os().nth(1).is_some_and(|a| a == isolated::COMMAND);
    let dotenv = if reads_a_document { Ok(()) } else { load_dotenv() };
    if let Err(err) = dotenv {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Serve(_)) {
        before_serving();
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => match err.downcast_ref::<Exit>() {
            Some(Exit(code)) => ExitCode::from(*code),
            None => {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        },
    }
}

/// Ends the program with this status after the command has said what it had to say.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct Exit(pub u8);

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Cli { global, command } = cli;
    if let Command::Completions(args) = &command {
        return completions::run(args);
    }
    if let Command::ParseDocument(args) = &command {
        return parse_document::run(args);
    }
    if let Command::Assistant(args) = command {
        // A client of the API: no database, no server settings, and no log lines on its screen.
        let _ = global;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        return runtime.block_on(assistant::run(args));
    }
    let config = global.resolve()?;
    crate::core::logging::init(&config.log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("jobportal")
        .build()?;
    runtime.block_on(async move {
        match command {
            Command::Serve(args) => serve::run(config, args).await,
            Command::Worker(args) => worker::run(config, args).await,
            Command::Migrate(args) => migrate::run(config, args).await,
            Command::ImportJobs(args) => import_jobs::run(config, args).await,
            Command::Admin(command) => admin::run(config, command).await,
            Command::Assistant(_) => unreachable!("run before the configuration"),
            Command::Completions(args) => completions::run(&args),
            Command::ParseDocument(args) => parse_document::run(&args),
        }
    })
}

/// Loads `./.env` into the environment; variables already set win.
fn load_dotenv() -> anyhow::Result<()> {
    match dotenvy::from_path(".env") {
        Ok(()) => Ok(()),
        Err(dotenvy::Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(anyhow::anyhow!("cannot read .env: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_has_help() {
        let command = Cli::command();
        for sub in command.get_subcommands() {
            assert!(sub.get_about().is_some(), "{} has no help text", sub.get_name());
        }
    }
}
