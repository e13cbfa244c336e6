//! Public job search: a query to the full-text index, then the jobs loaded from the database,
//! keeping only those that are public there (an index a moment behind cannot leak a closed or
//! draft job). Searches run on the blocking pool, a bounded number at a time, so a burst of
//! searches queues instead of taking every core.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Duration, Utc};

use super::{Context, ServiceError};
use crate::models::company::Company;
use crate::models::job::{EmploymentType, Job, SalaryPeriod, Seniority, Workplace};
use crate::repositories;
use crate::repositories::job_index::{IndexQuery, SortBy};
use crate::utils::skills;

/// A search as the API received it (already split into lists).
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: Option<String>,
    pub location: Option<String>,
    pub countries: Vec<String>,
    pub workplaces: Vec<String>,
    pub employment_types: Vec<String>,
    pub seniorities: Vec<String>,
    pub categories: Vec<String>,
    pub skills: Vec<String>,
    /// Company slugs.
    pub companies: Vec<String>,
    pub salary_min: Option<f64>,
    pub salary_currency: Option<String>,
    pub salary_period: Option<String>,
    pub posted_within_days: Option<u32>,
    pub sort: Option<String>,
    pub limit: u32,
    pub offset: u32,
    pub facets: bool,
}

#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The jobs of the page with their companies, in rank order (descriptions left empty: a
    /// page lists jobs without them).
    pub jobs: Vec<(Job, Company)>,
    pub total: u64,
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
    pub sort: SortBy,
}

/// The most values one filter list may name (`skills=a,b,…`): more is a mistake or an attack.
pub const MAX_LIST: usize = 20;

/// The longest window of `posted_within_days` (ten years).
pub const MAX_POSTED_WITHIN_DAYS: u32 = 3650;

/// The deepest page a search may ask for: a deep offset makes every segment keep that many
/// hits. Past it, narrow the search instead.
pub const MAX_OFFSET: u32 = 10_000;

fn choices(field: &str, values: &[String], parse: fn(&str) -> bool, names: String) -> Result<Vec<String>, ServiceError> {
    values
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .map(|v| if parse(&v) { Ok(v) } else { Err(ServiceError::validation(format!("{field} {v:?} is not one of {names}"))) })
        .collect()
}

fn search_permits() -> &'static std::sync::Arc<tokio::sync::Semaphore> {
    static PERMITS: OnceLock<std::sync::Arc<tokio::sync::Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| {
        std::sync::Arc::new(tokio::sync::Semaphore::new(
            std::thread::available_parallelism().map_or(2, |n| n.get()).max(2),
        ))
    })
}

/// Refuses a list longer than [`MAX_LIST`] and drops repeats, keeping the first of each.
fn bounded(field: &str, values: &[String]) -> Result<Vec<String>, ServiceError> {
    if values.len() > MAX_LIST {
        return Err(ServiceError::validation(format!("{field} may name at most {MAX_LIST} values")));
    }
    let mut seen: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    Ok(seen)
}

