//! JSON answers from hosted APIs whose strict schemas need an object at the root: the schema
//! to send, and how the answer is read back to exactly what was asked for.
//!
//! An object schema goes as it is and its answer streams through unchanged. Any other schema
//! (an array, a string, a number, …) and a choice among texts are wrapped as the one
//! required property `value` of an object; the answer is then collected and unwrapped, so
//! the caller gets the bare JSON value, or the chosen text itself (`yes`, not `"yes"`).
//!
//! Strict schemas also need every object closed: a copy of the schema is sent with
//! `additionalProperties: false` on each object schema (at the root and in `properties`,
//! `items`, `prefixItems`, `anyOf`, `oneOf`, `allOf`, `$defs` and `definitions`), which keeps
//! its meaning for the answer: a closed object is valid under the open one. A map of free
//! keys (`additionalProperties` holding a schema) cannot be closed and is refused. OpenAI's
//! strict mode needs every property in `required` too; its documented recipe for an
//! optional one is a required property that may be null, so an optional property whose
//! schema admits null is made required (null standing for absent), and any other optional
//! property is refused, naming the rule, rather than sent with a null the caller's schema
//! does not allow.

use serde_json::{Value, json};

use super::error::ChatError;
use super::message::Tool;
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

/// What a provider's strict schemas need beyond closed objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every object closed (Anthropic's structured outputs).
    Closed,
    /// Every object closed and every property required (OpenAI's strict mode).
    AllRequired,
}

/// Whether the answer must be tool calls (asked with the API's own `tool_choice`); refused
/// when no tool is offered to call.
pub fn calls_required(format: &OutputFormat, tools: &[Tool]) -> Result<bool, ChatError> {
    match format {
        OutputFormat::ToolCalls if tools.is_empty() => Err(ChatError::InvalidRequest(
            "tool calls were required but no tool was offered".into(),
        )),
        OutputFormat::ToolCalls => Ok(true),
        _ => Ok(false),
    }
}

impl JsonOutput {
    /// What to ask for `format` under `strictness`; `None` for free text. An empty choice and
    /// a schema the provider's rules cannot express are refused.
    pub fn for_format(
        format: &OutputFormat,
        strictness: Strictness,
    ) -> Result<Option<Self>, ChatError> {
        let Some(mut output) = Self::shaped(format)? else { return Ok(None) };
        close(&mut output.schema, strictness, "the schema")?;
        Ok(Some(output))
    }

