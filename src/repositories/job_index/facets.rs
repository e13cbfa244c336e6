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
/// one array of counters (facet `f`'s dictionary ordinal `o` is slot `bases[f] + o`), so
/// counting a document adds one to each of its slots, with no per-facet lookup. The facets
/// with at most one value per document are stored by document, next to each other, so
/// counting a document touches one place in memory for all of them.
struct SegmentFacetOrds {
    /// How many facets `single` holds per document.
    width: usize,
    /// The slots of each document: in two bytes each when the segment has fewer than 65,535
    /// slots (the matches of a common word touch much of the segment: half the bytes, half
    /// the cache misses), else in four.
    slots: Slots,
    /// Where each facet's values start among the slots.
    bases: Vec<usize>,
    /// How many values each facet's dictionary has (0: no column).
    terms: Vec<usize>,
}

/// The slots of a segment's documents, in the type `T` of a slot.
struct DocSlots<T> {
    /// Document `d`'s slots of the facets with at most one value are
    /// `single[d * width..(d + 1) * width]` ([`SegmentFacetOrds::none`]: no value).
    single: Vec<T>,
    /// The other facets, with the slots of each document laid out flat: document `d` holds
    /// `slots[starts[d]..starts[d + 1]]`.
    multi: Vec<(Vec<u32>, Vec<T>)>,
}

enum Slots {
    Narrow(DocSlots<u16>),
    Wide(DocSlots<u32>),
}

impl<T: Copy + Into<u32>> DocSlots<T> {
    /// Adds one to the counter of each of `doc`'s slots.
    #[inline]
    fn count(&self, doc: usize, width: usize, counts: &mut [u32]) {
        for &slot in &self.single[doc * width..(doc + 1) * width] {
            counts[slot.into() as usize] += 1;
        }
        for (starts, slots) in &self.multi {
            for &slot in &slots[starts[doc] as usize..starts[doc + 1] as usize] {
                counts[slot.into() as usize] += 1;
            }
        }
    }
}

impl DocSlots<u32> {
    /// The same slots in two bytes each.
    fn narrow(self) -> DocSlots<u16> {
        let narrow = |slots: Vec<u32>| slots.into_iter().map(|s| s as u16).collect::<Vec<u16>>();
        DocSlots {
            single: narrow(self.single),
            multi: self.multi.into_iter().map(|(starts, slots)| (starts, narrow(slots))).collect(),
        }
    }
}

impl SegmentFacetOrds {
    fn read(segment: &SegmentReader) -> tantivy::Result<Self> {
        let docs = segment.max_doc() as usize;
        let mut by_facet: Vec<Option<(Vec<u32>, Vec<u32>)>> = Vec::with_capacity(FACETS.len());
        let (mut terms, mut bases) = (Vec::new(), Vec::new());
        for (_, field, _) in FACETS {
            let column = segment.fast_fields().str(field)?;
            let base = terms.iter().sum::<usize>();
            let base_slot = u32::try_from(base).map_err(|_| too_many_values())?;
            bases.push(base);
            terms.push(column.as_ref().map_or(0, |c| c.num_terms()));
            by_facet.push(column.map(|column| {
                let (mut starts, mut slots) =
                    (Vec::with_capacity(docs + 1), Vec::with_capacity(docs));
                for doc in 0..segment.max_doc() {
                    starts.push(slots.len() as u32);
                    slots.extend(column.term_ords(doc).map(|ord| base_slot + ord as u32));
                }
                starts.push(slots.len() as u32);
                (starts, slots)
            }));
        }
        let none = u32::try_from(terms.iter().sum::<usize>()).map_err(|_| too_many_values())?;
        let (mut single_columns, mut multi) = (Vec::new(), Vec::new());
        for (starts, slots) in by_facet.into_iter().flatten() {
            if starts.windows(2).all(|w| w[1] - w[0] <= 1) {
                single_columns.push((starts, slots));
            } else {
                multi.push((starts, slots));
            }
        }
        let width = single_columns.len();
        let mut single = vec![none; docs * width];
        for (k, (starts, slots)) in single_columns.iter().enumerate() {
            for doc in 0..docs {
                if starts[doc] < starts[doc + 1] {
                    single[doc * width + k] = slots[starts[doc] as usize];
                }
            }
        }
        let wide = DocSlots { single, multi };
        let slots = if none <= u32::from(u16::MAX) {
            Slots::Narrow(wide.narrow())
        } else {
            Slots::Wide(wide)
        };
        Ok(SegmentFacetOrds { width, slots, bases, terms })
    }

    /// The slot that counts documents without a value (after every value's).
    fn none(&self) -> usize {
        self.terms.iter().sum()
    }

    /// Adds one to the counter of each of `doc`'s slots.
    #[inline]
    fn count(&self, doc: DocId, counts: &mut [u32]) {
        match &self.slots {
            Slots::Narrow(slots) => slots.count(doc as usize, self.width, counts),
            Slots::Wide(slots) => slots.count(doc as usize, self.width, counts),
        }
    }
}

fn too_many_values() -> tantivy::TantivyError {
    tantivy::TantivyError::InternalError("more facet values than a u32 counts".into())
}

