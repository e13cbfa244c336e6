//! Facet counts over the matching documents: each segment's facet values read once into plain
//! arrays, the values of all segments numbered per reload, a collector that counts integers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// The facets: their name, their field, and how many values a search answers.
const FACETS: [(&str, &str, usize); 6] = [
    ("workplace", "workplace", 10),
    ("employment_type", "employment_type", 10),
    ("seniority", "seniority", 10),
    ("category", "category", 30),
    ("skills", "skills", 20),
    ("locations", "location_label", 10),
];

/// The facet values of every document of one segment, read from its columns once (a segment
/// never changes): reading the columns again for each matching document of each search cost
/// more than the rest of a faceted search together. Every value of every facet is a slot of
/// one array of counters (facet `f`'s dictionary ordinal `o` is slot `o` plus the sizes of the
/// dictionaries of the facets before it), so counting a document adds one to each of its
/// slots, with no per-facet lookup. A document's slots of all facets lie next to each other:
/// counting it reads one run of memory, not one per facet (the matches of a word are scattered
/// over the segment, and each place read was a cache miss).
struct SegmentFacetOrds {
    /// The slots of each document: in two bytes each when the segment has at most 65,536
    /// slots (half the bytes, half the cache lines), else in four.
    slots: Slots,
    /// How many values each facet's dictionary has (0: no column).
    terms: Vec<usize>,
}

/// The slots of a segment's documents, in the type `T` of a slot: document `d` holds
/// `slots[starts[d]..starts[d + 1]]`, the values of every facet it has.
struct DocSlots<T> {
    starts: Vec<u32>,
    slots: Vec<T>,
}

enum Slots {
    Narrow(DocSlots<u16>),
    Wide(DocSlots<u32>),
}

impl<T: Copy + Into<u32>> DocSlots<T> {
    /// Adds one to the counter of each of `doc`'s slots.
    #[inline]
    fn count(&self, doc: usize, counts: &mut [u32]) {
        let (start, end) = (self.starts[doc] as usize, self.starts[doc + 1] as usize);
        for &slot in &self.slots[start..end] {
            counts[slot.into() as usize] += 1;
        }
    }
}

impl DocSlots<u32> {
    /// The same slots in two bytes each (every slot is below 65,536).
    fn narrow(self) -> DocSlots<u16> {
        DocSlots { starts: self.starts, slots: self.slots.into_iter().map(|s| s as u16).collect() }
    }
}

impl SegmentFacetOrds {
    fn read(segment: &SegmentReader) -> tantivy::Result<Self> {
        let docs = segment.max_doc() as usize;
        let (mut columns, mut terms) = (Vec::new(), Vec::new());
        for (_, field, _) in FACETS {
            let base = terms.iter().sum::<usize>();
            let column = segment.fast_fields().str(field)?;
            terms.push(column.as_ref().map_or(0, |c| c.num_terms()));
            if let Some(column) = column {
                columns.push((u32::try_from(base).map_err(|_| too_many_values())?, column));
            }
        }
        let slot_count = terms.iter().sum::<usize>();
        u32::try_from(slot_count).map_err(|_| too_many_values())?;
        let (mut starts, mut slots) = (Vec::with_capacity(docs + 1), Vec::with_capacity(docs * 8));
        for doc in 0..segment.max_doc() {
            starts.push(u32::try_from(slots.len()).map_err(|_| too_many_values())?);
            for (base, column) in &columns {
                slots.extend(column.term_ords(doc).map(|ord| base + ord as u32));
            }
        }
        starts.push(u32::try_from(slots.len()).map_err(|_| too_many_values())?);
        slots.shrink_to_fit();
        let wide = DocSlots { starts, slots };
        let slots = if slot_count <= usize::from(u16::MAX) + 1 {
            Slots::Narrow(wide.narrow())
        } else {
            Slots::Wide(wide)
        };
        Ok(SegmentFacetOrds { slots, terms })
    }

    /// How many slots (counters) the segment's values take.
    fn slots(&self) -> usize {
        self.terms.iter().sum()
    }

    /// Adds one to the counter of each of `doc`'s slots.
    #[inline]
    fn count(&self, doc: DocId, counts: &mut [u32]) {
        match &self.slots {
            Slots::Narrow(slots) => slots.count(doc as usize, counts),
            Slots::Wide(slots) => slots.count(doc as usize, counts),
        }
    }
}

fn too_many_values() -> tantivy::TantivyError {
    tantivy::TantivyError::InternalError("more facet values than a u32 counts".into())
}

