//! Companies and the people who act for them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a member may do: owners manage the company and its members, recruiters act for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanyRole {
    Owner,
    Recruiter,
}

impl CompanyRole {
    pub const fn as_str(self) -> &'static str {
        match self {
            CompanyRole::Owner => "owner",
            CompanyRole::Recruiter => "recruiter",
        }
    }
}

impl fmt::Display for CompanyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompanyRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(CompanyRole::Owner),
            "recruiter" => Ok(CompanyRole::Recruiter),
            other => Err(format!("unknown company role {other:?}; expected owner or recruiter")),
        }
    }
}

/// Head-count bands a company picks from.
pub const COMPANY_SIZES: [&str; 7] =
    ["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001+"];

#[derive(Debug, Clone, PartialEq)]
pub struct Company {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub size: Option<String>,
    pub logo_url: Option<String>,
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The editable fields of a company; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct CompanyFields {
    pub name: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub size: Option<String>,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub full_name: String,
    pub role: CompanyRole,
    pub since: DateTime<Utc>,
}

/// A company one user belongs to, and as what.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub company: Company,
    pub role: CompanyRole,
}

/// A company's profile as somebody typed it.
#[derive(Debug, Clone, Default)]
pub struct CompanyInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub website: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub size: Option<String>,
    pub logo_url: Option<String>,
}
