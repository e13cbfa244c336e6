//! Configuration: one place where what the user typed becomes resolved values.
//!
//! Every setting has a flag and a `JOBPORTAL_*` environment variable; precedence is the flag,
//! then the environment, then `.env` (loaded into the environment before parsing, never
//! overriding it), then the default. clap collects the raw text and this module parses it, so an invalid value fails at
//! start with one line that names both the variable and the flag, whichever the value came from.
//! The doc comments on the option structs are the `--help` text; `.env.example` lists the same
//! variables.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

/// Environment variable names other tools and scripts rely on.
pub mod env {
    pub const DATA_DIR: &str = "JOBPORTAL_DATA_DIR";
    pub const MODELS_DIR: &str = "JOBPORTAL_MODELS_DIR";
    pub const DB_URL: &str = "JOBPORTAL_DB_URL";
    pub const DB_NAMESPACE: &str = "JOBPORTAL_DB_NAMESPACE";
    pub const DB_DATABASE: &str = "JOBPORTAL_DB_DATABASE";
    pub const DB_USER: &str = "JOBPORTAL_DB_USER";
    pub const DB_PASSWORD: &str = "JOBPORTAL_DB_PASSWORD";
    pub const LOG_FORMAT: &str = "JOBPORTAL_LOG_FORMAT";
    pub const LOG: &str = "JOBPORTAL_LOG";
    pub const ADDR: &str = "JOBPORTAL_ADDR";
    pub const JWT_SECRET: &str = "JOBPORTAL_JWT_SECRET";
    pub const BODY_LIMIT: &str = "JOBPORTAL_BODY_LIMIT";
    pub const REQUEST_TIMEOUT: &str = "JOBPORTAL_REQUEST_TIMEOUT";
    pub const SHUTDOWN_TIMEOUT: &str = "JOBPORTAL_SHUTDOWN_TIMEOUT";
    pub const CORS_ORIGINS: &str = "JOBPORTAL_CORS_ORIGINS";
    pub const PASSWORD: &str = "JOBPORTAL_PASSWORD";
    pub const PUBLIC_URL: &str = "JOBPORTAL_PUBLIC_URL";
    pub const APP_URL: &str = "JOBPORTAL_APP_URL";
    pub const TRUSTED_PROXY_HEADER: &str = "JOBPORTAL_TRUSTED_PROXY_HEADER";
    pub const ACCESS_TOKEN_TTL: &str = "JOBPORTAL_ACCESS_TOKEN_TTL";
    pub const REFRESH_TOKEN_TTL: &str = "JOBPORTAL_REFRESH_TOKEN_TTL";
    pub const SESSION_MAX_AGE: &str = "JOBPORTAL_SESSION_MAX_AGE";
    pub const RATE_LIMIT_AUTH_PER_IP: &str = "JOBPORTAL_RATE_LIMIT_AUTH_PER_IP";
    pub const RATE_LIMIT_LOGIN_FAILURES: &str = "JOBPORTAL_RATE_LIMIT_LOGIN_FAILURES";
    pub const RATE_LIMIT_EMAILS_PER_ACCOUNT: &str = "JOBPORTAL_RATE_LIMIT_EMAILS_PER_ACCOUNT";
    pub const PASSWORD_HASH_CONCURRENCY: &str = "JOBPORTAL_PASSWORD_HASH_CONCURRENCY";
    pub const RUN_WORKERS: &str = "JOBPORTAL_RUN_WORKERS";
    pub const MODERATE_UNVERIFIED: &str = "JOBPORTAL_MODERATE_UNVERIFIED";
    pub const RESUME_MAX_SIZE: &str = "JOBPORTAL_RESUME_MAX_SIZE";
    pub const QUEUE_CONCURRENCY: &str = "JOBPORTAL_QUEUE_CONCURRENCY";
    pub const TASK_LEASE: &str = "JOBPORTAL_TASK_LEASE";
    pub const TASK_POLL_INTERVAL: &str = "JOBPORTAL_TASK_POLL_INTERVAL";
    pub const TASK_BACKOFF: &str = "JOBPORTAL_TASK_BACKOFF";
    pub const TASK_BACKOFF_MAX: &str = "JOBPORTAL_TASK_BACKOFF_MAX";
    pub const SMTP_URL: &str = "JOBPORTAL_SMTP_URL";
    pub const SMTP_TIMEOUT: &str = "JOBPORTAL_SMTP_TIMEOUT";
    pub const EMAIL_FROM: &str = "JOBPORTAL_EMAIL_FROM";
    pub const PRODUCTION: &str = "JOBPORTAL_PRODUCTION";
    pub const SCHEDULE_PRUNE: &str = "JOBPORTAL_SCHEDULE_PRUNE";
    pub const SCHEDULE_CLOSE_EXPIRED_JOBS: &str = "JOBPORTAL_SCHEDULE_CLOSE_EXPIRED_JOBS";
    pub const SCHEDULE_ALERTS_INSTANT: &str = "JOBPORTAL_SCHEDULE_ALERTS_INSTANT";
    pub const SCHEDULE_ALERTS_DAILY: &str = "JOBPORTAL_SCHEDULE_ALERTS_DAILY";
    pub const SCHEDULE_ALERTS_WEEKLY: &str = "JOBPORTAL_SCHEDULE_ALERTS_WEEKLY";

