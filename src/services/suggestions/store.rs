//! The suggestions' copy of the public jobs, in memory: each job's facts (its title, skills,
//! company, places, pay) and the counts built from them, per kind of completion and per word.
//! It is written with the search index (the same jobs, at the same moments), so it follows
//! job writes, imports and the catch-up with other processes' writes.
//!
//! The same few tens of thousands of words and forms recur across every job, so each is held
//! once: the words in the vocabulary and the forms per kind in interners ([`Interner`]), a job
//! holding their ids; a key is one `Arc<str>` shared by its term and its word starts. A word or
//! form is freed as its last job leaves, so the copy follows the jobs held, never its history.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::interner::Interner;
use super::salary_index::{SalaryIndex, SalaryRow, YearlySalary};
use super::text;
use crate::core::memory::hash_table_bytes;
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

/// One job as held: the forms it counts for per kind and its words, as ids (the forms' ids
/// are those of their kind's [`Terms::forms`], the words' those of [`State::vocabulary`]), and
/// its row in the salary index when it publishes a salary.
#[derive(Debug)]
pub struct Entry {
    pub version: i64,
    pub expires_at: Option<i64>,
    salary_row: Option<u32>,
    /// In parts, each id once in its part: per kind (in the order of [`Kind::ALL`]) its forms,
    /// then the words of its title, then its other words; every part but the last ascending.
    /// One slice rather than one per part saves a job five allocations and their pointers.
    ids: Box<[u32]>,
    /// Where each part but the last ends in `ids`.
    ends: [u32; 5],
}

impl Entry {
    /// The part `at` of `ids` (see there).
    fn part(&self, at: usize) -> &[u32] {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before] as usize);
        let end = self.ends.get(at).map_or(self.ids.len(), |end| *end as usize);
        &self.ids[start..end]
    }

    /// The forms it counts for as `kind`, each key once, ascending.
    pub fn forms(&self, kind: Kind) -> &[u32] {
        self.part(kind.slot())
    }

    /// Its skills, ascending.
    pub fn skills(&self) -> &[u32] {
        self.forms(Kind::Skill)
    }

    /// The words of its title, ascending.
    pub fn title_words(&self) -> &[u32] {
        self.part(Kind::ALL.len())
    }

    /// Its words (in its title, skills, company or places), each once.
    pub fn words(&self) -> &[u32] {
        &self.ids[self.ends[Kind::ALL.len() - 1] as usize..]
    }
}

/// The forms of a job per kind, each key once (the first form written of it).
fn forms_of<'a>(facts: &'a Facts) -> [Vec<&'a str>; 4] {
    let mut forms: [Vec<&str>; 4] = Default::default();
    let mut add = |kind: Kind, form: &'a str| {
        let slot = &mut forms[kind.slot()];
        let key = text::key(form);
        if !key.is_empty() && !slot.iter().any(|f| text::key(f) == key) {
            slot.push(form);
        }
    };
    add(Kind::Title, &facts.title);
    facts.skills.iter().for_each(|s| add(Kind::Skill, s));
    add(Kind::Company, &facts.company);
    facts.locations.iter().for_each(|l| add(Kind::Location, l));
    forms
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
    base: Option<Box<str>>,
    /// The forms jobs write it in (ids of [`Terms::forms`], which count the jobs of each).
    forms: Vec<u32>,
}

/// A key from one of its word starts on: `key[at..]`. Starts are ordered by that text, then by
/// where it begins, then by the key, so the first start of a text that begins with `prefix` is
/// never before the start (`prefix`, 0) that a search for `prefix` begins at.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Start {
    key: Arc<str>,
    at: u32,
}

impl Start {
    fn text(&self) -> &str {
        &self.key[self.at as usize..]
    }
}

impl Ord for Start {
    fn cmp(&self, other: &Start) -> Ordering {
        self.text()
            .cmp(other.text())
            .then(self.at.cmp(&other.at))
            .then_with(|| self.key.cmp(&other.key))
    }
}

impl PartialOrd for Start {
    fn partial_cmp(&self, other: &Start) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Where the words of a key begin.
fn word_starts(key: &str) -> impl Iterator<Item = u32> + '_ {
    std::iter::once(0).chain(key.match_indices(' ').map(|(i, _)| i as u32 + 1))
}

