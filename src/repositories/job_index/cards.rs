//! The cards of the index's documents held in memory: each segment's cards compressed one by
//! one (LZ4) against a dictionary made of that segment's own cards. A page's card is then one
//! small decompression, where the document store decompresses a block and walks its skip index
//! to find it (about 3 µs a card, a fifth of a one-word search's CPU).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use super::schema::StoredCard;

/// How many cards of a segment, spread over it, its dictionary is made of, and its most bytes.
/// A card compresses against the dictionary's keys and phrases (`"employment_type":"full_time"`,
/// a company that posts many jobs); each compression hashes the whole dictionary, so it stays
/// small.
const DICTIONARY_CARDS: u32 = 12;
const DICTIONARY_BYTES: usize = 6 * 1024;

/// The cards of one segment (a segment never changes), deleted documents' included.
pub(super) struct SegmentCards {
    dictionary: Vec<u8>,
    /// Card `d` compressed is `bytes[starts[d]..starts[d + 1]]`, and `sizes[d]` bytes of UTF-8
    /// once decompressed.
    bytes: Vec<u8>,
    starts: Vec<u32>,
    sizes: Vec<u32>,
}

impl SegmentCards {
    /// Reads and compresses every card of `segment`, in one pass over its document store.
    pub(super) fn read(segment: &SegmentReader) -> tantivy::Result<Self> {
        let store = segment.get_store_reader(0)?;
        let docs = segment.max_doc();
        let mut dictionary = Vec::new();
        let step = (docs / DICTIONARY_CARDS).max(1);
        for doc in (0..docs).step_by(step as usize) {
            let StoredCard(card) = store.get(doc)?;
            if dictionary.len() + card.len() > DICTIONARY_BYTES {
                break;
            }
            dictionary.extend_from_slice(card.as_bytes());
        }
        let mut cards =
            SegmentCards { dictionary, bytes: Vec::new(), starts: vec![0], sizes: Vec::new() };
        let mut out = Vec::new();
        for card in store.iter::<StoredCard>(None) {
            let StoredCard(card) = card?;
            out.resize(lz4_flex::block::get_maximum_output_size(card.len()), 0);
            let n = lz4_flex::block::compress_into_with_dict(
                card.as_bytes(),
                &mut out,
                &cards.dictionary,
            )
            .map_err(|e| internal(format!("a card does not compress: {e}")))?;
            cards.bytes.extend_from_slice(&out[..n]);
            let end = u32::try_from(cards.bytes.len())
                .map_err(|_| internal("a segment's cards take more than 4 GiB".into()))?;
            cards.starts.push(end);
            cards.sizes.push(card.len() as u32);
        }
        if cards.sizes.len() != docs as usize {
            return Err(internal(format!(
                "the document store holds {} cards for {docs} documents",
                cards.sizes.len()
            )));
        }
        cards.bytes.shrink_to_fit();
        Ok(cards)
    }

    /// `doc`'s compressed card and its size once decompressed; `None` past the last document.
    fn compressed(&self, doc: DocId) -> Option<(&[u8], usize)> {
        let doc = doc as usize;
        let (&start, &end, &size) =
            (self.starts.get(doc)?, self.starts.get(doc + 1)?, self.sizes.get(doc)?);
        Some((self.bytes.get(start as usize..end as usize)?, size as usize))
    }

    /// The size of `doc`'s card once decompressed (0 past the end), with one byte of each cache
    /// line of its compressed bytes read and mixed: touching the cards of a page one after the
    /// other, before decompressing any, lets their reads from memory overlap (a page's cards
    /// are scattered over the segment's megabytes; read one card at a time, each waited for its
    /// own).
    pub(super) fn touch(&self, doc: DocId) -> (usize, u8) {
        let Some((card, size)) = self.compressed(doc) else { return (0, 0) };
        (size, card.iter().step_by(64).fold(0, |mixed, &byte| mixed ^ byte))
    }

    /// Appends the card of `doc` to `out` (its bytes: UTF-8 as it was stored).
    pub(super) fn read_into(&self, doc: DocId, out: &mut Vec<u8>) -> tantivy::Result<()> {
        let Some((card, size)) = self.compressed(doc) else {
            return Err(internal(format!("no card for document {doc}")));
        };
        let at = out.len();
        out.resize(at + size, 0);
        let n = lz4_flex::block::decompress_into_with_dict(card, &mut out[at..], &self.dictionary)
            .map_err(|e| internal(format!("a card does not decompress: {e}")))?;
        out.truncate(at + n);
        Ok(())
    }

