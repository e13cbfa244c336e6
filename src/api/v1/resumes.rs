//! `/api/v1/resumes`: a candidate's resumes, uploaded as multipart, parsed, corrected, and
//! compared with a job (`/{id}/feedback`).

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorCode};
use crate::api::extract::{CurrentUser, Json, Path};
use crate::api::routes::Routes;
use crate::models::resume::Resume;
use crate::schemas::error::ErrorBody;
use crate::schemas::resume::{CorrectResumeRequest, ResumeBody, ResumeListBody};
use crate::schemas::writing::{ResumeFeedbackBody, ResumeFeedbackRequest, WrittenBy};
use crate::services::{resumes, writing};

pub fn router() -> Routes {
    Routes::new()
        // The upload's size limit comes from the configuration and is applied while reading.
        .route("/", get(list).post(upload).layer(DefaultBodyLimit::disable()))
        .route("/{id}", get(get_resume).patch(correct).delete(delete))
        .route("/{id}/file", get(download))
        .route("/{id}/default", post(make_default))
        .route("/{id}/reparse", post(reparse))
        .route("/{id}/feedback", post(feedback))
}

/// Reads the `file` part of a multipart upload, refusing more than `limit` bytes.
pub(crate) async fn read_upload(
    state: &AppState,
    req: Request,
    limit: usize,
) -> Result<(Option<String>, bytes::Bytes), ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the file is larger than the limit of {} bytes", limit),
        )
    };
    // Room for the multipart framing around the file.
    let req = req
        .map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit + 64 * 1024)));
    let mut multipart = Multipart::from_request(req, state).await.map_err(|rejection| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("send the file as multipart/form-data: {}", rejection.body_text()),
        )
    })?;
    let read_error = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(
                ErrorCode::InvalidParameter,
                format!("the upload is malformed: {}", err.body_text()),
            )
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned);
        let mut content = bytes::BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(read_error)? {
            if content.len() + chunk.len() > limit {
                return Err(too_large());
            }
            content.extend_from_slice(&chunk);
        }
        return Ok((name, content.freeze()));
    }
    Err(ApiError::validation("the upload has no part named \"file\""))
}

