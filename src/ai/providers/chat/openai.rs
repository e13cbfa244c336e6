//! A hosted chat model behind an OpenAI-compatible Chat Completions API: OpenAI itself, and
//! the servers that speak its protocol (Ollama, llama.cpp's server, vLLM, …).
//!
//! The configuration's base URL is the API's root including its version, as OpenAI's SDKs
//! take it: [`OPENAI_BASE_URL`], or `http://127.0.0.1:11434/v1` for Ollama; answers are asked
//! of `{base_url}/chat/completions` with `stream: true` and `stream_options.include_usage`,
//! the key (optional: local servers need none) as `Authorization: Bearer`.
//!
//! - Messages keep their roles; an assistant's tool calls go as `tool_calls` (arguments as
//!   JSON text) and a tool's result as `role: tool` with the `tool_call_id` it answers.
//! - Tools go as `{type: function, function: {name, description, parameters}}`. A streamed
//!   call comes in fragments keyed by `index` (a fragment with another call's id under a
//!   known index opens a new call: some servers send each call whole at index 0); it is
//!   given whole, its arguments parsed, once the choice finishes.
//! - A JSON answer is asked as `response_format: {type: json_schema, json_schema: {name,
//!   schema, strict: true}}`; strict schemas need an object root, so other schemas and
//!   choices are wrapped and the answer unwrapped, every object is sent closed and every
//!   property required (see [`super::structured`]).
//! - A `content_filter` finish, or a refusal (its explanation comes as the answer's text),
//!   ends the answer with [`FinishReason::Refused`]: it is not complete.
//! - Parameters: `max_completion_tokens` (OpenAI's own API, whose reasoning models refuse
//!   `max_tokens`) or `max_tokens` (any other server), `temperature`, `seed`, `top_p` (when
//!   below 1) and `stop`; `top_k` and the repetition penalty have no field here. Models
//!   that refuse a parameter (OpenAI's reasoning models take no `temperature` but 1) answer
//!   with [`ChatError::Rejected`] and the provider's message naming it.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::error::ChatError;
use super::hosted::{Decoder, End, Endpoint, Piece, error_message};
use super::message::{Message, Role, Tool, ToolCall};
use super::provider::{ChatModel, ChatModelState, ChatRequest, ChatStream};
use super::remote::RemoteConfig;
use super::sse::SseEvent;
use super::structured::{JsonOutput, Strictness, Unwrap, calls_required};
use super::types::FinishReason;

/// OpenAI's own API.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

const PROVIDER: &str = "openai";

/// A chat model behind an OpenAI-compatible Chat Completions API. `Debug` never shows the key.
#[derive(Debug)]
pub struct OpenAiChat {
    endpoint: Endpoint,
    /// The name of the answer's token limit: `max_completion_tokens` for OpenAI's own API.
    max_tokens_field: &'static str,
}

impl OpenAiChat {
    /// The model `config.model` at `config.base_url` (e.g. [`OPENAI_BASE_URL`]); refuses a
    /// base URL that is not http(s) and a key that cannot be sent. Nothing is sent yet.
    pub fn new(config: RemoteConfig) -> Result<Self, ChatError> {
        let endpoint =
            Endpoint::new(PROVIDER, config, "/chat/completions", HeaderMap::new(), |key| {
                ("authorization", format!("Bearer {key}"))
            })?;
        let max_tokens_field = if endpoint.host() == Some("api.openai.com") {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        Ok(Self { endpoint, max_tokens_field })
    }
}

impl ChatModel for OpenAiChat {
    fn describe(&self) -> String {
        self.endpoint.describe()
    }

    fn native_tools(&self) -> bool {
        true
    }

    fn state(&self) -> ChatModelState {
        ChatModelState::Ready
    }

