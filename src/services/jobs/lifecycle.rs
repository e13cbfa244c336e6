//! Creating and editing jobs and moving them along their lifecycle (draft → published ⇄
//! closed, any → archived), moderation, and reading a job as its reader may see it.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::PORTAL_SOURCE;
use super::index::{sync_ids, sync_index};
use super::input::{content_hash, invalid, validate};
use crate::models::audit::AuditAction;
use crate::models::company::Company;
use crate::models::job::{Job, JobFields, JobInput, JobStatus, Review, Workplace};
use crate::repositories::jobs::NewJob;
use crate::repositories::{self, new_key};
use crate::services::error::ConflictKind;
use crate::services::{Context, Principal, RequestMeta, ServiceError, audit, policy, races};
use crate::utils::validators::is_record_id;

/// What publishing requires of a job made in the portal.
fn publishable(fields: &JobFields, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let mut missing = Vec::new();
    if fields.description.trim().is_empty() {
        missing.push("description");
    }
    if fields.workplace.is_none() {
        missing.push("workplace");
    }
    if fields.employment_type.is_none() {
        missing.push("employment_type");
    }
    let placed = fields.locations.iter().any(|l| l.city.is_some() || l.country_code.is_some());
    if fields.workplace != Some(Workplace::Remote) && !placed {
        missing.push("city or country_code (or workplace remote)");
    }
    if !missing.is_empty() {
        return Err(invalid(format!("publishing needs: {}", missing.join(", "))));
    }
    if fields.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at is in the past"));
    }
    Ok(())
}

async fn company_by_slug(ctx: &Context, slug: &str) -> Result<Company, ServiceError> {
    repositories::companies::find_by_slug(&ctx.db, slug)
        .await?
        .ok_or(ServiceError::NotFound("company"))
}

async fn job_of_member(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Job, ServiceError> {
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let role =
        repositories::companies::member_role(&ctx.db, &job.company_id, &principal.user_id).await?;
    // A job the caller may see (public) but not change is 403; one they may not see is 404.
    if role.is_none() && !principal.is_admin() {
        return Err(if job.is_public(Utc::now()) {
            ServiceError::forbidden("only the company's members change its jobs")
        } else {
            ServiceError::NotFound("job")
        });
    }
    Ok(job)
}

/// Creates a draft job for a company the caller belongs to.
pub async fn create(
    ctx: &Context,
    principal: &Principal,
    company_slug: &str,
    input: JobInput,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let company = company_by_slug(ctx, company_slug).await?;
    let role =
        repositories::companies::member_role(&ctx.db, &company.id, &principal.user_id).await?;
    policy::act_for_company(principal, role)?;
    let fields = validate(None, input)?;
    if fields.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(invalid("expires_at is in the past"));
    }
    let id = new_key();
    let new = NewJob {
        content_hash: content_hash(&company.id, &fields, JobStatus::Draft),
        id: id.clone(),
        company_id: company.id.clone(),
        fields,
        status: JobStatus::Draft,
        review: Review::Approved,
        posted_at: None,
        source: PORTAL_SOURCE.into(),
        external_id: id,
        created_by: Some(principal.user_id.clone()),
    };
    let tx = ctx.db.begin().await?;
    let job = repositories::jobs::insert(&tx, &new).await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::JobCreated,
        Some(&job.id),
        meta,
        json!({ "company": company.id }),
    )
    .await?;
    tx.commit().await?;
    // A draft is not indexed, but the index's watermark moves past it (otherwise the next start
    // would take the index for stale).
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// Changes a job's fields (not when archived).
pub async fn update(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    input: JobInput,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let job = job_of_member(ctx, principal, id).await?;
    if job.status == JobStatus::Archived {
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            "an archived job cannot be edited",
        ));
    }
    let fields = validate(Some(&job.fields), input)?;
    if job.status == JobStatus::Published {
        publishable(&fields, Utc::now())?;
    }
    let tx = ctx.db.begin().await?;
    let hash = content_hash(&job.company_id, &fields, job.status);
    let Some(job) =
        repositories::jobs::update_fields_if(&tx, &job.id, Some(job.updated_at), &fields, &hash)
            .await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::JobUpdated,
        Some(&job.id),
        meta,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// The moves the lifecycle allows.
fn allowed(from: JobStatus, to: JobStatus) -> bool {
    use JobStatus::*;
    matches!(
        (from, to),
        (Draft, Published)
            | (Closed, Published)
            | (Published, Closed)
            | (Draft | Published | Closed, Archived)
    )
}