/// The completions of one kind: each key's term, every key under each of its word starts (so
/// "dev" finds "backend developer"), and the forms jobs write. A key is held once, shared by
/// its term and its starts.
#[derive(Debug, Default)]
pub struct Terms {
    pub by_key: HashMap<Arc<str>, Term>,
    starts: BTreeSet<Start>,
    /// Each form as written, with how many jobs write it as this kind.
    forms: Interner,
}

impl Terms {
    fn entry(&mut self, key: String) -> &mut Term {
        if !self.by_key.contains_key(key.as_str()) {
            let key: Arc<str> = key.into();
            for at in word_starts(&key) {
                self.starts.insert(Start { key: Arc::clone(&key), at });
            }
            return self.by_key.entry(key).or_default();
        }
        self.by_key.get_mut(key.as_str()).expect("held")
    }

    fn add_base(&mut self, form: &str) {
        let key = text::key(form);
        if !key.is_empty() {
            self.entry(key).base = Some(form.into());
        }
    }

    /// Counts one job more writing `form`; answers the form's id.
    fn add(&mut self, form: &str) -> u32 {
        let id = self.forms.hold(form);
        let new = self.forms.count(id) == 1;
        let term = self.entry(text::key(form));
        term.count += 1;
        if new {
            term.forms.push(id);
        }
        id
    }

    /// Counts one job fewer writing the form `id`; a term without jobs (nor a base) leaves.
    fn remove(&mut self, id: u32) {
        let key = text::key(self.forms.string(id));
        let last = self.forms.count(id) == 1;
        self.forms.release(id);
        let Some(term) = self.by_key.get_mut(key.as_str()) else { return };
        term.count = term.count.saturating_sub(1);
        if last {
            term.forms.retain(|f| *f != id);
        }
        if term.count == 0 && term.base.is_none() {
            let Some((key, _)) = self.by_key.remove_entry(key.as_str()) else { return };
            for at in word_starts(&key) {
                self.starts.remove(&Start { key: Arc::clone(&key), at });
            }
        }
    }

    /// The form most jobs write `term` in (the alphabetically first of a tie), else its base.
    pub fn display<'a>(&'a self, term: &'a Term) -> &'a str {
        term.forms
            .iter()
            .map(|id| (self.forms.count(*id), self.forms.string(*id)))
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
            .map(|(_, form)| form)
            .or(term.base.as_deref())
            .unwrap_or_default()
    }

    /// The keys with a word that begins with `prefix`, each as (the key from that word on, the
    /// key), in the order of the former; a key comes once per such word.
    pub fn starting_with<'a>(
        &'a self,
        prefix: &str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let from = Start { key: prefix.into(), at: 0 };
        let prefix = Arc::clone(&from.key);
        self.starts
            .range(from..)
            .map(|start| (start.text(), &*start.key))
            .take_while(move |(text, _)| text.starts_with(&*prefix))
    }

    /// The forms jobs write as this kind.
    pub fn forms(&self) -> &Interner {
        &self.forms
    }

    /// The heap held, counted from capacities and lengths (a B-tree's nodes as its elements
    /// over a typical fill of two thirds).
    fn heap_bytes(&self) -> u64 {
        let mut bytes = hash_table_bytes(self.by_key.capacity(), size_of::<(Arc<str>, Term)>());
        for (key, term) in &self.by_key {
            // An `Arc<str>` holds its two counts before the text.
            bytes += (16 + key.len()).next_multiple_of(8) as u64
                + term.base.as_ref().map_or(0, |b| b.len() as u64)
                + 4 * term.forms.capacity() as u64;
        }
        bytes + (self.starts.len() * size_of::<Start>() * 3 / 2) as u64 + self.forms.heap_bytes()
    }
}

