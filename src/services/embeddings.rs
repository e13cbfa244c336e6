//! Job embeddings: the text of a job that the model reads, and keeping the job vector
//! collection in step with the database.
//!
//! Vectors are stored in `job_embedding` (so a restart reloads instead of re-running the model)
//! and held in memory in `ctx.ai.jobs`. [`sync_jobs`] walks the jobs changed since the
//! collection's watermark (at start: all of them, in id order): a public job whose text hash
//! matches its stored vector is loaded, one whose text changed is embedded and stored, and a job
//! that is not public leaves the collection. `serve` runs it when a job is written and every few
//! seconds (jobs written by another process), and `admin embed-jobs` runs it as a backfill.
//!
//! On a database server shared by several processes, each new text is embedded once for all of
//! them: a process claims a job's vector (`embedding_claim`, per job and text hash) before
//! running the model, and a process that finds the claim taken leaves the job for its next
//! sync, when it loads the vector the claimant stored.

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Context, ServiceError};
use crate::ai::providers::embedder::{self, Embedder};
use crate::models::job::{Job, JobStatus, Review};
use crate::repositories;
use crate::repositories::embeddings::StoredVector;

/// Jobs read per page.
const PAGE: u32 = 256;

/// How long a claim on computing a vector lasts when its process dies before storing it.
const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// How far back a sync looks before the watermark: a transaction that stamped its
/// `updated_at` earlier may commit after a later one.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

/// What the model reads of a job: title first (it weighs most), then the company, skills,
/// category and the description (cut by the model at 256 tokens).
pub fn job_text(job: &Job, company_name: &str) -> String {
    let f = &job.fields;
    let mut text = f.title.trim().to_owned();
    if !company_name.is_empty() {
        text.push_str(" at ");
        text.push_str(company_name);
    }
    text.push('.');
    if !f.skills.is_empty() {
        text.push_str(" Skills: ");
        text.push_str(&f.skills.join(", "));
        text.push('.');
    }
    if let Some(category) = &f.category {
        text.push(' ');
        text.push_str(category);
        text.push('.');
    }
    let description = f.description.trim();
    if !description.is_empty() {
        text.push(' ');
        text.extend(description.chars().take(2_000));
    }
    text
}

/// The hash a stored vector is keyed by: the model and the text it read.
pub fn text_hash(text: &str) -> [u8; 16] {
    let mut hasher = Sha256::new();
    hasher.update(embedder::MODEL_ID.as_bytes());
    hasher.update([0]);
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    let mut hash = [0u8; 16];
    hash.copy_from_slice(&digest[..16]);
    hash
}

fn is_listed(job: &Job) -> bool {
    job.status == JobStatus::Published && job.review == Review::Approved
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Jobs looked at.
    pub seen: u64,
    /// Vectors computed by the model.
    pub embedded: u64,
    /// Vectors taken from the database.
    pub loaded: u64,
    /// Jobs that left the collection.
    pub removed: u64,
    /// Jobs whose vector another process is computing: looked at again by the next sync.
    pub deferred: u64,
}

