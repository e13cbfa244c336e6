//! Configuration: one place where what the user typed becomes resolved values.
//!
//! Every setting has a flag and a `JOBPORTAL_*` environment variable; precedence is the flag,
//! then the environment, then `.env` (loaded into the environment before parsing, never
//! overriding it), then the default. clap collects the raw text and this module parses it, so an invalid value fails at
//! start with one line that names both the variable and the flag, whichever the value came from.
//! The doc comments on the option structs are the `--help` text; `.env.example` lists the same
//! variables.

mod args;
mod chat;
pub mod env;
mod error;
mod global;
mod parse;
mod secret;
mod serve;
mod worker;

pub use args::{ChatOpts, GlobalOpts, ServeOpts, WorkerOpts};
pub use chat::{
    ChatBackend, ChatDefaults, ChatProvider, ChatSettings, HostedChat, parse_temperature,
    parse_top_p,
};
pub use error::ConfigError;
pub use global::{Config, DbConfig, DbMemory, LogConfig, LogFormat};
pub use parse::{is_identifier, parse_cron, parse_duration, parse_public_url, parse_size};
pub use secret::Secret;
pub use serve::{
    AssistantConfig, AuthConfig, CorsOrigins, DocumentsConfig, Rate, RateLimitConfig, ServeConfig,
    parse_rate,
};
pub use worker::{BackupConfig, EmailBackendConfig, EmailConfig, ScheduleConfig, WorkerConfig};
