//! The jobs that publish a salary, as salary insights read them: each salary as a yearly
//! amount ([`YearlySalary`]), one row per job with what their filters test, and per word the
//! rows of the jobs that carry it, in ascending order. A request with words reads only the
//! rows its rarest word lists (intersected with the others'), not every job held. Words are
//! the ids of the copy's vocabulary (`store::State::vocabulary`).
//!
//! Rows are appended and never reused, so every word's list stays ascending as it grows; a
//! removed job leaves an empty row, and [`SalaryIndex::is_sparse`] tells the owner when it is
//! time to build the index again from the jobs held.

use std::collections::HashMap;

use crate::core::memory::hash_table_bytes;
use crate::models::job::{Salary, Seniority, Workplace};

/// A published salary as a yearly amount: the middle of its range (or its one end).
#[derive(Debug, Clone, PartialEq)]
pub struct YearlySalary {
    pub currency: String,
    pub yearly: f64,
}

impl YearlySalary {
    /// The yearly amount of a public salary with a currency and a period; `None` otherwise.
    pub fn of(salary: &Salary) -> Option<YearlySalary> {
        if !salary.public {
            return None;
        }
        let currency = salary.currency.clone().filter(|c| !c.is_empty())?;
        let amount = match (salary.min, salary.max) {
            (Some(min), Some(max)) => (min + max) / 2.0,
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => return None,
        };
        let yearly = amount * salary.period?.per_year();
        (yearly.is_finite() && yearly > 0.0).then_some(YearlySalary { currency, yearly })
    }
}

/// One job's salary and what the filters of salary insights test.
#[derive(Debug, Clone, PartialEq)]
pub struct SalaryRow {
    pub salary: YearlySalary,
    /// ISO 3166-1 alpha-2 codes of its places.
    pub countries: Vec<String>,
    pub seniority: Option<Seniority>,
    pub workplace: Option<Workplace>,
    /// Seconds since the epoch.
    pub expires_at: Option<i64>,
}

/// Below this many rows an index is never called sparse (rebuilding would cost more than the
/// empty rows).
const MIN_ROWS_TO_COMPACT: usize = 4096;

#[derive(Debug, Default)]
pub struct SalaryIndex {
    rows: Vec<Option<SalaryRow>>,
    live: usize,
    /// Word (its id) → the rows of the jobs carrying it, ascending.
    by_word: HashMap<u32, Vec<u32>>,
}

impl SalaryIndex {
    /// The heap held, counted from capacities.
    pub fn heap_bytes(&self) -> u64 {
        let rows = (self.rows.capacity() * size_of::<Option<SalaryRow>>()) as u64
            + self
                .rows
                .iter()
                .flatten()
                .map(|r| {
                    let countries: usize = r.countries.iter().map(String::capacity).sum();
                    (r.salary.currency.capacity() + 24 * r.countries.capacity() + countries) as u64
                })
                .sum::<u64>();
        let words = hash_table_bytes(self.by_word.capacity(), size_of::<(u32, Vec<u32>)>())
            + self.by_word.values().map(|r| 4 * r.capacity() as u64).sum::<u64>();
        rows + words
    }

    /// Adds a job's row under each of its `words` (each once); answers the row's number.
    pub fn insert(&mut self, row: SalaryRow, words: &[u32]) -> u32 {
        let at = u32::try_from(self.rows.len()).expect("fewer than 2^32 salary rows");
        self.rows.push(Some(row));
        self.live += 1;
        for word in words {
            self.by_word.entry(*word).or_default().push(at);
        }
        at
    }

    /// Removes row `at`, held under `words` (those it was inserted with); answers its row.
    pub fn remove(&mut self, at: u32, words: &[u32]) -> Option<SalaryRow> {
        let row = self.rows.get_mut(at as usize)?.take()?;
        self.live -= 1;
        for word in words {
            let Some(list) = self.by_word.get_mut(word) else { continue };
            if let Ok(i) = list.binary_search(&at) {
                list.remove(i);
            }
            if list.is_empty() {
                self.by_word.remove(word);
            }
        }
        Some(row)
    }

    /// Whether most rows are empty (time to build the index again from the jobs held).
    pub fn is_sparse(&self) -> bool {
        self.rows.len() >= MIN_ROWS_TO_COMPACT && self.live * 2 < self.rows.len()
    }

