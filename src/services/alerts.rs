//! Job-alert digests: for each active saved search of a frequency, the public jobs that match
//! it and were published since its `last_notified_at`, in one email with a one-click
//! unsubscribe. Nothing matches, nothing is sent. The email and the move of the high-water mark
//! are written in one transaction, so a digest is queued exactly once per window.
//!
//! The window ends a minute before the search index's watermark (never after now): a job
//! published but not yet in the index, or stamped inside a transaction that committed late,
//! is left for the next digest rather than skipped. `posted_at` is the moment a job became
//! public (an admin's approval for a job that waited for review). Imported jobs keep the date
//! their source gives, so an import of old postings does not fill digests.
//!
//! The scheduler enqueues a [`JobAlerts`] task per frequency and slot; it runs
//! [`send_digests`].

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::email::{self, Template};
use super::search;
use super::{Context, ServiceError, TaskContext, saved};
use crate::models::saved::{AlertFrequency, SavedSearch};
use crate::queue::{Attempt, Permanent, Queue, Task};
use crate::repositories;

/// The most jobs one digest lists.
pub const MAX_JOBS_PER_DIGEST: usize = 20;

/// Saved searches read per page of a run (a run walks all of them).
const PAGE: u32 = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DigestSummary {
    /// Searches looked at.
    pub searches: usize,
    /// Digests queued.
    pub sent: usize,
    /// Searches with nothing new.
    pub empty: usize,
    /// Searches skipped (an unverified or disabled account, or a search changed meanwhile).
    pub skipped: usize,
    /// Searches whose digest failed (logged; the next run tries again).
    pub failed: usize,
}

/// Sends the digests of every due search of a frequency. A window ends `settle` before the
/// index's watermark (the workers use 60 s).
pub async fn send_digests(
    ctx: &Context,
    frequency: AlertFrequency,
    settle: std::time::Duration,
) -> Result<DigestSummary, ServiceError> {
    let started = Utc::now();
    let index = ctx.jobs_index.clone();
    let watermark = tokio::task::spawn_blocking(move || index.watermark())
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?;
    let indexed_until =
        Utc.timestamp_micros(watermark.updated_at_micros).single().unwrap_or(started);
    let until = started.min(indexed_until) - chrono::Duration::from_std(settle).unwrap_or_default();
    let mut summary = DigestSummary::default();
    let mut after: Option<String> = None;
    loop {
        let page =
            repositories::saved::due_searches(&ctx.db, frequency, started, after.as_deref(), PAGE)
                .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        for search in &page {
            summary.searches += 1;
            match digest(ctx, search, until).await {
                Ok(Outcome::Sent) => summary.sent += 1,
                Ok(Outcome::Empty) => summary.empty += 1,
                Ok(Outcome::Skipped) => summary.skipped += 1,
                // One search's failure (a write conflict with its owner's edit, say) does not
                // stop the others; its mark did not move, so the next run retries it.
                Err(err) => {
                    tracing::warn!(search = %search.id, error = %err, "a job-alert digest failed");
                    summary.failed += 1;
                }
            }
        }
    }
    if summary.failed > 0 && summary.failed == summary.searches {
        return Err(ServiceError::Internal(anyhow::anyhow!(
            "every one of {} digests failed",
            summary.failed
        )));
    }
    Ok(summary)
}

/// Sends the job-alert digests of one frequency (instant, daily or weekly).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobAlerts {
    /// `instant`, `daily` or `weekly`.
    pub frequency: String,
    /// The scheduled time this run belongs to.
    pub slot: i64,
}

impl Task for JobAlerts {
    const KIND: &'static str = "job_alerts";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 5;
    type Context = Arc<TaskContext>;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("{}:{}", self.frequency, self.slot))
    }

    async fn run(self, ctx: Arc<TaskContext>, _attempt: Attempt) -> anyhow::Result<()> {
        let frequency = AlertFrequency::parse(&self.frequency)
            .ok_or_else(|| Permanent(format!("unknown alert frequency {:?}", self.frequency)))?;
        let summary = send_digests(&ctx.services, frequency, ctx.config.alerts_settle).await?;
        if summary.searches > 0 {
            tracing::info!(
                frequency = %self.frequency,
                searches = summary.searches,
                sent = summary.sent,
                empty = summary.empty,
                skipped = summary.skipped,
                failed = summary.failed,
                "job alerts"
            );
        }
        Ok(())
    }
}

enum Outcome {
    Sent,
    Empty,
    Skipped,
}

async fn digest(
    ctx: &Context,
    search: &SavedSearch,
    until: DateTime<Utc>,
) -> Result<Outcome, ServiceError> {
    let since = search.last_notified_at;
    if until <= since {
        return Ok(Outcome::Empty);
    }
    let Some(user) = repositories::users::find_by_id(&ctx.db, &search.user_id).await? else {
        return Ok(Outcome::Skipped);
    };
    if user.disabled || !user.email_verified {
        return Ok(Outcome::Skipped);
    }
    // Whole days back to `since`, then the exact window on `posted_at`.
    let days = ((until - since).num_seconds() / 86_400 + 2)
        .clamp(1, i64::from(search::MAX_POSTED_WITHIN_DAYS));
    let mut params = saved::params(&search.filters, 100);
    params.posted_within_days = Some(days as u32);
    let found = match search::search(ctx, params).await {
        Ok(found) => found,
        // Filters that no longer validate (a rule changed since they were saved): skip, do
        // not fail the whole run.
        Err(ServiceError::Validation(message)) => {
            tracing::warn!(search = %search.id, %message, "a saved search no longer validates");
            return Ok(Outcome::Skipped);
        }
        Err(err) => return Err(err),
    };
    let jobs: Vec<_> = found
        .jobs
        .iter()
        .map(|listing| &**listing)
        .filter(|(job, _)| job.posted_at.is_some_and(|at| at > since && at <= until))
        .collect();

    let tx = ctx.db.begin().await?;
    if !repositories::saved::set_notified_if(&tx, &search.id, since, until).await? {
        return Ok(Outcome::Skipped);
    }
    if jobs.is_empty() {
        tx.commit().await?;
        return Ok(Outcome::Empty);
    }
    let unsubscribe = format!(
        "{}/api/v1/saved-searches/unsubscribe?token={}",
        ctx.public_url, search.unsubscribe_token
    );
    let listed: Vec<minijinja::Value> = jobs
        .iter()
        .take(MAX_JOBS_PER_DIGEST)
        .map(|(job, company)| {
            // Every place, so a candidate who searched for the second one sees it listed.
            let location = job
                .fields
                .locations
                .iter()
                .map(|l| {
                    [l.city.as_deref(), l.region.as_deref(), l.country_code.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .collect::<Vec<_>>()
                .join("; ");
            context! {
                title => job.fields.title,
                company => company.name,
                location => location,
                link => format!("{}/jobs/{}", ctx.public_url, job.id),
            }
        })
        .collect();
    let name =
        if user.full_name.trim().is_empty() { "there".to_owned() } else { user.full_name.clone() };
    let mut message = email::render(
        Template::JobAlert,
        &user.email,
        &ctx.public_url,
        context! {
            name => name,
            search => search.name,
            count => jobs.len(),
            jobs => listed,
            frequency => search.frequency.as_str(),
            unsubscribe => unsubscribe,
        },
    )?;
    message.headers = vec![
        ("List-Unsubscribe".into(), format!("<{unsubscribe}>")),
        ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
    ];
    email::queue_rendered(&tx, &message).await?;
    tx.commit().await?;
    Ok(Outcome::Sent)
}
