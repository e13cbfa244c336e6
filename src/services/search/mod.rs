//! Public job search: a query to the full-text index, then the page's jobs as the index
//! stores them (near-real-time, like any search engine). Index searches run on the blocking
//! pool, a bounded number at a time, so a burst of searches queues instead of taking every
//! core; a keyword page takes one trip there, which searches and reads the listings it does
//! not remember from where the search found them.
//!
//! What a page shows, and how fresh it is:
//! - A job written by this process (created, edited, published, closed, moderated, deleted)
//!   is written to the index before its request returns, so every search that starts after
//!   sees it as written: a job closed or made private here is never listed again.
//! - A job another process wrote (a `worker` importing or closing jobs, another `serve` on
//!   the same database server) reaches the index at its next catch-up (every few seconds).
//! - An expired job leaves at once, by the clock.
//! - A company's name and verification: at once when this process changed them; within
//!   [`LISTING_MAX_AGE`] when another process did.
//!
//! Four things are remembered between searches: the index's answer to a query, with its
//! page's listings once read, until the index changes
//! ([`JobIndex::answer`](crate::repositories::job_index::JobIndex::answer)); the ranking of a
//! semantic or hybrid search, until the index or the job vectors change ([`Rankings`]); each
//! job that [`run`] decoded, with its company, by the job's version; and each company, for
//! [`LISTING_MAX_AGE`] ([`Listings`]). The API's pages ([`page`]) are written from the stored
//! listings without decoding them; [`run`] gives the decoded jobs to the portal's own callers.
//! The database is read only for companies not seen for a while.
//!
//! - `params`: the parameters, checked once.
//! - `listings`: the listings and companies remembered between searches.
//! - `page`: a page as the API shows it, rendered from the listings the index stores.
//! - `rankings`: the rankings of recent semantic and hybrid searches.

mod listings;
mod page;
mod params;
mod rankings;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{Context, ServiceError, pool};
use crate::models::company::Company;
use crate::models::job::Job;
use crate::models::job::SortBy;
use crate::repositories;
use crate::repositories::job_index::{Facets, IndexQuery, Stored};

pub use listings::{LISTING_MAX_AGE, Listings};
pub use page::{Jobs, Page, page};
pub use params::{
    DEFAULT_LIMIT, MAX_LIMIT, MAX_LIST, MAX_OFFSET, MAX_POSTED_WITHIN_DAYS, Search, SearchMode,
    SearchParams,
};
pub use rankings::Rankings;

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
    pub facets: Facets,
    pub sort: SortBy,
    pub mode: SearchMode,
}

/// Checks `params` ([`SearchParams::parse`]) and runs the search ([`run`]).
pub async fn search(ctx: &Context, params: SearchParams) -> Result<SearchResult, ServiceError> {
    run(ctx, params.parse()?).await
}

/// The index query of a checked search (company slugs looked up), and its time.
async fn index_query(
    ctx: &Context,
    search: Search,
) -> Result<(IndexQuery, DateTime<Utc>), ServiceError> {
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
    Ok((query, now))
}

/// How many public jobs a checked search finds by keyword (no page, no facets).
pub async fn count(ctx: &Context, search: Search) -> Result<u64, ServiceError> {
    let (query, _) = index_query(ctx, search).await?;
    let query = IndexQuery { limit: 1, offset: 0, facets: false, ..query };
    Ok(run_index(ctx, query).await?.total)
}

/// Runs a checked search: the page of public jobs, the total and the facets.
pub async fn run(ctx: &Context, search: Search) -> Result<SearchResult, ServiceError> {
    let mode = mode(ctx, search.mode)?;
    let (query, now) = index_query(ctx, search).await?;
    let sort = query.sort;
    // Without words to understand there is nothing to rank by meaning.
    let (total, facets, jobs) = match (mode, ctx.ai.embedder(), query.text.clone()) {
        (SearchMode::Semantic | SearchMode::Hybrid, Some(embedder), Some(text)) => {
            let hits = semantic_hits(ctx, &embedder, query, &text, mode).await?;
            let jobs = listings(ctx, &hits.ids, Some(&hits.versions), now).await?;
            (hits.total, hits.facets.clone(), jobs)
        }
        _ => {
            let (hits, jobs) = keyword_page(ctx, query, now).await?;
            (hits.total, hits.facets.clone(), jobs)
        }
    };
    Ok(SearchResult { jobs, total, facets, sort, mode })
}

