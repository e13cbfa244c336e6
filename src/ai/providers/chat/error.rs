//! Why a chat model could not answer: the model's own errors, and those of serving it.

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
}
