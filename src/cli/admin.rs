//! `jobportal admin …`: administrative tasks run on the machine that holds the data.

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use tokio::io::AsyncWriteExt;

use crate::ai::Ai;
use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::provider::{ChatEvent, ChatModelState, ChatRequest};
use crate::ai::providers::chat::types::{FinishReason, GenerationParams, OutputFormat};
use crate::app::{self, App};
use crate::core::config::{ChatOpts, Config, env};
use crate::db::Database;
use crate::db::migrations::Migrator;
use crate::models::user::Role;
use crate::services::backups;
use crate::services::jobs::{self, Reindex};
use crate::services::users::{self, CreateUser};

// Parsed once at start and moved into its command: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create a user of any role (the only way to create an admin). The password is read from
    /// JOBPORTAL_PASSWORD, from standard input with --password-stdin, or from a prompt
    CreateUser(CreateUserArgs),
    /// Rebuild the job search index from the database, with a progress bar (serve, worker and
    /// import-jobs already rebuild it at start when it is missing or behind)
    ReindexJobs,
    /// Compute the embeddings of every public job that has none (or an outdated one) and store
    /// them, with a progress bar; serve then loads them instead of computing them. Needs the
    /// embedding model (scripts/models.sh)
    EmbedJobs,
    /// Write a backup of the database to FILE: SurrealDB's export of every table (definitions
    /// and records, one snapshot), ending with a line that lets a restore check it is whole.
    /// The embedded database must not be open in another process (`serve` holds it: use the
    /// scheduled backups of JOBPORTAL_SCHEDULE_BACKUP there)
    Backup(BackupArgs),
    /// Replace the embedded database with the backup FILE, then rebuild the search index from
    /// it. The file is checked and imported beside the database first: a file cut short,
    /// changed or not a backup leaves the database as it was. A database that holds data is
    /// replaced only with --force, and kept beside the new one
    Restore(RestoreArgs),
    /// Answer one message with the configured chat model (local or hosted), streamed to
    /// standard output, without the server: a way to try the model and its speed. Tool calls,
    /// if any, go to standard error as JSON lines
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (replaced if it exists, once the new one is whole)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A backup written by `admin backup` or the scheduled backups
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Replace a database that holds data (it is kept beside the restored one)
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The message to answer [default: read from standard input]
    #[arg(long)]
    pub prompt: Option<String>,

    /// A system message before it [default: the model's own]
    #[arg(long)]
    pub system: Option<String>,

    /// The most tokens to generate [default: JOBPORTAL_LLM_MAX_TOKENS]
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tokens: Option<u32>,

    /// 0 to 2; 0 always takes the most likely token: the same answer every run [default:
    /// JOBPORTAL_LLM_TEMPERATURE]
    #[arg(long, value_parser = crate::core::config::parse_temperature)]
    pub temperature: Option<f64>,

    /// Sample among the most likely tokens whose probabilities add up to this [default:
    /// JOBPORTAL_LLM_TOP_P]
    #[arg(long, value_parser = crate::core::config::parse_top_p)]
    pub top_p: Option<f64>,

    /// Sample among this many most likely tokens (0: all; the local model only)
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,

    /// The seed of the sampler (answers repeat for the same seed)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Hold the answer to the JSON schema in this file (one JSON value valid against it)
    #[arg(long, value_name = "FILE")]
    pub json_schema: Option<PathBuf>,

    /// Print prompt tokens, prompt tokens/s, generated tokens, decode tokens/s and the time to
    /// the first token to standard error
    #[arg(long)]
    pub stats: bool,

    #[command(flatten)]
    pub chat: ChatOpts,
}

#[derive(Args, Debug)]
pub struct CreateUserArgs {
    /// Email address; it is the login and is stored in lower case
    #[arg(long)]
    pub email: String,

    /// Role of the new user
    #[arg(long, value_parser = parse_role)]
    pub role: Role,

    /// Full name [default: the part of the email before the @]
    #[arg(long)]
    pub name: Option<String>,

    /// Read the password from the first line of standard input
    #[arg(long)]
    pub password_stdin: bool,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    raw.parse::<Role>().map_err(|e| e.to_string())
}

pub async fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser(args) => create_user(config, args).await,
        AdminCommand::ReindexJobs => reindex_jobs(config).await,
        AdminCommand::EmbedJobs => embed_jobs(config).await,
        AdminCommand::Generate(args) => generate(config, args).await,
        AdminCommand::Backup(args) => backup(config, args).await,
        AdminCommand::Restore(args) => restore(config, args).await,
    }
}

async fn backup(config: Config, args: BackupArgs) -> anyhow::Result<()> {
    let created =
        app::with_database(&config.db, async |db| Ok(backups::create(db, &args.file).await?))
            .await?;
    println!(
        "backed up the database to {} ({})",
        created.path.display(),
        backups::describe(&created.trailer)
    );
    Ok(())
}

