//! What the assistant may quote: the documents that answer a question, each with its best
//! passage, from what the caller may see.
//!
//! The sources are public jobs (the keyword index fused with the job vectors), the companies of
//! those jobs, the caller's own resumes, applications and saved searches, and the help pages
//! of `prompts/help/`. Who may see what is decided by the queries themselves: jobs are read
//! back with a query that keeps only published, approved, unexpired ones, and private records
//! with queries bound to the principal's user id. An employer also sees the jobs, in any status,
//! and the applicants of the companies they are a member of, read by queries that check the
//! membership themselves. The question's text never takes part in choosing whose records are
//! read, only in ranking them.
//!
//! With the embedding model loaded, documents are ranked by the cosine of their best chunk with
//! the question (a job first by its stored vector, so only the few best documents are split
//! and embedded); without it, by the share of the question's words they contain.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use chrono::Utc;

use super::super::{Context, Principal, ServiceError, search};
use super::CitationKind;
use crate::ai::providers::embedder::{Embedder, cosine};
use crate::ai::rag::loader::{self, Document, strip_invisible};
use crate::ai::rag::retriever::{self, Ranked};
use crate::ai::rag::splitter::Splitter;
use crate::models::job::SortBy;
use crate::models::user::Role;
use crate::repositories;
use crate::repositories::job_index::IndexQuery;

/// One retrieved document: what it is, and the passage of it that answers best.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    pub kind: CitationKind,
    /// The record's id (a help page's name).
    pub id: String,
    pub title: String,
    /// The best chunk of the document: untrusted text, invisible characters removed.
    pub text: String,
    /// Cosine similarity with the question (plus a small bonus for jobs the keyword index
    /// ranks high), or the share of the question's words without the embedding model; higher
    /// is better, comparable within one answer only.
    pub score: f32,
}

/// The help pages about using the portal, by name.
pub const HELP_PAGES: &[(&str, &str)] = &[
    ("applying", include_str!("../../../prompts/help/applying.md")),
    ("resumes", include_str!("../../../prompts/help/resumes.md")),
    ("saved-searches", include_str!("../../../prompts/help/saved-searches.md")),
    ("recommendations", include_str!("../../../prompts/help/recommendations.md")),
    ("account", include_str!("../../../prompts/help/account.md")),
    ("searching", include_str!("../../../prompts/help/searching.md")),
];

/// How many jobs each ranking (keyword, vectors) offers to the fusion.
pub const JOB_CANDIDATES: usize = 20;

/// How many of the fused jobs are read and ranked.
pub const JOBS_READ: usize = 8;

/// At most this many of the caller's applications (the newest) are ranked.
pub const APPLICATIONS_READ: u32 = 50;

/// At most this many of an employer's companies' jobs (the most recently changed) are ranked.
pub const COMPANY_JOBS_READ: u32 = 100;

/// At most this many of the caller's resumes (the newest) are ranked.
pub const RESUMES_READ: u32 = 20;

/// Below this cosine a document does not answer the question (unrelated texts score 0 to 0.2
/// with this model).
pub const MIN_SIMILARITY: f32 = search::MIN_SIMILARITY;

/// Below this cosine to the question a public job or company is not retrieved, whatever its
/// rank (the least similarity the job search accepts for a job found by meaning alone).
pub const MIN_PUBLIC_SIMILARITY: f32 = super::tools::search_jobs::MIN_MEANING;

/// Without the embedding model, a document must hold at least this share of the question's
/// words.
pub const MIN_KEYWORD_SCORE: f32 = 0.3;

/// The most a job gains for ranking high in the fusion of keyword and vector rankings.
pub const FUSION_BONUS: f32 = 0.1;

/// At most this many of the question's words go to the keyword index.
pub const MAX_KEYWORDS: usize = 8;

/// Only the start of a longer question is read.
pub const MAX_QUERY_CHARS: usize = 1_000;

