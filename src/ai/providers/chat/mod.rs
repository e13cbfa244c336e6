//! Local chat models: a GGUF file loaded with candle, its tokenizer and chat template, and
//! generation on the CPU.
//!
//! - [`message`]: a conversation: roles, messages, tool calls and the tools offered.
//! - [`types`]: what every chat model takes and gives: parameters, answers, errors.
//! - [`tokenizer`]: the tokenizer, built from the GGUF's own vocabulary and merges.
//! - [`template`]: the GGUF's chat template, which turns a conversation into the prompt.
//! - [`local`]: the model loaded in this process, and generation from it.
//! - [`engine`]: that model on a thread of its own behind a bounded queue, streaming answers.

pub mod engine;
pub mod local;
pub mod message;
pub mod template;
pub mod tokenizer;
pub mod types;
