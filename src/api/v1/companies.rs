//! `/api/v1/companies`: company profiles, members, invitations and ownership.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::error::ErrorCode;
use crate::api::extract::{ClientMeta, CurrentUser, Json, Path, Query};
use crate::api::routes::Routes;
use crate::models::job::JobStatus;
use crate::schemas::auth::TokenRequest;
use crate::schemas::company::{
    CompanyBody, CreateCompanyRequest, InviteBody, InviteRequest, JoinedBody, MemberBody,
    MembersBody, TransferOwnershipRequest, UpdateCompanyRequest,
};
use crate::schemas::error::ErrorBody;
use crate::schemas::job::{CompanyJobsQuery, JobBody, JobPageBody};
use crate::services::companies;
use crate::services::jobs;

pub fn router() -> Routes {
    Routes::new()
        .route("/", post(create))
        .route("/invites/accept", post(accept_invite))
        .route("/{slug}", get(get_company).patch(update))
        .route("/{slug}/members", get(members))
        .route("/{slug}/members/{user_id}", delete(remove_member))
        .route("/{slug}/invites", post(invite))
        .route("/{slug}/transfer-ownership", post(transfer_ownership))
        .route("/{slug}/jobs", get(company_jobs))
}

/// Creates a company owned by the caller (an employer with a verified email).
#[utoipa::path(post, path = "/api/v1/companies", tag = "companies", security(("bearer" = [])),
    request_body = CreateCompanyRequest,
    responses(
        (status = 201, description = "Created; the caller is its owner", body = CompanyBody),
        (status = 403, description = "`forbidden` (not an employer) or `email_not_verified`", body = ErrorBody),
        (status = 409, description = "`slug_taken`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<CreateCompanyRequest>,
) -> Result<(StatusCode, Json<CompanyBody>), ApiError> {
    let company = companies::create(&state.ctx, &principal, &body.into(), &meta).await?;
    Ok((StatusCode::CREATED, Json(company.into())))
}

/// A company's public profile.
#[utoipa::path(get, path = "/api/v1/companies/{slug}", tag = "companies",
    params(("slug" = String, Path, description = "The company's slug")),
    responses(
        (status = 200, description = "The company", body = CompanyBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn get_company(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<CompanyBody>, ApiError> {
    Ok(Json(companies::get(&state.ctx, &slug).await?.into()))
}

/// Changes a company's profile (owners and admins; the slug never changes).
#[utoipa::path(patch, path = "/api/v1/companies/{slug}", tag = "companies", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    request_body = UpdateCompanyRequest,
    responses(
        (status = 200, description = "Updated", body = CompanyBody),
        (status = 403, description = "`forbidden`: not an owner", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(slug): Path<String>,
    Json(body): Json<UpdateCompanyRequest>,
) -> Result<Json<CompanyBody>, ApiError> {
    let company = companies::update(&state.ctx, &principal, &slug, &body.into(), &meta).await?;
    Ok(Json(company.into()))
}

/// Members and open invitations (members and admins; others get 404).
#[utoipa::path(get, path = "/api/v1/companies/{slug}/members", tag = "companies", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    responses(
        (status = 200, description = "Members and invitations", body = MembersBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn members(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(slug): Path<String>,
) -> Result<Json<MembersBody>, ApiError> {
    let (members, invites) = companies::members(&state.ctx, &principal, &slug).await?;
    Ok(Json(MembersBody {
        members: members.into_iter().map(Into::into).collect(),
        invites: invites.into_iter().map(Into::into).collect(),
    }))
}

/// Invites somebody by email (owners only); the token travels in the email.
#[utoipa::path(post, path = "/api/v1/companies/{slug}/invites", tag = "companies", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invitation sent", body = InviteBody),
        (status = 403, description = "`forbidden`: not an owner", body = ErrorBody),
        (status = 409, description = "`already_member`", body = ErrorBody),
    ))]
pub async fn invite(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(slug): Path<String>,
    Json(body): Json<InviteRequest>,
) -> Result<(StatusCode, Json<InviteBody>), ApiError> {
    let invite =
        companies::invite(&state.ctx, &principal, &slug, &body.email, body.role.into(), &meta)
            .await?;
    Ok((StatusCode::CREATED, Json(invite.into())))
}

/// Accepts an invitation: the caller (the employer it was sent to) joins the company.
#[utoipa::path(post, path = "/api/v1/companies/invites/accept", tag = "companies", security(("bearer" = [])),
    request_body = TokenRequest,
    responses(
        (status = 200, description = "Joined", body = JoinedBody),
        (status = 400, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`forbidden`: sent to another address, or not an employer", body = ErrorBody),
        (status = 409, description = "`already_member`", body = ErrorBody),
    ))]
pub async fn accept_invite(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<TokenRequest>,
) -> Result<Json<JoinedBody>, ApiError> {
    let (company, role) =
        companies::accept_invite(&state.ctx, &principal, &body.token, &meta).await?;
    Ok(Json(JoinedBody { company: company.into(), role: role.as_str().into() }))
}

/// Removes a member (owners), or leaves (anyone, for themselves). The last owner stays.
#[utoipa::path(delete, path = "/api/v1/companies/{slug}/members/{user_id}", tag = "companies", security(("bearer" = [])),
    params(
        ("slug" = String, Path, description = "The company's slug"),
        ("user_id" = String, Path, description = "The member's user id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`last_owner`", body = ErrorBody),
    ))]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path((slug, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    companies::remove_member(&state.ctx, &principal, &slug, &user_id, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes another member an owner; the caller becomes a recruiter.
#[utoipa::path(post, path = "/api/v1/companies/{slug}/transfer-ownership", tag = "companies", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug")),
    request_body = TransferOwnershipRequest,
    responses(
        (status = 200, description = "The members now", body = [MemberBody]),
        (status = 403, description = "`forbidden`: not an owner", body = ErrorBody),
        (status = 404, description = "`not_found`: no such member", body = ErrorBody),
    ))]
pub async fn transfer_ownership(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
    Path(slug): Path<String>,
    Json(body): Json<TransferOwnershipRequest>,
) -> Result<Json<Vec<MemberBody>>, ApiError> {
    let members =
        companies::transfer_ownership(&state.ctx, &principal, &slug, &body.user_id, &meta).await?;
    Ok(Json(members.into_iter().map(Into::into).collect()))
}

/// A company's jobs in every status, newest first (its members and admins).
#[utoipa::path(get, path = "/api/v1/companies/{slug}/jobs", tag = "companies", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The company's slug"), CompanyJobsQuery),
    responses(
        (status = 200, description = "A page of the company's jobs", body = JobPageBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ))]
pub async fn company_jobs(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(slug): Path<String>,
    Query(query): Query<CompanyJobsQuery>,
) -> Result<Json<JobPageBody>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be between 1 and 100"));
    }
    let offset = query.offset.unwrap_or(0);
    let status = query
        .status
        .as_deref()
        .map(|s| {
            JobStatus::parse(s).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("status must be one of {}", JobStatus::names()),
                )
            })
        })
        .transpose()?;
    let (company, items, total) =
        jobs::list_for_company(&state.ctx, &principal, &slug, status, limit, offset).await?;
    Ok(Json(JobPageBody {
        items: items.iter().map(|job| JobBody::new(job, &company, true)).collect(),
        total,
        limit,
        offset,
    }))
}
