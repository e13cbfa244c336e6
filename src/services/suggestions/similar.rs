//! Similar jobs: the public jobs nearest to one by the embedding of their text, or, while the
//! embedding model is not loaded (or the job has no vector yet), by the skills and title words
//! they share. The job itself and jobs that are not public are never among them.

use std::sync::Arc;

use chrono::Utc;

use super::Suggestions;
use super::interner::Interner;
use super::store::{Kind, State, sorted_words};
use super::text;
use crate::models::company::Company;
use crate::models::job::Job;
use crate::repositories;
use crate::services::{Context, ServiceError, pool, search};
use crate::utils::validators::is_record_id;

/// Similar jobs unless asked for another number.
pub const DEFAULT_LIMIT: usize = 10;
/// The most similar jobs in one answer.
pub const MAX_LIMIT: usize = 50;

/// How the jobs were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// By the cosine of the embeddings of their text.
    Embedding,
    /// By the skills and title words they share (the embedding model is not loaded, or the job
    /// has no vector yet).
    Keyword,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Embedding => "embedding",
            Method::Keyword => "keyword",
        }
    }
}

/// One similar job.
#[derive(Debug, Clone)]
pub struct SimilarJob {
    pub listing: Arc<(Job, Company)>,
    /// Cosine similarity (embedding) or weighted overlap from 0 to 1 (keyword).
    pub score: f32,
    /// The skills both jobs ask for, in this job's order.
    pub shared_skills: Vec<String>,
}

/// The answer.
#[derive(Debug, Clone)]
pub struct SimilarJobs {
    pub method: Method,
    pub items: Vec<SimilarJob>,
}

/// Checks `limit` (a whole number from 1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] when absent).
pub fn parse_limit(raw: Option<&str>) -> Result<usize, ServiceError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(DEFAULT_LIMIT),
        Some(raw) => {
            raw.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                ServiceError::validation(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })
        }
    }
}

/// The public jobs most similar to the public job `id`, best first; 404 when `id` is not a
/// public job.
pub async fn similar(ctx: &Context, id: &str, limit: usize) -> Result<SimilarJobs, ServiceError> {
    if !is_record_id(id) {
        return Err(ServiceError::NotFound("job"));
    }
    let job = repositories::jobs::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("job"))?;
    let now = Utc::now();
    if !job.is_public(now) {
        return Err(ServiceError::NotFound("job"));
    }
    // More than asked for: some may have closed since the copies were written.
    let wanted = limit + 10;
    let vector = ctx.ai.embedder().and(ctx.ai.jobs.vector_of(&job.id));
    let (method, scored) = match vector {
        Some(vector) => {
            let vectors = ctx.ai.jobs.clone();
            let hits =
                pool::run(move || Ok::<_, ServiceError>(vectors.search(&vector, wanted + 1, None)))
                    .await?;
            let scored: Vec<(String, f32)> = hits
                .into_iter()
                .filter(|h| h.key != job.id)
                .map(|h| (h.key, h.similarity))
                .collect();
            (Method::Embedding, scored)
        }
        None => {
            let suggestions: Arc<Suggestions> = ctx.suggestions.clone();
            let (skills, title) = (job.fields.skills.clone(), text::title_form(&job.fields.title));
            let own = job.id.clone();
            let scored = pool::run(move || {
                Ok::<_, ServiceError>(by_keywords(
                    &suggestions.store().read(),
                    &own,
                    &skills,
                    &title,
                    wanted,
                    now.timestamp(),
                ))
            })
            .await?;
            (Method::Keyword, scored)
        }
    };
    let ids: Vec<String> = scored.iter().map(|(id, _)| id.clone()).collect();
    let listings = search::listings(ctx, &ids, None, now).await?;
    let items = listings
        .into_iter()
        .filter(|listing| listing.0.id != job.id)
        .take(limit)
        .map(|listing| {
            let score = scored.iter().find(|(id, _)| *id == listing.0.id).map_or(0.0, |s| s.1);
            let shared_skills = job
                .fields
                .skills
                .iter()
                .filter(|s| listing.0.fields.skills.contains(s))
                .cloned()
                .collect();
            SimilarJob { listing, score, shared_skills }
        })
        .collect();
    Ok(SimilarJobs { method, items })
}