/// A candidate document before scoring: its chunks, and what it brings.
struct Candidate {
    document: Document,
    chunks: Vec<Range<usize>>,
    /// A job's stored vector (of its title and the start of its description), when it has one.
    stored: Option<Arc<[f32]>>,
    /// What a job gains for its place in the fused ranking.
    bonus: f32,
}

impl Candidate {
    fn chunk(&self, i: usize) -> &str {
        self.chunks.get(i).and_then(|r| self.document.text.get(r.clone())).unwrap_or("")
    }
}

/// The `limit` documents the caller may see that answer `query` best, best first.
pub async fn retrieve(
    ctx: &Context,
    principal: &Principal,
    query: &str,
    limit: usize,
) -> Result<Vec<Retrieved>, ServiceError> {
    let query: String = strip_invisible(query).chars().take(MAX_QUERY_CHARS).collect();
    let query = query.trim();
    if query.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let embedder = ctx.ai.embedder();
    let query_vector = match &embedder {
        Some(embedder) => Some(embedder.embed_one(query).await?),
        None => None,
    };
    let mut documents = public_documents(ctx, query, query_vector.as_deref()).await?;
    documents.extend(own_documents(ctx, principal).await?);
    documents.extend(HELP_PAGES.iter().map(|(name, text)| (loader::help_page(name, text), 0.0)));

    let ranked = match (&embedder, &query_vector) {
        (Some(embedder), Some(vector)) => {
            let candidates = split(ctx, Some(embedder), documents).await?;
            rank_by_similarity(embedder, vector, candidates, limit).await?
        }
        _ => {
            let candidates = split(ctx, None, documents).await?;
            rank_by_keywords(query, candidates, limit)
        }
    };
    Ok(ranked
        .into_iter()
        .map(|r| Retrieved {
            kind: r.document.kind,
            id: r.document.id.clone(),
            title: r.document.title.clone(),
            text: r.chunk_text().trim().to_owned(),
            score: r.score,
        })
        .collect())
}

/// The best public jobs for `query` (the fusion of the keyword index and the job vectors) and
/// their companies, each with the bonus of its place in the fusion.
async fn public_documents(
    ctx: &Context,
    query: &str,
    query_vector: Option<&[f32]>,
) -> Result<Vec<(Document, f32)>, ServiceError> {
    let now = Utc::now();
    // The question's words together; when they find few jobs, each word alone too (the index
    // wants every one of up to three words, and half of a longer question's).
    let keywords = retriever::keywords(query);
    let mut keyword_rankings: Vec<Vec<String>> = Vec::new();
    if !keywords.is_empty() {
        let words = keywords.iter().take(MAX_KEYWORDS).cloned().collect::<Vec<_>>();
        let all = index_ids(ctx, words.join(" "), now).await?;
        let few = all.len() < JOBS_READ;
        keyword_rankings.push(all);
        if few && words.len() > 1 {
            for word in words {
                keyword_rankings.push(index_ids(ctx, word, now).await?);
            }
        }
    }
    let vector_ids: Vec<String> = match query_vector {
        Some(vector) => {
            let (vectors, vector) = (ctx.ai.jobs.clone(), vector.to_vec());
            crate::services::pool::run(move || {
                Ok::<_, ServiceError>(vectors.search(&vector, JOB_CANDIDATES, None))
            })
            .await?
            .into_iter()
            .filter(|hit| hit.similarity >= MIN_SIMILARITY)
            .map(|hit| hit.key)
            .collect()
        }
        None => Vec::new(),
    };
    let mut rankings: Vec<&[String]> = keyword_rankings.iter().map(Vec::as_slice).collect();
    rankings.push(&vector_ids);
    let fused = retriever::reciprocal_rank_fusion(&rankings);
    let best = fused.first().map_or(1.0, |(_, score)| *score);
    let fused: Vec<(String, f32)> = fused
        .into_iter()
        .take(JOBS_READ)
        .map(|(id, score)| (id, FUSION_BONUS * score / best))
        .collect();
    let ids: Vec<String> = fused.iter().map(|(id, _)| id.clone()).collect();
    // The query keeps only jobs public now: the index and the vectors may be a moment behind.
    let jobs = repositories::jobs::find_public_many(&ctx.db, &ids, now).await?;
    let companies: HashMap<String, crate::models::company::Company> =
        repositories::companies::find_many(&ctx.db, &crate::models::job::company_ids(&jobs))
            .await?
            .into_iter()
            .map(|c| (c.id.clone(), c))
            .collect();
    let mut by_id: HashMap<String, _> = jobs.into_iter().map(|j| (j.id.clone(), j)).collect();
    let mut out = Vec::new();
    let mut companies_seen = std::collections::HashSet::new();
    for (id, bonus) in fused {
        let Some(job) = by_id.remove(&id) else { continue };
        let company = companies.get(&job.company_id);
        out.push((loader::job(&job, company.map(|c| c.name.as_str())), bonus));
        if let Some(company) = company.filter(|c| companies_seen.insert(c.id.clone())) {
            out.push((loader::company(company), 0.0));
        }
    }
    Ok(out)
}

