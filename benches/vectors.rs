//! The HNSW job vector collection at scale: build time, heap, queries per second and recall@10
//! against exact f32 search, without a filter and with filters that keep 50%, 10% and 2% of
//! the points; beside the previous collection (f32 vectors beside an hnsw_rs graph, which keeps
//! its own copy) on the same vectors in the same run, and beside exact search over the 8-bit
//! codes and over f16 (the quantization's own loss).
//!
//! Vectors: real embeddings of distinct real job titles (BENCH_SOURCE, JSON Lines postings;
//! default fixtures/jobs; `scripts/bench.sh vectors` passes every posting of the
//! network-jobs-data package), scaled to BENCH_VECTORS (default 100,000) by adding a little
//! noise to each real vector and normalising, so the data keeps the real clusters. Queries are
//! other noisy copies. Knobs: BENCH_VECTORS, BENCH_REAL (most real titles to embed, default
//! 5,000), BENCH_QUERIES (default 200), BENCH_SOURCE.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use hnsw_rs::prelude::{DataId, Distance, FilterT, Hnsw};
use jobportal::ai::providers::embedder::Embedder;
use jobportal::ai::rag::vectorstore::{HnswConfig, VectorIndex, dot};
use jobportal::core::memory::Counting;
use rand::{Rng, SeedableRng};

#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "common/scaled.rs"]
mod scaled;
#[path = "common/source.rs"]
mod source;
use scaled::noisy;

/// Counts the heap, so each collection's share is measured.
#[global_allocator]
static ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

