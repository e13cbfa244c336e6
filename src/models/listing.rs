//! A public job as a search page shows it: its summary's JSON, written from the job
//! ([`JobSummaryView`]) or from the card the search index stores of it ([`Card`]).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::company::Company;
use super::job::{Job, Location};

/// A job's summary as a search page shows it, borrowing the job: the JSON of the API's
/// `JobSummaryBody` (a test in `schemas::job` keeps the two the same), written without
/// building that body.
#[derive(Debug, Serialize)]
pub struct JobSummaryView<'a> {
    id: &'a str,
    title: &'a str,
    company: CompanyRefView<'a>,
    location: PlaceRef<'a>,
    locations: Vec<PlaceRef<'a>>,
    workplace: Option<&'static str>,
    employment_type: Option<&'static str>,
    seniority: Option<&'static str>,
    salary: Option<SalaryRef<'a>>,
    skills: &'a [String],
    category: Option<&'a str>,
    tags: &'a [String],
    apply_url: Option<&'a str>,
    posted_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

/// The API's `CompanyRefBody`, borrowed.
#[derive(Debug, Default, Serialize)]
struct CompanyRefView<'a> {
    id: &'a str,
    slug: &'a str,
    name: &'a str,
    verified: bool,
}

/// The API's `LocationBody`, borrowed.
#[derive(Debug, Default, Serialize)]
struct PlaceRef<'a> {
    city: Option<&'a str>,
    region: Option<&'a str>,
    country_code: Option<&'a str>,
}

impl<'a> CompanyRefView<'a> {
    fn of(company: &'a Company) -> Self {
        Self {
            id: &company.id,
            slug: &company.slug,
            name: &company.name,
            verified: company.verified,
        }
    }
}

impl<'a> From<&'a Location> for PlaceRef<'a> {
    fn from(p: &'a Location) -> Self {
        Self {
            city: p.city.as_deref(),
            region: p.region.as_deref(),
            country_code: p.country_code.as_deref(),
        }
    }
}

/// The API's `SalaryBody`, borrowed.
#[derive(Debug, Serialize)]
struct SalaryRef<'a> {
    min: Option<f64>,
    max: Option<f64>,
    currency: Option<&'a str>,
    period: Option<&'static str>,
}

impl<'a> JobSummaryView<'a> {
    pub fn new(job: &'a Job, company: &'a Company) -> Self {
        Self::with_company(job, CompanyRefView::of(company))
    }

    fn with_company(job: &'a Job, company: CompanyRefView<'a>) -> Self {
        let f = &job.fields;
        Self {
            id: &job.id,
            title: &f.title,
            company,
            location: f.locations.first().map(PlaceRef::from).unwrap_or_default(),
            locations: f.locations.iter().map(PlaceRef::from).collect(),
            workplace: f.workplace.map(|w| w.as_str()),
            employment_type: f.employment_type.map(|e| e.as_str()),
            seniority: f.seniority.map(|s| s.as_str()),
            salary: f.salary.as_ref().filter(|s| s.public).map(|s| SalaryRef {
                min: s.min,
                max: s.max,
                currency: s.currency.as_deref(),
                period: s.period.map(|p| p.as_str()),
            }),
            skills: &f.skills,
            category: f.category.as_deref(),
            tags: &f.tags,
            apply_url: f.apply_url.as_deref(),
            posted_at: job.posted_at,
            expires_at: f.expires_at,
        }
    }
}

/// A job's summary as a search page shows it, written once, when the job is indexed
/// ([`Card::write`]): its JSON ([`JobSummaryView`]) before and after the company, which a page
/// writes in at each read (a company's name and verification change on their own), with what
/// a page checks first. Reading one ([`Card::read`]) splits a string: nothing is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Card<'a> {
    /// When the job expires: unix seconds and nanoseconds.
    expires_at: Option<(i64, u32)>,
    head: &'a str,
    tail: &'a str,
    pub company_id: &'a str,
}

/// Separates a card's parts. JSON as serde_json writes it holds no raw tab (a tab in a string
/// is escaped); the company id, which could, comes last.
const CARD_SEPARATOR: char = '\t';

/// What comes between a summary's head and its company.
const COMPANY_KEY: &str = ",\"company\":";

impl<'a> Card<'a> {
    /// The card of `job`, as the index stores it.
    pub fn write(job: &Job) -> String {
        // Strings, numbers and dates: these always serialise.
        let json =
            serde_json::to_string(&JobSummaryView::with_company(job, CompanyRefView::default()))
                .unwrap_or_default();
        let company = serde_json::to_string(&CompanyRefView::default()).unwrap_or_default();
        // The first match is the company: before it are the id and the title, strings in
        // which a quote is always escaped.
        let marker = format!("{COMPANY_KEY}{company}");
        let Some(at) = json.find(&marker) else {
            return String::new();
        };
        let expires_at = job
            .fields
            .expires_at
            .map(|at| format!("{}.{}", at.timestamp(), at.timestamp_subsec_nanos()))
            .unwrap_or_default();
        let (head, tail) = (&json[..at], &json[at + marker.len()..]);
        let sep = CARD_SEPARATOR;
        format!("{expires_at}{sep}{head}{sep}{tail}{sep}{}", job.company_id)
    }

    /// A card written by [`Card::write`]; `None` for anything else.
    pub fn read(text: &'a str) -> Option<Self> {
        let mut parts = text.splitn(4, CARD_SEPARATOR);
        let (expires_at, head, tail, company_id) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let expires_at = match expires_at {
            "" => None,
            at => {
                let (secs, nanos) = at.split_once('.')?;
                Some((secs.parse().ok()?, nanos.parse().ok()?))
            }
        };
        let summary = head.starts_with('{') && tail.ends_with('}');
        summary.then_some(Self { expires_at, head, tail, company_id })
    }

    /// Whether the job is public at `now` (only published, approved jobs are indexed, so:
    /// unexpired), as [`Job::is_public`] says of the job.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > (now.timestamp(), now.timestamp_subsec_nanos()))
    }

    /// Appends the summary's JSON, with `company` (the job's).
    pub fn write_json(&self, company: &Company, out: &mut Vec<u8>) {
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(COMPANY_KEY.as_bytes());
        // Writing to a vector of strings and a flag does not fail.
        let _ = serde_json::to_writer(&mut *out, &CompanyRefView::of(company));
        out.extend_from_slice(self.tail.as_bytes());
    }
}

/// A job of a search page, ready to be written with its company: its card (keyword pages),
/// the job decoded from its listing, or its summary written already with its company (semantic
/// and hybrid pages).
#[derive(Debug)]
pub enum PageJob<'a> {
    Card(Card<'a>),
    Job(&'a Job),
    /// The summary's JSON as [`PageJob::Job`] writes it, with the job's company in it.
    Written(&'a [u8]),
}

impl PageJob<'_> {
    /// Appends the job's summary ([`JobSummaryView`]), with `company` (the job's; a written
    /// summary has it already).
    pub fn write_json(&self, company: &Company, out: &mut Vec<u8>) {
        match self {
            PageJob::Card(card) => card.write_json(company, out),
            // Writing strings, numbers and dates to a vector does not fail.
            PageJob::Job(job) => {
                let _ = serde_json::to_writer(&mut *out, &JobSummaryView::new(job, company));
            }
            PageJob::Written(summary) => out.extend_from_slice(summary),
        }
    }
}
