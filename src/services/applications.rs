//! Applications: a candidate applies to a published job with a resume and a cover letter; the
//! company moves it through its pipeline; every move is kept, and the emails each side should
//! get are queued in the same transaction as the change they announce.

use chrono::{DateTime, Utc};
use minijinja::context;

use super::email::{self, Template};
use super::error::ConflictKind;
use super::policy::{self, ApplicationViewer};
use super::{Context, Principal, ServiceError};
use crate::models::application::{Application, Note, RejectionReason, Stage, StageEvent};
use crate::models::company::Company;
use crate::models::job::{Job, JobStatus, Review};
use crate::models::resume::Resume;
use crate::repositories::{
    self,
    applications::{JobFilter, NewApplication},
};

/// The longest cover letter kept.
pub const MAX_COVER_LETTER: usize = 20_000;

/// An application with what its viewer may see around it.
#[derive(Debug, Clone)]
pub struct ApplicationView {
    pub application: Application,
    pub job: Job,
    pub company: Company,
    pub viewer: ApplicationViewer,
}

fn cover_letter(text: Option<&str>) -> Result<String, ServiceError> {
    let text = text.unwrap_or("").trim();
    if text.chars().count() > MAX_COVER_LETTER {
        return Err(ServiceError::validation(format!(
            "cover_letter must be at most {MAX_COVER_LETTER} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err(ServiceError::validation("cover_letter contains control characters"));
    }
    Ok(text.to_owned())
}

fn link(ctx: &Context, path: &str) -> String {
    format!("{}{path}", ctx.public_url)
}

/// Applies to a job. One application per candidate per job: the unique index decides between
/// racing requests, and the loser gets `already_applied`.
pub async fn apply(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
    resume_id: Option<&str>,
    letter: Option<&str>,
) -> Result<ApplicationView, ServiceError> {
    policy::keep_resumes(principal)?;
    let job =
        repositories::jobs::find(&ctx.db, job_id).await?.ok_or(ServiceError::NotFound("job"))?;
    let now = Utc::now();
    if !job.is_public(now) {
        // A draft or a job waiting for review is not known to candidates at all.
        let ever_public = job.posted_at.is_some() && job.review == Review::Approved;
        return Err(if ever_public && job.status != JobStatus::Draft {
            ServiceError::conflict(ConflictKind::JobClosed, "this job no longer takes applications")
        } else {
            ServiceError::NotFound("job")
        });
    }
    if let Some(url) = job.fields.apply_url.as_deref().filter(|u| !u.is_empty()) {
        return Err(ServiceError::ApplyExternally(url.to_owned()));
    }
    let letter = cover_letter(letter)?;
    let resume_id = match resume_id {
        Some(id) => {
            if id.trim().is_empty() {
                return Err(ServiceError::validation("resume_id must name one of your resumes"));
            }
            let resume = repositories::resumes::find(&ctx.db, id)
                .await?
                .ok_or(ServiceError::NotFound("resume"))?;
            policy::own_resume(principal, &resume.owner_id)?;
            resume.id
        }
        None => repositories::resumes::default_of(&ctx.db, &principal.user_id).await?.ok_or_else(
            || ServiceError::validation("upload a resume first (or name one with resume_id)"),
        )?,
    };
    if let Some(existing) =
        repositories::applications::find_by_job_candidate(&ctx.db, &job.id, &principal.user_id)
            .await?
    {
        return Err(already_applied(&existing));
    }
    let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    let candidate = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let members = repositories::companies::members(&ctx.db, &company.id).await?;
    let count = repositories::applications::count_for_job(&ctx.db, &job.id).await?;

    let id = repositories::new_key();
    let written = async {
        let tx = ctx.db.begin().await?;
        if !repositories::resumes::hold(&tx, &resume_id, &principal.user_id).await? {
            return Err(ServiceError::NotFound("resume"));
        }
        repositories::applications::insert(
            &tx,
            &NewApplication {
                id: &id,
                job_id: &job.id,
                company_id: &company.id,
                candidate_id: &principal.user_id,
                resume_id: &resume_id,
                cover_letter: &letter,
            },
        )
        .await?;
        repositories::applications::insert_event(
            &tx,
            &id,
            &StageEvent {
                id: String::new(),
                from: None,
                to: Stage::Applied,
                actor_id: principal.user_id.clone(),
                by_role: "candidate".into(),
                reason: None,
                note: None,
                at: now,
            },
        )
        .await?;
        let name = if candidate.full_name.trim().is_empty() {
            candidate.email.clone()
        } else {
            candidate.full_name.clone()
        };
        for member in &members {
            email::queue(
                &tx,
                Template::ApplicationReceived,
                &member.email,
                &ctx.public_url,
                context! {
                    candidate => name,
                    job_title => job.fields.title,
                    company => company.name,
                    link => link(ctx, &format!("/applications/{id}")),
                    count => count + 1,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<(), ServiceError>(())
    }
    .await;
    match written {
        Ok(()) => {}
        Err(err) => {
            // Lost a race with the same candidate's other request: the unique index refused
            // the write, or the transactions conflicted. Either way one application exists.
            if let Some(existing) = repositories::applications::find_by_job_candidate(
                &ctx.db,
                &job.id,
                &principal.user_id,
            )
            .await?
            {
                return Err(already_applied(&existing));
            }
            return Err(err);
        }
    }
    get(ctx, principal, &id).await
}

fn already_applied(existing: &Application) -> ServiceError {
    ServiceError::conflict(
        ConflictKind::AlreadyApplied,
        format!("you applied to this job already (application {})", existing.id),
    )
}

/// An application, for its candidate or a member of the job's company. The company's first
/// look is stamped (the cover letter is frozen from then).
pub async fn get(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<ApplicationView, ServiceError> {
    let mut view = load(ctx, principal, id).await?;
    if view.viewer == ApplicationViewer::Company && view.application.viewed_at.is_none() {
        repositories::applications::mark_viewed(&ctx.db, id).await?;
        view = load(ctx, principal, id).await?;
    }
    Ok(view)
}

async fn load(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<ApplicationView, ServiceError> {
    let application = repositories::applications::find(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound("application"))?;
    let membership = if application.candidate_id == principal.user_id {
        None
    } else {
        repositories::companies::member_role(&ctx.db, &application.company_id, &principal.user_id)
            .await?
    };
    let viewer = policy::view_application(principal, &application.candidate_id, membership)?;
    let job = repositories::jobs::find(&ctx.db, &application.job_id)
        .await?
        .ok_or(ServiceError::NotFound("job"))?;
    let company = repositories::companies::find_by_id(&ctx.db, &application.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok(ApplicationView { application, job, company, viewer })
}

/// Who applied, with the profile of the resume they sent, for the company's view (`None` for
/// the candidate's own view, or an account that is gone).
pub async fn candidate_of(
    ctx: &Context,
    view: &ApplicationView,
) -> Result<Option<(crate::models::user::User, Option<crate::models::resume::Profile>)>, ServiceError>
{
    if view.viewer != ApplicationViewer::Company {
        return Ok(None);
    }
    let Some(user) =
        repositories::users::find_by_id(&ctx.db, &view.application.candidate_id).await?
    else {
        return Ok(None);
    };
    let profile = repositories::resumes::find(&ctx.db, &view.application.resume_id)
        .await?
        .map(|r| r.profile());
    Ok(Some((user, profile)))
}

/// The candidate's own applications, newest first, with their jobs and companies.
pub async fn list_mine(
    ctx: &Context,
    principal: &Principal,
    limit: u32,
    offset: u32,
) -> Result<(Vec<(Application, Option<(Job, Company)>)>, u64), ServiceError> {
    policy::keep_resumes(principal)?;
    let (applications, total) =
        repositories::applications::list_by_candidate(&ctx.db, &principal.user_id, limit, offset)
            .await?;
    let mut out = Vec::with_capacity(applications.len());
    for application in applications {
        let job = repositories::jobs::find(&ctx.db, &application.job_id).await?;
        let company = repositories::companies::find_by_id(&ctx.db, &application.company_id).await?;
        out.push((application, job.zip(company)));
    }
    Ok((out, total))
}

/// Filters of a job's applications as the API received them.
#[derive(Debug, Clone, Default)]
pub struct JobApplicationsQuery {
    pub stages: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of a job's applications with the candidates' names and the counts per stage.
pub struct JobApplications {
    pub items: Vec<(Application, crate::models::user::User)>,
    pub total: u64,
    pub counts: Vec<(String, u64)>,
}

/// A job's applications, for the members of its company.
pub async fn list_for_job(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
    query: JobApplicationsQuery,
) -> Result<JobApplications, ServiceError> {
    let job =
        repositories::jobs::find(&ctx.db, job_id).await?.ok_or(ServiceError::NotFound("job"))?;
    let membership =
        repositories::companies::member_role(&ctx.db, &job.company_id, &principal.user_id).await?;
    if membership.is_none() {
        // Others may know the job, but not who applied to it.
        return Err(if job.is_public(Utc::now()) {
            ServiceError::forbidden("only the company's members see its applications")
        } else {
            ServiceError::NotFound("job")
        });
    }
    let mut stages = Vec::new();
    for stage in &query.stages {
        let stage = stage.trim().to_ascii_lowercase();
        if Stage::parse(&stage).is_none() {
            return Err(ServiceError::validation(format!(
                "stage {stage:?} is not one of {}",
                Stage::names()
            )));
        }
        stages.push(stage);
    }
    let filter = JobFilter {
        stages,
        since: query.since,
        until: query.until,
        limit: query.limit,
        offset: query.offset,
    };
    let (mut applications, total, counts) =
        repositories::applications::list_by_job(&ctx.db, job_id, &filter).await?;
    // The list shows cover letters: the company has read them.
    let now = Utc::now();
    for application in applications.iter_mut().filter(|a| a.viewed_at.is_none()) {
        repositories::applications::mark_viewed(&ctx.db, &application.id).await?;
        application.viewed_at = Some(now);
    }
    let mut items = Vec::with_capacity(applications.len());
    for application in applications {
        if let Some(user) =
            repositories::users::find_by_id(&ctx.db, &application.candidate_id).await?
        {
            items.push((application, user));
        }
    }
    let counts = Stage::ALL
        .iter()
        .map(|s| {
            (
                s.as_str().to_owned(),
                counts.iter().find(|(name, _)| name == s.as_str()).map_or(0, |(_, n)| *n),
            )
        })
        .collect();
    Ok(JobApplications { items, total, counts })
}

fn stage_text(stage: Stage) -> &'static str {
    match stage {
        Stage::Applied => "received",
        Stage::Screening => "in screening",
        Stage::Interview => "invited to interview",
        Stage::Offer => "an offer is on its way",
        Stage::Hired => "hired: congratulations",
        Stage::Rejected => "not moving forward",
        Stage::Withdrawn => "withdrawn",
    }
}

fn reason_text(reason: RejectionReason) -> &'static str {
    match reason {
        RejectionReason::NotQualified => "the qualifications the role needs",
        RejectionReason::InsufficientExperience => "the experience the role needs",
        RejectionReason::PositionFilled => "the position was filled",
        RejectionReason::SalaryExpectations => "salary expectations",
        RejectionReason::Location => "location",
        RejectionReason::BetterFit => "another candidate was a closer fit",
        RejectionReason::Other => "other reasons",
    }
}

fn clean_note(note: Option<&str>) -> Result<Option<String>, ServiceError> {
    match note.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > 10_000 => {
            Err(ServiceError::validation("note must be at most 10000 characters"))
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

/// A company moves an application (forward, or to `rejected` with a reason); the candidate is
/// emailed about the moves they should know of.
pub async fn move_stage(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    to: &str,
    reason: Option<&str>,
    note: Option<&str>,
) -> Result<ApplicationView, ServiceError> {
    let view = load(ctx, principal, id).await?;
    let to = Stage::parse(to.trim()).ok_or_else(|| {
        ServiceError::validation(format!("stage {to:?} is not one of {}", Stage::names()))
    })?;
    let from = view.application.stage;
    let (by_role, allowed) = match view.viewer {
        ApplicationViewer::Company => ("company", Stage::company_may_move(from, to)),
        ApplicationViewer::Candidate => ("candidate", Stage::candidate_may_move(from, to)),
    };
    if !allowed {
        if view.viewer == ApplicationViewer::Candidate && to != Stage::Withdrawn {
            return Err(ServiceError::forbidden(
                "candidates withdraw their applications; the company moves them",
            ));
        }
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            format!("an application cannot move from {from} to {to}"),
        ));
    }
    let reason = match (to, reason.map(str::trim).filter(|r| !r.is_empty())) {
        (Stage::Rejected, None) => {
            return Err(ServiceError::validation(format!(
                "rejecting needs a reason, one of {}",
                RejectionReason::names()
            )));
        }
        (Stage::Rejected, Some(r)) => Some(RejectionReason::parse(r).ok_or_else(|| {
            ServiceError::validation(format!(
                "reason {r:?} is not one of {}",
                RejectionReason::names()
            ))
        })?),
        (_, Some(_)) => {
            return Err(ServiceError::validation("a reason is given only when rejecting"));
        }
        (_, None) => None,
    };
    let note = clean_note(note)?;
    let candidate =
        repositories::users::find_by_id(&ctx.db, &view.application.candidate_id).await?;

    let tx = ctx.db.begin().await?;
    if !repositories::applications::set_stage_if(&tx, id, from, to, reason).await? {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the application moved meanwhile; read it again",
        ));
    }
    repositories::applications::insert_event(
        &tx,
        id,
        &StageEvent {
            id: String::new(),
            from: Some(from),
            to,
            actor_id: principal.user_id.clone(),
            by_role: by_role.into(),
            reason,
            note,
            at: Utc::now(),
        },
    )
    .await?;
    if view.viewer == ApplicationViewer::Company
        && to.tells_candidate()
        && let Some(candidate) = &candidate
    {
        let name = if candidate.full_name.trim().is_empty() {
            "there".to_owned()
        } else {
            candidate.full_name.clone()
        };
        email::queue(
            &tx,
            Template::ApplicationStatus,
            &candidate.email,
            &ctx.public_url,
            context! {
                name => name,
                job_title => view.job.fields.title,
                company => view.company.name,
                stage_text => stage_text(to),
                reason => reason.map(reason_text),
                link => link(ctx, &format!("/applications/{id}")),
            },
        )
        .await?;
    }
    tx.commit().await?;
    load(ctx, principal, id).await
}

/// The candidate withdraws an open application (the company may not).
pub async fn withdraw(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    note: Option<&str>,
) -> Result<ApplicationView, ServiceError> {
    let view = load(ctx, principal, id).await?;
    if view.viewer != ApplicationViewer::Candidate {
        return Err(ServiceError::forbidden("only the candidate withdraws an application"));
    }
    move_stage(ctx, principal, id, Stage::Withdrawn.as_str(), None, note).await
}

/// The candidate changes the cover letter, until the company first opens the application.
pub async fn update_cover_letter(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    text: &str,
) -> Result<ApplicationView, ServiceError> {
    let view = load(ctx, principal, id).await?;
    if view.viewer != ApplicationViewer::Candidate {
        return Err(ServiceError::forbidden("only the candidate edits the cover letter"));
    }
    let text = cover_letter(Some(text))?;
    if !repositories::applications::update_cover_letter_if_unread(&ctx.db, id, &text).await? {
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            "the company has opened this application (or it is closed); the cover letter no longer changes",
        ));
    }
    load(ctx, principal, id).await
}

/// The moves of an application. The candidate's view leaves out internal notes.
pub async fn history(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(ApplicationViewer, Vec<StageEvent>), ServiceError> {
    let view = load(ctx, principal, id).await?;
    let mut events = repositories::applications::events(&ctx.db, id).await?;
    if view.viewer == ApplicationViewer::Candidate {
        for event in &mut events {
            event.note = None;
        }
    }
    Ok((view.viewer, events))
}

async fn company_view(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<ApplicationView, ServiceError> {
    let view = load(ctx, principal, id).await?;
    if view.viewer != ApplicationViewer::Company {
        // The candidate knows the application exists, but its internal notes are not theirs.
        return Err(ServiceError::forbidden("internal notes are for the company's members"));
    }
    Ok(view)
}

pub async fn add_note(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    body: &str,
) -> Result<Note, ServiceError> {
    company_view(ctx, principal, id).await?;
    let body = clean_note(Some(body))?
        .ok_or_else(|| ServiceError::validation("body must not be empty"))?;
    Ok(repositories::applications::insert_note(&ctx.db, id, &principal.user_id, &body).await?)
}

pub async fn notes(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Vec<Note>, ServiceError> {
    company_view(ctx, principal, id).await?;
    Ok(repositories::applications::notes(&ctx.db, id).await?)
}

/// The resume sent with an application (its profile with the candidate's corrections), for
/// the candidate and the company.
pub async fn resume(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Resume, ServiceError> {
    let view = load(ctx, principal, id).await?;
    repositories::resumes::find(&ctx.db, &view.application.resume_id)
        .await?
        .ok_or(ServiceError::NotFound("resume"))
}

/// The original file of the resume sent with an application.
pub async fn resume_file(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(Resume, bytes::Bytes), ServiceError> {
    let resume = resume(ctx, principal, id).await?;
    let content = repositories::resumes::file(&ctx.db, &resume.id)
        .await?
        .ok_or(ServiceError::NotFound("resume file"))?;
    Ok((resume, content))
}
