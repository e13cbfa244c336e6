//! Accounts seen from their owner: create (admin CLI), profile, export, deletion.

use serde_json::json;

use super::error::ConflictKind;
use super::{Context, Principal, RequestMeta, ServiceError, audit};
use crate::core::config::Secret;
use crate::core::security;
use crate::db::Database;
use crate::models::audit::AuditFilter;
use crate::models::audit::{AuditAction, AuditEntry};
use crate::models::company::{CompanyRole, Membership};
use crate::models::email::QueuedEmail;
use crate::models::session::Session;
use crate::models::user::{NewUser, Role, User};
use crate::repositories::{self, RepoError};
use crate::utils::validators::{Email, FullName, Password};

/// What it takes to create a user, as typed by somebody.
#[derive(Debug)]
pub struct CreateUser<'a> {
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub password: &'a str,
    /// Set when an administrator vouches for the address (accounts made from the CLI).
    pub email_verified: bool,
}

/// Validates, hashes the password (on a blocking thread) and stores the user. Any role,
/// including admin: only the command line calls this.
pub async fn create_user(db: &Database, input: CreateUser<'_>) -> Result<User, ServiceError> {
    let email = Email::parse(input.email).map_err(|e| ServiceError::validation(e.to_string()))?;
    let password = Password::parse(input.password, &email)
        .map_err(|e| ServiceError::validation(e.to_string()))?;
    let full_name =
        FullName::parse(input.full_name).map_err(|e| ServiceError::validation(e.to_string()))?;
    let password_hash = security::hash_password(password.into_secret()).await?;
    let new = NewUser {
        email: email.into_inner(),
        full_name: full_name.into_inner(),
        role: input.role,
        password_hash,
        email_verified: input.email_verified,
    };
    let tx = db.begin().await?;
    let user = match repositories::users::insert(&tx, &new).await {
        Ok(user) => user,
        Err(RepoError::Duplicate { index }) if index == "user_email" => {
            return Err(ServiceError::conflict(
                ConflictKind::EmailTaken,
                "a user with this email already exists",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let meta = RequestMeta::default();
    audit::record(
        &tx,
        None,
        AuditAction::UserCreatedByAdmin,
        Some(&user.id),
        &meta,
        json!({ "role": user.role.as_str(), "via": "cli" }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// The user with this email (any letter case), if any.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<User>, ServiceError> {
    let email = Email::parse(email).map_err(|e| ServiceError::validation(e.to_string()))?;
    Ok(repositories::users::find_by_email(db, email.as_str()).await?)
}

/// The caller's account and the companies they belong to.
pub async fn me(
    ctx: &Context,
    principal: &Principal,
) -> Result<(User, Vec<Membership>), ServiceError> {
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let memberships = repositories::companies::memberships_of(&ctx.db, &user.id).await?;
    Ok((user, memberships))
}

/// Changes the caller's name and, for candidates, whether recruiters may find them.
pub async fn update_me(
    ctx: &Context,
    principal: &Principal,
    full_name: Option<&str>,
    discoverable: Option<bool>,
    meta: &RequestMeta,
) -> Result<User, ServiceError> {
    let full_name = full_name
        .map(FullName::parse)
        .transpose()
        .map_err(|e| ServiceError::validation(e.to_string()))?
        .map(FullName::into_inner);
    if discoverable.is_some() && principal.role != Role::Candidate {
        return Err(ServiceError::validation("only candidates can be discoverable by recruiters"));
    }
    let tx = ctx.db.begin().await?;
    let user = repositories::users::update_profile(
        &tx,
        &principal.user_id,
        full_name.clone(),
        discoverable,
    )
    .await?
    .ok_or(ServiceError::NotFound("user"))?;
    let changed: Vec<&str> =
        [full_name.as_ref().map(|_| "full_name"), discoverable.map(|_| "discoverable")]
            .into_iter()
            .flatten()
            .collect();
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::ProfileUpdated,
        Some(&user.id),
        meta,
        json!({ "fields": changed }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// Everything the portal holds about the caller.
#[derive(Debug, Clone)]
pub struct Export {
    pub user: User,
    pub memberships: Vec<Membership>,
    pub sessions: Vec<Session>,
    pub emails: Vec<QueuedEmail>,
    pub audit: Vec<AuditEntry>,
    /// With their text and profile.
    pub resumes: Vec<crate::models::resume::Resume>,
    /// The caller's applications, each with its moves (internal notes left out).
    pub applications:
        Vec<(crate::models::application::Application, Vec<crate::models::application::StageEvent>)>,
    pub saved_jobs: Vec<crate::models::saved::SavedJob>,
    pub saved_searches: Vec<crate::models::saved::SavedSearch>,
    /// The caller's conversations with the assistant, each with its messages.
    pub conversations: Vec<(
        crate::models::conversation::Conversation,
        Vec<crate::models::conversation::ConversationMessage>,
    )>,
}

pub async fn export(ctx: &Context, principal: &Principal) -> Result<Export, ServiceError> {
    let (user, memberships) = me(ctx, principal).await?;
    let sessions = repositories::sessions::list_for_user(&ctx.db, &user.id).await?;
    let emails = repositories::emails::list_to(&ctx.db, &user.email).await?;
    let mut audit = Vec::new();
    for filter in [
        AuditFilter { actor: Some(user.id.clone()), ..AuditFilter::default() },
        AuditFilter { target: Some(user.id.clone()), ..AuditFilter::default() },
    ] {
        let mut offset = 0;
        loop {
            let (page, total) = repositories::audit::list(&ctx.db, &filter, 500, offset).await?;
            let n = page.len() as u32;
            audit.extend(page);
            offset += n;
            if n == 0 || u64::from(offset) >= total {
                break;
            }
        }
    }
    audit.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    audit.dedup_by(|a, b| a.id == b.id);
    let mut resumes = Vec::new();
    for listed in repositories::resumes::list_by_owner(&ctx.db, &user.id).await? {
        if let Some(resume) = repositories::resumes::find(&ctx.db, &listed.id).await? {
            resumes.push(resume);
        }
    }
    let (sent, _) =
        repositories::applications::list_by_candidate(&ctx.db, &user.id, 100_000, 0).await?;
    let mut applications = Vec::with_capacity(sent.len());
    for application in sent {
        let mut events = repositories::applications::events(&ctx.db, &application.id).await?;
        for event in &mut events {
            event.note = None;
        }
        applications.push((application, events));
    }
    let saved_jobs = repositories::saved::saved_jobs(&ctx.db, &user.id).await?;
    let saved_searches = repositories::saved::searches_of(&ctx.db, &user.id).await?;
    let conversations = super::assistant::conversations::all_of(ctx, &user.id).await?;
    Ok(Export {
        user,
        memberships,
        sessions,
        emails,
        audit,
        resumes,
        applications,
        saved_jobs,
        saved_searches,
        conversations,
    })
}

/// Deletes the caller's account after checking their password: the user, sessions, tokens,
/// emails, memberships and assistant conversations go; a company they alone belong to goes with them; a company with
/// other members needs another owner first. The audit log keeps only the (now dangling) id.
pub async fn delete_me(
    ctx: &Context,
    principal: &Principal,
    password: &str,
    meta: &RequestMeta,
) -> Result<(), ServiceError> {
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let hash = repositories::users::password_hash(&ctx.db, &user.id).await?.unwrap_or_default();
    if !security::verify_password(Secret::new(password), hash).await? {
        return Err(ServiceError::validation("the password is wrong"));
    }
    let memberships = repositories::companies::memberships_of(&ctx.db, &user.id).await?;

    let tx = ctx.db.begin().await?;
    let mut deleted_companies = Vec::new();
    for membership in &memberships {
        let company = &membership.company;
        let members = repositories::companies::count_members(&tx, &company.id).await?;
        if members <= 1 {
            repositories::tokens::delete_for_company(&tx, &company.id).await?;
            repositories::companies::delete(&tx, &company.id).await?;
            deleted_companies.push(company.id.clone());
        } else if membership.role == CompanyRole::Owner
            && repositories::companies::count_owners(&tx, &company.id).await? <= 1
        {
            return Err(ServiceError::conflict(
                ConflictKind::LastOwner,
                format!("you are the only owner of {}: transfer ownership first", company.slug),
            ));
        }
    }
    repositories::companies::remove_user_everywhere(&tx, &user.id).await?;
    repositories::applications::delete_for_candidate(&tx, &user.id).await?;
    repositories::resumes::delete_for_user(&tx, &user.id).await?;
    repositories::saved::delete_for_user(&tx, &user.id).await?;
    repositories::conversations::delete_for_user(&tx, &user.id).await?;
    repositories::sessions::delete_for_user(&tx, &user.id).await?;
    repositories::tokens::delete_for_user(&tx, &user.id, &user.email).await?;
    repositories::emails::delete_to(&tx, &user.email).await?;
    repositories::users::delete(&tx, &user.id).await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::AccountDeleted,
        Some(&user.id),
        meta,
        json!({ "companies_deleted": deleted_companies }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
