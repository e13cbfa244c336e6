//! Companies: creation by employers, the public profile, members, invitations, ownership.

use chrono::Utc;
use minijinja::context;
use serde_json::json;

use super::email::{self, Template};
use super::error::ConflictKind;
use super::{Context, Principal, RequestMeta, ServiceError, audit, policy};
use crate::core::security;
use crate::models::audit::AuditAction;
use crate::models::company::{
    COMPANY_SIZES, Company, CompanyFields, CompanyInput, CompanyRole, Member,
};
use crate::models::token::{NewToken, PendingInvite, TokenKind};
use crate::repositories::{self, RepoError};
use crate::utils::validators::{Email, is_record_id};

/// Lower-case ASCII words joined by single hyphens, at most 60 characters.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 60 {
            break;
        }
    }
    slug.trim_matches('-').to_owned()
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 60
        && slug.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn http_url(field: &str, value: &str) -> Result<(), ServiceError> {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && value.len() <= 2048
                && !value.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(())
        }
        _ => Err(ServiceError::validation(format!("{field} must be an http:// or https:// URL"))),
    }
}

/// Checks and trims the editable fields; `creating` requires a name.
fn validate(input: &CompanyInput, creating: bool) -> Result<CompanyFields, ServiceError> {
    let text =
        |field: &str, value: &Option<String>, max: usize| -> Result<Option<String>, ServiceError> {
            match value.as_deref().map(str::trim) {
                None => Ok(None),
                Some(v) if v.chars().count() > max => Err(ServiceError::validation(format!(
                    "{field} must be at most {max} characters"
                ))),
                Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                    Err(ServiceError::validation(format!("{field} contains control characters")))
                }
                Some(v) => Ok(Some(v.to_owned())),
            }
        };
    let name = text("name", &input.name, 120)?;
    match name.as_deref() {
        Some("") => return Err(ServiceError::validation("name must not be empty")),
        None if creating => return Err(ServiceError::validation("name is required")),
        _ => {}
    }
    let fields = CompanyFields {
        name,
        website: text("website", &input.website, 2048)?,
        description: text("description", &input.description, 10_000)?,
        location: text("location", &input.location, 200)?,
        size: text("size", &input.size, 20)?,
        logo_url: text("logo_url", &input.logo_url, 2048)?,
    };
    for (field, value) in [("website", &fields.website), ("logo_url", &fields.logo_url)] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            http_url(field, v)?;
        }
    }
    if let Some(size) = fields.size.as_deref().filter(|s| !s.is_empty())
        && !COMPANY_SIZES.contains(&size)
    {
        return Err(ServiceError::validation(format!(
            "size must be one of {}",
            COMPANY_SIZES.join(", ")
        )));
    }
    Ok(fields)
}

async fn company_by_slug(ctx: &Context, slug: &str) -> Result<Company, ServiceError> {
    repositories::companies::find_by_slug(&ctx.db, slug)
        .await?
        .ok_or(ServiceError::NotFound("company"))
}

async fn role_in(
    ctx: &Context,
    company: &Company,
    principal: &Principal,
) -> Result<Option<CompanyRole>, ServiceError> {
    Ok(repositories::companies::member_role(&ctx.db, &company.id, &principal.user_id).await?)
}

/// Creates a company owned by the caller, who must be an employer with a verified address.
pub async fn create(
    ctx: &Context,
    principal: &Principal,
    input: &CompanyInput,
    meta: &RequestMeta,
) -> Result<Company, ServiceError> {
    policy::create_company(principal)?;
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if !user.email_verified {
        return Err(ServiceError::EmailNotVerified);
    }
    let mut fields = validate(input, true)?;
    // Creating, an empty optional field is simply absent.
    for field in [
        &mut fields.website,
        &mut fields.description,
        &mut fields.location,
        &mut fields.size,
        &mut fields.logo_url,
    ] {
        if field.as_deref() == Some("") {
            *field = None;
        }
    }
    let slug = match input.slug.as_deref().map(str::trim) {
        Some(slug) if !slug.is_empty() => slug.to_owned(),
        _ => slugify(fields.name.as_deref().unwrap_or_default()),
    };
    if !valid_slug(&slug) {
        return Err(ServiceError::validation(
            "slug must be lower-case letters and digits in words joined by single hyphens, at most 60 characters",
        ));
    }
    let tx = ctx.db.begin().await?;
    let company = match repositories::companies::insert(&tx, &slug, &fields, &user.id).await {
        Ok(company) => company,
        Err(RepoError::Duplicate { index }) if index == "company_slug" => {
            return Err(ServiceError::conflict(
                ConflictKind::SlugTaken,
                format!("the slug {slug:?} is taken"),
            ));
        }
        Err(err) => return Err(err.into()),
    };
    repositories::companies::add_member(&tx, &company.id, &user.id, CompanyRole::Owner).await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::CompanyCreated,
        Some(&company.id),
        meta,
        json!({ "slug": company.slug }),
    )
    .await?;
    tx.commit().await?;
    Ok(company)
}

