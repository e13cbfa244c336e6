//! An in-memory vector collection: unit vectors by key (a job id), searched by cosine with an
//! HNSW graph, exactly when that is cheaper or the graph is not built yet.
//!
//! - Each vector is held once, as 8-bit codes ([`super::int8`]): the graph ([`super::hnsw`])
//!   holds only links between positions. The graph is walked with the query's codes; its
//!   candidates (`ef_search` of them, more than the `k` asked for) are then scored again with
//!   the query's f32 values against the stored codes, and the best `k` of those returned.
//! - A filtered search that allows few keys scores exactly those (it returns k results however
//!   selective the filter is), and a search while the graph is (re)building is exact over
//!   everything.
//! - The graph cannot delete: a replaced or removed key leaves a tombstone (its old point) that
//!   every search skips. When tombstones pass a quarter of the points, [`VectorIndex::rebuild`]
//!   builds a fresh graph from the live vectors; changes made meanwhile are replayed onto it.
//! - Points added after the graph was built are kept in a tail that is scanned exactly until
//!   they are inserted in the graph (insertion runs on the caller's blocking thread, a batch at
//!   a time, so searches and writes wait for one batch at most).
//!
//! The collection holds no truth of its own: it is filled from the database (stored vectors),
//! and every hit passes the search index's filters (search) or the database's (the
//! assistant's retrieval) before it is shown.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::hnsw::{Graph, Space};
use super::int8::{self, Codes};
use super::vector_file::{self, Built, In, Out};

/// Graph parameters, documented in docs/ARCHITECTURE.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HnswConfig {
    /// Neighbours kept per point and layer (M; twice that on layer 0).
    pub m: usize,
    /// Candidates explored while inserting.
    pub ef_construction: usize,
    /// Candidates explored while searching (raised to k when k is larger); all of them are
    /// scored again in f32.
    pub ef_search: usize,
    /// Below this many allowed keys a filtered search is exact instead.
    pub exact_below: usize,
}

impl Default for HnswConfig {
    fn default() -> Self {
        Self { m: 16, ef_construction: 100, ef_search: 96, exact_below: 4_000 }
    }
}

/// Points inserted into the graph per hold of the write lock.
const BATCH: usize = 256;

/// The dot product of two f32 vectors (their cosine when both are unit vectors). Eight running
/// sums so the compiler can vectorise it.
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

/// The similarity of two stored points, from their codes.
struct Stored<'a>(&'a Codes);

impl Space for Stored<'_> {
    fn between(&self, a: u32, b: u32) -> f32 {
        self.0.dot(a as usize, b as usize)
    }

    fn warm(&self, p: u32) {
        self.0.warm(p as usize);
    }
}

#[derive(Default)]
struct Inner {
    /// By data id (the position); a replaced or removed key leaves its point as a tombstone.
    keys: Vec<Arc<str>>,
    /// By data id: the vector, the only copy.
    codes: Codes,
    /// By data id: the point is its key's current one (false: a tombstone).
    alive: Vec<bool>,
    /// Key → its live data id and the hash of the text its vector was made from.
    live: HashMap<Arc<str>, (u32, [u8; 16])>,
    /// Data ids below `graph.len()` are in the graph; the rest are the tail.
    graph: Option<Graph>,
    /// Changes made while a rebuild runs, replayed onto the new graph.
    journal: Option<Vec<Change>>,
}

/// A key's change made during a rebuild: its new vector and text hash, or `None` (removed).
type Change = (Arc<str>, Option<(Arc<[f32]>, [u8; 16])>);

impl Inner {
    fn tombstones(&self) -> usize {
        self.keys.len() - self.live.len()
    }

    fn indexed(&self) -> usize {
        self.graph.as_ref().map_or(0, Graph::len)
    }

    fn tail_is_empty(&self) -> bool {
        self.indexed() == self.keys.len()
    }

    /// Adds a point. A vector of another length than the collection's is refused (the
    /// embedding model decides the length; a stray one must not break every search).
    fn put(&mut self, key: Arc<str>, vector: &[f32], hash: [u8; 16]) {
        if self.codes.is_empty() && self.codes.dims() != vector.len() {
            self.codes = Codes::new(vector.len());
        }
        if vector.len() != self.codes.dims() || self.keys.len() >= u32::MAX as usize {
            tracing::warn!(key = %key, len = vector.len(), "a vector of another length is ignored");
            return;
        }
        let id = self.codes.push(vector) as u32;
        self.keys.push(key.clone());
        self.alive.push(true);
        if let Some((old, _)) = self.live.insert(key, (id, hash)) {
            self.alive[old as usize] = false;
        }
    }

