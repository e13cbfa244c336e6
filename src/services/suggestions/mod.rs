//! Suggestions around search: typeahead completions, "did you mean" for a search that finds
//! (almost) nothing, jobs similar to a job, and salary insights.
//!
//! Typeahead, did-you-mean and salary insights answer from an in-memory copy of the public
//! jobs ([`Store`]), never from the database: it is loaded once at start (in the background;
//! until then it answers from what it holds) and then written with the search index, job by
//! job, so a job that closes leaves it with its index document. Similar jobs read the job
//! vectors (or the copy, by keywords) and confirm every job in the database before showing it.
//!
//! - `text`: words, keys and edit distances.
//! - `interner`: strings held once, under small ids (the copy's words and forms).
//! - `store`: the copy and its counts.
//! - `typeahead`: completions per kind.
//! - `spelling`: corrections from the copy's vocabulary.
//! - `similar`: similar jobs.
//! - `salary_index`: a salary as a yearly amount; the jobs that publish one, by word.
//! - `salaries`: percentiles and histograms of published salaries.

mod interner;
mod salaries;
mod salary_index;
mod similar;
mod spelling;
mod store;
#[cfg(test)]
mod synthetic;
mod text;
mod typeahead;

use std::sync::Arc;

use chrono::Utc;

use super::search::{self, Search, SearchMode};
use super::{Context, ServiceError, pool};
use crate::repositories;

pub use salaries::{
    Bucket, CurrencySalaries, HISTOGRAM_BUCKETS, Percentiles, SalaryInsights, SalaryParams,
    SalaryQuery,
};
pub use similar::{Method, SimilarJob, SimilarJobs, parse_limit as parse_similar_limit, similar};
pub use spelling::{FEW_RESULTS, clearly_more};
pub use store::{Facts, Kind, Store};
pub use typeahead::{Completion, Suggest, SuggestParams};

/// The fewest salaries salary insights answer about, unless configured otherwise.
pub const DEFAULT_MIN_SALARIES: usize = 5;

/// The suggestions of a process: the copy of the public jobs and the settings.
#[derive(Debug)]
pub struct Suggestions {
    store: Store,
    min_salaries: usize,
}

impl Suggestions {
    /// An empty copy that salary insights answer only for `min_salaries` salaries or more.
    pub fn new(min_salaries: usize) -> Suggestions {
        let skills = crate::services::resume_parser::taxonomy::canonical_names();
        Suggestions { store: Store::new(skills), min_salaries: min_salaries.max(1) }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether some public job carries `word` in its title, skills, company or places (words
    /// that only descriptions use describe work, they do not name it).
    pub fn names_jobs(&self, word: &str) -> bool {
        let state = self.store.read();
        text::words(word).iter().all(|w| state.vocabulary.id(w).is_some())
    }

    /// The fewest salaries a currency needs to be answered.
    pub fn min_salaries(&self) -> usize {
        self.min_salaries
    }
}

/// Typeahead: the completions of `params.q` per kind asked for.
pub fn suggest(
    ctx: &Context,
    params: SuggestParams,
) -> Result<Vec<(Kind, Vec<Completion>)>, ServiceError> {
    let request = params.parse()?;
    Ok(typeahead::suggest(&ctx.suggestions.store.read(), &request))
}

/// Salary insights over the public jobs that match.
pub async fn salary_insights(
    ctx: &Context,
    params: SalaryParams,
) -> Result<SalaryInsights, ServiceError> {
    let query = params.parse()?;
    let suggestions = ctx.suggestions.clone();
    pool::run(move || {
        salaries::insights(
            &suggestions.store.read(),
            &query,
            suggestions.min_salaries,
            Utc::now().timestamp(),
        )
    })
    .await
}

/// A corrected query and how many jobs it finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidYouMean {
    pub q: String,
    pub total: u64,
}

/// For a search with words that found `found` jobs: when that is [`FEW_RESULTS`] or fewer, the
/// query with its rare words corrected, if the correction finds [`clearly_more`] jobs by
/// keyword with the same filters.
pub async fn did_you_mean(
    ctx: &Context,
    search: &Search,
    found: u64,
) -> Result<Option<DidYouMean>, ServiceError> {
    let Some(text) = search.text.as_deref() else { return Ok(None) };
    if found > FEW_RESULTS {
        return Ok(None);
    }
    let Some(q) = spelling::correct(&ctx.suggestions.store.read(), text) else {
        return Ok(None);
    };
    let corrected =
        Search { text: Some(q.clone()), mode: Some(SearchMode::Keyword), ..search.clone() };
    let total = search::count(ctx, corrected).await?;
    Ok(clearly_more(found, total).then_some(DidYouMean { q, total }))
}

/// Loads the copy from the database's public jobs (at start), keeping what writes since then
/// made newer; returns how many jobs it read.
pub async fn load(ctx: &Context) -> Result<u64, ServiceError> {
    let mut after: Option<String> = None;
    let mut read = 0u64;
    loop {
        let page = repositories::jobs::public_page(&ctx.db, after.as_deref(), 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        read += page.len() as u64;
        let names = repositories::jobs::company_names_of(&ctx.db, &page).await?;
        let facts: Vec<Facts> = page
            .iter()
            .map(|job| Facts::of(job, names.get(&job.company_id).map_or("", String::as_str)))
            .collect();
        let suggestions: Arc<Suggestions> = ctx.suggestions.clone();
        tokio::task::spawn_blocking(move || suggestions.store.merge(facts))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))?;
    }
    ctx.suggestions.store.loaded();
    Ok(read)
}
