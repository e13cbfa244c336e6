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
         text = $text, html = $html, message_id = $message_id, headers = $headers RETURN NONE",
    )
    .bind(("id", id.clone()))
    .bind(("to", email.to.clone()))
    .bind(("template", email.template.clone()))
    .bind(("subject", email.subject.clone()))
    .bind(("text", email.text.clone()))
    .bind(("html", email.html.clone()))
    .bind(("message_id", email.message_id.clone()))
    .bind(("headers", headers_object(&email.headers)))
    .await?
    .check()?;
    Ok(id)
}

fn headers_object(headers: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
    )
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
    headers: Option<serde_json::Value>,
    status: String,
    attempts: Option<i64>,
    last_error: Option<String>,
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
            headers: r
                .headers
                .and_then(|h| h.as_object().cloned())
                .map(|h| {
                    h.into_iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k, v.to_owned())))
                        .collect()
                })
                .unwrap_or_default(),
            status: r.status,
            attempts: r.attempts.and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
            last_error: r.last_error,
            created_at: r.created_at,
            sent_at: r.sent_at,
        }
    }
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<QueuedEmail>, RepoError> {
    let mut response = ex
        .query("SELECT * FROM ONLY type::record('email', $id)")
        .bind(("id", id.to_owned()))
        .await?;
    let row: Option<EmailRow> = response.take(0)?;
    Ok(row.map(QueuedEmail::from))
}

/// Marks an email accepted by the mail server.
pub async fn mark_sent(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query(
        "UPDATE type::record('email', $id) SET status = 'sent', sent_at = time::now(), \
         attempts += 1, last_error = NONE RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Records a failed delivery attempt; `give_up` marks the email failed for good.
pub async fn record_failure(
    ex: &impl Executor,
    id: &str,
    error: &str,
    give_up: bool,
) -> Result<(), RepoError> {
    ex.query(
        "UPDATE type::record('email', $id) SET attempts += 1, last_error = $error, \
         status = IF $give_up { 'failed' } ELSE { status } RETURN NONE",
    )
    .bind(("id", id.to_owned()))
    .bind(("error", error.chars().take(2000).collect::<String>()))
    .bind(("give_up", give_up))
    .await?
    .check()?;
    Ok(())
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