    fn chat(&self, request: ChatRequest) -> Result<ChatStream, ChatError> {
        let output = JsonOutput::for_format(&request.format, Strictness::AllRequired)?;
        let body = request_body(&self.endpoint.model, self.max_tokens_field, &request, &output)?;
        let unwrap = output.map_or(Unwrap::Nothing, |output| output.unwrap);
        Ok(self.endpoint.stream(&body, ChunkDecoder::default(), unwrap))
    }
}

/// The Chat Completions request for `request`.
fn request_body(
    model: &str,
    max_tokens_field: &str,
    request: &ChatRequest,
    output: &Option<JsonOutput>,
) -> Result<Value, ChatError> {
    let params = &request.params;
    if params.max_tokens == 0 {
        return Err(ChatError::InvalidRequest("max_tokens must be at least 1".into()));
    }
    let messages = request.messages.iter().map(message).collect::<Result<Vec<_>, _>>()?;
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        max_tokens_field: params.max_tokens,
        "temperature": params.temperature,
        "seed": params.seed,
    });
    if params.top_p < 1.0 {
        body["top_p"] = json!(params.top_p);
    }
    if !params.stop.is_empty() {
        body["stop"] = json!(params.stop);
    }
    if !request.tools.is_empty() {
        body["tools"] = request.tools.iter().map(tool).collect();
    }
    if calls_required(&request.format, &request.tools)? {
        body["tool_choice"] = json!("required");
    }
    if let Some(output) = output {
        body["response_format"] = json!({
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": output.schema, "strict": true},
        });
    }
    Ok(body)
}

fn message(message: &Message) -> Result<Value, ChatError> {
    Ok(match message.role {
        Role::System => json!({"role": "system", "content": message.content}),
        Role::User => json!({"role": "user", "content": message.content}),
        Role::Assistant if message.tool_calls.is_empty() => {
            json!({"role": "assistant", "content": message.content})
        }
        Role::Assistant => {
            let calls = message.tool_calls.iter().map(tool_call).collect::<Result<Vec<_>, _>>()?;
            let content =
                if message.content.is_empty() { Value::Null } else { json!(message.content) };
            json!({"role": "assistant", "content": content, "tool_calls": calls})
        }
        Role::Tool => {
            let id =
                message.tool_call_id.as_deref().filter(|id| !id.is_empty()).ok_or_else(|| {
                    ChatError::InvalidRequest(
                        "a tool's result does not name the call it answers".into(),
                    )
                })?;
            json!({"role": "tool", "tool_call_id": id, "content": message.content})
        }
    })
}

fn tool_call(call: &ToolCall) -> Result<Value, ChatError> {
    if call.id.is_empty() {
        return Err(ChatError::InvalidRequest(format!(
            "the call of {} has no id to pair its result with",
            call.name
        )));
    }
    Ok(json!({
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments.to_string()},
    }))
}

fn tool(tool: &Tool) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    })
}

/// Reads `chat.completion.chunk`s: text deltas, tool call fragments, the finish reason, the
/// usage chunk, then `[DONE]`.
#[derive(Debug, Default)]
struct ChunkDecoder {
    /// The calls being streamed, not given yet.
    calls: Vec<PartialCall>,
    /// Calls given so far (ids are made up from it when a server sends none).
    given: usize,
    finish: Option<FinishReason>,
    /// The model declined, explaining why in `refusal` instead of `content`.
    refused: bool,
    prompt_tokens: usize,
    generated_tokens: usize,
}

#[derive(Debug, Default)]
struct PartialCall {
    index: Option<u64>,
    id: String,
    name: String,
    arguments: String,
}