/// What faceted searches need of one set of segments (one reload of the index): each facet's
/// values over all segments, sorted and numbered one after the other (facet `f`'s value `v` is
/// global slot `offsets[f] + v`), and for each segment its documents' slots and the global
/// slot of each of its slots. So a search counts integers, adds each segment's counters into
/// one array once, and turns only the values it returns into text.
pub(super) struct FacetValues {
    segments: Vec<SegmentId>,
    values: Vec<Vec<String>>,
    /// Where each facet's values start among the global slots (and, last, how many there are).
    offsets: Vec<usize>,
    per_segment: HashMap<SegmentId, (Arc<SegmentFacetOrds>, Vec<u32>)>,
}

impl FacetValues {
    /// For the segments of `searcher`, reusing what `before` read of the segments it shares.
    fn build(searcher: &tantivy::Searcher, before: Option<&FacetValues>) -> tantivy::Result<Self> {
        let mut values = Vec::with_capacity(FACETS.len());
        let mut local_values: Vec<Vec<Vec<String>>> = Vec::with_capacity(FACETS.len());
        for (_, field, _) in FACETS {
            let mut all = std::collections::BTreeSet::new();
            let mut per_segment = Vec::with_capacity(searcher.segment_readers().len());
            for segment in searcher.segment_readers() {
                let mut terms = Vec::new();
                if let Some(column) = segment.fast_fields().str(field)? {
                    let mut stream = column.dictionary().stream()?;
                    while stream.advance() {
                        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
                    }
                }
                all.extend(terms.iter().cloned());
                per_segment.push(terms);
            }
            values.push(all.into_iter().collect::<Vec<String>>());
            local_values.push(per_segment);
        }
        let mut offsets = vec![0];
        for facet in &values {
            offsets.push(offsets[offsets.len() - 1] + facet.len());
        }
        u32::try_from(offsets[FACETS.len()]).map_err(|_| too_many_values())?;
        let mut per_segment = HashMap::with_capacity(searcher.segment_readers().len());
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for (at, segment) in searcher.segment_readers().iter().enumerate() {
            let id = segment.segment_id();
            let ords = match before.and_then(|b| b.per_segment.get(&id)) {
                Some((ords, _)) => ords.clone(),
                None => Arc::new(SegmentFacetOrds::read(segment)?),
            };
            // The segment's slots are its facets' dictionaries one after the other, as the
            // global slots are the facets' values.
            let mut to_global = Vec::with_capacity(ords.slots());
            for (f, facet) in values.iter().enumerate() {
                for value in &local_values[f][at] {
                    let global = facet.binary_search(value).unwrap_or(0) + offsets[f];
                    to_global.push(global as u32);
                }
            }
            if to_global.len() != ords.slots() {
                return Err(tantivy::TantivyError::InternalError(format!(
                    "segment {id:?}: {} facet values in the dictionaries, {} slots",
                    to_global.len(),
                    ords.slots()
                )));
            }
            per_segment.insert(id, (ords, to_global));
            segments.push(id);
        }
        Ok(FacetValues { segments, values, offsets, per_segment })
    }

    /// Facet name → its most frequent values with their counts, most frequent first.
    pub(super) fn top(&self, counts: FacetCounts) -> BTreeMap<String, Vec<(String, u64)>> {
        let mut facets = BTreeMap::new();
        for (f, ((name, _, size), values)) in FACETS.iter().zip(&self.values).enumerate() {
            let counts = counts.get(self.offsets[f]..self.offsets[f + 1]).unwrap_or_default();
            let found = most_frequent(counts, *size);
            facets.insert(
                (*name).to_owned(),
                found.into_iter().map(|(n, at)| (values[at].clone(), n)).collect(),
            );
        }
        facets
    }
}

/// The `size` values counted most often, as (count, place in the sorted values), most
/// frequent first; values are sorted, so a tie goes to the first in order. Kept in order while
/// counting: a common word's places and skills have thousands of values, most of which are
/// passed over with one comparison.
fn most_frequent(counts: &[u64], size: usize) -> Vec<(u64, usize)> {
    let mut found: Vec<(u64, usize)> = Vec::with_capacity(size + 1);
    if size == 0 {
        return found;
    }
    for (at, &n) in counts.iter().enumerate() {
        // Later values lose ties, so only a higher count gets in once `size` are found.
        if n == 0 || (found.len() == size && n <= found[size - 1].0) {
            continue;
        }
        let place = found.partition_point(|&(m, _)| m >= n);
        found.insert(place, (n, at));
        found.truncate(size);
    }
    found
}

