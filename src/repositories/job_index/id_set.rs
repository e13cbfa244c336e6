//! The jobs whose ids are in a list, as a query: a semantic search's candidates, checked
//! against the filters, or added to a hybrid search's keyword matches.
//!
//! A boolean query of one term query per id did the same, at a cost that grew with the list:
//! every term asked every segment its document frequency for a score nobody uses, and every
//! segment built one scorer per id and merged them in a union. A semantic search checks its
//! 100 to 800 candidates this way once per fresh search, and those checks were the largest
//! added cost of the moments when remembered answers expired together. Here each id is looked
//! up once per segment, and the documents found are one sorted list.

use std::sync::Arc;

use tantivy::query::{ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

use super::doc_list::{DocList, explain_by_seeking};

/// The documents whose `field` (an indexed, untokenized text field) holds one of `ids`, all
/// with the same score.
#[derive(Debug, Clone)]
pub(super) struct IdSet {
    field: Field,
    ids: Arc<[String]>,
}

impl IdSet {
    pub(super) fn new(field: Field, ids: &[String]) -> Self {
        let mut ids = ids.to_vec();
        // In the term dictionary's order, each once.
        ids.sort_unstable();
        ids.dedup();
        Self { field, ids: ids.into() }
    }
}

impl Query for IdSet {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl Weight for IdSet {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let inverted = segment.inverted_index(self.field)?;
        let mut docs: Vec<DocId> = Vec::with_capacity(self.ids.len());
        for id in self.ids.iter() {
            let term = Term::from_field_text(self.field, id);
            // Deleted documents (earlier versions of a job) are listed too: the collectors
            // leave them out, as they do for a term query's.
            if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)? {
                while postings.doc() != TERMINATED {
                    docs.push(postings.doc());
                    postings.advance();
                }
            }
        }
        docs.sort_unstable();
        docs.dedup();
        Ok(Box::new(ConstScorer::new(DocList::new(docs), boost)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_by_seeking(self.scorer(segment, 1.0)?, doc, "one of the ids")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use tantivy::collector::DocSetCollector;
    use tantivy::query::{BooleanQuery, Occur, TermQuery};
    use tantivy::schema::{STRING, Schema};
    use tantivy::{DocAddress, Index, TantivyDocument, doc};

    use super::*;

    /// Jobs `j0` … `j2999` in three segments, every tenth with the tag "rare"; then every
    /// seventh rewritten (its old document deleted, a new one added in a fourth segment).
    fn index() -> (Index, Field, Field) {
        let mut schema = Schema::builder();
        let id = schema.add_text_field("id", STRING);
        let tag = schema.add_text_field("tag", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let job = |i: u32| -> TantivyDocument {
            doc!(id => format!("j{i}"), tag => if i.is_multiple_of(10) { "rare" } else { "common" })
        };
        for i in 0..3_000u32 {
            writer.add_document(job(i)).unwrap();
            if i % 1_000 == 999 {
                writer.commit().unwrap();
            }
        }
        for i in (0..3_000u32).step_by(7) {
            writer.delete_term(Term::from_field_text(id, &format!("j{i}")));
            writer.add_document(job(i)).unwrap();
        }
        writer.commit().unwrap();
        (index, id, tag)
    }

    fn found(index: &Index, query: &dyn Query) -> BTreeSet<DocAddress> {
        let searcher = index.reader().unwrap().searcher();
        searcher.search(query, &DocSetCollector).unwrap().into_iter().collect()
    }

    /// What a boolean query of one term query per id finds.
    fn by_terms(field: Field, ids: &[String]) -> BooleanQuery {
        BooleanQuery::new(
            ids.iter()
                .map(|v| {
                    let term =
                        TermQuery::new(Term::from_field_text(field, v), IndexRecordOption::Basic);
                    (Occur::Should, Box::new(term) as Box<dyn Query>)
                })
                .collect(),
        )
    }

    #[test]
    fn it_finds_what_a_term_per_id_finds_alone_and_in_an_intersection() {
        let (index, id, tag) = index();
        let searcher = index.reader().unwrap().searcher();
        assert_eq!(searcher.segment_readers().len(), 4);
        // Out of order, repeated, rewritten ones, ones in every segment, and ids no job has.
        let mut ids: Vec<String> =
            (0..3_000u32).rev().step_by(13).map(|i| format!("j{i}")).collect();
        ids.extend(["j7", "j7", "j14", "j2999", "j0", "nobody", "j3000", ""].map(String::from));
        let alone = found(&index, &IdSet::new(id, &ids));
        assert_eq!(alone, found(&index, &by_terms(id, &ids)));
        let jobs: BTreeSet<u32> = (ids.iter())
            .filter_map(|i| i.strip_prefix('j')?.parse().ok())
            .filter(|&i| i < 3_000)
            .collect();
        assert_eq!(alone.len(), jobs.len(), "each job once, its current version");

        let rare = || -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(tag, "rare"), IndexRecordOption::Basic))
        };
        let both = |ids: Box<dyn Query>| {
            BooleanQuery::new(vec![(Occur::Must, rare()), (Occur::Must, ids)])
        };
        let within = found(&index, &both(Box::new(IdSet::new(id, &ids))));
        assert_eq!(within, found(&index, &both(Box::new(by_terms(id, &ids)))));
        assert!(!within.is_empty() && within.len() < alone.len());

        assert!(found(&index, &IdSet::new(id, &[])).is_empty());
        assert!(found(&index, &IdSet::new(id, &["nobody".to_owned()])).is_empty());
    }
}
