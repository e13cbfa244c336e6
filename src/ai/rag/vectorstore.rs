//! An in-memory vector collection: unit vectors by key (a job id), searched by cosine with an
//! HNSW graph (hnsw_rs), exactly when that is cheaper or the graph is not built yet.
//!
//! - Every vector is kept beside the graph, so a filtered search that allows few keys scores
//!   exactly those (it returns k results however selective the filter is), and a search while
//!   the graph is (re)building is exact over everything.
//! - hnsw_rs cannot delete: a replaced or removed key leaves a tombstone (its old point) that
//!   every search skips. When tombstones pass a quarter of the points, [`VectorIndex::rebuild`]
//!   builds a fresh graph from the live vectors; changes made meanwhile are replayed onto it.
//! - Points added after the graph was built are kept in a tail that is scanned exactly until
//!   they are inserted in the graph (insertion runs on the caller's blocking thread).
//!
//! The collection holds no truth of its own: it is filled from the database (stored vectors)
//! and every hit is checked against the database before it is shown.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use hnsw_rs::prelude::{DataId, Distance, FilterT, Hnsw};

/// Graph parameters, documented in docs/ARCHITECTURE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HnswConfig {
    /// Neighbours kept per point and layer (M).
    pub m: usize,
    /// Candidates explored while inserting.
    pub ef_construction: usize,
    /// Candidates explored while searching (raised to k when k is larger).
    pub ef_search: usize,
    /// Below this many allowed keys a filtered search is exact instead.
    pub exact_below: usize,
}

impl Default for HnswConfig {
    fn default() -> Self {
        Self { m: 16, ef_construction: 100, ef_search: 96, exact_below: 4_000 }
    }
}

/// 1 − dot product, for unit vectors: the cosine distance. Eight running sums so the compiler
/// can vectorise it.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnitDot;

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0f32; 8];
    let (xs, ys) = (a.chunks_exact(8), b.chunks_exact(8));
    let (x_rest, y_rest) = (xs.remainder(), ys.remainder());
    for (x, y) in xs.zip(ys) {
        // Fixed-size lanes: no bounds checks, so this becomes SIMD multiply-adds.
        let (x, y): (&[f32; 8], &[f32; 8]) =
            (x.try_into().unwrap_or(&[0.0; 8]), y.try_into().unwrap_or(&[0.0; 8]));
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let mut total: f32 = sums.iter().sum();
    for (x, y) in x_rest.iter().zip(y_rest) {
        total += x * y;
    }
    total
}

impl Distance<f32> for UnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// One stored point.
struct Point {
    key: Arc<str>,
    vector: Arc<[f32]>,
}

#[derive(Default)]
struct Inner {
    /// By data id (the position); a replaced or removed key leaves its point here as a tombstone.
    points: Vec<Point>,
    /// By data id: the point is its key's current one (false: a tombstone).
    alive: Vec<bool>,
    /// Key → its live data id and the hash of the text its vector was made from.
    live: HashMap<Arc<str>, (usize, [u8; 16])>,
    /// Data ids below this are in the graph; the rest are the tail.
    indexed: usize,
    graph: Option<Arc<Hnsw<'static, f32, UnitDot>>>,
    /// Changes made while a rebuild runs, replayed onto the new graph.
    journal: Option<Vec<Change>>,
}

/// A key's change made during a rebuild: its new vector and text hash, or `None` (removed).
type Change = (Arc<str>, Option<(Arc<[f32]>, [u8; 16])>);

/// A live key with its vector and text hash, as a rebuild copies it.
type LivePoint = (Arc<str>, Arc<[f32]>, [u8; 16]);

impl Inner {
    fn tombstones(&self) -> usize {
        self.points.len() - self.live.len()
    }

    fn put(&mut self, key: Arc<str>, vector: Arc<[f32]>, hash: [u8; 16]) {
        let id = self.points.len();
        self.points.push(Point { key: key.clone(), vector });
        self.alive.push(true);
        if let Some((old, _)) = self.live.insert(key, (id, hash)) {
            self.alive[old] = false;
        }
    }

    fn kill(&mut self, key: &str) -> bool {
        match self.live.remove(key) {
            Some((id, _)) => {
                self.alive[id] = false;
                true
            }
            None => false,
        }
    }
}

/// A vector collection. All methods block (graph work is CPU-heavy): call them from blocking
/// threads.
pub struct VectorIndex {
    config: HnswConfig,
    inner: RwLock<Inner>,
    /// One rebuild or tail insertion at a time.
    building: Mutex<()>,
}

/// The heap a collection holds, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The vectors (every point's, tombstones included).
    pub vectors: u64,
    /// Keys, text hashes and the maps from keys to points.
    pub keys: u64,
    /// The graph's links (and any copy of the vectors it keeps).
    pub graph: u64,
}

/// A hit: the key and its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub key: String,
    pub similarity: f32,
}

/// The `k` best of (similarity, data id) pairs, best first (ties: the lower id), without
/// sorting them all.
fn best(mut scored: Vec<(f32, usize)>, k: usize) -> Vec<(f32, usize)> {
    let order =
        |a: &(f32, usize), b: &(f32, usize)| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1));
    if scored.len() > k {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
}

