//! The full-text index of public jobs (tantivy): ranked text search, filters, facet counts and
//! sorting in one pass. SurrealDB stays the source of truth: the index holds only what search
//! needs, is written in the same code path as every job write, and can be rebuilt from the
//! database. A search returns job ids; the caller loads the jobs from SurrealDB and drops any
//! that are not public there, so a stale index can never show a job it should not.
//!
//! Text is analysed by one chain at index and query time: a tokenizer that splits on anything
//! but letters and digits yet keeps "c++", "c#", ".net" and "node.js" whole, lower-casing,
//! canonical names for those ("cpp", "nodejs"),
//! and the English Porter2 stemmer ("developers" and "developer" meet at "develop").
//!
//! Every call here blocks (disk, CPU): callers run them on the blocking pool.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
    TokenizerManager,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Score, SegmentOrdinal,
    SegmentReader, TantivyDocument, Term, index::SegmentId,
};

/// Bump when the schema or the analysis changes: a new version is a new directory, built from
/// the database at start.
const SCHEMA_VERSION: u32 = 2;
const ANALYZER: &str = "job_text";
/// Where the index of a data directory lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search").join(format!("jobs-v{SCHEMA_VERSION}"))
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
    #[error("search index: {0}")]
    Other(String),
}

/// What the index holds of one public job.
#[derive(Debug, Clone, Default)]
pub struct IndexDoc {
    pub id: String,
    pub title: String,
    pub description: String,
    pub company_id: String,
    pub company_name: String,
    /// Normalised skill names.
    pub skills: Vec<String>,
    pub workplace: Option<String>,
    pub employment_type: Option<String>,
    pub seniority: Option<String>,
    pub category: Option<String>,
    /// The countries of all the job's places, each once.
    pub country_codes: Vec<String>,
    /// City, region and country of each place, for the `location` text filter.
    pub location_texts: Vec<String>,
    /// "Lisbon, PT" for each place, each once: the values of the top-locations facet.
    pub location_labels: Vec<String>,
    /// Unix seconds.
    pub posted_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Yearly top of a public salary with a known period, and its currency.
    pub salary_yearly: Option<f64>,
    pub salary_currency: Option<String>,
    /// Words of the other fields (workplace, employment type, seniority, category, tags,
    /// location), so "remote" or "internship" in a text query finds what they describe.
    pub extra_text: String,
    /// The job's `updated_at` (unix micros): which version of the job this document is.
    pub updated_at: i64,
}

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

#[derive(Debug, Clone, Default)]
pub struct IndexHits {
    pub ids: Vec<String>,
    pub total: u64,
    /// Facet name → (value, count), most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

/// What the last commit recorded about the database it mirrors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Watermark {
    /// The latest `updated_at` (unix micros) of any job written through the index.
    pub updated_at_micros: i64,
}

struct Fields {
    job_id: Field,
    title: Field,
    skills_text: Field,
    description: Field,
    company_name: Field,
    extra_text: Field,
    location_text: Field,
    skills: Field,
    workplace: Field,
    employment_type: Field,
    seniority: Field,
    category: Field,
    country: Field,
    company_id: Field,
    location_label: Field,
    salary_currency: Field,
    posted_at: Field,
    expires_at: Field,
    salary_yearly: Field,
    updated_at: Field,
}

fn schema() -> (Schema, Fields) {
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut b = Schema::builder();
    let fields = Fields {
        job_id: b.add_text_field("job_id", STRING | FAST),
        title: b.add_text_field("title", text.clone()),
        skills_text: b.add_text_field("skills_text", text.clone()),
        description: b.add_text_field("description", text.clone()),
        company_name: b.add_text_field("company_name", text.clone()),
        extra_text: b.add_text_field("extra_text", text.clone()),
        location_text: b.add_text_field("location_text", text),
        skills: b.add_text_field("skills", STRING | FAST),
        workplace: b.add_text_field("workplace", STRING | FAST),
        employment_type: b.add_text_field("employment_type", STRING | FAST),
        seniority: b.add_text_field("seniority", STRING | FAST),
        category: b.add_text_field("category", STRING | FAST),
        country: b.add_text_field("country", STRING | FAST),
        company_id: b.add_text_field("company_id", STRING | FAST),
        location_label: b.add_text_field("location_label", STRING | FAST),
        salary_currency: b.add_text_field("salary_currency", STRING | FAST),
        posted_at: b.add_i64_field("posted_at", FAST),
        expires_at: b.add_i64_field("expires_at", FAST),
        salary_yearly: b.add_f64_field("salary_yearly", FAST),
        updated_at: b.add_i64_field("updated_at", FAST),
    };
    (b.build(), fields)
}

/// Canonical names for tokens people write in several ways.
#[derive(Clone)]
struct TechAliases;

impl TokenFilter for TechAliases {
    type Tokenizer<T: Tokenizer> = TechAliasesFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> TechAliasesFilter<T> {
        TechAliasesFilter(tokenizer)
    }
}

#[derive(Clone)]
struct TechAliasesFilter<T>(T);

impl<T: Tokenizer> Tokenizer for TechAliasesFilter<T> {
    type TokenStream<'a> = TechAliasesStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        TechAliasesStream(self.0.token_stream(text))
    }
}

struct TechAliasesStream<S>(S);

