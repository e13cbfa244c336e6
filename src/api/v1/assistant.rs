//! `/api/v1/assistant`: a candidate's conversations with the assistant, and the messages that
//! ask it something, answered as JSON or streamed as server-sent events.
//!
//! An answer runs in a task of its own that feeds an unbounded channel, so a slow client never
//! holds the model up. The HTTP side waits for the first event (or the end) before it answers:
//! what fails before anything was said (the conversation is not the caller's, the message is
//! empty or too long, the model is busy) is a plain JSON error with its status; after that, an
//! SSE stream carries `tool`, `citation` and `token` events and ends with `done` (the stored
//! message) or `error` (`{code, message}`, the codes of the JSON errors). A client that goes
//! away closes the channel, which stops the answer; what it had written by then is stored.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::AppState;
use crate::api::error::{ApiError, ErrorCode};
use crate::api::extract::{CurrentUser, Json, Path, Query};
use crate::api::routes::Routes;
use crate::core::rate_limit::RetryAfter;
use crate::models::conversation::ConversationMessage;
use crate::schemas::application::PageQuery;
use crate::schemas::assistant::{
    ConversationBody, ConversationDetailBody, ConversationListBody, MessageBody, MessageReplyBody,
    QueuedEventBody, SendMessageRequest, TokenEventBody,
};
use crate::schemas::error::{ErrorBody, ErrorDetail};
use crate::services::ServiceError;
use crate::services::assistant::{AssistantEvent, conversations};

pub fn router() -> Routes {
    Routes::new()
        .route("/conversations", get(list).post(create))
        .route("/conversations/{id}", get(get_conversation).delete(delete))
        .route("/conversations/{id}/messages", post(send_message))
}

fn page(query: &PageQuery) -> Result<(u32, u32), ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be between 1 and 100"));
    }
    Ok((limit, query.offset.unwrap_or(0)))
}

