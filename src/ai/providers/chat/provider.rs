//! One contract for every chat model, local or hosted: a request (messages, tools,
//! parameters, the answer's shape) in, a stream of events out.
//!
//! [`ChatModel::chat`] returns at once with the answer's [`ChatStream`] (or refuses at once:
//! [`ChatError::Busy`]); the answer is produced elsewhere (the local model's thread, a task
//! reading the provider's HTTP stream). Dropping the stream stops the generation within one
//! token (locally) or closes the connection (hosted).

use tokio::sync::mpsc;

use super::error::ChatError;
use super::message::{Message, Tool, ToolCall};
use super::types::{Generation, GenerationParams, OutputFormat};

/// What a chat stream says, in order: pieces of text and tool calls, then how it ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatEvent {
    /// The next piece of the answer's text.
    Text(String),
    /// A complete call of one of the offered tools (its arguments a JSON object).
    ToolCall(ToolCall),
    /// The answer waits for the model: this many answers come before it (the one being
    /// written included). Sent when it is queued behind others and each time it moves up.
    Queued(usize),
    /// The answer is complete: why it ended, and the token counts and timings.
    Finished(Generation),
}

/// The events of one answer; an error ends it. Dropping it stops the generation.
pub type ChatStream = mpsc::UnboundedReceiver<Result<ChatEvent, ChatError>>;

/// One question to a chat model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// The tools the model may call (none: it only writes text).
    pub tools: Vec<Tool>,
    pub params: GenerationParams,
    pub format: OutputFormat,
}

impl ChatRequest {
    pub fn new(messages: Vec<Message>) -> Self {
        Self { messages, ..Self::default() }
    }
}

/// Where a chat model stands, for `/readyz` and for callers deciding whether to ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatModelState {
    Loading,
    /// Loaded (local) or configured (hosted): it answers.
    Ready,
    /// Its file is not there; the message names it and the command that fetches it.
    Missing(String),
    Failed(String),
}

/// A chat model, wherever it runs.
pub trait ChatModel: Send + Sync + std::fmt::Debug {
    /// Which model this is, for logs and `/readyz`: `local SmolLM2-135M-Instruct.Q4_1.gguf`,
    /// `openai gpt-4o-mini at https://api.openai.com/v1`. Never a secret.
    fn describe(&self) -> String;

    fn state(&self) -> ChatModelState;

    /// Whether it chooses tools reliably by itself (hosted models): then the assistant offers
    /// it the tools (`ChatRequest::tools`) instead of routing each message by embeddings.
    fn native_tools(&self) -> bool {
        false
    }

    /// Starts an answer and returns its events as they come. Refuses at once when the model
    /// cannot take it now ([`ChatError::Busy`]) or at all ([`ChatError::Unavailable`]); any
    /// later error arrives on the stream and ends it: a hosted model's connection errors,
    /// refusals and timeouts too, as the stream's first item (it does not wait for the
    /// network). Call it inside the tokio runtime.
    fn chat(&self, request: ChatRequest) -> Result<ChatStream, ChatError>;
}
