//! Search and import at scale, with the real binary.
//!
//! 1. Writes BENCH_JOBS (default 100,000) jobs as JSON Lines, scaled from real postings
//!    (BENCH_SOURCE, default the fixtures; `scripts/bench.sh search` passes every posting of
//!    the network-jobs-data package): real titles, companies, locations and categories, mixed
//!    so each combination is new, with generated skills, salaries and descriptions.
//! 2. Imports them with `jobportal import-jobs` and reports records/s and the peak RSS, beside
//!    SurrealDB's own write path for the same jobs: into the job table alone, and into a
//!    schemaless table without indexes, measured just before and just after the imports (the
//!    machine's speed drifts; the two show by how much during the run).
//! 3. Serves them with `jobportal serve` and loads typical searches with wrk at 1 and 32
//!    connections, beside `/healthz` on the same server (the floor): p50, p99, requests/s.
//!    The job vectors (scaled from real embeddings of every distinct title, see
//!    benches/common/scaled.rs) are stored before `serve` starts, so it loads them instead of
//!    running the model over 100k jobs; semantic and hybrid searches are loaded the same way
//!    (wrk repeats one URL, so the query's embedding, and its ranking while the index and the
//!    vectors are unchanged, are remembered after the first request: `scripts/bench.sh
//!    embeddings` measures the model itself). The rows of "different" searches rotate through
//!    more URLs than are remembered: 3,000 keyword searches, and 360 semantic ones (20
//!    phrases, whose embeddings are remembered, over 18 pairs of filters), each of which walks
//!    the vector graph. Then the suggestions:
//!    typeahead, a zero-hit search with and without a did-you-mean correction, and salary
//!    insights, the same way.
//!    Last, serve's peak RSS and where its memory goes: its own `memory` log lines after each
//!    start phase and as it stops (resident set by mapping, heap by size of block, and the heap
//!    the job vectors, their graph and the suggestions report).
//! 4. Asks the same index directly (no HTTP, no database) for the same word, then loads the
//!    same titles, skills and descriptions into SurrealDB with a `FULLTEXT … BM25` index and
//!    asks it the same ranked questions.
//!
//! `cargo bench --bench search` (release), or `scripts/bench.sh search`. Knobs: BENCH_JOBS,
//! BENCH_SECONDS (per wrk run, default 10), BENCH_SOURCE, BENCH_SURREAL_JOBS (default
//! BENCH_JOBS; 0 skips the SurrealDB comparison), BENCH_ONLY=import (stop after step 2),
//! BENCH_KEEP=1 (keep the generated file and data directory, and print where they are),
//! BENCH_BINARY (the `jobportal` binary to run, default the one cargo built with the bench).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jobportal::core::config::DbConfig;
use jobportal::db::{Database, Executor};
use jobportal::repositories::job_index::{IndexQuery, JobIndex, index_dir};
use serde_json::{Value, json};

#[path = "common/postings.rs"]
mod postings;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/scaled.rs"]
mod scaled;
#[path = "common/source.rs"]
mod source;

use processes::{Server, jobportal, peak_rss_kib, run_measured, wait_for_log};

use postings::{Source, generate, read_source};

/// The allocator the binary uses, so the in-process rows compare with it, counted as the
/// binary counts it.
#[global_allocator]
static ALLOCATOR: jobportal::core::memory::Counting<mimalloc::MiMalloc> =
    jobportal::core::memory::Counting(mimalloc::MiMalloc);

