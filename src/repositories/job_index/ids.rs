//! The job ids of one segment, by their ordinal in its `job_id` column: a search names its hits
//! by array lookups, where the column's dictionary decodes a block of ids up to each one.

use tantivy::columnar::StrColumn;

use super::index::IndexError;

/// Every id of a segment's `job_id` column, in ordinal order, in one string.
pub(super) struct SegmentIds {
    text: String,
    /// Where each id ends in `text`.
    ends: Vec<u32>,
}

impl SegmentIds {
    /// Reads the column's dictionary once, in order (a segment of 100,000 jobs: about 2 MiB).
    pub(super) fn read(column: &StrColumn) -> Result<Self, IndexError> {
        let dictionary = column.dictionary();
        let terms = dictionary.num_terms();
        let mut ids = Self { text: String::new(), ends: Vec::with_capacity(terms) };
        let mut stream = dictionary.stream().map_err(|e| IndexError::Other(e.to_string()))?;
        while stream.advance() {
            let id = std::str::from_utf8(stream.key())
                .map_err(|e| IndexError::Other(format!("a job id that is not UTF-8: {e}")))?;
            ids.text.push_str(id);
            let end = u32::try_from(ids.text.len())
                .map_err(|_| IndexError::Other("a segment's job ids exceed 4 GiB".into()))?;
            ids.ends.push(end);
        }
        ids.text.shrink_to_fit();
        Ok(ids)
    }

    /// The id of ordinal `ord`.
    pub(super) fn get(&self, ord: u64) -> Option<&str> {
        let i = usize::try_from(ord).ok()?;
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    /// The heap these ids hold.
    pub(super) fn heap_bytes(&self) -> u64 {
        (self.text.capacity() + self.ends.capacity() * size_of::<u32>()) as u64
    }
}

#[cfg(test)]
mod tests {
    use tantivy::schema::{FAST, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument};

    use super::*;

    /// Every ordinal names the id the column's dictionary gives it, whatever its length or
    /// alphabet, and an ordinal past the end names nothing.
    #[test]
    fn each_ordinal_names_the_id_the_dictionary_gives_it() {
        let mut schema = Schema::builder();
        let job_id = schema.add_text_field("job_id", STRING | FAST);
        let index = Index::create_in_ram(schema.build());
        let mut writer: IndexWriter = index.writer(15_000_000).unwrap();
        let mut ids: Vec<String> =
            (0..600).map(|i| format!("job{i:04}x{}", "z".repeat(i % 7))).collect();
        ids.extend(["", "ä", "zürich-42", "⟨u⟩"].map(String::from));
        for id in &ids {
            let mut doc = TantivyDocument::default();
            doc.add_text(job_id, id);
            writer.add_document(doc).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let column = searcher.segment_reader(0).fast_fields().str("job_id").unwrap().unwrap();
        let read = SegmentIds::read(&column).unwrap();
        let terms = column.num_terms() as u64;
        assert!(terms > 500, "{terms} terms");
        for ord in 0..terms {
            let mut expected = String::new();
            column.ord_to_str(ord, &mut expected).unwrap();
            assert_eq!(read.get(ord), Some(expected.as_str()), "ordinal {ord}");
        }
        assert_eq!(read.get(terms), None);
        assert!(read.heap_bytes() >= ids.iter().map(String::len).sum::<usize>() as u64);
    }
}
