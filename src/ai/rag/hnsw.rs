//! An HNSW graph (Malkov & Yashunin, with hnswlib's neighbour heuristic) over points held
//! elsewhere: it keeps only links, by position, and asks a similarity for everything else, so
//! the vectors exist once, in the caller's storage.
//!
//! Points are numbered 0, 1, 2, … in the order they are inserted. Layer 0 is one flat array of
//! `2·M` links per point; the few points on upper layers (one in M per layer) keep a list per
//! layer in a map. Insertion takes `&mut self` (one at a time); searches share `&self`.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::vector_file::{In, Out};

/// The similarity of two points of the graph (higher is closer).
pub trait Space {
    fn between(&self, a: u32, b: u32) -> f32;

    /// Starts fetching what [`Self::between`] will read of `p` into the cache (a search scores
    /// a point's unvisited neighbours together, so their reads overlap instead of queueing).
    fn warm(&self, _p: u32) {}
}

/// A similarity with a point, ordered by similarity then by the lower point.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scored(f32, u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// Which points a search has seen: one bit per point.
struct Visited(Vec<u64>);

impl Visited {
    fn new(points: usize) -> Visited {
        Visited(vec![0; points.div_ceil(64)])
    }

    /// Marks `p`; answers whether it was new.
    #[inline]
    fn first(&mut self, p: u32) -> bool {
        let (word, bit) = ((p / 64) as usize, 1u64 << (p % 64));
        let new = self.0[word] & bit == 0;
        self.0[word] |= bit;
        new
    }
}

/// The graph.
#[derive(Debug)]
pub struct Graph {
    /// Links per point on the upper layers.
    m: usize,
    /// Links per point on layer 0 (2·M).
    m0: usize,
    ef_construction: usize,
    /// Layer 0: `m0` slots per point, the first `count0[p]` used.
    links0: Vec<u32>,
    count0: Vec<u8>,
    /// The points on upper layers: their links on layers 1, 2, … (as many as their level).
    upper: HashMap<u32, Box<[Vec<u32>]>>,
    /// Where searches start: the point of the highest level, and its level.
    entry: Option<(u32, usize)>,
    /// The state of the level generator (splitmix64): a graph built from the same points
    /// in the same order is the same graph.
    seed: u64,
}

/// Layers above this are not made (one point in M^16 would need one).
const MAX_LEVEL: usize = 15;

impl Graph {
    /// An empty graph with `m` links per point (twice that on layer 0) and `ef_construction`
    /// candidates explored per insertion.
    pub fn new(m: usize, ef_construction: usize) -> Graph {
        let m = m.clamp(2, 127);
        Graph {
            m,
            m0: 2 * m,
            ef_construction: ef_construction.max(m),
            links0: Vec::new(),
            count0: Vec::new(),
            upper: HashMap::new(),
            entry: None,
            seed: 0x5EED,
        }
    }

    /// How many points the graph holds (they are 0..len).
    pub fn len(&self) -> usize {
        self.count0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count0.is_empty()
    }

    /// Room for `more` points without growing.
    pub fn reserve(&mut self, more: usize) {
        self.links0.reserve_exact(more * self.m0);
        self.count0.reserve_exact(more);
    }

    /// The heap held, in bytes.
    pub fn heap_bytes(&self) -> u64 {
        let upper: usize = self
            .upper
            .values()
            .map(|layers| {
                layers.len() * 24 + layers.iter().map(|l| 4 * l.capacity()).sum::<usize>()
            })
            .sum();
        (4 * self.links0.capacity()
            + self.count0.capacity()
            + self.upper.capacity() * (std::mem::size_of::<(u32, Box<[Vec<u32>]>)>() + 1)
            + upper) as u64
    }

    fn links(&self, p: u32, layer: usize) -> &[u32] {
        if layer == 0 {
            let at = p as usize * self.m0;
            &self.links0[at..at + self.count0[p as usize] as usize]
        } else {
            self.upper.get(&p).and_then(|l| l.get(layer - 1)).map_or(&[], Vec::as_slice)
        }
    }