impl VectorIndex {
    pub fn new(config: HnswConfig) -> Self {
        Self { config, inner: RwLock::new(Inner::default()), building: Mutex::new(()) }
    }

    pub fn config(&self) -> HnswConfig {
        self.config
    }

    /// Changes how many candidates a search explores (benchmarks sweep it).
    pub fn set_ef_search(&mut self, ef: usize) {
        self.config.ef_search = ef;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// How many keys have a vector.
    pub fn len(&self) -> usize {
        self.read().live.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (points in the graph, points in the tail, tombstones).
    pub fn shape(&self) -> (usize, usize, usize) {
        let inner = self.read();
        (inner.indexed, inner.points.len() - inner.indexed, inner.tombstones())
    }

    /// The heap held, by part. The graph is not counted: hnsw_rs keeps its own copy of each
    /// vector and a list of shared pointers per layer and point, which it does not report.
    pub fn footprint(&self) -> Footprint {
        let inner = self.read();
        let points = inner.points.len() as u64;
        let dims = inner.points.first().map_or(0, |p| p.vector.len()) as u64;
        let key_bytes: u64 = inner.points.iter().map(|p| 16 + p.key.len() as u64).sum();
        Footprint {
            vectors: points * (16 + 4 * dims),
            keys: inner.points.capacity() as u64 * std::mem::size_of::<Point>() as u64
                + inner.alive.capacity() as u64
                + key_bytes
                + inner.live.capacity() as u64
                    * (1 + std::mem::size_of::<(Arc<str>, (usize, [u8; 16]))>() as u64),
            graph: 0,
        }
    }

    /// The hash of the text `key`'s vector was made from, if it has one.
    pub fn hash_of(&self, key: &str) -> Option<[u8; 16]> {
        self.read().live.get(key).map(|(_, hash)| *hash)
    }

    /// The vector of `key`, if it has one.
    pub fn vector_of(&self, key: &str) -> Option<Arc<[f32]>> {
        let inner = self.read();
        inner.live.get(key).map(|(id, _)| inner.points[*id].vector.clone())
    }

    /// Sets `key`'s vector (replacing any). Unchanged (same hash) is a no-op. The point joins
    /// the tail; [`Self::index_tail`] moves the tail into the graph.
    pub fn upsert(&self, key: &str, vector: Arc<[f32]>, hash: [u8; 16]) {
        let mut inner = self.write();
        if inner.live.get(key).is_some_and(|(_, h)| *h == hash) {
            return;
        }
        let key: Arc<str> = key.into();
        if let Some(journal) = inner.journal.as_mut() {
            journal.push((key.clone(), Some((vector.clone(), hash))));
        }
        inner.put(key, vector, hash);
    }

    /// Removes `key` (its point stays as a tombstone until the next rebuild).
    pub fn remove(&self, key: &str) {
        let mut inner = self.write();
        if inner.kill(key)
            && let Some(journal) = inner.journal.as_mut()
        {
            journal.push((key.into(), None));
        }
    }

    /// Inserts the tail into the graph, building the graph if there is none. Returns how many
    /// points it inserted.
    pub fn index_tail(&self) -> usize {
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let (graph, start, batch) = {
            let inner = self.read();
            let batch: Vec<(Arc<[f32]>, usize)> = (inner.indexed..inner.points.len())
                .map(|id| (inner.points[id].vector.clone(), id))
                .collect();
            (inner.graph.clone(), inner.indexed, batch)
        };
        if batch.is_empty() {
            return 0;
        }
        let graph = graph.unwrap_or_else(|| Arc::new(self.new_graph(batch.len())));
        let refs: Vec<(&[f32], usize)> = batch.iter().map(|(v, id)| (&v[..], *id)).collect();
        graph.parallel_insert_slice(&refs);
        let mut inner = self.write();
        if inner.indexed == start {
            inner.indexed = start + batch.len();
            inner.graph = Some(graph);
        }
        batch.len()
    }

    fn new_graph(&self, expected: usize) -> Hnsw<'static, f32, UnitDot> {
        let layers = 16;
        let mut graph = Hnsw::new(
            self.config.m,
            expected.max(1_000),
            layers,
            self.config.ef_construction,
            UnitDot,
        );
        graph.set_extend_candidates(false);
        graph
    }

    /// Whether tombstones are a quarter of the points (and at least 1,000): time to rebuild.
    pub fn wants_rebuild(&self) -> bool {
        let inner = self.read();
        let dead = inner.tombstones();
        dead >= 1_000 && dead * 4 >= inner.points.len()
    }

    /// Builds a new graph from the live vectors alone and swaps it in; searches go on against
    /// the old one meanwhile, and changes made meanwhile are replayed.
    pub fn rebuild(&self) {
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let snapshot: Vec<LivePoint> = {
            let mut inner = self.write();
            inner.journal = Some(Vec::new());
            let mut live: Vec<_> = inner
                .live
                .iter()
                .map(|(k, (id, h))| (k.clone(), inner.points[*id].vector.clone(), *h, *id))
                .collect();
            live.sort_by_key(|(_, _, _, id)| *id);
            live.into_iter().map(|(k, v, h, _)| (k, v, h)).collect()
        };
        let graph = self.new_graph(snapshot.len());
        let refs: Vec<(&[f32], usize)> =
            snapshot.iter().enumerate().map(|(id, (_, v, _))| (&v[..], id)).collect();
        if !refs.is_empty() {
            graph.parallel_insert_slice(&refs);
        }
        let mut inner = self.write();
        let journal = inner.journal.take().unwrap_or_default();
        let mut fresh = Inner::default();
        for (key, vector, hash) in snapshot {
            fresh.put(key, vector, hash);
        }
        fresh.indexed = fresh.points.len();
        fresh.graph = (fresh.indexed > 0).then(|| Arc::new(graph));
        for (key, change) in journal {
            match change {
                Some((vector, hash)) => fresh.put(key, vector, hash),
                None => {
                    fresh.kill(&key);
                }
            }
        }
        *inner = fresh;
    }

    /// The `k` keys most similar to `query`, most similar first; with `allow`, only keys it
    /// holds. Exact when the allowed set is small or the graph is missing; otherwise the graph
    /// (skipping tombstones and disallowed points) plus an exact scan of the tail.
    pub fn search(&self, query: &[f32], k: usize, allow: Option<&HashSet<String>>) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let inner = self.read();
        let hit = |(similarity, id): (f32, usize)| Hit {
            key: inner.points[id].key.to_string(),
            similarity,
        };
        let exact = |ids: &mut dyn Iterator<Item = usize>| -> Vec<(f32, usize)> {
            best(ids.map(|id| (dot(query, &inner.points[id].vector), id)).collect(), k)
        };
        // The allowed keys as data ids.
        let allowed: Option<Vec<usize>> = allow.map(|a| {
            a.iter().filter_map(|key| inner.live.get(key.as_str()).map(|(id, _)| *id)).collect()
        });
        if let Some(ids) = &allowed
            && (ids.len() < self.config.exact_below || inner.graph.is_none())
        {
            return exact(&mut ids.iter().copied()).into_iter().map(hit).collect();
        }
        let Some(graph) = inner.graph.as_ref() else {
            return exact(&mut (0..inner.points.len()).filter(|&id| inner.alive[id]))
                .into_iter()
                .map(hit)
                .collect();
        };
        let mask: Option<Vec<bool>> = allowed.map(|ids| {
            let mut mask = vec![false; inner.points.len()];
            for id in ids {
                mask[id] = true;
            }
            mask
        });
        let usable = |id: usize| inner.alive[id] && mask.as_ref().is_none_or(|m| m[id]);
        let filter = |id: &DataId| usable(*id);
        let ef = self.config.ef_search.max(k);
        let everything_usable = mask.is_none() && inner.tombstones() == 0;
        let neighbours = if everything_usable {
            graph.search(query, k, ef)
        } else {
            graph.search_filter(query, k, ef, Some(&filter as &dyn FilterT))
        };
        let mut hits: Vec<(f32, usize)> = neighbours
            .into_iter()
            .filter(|n| usable(n.d_id))
            .map(|n| (1.0 - n.distance, n.d_id))
            .collect();
        // The tail is not in the graph yet: scan it.
        hits.extend(exact(&mut (inner.indexed..inner.points.len()).filter(|&id| usable(id))));
        best(hits, k).into_iter().map(hit).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(values: &[f32]) -> Arc<[f32]> {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        values.iter().map(|v| v / norm).collect::<Vec<_>>().into()
    }

    #[test]
    fn search_finds_the_nearest_and_skips_removed_and_disallowed_keys() {
        // The graph answers unfiltered searches; a filter allowing fewer than 3 keys is exact
        // (a graph search for 2 keys among 300 may miss one: that is why the threshold exists).
        let index = VectorIndex::new(HnswConfig { exact_below: 3, ..HnswConfig::default() });
        for i in 0..300 {
            let angle = i as f32 / 300.0 * std::f32::consts::PI;
            index.upsert(
                &format!("k{i}"),
                unit(&[angle.cos(), angle.sin(), 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]),
                [i as u8; 16],
            );
        }
        assert_eq!(index.index_tail(), 300);
        let query = unit(&[1.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let hits = index.search(&query, 3, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k0", "k1", "k2"]);
        index.remove("k0");
        index.upsert("k1", unit(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]), [0xff; 16]);
        let hits = index.search(&query, 2, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k2", "k3"]);
        let allow: HashSet<String> = ["k1".to_owned(), "k150".to_owned()].into();
        let hits = index.search(&query, 5, Some(&allow));
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k150", "k1"]);
        assert_eq!(index.shape(), (300, 1, 2));
        index.rebuild();
        assert_eq!(index.shape(), (299, 0, 0));
        assert_eq!(index.len(), 299);
        let hits = index.search(&query, 2, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k2", "k3"]);
    }
}
