//! `/api/v1/saved-jobs` (bookmarks) and `/api/v1/saved-searches` (job alerts).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{CurrentUser, Json, Path, Query};
use crate::api::html::{self, Page};
use crate::api::routes::Routes;
use crate::schemas::error::ErrorBody;
use crate::schemas::job::JobSummaryBody;
use crate::schemas::saved::{
    CreateSavedSearchRequest, SavedJobBody, SavedJobListBody, SavedSearchBody, SavedSearchListBody,
    UnsubscribeQuery, UnsubscribedBody, UpdateSavedSearchRequest,
};
use crate::services::saved;

pub fn jobs_router() -> Routes {
    Routes::new()
        .route("/", get(list_saved_jobs))
        .route("/{job_id}", put(save_job).delete(unsave_job))
}

pub fn searches_router() -> Routes {
    Routes::new()
        .route("/", get(list_searches).post(create_search))
        .route("/unsubscribe", post(unsubscribe).get(confirm_unsubscribe))
        .route("/{id}", get(get_search).patch(update_search).delete(delete_search))
}

/// Bookmarks a public job (saving it again changes nothing).
#[utoipa::path(put, path = "/api/v1/saved-jobs/{job_id}", tag = "saved", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 201, description = "Saved"),
        (status = 204, description = "Already saved"),
        (status = 404, description = "`not_found`: no such public job", body = ErrorBody),
    ))]
pub async fn save_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(job_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let created = saved::save_job(&state.ctx, &principal, &job_id).await?;
    Ok(if created { StatusCode::CREATED } else { StatusCode::NO_CONTENT })
}

/// Removes a bookmark (removing one that is not there changes nothing).
#[utoipa::path(delete, path = "/api/v1/saved-jobs/{job_id}", tag = "saved", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "Job id")),
    responses((status = 204, description = "Not saved any more")))]
pub async fn unsave_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(job_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    saved::unsave_job(&state.ctx, &principal, &job_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's bookmarks, newest first; closed jobs stay, marked unavailable.
#[utoipa::path(get, path = "/api/v1/saved-jobs", tag = "saved", security(("bearer" = [])),
    responses((status = 200, description = "The bookmarks", body = SavedJobListBody)))]
pub async fn list_saved_jobs(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<SavedJobListBody>, ApiError> {
    let items = saved::saved_jobs(&state.ctx, &principal).await?;
    Ok(Json(SavedJobListBody {
        items: items
            .iter()
            .map(|v| SavedJobBody {
                job_id: v.saved.job_id.clone(),
                saved_at: v.saved.created_at,
                available: v.public,
                job: v.job.as_ref().filter(|_| v.public).map(|(j, c)| JobSummaryBody::new(j, c)),
            })
            .collect(),
    }))
}

/// Saves a search (the filters of `GET /api/v1/jobs`) with a digest frequency.
#[utoipa::path(post, path = "/api/v1/saved-searches", tag = "saved", security(("bearer" = [])),
    request_body = CreateSavedSearchRequest,
    responses(
        (status = 201, description = "Saved, with the number of jobs it matches now", body = SavedSearchBody),
        (status = 422, description = "`validation_failed`: an unknown filter value or frequency", body = ErrorBody),
    ))]
pub async fn create_search(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Json(req): Json<CreateSavedSearchRequest>,
) -> Result<(StatusCode, Json<SavedSearchBody>), ApiError> {
    let (search, matches) =
        saved::create_search(&state.ctx, &principal, &req.name, req.filters, &req.frequency)
            .await?;
    Ok((StatusCode::CREATED, Json(SavedSearchBody::new(&search, Some(matches)))))
}

#[utoipa::path(get, path = "/api/v1/saved-searches", tag = "saved", security(("bearer" = [])),
    responses((status = 200, description = "The caller's saved searches", body = SavedSearchListBody)))]
pub async fn list_searches(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<SavedSearchListBody>, ApiError> {
    let items = saved::list_searches(&state.ctx, &principal).await?;
    Ok(Json(SavedSearchListBody {
        items: items.iter().map(|s| SavedSearchBody::new(s, None)).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/saved-searches/{id}", tag = "saved", security(("bearer" = [])),
    params(("id" = String, Path, description = "Saved search id")),
    responses(
        (status = 200, description = "The saved search", body = SavedSearchBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_search(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<SavedSearchBody>, ApiError> {
    Ok(Json(SavedSearchBody::new(&saved::get_search(&state.ctx, &principal, &id).await?, None)))
}

#[utoipa::path(patch, path = "/api/v1/saved-searches/{id}", tag = "saved", security(("bearer" = [])),
    params(("id" = String, Path, description = "Saved search id")), request_body = UpdateSavedSearchRequest,
    responses(
        (status = 200, description = "Updated", body = SavedSearchBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    ))]
pub async fn update_search(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<UpdateSavedSearchRequest>,
) -> Result<Json<SavedSearchBody>, ApiError> {
    let search = saved::update_search(
        &state.ctx,
        &principal,
        &id,
        req.name.as_deref(),
        req.filters,
        req.frequency.as_deref(),
        req.active,
    )
    .await?;
    Ok(Json(SavedSearchBody::new(&search, None)))
}

#[utoipa::path(delete, path = "/api/v1/saved-searches/{id}", tag = "saved", security(("bearer" = [])),
    params(("id" = String, Path, description = "Saved search id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn delete_search(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    saved::delete_search(&state.ctx, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The page the link in a digest opens: it asks before turning anything off (mail scanners
/// and link previews follow GET links; only the POST acts).
#[utoipa::path(get, path = "/api/v1/saved-searches/unsubscribe", tag = "saved",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "A page with a button that unsubscribes", content_type = "text/html"),
        (status = 400, description = "`invalid_token`", body = ErrorBody),
    ))]
pub async fn confirm_unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Page, ApiError> {
    let search = saved::find_by_token(&state.ctx, &query.token).await?;
    let name = html::escape(&search.name);
    let body = if search.active {
        let action = format!("/api/v1/saved-searches/unsubscribe?token={}", query.token);
        html::form(
            &action,
            &[],
            &format!("<p>Stop the job alerts of your saved search <strong>{name}</strong>?</p>"),
            "Unsubscribe",
        )
    } else {
        format!("<p>The job alerts of <strong>{name}</strong> are off.</p>")
    };
    Ok(Page::new(StatusCode::OK, "Job alerts", body))
}

/// Turns off a saved search's alerts with the token from its email, without signing in (the
/// one-click POST of RFC 8058, which the digest's `List-Unsubscribe-Post` header announces).
#[utoipa::path(post, path = "/api/v1/saved-searches/unsubscribe", tag = "saved",
    params(UnsubscribeQuery),
    responses(
        (status = 200, description = "Alerts off", body = UnsubscribedBody),
        (status = 400, description = "`invalid_token`", body = ErrorBody),
    ))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<UnsubscribeQuery>,
) -> Result<Json<UnsubscribedBody>, ApiError> {
    let search = saved::unsubscribe(&state.ctx, &query.token).await?;
    Ok(Json(UnsubscribedBody { name: search.name, active: search.active }))
}