    /// Every variable above, for the check that the docs name them all.
    pub const ALL: &[&str] = &[
        DATA_DIR,
        DB_URL,
        DB_NAMESPACE,
        DB_DATABASE,
        DB_USER,
        DB_PASSWORD,
        LOG_FORMAT,
        LOG,
        ADDR,
        JWT_SECRET,
        BODY_LIMIT,
        REQUEST_TIMEOUT,
        SHUTDOWN_TIMEOUT,
        CORS_ORIGINS,
        PASSWORD,
        PUBLIC_URL,
        APP_URL,
        TRUSTED_PROXY_HEADER,
        ACCESS_TOKEN_TTL,
        REFRESH_TOKEN_TTL,
        SESSION_MAX_AGE,
        RATE_LIMIT_AUTH_PER_IP,
        RATE_LIMIT_LOGIN_FAILURES,
        RATE_LIMIT_EMAILS_PER_ACCOUNT,
        PASSWORD_HASH_CONCURRENCY,
        RUN_WORKERS,
        MODERATE_UNVERIFIED,
        RESUME_MAX_SIZE,
        QUEUE_CONCURRENCY,
        TASK_LEASE,
        TASK_POLL_INTERVAL,
        TASK_BACKOFF,
        TASK_BACKOFF_MAX,
        SMTP_URL,
        SMTP_TIMEOUT,
        EMAIL_FROM,
        PRODUCTION,
        SCHEDULE_PRUNE,
        SCHEDULE_CLOSE_EXPIRED_JOBS,
        SCHEDULE_ALERTS_INSTANT,
        SCHEDULE_ALERTS_DAILY,
        SCHEDULE_ALERTS_WEEKLY,
    ];
}

/// A value that must never appear in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call it only where the value is used, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// clap's parser for secret values: keeps them out of `Debug` from the moment they are read.
fn secret(raw: &str) -> Result<Secret, std::convert::Infallible> {
    Ok(Secret::new(raw))
}

/// A setting whose value could not be used; displays as one line naming the variable and flag.
#[derive(Debug, thiserror::Error)]
#[error("invalid {var} (--{flag}) {value:?}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub flag: &'static str,
    pub value: String,
    pub reason: String,
}

impl ConfigError {
    fn new(var: &'static str, flag: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self { var, flag, value: value.to_owned(), reason: reason.into() }
    }
}

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

    /// Log format: auto (human on a terminal, JSON otherwise), human or json
    #[arg(long, env = env::LOG_FORMAT, default_value = "auto", value_name = "FORMAT", global = true)]
    pub log_format: String,

    /// Log filter in tracing's syntax, e.g. "info" or "info,hnsw_rs=info": a bare level is that
    /// of jobportal's own lines, other crates log at warn unless named
    #[arg(long, env = env::LOG, default_value = "info", value_name = "FILTER", global = true)]
    pub log: String,
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

    /// When to prune expired tokens and sessions and old finished tasks: a cron expression
    /// (minute hour day-of-month month day-of-week, UTC), or off
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
}

/// Where email goes.
#[derive(Debug, Clone)]
pub enum EmailBackendConfig {
    Smtp {
        url: Secret,
        timeout: Duration,
    },
    /// `.eml` files in a directory (the embedded demo's default).
    File {
        dir: PathBuf,
    },
}

#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub backend: EmailBackendConfig,
    pub from: String,
}

/// A named cron schedule; `None` when switched off.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub name: &'static str,
    pub cron: Option<String>,
}

