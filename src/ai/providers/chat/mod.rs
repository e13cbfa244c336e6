//! Chat models as the portal uses them. The model itself (GGUF, tokenizer, template,
//! generation) is the `jobportal_llm` crate; here it is served to async code, and hosted
//! models are reached over HTTP.
//!
//! - [`provider`]: the one contract of every chat model, local or hosted: a request in, a
//!   stream of events out.
//! - [`error`]: why a chat model could not answer, wherever it runs.
//! - [`remote`]: how a hosted chat model is reached.
//! - [`engine`]: the local model on a thread of its own behind a bounded queue, streaming
//!   answers.
//! - [`select`]: which chat model the settings name, started.
//! - [`openai`]: a hosted model behind an OpenAI-compatible Chat Completions API (OpenAI,
//!   Ollama, llama.cpp's server, vLLM).
//! - [`anthropic`]: a hosted model behind Anthropic's Messages API.
//! - [`hosted`]: what the hosted providers share: the HTTP client, refusals read as errors,
//!   the streamed answer read under the timeout.
//! - [`sse`]: server-sent events read from a byte stream.
//! - [`structured`]: JSON answers from APIs whose schemas need an object root.
//! - `test_server` (tests only): a hosted API's stand-in, a real HTTP server on loopback
//!   answering with scripted bytes.

pub mod anthropic;
pub mod engine;
pub mod error;
pub mod hosted;
pub mod openai;
pub mod provider;
pub mod remote;
pub mod select;
pub mod sse;
pub mod structured;
#[cfg(test)]
mod test_server;

pub use anthropic::{ANTHROPIC_BASE_URL, AnthropicChat};
pub use jobportal_llm::{message, model, template, tokenizer, types};
pub use openai::{OPENAI_BASE_URL, OpenAiChat};