/// Live heap bytes in blocks under 16 MiB (larger ones are resident only where written).
fn small_heap() -> u64 {
    use jobportal::core::memory::{heap_bytes, large_heap_bytes};
    heap_bytes().unwrap_or(0).saturating_sub(large_heap_bytes().unwrap_or(0))
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn serve(data: &Path, log: &Path) -> Server {
    let mut command = jobportal(data);
    command.args(["serve", "--addr", "127.0.0.1:0"]).env("JOBPORTAL_RUN_WORKERS", "false");
    Server::start(&mut command, log)
}

#[derive(Clone, Copy)]
struct Load {
    p50_ms: f64,
    p99_ms: f64,
    rps: f64,
}

fn duration_ms(text: &str) -> f64 {
    let text = text.trim();
    let (number, unit) =
        text.split_at(text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len()));
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

fn wrk(url: &str, connections: u32, seconds: u64) -> Load {
    wrk_with(url, None, connections, seconds)
}

/// wrk on `url`, or with `script` (a Lua file that picks each request's path).
fn wrk_with(url: &str, script: Option<&Path>, connections: u32, seconds: u64) -> Load {
    let threads = connections.min(2);
    let mut command = Command::new("wrk");
    command.args(["--latency", "-t", &threads.to_string(), "-c", &connections.to_string()]).args([
        "-d",
        &format!("{seconds}s"),
        "--timeout",
        "10s",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().expect("wrk runs (scripts/bench.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk failed: {text}");
    assert!(!text.contains("Non-2xx"), "errors under load on {url}: {text}");
    let percentile = |p: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p).map(duration_ms))
            .unwrap_or_else(|| panic!("no {p} in wrk output: {text}"))
    };
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:").and_then(|v| v.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output: {text}"));
    Load { p50_ms: percentile("50%"), p99_ms: percentile("99%"), rps }
}

/// Searches that differ from one request to the next, so neither the index's remembered
/// answers nor the remembered listings serve them all: `count` paths built from the words of
/// the real titles (the most frequent first), as a wrk script that walks them in turn (each wrk
/// thread from its own starting point).
fn rotating_script(
    source: &Source,
    count: usize,
    out: &Path,
    path_of: impl Fn(usize, &[&str]) -> String,
) -> usize {
    let words = postings::title_words(source);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let paths: Vec<String> = (0..count).map(|i| path_of(i, &words)).collect();
    let mut lua = String::from("local paths = {\n");
    for path in &paths {
        lua.push_str(&format!("  {path:?},\n"));
    }
    lua.push_str(
        "}\nlocal threads = 0\nfunction setup(thread)\n  thread:set(\"start\", threads * 7919)\n  threads = threads + 1\nend\n\
         local i = nil\nfunction request()\n  if i == nil then i = start end\n  i = i + 1\n\
         return wrk.format(nil, paths[(i % #paths) + 1])\nend\n",
    );
    std::fs::write(out, lua).unwrap();
    paths.len()
}

/// One row of the load table: the latencies and rate, and their ratios to the floor's.
fn print_row(name: &str, connections: u32, load: Load, floor: Load) {
    println!(
        "{name:<40} {connections:>5} {:>9.2} {:>9.2} {:>10.0} {:>10.2}x {:>10.0}%",
        load.p50_ms,
        load.p99_ms,
        load.rps,
        load.p99_ms / floor.p99_ms,
        100.0 * load.rps / floor.rps
    );
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99))
}

