//! `/api/v1/recommendations` (jobs for the calling candidate, one job's explained in words,
//! their preferences and dismissals) and `/api/v1/jobs/{id}/recommended-candidates` (for the job's company).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{CurrentUser, Json, Path, Query};
use crate::api::routes::Routes;
use crate::schemas::error::ErrorBody;
use crate::schemas::job::JobSummaryBody;
use crate::schemas::recommendation::{
    CandidateRecommendationBody, CandidateRecommendationListBody, JobRecommendationBody,
    JobRecommendationListBody, PreferencesBody, RecommendationQuery,
};
use crate::schemas::writing::{ExplainedRecommendationBody, WrittenBody, WrittenBy};
use crate::services::{recommendations, writing};

pub fn router() -> Routes {
    Routes::new()
        .route("/jobs", get(recommended_jobs))
        .route("/jobs/{job_id}", get(recommended_job))
        .route("/jobs/{job_id}/dismiss", post(dismiss).delete(undismiss))
        .route("/preferences", get(get_preferences).put(put_preferences))
}

pub fn job_routes() -> Routes {
    Routes::new().route("/{id}/recommended-candidates", get(recommended_candidates))
}

/// Jobs for the calling candidate, best first, each with its score and why: similarity of the
/// default resume and the job, matched and missing skills, and how the job fits the stated
/// preferences. Jobs applied to or dismissed are left out.
#[utoipa::path(get, path = "/api/v1/recommendations/jobs", tag = "recommendations", security(("bearer" = [])),
    params(RecommendationQuery),
    responses(
        (status = 200, description = "Recommended jobs", body = JobRecommendationListBody),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no resume uploaded yet", body = ErrorBody),
        (status = 503, description = "`model_unavailable`: the embedding model is not loaded", body = ErrorBody),
    ))]
pub async fn recommended_jobs(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<RecommendationQuery>,
) -> Result<Json<JobRecommendationListBody>, ApiError> {
    let items = recommendations::for_candidate(&state.ctx, &principal, limit(query.limit)?).await?;
    Ok(Json(JobRecommendationListBody {
        items: items
            .iter()
            .map(|r| {
                JobRecommendationBody::new(JobSummaryBody::new(&r.job, &r.company), &r.matched)
            })
            .collect(),
    }))
}

/// One public job scored and explained for the calling candidate as in their list (whether
/// or not it is among them), with the explanation phrased in two or three sentences by the
/// chat model (`summary`): it names no skill or fact the explanation does not hold, else the
/// portal's sentences are answered (`summary.source: template`).
#[utoipa::path(get, path = "/api/v1/recommendations/jobs/{job_id}", tag = "recommendations", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job's recommendation, explained", body = ExplainedRecommendationBody),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
        (status = 404, description = "`not_found`: no such public job", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no resume uploaded yet", body = ErrorBody),
        (status = 503, description = "`model_unavailable` (the embedding or the chat model) or `model_busy` (with Retry-After)", body = ErrorBody),
    ))]
pub async fn recommended_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(job_id): Path<String>,
) -> Result<Json<ExplainedRecommendationBody>, ApiError> {
    let found = recommendations::for_candidate_job(&state.ctx, &principal, &job_id).await?;
    let summary = writing::explain_recommendation(&state.ctx, &found).await?;
    Ok(Json(ExplainedRecommendationBody {
        recommendation: JobRecommendationBody::new(
            JobSummaryBody::new(&found.job, &found.company),
            &found.matched,
        ),
        summary: WrittenBody {
            text: summary.text,
            source: WrittenBy::new(summary.source == writing::Source::Model),
        },
    }))
}

fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(10);
    if !(1..=recommendations::MAX_LIMIT).contains(&limit) {
        return Err(ApiError::new(
            crate::api::error::ErrorCode::InvalidParameter,
            format!("limit must be between 1 and {}", recommendations::MAX_LIMIT),
        ));
    }
    Ok(limit)
}

/// "Not interested": the job is not recommended to the caller again.
#[utoipa::path(post, path = "/api/v1/recommendations/jobs/{job_id}/dismiss", tag = "recommendations", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 204, description = "Dismissed (dismissing twice changes nothing)"),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
        (status = 404, description = "`not_found`: no such public job", body = ErrorBody),
    ))]
pub async fn dismiss(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(job_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    recommendations::dismiss(&state.ctx, &principal, &job_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a dismissal back.
#[utoipa::path(delete, path = "/api/v1/recommendations/jobs/{job_id}/dismiss", tag = "recommendations", security(("bearer" = [])),
    params(("job_id" = String, Path, description = "Job id")),
    responses(
        (status = 204, description = "The job may be recommended again"),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
        (status = 404, description = "`not_found`: the job was not dismissed", body = ErrorBody),
    ))]
pub async fn undismiss(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(job_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if recommendations::undismiss(&state.ctx, &principal, &job_id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("dismissal not found"))
    }
}

/// The caller's stated preferences (empty until set).
#[utoipa::path(get, path = "/api/v1/recommendations/preferences", tag = "recommendations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The preferences", body = PreferencesBody),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
    ))]
pub async fn get_preferences(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<PreferencesBody>, ApiError> {
    Ok(Json(recommendations::preferences(&state.ctx, &principal).await?.into()))
}

/// Replaces the caller's preferences.
#[utoipa::path(put, path = "/api/v1/recommendations/preferences", tag = "recommendations", security(("bearer" = [])),
    request_body = PreferencesBody,
    responses(
        (status = 200, description = "The preferences as stored", body = PreferencesBody),
        (status = 403, description = "`forbidden`: not a candidate", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an unknown value", body = ErrorBody),
    ))]
pub async fn put_preferences(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Json(body): Json<PreferencesBody>,
) -> Result<Json<PreferencesBody>, ApiError> {
    Ok(Json(recommendations::set_preferences(&state.ctx, &principal, body.into()).await?.into()))
}

/// Candidates for a job, for its company's members: applicants and candidates who chose to be
/// discoverable, best first, each explained like a job recommendation.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/recommended-candidates", tag = "recommendations", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id"), RecommendationQuery),
    responses(
        (status = 200, description = "Recommended candidates", body = CandidateRecommendationListBody),
        (status = 403, description = "`forbidden`: not a member of the job's company", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`model_unavailable`: the embedding model is not loaded", body = ErrorBody),
    ))]
pub async fn recommended_candidates(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<RecommendationQuery>,
) -> Result<Json<CandidateRecommendationListBody>, ApiError> {
    let items = recommendations::for_job(&state.ctx, &principal, &id, limit(query.limit)?).await?;
    Ok(Json(CandidateRecommendationListBody {
        items: items
            .iter()
            .map(|r| CandidateRecommendationBody {
                candidate_id: r.candidate_id.clone(),
                resume_id: r.resume_id.clone(),
                name: r.name.clone(),
                headline: r.headline.clone(),
                years_experience: r.years_experience,
                applied: r.applied,
                score: r.matched.score,
                explanation: (&r.matched.explanation).into(),
            })
            .collect(),
    }))
}