    fn set_links(&mut self, p: u32, layer: usize, links: &[u32]) {
        if layer == 0 {
            let at = p as usize * self.m0;
            self.links0[at..at + links.len()].copy_from_slice(links);
            self.count0[p as usize] = links.len() as u8;
        } else if let Some(list) = self.upper.get_mut(&p).and_then(|l| l.get_mut(layer - 1)) {
            list.clear();
            list.extend_from_slice(links);
        }
    }

    fn random_level(&mut self) -> usize {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.seed;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        // Uniform in (0, 1].
        let uniform = ((x >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let level = (-uniform.ln() / (self.m as f64).ln()).floor();
        (level as usize).min(MAX_LEVEL)
    }

    /// From `entry`, moves to a more similar neighbour on `layer` while there is one.
    fn greedy(&self, to: &impl Fn(u32) -> f32, mut best: Scored, layer: usize) -> Scored {
        loop {
            let mut moved = false;
            for &n in self.links(best.1, layer) {
                let s = Scored(to(n), n);
                if s > best {
                    best = s;
                    moved = true;
                }
            }
            if !moved {
                return best;
            }
        }
    }

    /// The `ef` points most similar by `to` that `usable` accepts, found from `entries` on
    /// `layer`, most similar first. Points `usable` refuses are walked through, not returned.
    fn search_layer(
        &self,
        to: &impl Fn(u32) -> f32,
        warm: &impl Fn(u32),
        entries: &[Scored],
        ef: usize,
        layer: usize,
        usable: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<Scored> {
        let mut visited = Visited::new(self.len());
        let accepts = |p: u32| usable.is_none_or(|u| u(p));
        let mut candidates: BinaryHeap<Scored> = BinaryHeap::new();
        // The results, worst on top.
        let mut results: BinaryHeap<std::cmp::Reverse<Scored>> = BinaryHeap::new();
        for &e in entries {
            if visited.first(e.1) {
                candidates.push(e);
                if accepts(e.1) {
                    results.push(std::cmp::Reverse(e));
                }
            }
        }
        while results.len() > ef {
            results.pop();
        }
        // A candidate's unvisited neighbours, warmed before any of them is scored.
        let mut fresh: Vec<u32> = Vec::with_capacity(self.m0);
        while let Some(c) = candidates.pop() {
            if results.len() >= ef && results.peek().is_some_and(|w| c.0 < w.0.0) {
                break;
            }
            fresh.clear();
            for &n in self.links(c.1, layer) {
                if visited.first(n) {
                    warm(n);
                    fresh.push(n);
                }
            }
            for &n in &fresh {
                let s = Scored(to(n), n);
                let full = results.len() >= ef;
                if !full || results.peek().is_some_and(|w| s > w.0) {
                    candidates.push(s);
                    if accepts(n) {
                        results.push(std::cmp::Reverse(s));
                        if results.len() > ef {
                            results.pop();
                        }
                    }
                }
            }
        }
        let mut out: Vec<Scored> = results.into_iter().map(|r| r.0).collect();
        out.sort_by(|a, b| b.cmp(a));
        out
    }

    /// hnswlib's heuristic: of `candidates` (most similar to the base first), keeps up to `m`,
    /// each more similar to the base than to any kept before it.
    fn select(space: &impl Space, candidates: &[Scored], m: usize) -> Vec<u32> {
        let mut kept: Vec<u32> = Vec::with_capacity(m);
        for c in candidates {
            if kept.len() >= m {
                break;
            }
            if kept.iter().all(|&k| space.between(c.1, k) < c.0) {
                kept.push(c.1);
            }
        }
        kept
    }

    /// Appends the graph to `out` (for [`super::vector_file`]).
    pub fn write(&self, out: &mut Out) {
        out.u32(self.m as u32);
        out.u32(self.ef_construction as u32);
        out.u64(self.seed);
        out.u32(self.len() as u32);
        match self.entry {
            Some((p, level)) => {
                out.u8(1);
                out.u32(p);
                out.u8(level as u8);
            }
            None => out.u8(0),
        }
        out.bytes(&self.count0);
        for p in 0..self.len() {
            for &link in self.links(p as u32, 0) {
                out.u32(link);
            }
        }
        let mut upper: Vec<(&u32, &Box<[Vec<u32>]>)> = self.upper.iter().collect();
        upper.sort_unstable_by_key(|(p, _)| **p);
        out.u32(upper.len() as u32);
        for (p, layers) in upper {
            out.u32(*p);
            out.u8(layers.len() as u8);
            for links in layers.iter() {
                out.u32(links.len() as u32);
                links.iter().for_each(|&l| out.u32(l));
            }
        }
    }

    /// A graph written by [`Self::write`], checked: every link and the entry name a point of
    /// the graph, no point has more links than M allows, and its M and ef_construction are
    /// `m` and `ef_construction`.
    pub fn read(r: &mut In<'_>, m: usize, ef_construction: usize) -> Result<Graph, String> {
        let mut graph = Graph::new(m, ef_construction);
        let (m, ef) = (r.u32("the graph")? as usize, r.u32("the graph")? as usize);
        if (m, ef) != (graph.m, graph.ef_construction) {
            return Err(format!("its graph has M {m} and ef_construction {ef}"));
        }
        graph.seed = r.u64("the graph")?;
        let len = r.u32("the graph")? as usize;
        let entry = match r.u8("the graph's entry")? {
            0 => None,
            _ => Some((r.u32("the graph's entry")?, r.u8("the graph's entry")? as usize)),
        };
        r.room(len, 1, "points")?;
        let count0 = r.take(len, "the graph's links")?.to_vec();
        let bad = |what: &str| Err(format!("its graph has {what}"));
        if count0.iter().any(|&c| c as usize > graph.m0) {
            return bad("a point with too many links");
        }
        graph.links0 = vec![0; len * graph.m0];
        for (p, &count) in count0.iter().enumerate() {
            for slot in 0..count as usize {
                let link = r.u32("the graph's links")?;
                if link as usize >= len {
                    return bad("a link to no point");
                }
                graph.links0[p * graph.m0 + slot] = link;
            }
        }
        graph.count0 = count0;
        let points = r.u32("the graph's upper layers")? as usize;
        r.room(points, 5, "upper points")?;
        for _ in 0..points {
            let p = r.u32("the graph's upper layers")?;
            let levels = r.u8("the graph's upper layers")? as usize;
            if p as usize >= len || levels == 0 || levels > MAX_LEVEL {
                return bad("an upper point that is not one");
            }
            let mut layers = Vec::with_capacity(levels);
            for _ in 0..levels {
                let n = r.u32("the graph's upper layers")? as usize;
                if n > graph.m {
                    return bad("a point with too many links");
                }
                let mut links = Vec::with_capacity(n);
                for _ in 0..n {
                    let link = r.u32("the graph's upper layers")?;
                    if link as usize >= len {
                        return bad("a link to no point");
                    }
                    links.push(link);
                }
                layers.push(links);
            }
            graph.upper.insert(p, layers.into_boxed_slice());
        }
        match entry {
            Some((p, level)) if (p as usize) < len => {
                let levels = graph.upper.get(&p).map_or(0, |l| l.len());
                if levels != level {
                    return bad("an entry point of another level");
                }
                graph.entry = Some((p, level));
            }
            Some(_) => return bad("an entry point that is not one"),
            None if len > 0 => return bad("points but no entry point"),
            None => {}
        }
        Ok(graph)
    }

    /// Inserts the next point (number [`Self::len`]), whose similarities `space` answers.
    pub fn insert(&mut self, space: &impl Space) {
        let p = u32::try_from(self.len()).expect("fewer than 2^32 points");
        self.links0.resize(self.links0.len() + self.m0, 0);
        self.count0.push(0);
        let level = self.random_level();
        if level > 0 {
            let layers: Vec<Vec<u32>> = (0..level).map(|_| Vec::new()).collect();
            self.upper.insert(p, layers.into_boxed_slice());
        }
        let Some((entry, top)) = self.entry else {
            self.entry = Some((p, level));
            return;
        };
        let to = |q: u32| space.between(p, q);
        let mut best = Scored(to(entry), entry);
        for layer in (level + 1..=top).rev() {
            best = self.greedy(&to, best, layer);
        }
        let mut entries = vec![best];
        for layer in (0..=level.min(top)).rev() {
            let warm = |q: u32| space.warm(q);
            let found = self.search_layer(&to, &warm, &entries, self.ef_construction, layer, None);
            let chosen = Self::select(space, &found, self.m);
            self.set_links(p, layer, &chosen);
            let most = if layer == 0 { self.m0 } else { self.m };
            for &n in &chosen {
                let mut links = self.links(n, layer).to_vec();
                if links.len() < most {
                    links.push(p);
                } else {
                    let mut scored: Vec<Scored> =
                        links.iter().chain([&p]).map(|&l| Scored(space.between(n, l), l)).collect();
                    scored.sort_by(|a, b| b.cmp(a));
                    links = Self::select(space, &scored, most);
                }
                self.set_links(n, layer, &links);
            }
            entries = found;
        }
        if level > top {
            self.entry = Some((p, level));
        }
    }

    /// The up to `ef` points most similar by `to` that `usable` accepts, most similar first,
    /// as (similarity, point); `warm` is [`Space::warm`].
    pub fn search(
        &self,
        to: impl Fn(u32) -> f32,
        warm: impl Fn(u32),
        ef: usize,
        usable: Option<&dyn Fn(u32) -> bool>,
    ) -> Vec<(f32, u32)> {
        let Some((entry, top)) = self.entry else { return Vec::new() };
        let mut best = Scored(to(entry), entry);
        for layer in (1..=top).rev() {
            best = self.greedy(&to, best, layer);
        }
        self.search_layer(&to, &warm, &[best], ef.max(1), 0, usable)
            .into_iter()
            .map(|s| (s.0, s.1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points on a circle: similarity is the cosine of the angle between them.
    struct Circle(Vec<f32>);

    impl Space for Circle {
        fn between(&self, a: u32, b: u32) -> f32 {
            (self.0[a as usize] - self.0[b as usize]).cos()
        }
    }

    fn circle(n: usize) -> (Circle, Graph) {
        // Angles in a scrambled order, so insertion order is not the circle's.
        let angles: Vec<f32> =
            (0..n).map(|i| ((i * 7919) % n) as f32 / n as f32 * std::f32::consts::TAU).collect();
        let space = Circle(angles);
        let mut graph = Graph::new(4, 32);
        for _ in 0..n {
            graph.insert(&space);
        }
        (space, graph)
    }

    #[test]
    fn a_search_finds_the_nearest_points_on_a_circle() {
        let (space, graph) = circle(2000);
        assert_eq!(graph.len(), 2000);
        for q in [0.0f32, 1.0, 2.5, 4.0, 6.0] {
            let to = |p: u32| (space.0[p as usize] - q).cos();
            let found = graph.search(to, |_| {}, 16, None);
            let mut exact: Vec<(f32, u32)> = (0..2000u32).map(|p| (to(p), p)).collect();
            exact.sort_by(|a, b| b.0.total_cmp(&a.0));
            let want: Vec<u32> = exact[..5].iter().map(|e| e.1).collect();
            let got: Vec<u32> = found[..5].iter().map(|e| e.1).collect();
            assert_eq!(got, want, "query at {q}");
        }
    }

    #[test]
    fn a_filtered_search_returns_only_accepted_points_and_still_fills_its_results() {
        let (space, graph) = circle(2000);
        let to = |p: u32| (space.0[p as usize] - 1.0).cos();
        let tenth = |p: u32| p.is_multiple_of(10);
        let found = graph.search(to, |_| {}, 10, Some(&tenth));
        assert_eq!(found.len(), 10);
        assert!(found.iter().all(|(_, p)| p.is_multiple_of(10)));
        let mut exact: Vec<(f32, u32)> =
            (0..2000u32).filter(|p| p.is_multiple_of(10)).map(|p| (to(p), p)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert_eq!(found[0].1, exact[0].1);
    }

    #[test]
    fn links_are_bounded_and_the_heap_is_counted() {
        let (_, graph) = circle(500);
        for p in 0..500u32 {
            assert!(graph.links(p, 0).len() <= graph.m0);
            assert!(!graph.links(p, 0).is_empty(), "point {p} is linked");
            for layer in 1..=MAX_LEVEL {
                assert!(graph.links(p, layer).len() <= graph.m);
            }
        }
        assert!(graph.heap_bytes() >= 500 * 8 * 4);
        assert!(Graph::new(16, 100).is_empty());
        assert!(Graph::new(16, 100).search(|_| 0.0, |_| {}, 10, None).is_empty());
    }
}
