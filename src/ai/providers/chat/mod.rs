//! Local chat models (GGUF, on candle): what a chat model needs besides its weights.
//!
//! - [`tokenizer`]: the tokenizer, built from the GGUF's own vocabulary and merges.

pub mod tokenizer;