/// The public profile of a company.
pub async fn get(ctx: &Context, slug: &str) -> Result<Company, ServiceError> {
    company_by_slug(ctx, slug).await
}

/// Changes a company's profile (owners and admins).
pub async fn update(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    input: &CompanyInput,
    meta: &RequestMeta,
) -> Result<Company, ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    policy::edit_company(principal, role_in(ctx, &company, principal).await?)?;
    if input.slug.is_some() {
        return Err(ServiceError::validation(
            "a company's slug cannot change: links to it would break",
        ));
    }
    let fields = validate(input, false)?;
    let tx = ctx.db.begin().await?;
    let updated = repositories::companies::update(&tx, &company.id, &fields)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::CompanyUpdated,
        Some(&company.id),
        meta,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    // Search pages list jobs with their company's name.
    ctx.listings.forget_all();
    if updated.name != company.name {
        // The name is searchable; the jobs' index entries carry it.
        super::jobs::sync_company(ctx, &updated.id).await?;
    }
    Ok(updated)
}

/// Members and open invitations (members and admins only).
pub async fn members(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
) -> Result<(Vec<Member>, Vec<PendingInvite>), ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    policy::view_members(principal, role_in(ctx, &company, principal).await?)?;
    let members = repositories::companies::members(&ctx.db, &company.id).await?;
    let invites = repositories::tokens::pending_invites(&ctx.db, &company.id).await?;
    Ok((members, invites))
}

