//! A search as the index takes it, its answer, and the tantivy query it becomes: weighted
//! text over the text fields, filters as term and range queries.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use super::analysis::analyze;
use super::dismax::SeekingDisMax;
use super::expiry::{Expired, Expiries};
use super::filter_bits::{FilterBits, FilterTerm};
use super::id_set::IdSet;
use super::schema::Fields;

pub use crate::models::job::SortBy;

/// A search, with values already normalised the way they were indexed.
#[derive(Debug, Clone, Default)]
pub struct IndexQuery {
    pub text: Option<String>,
    pub location: Option<String>,
    pub countries: Vec<String>,
    pub workplaces: Vec<String>,
    pub employment_types: Vec<String>,
    pub seniorities: Vec<String>,
    pub categories: Vec<String>,
    /// Every one of these.
    pub skills: Vec<String>,
    pub company_ids: Vec<String>,
    /// Yearly amount in `salary_currency`.
    pub salary_min_yearly: Option<f64>,
    pub salary_currency: Option<String>,
    pub posted_since: Option<i64>,
    /// Jobs whose expiry is before this (unix seconds) are left out.
    pub now: i64,
    pub sort: SortBy,
    pub limit: usize,
    pub offset: usize,
    pub facets: bool,
    /// Only these jobs (semantic search: the candidates the vectors found). Not empty.
    pub only_ids: Option<Vec<String>>,
    /// With `text`: these jobs match too, as if they had the words (hybrid search: the jobs
    /// the vectors found). They score 0 for the text.
    pub or_ids: Vec<String>,
}

impl IndexQuery {
    /// What identifies the question this query asks, to remember its answer by: every field
    /// but the clock (`now`, and `posted_since` as a window back from it). A field added to
    /// [`IndexQuery`] does not compile here until it is said whether it is part of it.
    pub(crate) fn question(&self) -> impl Hash + Eq + '_ {
        let IndexQuery {
            text,
            location,
            countries,
            workplaces,
            employment_types,
            seniorities,
            categories,
            skills,
            company_ids,
            salary_min_yearly,
            salary_currency,
            posted_since,
            now,
            sort,
            limit,
            offset,
            facets,
            only_ids,
            or_ids,
        } = self;
        (
            (text, location, countries, workplaces, employment_types, seniorities, categories),
            (skills, company_ids, salary_min_yearly.map(f64::to_bits), salary_currency),
            (posted_since.map(|since| now - since), sort, limit, offset, facets, only_ids, or_ids),
        )
    }
}

/// The answer of a search.
#[derive(Debug, Clone, Default)]
pub struct IndexHits {
    pub ids: Vec<String>,
    /// The version (`updated_at`, unix micros) of each of `ids` the index holds.
    pub versions: Vec<i64>,
    pub total: u64,
    /// Facet name → (value, count), most frequent first.
    pub facets: Facets,
}

/// Facet name → (value, count), most frequent first: shared by the answer and the pages
/// written from it, not copied for each.
pub type Facets = Arc<BTreeMap<String, Vec<(String, u64)>>>;

/// Words that ask for jobs rather than say which: left out of a search's words unless they
/// are all it has (as the index analyses them, so "roles" and "role" alike).
const ASKING_WORDS: &str = "job jobs role roles position positions vacancy vacancies opening \
    openings opportunity opportunities career careers";

/// Matches the words of `text` over `fields`. With `all_words`, every word is required;
/// otherwise up to three words are all required and a longer query (a whole job title,
/// say) needs at least half of its words, the others adding to the score. `alone`: nothing
/// else is required of a match (no filters), so one word is walked, not sought.
fn text_query(
    analyzer: &TextAnalyzer,
    fields: &[(Field, f32)],
    text: &str,
    all_words: bool,
    alone: bool,
) -> Option<Box<dyn Query>> {
    let mut analyzer = analyzer.clone();
    let mut terms = analyze(&mut analyzer, text);
    terms.dedup();
    if terms.is_empty() {
        return None;
    }
    if !all_words {
        // "data engineer jobs": the words that ask for jobs are not words a job has to have.
        // The analysis is the same for every query: done once.
        static ASKING: OnceLock<Vec<String>> = OnceLock::new();
        let asking = ASKING.get_or_init(|| analyze(&mut analyzer, ASKING_WORDS));
        if terms.iter().any(|t| !asking.contains(t)) {
            terms.retain(|t| !asking.contains(t));
        }
    }
    let required =
        if all_words || terms.len() <= 3 { terms.len() } else { terms.len().div_ceil(2) };
    let occur = if required == terms.len() { Occur::Must } else { Occur::Should };
    // A word that is the whole search is walked document by document: tantivy's dis-max is
    // fastest at that. Among other clauses, it is sought ([`SeekingDisMax`]).
    let walked = alone && terms.len() == 1;
    let clauses: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .map(|term| {
            let per_field: Vec<Box<dyn Query>> = fields
                .iter()
                .map(|&(field, boost)| {
                    let query: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    ));
                    Box::new(BoostQuery::new(query, boost)) as Box<dyn Query>
                })
                .collect();
            let word: Box<dyn Query> = match per_field.len() {
                1 => per_field.into_iter().next().expect("one field"),
                _ if walked => Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, 0.3)),
                _ => Box::new(SeekingDisMax::new(per_field, 0.3)),
            };
            (occur, word)
        })
        .collect();
    if occur == Occur::Must {
        Some(Box::new(BooleanQuery::new(clauses)))
    } else {
        Some(Box::new(BooleanQuery::with_minimum_required_clauses(clauses, required)))
    }
}

