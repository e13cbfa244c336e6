//! A candidate's conversations with the assistant: creating, listing, reading and deleting them,
//! and one turn of one ([`send_message`]): the question stored, answered by [`super::answer`],
//! the answer stored.
//!
//! Only the owner sees a conversation; anyone else is told it does not exist
//! ([`policy::own_conversation`]).

use tokio::sync::mpsc;

use super::{AssistantEvent, ConversationMessage, MessageRole};
use crate::models::conversation::Conversation;
use crate::repositories::{self, conversations::NewMessage};
use crate::services::{Context, Principal, ServiceError, policy};

/// The title of a conversation before its first message names it.
pub const UNTITLED: &str = "New conversation";

/// The longest title made from a first message, in characters (an ellipsis marks the cut).
pub const TITLE_CHARS: usize = 80;

/// The earlier messages an answer reads, at most: the most recent ones. The model's context
/// is short, and a long conversation's start rarely matters to its latest question.
pub const HISTORY_MESSAGES: usize = 10;

/// Starts an empty conversation of the caller's, titled [`UNTITLED`] until its first message.
pub async fn create(ctx: &Context, principal: &Principal) -> Result<Conversation, ServiceError> {
    policy::use_assistant(principal)?;
    let id = repositories::new_key();
    Ok(repositories::conversations::insert(&ctx.db, &id, &principal.user_id, UNTITLED).await?)
}

/// One page of the caller's conversations, the most recently active first, and their total.
pub async fn list(
    ctx: &Context,
    principal: &Principal,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Conversation>, u64), ServiceError> {
    policy::use_assistant(principal)?;
    Ok(repositories::conversations::list_by_user(&ctx.db, &principal.user_id, limit, offset)
        .await?)
}

/// A conversation of the caller's.
async fn own(ctx: &Context, principal: &Principal, id: &str) -> Result<Conversation, ServiceError> {
    policy::use_assistant(principal)?;
    let conversation = repositories::conversations::find(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound("conversation"))?;
    policy::own_conversation(principal, &conversation.user_id)?;
    Ok(conversation)
}

