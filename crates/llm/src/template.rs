//! The chat template a GGUF stores (`tokenizer.chat_template`): the Jinja program that turns
//! a conversation into the prompt text the model was trained on.
//!
//! It is rendered with minijinja set up as Hugging Face transformers sets up Jinja2 in
//! `apply_chat_template`: blocks trimmed, Python's string and dict methods available
//! (minijinja-contrib's pycompat), `tojson` written as Python's `json.dumps` writes it, and
//! `raise_exception` and `strftime_now`, which templates of other model families call. Tools and
//! tool calls are passed in the OpenAI shape those templates expect
//! (`{"type": "function", "function": {…}}`). The keys of free-form JSON (a tool's parameter
//! schema, a call's arguments) keep their order, as Python's dicts do.

use candle_core::quantized::gguf_file::Content;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, Value, context};
use serde::Serialize;

use crate::message::{Message, Role, Tool};

const TEMPLATE: &str = "chat";

/// Why a conversation could not be turned into a prompt.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the model file has no chat template (tokenizer.chat_template)")]
    Missing,
    #[error("the model's chat template does not parse: {0}")]
    Syntax(String),
    #[error("the model's chat template cannot render this conversation: {0}")]
    Render(String),
}

/// A chat template, ready to render conversations.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate").field("eos_token", &self.eos_token).finish()
    }
}

impl ChatTemplate {
    /// The template of a GGUF file, with the texts of its beginning- and end-of-sequence tokens
    /// (which templates may write as `bos_token` and `eos_token`).
    pub fn from_gguf(
        content: &Content,
        bos_token: impl Into<String>,
        eos_token: impl Into<String>,
    ) -> Result<Self, TemplateError> {
        let source = content
            .metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .ok_or(TemplateError::Missing)?;
        Self::new(source.clone(), bos_token, eos_token)
    }

    pub fn new(
        source: String,
        bos_token: impl Into<String>,
        eos_token: impl Into<String>,
    ) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_filter("tojson", tojson);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        env.add_template_owned(TEMPLATE, source)
            .map_err(|e| TemplateError::Syntax(e.to_string()))?;
        Ok(Self { env, bos_token: bos_token.into(), eos_token: eos_token.into() })
    }

    /// The prompt for `messages`, offering `tools` (none: the template's plain form), and
    /// opening the assistant's turn when `add_generation_prompt`.
    pub fn render(
        &self,
        messages: &[Message],
        tools: &[Tool],
        add_generation_prompt: bool,
    ) -> Result<String, TemplateError> {
        let messages: Vec<TemplateMessage<'_>> =
            messages.iter().map(TemplateMessage::from).collect();
        let tools: Option<Vec<TemplateTool<'_>>> = (!tools.is_empty()).then(|| {
            tools.iter().map(|function| TemplateTool { kind: "function", function }).collect()
        });
        let template =
            self.env.get_template(TEMPLATE).map_err(|e| TemplateError::Syntax(e.to_string()))?;
        template
            .render(context! {
                messages,
                tools,
                add_generation_prompt,
                bos_token => self.bos_token,
                eos_token => self.eos_token,
            })
            .map_err(|e| TemplateError::Render(error_text(&e)))
    }
}

/// A message as templates read it: `tool_calls` only on messages that have some (templates
/// test `not message.tool_calls`).
#[derive(Serialize)]
struct TemplateMessage<'a> {
    role: Role,
    content: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<TemplateToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

impl<'a> From<&'a Message> for TemplateMessage<'a> {
    fn from(message: &'a Message) -> Self {
        Self {
            role: message.role,
            content: &message.content,
            tool_calls: message
                .tool_calls
                .iter()
                .map(|call| TemplateToolCall {
                    id: (!call.id.is_empty()).then_some(call.id.as_str()),
                    kind: "function",
                    function: TemplateFunction { name: &call.name, arguments: &call.arguments },
                })
                .collect(),
            tool_call_id: message.tool_call_id.as_deref(),
        }
    }
}

/// A tool call as transformers passes it: `{id, type, function: {name, arguments}}`.
#[derive(Serialize)]
struct TemplateToolCall<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: &'static str,
    function: TemplateFunction<'a>,
}

#[derive(Serialize)]
struct TemplateFunction<'a> {
    name: &'a str,
    arguments: &'a serde_json::Value,
}

#[derive(Serialize)]
struct TemplateTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: &'a Tool,
}

