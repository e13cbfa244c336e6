//! Applications: a candidate's resume and cover letter sent to a job, moved through the
//! employer's pipeline, with every move kept.

use chrono::{DateTime, Utc};

string_enum!(
    /// Where an application stands. `applied → screening → interview → offer → hired` is the
    /// pipeline; `rejected` (by the company) and `withdrawn` (by the candidate) end it too.
    Stage {
        Applied => "applied",
        Screening => "screening",
        Interview => "interview",
        Offer => "offer",
        Hired => "hired",
        Rejected => "rejected",
        Withdrawn => "withdrawn",
    }
);

string_enum!(
    /// Why a company rejected an application: a fixed list, so candidates get a clear answer
    /// and companies can count.
    RejectionReason {
        NotQualified => "not_qualified",
        InsufficientExperience => "insufficient_experience",
        PositionFilled => "position_filled",
        SalaryExpectations => "salary_expectations",
        Location => "location",
        BetterFit => "better_fit",
        Other => "other",
    }
);

impl Stage {
    /// The position in the pipeline; `None` for the two exits.
    const fn rank(self) -> Option<u8> {
        match self {
            Stage::Applied => Some(0),
            Stage::Screening => Some(1),
            Stage::Interview => Some(2),
            Stage::Offer => Some(3),
            Stage::Hired => Some(4),
            Stage::Rejected | Stage::Withdrawn => None,
        }
    }

    /// Hired, rejected and withdrawn applications move no more.
    pub const fn is_final(self) -> bool {
        matches!(self, Stage::Hired | Stage::Rejected | Stage::Withdrawn)
    }

    /// A company moves an open application forward (skipping stages is allowed) or rejects it;
    /// never backward, never out of a final stage, never to `withdrawn`.
    pub fn company_may_move(from: Stage, to: Stage) -> bool {
        if from.is_final() {
            return false;
        }
        match (from.rank(), to.rank()) {
            (_, None) => to == Stage::Rejected,
            (Some(f), Some(t)) => t > f,
            (None, Some(_)) => false,
        }
    }

    /// A candidate only withdraws, and only an open application.
    pub fn candidate_may_move(from: Stage, to: Stage) -> bool {
        !from.is_final() && to == Stage::Withdrawn
    }

    /// The stages a candidate is emailed about when a company moves them there.
    pub const fn tells_candidate(self) -> bool {
        !matches!(self, Stage::Applied | Stage::Withdrawn)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub id: String,
    pub job_id: String,
    pub company_id: String,
    pub candidate_id: String,
    pub resume_id: String,
    pub cover_letter: String,
    pub stage: Stage,
    pub rejection_reason: Option<RejectionReason>,
    /// When a member of the company first opened it; the cover letter is frozen from then.
    pub viewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One move of an application (the first has no `from`: the application was sent).
#[derive(Debug, Clone, PartialEq)]
pub struct StageEvent {
    pub id: String,
    pub from: Option<Stage>,
    pub to: Stage,
    pub actor_id: String,
    /// `candidate` or `company`.
    pub by_role: String,
    pub reason: Option<RejectionReason>,
    /// Internal: shown to the company only.
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// An internal note about an application, visible to the company only.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub id: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_moves_forward_or_out() {
        use Stage::*;
        assert!(Stage::company_may_move(Applied, Screening));
        assert!(Stage::company_may_move(Applied, Interview), "skipping ahead is allowed");
        assert!(Stage::company_may_move(Offer, Hired));
        assert!(Stage::company_may_move(Interview, Rejected));
        assert!(!Stage::company_may_move(Interview, Screening), "no way back");
        assert!(!Stage::company_may_move(Applied, Applied));
        assert!(!Stage::company_may_move(Applied, Withdrawn), "only candidates withdraw");
        for done in [Hired, Rejected, Withdrawn] {
            for to in Stage::ALL {
                assert!(!Stage::company_may_move(done, *to), "{done} → {to}");
                assert!(!Stage::candidate_may_move(done, *to), "{done} → {to}");
            }
        }
        assert!(Stage::candidate_may_move(Offer, Withdrawn));
        assert!(!Stage::candidate_may_move(Applied, Screening));
    }
}
