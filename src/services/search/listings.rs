//! What search pages remember between searches: each listed job with its company, by the
//! job's version, and the companies themselves for [`LISTING_MAX_AGE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::models::company::Company;
use crate::models::job::Job;
use crate::repositories;
use crate::services::{Context, ServiceError};

/// How long a company read from the database is shown on pages before it is read again: the
/// bound on how stale a company's name or verification on a page can be when another process
/// changed it (this process forgets every listing when it changes a company).
pub const LISTING_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// The most listings (and companies) remembered; when full, they are all forgotten at once.
const MAX_LISTINGS: usize = 20_000;

/// Jobs as search pages show them (no description), with their companies, remembered by the
/// version (`updated_at`) of the job: every write of a job changes its version, so a listing is
/// current exactly when the index still holds that version.
#[derive(Default)]
pub struct Listings {
    entries: Mutex<HashMap<String, Listed>>,
    /// The companies listings were read with, by id, with when they were read.
    companies: Mutex<HashMap<String, (Instant, Company)>>,
    /// Counts [`Listings::forget_all`]: what was read before a company changed is not kept.
    epoch: std::sync::atomic::AtomicU64,
}

struct Listed {
    read_at: Instant,
    listing: Arc<(Job, Company)>,
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

    /// Forgets every listing and company (a company changed: its name or verification is on
    /// them), and whatever a search that is reading right now would remember.
    pub fn forget_all(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.lock().clear();
        self.lock_companies().clear();
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The companies of `jobs`, by id: those read less than [`LISTING_MAX_AGE`] ago from
    /// memory, the others from the database (and remembered, unless a company changed since
    /// `epoch` began). A company that no longer exists is missing.
    pub(super) async fn companies(
        &self,
        ctx: &Context,
        jobs: &[&Job],
        epoch: u64,
    ) -> Result<HashMap<String, Company>, ServiceError> {
        let wanted = crate::models::job::company_ids(jobs.iter().copied());
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

    /// The listing of this version of the job, if remembered (and its company young enough).
    pub(super) fn current(&self, id: &str, version: i64) -> Option<Arc<(Job, Company)>> {
        self.young(id).filter(|listing| listing.0.updated_at.timestamp_micros() == version)
    }

    /// The listing of the job, of whatever version, if remembered (and its company young
    /// enough).
    pub(super) fn young(&self, id: &str) -> Option<Arc<(Job, Company)>> {
        let entries = self.lock();
        let listed = entries.get(id)?;
        (listed.read_at.elapsed() < LISTING_MAX_AGE).then(|| listed.listing.clone())
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
            entries.insert(listing.0.id.clone(), Listed { read_at, listing: listing.clone() });
        }
    }
}
