//! Applications: `POST/GET /api/v1/jobs/{id}/applications` (apply; the company's list),
//! `POST /api/v1/jobs/{id}/cover-letter` (a draft of a cover letter, as JSON or streamed) and
//! `/api/v1/applications` (the candidate's list, one application, its stages, history, notes
//! and resume).

use axum::extract::State;
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde_json::json;

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorCode};
use crate::api::extract::{CurrentUser, Json, Path, Query};
use crate::api::routes::Routes;
use crate::schemas::application::{
    ApplicationBody, ApplicationListBody, ApplyRequest, CandidateBody, CoverLetterRequest,
    HistoryBody, JobApplicationsBody, JobApplicationsQuery, NoteBody, NoteListBody, NoteRequest,
    PageQuery, StageEventBody, StageRequest, WithdrawRequest,
};
use crate::schemas::error::ErrorBody;
use crate::schemas::job::list_param;
use crate::schemas::resume::ResumeBody;
use crate::schemas::writing::{
    CoverLetterDraftBody, CoverLetterDraftRequest, TextPieceEvent, WrittenBy,
};
use crate::services::applications::{self, ApplicationView};
use crate::services::policy::ApplicationViewer;
use crate::services::writing;

/// Routes under `/api/v1/jobs/{id}/applications`.
pub fn job_routes() -> Routes {
    Routes::new()
        .route("/{id}/applications", get(list_for_job).post(apply))
        .route("/{id}/cover-letter", post(draft_cover_letter))
}

pub fn router() -> Routes {
    Routes::new()
        .route("/", get(list_mine))
        .route("/{id}", get(get_application).patch(edit_cover_letter))
        .route("/{id}/stage", post(move_stage))
        .route("/{id}/withdraw", post(withdraw))
        .route("/{id}/history", get(history))
        .route("/{id}/notes", get(notes).post(add_note))
        .route("/{id}/resume", get(resume))
        .route("/{id}/resume/file", get(resume_file))
}

fn page(limit: Option<u32>, offset: Option<u32>) -> Result<(u32, u32), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be between 1 and 100"));
    }
    Ok((limit, offset.unwrap_or(0)))
}

async fn body(state: &AppState, view: &ApplicationView) -> Result<ApplicationBody, ApiError> {
    let candidate = applications::candidate_of(&state.ctx, view)
        .await?
        .map(|(user, profile)| CandidateBody::new(&user, profile));
    Ok(ApplicationBody::new(&view.application, Some((&view.job, &view.company)), candidate))
}

/// Applies to a job with a resume (the default one unless named) and a cover letter. One
/// application per job: a second gets `already_applied`. A job that takes applications on the
/// employer's site answers `apply_externally` with its URL in the message.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/applications", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")), request_body = ApplyRequest,
    responses(
        (status = 201, description = "Applied", body = ApplicationBody),
        (status = 403, description = "`forbidden`: candidates only", body = ErrorBody),
        (status = 404, description = "`not_found`: no such public job or resume", body = ErrorBody),
        (status = 409, description = "`already_applied`, `job_closed` or `apply_externally`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no resume, or a cover letter too long", body = ErrorBody),
    ))]
pub async fn apply(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<ApplyRequest>,
) -> Result<(StatusCode, Json<ApplicationBody>), ApiError> {
    let view = applications::apply(
        &state.ctx,
        &principal,
        &id,
        req.resume_id.as_deref(),
        req.cover_letter.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(body(&state, &view).await?)))
}

/// A draft of a cover letter from the caller's default resume (or `resume_id`) for a public
/// job, written by the chat model from the job's and the resume's facts only: a sentence that
/// names an employer, school, degree, year, number or skill that neither holds is left out,
/// and when too little is left the portal's template letter is answered (`source: template`).
/// Nothing is stored: send the draft as `cover_letter` when applying, or to `PATCH
/// /api/v1/applications/{id}` until the company opens the application.
///
/// With `Accept: text/event-stream` the draft is streamed as server-sent events: `token`
/// (`{"text"}`, the pieces add up to the draft), then `done` (`{"draft", "source"}`) or
/// `error` (`{"code", "message"}`, e.g. `model_busy`).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cover-letter", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    request_body(content = CoverLetterDraftRequest, description = "Optional; without it the default resume is used"),
    responses(
        (status = 200, description = "The draft, or its stream of events", content(
            (CoverLetterDraftBody = "application/json"),
            (TextPieceEvent = "text/event-stream"),
        )),
        (status = 403, description = "`forbidden`: candidates only", body = ErrorBody),
        (status = 404, description = "`not_found`: no such public job or resume", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no resume, or an invalid body", body = ErrorBody),
        (status = 503, description = "`model_unavailable` or `model_busy` (with Retry-After)", body = ErrorBody),
    ))]
