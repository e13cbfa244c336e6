//! Public job search: a query to the full-text index, then one read of the page's jobs
//! in the database, keeping only those that are public there (an index a moment behind cannot
//! leak a closed or draft job; see below for how long a confirmed page is trusted). Index
//! searches run on the blocking pool, a bounded number at a time, so a burst of searches
//! queues instead of taking every core.
//!
//! Four things are remembered between searches: the index's answer to a query, until the
//! index changes ([`JobIndex::search_remembered`](crate::repositories::job_index::JobIndex::search_remembered));
//! each listed job with its company, by the job's version; each company, for
//! [`LISTING_MAX_AGE`]; and each page the database confirmed, for [`PAGE_RECHECK`]
//! ([`Listings`]). So a search repeated within a second costs no database read, a later one one
//! read of its page's job versions, and a new one one request: the versions of the jobs a page
//! showed before, and the whole listings of the others (SurrealDB reads a record for its
//! version about as slowly as for its listing, so no job is read twice). Writes made by this
//! process (jobs, companies) are seen by the next search; those of another process within
//! [`PAGE_RECHECK`] (a job) or [`LISTING_MAX_AGE`] (a company's name or verification).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use super::{Context, ServiceError};
use crate::models::company::Company;
use crate::models::job::SortBy;
use crate::models::job::{EmploymentType, Job, SalaryPeriod, Seniority, Workplace};
use crate::repositories;
use crate::repositories::job_index::IndexQuery;
use crate::utils::skills;

/// A search as the API received it (already split into lists): nothing checked yet;
/// [`SearchParams::parse`] checks it all, once.
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
    /// 1 to [`MAX_LIMIT`]; none: [`DEFAULT_LIMIT`].
    pub limit: Option<u32>,
    /// At most [`MAX_OFFSET`]; none: 0.
    pub offset: Option<u32>,
    /// Count the facets; none: yes.
    pub facets: Option<bool>,
    /// `keyword`, `semantic` or `hybrid`; none: hybrid when the embedding model is loaded.
    pub mode: Option<String>,
}

/// A search whose parameters are checked and normalised ([`SearchParams::parse`]): the values
/// the index was written with, limits within their bounds. Only the company slugs are still to
/// be looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// At most 500 characters; none when blank.
    pub text: Option<String>,
    /// At most 200 characters; none when blank.
    pub location: Option<String>,
    /// Upper-case ISO 3166 codes.
    pub countries: Vec<String>,
    pub workplaces: Vec<String>,
    pub employment_types: Vec<String>,
    pub seniorities: Vec<String>,
    /// Lower case.
    pub categories: Vec<String>,
    /// Normalised skill names, every one of them wanted.
    pub skills: Vec<String>,
    /// Company slugs, trimmed.
    pub companies: Vec<String>,
    /// The least yearly pay, in `salary_currency`.
    pub salary_min_yearly: Option<f64>,
    /// Upper-case ISO 4217, present with `salary_min_yearly`.
    pub salary_currency: Option<String>,
    pub posted_within_days: Option<u32>,
    pub sort: SortBy,
    pub limit: u32,
    pub offset: u32,
    pub facets: bool,
    /// None: hybrid when the embedding model is loaded, else keyword.
    pub mode: Option<SearchMode>,
}

/// How a text query ranks jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// Full-text (BM25) alone.
    Keyword,
    /// By meaning alone: cosine similarity of sentence embeddings.
    Semantic,
    /// Both rankings fused (reciprocal rank fusion).
    Hybrid,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Semantic => "semantic",
            Self::Hybrid => "hybrid",
        }
    }
}

/// How many of the jobs closest in meaning semantic and hybrid search take: the whole result
/// of semantic search; hybrid adds them to every keyword match.
pub const SEMANTIC_CANDIDATES: usize = 100;

/// Below this cosine a job is not a semantic match at all (unrelated texts score 0 to 0.2
/// with this model).
pub const MIN_SIMILARITY: f32 = 0.2;

