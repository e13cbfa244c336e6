//! The suggestions' copy of the public jobs, in memory: each job's facts (its title, skills,
//! company, places, pay) and the counts built from them, per kind of completion and per word.
//! It is written with the search index (the same jobs, at the same moments), so it follows
//! job writes, imports and the catch-up with other processes' writes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::salary_index::{SalaryIndex, SalaryRow, YearlySalary};
use super::text;
use crate::models::job::{Job, Location, Seniority, Workplace};

/// What suggestions complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Title,
    Skill,
    Company,
    Location,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Title, Kind::Skill, Kind::Company, Kind::Location];

    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Title => "title",
            Kind::Skill => "skill",
            Kind::Company => "company",
            Kind::Location => "location",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    const fn slot(self) -> usize {
        self as usize
    }
}

/// The facts of one public job that suggestions use.
#[derive(Debug, Clone)]
pub struct Facts {
    pub id: String,
    /// The job's `updated_at`, in microseconds: the version these facts are of.
    pub version: i64,
    pub title: String,
    pub skills: Vec<String>,
    pub company: String,
    /// Labels of its places ("Lisbon, PT").
    pub locations: Vec<String>,
    pub countries: Vec<String>,
    pub seniority: Option<Seniority>,
    pub workplace: Option<Workplace>,
    pub salary: Option<YearlySalary>,
    /// Seconds since the epoch.
    pub expires_at: Option<i64>,
}

impl Facts {
    /// The facts of a job (public at the time of writing) of the company named `company`.
    pub fn of(job: &Job, company: &str) -> Facts {
        let f = &job.fields;
        Facts {
            id: job.id.clone(),
            version: job.updated_at.timestamp_micros(),
            title: text::title_form(&f.title),
            skills: f.skills.clone(),
            company: company.trim().to_owned(),
            locations: f.locations.iter().filter_map(Location::label).collect(),
            countries: f.locations.iter().filter_map(|l| l.country_code.clone()).collect(),
            seniority: f.seniority,
            workplace: f.workplace,
            salary: f.salary.as_ref().and_then(YearlySalary::of),
            expires_at: f.expires_at.map(|at| at.timestamp()),
        }
    }
}

/// One job as held: what it added to each kind's counts, its words (sorted, each once), and
/// its row in the salary index when it publishes a salary.
#[derive(Debug)]
pub struct Entry {
    pub version: i64,
    /// Per kind, the forms it counts for (each key once).
    pub forms: [Vec<String>; 4],
    pub words: Box<[String]>,
    /// The words of its title (sorted, each once).
    pub title_words: Box<[String]>,
    pub expires_at: Option<i64>,
    salary_row: Option<u32>,
}

impl Entry {
    /// The entry of a job, and its salary row when it publishes a salary.
    fn new(facts: Facts) -> (Entry, Option<SalaryRow>) {
        let mut forms: [Vec<String>; 4] = Default::default();
        let mut add = |kind: Kind, form: &str| {
            let slot = &mut forms[kind.slot()];
            let key = text::key(form);
            if !key.is_empty() && !slot.iter().any(|f| text::key(f) == key) {
                slot.push(form.to_owned());
            }
        };
        add(Kind::Title, &facts.title);
        facts.skills.iter().for_each(|s| add(Kind::Skill, s));
        add(Kind::Company, &facts.company);
        facts.locations.iter().for_each(|l| add(Kind::Location, l));
        forms[Kind::Skill.slot()].sort_unstable();
        let mut words: Vec<String> = forms.iter().flatten().flat_map(|f| text::words(f)).collect();
        words.sort_unstable();
        words.dedup();
        let title_words = sorted_words(&facts.title);
        let row = facts.salary.map(|salary| SalaryRow {
            salary,
            countries: facts.countries,
            seniority: facts.seniority,
            workplace: facts.workplace,
            expires_at: facts.expires_at,
        });
        let entry = Entry {
            version: facts.version,
            forms,
            words: words.into_boxed_slice(),
            title_words,
            expires_at: facts.expires_at,
            salary_row: None,
        };
        (entry, row)
    }