impl<S: TokenStream> TokenStream for TechAliasesStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let text = &mut self.0.token_mut().text;
        let canonical = match text.as_str() {
            "c++" => "cpp",
            "c#" => "csharp",
            "f#" => "fsharp",
            ".net" => "dotnet",
            "node.js" | "nodejs" => "nodejs",
            "vue.js" | "vuejs" => "vue",
            "react.js" | "reactjs" => "react",
            "golang" => "go",
            _ => return true,
        };
        text.clear();
        text.push_str(canonical);
        true
    }
    fn token(&self) -> &Token {
        self.0.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

/// Splits text into runs of letters and digits, keeping the few tech names punctuation is part
/// of: "c++", "c#", "f#", ".net", and a word followed by ".js" ("node.js"). Hand-written because
/// a regex with Unicode classes spends most of an import building its lazy DFA.
#[derive(Clone, Default)]
struct WordTokenizer {
    token: Token,
}

struct WordStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream { text, at: 0, token: &mut self.token }
    }
}

/// A character of a word (what `\w` means, for the end-of-word checks).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `rest` starts with `word` (ASCII, any case) and no word character follows it.
fn starts_word(rest: &str, word: &str) -> bool {
    rest.len() >= word.len()
        && rest.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
        && !rest[word.len()..].chars().next().is_some_and(is_word)
}

impl WordStream<'_> {
    /// The length of the token starting at `rest`, if one does.
    fn token_at(rest: &str) -> Option<usize> {
        let bytes = rest.as_bytes();
        let first = rest.chars().next()?;
        if matches!(first, 'c' | 'C') && bytes.get(1..3) == Some(b"++") {
            return Some(3);
        }
        if matches!(first, 'c' | 'C' | 'f' | 'F') && bytes.get(1) == Some(&b'#') {
            return Some(2);
        }
        if first == '.' && starts_word(&rest[1..], "net") {
            return Some(4);
        }
        if !first.is_alphanumeric() {
            return None;
        }
        let end =
            rest.char_indices().find(|(_, c)| !c.is_alphanumeric()).map_or(rest.len(), |(i, _)| i);
        if rest[end..].starts_with('.') && starts_word(&rest[end + 1..], "js") {
            return Some(end + 3);
        }
        Some(end)
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while self.at < self.text.len() {
            let rest = &self.text[self.at..];
            if let Some(len) = Self::token_at(rest) {
                self.token.offset_from = self.at;
                self.token.offset_to = self.at + len;
                self.token.text.push_str(&rest[..len]);
                self.at += len;
                return true;
            }
            self.at += rest.chars().next().map_or(1, char::len_utf8);
        }
        false
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

fn analyzer() -> Result<TextAnalyzer, IndexError> {
    Ok(TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(TechAliases)
        .filter(RememberedStems)
        .build())
}

/// At most this many words' stems are remembered by one analyzer (about 2 MB): the common
/// words, which are most of any text, are seen first.
const STEMS_KEPT: usize = 20_000;

/// English (Porter2) stemming, as tantivy's `Stemmer` does it, with the stems of the words
/// seen before remembered: an import stems the same few thousand words millions of times, and
/// looking a stem up costs a fraction of computing it. Each analyzer keeps its own table (an
/// indexing thread's lives as long as its segment; a clone starts empty).
struct RememberedStems;

impl TokenFilter for RememberedStems {
    type Tokenizer<T: Tokenizer> = RememberedStemsFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> RememberedStemsFilter<T> {
        RememberedStemsFilter { inner: tokenizer, stems: HashMap::new() }
    }
}

struct RememberedStemsFilter<T> {
    inner: T,
    stems: HashMap<String, String>,
}

impl<T: Clone> Clone for RememberedStemsFilter<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), stems: HashMap::new() }
    }
}

impl<T: Tokenizer> Tokenizer for RememberedStemsFilter<T> {
    type TokenStream<'a> = RememberedStemsStream<'a, T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        RememberedStemsStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

struct RememberedStemsStream<'a, S> {
    tail: S,
    stems: &'a mut HashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<S: TokenStream> TokenStream for RememberedStemsStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let text = &mut self.tail.token_mut().text;
        if let Some(stem) = self.stems.get(text.as_str()) {
            text.clear();
            text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(text).into_owned();
        if self.stems.len() < STEMS_KEPT {
            self.stems.insert(std::mem::replace(text, stem.clone()), stem);
        } else {
            *text = stem;
        }
        true
    }
    fn token(&self) -> &Token {
        self.tail.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Splits and normalises text exactly as the index does.
fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if !tokens.contains(&token.text) {
            tokens.push(token.text.clone());
        }
    }
    tokens
}

pub struct JobIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzer: TextAnalyzer,
    answers: Mutex<Answers>,
    /// The facet values of the segments last searched with facets.
    facet_values: Mutex<Option<Arc<FacetValues>>>,
    /// The newest watermark of the changes staged since the last commit (unix micros; 0: none).
    staged: AtomicI64,
    /// Where the last complete catch-up pass leaves the next one to start (unix micros of the
    /// database's clock; 0: no pass yet). Kept in memory only.
    checked: AtomicI64,
}

/// How long (in seconds of the query's `now`) a remembered answer stays good. Jobs leave by the
/// clock when they expire, without a commit; the caller drops a job of a page that is no longer
/// public, so at worst a total or a facet count still includes a job that expired within this
/// many seconds.
pub const ANSWER_MAX_AGE_SECS: i64 = 10;

/// The most answers remembered; when full, they are all forgotten at once.
const MAX_ANSWERS: usize = 1024;

/// The answers of recent queries, kept until the index changes: every reload after a commit
/// starts a new generation with none. The searcher's own caches make a repeated query cheaper
/// but still walk every matching document to count it and build its facets; a job board asks
/// the same few questions (the front page, popular words and filters) again and again.
#[derive(Default)]
struct Answers {
    generation: u64,
    entries: HashMap<String, (i64, Arc<IndexHits>)>,
}

impl Answers {
    /// What identifies a query's answer: everything but the clock (`now`, and `posted_since`
    /// as a window back from it).
    fn key(q: &IndexQuery) -> String {
        let window = q.posted_since.map(|since| q.now - since);
        format!("{:?}", IndexQuery { now: 0, posted_since: window, ..q.clone() })
    }
}

