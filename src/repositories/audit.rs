//! Queries on `audit_log`: append and read, nothing else (the table refuses updates and deletes).

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, new_key};
use crate::db::Executor;
use crate::models::audit::{AuditEntry, AuditFilter, NewAuditEntry};

pub async fn insert(ex: &impl Executor, entry: &NewAuditEntry) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('audit_log', $id) SET actor = $actor, action = $action, \
         target = $target, ip = $ip, details = $details RETURN NONE",
    )
    .bind(("id", new_key()))
    .bind(("actor", entry.actor.clone()))
    .bind(("action", entry.action.as_str()))
    .bind(("target", entry.target.clone()))
    .bind(("ip", entry.ip.clone()))
    .bind(("details", entry.details.clone()))
    .await?
    .check()?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct AuditRow {
    id: RecordId,
    at: DateTime<Utc>,
    actor: Option<String>,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    details: Option<serde_json::Value>,
}

/// A page of entries, newest first, and how many match in all.
pub async fn list(
    ex: &impl Executor,
    filter: &AuditFilter,
    limit: u32,
    offset: u32,
) -> Result<(Vec<AuditEntry>, u64), RepoError> {
    let condition = "($actor = NONE OR actor = $actor) AND ($action = NONE OR action = $action) \
                     AND ($target = NONE OR target = $target) AND ($since = NONE OR at >= $since) \
                     AND ($until = NONE OR at < $until)";
    let sql = format!(
        "SELECT * FROM audit_log WHERE {condition} ORDER BY at DESC, id DESC LIMIT $limit START $offset; \
         SELECT count() AS count FROM audit_log WHERE {condition} GROUP ALL;"
    );
    let mut response = ex
        .query(sql)
        .bind(("actor", filter.actor.clone()))
        .bind(("action", filter.action.clone()))
        .bind(("target", filter.target.clone()))
        .bind(("since", filter.since))
        .bind(("until", filter.until))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let rows: Vec<AuditRow> = response.take(0)?;
    let count: Option<Count> = response.take(1)?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: key_string(&r.id),
            at: r.at,
            actor: r.actor,
            action: r.action,
            target: r.target,
            ip: r.ip,
            details: r.details.unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok((entries, count.map_or(0, |c| c.count)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::DbConfig;
    use crate::db::Database;
    use crate::db::migrations::Migrator;
    use crate::models::audit::AuditAction;

    #[tokio::test]
    async fn the_audit_log_refuses_updates_and_deletes_even_from_the_root_session() {
        let db = Database::connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db).apply(|_| {}).await.unwrap();
        let entry = NewAuditEntry {
            actor: Some("u1".into()),
            action: AuditAction::LoginSucceeded,
            target: Some("u1".into()),
            ip: None,
            details: serde_json::json!({}),
        };
        insert(&db, &entry).await.unwrap();
        for sql in ["UPDATE audit_log SET action = 'forged'", "DELETE audit_log"] {
            let result = db.handle().query(sql).await.unwrap().check();
            let err = result.expect_err(sql);
            assert!(err.message().contains("append-only"), "{sql}: {}", err.message());
        }
        let (entries, total) = list(&db, &AuditFilter::default(), 10, 0).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!(entries[0].action, "auth.login_succeeded");
    }
}
