//! One turn of the assistant: the model answers the message with the conversation before it.

use tokio::sync::mpsc;

use super::{AssistantEvent, ConversationMessage, MessageRole, Reply};
use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::provider::{ChatEvent, ChatRequest};
use crate::services::{Context, Principal, ServiceError};

/// Answers `content` after `history`, streaming the text to `events`.
pub async fn answer(
    ctx: &Context,
    _principal: &Principal,
    history: &[ConversationMessage],
    content: &str,
    events: &mpsc::UnboundedSender<AssistantEvent>,
) -> Result<Reply, ServiceError> {
    let model = ctx.ai.chat().ok_or_else(|| {
        ServiceError::ModelUnavailable(
            "the assistant needs the chat model, which is not started".into(),
        )
    })?;
    let mut messages: Vec<Message> = history
        .iter()
        .map(|m| match m.role {
            MessageRole::User => Message::user(&m.content),
            MessageRole::Assistant => Message::assistant(&m.content),
        })
        .collect();
    messages.push(Message::user(content));
    let mut request = ChatRequest::new(messages);
    request.params = ctx.ai.chat_params();
    let mut stream = model.chat(request)?;
    let mut reply = Reply::default();
    while let Some(event) = stream.recv().await {
        match event? {
            ChatEvent::Text(text) => {
                reply.content.push_str(&text);
                if events.send(AssistantEvent::Token(text)).is_err() {
                    break;
                }
            }
            ChatEvent::ToolCall(_) => {}
            ChatEvent::Finished(_) => break,
        }
    }
    Ok(reply)
}