/// Deletes the indexes of earlier schema versions beside `dir` (this one is rebuilt from the
/// database instead).
fn remove_older_versions(dir: &Path) {
    let Some(parent) = dir.parent() else { return };
    for version in 1..SCHEMA_VERSION {
        let old = parent.join(format!("jobs-v{version}"));
        if old.exists() {
            match std::fs::remove_dir_all(&old) {
                Ok(()) => {
                    tracing::info!(dir = %old.display(), "removed the search index of an earlier version")
                }
                Err(err) => {
                    tracing::warn!(dir = %old.display(), error = %err, "cannot remove an old search index")
                }
            }
        }
    }
}

/// After a failed write, drops what the writer holds uncommitted, so the next commit does not
/// publish half of the failed one (deletions without their documents).
fn finish<T>(writer: &mut IndexWriter, result: Result<T, IndexError>) -> Result<T, IndexError> {
    if result.is_err() {
        let _ = writer.rollback();
    }
    result
}

impl std::fmt::Debug for JobIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobIndex").field("docs", &self.reader.searcher().num_docs()).finish()
    }
}

const FACETS: [(&str, &str, usize); 6] = [
    ("workplace", "workplace", 10),
    ("employment_type", "employment_type", 10),
    ("seniority", "seniority", 10),
    ("category", "category", 30),
    ("skills", "skills", 20),
    ("locations", "location_label", 10),
];

/// The facet values of every document of one segment, read from its columns once (a segment
/// never changes): reading the columns again for each matching document of each search cost
/// more than the rest of a faceted search together. The facets with at most one value per
/// document are stored by document, next to each other, so counting a document touches one
/// place in memory for all of them.
struct SegmentFacetOrds {
    /// The facets (indexes into [`FACETS`]) stored in `single`.
    singles: Vec<usize>,
    /// Document `d`'s value of the k-th of `singles` is `single[d * singles.len() + k]`, a term
    /// ordinal of the segment's dictionary (`u32::MAX`: none).
    single: Vec<u32>,
    /// The other facets, with the ordinals of each document laid out flat: document `d` holds
    /// `ords[starts[d]..starts[d + 1]]`.
    multi: Vec<(usize, Vec<u32>, Vec<u32>)>,
    /// How many values each facet's dictionary has (0: no column).
    terms: Vec<usize>,
}

impl SegmentFacetOrds {
    fn read(segment: &SegmentReader) -> tantivy::Result<Self> {
        let docs = segment.max_doc() as usize;
        let mut by_facet: Vec<Option<(Vec<u32>, Vec<u32>)>> = Vec::with_capacity(FACETS.len());
        let mut terms = Vec::with_capacity(FACETS.len());
        for (_, field, _) in FACETS {
            let column = segment.fast_fields().str(field)?;
            terms.push(column.as_ref().map_or(0, |c| c.num_terms()));
            by_facet.push(column.map(|column| {
                let (mut starts, mut ords) =
                    (Vec::with_capacity(docs + 1), Vec::with_capacity(docs));
                for doc in 0..segment.max_doc() {
                    starts.push(ords.len() as u32);
                    ords.extend(column.term_ords(doc).map(|ord| ord as u32));
                }
                starts.push(ords.len() as u32);
                (starts, ords)
            }));
        }
        let (mut singles, mut multi) = (Vec::new(), Vec::new());
        let mut single_columns = Vec::new();
        for (facet, read) in by_facet.into_iter().enumerate() {
            let Some((starts, ords)) = read else { continue };
            if starts.windows(2).all(|w| w[1] - w[0] <= 1) {
                singles.push(facet);
                single_columns.push((starts, ords));
            } else {
                multi.push((facet, starts, ords));
            }
        }
        let mut single = vec![u32::MAX; docs * singles.len()];
        for (k, (starts, ords)) in single_columns.iter().enumerate() {
            for doc in 0..docs {
                if starts[doc] < starts[doc + 1] {
                    single[doc * singles.len() + k] = ords[starts[doc] as usize];
                }
            }
        }
        Ok(SegmentFacetOrds { singles, single, multi, terms })
    }
}

/// What faceted searches need of one set of segments (one reload of the index): each facet's
/// values over all segments, sorted, and for each segment its documents' values and where each
/// of its dictionary's values sits in that list. So a search counts integers and turns only
/// the values it returns into text.
struct FacetValues {
    segments: Vec<SegmentId>,
    values: Vec<Vec<String>>,
    per_segment: HashMap<SegmentId, (Arc<SegmentFacetOrds>, Vec<Vec<u32>>)>,
}

impl FacetValues {
    /// For the segments of `searcher`, reusing what `before` read of the segments it shares.
    fn build(searcher: &tantivy::Searcher, before: Option<&FacetValues>) -> tantivy::Result<Self> {
        let mut values = Vec::with_capacity(FACETS.len());
        let mut local_values: Vec<Vec<Vec<String>>> = Vec::with_capacity(FACETS.len());
        for (_, field, _) in FACETS {
            let mut all = std::collections::BTreeSet::new();
            let mut per_segment = Vec::with_capacity(searcher.segment_readers().len());
            for segment in searcher.segment_readers() {
                let mut terms = Vec::new();
                if let Some(column) = segment.fast_fields().str(field)? {
                    let mut stream = column.dictionary().stream()?;
                    while stream.advance() {
                        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
                    }
                }
                all.extend(terms.iter().cloned());
                per_segment.push(terms);
            }
            values.push(all.into_iter().collect::<Vec<String>>());
            local_values.push(per_segment);
        }
        let mut per_segment = HashMap::with_capacity(searcher.segment_readers().len());
        let mut segments = Vec::with_capacity(searcher.segment_readers().len());
        for (at, segment) in searcher.segment_readers().iter().enumerate() {
            let id = segment.segment_id();
            let ords = match before.and_then(|b| b.per_segment.get(&id)) {
                Some((ords, _)) => ords.clone(),
                None => Arc::new(SegmentFacetOrds::read(segment)?),
            };
            let to_global: Vec<Vec<u32>> = (0..FACETS.len())
                .map(|f| {
                    local_values[f][at]
                        .iter()
                        .map(|value| values[f].binary_search(value).map_or(0, |i| i as u32))
                        .collect()
                })
                .collect();
            per_segment.insert(id, (ords, to_global));
            segments.push(id);
        }
        Ok(FacetValues { segments, values, per_segment })
    }
}

