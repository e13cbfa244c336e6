//! Jobs from the employer's side (create, edit, publish, close, archive), the public view of a
//! job, moderation, and keeping the search index in step with every write.
//!
//! Lifecycle: draft → published ⇄ closed, and any of them → archived (final). Publishing needs
//! the fields a candidate relies on. With moderation on, a job of an unverified company is
//! published as `pending` and becomes public when an admin approves it.

pub mod expiry;

use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::error::ConflictKind;
use super::{Context, Principal, RequestMeta, ServiceError, audit, policy};
use crate::models::audit::AuditAction;
use crate::models::company::Company;
use crate::models::job::{
    EmploymentType, Job, JobFields, JobStatus, Location, MAX_LOCATIONS, Review, Salary,
    SalaryPeriod, Seniority, Workplace,
};
use crate::repositories::job_index::{IndexDoc, Watermark};
use crate::repositories::jobs::NewJob;
use crate::repositories::{self, new_key};
use crate::utils::skills;
use crate::utils::validators::is_record_id;

/// The source of jobs made in the portal (imports name their own).
pub const PORTAL_SOURCE: &str = "portal";

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

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::validation(message)
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match value.map(|v| v.trim().to_owned()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.chars().count() > max => {
            Err(invalid(format!("{field} must be at most {max} characters")))
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') => {
            Err(invalid(format!("{field} contains control characters")))
        }
        Some(v) => Ok(Some(v)),
    }
}

fn choice<T>(
    field: &str,
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ServiceError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{field} must be one of {}", names()))),
    }
}