/// The query of `q`: its text scored over the text fields (title ×3, skills and company ×2,
/// description, other words ×0.5), its filters scoring nothing, and the jobs expired by the
/// clock left out ([`Expired`], over `expiries`).
pub(super) fn build(
    f: &Fields,
    analyzer: &TextAnalyzer,
    expiries: &Arc<Expiries>,
    filter_bits: &Arc<FilterBits>,
    q: &IndexQuery,
) -> Box<dyn Query> {
    let keyword = |field: Field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    };
    // The fields with few values (the index's own): their documents are kept as bit sets.
    let few = [f.workplace, f.employment_type, f.seniority, f.category, f.country];
    let filter = |field: Field, value: &str| -> Box<dyn Query> {
        if few.contains(&field) {
            Box::new(FilterTerm::new(Term::from_field_text(field, value), filter_bits))
        } else {
            keyword(field, value)
        }
    };
    // A few values: one query each. (TermSetQuery builds an automaton per query, which cost
    // more than the search itself at 100k jobs.)
    let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
        match values {
            [one] => filter(field, one),
            many => Box::new(BooleanQuery::new(
                many.iter().map(|v| (Occur::Should, filter(field, v))).collect(),
            )),
        }
    };
    let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, values) in [
        (f.workplace, &q.workplaces),
        (f.employment_type, &q.employment_types),
        (f.seniority, &q.seniorities),
        (f.category, &q.categories),
        (f.country, &q.countries),
        (f.company_id, &q.company_ids),
    ] {
        if !values.is_empty() {
            filters.push((Occur::Must, any_of(field, values)));
        }
    }
    for skill in &q.skills {
        filters.push((Occur::Must, keyword(f.skills, skill)));
    }
    if let Some(ids) = q.only_ids.as_deref().filter(|ids| !ids.is_empty()) {
        filters.push((Occur::Must, Box::new(IdSet::new(f.job_id, ids))));
    }
    if let Some(min) = q.salary_min_yearly {
        filters.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_f64(f.salary_yearly, min)),
                Bound::Unbounded,
            )),
        ));
        if let Some(currency) = &q.salary_currency {
            filters.push((Occur::Must, keyword(f.salary_currency, currency)));
        }
    }
    if let Some(since) = q.posted_since {
        filters.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(f.posted_at, since)),
                Bound::Unbounded,
            )),
        ));
    }
    if let Some(location) = q
        .location
        .as_deref()
        .and_then(|l| text_query(analyzer, &[(f.location_text, 1.0)], l, true, false))
    {
        filters.push((Occur::Must, location));
    }
    let text = q.text.as_deref().and_then(|t| {
        text_query(
            analyzer,
            &[
                (f.title, 3.0),
                (f.skills_text, 2.0),
                (f.company_name, 2.0),
                (f.description, 1.0),
                (f.extra_text, 0.5),
            ],
            t,
            false,
            filters.is_empty(),
        )
    });
    let text = match (text, q.or_ids.is_empty()) {
        (Some(text), false) => Some(Box::new(BooleanQuery::new(vec![
            (Occur::Should, text),
            (
                Occur::Should,
                Box::new(ConstScoreQuery::new(Box::new(IdSet::new(f.job_id, &q.or_ids)), 0.0))
                    as Box<dyn Query>,
            ),
        ])) as Box<dyn Query>),
        (text, _) => text,
    };
    let mut top: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, text.unwrap_or_else(|| Box::new(AllQuery)))];
    if !filters.is_empty() {
        top.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(filters)), 0.0)),
        ));
    }
    top.push((Occur::MustNot, Box::new(Expired { expiries: expiries.clone(), now: q.now })));
    Box::new(BooleanQuery::new(top))
}
