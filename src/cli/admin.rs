//! `jobportal admin …`: administrative tasks run on the machine that holds the data.

use std::io::{BufRead, IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::model::LocalModel;
use crate::ai::providers::chat::types::{FinishReason, GenerationParams, OutputFormat};
use crate::app::{self, App};
use crate::core::config::{Config, env};
use crate::db::Database;
use crate::db::migrations::Migrator;
use crate::models::user::Role;
use crate::services::jobs::{self, Reindex};
use crate::services::users::{self, CreateUser};

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
    /// Answer one message with the local chat model, streamed to standard output, without the
    /// server: a way to try the configured model and its speed
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The message to answer [default: read from standard input]
    #[arg(long)]
    pub prompt: Option<String>,

    /// A system message before it [default: the model's own]
    #[arg(long)]
    pub system: Option<String>,

    /// The most tokens to generate
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_tokens: u32,

    /// 0 always takes the most likely token: the same answer every run
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,

    /// Sample among the most likely tokens whose probabilities add up to this
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,

    /// Sample among this many most likely tokens (0: all)
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,

    /// The seed of the sampler (answers repeat for the same seed)
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// The GGUF file [default: the first .gguf in <models dir>/llm]
    #[arg(long, env = env::LLM_MODEL, value_name = "FILE")]
    pub model: Option<std::path::PathBuf>,

    /// Print prompt tokens, prompt tokens/s, generated tokens, decode tokens/s and the time to
    /// the first token to standard error
    #[arg(long)]
    pub stats: bool,
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
    }
}

async fn generate(config: Config, args: GenerateArgs) -> anyhow::Result<()> {
    let path = match args.model.clone() {
        Some(path) => path,
        None => {
            let ai = crate::ai::Ai::new(&config.models_dir);
            ai.chat_model_file().with_context(|| {
                format!(
                    "no chat model: no .gguf file in {}: run `{}` (or set {})",
                    ai.llm_dir().display(),
                    crate::ai::FETCH_COMMAND,
                    env::LLM_MODEL
                )
            })?
        }
    };
    if !path.is_file() {
        bail!(
            "no chat model at {}: run `{}` or point {} at a .gguf file",
            path.display(),
            crate::ai::FETCH_COMMAND,
            env::LLM_MODEL
        );
    }
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
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(prompt));
    let params = GenerationParams {
        max_tokens: args.max_tokens as usize,
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        seed: args.seed,
        ..GenerationParams::default()
    };
    // Loading and generating are CPU work: a thread of their own, not the runtime's.
    let generation = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut model = LocalModel::load(&path)?;
        let mut out = std::io::stdout().lock();
        let generation = model.chat(&messages, &[], &OutputFormat::Text, &params, |piece| {
            let written = out.write_all(piece.as_bytes()).and_then(|()| out.flush());
            if written.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        })?;
        writeln!(out)?;
        Ok(generation)
    })
    .await??;
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
