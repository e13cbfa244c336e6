//! A word matched over several fields, scored by its best field (dis-max), for a word that is
//! one required clause among others: it is sought more than it is walked.
//!
//! tantivy's `DisjunctionMaxQuery` walks its fields through a buffered union, fast when it is
//! the whole search: it scores every document of a 4,096-document window ahead at once. Inside
//! an intersection (two words, or a word and filters) the other clauses make it jump, and each
//! jump past its window clears the window's scores and scores the next 4,096 documents' worth of
//! matches, most of which the intersection never asks for (two words and two filters spent
//! 40% of their CPU there). This one moves each field to the target and scores only the
//! document asked for. The scores are the same, bit for bit.

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED};

use super::doc_list::explain_by_seeking;

/// The best of `disjuncts`' scores, plus `tie_breaker` times the sum of the others (as
/// tantivy's `DisjunctionMaxQuery` scores it).
#[derive(Debug)]
pub(super) struct SeekingDisMax {
    disjuncts: Vec<Box<dyn Query>>,
    tie_breaker: Score,
}

impl SeekingDisMax {
    pub(super) fn new(disjuncts: Vec<Box<dyn Query>>, tie_breaker: Score) -> Self {
        Self { disjuncts, tie_breaker }
    }
}

impl Clone for SeekingDisMax {
    fn clone(&self) -> Self {
        Self::new(self.disjuncts.iter().map(|d| d.box_clone()).collect(), self.tie_breaker)
    }
}

impl Query for SeekingDisMax {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let weights = self.disjuncts.iter().map(|d| d.weight(scoring)).collect::<Result<_, _>>()?;
        Ok(Box::new(DisMaxWeight { weights, tie_breaker: self.tie_breaker }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a tantivy::Term, bool)) {
        for disjunct in &self.disjuncts {
            disjunct.query_terms(visitor);
        }
    }
}

struct DisMaxWeight {
    weights: Vec<Box<dyn Weight>>,
    tie_breaker: Score,
}

impl Weight for DisMaxWeight {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut scorers = Vec::with_capacity(self.weights.len());
        for weight in &self.weights {
            let scorer = weight.scorer(segment, boost)?;
            if scorer.doc() != TERMINATED {
                scorers.push(scorer);
            }
        }
        Ok(match scorers.len() {
            0 => Box::new(EmptyScorer),
            // The best of one score is that score (and the others add nothing).
            1 => scorers.pop().expect("one scorer"),
            _ => Box::new(DisMaxScorer::new(scorers, self.tie_breaker)),
        })
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        explain_by_seeking(
            self.scorer(segment, 1.0)?,
            doc,
            "best field, with a share of the others",
        )
    }
}

/// The union of its fields' matches, each field moved only as far as asked.
struct DisMaxScorer {
    /// In the order of the query's fields (the scores are summed in that order).
    scorers: Vec<Box<dyn Scorer>>,
    /// Each scorer's document, as its last move answered: a walk compares them at every step,
    /// and asking each boxed scorer again cost more than the moves themselves.
    docs: Vec<DocId>,
    doc: DocId,
    tie_breaker: Score,
}

impl DisMaxScorer {
    fn new(scorers: Vec<Box<dyn Scorer>>, tie_breaker: Score) -> Self {
        let docs = scorers.iter().map(|s| s.doc()).collect();
        let mut union = Self { scorers, docs, doc: TERMINATED, tie_breaker };
        union.doc = union.lowest();
        union
    }

    fn lowest(&self) -> DocId {
        self.docs.iter().copied().min().unwrap_or(TERMINATED)
    }
}