/// The constant of reciprocal rank fusion: a job's fused score is the sum over the rankings
/// of 1 / (RRF_K + rank).
const RRF_K: f32 = 60.0;

#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The jobs of the page with their companies, in rank order (descriptions left empty: a
    /// page lists jobs without them).
    pub jobs: Vec<Arc<(Job, Company)>>,
    pub total: u64,
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
    pub sort: SortBy,
    pub mode: SearchMode,
}

/// How long a remembered listing is used before it is read again even though its job's version
/// did not change: the bound on how stale a company's name or verification on a page can be
/// when another process changed it (this process forgets every listing when it changes a
/// company).
pub const LISTING_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a page the database confirmed is shown again without asking it, as long as no job
/// or company was written by this process meanwhile (those writes make every page ask again at
/// once). The bound on how long a job closed by another process (a `worker`, another `serve`
/// on the same database server) can still be listed; an expired job leaves at once, by the
/// clock.
pub const PAGE_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The most listings (and pages) remembered; when full, they are all forgotten at once.
const MAX_LISTINGS: usize = 20_000;
const MAX_PAGES: usize = 2_000;

/// Jobs as search pages show them (no description), with their companies, remembered by the
/// version (`updated_at`) of the job they were read at. Every write of a job changes its
/// version, so a listing is current exactly when the database still has that version. And the
/// pages the database confirmed recently ([`PAGE_RECHECK`]), by the ids the index answered.
#[derive(Default)]
pub struct Listings {
    entries: Mutex<HashMap<String, Listed>>,
    pages: Mutex<HashMap<Vec<String>, ConfirmedPage>>,
    /// The companies listings were read with, by id, with when they were read.
    companies: Mutex<HashMap<String, (Instant, Company)>>,
    /// Counts [`Listings::forget_all`]: what was read before a company changed is not kept.
    epoch: std::sync::atomic::AtomicU64,
}

struct Listed {
    version: DateTime<Utc>,
    read_at: Instant,
    listing: Arc<(Job, Company)>,
}

/// What the database said of a page's jobs: which were public (in order), when it was asked
/// (the instant before the read), and the index generation then (a write by this process
/// commits the index, so a later generation means: ask again).
struct ConfirmedPage {
    listings: Vec<Arc<(Job, Company)>>,
    asked_at: Instant,
    generation: u64,
}

impl std::fmt::Debug for Listings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listings").field("remembered", &self.lock().len()).finish()
    }
}

