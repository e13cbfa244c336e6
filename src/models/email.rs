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
    /// Extra headers, e.g. `List-Unsubscribe`.
    pub headers: Vec<(String, String)>,
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
    pub headers: Vec<(String, String)>,
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}
