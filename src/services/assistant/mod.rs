//! The assistant: a candidate asks in plain words and gets an answer grounded in the portal's
//! own data, each claim citing a job, company, application or help page the server numbered.
//!
//! [`answer`] is one turn: it reads the conversation so far and the new message, runs the
//! tools it routes to, retrieves what the caller may see, and streams what it does as
//! [`AssistantEvent`]s while the model phrases the answer. Storing the turn is the caller's.

pub mod conversations;
pub mod reply;
pub mod retrieval;
pub mod sentences;
pub mod tools;

use serde_json::Value;
use tokio::sync::mpsc;

pub use crate::models::conversation::{
    Citation, CitationKind, ConversationMessage, MessageRole, PendingAction, ToolStep,
};

use super::{Context, Principal, ServiceError};

/// What the assistant does while it answers, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum AssistantEvent {
    /// A tool is about to run with these arguments.
    Tool(ToolStep),
    /// A source the answer cites (sent once per number, when the number first appears).
    Citation(Citation),
    /// The next piece of the answer's text.
    Token(String),
    /// The answer waits for the chat model: this many answers (of anyone) come first.
    Queued(usize),
}

/// The answer of one turn, as it is to be stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    pub content: String,
    /// Only numbers the server handed out, each resolved to what it points at.
    pub citations: Vec<Citation>,
    pub tool_calls: Vec<ToolStep>,
    /// A write waiting for the user's yes (asked in `content`).
    pub pending_action: Option<PendingAction>,
}

/// The tools' view of a JSON object of arguments.
pub type Arguments = serde_json::Map<String, Value>;

/// Answers `content`, the caller's new message, after `history` (the conversation's earlier
/// messages, oldest first). Events go to `events` as they happen; a closed receiver stops the
/// answer (the client went away).
pub async fn answer(
    ctx: &Context,
    principal: &Principal,
    history: &[ConversationMessage],
    content: &str,
    events: &mpsc::UnboundedSender<AssistantEvent>,
) -> Result<Reply, ServiceError> {
    reply::answer(ctx, principal, history, content, events).await
}

/// Computes what the first message would otherwise wait for (the router's example vectors),
/// once the embedding model is loaded. Without the model there is nothing to do.
pub async fn prepare(ctx: &Context) -> Result<(), ServiceError> {
    if let Some(embedder) = ctx.ai.embedder() {
        tools::ROUTER.prepare(&embedder).await?;
    }
    Ok(())
}
