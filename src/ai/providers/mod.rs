//! Model providers: the local sentence embedder (BERT, the jobportal-bert crate) and, in [`chat`], the pieces of
//! a local GGUF chat model.

pub mod chat;
pub mod embedder;
pub mod foreground;