pub async fn draft_cover_letter(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let req: CoverLetterDraftRequest = optional_body(&raw)?;
    let draft =
        writing::prepare_cover_letter(&state.ctx, &principal, &id, req.resume_id.as_deref())
            .await?;
    let streamed = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if !streamed {
        let written = writing::write_cover_letter(&state.ctx, draft, &mut |_| {}).await?;
        return Ok(Json(CoverLetterDraftBody {
            draft: written.text,
            source: WrittenBy::new(written.source == writing::Source::Model),
        })
        .into_response());
    }
    let ctx = state.ctx.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    // The letter is written on a task of its own, which ends with the response: a client that
    // goes away stops the model.
    let task = AbortOnDrop(tokio::spawn(async move {
        let mut send = |piece: &str| {
            let _ = tx.send(piece.to_owned());
        };
        writing::write_cover_letter(&ctx, draft, &mut send).await
    }));
    let tokens = futures_util::stream::unfold(rx, |mut rx| async move {
        let piece = rx.recv().await?;
        Some((sse_event("token", &TextPieceEvent { text: piece }), rx))
    });
    let end = futures_util::stream::once(async move {
        let mut task = task;
        match (&mut task.0).await {
            Ok(Ok(written)) => sse_event(
                "done",
                &CoverLetterDraftBody {
                    draft: written.text,
                    source: WrittenBy::new(written.source == writing::Source::Model),
                },
            ),
            Ok(Err(err)) => sse_error(ApiError::from(err)),
            Err(err) => sse_error(ApiError::internal(err)),
        }
    });
    Ok(Sse::new(tokens.chain(end)).keep_alive(KeepAlive::default()).into_response())
}

/// A task that is stopped when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn sse_event(name: &str, data: &impl serde::Serialize) -> Result<Event, std::convert::Infallible> {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    Ok(Event::default().event(name).data(data))
}

fn sse_error(err: ApiError) -> Result<Event, std::convert::Infallible> {
    sse_event("error", &json!({"code": err.code.as_str(), "message": err.message}))
}

/// A JSON body that may be left out (empty: the defaults).
fn optional_body<T: serde::de::DeserializeOwned + Default>(raw: &[u8]) -> Result<T, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice::<T>(raw).map_err(|err| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
            ApiError::new(ErrorCode::InvalidJson, format!("request body is not valid JSON: {err}"))
        } else {
            ApiError::validation(format!("invalid request body: {err}"))
        }
    })
}

/// A job's applications, for its company: filters by stage and date, counts per stage.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/applications", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Job id"), JobApplicationsQuery),
    responses(
        (status = 200, description = "A page of applications", body = JobApplicationsBody),
        (status = 403, description = "`forbidden`: not a member of the job's company", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn list_for_job(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<JobApplicationsQuery>,
) -> Result<Json<JobApplicationsBody>, ApiError> {
    let (limit, offset) = page(query.limit, query.offset)?;
    let result = applications::list_for_job(
        &state.ctx,
        &principal,
        &id,
        applications::JobApplicationsQuery {
            stages: list_param(&query.stage),
            since: query.since,
            until: query.until,
            limit,
            offset,
        },
    )
    .await?;
    Ok(Json(JobApplicationsBody {
        items: result
            .items
            .iter()
            .map(|(a, user)| ApplicationBody::new(a, None, Some(CandidateBody::new(user, None))))
            .collect(),
        total: result.total,
        limit,
        offset,
        counts: result.counts.into_iter().map(|(stage, n)| (stage, json!(n))).collect(),
    }))
}

/// The caller's applications, newest first.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "A page of applications", body = ApplicationListBody)))]
pub async fn list_mine(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<ApplicationListBody>, ApiError> {
    let (limit, offset) = page(query.limit, query.offset)?;
    let (items, total) = applications::list_mine(&state.ctx, &principal, limit, offset).await?;
    Ok(Json(ApplicationListBody {
        items: items
            .iter()
            .map(|(a, job)| ApplicationBody::new(a, job.as_ref().map(|(j, c)| (j, c)), None))
            .collect(),
        total,
        limit,
        offset,
    }))
}

/// One application: for its candidate, or for the company (with the candidate's profile; the
/// first look freezes the cover letter).
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The application", body = ApplicationBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_application(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ApplicationBody>, ApiError> {
    let view = applications::get(&state.ctx, &principal, &id).await?;
    Ok(Json(body(&state, &view).await?))
}

/// The candidate edits the cover letter, until the company first opens the application.
#[utoipa::path(patch, path = "/api/v1/applications/{id}", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = CoverLetterRequest,
    responses(
        (status = 200, description = "Updated", body = ApplicationBody),
        (status = 409, description = "`invalid_transition`: the company has read it", body = ErrorBody),
    ))]
