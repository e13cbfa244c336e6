//! Business logic. Services validate input into domain types, enforce the rules (who may do
//! what lives in [`policy`]) and call `repositories/`; they know neither HTTP nor SurrealDB.
//!
//! Background work is defined here too: each task (a `crate::queue::Task`) lives beside the
//! service that enqueues or owns it (`email::SendEmail`, `import::task::ImportJobs`,
//! `alerts::JobAlerts`, `housekeeping::Prune`, `jobs::expiry::CloseExpiredJobs`,
//! `backups::ScheduledBackup`) and runs with
//! a [`TaskContext`]; `workers` only claims and runs them.

pub mod admin;
pub mod alerts;
pub mod applications;
pub mod assistant;
pub mod audit;
pub mod auth;
pub mod backups;
pub mod companies;
pub mod email;
pub mod embeddings;
pub mod error;
pub mod health;
pub mod housekeeping;
pub mod import;
pub mod jobs;
pub mod login_limits;
pub mod policy;
pub mod pool;
pub mod races;
pub mod recommendations;
pub mod resume_parser;
pub mod resumes;
pub mod saved;
pub mod search;
pub mod suggestions;
pub mod users;
pub mod writing;

use std::sync::Arc;

use crate::core::config::{AuthConfig, WorkerConfig};
use crate::core::metrics::Metrics;
use crate::core::security::TokenKeys;
use crate::db::Database;
use crate::models::user::Role;

pub use error::ServiceError;

/// What the services need: the database, the token keys and the settings they apply.
#[derive(Clone, Debug)]
pub struct Context {
    pub db: Database,
    pub keys: TokenKeys,
    pub auth: AuthConfig,
    /// Base of the links in emails, without a trailing slash.
    pub public_url: String,
    /// Base of the links to account pages (verification, reset, invitation) when a front end of
    /// the site's own serves them; `None`: the built-in pages under `public_url`.
    pub app_url: Option<String>,
    /// The full-text index of public jobs.
    pub jobs_index: Arc<crate::repositories::job_index::JobIndex>,
    /// The local models and the vector collections built from them.
    pub ai: Arc<crate::ai::Ai>,
    /// Jobs as search pages list them, remembered by version.
    pub listings: Arc<search::Listings>,
    /// The rankings of recent semantic and hybrid searches.
    pub rankings: Arc<search::Rankings>,
    /// Reads uploaded documents in child processes.
    pub documents: Arc<resume_parser::isolated::DocumentReader>,
    /// The prompt templates, loaded and checked at start.
    pub prompts: Arc<crate::ai::prompts::Prompts>,
    /// What the assistant accepts (the longest message).
    pub assistant: crate::core::config::AssistantConfig,
    /// The in-memory copy of the public jobs that typeahead, did-you-mean and salary insights
    /// answer from.
    pub suggestions: Arc<suggestions::Suggestions>,
}

impl Context {
    /// The link an email carries to the account page at `path` (`verify-email`,
    /// `reset-password`, `accept-invite`) with its token.
    pub fn page_link(&self, path: &str, token: &str) -> String {
        format!("{}?token={token}", self.page_url(path))
    }

    /// The address of an account page (e.g. `forgot-password`): on the site's own front end
    /// when it has one, else the built-in page.
    pub fn page_url(&self, path: &str) -> String {
        let base = self.app_url.as_deref().unwrap_or(&self.public_url);
        format!("{base}/{path}")
    }
}

/// What a background task runs with: the services context, and what only the process running
/// the workers owns (the mailer, the metrics, the workers' settings).
pub struct TaskContext {
    pub services: Context,
    pub mailer: email::Mailer,
    pub metrics: Arc<Metrics>,
    pub config: WorkerConfig,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Where a request came from, for sessions and the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}
