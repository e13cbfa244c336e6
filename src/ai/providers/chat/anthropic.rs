//! A hosted chat model behind Anthropic's Messages API.
//!
//! The configuration's base URL is the API's root without its version, as Anthropic's SDKs
//! take it (`ANTHROPIC_BASE_URL`): [`ANTHROPIC_BASE_URL`]; answers are asked of
//! `{base_url}/v1/messages` (or `{base_url}/messages` when the base URL already ends in
//! `/v1`) with `stream: true`, the key as `x-api-key` and `anthropic-version: 2023-06-01`.
//!
//! - System messages go, joined, to the top-level `system`; the others as `user` and
//!   `assistant` turns of content blocks. An assistant's tool calls are `tool_use` blocks of
//!   its turn; a tool's result is a `tool_result` block (with the `tool_use_id` it answers)
//!   of a user turn, consecutive results (and a user's text right after them) in one turn.
//! - Tools go as `{name, description, input_schema}`. A streamed call is a `tool_use` content
//!   block whose input comes as `input_json_delta` fragments; it is given whole, its input
//!   parsed, at the block's `content_block_stop`.
//! - A JSON answer is asked with structured outputs, generally available on the Messages API
//!   without a beta header: `output_config: {format: {type: json_schema, schema}}`, which
//!   constrains the answer's text while it is generated (forcing a tool instead would give
//!   the JSON as a tool's input, and only fits models without structured outputs). Their
//!   schemas need objects closed with `additionalProperties: false`, like OpenAI's strict
//!   ones: every object of the schema is sent closed, and other schemas and choices are
//!   wrapped the same way (see [`super::structured`]).
//! - Parameters: `max_tokens` (required), either `temperature` or, when it is below 1,
//!   `top_p` instead (current models refuse the two together), `top_k` (when above 0) and
//!   `stop_sequences`; no seed, no repetition penalty. Anthropic's temperature goes from 0
//!   to 1: a higher one (OpenAI's scale reaches 2, and one setting serves every provider) is
//!   sent as 1, the most random Anthropic allows, rather than failing every answer.
//! - A `refusal` stop ends the answer with [`FinishReason::Refused`] (it is not complete);
//!   a `pause_turn` (a long turn of Anthropic's own server tools, paused to be continued) is
//!   an incomplete answer too, ended as [`ChatError::Interrupted`].

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::collections::HashMap;

use super::error::ChatError;
use super::hosted::{Decoder, End, Endpoint, Piece, error_message};
use super::message::{Message, Role, Tool, ToolCall};
use super::provider::{ChatModel, ChatModelState, ChatRequest, ChatStream};
use super::remote::RemoteConfig;
use super::sse::SseEvent;
use super::structured::{JsonOutput, Strictness, Unwrap, calls_required};
use super::types::FinishReason;

/// Anthropic's own API (without `/v1`: the path adds it).
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

/// The version of the Messages API these requests and events are written for.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

const PROVIDER: &str = "anthropic";

/// A chat model behind Anthropic's Messages API. `Debug` never shows the key.
#[derive(Debug)]
pub struct AnthropicChat {
    endpoint: Endpoint,
}

impl AnthropicChat {
    /// The model `config.model` at `config.base_url` (e.g. [`ANTHROPIC_BASE_URL`], without
    /// `/v1`, though one is taken too); refuses a base URL that is not http(s) and a key that cannot be sent. Nothing
    /// is sent yet.
    pub fn new(config: RemoteConfig) -> Result<Self, ChatError> {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
        let versioned = config.base_url.trim().trim_end_matches('/').ends_with("/v1");
        let path = if versioned { "/messages" } else { "/v1/messages" };
        let endpoint =
            Endpoint::new(PROVIDER, config, path, headers, |key| ("x-api-key", key.to_owned()))?;
        Ok(Self { endpoint })
    }
}

impl ChatModel for AnthropicChat {
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
        let output = JsonOutput::for_format(&request.format, Strictness::Closed)?;
        let body = request_body(&self.endpoint.model, &request, &output)?;
        let unwrap = output.map_or(Unwrap::Nothing, |output| output.unwrap);
        Ok(self.endpoint.stream(&body, EventDecoder::default(), unwrap))
    }
}