/// The resolved settings of the workers.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub email_loops: usize,
    pub default_loops: usize,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    pub email: EmailConfig,
    pub schedules: Vec<ScheduleConfig>,
    /// How far behind the search index a job-alert window ends, so jobs stamped in a
    /// transaction that committed late are not skipped (60 s; tests use 0).
    pub alerts_settle: Duration,
}

impl WorkerConfig {
    /// Defaults for tests and tools: files in `dir` for email, quick polling.
    pub fn for_dir(dir: &Path) -> Self {
        Self {
            email_loops: 1,
            default_loops: 1,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(1),
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            email: EmailConfig {
                backend: EmailBackendConfig::File { dir: dir.join("mail") },
                from: "jobportal <noreply@localhost>".into(),
            },
            schedules: vec![
                ScheduleConfig { name: "prune", cron: Some("17 * * * *".into()) },
                ScheduleConfig { name: "close_expired_jobs", cron: Some("*/10 * * * *".into()) },
                ScheduleConfig { name: "job_alerts_instant", cron: Some("*/5 * * * *".into()) },
                ScheduleConfig { name: "job_alerts_daily", cron: Some("0 7 * * *".into()) },
                ScheduleConfig { name: "job_alerts_weekly", cron: Some("0 7 * * 1".into()) },
            ],
            alerts_settle: Duration::from_secs(60),
        }
    }
}

impl WorkerOpts {
    pub fn resolve(&self, data_dir: &Path) -> Result<WorkerConfig, ConfigError> {
        let mut email_loops = 2;
        let mut default_loops = 2;
        for pair in self.queue_concurrency.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = |reason: &str| {
                ConfigError::new(
                    env::QUEUE_CONCURRENCY,
                    "queue-concurrency",
                    &self.queue_concurrency,
                    reason,
                )
            };
            let (queue, n) = pair
                .split_once('=')
                .ok_or_else(|| bad("expected QUEUE=N pairs, e.g. email=2,default=2"))?;
            let n: usize =
                n.trim().parse().map_err(|_| bad("N must be a number (0 turns a queue off)"))?;
            match queue.trim() {
                "email" => email_loops = n,
                "default" => default_loops = n,
                other => {
                    return Err(bad(&format!(
                        "unknown queue {other:?}; queues are email and default"
                    )));
                }
            }
        }
        let duration = |var: &'static str, flag: &'static str, raw: &str| {
            parse_duration(raw).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::new(
                    var,
                    flag,
                    raw,
                    "expected a positive duration such as 500ms, 30s or 1h",
                )
            })
        };
        let lease = duration(env::TASK_LEASE, "task-lease", &self.task_lease)?;
        let poll_interval =
            duration(env::TASK_POLL_INTERVAL, "task-poll-interval", &self.task_poll_interval)?;
        let backoff_base = duration(env::TASK_BACKOFF, "task-backoff", &self.task_backoff)?;
        let backoff_max =
            duration(env::TASK_BACKOFF_MAX, "task-backoff-max", &self.task_backoff_max)?;
        let smtp_timeout = duration(env::SMTP_TIMEOUT, "smtp-timeout", &self.smtp_timeout)?;
        let production = parse_bool(&self.production).ok_or_else(|| {
            ConfigError::new(
                env::PRODUCTION,
                "production",
                &self.production,
                "expected true or false",
            )
        })?;
        let backend = match self.smtp_url.as_ref().filter(|u| !u.expose().trim().is_empty()) {
            Some(url) => {
                let raw = url.expose().trim();
                if !(raw.starts_with("smtp://") || raw.starts_with("smtps://")) {
                    return Err(ConfigError::new(
                        env::SMTP_URL,
                        "smtp-url",
                        "[redacted]",
                        "expected smtp://HOST:PORT or smtps://HOST:PORT",
                    ));
                }
                EmailBackendConfig::Smtp { url: Secret::new(raw), timeout: smtp_timeout }
            }
            None if production => {
                return Err(ConfigError::new(
                    env::SMTP_URL,
                    "smtp-url",
                    "",
                    "production mode needs an SMTP server for email (set JOBPORTAL_SMTP_URL)",
                ));
            }
            None => EmailBackendConfig::File { dir: data_dir.join("mail") },
        };
        let from = self.email_from.trim().to_owned();
        if from.is_empty() || !from.contains('@') || from.chars().any(char::is_control) {
            return Err(ConfigError::new(
                env::EMAIL_FROM,
                "email-from",
                &self.email_from,
                "expected an address such as jobs@example.com or \"Jobs <jobs@example.com>\"",
            ));
        }
        let schedule = |var: &'static str, flag: &'static str, name: &'static str, raw: &str| {
            let raw = raw.trim();
            if raw.eq_ignore_ascii_case("off") || raw.is_empty() {
                return Ok(ScheduleConfig { name, cron: None });
            }
            parse_cron(raw)
                .map(|_| ScheduleConfig { name, cron: Some(raw.to_owned()) })
                .map_err(|reason| ConfigError::new(var, flag, raw, reason))
        };
        let schedules = vec![
            schedule(env::SCHEDULE_PRUNE, "schedule-prune", "prune", &self.schedule_prune)?,
            schedule(
                env::SCHEDULE_CLOSE_EXPIRED_JOBS,
                "schedule-close-expired-jobs",
                "close_expired_jobs",
                &self.schedule_close_expired_jobs,
            )?,
            schedule(
                env::SCHEDULE_ALERTS_INSTANT,
                "schedule-alerts-instant",
                "job_alerts_instant",
                &self.schedule_alerts_instant,
            )?,
            schedule(
                env::SCHEDULE_ALERTS_DAILY,
                "schedule-alerts-daily",
                "job_alerts_daily",
                &self.schedule_alerts_daily,
            )?,
            schedule(
                env::SCHEDULE_ALERTS_WEEKLY,
                "schedule-alerts-weekly",
                "job_alerts_weekly",
                &self.schedule_alerts_weekly,
            )?,
        ];
        Ok(WorkerConfig {
            email_loops,
            default_loops,
            lease,
            poll_interval,
            backoff_base,
            backoff_max,
            email: EmailConfig { backend, from },
            schedules,
            alerts_settle: Duration::from_secs(60),
        })
    }
}