/// The first [`JOB_CANDIDATES`] public jobs the keyword index ranks for `text`.
async fn index_ids(
    ctx: &Context,
    text: String,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<String>, ServiceError> {
    let query = IndexQuery {
        text: Some(text),
        now: now.timestamp(),
        sort: SortBy::Relevance,
        limit: JOB_CANDIDATES,
        ..IndexQuery::default()
    };
    Ok(search::run_index(ctx, query).await?.ids.clone())
}

/// The caller's own resumes, applications and saved searches, and for an employer the jobs (in
/// any status) and applicants of the companies they are a member of: every query is bound to
/// the principal's user id.
async fn own_documents(
    ctx: &Context,
    principal: &Principal,
) -> Result<Vec<(Document, f32)>, ServiceError> {
    let user = principal.user_id.as_str();
    let mut out = Vec::new();
    for resume in repositories::resumes::with_text_by_owner(&ctx.db, user, RESUMES_READ).await? {
        out.push((loader::resume(&resume), 0.0));
    }
    let applications =
        repositories::applications::of_candidate_with_titles(&ctx.db, user, APPLICATIONS_READ)
            .await?;
    for (application, title, company) in &applications {
        out.push((loader::application(application, title.as_deref(), company.as_deref()), 0.0));
    }
    for search in repositories::saved::searches_of(&ctx.db, user).await? {
        out.push((loader::saved_search(&search), 0.0));
    }
    if principal.role == Role::Employer {
        // A member's view of their companies: every job in any status, and the applicants.
        let jobs =
            repositories::jobs::of_member_companies(&ctx.db, user, COMPANY_JOBS_READ).await?;
        let names: HashMap<String, String> =
            repositories::jobs::company_names_of(&ctx.db, &jobs).await?;
        for job in &jobs {
            let company = names.get(&job.company_id).map(String::as_str);
            out.push((loader::job(job, company), 0.0));
        }
        let applicants =
            repositories::applications::to_member_companies(&ctx.db, user, APPLICATIONS_READ)
                .await?;
        for (application, name, title) in &applicants {
            out.push((loader::applicant(application, name, title), 0.0));
        }
    }
    Ok(out)
}

/// Splits each document into chunks (by the model's tokens when it is loaded, else by words),
/// on the blocking pool, and looks up the stored vector of each job.
async fn split(
    ctx: &Context,
    embedder: Option<&Embedder>,
    documents: Vec<(Document, f32)>,
) -> Result<Vec<Candidate>, ServiceError> {
    let embedder = embedder.cloned();
    let mut candidates = tokio::task::spawn_blocking(move || {
        let splitter = Splitter::default();
        documents
            .into_iter()
            .map(|(document, bonus)| {
                let chunks = match &embedder {
                    Some(embedder) => {
                        splitter.split(&document.text, &embedder.token_spans(&document.text))
                    }
                    None => splitter.split_words(&document.text),
                };
                Candidate { document, chunks, stored: None, bonus }
            })
            .filter(|c| !c.chunks.is_empty())
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    for candidate in &mut candidates {
        if candidate.document.kind == CitationKind::Job {
            candidate.stored = ctx.ai.jobs.vector_of(&candidate.document.id);
        }
    }
    Ok(candidates)
}

/// Ranks by embedding similarity, in two passes so that only a few documents are embedded
/// whole: first every document by its stored vector (jobs) or its first chunk; then the best
/// `limit` of them (at least two) by their best chunk. Vectors of texts seen before come from the
/// embedder's cache.
async fn rank_by_similarity(
    embedder: &Embedder,
    query: &[f32],
    candidates: Vec<Candidate>,
    limit: usize,
) -> Result<Vec<Ranked>, ServiceError> {
    let heads: Vec<String> =
        candidates.iter().filter(|c| c.stored.is_none()).map(|c| c.chunk(0).to_owned()).collect();
    let mut head_vectors = embedder.embed(&heads).await?.into_iter();
    let first: Vec<f32> = candidates
        .iter()
        .map(|c| match &c.stored {
            Some(stored) => cosine(query, stored),
            None => head_vectors.next().map_or(0.0, |v| cosine(query, &v)),
        })
        .collect();
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| {
        (first[b] + candidates[b].bonus).total_cmp(&(first[a] + candidates[a].bonus))
    });
    let refine: Vec<usize> = order
        .iter()
        .copied()
        .take(limit.max(2))
        .filter(|&i| candidates[i].chunks.len() > 1 || candidates[i].stored.is_some())
        .collect();
    let texts: Vec<String> = refine
        .iter()
        .flat_map(|&i| (0..candidates[i].chunks.len()).map(move |k| (i, k)))
        .map(|(i, k)| candidates[i].chunk(k).to_owned())
        .collect();
    let vectors = embedder.embed(&texts).await?;
    let mut best: HashMap<usize, (usize, f32)> = HashMap::new();
    let mut next = vectors.iter();
    for &i in &refine {
        let chunk_vectors: Vec<&[f32]> =
            (0..candidates[i].chunks.len()).filter_map(|_| next.next().map(|v| &v[..])).collect();
        if let Some(found) = retriever::best_by_similarity(query, &chunk_vectors) {
            best.insert(i, found);
        }
    }
    let ranked = candidates
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let (chunk, similarity) = match best.get(&i) {
                Some(&(k, s)) => (k, s.max(first[i])),
                None => (0, first[i]),
            };
            // A public job or company must be close in meaning to the question itself, as a
            // search by meaning must: ranking high among unrelated ones is not enough.
            let public = matches!(c.document.kind, CitationKind::Job | CitationKind::Company);
            let score = if public && similarity < MIN_PUBLIC_SIMILARITY {
                0.0
            } else {
                similarity + c.bonus
            };
            Ranked { chunk: c.chunks[chunk].clone(), score, document: c.document }
        })
        .collect();
    Ok(retriever::best_distinct(ranked, MIN_SIMILARITY, limit))
}

/// Ranks by the share of the question's words in the best chunk (with the title counting a
/// fifth), for when the embedding model is not loaded.
fn rank_by_keywords(query: &str, candidates: Vec<Candidate>, limit: usize) -> Vec<Ranked> {
    let terms = retriever::terms(query);
    let ranked = candidates
        .into_iter()
        .filter_map(|c| {
            let texts: Vec<&str> = (0..c.chunks.len()).map(|k| c.chunk(k)).collect();
            let (best, score) = retriever::best_by_keywords(&terms, &texts)?;
            let title = retriever::keyword_score(&terms, &c.document.title);
            let score = 0.8 * score + 0.2 * title + c.bonus;
            Some(Ranked { chunk: c.chunks[best].clone(), document: c.document, score })
        })
        .collect();
    retriever::best_distinct(ranked, MIN_KEYWORD_SCORE, limit)
}