/// How a search with words is ranked: as asked, or hybrid when the embedding model is loaded.
fn mode(ctx: &Context, requested: Option<SearchMode>) -> Result<SearchMode, ServiceError> {
    Ok(match requested {
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
    })
}

/// A job of a page, before its company is joined.
enum Slot {
    /// Remembered at the version the index holds, with its company.
    Listed(Arc<(Job, Company)>),
    /// Read from the index.
    Read(Box<Job>),
    /// Not in the index any more, or unreadable.
    Empty,
}

/// A keyword search's page: the index's answer, and its jobs as the index holds them. A
/// remembered answer whose jobs are all remembered at their versions costs no blocking work;
/// otherwise one trip to the blocking pool searches (unless the answer is remembered) and reads
/// the listings not remembered from where the search found them, in the commit it saw.
async fn keyword_page(
    ctx: &Context,
    query: IndexQuery,
    now: DateTime<Utc>,
) -> Result<(Arc<repositories::job_index::IndexHits>, Vec<Arc<(Job, Company)>>), ServiceError> {
    // Taken before the reads: a company changed meanwhile makes this page's reads forgotten.
    let epoch = ctx.listings.epoch();
    if let Some(answer) = ctx.jobs_index.remembered_answer(&query) {
        let hits = &answer.hits;
        let listed: Option<Vec<Slot>> = hits
            .ids
            .iter()
            .zip(&hits.versions)
            .map(|(id, &version)| ctx.listings.current(id, version).map(Slot::Listed))
            .collect();
        if let Some(listed) = listed {
            let jobs = join_companies(ctx, listed, epoch, now).await?;
            return Ok((hits.clone(), jobs));
        }
    }
    let index = ctx.jobs_index.clone();
    let remembered = ctx.listings.clone();
    let (hits, slots) = pool::run(move || {
        let answer = index.answer(&query)?;
        let hits = &answer.hits;
        let mut slots = Vec::with_capacity(hits.ids.len());
        for (i, (id, &version)) in hits.ids.iter().zip(&hits.versions).enumerate() {
            if let Some(listing) = remembered.current(id, version) {
                slots.push(Slot::Listed(listing));
                continue;
            }
            slots.push(match crate::services::jobs::listing::decode(&answer.listing(i)?) {
                Ok(job) => Slot::Read(Box::new(job)),
                Err(err) => {
                    tracing::warn!(job = %id, error = %err, "an unreadable listing in the search index; it is left off the page");
                    Slot::Empty
                }
            });
        }
        Ok::<_, repositories::job_index::IndexError>((hits.clone(), slots))
    })
    .await?;
    let jobs = join_companies(ctx, slots, epoch, now).await?;
    Ok((hits, jobs))
}