    /// The card of `doc`.
    #[cfg(test)]
    fn get(&self, doc: DocId) -> tantivy::Result<String> {
        let mut card = Vec::new();
        self.read_into(doc, &mut card)?;
        String::from_utf8(card).map_err(|e| internal(format!("a card is not UTF-8: {e}")))
    }

    fn heap_bytes(&self) -> u64 {
        (self.dictionary.capacity()
            + self.bytes.capacity()
            + (self.starts.capacity() + self.sizes.capacity()) * size_of::<u32>()) as u64
    }
}

/// The cards of a page of hits, in order, in one buffer: a page reads about 20, and a string
/// per card cost an allocation per card (freed on another thread than the one that made it).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PageCards {
    text: String,
    /// Card `i` is `text[ends[i - 1]..ends[i]]` (from 0 for the first).
    ends: Vec<usize>,
}

impl PageCards {
    /// The cards in `bytes`, card `i` ending at `ends[i]`; an error unless every card is UTF-8.
    pub(super) fn new(bytes: Vec<u8>, ends: Vec<usize>) -> tantivy::Result<Self> {
        let text =
            String::from_utf8(bytes).map_err(|e| internal(format!("a card is not UTF-8: {e}")))?;
        let mut start = 0;
        for &end in &ends {
            if end < start || !text.is_char_boundary(end) {
                return Err(internal(format!("a card ends inside a character, at {end}")));
            }
            start = end;
        }
        if start != text.len() {
            return Err(internal("bytes after the last card".into()));
        }
        Ok(PageCards { text, ends })
    }

    /// The cards, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.text[start..end])
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The bytes of all the cards.
    pub fn bytes(&self) -> usize {
        self.text.len()
    }

    /// The heap it holds.
    pub(super) fn heap_bytes(&self) -> u64 {
        (self.text.capacity() + self.ends.capacity() * size_of::<usize>()) as u64
    }
}

fn internal(message: String) -> tantivy::TantivyError {
    tantivy::TantivyError::InternalError(message)
}

/// The cards of the segments searches see, kept from one reload to the next for the segments
/// that stay.
#[derive(Default)]
pub(super) struct Cards(Mutex<HashMap<SegmentId, Arc<SegmentCards>>>);

