//! Bodies of `/api/v1/assistant`: conversations, their messages, and the events of a streamed
//! answer (`text/event-stream`: `tool`, `citation`, `token`, then `done` or `error`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::conversation::{
    Citation, Conversation, ConversationMessage, MessageRole, PendingAction, ToolStep,
};

/// A conversation, without its messages.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationBody {
    pub id: String,
    /// The first message's first line, or "New conversation" before it.
    #[schema(example = "Remote Rust jobs in Berlin?")]
    pub title: String,
    pub created_at: DateTime<Utc>,
    /// When its last message was written.
    pub updated_at: DateTime<Utc>,
}

impl From<&Conversation> for ConversationBody {
    fn from(c: &Conversation) -> Self {
        Self {
            id: c.id.clone(),
            title: c.title.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ConversationListBody {
    /// The most recently active first.
    pub items: Vec<ConversationBody>,
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// One message: the user's question, or the assistant's answer with the sources it cites, the
/// tools that ran for it and, when it asks for a yes, the write it proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MessageBody {
    pub id: String,
    /// `user` or `assistant`.
    #[schema(value_type = String, example = "assistant")]
    pub role: MessageRole,
    pub content: String,
    /// The sources `[n]` in `content` points at.
    pub citations: Vec<Citation>,
    /// The tools that ran, in order, with their arguments.
    pub tool_calls: Vec<ToolStep>,
    /// A write that runs only once the user confirms it in the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_action: Option<PendingAction>,
    pub created_at: DateTime<Utc>,
}

impl From<&ConversationMessage> for MessageBody {
    fn from(m: &ConversationMessage) -> Self {
        Self {
            id: m.id.clone(),
            role: m.role,
            content: m.content.clone(),
            citations: m.citations.clone(),
            tool_calls: m.tool_calls.clone(),
            pending_action: m.pending_action.clone(),
            created_at: m.created_at,
        }
    }
}

/// A conversation with its messages, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationDetailBody {
    #[serde(flatten)]
    pub conversation: ConversationBody,
    pub messages: Vec<MessageBody>,
}

impl ConversationDetailBody {
    pub fn new(conversation: &Conversation, messages: &[ConversationMessage]) -> Self {
        Self {
            conversation: conversation.into(),
            messages: messages.iter().map(MessageBody::from).collect(),
        }
    }
}

/// A message to the assistant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessageRequest {
    /// Not empty; at most the configured number of characters (4000 by default).
    #[schema(example = "Which remote Rust jobs are there?")]
    pub content: String,
}

/// The assistant's answer, as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageReplyBody {
    pub message: MessageBody,
}

/// The data of a `queued` event: the answer waits for the chat model behind this many answers
/// (sent when it starts waiting and each time it moves up).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueuedEventBody {
    pub ahead: usize,
}

/// The data of a `token` event: the next piece of the answer's text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenEventBody {
    pub text: String,
}
