//! Queries on `email`, the outbox.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{RepoError, key_string, new_key};
use crate::db::Executor;
use crate::models::email::{OutgoingEmail, QueuedEmail};

/// Queues an email; call it in the same transaction as what the email announces.
pub async fn queue(ex: &impl Executor, email: &OutgoingEmail) -> Result<String, RepoError> {
    let id = new_key();
    ex.query(
        "CREATE type::record('email', $id) SET to = $to, template = $template, subject = $subject, \
         text = $text, html = $html, message_id = $message_id RETURN NONE",
    )
    .bind(("id", id.clone()))
    .bind(("to", email.to.clone()))
    .bind(("template", email.template.clone()))
    .bind(("subject", email.subject.clone()))
    .bind(("text", email.text.clone()))
    .bind(("html", email.html.clone()))
    .bind(("message_id", email.message_id.clone()))
    .await?
    .check()?;
    Ok(id)
}

#[derive(Debug, SurrealValue)]
struct EmailRow {
    id: RecordId,
    to: String,
    template: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    status: String,
    created_at: DateTime<Utc>,
    sent_at: Option<DateTime<Utc>>,
}

impl From<EmailRow> for QueuedEmail {
    fn from(r: EmailRow) -> Self {
        QueuedEmail {
            id: key_string(&r.id),
            to: r.to,
            template: r.template,
            subject: r.subject,
            text: r.text,
            html: r.html,
            message_id: r.message_id,
            status: r.status,
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

/// Every email to an address, oldest first.
pub async fn list_to(ex: &impl Executor, to: &str) -> Result<Vec<QueuedEmail>, RepoError> {
    let mut response = ex
        .query("SELECT * FROM email WHERE to = $to ORDER BY created_at, id")
        .bind(("to", to.to_owned()))
        .await?;
    let rows: Vec<EmailRow> = response.take(0)?;
    Ok(rows.into_iter().map(QueuedEmail::from).collect())
}

/// Removes every email to an address (account deletion).
pub async fn delete_to(ex: &impl Executor, to: &str) -> Result<(), RepoError> {
    ex.query("DELETE email WHERE to = $to").bind(("to", to.to_owned())).await?.check()?;
    Ok(())
}
