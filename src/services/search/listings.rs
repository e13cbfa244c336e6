//! What search pages remember between searches: each listed job with its company, by the job's
//! version, and each page the database confirmed, for [`PAGE_RECHECK`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::models::company::Company;
use crate::models::job::Job;
use crate::repositories;
use crate::services::{Context, ServiceError};

/// How long a remembered listing is used before it is read again even though its job's version
/// did not change: the bound on how stale a company's name or verification on a page can be
/// when another process changed it (this process forgets every listing when it changes a
/// company).
pub const LISTING_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a page the database confirmed is shown again without asking it, as long as no job
/// or company was written by this process meanwhile (those writes make every page ask again at
/// once). The bound on how long a job closed by another process (a `worker`, another `serve`
/// on the same database server) can still be listed; an expired job leaves at once, by the
/// clock.
pub const PAGE_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// The most listings (and pages) remembered; when full, they are all forgotten at once.
const MAX_LISTINGS: usize = 20_000;
const MAX_PAGES: usize = 2_000;

/// Jobs as search pages show them (no description), with their companies, remembered by the
/// version (`updated_at`) of the job they were read at. Every write of a job changes its
/// version, so a listing is current exactly when the database still has that version. And the
/// pages the database confirmed recently ([`PAGE_RECHECK`]), by the ids the index answered.
#[derive(Default)]
pub struct Listings {
    entries: Mutex<HashMap<String, Listed>>,
    pages: Mutex<HashMap<Vec<String>, ConfirmedPage>>,
    /// The companies listings were read with, by id, with when they were read.
    companies: Mutex<HashMap<String, (Instant, Company)>>,
    /// Counts [`Listings::forget_all`]: what was read before a company changed is not kept.
    epoch: std::sync::atomic::AtomicU64,
}

struct Listed {
    version: DateTime<Utc>,
    read_at: Instant,
    listing: Arc<(Job, Company)>,
}

/// What the database said of a page's jobs: which were public (in order), when it was asked
/// (the instant before the read), and the index generation then (a write by this process
/// commits the index, so a later generation means: ask again).
struct ConfirmedPage {
    listings: Vec<Arc<(Job, Company)>>,
    asked_at: Instant,
    generation: u64,
}

impl std::fmt::Debug for Listings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listings").field("remembered", &self.lock().len()).finish()
    }
}

impl Listings {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Listed>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_pages(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<String>, ConfirmedPage>> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forgets every listing and page (a company changed: its name or verification is on them),
    /// and whatever a search that is reading right now would remember.
    pub fn forget_all(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.lock().clear();
        self.lock_pages().clear();
        self.lock_companies().clear();
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether a listing of this job is remembered and young enough to be shown if its
    /// version is still the database's.
    pub(super) fn knows(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(|listed| listed.read_at.elapsed() < LISTING_MAX_AGE)
    }

    /// The companies of `jobs`, by id: those read less than [`LISTING_MAX_AGE`] ago from
    /// memory, the others from the database (and remembered, unless a company changed since
    /// `epoch` began). A company that no longer exists is missing.
    pub(super) async fn companies(
        &self,
        ctx: &Context,
        jobs: &[Job],
        epoch: u64,
    ) -> Result<HashMap<String, Company>, ServiceError> {
        let wanted = crate::models::job::company_ids(jobs);
        let mut found = HashMap::with_capacity(wanted.len());
        let mut missing = Vec::new();
        {
            let companies = self.lock_companies();
            for id in wanted {
                match companies.get(&id) {
                    Some((read_at, company)) if read_at.elapsed() < LISTING_MAX_AGE => {
                        found.insert(id, company.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read = repositories::companies::find_many(&ctx.db, &missing).await?;
        {
            let mut companies = self.lock_companies();
            if self.epoch() == epoch {
                if companies.len() + read.len() > MAX_LISTINGS {
                    companies.clear();
                }
                let read_at = Instant::now();
                for company in &read {
                    companies.insert(company.id.clone(), (read_at, company.clone()));
                }
            }
        }
        found.extend(read.into_iter().map(|company| (company.id.clone(), company)));
        Ok(found)
    }

    fn lock_companies(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Company)>> {
        self.companies.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn current(&self, id: &str, version: DateTime<Utc>) -> Option<Arc<(Job, Company)>> {
        let entries = self.lock();
        let listed = entries.get(id)?;
        (listed.version == version && listed.read_at.elapsed() < LISTING_MAX_AGE)
            .then(|| listed.listing.clone())
    }

    /// Keeps listings read since `epoch` began (none if a company changed meanwhile).
    pub(super) fn remember(&self, listings: &[Arc<(Job, Company)>], epoch: u64) {
        let mut entries = self.lock();
        if self.epoch() != epoch {
            return;
        }
        if entries.len() + listings.len() > MAX_LISTINGS {
            entries.clear();
        }
        let read_at = Instant::now();
        for listing in listings {
            let version = listing.0.updated_at;
            entries.insert(
                listing.0.id.clone(),
                Listed { version, read_at, listing: listing.clone() },
            );
        }
    }

    /// The page of `ids`, if the database confirmed it less than [`PAGE_RECHECK`] ago at this
    /// index generation.
    pub(super) fn confirmed(
        &self,
        ids: &[String],
        generation: u64,
    ) -> Option<Vec<Arc<(Job, Company)>>> {
        let pages = self.lock_pages();
        let page = pages.get(ids)?;
        (page.generation == generation && page.asked_at.elapsed() < PAGE_RECHECK)
            .then(|| page.listings.clone())
    }

    pub(super) fn confirm(
        &self,
        ids: &[String],
        listings: &[Arc<(Job, Company)>],
        asked_at: Instant,
        generation: u64,
        epoch: u64,
    ) {
        let mut pages = self.lock_pages();
        if self.epoch() != epoch {
            return;
        }
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(
            ids.to_vec(),
            ConfirmedPage { listings: listings.to_vec(), asked_at, generation },
        );
    }
}
