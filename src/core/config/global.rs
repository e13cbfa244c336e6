//! The settings every command shares, resolved: where data lives, the database, logging.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::GlobalOpts;
use super::env;
use super::error::{ConfigError, setting};
use super::parse::{absolute, is_identifier, parse_duration, parse_size};
use super::secret::Secret;

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
    /// Longest wait for one answer of a SurrealDB server (unused by embedded databases).
    pub timeout: Duration,
    /// How much memory an embedded database's storage engine may hold (unused by servers).
    pub memory: DbMemory,
}

/// The memory an embedded database's storage engine (SurrealKV) holds. Left to itself it sizes
/// both from the host's memory: on a 24 GiB host a 1 GiB write buffer and an 11 GiB cache,
/// which `serve`'s resident set grows into under steady writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbMemory {
    /// Bytes of the write buffer (the memtable): reserved whole, resident as written, flushed
    /// to disk when full; the most one transaction may write.
    pub write_buffer: usize,
    /// Bytes of the cache of blocks read from disk.
    pub cache: usize,
}

/// The defaults, measured under `scripts/bench.sh load` (5,000 jobs, 60 s, against SurrealKV's
/// own 1 GiB and 11 GiB on a 24 GiB host, alternating): a 64 MiB buffer served 0.78–0.93× the
/// requests, 128 MiB 0.94×; the cache's size made no difference (64 MiB and 1 GiB alike). With
/// 100,000 jobs, a 16 MiB cache against 64 MiB: `serve`'s resident set 46–53 MiB smaller, and
/// random job views (3,000 different) at 1.17× and 1.07× the requests/s, alternating.
impl Default for DbMemory {
    fn default() -> Self {
        Self { write_buffer: 128 << 20, cache: 16 << 20 }
    }
}

/// The smallest write buffer accepted: an import writes each batch (500 jobs, at most 2,000)
/// in one transaction, and the expiry sweep closes 500 jobs per write.
const MIN_WRITE_BUFFER: usize = 16 << 20;

/// The largest write buffer SurrealKV makes (a larger one is cut to this).
const MAX_WRITE_BUFFER: usize = u32::MAX as usize;

impl DbConfig {
    /// An in-memory database, for tests and throwaway runs.
    pub fn memory() -> Self {
        Self {
            url: "mem://".into(),
            namespace: "jobportal".into(),
            database: "main".into(),
            user: None,
            password: None,
            timeout: Duration::from_secs(10),
            memory: DbMemory::default(),
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
    /// Prompt templates that replace the built-in ones, file by file.
    pub prompts_dir: Option<PathBuf>,
    pub db: DbConfig,
    pub log: LogConfig,
}

impl GlobalOpts {
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let data_dir = absolute(&self.data_dir);
        let url = match self.db_url.as_deref().map(str::trim) {
            None | Some("") => format!("surrealkv://{}", data_dir.join("db").display()),
            Some(raw) => setting(env::DB_URL, "db", raw, parse_db_url)?,
        };
        for (var, flag, value) in [
            (env::DB_NAMESPACE, "db-namespace", &self.db_namespace),
            (env::DB_DATABASE, "db-database", &self.db_database),
        ] {
            setting(var, flag, value, |value| {
                is_identifier(value)
                    .then_some(())
                    .ok_or("expected letters, digits and underscores, starting with a letter")
            })?;
        }
        let timeout = setting(env::DB_TIMEOUT, "db-timeout", &self.db_timeout, |raw| {
            parse_duration(raw)
                .filter(|d| !d.is_zero())
                .ok_or("expected a positive duration such as 10s, 500ms or 1m")
        })?;
        let write_buffer =
            setting(env::DB_WRITE_BUFFER, "db-write-buffer", &self.db_write_buffer, |raw| {
                parse_size(raw)
                    .filter(|n| (MIN_WRITE_BUFFER..=MAX_WRITE_BUFFER).contains(n))
                    .ok_or("expected a size from 16MiB to 4095MiB, such as 64MiB or 1GiB")
            })?;
        let cache = setting(env::DB_CACHE, "db-cache", &self.db_cache, |raw| {
            parse_size(raw)
                .filter(|n| *n >= 1 << 20)
                .ok_or("expected a size of at least 1MiB, such as 64MiB or 512MiB")
        })?;
        let format = setting(env::LOG_FORMAT, "log-format", &self.log_format, |raw| {
            match raw.trim().to_ascii_lowercase().as_str() {
                "auto" | "" => Ok(LogFormat::Auto),
                "human" | "text" | "pretty" => Ok(LogFormat::Human),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected auto, human or json"),
            }
        })?;
        setting(env::LOG, "log", &self.log, |raw| {
            tracing_subscriber::EnvFilter::builder().parse(raw).map_err(|err| err.to_string())
        })?;
        Ok(Config {
            data_dir,
            models_dir: absolute(&self.models_dir),
            prompts_dir: self
                .prompts_dir
                .as_deref()
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(absolute),
            db: DbConfig {
                url,
                namespace: self.db_namespace.clone(),
                database: self.db_database.clone(),
                user: self.db_user.clone().filter(|u| !u.is_empty()),
                password: self.db_password.clone().filter(|p| !p.expose().is_empty()),
                timeout,
                memory: DbMemory { write_buffer, cache },
            },
            log: LogConfig { format, filter: self.log.clone() },
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_normalised() {
        assert_eq!(parse_db_url("mem://").unwrap(), "mem://");
        let kv = parse_db_url("surrealkv://rel/db").unwrap();
        assert!(kv.starts_with("surrealkv:///"), "{kv}");
        assert_eq!(parse_db_url("ws://127.0.0.1:8000/").unwrap(), "ws://127.0.0.1:8000");
        assert!(parse_db_url("postgres://x").is_err());
        assert!(parse_db_url("ws://").is_err());
    }

    fn resolve(args: &[&str]) -> Result<Config, ConfigError> {
        use clap::Parser;
        #[derive(Parser)]
        struct Opts {
            #[command(flatten)]
            global: GlobalOpts,
        }
        let opts = Opts::try_parse_from(std::iter::once("jobportal").chain(args.iter().copied()))
            .expect("the flags parse");
        opts.global.resolve()
    }

    #[test]
    fn the_embedded_databases_memory_is_a_128_mib_buffer_and_a_16_mib_cache_unless_set() {
        let config = resolve(&[]).unwrap();
        assert_eq!(config.db.memory, DbMemory { write_buffer: 128 << 20, cache: 16 << 20 });
        let config = resolve(&["--db-write-buffer", "256MiB", "--db-cache", "1GiB"]).unwrap();
        assert_eq!(config.db.memory, DbMemory { write_buffer: 256 << 20, cache: 1 << 30 });
        for (args, var) in [
            (&["--db-write-buffer", "8MiB"][..], env::DB_WRITE_BUFFER),
            (&["--db-write-buffer", "lots"][..], env::DB_WRITE_BUFFER),
            (&["--db-write-buffer", "4GiB"][..], env::DB_WRITE_BUFFER),
            (&["--db-cache", "0"][..], env::DB_CACHE),
        ] {
            let err = resolve(args).unwrap_err().to_string();
            assert!(err.contains(var), "{args:?}: {err}");
        }
    }
}