/// The Messages request for `request`.
fn request_body(
    model: &str,
    request: &ChatRequest,
    output: &Option<JsonOutput>,
) -> Result<Value, ChatError> {
    let params = &request.params;
    if params.max_tokens == 0 {
        return Err(ChatError::InvalidRequest("max_tokens must be at least 1".into()));
    }
    let (system, messages) = conversation(&request.messages)?;
    let mut body = json!({
        "model": model,
        "max_tokens": params.max_tokens,
        "stream": true,
        "messages": messages,
    });
    if !system.is_empty() {
        body["system"] = json!(system);
    }
    if params.top_p < 1.0 {
        body["top_p"] = json!(params.top_p);
    } else {
        body["temperature"] = json!(params.temperature.clamp(0.0, 1.0));
    }
    if params.top_k > 0 {
        body["top_k"] = json!(params.top_k);
    }
    if !params.stop.is_empty() {
        body["stop_sequences"] = json!(params.stop);
    }
    if !request.tools.is_empty() {
        body["tools"] = request.tools.iter().map(tool).collect();
    }
    if calls_required(&request.format, &request.tools)? {
        body["tool_choice"] = json!({"type": "any"});
    }
    if let Some(output) = output {
        body["output_config"] = json!({"format": {"type": "json_schema", "schema": output.schema}});
    }
    Ok(body)
}

/// The system text and the turns of `messages`: consecutive content of one role in one turn.
fn conversation(messages: &[Message]) -> Result<(String, Vec<Value>), ChatError> {
    let mut system = Vec::new();
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in messages {
        let (role, blocks) = match message.role {
            Role::System => {
                system.push(message.content.as_str());
                continue;
            }
            Role::User => ("user", text_block(&message.content).into_iter().collect()),
            Role::Assistant => {
                let mut blocks: Vec<Value> = text_block(&message.content).into_iter().collect();
                for call in &message.tool_calls {
                    blocks.push(tool_use(call)?);
                }
                ("assistant", blocks)
            }
            Role::Tool => {
                let id = message.tool_call_id.as_deref().filter(|id| !id.is_empty()).ok_or_else(
                    || {
                        ChatError::InvalidRequest(
                            "a tool's result does not name the call it answers".into(),
                        )
                    },
                )?;
                let block =
                    json!({"type": "tool_result", "tool_use_id": id, "content": message.content});
                ("user", vec![block])
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let turns = turns.into_iter().map(|(role, content)| json!({"role": role, "content": content}));
    Ok((system.join("\n\n"), turns.collect()))
}

/// A text block, none for no text (the API refuses empty ones).
fn text_block(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({"type": "text", "text": text}))
}

fn tool_use(call: &ToolCall) -> Result<Value, ChatError> {
    if call.id.is_empty() {
        return Err(ChatError::InvalidRequest(format!(
            "the call of {} has no id to pair its result with",
            call.name
        )));
    }
    if !call.arguments.is_object() {
        return Err(ChatError::InvalidRequest(format!(
            "the arguments of the call of {} are not a JSON object",
            call.name
        )));
    }
    Ok(json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}))
}

fn tool(tool: &Tool) -> Value {
    json!({"name": tool.name, "description": tool.description, "input_schema": tool.parameters})
}

/// Reads the Messages stream: `message_start`, content blocks (start, deltas, stop),
/// `message_delta` with the stop reason and usage, `message_stop`; `ping`s and block types it
/// does not use (thinking, …) are skipped, an `error` ends the answer.
#[derive(Debug, Default)]
struct EventDecoder {
    /// The tool_use blocks being streamed, by their index.
    tools: HashMap<u64, PartialToolUse>,
    stop_reason: Option<String>,
    prompt_tokens: usize,
    generated_tokens: usize,
}