/// A conversation of the caller's with its messages, oldest first.
pub async fn get(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(Conversation, Vec<ConversationMessage>), ServiceError> {
    let conversation = own(ctx, principal, id).await?;
    let messages = repositories::conversations::messages(&ctx.db, &conversation.id).await?;
    Ok((conversation, messages))
}

/// Deletes a conversation of the caller's with its messages.
pub async fn delete(ctx: &Context, principal: &Principal, id: &str) -> Result<(), ServiceError> {
    let conversation = own(ctx, principal, id).await?;
    repositories::conversations::delete(&ctx.db, &conversation.id).await?;
    Ok(())
}

/// The message as it is stored: trimmed, not empty, at most `max_chars` characters.
pub fn check_content(content: &str, max_chars: usize) -> Result<&str, ServiceError> {
    let content = content.trim();
    if content.is_empty() {
        return Err(ServiceError::validation("content must not be empty"));
    }
    if content.chars().count() > max_chars {
        return Err(ServiceError::MessageTooLong { max_chars });
    }
    if content.contains('\0') {
        return Err(ServiceError::validation("content must not contain NUL characters"));
    }
    Ok(content)
}

/// A title from a conversation's first message: its first line, whitespace collapsed, cut at
/// a word boundary to at most [`TITLE_CHARS`] characters with an ellipsis.
pub fn title_from(content: &str) -> String {
    let line = content.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    let whole = words.join(" ");
    if whole.chars().count() <= TITLE_CHARS {
        return if whole.is_empty() { UNTITLED.to_owned() } else { whole };
    }
    let mut title = String::new();
    for word in &words {
        let needed = title.chars().count() + usize::from(!title.is_empty()) + word.chars().count();
        if needed > TITLE_CHARS - 1 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    if title.is_empty() {
        // One word longer than a title: cut inside it.
        title = whole.chars().take(TITLE_CHARS - 1).collect();
    }
    title.push('…');
    title
}

/// What an answer reads of the conversation so far: the latest [`HISTORY_MESSAGES`] messages,
/// without the questions that got no answer (an answer that failed leaves its question stored),
/// so users and the assistant take turns.
pub fn answerable_history(messages: &[ConversationMessage]) -> Vec<ConversationMessage> {
    let mut turns: Vec<ConversationMessage> = Vec::with_capacity(messages.len());
    for message in messages {
        if let Some(last) = turns.last()
            && last.role == MessageRole::User
            && message.role == MessageRole::User
        {
            turns.pop();
        }
        turns.push(message.clone());
    }
    if turns.last().is_some_and(|m| m.role == MessageRole::User) {
        turns.pop();
    }
    let skip = turns.len().saturating_sub(HISTORY_MESSAGES);
    let mut recent = turns.split_off(skip);
    // Start with a question, as a conversation does.
    if recent.first().is_some_and(|m| m.role == MessageRole::Assistant) {
        recent.remove(0);
    }
    recent
}

/// One turn: checks that the conversation is the caller's and the message fits, stores the
/// message (the first names the conversation), answers it after the conversation so far while
/// `events` hears what the assistant does, then stores the answer and returns it.
///
/// When answering fails, the question stays stored, no answer is stored, and the error is
/// returned. A closed `events` receiver (the client went away) stops the answer; what it had
/// written by then is stored as the answer.
pub async fn send_message(
    ctx: &Context,
    principal: &Principal,
    conversation_id: &str,
    content: &str,
    events: &mpsc::UnboundedSender<AssistantEvent>,
) -> Result<ConversationMessage, ServiceError> {
    let conversation = own(ctx, principal, conversation_id).await?;
    let content = check_content(content, ctx.assistant.max_message_chars)?;
    let earlier = repositories::conversations::messages(&ctx.db, &conversation.id).await?;
    if earlier.is_empty() && conversation.title == UNTITLED {
        repositories::conversations::set_title(&ctx.db, &conversation.id, &title_from(content))
            .await?;
    }
    repositories::conversations::insert_message(
        &ctx.db,
        &repositories::new_key(),
        &conversation.id,
        &NewMessage {
            role: MessageRole::User,
            content,
            citations: &[],
            tool_calls: &[],
            pending_action: None,
        },
    )
    .await?;
    let history = answerable_history(&earlier);
    let reply = super::answer(ctx, principal, &history, content, events).await?;
    let stored = repositories::conversations::insert_message(
        &ctx.db,
        &repositories::new_key(),
        &conversation.id,
        &NewMessage {
            role: MessageRole::Assistant,
            content: &reply.content,
            citations: &reply.citations,
            tool_calls: &reply.tool_calls,
            pending_action: reply.pending_action.as_ref(),
        },
    )
    .await?;
    Ok(stored)
}

/// Every conversation of a user with its messages, the most recently active first (for the
/// export of their data).
pub async fn all_of(
    ctx: &Context,
    user_id: &str,
) -> Result<Vec<(Conversation, Vec<ConversationMessage>)>, ServiceError> {
    let (conversations, _) =
        repositories::conversations::list_by_user(&ctx.db, user_id, u32::MAX, 0).await?;
    let mut out = Vec::with_capacity(conversations.len());
    for conversation in conversations {
        let messages = repositories::conversations::messages(&ctx.db, &conversation.id).await?;
        out.push((conversation, messages));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn message(role: MessageRole, content: &str) -> ConversationMessage {
        ConversationMessage {
            id: content.to_owned(),
            conversation_id: "c".into(),
            role,
            content: content.to_owned(),
            citations: Vec::new(),
            tool_calls: Vec::new(),
            pending_action: None,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn a_title_is_the_first_line_cut_at_a_word() {
        assert_eq!(title_from("  Remote   Rust jobs?\nin Berlin"), "Remote Rust jobs?");
        assert_eq!(title_from("\n\n  "), UNTITLED);
        let long = "which remote jobs for a senior rust developer with kubernetes experience pay \
                    the most in europe this year";
        let title = title_from(long);
        assert!(title.chars().count() <= TITLE_CHARS, "{title}");
        assert!(title.ends_with('…'), "{title}");
        assert!(long.starts_with(title.trim_end_matches('…')), "cut at a word: {title}");
        let word = "x".repeat(200);
        let title = title_from(&word);
        assert_eq!(title.chars().count(), TITLE_CHARS);
        assert!(title.ends_with('…'));
    }

    #[test]
    fn content_is_trimmed_and_must_fit() {
        assert_eq!(check_content("  hi \n", 10).unwrap(), "hi");
        assert!(matches!(check_content(" \n\t", 10), Err(ServiceError::Validation(_))));
        assert!(check_content(&"é".repeat(10), 10).is_ok(), "characters, not bytes");
        assert!(matches!(
            check_content(&"a".repeat(11), 10),
            Err(ServiceError::MessageTooLong { max_chars: 10 })
        ));
        assert!(matches!(check_content("a\0b", 10), Err(ServiceError::Validation(_))));
    }

    #[test]
    fn the_history_leaves_out_unanswered_questions_and_keeps_the_latest_turns() {
        use MessageRole::{Assistant, User};
        let messages = vec![
            message(User, "q1"),
            message(Assistant, "a1"),
            message(User, "failed"),
            message(User, "q2"),
            message(Assistant, "a2"),
            message(User, "failed again"),
        ];
        let history: Vec<_> =
            answerable_history(&messages).into_iter().map(|m| m.content).collect();
        assert_eq!(history, ["q1", "a1", "q2", "a2"]);

        let many: Vec<_> = (0..30)
            .map(|i| message(if i % 2 == 0 { User } else { Assistant }, &i.to_string()))
            .collect();
        let history = answerable_history(&many);
        assert_eq!(history.len(), HISTORY_MESSAGES);
        assert_eq!(history[0].role, User);
        assert_eq!(history.last().unwrap().content, "29");
    }
}
