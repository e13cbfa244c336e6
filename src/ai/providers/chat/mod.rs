//! Chat models as the portal uses them. The model itself (GGUF, tokenizer, template,
//! generation) is the `jobportal_llm` crate; here it is served to async code.
//!
//! - [`provider`]: the one contract of every chat model, local or hosted: a request in, a
//!   stream of events out.
//! - [`error`]: why a chat model could not answer, wherever it runs.
//! - [`remote`]: how a hosted chat model is reached.
//! - [`engine`]: the local model on a thread of its own behind a bounded queue, streaming
//!   answers.
//! - [`select`]: which chat model the settings name, started.

pub mod engine;
pub mod error;
pub mod provider;
pub mod remote;
pub mod select;

pub use jobportal_llm::{message, model, template, tokenizer, types};