impl Decoder for ChunkDecoder {
    fn decode(&mut self, event: SseEvent, pieces: &mut Vec<Piece>) -> Result<(), ChatError> {
        let broke = |message: String| ChatError::Interrupted { provider: PROVIDER, message };
        if event.event == "error" {
            return Err(broke(error_message(event.data.as_bytes())));
        }
        if event.data.trim() == "[DONE]" {
            self.give_calls(pieces)?;
            let finish = match self.finish {
                _ if self.refused => FinishReason::Refused,
                Some(FinishReason::Stop) | None if self.given > 0 => FinishReason::ToolCalls,
                Some(finish) => finish,
                None => FinishReason::Stop,
            };
            pieces.push(Piece::End(End {
                finish,
                prompt_tokens: self.prompt_tokens,
                generated_tokens: self.generated_tokens,
            }));
            return Ok(());
        }
        let chunk: Value = serde_json::from_str(&event.data)
            .map_err(|err| broke(format!("a chunk is not JSON ({err})")))?;
        if chunk.get("error").is_some_and(|error| !error.is_null()) {
            return Err(broke(error_message(event.data.as_bytes())));
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| usage.is_object()) {
            self.prompt_tokens = count(usage, "prompt_tokens");
            self.generated_tokens = count(usage, "completion_tokens");
        }
        let choice = chunk.get("choices").and_then(Value::as_array).and_then(|choices| {
            choices.iter().find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
        });
        let Some(choice) = choice else { return Ok(()) };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        // A model that declines to answer explains why in `refusal` instead of `content`.
        for field in ["content", "refusal"] {
            if let Some(text) = delta.get(field).and_then(Value::as_str).filter(|t| !t.is_empty()) {
                self.refused |= field == "refusal";
                pieces.push(Piece::Text(text.to_owned()));
            }
        }
        for fragment in delta.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            self.add_fragment(fragment);
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(match reason {
                "length" => FinishReason::Length,
                "tool_calls" | "function_call" => FinishReason::ToolCalls,
                "content_filter" => FinishReason::Refused,
                _ => FinishReason::Stop,
            });
            self.give_calls(pieces)?;
        }
        Ok(())
    }
}

impl ChunkDecoder {
    /// Adds a fragment to its call: the last one of its `index` unless the fragment names
    /// another id (then it opens a new call), or (servers that send no index) the one of its
    /// id, or a new one when it names its function, or the last one.
    fn add_fragment(&mut self, fragment: &Value) {
        let index = fragment.get("index").and_then(Value::as_u64);
        let id = fragment.get("id").and_then(Value::as_str).unwrap_or_default();
        let function = fragment.get("function").unwrap_or(&Value::Null);
        let named = function.get("name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
        let known = match index {
            Some(index) => self.calls.iter().rposition(|call| {
                call.index == Some(index) && (id.is_empty() || call.id.is_empty() || call.id == id)
            }),
            None if !id.is_empty() => self.calls.iter().position(|call| call.id == id),
            // A name only opens a call: with one, this is the next call.
            None if named => None,
            None => self.calls.len().checked_sub(1),
        };
        let position = known.unwrap_or_else(|| {
            self.calls.push(PartialCall { index, ..PartialCall::default() });
            self.calls.len() - 1
        });
        let call = &mut self.calls[position];
        if call.id.is_empty() {
            call.id = id.to_owned();
        }
        if let Some(name) = function.get("name").and_then(Value::as_str)
            && call.name.is_empty()
        {
            call.name = name.to_owned();
        }
        if let Some(arguments) = function.get("arguments") {
            match arguments {
                Value::String(text) => call.arguments.push_str(text),
                Value::Null => {}
                // Some servers send the arguments as an object, whole.
                other => call.arguments = other.to_string(),
            }
        }
    }

    /// Gives the calls streamed so far, whole, in the order of their indices.
    fn give_calls(&mut self, pieces: &mut Vec<Piece>) -> Result<(), ChatError> {
        let mut calls = std::mem::take(&mut self.calls);
        calls.sort_by_key(|call| call.index);
        for call in calls {
            let arguments = if call.arguments.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(&call.arguments).map_err(|err| ChatError::Interrupted {
                    provider: PROVIDER,
                    message: format!(
                        "the arguments of the call of {} are not JSON ({err})",
                        call.name
                    ),
                })?
            };
            let id = if call.id.is_empty() { format!("call_{}", self.given) } else { call.id };
            self.given += 1;
            pieces.push(Piece::ToolCall(ToolCall { id, name: call.name, arguments }));
        }
        Ok(())
    }
}

fn count(usage: &Value, field: &str) -> usize {
    usage.get(field).and_then(Value::as_u64).unwrap_or(0) as usize
}

#[cfg(test)]
mod tests;
