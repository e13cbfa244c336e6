//! `/api/v1/jobs`: public search and job pages, and the employer's side (create, edit,
//! publish, close, archive).

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{ClientMeta, CurrentUser, Json, MaybeUser, Path, Query};
use crate::api::routes::Routes;
use crate::models::job::JobStatus;
use crate::schemas::error::ErrorBody;
use crate::schemas::job::{
    DidYouMeanBody, JobBody, JobRequest, SearchBody, SearchPageBody, SearchQuery, job_posting,
    list_param, write_summaries,
};
use crate::services::jobs;
use crate::services::search::{self, SearchParams};
use crate::services::suggestions;

pub fn router() -> Routes {
    Routes::new()
        .route("/", get(search_jobs).post(create))
        .route("/{id}", get(get_job).patch(update))
        .route("/{id}/jsonld", get(jsonld))
        .route("/{id}/publish", post(publish))
        .route("/{id}/close", post(close))
        .route("/{id}/archive", post(archive))
}

/// Published, unexpired jobs: ranked full-text search, filters, facet counts, sorting. A
/// search with words that finds two jobs or fewer carries `did_you_mean` when its words,
/// corrected from the words of public jobs' titles, skills, companies and places, find clearly
/// more by keyword with the same filters.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(SearchQuery),
    responses(
        (status = 200, description = "A page of jobs with facet counts", body = SearchBody),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an unknown filter value", body = ErrorBody),
        (status = 503, description = "`model_unavailable`: mode=semantic or hybrid while the embedding model is not loaded", body = ErrorBody),
    ))]
pub async fn search_jobs(
    State(state): State<AppState>,
    Query(query): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    let search = SearchParams {
        countries: list_param(&query.country),
        workplaces: list_param(&query.workplace),
        employment_types: list_param(&query.employment_type),
        seniorities: list_param(&query.seniority),
        categories: list_param(&query.category),
        skills: list_param(&query.skills),
        companies: list_param(&query.company),
        q: query.q,
        location: query.location,
        salary_min: query.salary_min,
        salary_currency: query.salary_currency,
        salary_period: query.salary_period,
        posted_within_days: query.posted_within_days,
        sort: query.sort,
        limit: query.limit,
        offset: query.offset,
        facets: query.facets,
        mode: query.mode,
    }
    .parse()?;
    let (limit, offset) = (search.limit, search.offset);
    let asked = search.clone();
    let page = search::page(&state.ctx, search, |jobs| {
        let mut items = SearchPageBody::start();
        write_summaries(jobs, &mut items);
        items
    })
    .await?;
    let did_you_mean = suggestions::did_you_mean(&state.ctx, &asked, page.total)
        .await?
        .map(|d| DidYouMeanBody { q: d.q, total: d.total });
    let next = u64::from(offset) + u64::from(limit);
    let body = SearchPageBody {
        items: page.items,
        total: page.total,
        limit,
        offset,
        next_offset: (next < page.total).then_some(next as u32),
        sort: page.sort.as_str().into(),
        mode: page.mode.as_str().into(),
        facets: page.facets,
        did_you_mean,
    };
    let bytes = body
        .to_json()
        .map_err(|e| ApiError::from(crate::services::ServiceError::Internal(e.into())))?;
    Ok(([(CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// A job: public ones for everyone; drafts, closed and pending ones for its company's members.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = JobBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_job(
    State(state): State<AppState>,
    MaybeUser(principal): MaybeUser,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    let (job, company, member) = jobs::view(&state.ctx, principal.as_ref(), &id).await?;
    Ok(Json(JobBody::new(&job, &company, member)))
}

/// The job as schema.org JobPosting JSON-LD, for search engines.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/jsonld", tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "JobPosting JSON-LD", content_type = "application/ld+json"),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn jsonld(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (job, company) = jobs::get(&state.ctx, None, &id).await?;
    let body = job_posting(&job, &company, &state.ctx.public_url);
    Ok(([(CONTENT_TYPE, "application/ld+json")], body.to_string()).into_response())
}

/// Creates a draft job for a company the caller belongs to.
#[utoipa::path(post, path = "/api/v1/jobs", tag = "jobs", security(("bearer" = [])), request_body = JobRequest,
    responses(
        (status = 201, description = "The draft", body = JobBody),
        (status = 403, description = "`forbidden`: not a member of the company", body = ErrorBody),
        (status = 404, description = "`not_found`: no such company", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rule, or a value is given in both its nested and flat form (`location` and `city`, `salary` and `salary_min`, …)", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<JobRequest>,
) -> Result<(StatusCode, Json<JobBody>), ApiError> {
    let (company, input) = body.into_input().map_err(|e| ApiError::validation(e.0))?;
    let company =
        company.ok_or_else(|| ApiError::validation("company (the company's slug) is required"))?;
    let job = jobs::create(&state.ctx, &principal, &company, input, &meta).await?;
    let (job, company) = jobs::get(&state.ctx, Some(&principal), &job.id).await?;
    Ok((StatusCode::CREATED, Json(JobBody::new(&job, &company, true))))
}

/// Changes a job's fields (members; not an archived job).
#[utoipa::path(patch, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")), request_body = JobRequest,
    responses(
        (status = 200, description = "Updated", body = JobBody),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 409, description = "`invalid_transition`: archived", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field breaks its rule, or a value is given in both its nested and flat form (`location` and `city`, `salary` and `salary_min`, …)", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
    Json(body): Json<JobRequest>,
) -> Result<Json<JobBody>, ApiError> {
    let (company, input) = body.into_input().map_err(|e| ApiError::validation(e.0))?;
    if company.is_some() {
        return Err(ApiError::validation("a job's company cannot change"));
    }
    let job = jobs::update(&state.ctx, &principal, &id, input, &meta).await?;
    let (job, company) = jobs::get(&state.ctx, Some(&principal), &job.id).await?;
    Ok(Json(JobBody::new(&job, &company, true)))
}

async fn move_to(
    state: AppState,
    principal: crate::services::Principal,
    meta: crate::services::RequestMeta,
    id: String,
    to: JobStatus,
) -> Result<Json<JobBody>, ApiError> {
    let job =
        jobs::transition(&state.ctx, &principal, &id, to, state.config.moderate_unverified, &meta)
            .await?;
    let (job, company) = jobs::get(&state.ctx, Some(&principal), &job.id).await?;
    Ok(Json(JobBody::new(&job, &company, true)))
}

/// Publishes a draft (or reopens a closed job). With moderation on, a job of an unverified
/// company waits for an admin (`review: pending`).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/publish", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Published", body = JobBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a field publishing needs is missing", body = ErrorBody),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    move_to(state, principal, meta, id, JobStatus::Published).await
}

/// Closes a published job: it leaves search; it can be reopened.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/close", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Closed", body = JobBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
    ))]
pub async fn close(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    move_to(state, principal, meta, id, JobStatus::Closed).await
}

/// Archives a job for good: no more edits or publication.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/archive", tag = "jobs", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "Archived", body = JobBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
    ))]
pub async fn archive(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(id): Path<String>,
) -> Result<Json<JobBody>, ApiError> {
    move_to(state, principal, meta, id, JobStatus::Archived).await
}