impl DocSet for DisMaxScorer {
    fn advance(&mut self) -> DocId {
        let at = self.doc;
        for (scorer, doc) in self.scorers.iter_mut().zip(&mut self.docs) {
            if *doc == at {
                *doc = scorer.advance();
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for (scorer, doc) in self.scorers.iter_mut().zip(&mut self.docs) {
            if *doc < target {
                *doc = scorer.seek(target);
            }
        }
        self.doc = self.lowest();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.scorers.iter().map(|s| s.size_hint()).fold(0u32, u32::saturating_add)
    }

    fn cost(&self) -> u64 {
        self.scorers.iter().map(|s| s.cost()).sum()
    }
}

impl Scorer for DisMaxScorer {
    fn score(&mut self) -> Score {
        // As tantivy's `DisjunctionMaxCombiner` adds them up, field by field.
        let (mut max, mut sum): (Score, Score) = (0.0, 0.0);
        let at = self.doc;
        for (scorer, doc) in self.scorers.iter_mut().zip(&self.docs) {
            if *doc == at {
                let score = scorer.score();
                max = Score::max(score, max);
                sum += score;
            }
        }
        max + (sum - max) * self.tie_breaker
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema, TEXT};
    use tantivy::{Index, TantivyDocument, Term, doc};

    use super::*;

    /// Documents with two text fields and a tag, many segments' worth of words: "rust" and
    /// "go" spread over both fields at different rates, so that a search for both jumps.
    fn index() -> (Index, [tantivy::schema::Field; 3]) {
        let mut schema = Schema::builder();
        let title = schema.add_text_field("title", TEXT);
        let body = schema.add_text_field("body", TEXT);
        let tag = schema.add_text_field("tag", STRING);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..20_000u32 {
            let mut title_words = vec!["job"];
            let mut body_words = vec!["text"];
            if i % 3 == 0 {
                title_words.push("rust");
            }
            if i % 7 == 0 {
                body_words.extend(["rust", "rust"]);
            }
            if i % 5 == 0 || i % 11 == 0 {
                body_words.push("go");
            }
            if i % 13 == 0 {
                title_words.push("go");
            }
            let tag_value = if i % 97 == 0 { "rare" } else { "common" };
            let document: TantivyDocument = doc!(
                title => title_words.join(" "),
                body => body_words.join(" ").repeat(1 + (i % 4) as usize),
                tag => tag_value,
            );
            writer.add_document(document).unwrap();
            if i % 6_000 == 5_999 {
                writer.commit().unwrap();
            }
        }
        writer.commit().unwrap();
        (index, [title, body, tag])
    }

    fn word(fields: &[tantivy::schema::Field], word: &str, seeking: bool) -> Box<dyn Query> {
        let per_field: Vec<Box<dyn Query>> = fields
            .iter()
            .zip([3.0, 1.0])
            .map(|(&field, boost)| {
                let term = TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::WithFreqs,
                );
                Box::new(BoostQuery::new(Box::new(term), boost)) as Box<dyn Query>
            })
            .collect();
        if seeking {
            Box::new(SeekingDisMax::new(per_field, 0.3))
        } else {
            Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, 0.3))
        }
    }

    #[test]
    fn it_finds_and_scores_what_tantivys_dis_max_does_alone_and_in_an_intersection() {
        let (index, [title, body, tag]) = index();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let rare = || -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(tag, "rare"), IndexRecordOption::Basic))
        };
        let queries = |seeking: bool| -> Vec<Box<dyn Query>> {
            vec![
                word(&[title, body], "rust", seeking),
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, word(&[title, body], "rust", seeking)),
                    (Occur::Must, word(&[title, body], "go", seeking)),
                ])),
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, word(&[title, body], "go", seeking)),
                    (Occur::Must, rare()),
                ])),
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, word(&[title, body], "rust", seeking)),
                    (Occur::MustNot, word(&[title, body], "go", seeking)),
                ])),
                word(&[title, body], "nowhere", seeking),
            ]
        };
        for (ours, theirs) in queries(true).iter().zip(queries(false)) {
            let top = TopDocs::with_limit(50_000).order_by_score();
            let found = searcher.search(ours, &top).unwrap();
            let expected = searcher.search(&theirs, &top).unwrap();
            assert_eq!(found.len(), expected.len(), "{ours:?}");
            for ((score, at), (expected_score, expected_at)) in found.iter().zip(&expected) {
                assert_eq!(at, expected_at, "{ours:?}");
                assert_eq!(score.to_bits(), expected_score.to_bits(), "{ours:?} at {at:?}");
            }
            assert_eq!(
                ours.count(&searcher).unwrap(),
                theirs.count(&searcher).unwrap(),
                "{ours:?}"
            );
        }
        let both = searcher
            .search(
                &BooleanQuery::new(vec![
                    (Occur::Must, word(&[title, body], "rust", true)),
                    (Occur::Must, word(&[title, body], "go", true)),
                    (Occur::Must, rare()),
                ]),
                &tantivy::collector::Count,
            )
            .unwrap();
        // Multiples of 97 and 3 or 7, and of 5, 11 or 13, below 20,000.
        let expected = (0..20_000u32)
            .filter(|i| i % 97 == 0 && (i % 3 == 0 || i % 7 == 0))
            .filter(|i| i % 5 == 0 || i % 11 == 0 || i % 13 == 0)
            .count();
        assert_eq!(both, expected);
    }
}