    /// Its skills, sorted.
    pub fn skills(&self) -> &[String] {
        &self.forms[Kind::Skill.slot()]
    }
}

/// The words of `text`, sorted, each once.
pub fn sorted_words(text: &str) -> Box<[String]> {
    let mut words = text::words(text);
    words.sort_unstable();
    words.dedup();
    words.into_boxed_slice()
}

/// A completion's counts: how many jobs carry it, and how they write it.
#[derive(Debug, Default)]
pub struct Term {
    pub count: u32,
    /// Known without a job (a skill of the taxonomy): kept at count 0.
    base: Option<String>,
    forms: HashMap<String, u32>,
}

impl Term {
    /// The form most jobs write (the alphabetically first of a tie), else the base one.
    pub fn display(&self) -> &str {
        self.forms
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(form, _)| form.as_str())
            .or(self.base.as_deref())
            .unwrap_or_default()
    }
}

/// The completions of one kind: each key's term, and every key under each of its word starts
/// (so "dev" finds "backend developer").
#[derive(Debug, Default)]
pub struct Terms {
    pub by_key: HashMap<String, Term>,
    /// (the key from one of its word starts on, the key).
    pub starts: BTreeSet<(String, String)>,
}

impl Terms {
    fn entry(&mut self, key: String) -> &mut Term {
        if !self.by_key.contains_key(&key) {
            for (at, _) in key.match_indices(' ').map(|(i, s)| (i + 1, s)).chain([(0, "")]) {
                self.starts.insert((key[at..].to_owned(), key.clone()));
            }
        }
        self.by_key.entry(key).or_default()
    }

    fn add_base(&mut self, form: &str) {
        let key = text::key(form);
        if !key.is_empty() {
            self.entry(key).base = Some(form.to_owned());
        }
    }

    fn add(&mut self, form: &str) {
        let term = self.entry(text::key(form));
        term.count += 1;
        *term.forms.entry(form.to_owned()).or_default() += 1;
    }

    fn remove(&mut self, form: &str) {
        let key = text::key(form);
        let Some(term) = self.by_key.get_mut(&key) else { return };
        term.count = term.count.saturating_sub(1);
        if let Some(n) = term.forms.get_mut(form) {
            *n -= 1;
            if *n == 0 {
                term.forms.remove(form);
            }
        }
        if term.count == 0 && term.base.is_none() {
            self.by_key.remove(&key);
            for (at, _) in key.match_indices(' ').map(|(i, s)| (i + 1, s)).chain([(0, "")]) {
                self.starts.remove(&(key[at..].to_owned(), key.clone()));
            }
        }
    }
}

/// Everything held, behind one lock.
#[derive(Debug, Default)]
pub struct State {
    pub jobs: HashMap<String, Entry>,
    pub terms: [Terms; 4],
    /// Word → how many jobs carry it (in their title, skills, company or places).
    pub vocabulary: HashMap<String, u32>,
    /// The jobs that publish a salary, by word.
    pub salaries: SalaryIndex,
    /// While the first load runs: the jobs that left since it began, with the version that
    /// made them leave (a page read before must not bring them back).
    gone: Option<HashMap<String, i64>>,
}

impl State {
    fn with_taxonomy(skills: &[&str]) -> State {
        let mut state = State::default();
        for skill in skills {
            state.terms[Kind::Skill.slot()].add_base(skill);
        }
        state
    }

    pub fn terms(&self, kind: Kind) -> &Terms {
        &self.terms[kind.slot()]
    }

    fn insert(&mut self, facts: Facts) {
        let id = facts.id.clone();
        self.remove(&id);
        let (mut entry, row) = Entry::new(facts);
        entry.salary_row = row.map(|row| self.salaries.insert(row, &entry.words));
        for kind in Kind::ALL {
            for form in &entry.forms[kind.slot()] {
                self.terms[kind.slot()].add(form);
            }
        }
        for word in &entry.words {
            *self.vocabulary.entry(word.clone()).or_default() += 1;
        }
        self.jobs.insert(id, entry);
    }

