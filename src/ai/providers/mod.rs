//! Model providers: the local sentence embedder (candle BERT) and, in [`chat`], the pieces of
//! a local GGUF chat model.

pub mod chat;
pub mod embedder;
pub mod foreground;
