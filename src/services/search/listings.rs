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

/// The most listings (and companies) remembered; when full, the ones read longest ago go
/// ([`make_room`]).
const MAX_LISTINGS: usize = 20_000;

/// Makes room for `incoming` more entries in `map`, bounded by `max`. When they do not fit,
/// the entries older than [`LISTING_MAX_AGE`] go (they would be read again anyway), and then,
/// while more than half the bound is held, the ones read longest ago. Each time it has to
/// look, it leaves at most half the bound, so its scan costs O(1) per entry over time; and
/// what was read lately stays, where forgetting everything at once made a search that touches
/// more jobs than the bound read every listing again.
fn make_room<V>(
    map: &mut HashMap<String, V>,
    incoming: usize,
    max: usize,
    read_at: impl Fn(&V) -> Instant,
) {
    if map.len() + incoming <= max {
        return;
    }
    map.retain(|_, v| read_at(v).elapsed() < LISTING_MAX_AGE);
    let keep = (max / 2).saturating_sub(incoming);
    if map.len() <= keep {
        return;
    }
    let mut times: Vec<Instant> = map.values().map(&read_at).collect();
    // The newest `keep` stay: those read after the (len - keep)th oldest. Entries read at
    // that same instant (one page's) go with it.
    let (_, cutoff, _) = times.select_nth_unstable(map.len() - keep - 1);
    let cutoff = *cutoff;
    map.retain(|_, v| read_at(v) > cutoff);
}

/// Jobs as search pages show them (no description), with their companies, remembered by the
/// version (`updated_at`) of the job: every write of a job changes its version, so a listing is
/// current exactly when the index still holds that version.
#[derive(Default)]
pub struct Listings {
    entries: Mutex<HashMap<String, Listed>>,
    /// The companies listings were read with, by id, with when they were read.
    companies: Mutex<HashMap<String, (Instant, Arc<Company>)>>,
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

    /// The companies of `ids` (sorted, each once), by id: those read less than
    /// [`LISTING_MAX_AGE`] ago from memory, the others from the database (and remembered,
    /// unless a company changed since `epoch` began). A company that no longer exists is
    /// missing.
    pub(super) async fn companies(
        &self,
        ctx: &Context,
        ids: Vec<String>,
        epoch: u64,
    ) -> Result<HashMap<String, Arc<Company>>, ServiceError> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let companies = self.lock_companies();
            for id in ids {
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
        let read: Vec<Arc<Company>> = repositories::companies::find_many(&ctx.db, &missing)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        {
            let mut companies = self.lock_companies();
            if self.epoch() == epoch {
                make_room(&mut companies, read.len(), MAX_LISTINGS, |(read_at, _)| *read_at);
                let read_at = Instant::now();
                for company in &read {
                    companies.insert(company.id.clone(), (read_at, company.clone()));
                }
            }
        }
        found.extend(read.into_iter().map(|company| (company.id.clone(), company)));
        Ok(found)
    }

    fn lock_companies(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<Company>)>> {
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
        make_room(&mut entries, listings.len(), MAX_LISTINGS, |listed| listed.read_at);
        let read_at = Instant::now();
        for listing in listings {
            entries.insert(listing.0.id.clone(), Listed { read_at, listing: listing.clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn room_is_made_by_forgetting_the_listings_read_longest_ago() {
        let start = Instant::now();
        let mut map: HashMap<String, Instant> =
            (0..10).map(|n| (format!("j{n}"), start + Duration::from_millis(n))).collect();
        make_room(&mut map, 0, 10, |t| *t);
        assert_eq!(map.len(), 10, "it fits: nothing goes");

        make_room(&mut map, 2, 10, |t| *t);
        let mut kept: Vec<&str> = map.keys().map(String::as_str).collect();
        kept.sort();
        assert_eq!(kept, ["j7", "j8", "j9"], "half the bound, less what comes, the newest");

        // Listings older than the age a listing is shown go first, whatever the room.
        let old = Instant::now().checked_sub(LISTING_MAX_AGE + Duration::from_secs(1));
        if let Some(old) = old {
            map.insert("stale".into(), old);
            (0..7).for_each(|n| {
                map.insert(format!("new{n}"), Instant::now());
            });
            make_room(&mut map, 1, 10, |t| *t);
            assert!(!map.contains_key("stale"));
            assert!(map.len() <= 4, "{}", map.len());
        }
    }
}
