//! A sorted list of documents as a tantivy scorer: the jobs past their expiry
//! ([`super::expiry`]), the jobs of a list of ids ([`super::id_set`]). Also how the index's
//! own weights explain a match ([`explain_by_seeking`]).

use tantivy::query::{Explanation, Scorer};
use tantivy::{DocId, DocSet, Score, TERMINATED};

/// The explanation of `doc`'s score under `scorer` (a weight's scorer of `doc`'s segment), as
/// `what`; an error when `doc` does not match.
pub(super) fn explain_by_seeking(
    mut scorer: Box<dyn Scorer>,
    doc: DocId,
    what: &'static str,
) -> tantivy::Result<Explanation> {
    if scorer.seek(doc) != doc {
        return Err(tantivy::TantivyError::InvalidArgument(format!(
            "document {doc} does not match ({what})"
        )));
    }
    Ok(Explanation::new(what, scorer.score()))
}

/// A sorted list of documents (each once), as a scorer that scores 0.
pub(super) struct DocList {
    docs: Vec<DocId>,
    at: usize,
}

impl DocList {
    /// `docs` sorted, each once.
    pub(super) fn new(docs: Vec<DocId>) -> Self {
        debug_assert!(docs.is_sorted());
        Self { docs, at: 0 }
    }
}

impl DocSet for DocList {
    fn advance(&mut self) -> DocId {
        self.at += 1;
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() < target {
            self.at += self.docs[self.at..].partition_point(|&doc| doc < target);
        }
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at.min(self.docs.len())) as u32
    }
}

impl Scorer for DocList {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_documents_seeks_forward_and_ends_terminated() {
        let mut docs = DocList::new(vec![2, 5, 9]);
        assert_eq!(docs.doc(), 2);
        assert_eq!(docs.seek(1), 2, "a target behind it does not move it");
        assert_eq!(docs.seek(5), 5);
        assert_eq!(docs.seek(6), 9);
        assert_eq!(docs.size_hint(), 1);
        assert_eq!(docs.advance(), TERMINATED);
        assert_eq!(docs.seek(100), TERMINATED);
        assert_eq!(docs.size_hint(), 0);
    }
}
