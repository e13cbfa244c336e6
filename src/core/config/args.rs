//! The options as clap collects them: raw text from a flag or its environment variable, with
//! the `--help` text and the defaults.

use std::path::PathBuf;

use clap::Args;

use super::env;
use super::secret::{Secret, secret};

/// Settings every command shares: where data lives, which database, how to log.
#[derive(Args, Debug, Clone)]
pub struct GlobalOpts {
    /// Directory for the embedded database, generated secrets and other local state
    #[arg(long, env = env::DATA_DIR, default_value = "./data", value_name = "DIR", global = true)]
    pub data_dir: PathBuf,

    /// Directory of the model weights (embed/ and llm/), as scripts/models.sh lays them out
    #[arg(long, env = env::MODELS_DIR, default_value = "./models", value_name = "DIR", global = true)]
    pub models_dir: PathBuf,

    /// Database URL: surrealkv://PATH (embedded, on disk), mem:// (in memory, gone at exit) or
    /// ws://HOST:PORT / wss://HOST:PORT (a SurrealDB server) [default: surrealkv://<data dir>/db]
    #[arg(long = "db", env = env::DB_URL, value_name = "URL", global = true)]
    pub db_url: Option<String>,

    /// SurrealDB namespace
    #[arg(long, env = env::DB_NAMESPACE, default_value = "jobportal", value_name = "NAME", global = true)]
    pub db_namespace: String,

    /// SurrealDB database inside the namespace
    #[arg(long, env = env::DB_DATABASE, default_value = "main", value_name = "NAME", global = true)]
    pub db_database: String,

    /// User to sign in as on a SurrealDB server (root level); unused by embedded databases
    #[arg(long, env = env::DB_USER, value_name = "USER", global = true)]
    pub db_user: Option<String>,

    /// Password for --db-user; prefer the environment variable to the flag
    #[arg(long, env = env::DB_PASSWORD, hide_env_values = true, value_name = "PASSWORD", global = true, value_parser = secret)]
    pub db_password: Option<Secret>,

    /// Longest wait for one answer of a SurrealDB server; past it, or when the connection
    /// fails, requests answer 503 database_unavailable until the server answers again
    #[arg(long, env = env::DB_TIMEOUT, default_value = "10s", value_name = "DURATION", global = true)]
    pub db_timeout: String,

    /// The embedded database's write buffer: writes collect in it before they are flushed to
    /// disk, and one transaction may not write more than it holds. Reserved whole, resident as
    /// it is written (unused by a SurrealDB server)
    #[arg(long, env = env::DB_WRITE_BUFFER, default_value = "128MiB", value_name = "SIZE", global = true)]
    pub db_write_buffer: String,

    /// The embedded database's cache of blocks read from disk (unused by a SurrealDB server)
    #[arg(long, env = env::DB_CACHE, default_value = "16MiB", value_name = "SIZE", global = true)]
    pub db_cache: String,

    /// Log format: auto (human on a terminal, JSON otherwise), human or json
    #[arg(long, env = env::LOG_FORMAT, default_value = "auto", value_name = "FORMAT", global = true)]
    pub log_format: String,

    /// Log filter in tracing's syntax, e.g. "info" or "info,tantivy=info": a bare level is that
    /// of jobportal's own lines, other crates log at warn unless named
    #[arg(long, env = env::LOG, default_value = "info", value_name = "FILTER", global = true)]
    pub log: String,

    /// Directory of prompt templates (NAME.j2) that replace the built-in ones of the same
    /// name, file by file; unset: the built-in prompts
    #[arg(long, env = env::PROMPTS_DIR, value_name = "DIR", global = true)]
    pub prompts_dir: Option<PathBuf>,
}

/// Settings of the HTTP server.
#[derive(Args, Debug, Clone)]
pub struct ServeOpts {
    /// Address to listen on (port 0 picks a free port, which is logged)
    #[arg(long, env = env::ADDR, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
    pub addr: String,

    /// Secret that signs access tokens (at least 32 characters); when unset, one is generated
    /// and kept in <data dir>/jwt_secret
    #[arg(long, env = env::JWT_SECRET, hide_env_values = true, value_name = "SECRET", value_parser = secret)]
    pub jwt_secret: Option<Secret>,

