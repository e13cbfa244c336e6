//! The settings of the background workers, resolved: queue loops, task timing, email delivery
//! and the schedules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::WorkerOpts;
use super::env;
use super::error::{ConfigError, setting};
use super::parse::{parse_bool, parse_cron, parse_duration};
use super::secret::Secret;

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

/// Where scheduled backups go and how many are kept.
#[derive(Debug, Clone)]
pub struct BackupConfig {
    /// `<data dir>/backups`.
    pub dir: PathBuf,
    /// The newest this many scheduled backups are kept (at least 1).
    pub keep: usize,
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
    /// How long an assistant conversation is kept after its last message; `None`: until its
    /// user deletes it.
    pub assistant_retention: Option<Duration>,
    /// Scheduled backups (the schedule itself is in `schedules`, named `backup`).
    pub backups: BackupConfig,
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
                ScheduleConfig { name: "backup", cron: None },
            ],
            alerts_settle: Duration::from_secs(60),
            assistant_retention: Some(Duration::from_secs(180 * 86_400)),
            backups: BackupConfig { dir: dir.join("backups"), keep: 7 },
        }
    }
}

impl WorkerOpts {
    pub fn resolve(&self, data_dir: &Path) -> Result<WorkerConfig, ConfigError> {
        let (email_loops, default_loops) = setting(
            env::QUEUE_CONCURRENCY,
            "queue-concurrency",
            &self.queue_concurrency,
            parse_queue_concurrency,
        )?;
        let duration = |var: &'static str, flag: &'static str, raw: &str| {
            setting(var, flag, raw, |raw| {
                parse_duration(raw)
                    .filter(|d| !d.is_zero())
                    .ok_or("expected a positive duration such as 500ms, 30s or 1h")
            })
        };
        let lease = duration(env::TASK_LEASE, "task-lease", &self.task_lease)?;
        let poll_interval =
            duration(env::TASK_POLL_INTERVAL, "task-poll-interval", &self.task_poll_interval)?;
        let backoff_base = duration(env::TASK_BACKOFF, "task-backoff", &self.task_backoff)?;
        let backoff_max =
            duration(env::TASK_BACKOFF_MAX, "task-backoff-max", &self.task_backoff_max)?;
        let smtp_timeout = duration(env::SMTP_TIMEOUT, "smtp-timeout", &self.smtp_timeout)?;
        let production = setting(env::PRODUCTION, "production", &self.production, |raw| {
            parse_bool(raw).ok_or("expected true or false")
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
        let from = setting(env::EMAIL_FROM, "email-from", &self.email_from, |raw| {
            let from = raw.trim();
            if from.is_empty() || !from.contains('@') || from.chars().any(char::is_control) {
                return Err(
                    "expected an address such as jobs@example.com or \"Jobs <jobs@example.com>\"",
                );
            }
            Ok(from.to_owned())
        })?;
        let schedule = |var: &'static str, flag: &'static str, name: &'static str, raw: &str| {
            let raw = raw.trim();
            if raw.eq_ignore_ascii_case("off") || raw.is_empty() {
                return Ok(ScheduleConfig { name, cron: None });
            }
            setting(var, flag, raw, |raw| {
                parse_cron(raw).map(|_| ScheduleConfig { name, cron: Some(raw.to_owned()) })
            })
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
            schedule(env::SCHEDULE_BACKUP, "schedule-backup", "backup", &self.schedule_backup)?,
        ];
        let keep = setting(env::BACKUP_KEEP, "backup-keep", &self.backup_keep, |raw| {
            raw.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or("expected how many backups to keep, 1 or more, such as 7")
        })?;
        let assistant_retention = setting(
            env::ASSISTANT_RETENTION_DAYS,
            "assistant-retention-days",
            &self.assistant_retention_days,
            |raw| {
                raw.trim()
                    .parse::<u32>()
                    .map(|days| (days > 0).then(|| Duration::from_secs(u64::from(days) * 86_400)))
                    .map_err(|_| "expected a number of days such as 180 (0 keeps them)")
            },
        )?;
        Ok(WorkerConfig {
            assistant_retention,
            email_loops,
            default_loops,
            lease,
            poll_interval,
            backoff_base,
            backoff_max,
            email: EmailConfig { backend, from },
            schedules,
            alerts_settle: Duration::from_secs(60),
            backups: BackupConfig { dir: data_dir.join("backups"), keep },
        })
    }
}

/// The loops of each queue from `QUEUE=N` pairs (2 each unless named).
fn parse_queue_concurrency(raw: &str) -> Result<(usize, usize), String> {
    let (mut email_loops, mut default_loops) = (2, 2);
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (queue, n) =
            pair.split_once('=').ok_or("expected QUEUE=N pairs, e.g. email=2,default=2")?;
        let n: usize = n.trim().parse().map_err(|_| "N must be a number (0 turns a queue off)")?;
        match queue.trim() {
            "email" => email_loops = n,
            "default" => default_loops = n,
            other => return Err(format!("unknown queue {other:?}; queues are email and default")),
        }
    }
    Ok((email_loops, default_loops))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Opts {
        #[command(flatten)]
        workers: WorkerOpts,
    }

    fn resolve(args: &[&str]) -> Result<WorkerConfig, ConfigError> {
        let opts = Opts::try_parse_from(std::iter::once("jobportal").chain(args.iter().copied()))
            .expect("the flags parse");
        opts.workers.resolve(Path::new("/srv/jobportal"))
    }

    #[test]
    fn scheduled_backups_are_off_by_default_and_keep_seven_in_the_data_dir() {
        let config = resolve(&[]).unwrap();
        let backup = config.schedules.iter().find(|s| s.name == "backup").unwrap();
        assert_eq!(backup.cron, None);
        assert_eq!(config.backups.dir, Path::new("/srv/jobportal/backups"));
        assert_eq!(config.backups.keep, 7);

        let config = resolve(&["--schedule-backup", "0 4 * * *", "--backup-keep", "3"]).unwrap();
        let backup = config.schedules.iter().find(|s| s.name == "backup").unwrap();
        assert_eq!(backup.cron.as_deref(), Some("0 4 * * *"));
        assert_eq!(config.backups.keep, 3);
    }

    #[test]
    fn a_bad_backup_schedule_or_count_names_its_variable() {
        for (args, var) in [
            (&["--backup-keep", "0"][..], env::BACKUP_KEEP),
            (&["--backup-keep", "many"][..], env::BACKUP_KEEP),
            (&["--schedule-backup", "nightly"][..], env::SCHEDULE_BACKUP),
        ] {
            let err = resolve(args).unwrap_err().to_string();
            assert!(err.contains(var), "{args:?}: {err}");
        }
    }
}
