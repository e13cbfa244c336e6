//! The rankings of recent semantic and hybrid searches. Such a search embeds its text, walks
//! the vector graph and asks the index up to four questions; asked again (the same words and
//! filters, a popular search, the same page reloaded) while neither the index nor the job
//! vectors changed, its ranking is the same, so it is remembered: no embedding, no graph walk.
//! What is remembered is forgotten at the index's next commit (a job written, closed or made
//! private), at any change to the vectors, and after
//! [`ANSWER_MAX_AGE_SECS`](crate::repositories::job_index::ANSWER_MAX_AGE_SECS) of the clock,
//! like the index's own answers. The page's jobs are still checked against the clock.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use super::SearchMode;
use crate::repositories::job_index::{ANSWER_MAX_AGE_SECS, IndexHits, IndexQuery};

/// The most rankings remembered; when full, they are all forgotten at once.
const MAX_RANKINGS: usize = 256;

/// What the index and the vectors were when a ranking was made: it holds while both still are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sources {
    /// The index's generation ([`JobIndex::generation`](crate::repositories::job_index::JobIndex::generation)).
    pub index: u64,
    /// The job vectors' version ([`VectorIndex::version`](crate::ai::rag::vectorstore::VectorIndex::version)).
    pub vectors: u64,
}

/// The rankings remembered, shared by every request.
#[derive(Default)]
pub struct Rankings {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    entries: HashTable<Ranking>,
    hasher: RandomState,
}

struct Ranking {
    mode: SearchMode,
    query: IndexQuery,
    hash: u64,
    sources: Sources,
    asked_at: i64,
    hits: Arc<IndexHits>,
}

impl std::fmt::Debug for Rankings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Rankings").field("remembered", &kept.entries.len()).finish()
    }
}

impl Kept {
    fn hash(&self, mode: SearchMode, q: &IndexQuery) -> u64 {
        self.hasher.hash_one((mode, q.question()))
    }
}

impl Rankings {
    /// The ranking of `q` in `mode` made from `sources` at most
    /// [`ANSWER_MAX_AGE_SECS`] before `q.now`.
    pub fn get(
        &self,
        mode: SearchMode,
        q: &IndexQuery,
        sources: Sources,
    ) -> Option<Arc<IndexHits>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let hash = kept.hash(mode, q);
        let found =
            kept.entries.find(hash, |r| r.mode == mode && r.query.question() == q.question())?;
        let age = q.now - found.asked_at;
        (found.sources == sources && (0..=ANSWER_MAX_AGE_SECS).contains(&age))
            .then(|| found.hits.clone())
    }

    /// Remembers the ranking of `q` in `mode`, made from `sources` at `q.now` (forgetting all
    /// others when full).
    pub fn keep(&self, mode: SearchMode, q: &IndexQuery, sources: Sources, hits: Arc<IndexHits>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.entries.len() >= MAX_RANKINGS {
            kept.entries.clear();
        }
        let hash = kept.hash(mode, q);
        let ranking = Ranking { mode, query: q.clone(), hash, sources, asked_at: q.now, hits };
        let same = |r: &Ranking| r.mode == mode && r.query.question() == q.question();
        match kept.entries.entry(hash, same, |r| r.hash) {
            Entry::Occupied(mut old) => *old.get_mut() = ranking,
            Entry::Vacant(slot) => {
                slot.insert(ranking);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(text: &str) -> IndexQuery {
        IndexQuery {
            text: Some(text.into()),
            countries: vec!["US".into()],
            now: 1_000_000,
            limit: 20,
            ..IndexQuery::default()
        }
    }

    fn hits(id: &str) -> Arc<IndexHits> {
        Arc::new(IndexHits {
            ids: vec![id.into()],
            versions: vec![1],
            total: 1,
            ..Default::default()
        })
    }

    #[test]
    fn a_ranking_holds_for_its_question_while_its_sources_are_unchanged_and_it_is_young() {
        let rankings = Rankings::default();
        let sources = Sources { index: 3, vectors: 7 };
        let q = query("rust services");
        assert!(rankings.get(SearchMode::Semantic, &q, sources).is_none());
        rankings.keep(SearchMode::Semantic, &q, sources, hits("a"));
        assert_eq!(rankings.get(SearchMode::Semantic, &q, sources).unwrap().ids, ["a"]);

        let later = IndexQuery { now: q.now + ANSWER_MAX_AGE_SECS, ..q.clone() };
        assert!(rankings.get(SearchMode::Semantic, &later, sources).is_some());
        let too_late = IndexQuery { now: q.now + ANSWER_MAX_AGE_SECS + 1, ..q.clone() };
        assert!(rankings.get(SearchMode::Semantic, &too_late, sources).is_none());

        assert!(rankings.get(SearchMode::Hybrid, &q, sources).is_none(), "another mode");
        let other = IndexQuery { countries: vec!["GB".into()], ..q.clone() };
        assert!(rankings.get(SearchMode::Semantic, &other, sources).is_none(), "another filter");
        let page = IndexQuery { offset: 20, ..q.clone() };
        assert!(rankings.get(SearchMode::Semantic, &page, sources).is_none(), "another page");
        for changed in [Sources { index: 4, ..sources }, Sources { vectors: 8, ..sources }] {
            assert!(rankings.get(SearchMode::Semantic, &q, changed).is_none(), "{changed:?}");
        }

        // Asked again from newer sources: the newer ranking replaces the older.
        let newer = Sources { index: 4, ..sources };
        rankings.keep(SearchMode::Semantic, &q, newer, hits("b"));
        assert_eq!(rankings.get(SearchMode::Semantic, &q, newer).unwrap().ids, ["b"]);
        assert!(rankings.get(SearchMode::Semantic, &q, sources).is_none());
    }

    #[test]
    fn when_full_every_ranking_is_forgotten() {
        let rankings = Rankings::default();
        let sources = Sources { index: 1, vectors: 1 };
        for i in 0..MAX_RANKINGS {
            rankings.keep(SearchMode::Semantic, &query(&format!("q{i}")), sources, hits("a"));
        }
        assert!(rankings.get(SearchMode::Semantic, &query("q0"), sources).is_some());
        rankings.keep(SearchMode::Semantic, &query("one more"), sources, hits("a"));
        assert!(rankings.get(SearchMode::Semantic, &query("q0"), sources).is_none());
        assert!(rankings.get(SearchMode::Semantic, &query("one more"), sources).is_some());
    }
}
