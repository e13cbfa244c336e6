//! The index itself: opening it, writes (committed or staged) with their watermark, rebuilds,
//! the versions and listings it holds, and searches.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tantivy::collector::{Count, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::index::SegmentId;
use tantivy::indexer::{IndexWriterOptions, LogMergePolicy};
use tantivy::schema::IndexRecordOption;
use tantivy::store::Compressor;
use tantivy::tokenizer::{TextAnalyzer, TokenizerManager};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy,
    Searcher, TERMINATED, Term,
};

use super::analysis::{ANALYZER, analyzer};
use super::answers::{Answer, Answers};
use super::cards::Cards;
use super::expiry::Expiries;
use super::facets::{FacetCache, FacetCounter, FacetCounts};
use super::filter_bits::FilterBits;
use super::ids::SegmentIds;
use super::query::{self, IndexHits, IndexQuery, SortBy};
use super::schema::{Fields, IndexDoc, SCHEMA_VERSION, StoredListing, schema};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Directory(String),
    #[error("search index: {0}")]
    Other(String),
}

/// What the last commit recorded about the database it mirrors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Watermark {
    /// The latest `updated_at` (unix micros) of any job written through the index.
    pub updated_at_micros: i64,
}

/// What the index holds of a job: see [`JobIndex::stored`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Not in the index (not public, or never written here).
    Missing,
    /// The version the caller already knows.
    Known,
    /// Another version than the caller knows, with its listing.
    Listing { version: i64, listing: Vec<u8> },
}

/// The size the document store's blocks are cut at (before compression). A card or a listing
/// is read by decompressing its whole block, so a block holds about one document (its card and
/// listing: a kilobyte or two of JSON). With LZ4 the index at 100k jobs takes 82 MB, not 132
/// (all of it resident under a search load), for about a tenth more CPU per keyword page.
const DOCSTORE_BLOCK_BYTES: usize = 1024;

/// How long a job that left the index keeps out older versions of itself: longer than any
/// write that read the job before it left can take to reach the index (an import's batch, a
/// rebuild's pass over the database).
const LEFT_KEPT: Duration = Duration::from_secs(600);

/// The index of public jobs: one per process, shared by every search and job write.
pub struct JobIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    analyzer: TextAnalyzer,
    answers: Mutex<Answers>,
    /// The facet values of the segments last searched with facets.
    facet_values: FacetCache,
    /// The expiries of each segment searched, soonest first.
    expiries: Arc<Expiries>,
    /// The documents of each filter value searched, per segment.
    filter_bits: Arc<FilterBits>,
    /// The newest watermark of the changes staged since the last commit (unix micros; 0: none).
    staged: AtomicI64,
    /// Where the last complete catch-up pass leaves the next one to start (unix micros of the
    /// database's clock; 0: no pass yet). Kept in memory only.
    checked: AtomicI64,
    /// The jobs that left the index lately, with the version they left at (`i64::MAX`:
    /// deleted) and when: a write of an older version (an import or a rebuild that read the
    /// job before it left) does not bring them back.
    left: Mutex<HashMap<String, (i64, Instant)>>,
    /// The id and version columns of each segment searched, opened once: opening a column
    /// reads its whole block index, far more than reading a value. Its ids are read whole.
    columns: Mutex<HashMap<SegmentId, SegmentColumns>>,
    /// The cards of each segment, held in memory (read at each reload for new segments).
    cards: Cards,
}

/// The columns a search reads of each hit.
#[derive(Clone)]
struct SegmentColumns {
    job_id: StrColumn,
    /// The ids of `job_id`'s ordinals.
    ids: Arc<SegmentIds>,
    updated_at: Column<i64>,
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

impl JobIndex {
    /// Opens the index in `dir` (creating it), or keeps it in memory with `None`.
    pub fn open(dir: Option<&Path>) -> Result<Self, IndexError> {
        let (schema, fields) = schema();
        let tokenizers = TokenizerManager::default();
        tokenizers.register(ANALYZER, analyzer());
        let builder =
            Index::builder().schema(schema).tokenizers(tokenizers).settings(IndexSettings {
                docstore_compression: Compressor::Lz4,
                docstore_blocksize: DOCSTORE_BLOCK_BYTES,
                ..IndexSettings::default()
            });
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
        // No cache of store blocks: answers keep the cards they read, and semantic pages the
        // jobs they decoded (`search::Listings`).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .doc_store_cache_num_blocks(0)
            .try_into()?;
        let index = Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            analyzer: analyzer(),
            answers: Mutex::new(Answers::default()),
            facet_values: FacetCache::default(),
            expiries: Arc::default(),
            filter_bits: Arc::default(),
            staged: AtomicI64::new(0),
            checked: AtomicI64::new(0),
            left: Mutex::new(HashMap::new()),
            columns: Mutex::new(HashMap::new()),
            cards: Cards::default(),
        };
        index.read_new_cards();
        Ok(index)
    }