    /// The object schema for `format`, wrapped when it is not one.
    fn shaped(format: &OutputFormat) -> Result<Option<Self>, ChatError> {
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

/// Closes every object schema in `schema` (and, for [`Strictness::AllRequired`], requires
/// every property); `at` names where it is, for the error.
fn close(schema: &mut Value, strictness: Strictness, at: &str) -> Result<(), ChatError> {
    let Some(map) = schema.as_object_mut() else { return Ok(()) };
    let refuse = |rule: String| Err(ChatError::InvalidRequest(format!("{at}: {rule}")));
    let types = |kind: &str| match map.get("type") {
        Some(Value::String(t)) => t == kind,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == kind),
        _ => false,
    };
    if types("object") || map.contains_key("properties") {
        match map.get("additionalProperties") {
            None | Some(Value::Bool(_)) => {}
            Some(_) => {
                return refuse(
                    "strict structured outputs need every object closed \
                     (additionalProperties: false); a map of free keys cannot be asked for"
                        .into(),
                );
            }
        }
        map.insert("additionalProperties".into(), Value::Bool(false));
        if strictness == Strictness::AllRequired
            && let Some(Value::Object(properties)) = map.get("properties")
        {
            let mut required: Vec<Value> = match map.get("required") {
                Some(Value::Array(required)) => required.clone(),
                _ => Vec::new(),
            };
            for (name, property) in properties {
                if required.iter().any(|r| r == name) {
                    continue;
                }
                if !admits_null(property) {
                    return refuse(format!(
                        "OpenAI's strict mode needs every property required; make {name:?} \
                         required, or let it be null (\"type\": [..., \"null\"]) to stand for \
                         absent"
                    ));
                }
                required.push(Value::String(name.clone()));
            }
            map.insert("required".into(), Value::Array(required));
        }
    }
    for (key, value) in map.iter_mut() {
        match (key.as_str(), value) {
            ("properties" | "$defs" | "definitions", Value::Object(schemas)) => {
                for (name, schema) in schemas {
                    close(schema, strictness, &format!("{at} at {key}.{name}"))?;
                }
            }
            ("items" | "prefixItems" | "anyOf" | "oneOf" | "allOf", Value::Array(schemas)) => {
                for (i, schema) in schemas.iter_mut().enumerate() {
                    close(schema, strictness, &format!("{at} at {key}[{i}]"))?;
                }
            }
            ("items", schema @ Value::Object(_)) => {
                close(schema, strictness, &format!("{at} at items"))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether `schema` lets a value be null.
fn admits_null(schema: &Value) -> bool {
    let has_null = |values: Option<&Value>| {
        values.and_then(Value::as_array).is_some_and(|values| values.iter().any(Value::is_null))
    };
    match schema.get("type") {
        Some(Value::String(kind)) if kind == "null" => return true,
        Some(Value::Array(kinds)) if kinds.iter().any(|k| k == "null") => {
            return schema.get("enum").is_none() || has_null(schema.get("enum"));
        }
        _ => {}
    }
    if schema.get("const").is_some_and(Value::is_null) || has_null(schema.get("enum")) {
        return true;
    }
    ["anyOf", "oneOf"].iter().any(|key| {
        schema.get(*key).and_then(Value::as_array).is_some_and(|s| s.iter().any(admits_null))
    })
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
    fn an_object_schema_goes_closed_and_streams_through() {
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let format = OutputFormat::JsonSchema(schema);
        let output = JsonOutput::for_format(&format, Strictness::Closed).unwrap().unwrap();
        let closed = json!({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false});
        assert_eq!(output, JsonOutput { schema: closed, unwrap: Unwrap::Nothing });
        assert!(!output.unwrap.collects());
        assert_eq!(output.unwrap.apply("{\"a\": 1}").unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn other_schemas_and_choices_are_wrapped_and_unwrapped() {
        let array = json!({"type": "array", "items": {"type": "string"}});
        let output = JsonOutput::for_format(
            &OutputFormat::JsonSchema(array.clone()),
            Strictness::AllRequired,
        )
        .unwrap()
        .unwrap();
        assert_eq!(output.schema["properties"]["value"], array);
        assert_eq!(output.schema["required"], json!(["value"]));
        assert_eq!(output.schema["additionalProperties"], json!(false));
        assert_eq!(output.unwrap.apply(r#"{"value": ["x", "y"]}"#).unwrap(), r#"["x","y"]"#);

        let choice = OutputFormat::Choice(vec!["yes".into(), "no".into()]);
        let output = JsonOutput::for_format(&choice, Strictness::AllRequired).unwrap().unwrap();
        assert_eq!(output.schema["properties"]["value"]["enum"], json!(["yes", "no"]));
        assert_eq!(output.unwrap.apply(r#"{"value":"no"}"#).unwrap(), "no");
        assert!(output.unwrap.apply(r#"{"value": 3}"#).is_err());
        assert!(output.unwrap.apply(r#"{"other": "no"}"#).is_err());
        assert!(output.unwrap.apply(r#"{"value": "n"#).is_err());
    }

    #[test]
    fn text_asks_for_nothing_and_an_empty_choice_is_refused() {
        assert_eq!(JsonOutput::for_format(&OutputFormat::Text, Strictness::Closed).unwrap(), None);
        let refused = JsonOutput::for_format(&OutputFormat::Choice(vec![]), Strictness::Closed);
        assert!(matches!(refused, Err(ChatError::InvalidRequest(_))));
    }

    fn nested() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "note": {"type": ["string", "null"]},
                "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}},
                "owner": {"$ref": "#/$defs/person"},
                "either": {"anyOf": [{"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}, {"type": "null"}]},
            },
            "required": ["name", "tags", "owner"],
            "$defs": {"person": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}},
        })
    }

    #[test]
    fn every_object_of_a_schema_is_closed_and_nullable_optionals_become_required() {
        let format = OutputFormat::JsonSchema(nested());
        let open = JsonOutput::for_format(&format, Strictness::Closed).unwrap().unwrap().schema;
        let strict = JsonOutput::for_format(&format, Strictness::AllRequired).unwrap().unwrap();
        for schema in [&open, &strict.schema] {
            assert_eq!(schema["additionalProperties"], json!(false));
            assert_eq!(schema["properties"]["tags"]["items"]["additionalProperties"], json!(false));
            assert_eq!(schema["$defs"]["person"]["additionalProperties"], json!(false));
            assert_eq!(
                schema["properties"]["either"]["anyOf"][0]["additionalProperties"],
                json!(false)
            );
            assert_eq!(schema["properties"]["note"], json!({"type": ["string", "null"]}));
        }
        assert_eq!(open["required"], json!(["name", "tags", "owner"]));
        // The optional ones join in the order the schema lists them.
        assert_eq!(strict.schema["required"], json!(["name", "tags", "owner", "note", "either"]));
        assert_eq!(strict.unwrap, Unwrap::Nothing);
    }

    #[test]
    fn what_strict_mode_cannot_express_is_refused_naming_the_rule() {
        let optional = json!({"type": "object", "properties": {"deep": {"type": "object", "properties": {"a": {"type": "string"}}}}, "required": ["deep"]});
        let format = OutputFormat::JsonSchema(optional);
        assert!(JsonOutput::for_format(&format, Strictness::Closed).is_ok());
        let Err(ChatError::InvalidRequest(message)) =
            JsonOutput::for_format(&format, Strictness::AllRequired)
        else {
            panic!("an optional property that cannot be null is refused in strict mode");
        };
        assert!(message.contains("properties.deep") && message.contains("\"a\""), "{message}");
        assert!(message.contains("every property required"), "{message}");

        let map = json!({"type": "object", "additionalProperties": {"type": "integer"}});
        let refused = JsonOutput::for_format(&OutputFormat::JsonSchema(map), Strictness::Closed);
        let Err(ChatError::InvalidRequest(message)) = refused else { panic!("{refused:?}") };
        assert!(message.contains("additionalProperties: false"), "{message}");
    }
}