/// The same titles, skills and descriptions in SurrealDB with its own BM25 full-text index.
fn surreal_fulltext(runtime: &tokio::runtime::Runtime, file: &Path, count: u64, words: &[&str]) {
    runtime.block_on(async {
        let db = Database::connect(&DbConfig::memory()).await.unwrap();
        db.query(
            "DEFINE TABLE bench SCHEMALESS; \
             DEFINE ANALYZER bench_words TOKENIZERS blank, class, punct FILTERS lowercase, ascii, snowball(english); \
             DEFINE INDEX bench_title ON bench FIELDS title FULLTEXT ANALYZER bench_words BM25; \
             DEFINE INDEX bench_description ON bench FIELDS description FULLTEXT ANALYZER bench_words BM25;",
        )
        .await
        .unwrap()
        .check()
        .unwrap();
        let started = Instant::now();
        let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
        let mut batch = Vec::new();
        let mut loaded = 0u64;
        for line in reader.lines().take(count as usize) {
            let record: Value = serde_json::from_str(&line.unwrap()).unwrap();
            batch.push(json!({ "title": record["title"], "description": record["description"] }));
            if batch.len() == 1000 {
                loaded += batch.len() as u64;
                let rows = std::mem::take(&mut batch);
                db.query("INSERT INTO bench $rows RETURN NONE").bind(("rows", rows)).await.unwrap().check().unwrap();
            }
        }
        if !batch.is_empty() {
            loaded += batch.len() as u64;
            db.query("INSERT INTO bench $rows RETURN NONE").bind(("rows", batch)).await.unwrap().check().unwrap();
        }
        let load_seconds = started.elapsed().as_secs_f64();
        println!("\nSurrealDB FULLTEXT BM25 (in-process, in memory), {loaded} records indexed in {load_seconds:.1} s ({:.0}/s)", loaded as f64 / load_seconds);
        for word in words {
            let mut samples = Vec::new();
            let mut hits = 0;
            for _ in 0..3 {
                let started = Instant::now();
                let mut response = db
                    .query(
                        "SELECT id, search::score(1) AS score FROM bench WHERE title @1@ $q \
                         ORDER BY score DESC LIMIT 20",
                    )
                    .bind(("q", word.to_string()))
                    .await
                    .unwrap();
                let rows: Vec<Value> = response.take(0).unwrap();
                samples.push(started.elapsed());
                hits = rows.len();
            }
            let (p50, _) = percentiles(samples.clone());
            let max = samples.iter().max().unwrap().as_secs_f64() * 1000.0;
            println!("  top 20 by BM25 for {word:?}: median {p50:.1} ms, max {max:.1} ms over 3 runs ({hits} rows)");
        }
        db.close().await;
    });
}

/// The database's own write path for the same jobs, one 500-row transaction at a time, in
/// this process on disk (surrealkv, as `import-jobs`): into the job table as migrated (its
/// types and indexes), and the input records as they are into a schemaless table without
/// indexes, SurrealDB's floor. The gap between the two is the job table's cost. `db_dir` is
/// the database's directory (a new one). Returns records/s of the two.
fn surreal_writes(
    runtime: &tokio::runtime::Runtime,
    file: &Path,
    count: u64,
    db_dir: &Path,
) -> (f64, f64) {
    use jobportal::models::job::Review;
    use jobportal::repositories::jobs::NewJob;
    let reader = std::io::BufReader::new(std::fs::File::open(file).unwrap());
    let mut jobs = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in reader.lines().take(count as usize).enumerate() {
        let mut value: Value = serde_json::from_str(&line.unwrap()).unwrap();
        let record = jobportal::services::import::to_record(&value, "bench").unwrap();
        value["id"] = json!(format!("j{n}"));
        rows.push(value);
        let company_id = format!("c{}", n % 4096);
        jobs.push(NewJob {
            content_hash: jobportal::services::jobs::content_hash(
                &company_id,
                &record.fields,
                record.status,
            ),
            id: format!("j{n}"),
            company_id,
            fields: record.fields,
            status: record.status,
            review: Review::Approved,
            posted_at: record.posted_at,
            source: record.source,
            external_id: record.external_id,
            created_by: None,
        });
    }
    runtime.block_on(async {
        let config =
            DbConfig { url: format!("surrealkv://{}", db_dir.display()), ..DbConfig::memory() };
        let db = Database::connect(&config).await.unwrap();
        jobportal::db::migrations::Migrator::new(&db).apply(|_| {}).await.unwrap();
        let started = Instant::now();
        for chunk in jobs.chunks(500) {
            let tx = db.begin().await.unwrap();
            jobportal::repositories::jobs::insert_new(&tx, chunk)
                .await
                .unwrap()
                .expect("the jobs are new");
            tx.commit().await.unwrap();
        }
        let table = jobs.len() as f64 / started.elapsed().as_secs_f64();
        db.query("DEFINE TABLE bare SCHEMALESS").await.unwrap().check().unwrap();
        let started = Instant::now();
        for chunk in rows.chunks(500) {
            let tx = db.begin().await.unwrap();
            tx.query("INSERT INTO bare $rows RETURN NONE")
                .bind(("rows", chunk.to_vec()))
                .await
                .unwrap()
                .check()
                .unwrap();
            tx.commit().await.unwrap();
        }
        let bare = rows.len() as f64 / started.elapsed().as_secs_f64();
        db.close().await;
        (table, bare)
    })
}

