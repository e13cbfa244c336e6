//! A candidate's conversations with the assistant: each message as stored, with the tool steps
//! that produced it, the sources it cites and the write it waits to be confirmed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

string_enum!(
    /// Who wrote a message.
    MessageRole { User => "user", Assistant => "assistant" }
);

string_enum!(
    /// What a citation points at.
    CitationKind {
        Job => "job",
        Company => "company",
        Application => "application",
        Resume => "resume",
        SavedSearch => "saved_search",
        Help => "help",
    }
);

/// A conversation, titled after its first question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A source an answer cites as `[n]`: the number the server gave it, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Citation {
    pub n: u32,
    #[schema(value_type = String, example = "job")]
    pub kind: CitationKind,
    pub id: String,
    pub title: String,
}

/// A tool the assistant ran while answering, with the arguments it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ToolStep {
    pub name: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
}

/// A write the assistant proposed and runs only once the user says yes in the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingAction {
    /// The tool that writes (`save_job`, `draft_cover_letter` saving a draft).
    pub tool: String,
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// What it will do, in words, as the question put to the user.
    pub summary: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationMessage {
    pub id: String,
    pub conversation_id: String,
    pub role: MessageRole,
    pub content: String,
    pub citations: Vec<Citation>,
    pub tool_calls: Vec<ToolStep>,
    /// Set on an assistant message that asked the user to confirm a write.
    pub pending_action: Option<PendingAction>,
    pub created_at: DateTime<Utc>,
}
