//! A search page as the API shows it: the cards the index stores (each job's summary, written
//! when it was indexed), rendered by the caller with their companies. A keyword page decodes
//! nothing into a [`Job`] and parses no JSON: an answer keeps its page's cards
//! ([`Answer::cards`]), so a page asked again costs no blocking work. A semantic or hybrid
//! page takes the decoded jobs remembered by version, as [`run`](super::run) does, and their
//! summaries as written the first time ([`Listings::summaries`]).
//!
//! [`Listings::summaries`]: super::listings::Listings::summaries
//!
//! [`Job`]: crate::models::job::Job
//! [`Answer::cards`]: crate::repositories::job_index::Answer::cards

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Search, SearchMode, index_query, mode, semantic_hits};
use crate::models::company::Company;
use crate::models::job::SortBy;
use crate::models::listing::{Card, PageJob};
use crate::repositories::job_index::{Facets, IndexQuery, PageCards};
use crate::services::pool;
use crate::services::{Context, ServiceError};

/// The public jobs of a page, in rank order, each with its company.
pub type Jobs<'a, 'b> = dyn Iterator<Item = (PageJob<'a>, &'a Company)> + 'b;

/// A page of a search, its jobs as the caller rendered them.
#[derive(Debug)]
pub struct Page<R> {
    /// The page's public jobs, rendered in one go.
    pub items: R,
    pub total: u64,
    pub facets: Facets,
    pub sort: SortBy,
    pub mode: SearchMode,
}

/// Runs a checked search like [`run`](super::run), and renders the public jobs of the page
/// with `render`, from the cards the index stores and their companies.
pub async fn page<R>(
    ctx: &Context,
    search: Search,
    render: impl FnOnce(&mut Jobs<'_, '_>) -> R,
) -> Result<Page<R>, ServiceError> {
    let mode = mode(ctx, search.mode)?;
    let (query, now) = index_query(ctx, search).await?;
    let sort = query.sort;
    let (total, facets, listings) = match (mode, ctx.ai.embedder(), query.text.clone()) {
        (SearchMode::Semantic | SearchMode::Hybrid, Some(embedder), Some(text)) => {
            // Its jobs come from several index queries: the decoded jobs remembered by version
            // ([`listings`](super::listings)) spare a trip to the blocking pool to read them
            // again (measured: 0.71× the requests without them). Each is written through the
            // view that borrows the decoded job.
            let hits = semantic_hits(ctx, &embedder, query, &text, mode).await?;
            let jobs = super::listings(ctx, &hits.ids, Some(&hits.versions), now).await?;
            let summaries = ctx.listings.summaries(&jobs);
            let items = render(
                &mut (jobs.iter().zip(&summaries))
                    .map(|(listed, summary)| (PageJob::Written(summary), &listed.1)),
            );
            return Ok(Page { items, total: hits.total, facets: hits.facets.clone(), sort, mode });
        }
        _ => {
            let (hits, cards) = keyword(ctx, query).await?;
            (hits.total, hits.facets.clone(), cards)
        }
    };
    let items = render_all(ctx, &listings, now, render).await?;
    Ok(Page { items, total, facets, sort, mode })
}

/// A keyword search's answer and its page's cards: from a remembered answer that read them
/// already without blocking work, else in one trip to the blocking pool.
async fn keyword(
    ctx: &Context,
    query: IndexQuery,
) -> Result<(Arc<crate::repositories::job_index::IndexHits>, Arc<PageCards>), ServiceError> {
    if let Some(answer) = ctx.jobs_index.remembered_answer(&query)
        && let Some(cards) = answer.cards_read()
    {
        return Ok((answer.hits.clone(), cards));
    }
    let index = ctx.jobs_index.clone();
    pool::run(move || {
        let answer = index.answer(&query)?;
        Ok::<_, crate::repositories::job_index::IndexError>((answer.hits.clone(), answer.cards()?))
    })
    .await
}

/// Renders the cards of jobs public at `now`, in order, each with its company (a card that does
/// not read, or whose company no longer exists, is left out).
async fn render_all<R>(
    ctx: &Context,
    cards: &PageCards,
    now: DateTime<Utc>,
    render: impl FnOnce(&mut Jobs<'_, '_>) -> R,
) -> Result<R, ServiceError> {
    // Taken before the reads: a company changed meanwhile makes them forgotten.
    let epoch = ctx.listings.epoch();
    let cards: Vec<Card<'_>> = cards
        .iter()
        .filter_map(|text| {
            let card = Card::read(text);
            if card.is_none() {
                tracing::warn!("an unreadable card in the search index; it is left off the page");
            }
            card
        })
        .filter(|card| card.is_public(now))
        .collect();
    let mut ids: Vec<String> = cards.iter().map(|c| c.company_id.to_owned()).collect();
    ids.sort_unstable();
    ids.dedup();
    let companies = ctx.listings.companies(ctx, ids, epoch).await?;
    Ok(render(&mut cards.into_iter().filter_map(|card| {
        let company = companies.get(card.company_id)?;
        Some((PageJob::Card(card), &**company))
    })))
}