/// Moves a job along its lifecycle: publish, close or archive.
pub async fn transition(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    to: JobStatus,
    moderate_unverified: bool,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let job = job_of_member(ctx, principal, id).await?;
    if !allowed(job.status, to) {
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            format!("a {} job cannot become {}", job.status, to),
        ));
    }
    let mut review = job.review;
    if to == JobStatus::Published {
        publishable(&job.fields, Utc::now())?;
        let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
            .await?
            .ok_or(ServiceError::NotFound("company"))?;
        let needs_review = moderate_unverified && !company.verified;
        // A job approved before (published, closed, reopened) stays approved.
        let approved_before = job.posted_at.is_some() && job.review == Review::Approved;
        review = if !needs_review || approved_before { Review::Approved } else { Review::Pending };
    }
    let tx = ctx.db.begin().await?;
    let Some(job) =
        repositories::jobs::set_status_if(&tx, &job.id, Some(job.status), to, review).await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    let action = match to {
        JobStatus::Published => AuditAction::JobPublished,
        JobStatus::Closed => AuditAction::JobClosed,
        _ => AuditAction::JobArchived,
    };
    audit::record(
        &tx,
        Some(&principal.user_id),
        action,
        Some(&job.id),
        meta,
        json!({ "review": review.as_str() }),
    )
    .await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// A job as its reader may see it: public jobs for everyone, any job for its company's
/// members and admins; anything else is not found.
pub async fn get(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, Company), ServiceError> {
    let (job, _) = visible(ctx, principal, id).await?;
    let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok((job, company))
}

/// A job opened by a visitor: like [`get`], and a visit by anyone outside the company counts
/// as a view. Also says whether the caller is a member (or an admin).
pub async fn view(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, Company, bool), ServiceError> {
    let (job, member) = visible(ctx, principal, id).await?;
    if !member {
        count_view(ctx, &job.id).await?;
    }
    let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok((job, company, member))
}

/// Counts a view of a job. Views of one job at the same moment write the same record, and the
/// later commit loses the race: it is made again, and a view that still loses after that is
/// left uncounted (logged) rather than failing the page. The count is a statistic; the reader
/// asked for the job.
async fn count_view(ctx: &Context, id: &str) -> Result<(), ServiceError> {
    let counted =
        races::again_on_conflict(|| async { Ok(repositories::jobs::add_view(&ctx.db, id).await?) })
            .await;
    match counted {
        Err(ServiceError::Conflict(ConflictKind::Concurrent, _)) => {
            tracing::info!(job = id, "a view was not counted: the job's record stayed contended");
            Ok(())
        }
        other => other,
    }
}

/// The job if the caller may see it, and whether they are its company's member (or an admin).
async fn visible(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, bool), ServiceError> {
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let member = match principal {
        Some(p) => {
            p.is_admin()
                || repositories::companies::member_role(&ctx.db, &job.company_id, &p.user_id)
                    .await?
                    .is_some()
        }
        None => false,
    };
    if !job.is_public(Utc::now()) && !member {
        return Err(ServiceError::NotFound("job"));
    }
    Ok((job, member))
}

/// A company's jobs in any status (its members and admins).
pub async fn list_for_company(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    status: Option<JobStatus>,
    limit: u32,
    offset: u32,
) -> Result<(Company, Vec<Job>, u64), ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    let role =
        repositories::companies::member_role(&ctx.db, &company.id, &principal.user_id).await?;
    policy::view_members(principal, role)?;
    let (jobs, total) =
        repositories::jobs::list_for_company(&ctx.db, &company.id, status, limit, offset).await?;
    Ok((company, jobs, total))
}

/// Jobs waiting for an admin.
pub async fn pending_review(
    ctx: &Context,
    principal: &Principal,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Job>, u64), ServiceError> {
    policy::require_admin(principal)?;
    Ok(repositories::jobs::pending_review(&ctx.db, limit, offset).await?)
}

/// An admin's verdict on a job waiting for review.
pub async fn review(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    verdict: Review,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    policy::require_admin(principal)?;
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let tx = ctx.db.begin().await?;
    let Some(job) =
        repositories::jobs::set_status_if(&tx, &job.id, Some(job.status), job.status, verdict)
            .await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    let action = if verdict == Review::Approved {
        AuditAction::JobApproved
    } else {
        AuditAction::JobRejected
    };
    audit::record(&tx, Some(&principal.user_id), action, Some(&job.id), meta, json!({})).await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// How many expired jobs one write closes.
const CLOSED_PER_WRITE: u32 = 500;

/// Closes the published jobs whose expiry passed (the scheduled task), [`CLOSED_PER_WRITE`]
/// at a time, each batch leaving the search index before the next.
pub async fn close_expired(ctx: &Context) -> Result<usize, ServiceError> {
    let now = Utc::now();
    let mut closed = 0;
    loop {
        let ids = repositories::jobs::close_expired(&ctx.db, now, CLOSED_PER_WRITE).await?;
        let last = ids.len() < CLOSED_PER_WRITE as usize;
        closed += ids.len();
        sync_ids(ctx, ids).await?;
        if last {
            return Ok(closed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        use JobStatus::*;
        assert!(allowed(Draft, Published));
        assert!(allowed(Published, Closed));
        assert!(allowed(Closed, Published));
        assert!(allowed(Closed, Archived));
        assert!(!allowed(Archived, Published));
        assert!(!allowed(Draft, Closed));
        assert!(!allowed(Archived, Archived));
    }
}