async fn restore(config: Config, args: RestoreArgs) -> anyhow::Result<()> {
    let restored = backups::restore(&config.db, &config.data_dir, &args.file, args.force).await?;
    let records: u64 = restored.counts.iter().map(|(_, n)| n).sum();
    let held: Vec<String> = restored
        .counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(table, n)| format!("{table} {n}"))
        .collect();
    println!(
        "restored {} ({}): {records} records in {} tables ({})",
        args.file.display(),
        backups::describe(&restored.trailer),
        restored.counts.len(),
        held.join(", ")
    );
    if let Some(previous) = &restored.previous {
        println!("the database it replaced is kept at {}", previous.display());
    }
    // The search index went with the old database; build it now rather than at the next start.
    let rebuilt = app::with_database(&config.db, async |db| {
        let ctx = offline_app(&config, db).await?.services;
        Ok(jobs::reindex(&ctx, |_| {}).await?)
    })
    .await;
    match rebuilt {
        Ok(indexed) => println!("search index rebuilt: {indexed} public jobs"),
        Err(err) => eprintln!(
            "the search index was not rebuilt now ({err:#}); `serve` builds it when it starts"
        ),
    }
    Ok(())
}

async fn generate(config: Config, args: GenerateArgs) -> anyhow::Result<()> {
    let settings = args.chat.resolve()?;
    // Checked before anything loads, so a wrong file fails at once.
    let format = match &args.json_schema {
        Some(path) => OutputFormat::JsonSchema(read_json_schema(path).await?),
        None => OutputFormat::Text,
    };
    let prompt = match args.prompt.clone() {
        Some(prompt) => prompt,
        None => {
            if std::io::stdin().is_terminal() {
                eprintln!("reading the message from standard input (end it with ctrl-d)");
            }
            tokio::task::spawn_blocking(|| {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map(|_| text)
            })
            .await?
            .context("cannot read the message from standard input")?
        }
    };
    if prompt.trim().is_empty() {
        bail!("the message is empty: give --prompt TEXT or write it to standard input");
    }
    let ai = Ai::new(&config.models_dir);
    let model = ai.start_chat(&settings)?;
    if let ChatModelState::Missing(message) = model.state() {
        bail!("no chat model: {message}");
    }
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(prompt));
    let defaults = ai.chat_params();
    let request = ChatRequest {
        messages,
        tools: Vec::new(),
        params: GenerationParams {
            max_tokens: args.max_tokens.map_or(defaults.max_tokens, |n| n as usize),
            temperature: args.temperature.unwrap_or(defaults.temperature),
            top_p: args.top_p.unwrap_or(defaults.top_p),
            top_k: args.top_k,
            seed: args.seed,
            ..defaults
        },
        format,
    };
    let mut stream = model.chat(request)?;
    let mut out = tokio::io::stdout();
    let generation = loop {
        match stream.recv().await {
            Some(Ok(ChatEvent::Text(piece))) => {
                out.write_all(piece.as_bytes()).await?;
                out.flush().await?;
            }
            // Tool calls go to standard error, one JSON object per line, apart from the text.
            Some(Ok(ChatEvent::ToolCall(call))) => {
                eprintln!("{}", serde_json::json!({ "tool_call": call }))
            }
            Some(Ok(ChatEvent::Queued(ahead))) => {
                eprintln!("waiting for the model: {ahead} answer(s) first")
            }
            Some(Ok(ChatEvent::Finished(generation))) => break generation,
            Some(Err(err)) => return Err(err.into()),
            None => bail!("the chat model stopped before finishing its answer"),
        }
    };
    out.write_all(b"\n").await?;
    out.flush().await?;
    if args.stats {
        // Every token but the first came from a step of its own; so did the end of the turn.
        let decode_seconds = generation.seconds - generation.first_token_seconds;
        let decoded = match generation.finish {
            FinishReason::Stop => generation.generated_tokens,
            _ => generation.generated_tokens.saturating_sub(1),
        };
        eprintln!(
            "prompt: {} tokens, {:.1} tokens/s; generated: {} tokens, {:.1} tokens/s; \
             first token after {:.0} ms; {:?}",
            generation.prompt_tokens,
            generation.prompt_tokens as f64 / generation.first_token_seconds.max(1e-9),
            generation.generated_tokens,
            if decoded == 0 { 0.0 } else { decoded as f64 / decode_seconds.max(1e-9) },
            generation.first_token_seconds * 1000.0,
            generation.finish,
        );
    }
    Ok(())
}

