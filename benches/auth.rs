//! Login under load: throughput and latency with argon2id, and the latency of `/healthz`
//! measured alone (the baseline) and again while logins run, side by side. argon2 runs on the
//! blocking pool, so the async workers keep answering: the ratio of the two `/healthz`
//! latencies is the number to watch. Also compares a wrong password with an unknown email.
//!
//! `cargo bench --bench auth` (release), or `scripts/bench.sh auth`. Knobs: BENCH_SECONDS
//! (default 10), BENCH_CLIENTS (concurrent logins, default 4).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jobportal::api;
use jobportal::app::App;
use jobportal::core::config::{DbConfig, Rate, RateLimitConfig, ServeConfig};
use jobportal::db::Database;
use jobportal::db::migrations::Migrator;
use jobportal::models::user::Role;
use jobportal::services::users::{CreateUser, create_user};
use serde_json::json;

const PASSWORD: &str = "lighthouse keeper 42";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Stats {
    count: usize,
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let count = samples.len().max(1);
    let at = |q: f64| {
        samples.get(((count as f64 * q) as usize).min(count - 1)).copied().unwrap_or_default()
    };
    let total: Duration = samples.iter().sum();
    Stats { count: samples.len(), p50: at(0.50), p99: at(0.99), mean: total / count as u32 }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn healthz_latencies(
    client: &reqwest::Client,
    url: &str,
    until: impl Fn() -> bool,
) -> Vec<Duration> {
    let mut samples = Vec::new();
    while !until() {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("healthz answers");
        assert!(response.status().is_success());
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    samples
}

fn main() {
    let seconds = env_or("BENCH_SECONDS", 10);
    let clients = env_or("BENCH_CLIENTS", 4) as usize;
    // Like `serve` on this machine: a multi-threaded runtime with one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let db = Database::connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db).apply(|_| {}).await.unwrap();
        for i in 0..clients {
            create_user(
                &db,
                CreateUser {
                    email: &format!("bench{i}@example.com"),
                    full_name: "Bench",
                    role: Role::Candidate,
                    password: PASSWORD,
                    email_verified: true,
                },
            )
            .await
            .unwrap();
        }
        // Limits high enough not to interfere with the measurement.
        let unlimited = Rate::new(1_000_000, Duration::from_secs(1));
        let config = ServeConfig {
            rate_limits: RateLimitConfig {
                auth_per_ip: unlimited,
                login_failures_per_account: unlimited,
                emails_per_account: unlimited,
                ..RateLimitConfig::default()
            },
            ..ServeConfig::default()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::builder(config).start(&db).await.expect("the app starts");
        let app = api::router(app.api_state());
        tokio::spawn(api::serve(listener, app, std::future::pending(), Duration::from_secs(1)));
        let client = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();
        let healthz = format!("http://{addr}/healthz");
        let login = format!("http://{addr}/api/v1/auth/login");

        // Warm up.
        for _ in 0..50 {
            client.get(&healthz).send().await.unwrap();
        }
        client
            .post(&login)
            .json(&json!({ "email": "bench0@example.com", "password": PASSWORD }))
            .send()
            .await
            .unwrap();

        // 1. Baseline: /healthz with nothing else running.
        let stop_at = Instant::now() + Duration::from_secs(seconds.min(5));
        let idle = stats(healthz_latencies(&client, &healthz, || Instant::now() >= stop_at).await);

        // 2. Logins from `clients` concurrent clients, with /healthz probed alongside.
        let stop = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for i in 0..clients {
            let (client, login, stop) = (client.clone(), login.clone(), stop.clone());
            workers.push(tokio::spawn(async move {
                let body =
                    json!({ "email": format!("bench{i}@example.com"), "password": PASSWORD });
                let mut samples = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let response = client.post(&login).json(&body).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    samples.push(started.elapsed());
                }
                samples
            }));
        }
        let probe_stop = stop.clone();
        let probe = {
            let (client, healthz) = (client.clone(), healthz.clone());
            tokio::spawn(async move {
                healthz_latencies(&client, &healthz, || probe_stop.load(Ordering::Relaxed)).await
            })
        };
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let elapsed = started.elapsed();
        let mut login_samples = Vec::new();
        for worker in workers {
            login_samples.extend(worker.await.unwrap());
        }
        let busy = stats(probe.await.unwrap());
        let logins = stats(login_samples);

        // 3. Wrong password against unknown email, one at a time.
        let mut wrong = Vec::new();
        let mut unknown = Vec::new();
        for _ in 0..20 {
            for (email, samples) in
                [("bench0@example.com", &mut wrong), ("nobody@example.com", &mut unknown)]
            {
                let started = Instant::now();
                let response = client
                    .post(&login)
                    .json(&json!({ "email": email, "password": "not the password" }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 401);
                samples.push(started.elapsed());
            }
        }
        let (wrong, unknown) = (stats(wrong), stats(unknown));

        let profile = if cfg!(debug_assertions) { "dev" } else { "release" };
        println!(
            "auth benchmark ({profile} build, {} cores, {clients} login clients, {seconds} s)",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!("{:<44} {:>10} {:>10} {:>10} {:>8}", "", "p50 ms", "p99 ms", "mean ms", "n");
        let row = |name: &str, s: &Stats| {
            println!(
                "{name:<44} {:>10.2} {:>10.2} {:>10.2} {:>8}",
                ms(s.p50),
                ms(s.p99),
                ms(s.mean),
                s.count
            )
        };
        row("GET /healthz, idle (baseline)", &idle);
        row("GET /healthz, during logins", &busy);
        row("POST /auth/login (argon2id m=19MiB t=2 p=1)", &logins);
        row("login, wrong password", &wrong);
        row("login, unknown email", &unknown);
        println!("logins/s: {:.1}", logins.count as f64 / elapsed.as_secs_f64());
        println!(
            "healthz p50 during logins / idle: {:.2}x   p99: {:.2}x",
            ms(busy.p50) / ms(idle.p50),
            ms(busy.p99) / ms(idle.p99)
        );
        println!("unknown email / wrong password p50: {:.2}x", ms(unknown.p50) / ms(wrong.p50));
    });
}
