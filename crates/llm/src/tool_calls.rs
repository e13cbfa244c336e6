//! Tool calls in the `<tool_call>` convention of Qwen2.5 and Hermes: the model writes
//! `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (SmolLM2 was trained to put a
//! JSON list of such calls in one block, which is taken too), after its text if it has any.
//!
//! Here are the three parts of it: how tools are described to a model whose chat template
//! does not ([`describe`], the words Qwen's template uses), the grammar that lets a model write
//! free text and, once it opens a call, only a call of an offered tool with arguments valid
//! against that tool's schema ([`grammar`]), and reading the calls back out of the answer
//! ([`parse`]).

use serde_json::{Value, json};

use crate::message::{Tool, ToolCall};
use crate::types::ModelError;

/// What opens a call.
pub const OPEN: &str = "<tool_call>";
/// What closes it.
pub const CLOSE: &str = "</tool_call>";

/// The text a system message gets to offer `tools`, for templates that do not render tools
/// themselves: the words and the layout of Qwen2.5's template.
pub fn describe(tools: &[Tool]) -> String {
    let mut text = String::from(
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
         You are provided with function signatures within <tools></tools> XML tags:\n<tools>",
    );
    for tool in tools {
        text.push('\n');
        text.push_str(&json!({"type": "function", "function": tool}).to_string());
    }
    text.push_str(
        "\n</tools>\n\nFor each function call, return a json object with function name and \
         arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n\
         {\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>",
    );
    text
}

/// A Lark grammar for an answer that may call `tools`: any text; or text, then one or more
/// calls (each block one call object or a list of them), then at most a little whitespace.
/// When calls are `required`, there is no text: the answer opens with a call. A call names one
/// of the tools and has arguments valid against that tool's parameter schema; JSON is spaced
/// as in [`crate::constraint`] (one space at most after a comma or colon).
pub fn grammar(tools: &[Tool], required: bool) -> Result<String, ModelError> {
    let calls: Vec<Value> = tools
        .iter()
        .map(|tool| {
            let arguments = match &tool.parameters {
                Value::Null => json!({"type": "object"}),
                Value::Object(schema) if schema.is_empty() => json!({"type": "object"}),
                schema => schema.clone(),
            };
            json!({
                "type": "object",
                "properties": {"name": {"const": tool.name}, "arguments": arguments},
                "required": ["name", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    let spacing = crate::constraint::compact_json();
    let one = json!({"x-guidance": spacing, "anyOf": calls});
    let many = json!({
        "x-guidance": spacing,
        "type": "array",
        "items": {"anyOf": calls},
        "minItems": 1,
    });
    let open = serde_json::to_string(OPEN).map_err(|e| ModelError::Constraint(e.to_string()))?;
    let close = serde_json::to_string(CLOSE).map_err(|e| ModelError::Constraint(e.to_string()))?;
    // Text ends where a call opens (a lazy lexeme: the shortest text that ends in `OPEN`).
    let (start, first) = match required {
        true => ("calls", format!("first: {open} body")),
        false => ("TEXT | calls", format!("first: first_open body\nfirst_open[lazy]: TEXT {open}")),
    };
    Ok(format!(
        r#"start: {start}
TEXT: /(.|\n)*/
calls: first more* TAIL?
{first}
more: "\n"? {open} body
body: "\n"? payload "\n"? {close}
payload: %json {one} | %json {many}
TAIL: /[ \t\r\n]{{1,2}}/
"#
    ))
}

/// Where the first call opens in an answer's text, if it does.
pub fn start(text: &str) -> Option<usize> {
    text.find(OPEN)
}

/// The complete calls in `text` (what an answer wrote from its first call on), numbered
/// `call_0`, `call_1`, … in order. A call cut short (the answer ran out of tokens) is left
/// out, as is anything that is not a call of the form the grammar allows.
pub fn parse(text: &str) -> Vec<ToolCall> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        rest = &rest[at + OPEN.len()..];
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        let Some(Ok(value)) = values.next() else { break };
        let after = &rest[values.byte_offset()..];
        let Some(after) = after.trim_start().strip_prefix(CLOSE) else { break };
        rest = after;
        let objects = match value {
            Value::Array(items) => items,
            object => vec![object],
        };
        for object in objects {
            let Value::Object(mut object) = object else { continue };
            let (Some(Value::String(name)), Some(arguments)) =
                (object.remove("name"), object.remove("arguments"))
            else {
                continue;
            };
            calls.push(ToolCall { id: format!("call_{}", calls.len()), name, arguments });
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_back_in_order_and_a_call_cut_short_is_left_out() {
        let text = "<tool_call>\n{\"name\": \"search_jobs\", \"arguments\": {\"query\": \"a </tool_call> b\"}}\n</tool_call>\n\
                    <tool_call>[{\"name\": \"a\", \"arguments\": {}}, {\"name\": \"b\", \"arguments\": {\"x\": 1}}]</tool_call>\n\
                    <tool_call>\n{\"name\": \"c\", \"argu";
        let calls = parse(text);
        let names: Vec<&str> = calls.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["search_jobs", "a", "b"]);
        let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["call_0", "call_1", "call_2"]);
        assert_eq!(calls[0].arguments, json!({"query": "a </tool_call> b"}));
        assert_eq!(calls[2].arguments, json!({"x": 1}));
        assert_eq!(start("Let me look.\n<tool_call>"), Some("Let me look.\n".len()));
        assert_eq!(start("no call"), None);
    }

    #[test]
    fn tools_are_described_as_qwens_template_describes_them() {
        let tool = Tool {
            name: "search_jobs".into(),
            description: "Searches the job postings.".into(),
            parameters: json!({"type": "object", "properties": {"query": {"type": "string"}}}),
        };
        let text = describe(&[tool]);
        assert!(text.starts_with("# Tools\n\nYou may call one or more functions"), "{text}");
        assert!(
            text.contains("<tools>\n{\"type\":\"function\",\"function\":{\"name\":\"search_jobs\""),
            "{text}"
        );
        assert!(text.ends_with("<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call>"), "{text}");
    }
}