/// Embeds every distinct title of the imported jobs and stores each job's vector (its title's,
/// scaled), keyed by the hash of the job's text as `serve` computes it, so `serve` loads them.
/// Returns (titles embedded, vectors stored).
async fn store_vectors(data: &Path) -> (usize, usize) {
    use jobportal::ai::providers::embedder::{self, Embedder};
    use jobportal::repositories::embeddings::StoredVector;
    use jobportal::services::embeddings::{job_text, text_hash};
    use rand::SeedableRng;
    let config = DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    };
    let db = Database::connect(&config).await.unwrap();
    // What the embedded database keeps after one read of every job (each page dropped).
    let heap = small_heap();
    let (mut read, mut after, mut since) =
        (0, None::<String>, chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap());
    loop {
        let page = jobportal::repositories::jobs::updated_after(&db, since, after.as_deref(), 5000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        (since, after, read) = (last.updated_at, Some(last.id.clone()), read + page.len());
        if page.len() < 5000 {
            break;
        }
    }
    println!(
        "SurrealDB (embedded, this process) holds {:.0} MiB more heap after reading {read} jobs once \
         (its block cache, at most JOBPORTAL_DB_CACHE: 16 MiB by default)",
        small_heap().saturating_sub(heap) as f64 / (1024.0 * 1024.0)
    );
    let mut jobs = Vec::new();
    let mut after: Option<String> = None;
    let mut since = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap();
    loop {
        let page = jobportal::repositories::jobs::updated_after(&db, since, after.as_deref(), 5000)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        // The next page starts after the last (updated_at, id) seen.
        since = last.updated_at;
        after = Some(last.id.clone());
        let full = page.len() == 5000;
        jobs.extend(page);
        if !full {
            break;
        }
    }
    let mut titles: Vec<String> = jobs.iter().map(|j| j.fields.title.clone()).collect();
    titles.sort();
    titles.dedup();
    let embedder = Embedder::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/embed"))
        .expect("run scripts/models.sh");
    let mut real = std::collections::HashMap::new();
    for chunk in titles.chunks(256) {
        for (title, vector) in chunk.iter().zip(embedder.embed(chunk).await.unwrap()) {
            real.insert(title.clone(), vector);
        }
    }
    let mut company_ids: Vec<String> = jobs.iter().map(|j| j.company_id.clone()).collect();
    company_ids.sort();
    company_ids.dedup();
    let mut names = std::collections::HashMap::new();
    for chunk in company_ids.chunks(1000) {
        names.extend(jobportal::repositories::jobs::company_names(&db, chunk).await.unwrap());
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for chunk in jobs.chunks(500) {
        let rows: Vec<StoredVector> = chunk
            .iter()
            .map(|job| {
                let text =
                    job_text(job, names.get(&job.company_id).map(String::as_str).unwrap_or(""));
                StoredVector {
                    job_id: job.id.clone(),
                    hash: hex::encode(text_hash(&text)),
                    vector: scaled::noisy(&real[&job.fields.title], &mut rng, 0.2).to_vec(),
                }
            })
            .collect();
        jobportal::repositories::embeddings::upsert_many(&db, &rows, embedder::MODEL_ID)
            .await
            .unwrap();
    }
    db.close().await;
    (titles.len(), jobs.len())
}

/// Waits until `/readyz` says `serve` holds every job vector, all in the HNSW graph.
fn wait_for_vectors(runtime: &tokio::runtime::Runtime, base: &str, vectors: usize) {
    let deadline = Instant::now() + Duration::from_secs(1800);
    let want = format!("{vectors} job vectors, 0 waiting");
    loop {
        let body: Value = runtime.block_on(async {
            reqwest::get(format!("{base}/readyz")).await.unwrap().json().await.unwrap()
        });
        let detail = body["models"]["embeddings"]["detail"].as_str().unwrap_or_default().to_owned();
        if detail.contains(&want) {
            return;
        }
        assert!(Instant::now() < deadline, "the job vectors did not load: {body}");
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn main() {
    let jobs = env_or("BENCH_JOBS", 100_000);
    let seconds = env_or("BENCH_SECONDS", 10);
    let surreal_jobs = env_or("BENCH_SURREAL_JOBS", jobs);
    let source_path = source::path();
    let mut dir = tempfile::tempdir().unwrap();
    if std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1") {
        dir.disable_cleanup(true);
        println!("the file and data directory are kept in {}", dir.path().display());
    }
    let data = dir.path().join("data");
    let file = dir.path().join("jobs.jsonl");
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    let source = read_source(&source_path);
    let distinct = generate(&source, jobs, &file);
    let size_mib = std::fs::metadata(&file).unwrap().len() as f64 / (1024.0 * 1024.0);
    println!("search benchmark ({profile} build, {cores} cores)");
    println!(
        "{jobs} jobs ({size_mib:.0} MiB of JSON Lines) from {} real postings of {} ({distinct} distinct titles)",
        source.titles.len(),
        source_path.display()
    );

    // Import, between two measures of SurrealDB's own write path.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let before = surreal_writes(&runtime, &file, jobs, &dir.path().join("writes-before"));
    let mut command = jobportal(&data);
    command.args(["import-jobs", "--source", "bench"]).arg(&file);
    let (elapsed, peak_kib, out) = run_measured(command);
    assert!(out.contains(&format!("{jobs} created")), "{out}");
    println!(
        "\nimport-jobs: {jobs} records in {:.1} s = {:.0} records/s, peak RSS {:.0} MiB",
        elapsed.as_secs_f64(),
        jobs as f64 / elapsed.as_secs_f64(),
        peak_kib as f64 / 1024.0
    );
    let mut command = jobportal(&data);
    command.args(["import-jobs", "--source", "bench"]).arg(&file);
    let (again, again_kib, out) = run_measured(command);
    assert!(out.contains(&format!("{jobs} unchanged")), "{out}");
    println!(
        "import-jobs again (all unchanged): {:.1} s = {:.0} records/s, peak RSS {:.0} MiB",
        again.as_secs_f64(),
        jobs as f64 / again.as_secs_f64(),
        again_kib as f64 / 1024.0
    );

    let after = surreal_writes(&runtime, &file, jobs, &dir.path().join("writes-after"));
    let import_rate = jobs as f64 / elapsed.as_secs_f64();
    println!(
        "SurrealDB alone, the same jobs in 500-row transactions one at a time (in-process, on disk), \
         just before and just after the imports:"
    );
    for (name, first, last) in [
        ("into the job table (its types and indexes):", before.0, after.0),
        ("into a schemaless table without indexes:   ", before.1, after.1),
    ] {
        println!(
            "  {name} {first:.0} and {last:.0} records/s; import-jobs is {:.2}x and {:.2}x that",
            import_rate / first,
            import_rate / last
        );
    }
    if std::env::var("BENCH_ONLY").is_ok_and(|v| v == "import") {
        return;
    }
    let started = Instant::now();
    let (titles, vectors) = runtime.block_on(store_vectors(&data));
    println!(
        "job vectors: {distinct} titles embedded, {vectors} vectors stored in {:.1} s",
        started.elapsed().as_secs_f64(),
        distinct = titles
    );

    // Search over HTTP.
    let server = serve(&data, &dir.path().join("serve.log"));
    let base = format!("http://{}", server.addr);
    let started = Instant::now();
    wait_for_vectors(&runtime, &base, vectors);
    println!(
        "serve: {vectors} job vectors loaded and in the HNSW graph {:.1} s after listening",
        started.elapsed().as_secs_f64()
    );
    let searches: &[(&str, &str)] = &[
        ("GET /healthz (floor)", "/healthz"),
        ("a word", "/api/v1/jobs?q=engineer&facets=false&mode=keyword"),
        (
            "two words + two filters",
            "/api/v1/jobs?q=software+engineer&country=US&workplace=remote&facets=false&mode=keyword",
        ),
        (
            "filters only (newest first)",
            "/api/v1/jobs?seniority=senior&employment_type=full_time&facets=false",
        ),
        ("a word + facets", "/api/v1/jobs?q=manager&mode=keyword"),
        ("everything + facets", "/api/v1/jobs"),
        (
            "semantic: a phrase",
            "/api/v1/jobs?q=someone+who+writes+rust+services&facets=false&mode=semantic",
        ),
        (
            "semantic + two filters",
            "/api/v1/jobs?q=software+engineer&country=US&workplace=remote&facets=false&mode=semantic",
        ),
        ("hybrid: a word", "/api/v1/jobs?q=engineer&facets=false&mode=hybrid"),
        ("hybrid: two words + facets", "/api/v1/jobs?q=software+engineer&mode=hybrid"),
    ];
    for (name, path) in &searches[1..] {
        let body: Value = runtime.block_on(async {
            reqwest::get(format!("{base}{path}")).await.unwrap().json().await.unwrap()
        });
        let total = body["total"].as_u64().unwrap_or(0);
        assert!(total > 0, "{name}: no hits: {body}");
        println!("{name:<30} {path}  ({total} hits)");
    }
    // Suggestions, once their copy of the jobs is loaded; each zero-hit search beside the same
    // search with a word too short to correct (the cost did-you-mean adds).
    let started = Instant::now();
    let loaded = wait_for_log(&dir.path().join("serve.log"), "suggestions loaded");
    println!(
        "serve: suggestions loaded ({} jobs in {} ms), seen {:.1} s after the vectors",
        loaded["jobs"],
        loaded["millis"],
        started.elapsed().as_secs_f64()
    );
    let suggestions: &[(&str, &str)] = &[
        ("typeahead: a title prefix", "/api/v1/suggest?q=soft&kinds=title"),
        ("typeahead: every kind, a prefix", "/api/v1/suggest?q=man"),
        ("typeahead: every kind, one typo", "/api/v1/suggest?q=enigneer"),
        ("zero hits, too short to correct", "/api/v1/jobs?q=zqx&facets=false&mode=keyword"),
        ("zero hits, did you mean", "/api/v1/jobs?q=enigneer&facets=false&mode=keyword"),
        ("salary insights: a word", "/api/v1/insights/salaries?q=engineer"),
        ("salary insights: every job", "/api/v1/insights/salaries"),
    ];
    for (name, path) in suggestions {
        let (status, body): (u16, Value) = runtime.block_on(async {
            let response = reqwest::get(format!("{base}{path}")).await.unwrap();
            (response.status().as_u16(), response.json().await.unwrap())
        });
        assert_eq!(status, 200, "{name}: {body}");
        let shown = match (&body["did_you_mean"], &body["kinds"], &body["currencies"]) {
            (Value::Object(_), _, _) => format!("did you mean {}", body["did_you_mean"]),
            (_, Value::Array(kinds), _) => format!(
                "{} completions",
                kinds.iter().map(|k| k["items"].as_array().map_or(0, Vec::len)).sum::<usize>()
            ),
            (_, _, Value::Array(c)) => format!(
                "{} currencies, {} salaries",
                c.len(),
                c.iter().map(|c| c["count"].as_u64().unwrap_or(0)).sum::<u64>()
            ),
            _ => format!("{} hits", body["total"]),
        };
        println!("{name:<30} {path}  ({shown})");
    }
    let searches: Vec<(&str, &str)> = searches.iter().chain(suggestions).copied().collect();
    // Different searches on every request (index answers and listings mostly not remembered).
    const COUNTRIES: [&str; 6] = ["US", "GB", "DE", "CA", "FR", "IN"];
    const WORKPLACES: [&str; 3] = ["remote", "hybrid", "onsite"];
    let rotating: Vec<(String, PathBuf)> = vec![
        {
            let script = dir.path().join("words.lua");
            let n = rotating_script(&source, 3000, &script, |i, words| {
                format!("/api/v1/jobs?q={}&facets=false&mode=keyword", words[i % words.len()])
            });
            (format!("a word, {n} different"), script)
        },
        {
            let script = dir.path().join("two-words.lua");
            let n = rotating_script(&source, 3000, &script, |i, words| {
                let (a, b) = (words[i % 60], words[(i / 60 + i) % 200]);
                format!(
                    "/api/v1/jobs?q={a}+{b}&country={}&workplace={}&facets=false&mode=keyword",
                    COUNTRIES[i % COUNTRIES.len()],
                    WORKPLACES[(i / COUNTRIES.len()) % WORKPLACES.len()]
                )
            });
            (format!("two words + two filters, {n} different"), script)
        },
        {
            let script = dir.path().join("facets.lua");
            let n = rotating_script(&source, 3000, &script, |i, words| {
                format!("/api/v1/jobs?q={}&mode=keyword", words[i % words.len()])
            });
            (format!("a word + facets, {n} different"), script)
        },
        {
            // 20 phrases (their embeddings remembered after the first) over 18 pairs of
            // filters: more than the remembered rankings hold, so each request walks the graph.
            let script = dir.path().join("semantic.lua");
            let n = rotating_script(&source, 360, &script, |i, words| {
                let phrase = i % 20;
                format!(
                    "/api/v1/jobs?q={}+{}&country={}&workplace={}&facets=false&mode=semantic",
                    words[phrase],
                    words[phrase + 20],
                    COUNTRIES[(i / 20) % COUNTRIES.len()],
                    WORKPLACES[(i / 120) % WORKPLACES.len()]
                )
            });
            (format!("semantic + two filters, {n} different"), script)
        },
    ];
    // Warm up the page cache and the server's pools.
    wrk(&format!("{base}{}", searches[1].1), 4, 2);

    println!(
        "\n{:<40} {:>5} {:>9} {:>9} {:>10} {:>11} {:>11}",
        "", "conns", "p50 ms", "p99 ms", "req/s", "p99/floor", "rps/floor"
    );
    for connections in [1, 32] {
        let floor = wrk(&format!("{base}/healthz"), connections, seconds);
        for (name, path) in &searches {
            let load = if *path == "/healthz" {
                floor
            } else {
                wrk(&format!("{base}{path}"), connections, seconds)
            };
            print_row(name, connections, load, floor);
        }
        for (name, script) in &rotating {
            print_row(
                name,
                connections,
                wrk_with(&base, Some(script), connections, seconds),
                floor,
            );
        }
    }
    let server_kib = peak_rss_kib(server.child.id()).unwrap_or(0);
    println!("serve peak RSS: {:.0} MiB", server_kib as f64 / 1024.0);
    drop(server);
    // Where it went: serve's own account after each start phase, and as it stopped (after
    // the load above).
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    for line in log.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        if line["message"] == "memory" {
            let phase = line["phase"].as_str().unwrap_or_default();
            let breakdown = line["breakdown"].as_str().unwrap_or_default();
            let head = if phase == "stopping" { "memory:" } else { "  after" };
            println!("{head} {phase}: {breakdown}");
        }
    }

    // The index alone, in this process.
    let index = JobIndex::open(Some(&index_dir(&data))).unwrap();
    let words = ["engineer", "software engineer"];
    println!("\ntantivy index alone (in-process, no HTTP, no database), {} documents", index.len());
    for word in words {
        let query = IndexQuery {
            text: Some(word.into()),
            limit: 20,
            now: chrono::Utc::now().timestamp(),
            ..IndexQuery::default()
        };
        let mut samples = Vec::new();
        let mut total = 0;
        for _ in 0..200 {
            let started = Instant::now();
            total = index.search(&query).unwrap().total;
            samples.push(started.elapsed());
        }
        let (p50, p99) = percentiles(samples);
        println!(
            "  top 20 by BM25 for {word:?}: p50 {p50:.2} ms, p99 {p99:.2} ms over 200 runs ({total} hits)"
        );
    }
    drop(index);

    if surreal_jobs > 0 {
        surreal_fulltext(&runtime, &file, surreal_jobs, &words);
    }
}
