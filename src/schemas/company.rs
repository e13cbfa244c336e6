//! Bodies of `/api/v1/companies/*`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::company::{Company, CompanyInput, CompanyRole, Member};
use crate::models::token::PendingInvite;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCompanyRequest {
    #[schema(example = "Acme Robotics")]
    pub name: String,
    /// Lower-case words joined by hyphens; derived from the name when absent. Never changes.
    #[schema(example = "acme-robotics")]
    pub slug: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    /// One of 1-10, 11-50, 51-200, 201-500, 501-1000, 1001-5000, 5001+.
    pub size: Option<String>,
    pub logo_url: Option<String>,
}

impl From<CreateCompanyRequest> for CompanyInput {
    fn from(r: CreateCompanyRequest) -> Self {
        CompanyInput {
            name: Some(r.name),
            slug: r.slug,
            website: r.website,
            description: r.description,
            location: r.location,
            size: r.size,
            logo_url: r.logo_url,
        }
    }
}

/// Fields to change; absent ones stay, an empty string clears an optional one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCompanyRequest {
    pub name: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub size: Option<String>,
    pub logo_url: Option<String>,
}

impl From<UpdateCompanyRequest> for CompanyInput {
    fn from(r: UpdateCompanyRequest) -> Self {
        CompanyInput {
            name: r.name,
            slug: None,
            website: r.website,
            description: r.description,
            location: r.location,
            size: r.size,
            logo_url: r.logo_url,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompanyBody {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub size: Option<String>,
    pub logo_url: Option<String>,
    /// Checked by the portal's admins.
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Company> for CompanyBody {
    fn from(c: Company) -> Self {
        Self {
            id: c.id,
            name: c.name,
            slug: c.slug,
            website: c.website,
            description: c.description,
            location: c.location,
            size: c.size,
            logo_url: c.logo_url,
            verified: c.verified,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberBody {
    pub user_id: String,
    pub email: String,
    pub full_name: String,
    /// `owner` or `recruiter`.
    pub role: String,
    pub since: DateTime<Utc>,
}

impl From<Member> for MemberBody {
    fn from(m: Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            full_name: m.full_name,
            role: m.role.as_str().into(),
            since: m.since,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteBody {
    pub id: String,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<PendingInvite> for InviteBody {
    fn from(i: PendingInvite) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: i.role.as_str().into(),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MembersBody {
    pub members: Vec<MemberBody>,
    /// Invitations not yet accepted.
    pub invites: Vec<InviteBody>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompanyRoleBody {
    Owner,
    Recruiter,
}

impl From<CompanyRoleBody> for CompanyRole {
    fn from(r: CompanyRoleBody) -> Self {
        match r {
            CompanyRoleBody::Owner => CompanyRole::Owner,
            CompanyRoleBody::Recruiter => CompanyRole::Recruiter,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    pub role: CompanyRoleBody,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferOwnershipRequest {
    /// The member who becomes an owner; the caller becomes a recruiter.
    pub user_id: String,
}

/// The company just joined.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JoinedBody {
    pub company: CompanyBody,
    pub role: String,
}
