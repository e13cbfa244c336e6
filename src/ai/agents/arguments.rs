//! A tool's arguments, filled by the chat model as constrained JSON and checked in code.
//!
//! The model answers one JSON value valid against the tool's schema ([`OutputFormat::JsonSchema`]:
//! closed sets are enums, so it cannot name a value that does not exist); then [`validate`]
//! reads the value into the tool's typed arguments with serde, which checks it again and says
//! where it is wrong. An answer that is cut, unparsable or invalid is an [`Unfilled`]: the
//! caller uses the tool's defaults or falls back to a search with the user's words.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ai::providers::chat::error::ChatError;
use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::provider::{ChatEvent, ChatModel, ChatRequest};
use crate::ai::providers::chat::types::{FinishReason, GenerationParams, OutputFormat};

/// Why no arguments came out of the model.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    /// The model could not answer (busy, unavailable, failed): the caller decides.
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// It answered, but not arguments that can be used.
    #[error("{0}")]
    Unfilled(#[from] Unfilled),
}

/// An answer that is not usable arguments, and why.
#[derive(Debug, thiserror::Error)]
#[error("the arguments are not usable: {0}")]
pub struct Unfilled(pub String);

/// The most tokens an answer of arguments may take.
pub const MAX_ARGUMENT_TOKENS: usize = 160;

/// Asks `model` for one JSON value valid against `schema`, after `messages` (which say what
/// the tool is and what the user asked). Greedy, at most [`MAX_ARGUMENT_TOKENS`] tokens.
/// `on_queued` hears how many answers come first while the request waits for the model.
pub async fn fill(
    model: &dyn ChatModel,
    messages: Vec<Message>,
    schema: &Value,
    params: &GenerationParams,
    on_queued: &(dyn Fn(usize) + Send + Sync),
) -> Result<Value, FillError> {
    let mut request = ChatRequest::new(messages);
    request.format = OutputFormat::JsonSchema(schema.clone());
    request.params = GenerationParams {
        max_tokens: MAX_ARGUMENT_TOKENS,
        temperature: 0.0,
        stop: Vec::new(),
        ..params.clone()
    };
    let mut stream = model.chat(request)?;
    let mut text = String::new();
    let mut finish = None;
    while let Some(event) = stream.recv().await {
        match event? {
            ChatEvent::Text(piece) => text.push_str(&piece),
            ChatEvent::ToolCall(_) => {}
            ChatEvent::Queued(ahead) => on_queued(ahead),
            ChatEvent::Finished(generation) => {
                finish = Some(generation.finish);
                break;
            }
        }
    }
    if finish != Some(FinishReason::Stop) {
        return Err(Unfilled(format!("the answer ended with {finish:?}: {text}")).into());
    }
    serde_json::from_str(text.trim())
        .map_err(|e| Unfilled(format!("the answer is not JSON ({e}): {text}")).into())
}

/// `value` as the typed arguments `T`, or where and why it does not fit.
pub fn validate<T: DeserializeOwned>(value: Value) -> Result<T, Unfilled> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Unfilled(format!("{path}: {}", e.into_inner()))
    })
}

/// The schema of a value that is one of `values` or null.
pub fn nullable_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    let mut values: Vec<Value> = values.into_iter().map(|v| Value::String(v.to_owned())).collect();
    values.push(Value::Null);
    serde_json::json!({ "enum": values })
}

/// The schema of a string of at most `max` characters, or null.
pub fn nullable_string(max: usize) -> Value {
    serde_json::json!({ "type": ["string", "null"], "maxLength": max })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Args {
        query: Option<String>,
        #[serde(default)]
        limit: Option<u32>,
        mode: Option<Mode>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Mode {
        Fast,
        Slow,
    }

    #[test]
    fn valid_arguments_are_read_and_invalid_ones_say_where() {
        let args: Args =
            validate(serde_json::json!({"query": "rust", "limit": 3, "mode": "fast"})).unwrap();
        assert_eq!(
            args,
            Args { query: Some("rust".into()), limit: Some(3), mode: Some(Mode::Fast) }
        );
        let err =
            validate::<Args>(serde_json::json!({"query": "x", "mode": "medium"})).unwrap_err();
        assert!(err.0.starts_with("mode:"), "{err}");
        let err = validate::<Args>(serde_json::json!({"query": "x", "limit": -1, "mode": null}))
            .unwrap_err();
        assert!(err.0.starts_with("limit:"), "{err}");
        let err = validate::<Args>(serde_json::json!({"query": "x", "mode": null, "extra": 1}))
            .unwrap_err();
        assert!(err.0.contains("extra"), "{err}");
    }

    #[test]
    fn schema_helpers_allow_null() {
        assert_eq!(nullable_enum(["a", "b"]), serde_json::json!({"enum": ["a", "b", null]}));
        assert_eq!(
            nullable_string(5),
            serde_json::json!({"type": ["string", "null"], "maxLength": 5})
        );
    }
}