/// A five-field cron expression (minute hour day-of-month month day-of-week), in UTC.
pub fn parse_cron(raw: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .build()
        .parse(raw)
        .map_err(|err| format!("not a five-field cron expression: {err}"))
}

fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human on a terminal, JSON otherwise.
    Auto,
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

/// Where the database is and how to reach it.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Normalised URL: `mem://`, `surrealkv://ABSOLUTE_PATH`, `ws://…` or `wss://…`.
    pub url: String,
    pub namespace: String,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<Secret>,
}

impl DbConfig {
    /// An in-memory database, for tests and throwaway runs.
    pub fn memory() -> Self {
        Self {
            url: "mem://".into(),
            namespace: "jobportal".into(),
            database: "main".into(),
            user: None,
            password: None,
        }
    }

    /// The on-disk path of an embedded database, if this is one.
    pub fn embedded_path(&self) -> Option<&Path> {
        self.url.strip_prefix("surrealkv://").map(Path::new)
    }

    pub fn is_remote(&self) -> bool {
        self.url.starts_with("ws://") || self.url.starts_with("wss://")
    }
}

/// The resolved settings every command shares.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub db: DbConfig,
    pub log: LogConfig,
}

/// Which origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

/// At most `count` events per `period` (a bucket that refills evenly over the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }
}

/// Rate limits of the authentication endpoints.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub auth_per_ip: Rate,
    pub login_failures_per_account: Rate,
    pub emails_per_account: Rate,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            auth_per_ip: Rate::new(20, Duration::from_secs(60)),
            login_failures_per_account: Rate::new(5, Duration::from_secs(15 * 60)),
            emails_per_account: Rate::new(3, Duration::from_secs(3600)),
        }
    }
}

/// Token lifetimes.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_age: Duration,
    pub verify_email_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub invite_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            session_max_age: Duration::from_secs(90 * 86_400),
            verify_email_ttl: Duration::from_secs(48 * 3600),
            reset_password_ttl: Duration::from_secs(3600),
            invite_ttl: Duration::from_secs(7 * 86_400),
        }
    }
}

