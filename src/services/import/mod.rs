//! Bulk import of jobs: from the `import-jobs` command and from the admin API (as a task).
//!
//! Records are read as a stream ([`formats`]), checked one by one (a bad record is reported
//! with its file, number, line and identifier, and skipped), and written in batches, each in one transaction. A job's
//! id is derived from its (source, external_id) and a company's from its slug, so importing
//! the same file again — after a clean run or after a SIGKILL halfway — converges on the same
//! database: existing jobs are updated only when their content changed.

pub mod formats;
pub mod task;

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::companies::slugify;
use super::jobs::{JobInput, LocationInput, content_hash, validate};
use super::{Context, ServiceError, audit};
use crate::models::audit::AuditAction;
use crate::models::company::CompanyFields;
use crate::models::job::{EmploymentType, Job, JobFields, JobStatus, Review};
use crate::repositories;
use crate::repositories::jobs::NewJob;
use formats::Format;

/// One job, checked and ready to write.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub source: String,
    pub external_id: String,
    pub company_name: String,
    pub company_website: Option<String>,
    pub fields: JobFields,
    pub status: JobStatus,
    pub posted_at: Option<DateTime<Utc>>,
}

/// How an import went.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportSummary {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    /// The first problems, as `file:line: record N (external_id "…"): reason` (JSON Lines, CSV)
    /// or `file: record N (…): reason` (JSON).
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl ImportSummary {
    pub fn records(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.invalid
    }
}

/// At most this many problems are kept in the summary (all are reported as they happen).
const KEPT_ERRORS: usize = 100;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Only check the records.
    pub dry_run: bool,
    pub batch_size: usize,
    /// The source of records that do not name one.
    pub default_source: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { dry_run: false, batch_size: 500, default_source: "import".into() }
    }
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn string_list(value: Option<&Value>, field: &str) -> Result<Option<Vec<String>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(
            s.split([',', ';']).map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{field} must be a list of strings"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(format!("{field} must be a list of strings")),
    }
}

fn number(value: Option<&Value>, field: &str) -> Result<Option<f64>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| format!("{field} {} is not a number", shown(s)))
        }
        Some(_) => Err(format!("{field} must be a number")),
    }
}

fn date(value: Option<&Value>, field: &str) -> Result<Option<DateTime<Utc>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if let Ok(at) = DateTime::parse_from_rfc3339(s) {
                return Ok(Some(at.with_timezone(&Utc)));
            }
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|d| Some(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()))
                .map_err(|_| format!("{field} {} is not a date (YYYY-MM-DD or RFC 3339)", shown(s)))
        }
        Some(_) => Err(format!("{field} must be a date string")),
    }
}

fn text_field(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{key} must be a string")),
    }
}

/// A value quoted in an error message, cut short: a report names the problem, it does not
/// repeat a huge field.
fn shown(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        format!("{:?}…", value.chars().take(MAX).collect::<String>())
    }
}

/// An identifier: a string, or a number sources often use for ids.
fn id_field(value: &Value, key: &str) -> Result<Option<String>, String> {
    match value.get(key) {
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        _ => text_field(value, key),
    }
}

/// Our name for an employment type other systems spell differently (schema.org's FULL_TIME,
/// CONTRACTOR, INTERN, PER_DIEM; "full-time", "freelance"); anything else as it is, for the
/// validator to judge.
fn employment_alias(kind: &str) -> String {
    let kind = kind.trim().to_lowercase().replace(['-', ' '], "_");
    match kind.as_str() {
        "fulltime" => "full_time",
        "parttime" => "part_time",
        "contractor" | "freelance" | "freelancer" => "contract",
        "intern" => "internship",
        "temp" | "per_diem" | "seasonal" => "temporary",
        other => other,
    }
    .to_owned()
}

/// What separates the places of a raw list ("San Francisco, CA; New York, NY", "London |
/// Berlin", "New York, NY // Raleigh, NC"). A comma is not one: "New York, NY" is one place.
const PLACE_SEPARATORS: [&str; 4] = [";", "|", "\u{2022}", "//"];

/// The parts of a raw list of places, trimmed (empty ones kept, so lists given side by side
/// still pair up by position); one part when the text lists one place.
fn split_places(raw: &str) -> Vec<String> {
    let mut text = raw.to_owned();
    for separator in &PLACE_SEPARATORS[1..] {
        text = text.replace(separator, PLACE_SEPARATORS[0]);
    }
    text.split(PLACE_SEPARATORS[0]).map(|part| part.trim().to_owned()).collect()
}

/// A place of our format: an object of optional strings.
fn our_place(value: &Value, field: &str) -> Result<LocationInput, String> {
    if !value.is_object() {
        return Err(format!("{field} must be an object with city, region and country_code"));
    }
    let part =
        |key: &str| text_field(value, key).map_err(|_| format!("{field}.{key} must be a string"));
    Ok(LocationInput {
        city: part("city")?,
        region: part("region")?,
        country_code: part("country_code")?,
    })
}

