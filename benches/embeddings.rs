//! Sentence embeddings: texts per second at batch 1 and batch 32, the time to embed every
//! distinct title of a job import (the search benchmark's backfill) and the peak RSS of the
//! embedder (jobportal-bert), beside the reference implementation (sentence-transformers on
//! PyTorch, CPU, same weights, same texts, same thread count) when BENCH_PYTHON names a Python
//! that has it (`scripts/bench.sh embeddings` makes that venv), and how closely the two agree.
//!
//! Texts: the titles and descriptions of the real postings in fixtures/jobs, each made unique
//! per call (the embedder's cache would otherwise answer repeats without the model). The
//! backfill embeds the distinct titles of BENCH_SOURCE (JSON Lines postings, as the search
//! benchmark imports; `scripts/bench.sh embeddings` fetches them) in requests of 256, as the
//! search benchmark does, or of fixtures/jobs without it. Knobs: BENCH_SECONDS per measurement
//! (default 5), BENCH_PYTHON, BENCH_SOURCE, BENCH_TITLES (at most this many titles).

use std::path::Path;
use std::time::{Duration, Instant};

use jobportal::ai::providers::embedder::{Embedder, cosine};

#[path = "common/proc_status.rs"]
mod proc_status;
#[path = "common/source.rs"]
mod source;

fn texts() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs/network-jobs-300.jsonl");
    let text = std::fs::read_to_string(path).expect("fixtures/jobs");
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            let title = v["title"].as_str().unwrap_or_default();
            let company = v["company"]["name"].as_str().unwrap_or_default();
            let category = v["category"].as_str().unwrap_or_default();
            format!("{title} at {company}. {category}.")
        })
        .collect()
}

/// The distinct titles of BENCH_SOURCE's postings (or of fixtures/jobs), sorted, at most
/// BENCH_TITLES of them.
fn titles() -> Vec<String> {
    let mut titles = source::distinct_titles();
    let most = std::env::var("BENCH_TITLES").ok().and_then(|v| v.parse().ok());
    titles.truncate(most.unwrap_or(usize::MAX));
    titles
}

fn main() {
    let seconds: f64 =
        std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5.0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // SAFETY: no other thread runs yet.
    unsafe { jobportal::ai::fix_thread_count() };
    let texts = texts();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let before = proc_status::status_mib("VmRSS:");
    let started = Instant::now();
    let embedder = Embedder::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/embed"))
        .expect("the embedding model (run scripts/models.sh)");
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let rate = |batch: usize| -> f64 {
        runtime.block_on(async {
            let budget = Duration::from_secs_f64(seconds);
            let start = Instant::now();
            let (mut done, mut i) = (0usize, 0usize);
            while start.elapsed() < budget || done < 3 * batch {
                let chunk: Vec<String> = (0..batch)
                    .map(|k| format!("{} #{}", texts[(i + k) % texts.len()], i + k))
                    .collect();
                embedder.embed(&chunk).await.unwrap();
                done += batch;
                i += batch;
            }
            done as f64 / start.elapsed().as_secs_f64()
        })
    };
    rate(1);
    let batch1 = rate(1);
    let batch32 = rate(32);
    let titles = titles();
    let backfill = runtime.block_on(async {
        let start = Instant::now();
        for chunk in titles.chunks(256) {
            embedder.embed(chunk).await.unwrap();
        }
        start.elapsed().as_secs_f64()
    });
    let peak = proc_status::status_mib("VmHWM:");
    let ours = runtime.block_on(embedder.embed(&texts[..3])).unwrap();

    println!(
        "\nall-MiniLM-L6-v2 sentence embeddings, {threads} threads, {} distinct texts, {seconds} s per figure",
        texts.len()
    );
    println!(
        "model load {load_ms:.0} ms; RSS before load {before:.0} MiB; kernels {:?}",
        jobportal_bert::kernels::Simd::detect()
    );
    let reference = std::env::var("BENCH_PYTHON").ok().and_then(|python| {
        let file = std::env::temp_dir().join("jobportal-bench-texts.json");
        std::fs::write(&file, serde_json::to_vec(&texts).unwrap()).unwrap();
        let titles_file = std::env::temp_dir().join("jobportal-bench-titles.json");
        std::fs::write(&titles_file, serde_json::to_vec(&titles).unwrap()).unwrap();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/embeddings_reference.py");
        let output = std::process::Command::new(python)
            .arg(script)
            .arg(&file)
            .arg(seconds.to_string())
            .arg(threads.to_string())
            .arg(&titles_file)
            .output()
            .ok()?;
        if !output.status.success() {
            eprintln!("reference failed: {}", String::from_utf8_lossy(&output.stderr));
            return None;
        }
        serde_json::from_slice::<serde_json::Value>(
            output.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty())?,
        )
        .ok()
    });
    println!("{:<34} {:>14} {:>14} {:>14}", "", "ours", "PyTorch (ref)", "ours / ref");
    let row = |name: &str, ours: f64, key: &str| match &reference {
        Some(r) => {
            let theirs = r[key].as_f64().unwrap_or(f64::NAN);
            println!("{name:<34} {ours:>14.1} {theirs:>14.1} {:>13.2}x", ours / theirs);
        }
        None => println!("{name:<34} {ours:>14.1} {:>14} {:>14}", "-", "-"),
    };
    row("texts/s, batch 1", batch1, "batch1");
    row("texts/s, batch 32", batch32, "batch32");
    row(&format!("backfill of {} titles, s", titles.len()), backfill, "backfill_s");
    row("peak RSS, MiB", peak, "rss_mib");
    match &reference {
        Some(r) => {
            let sample: Vec<Vec<f32>> =
                serde_json::from_value(r["sample"].clone()).unwrap_or_default();
            let worst = sample
                .iter()
                .zip(&ours)
                .map(|(theirs, ours)| cosine(theirs, ours))
                .fold(f32::MAX, f32::min);
            println!(
                "agreement: lowest cosine between the two outputs over 3 texts: {worst:.6} (torch {})",
                r["torch"]
            );
        }
        None => println!(
            "(no reference: set BENCH_PYTHON to a Python with sentence-transformers, or run scripts/bench.sh embeddings)"
        ),
    }
}