/// How the server reads uploaded documents: in a child process under these limits
/// (`services::resume_parser::isolated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentsConfig {
    /// The program whose `parse-document` command reads documents; `None` is this executable.
    pub program: Option<PathBuf>,
    pub limits: crate::core::sandbox::Limits,
    /// Documents read at once; `None` is one per core.
    pub concurrency: Option<usize>,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        Self {
            program: None,
            limits: crate::core::sandbox::Limits {
                // Four times the most a PDF's streams may decode to: the reader keeps a
                // stream's encoded and decoded bytes while it works.
                memory: 512 * 1024 * 1024,
                cpu: Duration::from_secs(10),
                wall: Duration::from_secs(15),
                // The text of `MAX_TEXT_CHARS` characters of a resume, at four bytes each, escaped in JSON.
                output: 8 * 1024 * 1024,
            },
            concurrency: None,
        }
    }
}

/// The resolved settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub cors_origins: CorsOrigins,
    /// Base of the links in emails, without a trailing slash.
    pub public_url: String,
    /// Base of the account links in emails (verification, reset, invitation) when a front end
    /// of the site's own serves those pages, without a trailing slash; `None`: the built-in
    /// pages under `public_url`.
    pub app_url: Option<String>,
    /// Lower-case header name holding the client address, when behind a trusted proxy.
    pub trusted_proxy_header: Option<String>,
    pub auth: AuthConfig,
    pub rate_limits: RateLimitConfig,
    /// Concurrent password hashes; `None` is the default (cores - 1, at least 1).
    pub password_hash_concurrency: Option<usize>,
    /// Jobs of unverified companies wait for an admin.
    pub moderate_unverified: bool,
    /// Largest resume upload, in bytes.
    pub resume_max_size: usize,
    /// Where uploads (imports) are kept until a task processes them.
    pub data_dir: PathBuf,
    /// The model weights (`embed/`, `llm/`).
    pub models_dir: PathBuf,
    /// How uploaded documents are read.
    pub documents: DocumentsConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: None,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(30),
            cors_origins: CorsOrigins::None,
            public_url: "http://127.0.0.1:8080".into(),
            app_url: None,
            trusted_proxy_header: None,
            auth: AuthConfig::default(),
            rate_limits: RateLimitConfig::default(),
            password_hash_concurrency: None,
            moderate_unverified: false,
            resume_max_size: 5 * 1024 * 1024,
            data_dir: std::env::temp_dir().join("jobportal"),
            models_dir: PathBuf::from("models"),
            documents: DocumentsConfig::default(),
        }
    }
}

impl GlobalOpts {
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let data_dir = absolute(&self.data_dir);
        let url = match self.db_url.as_deref().map(str::trim) {
            None | Some("") => format!("surrealkv://{}", data_dir.join("db").display()),
            Some(raw) => parse_db_url(raw)
                .map_err(|reason| ConfigError::new(env::DB_URL, "db", raw, reason))?,
        };
        for (var, flag, value) in [
            (env::DB_NAMESPACE, "db-namespace", &self.db_namespace),
            (env::DB_DATABASE, "db-database", &self.db_database),
        ] {
            if !is_identifier(value) {
                return Err(ConfigError::new(
                    var,
                    flag,
                    value,
                    "expected letters, digits and underscores, starting with a letter",
                ));
            }
        }
        let format = match self.log_format.trim().to_ascii_lowercase().as_str() {
            "auto" | "" => LogFormat::Auto,
            "human" | "text" | "pretty" => LogFormat::Human,
            "json" => LogFormat::Json,
            _ => {
                return Err(ConfigError::new(
                    env::LOG_FORMAT,
                    "log-format",
                    &self.log_format,
                    "expected auto, human or json",
                ));
            }
        };
        if let Err(err) = tracing_subscriber::EnvFilter::builder().parse(&self.log) {
            return Err(ConfigError::new(env::LOG, "log", &self.log, err.to_string()));
        }
        Ok(Config {
            data_dir,
            models_dir: absolute(&self.models_dir),
            db: DbConfig {
                url,
                namespace: self.db_namespace.clone(),
                database: self.db_database.clone(),
                user: self.db_user.clone().filter(|u| !u.is_empty()),
                password: self.db_password.clone().filter(|p| !p.expose().is_empty()),
            },
            log: LogConfig { format, filter: self.log.clone() },
        })
    }
}

