//! `/api/v1/admin`: user moderation, company verification and the audit log (admins only).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorCode};
use crate::api::extract::{ClientMeta, CurrentUser, Json, Path, Query};
use crate::models::task::TaskStatus;
use crate::models::user::Role;
use crate::repositories::audit::AuditFilter;
use crate::repositories::users::UserFilter;
use crate::schemas::admin::{
    AuditEntryBody, AuditQuery, PageBody, TaskBody, TaskQuery, UserListQuery,
};
use crate::schemas::company::CompanyBody;
use crate::schemas::error::ErrorBody;
use crate::schemas::user::UserBody;
use crate::services::admin::{self, Page};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/companies/{slug}/verify", post(verify_company))
        .route("/companies/{slug}/unverify", post(unverify_company))
        .route("/audit-log", get(audit_log))
        .route("/tasks", get(list_tasks))
        .route("/tasks/{id}/retry", post(retry_task))
        .route("/tasks/{id}", delete(discard_task))
}

/// `limit` 1–100 (default 50) and `offset`.
fn page_params(limit: Option<u32>, offset: Option<u32>) -> Result<(u32, u32), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be between 1 and 100"));
    }
    Ok((limit, offset.unwrap_or(0)))
}

fn page_body<T, B: From<T>>(page: Page<T>) -> PageBody<B> {
    PageBody {
        items: page.items.into_iter().map(B::from).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }
}

/// Users, newest first, filtered by role, disabled state and text.
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "admin", security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, description = "A page of users", body = PageBody<UserBody>),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    ))]
pub async fn list_users(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<UserListQuery>,
) -> Result<Json<PageBody<UserBody>>, ApiError> {
    let (limit, offset) = page_params(query.limit, query.offset)?;
    let role = query
        .role
        .as_deref()
        .map(str::parse::<Role>)
        .transpose()
        .map_err(|e| ApiError::new(ErrorCode::InvalidParameter, e.to_string()))?;
    let text = query.q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    let filter = UserFilter { role, disabled: query.disabled, text };
    let page = admin::list_users(&state.ctx, &principal, &filter, limit, offset).await?;
    Ok(Json(page_body(page)))
}

/// Disables an account: its sessions end at once and it cannot sign in.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/disable", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Disabled", body = UserBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: admins cannot disable themselves", body = ErrorBody),
    ))]
pub async fn disable_user(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<UserBody>, ApiError> {
    Ok(Json(admin::set_disabled(&state.ctx, &principal, &id, true, &meta).await?.into()))
}

/// Enables a disabled account.
#[utoipa::path(post, path = "/api/v1/admin/users/{id}/enable", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Enabled", body = UserBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn enable_user(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<UserBody>, ApiError> {
    Ok(Json(admin::set_disabled(&state.ctx, &principal, &id, false, &meta).await?.into()))
}

/// Marks a company as verified by the portal.
#[utoipa::path(post, path = "/api/v1/admin/companies/{slug}/verify", tag = "admin", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    responses(
        (status = 200, description = "Verified", body = CompanyBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn verify_company(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(slug): Path<String>,
) -> Result<Json<CompanyBody>, ApiError> {
    Ok(Json(admin::set_company_verified(&state.ctx, &principal, &slug, true, &meta).await?.into()))
}

/// Withdraws a company's verification.
#[utoipa::path(post, path = "/api/v1/admin/companies/{slug}/unverify", tag = "admin", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    responses(
        (status = 200, description = "No longer verified", body = CompanyBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn unverify_company(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(slug): Path<String>,
) -> Result<Json<CompanyBody>, ApiError> {
    Ok(Json(admin::set_company_verified(&state.ctx, &principal, &slug, false, &meta).await?.into()))
}

/// The audit log, newest first, filtered by actor, action, target and time.
#[utoipa::path(get, path = "/api/v1/admin/audit-log", tag = "admin", security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = PageBody<AuditEntryBody>),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 422, description = "`validation_failed`: unknown action", body = ErrorBody),
    ))]
pub async fn audit_log(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<AuditQuery>,
) -> Result<Json<PageBody<AuditEntryBody>>, ApiError> {
    let (limit, offset) = page_params(query.limit, query.offset)?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target: query.target,
        since: query.since,
        until: query.until,
    };
    let page = admin::audit_log(&state.ctx, &principal, &filter, limit, offset).await?;
    Ok(Json(page_body(page)))
}

/// Background tasks, newest first, by status and kind.
#[utoipa::path(get, path = "/api/v1/admin/tasks", tag = "admin", security(("bearer" = [])),
    params(TaskQuery),
    responses(
        (status = 200, description = "A page of tasks", body = PageBody<TaskBody>),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    ))]
pub async fn list_tasks(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<TaskQuery>,
) -> Result<Json<PageBody<TaskBody>>, ApiError> {
    let (limit, offset) = page_params(query.limit, query.offset)?;
    let status = query
        .status
        .as_deref()
        .map(|s| {
            TaskStatus::parse(s).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("unknown status {s:?}; expected queued, running, done, failed or dead"),
                )
            })
        })
        .transpose()?;
    let page =
        admin::list_tasks(&state.ctx, &principal, status, query.kind.as_deref(), limit, offset)
            .await?;
    Ok(Json(page_body(page)))
}

/// Puts a dead or failed task back in the queue with fresh attempts.
#[utoipa::path(post, path = "/api/v1/admin/tasks/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, description = "Queued again", body = TaskBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: the task is not dead or failed", body = ErrorBody),
    ))]
pub async fn retry_task(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TaskBody>, ApiError> {
    Ok(Json(admin::retry_task(&state.ctx, &principal, &id).await?.into()))
}

/// Deletes a dead task.
#[utoipa::path(delete, path = "/api/v1/admin/tasks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 204, description = "Discarded"),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: only dead tasks are discarded", body = ErrorBody),
    ))]
pub async fn discard_task(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin::discard_task(&state.ctx, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