pub async fn search(ctx: &Context, params: SearchParams) -> Result<SearchResult, ServiceError> {
    if params.offset > MAX_OFFSET {
        return Err(ServiceError::validation(format!("offset must be at most {MAX_OFFSET}; narrow the search instead")));
    }
    let sort = match params.sort.as_deref().map(str::trim) {
        None | Some("") | Some("relevance") => SortBy::Relevance,
        Some("newest") => SortBy::Newest,
        Some("salary") => SortBy::Salary,
        Some(other) => return Err(ServiceError::validation(format!("sort {other:?} is not one of relevance, newest, salary"))),
    };
    if params.posted_within_days.is_some_and(|d| d > MAX_POSTED_WITHIN_DAYS) {
        return Err(ServiceError::validation(format!(
            "posted_within_days must be at most {MAX_POSTED_WITHIN_DAYS}"
        )));
    }
    let params = SearchParams {
        countries: bounded("country", &params.countries)?,
        workplaces: bounded("workplace", &params.workplaces)?,
        employment_types: bounded("employment_type", &params.employment_types)?,
        seniorities: bounded("seniority", &params.seniorities)?,
        categories: bounded("category", &params.categories)?,
        skills: bounded("skills", &params.skills)?,
        companies: bounded("company", &params.companies)?,
        ..params
    };
    let workplaces = choices("workplace", &params.workplaces, |v| Workplace::parse(v).is_some(), Workplace::names())?;
    let employment_types =
        choices("employment_type", &params.employment_types, |v| EmploymentType::parse(v).is_some(), EmploymentType::names())?;
    let seniorities = choices("seniority", &params.seniorities, |v| Seniority::parse(v).is_some(), Seniority::names())?;
    let countries = params
        .countries
        .iter()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .map(|c| {
            if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                Ok(c)
            } else {
                Err(ServiceError::validation(format!("country {c:?} is not a two-letter ISO code")))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let categories: Vec<String> =
        params.categories.iter().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect();
    let wanted_skills = skills::normalize_all(params.skills.iter().map(String::as_str));
    let mut company_ids = Vec::new();
    for slug in params.companies.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match repositories::companies::find_by_slug(&ctx.db, slug).await? {
            Some(company) => company_ids.push(company.id),
            // An unknown company matches nothing, not everything.
            None => company_ids.push(format!("unknown:{slug}")),
        }
    }
    let (salary_min_yearly, salary_currency) = match params.salary_min {
        None => (None, None),
        Some(min) if !min.is_finite() || min < 0.0 => return Err(ServiceError::validation("salary_min must be a positive number")),
        Some(min) => {
            let period = match params.salary_period.as_deref().map(str::trim) {
                None | Some("") => SalaryPeriod::Year,
                Some(p) => SalaryPeriod::parse(p).ok_or_else(|| {
                    ServiceError::validation(format!("salary_period {p:?} is not one of {}", SalaryPeriod::names()))
                })?,
            };
            let currency = params
                .salary_currency
                .as_deref()
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| ServiceError::validation("salary_min needs salary_currency (e.g. EUR): amounts are compared in one currency"))?;
            if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ServiceError::validation("salary_currency must be a three-letter ISO 4217 code"));
            }
            (Some(min * period.per_year()), Some(currency))
        }
    };
    let now = Utc::now();
    let query = IndexQuery {
        text: params.q.map(|q| q.chars().take(500).collect()).filter(|q: &String| !q.trim().is_empty()),
        location: params.location.map(|l| l.chars().take(200).collect()).filter(|l: &String| !l.trim().is_empty()),
        countries,
        workplaces,
        employment_types,
        seniorities,
        categories,
        skills: wanted_skills,
        company_ids,
        salary_min_yearly,
        salary_currency,
        posted_since: params.posted_within_days.map(|d| (now - Duration::days(i64::from(d))).timestamp()),
        now: now.timestamp(),
        sort,
        limit: params.limit as usize,
        offset: params.offset as usize,
        facets: params.facets,
    };
    let index = ctx.jobs_index.clone();
    // The permit travels with the blocking work: a request dropped on timeout or disconnect
    // does not free a slot while its search still runs.
    let permit = search_permits().clone().acquire_owned().await.map_err(|e| ServiceError::Internal(e.into()))?;
    let hits = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        index.search(&query)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(|e| ServiceError::Internal(e.into()))?;

    let found = repositories::jobs::find_many_listed(&ctx.db, &hits.ids).await?;
    let mut company_ids: Vec<String> = found.iter().map(|j| j.company_id.clone()).collect();
    company_ids.sort();
    company_ids.dedup();
    let companies = repositories::companies::find_many(&ctx.db, &company_ids).await?;
    let mut jobs = Vec::with_capacity(hits.ids.len());
    for id in &hits.ids {
        let Some(job) = found.iter().find(|j| &j.id == id) else { continue };
        if !job.is_public(now) {
            continue;
        }
        let Some(company) = companies.iter().find(|c| c.id == job.company_id) else { continue };
        jobs.push((job.clone(), company.clone()));
    }
    Ok(SearchResult { jobs, total: hits.total, facets: hits.facets, sort })
}