/// Counts the values of [`FACETS`] over the matching documents: a counter per value of each
/// segment's dictionary while collecting, added into counters over all segments' values at the
/// end. Counts nothing without `values`.
struct FacetCounter {
    values: Option<Arc<FacetValues>>,
}

struct SegmentFacets {
    ords: Option<(Arc<SegmentFacetOrds>, Arc<FacetValues>, SegmentId)>,
    counts: Vec<Vec<u32>>,
}

/// For each of [`FACETS`], how many matching documents hold each value (by its place in
/// [`FacetValues::values`]).
type FacetCounts = Vec<Vec<u64>>;

impl Collector for FacetCounter {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let Some(values) = &self.values else {
            return Ok(SegmentFacets { ords: None, counts: Vec::new() });
        };
        let id = segment.segment_id();
        let Some((ords, _)) = values.per_segment.get(&id) else {
            return Err(tantivy::TantivyError::InternalError(format!(
                "no facet values read for segment {id:?}"
            )));
        };
        let counts = ords.terms.iter().map(|&terms| vec![0; terms]).collect();
        Ok(SegmentFacets { ords: Some((ords.clone(), values.clone(), id)), counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<FacetCounts>) -> tantivy::Result<FacetCounts> {
        let Some(values) = &self.values else { return Ok(Vec::new()) };
        let mut merged: Vec<Vec<u64>> = values.values.iter().map(|v| vec![0; v.len()]).collect();
        for segment in segments {
            for (into, counts) in merged.iter_mut().zip(segment) {
                for (total, count) in into.iter_mut().zip(counts) {
                    *total += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = FacetCounts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some((ords, ..)) = &self.ords else { return };
        let doc = doc as usize;
        let width = ords.singles.len();
        for (&facet, &ord) in ords.singles.iter().zip(&ords.single[doc * width..(doc + 1) * width])
        {
            if ord != u32::MAX {
                self.counts[facet][ord as usize] += 1;
            }
        }
        for (facet, starts, values) in &ords.multi {
            for &ord in &values[starts[doc] as usize..starts[doc + 1] as usize] {
                self.counts[*facet][ord as usize] += 1;
            }
        }
    }

    fn harvest(self) -> FacetCounts {
        let Some((_, values, id)) = self.ords else { return Vec::new() };
        let to_global = &values.per_segment[&id].1;
        let mut global: Vec<Vec<u64>> = values.values.iter().map(|v| vec![0; v.len()]).collect();
        for ((into, counts), to_global) in global.iter_mut().zip(self.counts).zip(to_global) {
            for (local, count) in counts.into_iter().enumerate() {
                if count > 0 {
                    into[to_global[local] as usize] += u64::from(count);
                }
            }
        }
        global
    }
}

impl JobIndex {
    /// Opens the index in `dir` (creating it), or keeps it in memory with `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, IndexError> {
        let (schema, fields) = schema();
        let tokenizers = TokenizerManager::default();
        tokenizers.register(ANALYZER, analyzer()?);
        let builder = Index::builder().schema(schema).tokenizers(tokenizers);
        let index = match dir {
            None => builder.create_in_ram()?,
            Some(dir) => {
                remove_older_versions(dir);
                std::fs::create_dir_all(dir)
                    .map_err(|e| IndexError::Directory(format!("{}: {e}", dir.display())))?;
                let directory = MmapDirectory::open(dir)
                    .map_err(|e| IndexError::Directory(format!("{}: {e}", dir.display())))?;
                builder.open_or_create(directory)?
            }
        };
        let writer: IndexWriter = index.writer_with_options(
            IndexWriterOptions::builder()
                .memory_budget_per_thread(50_000_000)
                .num_worker_threads(1)
                .num_merge_threads(1)
                .build(),
        )?;
        let mut merge_policy = LogMergePolicy::default();
        merge_policy.set_del_docs_ratio_before_merge(0.3);
        writer.set_merge_policy(Box::new(merge_policy));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer: analyzer()?,
            answers: Mutex::new(Answers::default()),
            facet_values: Mutex::default(),
            staged: AtomicI64::new(0),
            checked: AtomicI64::new(0),
        })
    }

    /// Makes the last commit visible to searches and forgets every remembered answer.
    fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.generation += 1;
        answers.entries.clear();
        Ok(())
    }

    /// Like [`JobIndex::search`], and remembers the answer until the next commit (and for at
    /// most [`ANSWER_MAX_AGE_SECS`] of the clock).
    pub fn search_remembered(&self, q: &IndexQuery) -> Result<Arc<IndexHits>, IndexError> {
        let key = Answers::key(q);
        let generation = {
            let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(hits) = Self::fresh(&answers, &key, q.now) {
                return Ok(hits);
            }
            answers.generation
        };
        // The searcher is taken after the generation is read, so it is at least that new; the
        // answer is kept only if no reload happened meanwhile.
        let hits = Arc::new(self.search(q)?);
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.generation == generation {
            if answers.entries.len() >= MAX_ANSWERS {
                answers.entries.clear();
            }
            answers.entries.insert(key, (q.now, hits.clone()));
        }
        Ok(hits)
    }

