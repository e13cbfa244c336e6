//! A GGUF chat model run on the CPU: the tokenizer and chat template the file carries, the
//! model itself (our forward pass over its quantized weights), and token-by-token generation
//! with its parameters, free or constrained to a format (a JSON schema, fixed choices, tool
//! calls).
//!
//! It knows nothing of the portal: the portal's engine puts a [`model::LocalModel`] on a
//! thread of its own and streams its answers. Everything here is blocking and numeric, and
//! is built optimised even in the dev profile.
//!
//! - [`message`]: a conversation: roles, messages, tool calls and the tools offered.
//! - [`types`]: what generation takes and gives: parameters, answers, errors.
//! - [`tokenizer`]: the tokenizer, built from the GGUF's own vocabulary and merges.
//! - [`template`]: the GGUF's chat template, which turns a conversation into the prompt.
//! - [`model`]: the model loaded in this process, and generation from it.
//! - [`sampler`]: picking each next token from the model's scores.
//! - [`constraint`]: answers held to a format token by token (llguidance).
//! - [`tool_calls`]: tool calls in the `<tool_call>` convention: described, constrained, read.
//! - [`transformer`]: our forward pass of Llama-shaped models over quantized weights.
//! - [`matmul`]: quantized weight matrices times activations, across threads.
//! - [`kernels`]: the SIMD dot products of quantized blocks.
//! - [`cache`]: the KV cache and the tokens it holds, for prefix reuse.

pub mod cache;
pub mod constraint;
pub mod kernels;
pub mod matmul;
pub mod message;
pub mod model;
pub mod sampler;
pub mod template;
pub mod tokenizer;
pub mod tool_calls;
pub mod transformer;
pub mod types;

#[cfg(test)]
pub(crate) mod testing;