    /// Largest request body accepted, in bytes or with a unit (KiB, MiB)
    #[arg(long, env = env::BODY_LIMIT, default_value = "1MiB", value_name = "SIZE")]
    pub body_limit: String,

    /// Longest a request may take before it is answered 503 timeout (e.g. 30s, 2m)
    #[arg(long, env = env::REQUEST_TIMEOUT, default_value = "30s", value_name = "DURATION")]
    pub request_timeout: String,

    /// After SIGTERM or ctrl-c, how long in-flight requests may take to finish
    #[arg(long, env = env::SHUTDOWN_TIMEOUT, default_value = "30s", value_name = "DURATION")]
    pub shutdown_timeout: String,

    /// Origins allowed by CORS, comma separated (e.g. https://jobs.example.com), or * for any;
    /// empty disables CORS
    #[arg(long, env = env::CORS_ORIGINS, default_value = "", value_name = "ORIGINS")]
    pub cors_origins: String,

    /// Public base URL of the portal, used in the links that emails carry
    #[arg(long, env = env::PUBLIC_URL, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub public_url: String,

    /// Base URL of a front end of your own that serves /verify-email, /reset-password and
    /// /accept-invite (each with ?token=…) and /forgot-password; when set, the links in account
    /// emails point there instead of at the built-in pages under the public URL (which keep
    /// working); empty: the built-in pages
    #[arg(long, env = env::APP_URL, default_value = "", value_name = "URL")]
    pub app_url: String,

    /// Header that holds the client's address when behind a reverse proxy you trust (e.g.
    /// x-forwarded-for, whose last entry is used, or x-real-ip); unset: the peer address
    #[arg(long, env = env::TRUSTED_PROXY_HEADER, default_value = "", value_name = "HEADER")]
    pub trusted_proxy_header: String,

    /// Lifetime of an access token
    #[arg(long, env = env::ACCESS_TOKEN_TTL, default_value = "15m", value_name = "DURATION")]
    pub access_token_ttl: String,

    /// Lifetime of a refresh token (each refresh issues a new one)
    #[arg(long, env = env::REFRESH_TOKEN_TTL, default_value = "30d", value_name = "DURATION")]
    pub refresh_token_ttl: String,

    /// Longest a login lasts however often it is refreshed
    #[arg(long, env = env::SESSION_MAX_AGE, default_value = "90d", value_name = "DURATION")]
    pub session_max_age: String,

    /// Requests per client address to each of register, login, refresh, forgot-password and
    /// resend-verification, as COUNT/PERIOD (e.g. 20/1m)
    #[arg(long, env = env::RATE_LIMIT_AUTH_PER_IP, default_value = "20/1m", value_name = "RATE")]
    pub rate_limit_auth_per_ip: String,

    /// Failed logins per account before further attempts answer 429, as COUNT/PERIOD
    #[arg(long, env = env::RATE_LIMIT_LOGIN_FAILURES, default_value = "5/15m", value_name = "RATE")]
    pub rate_limit_login_failures: String,

    /// Verification and password-reset emails per account, as COUNT/PERIOD
    #[arg(long, env = env::RATE_LIMIT_EMAILS_PER_ACCOUNT, default_value = "3/1h", value_name = "RATE")]
    pub rate_limit_emails_per_account: String,

    /// Jobs of companies an admin has not verified wait for an admin's approval before they
    /// are public
    #[arg(long, env = env::MODERATE_UNVERIFIED, default_value = "false", value_name = "BOOL")]
    pub moderate_unverified: String,

    /// Largest resume file a candidate may upload (PDF, DOCX or text)
    #[arg(long, env = env::RESUME_MAX_SIZE, default_value = "5MiB", value_name = "SIZE")]
    pub resume_max_size: String,

    /// Password hashes (argon2id, ~20-50 ms of CPU each) running at once; auto leaves one core
    /// free for everything else
    #[arg(long, env = env::PASSWORD_HASH_CONCURRENCY, default_value = "auto", value_name = "N")]
    pub password_hash_concurrency: String,

