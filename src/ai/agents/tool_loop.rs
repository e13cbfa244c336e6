//! The tool contract and the bounded loop that runs tools for one message.
//!
//! A [`Tool`] has a name, a description and a JSON schema of its arguments (what a model is
//! shown), says whether it writes, and runs with arguments in the caller's context `C` (the
//! portal's services for one turn), giving a [`ToolOutput`]: a summary and the items the
//! answer may cite. A write's `run` does not write: it answers the question to confirm
//! (`confirm`), and the caller runs the write only after the user said yes, with the arguments
//! stored then.
//!
//! The calls come from the router and the argument filler with local models, or from the
//! model's own tool calls with hosted ones ([`native_calls`], for models whose
//! [`ChatModel::native_tools`] is true). Either way [`run_calls`] runs at most [`MAX_STEPS`] of
//! them, announcing each before it runs, and stops after a write that waits for a yes. Every
//! request to a model is counted against the turn's [`Budget`].

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::citations::Source;
use crate::ai::providers::chat::error::ChatError;
use crate::ai::providers::chat::message::{Message, Tool as ToolDefinition, ToolCall};
use crate::ai::providers::chat::provider::{ChatEvent, ChatModel, ChatRequest};
use crate::ai::providers::chat::types::{GenerationParams, OutputFormat};

/// The most tool steps one message runs.
pub const MAX_STEPS: usize = 3;

/// What a tool gives back.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput<K> {
    /// What it found or did, in a sentence or two (written by code).
    pub summary: String,
    /// What the answer may cite, in the tool's order.
    pub items: Vec<Source<K>>,
    /// For a write: the question that asks the user to confirm it; the write waits.
    pub confirm: Option<Confirm>,
}

impl<K> ToolOutput<K> {
    pub fn new(summary: impl Into<String>, items: Vec<Source<K>>) -> Self {
        Self { summary: summary.into(), items, confirm: None }
    }
}

/// A write waiting for the user's yes: which tool writes, with which arguments, asked how.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub tool: String,
    pub arguments: Value,
    pub question: String,
}

/// A tool the assistant may run in context `C`, citing items of kind `K`, failing with `E`.
pub trait Tool<C: ?Sized, K, E>: Send + Sync {
    fn name(&self) -> &'static str;
    /// What it does, for the model (and the routing prompt). Stable: part of a cached prefix.
    fn description(&self) -> &'static str;
    /// The JSON schema of its arguments (an object). Stable, like the description.
    fn schema(&self) -> Value;
    /// Whether it changes anything (then `run` only asks, see the module's note).
    fn is_write(&self) -> bool {
        false
    }
    fn run<'a>(&'a self, cx: &'a C, arguments: Value) -> BoxFuture<'a, Result<ToolOutput<K>, E>>;
}

/// The tools of an assistant, in a fixed order.
pub struct Toolbox<C: ?Sized, K, E> {
    tools: Vec<Box<dyn Tool<C, K, E>>>,
}

impl<C: ?Sized, K, E> Toolbox<C, K, E> {
    pub fn new(tools: Vec<Box<dyn Tool<C, K, E>>>) -> Self {
        Self { tools }
    }

    pub fn get(&self, name: &str) -> Option<&dyn Tool<C, K, E>> {
        self.tools.iter().find(|t| t.name() == name).map(|t| &**t)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.tools.iter().map(|t| t.name()).collect()
    }

    /// The tools as a model is offered them, always in the same order with the same bytes.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .iter()
            .map(|t| ToolDefinition {
                name: t.name().to_owned(),
                description: t.description().to_owned(),
                parameters: t.schema(),
            })
            .collect()
    }
}

/// Requests to the chat model one turn may still make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    left: usize,
}

impl Budget {
    pub fn new(calls: usize) -> Self {
        Self { left: calls }
    }

    /// Takes one request from the budget; `false` when none is left.
    pub fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }

    pub fn left(&self) -> usize {
        self.left
    }
}

/// A tool to run with these arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub arguments: Value,
}

/// A call that ran, with what it gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran<K> {
    pub call: Call,
    pub output: ToolOutput<K>,
}

