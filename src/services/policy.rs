//! Who may do what: every authorization decision of the portal, in one place.
//!
//! A decision is taken from facts the caller already loaded (the principal, their role in a
//! company). An object the caller may not see is [`ServiceError::NotFound`], so its existence
//! is not revealed; one they may see but not change is [`ServiceError::Forbidden`].

use super::{Principal, ServiceError};
use crate::models::company::CompanyRole;
use crate::models::user::Role;

/// Admin-only areas.
pub fn require_admin(p: &Principal) -> Result<(), ServiceError> {
    if p.is_admin() { Ok(()) } else { Err(ServiceError::forbidden("admins only")) }
}

/// Creating a company: employers (who then own it) and admins.
pub fn create_company(p: &Principal) -> Result<(), ServiceError> {
    match p.role {
        Role::Employer | Role::Admin => Ok(()),
        Role::Candidate => Err(ServiceError::forbidden("only employers create companies")),
    }
}

/// Seeing a company's members and invitations: its members and admins. Others are told it has
/// none to show (404), like any object they may not see.
pub fn view_members(p: &Principal, membership: Option<CompanyRole>) -> Result<(), ServiceError> {
    if membership.is_some() || p.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::NotFound("company members"))
    }
}

/// Editing a company's profile: its owners and admins. The company is public, so anyone else
/// may see it but not change it (403).
pub fn edit_company(p: &Principal, membership: Option<CompanyRole>) -> Result<(), ServiceError> {
    match membership {
        Some(CompanyRole::Owner) => Ok(()),
        _ if p.is_admin() => Ok(()),
        Some(CompanyRole::Recruiter) => {
            Err(ServiceError::forbidden("only owners edit the company"))
        }
        None => Err(ServiceError::forbidden("only the company's owners edit it")),
    }
}

/// Inviting, removing others and transferring ownership: owners only. Admins moderate
/// companies but do not run their teams.
pub fn manage_members(membership: Option<CompanyRole>) -> Result<(), ServiceError> {
    match membership {
        Some(CompanyRole::Owner) => Ok(()),
        Some(CompanyRole::Recruiter) => Err(ServiceError::forbidden("only owners manage members")),
        None => Err(ServiceError::forbidden("only the company's owners manage its members")),
    }
}

/// Removing a member: owners remove anyone; every member may remove themselves (leave).
pub fn remove_member(
    p: &Principal,
    membership: Option<CompanyRole>,
    target_user: &str,
) -> Result<(), ServiceError> {
    if membership.is_some() && p.user_id == target_user {
        return Ok(());
    }
    manage_members(membership)
}

/// Acting for a company (posting and managing its jobs): its members, owners or recruiters.
/// Admins moderate jobs but do not post for companies.
pub fn act_for_company(p: &Principal, membership: Option<CompanyRole>) -> Result<(), ServiceError> {
    match membership {
        Some(_) => Ok(()),
        None if p.is_admin() => {
            Err(ServiceError::forbidden("admins moderate jobs; members of the company post them"))
        }
        None => Err(ServiceError::forbidden("only the company's members post its jobs")),
    }
}

/// Joining a company by invitation: employers only (candidates and admins act for no company).
pub fn join_company(p: &Principal) -> Result<(), ServiceError> {
    if p.role == Role::Employer {
        Ok(())
    } else {
        Err(ServiceError::forbidden("only employer accounts join companies"))
    }
}

/// Keeping resumes, applying, saving jobs and searches: candidates.
pub fn keep_resumes(p: &Principal) -> Result<(), ServiceError> {
    if p.role == Role::Candidate {
        Ok(())
    } else {
        Err(ServiceError::forbidden("resumes and applications are for candidate accounts"))
    }
}

/// A resume is its owner's: anyone else is told it does not exist. Employers see the resumes
/// sent with applications to their jobs through the application, not here.
pub fn own_resume(p: &Principal, owner_id: &str) -> Result<(), ServiceError> {
    if p.user_id == owner_id { Ok(()) } else { Err(ServiceError::NotFound("resume")) }
}