/// How many items two sorted lists share, and how many they hold together.
fn overlap(a: &[u32], b: &[u32]) -> (usize, usize) {
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (shared, a.len() + b.len() - shared)
}

/// The `wanted` jobs held that share most with a job of these skills and title, by weighted
/// overlap (a shared skill counts twice a shared title word), ties by id; the job `own`,
/// expired jobs and jobs sharing nothing left out.
pub fn by_keywords(
    state: &State,
    own: &str,
    skills: &[String],
    title: &str,
    wanted: usize,
    now: i64,
) -> Vec<(String, f32)> {
    let (skills, other_skills) =
        ids_of(state.terms(Kind::Skill).forms(), skills.iter().map(String::as_str));
    let title = sorted_words(title);
    let (title, other_words) = ids_of(&state.vocabulary, title.iter().map(String::as_str));
    let mut scored: Vec<(f32, &str)> = Vec::new();
    for (id, entry) in &state.jobs {
        if **id == *own || entry.expires_at.is_some_and(|at| at <= now) {
            continue;
        }
        let (shared_skills, all_skills) = overlap(&skills, entry.skills());
        let (shared_words, all_words) = overlap(&title, entry.title_words());
        let shared = 2 * shared_skills + shared_words;
        if shared == 0 {
            continue;
        }
        let all = 2 * (all_skills + other_skills) + all_words + other_words;
        scored.push((shared as f32 / all as f32, &**id));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(wanted).map(|(score, id)| (id.to_owned(), score)).collect()
}

/// The distinct `items` that `interner` holds, as their ids in ascending order, and how many
/// it does not hold (no job carries them, but they count among the job's own).
fn ids_of<'a>(interner: &Interner, items: impl Iterator<Item = &'a str>) -> (Vec<u32>, usize) {
    let mut items: Vec<&str> = items.collect();
    items.sort_unstable();
    items.dedup();
    let mut ids: Vec<u32> = items.iter().filter_map(|item| interner.id(item)).collect();
    ids.sort_unstable();
    let others = items.len() - ids.len();
    (ids, others)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::suggestions::store::{Facts, Store};

    fn job(id: &str, title: &str, skills: &[&str], expires_at: Option<i64>) -> Facts {
        Facts {
            id: id.into(),
            version: 1,
            title: title.into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            company: "Acme".into(),
            locations: Vec::new(),
            countries: Vec::new(),
            seniority: None,
            workplace: None,
            salary: None,
            expires_at,
        }
    }

    #[test]
    fn shared_skills_weigh_more_than_title_words() {
        let store = Store::new(Vec::new());
        store.write(
            vec![
                job("self", "Rust Engineer", &["rust", "tokio"], None),
                job("skills", "Systems Programmer", &["rust", "tokio"], None),
                job("title", "Rust Engineer", &[], None),
                job("one", "Backend Developer", &["rust"], None),
                job("none", "Sales Manager", &["excel"], None),
                job("expired", "Rust Engineer", &["rust", "tokio"], Some(10)),
            ],
            &[],
        );
        let skills = vec!["tokio".to_owned(), "rust".to_owned()];
        let found = by_keywords(&store.read(), "self", &skills, "Rust Engineer", 10, 100);
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["skills", "title", "one"]);
        assert!((found[0].1 - 4.0 / 8.0).abs() < 1e-6, "{found:?}");
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIMIT);
        assert!(parse_limit(Some("0")).is_err() && parse_limit(Some("51")).is_err());
        assert!(parse_limit(Some("ten")).is_err());
    }
}