fn list(
    field: &str,
    values: Vec<String>,
    max_items: usize,
    max_len: usize,
) -> Result<Vec<String>, ServiceError> {
    if values.len() > max_items {
        return Err(invalid(format!("{field} has more than {max_items} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if let Some(v) = text(field, Some(value), max_len)?
            && !out.contains(&v)
        {
            out.push(v);
        }
    }
    Ok(out)
}

/// Checks and normalises a complete job (the stored one with `input` applied over it).
pub fn validate(base: Option<&JobFields>, input: JobInput) -> Result<JobFields, ServiceError> {
    let salary_input = JobInput {
        salary_min: input.salary_min,
        salary_max: input.salary_max,
        salary_currency: input.salary_currency.clone(),
        salary_period: input.salary_period.clone(),
        salary_public: input.salary_public,
        ..JobInput::default()
    };
    let locations = locations(base.map(|b| b.locations.as_slice()).unwrap_or_default(), &input)?;
    let title = match input.title {
        Some(t) => {
            text("title", Some(t), 200)?.ok_or_else(|| invalid("title must not be empty"))?
        }
        None => base.map(|b| b.title.clone()).ok_or_else(|| invalid("title is required"))?,
    };
    let description = match input.description {
        Some(d) => text("description", Some(d), 100_000)?.unwrap_or_default(),
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let workplace = if input.workplace.is_some() {
        choice("workplace", input.workplace, Workplace::parse, Workplace::names)?
    } else {
        base.and_then(|b| b.workplace)
    };
    let employment_type = if input.employment_type.is_some() {
        choice(
            "employment_type",
            input.employment_type,
            EmploymentType::parse,
            EmploymentType::names,
        )?
    } else {
        base.and_then(|b| b.employment_type)
    };
    let seniority = if input.seniority.is_some() {
        choice("seniority", input.seniority, Seniority::parse, Seniority::names)?
    } else {
        base.and_then(|b| b.seniority)
    };
    let remote_regions = match input.remote_regions {
        Some(r) => list("remote_regions", r, 20, 60)?,
        None => base.map(|b| b.remote_regions.clone()).unwrap_or_default(),
    };
    let salary = salary(base.and_then(|b| b.salary.clone()), &salary_input)?;
    let skills = match input.skills {
        Some(s) => {
            if s.len() > 50 {
                return Err(invalid("skills has more than 50 entries"));
            }
            skills::normalize_all(s.iter().map(String::as_str))
        }
        None => base.map(|b| b.skills.clone()).unwrap_or_default(),
    };
    let category = if input.category.is_some() {
        text("category", input.category, 60)?.map(|c| c.to_lowercase())
    } else {
        base.and_then(|b| b.category.clone())
    };
    let tags = match input.tags {
        Some(t) => list("tags", t, 30, 80)?,
        None => base.map(|b| b.tags.clone()).unwrap_or_default(),
    };
    let apply_url = if input.apply_url.is_some() {
        let url = text("apply_url", input.apply_url, 2048)?;
        if let Some(u) = &url {
            let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return Err(invalid("apply_url must be an http:// or https:// URL"));
            }
        }
        url
    } else {
        base.and_then(|b| b.apply_url.clone())
    };
    let expires_at = input.expires_at.or(base.and_then(|b| b.expires_at));
    Ok(JobFields {
        title,
        description,
        locations,
        workplace,
        remote_regions,
        employment_type,
        seniority,
        salary,
        skills,
        category,
        tags,
        apply_url,
        expires_at,
    })
}

fn country_code(field: &str, value: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(code) = value.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(Some(code))
    } else {
        Err(invalid(format!("{field} must be a two-letter ISO 3166 code such as PT")))
    }
}

/// One place, checked; `prefix` names it in errors (`locations[2].` or nothing).
fn location(prefix: &str, input: LocationInput) -> Result<Location, ServiceError> {
    Ok(Location {
        city: text(&format!("{prefix}city"), input.city, 100)?,
        region: text(&format!("{prefix}region"), input.region, 100)?,
        country_code: country_code(&format!("{prefix}country_code"), input.country_code)?,
    })
}

/// The job's places after `input`: a new list, the primary one edited, or `base` unchanged.
/// Empty places are dropped and repeated ones kept once, so every stored place says something
/// and a search facet counts a job once per place.
fn locations(base: &[Location], input: &JobInput) -> Result<Vec<Location>, ServiceError> {
    let edits_primary =
        input.city.is_some() || input.region.is_some() || input.country_code.is_some();
    let places = match &input.locations {
        Some(_) if edits_primary => {
            return Err(invalid(
                "give either locations or city, region and country_code, not both",
            ));
        }
        Some(list) => {
            if list.len() > MAX_LOCATIONS {
                return Err(invalid(format!("locations has more than {MAX_LOCATIONS} entries")));
            }
            list.iter()
                .enumerate()
                .map(|(i, place)| location(&format!("locations[{i}]."), place.clone()))
                .collect::<Result<Vec<_>, _>>()?
        }
        None if edits_primary => {
            let primary = base.first().cloned().unwrap_or_default();
            let edited = Location {
                city: if input.city.is_some() {
                    text("city", input.city.clone(), 100)?
                } else {
                    primary.city
                },
                region: if input.region.is_some() {
                    text("region", input.region.clone(), 100)?
                } else {
                    primary.region
                },
                country_code: if input.country_code.is_some() {
                    country_code("country_code", input.country_code.clone())?
                } else {
                    primary.country_code
                },
            };
            std::iter::once(edited).chain(base.iter().skip(1).cloned()).collect()
        }
        None => return Ok(base.to_vec()),
    };
    let mut out: Vec<Location> = Vec::with_capacity(places.len());
    for place in places {
        if !place.is_empty() && !out.contains(&place) {
            out.push(place);
        }
    }
    Ok(out)
}

fn salary(base: Option<Salary>, input: &JobInput) -> Result<Option<Salary>, ServiceError> {
    let touched = input.salary_min.is_some()
        || input.salary_max.is_some()
        || input.salary_currency.is_some()
        || input.salary_period.is_some()
        || input.salary_public.is_some();
    if !touched {
        return Ok(base);
    }
    let base = base.unwrap_or(Salary {
        min: None,
        max: None,
        currency: None,
        period: None,
        public: false,
    });
    let min = input.salary_min.or(base.min);
    let max = input.salary_max.or(base.max);
    for v in [min, max].into_iter().flatten() {
        if !v.is_finite() || !(0.0..=1e12).contains(&v) {
            return Err(invalid("salary amounts must be between 0 and 10^12"));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(invalid("salary_min must not exceed salary_max"));
    }
    let currency = match &input.salary_currency {
        Some(c) => {
            let c = c.trim().to_ascii_uppercase();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "salary_currency must be a three-letter ISO 4217 code such as EUR",
                ));
            }
            Some(c)
        }
        None => base.currency,
    };
    let period = if input.salary_period.is_some() {
        choice(
            "salary_period",
            input.salary_period.clone(),
            SalaryPeriod::parse,
            SalaryPeriod::names,
        )?
    } else {
        base.period
    };
    if min.is_none() && max.is_none() {
        return Ok(None);
    }
    Ok(Some(Salary {
        min,
        max,
        currency,
        period,
        public: input.salary_public.unwrap_or(base.public),
    }))
}

