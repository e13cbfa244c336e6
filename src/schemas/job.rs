//! Bodies of `/api/v1/jobs`, and the schema.org JobPosting of a job.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::models::company::Company;
use crate::models::job::{
    EmploymentType, Job, JobInput, Location, LocationInput, Salary, SalaryPeriod, Workplace,
};
use crate::models::listing::PageJob;

/// A job to create (as a draft) or the fields to change. Every field of an update is optional
/// (absent or null: unchanged); an empty string clears an optional text field.
///
/// A request takes the shape a job is answered in (`JobBody`): `location` and `salary` are
/// objects, so the fields a client read can be sent back as they are. The flat fields of
/// earlier versions (`city`, `region`, `country_code`; `salary_min`, `salary_max`,
/// `salary_currency`, `salary_period`) are still accepted. Each group is given in one form:
/// `location` with any of `city`, `region`, `country_code`, or `salary` with any of
/// `salary_min`, `salary_max`, `salary_currency`, `salary_period`, is refused (422
/// `validation_failed`), never merged. `location` beside `locations` must be the first of
/// `locations` (as in an answer), and then says nothing more; `locations` beside `city`,
/// `region` or `country_code` is refused.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobRequest {
    /// The company's slug (on creation only).
    pub company: Option<String>,
    #[schema(example = "Backend Engineer (Rust)")]
    pub title: Option<String>,
    /// Markdown.
    pub description: Option<String>,
    /// Every place the job is at, the primary one first (at most 50); replaces the list. A
    /// request gives either this or `city`, `region` and `country_code`.
    pub locations: Option<Vec<LocationBody>>,
    /// The primary place, as answered: its given fields change the primary place (the other
    /// places stay), like `city`, `region` and `country_code`, which it excludes. Beside
    /// `locations` it must equal the first of them.
    pub location: Option<LocationBody>,
    /// The primary location's city (the other places stay). Flat form of `location.city`.
    pub city: Option<String>,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2. Flat form of `location.country_code`.
    #[schema(example = "PT")]
    pub country_code: Option<String>,
    /// `onsite`, `hybrid` or `remote`.
    pub workplace: Option<String>,
    /// Where remote candidates may live (e.g. "EU").
    pub remote_regions: Option<Vec<String>>,
    /// `full_time`, `part_time`, `contract`, `internship` or `temporary`.
    pub employment_type: Option<String>,
    /// `intern`, `junior`, `mid`, `senior`, `lead` or `executive`.
    pub seniority: Option<String>,
    /// The pay, as answered: its given fields change the salary, like `salary_min`,
    /// `salary_max`, `salary_currency` and `salary_period`, which it excludes.
    pub salary: Option<SalaryBody>,
    /// Flat form of `salary.min`.
    pub salary_min: Option<f64>,
    /// Flat form of `salary.max`.
    pub salary_max: Option<f64>,
    /// ISO 4217. Flat form of `salary.currency`.
    pub salary_currency: Option<String>,
    /// `hour`, `day`, `week`, `month` or `year`. Flat form of `salary.period`.
    pub salary_period: Option<String>,
    /// Show the salary to candidates (and let salary filters see it).
    pub salary_public: Option<bool>,
    pub skills: Option<Vec<String>>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    /// An external application page; without it candidates apply in the portal.
    pub apply_url: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a [`JobRequest`] cannot be read: it gives a value in two forms (see [`JobRequest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictingForms(pub &'static str);

impl std::fmt::Display for ConflictingForms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl JobRequest {
    /// The company's slug and the job's fields, the nested forms (`location`, `salary`) read
    /// as their flat fields; a value given in two forms is refused, never picked.
    pub fn into_input(self) -> Result<(Option<String>, JobInput), ConflictingForms> {
        let flat_place =
            self.city.is_some() || self.region.is_some() || self.country_code.is_some();
        let location = match (self.location, &self.locations) {
            (Some(_), _) if flat_place => {
                return Err(ConflictingForms(
                    "give either location or city, region and country_code, not both",
                ));
            }
            // An answer's `location` beside its `locations`: the list says it all.
            (Some(location), Some(list)) => {
                if list.first().cloned().unwrap_or_default() != location {
                    return Err(ConflictingForms(
                        "location must be the first of locations when both are given",
                    ));
                }
                LocationBody::default()
            }
            (location, _) => location.unwrap_or_default(),
        };
        let flat_salary = self.salary_min.is_some()
            || self.salary_max.is_some()
            || self.salary_currency.is_some()
            || self.salary_period.is_some();
        let salary = match self.salary {
            Some(_) if flat_salary => {
                return Err(ConflictingForms(
                    "give either salary or salary_min, salary_max, salary_currency and \
                     salary_period, not both",
                ));
            }
            Some(salary) => salary,
            None => SalaryBody {
                min: self.salary_min,
                max: self.salary_max,
                currency: self.salary_currency,
                period: self.salary_period,
            },
        };
        Ok((
            self.company,
            JobInput {
                title: self.title,
                description: self.description,
                locations: self
                    .locations
                    .map(|list| list.into_iter().map(LocationInput::from).collect()),
                city: self.city.or(location.city),
                region: self.region.or(location.region),
                country_code: self.country_code.or(location.country_code),
                workplace: self.workplace,
                remote_regions: self.remote_regions,
                employment_type: self.employment_type,
                seniority: self.seniority,
                salary_min: salary.min,
                salary_max: salary.max,
                salary_currency: salary.currency,
                salary_period: salary.period,
                salary_public: self.salary_public,
                skills: self.skills,
                category: self.category,
                tags: self.tags,
                apply_url: self.apply_url,
                expires_at: self.expires_at,
            },
        ))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CompanyRefBody {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub verified: bool,
}

impl From<&Company> for CompanyRefBody {
    fn from(c: &Company) -> Self {
        Self { id: c.id.clone(), slug: c.slug.clone(), name: c.name.clone(), verified: c.verified }
    }
}

/// One place: a city (at most 100 characters), a region, an ISO 3166-1 alpha-2 country code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    pub city: Option<String>,
    pub region: Option<String>,
    #[schema(example = "PT")]
    pub country_code: Option<String>,
}

impl From<&Location> for LocationBody {
    fn from(l: &Location) -> Self {
        Self {
            city: l.city.clone(),
            region: l.region.clone(),
            country_code: l.country_code.clone(),
        }
    }
}

impl From<LocationBody> for LocationInput {
    fn from(l: LocationBody) -> Self {
        Self { city: l.city, region: l.region, country_code: l.country_code }
    }
}

/// A salary: amounts per `period` (`hour`, `day`, `week`, `month` or `year`) in `currency`
/// (ISO 4217).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalaryBody {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub currency: Option<String>,
    pub period: Option<String>,
}

impl From<&Salary> for SalaryBody {
    fn from(s: &Salary) -> Self {
        Self {
            min: s.min,
            max: s.max,
            currency: s.currency.clone(),
            period: s.period.map(|p| p.as_str().to_owned()),
        }
    }
}

/// A job in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobSummaryBody {
    pub id: String,
    pub title: String,
    pub company: CompanyRefBody,
    /// The primary (first) of `locations`; every field empty when the job names no place.
    pub location: LocationBody,
    /// Every place the job is at, the primary one first.
    pub locations: Vec<LocationBody>,
    pub workplace: Option<String>,
    pub employment_type: Option<String>,
    pub seniority: Option<String>,
    /// Present when the employer publishes it.
    pub salary: Option<SalaryBody>,
    pub skills: Vec<String>,
    pub category: Option<String>,
    pub tags: Vec<String>,
    pub apply_url: Option<String>,
    pub posted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl JobSummaryBody {
    pub fn new(job: &Job, company: &Company) -> Self {
        let f = &job.fields;
        Self {
            id: job.id.clone(),
            title: f.title.clone(),
            company: company.into(),
            location: f.primary_location().map(LocationBody::from).unwrap_or_default(),
            locations: f.locations.iter().map(LocationBody::from).collect(),
            workplace: f.workplace.map(|w| w.as_str().into()),
            employment_type: f.employment_type.map(|e| e.as_str().into()),
            seniority: f.seniority.map(|s| s.as_str().into()),
            salary: f.salary.as_ref().filter(|s| s.public).map(SalaryBody::from),
            skills: f.skills.clone(),
            category: f.category.clone(),
            tags: f.tags.clone(),
            apply_url: f.apply_url.clone(),
            posted_at: job.posted_at,
            expires_at: f.expires_at,
        }
    }
}

/// Appends the summaries of a page's jobs
/// ([`JobSummaryView`](crate::models::listing::JobSummaryView)) to `out`, as one JSON array, as
/// they come.
pub fn write_summaries<'a>(
    jobs: impl Iterator<Item = (PageJob<'a>, &'a Company)>,
    out: &mut Vec<u8>,
) {
    out.push(b'[');
    for (i, (job, company)) in jobs.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        job.write_json(company, out);
    }
    out.push(b']');
}

/// A whole job. Its company's members also see the status, review state, hidden salary and
/// where it came from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobBody {
    #[serde(flatten)]
    pub summary: JobSummaryBody,
    pub description: String,
    pub remote_regions: Vec<String>,
    pub view_count: u64,
    /// `draft`, `published`, `closed` or `archived` (members only).
    pub status: Option<String>,
    /// `pending`, `approved` or `rejected` (members only).
    pub review: Option<String>,
    pub source: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl JobBody {
    pub fn new(job: &Job, company: &Company, member: bool) -> Self {
        let mut summary = JobSummaryBody::new(job, company);
        if member {
            summary.salary = job.fields.salary.as_ref().map(SalaryBody::from);
        }
        Self {
            summary,
            description: job.fields.description.clone(),
            remote_regions: job.fields.remote_regions.clone(),
            view_count: job.view_count,
            status: member.then(|| job.status.as_str().into()),
            review: member.then(|| job.review.as_str().into()),
            source: member.then(|| job.source.clone()),
            created_at: member.then_some(job.created_at),
            updated_at: member.then_some(job.updated_at),
        }
    }
}

/// Query parameters of `GET /api/v1/jobs`. Lists are comma separated, at most 20 values each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words to look for; the title weighs most, then skills and company, then the description.
    pub q: Option<String>,
    /// A city or region, e.g. "lisbon".
    pub location: Option<String>,
    /// ISO country codes, any of.
    pub country: Option<String>,
    /// Any of onsite, hybrid, remote.
    pub workplace: Option<String>,
    /// Any of full_time, part_time, contract, internship, temporary.
    pub employment_type: Option<String>,
    /// Any of intern, junior, mid, senior, lead, executive.
    pub seniority: Option<String>,
    /// Any of these categories.
    pub category: Option<String>,
    /// All of these skills.
    pub skills: Option<String>,
    /// Company slugs, any of.
    pub company: Option<String>,
    /// At least this pay (in `salary_currency`, per `salary_period`, compared per year).
    pub salary_min: Option<f64>,
    pub salary_currency: Option<String>,
    /// Period of `salary_min`; default year.
    pub salary_period: Option<String>,
    /// Posted in the last N days (at most 3650).
    pub posted_within_days: Option<u32>,
    /// relevance (default with `q`), newest (default without) or salary.
    pub sort: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<u32>,
    /// Default 0; at most 10,000.
    pub offset: Option<u32>,
    /// Facet counts over the filtered result; default true.
    pub facets: Option<bool>,
    /// How `q` ranks: keyword (full text), semantic (meaning, by sentence embeddings) or hybrid
    /// (both fused). Default: hybrid when the embedding model is loaded, else keyword.
    /// Semantic returns the 100 jobs closest in meaning; hybrid returns every keyword match
    /// plus those 100.
    pub mode: Option<String>,
}

/// Splits a comma-separated parameter.
pub fn list_param(value: &Option<String>) -> Vec<String> {
    value
        .as_deref()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetValueBody {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchBody {
    pub items: Vec<JobSummaryBody>,
    /// Matches in all (an index a moment behind the database may count a job that just closed).
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<u32>,
    /// relevance, newest or salary.
    pub sort: String,
    /// keyword, semantic or hybrid: how the text query was ranked.
    pub mode: String,
    /// Facet name (workplace, employment_type, seniority, category, skills, locations) → counts.
    pub facets: BTreeMap<String, Vec<FacetValueBody>>,
    /// Present when a search with words found (almost) nothing and a correction of its words
    /// finds clearly more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<DidYouMeanBody>,
}

/// The response of a search: [`SearchBody`] (the schema it documents) with its items written
/// already ([`JobSummaryView`](crate::models::listing::JobSummaryView)).
/// Its JSON is [`SearchPageBody::to_json`]'s.
#[derive(Debug, Serialize)]
pub struct SearchPageBody {
    /// The body's JSON up to its items, the items included: [`SearchPageBody::start`], then
    /// their array ([`write_summaries`]). [`SearchPageBody::to_json`] goes on from there.
    #[serde(skip)]
    pub items: Vec<u8>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
    pub next_offset: Option<u32>,
    pub sort: String,
    pub mode: String,
    /// As [`SearchBody::facets`] shows them, written from the answer's own counts.
    #[serde(serialize_with = "facet_values")]
    pub facets: Arc<BTreeMap<String, Vec<(String, u64)>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub did_you_mean: Option<DidYouMeanBody>,
}

impl SearchPageBody {
    /// The beginning of a body's JSON, for its items to be written after
    /// ([`write_summaries`]): with room for a page of summaries and its facets, so that the
    /// page is written once, in one buffer.
    pub fn start() -> Vec<u8> {
        let mut out = Vec::with_capacity(20 * 1024);
        out.extend_from_slice(b"{\"items\":");
        out
    }

    /// The body's JSON: its items as they were written, then the other fields.
    pub fn to_json(mut self) -> serde_json::Result<Vec<u8>> {
        let mut out = std::mem::take(&mut self.items);
        let rest = out.len();
        serde_json::to_writer(&mut out, &self)?;
        // The other fields are an object with at least a total, `{"total":…}`: its brace
        // becomes the comma after the items.
        out[rest] = b',';
        Ok(out)
    }
}

/// Facet name → its values as [`FacetValueBody`] objects, from (value, count) pairs.
fn facet_values<S: serde::Serializer>(
    facets: &Arc<BTreeMap<String, Vec<(String, u64)>>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Value<'a> {
        value: &'a str,
        count: u64,
    }
    struct Values<'a>(&'a [(String, u64)]);
    impl Serialize for Values<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer
                .collect_seq(self.0.iter().map(|(value, count)| Value { value, count: *count }))
        }
    }
    serializer.collect_map(facets.iter().map(|(name, values)| (name, Values(values))))
}

/// A corrected query for a search that found (almost) nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DidYouMeanBody {
    /// The query with its misspelt words corrected (lower case).
    pub q: String,
    /// The public jobs it finds by keyword, with the same filters.
    pub total: u64,
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A schema.org Place with the postal address of one of a job's locations.
fn place(l: &Location) -> Value {
    let mut address = serde_json::Map::new();
    address.insert("@type".into(), json!("PostalAddress"));
    if let Some(city) = &l.city {
        address.insert("addressLocality".into(), json!(city));
    }
    if let Some(region) = &l.region {
        address.insert("addressRegion".into(), json!(region));
    }
    if let Some(country) = &l.country_code {
        address.insert("addressCountry".into(), json!(country));
    }
    json!({ "@type": "Place", "address": address })
}

/// The schema.org JobPosting of a public job, with the fields Google requires where the job
/// has them (a field the job lacks is left out, never invented). A job at several places
/// lists them all as an array of `jobLocation`s, as schema.org allows.
pub fn job_posting(job: &Job, company: &Company, public_url: &str) -> Value {
    let f = &job.fields;
    let mut posting = serde_json::Map::new();
    posting.insert("@context".into(), json!("https://schema.org/"));
    posting.insert("@type".into(), json!("JobPosting"));
    posting.insert("title".into(), json!(f.title));
    posting.insert(
        "description".into(),
        json!(if f.description.is_empty() { f.title.clone() } else { f.description.clone() }),
    );
    posting.insert(
        "identifier".into(),
        json!({ "@type": "PropertyValue", "name": company.name, "value": job.id }),
    );
    if let Some(at) = job.posted_at {
        posting.insert("datePosted".into(), json!(iso(at)));
    }
    if let Some(at) = f.expires_at {
        posting.insert("validThrough".into(), json!(iso(at)));
    }
    let mut organization = json!({ "@type": "Organization", "name": company.name });
    if let Some(website) = &company.website {
        organization["sameAs"] = json!(website);
    }
    if let Some(logo) = &company.logo_url {
        organization["logo"] = json!(logo);
    }
    posting.insert("hiringOrganization".into(), organization);
    let places: Vec<Value> = f
        .locations
        .iter()
        .filter(|l| l.city.is_some() || l.country_code.is_some())
        .map(place)
        .collect();
    match places.len() {
        0 => {}
        1 => {
            posting.insert("jobLocation".into(), places.into_iter().next().unwrap_or_default());
        }
        _ => {
            posting.insert("jobLocation".into(), Value::Array(places));
        }
    }
    if f.workplace == Some(Workplace::Remote) {
        posting.insert("jobLocationType".into(), json!("TELECOMMUTE"));
        let regions: Vec<Value> = f
            .remote_regions
            .iter()
            .map(|r| json!({ "@type": "AdministrativeArea", "name": r }))
            .collect();
        let mut countries: Vec<Value> = Vec::new();
        for country in f.locations.iter().filter_map(|l| l.country_code.as_ref()) {
            let country = json!({ "@type": "Country", "name": country });
            if !countries.contains(&country) {
                countries.push(country);
            }
        }
        if !regions.is_empty() {
            posting.insert("applicantLocationRequirements".into(), json!(regions));
        } else if countries.len() == 1 {
            posting.insert("applicantLocationRequirements".into(), countries.remove(0));
        } else if !countries.is_empty() {
            posting.insert("applicantLocationRequirements".into(), Value::Array(countries));
        }
    }
    if let Some(kind) = f.employment_type {
        let value = match kind {
            EmploymentType::FullTime => "FULL_TIME",
            EmploymentType::PartTime => "PART_TIME",
            EmploymentType::Contract => "CONTRACTOR",
            EmploymentType::Internship => "INTERN",
            EmploymentType::Temporary => "TEMPORARY",
        };
        posting.insert("employmentType".into(), json!(value));
    }
    if let Some(salary) =
        f.salary.as_ref().filter(|s| s.public && s.currency.is_some() && s.period.is_some())
    {
        let unit = match salary.period.unwrap_or(SalaryPeriod::Year) {
            SalaryPeriod::Hour => "HOUR",
            SalaryPeriod::Day => "DAY",
            SalaryPeriod::Week => "WEEK",
            SalaryPeriod::Month => "MONTH",
            SalaryPeriod::Year => "YEAR",
        };
        let mut value = json!({ "@type": "QuantitativeValue", "unitText": unit });
        match (salary.min, salary.max) {
            (Some(min), Some(max)) if min == max => value["value"] = json!(min),
            (min, max) => {
                if let Some(min) = min {
                    value["minValue"] = json!(min);
                }
                if let Some(max) = max {
                    value["maxValue"] = json!(max);
                }
            }
        }
        posting.insert(
            "baseSalary".into(),
            json!({ "@type": "MonetaryAmount", "currency": salary.currency, "value": value }),
        );
    }
    if !f.skills.is_empty() {
        posting.insert("skills".into(), json!(f.skills.join(", ")));
    }
    posting.insert("url".into(), json!(format!("{public_url}/jobs/{}", job.id)));
    if f.apply_url.is_none() {
        posting.insert("directApply".into(), json!(true));
    }
    Value::Object(posting)
}

/// Statuses an employer filters their list by.
#[derive(Debug, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompanyJobsQuery {
    /// draft, published, closed or archived.
    pub status: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct JobPageBody {
    pub items: Vec<JobBody>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;

    /// A search page's summary written from the card the index stores, or from the view of the
    /// decoded job (semantic pages), is the JSON of the summary of the job, whatever it holds.
    #[test]
    fn a_summary_written_from_the_stored_card_is_the_summary_of_the_job() {
        use crate::models::job::{JobFields, Salary};
        use crate::models::listing::Card;
        use crate::services::jobs::listing::{decode, encode};
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let company = Company {
            id: "c1".into(),
            name: "Ship \"n\" Shore".into(),
            slug: "ship-n-shore".into(),
            website: None,
            description: Some("not on a page".into()),
            location: None,
            size: None,
            logo_url: None,
            verified: true,
            created_at: at("2026-01-01T00:00:00Z"),
            updated_at: at("2026-01-01T00:00:00Z"),
        };
        let full = crate::services::jobs::listing::sample_job();
        let hidden_salary = Job {
            fields: JobFields {
                salary: full.fields.salary.clone().map(|s| Salary { public: false, ..s }),
                ..full.fields.clone()
            },
            ..full.clone()
        };
        let bare = Job {
            fields: JobFields {
                locations: vec![],
                workplace: None,
                employment_type: None,
                seniority: None,
                salary: None,
                skills: vec![],
                category: None,
                tags: vec![],
                apply_url: None,
                expires_at: None,
                ..full.fields.clone()
            },
            posted_at: None,
            ..full.clone()
        };
        let tricky = Job { company_id: "c\t1".into(), ..full.clone() };
        for job in [full, hidden_salary, bare, tricky] {
            let expected = serde_json::to_value(JobSummaryBody::new(
                &decode(&encode(&job)).unwrap(),
                &company,
            ))
            .unwrap();
            let written = Card::write(&job);
            let card = Card::read(&written).expect("a card reads back");
            assert_eq!(card.company_id, job.company_id);
            let decoded = decode(&encode(&job)).unwrap();
            let page = [PageJob::Card(card), PageJob::Job(&decoded)];
            let mut json = Vec::new();
            write_summaries(page.into_iter().map(|job| (job, &company)), &mut json);
            let items: Vec<serde_json::Value> = serde_json::from_slice(&json).unwrap();
            assert_eq!(items, [expected.clone(), expected], "{}", job.fields.title);
        }
        let mut empty = b"{".to_vec();
        write_summaries(std::iter::empty(), &mut empty);
        assert_eq!(empty, b"{[]", "appended");
        for text in ["", "x", "\t{\t}", "1.2\t{\t}", "soon\t{\t}\tc1", "\t[\t]\tc1"] {
            assert_eq!(Card::read(text), None, "{text:?}");
        }

        // A card says its job is public until the instant it expires, to the nanosecond.
        let expiry = at("2030-01-01T00:00:00.000000700Z");
        let job = Job {
            fields: JobFields {
                expires_at: Some(expiry),
                ..crate::services::jobs::listing::sample_job().fields
            },
            ..crate::services::jobs::listing::sample_job()
        };
        let written = Card::write(&job);
        let card = Card::read(&written).unwrap();
        let nanos = |n: i64| expiry + chrono::Duration::nanoseconds(n);
        assert!(card.is_public(nanos(-1)));
        assert!(!card.is_public(nanos(0)));
        assert!(!card.is_public(nanos(1)));
        let bare_card = Card::write(&Job {
            fields: JobFields { expires_at: None, ..job.fields.clone() },
            ..job.clone()
        });
        assert!(Card::read(&bare_card).unwrap().is_public(at("2999-01-01T00:00:00Z")));
    }

    #[test]
    fn a_search_page_body_is_its_items_then_its_other_fields() {
        let body = SearchPageBody {
            items: [SearchPageBody::start(), br#"[{"id":"j1"}]"#.to_vec()].concat(),
            total: 21,
            limit: 20,
            offset: 0,
            next_offset: Some(20),
            sort: "relevance".into(),
            mode: "keyword".into(),
            facets: Arc::new(BTreeMap::from([(
                "workplace".to_owned(),
                vec![("remote".to_owned(), 3), ("hybrid".to_owned(), 1)],
            )])),
            did_you_mean: None,
        };
        let json = String::from_utf8(body.to_json().unwrap()).unwrap();
        assert!(json.starts_with(r#"{"items":[{"id":"j1"}],"total":21,"#), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            json!({
                "items": [{"id": "j1"}], "total": 21, "limit": 20, "offset": 0,
                "next_offset": 20, "sort": "relevance", "mode": "keyword",
                "facets": {"workplace": [
                    {"value": "remote", "count": 3}, {"value": "hybrid", "count": 1},
                ]},
            })
        );
    }

    /// Serialises, reads back and serialises again: the same JSON both times.
    fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> serde_json::Value {
        let first = serde_json::to_value(value).unwrap();
        let back: T = serde_json::from_value(first.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), first);
        first
    }

    fn body() -> JobBody {
        let place = LocationBody {
            city: Some("Lisbon".into()),
            region: None,
            country_code: Some("PT".into()),
        };
        JobBody {
            summary: JobSummaryBody {
                id: "j1".into(),
                title: "Rust".into(),
                company: CompanyRefBody {
                    id: "c1".into(),
                    slug: "acme".into(),
                    name: "Acme".into(),
                    verified: true,
                },
                location: place.clone(),
                locations: vec![place],
                workplace: Some("hybrid".into()),
                employment_type: None,
                seniority: None,
                salary: Some(SalaryBody {
                    min: Some(1.0),
                    max: Some(2.0),
                    currency: Some("EUR".into()),
                    period: Some("year".into()),
                }),
                skills: vec!["rust".into()],
                category: None,
                tags: Vec::new(),
                apply_url: None,
                posted_at: None,
                expires_at: None,
            },
            description: "d".into(),
            remote_regions: Vec::new(),
            view_count: 3,
            status: Some("draft".into()),
            review: None,
            source: None,
            created_at: None,
            updated_at: None,
        }
    }

    #[test]
    fn requests_and_answers_round_trip() {
        let answer = round_trip(&body());
        assert_eq!(answer["location"]["city"], "Lisbon");
        round_trip(&JobRequest {
            title: Some("Rust".into()),
            location: Some(LocationBody { city: Some("Porto".into()), ..LocationBody::default() }),
            salary: Some(SalaryBody { min: Some(1.0), ..SalaryBody::default() }),
            ..JobRequest::default()
        });
        round_trip(&SearchBody {
            items: vec![body().summary],
            total: 1,
            limit: 20,
            offset: 0,
            next_offset: None,
            sort: "newest".into(),
            mode: "keyword".into(),
            facets: BTreeMap::from([(
                "skills".to_owned(),
                vec![FacetValueBody { value: "rust".into(), count: 1 }],
            )]),
            did_you_mean: Some(DidYouMeanBody { q: "rust".into(), total: 3 }),
        });
        round_trip(&SearchQuery {
            q: Some("rust".into()),
            limit: Some(5),
            ..SearchQuery::default()
        });
    }

    /// The request an answer's editable fields make.
    fn sent_back(answer: &JobBody) -> JobRequest {
        let mut value = serde_json::to_value(answer).unwrap();
        let object = value.as_object_mut().unwrap();
        for field in [
            "id",
            "company",
            "posted_at",
            "view_count",
            "status",
            "review",
            "source",
            "created_at",
            "updated_at",
        ] {
            object.remove(field);
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn an_answer_sent_back_reads_as_the_same_fields() {
        let (company, input) = sent_back(&body()).into_input().unwrap();
        assert_eq!(company, None);
        let place = LocationInput {
            city: Some("Lisbon".into()),
            region: None,
            country_code: Some("PT".into()),
        };
        assert_eq!(input.locations, Some(vec![place]));
        assert_eq!((input.city, input.region, input.country_code), (None, None, None));
        assert_eq!((input.salary_min, input.salary_max), (Some(1.0), Some(2.0)));
        assert_eq!(input.salary_currency.as_deref(), Some("EUR"));
        assert_eq!(input.salary_period.as_deref(), Some("year"));
    }

    #[test]
    fn the_nested_form_reads_as_the_flat_one_and_both_at_once_is_refused() {
        let nested = JobRequest {
            location: Some(LocationBody { city: Some("Porto".into()), ..LocationBody::default() }),
            salary: Some(SalaryBody { max: Some(9.0), ..SalaryBody::default() }),
            ..JobRequest::default()
        };
        let (_, input) = nested.into_input().unwrap();
        assert_eq!((input.city.as_deref(), input.locations), (Some("Porto"), None));
        assert_eq!((input.salary_min, input.salary_max), (None, Some(9.0)));
        let flat = JobRequest {
            city: Some("Porto".into()),
            salary_max: Some(9.0),
            ..JobRequest::default()
        };
        let (_, input) = flat.into_input().unwrap();
        assert_eq!((input.city.as_deref(), input.salary_max), (Some("Porto"), Some(9.0)));
        for both in [
            JobRequest {
                location: Some(LocationBody::default()),
                region: Some("Norte".into()),
                ..JobRequest::default()
            },
            JobRequest {
                salary: Some(SalaryBody::default()),
                salary_period: Some("year".into()),
                ..JobRequest::default()
            },
            JobRequest {
                location: Some(LocationBody {
                    city: Some("Porto".into()),
                    ..LocationBody::default()
                }),
                locations: Some(vec![LocationBody::default()]),
                ..JobRequest::default()
            },
        ] {
            assert!(both.into_input().is_err());
        }
    }
}
