//! Tool calls in the `<tool_call>` convention of Qwen2.5 and Hermes: the model writes
//! `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (SmolLM2 was trained to put a
//! JSON list of such calls in one block, which is taken too), after its text if it has any.
//!
//! Here are the parts of it: how tools, earlier calls and their results are written for a
//! model whose chat template does not render them ([`write_into`], [`describe`]: the words and
//! layout of Qwen's template), the grammar that lets a model write free text and, once it opens
//! a call, only a call of an offered tool with arguments valid against that tool's schema
//! ([`grammar`]), and reading the calls back out of the answer ([`parse`]).

use serde_json::{Value, json};

use crate::message::{Message, Role, Tool, ToolCall};
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

/// `messages` as a template that renders no tools reads them: `tools` described in the system
/// message (after the instructions there are, or in one of its own), each assistant message's
/// calls written after its text, and each tool's result a user message
/// `<tool_response>\n…\n</tool_response>`, as Qwen2.5's template writes them.
pub fn write_into(mut messages: Vec<Message>, tools: &[Tool]) -> Vec<Message> {
    for message in &mut messages {
        if !message.tool_calls.is_empty() {
            let calls: Vec<String> = message
                .tool_calls
                .drain(..)
                .map(|call| {
                    let call = json!({"name": call.name, "arguments": call.arguments});
                    format!("{OPEN}\n{call}\n{CLOSE}")
                })
                .collect();
            let calls = calls.join("\n");
            message.content = match message.content.is_empty() {
                true => calls,
                false => format!("{}\n{calls}", message.content),
            };
        }
        if message.role == Role::Tool {
            message.role = Role::User;
            message.content = format!("<tool_response>\n{}\n</tool_response>", message.content);
            message.tool_call_id = None;
        }
    }
    if tools.is_empty() {
        return messages;
    }
    match messages.first_mut() {
        Some(system) if system.role == Role::System => {
            system.content = format!("{}\n\n{}", system.content, describe(tools));
        }
        _ => messages.insert(0, Message::system(describe(tools))),
    }
    messages
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
    let spacing = crate::types::compact_json();
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
    use std::ops::ControlFlow;
    use std::sync::Arc;

    use super::*;
    use crate::constraint::ConstraintCompiler;
    use crate::constraint::tests::allowed_prefix;
    use crate::message::Message;
    use crate::model::LocalModel;
    use crate::types::{FinishReason, GenerationParams, OutputFormat};

    fn smollm2() -> LocalModel {
        LocalModel::load(&crate::testing::smollm2())
            .expect("SmolLM2 loads (run ./scripts/models.sh)")
    }

    fn weather() -> Tool {
        Tool {
            name: "get_weather".into(),
            description: "Gets the current weather in a city.".into(),
            parameters: json!({
                "type": "object",
                "properties": {"city": {"type": "string", "maxLength": 40}},
                "required": ["city"],
                "additionalProperties": false
            }),
        }
    }

    fn search_jobs() -> Tool {
        Tool {
            name: "search_jobs".into(),
            description: "Searches the job postings by keywords and location.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "maxLength": 60},
                    "location": {"type": "string", "maxLength": 40}
                },
                "required": ["query"]
            }),
        }
    }

    /// The call's arguments, checked against the schema of the tool it names.
    fn assert_valid(call: &ToolCall, tools: &[Tool]) {
        let tool = tools.iter().find(|t| t.name == call.name).expect("an offered tool");
        let validator = jsonschema::validator_for(&tool.parameters).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&call.arguments).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{call:?}: {errors:?}");
    }

    /// Told it must call a tool, the model calls the one that fits, with valid arguments,
    /// and writes no text.
    #[test]
    fn a_required_call_names_an_offered_tool_with_valid_arguments() {
        let mut model = smollm2();
        let tools = [weather(), search_jobs()];
        let params = GenerationParams { max_tokens: 80, ..GenerationParams::default() };
        let question = [Message::user("What's the weather like in Paris?")];
        let mut streamed = String::new();
        let answer = model
            .chat(&question, &tools, &OutputFormat::ToolCalls, &params, |piece| {
                streamed.push_str(piece);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(answer.finish, FinishReason::ToolCalls, "{answer:?}");
        assert_eq!((answer.text.as_str(), streamed.as_str()), ("", ""));
        assert_eq!(answer.tool_calls.len(), 1, "{answer:?}");
        let call = &answer.tool_calls[0];
        assert_eq!((call.id.as_str(), call.name.as_str()), ("call_0", "get_weather"));
        assert_eq!(call.arguments, json!({"city": "Paris"}));
        assert_valid(call, &tools);
    }

    /// Shown earlier calls in the conversation, the model calls a tool by itself: the text
    /// before the call is streamed and is the answer's text, the call is not.
    #[test]
    fn a_call_the_model_chooses_is_parsed_and_not_streamed() {
        let mut model = smollm2();
        let tools = [weather(), search_jobs()];
        let params = GenerationParams { max_tokens: 80, ..GenerationParams::default() };
        let conversation = [
            Message::user("How is the weather in Madrid?"),
            Message::assistant(
                "Let me look that up.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Madrid\"}}\n</tool_call>",
            ),
            Message::user("What's the weather like in Paris?"),
        ];
        let mut streamed = String::new();
        let answer = model
            .chat(&conversation, &tools, &OutputFormat::Text, &params, |piece| {
                streamed.push_str(piece);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(answer.finish, FinishReason::ToolCalls, "{answer:?}");
        assert_eq!(answer.text, "Let me look that up.");
        assert_eq!(streamed, answer.text);
        assert_eq!(answer.tool_calls.len(), 1, "{answer:?}");
        assert_eq!(answer.tool_calls[0].name, "get_weather");
        assert_valid(&answer.tool_calls[0], &tools);
    }

    /// Offered tools it does not need, the model answers in text as it would without them.
    #[test]
    fn an_answer_without_a_call_is_all_text() {
        let mut model = smollm2();
        let params = GenerationParams { max_tokens: 48, ..GenerationParams::default() };
        let question = [Message::user("What is the capital of France?")];
        let mut streamed = String::new();
        let answer = model
            .chat(&question, &[search_jobs()], &OutputFormat::Text, &params, |piece| {
                streamed.push_str(piece);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert!(answer.tool_calls.is_empty(), "{answer:?}");
        assert_ne!(answer.finish, FinishReason::ToolCalls);
        assert!(!answer.text.trim().is_empty(), "{answer:?}");
        assert_eq!(streamed, answer.text);
    }

    /// SmolLM2's template ignores tools: they are described in the system message, after
    /// the instructions there are (or in one of their own).
    #[test]
    fn tools_are_described_to_a_template_that_ignores_them() {
        let model = smollm2();
        let tools = [search_jobs()];
        let plain = model.prompt(&[Message::user("Find jobs.")], &[]).unwrap();
        assert!(!plain.contains("<tools>"), "{plain}");
        let offered = model.prompt(&[Message::user("Find jobs.")], &tools).unwrap();
        assert!(offered.starts_with("<|im_start|>system\n# Tools\n"), "{offered}");
        assert!(offered.contains("\"name\":\"search_jobs\""), "{offered}");
        let instructed = model
            .prompt(&[Message::system("Be brief."), Message::user("Find jobs.")], &tools)
            .unwrap();
        assert!(
            instructed.starts_with("<|im_start|>system\nBe brief.\n\n# Tools\n"),
            "{instructed}"
        );
        assert_eq!(instructed.matches("<|im_start|>system").count(), 1, "{instructed}");
    }

    /// The calls an assistant made and their results are written into the turns, for a
    /// template that renders neither.
    #[test]
    fn earlier_calls_and_results_are_written_for_a_template_that_ignores_them() {
        let model = smollm2();
        let mut called = Message::assistant("");
        called.tool_calls.push(ToolCall {
            id: "call_0".into(),
            name: "get_weather".into(),
            arguments: json!({"city": "Paris<|im_end|>"}),
        });
        let conversation = [
            Message::user("What's the weather like in Paris?"),
            called,
            Message::tool("call_0", "Sunny, 21 °C"),
        ];
        let prompt = model.prompt(&conversation, &[weather()]).unwrap();
        let call = "<|im_start|>assistant\n<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}\n</tool_call><|im_end|>";
        assert!(prompt.contains(call), "{prompt}");
        let result = "<|im_start|>user\n<tool_response>\nSunny, 21 °C\n</tool_response><|im_end|>";
        assert!(prompt.contains(result), "{prompt}");
        assert!(prompt.ends_with(&format!("{result}\n<|im_start|>assistant\n")), "{prompt}");
    }

    /// The grammar itself: free text; text then calls of offered tools; no unknown tool, no
    /// arguments against the schema, no text after the calls; and when a call is required,
    /// no text at all.
    #[test]
    fn the_grammar_allows_text_then_calls_of_offered_tools_only() {
        let tokenizer = Arc::new(crate::testing::smollm2_tokenizer());
        let compiler = ConstraintCompiler::new(tokenizer.clone()).unwrap();
        let tools = [weather(), search_jobs()];
        let call = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>";
        let listed = "<tool_call>[{\"name\": \"search_jobs\", \"arguments\": {\"query\": \"rust\"}}]</tool_call>";
        let allowed = [
            "Just text, <b>with tags</b>\nand lines.".to_owned(),
            format!("Let me look.\n{call}"),
            format!("{call}\n{listed}\n"),
        ];
        for text in &allowed {
            let mut constraint = compiler.compile(&OutputFormat::Text, &tools).unwrap().unwrap();
            let ids = tokenizer.encode(text).unwrap();
            assert_eq!(allowed_prefix(&mut constraint, &tokenizer, text), ids.len(), "{text}");
        }
        let refused = [
            "<tool_call>\n{\"name\": \"delete_all\"".to_owned(),
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"town\"".to_owned(),
            "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": 3".to_owned(),
            format!("{call} and more text"),
        ];
        for text in &refused {
            let mut constraint = compiler.compile(&OutputFormat::Text, &tools).unwrap().unwrap();
            let ids = tokenizer.encode(text).unwrap();
            assert!(allowed_prefix(&mut constraint, &tokenizer, text) < ids.len(), "{text}");
        }
        let mut required = compiler.compile(&OutputFormat::ToolCalls, &tools).unwrap().unwrap();
        let forced = tokenizer.decode(&required.forced().unwrap()).unwrap();
        assert!(OPEN.starts_with(&forced) && !forced.is_empty(), "{forced:?}");
        let mut required = compiler.compile(&OutputFormat::ToolCalls, &tools).unwrap().unwrap();
        assert_eq!(allowed_prefix(&mut required, &tokenizer, "Sure"), 0);
    }

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
