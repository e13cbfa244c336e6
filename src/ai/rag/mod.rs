//! Retrieval: the vector collections that semantic search and recommendations read.

pub mod vectorstore;