    /// Longest message a user may send the assistant, in characters (422 message_too_long
    /// beyond)
    #[arg(long, env = env::ASSISTANT_MAX_MESSAGE, default_value = "4000", value_name = "CHARS")]
    pub assistant_max_message: String,

    /// Messages per user to the assistant, as COUNT/PERIOD (429 rate_limited beyond)
    #[arg(long, env = env::RATE_LIMIT_ASSISTANT, default_value = "20/1m", value_name = "RATE")]
    pub rate_limit_assistant: String,

    /// Fewest published salaries salary insights answer about, per currency (422
    /// too_few_salaries below)
    #[arg(long, env = env::SALARY_INSIGHTS_MIN_COUNT, default_value = "5", value_name = "N")]
    pub salary_insights_min_count: String,
}

/// Settings of the background workers, the scheduler and email delivery (`serve` and `worker`).
#[derive(Args, Debug, Clone)]
pub struct WorkerOpts {
    /// Worker loops per queue, as QUEUE=N pairs (queues: email, default)
    #[arg(long, env = env::QUEUE_CONCURRENCY, default_value = "email=2,default=2", value_name = "LIST")]
    pub queue_concurrency: String,

    /// How long a claimed task stays claimed without a heartbeat (a dead worker's tasks are
    /// retried after this)
    #[arg(long, env = env::TASK_LEASE, default_value = "60s", value_name = "DURATION")]
    pub task_lease: String,

    /// How often an idle worker looks for due tasks
    #[arg(long, env = env::TASK_POLL_INTERVAL, default_value = "1s", value_name = "DURATION")]
    pub task_poll_interval: String,

    /// Wait before the first retry of a failed task; it doubles with each attempt
    #[arg(long, env = env::TASK_BACKOFF, default_value = "5s", value_name = "DURATION")]
    pub task_backoff: String,

    /// Longest wait between retries
    #[arg(long, env = env::TASK_BACKOFF_MAX, default_value = "1h", value_name = "DURATION")]
    pub task_backoff_max: String,

    /// Deliver email over SMTP: smtp://[USER:PASSWORD@]HOST:PORT (STARTTLS when offered;
    /// ?tls=required to insist), smtps://HOST:PORT (TLS from the start). Unset: emails are
    /// written as .eml files into <data dir>/mail
    #[arg(long, env = env::SMTP_URL, hide_env_values = true, value_name = "URL", value_parser = secret)]
    pub smtp_url: Option<Secret>,

    /// Longest an SMTP conversation may take
    #[arg(long, env = env::SMTP_TIMEOUT, default_value = "10s", value_name = "DURATION")]
    pub smtp_timeout: String,

    /// Sender of every email
    #[arg(long, env = env::EMAIL_FROM, default_value = "jobportal <noreply@localhost>", value_name = "ADDRESS")]
    pub email_from: String,

    /// Production mode: refuse to start without an SMTP server for email
    #[arg(long, env = env::PRODUCTION, default_value = "false", value_name = "BOOL")]
    pub production: String,

    /// When to prune expired tokens and sessions, old finished tasks and old assistant
    /// conversations: a cron expression (minute hour day-of-month month day-of-week, UTC), or
    /// off
    #[arg(long, env = env::SCHEDULE_PRUNE, default_value = "17 * * * *", value_name = "CRON")]
    pub schedule_prune: String,

    /// When to close published jobs past their expiry: a cron expression (UTC), or off
    #[arg(long, env = env::SCHEDULE_CLOSE_EXPIRED_JOBS, default_value = "*/10 * * * *", value_name = "CRON")]
    pub schedule_close_expired_jobs: String,

    /// When to send the digests of saved searches set to `instant`: a cron expression (UTC),
    /// or off
    #[arg(long, env = env::SCHEDULE_ALERTS_INSTANT, default_value = "*/5 * * * *", value_name = "CRON")]
    pub schedule_alerts_instant: String,

    /// When to send the daily digests of saved searches: a cron expression (UTC), or off
    #[arg(long, env = env::SCHEDULE_ALERTS_DAILY, default_value = "0 7 * * *", value_name = "CRON")]
    pub schedule_alerts_daily: String,