    fn remove(&mut self, id: &str) {
        let Some(entry) = self.jobs.remove(id) else { return };
        if let Some(at) = entry.salary_row {
            self.salaries.remove(at, &entry.words);
            if self.salaries.is_sparse() {
                self.rebuild_salaries();
            }
        }
        for kind in Kind::ALL {
            for form in &entry.forms[kind.slot()] {
                self.terms[kind.slot()].remove(form);
            }
        }
        for word in entry.words.iter() {
            if let Some(n) = self.vocabulary.get_mut(word) {
                *n -= 1;
                if *n == 0 {
                    self.vocabulary.remove(word);
                }
            }
        }
    }

    /// Builds the salary index again from the jobs held (the rows of removed jobs dropped).
    fn rebuild_salaries(&mut self) {
        let mut old = std::mem::take(&mut self.salaries);
        for entry in self.jobs.values_mut() {
            if let Some(row) = entry.salary_row.and_then(|at| old.remove(at, &[])) {
                entry.salary_row = Some(self.salaries.insert(row, &entry.words));
            }
        }
    }

    /// The heap held, counted from the capacities of what is held (a B-tree's nodes as its
    /// elements over a typical fill of two thirds).
    pub fn heap_bytes(&self) -> u64 {
        fn map<K, V>(capacity: usize) -> u64 {
            capacity as u64 * (std::mem::size_of::<(K, V)>() as u64 + 1)
        }
        fn strings(list: &[String]) -> u64 {
            list.iter().map(|s| s.capacity() as u64 + 24).sum()
        }
        let mut bytes = map::<String, Entry>(self.jobs.capacity());
        for (id, entry) in &self.jobs {
            bytes += id.capacity() as u64
                + entry
                    .forms
                    .iter()
                    .map(|f| strings(f) + 24 * (f.capacity() - f.len()) as u64)
                    .sum::<u64>()
                + strings(&entry.words)
                + strings(&entry.title_words);
        }
        for terms in &self.terms {
            bytes += map::<String, Term>(terms.by_key.capacity());
            for (key, term) in &terms.by_key {
                bytes += key.capacity() as u64
                    + term.base.as_ref().map_or(0, |b| b.capacity() as u64)
                    + map::<String, u32>(term.forms.capacity())
                    + term.forms.keys().map(|f| f.capacity() as u64).sum::<u64>();
            }
            bytes += terms.starts.len() as u64 * 48 * 3 / 2
                + terms
                    .starts
                    .iter()
                    .map(|(a, b)| (a.capacity() + b.capacity()) as u64)
                    .sum::<u64>();
        }
        bytes += map::<String, u32>(self.vocabulary.capacity())
            + self.vocabulary.keys().map(|w| w.capacity() as u64).sum::<u64>();
        bytes + self.salaries.heap_bytes()
    }

    fn holds_newer(&self, id: &str, version: i64) -> bool {
        self.jobs.get(id).is_some_and(|e| e.version > version)
            || self.gone.as_ref().and_then(|g| g.get(id)).is_some_and(|v| *v >= version)
    }
}

/// The in-memory copy suggestions answer from; see the module's documentation.
#[derive(Debug)]
pub struct Store {
    state: RwLock<State>,
    skills: Vec<&'static str>,
}

impl Store {
    /// An empty copy (the skills of the taxonomy known, at count 0), waiting for its first
    /// load ([`Store::merge`], then [`Store::loaded`]) or a rebuild ([`Store::replace_all`]).
    pub fn new(skills: Vec<&'static str>) -> Store {
        let mut state = State::with_taxonomy(&skills);
        state.gone = Some(HashMap::new());
        Store { state: RwLock::new(state), skills }
    }

