//! The search index kept in step with the database: the document of a job, the writes after
//! every job write (one at a time per process, re-reading the jobs), the catch-up with other
//! processes' writes, and rebuilds. The suggestions' copy of the public jobs is written with
//! it.

use chrono::DateTime;

use crate::models::job::{Job, JobStatus, Location, Review, Salary};
use crate::repositories;
use crate::repositories::job_index::{IndexDoc, Watermark};
use crate::services::suggestions::Facts;
use crate::services::{Context, ServiceError};

/// The index document of a job (it must be public at the time of writing).
pub fn index_doc(job: &Job, company_name: &str) -> IndexDoc {
    let f = &job.fields;
    let salary = f.salary.as_ref().filter(|s| s.public);
    let extra = [
        f.workplace.map(|w| w.as_str().replace('_', " ")),
        f.employment_type.map(|e| e.as_str().replace('_', " ")),
        f.seniority.map(|s| s.as_str().to_owned()),
        f.category.clone(),
    ]
    .into_iter()
    .flatten()
    .chain(
        f.locations
            .iter()
            .flat_map(|l| [l.city.clone(), l.region.clone(), l.country_code.clone()])
            .flatten(),
    )
    .chain(f.tags.iter().cloned())
    .chain(f.remote_regions.iter().cloned())
    .collect::<Vec<_>>()
    .join(" ");
    IndexDoc {
        id: job.id.clone(),
        title: f.title.clone(),
        description: f.description.clone(),
        company_id: job.company_id.clone(),
        company_name: company_name.to_owned(),
        skills: f.skills.clone(),
        workplace: f.workplace.map(|w| w.as_str().to_owned()),
        employment_type: f.employment_type.map(|e| e.as_str().to_owned()),
        seniority: f.seniority.map(|s| s.as_str().to_owned()),
        category: f.category.clone(),
        country_codes: unique(f.locations.iter().filter_map(|l| l.country_code.clone())),
        location_texts: f
            .locations
            .iter()
            .map(|l| {
                [&l.city, &l.region, &l.country_code]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect(),
        location_labels: unique(f.locations.iter().filter_map(Location::label)),
        posted_at: job.posted_at.map(|at| at.timestamp()),
        expires_at: f.expires_at.map(|at| at.timestamp()),
        salary_yearly: salary.and_then(Salary::yearly_top),
        salary_currency: salary.and_then(|s| s.currency.clone()),
        extra_text: extra,
        updated_at: job.updated_at.timestamp_micros(),
        listing: super::listing::encode(job),
        card: crate::models::listing::Card::write(job),
    }
}

/// The values in their first order, each once (a facet counts a job once per value).
fn unique(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Index writes of this process, one at a time. Each write re-reads its jobs from the database
/// under this lock, so two racing changes of one job (close and reopen) leave the index with the
/// state the database committed last, whatever order their requests reach this point in.
fn index_writes() -> &'static tokio::sync::Mutex<()> {
    static LOCK: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// Brings the index up to date with `jobs` as the database holds them now (a job that is gone
/// or no longer public leaves the index).
pub async fn sync_index(ctx: &Context, jobs: &[Job]) -> Result<(), ServiceError> {
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    sync_ids(ctx, ids).await
}

/// [`sync_index`] for jobs known by id (they are read under the lock anyway).
pub(super) async fn sync_ids(ctx: &Context, ids: Vec<String>) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    let _order = index_writes().lock().await;
    let current = repositories::jobs::find_many(&ctx.db, &ids).await?;
    let gone: Vec<String> =
        ids.into_iter().filter(|id| !current.iter().any(|j| &j.id == id)).collect();
    write_index(ctx, &current, gone).await
}

/// Writes jobs an import has just written, as they are, without re-reading them (an import
/// writes thousands a second). Only imports change an imported job's content (the `portal`
/// source is refused there); a moderation or closing racing with the import wrote a newer
/// version, which the index keeps (a job that left it is not brought back by an older
/// version), and `serve`'s catch-up corrects anything else within seconds. Without `commit`
/// the jobs are staged, seen by searches at the next commit (any write's); with it,
/// everything staged is committed.
pub async fn sync_imported(ctx: &Context, jobs: &[Job], commit: bool) -> Result<(), ServiceError> {
    if jobs.is_empty() && !commit {
        return Ok(());
    }
    let _order = index_writes().lock().await;
    write_index_with(ctx, jobs, Vec::new(), commit).await
}

/// Re-indexes a company's public jobs (after its name changed: the name is searchable), and
/// has their vectors recomputed.
pub async fn sync_company(ctx: &Context, company_id: &str) -> Result<(), ServiceError> {
    let mut after: Option<String> = None;
    loop {
        let page =
            repositories::jobs::public_page_of_company(&ctx.db, company_id, after.as_deref(), 1000)
                .await?;
        let Some(last) = page.last() else { return Ok(()) };
        after = Some(last.id.clone());
        sync_index(ctx, &page).await?;
        // The name is in the text the model reads too; those jobs' `updated_at` did not move.
        crate::services::embeddings::refresh_later(ctx, page.iter().map(|j| j.id.clone()));
    }
}

async fn write_index(
    ctx: &Context,
    jobs: &[Job],
    removals: Vec<String>,
) -> Result<(), ServiceError> {
    if jobs.is_empty() && removals.is_empty() {
        return Ok(());
    }
    write_index_with(ctx, jobs, removals, true).await
}

async fn write_index_with(
    ctx: &Context,
    jobs: &[Job],
    deleted: Vec<String>,
    commit: bool,
) -> Result<(), ServiceError> {
    let names = repositories::jobs::company_names_of(&ctx.db, jobs).await?;
    let mut upserts = Vec::new();
    let mut public = Vec::new();
    // Deleted jobs never come back; the others left with their current version.
    let mut left: Vec<(String, i64)> = deleted.into_iter().map(|id| (id, i64::MAX)).collect();
    for job in jobs {
        if job.status == JobStatus::Published && job.review == Review::Approved {
            let company = names.get(&job.company_id).map_or("", String::as_str);
            upserts.push(index_doc(job, company));
            public.push(Facts::of(job, company));
        } else {
            left.push((job.id.clone(), job.updated_at.timestamp_micros()));
        }
    }
    let removals: Vec<String> = left.iter().map(|(id, _)| id.clone()).collect();
    let watermark = Watermark {
        updated_at_micros: jobs.iter().map(|j| j.updated_at.timestamp_micros()).max().unwrap_or(0),
    };
    // A job that left the listings leaves the vectors at once; new or changed ones are
    // embedded by the vector sync, which this wakes.
    crate::services::embeddings::forget_jobs(ctx, &removals);
    if !upserts.is_empty() {
        crate::services::embeddings::nudge(ctx);
    }
    let index = ctx.jobs_index.clone();
    let suggestions = ctx.suggestions.clone();
    tokio::task::spawn_blocking(move || {
        suggestions.store().write(public, &left);
        if commit {
            index.write(&upserts, &left, watermark)
        } else {
            index.stage(&upserts, &left, watermark)
        }
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(|e| ServiceError::Internal(e.into()))
}

/// Rebuilds the index from the database when it does not match (after a crash between a
/// database write and its index write, a database restored from a backup, or a new index
/// version): the index must hold as many jobs as are public and have seen exactly the newest
/// change. Returns how many jobs were indexed, or `None` when the index was current.
pub async fn ensure_index(
    ctx: &Context,
    mut progress: impl FnMut(u64),
) -> Result<Option<u64>, ServiceError> {
    // On an embedded database, or after a rebuild, the check counts as a complete catch-up
    // pass: the first one after it looks back from here, not from the newest job (after a bulk
    // import every job is within the look-back of the newest, and the pass would read them all
    // while the first searches are served). An embedded database had one process at a time,
    // which wrote the index with every job. On a server, another process (a `worker`) may have
    // changed a job that the last process had not caught up with when it stopped, so there the
    // first pass still looks back from the newest job the index saw.
    let started = repositories::jobs::database_now(&ctx.db).await?;
    let (public, latest) = repositories::jobs::index_state(&ctx.db).await?;
    let index = ctx.jobs_index.clone();
    let (docs, watermark) = tokio::task::spawn_blocking(move || (index.len(), index.watermark()))
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?;
    if docs == public && watermark.updated_at_micros == latest {
        if !ctx.db.is_server() {
            ctx.jobs_index.set_checked(started.timestamp_micros());
        }
        return Ok(None);
    }
    tracing::info!(
        indexed = docs,
        public,
        "the search index is behind the database; rebuilding it"
    );
    let rebuilt = rebuild_index(ctx, latest, &mut progress).await?;
    ctx.jobs_index.set_checked(started.timestamp_micros());
    Ok(Some(rebuilt))
}

/// How far back [`catch_up_index`] looks before the watermark: a transaction that stamped its
/// `updated_at` earlier may commit after a later one.
const CATCH_UP_OVERLAP: chrono::Duration = chrono::Duration::seconds(30);

/// Brings the index up to date with jobs another process changed (a `worker` importing or
/// closing jobs against the same database server, or a write whose index update failed): the
/// jobs changed since a little before the watermark whose version the index does not hold.
/// `serve` runs it every few seconds; when nothing changed it is one indexed query. Returns how
/// many jobs it wrote.
///
/// The first pass starts a little before the watermark (or, where the start-up check counts as
/// a pass, [`ensure_index`], a little before that check); each complete pass leaves the next one
/// to start a little before its own start (by the database's clock): a transaction that
/// commits later stamped its jobs after that. So a pass reads only the last seconds' changes,
/// not, again and again, those just before the newest job (after a bulk import: thousands).
pub async fn catch_up_index(ctx: &Context) -> Result<usize, ServiceError> {
    let started = repositories::jobs::database_now(&ctx.db).await?;
    let index = ctx.jobs_index.clone();
    let from = tokio::task::spawn_blocking(move || {
        index.checked().unwrap_or(index.watermark().updated_at_micros)
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?;
    let mut since = DateTime::from_timestamp_micros(from).unwrap_or_default() - CATCH_UP_OVERLAP;
    let mut after: Option<String> = None;
    let mut written = 0;
    loop {
        let page = repositories::jobs::updated_after(&ctx.db, since, after.as_deref(), 500).await?;
        let Some(last) = page.last() else {
            ctx.jobs_index.set_checked(started.timestamp_micros());
            return Ok(written);
        };
        since = last.updated_at;
        after = Some(last.id.clone());
        let full = page.len() == 500;
        let ids: Vec<String> = page.iter().map(|j| j.id.clone()).collect();
        let index = ctx.jobs_index.clone();
        let versions = tokio::task::spawn_blocking(move || index.versions(&ids))
            .await
            .map_err(|e| ServiceError::Internal(e.into()))?
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let stale: Vec<String> = page
            .into_iter()
            .filter(|job| {
                let indexed = versions.get(&job.id).copied();
                let public = job.status == JobStatus::Published && job.review == Review::Approved;
                if public {
                    indexed != Some(job.updated_at.timestamp_micros())
                } else {
                    indexed.is_some()
                }
            })
            .map(|job| job.id)
            .collect();
        written += stale.len();
        sync_ids(ctx, stale).await?;
        if !full {
            ctx.jobs_index.set_checked(started.timestamp_micros());
            return Ok(written);
        }
    }
}

/// Rebuilds the index from the database whatever its state (the `admin reindex-jobs` command);
/// `progress` gets the number of jobs read so far and, first, how many there are.
pub async fn reindex(
    ctx: &Context,
    mut progress: impl FnMut(Reindex),
) -> Result<u64, ServiceError> {
    let (public, latest) = repositories::jobs::index_state(&ctx.db).await?;
    progress(Reindex::Total(public));
    rebuild_index(ctx, latest, &mut |n| progress(Reindex::Read(n))).await
}

/// What a rebuild reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reindex {
    /// The number of public jobs to index.
    Total(u64),
    /// Jobs read from the database so far.
    Read(u64),
}

/// Rebuilds the index from every published, approved job.
pub async fn rebuild_index(
    ctx: &Context,
    latest: i64,
    progress: &mut impl FnMut(u64),
) -> Result<u64, ServiceError> {
    let mut docs = Vec::new();
    let mut facts = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = repositories::jobs::public_page(&ctx.db, after.as_deref(), 1000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        let names = repositories::jobs::company_names_of(&ctx.db, &page).await?;
        for job in &page {
            let company = names.get(&job.company_id).map_or("", String::as_str);
            docs.push(index_doc(job, company));
            facts.push(Facts::of(job, company));
        }
        progress(docs.len() as u64);
    }
    let index = ctx.jobs_index.clone();
    let suggestions = ctx.suggestions.clone();
    tokio::task::spawn_blocking(move || {
        let indexed = index.replace_all(docs, Watermark { updated_at_micros: latest });
        suggestions.store().replace_all(facts);
        indexed
    })
    .await
    .map_err(|e| ServiceError::Internal(e.into()))?
    .map_err(|e| ServiceError::Internal(e.into()))
}