    /// When to send the weekly digests of saved searches: a cron expression (UTC), or off
    #[arg(long, env = env::SCHEDULE_ALERTS_WEEKLY, default_value = "0 7 * * 1", value_name = "CRON")]
    pub schedule_alerts_weekly: String,

    /// When to write a backup of the database into <data dir>/backups: a cron expression
    /// (UTC), or off
    #[arg(long, env = env::SCHEDULE_BACKUP, default_value = "off", value_name = "CRON")]
    pub schedule_backup: String,

    /// Scheduled backups kept in <data dir>/backups; the oldest beyond this many are deleted
    #[arg(long, env = env::BACKUP_KEEP, default_value = "7", value_name = "N")]
    pub backup_keep: String,

    /// Days an assistant conversation is kept after its last message; the prune task deletes
    /// older ones (0: keep them until their user deletes them)
    #[arg(long, env = env::ASSISTANT_RETENTION_DAYS, default_value = "180", value_name = "DAYS")]
    pub assistant_retention_days: String,
}

/// Settings of the chat model: which one (a local GGUF file or a hosted provider), how it
/// answers by default, and how much of the machine it may take (`serve`, `admin generate`).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Chat model")]
pub struct ChatOpts {
    /// Where the chat model runs: local (a GGUF file, in this process), openai (an
    /// OpenAI-compatible API: OpenAI, Ollama, vLLM, llama.cpp's server) or anthropic
    #[arg(long, env = env::LLM_PROVIDER, default_value = "local", value_name = "PROVIDER")]
    pub llm_provider: String,

    /// local: the GGUF file [default: <models dir>/llm/SmolLM2-135M-Instruct.Q4_1.gguf, else
    /// the first .gguf there by name]; openai, anthropic: the provider's model name (required)
    #[arg(long, env = env::LLM_MODEL, value_name = "FILE|NAME")]
    pub llm_model: Option<String>,

    /// Base URL of a hosted provider's API [default: https://api.openai.com/v1 or
    /// https://api.anthropic.com/v1]; e.g. http://127.0.0.1:11434/v1 for Ollama
    #[arg(long, env = env::LLM_BASE_URL, value_name = "URL")]
    pub llm_base_url: Option<String>,

    /// API key of a hosted provider (required for anthropic; optional for openai-compatible
    /// servers that need none); prefer the environment variable to the flag
    #[arg(long, env = env::LLM_API_KEY, hide_env_values = true, value_name = "KEY", value_parser = secret)]
    pub llm_api_key: Option<Secret>,

    /// Longest wait for a hosted provider's answer to start, and between two of its pieces
    #[arg(long, env = env::LLM_TIMEOUT, default_value = "60s", value_name = "DURATION")]
    pub llm_timeout: String,

    /// The most tokens an answer may have, unless the caller asks for fewer
    #[arg(long, env = env::LLM_MAX_TOKENS, default_value = "512", value_name = "N")]
    pub llm_max_tokens: String,

    /// Sampling temperature, 0 to 2; 0 always takes the most likely token (the same answer
    /// every time)
    #[arg(long, env = env::LLM_TEMPERATURE, default_value = "0", value_name = "T")]
    pub llm_temperature: String,

    /// Sample only among the most likely tokens whose probabilities add up to this (0 < P <= 1;
    /// 1: all)
    #[arg(long, env = env::LLM_TOP_P, default_value = "1", value_name = "P")]
    pub llm_top_p: String,

    /// Above 1, tokens the answer used recently are made less likely (small models repeat
    /// themselves); 1 is off. The local model only
    #[arg(long, env = env::LLM_REPETITION_PENALTY, default_value = "1.1", value_name = "X")]
    pub llm_repetition_penalty: String,

    /// Answers that may wait while the local model writes another; one more is refused at
    /// once (503 model_busy) instead of queueing without bound
    #[arg(long, env = env::LLM_QUEUE_SIZE, default_value = "4", value_name = "N")]
    pub llm_queue_size: String,

    /// Threads the local chat model computes with; auto: one per core
    #[arg(long, env = env::LLM_THREADS, default_value = "auto", value_name = "N")]
    pub llm_threads: String,
}
