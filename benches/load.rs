//! Mixed traffic against the real binary: on the embedded database (one `serve`, its workers in
//! process), and on a cluster (a SurrealDB server, two `serve` and one `worker`).
//!
//! 1. Writes BENCH_JOBS (default 20,000) jobs scaled from real postings (benches/common/
//!    postings.rs) and imports them with `jobportal import-jobs`; every process starts with the
//!    real models, and the load waits until the job vectors are in every `serve`'s graph and
//!    the suggestions are loaded, so it measures traffic, not the start.
//! 2. Registers one candidate per connection, each with a resume, through the API.
//! 3. The floor: `/healthz` from the same client at the same connections for 10 s.
//! 4. BENCH_CONNECTIONS (default 64) connections for BENCH_SECONDS (default 60), each sending
//!    its next request when the last one is answered, picked by the weights of `MIX`: searches
//!    of changing words (3,000 words of the real titles, most frequent first) with and
//!    without filters, keyword and hybrid; job views; logins; applications (each candidate to
//!    jobs it has not applied to); resume uploads (each followed by the deletion of that
//!    resume, so a candidate stays under the resume limit). On the cluster, connection i talks
//!    to `serve` i mod 2.
//!
//! Prints per route: requests, errors (anything but a success, and requests that got no
//! answer: there must be none, and the bench fails after printing when there are), p50 and
//! p99 latency and requests/s; the total beside the floor; and each process's resident set
//! every 10 s, with its growth from the end of the warm-up (the first third of the run) to
//! the end.
//!
//! `cargo bench --bench load` (release), or `scripts/bench.sh load`, which also builds the
//! SurrealDB server (scripts/surreal-server.sh) and passes it as BENCH_SURREAL. Knobs:
//! BENCH_DB_WRITE_BUFFER and BENCH_DB_CACHE (the embedded database's memory, as
//! JOBPORTAL_DB_WRITE_BUFFER and JOBPORTAL_DB_CACHE; their defaults when unset),
//! BENCH_JOBS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_TARGETS (`embedded,cluster`, the
//! default; the cluster needs BENCH_SURREAL, the `surreal` binary), BENCH_SOURCE (postings),
//! BENCH_BINARY (the `jobportal` binary, default the one cargo built with the bench).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/postings.rs"]
mod postings;
#[path = "common/processes.rs"]
mod processes;
#[path = "common/source.rs"]
mod source;

use processes::{Server, jobportal, rss_kib, run_measured, wait_for_one_of};

const PASSWORD: &str = "lighthouse keeper 42";
/// The processes of a cluster share one secret for their tokens.
const JWT_SECRET: &str = "load-bench-secret-0123456789-abcdefghijklmnop";
const RESUME: &[u8] = include_bytes!("../fixtures/resumes/ashok-resume.pdf");

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What a request does; each is a row of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    SearchWord,
    SearchFiltered,
    SearchHybrid,
    JobView,
    Login,
    Apply,
    ResumeUpload,
    ResumeDelete,
}

impl Route {
    const ALL: [Route; 8] = [
        Route::SearchWord,
        Route::SearchFiltered,
        Route::SearchHybrid,
        Route::JobView,
        Route::Login,
        Route::Apply,
        Route::ResumeUpload,
        Route::ResumeDelete,
    ];

    fn name(self) -> &'static str {
        match self {
            Route::SearchWord => "search: a word",
            Route::SearchFiltered => "search: two words + two filters",
            Route::SearchHybrid => "search: hybrid, a word + a filter",
            Route::JobView => "job view",
            Route::Login => "login",
            Route::Apply => "apply",
            Route::ResumeUpload => "resume upload (PDF)",
            Route::ResumeDelete => "resume delete",
        }
    }
}

/// How often each request is picked, per thousand (a resume upload brings its deletion).
const MIX: [(Route, u64); 7] = [
    (Route::SearchWord, 400),
    (Route::SearchFiltered, 200),
    (Route::SearchHybrid, 100),
    (Route::JobView, 270),
    (Route::Login, 10),
    (Route::Apply, 15),
    (Route::ResumeUpload, 5),
];

