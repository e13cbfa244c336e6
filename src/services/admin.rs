//! What admins do: look at users, disable and enable them, verify companies, read the audit log,
//! look after the task queue, and import files of jobs (as [`ImportJobs`] tasks).

use serde_json::json;

use super::import::task::ImportJobs;
use super::{Context, Principal, RequestMeta, ServiceError, audit, policy};
use crate::models::audit::AuditFilter;
use crate::models::audit::{AuditAction, AuditEntry};
use crate::models::company::Company;
use crate::models::task::{TaskRecord, TaskStatus};
use crate::models::user::User;
use crate::models::user::UserFilter;
use crate::queue;
use crate::repositories;
use crate::utils::validators::is_record_id;

/// A page of a longer list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

pub async fn list_users(
    ctx: &Context,
    principal: &Principal,
    filter: &UserFilter,
    limit: u32,
    offset: u32,
) -> Result<Page<User>, ServiceError> {
    policy::require_admin(principal)?;
    let (items, total) = repositories::users::list(&ctx.db, filter, limit, offset).await?;
    Ok(Page { items, total, limit, offset })
}

/// Disables (ending every session at once) or enables an account.
pub async fn set_disabled(
    ctx: &Context,
    principal: &Principal,
    user_id: &str,
    disabled: bool,
    meta: &RequestMeta,
) -> Result<User, ServiceError> {
    policy::require_admin(principal)?;
    if disabled && user_id == principal.user_id {
        return Err(ServiceError::validation("admins cannot disable themselves"));
    }
    if !is_record_id(user_id) {
        return Err(ServiceError::NotFound("user"));
    }
    let tx = ctx.db.begin().await?;
    let user = repositories::users::set_disabled(&tx, user_id, disabled)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let mut ended = 0;
    if disabled {
        ended = repositories::sessions::revoke_all_for_user(&tx, user_id, "disabled").await?;
    }
    let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
    audit::record(
        &tx,
        Some(&principal.user_id),
        action,
        Some(user_id),
        meta,
        json!({ "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Marks a company verified (or not).
pub async fn set_company_verified(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    verified: bool,
    meta: &RequestMeta,
) -> Result<Company, ServiceError> {
    policy::require_admin(principal)?;
    let company = repositories::companies::find_by_slug(&ctx.db, slug)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    let tx = ctx.db.begin().await?;
    let company = repositories::companies::set_verified(&tx, &company.id, verified)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    let action =
        if verified { AuditAction::CompanyVerified } else { AuditAction::CompanyUnverified };
    audit::record(
        &tx,
        Some(&principal.user_id),
        action,
        Some(&company.id),
        meta,
        json!({ "slug": company.slug }),
    )
    .await?;
    tx.commit().await?;
    // Search pages show whether a job's company is verified.
    ctx.listings.forget_all();
    Ok(company)
}

pub async fn audit_log(
    ctx: &Context,
    principal: &Principal,
    filter: &AuditFilter,
    limit: u32,
    offset: u32,
) -> Result<Page<AuditEntry>, ServiceError> {
    policy::require_admin(principal)?;
    if let Some(action) = filter.action.as_deref()
        && AuditAction::parse(action).is_none()
    {
        let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        return Err(ServiceError::validation(format!(
            "unknown action {action:?}; known: {}",
            known.join(", ")
        )));
    }
    let (items, total) = repositories::audit::list(&ctx.db, filter, limit, offset).await?;
    Ok(Page { items, total, limit, offset })
}

pub async fn list_tasks(
    ctx: &Context,
    principal: &Principal,
    status: Option<TaskStatus>,
    kind: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<Page<TaskRecord>, ServiceError> {
    policy::require_admin(principal)?;
    let (items, total) = repositories::tasks::list(&ctx.db, status, kind, limit, offset).await?;
    Ok(Page { items, total, limit, offset })
}

/// Puts a dead or failed task back in the queue with fresh attempts.
pub async fn retry_task(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<TaskRecord, ServiceError> {
    policy::require_admin(principal)?;
    let task =
        repositories::tasks::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("task"))?;
    repositories::tasks::retry(&ctx.db, id).await?.ok_or_else(|| {
        ServiceError::conflict(
            super::error::ConflictKind::Concurrent,
            format!("only dead or failed tasks are retried; this one is {}", task.status.as_str()),
        )
    })
}

/// Deletes a dead task.
pub async fn discard_task(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    policy::require_admin(principal)?;
    let task =
        repositories::tasks::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("task"))?;
    if !repositories::tasks::discard(&ctx.db, id).await? {
        return Err(ServiceError::conflict(
            super::error::ConflictKind::Concurrent,
            format!("only dead tasks are discarded; this one is {}", task.status.as_str()),
        ));
    }
    Ok(())
}

pub async fn get_task(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<TaskRecord, ServiceError> {
    policy::require_admin(principal)?;
    repositories::tasks::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("task"))
}

/// Enqueues the import of an uploaded file; returns the task id.
pub async fn enqueue_import(
    ctx: &Context,
    principal: &Principal,
    task: &ImportJobs,
) -> Result<String, ServiceError> {
    policy::require_admin(principal)?;
    queue::enqueue(&ctx.db, task).await?.ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!(
            "an import task without a dedup key was deduplicated"
        ))
    })
}
