//! The remembered answers of recent searches, forgotten at every commit.

use std::collections::HashMap;
use std::sync::Arc;

use super::query::{IndexHits, IndexQuery};

/// How long (in seconds of the query's `now`) a remembered answer stays good. Jobs leave by the
/// clock when they expire, without a commit; the caller drops a job of a page that is no longer
/// public, so at worst a total or a facet count still includes a job that expired within this
/// many seconds.
pub const ANSWER_MAX_AGE_SECS: i64 = 10;

/// The most answers remembered; when full, they are all forgotten at once.
const MAX_ANSWERS: usize = 1024;

/// The answers of recent queries, kept until the index changes: every reload after a commit
/// starts a new generation with none. The searcher's own caches make a repeated query cheaper
/// but still walk every matching document to count it and build its facets; a job board asks
/// the same few questions (the front page, popular words and filters) again and again.
#[derive(Default)]
pub(super) struct Answers {
    /// Counts commits: it changes whenever searches may see something new.
    pub(super) generation: u64,
    entries: HashMap<String, (i64, Arc<IndexHits>)>,
}

impl Answers {
    /// What identifies a query's answer: everything but the clock (`now`, and `posted_since`
    /// as a window back from it).
    pub(super) fn key(q: &IndexQuery) -> String {
        let window = q.posted_since.map(|since| q.now - since);
        format!("{:?}", IndexQuery { now: 0, posted_since: window, ..q.clone() })
    }

    /// The answer remembered under `key`, if it was asked at most [`ANSWER_MAX_AGE_SECS`]
    /// before `now`.
    pub(super) fn fresh(&self, key: &str, now: i64) -> Option<Arc<IndexHits>> {
        let (asked_at, hits) = self.entries.get(key)?;
        (now >= *asked_at && now - asked_at <= ANSWER_MAX_AGE_SECS).then(|| hits.clone())
    }

    /// Remembers the answer asked at `now` (forgetting all others when full).
    pub(super) fn keep(&mut self, key: String, now: i64, hits: Arc<IndexHits>) {
        if self.entries.len() >= MAX_ANSWERS {
            self.entries.clear();
        }
        self.entries.insert(key, (now, hits));
    }

    /// Starts a new generation with no answers (after a commit is made visible).
    pub(super) fn forget_all(&mut self) {
        self.generation += 1;
        self.entries.clear();
    }
}