/// What one connection measured: latencies in microseconds and errors, per route.
#[derive(Default)]
struct Record {
    latencies: Vec<Vec<u32>>,
    errors: Vec<u64>,
    /// The first few errors, to say what went wrong.
    examples: Vec<String>,
}

impl Record {
    fn new() -> Record {
        Record {
            latencies: vec![Vec::new(); Route::ALL.len()],
            errors: vec![0; Route::ALL.len()],
            examples: Vec::new(),
        }
    }

    fn slot(route: Route) -> usize {
        Route::ALL.iter().position(|r| *r == route).unwrap()
    }

    /// Counts one request; returns its body when it succeeded.
    async fn take(
        &mut self,
        route: Route,
        request: reqwest::RequestBuilder,
        started: Instant,
    ) -> Option<Value> {
        let answer = request.timeout(Duration::from_secs(30)).send().await;
        let outcome = match answer {
            Ok(response) => {
                let status = response.status();
                let body = response.bytes().await;
                match body {
                    Ok(body) if status.is_success() => {
                        Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
                    }
                    Ok(body) => Err(format!("{status} {}", String::from_utf8_lossy(&body))),
                    Err(err) => Err(format!("{status}, body cut: {err}")),
                }
            }
            Err(err) => Err(format!("no answer: {err}")),
        };
        let slot = Record::slot(route);
        self.latencies[slot].push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        match outcome {
            Ok(body) => Some(body),
            Err(why) => {
                self.errors[slot] += 1;
                if self.examples.len() < 3 {
                    self.examples.push(format!("{}: {why}", route.name()));
                }
                None
            }
        }
    }

    fn merge(&mut self, other: Record) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.errors.iter_mut().zip(other.errors) {
            *mine += theirs;
        }
        self.examples.extend(other.examples.into_iter().take(3));
        self.examples.truncate(6);
    }
}

/// A candidate of one connection.
struct Candidate {
    email: String,
    access: String,
    base: String,
}

/// What every connection shares: the words searches use and the jobs to view and apply to.
struct Workload {
    words: Vec<String>,
    jobs: Vec<String>,
}

fn resume_upload(client: &reqwest::Client, base: &str, access: &str) -> reqwest::RequestBuilder {
    let boundary = "jobportal-load-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cv.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(RESUME);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .post(format!("{base}/api/v1/resumes"))
        .bearer_auth(access)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
}

/// One connection's loop until `until`.
async fn connection(
    index: usize,
    client: reqwest::Client,
    mut candidate: Candidate,
    work: Arc<Workload>,
    until: Instant,
) -> Record {
    let mut record = Record::new();
    let mut n = postings::mix(index as u64 ^ 0xA5A5);
    // Each candidate applies to jobs in its own order, never twice to one.
    let mut next_application = (index * 7919) % work.jobs.len();
    let mut applied = 0;
    let base = candidate.base.clone();
    while Instant::now() < until {
        n = postings::mix(n);
        let mut pick = n % 1000;
        let route = MIX
            .iter()
            .find(|(_, weight)| {
                let hit = pick < *weight;
                pick = pick.saturating_sub(*weight);
                hit
            })
            .map_or(Route::JobView, |(route, _)| *route);
        let word = &work.words[(n >> 10) as usize % work.words.len()];
        let other = &work.words[(n >> 30) as usize % work.words.len()];
        let job = &work.jobs[(n >> 20) as usize % work.jobs.len()];
        let started = Instant::now();
        match route {
            Route::SearchWord => {
                let url = format!("{base}/api/v1/jobs?q={word}&mode=keyword");
                record.take(route, client.get(url), started).await;
            }
            Route::SearchFiltered => {
                let workplace = ["remote", "hybrid", "onsite"][(n % 3) as usize];
                let seniority = ["mid", "senior", "junior,mid"][((n >> 2) % 3) as usize];
                let url = format!(
                    "{base}/api/v1/jobs?q={word}+{other}&mode=keyword&workplace={workplace}&seniority={seniority}"
                );
                record.take(route, client.get(url), started).await;
            }
            Route::SearchHybrid => {
                let workplace = ["remote", "hybrid", "onsite"][(n % 3) as usize];
                let url = format!("{base}/api/v1/jobs?q={word}&mode=hybrid&workplace={workplace}");
                record.take(route, client.get(url), started).await;
            }
            Route::JobView => {
                record.take(route, client.get(format!("{base}/api/v1/jobs/{job}")), started).await;
            }
            Route::Login => {
                let login = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({ "email": candidate.email, "password": PASSWORD }));
                if let Some(body) = record.take(route, login, started).await
                    && let Some(access) = body["tokens"]["access_token"].as_str()
                {
                    candidate.access = access.to_owned();
                }
            }
            Route::Apply => {
                if applied == work.jobs.len() {
                    continue;
                }
                let job = &work.jobs[next_application];
                next_application = (next_application + 1) % work.jobs.len();
                applied += 1;
                let apply = client
                    .post(format!("{base}/api/v1/jobs/{job}/applications"))
                    .bearer_auth(&candidate.access)
                    .json(&json!({ "cover_letter": "I would like to help." }));
                record.take(route, apply, started).await;
            }
            Route::ResumeUpload => {
                let upload = resume_upload(&client, &base, &candidate.access);
                if let Some(body) = record.take(route, upload, started).await
                    && let Some(id) = body["id"].as_str()
                {
                    let started = Instant::now();
                    let delete = client
                        .delete(format!("{base}/api/v1/resumes/{id}"))
                        .bearer_auth(&candidate.access);
                    record.take(Route::ResumeDelete, delete, started).await;
                }
            }
            Route::ResumeDelete => unreachable!("a deletion follows its upload"),
        }
    }
    record
}

