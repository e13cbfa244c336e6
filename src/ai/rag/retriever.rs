//! Ranking retrieved documents: fusing rankings (reciprocal rank fusion), scoring texts
//! against a query by embedding similarity or by shared words, picking the best chunk of a
//! long document, and keeping the best distinct documents. Pure functions: where the
//! documents and vectors come from is the caller's.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::loader::Document;
use crate::ai::providers::embedder::cosine;
use crate::models::conversation::CitationKind;

/// The constant of reciprocal rank fusion: an item's fused score is the sum over the rankings
/// it is in of 1 / (RRF_K + rank), rank counted from 1.
pub const RRF_K: f32 = 60.0;

/// Fuses rankings (each best first, ids unique within one) into one, best first, with each
/// id's fused score. Ties go to the smaller id, so the order is stable.
pub fn reciprocal_rank_fusion(rankings: &[&[String]]) -> Vec<(String, f32)> {
    let mut fused: HashMap<&str, f32> = HashMap::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            *fused.entry(id.as_str()).or_default() += 1.0 / (RRF_K + rank as f32 + 1.0);
        }
    }
    let mut ranked: Vec<(String, f32)> =
        fused.into_iter().map(|(id, score)| (id.to_owned(), score)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

/// Words that say nothing about what is asked.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "get", "give",
    "got", "had", "has", "have", "he", "her", "here", "him", "his", "how", "i", "if", "in", "into",
    "is", "it", "its", "just", "let", "like", "me", "mine", "my", "no", "not", "now", "of", "on",
    "or", "our", "please", "she", "should", "show", "so", "some", "tell", "than", "that", "the",
    "their", "them", "then", "there", "these", "they", "this", "those", "to", "up", "us", "was",
    "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you",
    "your",
];

/// Cuts common English endings so "developers", "developer" and "developing" meet.
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ers", "er", "ed", "es", "s"] {
        if let Some(stem) = word.strip_suffix(suffix)
            && stem.chars().count() >= 3
        {
            return stem;
        }
    }
    word
}

/// The distinct meaningful words of `text`: lower case, split on anything but letters, digits
/// and `+#`, stop words dropped, endings cut.
pub fn terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut seen = HashSet::new();
    lower
        .split(|c: char| !(c.is_alphanumeric() || c == '+' || c == '#'))
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w))
        .map(stem)
        .filter(|w| seen.insert(w.to_string()))
        .map(str::to_owned)
        .collect()
}

/// Words that, in a question to a job portal, ask for jobs rather than say which ones.
const JOB_WORDS: &[&str] = &[
    "job",
    "jobs",
    "position",
    "positions",
    "opening",
    "openings",
    "role",
    "roles",
    "vacancy",
    "vacancies",
    "work",
    "working",
    "career",
    "careers",
    "looking",
    "find",
    "search",
    "want",
    "opportunity",
    "opportunities",
    "hiring",
    "available",
    "open",
    "post",
    "posting",
    "postings",
];

/// The words of `text` that say which jobs are meant, as written (lower case; stop words and
/// words like "jobs" or "looking" dropped; endings kept), each once, in order: what the
/// full-text index of jobs is asked, so a question's filler words do not count against the
/// jobs that match it.
pub fn keywords(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut seen = HashSet::new();
    lower
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-')))
        .map(|w| w.trim_matches(|c| c == '.' || c == '-'))
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(w) && !JOB_WORDS.contains(w))
        .filter(|w| seen.insert(w.to_string()))
        .map(str::to_owned)
        .collect()
}

/// How much of the query's words `text` has: the share of `query_terms` among its terms,
/// from 0 (none, or no query words) to 1 (all).
pub fn keyword_score(query_terms: &[String], text: &str) -> f32 {
    if query_terms.is_empty() {
        return 0.0;
    }
    let have: HashSet<String> = terms(text).into_iter().collect();
    let found = query_terms.iter().filter(|t| have.contains(t.as_str())).count();
    found as f32 / query_terms.len() as f32
}

