//! Writing checked records: companies first, then jobs in batches (three in flight, one
//! transaction each, unchanged ones skipped), then the search index, staged and committed now
//! and then.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use super::mapping::ImportRecord;
use super::report::{ImportSummary, Progress};
use crate::models::company::CompanyFields;
use crate::models::job::{Job, Review};
use crate::repositories;
use crate::repositories::jobs::NewJob;
use crate::services::companies::slugify;
use crate::services::error::ConflictKind;
use crate::services::jobs::content_hash;
use crate::services::{Context, ServiceError};

/// The slug a company of this name gets (and is found by).
fn company_slug(name: &str) -> String {
    let slug = slugify(name);
    if slug.is_empty() { format!("company-{}", &stable_id("slug", name)[..8]) } else { slug }
}

/// A stable UUID-shaped id from a name: the same input always gives the same record id.
fn stable_id(kind: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\u{0}{name}").as_bytes());
    uuid::Builder::from_custom_bytes(digest[..16].try_into().unwrap_or([0; 16]))
        .into_uuid()
        .to_string()
}

/// The companies of a batch by slug: the existing ones, and new ones (with ids derived from
/// their slugs) created in a transaction of their own. Batches go through this one at a time,
/// before their jobs, so no two batches written at once both create one company. A run
/// stopped between the two writes leaves a company whose jobs the next run writes.
async fn ensure_companies(
    ctx: &Context,
    batch: &[ImportRecord],
) -> Result<HashMap<String, String>, ServiceError> {
    let mut slugs: Vec<String> = batch.iter().map(|r| company_slug(&r.company_name)).collect();
    slugs.sort();
    slugs.dedup();
    let mut company_of: HashMap<String, String> =
        repositories::companies::ids_by_slugs(&ctx.db, &slugs).await?.into_iter().collect();
    let mut missing = Vec::new();
    for record in batch {
        let slug = company_slug(&record.company_name);
        if company_of.contains_key(&slug) {
            continue;
        }
        let id = stable_id("company", &slug);
        let fields = CompanyFields {
            name: Some(record.company_name.clone()),
            website: record
                .company_website
                .clone()
                .filter(|w| w.starts_with("http://") || w.starts_with("https://")),
            ..CompanyFields::default()
        };
        company_of.insert(slug.clone(), id.clone());
        missing.push((id, slug, fields));
    }
    if !missing.is_empty() {
        let tx = ctx.db.begin().await?;
        repositories::companies::insert_many_with_ids(&tx, &missing, "import").await?;
        tx.commit().await?;
    }
    Ok(company_of)
}

/// The id of the job a record describes.
fn job_id(record: &ImportRecord) -> String {
    stable_id("job", &format!("{}\u{0}{}", record.source, record.external_id))
}