/// Counts the values of [`FACETS`] over the matching documents: a counter per slot of each
/// segment while collecting, added into counters over all segments' values at the end. Counts
/// nothing without `values`.
pub(super) struct FacetCounter {
    pub(super) values: Option<Arc<FacetValues>>,
}

/// A [`FacetCounter`]'s counts over one segment: one counter per slot
/// ([`SegmentFacetOrds`]).
pub(super) struct SegmentFacets {
    ords: Option<(Arc<SegmentFacetOrds>, SegmentId)>,
    counts: Vec<u32>,
}

/// How many matching documents hold each value, by global slot ([`FacetValues`]).
pub(super) type FacetCounts = Vec<u64>;

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let Some(values) = &self.values else {
            return Ok(SegmentFacets { ords: None, counts: Vec::new() });
        };
        let id = segment.segment_id();
        let Some((ords, _)) = values.per_segment.get(&id) else {
            return Err(tantivy::TantivyError::InternalError(format!(
                "no facet values read for segment {id:?}"
            )));
        };
        let counts = vec![0; ords.slots()];
        Ok(SegmentFacets { ords: Some((ords.clone(), id)), counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segments: Vec<Option<(SegmentId, Vec<u32>)>>,
    ) -> tantivy::Result<FacetCounts> {
        let Some(values) = &self.values else { return Ok(Vec::new()) };
        let mut merged = vec![0u64; values.offsets[FACETS.len()]];
        for (id, counts) in segments.into_iter().flatten() {
            let Some((_, to_global)) = values.per_segment.get(&id) else { continue };
            for (&count, &global) in counts.iter().zip(to_global) {
                merged[global as usize] += u64::from(count);
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacets {
    /// The segment's counters, by its slots (none without facet values).
    type Fruit = Option<(SegmentId, Vec<u32>)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some((ords, _)) = &self.ords {
            ords.count(doc, &mut self.counts);
        }
    }

    fn harvest(self) -> Option<(SegmentId, Vec<u32>)> {
        let (_, id) = self.ords?;
        Some((id, self.counts))
    }
}

/// The facet values of the segments last searched with facets.
#[derive(Default)]
pub(super) struct FacetCache(Mutex<Option<Arc<FacetValues>>>);

impl FacetCache {
    /// The facet values of the searcher's segments: those of the last faceted search if its
    /// segments were the same, else read again (reusing what was read of segments that stayed).
    pub(super) fn values(&self, searcher: &tantivy::Searcher) -> tantivy::Result<Arc<FacetValues>> {
        let segments: Vec<SegmentId> =
            searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
        let mut current = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(values) = current.as_ref().filter(|v| v.segments == segments) {
            return Ok(values.clone());
        }
        let values = Arc::new(FacetValues::build(searcher, current.as_deref())?);
        *current = Some(values.clone());
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_frequent_values_are_those_a_whole_sort_puts_first() {
        // Many ties, zeros (never shown), and more values than are shown.
        let counts: Vec<u64> = (0..3_000u64).map(|i| (i * 7_919) % 13).collect();
        for size in [0, 1, 10, 20, 2_000, 5_000] {
            let mut sorted: Vec<(u64, usize)> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(at, n)| (*n, at))
                .collect();
            sorted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            sorted.truncate(size);
            assert_eq!(most_frequent(&counts, size), sorted, "size {size}");
        }
        assert_eq!(most_frequent(&[0, 2, 5, 2, 0], 2), [(5, 2), (2, 1)]);
    }

    #[test]
    fn slots_in_two_bytes_count_what_slots_in_four_count() {
        // Five documents: one with no value at all, and the last slot two bytes hold.
        let starts: Vec<u32> = vec![0, 3, 3, 7, 8, 11];
        let slots: Vec<u32> = vec![0, 3, 7, 1, 9, 7, 8, 4, 2, 5, 65_535];
        let wide = DocSlots { starts, slots };
        let mut expected = vec![0; 65_536];
        for doc in 0..5 {
            wide.count(doc, &mut expected);
        }
        let mut by_hand = vec![0; 65_536];
        for slot in [0, 3, 7, 1, 9, 7, 8, 4, 2, 5, 65_535] {
            by_hand[slot] += 1;
        }
        assert_eq!(expected, by_hand);
        let narrow = wide.narrow();
        let mut counted = vec![0; 65_536];
        for doc in 0..5 {
            narrow.count(doc, &mut counted);
        }
        assert_eq!(counted, expected);
    }
}
