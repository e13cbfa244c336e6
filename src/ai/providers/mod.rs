//! Model providers. Today: the local sentence embedder (candle BERT). The chat models (local
//! GGUF, OpenAI-compatible, Anthropic) arrive with the assistant.

pub mod embedder;