/// Talking to the assistant: candidates, for now (it answers over a candidate's own records).
pub fn use_assistant(p: &Principal) -> Result<(), ServiceError> {
    if p.role == Role::Candidate {
        Ok(())
    } else {
        Err(ServiceError::forbidden("the assistant is for candidate accounts for now"))
    }
}

/// A conversation is its owner's: anyone else, admins included, is told it does not exist.
pub fn own_conversation(p: &Principal, owner_id: &str) -> Result<(), ServiceError> {
    if p.user_id == owner_id { Ok(()) } else { Err(ServiceError::NotFound("conversation")) }
}

/// Who sees an application: the candidate who sent it and the members of the job's company.
/// Everyone else (admins included: it is private correspondence) is told it does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationViewer {
    Candidate,
    Company,
}

pub fn view_application(
    p: &Principal,
    candidate_id: &str,
    membership: Option<CompanyRole>,
) -> Result<ApplicationViewer, ServiceError> {
    if p.user_id == candidate_id {
        Ok(ApplicationViewer::Candidate)
    } else if membership.is_some() {
        Ok(ApplicationViewer::Company)
    } else {
        Err(ServiceError::NotFound("application"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, id: &str) -> Principal {
        Principal { user_id: id.into(), role, session_id: "s".into() }
    }

    #[test]
    fn outsiders_cannot_see_members_but_members_and_admins_can() {
        let outsider = principal(Role::Employer, "u1");
        assert!(matches!(view_members(&outsider, None), Err(ServiceError::NotFound(_))));
        assert!(view_members(&outsider, Some(CompanyRole::Recruiter)).is_ok());
        assert!(view_members(&principal(Role::Admin, "a"), None).is_ok());
    }

    #[test]
    fn recruiters_and_outsiders_may_not_edit_a_company() {
        let p = principal(Role::Employer, "u1");
        assert!(edit_company(&p, Some(CompanyRole::Owner)).is_ok());
        assert!(matches!(
            edit_company(&p, Some(CompanyRole::Recruiter)),
            Err(ServiceError::Forbidden(_))
        ));
        assert!(matches!(edit_company(&p, None), Err(ServiceError::Forbidden(_))));
        assert!(edit_company(&principal(Role::Admin, "a"), None).is_ok());
    }

    #[test]
    fn a_recruiter_may_leave_but_not_remove_others() {
        let p = principal(Role::Employer, "u1");
        assert!(remove_member(&p, Some(CompanyRole::Recruiter), "u1").is_ok());
        assert!(remove_member(&p, Some(CompanyRole::Recruiter), "u2").is_err());
        assert!(remove_member(&p, Some(CompanyRole::Owner), "u2").is_ok());
        assert!(remove_member(&p, None, "u1").is_err());
    }

    #[test]
    fn applications_are_seen_by_their_candidate_and_the_company_only() {
        let candidate = principal(Role::Candidate, "c");
        assert_eq!(view_application(&candidate, "c", None).unwrap(), ApplicationViewer::Candidate);
        assert!(matches!(
            view_application(&principal(Role::Candidate, "d"), "c", None),
            Err(ServiceError::NotFound(_))
        ));
        let recruiter = principal(Role::Employer, "e");
        assert_eq!(
            view_application(&recruiter, "c", Some(CompanyRole::Recruiter)).unwrap(),
            ApplicationViewer::Company
        );
        assert!(view_application(&recruiter, "c", None).is_err());
        assert!(view_application(&principal(Role::Admin, "a"), "c", None).is_err());
        assert!(keep_resumes(&recruiter).is_err() && keep_resumes(&candidate).is_ok());
    }

    #[test]
    fn candidates_neither_create_nor_join_companies() {
        let c = principal(Role::Candidate, "c");
        assert!(create_company(&c).is_err());
        assert!(join_company(&c).is_err());
        assert!(join_company(&principal(Role::Employer, "e")).is_ok());
    }
}