    /// Reads the cards of the segments searches see that are not held yet. A segment whose
    /// cards cannot be read has its cards read from the document store, as before.
    fn read_new_cards(&self) {
        if let Err(err) = self.cards.read_new(&self.reader.searcher()) {
            tracing::warn!(error = %err, "the search index's cards stay in its document store");
        }
    }

    /// Makes the last commit visible to searches and forgets every remembered answer.
    fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        let live: std::collections::HashSet<SegmentId> =
            self.reader.searcher().segment_readers().iter().map(|s| s.segment_id()).collect();
        self.columns.lock().unwrap_or_else(|e| e.into_inner()).retain(|id, _| live.contains(id));
        self.expiries.retain(&live);
        self.cards.retain(&live);
        // Dropped after the lock is let go: searches do not wait for a thousand answers to go.
        let forgotten = self.answers.lock().unwrap_or_else(|e| e.into_inner()).forget_all();
        drop(forgotten);
        // Last: until a new segment's cards are read, searches read them from its store.
        self.read_new_cards();
        Ok(())
    }

    /// Like [`JobIndex::search`], and remembers the answer until the next commit (and for at
    /// most [`ANSWER_MAX_AGE_SECS`](super::ANSWER_MAX_AGE_SECS) of the clock).
    pub fn search_remembered(&self, q: &IndexQuery) -> Result<Arc<IndexHits>, IndexError> {
        Ok(self.answer(q)?.hits.clone())
    }

    /// Like [`JobIndex::search_remembered`], with where the hits are, so that their cards and
    /// listings can be read ([`Answer::cards`], [`Answer::listing`]).
    pub fn answer(&self, q: &IndexQuery) -> Result<Arc<Answer>, IndexError> {
        let generation = {
            let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(answer) = answers.fresh(q) {
                return Ok(answer);
            }
            answers.generation
        };
        // The searcher is taken after the generation is read, so it is at least that new; the
        // answer is kept only if no reload happened meanwhile.
        let answer = Arc::new(self.search_located(q)?);
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.generation == generation {
            let left = answers.keep(q, answer.clone());
            drop(answers);
            drop(left);
        }
        Ok(answer)
    }

    /// Changes whenever searches may see something new (a commit made visible), and is never
    /// another index's.
    pub fn generation(&self) -> u64 {
        self.answers.lock().unwrap_or_else(|e| e.into_inner()).generation
    }

    /// A remembered answer to `q`, without searching (cheap: no need for the blocking pool).
    pub fn remembered(&self, q: &IndexQuery) -> Option<Arc<IndexHits>> {
        self.remembered_answer(q).map(|answer| answer.hits.clone())
    }

    /// Like [`JobIndex::remembered`], with where the hits are.
    pub fn remembered_answer(&self, q: &IndexQuery) -> Option<Arc<Answer>> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers.fresh(q)
    }

    /// How many jobs the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The heap this index holds beside tantivy's own: the job ids ([`SegmentIds`]), the
    /// expiries and the filter values' documents of its segments; the cards of its segments;
    /// and the cards its remembered answers keep.
    pub fn heap_bytes(&self) -> (u64, u64, u64) {
        let ids: u64 = self
            .columns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|c| c.ids.heap_bytes())
            .sum();
        let ids = ids + self.expiries.heap_bytes() + self.filter_bits.heap_bytes();
        let kept = self.answers.lock().unwrap_or_else(|e| e.into_inner()).kept_bytes();
        (ids, self.cards.heap_bytes(), kept)
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

    /// The version (`updated_at`, unix micros) of each of `ids` the index holds; ids it does not
    /// hold are absent from the map.
    pub fn versions(&self, ids: &[String]) -> Result<HashMap<String, i64>, IndexError> {
        let searcher = self.reader.searcher();
        let mut versions = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some(address) = self.address(&searcher, id)? {
                versions.insert(id.clone(), self.version_at(&searcher, address)?);
            }
        }
        Ok(versions)
    }

    /// What the index holds of each of `ids`, given the version of it the caller knows (the
    /// listing is read only when that is not the one held): a search page's jobs, as of the
    /// newest commit.
    pub fn stored(&self, ids: &[String], known: &[Option<i64>]) -> Result<Vec<Stored>, IndexError> {
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let Some(address) = self.address(&searcher, id)? else {
                out.push(Stored::Missing);
                continue;
            };
            let version = self.version_at(&searcher, address)?;
            if known.get(i).copied().flatten() == Some(version) {
                out.push(Stored::Known);
                continue;
            }
            let StoredListing(listing) = searcher.doc(address)?;
            out.push(Stored::Listing { version, listing });
        }
        Ok(out)
    }

    /// The id and version columns of the segment of `address`.
    fn columns(
        &self,
        searcher: &Searcher,
        address: DocAddress,
    ) -> Result<SegmentColumns, IndexError> {
        let segment = searcher.segment_reader(address.segment_ord);
        let id = segment.segment_id();
        if let Some(columns) = self.columns.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(columns.clone());
        }
        let fast = segment.fast_fields();
        let job_id = fast
            .str("job_id")?
            .ok_or_else(|| IndexError::Other("the job_id column is missing".into()))?;
        let columns = SegmentColumns {
            ids: Arc::new(SegmentIds::read(&job_id)?),
            job_id,
            updated_at: fast.i64("updated_at")?,
        };
        self.columns.lock().unwrap_or_else(|e| e.into_inner()).insert(id, columns.clone());
        Ok(columns)
    }

    /// The version (`updated_at`) of the document at `address`.
    fn version_at(&self, searcher: &Searcher, address: DocAddress) -> Result<i64, IndexError> {
        Ok(self.columns(searcher, address)?.updated_at.first(address.doc_id).unwrap_or(0))
    }

    /// Where the live document of job `id` is, if the index holds it.
    fn address(&self, searcher: &Searcher, id: &str) -> Result<Option<DocAddress>, IndexError> {
        let term = Term::from_field_text(self.fields.job_id, id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let postings = segment
                .inverted_index(self.fields.job_id)?
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|e| IndexError::Other(e.to_string()))?;
            let Some(mut postings) = postings else { continue };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc)) {
                    return Ok(Some(DocAddress::new(ord as u32, doc)));
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    /// Replaces the documents of `removals` and `upserts` (a job that is no longer public is
    /// only removed, given with the version it left at; `i64::MAX` when it was deleted),
    /// commits with `watermark`, and makes the change visible to searches. An upsert older
    /// than the version its job lately left at is not written.
    pub fn write(
        &self,
        upserts: &[IndexDoc],
        removals: &[(String, i64)],
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
        removals: &[(String, i64)],
        watermark: Watermark,
    ) -> Result<(), IndexError> {
        self.change(upserts, removals, watermark, false)
    }

    fn change(
        &self,
        upserts: &[IndexDoc],
        removals: &[(String, i64)],
        watermark: Watermark,
        commit: bool,
    ) -> Result<(), IndexError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| IndexError::Other("the index writer lock is poisoned".into()))?;
        let upserts = self.record_left(removals, upserts);
        let result: Result<(), IndexError> = (|| {
            for id in removals.iter().map(|(id, _)| id).chain(upserts.iter().map(|d| &d.id)) {
                writer.delete_term(Term::from_field_text(self.fields.job_id, id));
            }
            for doc in &upserts {
                writer.add_document(self.fields.document(doc))?;
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

    /// Records the jobs of `removals` as left, and returns the upserts that are not older than
    /// the version their job lately left at (those that are newer clear that record).
    fn record_left<'a>(
        &self,
        removals: &[(String, i64)],
        upserts: &'a [IndexDoc],
    ) -> Vec<&'a IndexDoc> {
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if left.len() >= 1024 {
            left.retain(|_, (_, at)| now.duration_since(*at) < LEFT_KEPT);
        }
        for (id, version) in removals {
            let entry = left.entry(id.clone()).or_insert((*version, now));
            *entry = (entry.0.max(*version), now);
        }
        upserts
            .iter()
            .filter(|doc| match left.get(&doc.id) {
                Some((version, at)) if now.duration_since(*at) < LEFT_KEPT => {
                    if doc.updated_at > *version {
                        left.remove(&doc.id);
                        true
                    } else {
                        false
                    }
                }
                _ => true,
            })
            .collect()
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
        let left = self.left.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let result: Result<u64, IndexError> = (|| {
            writer.delete_all_documents()?;
            let mut n = 0;
            for doc in docs {
                // Read before it left the index (a job closed while the rebuild read the rest).
                if left.get(&doc.id).is_some_and(|(version, at)| {
                    at.elapsed() < LEFT_KEPT && doc.updated_at <= *version
                }) {
                    continue;
                }
                writer.add_document(self.fields.document(&doc))?;
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

    /// Runs a search: ids in order, the total of matches, and facet counts over them.
    pub fn search(&self, q: &IndexQuery) -> Result<IndexHits, IndexError> {
        let answer = self.search_located(q)?;
        Ok(Arc::try_unwrap(answer.hits).unwrap_or_else(|hits| (*hits).clone()))
    }

    /// Runs a search, keeping where its hits are.
    fn search_located(&self, q: &IndexQuery) -> Result<Answer, IndexError> {
        let searcher = self.reader.searcher();
        let query =
            query::build(&self.fields, &self.analyzer, &self.expiries, &self.filter_bits, q);
        let limit = q.limit.max(1);
        let facet_counter = FacetCounter {
            values: if q.facets { Some(self.facet_values.values(&searcher)?) } else { None },
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
        // Each hit's id and version, in steps over all hits (ordinals, then where each id is,
        // then its text): the hits are scattered over megabytes of columns, and a step's reads
        // do not wait for each other, where one hit's lookups do.
        let mut columns: Vec<Option<SegmentColumns>> = vec![None; searcher.segment_readers().len()];
        let mut found = Vec::with_capacity(addresses.len());
        for address in addresses {
            let segment = &mut columns[address.segment_ord as usize];
            if segment.is_none() {
                *segment = Some(self.columns(&searcher, address)?);
            }
            let Some(segment) = segment.as_ref() else { continue };
            let ord = segment.job_id.term_ords(address.doc_id).next();
            let version = segment.updated_at.first(address.doc_id).unwrap_or(0);
            if let Some(ord) = ord {
                found.push((address, ord, version));
            }
        }
        let texts: Vec<Option<&str>> = (found.iter())
            .map(|&(address, ord, _)| {
                columns[address.segment_ord as usize].as_ref().and_then(|c| c.ids.get(ord))
            })
            .collect();
        let mut ids = Vec::with_capacity(found.len());
        let mut versions = Vec::with_capacity(found.len());
        let mut located = Vec::with_capacity(found.len());
        for ((address, _, version), id) in found.into_iter().zip(texts) {
            if let Some(id) = id {
                ids.push(id.to_owned());
                versions.push(version);
                located.push(address);
            }
        }
        let facets = facet_values.map(|values| Arc::new(values.top(counts))).unwrap_or_default();
        let hits = IndexHits { ids, versions, total: total as u64, facets };
        let segment_cards = self.cards.of(&searcher);
        Ok(Answer::new(hits, searcher, located, segment_cards))
    }
}

#[cfg(test)]
mod tests {
    use super::super::answers::ANSWER_MAX_AGE_SECS;
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
    fn words_that_ask_for_jobs_need_not_match_unless_they_are_the_whole_search() {
        let index = JobIndex::open(None).unwrap();
        let mut careers = doc("c", "Careers Site Editor", &[]);
        careers.description = "Edit the pages of our careers site.".into();
        index
            .write(
                &[doc("a", "Data Engineer", &[]), doc("b", "Rust Developer", &[]), careers],
                &[],
                Watermark::default(),
            )
            .unwrap();
        assert_eq!(index.search(&query("data engineer jobs")).unwrap().ids, vec!["a"]);
        assert_eq!(index.search(&query("Rust roles")).unwrap().ids, vec!["b"]);
        assert_eq!(index.search(&query("careers")).unwrap().ids, vec!["c"]);
        assert_eq!(index.search(&query("editor careers")).unwrap().ids, vec!["c"]);
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
                &[("b".into(), i64::MAX)],
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
        // A window back from the clock is the same question a moment later.
        let week = IndexQuery { posted_since: Some(q.now - 7 * 86_400), ..q.clone() };
        index.search_remembered(&week).unwrap();
        let moved =
            IndexQuery { now: q.now + 5, posted_since: Some(q.now + 5 - 7 * 86_400), ..q.clone() };
        assert!(index.remembered(&moved).is_some(), "the same window, a moment later");
        let day = IndexQuery { posted_since: Some(q.now - 86_400), ..q.clone() };
        assert!(index.remembered(&day).is_none(), "another window is another question");
        let only = |ids: &[&str]| IndexQuery {
            only_ids: Some(ids.iter().map(|id| id.to_string()).collect()),
            salary_min_yearly: Some(50_000.0),
            ..q.clone()
        };
        index.search_remembered(&only(&["a", "b"])).unwrap();
        assert!(index.remembered(&only(&["a", "b"])).is_some());
        assert!(index.remembered(&only(&["a", "c"])).is_none(), "other ids, another question");
        let more = IndexQuery { salary_min_yearly: Some(50_000.5), ..only(&["a", "b"]) };
        assert!(index.remembered(&more).is_none(), "another salary, another question");

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
        index.write(&[], &[("a".into(), i64::MAX)], Watermark::default()).unwrap();
        assert!(index.is_empty());
    }

    #[test]
    fn a_job_leaves_every_search_when_its_expiry_passes_without_a_commit() {
        let index = JobIndex::open(None).unwrap();
        let expiring = |id: &str, at: Option<i64>| IndexDoc {
            expires_at: at,
            ..doc(id, "Rust Developer", &[])
        };
        // Two commits: two segments, each with its own expiries.
        index
            .write(
                &[expiring("never", None), expiring("first", Some(100))],
                &[],
                Watermark::default(),
            )
            .unwrap();
        index.write(&[expiring("second", Some(200))], &[], Watermark::default()).unwrap();
        let ids_at = |now: i64, text: Option<&str>, workplace: bool| {
            let mut q = query(text.unwrap_or_default());
            q.text = text.map(str::to_owned);
            q.now = now;
            q.sort = SortBy::Newest;
            if workplace {
                q.workplaces = vec!["remote".into()];
            }
            let hits = index.search(&q).unwrap();
            assert_eq!(hits.total as usize, hits.ids.len());
            let counted: u64 = hits.facets["workplace"].iter().map(|(_, n)| n).sum();
            assert_eq!(counted, hits.total, "the facets count what the total counts");
            let mut ids = hits.ids;
            ids.sort();
            ids
        };
        for (text, workplace) in
            [(Some("rust"), false), (None, false), (Some("rust"), true), (None, true)]
        {
            assert_eq!(ids_at(99, text, workplace), ["first", "never", "second"]);
            assert_eq!(ids_at(100, text, workplace), ["never", "second"], "gone at its expiry");
            assert_eq!(ids_at(199, text, workplace), ["never", "second"]);
            assert_eq!(ids_at(200, text, workplace), ["never"]);
            assert_eq!(ids_at(i64::MAX - 1, text, workplace), ["never"], "no expiry: never gone");
        }
    }

    #[test]
    fn an_answer_reads_its_page_of_cards_once_from_the_commit_it_saw() {
        let texts = |cards: &super::super::PageCards| -> Vec<String> {
            cards.iter().map(str::to_owned).collect()
        };
        let index = JobIndex::open(None).unwrap();
        let with = |id: &str, posted_at: i64, card: &str| IndexDoc {
            posted_at: Some(posted_at),
            card: card.into(),
            listing: format!("listing of {card}").into_bytes(),
            ..doc(id, "Rust Developer", &[])
        };
        let jobs = [with("a", 3, "a1"), with("b", 2, "b1"), with("c", 1, "c1")];
        index.write(&jobs, &[], Watermark::default()).unwrap();
        let q = IndexQuery { sort: SortBy::Newest, limit: 2, offset: 1, ..query("rust") };
        let answer = index.answer(&q).unwrap();
        assert!(answer.cards_read().is_none(), "nothing is read before it is asked for");
        assert_eq!(texts(&answer.cards().unwrap()), ["b1", "c1"], "the page's hits, in order");
        assert_eq!(answer.listing(0).unwrap(), b"listing of b1", "the listing is another field");

        // A later commit changes b; the answer read before it keeps what its search saw.
        index.write(&[with("b", 2, "b2")], &[], Watermark::default()).unwrap();
        let read = answer.cards_read().expect("read once, then kept");
        assert_eq!(texts(&read), ["b1", "c1"]);
        assert!(index.remembered_answer(&q).is_none(), "the commit forgot the answer");
        let fresh = index.answer(&q).unwrap();
        assert_eq!(texts(&fresh.cards().unwrap()), ["b2", "c1"]);

        // A page whose cards are too big to keep is read each time.
        let big = "x".repeat(super::super::answers::MAX_KEPT_CARD_BYTES + 1);
        index.write(&[with("d", 4, &big)], &[], Watermark::default()).unwrap();
        let first = index.answer(&IndexQuery { offset: 0, ..q.clone() }).unwrap();
        assert_eq!(texts(&first.cards().unwrap())[0], big);
        assert!(first.cards_read().is_none());

        // Cards held in memory and cards read from the store are the same cards.
        assert!(index.cards.heap_bytes() > 0, "the cards of every segment are held");
        let q = IndexQuery { offset: 0, limit: 10, ..q };
        let held = index.search_located(&q).unwrap().cards().unwrap();
        index.cards.forget_all();
        let from_store = index.search_located(&q).unwrap().cards().unwrap();
        assert_eq!(held.len(), 4);
        assert_eq!(held, from_store);
    }

    #[test]
    fn a_page_reads_the_listing_of_each_job_only_when_its_version_is_not_the_known_one() {
        let index = JobIndex::open(None).unwrap();
        let with = |id: &str, version: i64, listing: &str| IndexDoc {
            updated_at: version,
            listing: listing.as_bytes().to_vec(),
            ..doc(id, "Rust Developer", &[])
        };
        index.write(&[with("a", 1, "a1"), with("b", 1, "b1")], &[], Watermark::default()).unwrap();
        // In another segment, replacing a's first version.
        index.write(&[with("a", 2, "a2")], &[], Watermark::default()).unwrap();
        let ids = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(
            index.stored(&ids, &[]).unwrap(),
            [
                Stored::Listing { version: 2, listing: b"a2".to_vec() },
                Stored::Listing { version: 1, listing: b"b1".to_vec() },
                Stored::Missing,
            ]
        );
        assert_eq!(
            index.stored(&ids, &[Some(1), Some(1), Some(1)]).unwrap(),
            [
                Stored::Listing { version: 2, listing: b"a2".to_vec() },
                Stored::Known,
                Stored::Missing,
            ]
        );
        let hits = index.search(&IndexQuery { sort: SortBy::Newest, ..query("rust") }).unwrap();
        let mut pairs: Vec<(String, i64)> = hits.ids.into_iter().zip(hits.versions).collect();
        pairs.sort();
        assert_eq!(pairs, [("a".to_owned(), 2), ("b".to_owned(), 1)]);
        index.write(&[], &[("a".into(), 3)], Watermark::default()).unwrap();
        assert_eq!(index.stored(&ids[..1], &[Some(2)]).unwrap(), [Stored::Missing]);
    }

    #[test]
    fn a_job_that_left_is_not_brought_back_by_a_write_of_an_older_version() {
        let index = JobIndex::open(None).unwrap();
        let at = |id: &str, version: i64| IndexDoc { updated_at: version, ..doc(id, "Pilot", &[]) };
        index.write(&[at("a", 5), at("b", 5)], &[], Watermark::default()).unwrap();
        // Closed at version 7, then an import that read it at version 5 writes it.
        index.write(&[], &[("a".into(), 7)], Watermark::default()).unwrap();
        index.write(&[at("a", 5)], &[], Watermark::default()).unwrap();
        assert!(index.search(&query("pilot")).unwrap().ids == ["b"], "still closed");
        // Deleted: no version brings it back; a rebuild that read it before is not trusted.
        index.write(&[], &[("b".into(), i64::MAX)], Watermark::default()).unwrap();
        index.replace_all([at("a", 6), at("b", 9)], Watermark::default()).unwrap();
        assert_eq!(index.len(), 0);
        // Published again: a newer version is written.
        index.write(&[at("a", 8)], &[], Watermark::default()).unwrap();
        assert_eq!(index.search(&query("pilot")).unwrap().ids, ["a"]);
    }
}