/// Everything held, behind one lock.
#[derive(Debug, Default)]
pub struct State {
    pub jobs: HashMap<Box<str>, Entry>,
    pub terms: [Terms; 4],
    /// The words of the jobs (in their title, skills, company or places), each with how many
    /// jobs carry it.
    pub vocabulary: Interner,
    /// The jobs that publish a salary, by word (the ids of `vocabulary`).
    salaries: SalaryIndex,
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
        self.remove(&facts.id);
        let forms = forms_of(&facts);
        let mut words: Vec<String> = forms.iter().flatten().flat_map(|f| text::words(f)).collect();
        words.sort_unstable();
        words.dedup();
        // The title's words are among them: its form is the title whenever it has a word.
        let title = sorted_words(&facts.title);
        let mut ids = Vec::with_capacity(forms.iter().map(Vec::len).sum::<usize>() + words.len());
        let mut ends = [0; 5];
        for kind in Kind::ALL {
            let start = ids.len();
            ids.extend(forms[kind.slot()].iter().map(|form| self.terms[kind.slot()].add(form)));
            ids[start..].sort_unstable();
            ends[kind.slot()] = ids.len() as u32;
        }
        let start = ids.len();
        ids.extend(title.iter().map(|word| self.vocabulary.hold(word)));
        ids[start..].sort_unstable();
        ends[Kind::ALL.len()] = ids.len() as u32;
        for word in words.iter().filter(|w| title.binary_search(*w).is_err()) {
            ids.push(self.vocabulary.hold(word));
        }
        let mut entry = Entry {
            version: facts.version,
            expires_at: facts.expires_at,
            salary_row: None,
            ids: ids.into_boxed_slice(),
            ends,
        };
        entry.salary_row = facts.salary.map(|salary| {
            let row = SalaryRow {
                salary,
                countries: facts.countries,
                seniority: facts.seniority,
                workplace: facts.workplace,
                expires_at: facts.expires_at,
            };
            self.salaries.insert(row, entry.words())
        });
        self.jobs.insert(facts.id.into_boxed_str(), entry);
    }

    fn remove(&mut self, id: &str) {
        let Some(entry) = self.jobs.remove(id) else { return };
        // Before its words are let go: the index lists rows under the words' ids.
        if let Some(at) = entry.salary_row {
            self.salaries.remove(at, entry.words());
            if self.salaries.is_sparse() {
                self.rebuild_salaries();
            }
        }
        for kind in Kind::ALL {
            for form in entry.forms(kind) {
                self.terms[kind.slot()].remove(*form);
            }
        }
        for word in entry.words() {
            self.vocabulary.release(*word);
        }
    }

    /// Builds the salary index again from the jobs held (the rows of removed jobs dropped).
    fn rebuild_salaries(&mut self) {
        let mut old = std::mem::take(&mut self.salaries);
        for entry in self.jobs.values_mut() {
            if let Some(row) = entry.salary_row.and_then(|at| old.remove(at, &[])) {
                entry.salary_row = Some(self.salaries.insert(row, entry.words()));
            }
        }
    }

    /// The salaries of the jobs that carry every one of `words` (all of them when there are
    /// none; none when a word is carried by no job).
    pub fn salaries_matching(&self, words: &[String]) -> Box<dyn Iterator<Item = &SalaryRow> + '_> {
        match words.iter().map(|w| self.vocabulary.id(w)).collect::<Option<Vec<u32>>>() {
            Some(ids) => self.salaries.matching(&ids),
            None => Box::new(std::iter::empty()),
        }
    }

    /// The heap held, counted from capacities and lengths.
    pub fn heap_bytes(&self) -> u64 {
        let mut bytes = hash_table_bytes(self.jobs.capacity(), size_of::<(Box<str>, Entry)>());
        for (id, entry) in &self.jobs {
            bytes += (id.len() + 4 * entry.ids.len()) as u64;
        }
        if let Some(gone) = &self.gone {
            bytes += hash_table_bytes(gone.capacity(), size_of::<(String, i64)>())
                + gone.keys().map(|id| id.capacity() as u64).sum::<u64>();
        }
        bytes
            + self.terms.iter().map(Terms::heap_bytes).sum::<u64>()
            + self.vocabulary.heap_bytes()
            + self.salaries.heap_bytes()
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
            if state.jobs.get(id.as_str()).is_none_or(|e| e.version <= *version) {
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
            let titles = state.terms(Kind::Title);
            let title = &titles.by_key["senior rust engineer"];
            assert_eq!((title.count, titles.display(title)), (2, "Senior Rust Engineer"));
            assert_eq!(state.terms(Kind::Company).by_key["acme"].count, 3);
            assert_eq!(state.vocabulary.count_of("rust"), 2);
        }
        store.write(Vec::new(), &[("c".into(), 2)]);
        let state = store.read();
        assert!(!state.terms(Kind::Title).by_key.contains_key("data analyst"));
        assert!(!state.terms(Kind::Title).starting_with("").any(|(_, key)| key == "data analyst"));
        assert_eq!(
            state.terms(Kind::Skill).by_key["python"].count,
            0,
            "the taxonomy's skill stays"
        );
        assert_eq!(state.vocabulary.id("analyst"), None);
        assert_eq!(state.terms(Kind::Title).forms().id("Data Analyst"), None);
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
            state.salaries_matching(&words).fold((0, 0.0), |(n, s), r| (n + 1, s + r.salary.yearly))
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

    #[test]
    fn a_prefix_finds_every_key_with_a_word_that_begins_with_it() {
        let mut terms = Terms::default();
        for form in ["Backend Dev", "Dev", "DevOps Engineer", "Data Engineer", "Ab Dev"] {
            terms.add(form);
        }
        let found = |prefix: &str| -> Vec<(String, String)> {
            terms.starting_with(prefix).map(|(s, k)| (s.to_owned(), k.to_owned())).collect()
        };
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter().map(|(s, k)| (s.to_string(), k.to_string())).collect()
        };
        assert_eq!(
            found("dev"),
            pairs(&[
                ("dev", "dev"),
                ("dev", "ab dev"),
                ("dev", "backend dev"),
                ("devops engineer", "devops engineer")
            ])
        );
        assert_eq!(found("engineer").len(), 2);
        assert_eq!(found("devops engineer!"), pairs(&[]));
        assert_eq!(found("").len(), 5 + 4, "every word start of every key");
        assert_eq!(terms.by_key["dev"].count, 1);
    }

    #[test]
    fn a_title_is_shown_as_most_jobs_write_it() {
        let mut terms = Terms::default();
        let upper = terms.add("Senior RUST Engineer");
        terms.add("Senior Rust Engineer");
        terms.add("Senior Rust Engineer");
        terms.add("Senior RUST Engineer");
        let title = |terms: &Terms| {
            let term = &terms.by_key["senior rust engineer"];
            (terms.display(term).to_owned(), term.count)
        };
        assert_eq!(title(&terms), ("Senior RUST Engineer".to_owned(), 4), "a tie: first in order");
        terms.remove(upper);
        assert_eq!(title(&terms), ("Senior Rust Engineer".to_owned(), 3));
        terms.remove(upper);
        assert_eq!(terms.forms().id("Senior RUST Engineer"), None, "no job writes it so");
    }

    #[test]
    fn jobs_leaving_and_arriving_never_grow_the_copy_past_its_largest() {
        let store = Store::new(Vec::new());
        store.loaded();
        let round = |r: usize| -> Vec<Facts> {
            (0..2000)
                .map(|i| Facts {
                    company: format!("Company{r}x{i}"),
                    ..facts(&format!("{r}-{i}"), 1, &format!("Role{r}x{i} Engineer"), &["rust"])
                })
                .collect()
        };
        store.write(round(0), &[]);
        let largest = store.heap_bytes();
        for r in 1..10 {
            let left: Vec<(String, i64)> =
                (0..2000).map(|i| (format!("{}-{i}", r - 1), i64::MAX)).collect();
            store.write(Vec::new(), &left);
            store.write(round(r), &[]);
            assert!(store.heap_bytes() <= largest * 3 / 2, "{} > {largest}", store.heap_bytes());
        }
        let state = store.read();
        assert_eq!(state.vocabulary.len(), 2000 * 2 + 4, "the last round's words and 4 shared");
        assert_eq!(state.terms(Kind::Title).forms().len(), 2000);
    }

    /// What [`State::heap_bytes`] counts beside the jobs.
    fn kinds_and_rest(state: &State) -> u64 {
        state.terms.iter().map(Terms::heap_bytes).sum::<u64>()
            + state.vocabulary.heap_bytes()
            + state.salaries.heap_bytes()
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
        let kinds: Vec<String> = Kind::ALL
            .iter()
            .map(|k| format!("{} {:.1}", k.as_str(), memory::mib(state.terms(*k).heap_bytes())))
            .collect();
        println!(
            "heap_bytes by part (MiB): jobs {:.1}, terms: {}, vocabulary {:.1}, salaries {:.1}",
            memory::mib(counted - kinds_and_rest(&state)),
            kinds.join(", "),
            memory::mib(state.vocabulary.heap_bytes()),
            memory::mib(state.salaries.heap_bytes()),
        );
        let off = (counted as f64 - held as f64).abs() / held as f64;
        assert!(off < 0.1, "heap_bytes is {:.0}% off what the allocator holds", off * 100.0);
    }
}