    /// Adds the point `from` of `other` as it is (codes copied, not quantized again).
    fn copy_from(&mut self, other: &Inner, from: u32, hash: [u8; 16]) {
        let key = other.keys[from as usize].clone();
        let id = self.codes.push_codes(other.codes.get(from as usize)) as u32;
        self.keys.push(key.clone());
        self.alive.push(true);
        self.live.insert(key, (id, hash));
    }

    fn kill(&mut self, key: &str) -> bool {
        match self.live.remove(key) {
            Some((id, _)) => {
                self.alive[id as usize] = false;
                true
            }
            None => false,
        }
    }

    fn new_graph(config: &HnswConfig) -> Graph {
        Graph::new(config.m, config.ef_construction)
    }
}

/// A vector collection. All methods block (graph work is CPU-heavy): call them from blocking
/// threads.
pub struct VectorIndex {
    config: HnswConfig,
    inner: RwLock<Inner>,
    /// One rebuild or tail insertion at a time.
    building: Mutex<()>,
    /// A new stamp at every write ([`VectorIndex::version`]).
    version: AtomicU64,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("config", &self.config)
            .field("shape", &self.shape())
            .finish()
    }
}

/// The heap a collection holds, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// The vectors (every point's, tombstones included), as codes.
    pub vectors: u64,
    /// Keys, text hashes and the maps from keys to points.
    pub keys: u64,
    /// The graph's links.
    pub graph: u64,
}

/// Keys as the points of a collection ([`VectorIndex::search_among`]), valid while its version
/// is the one they were found at.
#[derive(Debug)]
pub struct Points {
    version: u64,
    /// How many keys were asked for (a check that the same keys are passed again).
    keys: usize,
    /// Their live points (keys without a vector have none).
    ids: Vec<u32>,
}

impl Points {
    /// How many of the keys have a vector.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A hit: the key and its cosine similarity to the query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub key: String,
    pub similarity: f32,
}

/// How many of an exact scan's best by integer dot products are scored again in f32, for each
/// hit asked for: the query's own rounding moves a cosine by about 0.002, far less than the
/// gap between the best few and the fourfold best.
const RESCORED_PER_HIT: usize = 4;

/// How many reads ahead an exact scan over scattered points warms the next one.
const WARM_AHEAD: usize = 4;

/// The `k` best of (similarity, data id) pairs, best first (ties: the lower id), without
/// sorting them all.
fn best(mut scored: Vec<(f32, u32)>, k: usize) -> Vec<(f32, u32)> {
    let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1));
    if scored.len() > k {
        scored.select_nth_unstable_by(k - 1, order);
        scored.truncate(k);
    }
    scored.sort_by(order);
    scored
}

impl VectorIndex {
    pub fn new(config: HnswConfig) -> Self {
        Self {
            config,
            inner: RwLock::new(Inner::default()),
            building: Mutex::new(()),
            version: AtomicU64::new(crate::utils::stamp::next()),
        }
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
        let inner = self.inner.write().unwrap_or_else(|e| e.into_inner());
        self.version.store(crate::utils::stamp::next(), Ordering::Release);
        inner
    }

