//! Jobs: the postings employers publish and candidates look for.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

string_enum!(
    /// Where the work happens.
    Workplace { Onsite => "onsite", Hybrid => "hybrid", Remote => "remote" }
);
string_enum!(
    /// How a job search orders its hits: by relevance (the default), newest first, or by the
    /// top of the public salary.
    SortBy { Relevance => "relevance", Newest => "newest", Salary => "salary" }
);

// `string_enum!` declares the variants, so `#[default]` cannot be put on one.
#[allow(clippy::derivable_impls)]
impl Default for SortBy {
    fn default() -> Self {
        Self::Relevance
    }
}

string_enum!(EmploymentType {
    FullTime => "full_time",
    PartTime => "part_time",
    Contract => "contract",
    Internship => "internship",
    Temporary => "temporary",
});
string_enum!(Seniority {
    Intern => "intern",
    Junior => "junior",
    Mid => "mid",
    Senior => "senior",
    Lead => "lead",
    Executive => "executive",
});
string_enum!(SalaryPeriod { Hour => "hour", Day => "day", Week => "week", Month => "month", Year => "year" });
string_enum!(
    /// The employer's lifecycle of a job.
    JobStatus { Draft => "draft", Published => "published", Closed => "closed", Archived => "archived" }
);
string_enum!(
    /// The moderation gate: jobs of unverified companies may wait for an admin.
    Review { Pending => "pending", Approved => "approved", Rejected => "rejected" }
);

impl SalaryPeriod {
    /// How many of this period make a year (full-time: 2,080 hours, 260 days).
    pub const fn per_year(self) -> f64 {
        match self {
            SalaryPeriod::Hour => 2080.0,
            SalaryPeriod::Day => 260.0,
            SalaryPeriod::Week => 52.0,
            SalaryPeriod::Month => 12.0,
            SalaryPeriod::Year => 1.0,
        }
    }
}

/// A pay range in one currency and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Salary {
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// ISO 4217, upper case; empty when the source does not say (then no conversion is made).
    pub currency: Option<String>,
    pub period: Option<SalaryPeriod>,
    /// Shown to candidates (and usable in salary filters and sorting) only when true.
    pub public: bool,
}

impl Salary {
    /// The highest yearly amount this range offers (max, else min); needs a known period.
    pub fn yearly_top(&self) -> Option<f64> {
        Some(self.max.or(self.min)? * self.period?.per_year())
    }
}

/// Where a job is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub city: Option<String>,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country_code: Option<String>,
}

/// The most places one job lists (a posting of a company with offices everywhere lists them
/// all; more than this is not a location any more).
pub const MAX_LOCATIONS: usize = 50;

impl Location {
    /// Whether it says nothing (no city, region or country).
    pub fn is_empty(&self) -> bool {
        self.city.is_none() && self.region.is_none() && self.country_code.is_none()
    }

    /// "Lisbon, PT", "PT", or empty.
    pub fn label(&self) -> Option<String> {
        match (&self.city, &self.country_code) {
            (Some(city), Some(cc)) => Some(format!("{city}, {cc}")),
            (Some(city), None) => Some(city.clone()),
            (None, Some(cc)) => Some(cc.clone()),
            (None, None) => None,
        }
    }
}

/// Everything a job says, as validated input (create, update, import).
#[derive(Debug, Clone, PartialEq)]
pub struct JobFields {
    pub title: String,
    pub description: String,
    /// Every place the job is at, none empty, no two the same, in the source's order; the
    /// first is its primary location. Empty when the source does not say.
    pub locations: Vec<Location>,
    /// Empty when an import source does not say; a portal job needs it to be published.
    pub workplace: Option<Workplace>,
    pub remote_regions: Vec<String>,
    pub employment_type: Option<EmploymentType>,
    pub seniority: Option<Seniority>,
    pub salary: Option<Salary>,
    /// Normalised (lower case, canonical names), unique, in given order.
    pub skills: Vec<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    /// External application page; `None` means candidates apply in the portal.
    pub apply_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl JobFields {
    /// The first of the job's places: what a single-location view shows.
    pub fn primary_location(&self) -> Option<&Location> {
        self.locations.first()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub company_id: String,
    pub fields: JobFields,
    pub status: JobStatus,
    pub review: Review,
    pub posted_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub source: String,
    pub external_id: String,
    pub content_hash: String,
    pub view_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Job {
    /// Visible to everyone: published, approved, not expired at `now`.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.status == JobStatus::Published
            && self.review == Review::Approved
            && self.fields.expires_at.is_none_or(|at| at > now)
    }
}

/// The ids of the companies of some jobs, each once, sorted.
pub fn company_ids<'a>(jobs: impl IntoIterator<Item = &'a Job>) -> Vec<String> {
    let mut ids: Vec<String> = jobs.into_iter().map(|j| j.company_id.clone()).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// One place as somebody typed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocationInput {
    pub city: Option<String>,
    pub region: Option<String>,
    pub country_code: Option<String>,
}

/// A job as somebody typed it; every field optional (an update names only what changes).
/// `locations` replaces the whole list; `city`, `region` and `country_code` change the primary
/// (first) location and keep the others. One request gives one or the other.
#[derive(Debug, Clone, Default)]
pub struct JobInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub locations: Option<Vec<LocationInput>>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country_code: Option<String>,
    pub workplace: Option<String>,
    pub remote_regions: Option<Vec<String>>,
    pub employment_type: Option<String>,
    pub seniority: Option<String>,
    pub salary_min: Option<f64>,
    pub salary_max: Option<f64>,
    pub salary_currency: Option<String>,
    pub salary_period: Option<String>,
    pub salary_public: Option<bool>,
    pub skills: Option<Vec<String>>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub apply_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}
