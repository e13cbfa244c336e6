//! The HNSW job vector collection at scale: build time, queries per second and recall@10
//! against exact search (the baseline, run in the same process on the same vectors), without
//! a filter and with filters that keep 50%, 10% and 2% of the points.
//!
//! Vectors: real embeddings of distinct real job titles (BENCH_SOURCE, JSON Lines postings;
//! default fixtures/jobs; `scripts/bench.sh vectors` passes every posting of the
//! network-jobs-data package), scaled to BENCH_VECTORS (default 100,000) by adding a little
//! noise to each real vector and normalising, so the data keeps the real clusters. Queries are
//! other noisy copies. Knobs: BENCH_VECTORS, BENCH_REAL (most real titles to embed, default
//! 5,000), BENCH_QUERIES (default 200), BENCH_SOURCE.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use jobportal::ai::providers::embedder::Embedder;
use jobportal::ai::rag::vectorstore::{HnswConfig, VectorIndex};
use rand::{Rng, SeedableRng};

#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "common/scaled.rs"]
mod scaled;
use scaled::noisy;

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
    let source = std::env::var("BENCH_SOURCE").map(PathBuf::from).unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs/network-jobs-300.jsonl")
    });
    let mut titles: Vec<String> = std::fs::read_to_string(&source)
        .expect("BENCH_SOURCE")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["title"].as_str().map(str::to_owned))
        .collect();
    titles.sort();
    titles.dedup();
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
        source.display(),
        started.elapsed().as_secs_f64()
    );

    let config = HnswConfig { exact_below: 0, ..HnswConfig::default() };
    let mut graph = VectorIndex::new(config);
    let exact = VectorIndex::new(HnswConfig { exact_below: usize::MAX, ..config });
    for i in 0..count {
        let v = noisy(&real[i % real.len()], &mut rng, 0.35);
        graph.upsert(&format!("v{i}"), v.clone(), [0; 16]);
        exact.upsert(&format!("v{i}"), v, [0; 16]);
    }
    let queries: Vec<Arc<[f32]>> =
        (0..query_count).map(|i| noisy(&real[(i * 7919) % real.len()], &mut rng, 0.5)).collect();
    let started = Instant::now();
    graph.index_tail();
    let build = started.elapsed().as_secs_f64();
    println!(
        "HNSW build: {build:.1} s ({:.0} vectors/s, M={}, ef_construction={}, {threads} threads)",
        count as f64 / build,
        config.m,
        config.ef_construction
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
        let started = Instant::now();
        let truth: Vec<HashSet<String>> = queries
            .iter()
            .map(|q| exact.search(q, 10, allow).into_iter().map(|h| h.key).collect())
            .collect();
        let exact_qps = queries.len() as f64 / started.elapsed().as_secs_f64();
        println!("\n{name}: exact search (the baseline) {exact_qps:.1} queries/s, one thread");
        println!("{:>10} {:>14} {:>12} {:>10}", "ef_search", "queries/s", "vs exact", "recall@10");
        for ef in [32, 64, 96, 128, 256] {
            graph.set_ef_search(ef);
            let started = Instant::now();
            let results: Vec<Vec<String>> = queries
                .iter()
                .map(|q| graph.search(q, 10, allow).into_iter().map(|h| h.key).collect())
                .collect();
            let qps = queries.len() as f64 / started.elapsed().as_secs_f64();
            let found: usize = results
                .iter()
                .zip(&truth)
                .map(|(r, t)| r.iter().filter(|k| t.contains(*k)).count())
                .sum();
            let wanted: usize = truth.iter().map(HashSet::len).sum();
            let marker = if ef == HnswConfig::default().ef_search { "  <- default" } else { "" };
            println!(
                "{ef:>10} {qps:>14.1} {:>11.1}x {:>10.3}{marker}",
                qps / exact_qps,
                found as f64 / wanted as f64
            );
        }
    }
    println!("\npeak RSS {:.0} MiB", proc_status::status_mib("VmHWM:"));
}