    /// Changes whenever a search may answer differently (at every write that may change
    /// something: an unchanged vector or an empty tail is not written), and is never another
    /// collection's: what a remembered ranking is checked against.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
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
        (inner.indexed(), inner.keys.len() - inner.indexed(), inner.tombstones())
    }

    /// The heap held, by part.
    pub fn footprint(&self) -> Footprint {
        let inner = self.read();
        let key_bytes: u64 = inner.keys.iter().map(|k| 16 + k.len() as u64).sum();
        Footprint {
            vectors: inner.codes.heap_bytes(),
            keys: 16 * inner.keys.capacity() as u64
                + key_bytes
                + inner.alive.capacity() as u64
                + inner.live.capacity() as u64
                    * (1 + std::mem::size_of::<(Arc<str>, (u32, [u8; 16]))>() as u64),
            graph: inner.graph.as_ref().map_or(0, Graph::heap_bytes),
        }
    }

    /// The hash of the text `key`'s vector was made from, if it has one.
    pub fn hash_of(&self, key: &str) -> Option<[u8; 16]> {
        self.read().live.get(key).map(|(_, hash)| *hash)
    }

    /// The vector of `key` as held (its 8-bit codes decoded: within about 0.002 of the
    /// vector stored, in cosine), if it has one.
    pub fn vector_of(&self, key: &str) -> Option<Arc<[f32]>> {
        let inner = self.read();
        inner.live.get(key).map(|(id, _)| inner.codes.decode(*id as usize).into())
    }

    /// Sets `key`'s vector (replacing any). Unchanged (same hash) is a no-op. The point joins
    /// the tail; [`Self::index_tail`] moves the tail into the graph.
    pub fn upsert(&self, key: &str, vector: Arc<[f32]>, hash: [u8; 16]) {
        // Unchanged: not a write (a write changes the version, and so forgets every ranking
        // remembered against it).
        if self.read().live.get(key).is_some_and(|(_, h)| *h == hash) {
            return;
        }
        let mut inner = self.write();
        if inner.live.get(key).is_some_and(|(_, h)| *h == hash) {
            return;
        }
        let key: Arc<str> = key.into();
        inner.put(key.clone(), &vector, hash);
        if let Some(journal) = inner.journal.as_mut() {
            journal.push((key, Some((vector, hash))));
        }
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

    /// Inserts the tail into the graph, building the graph if there is none, a batch at a
    /// time. Returns how many points it inserted.
    pub fn index_tail(&self) -> usize {
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let mut inserted = 0;
        loop {
            // No tail: not a write (the catch-up loop asks every few seconds).
            if self.read().tail_is_empty() {
                return inserted;
            }
            let mut inner = self.write();
            let inner = &mut *inner;
            let (start, end) = (inner.indexed(), inner.keys.len());
            if start == end {
                return inserted;
            }
            let graph = inner.graph.get_or_insert_with(|| Inner::new_graph(&self.config));
            if inserted == 0 {
                graph.reserve(end - start);
            }
            let space = Stored(&inner.codes);
            for _ in start..end.min(start + BATCH) {
                graph.insert(&space);
                inserted += 1;
            }
        }
    }

    /// Whether tombstones are a quarter of the points (and at least 1,000): time to rebuild.
    pub fn wants_rebuild(&self) -> bool {
        let inner = self.read();
        let dead = inner.tombstones();
        dead >= 1_000 && dead * 4 >= inner.keys.len()
    }

    /// Builds a new graph from the live vectors alone and swaps it in; searches go on against
    /// the old one meanwhile, and changes made meanwhile are replayed.
    pub fn rebuild(&self) {
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = {
            let mut inner = self.write();
            inner.journal = Some(Vec::new());
            let mut live: Vec<(u32, [u8; 16])> = inner.live.values().copied().collect();
            live.sort_unstable_by_key(|(id, _)| *id);
            let mut fresh = Inner { codes: Codes::new(inner.codes.dims()), ..Inner::default() };
            for (id, hash) in live {
                fresh.copy_from(&inner, id, hash);
            }
            fresh
        };
        fresh.codes.shrink_to_fit();
        if !fresh.keys.is_empty() {
            let mut graph = Inner::new_graph(&self.config);
            graph.reserve(fresh.keys.len());
            let space = Stored(&fresh.codes);
            for _ in 0..fresh.keys.len() {
                graph.insert(&space);
            }
            fresh.graph = Some(graph);
        }
        let mut inner = self.write();
        for (key, change) in inner.journal.take().unwrap_or_default() {
            match change {
                Some((vector, hash)) => fresh.put(key, &vector, hash),
                None => {
                    fresh.kill(&key);
                }
            }
        }
        *inner = fresh;
    }

    /// What [`super::vector_file`] records this collection was built with, for vectors of
    /// `dims` values.
    fn built(&self, dims: usize) -> Built {
        Built {
            dims: dims as u32,
            m: self.config.m as u32,
            ef_construction: self.config.ef_construction as u32,
        }
    }

    /// Writes the collection to `path` (whole, or not at all), as it is now: its points, the
    /// hashes of their texts and the graph. Nothing is written for an empty collection.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let inner = self.read();
        if inner.live.is_empty() {
            return Ok(());
        }
        let mut out = Out::default();
        inner.codes.write(&mut out);
        out.u32(inner.keys.len() as u32);
        let mut hashes: Vec<Option<&[u8; 16]>> = vec![None; inner.keys.len()];
        for (id, hash) in inner.live.values() {
            hashes[*id as usize] = Some(hash);
        }
        for (id, key) in inner.keys.iter().enumerate() {
            out.sized(key.as_bytes());
            match hashes[id] {
                Some(hash) if inner.alive[id] => {
                    out.u8(1);
                    out.bytes(hash);
                }
                _ => out.u8(0),
            }
        }
        match &inner.graph {
            Some(graph) => {
                out.u8(1);
                graph.write(&mut out);
            }
            None => out.u8(0),
        }
        let built = self.built(inner.codes.dims());
        drop(inner);
        vector_file::write(path, built, &out.0)
    }

    /// A collection of vectors of `dims` values read from `path`, written by [`Self::save`]
    /// with the same graph parameters; `Ok(None)` when there is no file, and why it is not
    /// used when it is refused (see [`super::vector_file`]).
    pub fn open(config: HnswConfig, dims: usize, path: &Path) -> Result<Option<Self>, String> {
        let index = VectorIndex::new(config);
        let Some(body) = vector_file::read(path, index.built(dims))? else { return Ok(None) };
        let mut r = In::new(&body);
        let codes = Codes::read(&mut r, dims)?;
        let points = r.u32("the keys")? as usize;
        if points != codes.len() {
            return Err(format!("it has {points} keys for {} vectors", codes.len()));
        }
        let mut inner = Inner { codes, ..Inner::default() };
        for id in 0..points {
            let key: Arc<str> = std::str::from_utf8(r.sized("a key")?)
                .map_err(|_| "a key is not UTF-8".to_owned())?
                .into();
            let alive = r.u8("a key")? == 1;
            if alive {
                let hash: [u8; 16] = r.take(16, "a hash")?.try_into().unwrap_or_default();
                if inner.live.insert(key.clone(), (id as u32, hash)).is_some() {
                    return Err(format!("the key {key} is live twice"));
                }
            }
            inner.keys.push(key);
            inner.alive.push(alive);
        }
        if r.u8("the graph")? == 1 {
            let graph = Graph::read(&mut r, config.m, config.ef_construction)?;
            if graph.len() > points {
                return Err(format!("its graph has {} points for {points} vectors", graph.len()));
            }
            inner.graph = Some(graph);
        }
        if !r.is_empty() {
            return Err("it holds more than its parts".into());
        }
        *index.write() = inner;
        Ok(Some(index))
    }

    /// Takes the points and graph of `other` when this collection holds nothing yet (a
    /// collection read at start); answers whether it did.
    pub fn adopt(&self, other: VectorIndex) -> bool {
        let _one = self.building.lock().unwrap_or_else(|e| e.into_inner());
        let mut inner = self.write();
        if !inner.keys.is_empty() {
            return false;
        }
        *inner = other.inner.into_inner().unwrap_or_else(|e| e.into_inner());
        true
    }

    /// The keys that have a vector.
    pub fn keys(&self) -> Vec<Arc<str>> {
        self.read().live.keys().cloned().collect()
    }

    /// The `k` keys most similar to `query`, most similar first; with `allow`, only keys it
    /// holds. Exact when the allowed set is small or the graph is missing; otherwise the graph
    /// (skipping tombstones and disallowed points, its candidates scored again in f32) plus an
    /// exact scan of the tail. An exact scan scores every vector on integers, then the best
    /// [`RESCORED_PER_HIT`] per hit asked for again in f32, like the graph's candidates.
    pub fn search(&self, query: &[f32], k: usize, allow: Option<&[String]>) -> Vec<Hit> {
        match allow {
            Some(keys) => self.search_among(query, k, keys, None).0,
            None => self.search_in(&self.read(), query, k, None),
        }
    }

    /// [`Self::search`] among `keys`, with `known`, the points of the same keys from an earlier
    /// search, used while the collection has not changed since (finding each key's point is
    /// most of the work of a search among a few thousand). Answers the hits and the points
    /// used, to be passed again.
    pub fn search_among(
        &self,
        query: &[f32],
        k: usize,
        keys: &[String],
        known: Option<Arc<Points>>,
    ) -> (Vec<Hit>, Arc<Points>) {
        let inner = self.read();
        // Read under the lock: every write changes the version while it holds the lock.
        let version = self.version();
        let points = match known {
            Some(points) if points.version == version && points.keys == keys.len() => points,
            _ => Arc::new(Points {
                version,
                keys: keys.len(),
                ids: {
                    let mut ids: Vec<u32> = keys
                        .iter()
                        .filter_map(|key| inner.live.get(key.as_str()).map(|(id, _)| *id))
                        .collect();
                    // In memory's order, so a scan reads forward.
                    ids.sort_unstable();
                    ids
                },
            }),
        };
        (self.search_in(&inner, query, k, Some(&points.ids)), points)
    }

    fn search_in(
        &self,
        inner: &Inner,
        query: &[f32],
        k: usize,
        allowed: Option<&[u32]>,
    ) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let hit = |(similarity, id): (f32, u32)| Hit {
            key: String::from(&*inner.keys[id as usize]),
            similarity,
        };
        let mut codes = Vec::with_capacity(query.len());
        let query_scale = int8::quantize(query, &mut codes);
        let to = |p: u32| {
            let (stored, scale) = inner.codes.get(p as usize);
            int8::dot_codes(&codes, stored) as f32 * query_scale * scale
        };
        let exact = |ids: &mut dyn Iterator<Item = u32>| -> Vec<(f32, u32)> {
            let mut by_codes: Vec<(f32, u32)> = ids.map(|id| (to(id), id)).collect();
            let rescored = k.saturating_mul(RESCORED_PER_HIT);
            if by_codes.len() > rescored {
                by_codes.select_nth_unstable_by(rescored - 1, |a, b| b.0.total_cmp(&a.0));
                by_codes.truncate(rescored);
            }
            best(
                by_codes
                    .into_iter()
                    .map(|(_, id)| (inner.codes.dot_f32(query, id as usize), id))
                    .collect(),
                k,
            )
        };
        let indexed = inner.indexed();
        if let Some(ids) = allowed
            && (ids.len() < self.config.exact_below || indexed == 0)
        {
            // Allowed points are far apart: each is warmed a few reads ahead of its turn.
            let mut ahead = ids.iter().skip(WARM_AHEAD);
            let mut ids = ids.iter().map(|&id| {
                if let Some(&next) = ahead.next() {
                    inner.codes.warm(next as usize);
                }
                id
            });
            return exact(&mut ids).into_iter().map(hit).collect();
        }
        let Some(graph) = inner.graph.as_ref().filter(|g| !g.is_empty()) else {
            return exact(&mut (0..inner.keys.len() as u32).filter(|&id| inner.alive[id as usize]))
                .into_iter()
                .map(hit)
                .collect();
        };
        let mask: Option<Vec<bool>> = allowed.map(|ids| {
            let mut mask = vec![false; inner.keys.len()];
            for &id in ids {
                mask[id as usize] = true;
            }
            mask
        });
        let usable =
            |id: u32| inner.alive[id as usize] && mask.as_ref().is_none_or(|m| m[id as usize]);
        let everything_usable = mask.is_none() && inner.tombstones() == 0;
        let ef = self.config.ef_search.max(k);
        let warm = |p: u32| inner.codes.warm(p as usize);
        let candidates = if everything_usable {
            graph.search(to, warm, ef, None)
        } else {
            graph.search(to, warm, ef, Some(&usable as &dyn Fn(u32) -> bool))
        };
        let mut hits: Vec<(f32, u32)> = candidates
            .into_iter()
            .filter(|(_, id)| usable(*id))
            .map(|(_, id)| (inner.codes.dot_f32(query, id as usize), id))
            .collect();
        // The tail is not in the graph yet: scan it.
        hits.extend(exact(&mut (indexed as u32..inner.keys.len() as u32).filter(|&id| usable(id))));
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

    /// A collection of 300 keys `k0`…`k299` on a half circle (`k150` at a right angle), not yet
    /// in the graph.
    fn half_circle(config: HnswConfig) -> VectorIndex {
        let index = VectorIndex::new(config);
        for i in 0..300 {
            let angle = i as f32 / 300.0 * std::f32::consts::PI;
            index.upsert(
                &format!("k{i}"),
                unit(&[angle.cos(), angle.sin(), 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]),
                [i as u8; 16],
            );
        }
        index
    }

    #[test]
    fn a_saved_collection_opens_as_it_was_and_a_damaged_file_is_refused() {
        let config = HnswConfig { exact_below: 0, ..HnswConfig::default() };
        let index = VectorIndex::new(config);
        for i in 0..400 {
            let angle = i as f32 / 400.0 * std::f32::consts::PI;
            let v = [angle.cos(), angle.sin(), (i % 7) as f32 / 10.0, 0.0, 0.1, 0.0, 0.0, 0.2];
            index.upsert(&format!("k{i}"), unit(&v), [i as u8; 16]);
        }
        index.index_tail();
        index.remove("k3");
        index.upsert("k5", unit(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]), [0xee; 16]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.bin");
        index.save(&path).unwrap();

        let opened = VectorIndex::open(config, 8, &path).unwrap().expect("the file is there");
        assert_eq!(opened.shape(), index.shape(), "the graph, the tail and the tombstones");
        assert_eq!(opened.len(), index.len());
        assert_eq!(opened.hash_of("k5"), Some([0xee; 16]));
        assert_eq!(opened.hash_of("k3"), None);
        let mut keys = opened.keys();
        keys.sort();
        let mut expected = index.keys();
        expected.sort();
        assert_eq!(keys, expected);
        for q in 0..20 {
            let angle = q as f32 / 20.0 * std::f32::consts::PI;
            let query = unit(&[angle.cos(), angle.sin(), 0.3, 0.0, 0.1, 0.0, 0.0, 0.2]);
            assert_eq!(opened.search(&query, 10, None), index.search(&query, 10, None));
        }
        // It keeps working as a collection: changes, tail insertion, rebuild.
        opened.upsert("new", unit(&[1.0; 8]), [1; 16]);
        assert_eq!(opened.index_tail(), 2);
        opened.rebuild();
        assert_eq!(opened.shape(), (400, 0, 0));

        // Refused: other parameters, another length of vectors, a changed byte.
        let other = HnswConfig { m: 8, ..config };
        assert!(VectorIndex::open(other, 8, &path).unwrap_err().contains("built with"));
        assert!(VectorIndex::open(config, 384, &path).unwrap_err().contains("built with"));
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        assert!(VectorIndex::open(config, 8, &path).unwrap_err().contains("checksum"));
        assert!(VectorIndex::open(config, 8, &dir.path().join("none.bin")).unwrap().is_none());

        // Adopted only by an empty collection.
        index.save(&path).unwrap();
        let fresh = VectorIndex::new(config);
        assert!(fresh.adopt(VectorIndex::open(config, 8, &path).unwrap().unwrap()));
        assert_eq!(fresh.len(), index.len());
        assert!(!fresh.adopt(VectorIndex::open(config, 8, &path).unwrap().unwrap()));
    }

    #[test]
    fn search_finds_the_nearest_and_skips_removed_and_disallowed_keys() {
        // The graph answers unfiltered searches; a filter allowing fewer than 3 keys is exact
        // (a graph search for 2 keys among 300 may miss one: that is why the threshold exists).
        let index = half_circle(HnswConfig { exact_below: 3, ..HnswConfig::default() });
        assert_eq!(index.index_tail(), 300);
        let query = unit(&[1.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let hits = index.search(&query, 3, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k0", "k1", "k2"]);
        index.remove("k0");
        index.upsert("k1", unit(&[0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]), [0xff; 16]);
        let hits = index.search(&query, 2, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k2", "k3"]);
        let allow = ["k1".to_owned(), "k150".to_owned()];
        let hits = index.search(&query, 5, Some(&allow));
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k150", "k1"]);
        assert_eq!(index.shape(), (300, 1, 2));
        index.rebuild();
        assert_eq!(index.shape(), (299, 0, 0));
        assert_eq!(index.len(), 299);
        let hits = index.search(&query, 2, None);
        assert_eq!(hits.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), vec!["k2", "k3"]);
    }

    #[test]
    fn the_version_changes_only_when_something_is_written() {
        let index = VectorIndex::new(HnswConfig::default());
        let vector = unit(&[1.0, 0.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]);
        index.upsert("a", vector.clone(), [1; 16]);
        let before = index.version();
        assert_eq!(index.index_tail(), 1);
        let indexed = index.version();
        assert_ne!(indexed, before, "a point moved into the graph");
        // The catch-up loop's every pass: nothing new, nothing written.
        assert_eq!(index.index_tail(), 0);
        index.upsert("a", vector.clone(), [1; 16]);
        assert_eq!(index.version(), indexed);
        index.upsert("a", vector, [2; 16]);
        assert_ne!(index.version(), indexed, "a new vector for the key");
    }

    #[test]
    fn points_found_for_a_search_serve_again_only_while_the_collection_is_unchanged() {
        let index = half_circle(HnswConfig { exact_below: 1_000, ..HnswConfig::default() });
        index.index_tail();
        let keys: Vec<String> = (100..160).rev().map(|i| format!("k{i}")).collect();
        let query = unit(&[0.0, 1.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let names = |hits: &[Hit]| hits.iter().map(|h| h.key.clone()).collect::<Vec<_>>();

        let (first, points) = index.search_among(&query, 3, &keys, None);
        assert_eq!(names(&first), ["k150", "k149", "k151"]);
        assert_eq!(first, index.search(&query, 3, Some(&keys)));
        assert_eq!(points.len(), keys.len());
        let (again, same) = index.search_among(&query, 3, &keys, Some(points.clone()));
        assert!(Arc::ptr_eq(&points, &same), "used again as they are");
        assert_eq!(again, first);

        // A key's vector replaced: its old point is a tombstone, and the points are found again
        // (with the old ones, the key's new vector would be missed).
        let target = unit(&[0.0, 1.0, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0]);
        index.upsert("k120", target, [0xaa; 16]);
        let (after, found) = index.search_among(&query, 3, &keys, Some(points.clone()));
        assert!(!Arc::ptr_eq(&points, &found));
        // (k150 and k120 are both the query itself: the older point first.)
        assert_eq!(names(&after), ["k150", "k120", "k149"]);

        // Other keys (of another length) are never taken for the same ones.
        let fewer = &keys[..10];
        let (other, of_fewer) = index.search_among(&query, 3, fewer, Some(found.clone()));
        assert!(!Arc::ptr_eq(&found, &of_fewer));
        assert_eq!(names(&other), ["k150", "k151", "k152"]);

        // A removed key is no longer found, whatever was passed.
        index.remove("k120");
        let (removed, _) = index.search_among(&query, 2, &keys, Some(found));
        assert_eq!(names(&removed), ["k150", "k149"]);
    }

    #[test]
    fn an_exact_scan_finds_what_scoring_every_allowed_vector_in_f32_finds() {
        // Integer dot products pick the candidates: the best ten are still the best ten of
        // the f32 query against every allowed code.
        let index =
            VectorIndex::new(HnswConfig { exact_below: usize::MAX, ..HnswConfig::default() });
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % 2001) as f32 / 1000.0 - 1.0
        };
        let vectors: Vec<Arc<[f32]>> =
            (0..1500).map(|_| unit(&(0..32).map(|_| next()).collect::<Vec<_>>())).collect();
        for (i, v) in vectors.iter().enumerate() {
            index.upsert(&format!("k{i}"), v.clone(), [0; 16]);
        }
        let allow: Vec<String> =
            (0..1500).filter(|i| i % 3 != 0).map(|i| format!("k{i}")).collect();
        for _ in 0..20 {
            let query = unit(&(0..32).map(|_| next()).collect::<Vec<_>>());
            let mut every: Vec<(f32, String)> = allow
                .iter()
                .map(|key| {
                    let v = &vectors[key[1..].parse::<usize>().unwrap()];
                    let mut codes = Vec::new();
                    let scale = int8::quantize(v, &mut codes);
                    (int8::dot_query(&query, &codes) * scale, key.clone())
                })
                .collect();
            every.sort_by(|a, b| b.0.total_cmp(&a.0));
            let found = index.search(&query, 10, Some(&allow));
            let found: Vec<&str> = found.iter().map(|h| h.key.as_str()).collect();
            let expected: Vec<&str> = every.iter().take(10).map(|(_, k)| k.as_str()).collect();
            assert_eq!(found, expected);
        }
    }
}
