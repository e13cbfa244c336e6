//! The rankings of recent semantic and hybrid searches. Such a search embeds its text, walks
//! the vector graph and asks the index up to four questions; asked again (the same words and
//! filters, a popular search, the same page reloaded) while neither the index nor the job
//! vectors changed, its ranking is the same, so it is remembered: no embedding, no graph walk.
//! What is remembered is forgotten at the index's next commit (a job written, closed or made
//! private), at any change to the vectors, and after
//! [`ANSWER_MAX_AGE_SECS`](crate::repositories::job_index::ANSWER_MAX_AGE_SECS) of the clock,
//! like the index's own answers. The page's jobs are still checked against the clock.
//!
//! Also remembered: the vector points of the jobs that pass a search's filters
//! ([`Rankings::points`]), found once per remembered answer of the index instead of once per
//! search (a few thousand key lookups). They hold while the vectors are unchanged, which the
//! collection checks itself.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};

use super::SearchMode;
use crate::ai::rag::vectorstore::Points;
use crate::repositories::job_index::{ANSWER_MAX_AGE_SECS, IndexHits, IndexQuery};
use crate::utils::recent::RecentTable;

/// The most rankings remembered; when full, the one kept longest ago is forgotten.
const MAX_RANKINGS: usize = 256;

/// The most answers whose passing jobs' points are remembered; the oldest is forgotten first.
const MAX_POINTS: usize = 64;

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
    points: Mutex<Vec<PointsOf>>,
}

/// The vector points of the jobs an answer of the index holds. The answer is held weakly: it
/// is forgotten with the index's answers, and its address is not reused while this is kept.
struct PointsOf {
    answer: Weak<IndexHits>,
    points: Arc<Points>,
}

struct Kept {
    entries: RecentTable<Ranking>,
    hasher: RandomState,
}

impl Default for Kept {
    fn default() -> Self {
        Self { entries: RecentTable::new(MAX_RANKINGS), hasher: RandomState::new() }
    }
}

struct Ranking {
    mode: SearchMode,
    query: IndexQuery,
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

    /// Remembers the ranking of `q` in `mode`, made from `sources` at `q.now` (forgetting the
    /// one kept longest ago when full).
    pub fn keep(&self, mode: SearchMode, q: &IndexQuery, sources: Sources, hits: Arc<IndexHits>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let hash = kept.hash(mode, q);
        let ranking = Ranking { mode, query: q.clone(), sources, asked_at: q.now, hits };
        let same = |r: &Ranking| r.mode == mode && r.query.question() == q.question();
        let left = kept.entries.insert(hash, ranking, same);
        drop(kept);
        drop(left);
    }

    /// The points kept for the jobs of `answer` (the very answer, not an equal one).
    pub fn points(&self, answer: &Arc<IndexHits>) -> Option<Arc<Points>> {
        let kept = self.points.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter()
            .find(|p| std::ptr::eq(p.answer.as_ptr(), Arc::as_ptr(answer)))
            .map(|p| p.points.clone())
    }

    /// Keeps the points of the jobs of `answer`, replacing any kept for it, and forgetting
    /// those of answers no longer held anywhere.
    pub fn keep_points(&self, answer: &Arc<IndexHits>, points: Arc<Points>) {
        let mut kept = self.points.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|p| {
            p.answer.strong_count() > 0 && !std::ptr::eq(p.answer.as_ptr(), Arc::as_ptr(answer))
        });
        if kept.len() >= MAX_POINTS {
            kept.remove(0);
        }
        kept.push(PointsOf { answer: Arc::downgrade(answer), points });
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
    fn points_are_kept_for_the_very_answer_and_forgotten_with_it() {
        let index = crate::ai::rag::vectorstore::VectorIndex::new(Default::default());
        index.upsert("a", vec![1.0f32, 0.0].into(), [1; 16]);
        let rankings = Rankings::default();
        let answer = hits("a");
        let equal = hits("a");
        let (_, points) = index.search_among(&[1.0, 0.0], 1, &answer.ids, None);
        assert!(rankings.points(&answer).is_none());
        rankings.keep_points(&answer, points.clone());
        assert!(Arc::ptr_eq(&rankings.points(&answer).unwrap(), &points));
        assert!(rankings.points(&equal).is_none(), "an equal answer is another answer");

        // Once the answer is gone everywhere, its points go at the next keep.
        drop(answer);
        rankings.keep_points(&equal, points.clone());
        assert_eq!(rankings.points.lock().unwrap().len(), 1);
        // Bounded: the oldest goes first.
        let answers: Vec<Arc<IndexHits>> = (0..MAX_POINTS).map(|_| hits("a")).collect();
        for answer in &answers {
            rankings.keep_points(answer, points.clone());
        }
        assert_eq!(rankings.points.lock().unwrap().len(), MAX_POINTS);
        assert!(rankings.points(&equal).is_none());
        assert!(rankings.points(&answers[MAX_POINTS - 1]).is_some());
    }

    #[test]
    fn when_full_the_ranking_kept_longest_ago_is_forgotten_and_only_it() {
        let rankings = Rankings::default();
        let sources = Sources { index: 1, vectors: 1 };
        for i in 0..MAX_RANKINGS {
            rankings.keep(SearchMode::Semantic, &query(&format!("q{i}")), sources, hits("a"));
        }
        assert!(rankings.get(SearchMode::Semantic, &query("q0"), sources).is_some());
        rankings.keep(SearchMode::Semantic, &query("one more"), sources, hits("a"));
        assert!(rankings.get(SearchMode::Semantic, &query("q0"), sources).is_none());
        assert!(rankings.get(SearchMode::Semantic, &query("q1"), sources).is_some());
        assert!(rankings.get(SearchMode::Semantic, &query("one more"), sources).is_some());
    }
}
