//! JSON answers from hosted APIs whose strict schemas need an object at the root: the schema
//! to send, and how the answer is read back to exactly what was asked for.
//!
//! An object schema goes as it is and its answer streams through unchanged. Any other schema
//! (an array, a string, a number, …) and a choice among texts are wrapped as the one
//! required property `value` of an object; the answer is then collected and unwrapped, so
//! the caller gets the bare JSON value, or the chosen text itself (`yes`, not `"yes"`).

use serde_json::{Value, json};

use super::error::ChatError;
use super::types::OutputFormat;

/// The property a wrapped answer is held in.
pub const WRAP_KEY: &str = "value";

/// The JSON schema to ask a hosted API for, and how its answer comes back.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonOutput {
    /// An object schema (the caller's, or the wrapper around it).
    pub schema: Value,
    pub unwrap: Unwrap,
}

/// How the answer to a [`JsonOutput`]'s schema becomes the caller's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unwrap {
    /// The answer is the caller's: stream it as it comes.
    Nothing,
    /// The caller's answer is the JSON of `value`.
    Value,
    /// The caller's answer is the text `value` holds.
    Choice,
}

impl JsonOutput {
    /// What to ask for `format`; `None` for free text. An empty choice is refused.
    pub fn for_format(format: &OutputFormat) -> Result<Option<Self>, ChatError> {
        Ok(Some(match format {
            // Calls are asked for with the API's own `tool_choice`, not a schema.
            OutputFormat::Text | OutputFormat::ToolCalls => return Ok(None),
            OutputFormat::JsonSchema(schema) if is_object_schema(schema) => {
                Self { schema: schema.clone(), unwrap: Unwrap::Nothing }
            }
            OutputFormat::JsonSchema(schema) => {
                Self { schema: wrap(schema.clone()), unwrap: Unwrap::Value }
            }
            OutputFormat::Choice(choices) if choices.is_empty() => {
                return Err(ChatError::InvalidRequest("a choice needs at least one option".into()));
            }
            OutputFormat::Choice(choices) => Self {
                schema: wrap(json!({"type": "string", "enum": choices})),
                unwrap: Unwrap::Choice,
            },
        }))
    }
}

impl Unwrap {
    /// Whether the answer must be collected before it can be given (it is unwrapped).
    pub fn collects(self) -> bool {
        self != Self::Nothing
    }

    /// The caller's answer in the provider's `answer`; why not when it is not the wrapper
    /// asked for.
    pub fn apply(self, answer: &str) -> Result<String, String> {
        if self == Self::Nothing {
            return Ok(answer.to_owned());
        }
        let mut wrapper: Value = serde_json::from_str(answer)
            .map_err(|err| format!("the JSON answer does not parse ({err})"))?;
        let value = wrapper
            .get_mut(WRAP_KEY)
            .map(Value::take)
            .ok_or_else(|| format!("the JSON answer has no {WRAP_KEY:?}"))?;
        match (self, value) {
            (Self::Choice, Value::String(choice)) => Ok(choice),
            (Self::Choice, other) => Err(format!("the choice is not a text: {other}")),
            (_, value) => Ok(value.to_string()),
        }
    }
}

fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

fn wrap(schema: Value) -> Value {
    json!({
        "type": "object",
        "properties": {WRAP_KEY: schema},
        "required": [WRAP_KEY],
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_schema_goes_as_it_is_and_streams_through() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let output =
            JsonOutput::for_format(&OutputFormat::JsonSchema(schema.clone())).unwrap().unwrap();
        assert_eq!(output, JsonOutput { schema, unwrap: Unwrap::Nothing });
        assert!(!output.unwrap.collects());
        assert_eq!(output.unwrap.apply("{\"a\": 1}").unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn other_schemas_and_choices_are_wrapped_and_unwrapped() {
        let array = json!({"type": "array", "items": {"type": "string"}});
        let output =
            JsonOutput::for_format(&OutputFormat::JsonSchema(array.clone())).unwrap().unwrap();
        assert_eq!(output.schema["properties"]["value"], array);
        assert_eq!(output.schema["required"], json!(["value"]));
        assert_eq!(output.schema["additionalProperties"], json!(false));
        assert_eq!(output.unwrap.apply(r#"{"value": ["x", "y"]}"#).unwrap(), r#"["x","y"]"#);

        let choice = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
        let output = JsonOutput::for_format(&choice).unwrap().unwrap();
        assert_eq!(output.schema["properties"]["value"]["enum"], json!(["yes", "no"]));
        assert_eq!(output.unwrap.apply(r#"{"value":"no"}"#).unwrap(), "no");
        assert!(output.unwrap.apply(r#"{"value": 3}"#).is_err());
        assert!(output.unwrap.apply(r#"{"other": "no"}"#).is_err());
        assert!(output.unwrap.apply(r#"{"value": "n"#).is_err());
    }

    #[test]
    fn text_asks_for_nothing_and_an_empty_choice_is_refused() {
        assert_eq!(JsonOutput::for_format(&OutputFormat::Text).unwrap(), None);
        let refused = JsonOutput::for_format(&OutputFormat::Choice(vec![]));
        assert!(matches!(refused, Err(ChatError::InvalidRequest(_))));
    }
}