impl ServeOpts {
    pub fn resolve(&self) -> Result<ServeConfig, ConfigError> {
        let addr = self.addr.trim().parse::<SocketAddr>().map_err(|_| {
            ConfigError::new(
                env::ADDR,
                "addr",
                &self.addr,
                "expected HOST:PORT, e.g. 127.0.0.1:8080",
            )
        })?;
        let jwt_secret = match self.jwt_secret.as_ref().map(Secret::expose) {
            None | Some("") => None,
            Some(s) if s.chars().count() < 32 => {
                return Err(ConfigError::new(
                    env::JWT_SECRET,
                    "jwt-secret",
                    "[redacted]",
                    "must be at least 32 characters long",
                ));
            }
            Some(s) => Some(Secret::new(s)),
        };
        let body_limit = parse_size(&self.body_limit).filter(|n| *n > 0).ok_or_else(|| {
            ConfigError::new(
                env::BODY_LIMIT,
                "body-limit",
                &self.body_limit,
                "expected a positive size such as 1048576, 512KiB or 1MiB",
            )
        })?;
        let request_timeout =
            parse_duration(&self.request_timeout).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::new(
                    env::REQUEST_TIMEOUT,
                    "request-timeout",
                    &self.request_timeout,
                    "expected a positive duration such as 30s, 500ms or 2m",
                )
            })?;
        let shutdown_timeout = parse_duration(&self.shutdown_timeout).ok_or_else(|| {
            ConfigError::new(
                env::SHUTDOWN_TIMEOUT,
                "shutdown-timeout",
                &self.shutdown_timeout,
                "expected a duration such as 30s, 500ms or 2m",
            )
        })?;
        let cors_origins = parse_cors_origins(&self.cors_origins).map_err(|reason| {
            ConfigError::new(env::CORS_ORIGINS, "cors-origins", &self.cors_origins, reason)
        })?;
        let public_url = parse_public_url(&self.public_url).map_err(|reason| {
            ConfigError::new(env::PUBLIC_URL, "public-url", &self.public_url, reason)
        })?;
        let app_url = match self.app_url.trim() {
            "" => None,
            raw => Some(parse_public_url(raw).map_err(|reason| {
                ConfigError::new(env::APP_URL, "app-url", &self.app_url, reason)
            })?),
        };
        let header = self.trusted_proxy_header.trim().to_ascii_lowercase();
        let trusted_proxy_header = if header.is_empty() {
            None
        } else if header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Some(header)
        } else {
            return Err(ConfigError::new(
                env::TRUSTED_PROXY_HEADER,
                "trusted-proxy-header",
                &self.trusted_proxy_header,
                "expected a header name such as x-forwarded-for",
            ));
        };
        let ttl = |var: &'static str, flag: &'static str, raw: &str| {
            parse_duration(raw).filter(|d| !d.is_zero()).ok_or_else(|| {
                ConfigError::new(
                    var,
                    flag,
                    raw,
                    "expected a positive duration such as 15m, 12h or 30d",
                )
            })
        };
        let auth = AuthConfig {
            access_token_ttl: ttl(
                env::ACCESS_TOKEN_TTL,
                "access-token-ttl",
                &self.access_token_ttl,
            )?,
            refresh_token_ttl: ttl(
                env::REFRESH_TOKEN_TTL,
                "refresh-token-ttl",
                &self.refresh_token_ttl,
            )?,
            session_max_age: ttl(env::SESSION_MAX_AGE, "session-max-age", &self.session_max_age)?,
            ..AuthConfig::default()
        };
        let rate = |var: &'static str, flag: &'static str, raw: &str| {
            parse_rate(raw).ok_or_else(|| {
                ConfigError::new(
                    var,
                    flag,
                    raw,
                    "expected COUNT/PERIOD with COUNT >= 1, e.g. 20/1m or 5/15m",
                )
            })
        };
        let rate_limits = RateLimitConfig {
            auth_per_ip: rate(
                env::RATE_LIMIT_AUTH_PER_IP,
                "rate-limit-auth-per-ip",
                &self.rate_limit_auth_per_ip,
            )?,
            login_failures_per_account: rate(
                env::RATE_LIMIT_LOGIN_FAILURES,
                "rate-limit-login-failures",
                &self.rate_limit_login_failures,
            )?,
            emails_per_account: rate(
                env::RATE_LIMIT_EMAILS_PER_ACCOUNT,
                "rate-limit-emails-per-account",
                &self.rate_limit_emails_per_account,
            )?,
        };
        let password_hash_concurrency = match self.password_hash_concurrency.trim() {
            "" | "auto" => None,
            raw => Some(raw.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                ConfigError::new(
                    env::PASSWORD_HASH_CONCURRENCY,
                    "password-hash-concurrency",
                    raw,
                    "expected auto or a positive number",
                )
            })?),
        };
        let moderate_unverified = parse_bool(&self.moderate_unverified).ok_or_else(|| {
            ConfigError::new(
                env::MODERATE_UNVERIFIED,
                "moderate-unverified",
                &self.moderate_unverified,
                "expected true or false",
            )
        })?;
        let resume_max_size =
            parse_size(&self.resume_max_size).filter(|n| *n > 0).ok_or_else(|| {
                ConfigError::new(
                    env::RESUME_MAX_SIZE,
                    "resume-max-size",
                    &self.resume_max_size,
                    "expected a positive size such as 5MiB or 2097152",
                )
            })?;
        Ok(ServeConfig {
            data_dir: PathBuf::new(),
            models_dir: PathBuf::new(),
            documents: DocumentsConfig::default(),
            moderate_unverified,
            resume_max_size,
            addr,
            jwt_secret,
            body_limit,
            request_timeout,
            shutdown_timeout,
            cors_origins,
            public_url,
            app_url,
            trusted_proxy_header,
            auth,
            rate_limits,
            password_hash_concurrency,
        })
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a database URL and makes an embedded path absolute, so that the lock error and the
/// logs name the real location.
fn parse_db_url(raw: &str) -> Result<String, String> {
    if raw == "mem://" || raw == "memory" {
        return Ok("mem://".into());
    }
    if let Some(path) = raw.strip_prefix("surrealkv://") {
        if path.is_empty() {
            return Err("surrealkv:// needs a path, e.g. surrealkv://./data/db".into());
        }
        return Ok(format!("surrealkv://{}", absolute(Path::new(path)).display()));
    }
    for scheme in ["ws://", "wss://"] {
        if let Some(rest) = raw.strip_prefix(scheme) {
            let host = rest.split('/').next().unwrap_or_default();
            if host.is_empty() {
                return Err(format!("{scheme} needs a host, e.g. {scheme}127.0.0.1:8000"));
            }
            return Ok(raw.trim_end_matches('/').to_owned());
        }
    }
    Err("expected surrealkv://PATH, mem:// or ws://HOST:PORT".into())
}

