//! The index's schema: its directory and version, the fields, and the document of a job.

use std::path::{Path, PathBuf};

use tantivy::TantivyDocument;
use tantivy::schema::document::{
    DeserializeError, DocumentDeserialize, DocumentDeserializer, ValueDeserialize,
    ValueDeserializer,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analysis::ANALYZER;

/// Bump when the schema, the analysis or the document store's settings change: a new version is
/// a new directory, built from the database at start.
pub(super) const SCHEMA_VERSION: u32 = 7;

/// Where the index of a data directory lives.
pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search").join(format!("jobs-v{SCHEMA_VERSION}"))
}

/// Deletes every search index of a data directory, of any version (blocking). A database that
/// was replaced under it is not what the index describes; with no index, the next start
/// builds one from the database.
pub fn remove_indexes(data_dir: &Path) -> std::io::Result<()> {
    let search = data_dir.join("search");
    match std::fs::remove_dir_all(&search) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
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
    /// The job as the index stores it, encoded by its writer (JSON, so UTF-8): stored, never
    /// searched; decoded back into a job by semantic pages and the portal's own callers.
    pub listing: Vec<u8>,
    /// The job's summary as a search page writes it, by its writer: stored, never searched.
    pub card: String,
}

/// The fields of the schema.
pub(super) struct Fields {
    pub(super) card: Field,
    pub(super) job_id: Field,
    pub(super) title: Field,
    pub(super) skills_text: Field,
    pub(super) description: Field,
    pub(super) company_name: Field,
    pub(super) extra_text: Field,
    pub(super) location_text: Field,
    pub(super) skills: Field,
    pub(super) workplace: Field,
    pub(super) employment_type: Field,
    pub(super) seniority: Field,
    pub(super) category: Field,
    pub(super) country: Field,
    pub(super) company_id: Field,
    pub(super) location_label: Field,
    pub(super) salary_currency: Field,
    pub(super) posted_at: Field,
    pub(super) expires_at: Field,
    pub(super) salary_yearly: Field,
    pub(super) updated_at: Field,
    pub(super) listing: Field,
}

/// The schema, with its fields.
pub(super) fn schema() -> (Schema, Fields) {
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut b = Schema::builder();
    let fields = Fields {
        // The first field: a page reads it alone ([`StoredCard`]).
        card: b.add_text_field("card", STORED),
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
        // Stored as text: the document store reads a string in one copy, bytes one at a time.
        listing: b.add_text_field("listing", STORED),
    };
    (b.build(), fields)
}

impl Fields {
    /// The document of `doc`.
    pub(super) fn document(&self, doc: &IndexDoc) -> TantivyDocument {
        let f = self;
        let mut d = TantivyDocument::default();
        // First of the stored fields: a page reads it and stops.
        d.add_text(f.card, &doc.card);
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
        d.add_text(f.listing, String::from_utf8_lossy(&doc.listing));
        d
    }
}

/// The field of the card (the first: [`schema`]).
const CARD_FIELD: Field = Field::from_field_id(0);

/// A stored document read for its listing: its text is taken as it is read, where a
/// [`TantivyDocument`] copies it again.
pub(super) struct StoredListing(pub(super) Vec<u8>);

impl DocumentDeserialize for StoredListing {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(
        mut deserializer: D,
    ) -> Result<Self, DeserializeError> {
        let mut listing = Vec::new();
        while let Some((field, StoredText(text))) = deserializer.next_field::<StoredText>()? {
            if field != CARD_FIELD {
                listing = text.into_bytes();
            }
        }
        Ok(Self(listing))
    }
}

/// A stored document read for its card, stored first: the listing after it is not read.
pub(super) struct StoredCard(pub(super) String);

impl DocumentDeserialize for StoredCard {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(
        mut deserializer: D,
    ) -> Result<Self, DeserializeError> {
        while let Some((field, StoredText(text))) = deserializer.next_field::<StoredText>()? {
            if field == CARD_FIELD {
                return Ok(Self(text));
            }
        }
        Ok(Self(String::new()))
    }
}

/// The value of a stored field (all are text).
struct StoredText(String);

impl ValueDeserialize for StoredText {
    fn deserialize<'de, D: ValueDeserializer<'de>>(
        deserializer: D,
    ) -> Result<Self, DeserializeError> {
        deserializer.deserialize_string().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_card_is_the_field_a_page_reads_alone() {
        let (schema, fields) = schema();
        assert_eq!(fields.card, CARD_FIELD);
        assert_eq!(schema.get_field_name(CARD_FIELD), "card");
    }
}
