//! One file per task kind. Each task is idempotent: running it twice does no harm.

pub mod close_expired_jobs;
pub mod import_jobs;
pub mod job_alerts;
pub mod prune;
pub mod send_email;