/// Starts a conversation, titled "New conversation" until its first message names it.
#[utoipa::path(post, path = "/api/v1/assistant/conversations", tag = "assistant", security(("bearer" = [])),
    responses(
        (status = 201, description = "Started", body = ConversationBody),
        (status = 403, description = "`forbidden`: the assistant is for candidate accounts", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
) -> Result<(StatusCode, Json<ConversationBody>), ApiError> {
    let conversation = conversations::create(&state.ctx, &principal).await?;
    Ok((StatusCode::CREATED, Json((&conversation).into())))
}

/// The caller's conversations, the most recently active first.
#[utoipa::path(get, path = "/api/v1/assistant/conversations", tag = "assistant", security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationListBody),
        (status = 403, description = "`forbidden`: the assistant is for candidate accounts", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<ConversationListBody>, ApiError> {
    let (limit, offset) = page(&query)?;
    let (items, total) = conversations::list(&state.ctx, &principal, limit, offset).await?;
    Ok(Json(ConversationListBody {
        items: items.iter().map(ConversationBody::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// A conversation of the caller's with its messages, oldest first.
#[utoipa::path(get, path = "/api/v1/assistant/conversations/{id}", tag = "assistant", security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 200, description = "The conversation", body = ConversationDetailBody),
        (status = 403, description = "`forbidden`: the assistant is for candidate accounts", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation of the caller's", body = ErrorBody),
    ))]
pub async fn get_conversation(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ConversationDetailBody>, ApiError> {
    let (conversation, messages) = conversations::get(&state.ctx, &principal, &id).await?;
    Ok(Json(ConversationDetailBody::new(&conversation, &messages)))
}

/// Deletes a conversation of the caller's with its messages.
#[utoipa::path(delete, path = "/api/v1/assistant/conversations/{id}", tag = "assistant", security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden`: the assistant is for candidate accounts", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation of the caller's", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    conversations::delete(&state.ctx, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks the assistant something in a conversation of the caller's. With `Accept:
/// text/event-stream` the answer streams as server-sent events: `queued` (`{ahead}`, while
/// the answer waits for the chat model behind that many answers: when it starts waiting and
/// each time it moves up), `tool` (`{name, arguments}`, a tool about to run), `citation`
/// (`{n, kind, id, title}`, a source the answer cites as `[n]`), `token` (`{text}`, the next
/// piece of the answer), then exactly one of `done` (the stored message, as the JSON answer's
/// `message`) or `error` (`{code, message}`, the codes of the JSON errors). Otherwise the
/// whole answer comes as JSON. Errors found before the answer starts are JSON errors with
/// their status either way. The question is stored even when the answer fails.
#[utoipa::path(post, path = "/api/v1/assistant/conversations/{id}/messages", tag = "assistant", security(("bearer" = [])),
    params(("id" = String, Path, description = "Conversation id")),
    request_body = SendMessageRequest,
    responses(
        (status = 200, description = "The answer, as stored (JSON), or its events (`text/event-stream`)", content(
            (MessageReplyBody = "application/json"),
            (String = "text/event-stream", example = json!("event: token\ndata: {\"text\":\"Two jobs match\"}\n\nevent: done\ndata: {\"id\":\"…\",\"role\":\"assistant\",\"content\":\"Two jobs match\",\"citations\":[],\"tool_calls\":[],\"created_at\":\"2026-01-01T00:00:00Z\"}\n\n")),
        )),
        (status = 403, description = "`forbidden`: the assistant is for candidate accounts", body = ErrorBody),
        (status = 404, description = "`not_found`: no such conversation of the caller's", body = ErrorBody),
        (status = 422, description = "`validation_failed`: empty content; `message_too_long`: longer than the configured limit; `prompt_too_long`: the conversation does not fit the model", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many messages from this user; `Retry-After` says when to try again", body = ErrorBody),
        (status = 500, description = "`internal`", body = ErrorBody),
        (status = 502, description = "`model_provider_error`: a hosted chat provider refused or failed", body = ErrorBody),
        (status = 503, description = "`model_busy` (with `Retry-After`), `model_unavailable`, `model_rate_limited`, `timeout` or `unavailable`", body = ErrorBody),
    ))]
pub async fn send_message(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(req): Json<SendMessageRequest>,
) -> Result<Response, ApiError> {
    state.limits.assistant_per_user.check(&principal.user_id).map_err(|RetryAfter(seconds)| {
        ApiError {
            message: format!("too many messages to the assistant; try again in {seconds} s"),
            ..ApiError::rate_limited(seconds)
        }
    })?;
    let (events, mut received) = mpsc::unbounded_channel();
    let ctx = state.ctx.clone();
    let answer: JoinHandle<Result<ConversationMessage, ServiceError>> = tokio::spawn(async move {
        conversations::send_message(&ctx, &principal, &id, &req.content, &events).await
    });
    if !wants_event_stream(&headers) {
        // `received` lives until the answer is done: dropped early (the client went away, the
        // request timed out), it stops the answer.
        let message = finished(answer).await?;
        drop(received);
        return Ok(Json(MessageReplyBody { message: (&message).into() }).into_response());
    }
    // The channel closes when the task ends: no event at all means it ended before saying
    // anything, and its error (if any) is the response.
    let first = match received.recv().await {
        Some(event) => Some(event),
        None => {
            let message = finished(answer).await?;
            return Ok(event_stream(Streamed::Done(Some(Ok(message)))).into_response());
        }
    };
    Ok(event_stream(Streamed::Events { first, received, answer }).into_response())
}

/// Whether the client asked for `text/event-stream`.
fn wants_event_stream(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|t| {
            t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/event-stream"))
        })
    })
}

/// The answer's outcome; a panicked task is an internal error.
async fn finished(
    answer: JoinHandle<Result<ConversationMessage, ServiceError>>,
) -> Result<ConversationMessage, ApiError> {
    match answer.await {
        Ok(result) => Ok(result?),
        Err(err) => Err(ApiError::internal(anyhow::anyhow!("the answer's task failed: {err}"))),
    }
}

/// Where a streamed answer stands.
enum Streamed {
    /// Events to pass on, the first already received.
    Events {
        first: Option<AssistantEvent>,
        received: mpsc::UnboundedReceiver<AssistantEvent>,
        answer: JoinHandle<Result<ConversationMessage, ServiceError>>,
    },
    /// The last event to send (`done` or `error`), then nothing.
    Done(Option<Result<ConversationMessage, ApiError>>),
}

fn event_stream(state: Streamed) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures_util::stream::unfold(state, |state| async move {
        match state {
            Streamed::Events { first: Some(event), received, answer } => {
                Some((Ok(sse_event(event)), Streamed::Events { first: None, received, answer }))
            }
            Streamed::Events { first: None, mut received, answer } => match received.recv().await {
                Some(event) => {
                    Some((Ok(sse_event(event)), Streamed::Events { first: None, received, answer }))
                }
                None => Some((Ok(last_event(finished(answer).await)), Streamed::Done(None))),
            },
            Streamed::Done(Some(outcome)) => Some((Ok(last_event(outcome)), Streamed::Done(None))),
            Streamed::Done(None) => None,
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

fn json_event(name: &str, data: &impl serde::Serialize) -> Event {
    Event::default().event(name).json_data(data).unwrap_or_else(|err| {
        tracing::error!(error = %err, event = name, "an event could not be written as JSON");
        Event::default()
            .event("error")
            .data(r#"{"code":"internal","message":"internal server error"}"#)
    })
}

fn sse_event(event: AssistantEvent) -> Event {
    match event {
        AssistantEvent::Tool(step) => json_event("tool", &step),
        AssistantEvent::Citation(citation) => json_event("citation", &citation),
        AssistantEvent::Token(text) => json_event("token", &TokenEventBody { text }),
        AssistantEvent::Queued(ahead) => json_event("queued", &QueuedEventBody { ahead }),
    }
}

fn last_event(outcome: Result<ConversationMessage, ApiError>) -> Event {
    match outcome {
        Ok(message) => json_event("done", &MessageBody::from(&message)),
        Err(err) => json_event(
            "error",
            &ErrorDetail { code: err.code.as_str().to_owned(), message: err.message },
        ),
    }
}