/// Writes the jobs of one batch in one transaction (their companies exist, see
/// [`ensure_companies`]; `ids` are the records' [`job_id`]s, in order); returns what happened
/// to each (created, updated, unchanged) and the jobs it wrote (for the index).
/// `found_stored` says whether the last batch read found any of its jobs stored already, and
/// is updated by this one's.
async fn write_jobs(
    ctx: &Context,
    batch: &[ImportRecord],
    ids: &[String],
    company_of: &HashMap<String, String>,
    found_stored: &AtomicBool,
) -> Result<(ImportSummary, Vec<Job>), ServiceError> {
    let mut summary = ImportSummary::default();
    let mut jobs: Vec<NewJob> = Vec::with_capacity(batch.len());
    let mut position: HashMap<String, usize> = HashMap::with_capacity(batch.len());
    for (record, id) in batch.iter().zip(ids) {
        let company_id =
            company_of.get(&company_slug(&record.company_name)).cloned().unwrap_or_default();
        let job = NewJob {
            content_hash: content_hash(&company_id, &record.fields, record.status),
            id: id.clone(),
            company_id,
            fields: record.fields.clone(),
            status: record.status,
            review: Review::Approved,
            posted_at: record.posted_at,
            source: record.source.clone(),
            external_id: record.external_id.clone(),
            created_by: None,
        };
        // The same job twice in one batch: the later record wins and counts as it would in a
        // later batch (unchanged or updated).
        match position.get(&job.id) {
            Some(&at) => {
                if jobs[at].content_hash == job.content_hash {
                    summary.unchanged += 1;
                } else {
                    summary.updated += 1;
                }
                jobs[at] = job;
            }
            None => {
                position.insert(job.id.clone(), jobs.len());
                jobs.push(job);
            }
        }
    }
    if !found_stored.load(Ordering::Relaxed) {
        // The last batch found none of its jobs stored: most likely none of these are either
        // (a first import, or the part of one a killed run did not reach), so insert them
        // without reading first. Reading 500 ids that are not there costs a tenth of the write.
        let tx = ctx.db.begin().await?;
        if let Some(written) = repositories::jobs::insert_new(&tx, &jobs).await? {
            tx.commit().await?;
            summary.created += written.len() as u64;
            return Ok((summary, written));
        }
        tx.cancel().await;
    }
    let tx = ctx.db.begin().await?;
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    let existing: HashMap<String, String> =
        repositories::jobs::hashes(&tx, &ids).await?.into_iter().collect();
    found_stored.store(!existing.is_empty(), Ordering::Relaxed);
    let mut created = Vec::with_capacity(jobs.len());
    let mut changed = Vec::new();
    for job in jobs {
        match existing.get(&job.id) {
            None => {
                summary.created += 1;
                created.push(job);
            }
            Some(hash) if *hash == job.content_hash => summary.unchanged += 1,
            Some(_) => {
                summary.updated += 1;
                changed.push(job);
            }
        }
    }
    // A job read as absent but there at the insert was created meanwhile: retried as a conflict.
    let created_meanwhile = || {
        ServiceError::Conflict(
            ConflictKind::Concurrent,
            "a job was created while its batch was written".into(),
        )
    };
    let mut written =
        repositories::jobs::insert_new(&tx, &created).await?.ok_or_else(created_meanwhile)?;
    written.extend(repositories::jobs::upsert_many(&tx, &changed).await?);
    tx.commit().await?;
    Ok((summary, written))
}

/// How many batches of jobs are written at once, each in its own transaction: while one waits
/// for its commit, the others keep both cores busy. Batches that share a job are never in
/// flight together, so the later record still wins.
const BATCHES_IN_FLIGHT: usize = 3;

/// A batch being written: its job ids, and the task writing it.
struct InFlight {
    ids: std::collections::HashSet<String>,
    task: tokio::task::JoinHandle<Result<(ImportSummary, Vec<Job>), ServiceError>>,
}

/// The batches being written, oldest first, and the index writes that follow them; results
/// are taken in input order, so counts, progress and index writes follow the input.
#[derive(Default)]
pub(super) struct Writes {
    in_flight: std::collections::VecDeque<InFlight>,
    index: IndexPipeline,
    /// See [`write_jobs`]: false until a batch finds jobs stored already.
    found_stored: Arc<AtomicBool>,
}

impl Writes {
    /// Starts writing `batch` once there is room and no batch in flight shares a job with it.
    pub(super) async fn start(
        &mut self,
        ctx: &Context,
        batch: Vec<ImportRecord>,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        let company_of = ensure_companies(ctx, &batch).await?;
        let ids: Vec<String> = batch.iter().map(job_id).collect();
        let distinct: std::collections::HashSet<String> = ids.iter().cloned().collect();
        while self.in_flight.len() >= BATCHES_IN_FLIGHT
            || self.in_flight.iter().any(|f| !f.ids.is_disjoint(&distinct))
        {
            self.finish_oldest(ctx, summary, progress).await?;
        }
        let ctx = ctx.clone();
        let found_stored = Arc::clone(&self.found_stored);
        let task = tokio::spawn(async move {
            // A write conflict (another transaction touched the same rows) is retried.
            let mut attempt = 0;
            loop {
                match write_jobs(&ctx, &batch, &ids, &company_of, &found_stored).await {
                    Err(ServiceError::Conflict(ConflictKind::Concurrent, _)) if attempt < 5 => {
                        attempt += 1
                    }
                    other => return other,
                }
            }
        });
        self.in_flight.push_back(InFlight { ids: distinct, task });
        Ok(())
    }