/// p50 and p99 in milliseconds.
fn percentiles(samples: &mut [u32]) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_unstable();
    let at = |q: f64| {
        samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)] as f64 / 1000.0
    };
    (at(0.5), at(0.99))
}

/// `/healthz` from `connections` connections for `seconds`: (requests/s, p50, p99).
async fn floor(
    client: &reqwest::Client,
    bases: &[String],
    connections: usize,
    seconds: u64,
) -> (f64, f64, f64) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let client = client.clone();
            let url = format!("{}/healthz", bases[i % bases.len()]);
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while Instant::now() < until {
                    let begun = Instant::now();
                    let response = client.get(&url).send().await.expect("healthz answers");
                    assert!(response.status().is_success());
                    let _ = response.bytes().await;
                    samples.push(begun.elapsed().as_micros() as u32);
                }
                samples
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let rps = all.len() as f64 / started.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(&mut all);
    (rps, p50, p99)
}

/// One sample: the resident set of each watched process (KiB), and the live heap of each
/// `serve` as its `/metrics` says (bytes; 0 when it did not answer).
type Sample = (Vec<u64>, Vec<u64>);

/// The resident sets of `pids` every second, and the heap of the `serve` processes at `addrs`
/// every 10 s, until `stop`.
fn sample_rss(
    pids: Vec<u32>,
    addrs: Vec<String>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<Sample>> {
    std::thread::spawn(move || {
        let mut samples = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let rss = pids.iter().map(|pid| rss_kib(*pid).unwrap_or(0)).collect();
            let heaps = if samples.len() % 10 == 0 {
                addrs.iter().map(|addr| heap_bytes(addr).unwrap_or(0)).collect()
            } else {
                Vec::new()
            };
            samples.push((rss, heaps));
            std::thread::sleep(Duration::from_secs(1));
        }
        samples
    })
}

/// The live heap a `serve` reports in `/metrics` (`jobportal_memory_bytes{kind="heap"}`).
fn heap_bytes(addr: &str) -> Option<u64> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("jobportal_memory_bytes{kind=\"heap\"} "))
        .and_then(|v| v.trim().parse().ok())
}

/// A process of the portal that is stopped (SIGTERM, then waited for) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

/// The settings every process of a target gets.
fn configured(mut command: Command, database: Option<&str>) -> Command {
    command
        .env("JOBPORTAL_JWT_SECRET", JWT_SECRET)
        .env("JOBPORTAL_RATE_LIMIT_AUTH_PER_IP", "10000000/1m");
    // The embedded database's memory, when a run compares other sizes than the defaults.
    for (knob, var) in [
        ("BENCH_DB_WRITE_BUFFER", "JOBPORTAL_DB_WRITE_BUFFER"),
        ("BENCH_DB_CACHE", "JOBPORTAL_DB_CACHE"),
    ] {
        if let Some(value) = std::env::var_os(knob) {
            command.env(var, value);
        }
    }
    if let Some(url) = database {
        command
            .env("JOBPORTAL_DB_URL", url)
            .env("JOBPORTAL_DB_USER", "root")
            .env("JOBPORTAL_DB_PASSWORD", "root");
    }
    command
}