    /// The heap the copy holds ([`State::heap_bytes`]).
    pub fn heap_bytes(&self) -> u64 {
        self.read().heap_bytes()
    }

    pub fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies a write of the search index: `public` jobs as they are now, and the jobs that
    /// left (with the version that made them leave; `i64::MAX` for a deleted one).
    pub fn write(&self, public: Vec<Facts>, left: &[(String, i64)]) {
        let mut state = self.write_lock();
        for (id, version) in left {
            if state.jobs.get(id).is_none_or(|e| e.version <= *version) {
                state.remove(id);
            }
            if let Some(gone) = state.gone.as_mut() {
                gone.insert(id.clone(), *version);
            }
        }
        for facts in public {
            if !state.holds_newer(&facts.id, facts.version) {
                state.insert(facts);
            }
        }
    }

    /// Adds jobs read by the first load, unless a write since holds a newer version of them.
    pub fn merge(&self, page: Vec<Facts>) {
        let mut state = self.write_lock();
        for facts in page {
            if !state.holds_newer(&facts.id, facts.version) {
                state.insert(facts);
            }
        }
    }

    /// The first load is complete.
    pub fn loaded(&self) {
        self.write_lock().gone = None;
    }

    /// Whether the first load (or a rebuild) is complete.
    pub fn is_loaded(&self) -> bool {
        self.read().gone.is_none()
    }

    /// Replaces everything with these jobs (a rebuild of the search index). Builds the new
    /// copy before taking the lock; call it off the async workers.
    pub fn replace_all(&self, jobs: Vec<Facts>) {
        let mut state = State::with_taxonomy(&self.skills);
        for facts in jobs {
            state.insert(facts);
        }
        *self.write_lock() = state;
    }