    async fn finish_oldest(
        &mut self,
        ctx: &Context,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        let Some(oldest) = self.in_flight.pop_front() else { return Ok(()) };
        let (counts, written) =
            oldest.task.await.map_err(|e| ServiceError::Internal(e.into()))??;
        summary.created += counts.created;
        summary.updated += counts.updated;
        summary.unchanged += counts.unchanged;
        self.index.push(ctx, written).await?;
        progress.batch(summary);
        tracing::debug!(
            created = summary.created,
            updated = summary.updated,
            unchanged = summary.unchanged,
            invalid = summary.invalid,
            "batch written"
        );
        Ok(())
    }

    /// Waits for every batch in flight, then commits what they staged in the index.
    pub(super) async fn finish(
        &mut self,
        ctx: &Context,
        summary: &mut ImportSummary,
        progress: &mut dyn Progress,
    ) -> Result<(), ServiceError> {
        while !self.in_flight.is_empty() {
            self.finish_oldest(ctx, summary, progress).await?;
        }
        self.index.finish(ctx).await
    }
}

/// How often an import makes what it indexed visible to searches. Each commit writes a new
/// segment that has to be merged later; committing every batch cost more than writing the
/// batches to the database.
const INDEX_COMMIT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The index write of the previous batch, running while the next batch goes to the database
/// (the index writes on the blocking pool, the database on the runtime: two cores at work).
/// Batches are staged in the index and committed every [`INDEX_COMMIT_EVERY`] and at the end;
/// if the import dies in between, the index's watermark has not moved past them and the next
/// catch-up or start-up check indexes them.
struct IndexPipeline {
    pending: Option<tokio::task::JoinHandle<Result<(), ServiceError>>>,
    last_commit: std::time::Instant,
    /// Whether any batch went to the index.
    pushed: bool,
}

impl Default for IndexPipeline {
    fn default() -> Self {
        Self { pending: None, last_commit: std::time::Instant::now(), pushed: false }
    }
}

impl IndexPipeline {
    async fn wait(&mut self) -> Result<(), ServiceError> {
        match self.pending.take() {
            Some(task) => task.await.map_err(|e| ServiceError::Internal(e.into()))?,
            None => Ok(()),
        }
    }

    /// Waits for the previous write (index writes stay in batch order), then starts this one.
    async fn push(&mut self, ctx: &Context, written: Vec<Job>) -> Result<(), ServiceError> {
        self.wait().await?;
        self.pushed = true;
        let commit = self.last_commit.elapsed() >= INDEX_COMMIT_EVERY;
        if commit {
            self.last_commit = std::time::Instant::now();
        }
        let ctx = ctx.clone();
        self.pending = Some(tokio::spawn(async move {
            crate::services::jobs::sync_imported(&ctx, &written, commit).await
        }));
        Ok(())
    }

    /// Waits for the last write and commits everything staged (nothing to do when no batch
    /// was written: a dry run, an empty input).
    async fn finish(&mut self, ctx: &Context) -> Result<(), ServiceError> {
        if !self.pushed {
            return Ok(());
        }
        self.wait().await?;
        crate::services::jobs::sync_imported(ctx, &[], true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable() {
        assert_eq!(stable_id("job", "a"), stable_id("job", "a"));
        assert_ne!(stable_id("job", "a"), stable_id("job", "b"));
    }
}