fn heap_bytes() -> u64 {
    jobportal::core::memory::heap_bytes().unwrap_or(0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `x` rounded to the nearest f16 (10 bits of mantissa; below f16's smallest normal the
/// precision kept is f32's, which favours f16 slightly).
fn to_f16(x: f32) -> f32 {
    let bits = x.to_bits();
    f32::from_bits((bits + 0x0FFF + ((bits >> 13) & 1)) & !0x1FFF)
}

/// The 10 keys most similar to `query` among the usable vectors, by exact f32 dot product.
fn exact_f32<V: AsRef<[f32]>>(
    vectors: &[V],
    query: &[f32],
    usable: &dyn Fn(usize) -> bool,
    keys: &[String],
) -> HashSet<String> {
    let mut scored: Vec<(f32, usize)> = (0..vectors.len())
        .filter(|&i| usable(i))
        .map(|i| (dot(query, vectors[i].as_ref()), i))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(10).map(|(_, i)| keys[i].clone()).collect()
}

/// 1 − dot product: hnsw_rs's distance for the previous collection.
#[derive(Clone, Copy, Default)]
struct UnitDot;

impl Distance<f32> for UnitDot {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        (1.0 - dot(a, b)).max(0.0)
    }
}

/// The previous collection as it searched: its own f32 copy of every vector beside an hnsw_rs
/// graph built from them (in parallel), searched with a filter when one is given (the allowed
/// keys looked up to a mask of data ids on every search, as it did).
struct F32Graph {
    _vectors: Vec<Arc<[f32]>>,
    ids: HashMap<String, usize>,
    graph: Hnsw<'static, f32, UnitDot>,
}

impl F32Graph {
    fn build(vectors: &[Arc<[f32]>], keys: &[String], config: HnswConfig) -> F32Graph {
        let copies: Vec<Arc<[f32]>> = vectors.iter().map(|v| Arc::from(&v[..])).collect();
        let mut graph =
            Hnsw::new(config.m, copies.len().max(1_000), 16, config.ef_construction, UnitDot);
        graph.set_extend_candidates(false);
        let refs: Vec<(&[f32], usize)> =
            copies.iter().enumerate().map(|(i, v)| (&v[..], i)).collect();
        graph.parallel_insert_slice(&refs);
        let ids = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        F32Graph { _vectors: copies, ids, graph }
    }

    fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        allow: Option<&HashSet<String>>,
        keys: &[String],
    ) -> Vec<String> {
        let found = match allow {
            None => self.graph.search(query, k, ef.max(k)),
            Some(allow) => {
                let mut mask = vec![false; keys.len()];
                for key in allow {
                    if let Some(&id) = self.ids.get(key) {
                        mask[id] = true;
                    }
                }
                let filter = |id: &DataId| mask[*id];
                self.graph.search_filter(query, k, ef.max(k), Some(&filter as &dyn FilterT))
            }
        };
        found.into_iter().map(|n| keys[n.d_id].clone()).collect()
    }
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let count = env_or("BENCH_VECTORS", 100_000);
    let real_max = env_or("BENCH_REAL", 5_000);
    let query_count = env_or("BENCH_QUERIES", 200);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // SAFETY: no other thread runs yet.
    unsafe { jobportal::ai::fix_thread_count() };
    let mut titles = source::distinct_titles();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // A fixed sample of the titles.
    for i in (1..titles.len()).rev() {
        titles.swap(i, rng.random_range(0..=i));
    }
    titles.truncate(real_max);

    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let embedder = Embedder::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/embed"))
        .expect("run scripts/models.sh");
    let started = Instant::now();
    let real: Vec<Arc<[f32]>> = runtime.block_on(async {
        let mut out = Vec::new();
        for chunk in titles.chunks(256) {
            out.extend(embedder.embed(chunk).await.unwrap());
        }
        out
    });
    println!(
        "\n{} real titles from {} embedded in {:.1} s; scaled to {count} vectors of 384 dims",
        real.len(),
        source::path().display(),
        started.elapsed().as_secs_f64()
    );

    let config = HnswConfig { exact_below: 0, ..HnswConfig::default() };
    let vectors: Vec<Arc<[f32]>> =
        (0..count).map(|i| noisy(&real[i % real.len()], &mut rng, 0.35)).collect();
    let keys: Vec<String> = (0..count).map(|i| format!("v{i}")).collect();
    let queries: Vec<Arc<[f32]>> =
        (0..query_count).map(|i| noisy(&real[(i * 7919) % real.len()], &mut rng, 0.5)).collect();

    // The previous collection: f32 vectors kept beside an hnsw_rs graph (which copies them).
    let heap = heap_bytes();
    let started = Instant::now();
    let previous = F32Graph::build(&vectors, &keys, config);
    let previous_build = started.elapsed().as_secs_f64();
    let previous_heap = heap_bytes() - heap;
    // This collection: one copy as 8-bit codes, a graph of links only.
    let heap = heap_bytes();
    let started = Instant::now();
    let mut graph = VectorIndex::new(config);
    for (key, v) in keys.iter().zip(&vectors) {
        graph.upsert(key, v.clone(), [0; 16]);
    }
    graph.index_tail();
    let build = started.elapsed().as_secs_f64();
    let heap_now = heap_bytes() - heap;
    let footprint = graph.footprint();
    let exact_codes = VectorIndex::new(HnswConfig { exact_below: usize::MAX, ..config });
    for (key, v) in keys.iter().zip(&vectors) {
        exact_codes.upsert(key, v.clone(), [0; 16]);
    }
    let f16: Vec<Vec<f32>> =
        vectors.iter().map(|v| v.iter().map(|&x| to_f16(x)).collect()).collect();
    println!(
        "\nbuild, M={}, ef_construction={}, {threads} threads available:\n\
         {:<44} {:>8.1} s ({:>6.0} vectors/s), heap {:>6.1} MiB ({:>5.0} bytes a vector)\n\
         {:<44} {:>8.1} s ({:>6.0} vectors/s), heap {:>6.1} MiB ({:>5.0} bytes a vector: codes {:.1}, keys {:.1}, graph {:.1} MiB); {:.2}x the heap",
        config.m,
        config.ef_construction,
        "f32 beside hnsw_rs (the previous collection)",
        previous_build,
        count as f64 / previous_build,
        mib(previous_heap),
        previous_heap as f64 / count as f64,
        "int8 codes, graph of links (this collection)",
        build,
        count as f64 / build,
        mib(heap_now),
        heap_now as f64 / count as f64,
        mib(footprint.vectors),
        mib(footprint.keys),
        mib(footprint.graph),
        heap_now as f64 / previous_heap as f64,
    );

    // What `serve` does at a stop and a start instead of building the graph again.
    let file = std::env::temp_dir().join(format!("bench-vectors-{}.bin", std::process::id()));
    let started = Instant::now();
    graph.save(&file).unwrap();
    let saved = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let started = Instant::now();
    let opened = VectorIndex::open(config, vectors[0].len(), &file).unwrap().unwrap();
    let open = started.elapsed().as_secs_f64();
    assert_eq!(opened.shape(), graph.shape());
    drop(opened);
    let _ = std::fs::remove_file(&file);
    println!(
        "the collection's file ({:.1} MiB): written in {saved:.2} s, read in {open:.2} s \
         ({:.3}x the build's {build:.1} s)",
        mib(bytes),
        open / build,
    );

    let keep = |every: usize| -> HashSet<String> {
        (0..count).filter(|i| i % every == 0).map(|i| format!("v{i}")).collect()
    };
    let (half, tenth, fiftieth) = (keep(2), keep(10), keep(50));
    for (name, allow) in [
        ("no filter", None),
        ("filter keeping 50%", Some(&half)),
        ("filter keeping 10%", Some(&tenth)),
        ("filter keeping 2%", Some(&fiftieth)),
    ] {
        let allowed: Option<Vec<bool>> =
            allow.map(|a| (0..count).map(|i| a.contains(&keys[i])).collect());
        let allow_keys: Option<Vec<String>> = allow.map(|a| a.iter().cloned().collect());
        let usable = |i: usize| allowed.as_ref().is_none_or(|a| a[i]);
        let started = Instant::now();
        let truth: Vec<HashSet<String>> =
            queries.iter().map(|q| exact_f32(&vectors, q, &usable, &keys)).collect();
        let exact_qps = queries.len() as f64 / started.elapsed().as_secs_f64();
        let recall = |results: &[Vec<String>]| -> f64 {
            let found: usize = results
                .iter()
                .zip(&truth)
                .map(|(r, t)| r.iter().filter(|k| t.contains(*k)).count())
                .sum();
            found as f64 / truth.iter().map(HashSet::len).sum::<usize>() as f64
        };
        let codes_results: Vec<Vec<String>> = queries
            .iter()
            .map(|q| {
                exact_codes
                    .search(q, 10, allow_keys.as_deref())
                    .into_iter()
                    .map(|h| h.key)
                    .collect()
            })
            .collect();
        let f16_results: Vec<Vec<String>> = queries
            .iter()
            .map(|q| exact_f32(&f16, q, &usable, &keys).into_iter().collect())
            .collect();
        println!(
            "\n{name}: exact f32 search (the truth) {exact_qps:.1} queries/s, one thread; exact over \
             int8 codes, rescored in f32: recall@10 {:.3} (exact over f16: {:.3})",
            recall(&codes_results),
            recall(&f16_results)
        );
        println!(
            "{:>10} {:>14} {:>10} {:>14} {:>10} {:>9}",
            "ef_search", "f32+hnsw_rs q/s", "recall@10", "int8+graph q/s", "recall@10", "q/s ratio"
        );
        for ef in [32, 64, 96, 128, 256] {
            graph.set_ef_search(ef);
            let started = Instant::now();
            let old: Vec<Vec<String>> =
                queries.iter().map(|q| previous.search(q, 10, ef, allow, &keys)).collect();
            let old_qps = queries.len() as f64 / started.elapsed().as_secs_f64();
            let started = Instant::now();
            let new: Vec<Vec<String>> = queries
                .iter()
                .map(|q| {
                    graph.search(q, 10, allow_keys.as_deref()).into_iter().map(|h| h.key).collect()
                })
                .collect();
            let qps = queries.len() as f64 / started.elapsed().as_secs_f64();
            let marker = if ef == HnswConfig::default().ef_search { "  <- default" } else { "" };
            println!(
                "{ef:>10} {old_qps:>14.1} {:>10.3} {qps:>14.1} {:>10.3} {:>8.2}x{marker}",
                recall(&old),
                recall(&new),
                qps / old_qps,
            );
        }
    }
    println!("\npeak RSS {:.0} MiB", proc_status::status_mib("VmHWM:"));
}
