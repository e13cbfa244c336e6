//! The assistant's retrieval over the 300 fixture jobs, in process, with the real embedding
//! model and without it (keyword only): milliseconds per question, the first time a question
//! is asked (its passages embedded) and asked again (the embedder's cache answers), p50 and p95
//! over typical questions.
//!
//! `cargo bench --bench retrieval` (release), or `scripts/bench.sh retrieval`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use jobportal::app::App;
use jobportal::core::config::{DbConfig, ServeConfig};
use jobportal::db::Database;
use jobportal::db::migrations::Migrator;
use jobportal::models::user::Role;
use jobportal::services::assistant::retrieval::retrieve;
use jobportal::services::{Context, Principal};

const QUESTIONS: &[&str] = &[
    "Are there any psychiatric nurse practitioner jobs?",
    "I am looking for work as a payroll accountant",
    "remote machine learning engineer",
    "senior software engineer in New York",
    "tax jobs",
    "what does a brand designer do here",
    "recruiter roles on contract",
    "jobs in security automation",
    "sales account executive for enterprise customers",
    "data engineering manager",
    "how do I apply",
    "how do I delete my account",
    "legal counsel positions",
    "customer success manager in Europe",
    "product manager for payments",
    "internships for students",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Asks every question once; milliseconds each, sorted.
async fn round(ctx: &Context, who: &Principal) -> Vec<f64> {
    let mut times = Vec::new();
    for question in QUESTIONS {
        let started = Instant::now();
        let found = retrieve(ctx, who, question, 5).await.expect("retrieval");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(found);
    }
    times.sort_by(f64::total_cmp);
    times
}

fn main() {
    // SAFETY: no other thread runs yet.
    unsafe { jobportal::ai::fix_thread_count() };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = Database::connect(&DbConfig::memory()).await.unwrap();
        Migrator::new(&db).apply(|_| {}).await.unwrap();
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let config = ServeConfig { models_dir: models.clone(), ..ServeConfig::default() };
        let ctx = App::builder(config).start(&db).await.expect("the app starts").services;
        let jobs = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs/network-jobs-300.jsonl"),
        )
        .unwrap();
        let input = jobportal::services::import::Input {
            name: "network-jobs-300.jsonl".into(),
            reader: Box::new(std::io::Cursor::new(jobs)),
            format: None,
        };
        jobportal::services::import::import(&ctx, vec![input], &Default::default(), &mut ())
            .await
            .unwrap();
        assert!(
            matches!(ctx.ai.load_embedder().await, jobportal::ai::ModelState::Loaded(_)),
            "run scripts/models.sh"
        );
        jobportal::services::embeddings::sync_jobs(&ctx, |_| {}).await.unwrap().unwrap();
        let user = jobportal::services::users::create_user(
            &db,
            jobportal::services::users::CreateUser {
                email: "bench@example.com",
                full_name: "Bench",
                role: Role::Candidate,
                password: "a long enough password",
                email_verified: true,
            },
        )
        .await
        .unwrap();
        let who = Principal { user_id: user.id, role: Role::Candidate, session_id: "s".into() };
        let keyword_only = Context { ai: Arc::new(jobportal::ai::Ai::new(&models)), ..ctx.clone() };

        println!(
            "\nretrieval over 300 jobs and the help pages, limit 5, {} questions",
            QUESTIONS.len()
        );
        println!("{:<34} {:>8} {:>8} {:>8}", "", "p50 ms", "p95 ms", "max ms");
        let show = |name: &str, times: Vec<f64>| {
            println!(
                "{name:<34} {:>8.2} {:>8.2} {:>8.2}",
                percentile(&times, 0.5),
                percentile(&times, 0.95),
                times[times.len() - 1]
            );
        };
        show("hybrid, first time", round(&ctx, &who).await);
        let mut again = Vec::new();
        for _ in 0..5 {
            again.extend(round(&ctx, &who).await);
        }
        again.sort_by(f64::total_cmp);
        show("hybrid, asked again", again);
        show("keyword only, first time", round(&keyword_only, &who).await);
        let mut again = Vec::new();
        for _ in 0..5 {
            again.extend(round(&keyword_only, &who).await);
        }
        again.sort_by(f64::total_cmp);
        show("keyword only, asked again", again);
    });
}
