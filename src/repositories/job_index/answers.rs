//! The remembered answers of recent searches, forgotten at every commit.

use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, OnceLock};

use tantivy::{DocAddress, Searcher};

use super::cards::{PageCards, SegmentCards};
use super::index::IndexError;
use super::query::{IndexHits, IndexQuery};
use super::schema::{StoredCard, StoredListing};
use crate::utils::recent::RecentTable;

/// How long (in seconds of the query's `now`) a remembered answer stays good. Jobs leave by the
/// clock when they expire, without a commit; the caller drops a job of a page that is no longer
/// public, so at worst a total or a facet count still includes a job that expired within this
/// many seconds.
pub const ANSWER_MAX_AGE_SECS: i64 = 10;

/// The most answers remembered; when full, the one kept longest ago is forgotten.
const MAX_ANSWERS: usize = 1024;

/// The most bytes of cards an answer keeps (a page of 20 jobs is about 10 KiB): with
/// [`MAX_ANSWERS`], at most 32 MiB of cards are remembered.
pub(super) const MAX_KEPT_CARD_BYTES: usize = 32 * 1024;

/// The answers of recent queries, kept until the index changes: every reload after a commit
/// starts a new generation with none. The searcher's own caches make a repeated query cheaper
/// but still walk every matching document to count it and build its facets; a job board asks
/// the same few questions (the front page, popular words and filters) again and again.
pub(super) struct Answers {
    /// A new stamp at every commit made visible (never another index's): it changes whenever
    /// searches may see something new.
    pub(super) generation: u64,
    entries: RecentTable<Kept>,
    hasher: RandomState,
}

/// A search's answer, with where each hit is in the searcher that found it: a page reads the
/// cards (or listings) of its hits from there, without looking them up again (and from the same
/// commit).
pub struct Answer {
    pub hits: Arc<IndexHits>,
    searcher: Searcher,
    /// Where each of `hits.ids` is in `searcher`.
    addresses: Vec<DocAddress>,
    /// The cards kept in memory of each of `searcher`'s segments (by ordinal), where read.
    segment_cards: Vec<Option<Arc<SegmentCards>>>,
    /// Every hit's stored card, once read ([`Answer::cards`]).
    cards: OnceLock<Arc<PageCards>>,
}

impl Answer {
    pub(super) fn new(
        hits: IndexHits,
        searcher: Searcher,
        addresses: Vec<DocAddress>,
        segment_cards: Vec<Option<Arc<SegmentCards>>>,
    ) -> Self {
        debug_assert_eq!(hits.ids.len(), addresses.len());
        let hits = Arc::new(hits);
        Self { hits, searcher, addresses, segment_cards, cards: OnceLock::new() }
    }

    /// The stored cards (a job's summary as a page writes it) of all hits, in order, as of the
    /// commit the search saw: read once (an answer is a page of hits), then shared by every
    /// page it serves, unless they take more than [`MAX_KEPT_CARD_BYTES`] (then read each
    /// time).
    pub fn cards(&self) -> Result<Arc<PageCards>, IndexError> {
        if let Some(read) = self.cards.get() {
            return Ok(read.clone());
        }
        // The cards held are touched first (their sizes make the buffer's), then decompressed.
        let (mut capacity, mut touched) = (0, 0u8);
        for address in &self.addresses {
            match self.segment_cards.get(address.segment_ord as usize) {
                Some(Some(cards)) => {
                    let (size, mixed) = cards.touch(address.doc_id);
                    capacity += size;
                    touched ^= mixed;
                }
                // Read from the store: about 600 bytes.
                _ => capacity += 640,
            }
        }
        std::hint::black_box(touched);
        let mut bytes = Vec::with_capacity(capacity);
        let mut ends = Vec::with_capacity(self.addresses.len());
        for &address in &self.addresses {
            self.card_into(address, &mut bytes)?;
            ends.push(bytes.len());
        }
        let read = Arc::new(PageCards::new(bytes, ends)?);
        if read.bytes() > MAX_KEPT_CARD_BYTES {
            return Ok(read);
        }
        Ok(self.cards.get_or_init(|| read).clone())
    }

    /// Appends the card at `address`: from the cards kept in memory, or the document store (a
    /// segment whose cards are not read yet, just after a commit).
    fn card_into(&self, address: DocAddress, out: &mut Vec<u8>) -> Result<(), IndexError> {
        match self.segment_cards.get(address.segment_ord as usize) {
            Some(Some(cards)) => cards.read_into(address.doc_id, out)?,
            _ => out.extend_from_slice(self.searcher.doc::<StoredCard>(address)?.0.as_bytes()),
        }
        Ok(())
    }

    /// [`Answer::cards`], if they were read already (no reading: cheap anywhere).
    pub fn cards_read(&self) -> Option<Arc<PageCards>> {
        self.cards.get().cloned()
    }

    /// The stored listing of the `i`th hit, as of the commit the search saw.
    pub fn listing(&self, i: usize) -> Result<Vec<u8>, IndexError> {
        let Some(&address) = self.addresses.get(i) else {
            return Err(IndexError::Other(format!("no hit {i} in this answer")));
        };
        let StoredListing(listing) = self.searcher.doc(address)?;
        Ok(listing)
    }
}

/// A remembered answer, with the query it answers.
pub(super) struct Kept {
    query: IndexQuery,
    asked_at: i64,
    answer: Arc<Answer>,
}

impl Default for Answers {
    fn default() -> Self {
        Self {
            generation: crate::utils::stamp::next(),
            entries: RecentTable::new(MAX_ANSWERS),
            hasher: RandomState::new(),
        }
    }
}

impl Answers {
    fn hash(&self, q: &IndexQuery) -> u64 {
        self.hasher.hash_one(q.question())
    }

    /// The answer remembered for `q`, if it was asked at most [`ANSWER_MAX_AGE_SECS`] before
    /// `q.now`. Costs a hash of the query: nothing is formatted or copied.
    pub(super) fn fresh(&self, q: &IndexQuery) -> Option<Arc<Answer>> {
        let entry = self.entries.find(self.hash(q), |e| e.query.question() == q.question())?;
        let age = q.now - entry.asked_at;
        (q.now >= entry.asked_at && age <= ANSWER_MAX_AGE_SECS).then(|| entry.answer.clone())
    }

    /// Remembers the answer to `q`, asked at `q.now`, and returns the answer that left for it
    /// (an older one to `q`, or the one kept longest ago when full), to be dropped by the
    /// caller once no search waits for it.
    pub(super) fn keep(&mut self, q: &IndexQuery, answer: Arc<Answer>) -> Option<Kept> {
        let hash = self.hash(q);
        let kept = Kept { query: q.clone(), asked_at: q.now, answer };
        self.entries.insert(hash, kept, |e| e.query.question() == q.question())
    }

    /// The bytes of cards the remembered answers keep.
    pub(super) fn kept_bytes(&self) -> u64 {
        let kept = self.entries.iter().filter_map(|e| e.answer.cards.get());
        kept.map(|cards| cards.heap_bytes()).sum()
    }

    /// Starts a new generation with no answers (after a commit is made visible), and returns
    /// the old ones, to be dropped by the caller once no search waits for them.
    pub(super) fn forget_all(&mut self) -> Vec<Kept> {
        self.generation = crate::utils::stamp::next();
        self.entries.take_all()
    }
}
