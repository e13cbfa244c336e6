//! What search pages remember between searches: each listed job with its company, by the
//! job's version (and its summary as a page writes it, once written), and the companies
//! themselves for [`LISTING_MAX_AGE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::models::company::Company;
use crate::models::job::Job;
use crate::models::listing::PageJob;
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
    /// The listing's summary as a page writes it ([`Listings::summaries`]), once written.
    summary: OnceLock<Arc<[u8]>>,
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
            let listed = Listed { read_at, listing: listing.clone(), summary: OnceLock::new() };
            entries.insert(listing.0.id.clone(), listed);
        }
    }

    /// The summaries of `listings` as a search page writes them (JSON, each with its company),
    /// in order. A listing remembered here is written once and its summary kept with it (a
    /// semantic or hybrid page shows the same jobs again and again, and writing them was about
    /// a tenth of such a page's CPU); the others are written each time.
    pub(super) fn summaries(&self, listings: &[Arc<(Job, Company)>]) -> Vec<Arc<[u8]>> {
        let mut summaries: Vec<Option<Arc<[u8]>>> = {
            let entries = self.lock();
            listings
                .iter()
                .map(|listing| remembered(&entries, listing)?.summary.get().cloned())
                .collect()
        };
        // Written outside the lock, then kept with their listings if those are still here.
        let mut written = Vec::new();
        for (summary, listing) in summaries.iter_mut().zip(listings) {
            if summary.is_none() {
                let mut out = Vec::with_capacity(512);
                PageJob::Job(&listing.0).write_json(&listing.1, &mut out);
                let out: Arc<[u8]> = out.into();
                written.push((listing, out.clone()));
                *summary = Some(out);
            }
        }
        if !written.is_empty() {
            let entries = self.lock();
            for (listing, summary) in written {
                if let Some(listed) = remembered(&entries, listing) {
                    let _ = listed.summary.set(summary);
                }
            }
        }
        summaries.into_iter().flatten().collect()
    }
}

/// The entry of this very listing (not another version of its job, nor the same version read
/// again).
fn remembered<'a>(
    entries: &'a HashMap<String, Listed>,
    listing: &Arc<(Job, Company)>,
) -> Option<&'a Listed> {
    entries.get(&listing.0.id).filter(|listed| Arc::ptr_eq(&listed.listing, listing))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn company(name: &str) -> Company {
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        Company {
            id: "c1".into(),
            name: name.into(),
            slug: "ship-n-shore".into(),
            website: None,
            description: None,
            location: None,
            size: None,
            logo_url: None,
            verified: true,
            created_at: at,
            updated_at: at,
        }
    }

    /// What a page wrote for the job before summaries were kept.
    fn written(listing: &(Job, Company)) -> Vec<u8> {
        let mut out = Vec::new();
        let view = crate::models::listing::JobSummaryView::new(&listing.0, &listing.1);
        serde_json::to_writer(&mut out, &view).unwrap();
        out
    }

    #[test]
    fn a_remembered_listings_summary_is_written_once_and_kept_with_that_listing() {
        let listings = Listings::default();
        let job = crate::services::jobs::listing::sample_job();
        let other = Job { id: "j2".into(), ..job.clone() };
        let first = Arc::new((job.clone(), company("Ship \"n\" Shore")));
        let unlisted = Arc::new((other, company("Elsewhere")));
        listings.remember(std::slice::from_ref(&first), listings.epoch());

        let page = [first.clone(), unlisted.clone()];
        let once = listings.summaries(&page);
        assert_eq!(*once[0], written(&first)[..]);
        assert_eq!(*once[1], written(&unlisted)[..]);
        let again = listings.summaries(&page);
        assert!(Arc::ptr_eq(&once[0], &again[0]), "kept with the remembered listing");
        assert!(!Arc::ptr_eq(&once[1], &again[1]), "a listing not remembered is written anew");

        // The same job read again (its company renamed) is another listing: its own summary.
        let renamed = Arc::new((job, company("Ship and Shore")));
        listings.remember(std::slice::from_ref(&renamed), listings.epoch());
        let now = listings.summaries(&[renamed.clone(), first.clone()]);
        assert_eq!(*now[0], written(&renamed)[..]);
        assert_eq!(*now[1], written(&first)[..]);
        assert!(!Arc::ptr_eq(&now[1], &once[0]), "the listing it replaced keeps nothing");
        listings.forget_all();
        let forgotten = listings.summaries(std::slice::from_ref(&renamed));
        assert!(!Arc::ptr_eq(&forgotten[0], &now[0]));
    }

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