/// The jobs of a page in order, those read with their companies (and remembered), keeping the
/// ones public now.
async fn join_companies(
    ctx: &Context,
    slots: Vec<Slot>,
    epoch: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Arc<(Job, Company)>>, ServiceError> {
    let read: Vec<&Job> = slots
        .iter()
        .filter_map(|slot| match slot {
            Slot::Read(job) => Some(&**job),
            _ => None,
        })
        .collect();
    let companies = if read.is_empty() {
        Default::default()
    } else {
        let ids = crate::models::job::company_ids(read.iter().copied());
        ctx.listings.companies(ctx, ids, epoch).await?
    };
    let mut found = Vec::with_capacity(slots.len());
    let mut loaded = Vec::new();
    for slot in slots {
        match slot {
            Slot::Listed(listing) => found.push(listing),
            Slot::Read(job) => {
                let Some(company) = companies.get(&job.company_id) else { continue };
                let listing = Arc::new((*job, Company::clone(company)));
                loaded.push(listing.clone());
                found.push(listing);
            }
            Slot::Empty => {}
        }
    }
    if !loaded.is_empty() {
        ctx.listings.remember(&loaded, epoch);
    }
    found.retain(|listing| listing.0.is_public(now));
    Ok(found)
}

/// The jobs of `ids` that are public now, in that order, with their companies, as the index
/// holds them. With `versions` (the index's versions of `ids`, from the search that found
/// them), a job remembered at that version costs nothing; the others are read from the index
/// at once, on the blocking pool.
pub(crate) async fn listings(
    ctx: &Context,
    ids: &[String],
    versions: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<Vec<Arc<(Job, Company)>>, ServiceError> {
    // Taken before the reads: a company changed meanwhile makes this page's reads forgotten.
    let epoch = ctx.listings.epoch();
    let mut slots: Vec<Option<Slot>> = Vec::with_capacity(ids.len());
    let mut wanted = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        match versions.and_then(|v| v.get(i)).and_then(|&v| ctx.listings.current(id, v)) {
            Some(listing) => slots.push(Some(Slot::Listed(listing))),
            None => {
                slots.push(None);
                wanted.push(i);
            }
        }
    }
    if !wanted.is_empty() {
        let cached: Vec<Option<Arc<(Job, Company)>>> =
            wanted.iter().map(|&i| ctx.listings.young(&ids[i])).collect();
        let known: Vec<Option<i64>> =
            cached.iter().map(|c| c.as_ref().map(|l| l.0.updated_at.timestamp_micros())).collect();
        let wanted_ids: Vec<String> = wanted.iter().map(|&i| ids[i].clone()).collect();
        let index = ctx.jobs_index.clone();
        let stored = pool::run(move || index.stored(&wanted_ids, &known)).await?;
        for ((&i, stored), cached) in wanted.iter().zip(stored).zip(cached) {
            slots[i] = Some(match (stored, cached) {
                (Stored::Known, Some(listing)) => Slot::Listed(listing),
                (Stored::Listing { listing, .. }, _) => {
                    match crate::services::jobs::listing::decode(&listing) {
                        Ok(job) => Slot::Read(Box::new(job)),
                        Err(err) => {
                            tracing::warn!(job = %ids[i], error = %err, "an unreadable listing in the search index; it is left off the page");
                            Slot::Empty
                        }
                    }
                }
                _ => Slot::Empty,
            });
        }
    }
    join_companies(ctx, slots.into_iter().flatten().collect(), epoch, now).await
}

/// Runs a query against the full-text index on the blocking pool, a bounded number at a time.
pub(crate) async fn run_index(
    ctx: &Context,
    query: IndexQuery,
) -> Result<Arc<repositories::job_index::IndexHits>, ServiceError> {
    if let Some(hits) = ctx.jobs_index.remembered(&query) {
        return Ok(hits);
    }
    let index = ctx.jobs_index.clone();
    pool::run(move || index.search_remembered(&query)).await
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
/// `newest` and `salary` order the same result set by the index's columns. A ranking made
/// while neither the index nor the vectors changed is remembered ([`Rankings`]).
async fn semantic_hits(
    ctx: &Context,
    embedder: &crate::ai::providers::embedder::Embedder,
    query: IndexQuery,
    text: &str,
    mode: SearchMode,
) -> Result<Arc<repositories::job_index::IndexHits>, ServiceError> {
    // Read before the ranking is made: it is remembered only if both are unchanged after.
    let sources =
        || rankings::Sources { index: ctx.jobs_index.generation(), vectors: ctx.ai.jobs.version() };
    let before = sources();
    if let Some(hits) = ctx.rankings.get(mode, &query, before) {
        return Ok(hits);
    }
    let asked = query.clone();
    let hits = Arc::new(rank(ctx, embedder, query, text, mode).await?);
    if sources() == before {
        ctx.rankings.keep(mode, &asked, before, hits.clone());
    }
    Ok(hits)
}

/// Makes the ranking of a semantic or hybrid search ([`semantic_hits`]).
async fn rank(
    ctx: &Context,
    embedder: &crate::ai::providers::embedder::Embedder,
    query: IndexQuery,
    text: &str,
    mode: SearchMode,
) -> Result<repositories::job_index::IndexHits, ServiceError> {
    use std::collections::{HashMap, HashSet};
    let vector = embedder.embed_one(text).await?;
    // A fixed number whatever the page, so every page is a slice of one ranking.
    let candidates = SEMANTIC_CANDIDATES;
    let vectors = ctx.ai.jobs.clone();
    let (mut allow, mut oversample) = (None, candidates);
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
            allow = Some(passing);
        } else {
            oversample = (candidates * vectors.len().max(1) / count.max(1))
                .clamp(candidates, candidates * 8);
        }
    }
    let rankings = ctx.rankings.clone();
    let similar = pool::run(move || {
        let Some(passing) = allow else {
            return Ok::<_, ServiceError>(vectors.search(&vector, oversample, None));
        };
        // Among the passing jobs, whose points are found once per (remembered) answer.
        let known = rankings.points(&passing);
        let (similar, points) =
            vectors.search_among(&vector, oversample, &passing.ids, known.clone());
        if !known.is_some_and(|known| Arc::ptr_eq(&known, &points)) {
            rankings.keep_points(&passing, points);
        }
        Ok(similar)
    })
    .await?;
    let mut semantic: Vec<String> =
        similar.into_iter().filter(|h| h.similarity >= MIN_SIMILARITY).map(|h| h.key).collect();
    // The versions of the jobs the ranking may show, from the searches that found them.
    let mut versions: HashMap<String, i64> = HashMap::new();
    // A semantic search's whole result set, when the check below found it.
    let mut checked_all = None;
    // Which of them pass every filter and are public now (the vectors may be a moment behind).
    if !semantic.is_empty() {
        let checked = run_index(
            ctx,
            IndexQuery {
                text: None,
                limit: semantic.len(),
                offset: 0,
                facets: query.facets && mode == SearchMode::Semantic,
                only_ids: Some(semantic.clone()),
                ..query.clone()
            },
        )
        .await?;
        versions.extend(checked.ids.iter().cloned().zip(checked.versions.iter().copied()));
        semantic.retain(|id| versions.contains_key(id));
        // No more passed than are kept: what passed is the semantic result set, with its total
        // and facets (one index question fewer than asking for it again).
        if mode == SearchMode::Semantic && semantic.len() <= candidates {
            checked_all = Some(checked);
        }
    }
    semantic.truncate(candidates);
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
    let all = match checked_all {
        Some(checked) if sort == SortBy::Relevance => checked,
        _ => run_index(ctx, everything).await?,
    };
    if sort != SortBy::Relevance {
        return Ok(Arc::unwrap_or_clone(all));
    }
    // The keyword ranking as deep as the page reaches; its first SEMANTIC_CANDIDATES are fused
    // with the semantic ones, the rest follow in keyword order. The fused block is the same for
    // every page, so pages are slices of one ranking.
    let keyword: Vec<String> = if mode == SearchMode::Hybrid {
        let depth = (offset + limit).max(candidates);
        let hits = run_index(
            ctx,
            IndexQuery { limit: depth, offset: 0, facets: false, sort: SortBy::Relevance, ..query },
        )
        .await?;
        versions.extend(hits.ids.iter().cloned().zip(hits.versions.iter().copied()));
        hits.ids.clone()
    } else {
        Vec::new()
    };
    let fuse_depth = keyword.len().min(candidates);
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
    let ids: Vec<String> = ranked
        .into_iter()
        .map(|(id, _)| id)
        .chain(rest)
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Ok(repositories::job_index::IndexHits {
        total: all.total,
        // Every id of the ranking came with its version.
        versions: ids.iter().map(|id| versions.get(id).copied().unwrap_or_default()).collect(),
        ids,
        facets: all.facets.clone(),
    })
}