/// Python's `json.dumps(value, ensure_ascii=False)`: `", "` and `": "` between items, nothing
/// escaped for HTML; `indent=N` spreads it over lines as Python does.
fn tojson(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    // Non-ASCII text is written as it is whatever this says (the tokenizer reads either).
    let _: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    let written = match indent {
        Some(width) => {
            let indent = " ".repeat(width);
            let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
            value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, formatter))
        }
        None => value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, PythonJson)),
    };
    written.map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    let text = String::from_utf8(out)
        .map_err(|e| Error::new(ErrorKind::BadSerialization, e.to_string()))?;
    Ok(Value::from_safe_string(text))
}

/// serde_json's compact output with Python's default separators.
struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

/// Templates refuse a conversation they cannot render (roles out of order) with this.
fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

/// The local time in a strftime format (templates that print today's date).
fn strftime_now(format: String) -> String {
    chrono::Local::now().format(&format).to_string()
}

/// The error with its causes, which say where in the template it happened.
fn error_text(err: &Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {

    use super::*;

    fn smollm2() -> ChatTemplate {
        let path = crate::testing::smollm2();
        let mut file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run ./scripts/models.sh)", path.display()));
        let content = Content::read(&mut file).expect("the GGUF's metadata reads");
        ChatTemplate::from_gguf(&content, "", "<|im_end|>").expect("the template parses")
    }

    fn qwen() -> ChatTemplate {
        let source = include_str!("../../../fixtures/chat_templates/qwen2.5-coder-instruct.jinja");
        ChatTemplate::new(source.to_owned(), "", "<|im_end|>").expect("the template parses")
    }

    /// Each conversation renders to the text Jinja2 renders it to as transformers sets it up
    /// (scripts/fixtures/chat_templates.py): SmolLM2's template from its GGUF, and
    /// Qwen2.5-Coder's, which has tools and tool calls.
    #[test]
    fn conversations_render_as_the_reference_renders_them() {
        let (smollm2, qwen) = (smollm2(), qwen());
        let fixture = include_str!("../../../fixtures/chat_templates/renders.jsonl");
        let mut cases = 0;
        for line in fixture.lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let template = match case["template"].as_str().unwrap() {
                "smollm2" => &smollm2,
                "qwen2.5-coder-instruct" => &qwen,
                other => panic!("no template {other}"),
            };
            let messages: Vec<Message> = case["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let role = serde_json::from_value(m["role"].clone()).unwrap();
                    let mut message = Message::new(role, m["content"].as_str().unwrap());
                    // The fixture writes calls in the OpenAI shape the templates read.
                    if let Some(calls) = m["tool_calls"].as_array() {
                        message.tool_calls = calls
                            .iter()
                            .map(|c| serde_json::from_value(c["function"].clone()).unwrap())
                            .collect();
                    }
                    message
                })
                .collect();
            let tools: Vec<Tool> = case["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| serde_json::from_value(t["function"].clone()).unwrap())
                .collect();
            let generation = case["add_generation_prompt"].as_bool().unwrap();
            let text = template.render(&messages, &tools, generation).unwrap();
            assert_eq!(text, case["text"].as_str().unwrap(), "{}", case["case"]);
            cases += 1;
        }
        assert_eq!(cases, 10);
    }

    #[test]
    fn tojson_writes_pythons_separators_and_leaves_text_unescaped() {
        let env = {
            let mut env = Environment::new();
            env.add_filter("tojson", tojson);
            env
        };
        let value = serde_json::json!({"b": [1, 2.5, null], "a": "<é \"x\">", "c": {}});
        let compact = env.render_str("{{ v | tojson }}", context! { v => value }).unwrap();
        assert_eq!(compact, r#"{"b": [1, 2.5, null], "a": "<é \"x\">", "c": {}}"#);
        let indented = env.render_str("{{ v | tojson(indent=2) }}", context! { v => [1] }).unwrap();
        assert_eq!(indented, "[\n  1\n]");
    }

    #[test]
    fn a_template_that_refuses_a_conversation_says_why() {
        let template = ChatTemplate::new(
            "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start \
             with a user message') }}{% endif %}"
                .into(),
            "",
            "",
        )
        .unwrap();
        let err = template.render(&[Message::assistant("hi")], &[], true).unwrap_err();
        assert!(err.to_string().contains("must start with a user message"), "{err}");
        assert!(matches!(
            ChatTemplate::new("{% if %}".into(), "", ""),
            Err(TemplateError::Syntax(_))
        ));
    }
}
