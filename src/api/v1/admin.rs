//! `/api/v1/admin`: user moderation, company verification and the audit log (admins only).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorCode};
use crate::api::extract::{ClientMeta, CurrentUser, Json, Path, Query};
use crate::api::routes::Routes;
use crate::models::audit::AuditFilter;
use crate::models::task::TaskStatus;
use crate::models::user::Role;
use crate::models::user::UserFilter;
use crate::schemas::admin::{
    AuditEntryBody, AuditQuery, PageBody, TaskBody, TaskQuery, UserListQuery,
};
use crate::schemas::company::CompanyBody;
use crate::schemas::error::ErrorBody;
use crate::schemas::user::UserBody;
use crate::services::admin::{self, Page};
use crate::services::import::formats::{Format, UnknownFormat};

pub fn router() -> Routes {
    Routes::new()
        .route("/users", get(list_users))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/companies/{slug}/verify", post(verify_company))
        .route("/companies/{slug}/unverify", post(unverify_company))
        .route("/audit-log", get(audit_log))
        .route("/tasks", get(list_tasks))
        .route("/tasks/{id}", get(get_task).delete(discard_task))
        .route(
            "/jobs/import",
            post(import_jobs).layer(axum::extract::DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/jobs/pending", get(pending_jobs))
        .route("/jobs/{id}/approve", post(approve_job))
        .route("/jobs/{id}/reject", post(reject_job))
        .route("/tasks/{id}/retry", post(retry_task))
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

/// Jobs of unverified companies waiting for approval, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/jobs/pending", tag = "admin", security(("bearer" = [])),
    params(crate::schemas::job::CompanyJobsQuery),
    responses(
        (status = 200, description = "A page of jobs waiting for review", body = crate::schemas::job::JobPageBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    ))]
pub async fn pending_jobs(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<crate::schemas::job::CompanyJobsQuery>,
) -> Result<Json<crate::schemas::job::JobPageBody>, ApiError> {
    let (limit, offset) = page_params(query.limit, query.offset)?;
    let (jobs, total) =
        crate::services::jobs::pending_review(&state.ctx, &principal, limit, offset).await?;
    let mut items = Vec::with_capacity(jobs.len());
    for job in jobs {
        let (job, company) =
            crate::services::jobs::get(&state.ctx, Some(&principal), &job.id).await?;
        items.push(crate::schemas::job::JobBody::new(&job, &company, true));
    }
    Ok(Json(crate::schemas::job::JobPageBody { items, total, limit, offset }))
}

async fn review_job(
    state: AppState,
    principal: crate::services::Principal,
    meta: crate::services::RequestMeta,
    id: String,
    verdict: crate::models::job::Review,
) -> Result<Json<crate::schemas::job::JobBody>, ApiError> {
    let job = crate::services::jobs::review(&state.ctx, &principal, &id, verdict, &meta).await?;
    let (job, company) = crate::services::jobs::get(&state.ctx, Some(&principal), &job.id).await?;
    Ok(Json(crate::schemas::job::JobBody::new(&job, &company, true)))
}

/// Approves a job: if published, it becomes public.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/approve", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Approved", body = crate::schemas::job::JobBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    ))]
pub async fn approve_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<crate::schemas::job::JobBody>, ApiError> {
    review_job(state, principal, meta, id, crate::models::job::Review::Approved).await
}

/// Rejects a job: it stays out of search until published again and approved.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/reject", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Rejected", body = crate::schemas::job::JobBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
    ))]
pub async fn reject_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<crate::schemas::job::JobBody>, ApiError> {
    review_job(state, principal, meta, id, crate::models::job::Review::Rejected).await
}

/// The largest upload `POST /admin/jobs/import` takes.
pub const IMPORT_LIMIT: usize = 512 * 1024 * 1024;

/// Query parameters of an import upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// json, jsonl or csv [default: from the content type, else jsonl]
    pub format: Option<String>,
    /// The source of records that do not name one [default: import]
    pub source: Option<String>,
}

/// Uploads a file of jobs (the body: JSON, JSON Lines, CSV or JobPosting JSON-LD) to import in
/// the background. Poll the task for its summary.
#[utoipa::path(post, path = "/api/v1/admin/jobs/import", tag = "admin", security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = String, description = "The file", content_type = "application/x-ndjson"),
    responses(
        (status = 202, description = "Accepted: the task that imports it", body = crate::schemas::admin::AcceptedTaskBody),
        (status = 403, description = "`forbidden`: admins only", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
    ))]
pub async fn import_jobs(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<ImportQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<crate::schemas::admin::AcceptedTaskBody>), ApiError> {
    crate::services::policy::require_admin(&principal)?;
    let content_type =
        headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match query.format.as_deref().map(str::parse::<Format>) {
        Some(Ok(format)) => format,
        Some(Err(UnknownFormat(other))) => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                format!("format {other:?} is not one of json, jsonl, csv"),
            ));
        }
        None => Format::from_content_type(content_type),
    };
    let dir = state.config.data_dir.join("imports");
    let path = dir.join(format!("{}.{format}", uuid::Uuid::now_v7()));
    store_upload(body, &dir, &path).await?;
    let task = crate::services::import::task::ImportJobs {
        path: path.display().to_string(),
        format,
        source: query.source.unwrap_or_else(|| "import".into()),
    };
    let id = match crate::services::admin::enqueue_import(&state.ctx, &principal, &task).await {
        Ok(id) => id,
        Err(err) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(err.into());
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(crate::schemas::admin::AcceptedTaskBody {
            status_url: format!("/api/v1/admin/tasks/{id}"),
            task_id: id,
        }),
    ))
}

/// Streams a request body to a file (never all in memory): first to a `.part` name, then, once
/// it is complete and on disk, renamed into place and the directory synced, so a file that
/// exists under its final name is whole and survives a power cut once the 202 is sent.
async fn store_upload(
    body: axum::body::Body,
    dir: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), ApiError> {
    let partial = path.with_extension("part");
    let result = write_upload(body, dir, &partial, path).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&partial).await;
    }
    result
}

async fn write_upload(
    body: axum::body::Body,
    dir: &std::path::Path,
    partial: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), ApiError> {
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    tokio::fs::create_dir_all(dir).await.map_err(ApiError::internal)?;
    let mut file = tokio::fs::File::create(partial).await.map_err(ApiError::internal)?;
    let mut stream =
        http_body_util::BodyExt::into_data_stream(http_body_util::Limited::new(body, IMPORT_LIMIT));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|err| {
            if err.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                ApiError::new(ErrorCode::PayloadTooLarge, "the upload is larger than the limit")
            } else {
                ApiError::new(ErrorCode::InvalidParameter, format!("the upload broke off: {err}"))
            }
        })?;
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    drop(file);
    tokio::fs::rename(partial, path).await.map_err(ApiError::internal)?;
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(())
}

/// One task, with its result when it has one (an import's summary).
#[utoipa::path(get, path = "/api/v1/admin/tasks/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Task id")),
    responses(
        (status = 200, description = "The task", body = TaskBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_task(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TaskBody>, ApiError> {
    Ok(Json(admin::get_task(&state.ctx, &principal, &id).await?.into()))
}
