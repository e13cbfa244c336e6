//! The documents of a filter's value (a country, a workplace, a category, …) in a segment as
//! a bit set, read once from the value's postings and kept while the segment is searched: a
//! search with filters seeks each of them to every document its words match, and in a
//! posting list each seek walks a skip list and decodes a block of 128 documents, where in a
//! bit set it reads one word. Those values are few (the index's own), and a segment never
//! changes, so a set stays right for as long as its segment lives.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::doc_list::explain_by_seeking;
use crate::utils::recent::RecentTable;

/// The most sets kept (of all segments): with 100k jobs in one segment a set takes 12.5 KiB,
/// so at most 3 MiB; the values of a few filters over a few segments take a fraction of it.
const MAX_SETS: usize = 256;

/// The kept sets, shared by every search of one index.
pub(super) struct FilterBits {
    kept: Mutex<RecentTable<Kept>>,
    hasher: RandomState,
}

struct Kept {
    segment: SegmentId,
    term: Term,
    bits: Arc<BitSet>,
}

impl Default for FilterBits {
    fn default() -> Self {
        Self { kept: Mutex::new(RecentTable::new(MAX_SETS)), hasher: RandomState::new() }
    }
}

impl FilterBits {
    /// The documents of `segment` whose field holds `term` (deleted ones too: collectors leave
    /// them out, as they do for a term query's).
    fn get(&self, segment: &SegmentReader, term: &Term) -> tantivy::Result<Arc<BitSet>> {
        let id = segment.segment_id();
        let hash = self.hasher.hash_one((id, term));
        let is = |k: &Kept| k.segment == id && k.term == *term;
        if let Some(kept) = self.kept.lock().unwrap_or_else(|e| e.into_inner()).find(hash, is) {
            return Ok(kept.bits.clone());
        }
        let mut bits = BitSet::with_max_value(segment.max_doc());
        let inverted = segment.inverted_index(term.field())?;
        if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
            while postings.doc() != TERMINATED {
                bits.insert(postings.doc());
                postings.advance();
            }
        }
        let bits = Arc::new(bits);
        let kept = Kept { segment: id, term: term.clone(), bits: bits.clone() };
        let left = self.kept.lock().unwrap_or_else(|e| e.into_inner()).insert(hash, kept, is);
        drop(left);
        Ok(bits)
    }

    /// The bytes the kept sets take.
    pub(super) fn heap_bytes(&self) -> u64 {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.iter().map(|k| u64::from(k.bits.max_value().div_ceil(64)) * 8).sum()
    }
}

/// The documents whose (untokenized) field holds `term`, all with the same score, as a query
/// over the kept sets.
#[derive(Clone)]
pub(super) struct FilterTerm {
    term: Term,
    bits: Arc<FilterBits>,
}

impl std::fmt::Debug for FilterTerm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterTerm").field("term", &self.term).finish()
    }
}

impl FilterTerm {
    pub(super) fn new(term: Term, bits: &Arc<FilterBits>) -> Self {
        Self { term, bits: bits.clone() }
    }
}

impl Query for FilterTerm {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for FilterTerm {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let bits = self.bits.get(segment, &self.term)?;
        Ok(Box::new(ConstScorer::new(BitDocs::new(bits), boost)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_by_seeking(self.scorer(segment, 1.0)?, doc, "holds the filter's value")
    }
}

/// A kept set's documents, in order.
struct BitDocs {
    bits: Arc<BitSet>,
    /// The 64-document bucket `doc` is in.
    bucket: u32,
    /// The documents of `bucket` after `doc` (a bit each).
    rest: u64,
    doc: DocId,
}

impl BitDocs {
    fn new(bits: Arc<BitSet>) -> Self {
        let rest = if bits.max_value() == 0 { 0 } else { word(&bits, 0) };
        let mut docs = Self { bits, bucket: 0, rest, doc: 0 };
        docs.advance();
        docs
    }
}

fn word(bits: &BitSet, bucket: u32) -> u64 {
    u64::from_le_bytes(bits.tinyset(bucket).into_bytes())
}

impl DocSet for BitDocs {
    fn advance(&mut self) -> DocId {
        if self.rest == 0 {
            let next = (self.bits.max_value() > 0)
                .then(|| self.bits.first_non_empty_bucket(self.bucket + 1))
                .flatten();
            let next = match next {
                Some(next) => next,
                None => {
                    self.doc = TERMINATED;
                    return TERMINATED;
                }
            };
            self.bucket = next;
            self.rest = word(&self.bits, next);
        }
        let low = self.rest.trailing_zeros();
        self.rest &= self.rest - 1;
        self.doc = self.bucket * 64 + low;
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if target >= self.bits.max_value() {
            self.doc = TERMINATED;
            return TERMINATED;
        }
        let bucket = target / 64;
        if bucket > self.bucket {
            self.bucket = bucket;
            self.rest = word(&self.bits, bucket);
        }
        self.rest &= u64::MAX << (target % 64);
        self.advance()
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.bits.len() as u32
    }
}

impl Scorer for BitDocs {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs_of(set: &[DocId], max: DocId) -> BitDocs {
        let mut bits = BitSet::with_max_value(max);
        for &doc in set {
            bits.insert(doc);
        }
        BitDocs::new(Arc::new(bits))
    }

    #[test]
    fn it_walks_and_seeks_a_set_across_buckets_as_a_sorted_list_would() {
        let set: Vec<DocId> = vec![0, 1, 63, 64, 65, 127, 128, 500, 1000, 4095];
        let mut walked = Vec::new();
        let mut docs = docs_of(&set, 4096);
        while docs.doc() != TERMINATED {
            walked.push(docs.doc());
            docs.advance();
        }
        assert_eq!(walked, set);
        assert_eq!(docs_of(&set, 4096).size_hint(), set.len() as u32);

        // Every target, from a fresh start and as the next of a walk of seeks.
        let mut walking = docs_of(&set, 4096);
        for target in 0..4100 {
            let want = set.iter().copied().find(|&d| d >= target).unwrap_or(TERMINATED);
            assert_eq!(docs_of(&set, 4096).seek(target), want, "fresh, {target}");
            assert_eq!(walking.seek(target), want, "walking, {target}");
        }
        assert_eq!(docs_of(&[], 4096).doc(), TERMINATED);
        assert_eq!(docs_of(&[], 0).doc(), TERMINATED);
        assert_eq!(docs_of(&[5], 6).seek(5), 5);
    }
}
