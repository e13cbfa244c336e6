//! Readiness: is the database reachable, does its schema match this binary, and are the
//! workers and the scheduler of this process running? It also reports the models (the
//! embedder and the chat model), which do not decide readiness: the portal serves everything
//! else without them, and a request that needs one says so (503 `model_unavailable`).

use chrono::{DateTime, Utc};

use crate::ai::providers::chat::provider::ChatModelState;
use crate::ai::providers::embedder;
use crate::ai::{Ai, ModelState};
use crate::db::Database;
use crate::db::migrations::Migrator;
use crate::models::health::{Check, ModelReport, Readiness};

/// What the workers and the scheduler of this process say about themselves.
#[derive(Debug, Clone)]
pub struct WorkersReport {
    /// Worker loops running, and how many of them run a task now.
    pub loops: usize,
    pub busy: usize,
    /// Where email goes (never the SMTP credentials).
    pub mailer: String,
    /// The scheduler's next slot: the schedule's name and when.
    pub next: Option<(String, DateTime<Utc>)>,
}

/// The models of this process: the embedder (with the size of its job collection) and, when
/// this process serves one, the chat model (local or hosted; never its key).
pub fn models(ai: &Ai) -> Vec<ModelReport> {
    let state = ai.embedder_state();
    let detail = match &state {
        ModelState::Loaded(_) => {
            let (_, waiting, _) = ai.jobs.shape();
            format!(
                "{}; {} job vectors, {waiting} waiting for the HNSW graph",
                embedder::MODEL_ID,
                ai.jobs.len()
            )
        }
        ModelState::Loading => {
            format!("{} is loading; search is keyword-only meanwhile", embedder::MODEL_ID)
        }
        ModelState::Missing(message) | ModelState::Failed(message) => message.clone(),
        ModelState::NotLoaded => format!("{} is not loaded by this process", embedder::MODEL_ID),
    };
    let mut models = vec![ModelReport { name: "embeddings", state: state.name(), detail }];
    if let Some(chat) = ai.chat() {
        let model = chat.describe();
        let (state, detail) = match chat.state() {
            ChatModelState::Loading => ("loading", format!("{model} is loading")),
            ChatModelState::Ready => ("loaded", model),
            ChatModelState::Missing(message) => ("missing", message),
            ChatModelState::Failed(message) => ("failed", format!("{model}: {message}")),
        };
        models.push(ModelReport { name: "chat", state, detail });
    }
    models
}

fn workers_check(workers: Option<WorkersReport>) -> (Check, Check) {
    let Some(report) = workers else {
        let elsewhere = "not in this process (JOBPORTAL_RUN_WORKERS=false): run `jobportal worker`";
        return (
            Check { ok: true, detail: elsewhere.into() },
            Check { ok: true, detail: elsewhere.into() },
        );
    };
    let WorkersReport { loops, busy, mailer, next } = report;
    let workers = Check {
        ok: loops > 0,
        detail: format!("{loops} loops running, {busy} busy; email goes to {mailer}"),
    };
    let scheduler = match next {
        Some((name, at)) => {
            Check { ok: true, detail: format!("next: {name} at {}", at.to_rfc3339()) }
        }
        None => Check { ok: true, detail: "no schedule is switched on".into() },
    };
    (workers, scheduler)
}

pub async fn readiness(db: &Database, workers: Option<WorkersReport>, ai: &Ai) -> Readiness {
    let database = match db.ping().await {
        Ok(()) => Check { ok: true, detail: "reachable".into() },
        Err(err) => Check { ok: false, detail: err.to_string() },
    };
    let migrations = if !database.ok {
        Check { ok: false, detail: "not checked: the database is unreachable".into() }
    } else {
        match Migrator::new(db).status().await {
            Ok(status) => match status.problem() {
                Some(problem) => Check { ok: false, detail: problem.to_string() },
                None if status.pending() > 0 => Check {
                    ok: false,
                    detail: format!("{} applied, {} pending", status.applied(), status.pending()),
                },
                None => {
                    Check { ok: true, detail: format!("{} applied, 0 pending", status.applied()) }
                }
            },
            Err(err) => Check { ok: false, detail: err.to_string() },
        }
    };
    let (workers, scheduler) = workers_check(workers);
    Readiness { database, migrations, workers, scheduler, models: models(ai) }
}

/// The heap the parts of this process say they hold, for [`crate::core::memory::log`]: the job
/// vectors (the vectors, their keys and hashes, and the HNSW graph), the suggestions' copy
/// of the public jobs, and the search index's job ids and expiries, its cards, and remembered
/// listings.
pub fn memory_components(ctx: &super::Context) -> Vec<(&'static str, u64)> {
    let vectors = ctx.ai.jobs.footprint();
    let (index_ids, cards, remembered) = ctx.jobs_index.heap_bytes();
    vec![
        ("job vectors", vectors.vectors),
        ("their keys", vectors.keys),
        ("HNSW graph", vectors.graph),
        ("suggestions", ctx.suggestions.store().heap_bytes()),
        ("search ids", index_ids),
        ("search cards", cards),
        ("remembered pages", remembered),
    ]
}

/// Logs the process's memory after `phase`, with [`memory_components`].
pub fn log_memory(ctx: &super::Context, phase: &str) {
    crate::core::memory::log(phase, &memory_components(ctx));
}
