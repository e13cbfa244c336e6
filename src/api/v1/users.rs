//! `/api/v1/users/me`: the caller's own account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::Utc;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{ClientMeta, CurrentUser, Json};
use crate::api::routes::Routes;
use crate::schemas::auth::TokensBody;
use crate::schemas::error::ErrorBody;
use crate::schemas::user::{
    ChangePasswordRequest, DeleteMeRequest, ExportBody, MeBody, UpdateMeRequest, UserBody,
    audit_bodies,
};
use crate::services::{auth, users};

pub fn router() -> Routes {
    Routes::new()
        .route("/me", get(get_me).patch(update_me).delete(delete_me))
        .route("/me/password", post(change_password))
        .route("/me/export", get(export))
}

/// The caller's account and the companies they belong to.
#[utoipa::path(get, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "The account", body = MeBody),
        (status = 401, description = "`unauthorized` or `token_expired`", body = ErrorBody),
    ))]
pub async fn get_me(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<MeBody>, ApiError> {
    let (user, memberships) = users::me(&state.ctx, &principal).await?;
    Ok(Json(MeBody {
        user: user.into(),
        companies: memberships.into_iter().map(Into::into).collect(),
    }))
}

/// Changes the caller's name, and for candidates whether recruiters may find them.
#[utoipa::path(patch, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "Updated", body = UserBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    ))]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<UpdateMeRequest>,
) -> Result<Json<UserBody>, ApiError> {
    let user = users::update_me(
        &state.ctx,
        &principal,
        body.full_name.as_deref(),
        body.discoverable,
        &meta,
    )
    .await?;
    Ok(Json(user.into()))
}

/// Changes the password. Every session ends; the answer carries tokens for a new one.
#[utoipa::path(post, path = "/api/v1/users/me/password", tag = "users", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; a new session", body = TokensBody),
        (status = 422, description = "`validation_failed`: wrong current password or a weak new one", body = ErrorBody),
    ))]
pub async fn change_password(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<Json<TokensBody>, ApiError> {
    let pair = auth::change_password(
        &state.ctx,
        &principal,
        &body.current_password,
        &body.new_password,
        &meta,
    )
    .await?;
    Ok(Json(pair.into()))
}

/// Everything the portal holds about the caller, as JSON.
#[utoipa::path(get, path = "/api/v1/users/me/export", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller's data", body = ExportBody)))]
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<Json<ExportBody>, ApiError> {
    let export = users::export(&state.ctx, &principal).await?;
    Ok(Json(ExportBody {
        exported_at: Utc::now(),
        user: export.user.into(),
        companies: export.memberships.into_iter().map(Into::into).collect(),
        sessions: export.sessions.into_iter().map(Into::into).collect(),
        emails: export.emails.into_iter().map(Into::into).collect(),
        audit_log: audit_bodies(export.audit),
        resumes: export
            .resumes
            .iter()
            .map(|r| crate::schemas::resume::ResumeBody::new(r, true))
            .collect(),
        applications: export
            .applications
            .iter()
            .map(|(a, events)| crate::schemas::user::ExportedApplicationBody {
                application: crate::schemas::application::ApplicationBody::new(a, None, None),
                history: events
                    .iter()
                    .map(|e| crate::schemas::application::StageEventBody::new(e, false))
                    .collect(),
            })
            .collect(),
        saved_jobs: export
            .saved_jobs
            .iter()
            .map(|s| crate::schemas::user::ExportedSavedJobBody {
                job_id: s.job_id.clone(),
                saved_at: s.created_at,
            })
            .collect(),
        saved_searches: export
            .saved_searches
            .iter()
            .map(|s| crate::schemas::saved::SavedSearchBody::new(s, None))
            .collect(),
        conversations: export
            .conversations
            .iter()
            .map(|(c, messages)| {
                crate::schemas::assistant::ConversationDetailBody::new(c, messages)
            })
            .collect(),
    }))
}

/// Deletes the caller's account and personal data, after the password confirms it.
#[utoipa::path(delete, path = "/api/v1/users/me", tag = "users", security(("bearer" = [])),
    request_body = DeleteMeRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`last_owner`: transfer a company's ownership first", body = ErrorBody),
        (status = 422, description = "`validation_failed`: wrong password", body = ErrorBody),
    ))]
pub async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<DeleteMeRequest>,
) -> Result<StatusCode, ApiError> {
    users::delete_me(&state.ctx, &principal, &body.password, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}
