//! Why a chat model could not answer: the model's own errors, and those of serving it, locally
//! or through a hosted provider.

use std::time::Duration;

use jobportal_llm::types::ModelError;

/// Why a chat model could not answer. No HTTP in it: the API decides the status. A hosted
/// provider's own status, where it gave one, is data ([`ChatError::provider_status`]), and so
/// is its hint of when to try again ([`ChatError::retry_after`]).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Every slot of the model's queue is taken: try again in a moment.
    #[error("the chat model is busy with other answers; try again shortly")]
    Busy,
    /// The model is not there or did not load, or a hosted model's configuration cannot work
    /// (a base URL that is not http(s), a key no HTTP header can carry).
    #[error("the chat model is unavailable: {0}")]
    Unavailable(String),
    /// The request cannot be put to the model as it is (a tool result without the id of its
    /// call, no `max_tokens`, an empty choice): the caller's to fix, nothing was sent.
    #[error("the chat request is invalid: {0}")]
    InvalidRequest(String),
    /// The hosted provider did not accept the API key (HTTP 401 or 403).
    #[error("{provider} refused the API key (HTTP {status}): {message}")]
    Unauthorized { provider: &'static str, status: u16, message: String },
    /// The hosted provider asks to slow down (HTTP 429), and when to try again if it said.
    #[error("{provider} is rate limiting requests{}: {message}", retry_hint(*.retry_after))]
    RateLimited { provider: &'static str, retry_after: Option<Duration>, message: String },
    /// The hosted provider failed or is overloaded (HTTP 5xx, Anthropic's 529), with the
    /// message of its error body.
    #[error("{provider} failed (HTTP {status}): {message}")]
    ProviderFailed { provider: &'static str, status: u16, message: String },
    /// The hosted provider refused the request itself (HTTP 400, 404 for an unknown model,
    /// 413, 422, …), with the message of its error body.
    #[error("{provider} refused the request (HTTP {status}): {message}")]
    Rejected { provider: &'static str, status: u16, message: String },
    /// The hosted provider could not be reached (DNS, connection, TLS).
    #[error("cannot reach {provider}: {message}")]
    Unreachable { provider: &'static str, message: String },
    /// The hosted provider did not start its answer, or did not send its next piece, within
    /// the configured time.
    #[error("{provider} sent nothing for {}s", .after.as_secs_f64())]
    TimedOut { provider: &'static str, after: Duration },
    /// The hosted provider's answer broke off: the connection closed before its end, it sent
    /// an error event, or what it sent does not parse.
    #[error("{provider}'s answer broke off: {message}")]
    Interrupted { provider: &'static str, message: String },
}

impl ChatError {
    /// How long to wait before asking again, when the provider said (HTTP 429's
    /// `retry-after`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status the hosted provider answered with, for the errors it gave one.
    pub fn provider_status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. }
            | Self::ProviderFailed { status, .. }
            | Self::Rejected { status, .. } => Some(*status),
            Self::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}

fn retry_hint(after: Option<Duration>) -> String {
    after.map(|after| format!(" (retry after {}s)", after.as_secs_f64())).unwrap_or_default()
}