    /// How many jobs are held.
    pub fn len(&self) -> usize {
        self.read().jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn facts(id: &str, version: i64, title: &str, skills: &[&str]) -> Facts {
        Facts {
            id: id.into(),
            version,
            title: text::title_form(title),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            company: "Acme".into(),
            locations: vec!["Lisbon, PT".into()],
            countries: vec!["PT".into()],
            seniority: None,
            workplace: None,
            salary: None,
            expires_at: None,
        }
    }

    #[test]
    fn counts_follow_writes_and_a_title_leaves_with_its_last_job() {
        let store = Store::new(vec!["rust", "python"]);
        store.write(
            vec![
                facts("a", 1, "Sr. Rust Engineer", &["rust"]),
                facts("b", 1, "Senior Rust Engineer", &["rust"]),
                facts("c", 1, "Data Analyst", &["python"]),
            ],
            &[],
        );
        {
            let state = store.read();
            let title = &state.terms(Kind::Title).by_key["senior rust engineer"];
            assert_eq!((title.count, title.display()), (2, "Senior Rust Engineer"));
            assert_eq!(state.terms(Kind::Company).by_key["acme"].count, 3);
            assert_eq!(state.vocabulary["rust"], 2);
        }
        store.write(Vec::new(), &[("c".into(), 2)]);
        let state = store.read();
        assert!(!state.terms(Kind::Title).by_key.contains_key("data analyst"));
        assert!(!state.terms(Kind::Title).starts.iter().any(|(_, key)| key == "data analyst"));
        assert_eq!(
            state.terms(Kind::Skill).by_key["python"].count,
            0,
            "the taxonomy's skill stays"
        );
        assert!(!state.vocabulary.contains_key("analyst"));
    }

    #[test]
    fn salaries_follow_writes_through_a_rebuild_of_their_index() {
        let store = Store::new(Vec::new());
        let paid = |id: usize, version: i64, title: &str| Facts {
            salary: Some(YearlySalary { currency: "EUR".into(), yearly: id as f64 }),
            ..facts(&id.to_string(), version, title, &[])
        };
        store.write((0..5000).map(|i| paid(i, 1, "Rust Engineer")).collect(), &[]);
        store.write(vec![facts("unpaid", 1, "Rust Engineer", &[])], &[]);
        // 3,000 leave and 1,000 change title: most rows are empty, so the index is rebuilt.
        let left: Vec<(String, i64)> = (0..3000).map(|i| (i.to_string(), 2)).collect();
        store.write((3000..4000).map(|i| paid(i, 2, "Data Analyst")).collect(), &left);
        let state = store.read();
        let sum = |words: &[&str]| -> (usize, f64) {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            state.salaries.matching(&words).fold((0, 0.0), |(n, s), r| (n + 1, s + r.salary.yearly))
        };
        assert_eq!(sum(&["rust"]), (1000, (4000..5000).sum::<usize>() as f64));
        assert_eq!(sum(&["data", "analyst"]), (1000, (3000..4000).sum::<usize>() as f64));
        assert_eq!(sum(&[]).0, 2000);
        assert_eq!(state.salaries.len(), 2000);
        assert!(!state.salaries.is_sparse());
    }

    #[test]
    fn the_first_load_never_brings_back_an_older_version() {
        let store = Store::new(Vec::new());
        store.write(vec![facts("a", 5, "Rust Engineer", &[])], &[("b".into(), 7)]);
        store.merge(vec![facts("a", 3, "Go Engineer", &[]), facts("b", 6, "Data Analyst", &[])]);
        store.loaded();
        let state = store.read();
        assert!(state.terms(Kind::Title).by_key.contains_key("rust engineer"));
        assert!(!state.terms(Kind::Title).by_key.contains_key("go engineer"));
        assert!(!state.jobs.contains_key("b"));
        assert!(store.is_loaded());
    }

    /// Prints the heap a copy of many made-up jobs holds, as it counts it and as the allocator
    /// does; run alone (each test in a process of its own, as nextest runs them), so no other
    /// test's allocations are counted: `nextest run --run-ignored only -E
    /// 'test(the_heap_of_a_copy)' --no-capture` (`SUGGESTIONS_JOBS` jobs, 20,000 unless set).
    #[test]
    #[ignore = "a measurement, to run alone"]
    fn the_heap_of_a_copy_of_many_jobs_is_counted_within_a_tenth() {
        use crate::core::memory;
        let n: usize =
            std::env::var("SUGGESTIONS_JOBS").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
        let skills = crate::services::resume_parser::taxonomy::canonical_names();
        let jobs = crate::services::suggestions::synthetic::jobs(n, 7, &skills);
        let start = memory::heap_bytes().expect("the unit tests count their heap");
        let store = Store::new(skills);
        let empty = (memory::heap_bytes().unwrap() - start, store.heap_bytes());
        for page in jobs.chunks(1000) {
            store.merge(page.to_vec());
        }
        store.loaded();
        let held = memory::heap_bytes().unwrap() as i64 - start as i64;
        let counted = store.heap_bytes();
        let per_job = |bytes: u64, base: u64| (bytes - base) as f64 / n as f64;
        println!(
            "{n} jobs: the allocator {:.1} MiB ({:.0} B/job past the empty copy's {:.1} MiB), \
             heap_bytes {:.1} MiB ({:.0} B/job)",
            memory::mib(held as u64),
            per_job(held as u64, empty.0),
            memory::mib(empty.0),
            memory::mib(counted),
            per_job(counted, empty.1),
        );
        let state = store.read();
        println!(
            "words {}, titles {}, skills {}, companies {}, locations {}, salaries {}",
            state.vocabulary.len(),
            state.terms(Kind::Title).by_key.len(),
            state.terms(Kind::Skill).by_key.len(),
            state.terms(Kind::Company).by_key.len(),
            state.terms(Kind::Location).by_key.len(),
            state.salaries.len()
        );
        let off = (counted as f64 - held as f64).abs() / held as f64;
        assert!(off < 0.1, "heap_bytes is {:.0}% off what the allocator holds", off * 100.0);
    }
}
