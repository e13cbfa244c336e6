//! Why a chat model could not answer: the model's own errors, and those of serving it.

use std::time::Duration;

use jobportal_llm::types::ModelError;

/// Why a chat model could not answer. No HTTP in it: the API decides the status.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Every slot of the model's queue is taken: try again in a moment.
    #[error("the chat model is busy with other answers; try again shortly")]
    Busy,
    /// The model is not there or did not load.
    #[error("the chat model is unavailable: {0}")]
    Unavailable(String),
    /// A hosted provider's rate limit or quota; `retry_after` when it said how long to wait.
    #[error("the chat provider is rate limiting this portal")]
    RateLimited { retry_after: Option<Duration> },
    /// A hosted provider refused or failed the request: its HTTP status (none when it could not
    /// be reached), its own message (for the log: it may name the account) and how long to
    /// wait when it said.
    #[error("the chat provider failed{}: {message}", status.map(|s| format!(" with HTTP {s}")).unwrap_or_default())]
    Provider { status: Option<u16>, message: String, retry_after: Option<Duration> },
}