impl Cards {
    /// Forgets the cards of segments not in `live` (merged away, or emptied by deletes).
    pub(super) fn retain(&self, live: &HashSet<SegmentId>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).retain(|id, _| live.contains(id));
    }

    /// Reads the cards of `searcher`'s segments that are not held yet (after a commit or a
    /// merge).
    pub(super) fn read_new(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            if self.0.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&id) {
                continue;
            }
            // Read without the lock: searches go on meanwhile, reading the document store.
            let started = std::time::Instant::now();
            let cards = Arc::new(SegmentCards::read(segment)?);
            tracing::debug!(
                docs = segment.max_doc(),
                bytes = cards.heap_bytes(),
                ms = started.elapsed().as_millis() as u64,
                "read a segment's cards"
            );
            self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(id, cards);
        }
        Ok(())
    }

    /// The cards of each of `searcher`'s segments (by ordinal), where they are read.
    pub(super) fn of(&self, searcher: &Searcher) -> Vec<Option<Arc<SegmentCards>>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        searcher.segment_readers().iter().map(|s| kept.get(&s.segment_id()).cloned()).collect()
    }

    /// Forgets every segment's cards (their pages read the document store).
    #[cfg(test)]
    pub(super) fn forget_all(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    pub(super) fn heap_bytes(&self) -> u64 {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).values().map(|c| c.heap_bytes()).sum()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{STORED, Schema};
    use tantivy::{Index, TantivyDocument, doc};

    use super::*;

    #[test]
    fn a_page_of_cards_is_its_cards_in_order_and_never_splits_a_character() {
        let cards = ["", "{\"a\":1}", "Zürich · 東京", ""];
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        for card in cards {
            bytes.extend_from_slice(card.as_bytes());
            ends.push(bytes.len());
        }
        let page = PageCards::new(bytes.clone(), ends.clone()).unwrap();
        assert_eq!(page.iter().collect::<Vec<_>>(), cards);
        assert_eq!((page.len(), page.bytes()), (4, bytes.len()));
        assert!(PageCards::new(Vec::new(), Vec::new()).unwrap().is_empty());

        // "ü" cut in two: the whole is UTF-8, the cards are not.
        let cut = bytes.iter().position(|&b| b == 0xC3).unwrap() + 1;
        assert!(PageCards::new(bytes.clone(), vec![cut, bytes.len()]).is_err());
        assert!(PageCards::new(bytes.clone(), vec![bytes.len() - 1]).is_err(), "bytes left");
        assert!(PageCards::new(bytes.clone(), vec![5, 2, bytes.len()]).is_err(), "backwards");
        assert!(PageCards::new(vec![0xFF], vec![1]).is_err(), "not UTF-8");
    }

    /// A card like a page's: JSON with the same keys every time, a few values that repeat, and
    /// one that does not (some in other scripts); every 97th is empty, one is longer than the
    /// dictionary.
    fn card(i: u32) -> String {
        if i.is_multiple_of(97) {
            return String::new();
        }
        let workplace = ["remote", "hybrid", "onsite"][(i % 3) as usize];
        let title = match i % 5 {
            0 => format!("Ingénieur·e logiciel n°{i}"),
            1 => format!("ソフトウェアエンジニア {i}"),
            _ => format!("Backend Engineer {i}"),
        };
        let mut card = format!(
            r#"{{"id":"job-{i:08}","title":"{title}","company":{{"name":"Company {}"}},"workplace":"{workplace}","salary":null}}"#,
            i % 40
        );
        if i == 1234 {
            card.push_str(&"x".repeat(3 * DICTIONARY_BYTES));
        }
        card
    }

    #[test]
    fn every_card_of_every_segment_reads_back_as_the_document_store_holds_it() {
        let mut schema = Schema::builder();
        let field = schema.add_text_field("card", STORED);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..3_000u32 {
            let document: TantivyDocument = doc!(field => card(i));
            writer.add_document(document).unwrap();
            if i % 1_000 == 999 {
                writer.commit().unwrap();
            }
        }
        let reader = index.reader().unwrap();
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 3);
        let cards = Cards::default();
        cards.read_new(&searcher).unwrap();
        let (mut raw, mut read) = (0, 0);
        for (segment, kept) in searcher.segment_readers().iter().zip(cards.of(&searcher)) {
            let kept = kept.expect("every segment's cards are kept");
            let store = segment.get_store_reader(0).unwrap();
            for doc in 0..segment.max_doc() {
                let StoredCard(expected) = store.get(doc).unwrap();
                assert_eq!(kept.get(doc).unwrap(), expected, "document {doc}");
                assert_eq!(kept.touch(doc).0, expected.len(), "the size of document {doc}");
                raw += expected.len();
                read += 1;
            }
            assert!(kept.get(segment.max_doc()).is_err(), "no card past the last document");
            assert_eq!(kept.touch(segment.max_doc()), (0, 0), "nothing past the last document");
        }
        assert_eq!(read, 3_000);
        // The keys and repeated values cost little once the dictionary has them.
        let held = cards.heap_bytes() as usize;
        assert!(held < raw / 2, "{held} bytes held for {raw} bytes of cards");

        // A merge replaces the three segments with one: only its cards stay.
        let ids = index.searchable_segment_ids().unwrap();
        writer.merge(&ids).wait().unwrap();
        reader.reload().unwrap();
        let searcher = reader.searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        cards.retain(&searcher.segment_readers().iter().map(|s| s.segment_id()).collect());
        cards.read_new(&searcher).unwrap();
        assert_eq!(cards.0.lock().unwrap().len(), 1);
        let kept = cards.of(&searcher).pop().flatten().unwrap();
        let all: Vec<String> = (0..3_000).map(|doc| kept.get(doc).unwrap()).collect();
        let mut expected: Vec<String> = (0..3_000).map(card).collect();
        let mut all_sorted = all.clone();
        all_sorted.sort();
        expected.sort();
        assert_eq!(all_sorted, expected);
    }
}