#[derive(Debug, Default)]
struct PartialToolUse {
    id: String,
    name: String,
    /// The input given at the block's start (`{}` when it streams).
    input: Value,
    json: String,
}

impl Decoder for EventDecoder {
    fn decode(&mut self, event: SseEvent, pieces: &mut Vec<Piece>) -> Result<(), ChatError> {
        let broke = |message: String| ChatError::Interrupted { provider: PROVIDER, message };
        let data: Value = serde_json::from_str(&event.data)
            .map_err(|err| broke(format!("the {} event is not JSON ({err})", event.event)))?;
        let kind = data.get("type").and_then(Value::as_str).unwrap_or(event.event.as_str());
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        match kind {
            "message_start" => {
                let usage = &data["message"]["usage"];
                self.prompt_tokens = prompt_tokens(usage);
                self.generated_tokens = count(usage, "output_tokens");
            }
            "content_block_start" => {
                let block = &data["content_block"];
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(text) = block["text"].as_str().filter(|t| !t.is_empty()) {
                            pieces.push(Piece::Text(text.to_owned()));
                        }
                    }
                    Some("tool_use") => {
                        let text =
                            |field: &str| block[field].as_str().unwrap_or_default().to_owned();
                        let input = block.get("input").cloned().unwrap_or(Value::Null);
                        let call = PartialToolUse {
                            id: text("id"),
                            name: text("name"),
                            input,
                            json: String::new(),
                        };
                        self.tools.insert(index, call);
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let delta = &data["delta"];
                match delta.get("type").and_then(Value::as_str) {
                    Some("text_delta") => {
                        if let Some(text) = delta["text"].as_str().filter(|t| !t.is_empty()) {
                            pieces.push(Piece::Text(text.to_owned()));
                        }
                    }
                    Some("input_json_delta") => {
                        if let Some(call) = self.tools.get_mut(&index) {
                            call.json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(call) = self.tools.remove(&index) {
                    pieces.push(Piece::ToolCall(call.finish()?));
                }
            }
            "message_delta" => {
                if let Some(reason) = data["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_owned());
                }
                let usage = &data["usage"];
                if usage.get("input_tokens").is_some_and(|n| !n.is_null()) {
                    self.prompt_tokens = prompt_tokens(usage);
                }
                if usage.get("output_tokens").is_some_and(|n| !n.is_null()) {
                    self.generated_tokens = count(usage, "output_tokens");
                }
            }
            "message_stop" => {
                let finish = match self.stop_reason.as_deref() {
                    Some("max_tokens" | "model_context_window_exceeded") => FinishReason::Length,
                    Some("tool_use") => FinishReason::ToolCalls,
                    Some("refusal") => FinishReason::Refused,
                    Some("pause_turn") => {
                        return Err(broke(
                            "the turn was paused (pause_turn) before its answer was complete"
                                .into(),
                        ));
                    }
                    _ => FinishReason::Stop,
                };
                pieces.push(Piece::End(End {
                    finish,
                    prompt_tokens: self.prompt_tokens,
                    generated_tokens: self.generated_tokens,
                }));
            }
            "error" => return Err(broke(error_message(event.data.as_bytes()))),
            _ => {}
        }
        Ok(())
    }
}

impl PartialToolUse {
    fn finish(self) -> Result<ToolCall, ChatError> {
        let arguments = if self.json.trim().is_empty() {
            if self.input.is_object() { self.input } else { json!({}) }
        } else {
            serde_json::from_str(&self.json).map_err(|err| ChatError::Interrupted {
                provider: PROVIDER,
                message: format!("the input of the call of {} is not JSON ({err})", self.name),
            })?
        };
        Ok(ToolCall { id: self.id, name: self.name, arguments })
    }
}

/// The prompt's tokens: those read fresh plus those written to and read from the cache.
fn prompt_tokens(usage: &Value) -> usize {
    ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
        .iter()
        .map(|field| count(usage, field))
        .sum()
}

fn count(usage: &Value, field: &str) -> usize {
    usage.get(field).and_then(Value::as_u64).unwrap_or(0) as usize
}

#[cfg(test)]
mod tests;