pub async fn edit_cover_letter(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<CoverLetterRequest>,
) -> Result<Json<ApplicationBody>, ApiError> {
    let view =
        applications::update_cover_letter(&state.ctx, &principal, &id, &req.cover_letter).await?;
    Ok(Json(body(&state, &view).await?))
}

/// The company moves an application: forward through the pipeline, or to `rejected` with a
/// reason. The candidate is emailed.
#[utoipa::path(post, path = "/api/v1/applications/{id}/stage", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = StageRequest,
    responses(
        (status = 200, description = "Moved", body = ApplicationBody),
        (status = 403, description = "`forbidden`: candidates only withdraw", body = ErrorBody),
        (status = 409, description = "`invalid_transition`, or `conflict` when another move came first", body = ErrorBody),
        (status = 422, description = "`validation_failed`: unknown stage, missing or unknown reason", body = ErrorBody),
    ))]
pub async fn move_stage(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<StageRequest>,
) -> Result<Json<ApplicationBody>, ApiError> {
    let view = applications::move_stage(
        &state.ctx,
        &principal,
        &id,
        &req.stage,
        req.reason.as_deref(),
        req.note.as_deref(),
    )
    .await?;
    Ok(Json(body(&state, &view).await?))
}

/// The candidate withdraws an open application.
#[utoipa::path(post, path = "/api/v1/applications/{id}/withdraw", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = WithdrawRequest,
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationBody),
        (status = 409, description = "`invalid_transition`: already closed", body = ErrorBody),
    ))]
pub async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<ApplicationBody>, ApiError> {
    // The body is optional: `{"note": "…"}` or nothing.
    let note = if raw.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<WithdrawRequest>(&raw)
            .map_err(|e| {
                ApiError::new(ErrorCode::InvalidJson, format!("the body is not valid: {e}"))
            })?
            .note
    };
    let view = applications::withdraw(&state.ctx, &principal, &id, note.as_deref()).await?;
    Ok(Json(body(&state, &view).await?))
}

/// Every move of the application. The candidate's view leaves out internal notes and who in
/// the company moved it.
#[utoipa::path(get, path = "/api/v1/applications/{id}/history", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The moves, oldest first", body = HistoryBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<HistoryBody>, ApiError> {
    let (viewer, events) = applications::history(&state.ctx, &principal, &id).await?;
    let company = viewer == ApplicationViewer::Company;
    Ok(Json(HistoryBody {
        items: events.iter().map(|e| StageEventBody::new(e, company)).collect(),
    }))
}

/// Internal notes (the company's members only).
#[utoipa::path(get, path = "/api/v1/applications/{id}/notes", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The notes", body = NoteListBody),
        (status = 403, description = "`forbidden`: the candidate", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn notes(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<NoteListBody>, ApiError> {
    let notes = applications::notes(&state.ctx, &principal, &id).await?;
    Ok(Json(NoteListBody { items: notes.iter().map(NoteBody::from).collect() }))
}

/// Adds an internal note (the company's members only).
#[utoipa::path(post, path = "/api/v1/applications/{id}/notes", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")), request_body = NoteRequest,
    responses(
        (status = 201, description = "Added", body = NoteBody),
        (status = 403, description = "`forbidden`: the candidate", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn add_note(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<NoteRequest>,
) -> Result<(StatusCode, Json<NoteBody>), ApiError> {
    let note = applications::add_note(&state.ctx, &principal, &id, &req.body).await?;
    Ok((StatusCode::CREATED, Json(NoteBody::from(&note))))
}

/// The resume sent with the application, with its parsed (and corrected) profile.
#[utoipa::path(get, path = "/api/v1/applications/{id}/resume", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The resume", body = ResumeBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn resume(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ResumeBody>, ApiError> {
    let resume = applications::resume(&state.ctx, &principal, &id).await?;
    Ok(Json(ResumeBody::new(&resume, true)))
}

/// The original file of the resume sent with the application.
#[utoipa::path(get, path = "/api/v1/applications/{id}/resume/file", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "Application id")),
    responses(
        (status = 200, description = "The file as uploaded", content(
            (String = "application/pdf"),
            (String = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/plain"),
        )),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn resume_file(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (resume, content) = applications::resume_file(&state.ctx, &principal, &id).await?;
    Ok(super::resumes::file_response(&resume, content))
}
