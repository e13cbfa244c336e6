//! Writing to the audit log. Entries hold ids, never emails or names.

use serde_json::Value;

use super::{RequestMeta, ServiceError};
use crate::db::Executor;
use crate::models::audit::{AuditAction, NewAuditEntry};
use crate::repositories;

/// Appends an entry, in the caller's transaction when `ex` is one.
pub async fn record(
    ex: &impl Executor,
    actor: Option<&str>,
    action: AuditAction,
    target: Option<&str>,
    meta: &RequestMeta,
    details: Value,
) -> Result<(), ServiceError> {
    let entry = NewAuditEntry {
        actor: actor.map(str::to_owned),
        action,
        target: target.map(str::to_owned),
        ip: meta.ip.clone(),
        details: if details.is_null() { Value::Object(Default::default()) } else { details },
    };
    repositories::audit::insert(ex, &entry).await?;
    Ok(())
}