/// What publishing requires of a job made in the portal.
fn publishable(fields: &JobFields, now: DateTime<Utc>) -> Result<(), ServiceError> {
    let mut missing = Vec::new();
    if fields.description.trim().is_empty() {
        missing.push("description");
    }
    if fields.workplace.is_none() {
        missing.push("workplace");
    }
    if fields.employment_type.is_none() {
        missing.push("employment_type");
    }
    let placed = fields.locations.iter().any(|l| l.city.is_some() || l.country_code.is_some());
    if fields.workplace != Some(Workplace::Remote) && !placed {
        missing.push("city or country_code (or workplace remote)");
    }
    if !missing.is_empty() {
        return Err(invalid(format!("publishing needs: {}", missing.join(", "))));
    }
    if fields.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at is in the past"));
    }
    Ok(())
}

/// A stable hash of a job's content, so an unchanged import is recognised. A job with one place
/// or none hashes as it did before jobs had several (its primary `location`), so the jobs
/// stored then are not all rewritten by the next import of the same file.
pub fn content_hash(company_id: &str, fields: &JobFields, status: JobStatus) -> String {
    let mut value = json!({
        "company": company_id,
        "title": fields.title,
        "description": fields.description,
        "location": fields.primary_location().cloned().unwrap_or_default(),
        "workplace": fields.workplace,
        "remote_regions": fields.remote_regions,
        "employment_type": fields.employment_type,
        "seniority": fields.seniority,
        "salary": fields.salary,
        "skills": fields.skills,
        "category": fields.category,
        "tags": fields.tags,
        "apply_url": fields.apply_url,
        "expires_at": fields.expires_at.map(|at| at.timestamp()),
        "status": status.as_str(),
    });
    if fields.locations.len() > 1 {
        value["more_locations"] = json!(fields.locations[1..]);
    }
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

/// The index document of a job (it must be public at the time of writing).
pub fn index_doc(job: &Job, company_name: &str) -> IndexDoc {
    let f = &job.fields;
    let salary = f.salary.as_ref().filter(|s| s.public);
    let extra = [
        f.workplace.map(|w| w.as_str().replace('_', " ")),
        f.employment_type.map(|e| e.as_str().replace('_', " ")),
        f.seniority.map(|s| s.as_str().to_owned()),
        f.category.clone(),
    ]
    .into_iter()
    .flatten()
    .chain(
        f.locations
            .iter()
            .flat_map(|l| [l.city.clone(), l.region.clone(), l.country_code.clone()])
            .flatten(),
    )
    .chain(f.tags.iter().cloned())
    .chain(f.remote_regions.iter().cloned())
    .collect::<Vec<_>>()
    .join(" ");
    IndexDoc {
        id: job.id.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        company_id: job.company_id.clone(),
        company_name: company_name.to_owned(),
        skills: f.skills.clone(),
        workplace: f.workplace.map(|w| w.as_str().to_owned()),
        employment_type: f.employment_type.map(|e| e.as_str().to_owned()),
        seniority: f.seniority.map(|s| s.as_str().to_owned()),
        category: f.category.clone(),
        country_codes: unique(f.locations.iter().filter_map(|l| l.country_code.clone())),
        location_texts: f
            .locations
            .iter()
            .map(|l| {
                [&l.city, &l.region, &l.country_code]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
        location_labels: unique(f.locations.iter().filter_map(Location::label)),
        posted_at: job.posted_at.map(|at| at.timestamp()),
        expires_at: f.expires_at.map(|at| at.timestamp()),
        salary_yearly: salary.and_then(Salary::yearly_top),
        salary_currency: salary.and_then(|s| s.currency.clone()),
        extra_text: extra,
        updated_at: job.updated_at.timestamp_micros(),
    }
}

/// The values in their first order, each once (a facet counts a job once per value).
fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Index writes of this process, one at a time. Each write re-reads its jobs from the database
/// under this lock, so two racing changes of one job (close and reopen) leave the index with the
/// state the database committed last, whatever order their requests reach this point in.
fn index_writes() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Brings the index up to date with `jobs` as the database holds them now (a job that is gone
/// or no longer public leaves the index).
pub async fn sync_index(ctx: &Context, jobs: &[Job]) -> Result<(), ServiceError> {
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    sync_ids(ctx, ids).await
}

/// [`sync_index`] for jobs known by id (they are read under the lock anyway).
async fn sync_ids(ctx: &Context, ids: Vec<String>) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    let _order = index_writes().lock().await;
    let current = repositories::jobs::find_many(&ctx.db, &ids).await?;
    let gone: Vec<String> =
        ids.into_iter().filter(|id| !current.iter().any(|j| &j.id == id)).collect();
    write_index(ctx, &current, gone).await
}

/// Writes jobs an import has just written, as they are, without re-reading them (an import
/// writes thousands a second). Only imports change an imported job's content (the `portal`
/// source is refused there); a moderation or expiry racing with the import can leave the index
/// one state behind, which `serve`'s catch-up corrects within seconds and which search never
/// shows, since every hit is checked against the database. Without `commit` the jobs are
/// staged, seen by searches at the next commit (any write's); with it, everything staged is
/// committed.
pub async fn sync_imported(ctx: &Context, jobs: &[Job], commit: bool) -> Result<(), ServiceError> {
    if jobs.is_empty() && !commit {
        return Ok(());
    }
    let _order = index_writes().lock().await;
    write_index_with(ctx, jobs, Vec::new(), commit).await
}

/// Re-indexes a company's public jobs (after its name changed: the name is searchable), and
/// has their vectors recomputed.
pub async fn sync_company(ctx: &Context, company_id: &str) -> Result<(), ServiceError> {
    let mut after: Option<String> = None;
    loop {
        let page =
            repositories::jobs::public_page_of_company(&ctx.db, company_id, after.as_deref(), 1000)
                .await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = Some(last.id.clone());
        sync_index(ctx, &page).await?;
        // The name is in the text the model reads too; those jobs' `updated_at` did not move.
        super::embeddings::refresh_later(ctx, page.iter().map(|j| j.id.clone()));
    }
}

async fn write_index(
    ctx: &Context,
    jobs: &[Job],
    removals: Vec<String>,
) -> Result<(), ServiceError> {
    if jobs.is_empty() && removals.is_empty() {
        return Ok(());
    }
    write_index_with(ctx, jobs, removals, true).await
}

async fn write_index_with(
    ctx: &Context,
    jobs: &[Job],
    mut removals: Vec<String>,
    commit: bool,
) -> Result<(), ServiceError> {
    let names = repositories::jobs::company_names_of(&ctx.db, jobs).await?;
    let mut upserts = Vec::new();
    for job in jobs {
        if job.status == JobStatus::Published && job.review == Review::Approved {
            upserts.push(index_doc(job, names.get(&job.company_id).map_or("", String::as_str)));
        } else {
            removals.push(job.id.clone());
        }
    }
    let watermark = Watermark {
        updated_at_micros: jobs.iter().map(|j| j.updated_at.timestamp_micros()).max().unwrap_or(0),
    };
    // A job that left the listings leaves the vectors at once; new or changed ones are
    // embedded by the vector sync, which this wakes.
    super::embeddings::forget_jobs(ctx, &removals);
    if !upserts.is_empty() {
        super::embeddings::nudge(ctx);
    }
    let index = ctx.jobs_index.clone();
    tokio::task::spawn_blocking(move || {
        if commit {
            index.write(&upserts, &removals, watermark)
        } else {
            index.stage(&upserts, &removals, watermark)
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(|e| ServiceError::Internal(e.into()))
}

/// Rebuilds the index from the database when it does not match (after a crash between a
/// database write and its index write, a database restored from a backup, or a new index
/// version): the index must hold as many jobs as are public and have seen exactly the newest
/// change. Returns how many jobs were indexed, or `None` when the index was current.
pub async fn ensure_index(
    ctx: &Context,
    mut progress: impl FnMut(u64),
) -> Result<Option<u64>, ServiceError> {
    let (public, latest) = repositories::jobs::index_state(&ctx.db).await?;
    let index = ctx.jobs_index.clone();
    let (docs, watermark) = tokio::task::spawn_blocking(move || (index.len(), index.watermark()))
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?;
    if docs == public && watermark.updated_at_micros == latest {
        return Ok(None);
    }
    tracing::info!(
        indexed = docs,
        public,
        "the search index is behind the database; rebuilding it"
    );
    Ok(Some(rebuild_index(ctx, latest, &mut progress).await?))
}

/// How far back [`catch_up_index`] looks before the watermark: a transaction that stamped its
/// `updated_at` earlier may commit after a later one.
const CATCH_UP_OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

/// Brings the index up to date with jobs another process changed (a `worker` importing or
/// closing jobs against the same database server, or a write whose index update failed): the
/// jobs changed since a little before the watermark whose version the index does not hold.
/// `serve` runs it every few seconds; when nothing changed it is one indexed query. Returns how
/// many jobs it wrote.
///
/// The first pass starts a little before the watermark; each complete pass leaves the next one
/// to start a little before its own start (by the database's clock): a transaction that
/// commits later stamped its jobs after that. So a pass reads only the last seconds' changes,
/// not, again and again, those just before the newest job (after a bulk import: thousands).
pub async fn catch_up_index(ctx: &Context) -> Result<usize, ServiceError> {
    let started = repositories::jobs::database_now(&ctx.db).await?;
    let index = ctx.jobs_index.clone();
    let from = tokio::task::spawn_blocking(move || {
        index.checked().unwrap_or(index.watermark().updated_at_micros)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    let mut since = DateTime::from_timestamp_micros(from).unwrap_or_default() - CATCH_UP_OVERLAP;
    let mut after: Option<String> = None;
    let mut written = 0;
    loop {
        let page = repositories::jobs::updated_after(&ctx.db, since, after.as_deref(), 500).await?;
        let Some(last) = page.last() else {
            ctx.jobs_index.set_checked(started.timestamp_micros());
            return Ok(written);
        };
        since = last.updated_at;
        after = Some(last.id.clone());
        let full = page.len() == 500;
        let ids: Vec<String> = page.iter().map(|j| j.id.clone()).collect();
        let index = ctx.jobs_index.clone();
        let versions = tokio::task::spawn_blocking(move || index.versions(&ids))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))?
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let stale: Vec<String> = page
            .into_iter()
            .filter(|job| {
                let indexed = versions.get(&job.id).copied();
                let public = job.status == JobStatus::Published && job.review == Review::Approved;
                if public {
                    indexed != Some(job.updated_at.timestamp_micros())
                } else {
                    indexed.is_some()
                }
            })
            .map(|job| job.id)
            .collect();
        written += stale.len();
        sync_ids(ctx, stale).await?;
        if !full {
            ctx.jobs_index.set_checked(started.timestamp_micros());
            return Ok(written);
        }
    }
}

/// Rebuilds the index from the database whatever its state (the `admin reindex-jobs` command);
/// `progress` gets the number of jobs read so far and, first, how many there are.
pub async fn reindex(
    ctx: &Context,
    mut progress: impl FnMut(Reindex),
) -> Result<u64, ServiceError> {
    let (public, latest) = repositories::jobs::index_state(&ctx.db).await?;
    progress(Reindex::Total(public));
    rebuild_index(ctx, latest, &mut |n| progress(Reindex::Read(n))).await
}

/// What a rebuild reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reindex {
    /// The number of public jobs to index.
    Total(u64),
    /// Jobs read from the database so far.
    Read(u64),
}

/// Rebuilds the index from every published, approved job.
pub async fn rebuild_index(
    ctx: &Context,
    latest: i64,
    progress: &mut impl FnMut(u64),
) -> Result<u64, ServiceError> {
    let mut docs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = repositories::jobs::public_page(&ctx.db, after.as_deref(), 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        let names = repositories::jobs::company_names_of(&ctx.db, &page).await?;
        for job in &page {
            docs.push(index_doc(job, names.get(&job.company_id).map_or("", String::as_str)));
        }
        progress(docs.len() as u64);
    }
    let index = ctx.jobs_index.clone();
    tokio::task::spawn_blocking(move || {
        index.replace_all(docs, Watermark { updated_at_micros: latest })
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(|e| ServiceError::Internal(e.into()))
}

async fn company_by_slug(ctx: &Context, slug: &str) -> Result<Company, ServiceError> {
    repositories::companies::find_by_slug(&ctx.db, slug)
        .await?
        .ok_or(ServiceError::NotFound("company"))
}

async fn job_of_member(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Job, ServiceError> {
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let role =
        repositories::companies::member_role(&ctx.db, &job.company_id, &principal.user_id).await?;
    // A job the caller may see (public) but not change is 403; one they may not see is 404.
    if role.is_none() && !principal.is_admin() {
        return Err(if job.is_public(Utc::now()) {
            ServiceError::forbidden("only the company's members change its jobs")
        } else {
            ServiceError::NotFound("job")
        });
    }
    Ok(job)
}

/// Creates a draft job for a company the caller belongs to.
pub async fn create(
    ctx: &Context,
    principal: &Principal,
    company_slug: &str,
    input: JobInput,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let company = company_by_slug(ctx, company_slug).await?;
    let role =
        repositories::companies::member_role(&ctx.db, &company.id, &principal.user_id).await?;
    policy::act_for_company(principal, role)?;
    let fields = validate(None, input)?;
    if fields.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(invalid("expires_at is in the past"));
    }
    let id = new_key();
    let new = NewJob {
        content_hash: content_hash(&company.id, &fields, JobStatus::Draft),
        id: id.clone(),
        company_id: company.id.clone(),
        fields,
        status: JobStatus::Draft,
        review: Review::Approved,
        posted_at: None,
        source: PORTAL_SOURCE.into(),
        external_id: id,
        created_by: Some(principal.user_id.clone()),
    };
    let tx = ctx.db.begin().await?;
    let job = repositories::jobs::insert(&tx, &new).await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::JobCreated,
        Some(&job.id),
        meta,
        json!({ "company": company.id }),
    )
    .await?;
    tx.commit().await?;
    // A draft is not indexed, but the index's watermark moves past it (otherwise the next start
    // would take the index for stale).
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// Changes a job's fields (not when archived).
pub async fn update(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    input: JobInput,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let job = job_of_member(ctx, principal, id).await?;
    if job.status == JobStatus::Archived {
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            "an archived job cannot be edited",
        ));
    }
    let fields = validate(Some(&job.fields), input)?;
    if job.status == JobStatus::Published {
        publishable(&fields, Utc::now())?;
    }
    let tx = ctx.db.begin().await?;
    let hash = content_hash(&job.company_id, &fields, job.status);
    let Some(job) =
        repositories::jobs::update_fields_if(&tx, &job.id, Some(job.updated_at), &fields, &hash)
            .await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::JobUpdated,
        Some(&job.id),
        meta,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// The moves the lifecycle allows.
fn allowed(from: JobStatus, to: JobStatus) -> bool {
    use JobStatus::*;
    matches!(
        (from, to),
        (Draft, Published)
            | (Closed, Published)
            | (Published, Closed)
            | (Draft | Published | Closed, Archived)
    )
}

/// Moves a job along its lifecycle: publish, close or archive.
pub async fn transition(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    to: JobStatus,
    moderate_unverified: bool,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    let job = job_of_member(ctx, principal, id).await?;
    if !allowed(job.status, to) {
        return Err(ServiceError::conflict(
            ConflictKind::InvalidTransition,
            format!("a {} job cannot become {}", job.status, to),
        ));
    }
    let mut review = job.review;
    if to == JobStatus::Published {
        publishable(&job.fields, Utc::now())?;
        let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
            .await?
            .ok_or(ServiceError::NotFound("company"))?;
        let needs_review = moderate_unverified && !company.verified;
        // A job approved before (published, closed, reopened) stays approved.
        let approved_before = job.posted_at.is_some() && job.review == Review::Approved;
        review = if !needs_review || approved_before { Review::Approved } else { Review::Pending };
    }
    let tx = ctx.db.begin().await?;
    let Some(job) =
        repositories::jobs::set_status_if(&tx, &job.id, Some(job.status), to, review).await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    let action = match to {
        JobStatus::Published => AuditAction::JobPublished,
        JobStatus::Closed => AuditAction::JobClosed,
        _ => AuditAction::JobArchived,
    };
    audit::record(
        &tx,
        Some(&principal.user_id),
        action,
        Some(&job.id),
        meta,
        json!({ "review": review.as_str() }),
    )
    .await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// A job as its reader may see it: public jobs for everyone, any job for its company's
/// members and admins; anything else is not found.
pub async fn get(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, Company), ServiceError> {
    let (job, _) = visible(ctx, principal, id).await?;
    let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok((job, company))
}

/// A job opened by a visitor: like [`get`], and a visit by anyone outside the company counts
/// as a view. Also says whether the caller is a member (or an admin).
pub async fn view(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, Company, bool), ServiceError> {
    let (job, member) = visible(ctx, principal, id).await?;
    if !member {
        repositories::jobs::add_view(&ctx.db, &job.id).await?;
    }
    let company = repositories::companies::find_by_id(&ctx.db, &job.company_id)
        .await?
        .ok_or(ServiceError::NotFound("company"))?;
    Ok((job, company, member))
}

/// The job if the caller may see it, and whether they are its company's member (or an admin).
async fn visible(
    ctx: &Context,
    principal: Option<&Principal>,
    id: &str,
) -> Result<(Job, bool), ServiceError> {
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let member = match principal {
        Some(p) => {
            p.is_admin()
                || repositories::companies::member_role(&ctx.db, &job.company_id, &p.user_id)
                    .await?
                    .is_some()
        }
        None => false,
    };
    if !job.is_public(Utc::now()) && !member {
        return Err(ServiceError::NotFound("job"));
    }
    Ok((job, member))
}

/// A company's jobs in any status (its members and admins).
pub async fn list_for_company(
    ctx: &Context,
    principal: &Principal,
    slug: &str,
    status: Option<JobStatus>,
    limit: u32,
    offset: u32,
) -> Result<(Company, Vec<Job>, u64), ServiceError> {
    let company = company_by_slug(ctx, slug).await?;
    let role =
        repositories::companies::member_role(&ctx.db, &company.id, &principal.user_id).await?;
    policy::view_members(principal, role)?;
    let (jobs, total) =
        repositories::jobs::list_for_company(&ctx.db, &company.id, status, limit, offset).await?;
    Ok((company, jobs, total))
}

/// Jobs waiting for an admin.
pub async fn pending_review(
    ctx: &Context,
    principal: &Principal,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Job>, u64), ServiceError> {
    policy::require_admin(principal)?;
    Ok(repositories::jobs::pending_review(&ctx.db, limit, offset).await?)
}

/// An admin's verdict on a job waiting for review.
pub async fn review(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    verdict: Review,
    meta: &RequestMeta,
) -> Result<Job, ServiceError> {
    policy::require_admin(principal)?;
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let tx = ctx.db.begin().await?;
    let Some(job) =
        repositories::jobs::set_status_if(&tx, &job.id, Some(job.status), job.status, verdict)
            .await?
    else {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the job changed while this request ran; read it again and retry",
        ));
    };
    let action = if verdict == Review::Approved {
        AuditAction::JobApproved
    } else {
        AuditAction::JobRejected
    };
    audit::record(&tx, Some(&principal.user_id), action, Some(&job.id), meta, json!({})).await?;
    tx.commit().await?;
    sync_index(ctx, std::slice::from_ref(&job)).await?;
    Ok(job)
}

/// Closes the published jobs whose expiry passed (the scheduled task).
pub async fn close_expired(ctx: &Context) -> Result<usize, ServiceError> {
    let ids = repositories::jobs::close_expired(&ctx.db, Utc::now()).await?;
    let closed = ids.len();
    sync_ids(ctx, ids).await?;
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        use JobStatus::*;
        assert!(allowed(Draft, Published));
        assert!(allowed(Published, Closed));
        assert!(allowed(Closed, Published));
        assert!(allowed(Closed, Archived));
        assert!(!allowed(Archived, Published));
        assert!(!allowed(Draft, Closed));
        assert!(!allowed(Archived, Archived));
    }

    #[test]
    fn salaries_are_checked_and_normalised() {
        let input = JobInput {
            title: Some("X".into()),
            salary_min: Some(50.0),
            salary_max: Some(70.0),
            salary_currency: Some("eur".into()),
            salary_period: Some("hour".into()),
            salary_public: Some(true),
            ..JobInput::default()
        };
        let fields = validate(None, input).unwrap();
        let salary = fields.salary.unwrap();
        assert_eq!(salary.currency.as_deref(), Some("EUR"));
        assert_eq!(salary.yearly_top(), Some(70.0 * 2080.0));
        let bad = JobInput {
            title: Some("X".into()),
            salary_min: Some(9.0),
            salary_max: Some(1.0),
            ..JobInput::default()
        };
        assert!(validate(None, bad).is_err());
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name() {
        let base = validate(
            None,
            JobInput {
                title: Some("Rust dev".into()),
                skills: Some(vec!["Rust".into()]),
                ..JobInput::default()
            },
        )
        .unwrap();
        let updated = validate(
            Some(&base),
            JobInput { description: Some("Hello".into()), ..JobInput::default() },
        )
        .unwrap();
        assert_eq!(updated.title, "Rust dev");
        assert_eq!(updated.skills, vec!["rust"]);
        assert_eq!(updated.description, "Hello");
    }
}