impl Listings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Listed>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_pages(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<String>, ConfirmedPage>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every listing and page (a company changed: its name or verification is on them),
    /// and whatever a search that is reading right now would remember.
    pub fn forget_all(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.lock().clear();
        self.lock_pages().clear();
        self.lock_companies().clear();
    }

    fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether a listing of this job is remembered and young enough to be shown if its
    /// version is still the database's.
    fn knows(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(|listed| listed.read_at.elapsed() < LISTING_MAX_AGE)
    }

    /// The companies of `jobs`, by id: those read less than [`LISTING_MAX_AGE`] ago from
    /// memory, the others from the database (and remembered, unless a company changed since
    /// `epoch` began). A company that no longer exists is missing.
    async fn companies(
        &self,
        ctx: &Context,
        jobs: &[Job],
        epoch: u64,
    ) -> Result<HashMap<String, Company>, ServiceError> {
        let wanted = crate::models::job::company_ids(jobs);
        let mut found = HashMap::with_capacity(wanted.len());
        let mut missing = Vec::new();
        {
            let companies = self.lock_companies();
            for id in wanted {
                match companies.get(&id) {
                    Some((read_at, company)) if read_at.elapsed() < LISTING_MAX_AGE => {
                        found.insert(id, company.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = repositories::companies::find_many(&ctx.db, &missing).await?;
        {
            let mut companies = self.lock_companies();
            if self.epoch() == epoch {
                if companies.len() + read.len() > MAX_LISTINGS {
                    companies.clear();
                }
                let read_at = Instant::now();
                for company in &read {
                    companies.insert(company.id.clone(), (read_at, company.clone()));
                }
            }
        }
        found.extend(read.into_iter().map(|company| (company.id.clone(), company)));
        Ok(found)
    }

    fn lock_companies(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Company)>> {
        self.companies.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn current(&self, id: &str, version: DateTime<Utc>) -> Option<Arc<(Job, Company)>> {
        let entries = self.lock();
        let listed = entries.get(id)?;
        (listed.version == version && listed.read_at.elapsed() < LISTING_MAX_AGE)
            .then(|| listed.listing.clone())
    }

    /// Keeps listings read since `epoch` began (none if a company changed meanwhile).
    fn remember(&self, listings: &[Arc<(Job, Company)>], epoch: u64) {
        let mut entries = self.lock();
        if self.epoch() != epoch {
            return;
        }
        if entries.len() + listings.len() > MAX_LISTINGS {
            entries.clear();
        }
        let read_at = Instant::now();
        for listing in listings {
            let version = listing.0.updated_at;
            entries.insert(
                listing.0.id.clone(),
                Listed { version, read_at, listing: listing.clone() },
            );
        }
    }

    /// The page of `ids`, if the database confirmed it less than [`PAGE_RECHECK`] ago at this
    /// index generation.
    fn confirmed(&self, ids: &[String], generation: u64) -> Option<Vec<Arc<(Job, Company)>>> {
        let pages = self.lock_pages();
        let page = pages.get(ids)?;
        (page.generation == generation && page.asked_at.elapsed() < PAGE_RECHECK)
            .then(|| page.listings.clone())
    }

    fn confirm(
        &self,
        ids: &[String],
        listings: &[Arc<(Job, Company)>],
        asked_at: Instant,
        generation: u64,
        epoch: u64,
    ) {
        let mut pages = self.lock_pages();
        if self.epoch() != epoch {
            return;
        }
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(
            ids.to_vec(),
            ConfirmedPage { listings: listings.to_vec(), asked_at, generation },
        );
    }
}

/// The most values one filter list may name (`skills=a,b,…`): more is a mistake or an attack.
pub const MAX_LIST: usize = 20;

/// The longest window of `posted_within_days` (ten years).
pub const MAX_POSTED_WITHIN_DAYS: u32 = 3650;

/// The size of a page when a search names none.
pub const DEFAULT_LIMIT: u32 = 20;

/// The largest page a search may ask for.
pub const MAX_LIMIT: u32 = 100;

/// The deepest page a search may ask for: a deep offset makes every segment keep that many
/// hits. Past it, narrow the search instead.
pub const MAX_OFFSET: u32 = 10_000;

fn choices(
    field: &str,
    values: &[String],
    parse: fn(&str) -> bool,
    names: String,
) -> Result<Vec<String>, ServiceError> {
    values
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if parse(&v) {
                Ok(v)
            } else {
                Err(ServiceError::validation(format!("{field} {v:?} is not one of {names}")))
            }
        })
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
        return Err(ServiceError::validation(format!(
            "{field} may name at most {MAX_LIST} values"
        )));
    }
    let mut seen: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    Ok(seen)
}

impl SearchParams {
    /// Checks every parameter and normalises it the way the index was written. A page size
    /// out of range is an invalid parameter; every other mistake is a validation error naming
    /// the parameter.
    pub fn parse(self) -> Result<Search, ServiceError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::InvalidParameter(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(ServiceError::validation(format!(
                "offset must be at most {MAX_OFFSET}; narrow the search instead"
            )));
        }
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") => SortBy::Relevance,
            Some(other) => SortBy::parse(other).ok_or_else(|| {
                ServiceError::validation(format!(
                    "sort {other:?} is not one of {}",
                    SortBy::names()
                ))
            })?,
        };
        if self.posted_within_days.is_some_and(|d| d > MAX_POSTED_WITHIN_DAYS) {
            return Err(ServiceError::validation(format!(
                "posted_within_days must be at most {MAX_POSTED_WITHIN_DAYS}"
            )));
        }
        let countries = bounded("country", &self.countries)?;
        let workplaces = bounded("workplace", &self.workplaces)?;
        let employment_types = bounded("employment_type", &self.employment_types)?;
        let seniorities = bounded("seniority", &self.seniorities)?;
        let categories = bounded("category", &self.categories)?;
        let skills = bounded("skills", &self.skills)?;
        let companies = bounded("company", &self.companies)?;
        let workplaces = choices(
            "workplace",
            &workplaces,
            |v| Workplace::parse(v).is_some(),
            Workplace::names(),
        )?;
        let employment_types = choices(
            "employment_type",
            &employment_types,
            |v| EmploymentType::parse(v).is_some(),
            EmploymentType::names(),
        )?;
        let seniorities = choices(
            "seniority",
            &seniorities,
            |v| Seniority::parse(v).is_some(),
            Seniority::names(),
        )?;
        let countries = countries
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(ServiceError::validation(format!(
                        "country {c:?} is not a two-letter ISO code"
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let categories: Vec<String> =
            categories.iter().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect();
        let skills = skills::normalize_all(skills.iter().map(String::as_str));
        let companies: Vec<String> =
            companies.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        let (salary_min_yearly, salary_currency) = match self.salary_min {
            None => (None, None),
            Some(min) if !min.is_finite() || min < 0.0 => {
                return Err(ServiceError::validation("salary_min must be a positive number"));
            }
            Some(min) => {
                let period = match self.salary_period.as_deref().map(str::trim) {
                    None | Some("") => SalaryPeriod::Year,
                    Some(p) => SalaryPeriod::parse(p).ok_or_else(|| {
                        ServiceError::validation(format!(
                            "salary_period {p:?} is not one of {}",
                            SalaryPeriod::names()
                        ))
                    })?,
                };
                let currency = self
                    .salary_currency
                    .as_deref()
                    .map(|c| c.trim().to_ascii_uppercase())
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| ServiceError::validation("salary_min needs salary_currency (e.g. EUR): amounts are compared in one currency"))?;
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(ServiceError::validation(
                        "salary_currency must be a three-letter ISO 4217 code",
                    ));
                }
                (Some(min * period.per_year()), Some(currency))
            }
        };
        let mode = match self.mode.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("keyword") => Some(SearchMode::Keyword),
            Some("semantic") => Some(SearchMode::Semantic),
            Some("hybrid") => Some(SearchMode::Hybrid),
            Some(other) => {
                return Err(ServiceError::validation(format!(
                    "mode {other:?} is not one of keyword, semantic, hybrid"
                )));
            }
        };
        Ok(Search {
            text: self
                .q
                .map(|q| q.chars().take(500).collect())
                .filter(|q: &String| !q.trim().is_empty()),
            location: self
                .location
                .map(|l| l.chars().take(200).collect())
                .filter(|l: &String| !l.trim().is_empty()),
            countries,
            workplaces,
            employment_types,
            seniorities,
            categories,
            skills,
            companies,
            salary_min_yearly,
            salary_currency,
            posted_within_days: self.posted_within_days,
            sort,
            limit,
            offset,
            facets: self.facets.unwrap_or(true),
            mode,
        })
    }
}

/// Checks `params` ([`SearchParams::parse`]) and runs the search ([`run`]).
pub async fn search(ctx: &Context, params: SearchParams) -> Result<SearchResult, ServiceError> {
    run(ctx, params.parse()?).await
}

/// Runs a checked search: the page of public jobs, the total and the facets.
pub async fn run(ctx: &Context, search: Search) -> Result<SearchResult, ServiceError> {
    let mut company_ids = Vec::new();
    for slug in &search.companies {
        match repositories::companies::find_by_slug(&ctx.db, slug).await? {
            Some(company) => company_ids.push(company.id),
            // An unknown company matches nothing, not everything.
            None => company_ids.push(format!("unknown:{slug}")),
        }
    }
    let now = Utc::now();
    let sort = search.sort;
    let query = IndexQuery {
        text: search.text,
        location: search.location,
        countries: search.countries,
        workplaces: search.workplaces,
        employment_types: search.employment_types,
        seniorities: search.seniorities,
        categories: search.categories,
        skills: search.skills,
        company_ids,
        salary_min_yearly: search.salary_min_yearly,
        salary_currency: search.salary_currency,
        posted_since: search
            .posted_within_days
            .map(|d| (now - Duration::days(i64::from(d))).timestamp()),
        now: now.timestamp(),
        sort,
        limit: search.limit as usize,
        offset: search.offset as usize,
        facets: search.facets,
        only_ids: None,
        or_ids: Vec::new(),
    };
    let mode = match search.mode {
        None if ctx.ai.embedder().is_some() => SearchMode::Hybrid,
        None => SearchMode::Keyword,
        Some(SearchMode::Keyword) => SearchMode::Keyword,
        Some(mode) => {
            if ctx.ai.embedder().is_none() {
                return Err(ServiceError::ModelUnavailable(format!(
                    "mode={} needs the embedding model, which is {}; use mode=keyword",
                    mode.as_str(),
                    ctx.ai.embedder_state().describe()
                )));
            }
            mode
        }
    };
    // Without words to understand there is nothing to rank by meaning.
    let hits = match (mode, ctx.ai.embedder(), query.text.clone()) {
        (SearchMode::Semantic | SearchMode::Hybrid, Some(embedder), Some(text)) => {
            semantic_hits(ctx, &embedder, query, &text, mode).await?
        }
        _ => run_index(ctx, query).await?,
    };
    let jobs = listings(ctx, &hits.ids, now).await?;
    Ok(SearchResult { jobs, total: hits.total, facets: hits.facets, sort, mode })
}

/// The jobs of `ids` that are public now, in that order, with their companies: one read of the
/// versions of those remembered and the listings of the others (see [`read_listings`]). A page
/// the database confirmed a moment ago (see [`PAGE_RECHECK`]) is not read again.
async fn listings(
    ctx: &Context,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Arc<(Job, Company)>>, ServiceError> {
    // All taken before the read: a write after them makes this page ask again.
    let (generation, epoch, asked_at) =
        (ctx.jobs_index.generation(), ctx.listings.epoch(), Instant::now());
    if let Some(page) = ctx.listings.confirmed(ids, generation) {
        return Ok(page.into_iter().filter(|listing| listing.0.is_public(now)).collect());
    }
    let page = read_listings(ctx, ids, now, epoch).await?;
    ctx.listings.confirm(ids, &page, asked_at, generation, epoch);
    Ok(page)
}

async fn read_listings(
    ctx: &Context,
    ids: &[String],
    now: DateTime<Utc>,
    epoch: u64,
) -> Result<Vec<Arc<(Job, Company)>>, ServiceError> {
    // A remembered job needs only its version read; the others are read whole at once.
    let (known, unknown): (Vec<String>, Vec<String>) =
        ids.iter().cloned().partition(|id| ctx.listings.knows(id));
    let (versions, mut jobs) =
        repositories::jobs::page_reads(&ctx.db, &known, &unknown, now).await?;
    let mut found: HashMap<String, Arc<(Job, Company)>> = HashMap::with_capacity(ids.len());
    let mut changed = Vec::new();
    for (id, version) in versions {
        match ctx.listings.current(&id, version) {
            Some(listing) => {
                found.insert(id, listing);
            }
            None => changed.push(id),
        }
    }
    if !changed.is_empty() {
        jobs.extend(repositories::jobs::find_many_listed(&ctx.db, &changed).await?);
    }
    // Changed since the index answered (or between two reads): shown only if public.
    jobs.retain(|job| job.is_public(now));
    if !jobs.is_empty() {
        let companies = ctx.listings.companies(ctx, &jobs, epoch).await?;
        let mut loaded = Vec::with_capacity(jobs.len());
        for job in jobs {
            let Some(company) = companies.get(&job.company_id) else { continue };
            loaded.push(Arc::new((job, company.clone())));
        }
        ctx.listings.remember(&loaded, epoch);
        found.extend(loaded.into_iter().map(|listing| (listing.0.id.clone(), listing)));
    }
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Runs a query against the full-text index on the blocking pool, a bounded number at a time.
async fn run_index(
    ctx: &Context,
    query: IndexQuery,
) -> Result<repositories::job_index::IndexHits, ServiceError> {
    if let Some(hits) = ctx.jobs_index.remembered(&query) {
        return Ok((*hits).clone());
    }
    let index = ctx.jobs_index.clone();
    // The permit travels with the blocking work: a request dropped on timeout or disconnect
    // does not free a slot while its search still runs.
    let permit = search_permits()
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        index.search_remembered(&query)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map(|hits| (*hits).clone())
    .map_err(|e| ServiceError::Internal(e.into()))
}

/// Whether a query filters (beyond "public and unexpired").
fn filters(q: &IndexQuery) -> bool {
    q.location.is_some()
        || !q.countries.is_empty()
        || !q.workplaces.is_empty()
        || !q.employment_types.is_empty()
        || !q.seniorities.is_empty()
        || !q.categories.is_empty()
        || !q.skills.is_empty()
        || !q.company_ids.is_empty()
        || q.salary_min_yearly.is_some()
        || q.posted_since.is_some()
}

/// Semantic and hybrid search. The vector collection gives the jobs closest in meaning (exactly
/// over the jobs that pass the filters when those are few, else from the HNSW graph with
/// oversampling), and an index query over them applies every filter and keeps only what is
/// public.
///
/// - semantic: the result set is the [`SEMANTIC_CANDIDATES`] closest jobs (above
///   [`MIN_SIMILARITY`]); relevance is similarity.
/// - hybrid: the result set is every keyword match plus those jobs; total and facets count it
///   all. Relevance: the reciprocal rank fusion of the first [`SEMANTIC_CANDIDATES`] keyword
///   matches and the similarity ranking, then the other keyword matches in keyword order.
///
/// `newest` and `salary` order the same result set by the index's columns.
async fn semantic_hits(
    ctx: &Context,
    embedder: &crate::ai::providers::embedder::Embedder,
    query: IndexQuery,
    text: &str,
    mode: SearchMode,
) -> Result<repositories::job_index::IndexHits, ServiceError> {
    use std::collections::{HashMap, HashSet};
    let vector = embedder.embed_one(text).await?;
    // A fixed number whatever the page, so every page is a slice of one ranking.
    let pool = SEMANTIC_CANDIDATES;
    let vectors = ctx.ai.jobs.clone();
    let (mut allow, mut oversample) = (None, pool);
    if filters(&query) {
        // The jobs that pass the filters, when they are few enough to score exactly.
        let limit = vectors.config().exact_below;
        let passing = run_index(
            ctx,
            IndexQuery { text: None, limit, offset: 0, facets: false, ..query.clone() },
        )
        .await?;
        let count = passing.total as usize;
        if count < limit {
            allow = Some(passing.ids.into_iter().collect::<HashSet<String>>());
        } else {
            oversample = (pool * vectors.len().max(1) / count.max(1)).clamp(pool, pool * 8);
        }
    }
    let similar =
        tokio::task::spawn_blocking(move || vectors.search(&vector, oversample, allow.as_ref()))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))?;
    let mut semantic: Vec<String> =
        similar.into_iter().filter(|h| h.similarity >= MIN_SIMILARITY).map(|h| h.key).collect();
    // Which of them pass every filter and are public now (the vectors may be a moment behind).
    if !semantic.is_empty() {
        let checked = run_index(
            ctx,
            IndexQuery {
                text: None,
                limit: semantic.len(),
                offset: 0,
                facets: false,
                only_ids: Some(semantic.clone()),
                ..query.clone()
            },
        )
        .await?;
        let passing: HashSet<&String> = checked.ids.iter().collect();
        semantic.retain(|id| passing.contains(id));
    }
    semantic.truncate(pool);
    let (offset, limit, sort) = (query.offset, query.limit, query.sort);
    // The whole result set, for the total, the facets, and the `newest` / `salary` orders.
    let everything = match mode {
        SearchMode::Semantic if semantic.is_empty() => {
            // An id no job has: the facets keep their shape with no counts.
            IndexQuery { text: None, only_ids: Some(vec![String::from("\u{0}")]), ..query.clone() }
        }
        SearchMode::Semantic => {
            IndexQuery { text: None, only_ids: Some(semantic.clone()), ..query.clone() }
        }
        _ => IndexQuery { or_ids: semantic.clone(), ..query.clone() },
    };
    let everything = IndexQuery {
        sort: if sort == SortBy::Relevance { SortBy::Newest } else { sort },
        limit: if sort == SortBy::Relevance { 1 } else { limit },
        offset: if sort == SortBy::Relevance { 0 } else { offset },
        ..everything
    };
    let all = run_index(ctx, everything).await?;
    if sort != SortBy::Relevance {
        return Ok(all);
    }
    // The keyword ranking as deep as the page reaches; its first SEMANTIC_CANDIDATES are fused
    // with the semantic ones, the rest follow in keyword order. The fused block is the same for
    // every page, so pages are slices of one ranking.
    let keyword: Vec<String> = if mode == SearchMode::Hybrid {
        let depth = (offset + limit).max(pool);
        run_index(
            ctx,
            IndexQuery { limit: depth, offset: 0, facets: false, sort: SortBy::Relevance, ..query },
        )
        .await?
        .ids
    } else {
        Vec::new()
    };
    let fuse_depth = keyword.len().min(pool);
    let mut fused: HashMap<&String, f32> = HashMap::new();
    for ranking in [&semantic[..], &keyword[..fuse_depth]] {
        for (rank, id) in ranking.iter().enumerate() {
            *fused.entry(id).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut ranked: Vec<(&String, f32)> = fused.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let in_block: HashSet<&String> = ranked.iter().map(|(id, _)| *id).collect();
    let rest = keyword[fuse_depth..].iter().filter(|id| !in_block.contains(id));
    Ok(repositories::job_index::IndexHits {
        total: all.total,
        ids: ranked
            .into_iter()
            .map(|(id, _)| id)
            .chain(rest)
            .skip(offset)
            .take(limit)
            .cloned()
            .collect(),
        facets: all.facets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_once_with_their_defaults() {
        let search = SearchParams::default().parse().unwrap();
        assert_eq!((search.limit, search.offset, search.facets), (DEFAULT_LIMIT, 0, true));
        assert_eq!((search.sort, search.mode), (SortBy::Relevance, None));
        for limit in [0, MAX_LIMIT + 1] {
            let params = SearchParams { limit: Some(limit), ..SearchParams::default() };
            assert!(matches!(params.parse(), Err(ServiceError::InvalidParameter(_))));
        }
        let deep = SearchParams { offset: Some(MAX_OFFSET + 1), ..SearchParams::default() };
        assert!(matches!(deep.parse(), Err(ServiceError::Validation(_))));
        let parsed = SearchParams {
            sort: Some(" newest ".into()),
            mode: Some("semantic".into()),
            countries: vec!["pt".into(), "pt".into()],
            workplaces: vec!["Remote".into()],
            salary_min: Some(1000.0),
            salary_currency: Some("eur".into()),
            salary_period: Some("month".into()),
            ..SearchParams::default()
        }
        .parse()
        .unwrap();
        assert_eq!(parsed.sort, SortBy::Newest);
        assert_eq!(parsed.mode, Some(SearchMode::Semantic));
        assert_eq!(parsed.countries, vec!["PT"]);
        assert_eq!(parsed.workplaces, vec!["remote"]);
        assert_eq!(parsed.salary_min_yearly, Some(12_000.0));
        assert_eq!(parsed.salary_currency.as_deref(), Some("EUR"));
        let sort = SearchParams { sort: Some("oldest".into()), ..SearchParams::default() };
        assert_eq!(
            sort.parse().unwrap_err().to_string(),
            "sort \"oldest\" is not one of relevance, newest, salary"
        );
    }
}