/// The places of a record of our format: a `locations` list, or the one `location` (an object
/// or a text), whose fields may each be a raw list of places split at [`PLACE_SEPARATORS`]
/// (CSV files give several places that way). Several places come back as a list; one as the
/// primary location's fields.
fn our_locations(value: &Value) -> Result<(Option<Vec<LocationInput>>, LocationInput), String> {
    let location = value.get("location").filter(|l| !l.is_null());
    if let Some(list) = value.get("locations").filter(|l| !l.is_null()) {
        let Value::Array(items) = list else {
            return Err(
                "locations must be a list of objects with city, region and country_code".into()
            );
        };
        let places = items
            .iter()
            .enumerate()
            .map(|(i, item)| our_place(item, &format!("locations[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        // A source may also give the primary place as `location`, for readers that know only
        // that one; it must then be the first of the list.
        if let Some(location) = location {
            let primary = our_place(location, "location")?;
            let blank = |v: &Option<String>| {
                v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
            };
            let same = |a: &LocationInput, b: &LocationInput| {
                blank(&a.city) == blank(&b.city)
                    && blank(&a.region) == blank(&b.region)
                    && blank(&a.country_code).map(|c| c.to_ascii_uppercase())
                        == blank(&b.country_code).map(|c| c.to_ascii_uppercase())
            };
            let empty = LocationInput::default();
            if !same(&primary, &empty) && !places.first().is_some_and(|first| same(first, &primary))
            {
                return Err("location must be the first of locations (or be left out)".into());
            }
        }
        return Ok((Some(places), LocationInput::default()));
    }
    let given = match location {
        None => return Ok((None, LocationInput::default())),
        Some(Value::String(raw)) => {
            LocationInput { city: Some(raw.clone()), ..LocationInput::default() }
        }
        Some(other) => our_place(other, "location")?,
    };
    let split = |v: &Option<String>| v.as_deref().map(split_places).unwrap_or_default();
    let (cities, regions, countries) =
        (split(&given.city), split(&given.region), split(&given.country_code));
    let count = cities.len().max(regions.len()).max(countries.len());
    if count <= 1 {
        return Ok((None, given));
    }
    for (name, parts) in [("cities", &cities), ("regions", &regions), ("country codes", &countries)]
    {
        if parts.len() > 1 && parts.len() != count {
            return Err(format!(
                "location lists {count} places but {} {name}; give one for all of them or one for each",
                parts.len()
            ));
        }
    }
    let nth = |parts: &[String], i: usize| -> Option<String> {
        match parts.len() {
            0 => None,
            1 => Some(parts[0].clone()),
            _ => Some(parts[i].clone()),
        }
    };
    let places = (0..count)
        .map(|i| LocationInput {
            city: nth(&cities, i),
            region: nth(&regions, i),
            country_code: nth(&countries, i),
        })
        .collect();
    Ok((Some(places), LocationInput::default()))
}

/// Our import format (see fixtures/README.md).
fn from_ours(
    value: &Value,
    default_source: &str,
) -> Result<(ImportRecord, Option<String>), String> {
    if !value.is_object() {
        return Err("a record must be a JSON object".into());
    }
    let company_name = match value.get("company") {
        Some(Value::String(name)) => Some(name.trim().to_owned()),
        Some(Value::Object(_)) => str_at(value, &["company", "name"]).map(str::to_owned),
        _ => None,
    }
    .filter(|n| !n.is_empty())
    .ok_or("company (its name) is required")?;
    let (locations, primary) = our_locations(value)?;
    let salary = value.get("salary").filter(|s| !s.is_null());
    let sal = |key: &str| salary.and_then(|s| s.get(key));
    let input = JobInput {
        title: text_field(value, "title")?,
        description: text_field(value, "description")?,
        locations,
        city: primary.city,
        region: primary.region,
        country_code: primary.country_code,
        workplace: text_field(value, "workplace")?,
        remote_regions: string_list(value.get("remote_regions"), "remote_regions")?,
        employment_type: text_field(value, "employment_type")?.map(|kind| employment_alias(&kind)),
        seniority: text_field(value, "seniority")?,
        salary_min: number(sal("min"), "salary.min")?,
        salary_max: number(sal("max"), "salary.max")?,
        salary_currency: sal("currency").and_then(Value::as_str).map(str::to_owned),
        salary_period: sal("period").and_then(Value::as_str).map(str::to_owned),
        salary_public: sal("public").and_then(Value::as_bool).or(salary.map(|_| true)),
        skills: string_list(value.get("skills"), "skills")?,
        category: text_field(value, "category")?,
        tags: string_list(value.get("tags"), "tags")?,
        apply_url: text_field(value, "apply_url")?,
        expires_at: date(value.get("expires_at"), "expires_at")?,
    };
    let fields = validate(None, input).map_err(|e| e.to_string())?;
    let status = match value.get("status").and_then(Value::as_str) {
        None => JobStatus::Published,
        Some(s) => JobStatus::parse(s)
            .ok_or_else(|| format!("status must be one of {}", JobStatus::names()))?,
    };
    let record = ImportRecord {
        source: str_at(value, &["source"]).unwrap_or(default_source).to_owned(),
        external_id: id_field(value, "external_id")?
            .map(|s| s.trim().to_owned())
            .unwrap_or_default(),
        company_website: str_at(value, &["company", "website"]).map(str::to_owned),
        company_name,
        fields,
        status,
        posted_at: date(value.get("posted_at"), "posted_at")?,
    };
    Ok((record, None))
}

/// One `jobLocation` of a JobPosting: a Place whose address is a PostalAddress (or a text).
/// A country that is not a two-letter code (a name) is left out rather than guessed.
fn posting_place(place: &Value) -> LocationInput {
    let address = place.get("address");
    let addr = |key: &str| {
        address.and_then(|a| a.get(key)).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        })
    };
    match address {
        Some(Value::String(text)) => {
            LocationInput { city: Some(text.clone()), ..LocationInput::default() }
        }
        _ => LocationInput {
            city: addr("addressLocality"),
            region: addr("addressRegion"),
            country_code: addr("addressCountry").filter(|c| c.trim().len() == 2),
        },
    }
}

/// A schema.org JobPosting (JSON-LD).
fn from_job_posting(
    value: &Value,
    default_source: &str,
) -> Result<(ImportRecord, Option<String>), String> {
    let company_name = match value.get("hiringOrganization") {
        Some(Value::String(name)) => Some(name.trim().to_owned()),
        Some(org) => org.get("name").and_then(Value::as_str).map(|s| s.trim().to_owned()),
        None => None,
    }
    .filter(|n| !n.is_empty())
    .ok_or("hiringOrganization.name is required")?;
    let places = match value.get("jobLocation") {
        Some(Value::Array(places)) => places.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(place) => vec![place],
    };
    let locations = places.into_iter().map(posting_place).collect::<Vec<_>>();
    let remote = value.get("jobLocationType").and_then(Value::as_str) == Some("TELECOMMUTE");
    let employment_type = match value.get("employmentType") {
        Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str).map(str::to_owned),
        Some(Value::String(kind)) => Some(kind.clone()),
        _ => None,
    }
    .map(|kind| employment_alias(&kind))
    .filter(|kind| EmploymentType::parse(kind).is_some());
    let salary = value.get("baseSalary");
    let amount = salary.and_then(|s| s.get("value"));
    let period =
        amount.and_then(|a| a.get("unitText")).and_then(Value::as_str).and_then(|u| match u {
            "HOUR" => Some("hour"),
            "DAY" => Some("day"),
            "WEEK" => Some("week"),
            "MONTH" => Some("month"),
            "YEAR" => Some("year"),
            _ => None,
        });
    let (min, max) = match amount {
        Some(Value::Number(n)) => (n.as_f64(), n.as_f64()),
        Some(a) => {
            let exact = number(a.get("value"), "baseSalary.value.value")?;
            (
                number(a.get("minValue"), "baseSalary.value.minValue")?.or(exact),
                number(a.get("maxValue"), "baseSalary.value.maxValue")?.or(exact),
            )
        }
        None => (None, None),
    };
    let identifier = match value.get("identifier") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => {
            o.get("value").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        }
        _ => None,
    };
    let input = JobInput {
        title: text_field(value, "title")?,
        description: text_field(value, "description")?,
        locations: Some(locations),
        city: None,
        region: None,
        country_code: None,
        workplace: remote.then(|| "remote".to_owned()),
        remote_regions: None,
        employment_type,
        seniority: None,
        salary_min: min,
        salary_max: max,
        salary_currency: salary
            .and_then(|s| s.get("currency"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        salary_period: period.map(str::to_owned),
        salary_public: salary.map(|_| true),
        skills: string_list(value.get("skills"), "skills")?,
        category: text_field(value, "occupationalCategory")?,
        tags: None,
        apply_url: text_field(value, "url")?,
        expires_at: date(value.get("validThrough"), "validThrough")?,
    };
    let fields = validate(None, input).map_err(|e| e.to_string())?;
    let website = value
        .get("hiringOrganization")
        .and_then(|o| o.get("sameAs"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok((
        ImportRecord {
            source: default_source.to_owned(),
            external_id: identifier.unwrap_or_default(),
            company_name,
            company_website: website,
            fields,
            status: JobStatus::Published,
            posted_at: date(value.get("datePosted"), "datePosted")?,
        },
        None,
    ))
}

/// Where a record is, for its error messages: `jobs.jsonl:18: record 17 (external_id "gh:1")`.
/// Every record is numbered from 1 in its file (the postings of a JSON-LD `@graph` too), and its
/// identifier is named when it has one. JSON Lines and CSV put one record on a line, so the
/// line leads, as editors expect; a JSON document may hold all its records on one line, so there
/// the number is what finds it.
fn record_place(
    file: &str,
    format: Format,
    index: u64,
    line: u64,
    value: Option<&Value>,
) -> String {
    let at = match format {
        Format::JsonLines | Format::Csv => format!("{file}:{line}: record {index}"),
        Format::Json => format!("{file}: record {index}"),
    };
    match value.and_then(record_identifier) {
        Some((key, id)) => format!("{at} ({key} {})", shown(&id)),
        None => at,
    }
}

/// The identifier a record gives itself, if any: `external_id` (ours) or schema.org's
/// `identifier` (a text or a PropertyValue's `value`).
fn record_identifier(value: &Value) -> Option<(&'static str, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = value.get("external_id").and_then(text) {
        return Some(("external_id", id));
    }
    let identifier = value.get("identifier")?;
    identifier.get("value").and_then(text).or_else(|| text(identifier)).map(|id| ("identifier", id))
}

/// Checks one record read from a file.
pub fn to_record(value: &Value, default_source: &str) -> Result<ImportRecord, String> {
    let is_posting = value.get("@type").and_then(Value::as_str) == Some("JobPosting");
    let (mut record, _) = if is_posting {
        from_job_posting(value, default_source)?
    } else {
        from_ours(value, default_source)?
    };
    if record.source.chars().count() > 100 || record.external_id.chars().count() > 200 {
        return Err("source or external_id is too long".into());
    }
    if record.source.trim().is_empty() {
        return Err("source must not be empty".into());
    }
    if record.source == crate::services::jobs::PORTAL_SOURCE {
        // Jobs made in the portal use it; an import must not overwrite them.
        return Err(format!(
            "the source {:?} is reserved for jobs made in the portal",
            record.source
        ));
    }
    if record.company_name.chars().count() > 120 {
        return Err("the company name is longer than 120 characters".into());
    }
    if record.external_id.is_empty() {
        // No id from the source: the content names the job. The primary place takes part, as
        // it did when a job had one location (which was the first of a JSON-LD posting's
        // places), so re-importing a file made then finds the jobs it made instead of adding
        // new ones.
        let places = format!("{:?}", record.fields.primary_location().cloned().unwrap_or_default());
        let digest = Sha256::digest(
            format!("{}\n{}\n{places}", record.company_name, record.fields.title).as_bytes(),
        );
        record.external_id = format!("sha256:{}", hex::encode(&digest[..16]));
    }
    // An expired job is imported closed; search would hide it anyway.
    if record.status == JobStatus::Published
        && record.fields.expires_at.is_some_and(|at| at <= Utc::now())
    {
        record.status = JobStatus::Closed;
    }
    Ok(record)
}

/// The slug a company of this name gets (and is found by).
fn company_slug(name: &str) -> String {
    let slug = slugify(name);
    if slug.is_empty() { format!("company-{}", &stable_id("slug", name)[..8]) } else { slug }
}

/// A stable UUID-shaped id from a name: the same input always gives the same record id.
fn stable_id(kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\u{0}{name}").as_bytes());
    uuid::Builder::from_custom_bytes(digest[..16].try_into().unwrap_or([0; 16]))
        .into_uuid()
        .to_string()
}

/// The companies of a batch by slug: the existing ones, and new ones (with ids derived from
/// their slugs) created in a transaction of their own. Batches go through this one at a time,
/// before their jobs, so no two batches written at once both create one company. A run
/// stopped between the two writes leaves a company whose jobs the next run writes.
async fn ensure_companies(
    ctx: &Context,
    batch: &[ImportRecord],
) -> Result<HashMap<String, String>, ServiceError> {
    let mut slugs: Vec<String> = batch.iter().map(|r| company_slug(&r.company_name)).collect();
    slugs.sort();
    slugs.dedup();
    let mut company_of: HashMap<String, String> =
        repositories::companies::ids_by_slugs(&ctx.db, &slugs).await?.into_iter().collect();
    let mut missing = Vec::new();
    for record in batch {
        let slug = company_slug(&record.company_name);
        if company_of.contains_key(&slug) {
            continue;
        }
        let id = stable_id("company", &slug);
        let fields = CompanyFields {
            name: Some(record.company_name.clone()),
            website: record
                .company_website
                .clone()
                .filter(|w| w.starts_with("http://") || w.starts_with("https://")),
            ..CompanyFields::default()
        };
        company_of.insert(slug.clone(), id.clone());
        missing.push((id, slug, fields));
    }
    if !missing.is_empty() {
        let tx = ctx.db.begin().await?;
        repositories::companies::insert_many_with_ids(&tx, &missing, "import").await?;
        tx.commit().await?;
    }
    Ok(company_of)
}

/// The id of the job a record describes.
fn job_id(record: &ImportRecord) -> String {
    stable_id("job", &format!("{}\u{0}{}", record.source, record.external_id))
}

/// Writes the jobs of one batch in one transaction (their companies exist, see
/// [`ensure_companies`]; `ids` are the records' [`job_id`]s, in order); returns what happened
/// to each (created, updated, unchanged) and the jobs it wrote (for the index).
/// `found_stored` says whether the last batch read found any of its jobs stored already, and
/// is updated by this one's.
async fn write_jobs(
    ctx: &Context,
    batch: &[ImportRecord],
    ids: &[String],
    company_of: &HashMap<String, String>,
    found_stored: &AtomicBool,
) -> Result<(ImportSummary, Vec<Job>), ServiceError> {
    let mut summary = ImportSummary::default();
    let mut jobs: Vec<NewJob> = Vec::with_capacity(batch.len());
    let mut position: HashMap<String, usize> = HashMap::with_capacity(batch.len());
    for (record, id) in batch.iter().zip(ids) {
        let company_id =
            company_of.get(&company_slug(&record.company_name)).cloned().unwrap_or_default();
        let job = NewJob {
            content_hash: content_hash(&company_id, &record.fields, record.status),
            id: id.clone(),
            company_id,
            fields: record.fields.clone(),
            status: record.status,
            review: Review::Approved,
            posted_at: record.posted_at,
            source: record.source.clone(),
            external_id: record.external_id.clone(),
            created_by: None,
        };
        // The same job twice in one batch: the later record wins and counts as it would in a
        // later batch (unchanged or updated).
        match position.get(&job.id) {
            Some(&at) => {
                if jobs[at].content_hash == job.content_hash {
                    summary.unchanged += 1;
                } else {
                    summary.updated += 1;
                }
                jobs[at] = job;
            }
            None => {
                position.insert(job.id.clone(), jobs.len());
                jobs.push(job);
            }
        }
    }
    if !found_stored.load(Ordering::Relaxed) {
        // The last batch found none of its jobs stored: most likely none of these are either
        // (a first import, or the part of one a killed run did not reach), so insert them
        // without reading first. Reading 500 ids that are not there costs a tenth of the write.
        let tx = ctx.db.begin().await?;
        if let Some(written) = repositories::jobs::insert_new(&tx, &jobs).await? {
            tx.commit().await?;
            summary.created += written.len() as u64;
            return Ok((summary, written));
        }
        tx.cancel().await;
    }
    let tx = ctx.db.begin().await?;
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let existing: HashMap<String, String> =
        repositories::jobs::hashes(&tx, &ids).await?.into_iter().collect();
    found_stored.store(!existing.is_empty(), Ordering::Relaxed);
    let mut created = Vec::with_capacity(jobs.len());
    let mut changed = Vec::new();
    for job in jobs {
        match existing.get(&job.id) {
            None => {
                summary.created += 1;
                created.push(job);
            }
            Some(hash) if *hash == job.content_hash => summary.unchanged += 1,
            Some(_) => {
                summary.updated += 1;
                changed.push(job);
            }
        }
    }
    // A job read as absent but there at the insert was created meanwhile: retried as a conflict.
    let created_meanwhile = || {
        ServiceError::Conflict(
            super::error::ConflictKind::Concurrent,
            "a job was created while its batch was written".into(),
        )
    };
    let mut written =
        repositories::jobs::insert_new(&tx, &created).await?.ok_or_else(created_meanwhile)?;
    written.extend(repositories::jobs::upsert_many(&tx, &changed).await?);
    tx.commit().await?;
    Ok((summary, written))
}

/// How many batches of jobs are written at once, each in its own transaction: while one waits
/// for its commit, the others keep both cores busy. Batches that share a job are never in
/// flight together, so the later record still wins.
const BATCHES_IN_FLIGHT: usize = 3;

/// A batch being written: its job ids, and the task writing it.
struct InFlight {
    ids: std::collections::HashSet<String>,
    task: tokio::task::JoinHandle<Result<(ImportSummary, Vec<Job>), ServiceError>>,
}

/// The batches being written, oldest first, and the index writes that follow them; results
/// are taken in input order, so counts, progress and index writes follow the input.
#[derive(Default)]
struct Writes {
    in_flight: std::collections::VecDeque<InFlight>,
    index: IndexPipeline,
    /// See [`write_jobs`]: false until a batch finds jobs stored already.
    found_stored: Arc<AtomicBool>,
}

impl Writes {
    /// Starts writing `batch` once there is room and no batch in flight shares a job with it.
    async fn start(
        &mut self,
        ctx: &Context,
        batch: Vec<ImportRecord>,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        let company_of = ensure_companies(ctx, &batch).await?;
        let ids: Vec<String> = batch.iter().map(job_id).collect();
        let distinct: std::collections::HashSet<String> = ids.iter().cloned().collect();
        while self.in_flight.len() >= BATCHES_IN_FLIGHT
            || self.in_flight.iter().any(|f| !f.ids.is_disjoint(&distinct))
        {
            self.finish_oldest(ctx, summary, progress).await?;
        }
        let ctx = ctx.clone();
        let found_stored = Arc::clone(&self.found_stored);
        let task = tokio::spawn(async move {
            // A write conflict (another transaction touched the same rows) is retried.
            let mut attempt = 0;
            loop {
                match write_jobs(&ctx, &batch, &ids, &company_of, &found_stored).await {
                    Err(ServiceError::Conflict(super::error::ConflictKind::Concurrent, _))
                        if attempt < 5 =>
                    {
                        attempt += 1
                    }
                    other => return other,
                }
            }
        });
        self.in_flight.push_back(InFlight { ids: distinct, task });
        Ok(())
    }

    async fn finish_oldest(
        &mut self,
        ctx: &Context,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        let Some(oldest) = self.in_flight.pop_front() else { return Ok(()) };
        let (counts, written) =
            oldest.task.await.map_err(|e| ServiceError::Internal(e.into()))??;
        summary.created += counts.created;
        summary.updated += counts.updated;
        summary.unchanged += counts.unchanged;
        self.index.push(ctx, written).await?;
        progress.batch(summary);
        tracing::debug!(
            created = summary.created,
            updated = summary.updated,
            unchanged = summary.unchanged,
            invalid = summary.invalid,
            "batch written"
        );
        Ok(())
    }

    /// Waits for every batch in flight, then commits what they staged in the index.
    async fn finish(
        &mut self,
        ctx: &Context,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        while !self.in_flight.is_empty() {
            self.finish_oldest(ctx, summary, progress).await?;
        }
        self.index.finish(ctx).await
    }
}

/// How often an import makes what it indexed visible to searches. Each commit writes a new
/// segment that has to be merged later; committing every batch cost more than writing the
/// batches to the database.
const INDEX_COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The index write of the previous batch, running while the next batch goes to the database
/// (the index writes on the blocking pool, the database on the runtime: two cores at work).
/// Batches are staged in the index and committed every [`INDEX_COMMIT_EVERY`] and at the end;
/// if the import dies in between, the index's watermark has not moved past them and the next
/// catch-up or start-up check indexes them.
struct IndexPipeline {
    pending: Option<tokio::task::JoinHandle<Result<(), ServiceError>>>,
    last_commit: std::time::Instant,
    /// Whether any batch went to the index.
    pushed: bool,
}

impl Default for IndexPipeline {
    fn default() -> Self {
        Self { pending: None, last_commit: std::time::Instant::now(), pushed: false }
    }
}

impl IndexPipeline {
    async fn wait(&mut self) -> Result<(), ServiceError> {
        match self.pending.take() {
            Some(task) => task.await.map_err(|e| ServiceError::Internal(e.into()))?,
            None => Ok(()),
        }
    }

    /// Waits for the previous write (index writes stay in batch order), then starts this one.
    async fn push(&mut self, ctx: &Context, written: Vec<Job>) -> Result<(), ServiceError> {
        self.wait().await?;
        self.pushed = true;
        let commit = self.last_commit.elapsed() >= INDEX_COMMIT_EVERY;
        if commit {
            self.last_commit = std::time::Instant::now();
        }
        let ctx = ctx.clone();
        self.pending =
            Some(tokio::spawn(
                async move { super::jobs::sync_imported(&ctx, &written, commit).await },
            ));
        Ok(())
    }

    /// Waits for the last write and commits everything staged (nothing to do when no batch
    /// was written: a dry run, an empty input).
    async fn finish(&mut self, ctx: &Context) -> Result<(), ServiceError> {
        if !self.pushed {
            return Ok(());
        }
        self.wait().await?;
        super::jobs::sync_imported(ctx, &[], true).await
    }
}

/// One input: a name for messages (the file name, or `-` for standard input) and its bytes.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
    pub format: Option<Format>,
}

/// Events an import reports as it goes.
pub trait Progress: Send {
    /// A record was read (valid or not).
    fn record(&mut self) {}
    /// A record is invalid: where it is (see [`ImportSummary::errors`]) and why.
    fn problem(&mut self, _message: &str) {}
    /// A batch was written.
    fn batch(&mut self, _summary: &ImportSummary) {}
}

impl Progress for () {}

/// Imports every input in turn. Invalid records are counted and reported; a database failure
/// stops the import (batches already written stay, and a rerun continues where it stopped).
pub async fn import(
    ctx: &Context,
    inputs: Vec<Input>,
    options: &ImportOptions,
    progress: &mut dyn Progress,
) -> Result<ImportSummary, ServiceError> {
    let mut summary = ImportSummary::default();
    let mut writes = Writes::default();
    for input in inputs {
        let name = input.name.clone();
        let (tx, mut rx) =
            tokio::sync::mpsc::channel::<Result<Result<ImportRecord, String>, String>>(4096);
        let default_source = options.default_source.clone();
        let reader_name = name.clone();
        let reader = tokio::task::spawn_blocking(move || {
            let mut reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
            let first = std::io::BufRead::fill_buf(&mut reader)
                .ok()
                .and_then(|b| b.iter().copied().find(|c| !c.is_ascii_whitespace()));
            let format = input.format.unwrap_or_else(|| Format::detect(&reader_name, first));
            let warn_tx = tx.clone();
            let mut index = 0u64;
            let result = formats::read(
                format,
                reader,
                |(line, item)| {
                    index += 1;
                    let record = match item {
                        Ok(value) => to_record(&value, &default_source).map_err(|reason| {
                            format!(
                                "{}: {reason}",
                                record_place(&reader_name, format, index, line, Some(&value))
                            )
                        }),
                        Err(reason) => Err(format!(
                            "{}: {reason}",
                            record_place(&reader_name, format, index, line, None)
                        )),
                    };
                    tx.blocking_send(Ok(record)).is_ok()
                },
                |warning| {
                    let _ = warn_tx.blocking_send(Err(format!("warning: {warning}")));
                },
            );
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(format!("fatal: {e}")));
            }
        });
        let mut batch = Vec::with_capacity(options.batch_size);
        while let Some(message) = rx.recv().await {
            match message {
                Err(text) if text.starts_with("warning: ") => {
                    summary.warnings.push(format!("{name}: {}", &text["warning: ".len()..]));
                }
                Err(text) => {
                    // What was acknowledged as written is written (and indexed) first.
                    writes.finish(ctx, &mut summary, progress).await?;
                    return Err(ServiceError::validation(format!(
                        "{name}: {}",
                        text.trim_start_matches("fatal: ")
                    )));
                }
                Ok(record) => {
                    progress.record();
                    match record {
                        Ok(record) => batch.push(record),
                        Err(message) => {
                            summary.invalid += 1;
                            progress.problem(&message);
                            if summary.errors.len() < KEPT_ERRORS {
                                summary.errors.push(message);
                            }
                        }
                    }
                    if batch.len() >= options.batch_size {
                        let full =
                            std::mem::replace(&mut batch, Vec::with_capacity(options.batch_size));
                        if !options.dry_run {
                            writes.start(ctx, full, &mut summary, progress).await?;
                        } else {
                            summary.created += full.len() as u64;
                            progress.batch(&summary);
                        }
                    }
                }
            }
        }
        reader.await.map_err(|e| ServiceError::Internal(e.into()))?;
        if !batch.is_empty() {
            let last = std::mem::take(&mut batch);
            if !options.dry_run {
                writes.start(ctx, last, &mut summary, progress).await?;
            } else {
                summary.created += last.len() as u64;
                progress.batch(&summary);
            }
        }
    }
    writes.finish(ctx, &mut summary, progress).await?;
    if !options.dry_run {
        let meta = super::RequestMeta::default();
        let details = json!({ "created": summary.created, "updated": summary.updated, "unchanged": summary.unchanged, "invalid": summary.invalid });
        audit::record(&ctx.db, None, AuditAction::JobsImported, None, &meta, details).await?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_format_maps_to_a_job_and_missing_fields_stay_empty() {
        let value = json!({
            "source": "network-jobs-data", "external_id": "greenhouse:1", "title": "  Staff Engineer ",
            "description": null, "company": {"name": "Acme", "website": "https://acme.example"},
            "location": {"city": "New York", "region": "NY", "country_code": "US"},
            "workplace": null, "employment_type": null, "seniority": "senior",
            "salary": {"min": 100000, "max": 150000, "currency": null, "period": null},
            "skills": ["Rust", "postgres"], "category": "engineering", "tags": ["dept:Eng"],
            "apply_url": "https://jobs.example/1", "posted_at": null, "expires_at": null
        });
        let record = to_record(&value, "import").unwrap();
        assert_eq!(record.fields.title, "Staff Engineer");
        assert_eq!(record.fields.workplace, None);
        assert_eq!(record.fields.employment_type, None);
        assert_eq!(record.fields.skills, vec!["rust", "postgresql"]);
        let salary = record.fields.salary.unwrap();
        assert_eq!(salary.currency, None, "no currency is assumed");
        assert_eq!(salary.yearly_top(), None, "no period, no yearly figure");
        assert_eq!(record.status, JobStatus::Published);
    }

    #[test]
    fn a_job_posting_maps_googles_fields() {
        let value = json!({
            "@context": "https://schema.org/", "@type": "JobPosting", "title": "Backend Developer (Rust)",
            "description": "<p>Build APIs.</p>", "datePosted": "2026-01-05", "validThrough": "2099-01-01T00:00:00Z",
            "employmentType": "FULL_TIME",
            "hiringOrganization": {"@type": "Organization", "name": "Ferris Labs", "sameAs": "https://ferris.example"},
            "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Lisbon", "addressCountry": "PT"}},
            "baseSalary": {"@type": "MonetaryAmount", "currency": "EUR", "value": {"@type": "QuantitativeValue", "minValue": 50000, "maxValue": 70000, "unitText": "YEAR"}},
            "identifier": {"@type": "PropertyValue", "name": "Ferris Labs", "value": "FL-42"}
        });
        let record = to_record(&value, "jsonld").unwrap();
        assert_eq!(record.external_id, "FL-42");
        assert_eq!(record.company_name, "Ferris Labs");
        assert_eq!(record.fields.locations[0].country_code.as_deref(), Some("PT"));
        assert_eq!(record.fields.employment_type.map(|e| e.as_str()), Some("full_time"));
        assert_eq!(record.fields.salary.unwrap().yearly_top(), Some(70000.0));
        assert_eq!(record.posted_at.unwrap().to_rfc3339(), "2026-01-05T00:00:00+00:00");
    }

    fn cities(record: &ImportRecord) -> Vec<String> {
        record.fields.locations.iter().map(|l| l.city.clone().unwrap_or_default()).collect()
    }

    #[test]
    fn a_raw_list_of_places_is_split_at_list_separators_never_at_commas() {
        let record = |location: Value| {
            to_record(&json!({"title": "Dev", "company": "Acme", "location": location}), "x")
        };
        let one = record(json!({"city": "New York, NY", "country_code": "US"})).unwrap();
        assert_eq!(cities(&one), ["New York, NY"]);
        let listed = record(json!({"city": "San Francisco, CA; New York, NY | Austin, TX // Raleigh, NC", "country_code": "US"})).unwrap();
        assert_eq!(
            cities(&listed),
            ["San Francisco, CA", "New York, NY", "Austin, TX", "Raleigh, NC"]
        );
        assert!(
            listed.fields.locations.iter().all(|l| l.country_code.as_deref() == Some("US")),
            "one country for all"
        );
        let paired = record(json!({"city": "Lisbon|Vigo", "country_code": "PT|ES"})).unwrap();
        let countries: Vec<_> = paired
            .fields
            .locations
            .iter()
            .map(|l| l.country_code.clone().unwrap_or_default())
            .collect();
        assert_eq!(countries, ["PT", "ES"]);
        let text = record(json!("Berlin; Munich")).unwrap();
        assert_eq!(cities(&text), ["Berlin", "Munich"]);
        let mismatched = record(json!({"city": "A; B; C", "country_code": "PT|ES"})).unwrap_err();
        assert!(mismatched.contains("3 places but 2 country codes"), "{mismatched}");
    }

    #[test]
    fn a_locations_list_and_a_job_posting_s_places_are_all_kept() {
        let ours = json!({"title": "Dev", "company": "Acme", "location": {"city": "Lisbon"},
            "locations": [{"city": "Lisbon"}, {"city": "Porto", "region": "Norte"}]});
        assert_eq!(cities(&to_record(&ours, "x").unwrap()), ["Lisbon", "Porto"]);
        let contradicting = json!({"title": "Dev", "company": "Acme", "location": {"city": "Faro"}, "locations": [{"city": "Lisbon"}]});
        assert!(to_record(&contradicting, "x").unwrap_err().contains("first of locations"));
        assert!(
            to_record(&json!({"title": "Dev", "company": "Acme", "locations": ["Lisbon"]}), "x")
                .unwrap_err()
                .contains("locations[0]")
        );
        let posting = json!({"@type": "JobPosting", "title": "Dev", "hiringOrganization": {"name": "Acme"}, "jobLocation": [
            {"address": {"addressLocality": "Paris", "addressCountry": "FR"}},
            {"address": {"addressLocality": "Lyon", "addressCountry": "France"}}]});
        let record = to_record(&posting, "x").unwrap();
        assert_eq!(cities(&record), ["Paris", "Lyon"]);
        assert_eq!(
            record.fields.locations[1].country_code, None,
            "a country name is not turned into a code"
        );
    }

    #[test]
    fn a_record_is_named_by_its_number_its_line_where_lines_name_it_and_its_identifier() {
        let ours = json!({"external_id": "greenhouse:123"});
        assert_eq!(
            record_place("jobs.json", Format::Json, 17, 1, Some(&ours)),
            "jobs.json: record 17 (external_id \"greenhouse:123\")"
        );
        assert_eq!(record_place("jobs.csv", Format::Csv, 4, 5, None), "jobs.csv:5: record 4");
        let posting =
            json!({"@type": "JobPosting", "identifier": {"@type": "PropertyValue", "value": 42}});
        assert_eq!(
            record_place("-", Format::JsonLines, 1, 1, Some(&posting)),
            "-:1: record 1 (identifier \"42\")"
        );
    }

    #[test]
    fn records_without_a_title_or_company_or_with_wrong_types_are_refused() {
        assert!(to_record(&json!({"company": "Acme"}), "x").unwrap_err().contains("title"));
        assert!(to_record(&json!({"title": "Dev"}), "x").unwrap_err().contains("company"));
        assert!(
            to_record(&json!({"title": "Dev", "company": "Acme", "skills": 5}), "x")
                .unwrap_err()
                .contains("skills")
        );
        assert!(
            to_record(&json!({"title": "x".repeat(300), "company": "Acme"}), "x")
                .unwrap_err()
                .contains("title")
        );
        assert!(to_record(&json!(["not", "an", "object"]), "x").is_err());
        let portal =
            json!({"title": "Dev", "company": "Acme", "source": "portal", "external_id": "1"});
        assert!(
            to_record(&portal, "x").unwrap_err().contains("reserved"),
            "imports never overwrite portal jobs"
        );
    }

    #[test]
    fn ids_are_stable_and_a_missing_external_id_comes_from_the_content() {
        assert_eq!(stable_id("job", "a"), stable_id("job", "a"));
        assert_ne!(stable_id("job", "a"), stable_id("job", "b"));
        let a = to_record(&json!({"title": "Dev", "company": "Acme"}), "x").unwrap();
        let b = to_record(&json!({"title": "Dev", "company": "Acme"}), "x").unwrap();
        assert_eq!(a.external_id, b.external_id);
        assert!(a.external_id.starts_with("sha256:"));
        // A posting that lists more places than it did is still the job made from its first.
        let one = to_record(&json!({"title": "Dev", "company": "Acme", "locations": [{"city": "Porto", "country_code": "PT"}]}), "x").unwrap();
        let two = to_record(
            &json!({"title": "Dev", "company": "Acme", "locations": [{"city": "Porto", "country_code": "PT"}, {"city": "Lisbon", "country_code": "PT"}]}),
            "x",
        )
        .unwrap();
        assert_eq!(one.external_id, two.external_id);
        let elsewhere = to_record(&json!({"title": "Dev", "company": "Acme", "locations": [{"city": "Braga", "country_code": "PT"}]}), "x").unwrap();
        assert_ne!(one.external_id, elsewhere.external_id);
    }
}
