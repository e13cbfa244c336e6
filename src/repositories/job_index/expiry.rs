//! Jobs leave searches when their expiry passes, without a commit: each segment's documents
//! that have an expiry, sorted by it, read once; a search leaves out those whose time has come.
//!
//! A range query over the expiry column cost a quarter of a one-word search: it is intersected
//! with every matching document. The worker that closes expired jobs takes them out of the
//! index, so the documents past their expiry are the few that expired since its last pass, and
//! leaving those out costs a lookup of the matching documents in a short list (nothing, when
//! it is empty).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, Score, SegmentReader};

use super::doc_list::DocList;

/// The column expiries are read from (unix seconds; `i64::MAX`: none).
const EXPIRES_AT: &str = "expires_at";

/// A segment's documents that have an expiry, with it, soonest first.
type Expiring = Arc<[(i64, DocId)]>;

/// The documents of each segment with an expiry, soonest first, by segment.
#[derive(Default)]
pub(super) struct Expiries(Mutex<HashMap<SegmentId, Expiring>>);

impl Expiries {
    /// The documents of `segment` that expire, with when, soonest first (read on first use: a
    /// segment never changes).
    fn of(&self, segment: &SegmentReader) -> tantivy::Result<Expiring> {
        let id = segment.segment_id();
        if let Some(read) = self.lock().get(&id) {
            return Ok(read.clone());
        }
        let column = segment.fast_fields().i64(EXPIRES_AT)?;
        let mut expiring: Vec<(i64, DocId)> = (0..segment.max_doc())
            .filter_map(|doc| column.first(doc).filter(|&at| at != i64::MAX).map(|at| (at, doc)))
            .collect();
        expiring.sort_unstable();
        let read: Expiring = expiring.into();
        self.lock().insert(id, read.clone());
        Ok(read)
    }

    /// Forgets the segments not in `live` (after a reload).
    pub(super) fn retain(&self, live: &HashSet<SegmentId>) {
        self.lock().retain(|id, _| live.contains(id));
    }

    /// The heap the lists take.
    pub(super) fn heap_bytes(&self) -> u64 {
        let lists = self.lock();
        lists.values().map(|list| std::mem::size_of_val(&**list) as u64).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Expiring>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The documents whose expiry is at or before `now` (unix seconds): a search leaves them out
/// (`Occur::MustNot`). Scores nothing.
#[derive(Clone)]
pub(super) struct Expired {
    pub(super) expiries: Arc<Expiries>,
    pub(super) now: i64,
}

impl std::fmt::Debug for Expired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expired").field("now", &self.now).finish()
    }
}

impl Query for Expired {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for Expired {
    fn scorer(&self, segment: &SegmentReader, _: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let expiring = self.expiries.of(segment)?;
        let due = expiring.partition_point(|&(at, _)| at <= self.now);
        if due == 0 {
            // A boolean query drops an empty clause: no cost at all.
            return Ok(Box::new(EmptyScorer));
        }
        let mut docs: Vec<DocId> = expiring[..due].iter().map(|&(_, doc)| doc).collect();
        docs.sort_unstable();
        Ok(Box::new(DocList::new(docs)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let expiring = self.expiries.of(segment)?;
        if expiring.iter().any(|&(at, d)| d == doc && at <= self.now) {
            Ok(Explanation::new("expired", 0.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} has not expired")))
        }
    }
}
