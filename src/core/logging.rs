//! Logging: tracing to stderr, human on a terminal, JSON for machines.
//!
//! Standard output is kept for what a command prints as its result (`migrate`, completions), so
//! every log line goes to standard error.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::core::config::{LogConfig, LogFormat};

/// Directives that come before the user's filter: the database engine is chatty at `info`
/// (every open logs a dozen lines), and its storage layer warns "No runtime available for
/// closing the store" when its last handle drops on one of its own threads, after
/// `Database::close` has already closed it properly. A filter that names these targets
/// overrides them.
const QUIET_DEPENDENCIES: &str = "surrealdb=warn,surrealdb_core=warn,surrealkv=error";

/// The filter in effect for a `JOBPORTAL_LOG` value.
pub fn filter(user: &str) -> String {
    format!("{QUIET_DEPENDENCIES},{user}")
}

/// Installs the global subscriber. Calling it twice (as tests do) keeps the first one.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::builder()
        .parse(filter(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let terminal = std::io::stderr().is_terminal();
    let json = match config.format {
        LogFormat::Json => true,
        LogFormat::Human => false,
        LogFormat::Auto => !terminal,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let result = if json {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.with_ansi(terminal).with_target(false).try_init()
    };
    // An error means a subscriber is already installed, which is fine.
    drop(result);
}
