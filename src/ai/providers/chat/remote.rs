//! What a hosted chat model needs to be reached: where, which model, the key, how long to wait.

use std::time::Duration;

use crate::core::config::Secret;

/// How to reach a hosted chat model (OpenAI-compatible or Anthropic).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteConfig {
    /// The API's base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
    pub base_url: String,
    /// The provider's model name, e.g. `gpt-4o-mini`.
    pub model: String,
    /// Sent as the provider wants it; never logged, never in `Debug`.
    pub api_key: Option<Secret>,
    /// The longest wait for the answer to start and between two of its pieces.
    pub timeout: Duration,
}
