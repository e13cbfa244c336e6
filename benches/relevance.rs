//! Search relevance: NDCG@10 and recall@10 of keyword, semantic and hybrid search on a
//! labelled evaluation built from real data (scripts/relevance_eval_data.py): the 1,016 O*NET
//! occupations (title and description) as jobs, 300 real job titles from network-jobs-data as
//! queries, an occupation relevant to a query when its SOC group is one the query's category
//! maps to. Keyword search is the baseline.
//!
//! Runs the real search service in process over an in-memory database, with the real
//! embedding model. `scripts/bench.sh relevance` writes the data first. Knob: BENCH_RELEVANCE
//! (the data folder, default ~/.cache/jobportal/relevance).

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use jobportal::app::App;
use jobportal::core::config::{DbConfig, ServeConfig};
use jobportal::db::Database;
use jobportal::db::migrations::Migrator;
use jobportal::services::search::{self, SearchParams};
use serde_json::Value;

fn ndcg_at_10(ranked: &[String], relevant: &HashSet<String>) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, id)| relevant.contains(*id))
        .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(10)).map(|i| 1.0 / (i as f64 + 2.0).log2()).sum();
    if ideal == 0.0 { 0.0 } else { dcg / ideal }
}

fn main() {
    // SAFETY: no other thread runs yet.
    unsafe { jobportal::ai::fix_thread_count() };
    let dir = std::env::var("BENCH_RELEVANCE").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/jobportal/relevance")
    });
    let docs = std::fs::read_to_string(dir.join("onet-jobs.jsonl"))
        .expect("run scripts/relevance_eval_data.py first");
    let queries: Vec<Value> = std::fs::read_to_string(dir.join("queries.jsonl"))
        .expect("queries.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a query line"))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = Database::connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db).apply(|_| {}).await.unwrap();
        let config = ServeConfig {
            models_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models"),
            ..ServeConfig::default()
        };
        let ctx = App::builder(config).start(&db).await.expect("the app starts").services;
        let input = jobportal::services::import::Input {
            name: "onet-jobs.jsonl".into(),
            reader: Box::new(std::io::Cursor::new(docs.into_bytes())),
            format: None,
        };
        let summary =
            jobportal::services::import::import(&ctx, vec![input], &Default::default(), &mut ())
                .await
                .unwrap();
        assert!(
            matches!(ctx.ai.load_embedder().await, jobportal::ai::ModelState::Loaded(_)),
            "run scripts/models.sh"
        );
        let started = Instant::now();
        let report =
            jobportal::services::embeddings::sync_jobs(&ctx, |_| {}).await.unwrap().unwrap();
        println!(
            "\n{} O*NET occupations imported ({} created), {} embedded in {:.1} s; {} queries",
            summary.created + summary.updated + summary.unchanged,
            summary.created,
            report.embedded,
            started.elapsed().as_secs_f64(),
            queries.len()
        );
        let mut rows: BTreeMap<&str, (f64, f64, usize, f64)> = BTreeMap::new();
        let mut by_category: BTreeMap<String, BTreeMap<&str, f64>> = BTreeMap::new();
        for mode in ["keyword", "semantic", "hybrid"] {
            let (mut ndcg, mut recall, mut answered) = (0.0, 0.0, 0);
            let started = Instant::now();
            for query in &queries {
                let relevant: HashSet<String> = query["relevant"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                let result = search::search(
                    &ctx,
                    SearchParams {
                        q: query["query"].as_str().map(str::to_owned),
                        limit: Some(10),
                        facets: Some(false),
                        mode: Some(mode.into()),
                        ..SearchParams::default()
                    },
                )
                .await
                .unwrap();
                let ranked: Vec<String> =
                    result.jobs.iter().map(|listing| listing.0.external_id.clone()).collect();
                if !ranked.is_empty() {
                    answered += 1;
                }
                let n = ndcg_at_10(&ranked, &relevant);
                ndcg += n;
                recall += ranked.iter().filter(|id| relevant.contains(*id)).count() as f64
                    / relevant.len() as f64;
                *by_category
                    .entry(query["category"].as_str().unwrap().to_owned())
                    .or_default()
                    .entry(mode)
                    .or_default() += n;
            }
            let q = queries.len() as f64;
            rows.insert(
                mode,
                (ndcg / q, recall / q, answered, started.elapsed().as_secs_f64() * 1000.0 / q),
            );
        }
        let (base_ndcg, base_recall, _, _) = rows["keyword"];
        println!(
            "{:<10} {:>9} {:>11} {:>10} {:>12} {:>16} {:>10}",
            "mode",
            "NDCG@10",
            "vs keyword",
            "recall@10",
            "vs keyword",
            "queries with hits",
            "ms/query"
        );
        for mode in ["keyword", "semantic", "hybrid"] {
            let (ndcg, recall, answered, ms) = rows[mode];
            println!(
                "{mode:<10} {ndcg:>9.3} {:>10.2}x {recall:>10.3} {:>11.2}x {:>16} {ms:>10.1}",
                ndcg / base_ndcg.max(1e-9),
                recall / base_recall.max(1e-9),
                format!("{answered}/{}", queries.len())
            );
        }
        println!("\nNDCG@10 by query category (keyword / semantic / hybrid):");
        for (category, modes) in &by_category {
            let n = queries.iter().filter(|q| q["category"] == category.as_str()).count() as f64;
            println!(
                "  {category:<18} {:.3} / {:.3} / {:.3}  ({n} queries)",
                modes.get("keyword").unwrap_or(&0.0) / n,
                modes.get("semantic").unwrap_or(&0.0) / n,
                modes.get("hybrid").unwrap_or(&0.0) / n
            );
        }
    });
}
