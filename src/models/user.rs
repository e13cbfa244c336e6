//! Users: candidates look for work, employers post it, admins keep the portal in order.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a user may do. Registration never grants `Admin`; only `jobportal admin create-user`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Candidate,
    Employer,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Candidate, Role::Employer, Role::Admin];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Candidate => "candidate",
            Role::Employer => "employer",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected candidate, employer or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A stored user, without the password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub email_verified: bool,
    pub disabled: bool,
    /// Candidates only: recruiters may find this profile.
    pub discoverable: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user about to be stored; the email is already normalised and the password hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub password_hash: String,
    pub email_verified: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }
}

/// Which users an admin list shows.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// Lower-case text looked for in the email and the name.
    pub text: Option<String>,
}
