//! Emails in the outbox.

use chrono::{DateTime, Utc};

/// A rendered email about to be queued.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub to: String,
    /// Which template made it (`verify_email`, `reset_password`, …).
    pub template: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Stable across retries, so a resend after a crash is recognisably the same message.
    pub message_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct QueuedEmail {
    pub id: String,
    pub to: String,
    pub template: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