/// Why the loop stopped short.
#[derive(Debug, thiserror::Error)]
pub enum LoopError<E> {
    #[error(transparent)]
    Chat(#[from] ChatError),
    /// A tool failed in a way the turn cannot answer around.
    #[error("a tool failed")]
    Tool(E),
    /// The model called a tool that is not in the toolbox.
    #[error("the model called {0:?}, which is not a tool here")]
    UnknownTool(String),
}

/// Runs `calls` in order, at most [`MAX_STEPS`]; `before` hears of each just before it runs.
/// Stops after a tool that asks for a confirmation (a write waits alone).
pub async fn run_calls<C: ?Sized, K, E>(
    toolbox: &Toolbox<C, K, E>,
    cx: &C,
    calls: Vec<Call>,
    mut before: impl FnMut(&Call),
) -> Result<Vec<Ran<K>>, LoopError<E>> {
    let mut ran = Vec::new();
    for call in calls.into_iter().take(MAX_STEPS) {
        let tool =
            toolbox.get(&call.name).ok_or_else(|| LoopError::UnknownTool(call.name.clone()))?;
        before(&call);
        let output = tool.run(cx, call.arguments.clone()).await.map_err(LoopError::Tool)?;
        let waits = output.confirm.is_some();
        ran.push(Ran { call, output });
        if waits {
            break;
        }
    }
    Ok(ran)
}

/// Lets a model with native tool calls choose and run tools: up to [`MAX_STEPS`] rounds of
/// offering the toolbox after `messages`, running what it calls (each result given back to it
/// as the tool's summary), until it calls none, the budget is spent, or a write waits.
/// `check` turns a called tool's arguments into the ones it runs with (validated, defaults),
/// or refuses the call (`None`: not run, and the model told so).
// The loop's parts are independent, each named: a struct of them would only rename them.
#[allow(clippy::too_many_arguments)]
pub async fn native_calls<C: ?Sized, K, E>(
    model: &dyn ChatModel,
    toolbox: &Toolbox<C, K, E>,
    cx: &C,
    mut messages: Vec<Message>,
    params: &GenerationParams,
    budget: &std::sync::Mutex<Budget>,
    mut check: impl FnMut(&str, Value) -> Option<Value>,
    mut before: impl FnMut(&Call),
) -> Result<Vec<Ran<K>>, LoopError<E>> {
    let mut ran: Vec<Ran<K>> = Vec::new();
    // One request is kept for the answer.
    let take = || {
        let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
        budget.left() > 1 && budget.take()
    };
    while ran.len() < MAX_STEPS && take() {
        let mut request = ChatRequest::new(messages.clone());
        request.tools = toolbox.definitions();
        request.params = params.clone();
        request.format = OutputFormat::Text;
        let mut stream = model.chat(request)?;
        let mut calls: Vec<ToolCall> = Vec::new();
        while let Some(event) = stream.recv().await {
            match event? {
                ChatEvent::ToolCall(call) => calls.push(call),
                ChatEvent::Finished(_) => break,
                // Text written instead of a call is not the answer: the answer is written with
                // the numbered sources afterwards.
                ChatEvent::Text(_) | ChatEvent::Queued(_) => {}
            }
        }
        if calls.is_empty() {
            break;
        }
        messages.push(Message { tool_calls: calls.clone(), ..Message::assistant("") });
        let mut waits = false;
        for (i, call) in calls.into_iter().enumerate() {
            let id = if call.id.is_empty() { format!("call_{i}") } else { call.id.clone() };
            if ran.len() >= MAX_STEPS || waits {
                messages.push(Message::tool(id, "not run: too many steps"));
                continue;
            }
            let Some(tool) = toolbox.get(&call.name) else {
                messages.push(Message::tool(id, format!("there is no tool {:?}", call.name)));
                continue;
            };
            let Some(arguments) = check(&call.name, call.arguments.clone()) else {
                messages.push(Message::tool(id, "not run: the arguments are not valid"));
                continue;
            };
            let call = Call { name: call.name, arguments };
            before(&call);
            let output = tool.run(cx, call.arguments.clone()).await.map_err(LoopError::Tool)?;
            messages.push(Message::tool(id, output.summary.clone()));
            waits = output.confirm.is_some();
            ran.push(Ran { call, output });
        }
        if waits {
            break;
        }
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ai::providers::chat::provider::{ChatModelState, ChatStream};
    use crate::ai::providers::chat::types::{FinishReason, Generation};

    /// A model that answers scripted rounds of events and records what it was asked.
    #[derive(Debug, Default)]
    struct Scripted {
        rounds: Mutex<Vec<Vec<ChatEvent>>>,
        asked: Mutex<Vec<ChatRequest>>,
    }

    impl ChatModel for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }
        fn state(&self) -> ChatModelState {
            ChatModelState::Ready
        }
        fn native_tools(&self) -> bool {
            true
        }
        fn chat(&self, request: ChatRequest) -> Result<ChatStream, ChatError> {
            self.asked.lock().unwrap().push(request);
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let mut rounds = self.rounds.lock().unwrap();
            let events = if rounds.is_empty() { Vec::new() } else { rounds.remove(0) };
            for event in events {
                let _ = tx.send(Ok(event));
            }
            let _ = tx.send(Ok(ChatEvent::Finished(finished())));
            Ok(rx)
        }
    }