/// The JSON schema in `path`: a JSON object (or `true`/`false`, which JSON Schema allows).
async fn read_json_schema(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("cannot read the JSON schema {}", path.display()))?;
    let schema: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("the JSON schema {} is not valid JSON", path.display()))?;
    if !(schema.is_object() || schema.is_boolean()) {
        bail!(
            "the JSON schema {} is not a schema: expected a JSON object such as {{\"type\": \"object\"}}",
            path.display()
        );
    }
    Ok(schema)
}

/// The services of an admin command: migrated database, the data directory's search index.
async fn offline_app(config: &Config, db: &Database) -> anyhow::Result<App> {
    app::migrate(db).await?;
    App::builder(app::offline_settings(config)).index_of(config).start(db).await
}

async fn reindex_jobs(config: Config) -> anyhow::Result<()> {
    let (indexed, seconds) = app::with_database(&config.db, async |db| {
        let ctx = offline_app(&config, db).await?.services;
        let started = Instant::now();
        let terminal = std::io::stderr().is_terminal();
        let mut bar: Option<ProgressBar> = None;
        let mut last_line = Instant::now();
        let indexed = jobs::reindex(&ctx, |step| match step {
            Reindex::Total(total) if terminal => {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template(
                        "{bar:30} {pos}/{len} jobs read [{elapsed_precise}, ETA {eta}]",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar = Some(b);
            }
            Reindex::Total(total) => eprintln!("reindex-jobs: {total} public jobs to index"),
            Reindex::Read(n) => match &bar {
                Some(bar) => bar.set_position(n),
                None if last_line.elapsed() >= Duration::from_secs(5) => {
                    eprintln!("reindex-jobs: {n} jobs read");
                    last_line = Instant::now();
                }
                None => {}
            },
        })
        .await?;
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        anyhow::Ok((indexed, started.elapsed().as_secs_f64()))
    })
    .await?;
    println!("indexed {indexed} public jobs in {seconds:.1} s");
    Ok(())
}

async fn embed_jobs(config: Config) -> anyhow::Result<()> {
    let (report, seconds) = app::with_database(&config.db, async |db| {
        let ctx = offline_app(&config, db).await?.services;
        match ctx.ai.load_embedder().await {
            crate::ai::ModelState::Loaded(_) => {}
            crate::ai::ModelState::Missing(message) | crate::ai::ModelState::Failed(message) => {
                bail!("{message}")
            }
            other => bail!("the embedding model is {}", other.name()),
        }
        let started = Instant::now();
        let total = crate::services::embeddings::public_jobs(&ctx).await?;
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} jobs [{per_sec}, ETA {eta}] {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            Some(bar)
        } else {
            eprintln!("embed-jobs: {total} public jobs");
            None
        };
        let mut last_line = Instant::now();
        let report = crate::services::embeddings::sync_jobs(&ctx, |r| match &bar {
            Some(bar) => {
                bar.set_position(r.embedded + r.loaded);
                bar.set_message(format!("{} computed", r.embedded));
            }
            None if last_line.elapsed() >= Duration::from_secs(5) => {
                eprintln!("embed-jobs: {} jobs read, {} computed", r.seen, r.embedded);
                last_line = Instant::now();
            }
            None => {}
        })
        .await?
        .unwrap_or_default();
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        anyhow::Ok((report, started.elapsed().as_secs_f64()))
    })
    .await?;
    println!(
        "{} job vectors: {} computed, {} already stored, in {seconds:.1} s",
        report.embedded + report.loaded,
        report.embedded,
        report.loaded
    );
    Ok(())
}

async fn create_user(config: Config, args: CreateUserArgs) -> anyhow::Result<()> {
    let password_stdin = args.password_stdin;
    let password = tokio::task::spawn_blocking(move || read_password(password_stdin)).await??;
    app::with_database(&config.db, async |db| create_user_in(db, args, &password).await).await
}

async fn create_user_in(db: &Database, args: CreateUserArgs, password: &str) -> anyhow::Result<()> {
    Migrator::new(db).apply(|_| {}).await?;
    let default_name = args.email.trim().split('@').next().unwrap_or_default().to_owned();
    let name = args.name.unwrap_or(default_name);
    let user = users::create_user(
        db,
        CreateUser {
            email: &args.email,
            full_name: &name,
            role: args.role,
            password,
            email_verified: true,
        },
    )
    .await?;
    println!("created {} {} (id {})", user.role, user.email, user.id);
    Ok(())
}

/// The password, from the environment, standard input or a prompt; never from a flag, where
/// it would show in `ps` and the shell history.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if let Ok(password) = std::env::var(env::PASSWORD) {
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!("no password: set {} or pass --password-stdin", env::PASSWORD);
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let second = rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
    if first != second {
        bail!("the two passwords differ");
    }
    Ok(first)
}