/// The chunk (index into `chunk_vectors`) most similar to `query`, with its cosine; `None`
/// without chunks.
pub fn best_by_similarity(query: &[f32], chunk_vectors: &[&[f32]]) -> Option<(usize, f32)> {
    chunk_vectors
        .iter()
        .enumerate()
        .map(|(i, v)| (i, cosine(query, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
}

/// The chunk (index into `chunks`) sharing most of the query's words, with its
/// [`keyword_score`]; the first on a tie. `None` without chunks.
pub fn best_by_keywords(query_terms: &[String], chunks: &[&str]) -> Option<(usize, f32)> {
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| (i, keyword_score(query_terms, chunk)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
}

/// A document with the part of it that answers the query best and how well.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub document: Document,
    /// The byte range of `document.text` that is the best chunk.
    pub chunk: Range<usize>,
    pub score: f32,
}

impl Ranked {
    /// The text of the best chunk.
    pub fn chunk_text(&self) -> &str {
        self.document.text.get(self.chunk.clone()).unwrap_or(&self.document.text)
    }
}

/// The `limit` best of `ranked` at or above `min_score`, best first, each document (kind and
/// id) once with its best score. Ties go to the kind, then the id, so the order is stable.
pub fn best_distinct(mut ranked: Vec<Ranked>, min_score: f32, limit: usize) -> Vec<Ranked> {
    ranked.retain(|r| r.score >= min_score && r.score.is_finite());
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| kind_order(a.document.kind).cmp(&kind_order(b.document.kind)))
            .then_with(|| a.document.id.cmp(&b.document.id))
    });
    let mut seen: HashSet<(CitationKind, String)> = HashSet::new();
    ranked
        .into_iter()
        .filter(|r| seen.insert((r.document.kind, r.document.id.clone())))
        .take(limit)
        .collect()
}

fn kind_order(kind: CitationKind) -> u8 {
    match kind {
        CitationKind::Job => 0,
        CitationKind::Company => 1,
        CitationKind::Application => 2,
        CitationKind::Resume => 3,
        CitationKind::SavedSearch => 4,
        CitationKind::Help => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fusion_rewards_agreement_and_keeps_everything() {
        let keyword = ids(&["a", "b", "c"]);
        let vector = ids(&["c", "d", "a"]);
        let fused = reciprocal_rank_fusion(&[&keyword, &vector]);
        let order: Vec<&str> = fused.iter().map(|(id, _)| id.as_str()).collect();
        // a: 1/61 + 1/63; c: 1/63 + 1/61 (a tie, broken by id); then b (1/62) before d (1/62)
        assert_eq!(order, ["a", "c", "b", "d"]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-6);
        assert!(reciprocal_rank_fusion(&[]).is_empty());
    }

    #[test]
    fn terms_drop_stop_words_and_meet_across_endings() {
        assert_eq!(
            terms("How do I apply for the Rust developer jobs?"),
            ["apply", "rust", "develop", "job"]
        );
        assert_eq!(terms("C++ and C# developers"), ["c++", "c#", "develop"]);
        assert!(terms("what is it").is_empty());
        assert_eq!(
            keywords("Any remote Node.js jobs in Berlin, please?"),
            ["remote", "node.js", "berlin"]
        );
        assert!(keywords("I am looking for jobs").is_empty());
    }

    #[test]
    fn keyword_scores_share_of_query_words() {
        let q = terms("remote rust developer");
        assert_eq!(keyword_score(&q, "Senior Rust Developer, remote in Europe"), 1.0);
        assert!((keyword_score(&q, "Rust engineer") - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(keyword_score(&q, "Python analyst"), 0.0);
        assert_eq!(keyword_score(&[], "anything"), 0.0);
    }

    #[test]
    fn the_best_chunk_is_the_closest_or_the_wordiest() {
        let q = [1.0, 0.0];
        let chunks: [&[f32]; 3] = [&[0.0, 1.0], &[0.8, 0.6], &[0.6, 0.8]];
        assert_eq!(best_by_similarity(&q, &chunks).map(|(i, _)| i), Some(1));
        assert_eq!(best_by_similarity(&q, &[]), None);
        let t = terms("kubernetes operator");
        let texts = ["we use docker", "a kubernetes operator in go", "kubernetes"];
        assert_eq!(best_by_keywords(&t, &texts), Some((1, 1.0)));
    }

    fn ranked(kind: CitationKind, id: &str, score: f32) -> Ranked {
        Ranked { document: Document::new(kind, id, id, "text"), chunk: 0..4, score }
    }

    #[test]
    fn best_distinct_dedups_filters_sorts_and_limits() {
        let all = vec![
            ranked(CitationKind::Job, "j1", 0.5),
            ranked(CitationKind::Job, "j1", 0.7),
            ranked(CitationKind::Help, "j1", 0.6),
            ranked(CitationKind::Job, "j2", 0.1),
            ranked(CitationKind::Resume, "r1", 0.6),
            ranked(CitationKind::Job, "j3", f32::NAN),
        ];
        let best = best_distinct(all.clone(), 0.2, 10);
        let got: Vec<(CitationKind, &str, f32)> =
            best.iter().map(|r| (r.document.kind, r.document.id.as_str(), r.score)).collect();
        assert_eq!(
            got,
            [
                (CitationKind::Job, "j1", 0.7),
                (CitationKind::Resume, "r1", 0.6),
                (CitationKind::Help, "j1", 0.6)
            ]
        );
        assert_eq!(best_distinct(all, 0.0, 2).len(), 2);
        assert_eq!(ranked(CitationKind::Job, "x", 1.0).chunk_text(), "text");
    }
}