/// Invites somebody by email to join as `role` (owners only).
pub async fn invite(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    email: &str,
    role: CompanyRole,
    meta: &RequestMeta,
) -> Result<PendingInvite, ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    policy::manage_members(role_in(ctx, &company, principal).await?)?;
    let email = Email::parse(email).map_err(|e| ServiceError::validation(e.to_string()))?;
    let members = repositories::companies::members(&ctx.db, &company.id).await?;
    if members.iter().any(|m| m.email == email.as_str()) {
        return Err(ServiceError::conflict(
            ConflictKind::AlreadyMember,
            "this person is already a member",
        ));
    }
    let inviter = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let token = security::random_token();
    let expires_at = Utc::now()
        + chrono::Duration::from_std(ctx.auth.invite_ttl).unwrap_or(chrono::Duration::days(7));
    let tx = ctx.db.begin().await?;
    let id = repositories::tokens::insert(
        &tx,
        &NewToken {
            kind: TokenKind::CompanyInvite,
            token_hash: security::hash_token(&token),
            email: email.as_str().to_owned(),
            user_id: None,
            company_id: Some(company.id.clone()),
            role: Some(role),
            invited_by: Some(principal.user_id.clone()),
            expires_at,
        },
    )
    .await?;
    let values = context! {
        inviter => &inviter.full_name,
        company => &company.name,
        role => role.as_str(),
        email => email.as_str(),
        link => ctx.page_link("accept-invite", &token),
        token => &token,
        days => ctx.auth.invite_ttl.as_secs() / 86_400,
    };
    email::queue(&tx, Template::CompanyInvite, email.as_str(), &ctx.public_url, values).await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::MemberInvited,
        Some(&company.id),
        meta,
        json!({ "invite": id, "role": role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(PendingInvite { id, email: email.into_inner(), role, created_at: Utc::now(), expires_at })
}

/// Joins the company an invitation names. The caller must be the employer it was sent to.
pub async fn accept_invite(
    ctx: &Context,
    principal: &Principal,
    token: &str,
    meta: &RequestMeta,
) -> Result<(Company, CompanyRole), ServiceError> {
    policy::join_company(principal)?;
    let hash = security::hash_token(token.trim());
    let invite = repositories::tokens::find_valid(&ctx.db, TokenKind::CompanyInvite, &hash)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if user.email != invite.email {
        return Err(ServiceError::forbidden("this invitation was sent to another address"));
    }
    let company_id = invite.company_id.clone().ok_or(ServiceError::InvalidToken)?;
    let role = invite.role.unwrap_or(CompanyRole::Recruiter);

    let tx = ctx.db.begin().await?;
    repositories::tokens::consume(&tx, TokenKind::CompanyInvite, &hash)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    match repositories::companies::add_member(&tx, &company_id, &user.id, role).await {
        Ok(()) => {}
        Err(RepoError::Duplicate { .. }) => {
            return Err(ServiceError::conflict(
                ConflictKind::AlreadyMember,
                "you are already a member",
            ));
        }
        Err(err) => return Err(err.into()),
    }
    // The token reached this address, which proves it.
    if !user.email_verified {
        repositories::users::set_email_verified(&tx, &user.id).await?;
    }
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::MemberJoined,
        Some(&company_id),
        meta,
        json!({ "role": role.as_str(), "invited_by": invite.invited_by }),
    )
    .await?;
    tx.commit().await?;
    let company = repositories::companies::find_by_id(&ctx.db, &company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok((company, role))
}

/// Removes a member: owners remove anyone, members may leave. The last owner cannot go.
pub async fn remove_member(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    user_id: &str,
    meta: &RequestMeta,
) -> Result<(), ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    let caller_role = role_in(ctx, &company, principal).await?;
    policy::remove_member(principal, caller_role, user_id)?;
    if !is_record_id(user_id) {
        return Err(ServiceError::NotFound("member"));
    }
    let tx = ctx.db.begin().await?;
    let target_role = repositories::companies::member_role(&tx, &company.id, user_id)
        .await?
        .ok_or(ServiceError::NotFound("member"))?;
    if target_role == CompanyRole::Owner
        && repositories::companies::count_owners(&tx, &company.id).await? <= 1
    {
        return Err(ServiceError::conflict(
            ConflictKind::LastOwner,
            "a company keeps at least one owner: transfer ownership first",
        ));
    }
    repositories::companies::remove_member(&tx, &company.id, user_id).await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::MemberRemoved,
        Some(&company.id),
        meta,
        json!({ "user": user_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes another member an owner and the caller a recruiter.
pub async fn transfer_ownership(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    to_user: &str,
    meta: &RequestMeta,
) -> Result<Vec<Member>, ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    policy::manage_members(role_in(ctx, &company, principal).await?)?;
    if to_user == principal.user_id {
        return Err(ServiceError::validation("you already own this company"));
    }
    if !is_record_id(to_user) {
        return Err(ServiceError::NotFound("member"));
    }
    let tx = ctx.db.begin().await?;
    repositories::companies::member_role(&tx, &company.id, to_user)
        .await?
        .ok_or(ServiceError::NotFound("member"))?;
    repositories::companies::set_member_role(&tx, &company.id, to_user, CompanyRole::Owner).await?;
    repositories::companies::set_member_role(
        &tx,
        &company.id,
        &principal.user_id,
        CompanyRole::Recruiter,
    )
    .await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::OwnershipTransferred,
        Some(&company.id),
        meta,
        json!({ "to": to_user }),
    )
    .await?;
    tx.commit().await?;
    Ok(repositories::companies::members(&ctx.db, &company.id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        assert_eq!(slugify("Acme & Co."), "acme-co");
        assert_eq!(slugify("  Ünïcode GmbH  "), "n-code-gmbh");
        assert_eq!(slugify("---"), "");
        assert!(slugify(&"long name ".repeat(20)).len() <= 60);
    }

    #[test]
    fn slugs_are_checked() {
        assert!(valid_slug("acme-co"));
        assert!(valid_slug("a1"));
        for bad in ["", "Acme", "acme--co", "-acme", "acme_co", "acme co"] {
            assert!(!valid_slug(bad), "{bad}");
        }
    }
}