/// Uploads a resume (multipart/form-data, part `file`): PDF, DOCX or plain text, recognised by
/// its content. It is read at once, in a child process under hard limits; a file that cannot
/// be read (encrypted, damaged, only images, or one the reader fails on) is kept with a
/// `parse_status` saying so.
#[utoipa::path(post, path = "/api/v1/resumes", tag = "resumes", security(("bearer" = [])),
    request_body(content = String, description = "multipart/form-data with a part named `file`", content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored and parsed", body = ResumeBody),
        (status = 403, description = "`forbidden`: candidates only", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: larger than the configured limit", body = ErrorBody),
        (status = 415, description = "`unsupported_file_type`: not a PDF, DOCX or text file", body = ErrorBody),
        (status = 422, description = "`validation_failed`: an empty file, or too many resumes", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    req: Request,
) -> Result<(StatusCode, Json<ResumeBody>), ApiError> {
    crate::services::policy::keep_resumes(&principal)?;
    let (name, content) = read_upload(&state, req, state.config.resume_max_size).await?;
    let resume = resumes::upload(&state.ctx, &principal, name.as_deref(), content).await?;
    Ok((StatusCode::CREATED, Json(ResumeBody::new(&resume, true))))
}

/// The caller's resumes, newest first (without their text).
#[utoipa::path(get, path = "/api/v1/resumes", tag = "resumes", security(("bearer" = [])),
    responses((status = 200, description = "The resumes", body = ResumeListBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<ResumeListBody>, ApiError> {
    let items = resumes::list(&state.ctx, &principal).await?;
    Ok(Json(ResumeListBody { items: items.iter().map(|r| ResumeBody::new(r, false)).collect() }))
}

/// One of the caller's resumes, with its text.
#[utoipa::path(get, path = "/api/v1/resumes/{id}", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    responses(
        (status = 200, description = "The resume", body = ResumeBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_resume(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ResumeBody>, ApiError> {
    Ok(Json(ResumeBody::new(&resumes::get(&state.ctx, &principal, &id).await?, true)))
}

/// Corrects the profile. Corrections are kept apart from the parse and survive re-parsing.
#[utoipa::path(patch, path = "/api/v1/resumes/{id}", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")), request_body = CorrectResumeRequest,
    responses(
        (status = 200, description = "The corrected resume", body = ResumeBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`conflict`: changed meanwhile", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    ))]
pub async fn correct(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(body): Json<CorrectResumeRequest>,
) -> Result<Json<ResumeBody>, ApiError> {
    let resume = resumes::correct(&state.ctx, &principal, &id, &body.set, &body.reset).await?;
    Ok(Json(ResumeBody::new(&resume, true)))
}

/// Deletes a resume (not one an application uses).
#[utoipa::path(delete, path = "/api/v1/resumes/{id}", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`resume_in_use`: sent with an application", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    resumes::delete(&state.ctx, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The original file as uploaded.
pub(crate) fn file_response(resume: &Resume, content: bytes::Bytes) -> Response {
    let ascii: String = resume
        .file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .collect();
    (
        [
            (CONTENT_TYPE, resume.content_type.clone()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", ascii.replace(['"', '\\'], "_")),
            ),
        ],
        content,
    )
        .into_response()
}

/// Downloads the original file.
#[utoipa::path(get, path = "/api/v1/resumes/{id}/file", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    responses(
        (status = 200, description = "The file as uploaded", content(
            (String = "application/pdf"),
            (String = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/plain"),
        )),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn download(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (resume, content) = resumes::file(&state.ctx, &principal, &id).await?;
    Ok(file_response(&resume, content))
}

/// Makes this the resume applications use when none is named.
#[utoipa::path(post, path = "/api/v1/resumes/{id}/default", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    responses(
        (status = 200, description = "The resume, now the default", body = ResumeBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn make_default(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ResumeBody>, ApiError> {
    Ok(Json(ResumeBody::new(&resumes::set_default(&state.ctx, &principal, &id).await?, false)))
}

/// Parses the stored file again with the current parser; corrections stay.
#[utoipa::path(post, path = "/api/v1/resumes/{id}/reparse", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    responses(
        (status = 200, description = "Parsed again", body = ResumeBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 503, description = "`unavailable`: the document reader could not finish with the file (it crashed, or ran past its time or memory); the stored parse is unchanged", body = ErrorBody),
    ))]
pub async fn reparse(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ResumeBody>, ApiError> {
    Ok(Json(ResumeBody::new(&resumes::reparse(&state.ctx, &principal, &id).await?, true)))
}

/// How the resume compares with a public job: the job's skills it shows (to put forward) and
/// those it does not, computed from the skills taxonomy, with advice in words from the chat
/// model that names no other skill (`source: template` when the model's text did not pass and
/// the portal's sentences are answered instead).
#[utoipa::path(post, path = "/api/v1/resumes/{id}/feedback", tag = "resumes", security(("bearer" = [])),
    params(("id" = String, Path, description = "Resume id")),
    request_body = ResumeFeedbackRequest,
    responses(
        (status = 200, description = "The comparison and the advice", body = ResumeFeedbackBody),
        (status = 403, description = "`forbidden`: candidates only", body = ErrorBody),
        (status = 404, description = "`not_found`: no such resume of the caller's, or no such public job", body = ErrorBody),
        (status = 422, description = "`validation_failed`: no `job_id`", body = ErrorBody),
        (status = 503, description = "`model_unavailable` or `model_busy` (with Retry-After)", body = ErrorBody),
    ))]
pub async fn feedback(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
    Json(req): Json<ResumeFeedbackRequest>,
) -> Result<Json<ResumeFeedbackBody>, ApiError> {
    let feedback = writing::resume_feedback(&state.ctx, &principal, &id, &req.job_id).await?;
    Ok(Json(ResumeFeedbackBody {
        missing_skills: feedback.missing_skills,
        matched_skills: feedback.matched_skills,
        emphasise: feedback.emphasise,
        text: feedback.written.text,
        source: WrittenBy::new(feedback.written.source == writing::Source::Model),
    }))
}