/// What faceted searches need of one set of segments (one reload of the index): each facet's
/// values over all segments, sorted, and for each segment its documents' values and where each
/// of its dictionary's values sits in that list. So a search counts integers and turns only
/// the values it returns into text.
pub(super) struct FacetValues {
    segments: Vec<SegmentId>,
    values: Vec<Vec<String>>,
    per_segment: HashMap<SegmentId, (Arc<SegmentFacetOrds>, Vec<Vec<u32>>)>,
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
        let mut per_segment = HashMap::with_capacity(searcher.segment_readers().len());
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for (at, segment) in searcher.segment_readers().iter().enumerate() {
            let id = segment.segment_id();
            let ords = match before.and_then(|b| b.per_segment.get(&id)) {
                Some((ords, _)) => ords.clone(),
                None => Arc::new(SegmentFacetOrds::read(segment)?),
            };
            let to_global: Vec<Vec<u32>> = (0..FACETS.len())
                .map(|f| {
                    local_values[f][at]
                        .iter()
                        .map(|value| values[f].binary_search(value).map_or(0, |i| i as u32))
                        .collect()
                })
                .collect();
            per_segment.insert(id, (ords, to_global));
            segments.push(id);
        }
        Ok(FacetValues { segments, values, per_segment })
    }

    /// Facet name → its most frequent values with their counts, most frequent first.
    pub(super) fn top(&self, counts: FacetCounts) -> BTreeMap<String, Vec<(String, u64)>> {
        let mut facets = BTreeMap::new();
        for (((name, _, size), counts), values) in FACETS.iter().zip(counts).zip(&self.values) {
            let mut found: Vec<(u64, usize)> = counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(at, n)| (n, at))
                .collect();
            // Most frequent first; values are sorted, so a tie goes to the first in order.
            found.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            found.truncate(*size);
            facets.insert(
                (*name).to_owned(),
                found.into_iter().map(|(n, at)| (values[at].clone(), n)).collect(),
            );
        }
        facets
    }
}

/// Counts the values of [`FACETS`] over the matching documents: a counter per value of each
/// segment's dictionary while collecting, added into counters over all segments' values at the
/// end. Counts nothing without `values`.
pub(super) struct FacetCounter {
    pub(super) values: Option<Arc<FacetValues>>,
}

/// A [`FacetCounter`]'s counts over one segment: one counter per slot
/// ([`SegmentFacetOrds`]).
pub(super) struct SegmentFacets {
    ords: Option<(Arc<SegmentFacetOrds>, Arc<FacetValues>, SegmentId)>,
    counts: Vec<u32>,
}

/// For each of [`FACETS`], how many matching documents hold each value (by its place in
/// [`FacetValues::values`]).
pub(super) type FacetCounts = Vec<Vec<u64>>;

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
        let counts = vec![0; ords.none() + 1];
        Ok(SegmentFacets { ords: Some((ords.clone(), values.clone(), id)), counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let Some(values) = &self.values else { return Ok(Vec::new()) };
        let mut merged: Vec<Vec<u64>> = values.values.iter().map(|v| vec![0; v.len()]).collect();
        for segment in segments {
            for (into, counts) in merged.iter_mut().zip(segment) {
                for (total, count) in into.iter_mut().zip(counts) {
                    *total += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some((ords, ..)) = &self.ords {
            ords.count(doc, &mut self.counts);
        }
    }

    fn harvest(self) -> FacetCounts {
        let Some((ords, values, id)) = self.ords else { return Vec::new() };
        let to_global = &values.per_segment[&id].1;
        let mut global: Vec<Vec<u64>> = values.values.iter().map(|v| vec![0; v.len()]).collect();
        for (facet, (into, to_global)) in global.iter_mut().zip(to_global).enumerate() {
            let base = ords.bases[facet];
            let counts = &self.counts[base..base + ords.terms[facet]];
            for (local, &count) in counts.iter().enumerate() {
                if count > 0 {
                    into[to_global[local] as usize] += u64::from(count);
                }
            }
        }
        global
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
    fn slots_in_two_bytes_count_what_slots_in_four_count() {
        // Two facets with one value each (slot 6: none), and one with several values.
        let width = 2;
        let single: Vec<u32> = vec![0, 3, 1, 6, 6, 4, 2, 5, 0, 6];
        let starts: Vec<u32> = vec![0, 2, 2, 5, 6, 6];
        let multi_slots: Vec<u32> = vec![7, 9, 7, 8, 9, 65_534];
        let wide = DocSlots { single, multi: vec![(starts, multi_slots)] };
        let mut expected = vec![0; 65_535];
        for doc in 0..5 {
            wide.count(doc, width, &mut expected);
        }
        let mut by_hand = vec![0; 65_535];
        for slot in [0, 3, 1, 6, 6, 4, 2, 5, 0, 6, 7, 9, 7, 8, 9, 65_534] {
            by_hand[slot] += 1;
        }
        assert_eq!(expected, by_hand);
        let narrow = wide.narrow();
        let mut counted = vec![0; 65_535];
        for doc in 0..5 {
            narrow.count(doc, width, &mut counted);
        }
        assert_eq!(counted, expected);
    }
}