    /// How many jobs with a salary are held (the tests' check of a rebuild).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live
    }

    /// The rows of the jobs that carry every one of `words` (every row when there are none).
    pub fn matching<'a>(&'a self, words: &[u32]) -> Box<dyn Iterator<Item = &'a SalaryRow> + 'a> {
        let rows = |ids: Vec<u32>| ids.into_iter().filter_map(|at| self.rows[at as usize].as_ref());
        if words.is_empty() {
            return Box::new(self.rows.iter().flatten());
        }
        let mut lists: Vec<&Vec<u32>> = Vec::with_capacity(words.len());
        for word in words {
            match self.by_word.get(word) {
                Some(list) => lists.push(list),
                None => return Box::new(std::iter::empty()),
            }
        }
        lists.sort_by_key(|l| l.len());
        let mut found: Vec<u32> = lists[0].clone();
        for list in &lists[1..] {
            found.retain(|at| list.binary_search(at).is_ok());
        }
        Box::new(rows(found))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(yearly: f64) -> SalaryRow {
        SalaryRow {
            salary: YearlySalary { currency: "EUR".into(), yearly },
            countries: vec!["PT".into()],
            seniority: None,
            workplace: None,
            expires_at: None,
        }
    }

    /// The ids of the words of `text` (as a vocabulary of these words would number them).
    fn words(text: &str) -> Vec<u32> {
        const VOCABULARY: [&str; 6] = ["engineer", "rust", "data", "analyst", "go", "x"];
        text.split(' ')
            .map(|w| VOCABULARY.iter().position(|v| *v == w).expect("a known word") as u32)
            .collect()
    }

    fn yearly(index: &SalaryIndex, query: &str) -> Vec<f64> {
        let query = if query.is_empty() { Vec::new() } else { words(query) };
        index.matching(&query).map(|r| r.salary.yearly).collect()
    }

    #[test]
    fn a_request_reads_the_rows_that_carry_every_word() {
        let mut index = SalaryIndex::default();
        index.insert(row(1.0), &words("engineer rust"));
        let data = index.insert(row(2.0), &words("data engineer"));
        index.insert(row(3.0), &words("analyst data"));
        assert_eq!(yearly(&index, "engineer"), [1.0, 2.0]);
        assert_eq!(yearly(&index, "data engineer"), [2.0]);
        assert_eq!(yearly(&index, "engineer data"), [2.0]);
        assert_eq!(yearly(&index, ""), [1.0, 2.0, 3.0]);
        assert_eq!(yearly(&index, "rust analyst"), Vec::<f64>::new());
        assert_eq!(yearly(&index, "go"), Vec::<f64>::new());

        assert_eq!(index.remove(data, &words("data engineer")), Some(row(2.0)));
        assert_eq!(index.remove(data, &words("data engineer")), None, "removed once");
        assert_eq!(yearly(&index, "engineer"), [1.0]);
        assert_eq!(yearly(&index, "data"), [3.0]);
        assert_eq!(yearly(&index, ""), [1.0, 3.0]);
        assert_eq!(index.len(), 2);
        assert!(index.by_word.get(&words("rust")[0]).is_none_or(|rows| *rows == [0]));
    }

    #[test]
    fn an_index_of_mostly_removed_rows_is_sparse() {
        let mut index = SalaryIndex::default();
        let rows: Vec<u32> =
            (0..MIN_ROWS_TO_COMPACT).map(|i| index.insert(row(i as f64), &words("x"))).collect();
        assert!(!index.is_sparse());
        for at in &rows[..MIN_ROWS_TO_COMPACT / 2 + 1] {
            index.remove(*at, &words("x"));
        }
        assert!(index.is_sparse());
        assert_eq!(yearly(&index, "x").len(), MIN_ROWS_TO_COMPACT / 2 - 1);
    }

    #[test]
    fn a_salary_is_the_middle_of_its_range_per_year() {
        use crate::models::job::SalaryPeriod;
        let salary = |min, max, period, public| Salary {
            min,
            max,
            currency: Some("EUR".into()),
            period,
            public,
        };
        let yearly = |s: &Salary| YearlySalary::of(s).map(|y| y.yearly);
        assert_eq!(
            yearly(&salary(Some(3000.0), Some(5000.0), Some(SalaryPeriod::Month), true)),
            Some(48_000.0)
        );
        assert_eq!(
            yearly(&salary(None, Some(50.0), Some(SalaryPeriod::Hour), true)),
            Some(104_000.0)
        );
        assert_eq!(yearly(&salary(Some(1.0), None, None, true)), None, "no period");
        assert_eq!(
            yearly(&salary(Some(1.0), None, Some(SalaryPeriod::Year), false)),
            None,
            "private"
        );
    }
}