    fn finished() -> Generation {
        Generation {
            text: String::new(),
            tool_calls: Vec::new(),
            finish: FinishReason::Stop,
            prompt_tokens: 0,
            cached_tokens: 0,
            generated_tokens: 0,
            first_token_seconds: 0.0,
            seconds: 0.0,
        }
    }

    struct Echo {
        write: bool,
    }

    impl Tool<str, &'static str, String> for Echo {
        fn name(&self) -> &'static str {
            if self.write { "save" } else { "echo" }
        }
        fn description(&self) -> &'static str {
            "says it back"
        }
        fn schema(&self) -> Value {
            serde_json::json!({"type": "object", "properties": {"x": {"type": "string"}}})
        }
        fn is_write(&self) -> bool {
            self.write
        }
        fn run<'a>(
            &'a self,
            cx: &'a str,
            arguments: Value,
        ) -> BoxFuture<'a, Result<ToolOutput<&'static str>, String>> {
            Box::pin(async move {
                if arguments["x"] == "fail" {
                    return Err("failed".to_owned());
                }
                let mut output = ToolOutput::new(format!("{cx}: {}", arguments["x"]), Vec::new());
                if self.write {
                    output.confirm =
                        Some(Confirm { tool: "save".into(), arguments, question: "Save?".into() });
                }
                Ok(output)
            })
        }
    }

    fn toolbox() -> Toolbox<str, &'static str, String> {
        Toolbox::new(vec![Box::new(Echo { write: false }), Box::new(Echo { write: true })])
    }

    fn call(name: &str, x: &str) -> Call {
        Call { name: name.into(), arguments: serde_json::json!({"x": x}) }
    }

    #[tokio::test]
    async fn calls_run_in_order_at_most_max_steps_and_a_write_stops_the_rest() {
        let tools = toolbox();
        let mut announced = Vec::new();
        let calls = (0..5).map(|i| call("echo", &i.to_string())).collect();
        let ran = run_calls(&tools, "cx", calls, |c| announced.push(c.arguments["x"].clone()))
            .await
            .unwrap();
        assert_eq!(ran.len(), MAX_STEPS);
        assert_eq!(announced, vec!["0", "1", "2"]);
        assert_eq!(ran[1].output.summary, "cx: \"1\"");

        let calls = vec![call("echo", "a"), call("save", "b"), call("echo", "c")];
        let ran = run_calls(&tools, "cx", calls, |_| {}).await.unwrap();
        assert_eq!(ran.len(), 2);
        assert_eq!(ran[1].output.confirm.as_ref().unwrap().question, "Save?");

        let err = run_calls(&tools, "cx", vec![call("nope", "a")], |_| {}).await.unwrap_err();
        assert!(matches!(err, LoopError::UnknownTool(name) if name == "nope"));
        let err = run_calls(&tools, "cx", vec![call("echo", "fail")], |_| {}).await.unwrap_err();
        assert!(matches!(err, LoopError::Tool(e) if e == "failed"));
    }

    #[test]
    fn the_definitions_are_the_same_bytes_every_time() {
        let a = serde_json::to_string(&toolbox().definitions()).unwrap();
        let b = serde_json::to_string(&toolbox().definitions()).unwrap();
        assert_eq!(a, b);
        assert_eq!(toolbox().names(), vec!["echo", "save"]);
    }

    #[test]
    fn a_budget_gives_what_it_has() {
        let mut budget = Budget::new(2);
        assert!(budget.take() && budget.take());
        assert!(!budget.take());
        assert_eq!(budget.left(), 0);
    }

    fn tool_call(name: &str, x: &str) -> ChatEvent {
        ChatEvent::ToolCall(ToolCall {
            id: String::new(),
            name: name.into(),
            arguments: serde_json::json!({"x": x}),
        })
    }

    #[tokio::test]
    async fn native_calls_feed_results_back_until_the_model_calls_nothing() {
        let model = Scripted::default();
        *model.rounds.lock().unwrap() = vec![
            vec![tool_call("echo", "1"), tool_call("missing", "2")],
            vec![tool_call("echo", "3")],
            vec![ChatEvent::Text("done".into())],
        ];
        let tools = toolbox();
        let budget = Mutex::new(Budget::new(5));
        let ran = native_calls(
            &model,
            &tools,
            "cx",
            vec![Message::user("hi")],
            &GenerationParams::default(),
            &budget,
            |_, v| Some(v),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(
            ran.iter().map(|r| r.call.arguments["x"].as_str().unwrap()).collect::<Vec<_>>(),
            vec!["1", "3"]
        );
        assert_eq!(budget.lock().unwrap().left(), 2, "three rounds asked");
        let asked = model.asked.lock().unwrap();
        assert_eq!(asked.len(), 3);
        // The second round saw the first's calls and their results, the unknown tool's too.
        let second = &asked[1].messages;
        assert_eq!(second[1].tool_calls.len(), 2);
        assert_eq!(second[2].content, "cx: \"1\"");
        assert_eq!(second[2].tool_call_id.as_deref(), Some("call_0"));
        assert!(second[3].content.contains("no tool"), "{:?}", second[3]);
        assert_eq!(asked[0].tools, tools.definitions());
    }

    #[tokio::test]
    async fn native_calls_stop_at_a_write_and_keep_one_request_for_the_answer() {
        let model = Scripted::default();
        *model.rounds.lock().unwrap() = vec![vec![tool_call("save", "a"), tool_call("echo", "b")]];
        let budget = Mutex::new(Budget::new(3));
        let ran = native_calls(
            &model,
            &toolbox(),
            "cx",
            vec![Message::user("hi")],
            &GenerationParams::default(),
            &budget,
            |_, v| Some(v),
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(ran.len(), 1);
        assert!(ran[0].output.confirm.is_some());

        // Refused arguments are not run; a budget of one is kept for the answer.
        let model = Scripted::default();
        *model.rounds.lock().unwrap() = vec![vec![tool_call("echo", "a")]];
        let budget = Mutex::new(Budget::new(2));
        let ran = native_calls(
            &model,
            &toolbox(),
            "cx",
            vec![Message::user("hi")],
            &GenerationParams::default(),
            &budget,
            |_, _| None,
            |_| {},
        )
        .await
        .unwrap();
        assert!(ran.is_empty());
        assert_eq!(budget.lock().unwrap().left(), 1);
        let budget = Mutex::new(Budget::new(1));
        let ran = native_calls(
            &model,
            &toolbox(),
            "cx",
            vec![Message::user("hi")],
            &GenerationParams::default(),
            &budget,
            |_, v| Some(v),
            |_| {},
        )
        .await
        .unwrap();
        assert!(ran.is_empty());
        assert_eq!(
            model.asked.lock().unwrap().len(),
            1,
            "no request without budget for the answer"
        );
    }
}
