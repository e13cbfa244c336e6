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

/// Levels from the quietest to the most verbose, as tracing spells them.
const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

/// The filter in effect for a `JOBPORTAL_LOG` value.
///
/// A bare level (`info`) is the level of jobportal's own lines; every other crate stays at
/// `warn` at most, because third-party crates log their internals at `info` (the database's
/// storage engine logs each of its settings). Directives that name a target (`tantivy=info`)
/// are kept as written and win over these defaults.
pub fn filter(user: &str) -> String {
    let mut others = "warn";
    let mut directives = vec![QUIET_DEPENDENCIES.to_owned()];
    for directive in user.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let bare = directive.to_ascii_lowercase();
        match LEVELS.iter().position(|l| *l == bare) {
            Some(level) => {
                others = LEVELS[level.min(2)];
                directives.push(format!("jobportal={bare}"));
            }
            None => directives.push(directive.to_owned()),
        }
    }
    directives.insert(0, others.to_owned());
    directives.join(",")
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

#[cfg(test)]
mod tests {
    use super::filter;

    #[test]
    fn a_bare_level_is_ours_and_other_crates_stay_at_warn() {
        assert_eq!(
            filter("info"),
            "warn,surrealdb=warn,surrealdb_core=warn,surrealkv=error,jobportal=info"
        );
        assert!(filter("debug").starts_with("warn,"));
    }

    #[test]
    fn a_quieter_bare_level_quiets_everything() {
        assert!(filter("error").starts_with("error,"));
        assert!(filter("off").starts_with("off,") && filter("off").ends_with("jobportal=off"));
    }

    #[test]
    fn directives_naming_a_target_are_kept_after_the_defaults() {
        let f = filter("info,tantivy=info");
        assert!(f.ends_with("jobportal=info,tantivy=info"), "{f}");
        let parsed = tracing_subscriber::EnvFilter::builder().parse(&f);
        assert!(parsed.is_ok(), "{f}");
    }
}
