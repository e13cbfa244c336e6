//! Local chat models (GGUF, on candle): what a chat model needs besides its weights.
//!
//! - [`message`]: a conversation: roles, messages, tool calls and the tools offered.
//! - [`tokenizer`]: the tokenizer, built from the GGUF's own vocabulary and merges.
//! - [`template`]: the GGUF's chat template, which turns a conversation into the prompt.

pub mod message;
pub mod template;
pub mod tokenizer;
