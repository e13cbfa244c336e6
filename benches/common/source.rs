//! The postings a benchmark reads its texts from: BENCH_SOURCE (JSON Lines), or the fixture
//! postings when it is unset.

use std::path::{Path, PathBuf};

/// The file of the postings.
pub fn path() -> PathBuf {
    std::env::var("BENCH_SOURCE").map(PathBuf::from).unwrap_or_else(|_| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs/network-jobs-300.jsonl")
    })
}

/// The distinct titles of the source's postings, sorted.
#[allow(dead_code, reason = "the embeddings and vectors benchmarks', not the others'")]
pub fn distinct_titles() -> Vec<String> {
    let mut titles: Vec<String> = std::fs::read_to_string(path())
        .expect("BENCH_SOURCE")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["title"].as_str().map(str::to_owned))
        .collect();
    titles.sort();
    titles.dedup();
    titles
}
