//! One file per task kind. Each task is idempotent: running it twice does no harm.

pub mod prune;
pub mod send_email;