/// Waits until a `serve` lists every public job, has the vector of each in its graph, and has
/// its suggestions loaded.
async fn wait_warm(client: &reqwest::Client, server: &Server, log: &Path) {
    let base = format!("http://{}", server.addr);
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let get = |path: String| async {
            match client.get(path).send().await {
                Ok(response) => response.json::<Value>().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            }
        };
        let public = get(format!("{base}/api/v1/jobs?limit=1&facets=false")).await["total"]
            .as_u64()
            .unwrap_or(0);
        let ready = get(format!("{base}/readyz")).await;
        let detail = ready["models"]["embeddings"]["detail"].as_str().unwrap_or_default();
        // "…; N job vectors, W waiting for the HNSW graph"
        let count = |marker: &str| {
            let head = detail.split(marker).next()?;
            head.rsplit(' ').next()?.parse::<u64>().ok()
        };
        let vectors = count(" job vectors").unwrap_or(0);
        if public > 0 && vectors >= public && count(" waiting") == Some(0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the vectors did not load: {public} public jobs, {ready}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A `serve` that rebuilt its index at start filled the suggestions from it.
    wait_for_one_of(log, &["suggestions loaded", "search index rebuilt"]);
}

/// Registers one candidate per connection, each with a resume, spread over `bases`.
async fn candidates(
    client: &reqwest::Client,
    bases: &[String],
    connections: usize,
    tag: &str,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    for chunk in (0..connections).collect::<Vec<_>>().chunks(4) {
        let batch = chunk.iter().map(|&i| {
            let client = client.clone();
            let base = bases[i % bases.len()].clone();
            let email = format!("load-{tag}-{i}@example.com");
            async move {
                let register = client.post(format!("{base}/api/v1/auth/register")).json(
                    &json!({ "email": email, "password": PASSWORD, "full_name": "Load Candidate", "role": "candidate" }),
                );
                let response = register.send().await.expect("serve answers");
                assert_eq!(response.status(), 201, "registration");
                let body: Value = response.json().await.unwrap();
                let access = body["tokens"]["access_token"].as_str().unwrap().to_owned();
                let response = resume_upload(&client, &base, &access).send().await.unwrap();
                assert_eq!(response.status(), 201, "resume upload: {}", response.text().await.unwrap());
                Candidate { email, access, base }
            }
        });
        candidates.extend(futures_util::future::join_all(batch).await);
    }
    candidates
}

/// The ids of up to 3,000 public jobs, from search pages.
async fn job_ids(client: &reqwest::Client, base: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for page in 0..30 {
        let url =
            format!("{base}/api/v1/jobs?sort=newest&limit=100&offset={}&facets=false", page * 100);
        let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
        let items = body["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            break;
        }
        ids.extend(items.iter().filter_map(|j| j["id"].as_str().map(str::to_owned)));
    }
    assert!(!ids.is_empty(), "no public jobs");
    ids
}

/// What a target runs: its `serve` processes, and every process whose memory is watched.
struct Target {
    name: &'static str,
    servers: Vec<(Server, PathBuf)>,
    watched: Vec<(String, u32)>,
    _others: Vec<Process>,
}

fn embedded(dir: &Path, file: &Path, jobs: u64) -> Target {
    let data = dir.join("embedded");
    let mut import = configured(jobportal(&data), None);
    import.args(["import-jobs", "--source", "bench"]).arg(file);
    let (elapsed, _, out) = run_measured(import);
    assert!(out.contains(&format!("{jobs} created")), "{out}");
    println!("embedded: import-jobs {jobs} records in {:.1} s", elapsed.as_secs_f64());
    let log = dir.join("embedded-serve.log");
    let mut serve = configured(jobportal(&data), None);
    serve.args(["serve", "--addr", "127.0.0.1:0"]);
    let server = Server::start(&mut serve, &log);
    let pid = server.child.id();
    Target {
        name: "embedded",
        servers: vec![(server, log)],
        watched: vec![("serve".into(), pid)],
        _others: Vec::new(),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn cluster(dir: &Path, file: &Path, jobs: u64, surreal: &Path) -> Target {
    let port = free_port();
    let log = std::fs::File::create(dir.join("surreal.log")).unwrap();
    let child = Command::new(surreal)
        .args(["start", "--no-banner", "--log", "warn", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--user", "root", "--pass", "root"])
        .arg(format!("surrealkv://{}", dir.join("surreal-data").display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("surreal starts");
    let database = Process(child);
    let url = format!("ws://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "surreal did not listen");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut import = configured(jobportal(&dir.join("cluster-import")), Some(&url));
    import.args(["import-jobs", "--source", "bench"]).arg(file);
    let (elapsed, _, out) = run_measured(import);
    assert!(out.contains(&format!("{jobs} created")), "{out}");
    println!("cluster: import-jobs {jobs} records in {:.1} s", elapsed.as_secs_f64());
    let mut worker = configured(jobportal(&dir.join("cluster-worker")), Some(&url));
    worker
        .arg("worker")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("cluster-worker.log")).unwrap());
    let worker = Process(worker.spawn().unwrap());
    let mut servers = Vec::new();
    for name in ["a", "b"] {
        let log = dir.join(format!("cluster-serve-{name}.log"));
        let mut serve = configured(jobportal(&dir.join(format!("cluster-{name}"))), Some(&url));
        serve.args(["serve", "--addr", "127.0.0.1:0"]);
        servers.push((Server::start(&mut serve, &log), log));
    }
    let watched = vec![
        ("serve a".into(), servers[0].0.child.id()),
        ("serve b".into(), servers[1].0.child.id()),
        ("worker".into(), worker.0.id()),
        ("surreal".into(), database.0.id()),
    ];
    // Dropped in this order: the worker, then the database server (the serves go first).
    Target { name: "cluster", servers, watched, _others: vec![worker, database] }
}

/// Loads a target; returns its errors.
fn run(
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    work: Arc<Workload>,
    connections: usize,
    seconds: u64,
) -> u64 {
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let bases: Vec<String> =
        target.servers.iter().map(|(s, _)| format!("http://{}", s.addr)).collect();
    let started = Instant::now();
    runtime.block_on(async {
        for (server, log) in &target.servers {
            wait_warm(&client, server, log).await;
        }
    });
    println!("{}: warm {:.1} s after serve started", target.name, started.elapsed().as_secs_f64());
    let people = runtime.block_on(candidates(&client, &bases, connections, target.name));
    let work = Arc::new(Workload {
        words: work.words.clone(),
        jobs: runtime.block_on(job_ids(&client, &bases[0])),
    });
    let (floor_rps, floor_p50, floor_p99) =
        runtime.block_on(floor(&client, &bases, connections, 10));

    let stop = Arc::new(AtomicBool::new(false));
    let sampler = sample_rss(
        target.watched.iter().map(|(_, pid)| *pid).collect(),
        target.servers.iter().map(|(s, _)| s.addr.clone()).collect(),
        stop.clone(),
    );
    let began = Instant::now();
    let until = began + Duration::from_secs(seconds);
    let mut record = Record::new();
    runtime.block_on(async {
        let tasks: Vec<_> = people
            .into_iter()
            .enumerate()
            .map(|(i, person)| {
                tokio::spawn(connection(i, client.clone(), person, work.clone(), until))
            })
            .collect();
        for task in tasks {
            record.merge(task.await.unwrap());
        }
    });
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let rss = sampler.join().unwrap();

    println!(
        "\n{}: {connections} connections for {seconds} s, {} serve process(es), {} jobs to view and apply to",
        target.name,
        bases.len(),
        work.jobs.len()
    );
    println!(
        "{:<36} {:>8} {:>7} {:>9} {:>9} {:>9}",
        "route", "requests", "errors", "p50 ms", "p99 ms", "req/s"
    );
    println!(
        "{:<36} {:>8} {:>7} {floor_p50:>9.2} {floor_p99:>9.2} {floor_rps:>9.0}",
        "/healthz alone (floor, 10 s)", "", ""
    );
    let mut total = 0;
    let mut errors = 0;
    for route in Route::ALL {
        let slot = Record::slot(route);
        let samples = &mut record.latencies[slot];
        let count = samples.len();
        let (p50, p99) = percentiles(samples);
        total += count;
        errors += record.errors[slot];
        println!(
            "{:<36} {count:>8} {:>7} {p50:>9.2} {p99:>9.2} {:>9.1}",
            route.name(),
            record.errors[slot],
            count as f64 / elapsed
        );
    }
    let mut all: Vec<u32> = record.latencies.iter().flatten().copied().collect();
    let (p50, p99) = percentiles(&mut all);
    println!(
        "{:<36} {total:>8} {errors:>7} {p50:>9.2} {p99:>9.2} {:>9.0}  ({:.0}% of the floor's requests/s)",
        "all",
        total as f64 / elapsed,
        100.0 * total as f64 / elapsed / floor_rps
    );
    for example in &record.examples {
        println!("  error: {example}");
    }
    println!("resident set (MiB) every 10 s:");
    for (p, (name, _)) in target.watched.iter().enumerate() {
        let series: Vec<u64> = rss.iter().map(|(s, _)| s[p] / 1024).collect();
        let shown: Vec<String> = series.iter().step_by(10).map(u64::to_string).collect();
        let warm = series.get(series.len() / 3).copied().unwrap_or(0);
        let last = series.last().copied().unwrap_or(0);
        let peak = series.iter().max().copied().unwrap_or(0);
        println!(
            "  {name:<8} {}; peak {peak}, from the end of warm-up ({} s) to the end: {:+} MiB",
            shown.join(" "),
            series.len() / 3,
            last as i64 - warm as i64
        );
    }
    println!("live heap (MiB, /metrics) every 10 s:");
    for (p, (name, _)) in target.watched.iter().take(target.servers.len()).enumerate() {
        let series: Vec<u64> =
            rss.iter().filter(|(_, h)| !h.is_empty()).map(|(_, h)| h[p] >> 20).collect();
        let warm = series.get(series.len() / 3).copied().unwrap_or(0);
        let last = series.last().copied().unwrap_or(0);
        let shown: Vec<String> = series.iter().map(u64::to_string).collect();
        println!(
            "  {name:<8} {}; from the end of warm-up to the end: {:+} MiB",
            shown.join(" "),
            last as i64 - warm as i64
        );
    }
    errors
}

fn main() {
    let jobs = env_or("BENCH_JOBS", 20_000);
    let seconds = env_or("BENCH_SECONDS", 60);
    let connections = env_or("BENCH_CONNECTIONS", 64) as usize;
    let targets = std::env::var("BENCH_TARGETS").unwrap_or_else(|_| "embedded,cluster".into());
    let surreal = std::env::var_os("BENCH_SURREAL").filter(|v| !v.is_empty()).map(PathBuf::from);
    let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.jsonl");
    let source = postings::read_source(&source::path());
    let distinct = postings::generate(&source, jobs, &file);
    println!(
        "load benchmark ({profile} build, {cores} cores): {jobs} jobs ({distinct} distinct titles)"
    );
    println!(
        "mix per thousand requests: {}",
        MIX.iter().map(|(r, w)| format!("{} {w}", r.name())).collect::<Vec<_>>().join(", ")
    );
    let words: Vec<String> = postings::title_words(&source).into_iter().take(3000).collect();
    let work = Arc::new(Workload { words, jobs: Vec::new() });
    // The client's own threads: two, like the machine's cores it shares with the server.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut errors = 0;
    for name in targets.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let target = match name {
            "embedded" => embedded(dir.path(), &file, jobs),
            "cluster" => match &surreal {
                Some(surreal) => cluster(dir.path(), &file, jobs, surreal),
                None => {
                    println!(
                        "\ncluster: skipped, BENCH_SURREAL is unset (scripts/bench.sh load builds the server)"
                    );
                    continue;
                }
            },
            other => panic!("BENCH_TARGETS: unknown target {other:?} (embedded, cluster)"),
        };
        errors += run(&runtime, &target, work.clone(), connections, seconds);
        drop(target);
    }
    assert_eq!(errors, 0, "requests failed under load");
}