/// Parses `1048576`, `512KiB`, `1MiB`, `2MB`, `1G` (binary units either way).
pub fn parse_size(raw: &str) -> Option<usize> {
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: usize = digits.parse().ok()?;
    let mult: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Parses `30s`, `500ms`, `2m`, `1h`, `30d` or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits.parse().ok()?;
    match unit.trim() {
        "" | "s" => Some(Duration::from_secs(n)),
        "ms" => Some(Duration::from_millis(n)),
        "m" | "min" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        "d" => n.checked_mul(86_400).map(Duration::from_secs),
        _ => None,
    }
}

/// Parses `COUNT/PERIOD`: `20/1m`, `5/15m`, `3/1h`; the period may omit its number (`10/m`).
pub fn parse_rate(raw: &str) -> Option<Rate> {
    let (count, period) = raw.trim().split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
    let period = period.trim();
    let period = if period.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(period)?
    } else {
        parse_duration(&format!("1{period}"))?
    };
    (!period.is_zero()).then_some(Rate { count, period })
}

/// A public base URL as the links in emails use it: http(s), no trailing slash.
pub fn parse_public_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be an absolute URL such as https://jobs.example.com".into());
    }
    Ok(url.to_owned())
}

fn parse_cors_origins(raw: &str) -> Result<CorsOrigins, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if raw == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(|| format!("origin {origin:?} must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains('/') || !rest.is_ascii() {
            return Err(format!("origin {origin:?} must be scheme://host[:port] with no path"));
        }
        origins.push(origin.to_owned());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_opts() -> ServeOpts {
        ServeOpts {
            addr: "127.0.0.1:8080".into(),
            jwt_secret: None,
            body_limit: "1MiB".into(),
            request_timeout: "30s".into(),
            shutdown_timeout: "30s".into(),
            cors_origins: String::new(),
            public_url: "http://127.0.0.1:8080".into(),
            app_url: String::new(),
            trusted_proxy_header: String::new(),
            access_token_ttl: "15m".into(),
            refresh_token_ttl: "30d".into(),
            session_max_age: "90d".into(),
            rate_limit_auth_per_ip: "20/1m".into(),
            rate_limit_login_failures: "5/15m".into(),
            rate_limit_emails_per_account: "3/1h".into(),
            password_hash_concurrency: "auto".into(),
            moderate_unverified: "false".into(),
            resume_max_size: "5MiB".into(),
        }
    }

    #[test]
    fn the_defaults_of_the_flags_match_the_default_config() {
        let resolved = serve_opts().resolve().unwrap();
        let default = ServeConfig::default();
        assert_eq!(resolved.resume_max_size, default.resume_max_size);
        assert_eq!(resolved.auth.access_token_ttl, default.auth.access_token_ttl);
        assert_eq!(resolved.auth.refresh_token_ttl, default.auth.refresh_token_ttl);
        assert_eq!(resolved.rate_limits.auth_per_ip, default.rate_limits.auth_per_ip);
        assert_eq!(
            resolved.rate_limits.login_failures_per_account,
            default.rate_limits.login_failures_per_account
        );
        assert_eq!(resolved.public_url, default.public_url);
        assert_eq!(resolved.app_url, default.app_url);
    }

    #[test]
    fn the_app_url_is_optional_and_checked_like_the_public_url() {
        let set = ServeOpts { app_url: "https://app.example/ ".into(), ..serve_opts() };
        assert_eq!(set.resolve().unwrap().app_url.as_deref(), Some("https://app.example"));
        let err =
            ServeOpts { app_url: "app.example".into(), ..serve_opts() }.resolve().unwrap_err();
        let line = err.to_string();
        assert!(line.contains("JOBPORTAL_APP_URL") && line.contains("--app-url"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn every_variable_is_documented_in_env_example_and_the_readme() {
        let example = include_str!("../../.env.example");
        let readme = include_str!("../../README.md");
        for var in env::ALL {
            assert!(example.contains(var), "{var} is missing from .env.example");
            assert!(readme.contains(var), "{var} is missing from README.md");
        }
    }

    #[test]
    fn rates_are_a_count_over_a_period() {
        assert_eq!(parse_rate("20/1m"), Some(Rate::new(20, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/15m"), Some(Rate::new(5, Duration::from_secs(900))));
        assert_eq!(parse_rate("10/h"), Some(Rate::new(10, Duration::from_secs(3600))));
        assert_eq!(parse_rate("0/1m"), None);
        assert_eq!(parse_rate("5"), None);
        assert_eq!(parse_rate("5/0s"), None);
    }

    #[test]
    fn sizes_accept_bytes_and_binary_units() {
        assert_eq!(parse_size("1048576"), Some(1_048_576));
        assert_eq!(parse_size("512KiB"), Some(512 * 1024));
        assert_eq!(parse_size("1MiB"), Some(1024 * 1024));
        assert_eq!(parse_size("2 mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_size("ten"), None);
        assert_eq!(parse_size("1TiB"), None);
    }

    #[test]
    fn durations_accept_common_units() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn an_invalid_address_names_the_variable_and_the_flag() {
        let err = ServeOpts { addr: "localhost".into(), ..serve_opts() }.resolve().unwrap_err();
        let line = err.to_string();
        assert!(line.contains("JOBPORTAL_ADDR"), "{line}");
        assert!(line.contains("--addr"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_short_jwt_secret_is_rejected_without_echoing_it() {
        let err = ServeOpts { jwt_secret: Some(Secret::new("hunter2")), ..serve_opts() }
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("JOBPORTAL_JWT_SECRET"));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let opts = ServeOpts { jwt_secret: Some(Secret::new("x".repeat(40))), ..serve_opts() };
        let config = opts.resolve().unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(&"x".repeat(40)), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn cors_origins_are_checked() {
        assert_eq!(parse_cors_origins(""), Ok(CorsOrigins::None));
        assert_eq!(parse_cors_origins("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            parse_cors_origins("https://a.example, http://localhost:3000"),
            Ok(CorsOrigins::List(vec!["https://a.example".into(), "http://localhost:3000".into()]))
        );
        assert!(parse_cors_origins("a.example").is_err());
        assert!(parse_cors_origins("https://a.example/path").is_err());
    }

    #[test]
    fn database_urls_are_normalised() {
        assert_eq!(parse_db_url("mem://").unwrap(), "mem://");
        let kv = parse_db_url("surrealkv://rel/db").unwrap();
        assert!(kv.starts_with("surrealkv:///"), "{kv}");
        assert_eq!(parse_db_url("ws://127.0.0.1:8000/").unwrap(), "ws://127.0.0.1:8000");
        assert!(parse_db_url("postgres://x").is_err());
        assert!(parse_db_url("ws://").is_err());
    }
}
