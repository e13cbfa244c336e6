//! A job as the search index stores it (everything but the description), encoded beside the
//! job's document and its card (`models::listing::Card`, what a keyword page writes): decoded
//! back into a [`Job`] for semantic and hybrid pages and the portal's own callers, without
//! reading the database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::models::job::{
    EmploymentType, Job, JobFields, JobStatus, Location, Review, Salary, Seniority, Workplace,
};

/// What the index stores of a public job. Its status and review are not stored: only public
/// jobs are indexed.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: String,
    company_id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workplace: Option<Workplace>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    remote_regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    employment_type: Option<EmploymentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seniority: Option<Seniority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    salary: Option<Salary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    skills: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apply_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    posted_at: Option<DateTime<Utc>>,
    source: String,
    external_id: String,
    content_hash: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The listing of a public job, as the index stores it.
pub fn encode(job: &Job) -> Vec<u8> {
    let f = &job.fields;
    let stored = Stored {
        id: job.id.clone(),
        company_id: job.company_id.clone(),
        title: f.title.clone(),
        locations: f.locations.clone(),
        workplace: f.workplace,
        remote_regions: f.remote_regions.clone(),
        employment_type: f.employment_type,
        seniority: f.seniority,
        salary: f.salary.clone(),
        skills: f.skills.clone(),
        category: f.category.clone(),
        tags: f.tags.clone(),
        apply_url: f.apply_url.clone(),
        expires_at: f.expires_at,
        posted_at: job.posted_at,
        source: job.source.clone(),
        external_id: job.external_id.clone(),
        content_hash: job.content_hash.clone(),
        created_at: job.created_at,
        updated_at: job.updated_at,
    };
    // A struct of strings, numbers and dates always serialises.
    serde_json::to_vec(&stored).unwrap_or_default()
}

/// The job of a stored listing: published and approved (only those are indexed), with an empty
/// description and no view count (a page shows neither).
pub fn decode(bytes: &[u8]) -> Result<Job, serde_json::Error> {
    let s: Stored = serde_json::from_slice(bytes)?;
    Ok(Job {
        id: s.id,
        company_id: s.company_id,
        fields: JobFields {
            title: s.title,
            description: String::new(),
            locations: s.locations,
            workplace: s.workplace,
            remote_regions: s.remote_regions,
            employment_type: s.employment_type,
            seniority: s.seniority,
            salary: s.salary,
            skills: s.skills,
            category: s.category,
            tags: s.tags,
            apply_url: s.apply_url,
            expires_at: s.expires_at,
        },
        status: JobStatus::Published,
        review: Review::Approved,
        posted_at: s.posted_at,
        closed_at: None,
        source: s.source,
        external_id: s.external_id,
        content_hash: s.content_hash,
        view_count: 0,
        created_at: s.created_at,
        updated_at: s.updated_at,
    })
}

/// A published job that exercises every part of a listing: text with quotes, backslashes, a
/// newline, a tab and non-ASCII, two places, a public salary, skills and tags.
#[cfg(test)]
pub(crate) fn sample_job() -> Job {
    use crate::models::job::SalaryPeriod;
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
    Job {
        id: "j1".into(),
        company_id: "c1".into(),
        fields: JobFields {
            title: "Harbour \"Pilot\" \\ Lotse – Zürich\n".into(),
            description: "Long text".into(),
            locations: vec![
                Location {
                    city: Some("Lisbon".into()),
                    region: None,
                    country_code: Some("PT".into()),
                },
                Location { city: None, region: Some("Bavaria".into()), country_code: None },
            ],
            workplace: Some(Workplace::Hybrid),
            remote_regions: vec!["EU".into()],
            employment_type: Some(EmploymentType::FullTime),
            seniority: Some(Seniority::Senior),
            salary: Some(Salary {
                min: Some(50_000.5),
                max: Some(60_000.0),
                currency: Some("EUR".into()),
                period: Some(SalaryPeriod::Year),
                public: true,
            }),
            skills: vec!["navigation".into(), "c++".into()],
            category: Some("maritime".into()),
            tags: vec!["boats".into(), "tab\there".into()],
            apply_url: Some("https://example.com/apply?a=1&b=\"2\"".into()),
            expires_at: Some(at("2030-01-01T00:00:00Z")),
        },
        status: JobStatus::Published,
        review: Review::Approved,
        posted_at: Some(at("2026-01-02T03:04:05.123456Z")),
        closed_at: None,
        source: "portal".into(),
        external_id: "x1".into(),
        content_hash: "h".into(),
        view_count: 7,
        created_at: at("2026-01-01T00:00:00Z"),
        updated_at: at("2026-01-02T03:04:05.654321Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_decodes_to_the_job_without_its_description() {
        let job = sample_job();
        let decoded = decode(&encode(&job)).unwrap();
        let expected = Job {
            fields: JobFields { description: String::new(), ..job.fields.clone() },
            view_count: 0,
            ..job.clone()
        };
        assert_eq!(decoded, expected);
        assert!(decode(b"{").is_err());
    }
}