/// One sync at a time per process (the loop, a nudge and a backfill may overlap).
fn sync_lock() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Brings the job vectors up to date with the jobs changed since the watermark; `progress`
/// gets the running report after each page. Needs the embedding model loaded (without it,
/// nothing is done and `None` is returned).
pub async fn sync_jobs(
    ctx: &Context,
    mut progress: impl FnMut(SyncReport),
) -> Result<Option<SyncReport>, ServiceError> {
    let Some(embedder) = ctx.ai.embedder() else { return Ok(None) };
    let _one = sync_lock().lock().await;
    // After a complete pass the watermark is at least the pass's start (by the database's
    // clock), so the next one reads only what changed since a little before it.
    let started = repositories::jobs::database_now(&ctx.db).await?;
    let start = ctx.ai.jobs_watermark();
    let mut since = DateTime::<Utc>::from_timestamp_micros(start).unwrap_or_default() - OVERLAP;
    let mut after: Option<String> = None;
    let mut report = SyncReport::default();
    let mut deferred = Vec::new();
    let mut newest = start;
    // The first pass reads every job, in id order (the order the table is stored in: far
    // cheaper than through the `updated_at` index). It also learns which public jobs there are,
    // so vectors of jobs that are gone (read from the file of the last stop) leave. What
    // changes meanwhile is newer than its start, where it leaves the watermark.
    let first = start == 0;
    let mut listed: Option<std::collections::HashSet<String>> = first.then(Default::default);
    loop {
        let page = if first {
            repositories::jobs::every_page(&ctx.db, after.as_deref(), PAGE).await?
        } else {
            repositories::jobs::updated_after(&ctx.db, since, after.as_deref(), PAGE).await?
        };
        let Some(last) = page.last() else { break };
        since = last.updated_at;
        after = Some(last.id.clone());
        let full = page.len() == PAGE as usize;
        if !first {
            newest = newest.max(last.updated_at.timestamp_micros());
        }
        if let Some(listed) = listed.as_mut() {
            listed.extend(page.iter().filter(|job| is_listed(job)).map(|job| job.id.clone()));
        }
        sync_page(ctx, &embedder, &page, &mut report, &mut deferred).await?;
        progress(report);
        if !full {
            break;
        }
    }
    if let Some(listed) = listed {
        for key in ctx.ai.jobs.keys() {
            if !listed.contains(&*key) {
                ctx.ai.jobs.remove(&key);
                report.removed += 1;
            }
        }
    }
    ctx.ai.jobs_watermark.fetch_max(newest.max(started.timestamp_micros()), Ordering::Relaxed);
    // Jobs whose text changed without a newer `updated_at` (a company renamed).
    loop {
        let ids: Vec<String> = {
            let mut pending = ctx.ai.jobs_pending.lock().unwrap_or_else(|e| e.into_inner());
            let ids: Vec<String> = pending.iter().take(PAGE as usize).cloned().collect();
            for id in &ids {
                pending.remove(id);
            }
            ids
        };
        if ids.is_empty() {
            break;
        }
        let done = async {
            let jobs = repositories::jobs::find_many(&ctx.db, &ids).await?;
            sync_page(ctx, &embedder, &jobs, &mut report, &mut deferred).await
        }
        .await;
        if let Err(err) = done {
            // Kept for the next sync.
            let mut pending = ctx.ai.jobs_pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.extend(ids);
            pending.extend(deferred);
            return Err(err);
        }
        progress(report);
    }
    // Claimed by another process: the next sync loads what it stored.
    ctx.ai.jobs_pending.lock().unwrap_or_else(|e| e.into_inner()).extend(deferred);
    let index = ctx.ai.jobs.clone();
    let (graph, tail, _) = index.shape();
    if graph == 0 && tail > 0 {
        super::health::log_memory(ctx, "job vectors loaded, before the graph");
    }
    tokio::task::spawn_blocking(move || {
        if index.wants_rebuild() {
            index.rebuild();
        } else {
            index.index_tail();
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    Ok(Some(report))
}

async fn sync_page(
    ctx: &Context,
    embedder: &Embedder,
    page: &[Job],
    report: &mut SyncReport,
    deferred: &mut Vec<String>,
) -> Result<(), ServiceError> {
    report.seen += page.len() as u64;
    let index = &ctx.ai.jobs;
    let mut listed = Vec::new();
    for job in page {
        if is_listed(job) {
            listed.push(job);
        } else if index.hash_of(&job.id).is_some() {
            index.remove(&job.id);
            report.removed += 1;
        }
    }
    let names = repositories::jobs::company_names_of(&ctx.db, listed.iter().copied()).await?;
    let name_of = |id: &str| names.get(id).map_or("", String::as_str);
    // (job, text, hash) of the jobs whose vector in memory is not current.
    let stale: Vec<(&Job, String, [u8; 16])> = listed
        .into_iter()
        .map(|job| {
            let text = job_text(job, name_of(&job.company_id));
            let hash = text_hash(&text);
            (job, text, hash)
        })
        .filter(|(job, _, hash)| index.hash_of(&job.id) != Some(*hash))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = stale.iter().map(|(job, _, _)| job.id.clone()).collect();
    let stored = repositories::embeddings::find_many(&ctx.db, &ids, embedder::MODEL_ID).await?;
    let mut to_embed = Vec::new();
    for (job, text, hash) in stale {
        match stored.iter().find(|s| s.job_id == job.id && s.hash == hex::encode(hash)) {
            Some(found) if found.vector.len() == embedder::DIMENSIONS => {
                index.upsert(&job.id, found.vector.clone().into(), hash);
                report.loaded += 1;
            }
            _ => to_embed.push((job, text, hash)),
        }
    }
    if ctx.db.is_server() && !to_embed.is_empty() {
        to_embed = claimed(ctx, to_embed, report, deferred).await?;
    }
    for chunk in to_embed.chunks(embedder::MAX_BATCH) {
        let texts: Vec<String> = chunk.iter().map(|(_, text, _)| text.clone()).collect();
        let vectors = embedder.embed_bulk(&texts).await?;
        let rows: Vec<StoredVector> = chunk
            .iter()
            .zip(&vectors)
            .map(|((job, _, hash), vector)| StoredVector {
                job_id: job.id.clone(),
                hash: hex::encode(hash),
                vector: vector.to_vec(),
            })
            .collect();
        repositories::embeddings::upsert_many(&ctx.db, &rows, embedder::MODEL_ID).await?;
        if ctx.db.is_server() {
            let claims: Vec<(String, String)> =
                rows.iter().map(|r| (r.job_id.clone(), r.hash.clone())).collect();
            repositories::embeddings::release(&ctx.db, &claims).await?;
        }
        for ((job, _, hash), vector) in chunk.iter().zip(vectors) {
            index.upsert(&job.id, vector, *hash);
        }
        report.embedded += chunk.len() as u64;
    }
    Ok(())
}

/// Of the jobs this process would embed, those it claims; a job another process claimed is
/// deferred, and one whose vector was stored meanwhile is loaded.
async fn claimed<'j>(
    ctx: &Context,
    candidates: Vec<(&'j Job, String, [u8; 16])>,
    report: &mut SyncReport,
    deferred: &mut Vec<String>,
) -> Result<Vec<(&'j Job, String, [u8; 16])>, ServiceError> {
    let mut won = Vec::new();
    for (job, text, hash) in candidates {
        if repositories::embeddings::claim(&ctx.db, &job.id, &hex::encode(hash), CLAIM_LEASE)
            .await?
        {
            won.push((job, text, hash));
        } else {
            deferred.push(job.id.clone());
            report.deferred += 1;
        }
    }
    // A claim just released by a process that stored the vector can be won again: load it.
    let ids: Vec<String> = won.iter().map(|(job, _, _)| job.id.clone()).collect();
    let stored = repositories::embeddings::find_many(&ctx.db, &ids, embedder::MODEL_ID).await?;
    let mut to_embed = Vec::new();
    let mut loaded = Vec::new();
    for (job, text, hash) in won {
        match stored.iter().find(|s| s.job_id == job.id && s.hash == hex::encode(hash)) {
            Some(found) if found.vector.len() == embedder::DIMENSIONS => {
                ctx.ai.jobs.upsert(&job.id, found.vector.clone().into(), hash);
                loaded.push((job.id.clone(), hex::encode(hash)));
                report.loaded += 1;
            }
            _ => to_embed.push((job, text, hash)),
        }
    }
    repositories::embeddings::release(&ctx.db, &loaded).await?;
    Ok(to_embed)
}

/// Drops jobs from the collection at once (closed, archived or deleted), without waiting for
/// the next sync.
pub fn forget_jobs(ctx: &Context, job_ids: &[String]) {
    for id in job_ids {
        ctx.ai.jobs.remove(id);
    }
    if !job_ids.is_empty() {
        ctx.ai.jobs_changed.notify_one();
    }
}

/// How many jobs are public (published and approved): what a full sync embeds.
pub async fn public_jobs(ctx: &Context) -> Result<u64, ServiceError> {
    Ok(repositories::jobs::index_state(&ctx.db).await?.0)
}

/// Has these jobs looked at by the next sync even though their `updated_at` did not change.
pub fn refresh_later(ctx: &Context, job_ids: impl IntoIterator<Item = String>) {
    ctx.ai.jobs_pending.lock().unwrap_or_else(|e| e.into_inner()).extend(job_ids);
    ctx.ai.jobs_changed.notify_one();
}

/// Asks the sync loop to run soon (a job was written).
pub fn nudge(ctx: &Context) {
    ctx.ai.jobs_changed.notify_one();
}
