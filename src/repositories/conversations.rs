//! Queries on `conversation` and `conversation_message`: the assistant's conversations.

use chrono::{DateTime, Utc};
use serde_json::Value;
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, unexpected};
use crate::db::Executor;
use crate::models::conversation::{
    Citation, Conversation, ConversationMessage, MessageRole, PendingAction, ToolStep,
};

#[derive(Debug, SurrealValue)]
struct ConversationRow {
    id: RecordId,
    user: RecordId,
    title: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ConversationRow> for Conversation {
    fn from(r: ConversationRow) -> Self {
        Conversation {
            id: key_string(&r.id),
            user_id: key_string(&r.user),
            title: r.title,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const FIELDS: &str = "id, user, title, created_at, updated_at";

#[derive(Debug, SurrealValue)]
struct MessageRow {
    id: RecordId,
    conversation: RecordId,
    role: String,
    content: String,
    citations: Option<Value>,
    tool_calls: Option<Value>,
    pending_action: Option<Value>,
    created_at: DateTime<Utc>,
}

fn from_json<T: serde::de::DeserializeOwned>(what: &str, value: Value) -> Result<T, RepoError> {
    serde_json::from_value(value).map_err(|e| unexpected(format!("stored {what}: {e}")))
}

impl TryFrom<MessageRow> for ConversationMessage {
    type Error = RepoError;

    fn try_from(r: MessageRow) -> Result<Self, RepoError> {
        Ok(ConversationMessage {
            id: key_string(&r.id),
            conversation_id: key_string(&r.conversation),
            role: MessageRole::parse(&r.role)
                .ok_or_else(|| unexpected(format!("unknown message role {:?}", r.role)))?,
            content: r.content,
            citations: match r.citations {
                Some(v) => from_json("citations", v)?,
                None => Vec::new(),
            },
            tool_calls: match r.tool_calls {
                Some(v) => from_json("tool calls", v)?,
                None => Vec::new(),
            },
            pending_action: match r.pending_action {
                Some(Value::Null) | None => None,
                Some(v) => Some(from_json::<PendingAction>("pending action", v)?),
            },
            created_at: r.created_at,
        })
    }
}

const MESSAGE_FIELDS: &str =
    "id, conversation, role, content, citations, tool_calls, pending_action, created_at";

/// Creates a conversation of `user_id`.
pub async fn insert(
    ex: &impl Executor,
    id: &str,
    user_id: &str,
    title: &str,
) -> Result<Conversation, RepoError> {
    let mut response = ex
        .query(format!(
            "CREATE type::record('conversation', $id) SET user = type::record('user', $user), \
             title = $title RETURN {FIELDS}"
        ))
        .bind(("id", id.to_owned()))
        .bind(("user", user_id.to_owned()))
        .bind(("title", title.to_owned()))
        .await?;
    let rows: Vec<ConversationRow> = response.take(0)?;
    rows.into_iter()
        .next()
        .map(Conversation::from)
        .ok_or_else(|| unexpected("CREATE conversation returned nothing"))
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<Conversation>, RepoError> {
    let mut response = ex
        .query(format!("SELECT {FIELDS} FROM type::record('conversation', $id)"))
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<ConversationRow> = response.take(0)?;
    Ok(rows.into_iter().next().map(Conversation::from))
}

/// One page of a user's conversations, the most recently active first, and how many they have.
pub async fn list_by_user(
    ex: &impl Executor,
    user_id: &str,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Conversation>, u64), RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM conversation WHERE user = type::record('user', $user) \
             ORDER BY updated_at DESC, id DESC LIMIT $limit START $offset; \
             SELECT count() AS count FROM conversation WHERE user = type::record('user', $user) GROUP ALL;"
        ))
        .bind(("user", user_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let rows: Vec<ConversationRow> = response.take(0)?;
    let total: Option<Count> = response.take(1)?;
    Ok((rows.into_iter().map(Conversation::from).collect(), total.map_or(0, |c| c.count)))
}

/// Renames a conversation.
pub async fn set_title(ex: &impl Executor, id: &str, title: &str) -> Result<(), RepoError> {
    ex.query("UPDATE type::record('conversation', $id) SET title = $title RETURN NONE")
        .bind(("id", id.to_owned()))
        .bind(("title", title.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// What a new message holds; the id and the time are given when it is stored.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub role: MessageRole,
    pub content: &'a str,
    pub citations: &'a [Citation],
    pub tool_calls: &'a [ToolStep],
    pub pending_action: Option<&'a PendingAction>,
}

/// Stores a message at the end of a conversation and marks the conversation active now.
pub async fn insert_message(
    ex: &impl Executor,
    id: &str,
    conversation_id: &str,
    message: &NewMessage<'_>,
) -> Result<ConversationMessage, RepoError> {
    let json = |v: serde_json::Result<Value>| v.map_err(|e| unexpected(e.to_string()));
    let mut response = ex
        .query(format!(
            "CREATE type::record('conversation_message', $id) SET \
             conversation = type::record('conversation', $conversation), role = $role, \
             content = $content, citations = $citations, tool_calls = $tool_calls, \
             pending_action = $pending_action RETURN {MESSAGE_FIELDS}; \
             UPDATE type::record('conversation', $conversation) SET updated_at = time::now() \
             RETURN NONE;"
        ))
        .bind(("id", id.to_owned()))
        .bind(("conversation", conversation_id.to_owned()))
        .bind(("role", message.role.as_str()))
        .bind(("content", message.content.to_owned()))
        .bind(("citations", json(serde_json::to_value(message.citations))?))
        .bind(("tool_calls", json(serde_json::to_value(message.tool_calls))?))
        .bind((
            "pending_action",
            message
                .pending_action
                .map(serde_json::to_value)
                .transpose()
                .map_err(|e| unexpected(e.to_string()))?,
        ))
        .await?;
    let rows: Vec<MessageRow> = response.take(0)?;
    response.check()?;
    rows.into_iter()
        .next()
        .map(ConversationMessage::try_from)
        .transpose()?
        .ok_or_else(|| unexpected("CREATE conversation_message returned nothing"))
}

/// A conversation's messages, oldest first.
pub async fn messages(
    ex: &impl Executor,
    conversation_id: &str,
) -> Result<Vec<ConversationMessage>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {MESSAGE_FIELDS} FROM conversation_message \
             WHERE conversation = type::record('conversation', $conversation) \
             ORDER BY created_at ASC, id ASC"
        ))
        .bind(("conversation", conversation_id.to_owned()))
        .await?;
    let rows: Vec<MessageRow> = response.take(0)?;
    rows.into_iter().map(ConversationMessage::try_from).collect()
}

/// Deletes a conversation and its messages.
pub async fn delete(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query(
        "DELETE conversation_message WHERE conversation = type::record('conversation', $id) RETURN NONE; \
         DELETE type::record('conversation', $id) RETURN NONE;",
    )
    .bind(("id", id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Deletes a user's conversations and their messages (account deletion).
pub async fn delete_for_user(ex: &impl Executor, user_id: &str) -> Result<(), RepoError> {
    ex.query(
        "LET $ids = (SELECT VALUE id FROM conversation WHERE user = type::record('user', $user)); \
         DELETE conversation_message WHERE conversation IN $ids RETURN NONE; \
         DELETE conversation WHERE id IN $ids RETURN NONE;",
    )
    .bind(("user", user_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Deletes the conversations with no message since `quiet_since`, with their messages; how
/// many conversations went.
pub async fn prune(ex: &impl Executor, quiet_since: DateTime<Utc>) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "LET $old = (SELECT VALUE id FROM conversation WHERE updated_at < $before); \
             DELETE conversation_message WHERE conversation IN $old RETURN NONE; \
             DELETE conversation WHERE id IN $old RETURN NONE; \
             RETURN array::len($old);",
        )
        .bind(("before", quiet_since))
        .await?;
    let removed: Option<i64> = response.take(3)?;
    response.check()?;
    Ok(removed.unwrap_or(0).max(0) as u64)
}
