//! The full-text index of public jobs (tantivy): ranked text search, filters, facet counts and
//! sorting in one pass, and each job's listing and card (its summary as a search page writes
//! it). SurrealDB stays the source of truth: the index holds only what search needs, is written
//! in the same code path as every job write (a job that stops being public leaves it in that
//! write), and can be rebuilt from the database. A search returns job ids with their versions;
//! pages are read from the cards and listings stored here ([`Answer::cards`],
//! [`JobIndex::stored`]), near-real-time like any search engine: what another process writes
//! reaches the index at its next catch-up.
//!
//! Text is analysed by one chain at index and query time: a tokenizer that splits on anything
//! but letters and digits yet keeps "c++", "c#", ".net" and "node.js" whole, lower-casing,
//! canonical names for those ("cpp", "nodejs"),
//! and the English Porter2 stemmer ("developers" and "developer" meet at "develop").
//!
//! Every call here blocks (disk, CPU): callers run them on the blocking pool.

mod analysis;
mod answers;
mod cards;
mod dismax;
mod doc_list;
mod expiry;
mod facets;
mod filter_bits;
mod id_set;
mod ids;
mod index;
mod query;
mod schema;

pub use answers::{ANSWER_MAX_AGE_SECS, Answer};
pub use cards::PageCards;
pub use index::{IndexError, JobIndex, Stored, Watermark};
pub use query::{Facets, IndexHits, IndexQuery, SortBy};
pub use schema::{IndexDoc, index_dir, remove_indexes};
