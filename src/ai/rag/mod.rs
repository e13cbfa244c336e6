//! Retrieval: the vector collections that semantic search and recommendations read, and the
//! parts of retrieving documents for the assistant.
//!
//! - `loader`: records as documents, and stripping invisible characters from retrieved text.
//! - `splitter`: token-aware splitting with overlap.
//! - `retriever`: rank fusion, scoring, the best chunk, the best distinct documents.
//! - `vectorstore`: the job vector collection, over `int8` (vectors as 8-bit codes) and
//!   `hnsw` (the graph of links between them); `vector_file` keeps it on disk between starts.

pub mod hnsw;
pub mod int8;
pub mod loader;
pub mod retriever;
pub mod splitter;
pub mod vector_file;
pub mod vectorstore;