    /// Counts commits: it changes whenever searches may see something new.
    pub fn generation(&self) -> u64 {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).generation
    }

    /// A remembered answer to `q`, without searching (cheap: no need for the blocking pool).
    pub fn remembered(&self, q: &IndexQuery) -> Option<Arc<IndexHits>> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        Self::fresh(&answers, &Answers::key(q), q.now)
    }

    fn fresh(answers: &Answers, key: &str, now: i64) -> Option<Arc<IndexHits>> {
        let (asked_at, hits) = answers.entries.get(key)?;
        (now >= *asked_at && now - asked_at <= ANSWER_MAX_AGE_SECS).then(|| hits.clone())
    }

    /// How many jobs the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the next catch-up pass starts, if one completed (unix micros).
    pub fn checked(&self) -> Option<i64> {
        Some(self.checked.load(Ordering::Relaxed)).filter(|&at| at != 0)
    }

    /// Records where the next catch-up pass starts.
    pub fn set_checked(&self, micros: i64) {
        self.checked.store(micros, Ordering::Relaxed);
    }

    /// What the last commit recorded.
    pub fn watermark(&self) -> Watermark {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }

    fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = &self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.job_id, &doc.id);
        d.add_text(f.title, &doc.title);
        d.add_text(f.description, &doc.description);
        d.add_text(f.company_name, &doc.company_name);
        d.add_text(f.skills_text, doc.skills.join(" "));
        d.add_text(f.extra_text, &doc.extra_text);
        for text in &doc.location_texts {
            d.add_text(f.location_text, text);
        }
        for country in &doc.country_codes {
            d.add_text(f.country, country);
        }
        for label in &doc.location_labels {
            d.add_text(f.location_label, label);
        }
        d.add_text(f.company_id, &doc.company_id);
        for skill in &doc.skills {
            d.add_text(f.skills, skill);
        }
        for (field, value) in [
            (f.workplace, &doc.workplace),
            (f.employment_type, &doc.employment_type),
            (f.seniority, &doc.seniority),
            (f.category, &doc.category),
            (f.salary_currency, &doc.salary_currency),
        ] {
            if let Some(value) = value {
                d.add_text(field, value);
            }
        }
        if let Some(at) = doc.posted_at {
            d.add_i64(f.posted_at, at);
        }
        d.add_i64(f.expires_at, doc.expires_at.unwrap_or(i64::MAX));
        if let Some(salary) = doc.salary_yearly {
            d.add_f64(f.salary_yearly, salary);
        }
        d.add_i64(f.updated_at, doc.updated_at);
        d
    }

    /// The version (`updated_at`, unix micros) of each of `ids` the index holds; ids it does not
    /// hold are absent from the map.
    pub fn versions(&self, ids: &[String]) -> Result<HashMap<String, i64>, IndexError> {
        let searcher = self.reader.searcher();
        let mut versions = HashMap::with_capacity(ids.len());
        for id in ids {
            let query = TermQuery::new(
                Term::from_field_text(self.fields.job_id, id),
                IndexRecordOption::Basic,
            );
            let hits = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
            if let Some((_, address)) = hits.first() {
                let column =
                    searcher.segment_reader(address.segment_ord).fast_fields().i64("updated_at")?;
                versions.insert(id.clone(), column.first(address.doc_id).unwrap_or(0));
            }
        }
        Ok(versions)
    }

    /// Replaces the documents of `removals` and `upserts` (a job that is no longer public is
    /// only removed), commits with `watermark`, and makes the change visible to searches.
    pub fn write(
        &self,
        upserts: &[IndexDoc],
        removals: &[String],
        watermark: Watermark,
    ) -> Result<(), IndexError> {
        self.change(upserts, removals, watermark, true)
    }

    /// Like [`JobIndex::write`] without the commit: searches see these changes at the next
    /// commit (any write's), which records the newest watermark staged. A bulk import stages
    /// most of its batches; a failed write or a crash drops what is staged, and the watermark
    /// never covered it, so the catch-up finds those jobs again.
    pub fn stage(
        &self,
        upserts: &[IndexDoc],
        removals: &[String],
        watermark: Watermark,
    ) -> Result<(), IndexError> {
        self.change(upserts, removals, watermark, false)
    }

    fn change(
        &self,
        upserts: &[IndexDoc],
        removals: &[String],
        watermark: Watermark,
        commit: bool,
    ) -> Result<(), IndexError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| IndexError::Other("the index writer lock is poisoned".into()))?;
        let result: Result<(), IndexError> = (|| {
            for id in removals.iter().chain(upserts.iter().map(|d| &d.id)) {
                writer.delete_term(Term::from_field_text(self.fields.job_id, id));
            }
            for doc in upserts {
                writer.add_document(self.document(doc))?;
            }
            let staged = self
                .staged
                .fetch_max(watermark.updated_at_micros, Ordering::Relaxed)
                .max(watermark.updated_at_micros);
            if !commit {
                return Ok(());
            }
            let previous = self.watermark();
            let watermark = Watermark { updated_at_micros: previous.updated_at_micros.max(staged) };
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&serde_json::to_string(&watermark).unwrap_or_default());
            commit.commit()?;
            self.staged.store(0, Ordering::Relaxed);
            Ok(())
        })();
        if result.is_err() {
            // The rollback drops what was staged too.
            self.staged.store(0, Ordering::Relaxed);
        }
        finish(&mut writer, result)?;
        if commit { self.reload() } else { Ok(()) }
    }

    /// Replaces everything with `docs` in one commit (a rebuild).
    pub fn replace_all(
        &self,
        docs: impl IntoIterator<Item = IndexDoc>,
        watermark: Watermark,
    ) -> Result<u64, IndexError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| IndexError::Other("the index writer lock is poisoned".into()))?;
        let result: Result<u64, IndexError> = (|| {
            writer.delete_all_documents()?;
            let mut n = 0;
            for doc in docs {
                writer.add_document(self.document(&doc))?;
                n += 1;
            }
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&serde_json::to_string(&watermark).unwrap_or_default());
            commit.commit()?;
            // Anything staged before was deleted with the rest; the rebuild read the database.
            self.staged.store(0, Ordering::Relaxed);
            Ok(n)
        })();
        let n = finish(&mut writer, result)?;
        self.reload()?;
        Ok(n)
    }

    /// Matches the words of `text` over `fields`. With `all_words`, every word is required;
    /// otherwise up to three words are all required and a longer query (a whole job title,
    /// say) needs at least half of its words, the others adding to the score.
    fn text_query(
        &self,
        fields: &[(Field, f32)],
        text: &str,
        all_words: bool,
    ) -> Option<Box<dyn Query>> {
        let mut analyzer = self.analyzer.clone();
        let mut terms = analyze(&mut analyzer, text);
        terms.dedup();
        if terms.is_empty() {
            return None;
        }
        let required =
            if all_words || terms.len() <= 3 { terms.len() } else { terms.len().div_ceil(2) };
        let occur = if required == terms.len() { Occur::Must } else { Occur::Should };
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
                (
                    occur,
                    Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, 0.3))
                        as Box<dyn Query>,
                )
            })
            .collect();
        if occur == Occur::Must {
            Some(Box::new(BooleanQuery::new(clauses)))
        } else {
            Some(Box::new(BooleanQuery::with_minimum_required_clauses(clauses, required)))
        }
    }

    fn query(&self, q: &IndexQuery) -> Box<dyn Query> {
        let f = &self.fields;
        let keyword = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        // A few values: term queries. (TermSetQuery builds an automaton per query, which cost
        // more than the search itself at 100k jobs.)
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            match values {
                [one] => keyword(field, one),
                many => Box::new(BooleanQuery::new(
                    many.iter().map(|v| (Occur::Should, keyword(field, v))).collect(),
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
            filters.push((Occur::Must, any_of(f.job_id, ids)));
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
        filters.push((
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Excluded(Term::from_field_i64(f.expires_at, q.now)),
                Bound::Unbounded,
            )),
        ));
        if let Some(location) =
            q.location.as_deref().and_then(|l| self.text_query(&[(f.location_text, 1.0)], l, true))
        {
            filters.push((Occur::Must, location));
        }
        let text = q.text.as_deref().and_then(|t| {
            self.text_query(
                &[
                    (f.title, 3.0),
                    (f.skills_text, 2.0),
                    (f.company_name, 2.0),
                    (f.description, 1.0),
                    (f.extra_text, 0.5),
                ],
                t,
                false,
            )
        });
        let text = match (text, q.or_ids.is_empty()) {
            (Some(text), false) => Some(Box::new(BooleanQuery::new(vec![
                (Occur::Should, text),
                (
                    Occur::Should,
                    Box::new(ConstScoreQuery::new(any_of(f.job_id, &q.or_ids), 0.0))
                        as Box<dyn Query>,
                ),
            ])) as Box<dyn Query>),
            (text, _) => text,
        };
        let mut top: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, text.unwrap_or_else(|| Box::new(AllQuery)))];
        top.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(filters)), 0.0)),
        ));
        Box::new(BooleanQuery::new(top))
    }

    /// The facet values of the searcher's segments: those of the last faceted search if its
    /// segments were the same, else read again (reusing what was read of segments that stayed).
    fn facet_values(&self, searcher: &tantivy::Searcher) -> Result<Arc<FacetValues>, IndexError> {
        let segments: Vec<SegmentId> =
            searcher.segment_readers().iter().map(|s| s.segment_id()).collect();
        let mut current = self.facet_values.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(values) = current.as_ref().filter(|v| v.segments == segments) {
            return Ok(values.clone());
        }
        let values = Arc::new(FacetValues::build(searcher, current.as_deref())?);
        *current = Some(values.clone());
        Ok(values)
    }

    /// Runs a search: ids in order, the total of matches, and facet counts over them.
    pub fn search(&self, q: &IndexQuery) -> Result<IndexHits, IndexError> {
        let searcher = self.reader.searcher();
        let query = self.query(q);
        let limit = q.limit.max(1);
        let facet_counter = FacetCounter {
            values: if q.facets { Some(self.facet_values(&searcher)?) } else { None },
        };
        let facet_values = facet_counter.values.clone();
        let sort = if q.text.as_deref().is_none_or(|t| t.trim().is_empty())
            && q.sort == SortBy::Relevance
        {
            SortBy::Newest
        } else {
            q.sort
        };
        let top = TopDocs::with_limit(limit).and_offset(q.offset);
        let (addresses, total, counts): (Vec<DocAddress>, usize, FacetCounts) = match sort {
            SortBy::Relevance => {
                let (hits, total, counts) =
                    searcher.search(&query, &(top.order_by_score(), Count, facet_counter))?;
                (hits.into_iter().map(|(_, a)| a).collect(), total, counts)
            }
            SortBy::Newest => {
                let collector = top.order_by_fast_field::<i64>("posted_at", Order::Desc);
                let (hits, total, counts) =
                    searcher.search(&query, &(collector, Count, facet_counter))?;
                (hits.into_iter().map(|(_, a)| a).collect(), total, counts)
            }
            SortBy::Salary => {
                let collector = top.order_by_fast_field::<f64>("salary_yearly", Order::Desc);
                let (hits, total, counts) =
                    searcher.search(&query, &(collector, Count, facet_counter))?;
                (hits.into_iter().map(|(_, a)| a).collect(), total, counts)
            }
        };
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let segment = searcher.segment_reader(address.segment_ord);
            let column = segment
                .fast_fields()
                .str("job_id")?
                .ok_or_else(|| IndexError::Other("the job_id column is missing".into()))?;
            if let Some(ord) = column.term_ords(address.doc_id).next() {
                let mut id = String::new();
                column.ord_to_str(ord, &mut id).map_err(|e| IndexError::Other(e.to_string()))?;
                ids.push(id);
            }
        }
        let mut facets = BTreeMap::new();
        if let Some(facet_values) = facet_values {
            for (((name, _, size), counts), values) in
                FACETS.iter().zip(counts).zip(&facet_values.values)
            {
                let mut found: Vec<(u64, usize)> = counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, n)| *n > 0)
                    .map(|(at, n)| (n, at))
                    .collect();
                // Most frequent first; values are sorted, so a tie goes to the first in order.
                found.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                found.truncate(*size);
                facets.insert(
                    (*name).to_owned(),
                    found.into_iter().map(|(n, at)| (values[at].clone(), n)).collect(),
                );
            }
        }
        Ok(IndexHits { ids, total: total as u64, facets })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str, skills: &[&str]) -> IndexDoc {
        IndexDoc {
            id: id.into(),
            title: title.into(),
            company_id: "c1".into(),
            company_name: "Acme".into(),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            workplace: Some("remote".into()),
            posted_at: Some(1_700_000_000),
            ..IndexDoc::default()
        }
    }

    fn query(text: &str) -> IndexQuery {
        IndexQuery {
            text: Some(text.into()),
            location: None,
            countries: vec![],
            workplaces: vec![],
            employment_types: vec![],
            seniorities: vec![],
            categories: vec![],
            skills: vec![],
            company_ids: vec![],
            salary_min_yearly: None,
            salary_currency: None,
            posted_since: None,
            now: 1_750_000_000,
            sort: SortBy::Relevance,
            limit: 10,
            offset: 0,
            facets: true,
            only_ids: None,
            or_ids: vec![],
        }
    }

    #[test]
    fn remembered_stems_are_the_stems_tantivys_stemmer_makes() {
        use tantivy::tokenizer::{Language, Stemmer};
        let mut reference = TextAnalyzer::builder(WordTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(TechAliases)
            .filter(Stemmer::new(Language::English))
            .build();
        let mut ours = analyzer().unwrap();
        let text = "Engineers engineering engineered; the running runner runs. Generously generous \
                    generalisations, organizations, happily happiness. Developers developing DEVELOPED \
                    C++ Node.js databases analyses analysis";
        // Twice: the second pass answers every word from what the first remembered.
        for _ in 0..2 {
            let tokens = |a: &mut TextAnalyzer| {
                let mut all = Vec::new();
                let mut stream = a.token_stream(text);
                while let Some(token) = stream.next() {
                    all.push(token.text.clone());
                }
                all
            };
            let expected = tokens(&mut reference);
            assert_eq!(tokens(&mut ours), expected);
            assert!(expected.contains(&"develop".to_owned()), "{expected:?}");
        }
    }

    #[test]
    fn case_plurals_and_punctuation_meet_in_the_analysis() {
        let mut a = analyzer().unwrap();
        assert_eq!(analyze(&mut a, "Senior Developers"), analyze(&mut a, "senior developer"));
        assert_eq!(analyze(&mut a, "C++"), vec!["cpp"]);
        assert_eq!(analyze(&mut a, "Node.js"), analyze(&mut a, "nodejs"));
        assert_eq!(analyze(&mut a, "full-stack"), vec!["full", "stack"]);
        assert_eq!(analyze(&mut a, "C#, F# and .NET"), vec!["csharp", "fsharp", "and", "dotnet"]);
        assert_eq!(analyze(&mut a, "Vue.js/React.JS"), vec!["vue", "react"]);
        assert_eq!(analyze(&mut a, "abc++ x.json .network"), vec!["abc", "x", "json", "network"]);
        assert_eq!(
            analyze(&mut a, "Zürich São-Paulo 東京"),
            vec!["zürich", "são", "paulo", "東京"]
        );
    }

    #[test]
    fn a_title_match_outranks_a_description_match() {
        let index = JobIndex::open(None).unwrap();
        let mut in_description = doc("b", "Backend Engineer", &[]);
        in_description.description = "We use Rust daily.".into();
        index
            .write(&[doc("a", "Rust Developer", &[]), in_description], &[], Watermark::default())
            .unwrap();
        let hits = index.search(&query("rust")).unwrap();
        assert_eq!(hits.ids, vec!["a", "b"]);
        assert_eq!(hits.total, 2);
        assert_eq!(hits.facets["workplace"], vec![("remote".to_owned(), 2)]);
    }

    #[test]
    fn facets_count_the_live_matching_documents_of_every_segment() {
        let index = JobIndex::open(None).unwrap();
        let job = |id: &str, workplace: &str, skills: &[&str], location: Option<&str>| IndexDoc {
            workplace: Some(workplace.into()),
            location_labels: location.map(str::to_owned).into_iter().collect(),
            ..doc(id, "Platform Engineer", skills)
        };
        // Three commits, three segments; b is removed and a replaced in later ones.
        let first = [
            job("a", "remote", &["rust", "go"], Some("Lisbon, PT")),
            job("b", "hybrid", &["rust"], None),
        ];
        index.write(&first, &[], Watermark::default()).unwrap();
        index
            .write(
                &[job("c", "remote", &["python"], Some("Porto, PT"))],
                &["b".into()],
                Watermark::default(),
            )
            .unwrap();
        let third = [
            job("d", "onsite", &["go", "rust"], Some("Lisbon, PT")),
            job("a", "onsite", &["rust", "go"], Some("Lisbon, PT")),
        ];
        index.write(&third, &[], Watermark::default()).unwrap();
        assert!(
            index.reader.searcher().segment_readers().len() >= 2,
            "the documents are spread over segments"
        );

        let hits = index.search(&query("engineer")).unwrap();
        assert_eq!(hits.total, 3);
        let counts = |name: &str| -> Vec<(String, u64)> { hits.facets[name].clone() };
        let pairs = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
            list.iter().map(|(v, n)| (v.to_string(), *n)).collect()
        };
        assert_eq!(counts("workplace"), pairs(&[("onsite", 2), ("remote", 1)]));
        assert_eq!(counts("skills"), pairs(&[("go", 2), ("rust", 2), ("python", 1)]));
        assert_eq!(counts("locations"), pairs(&[("Lisbon, PT", 2), ("Porto, PT", 1)]));
        assert_eq!(counts("seniority"), pairs(&[]));

        // Over the filtered result only.
        let remote = index
            .search(&IndexQuery { workplaces: vec!["remote".into()], ..query("engineer") })
            .unwrap();
        assert_eq!(remote.facets["skills"], pairs(&[("python", 1)]));
        assert_eq!(remote.facets["locations"], pairs(&[("Porto, PT", 1)]));
        // The facet values of segments merged or added since are read again.
        index
            .write(&[job("e", "hybrid", &["zig"], Some("Faro, PT"))], &[], Watermark::default())
            .unwrap();
        let after = index.search(&query("engineer")).unwrap();
        assert_eq!(
            after.facets["skills"],
            pairs(&[("go", 2), ("rust", 2), ("python", 1), ("zig", 1)])
        );
        assert_eq!(
            after.facets["workplace"],
            pairs(&[("onsite", 2), ("hybrid", 1), ("remote", 1)])
        );
    }

    #[test]
    fn a_remembered_answer_lasts_until_the_next_commit_or_for_a_few_seconds() {
        let index = JobIndex::open(None).unwrap();
        index.write(&[doc("a", "Rust Developer", &[])], &[], Watermark::default()).unwrap();
        let q = query("rust");
        assert!(index.remembered(&q).is_none());
        assert_eq!(index.search_remembered(&q).unwrap().total, 1);
        assert_eq!(index.remembered(&q).unwrap().ids, ["a"]);
        let later = IndexQuery { now: q.now + ANSWER_MAX_AGE_SECS, ..q.clone() };
        assert!(index.remembered(&later).is_some());
        let too_late = IndexQuery { now: q.now + ANSWER_MAX_AGE_SECS + 1, ..q.clone() };
        assert!(index.remembered(&too_late).is_none(), "the clock expires jobs without a commit");
        assert!(
            index.remembered(&IndexQuery { offset: 1, ..q.clone() }).is_none(),
            "another page is another question"
        );

        index.write(&[doc("b", "Rust Engineer", &[])], &[], Watermark::default()).unwrap();
        assert!(index.remembered(&q).is_none(), "a commit forgets every answer");
        assert_eq!(index.search_remembered(&q).unwrap().total, 2);
    }

    #[test]
    fn staged_changes_show_at_the_next_commit_with_their_watermark() {
        let index = JobIndex::open(None).unwrap();
        index
            .stage(&[doc("a", "Rust Developer", &[])], &[], Watermark { updated_at_micros: 20 })
            .unwrap();
        assert_eq!(index.search(&query("rust")).unwrap().total, 0, "not committed yet");
        assert_eq!(index.watermark().updated_at_micros, 0);
        index
            .write(&[doc("b", "Rust Engineer", &[])], &[], Watermark { updated_at_micros: 10 })
            .unwrap();
        assert_eq!(index.search(&query("rust")).unwrap().total, 2);
        assert_eq!(index.watermark().updated_at_micros, 20, "the newest staged");
        index.write(&[], &[], Watermark { updated_at_micros: 5 }).unwrap();
        assert_eq!(index.watermark().updated_at_micros, 20, "never goes back");
    }

    #[test]
    fn short_queries_need_every_word_and_long_ones_half() {
        let index = JobIndex::open(None).unwrap();
        index
            .write(
                &[
                    doc("a", "Senior Machine Learning Engineer", &[]),
                    doc("b", "Machine Operator", &[]),
                    doc("c", "Staff Software Engineer", &[]),
                ],
                &[],
                Watermark::default(),
            )
            .unwrap();
        assert_eq!(index.search(&query("machine learning engineer")).unwrap().ids, vec!["a"]);
        // Six words: three of them are enough, and the most matched ranks first.
        let hits = index.search(&query("staff machine learning engineer feed relevance")).unwrap();
        assert_eq!(hits.ids, vec!["a"]);
        let hits = index.search(&query("staff software engineer for feed ranking")).unwrap();
        assert_eq!(hits.ids[0], "c");
        assert!(!hits.ids.contains(&"b".to_owned()));
    }

    #[test]
    fn an_upsert_replaces_and_a_removal_removes() {
        let index = JobIndex::open(None).unwrap();
        index
            .write(&[doc("a", "Rust Developer", &[])], &[], Watermark { updated_at_micros: 5 })
            .unwrap();
        index
            .write(&[doc("a", "Go Developer", &[])], &[], Watermark { updated_at_micros: 3 })
            .unwrap();
        assert_eq!(index.len(), 1);
        assert!(index.search(&query("rust")).unwrap().ids.is_empty());
        assert_eq!(index.search(&query("go")).unwrap().ids, vec!["a"]);
        assert_eq!(index.watermark().updated_at_micros, 5, "the watermark never goes back");
        index.write(&[], &["a".into()], Watermark::default()).unwrap();
        assert!(index.is_empty());
    }
}
