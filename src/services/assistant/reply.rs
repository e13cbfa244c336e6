//! One turn of the assistant: route the message to a tool (or none), fill the tool's
//! arguments, run it, retrieve what answers the question when no tool did, number the
//! sources, and let the model add a sentence or two to a list of the facts written by code.
//!
//! The order of a turn:
//! 1. A yes or a no to the write the last answer proposed runs it (with the arguments stored
//!    then) or cancels it, without the model. Anything else drops it.
//! 2. The tool: with a local model, [`tools::ROUTER`] picks it by embeddings and its
//!    arguments are filled (constrained JSON for the search's filters, checked against the
//!    message; references to jobs and applications read by code); a hosted model with native
//!    tool calls chooses tools itself. Each tool is announced ([`AssistantEvent::Tool`])
//!    before it runs. A write only asks (the question is the answer, the write is stored as
//!    the reply's [`PendingAction`]).
//! 3. Sources: the tools' items, or, when no tool ran, what [`retrieval::retrieve`] finds
//!    for the question. They are numbered `[1]`…`[n]` by the server. None: the answer says so,
//!    written by code, and the model is not asked.
//! 4. The answer: the tool's summary and one line of facts per source, then the model's
//!    sentences, streamed as they come through a [`CitationStream`], which sends each source's
//!    [`AssistantEvent::Citation`] when its number first appears and drops numbers the server
//!    did not hand out (from the stream and the stored text alike).
//!
//! A turn asks the model at most [`MAX_MODEL_CALLS`] times. The answer's prompt starts with
//! the one system prompt every request shares, so the local engine reuses its prefix.

use std::sync::Mutex;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::sentences::Checked;
use super::tools::{self, Turn, references};
use super::{
    AssistantEvent, Citation, ConversationMessage, MessageRole, PendingAction, Reply, ToolStep,
    retrieval,
};
use crate::ai::agents::arguments::{self, FillError};
use crate::ai::agents::citations::{CitationStream, Cited, Source, Sources};
use crate::ai::agents::quoting::{Quoter, strip_invisible};
use crate::ai::agents::router::{Confirmation, confirmation};
use crate::ai::agents::tool_loop::{self, Budget, Call, LoopError, Ran};
use crate::ai::prompts;
use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::provider::{ChatEvent, ChatRequest};
use crate::ai::providers::chat::types::{FinishReason, GenerationParams};
use crate::models::application::Stage;
use crate::models::conversation::CitationKind;
use crate::models::user::Role;
use crate::services::{Context, Principal, ServiceError};

/// The most requests one turn makes to the chat model: the arguments (or a hosted model's
/// tool choice), a chain's text, and the answer.
pub const MAX_MODEL_CALLS: usize = 3;

/// How many retrieved documents an answer without a tool cites at most.
pub const RETRIEVED: usize = 4;

/// Where the model's answer ends when it starts writing a delimiter of the quoted data.
const QUOTE_STOPS: [&str; 2] = ["<<DATA-", "<</DATA-"];

/// The most tokens of the model's own sentences after the list of facts.
pub const ANSWER_TOKENS: usize = 80;

/// What an answer says when nothing that answers the message was found.
pub const NOTHING_FOUND: &str = "I found nothing in the portal that answers this. Try other words, or ask me to search jobs by title, skill or place.";

/// What an answer says to a yes or no when nothing waits for one.
pub const NOTHING_TO_CONFIRM: &str = "There is nothing waiting for your confirmation.";

/// Answers `content` after `history`, streaming what it does to `events`.
pub async fn answer(
    ctx: &Context,
    principal: &Principal,
    history: &[ConversationMessage],
    content: &str,
    events: &mpsc::UnboundedSender<AssistantEvent>,
) -> Result<Reply, ServiceError> {
    let model = ctx.ai.chat().ok_or_else(|| {
        ServiceError::ModelUnavailable(
            "the assistant needs the chat model, which is not started".into(),
        )
    })?;
    let message = strip_invisible(content).trim().to_owned();
    let turn = Turn {
        ctx,
        principal,
        history,
        message: &message,
        model: model.clone(),
        budget: Mutex::new(Budget::new(MAX_MODEL_CALLS)),
        queued: &|ahead| {
            let _ = events.send(AssistantEvent::Queued(ahead));
        },
    };
    let mut out = Out::new(events);

    // 1. The answer to a question the last reply asked.
    let pending = history
        .last()
        .filter(|m| m.role == MessageRole::Assistant)
        .and_then(|m| m.pending_action.as_ref());
    match (pending, confirmation(&message)) {
        (Some(pending), Some(Confirmation::Yes)) => {
            let step =
                ToolStep { name: pending.tool.clone(), arguments: pending.arguments.clone() };
            out.tool(&step);
            let (step, text) = tools::run_pending(&turn, pending).await?;
            out.reply.tool_calls = vec![step];
            out.write(&text, &Sources::new());
            return Ok(out.finish());
        }
        (Some(_), Some(Confirmation::No)) => {
            out.write("All right, I did not do it.", &Sources::new());
            return Ok(out.finish());
        }
        (None, Some(_)) => {
            out.write(NOTHING_TO_CONFIRM, &Sources::new());
            return Ok(out.finish());
        }
        _ => {}
    }

    // 2. The tools.
    let toolbox = tools::toolbox();
    let ran = if model.native_tools() {
        native_steps(&turn, &toolbox, &mut out).await?
    } else {
        match local_call(&turn).await? {
            Some(call) => {
                tool_loop::run_calls(&toolbox, &turn, vec![call], |c| out.tool(&step_of(c)))
                    .await
                    .map_err(loop_error)?
            }
            None => Vec::new(),
        }
    };

    // 3. The sources.
    let mut sources: Sources<CitationKind> = Sources::new();
    for r in &ran {
        for item in &r.output.items {
            sources.add(item.clone());
        }
    }
    if let Some(confirm) = ran.iter().find_map(|r| r.output.confirm.clone()) {
        // A write waits: the question (after the draft it would save) is the answer.
        let text = match ran.iter().find(|r| r.output.confirm.is_some()) {
            Some(r) if r.output.summary != confirm.question => {
                format!("{}\n\n{}", r.output.summary, confirm.question)
            }
            _ => confirm.question.clone(),
        };
        out.reply.pending_action = Some(PendingAction {
            tool: confirm.tool,
            arguments: confirm.arguments,
            summary: confirm.question,
        });
        out.write(&text, &Sources::new());
        return Ok(out.finish());
    }
    if ran.is_empty() {
        for found in retrieval::retrieve(ctx, principal, &message, RETRIEVED).await? {
            sources.add(Source {
                kind: found.kind,
                id: found.id,
                title: found.title,
                text: found.text,
            });
        }
    }
    if sources.is_empty() {
        let text = ran.first().map_or(NOTHING_FOUND.to_owned(), |r| {
            if r.output.summary.is_empty() {
                NOTHING_FOUND.to_owned()
            } else {
                r.output.summary.clone()
            }
        });
        out.write(&text, &sources);
        return Ok(out.finish());
    }

    // 4. The facts, then the model's sentences.
    let lead = lead(&ran, &sources);
    let mut stream = CitationStream::new(&sources);
    out.stream(&mut stream, &lead);
    let phrased_by_chain = ran.iter().any(|r| PHRASED.contains(&r.call.name.as_str()));
    if !phrased_by_chain && turn.take_call() {
        let request = answer_request(ctx, principal, &message, &sources)?;
        let texts = sources.iter().flat_map(|(_, s)| [s.title.as_str(), s.text.as_str()]);
        let mut checked = Checked::new(texts.chain([lead.as_str(), message.as_str()]));
        let mut chat = model.chat(request)?;
        let mut started = false;
        while let Some(event) = chat.recv().await {
            match event? {
                ChatEvent::Text(text) => {
                    let shown = checked.push(&text);
                    if !out.model_text(&mut stream, &mut started, &shown) {
                        break;
                    }
                }
                ChatEvent::ToolCall(_) => {}
                ChatEvent::Queued(ahead) => out.send(AssistantEvent::Queued(ahead)),
                ChatEvent::Finished(generation) => {
                    let rest = checked.finish(generation.finish == FinishReason::Stop);
                    out.model_text(&mut stream, &mut started, &rest);
                    break;
                }
            }
        }
        if checked.left_out > 0 {
            tracing::debug!(left_out = checked.left_out, "model sentences left out of an answer");
        }
    }
    let rest = stream.finish();
    out.emit(rest);
    out.reply.content = out.reply.content.trim_end().to_owned();
    Ok(out.finish())
}

/// Tools whose summary is already the whole text (a chain wrote it): the model adds nothing.
const PHRASED: &[&str] = &["draft_cover_letter", "resume_feedback"];

/// What goes out: events as they happen, and the reply being built.
struct Out<'e> {
    events: &'e mpsc::UnboundedSender<AssistantEvent>,
    reply: Reply,
    /// The receiver is gone: stop asking the model.
    closed: bool,
}

impl<'e> Out<'e> {
    fn new(events: &'e mpsc::UnboundedSender<AssistantEvent>) -> Self {
        Self { events, reply: Reply::default(), closed: false }
    }

    fn send(&mut self, event: AssistantEvent) {
        if self.events.send(event).is_err() {
            self.closed = true;
        }
    }

    fn tool(&mut self, step: &ToolStep) {
        self.reply.tool_calls.push(step.clone());
        self.send(AssistantEvent::Tool(step.clone()));
    }

    /// Streams a piece through the citation check; `false` once nobody listens.
    fn stream(&mut self, stream: &mut CitationStream<'_, CitationKind>, piece: &str) -> bool {
        let emitted = stream.push(piece);
        self.emit(emitted);
        !self.closed
    }

    fn emit(&mut self, emitted: crate::ai::agents::citations::Emitted<CitationKind>) {
        for cited in emitted.cited {
            let citation = citation(cited);
            self.reply.citations.push(citation.clone());
            self.send(AssistantEvent::Citation(citation));
        }
        if !emitted.text.is_empty() {
            self.reply.content.push_str(&emitted.text);
            self.send(AssistantEvent::Token(emitted.text));
        }
    }

    /// The model's checked text after the facts: a blank line before its first words;
    /// `false` once nobody listens.
    fn model_text(
        &mut self,
        stream: &mut CitationStream<'_, CitationKind>,
        started: &mut bool,
        text: &str,
    ) -> bool {
        let text = if *started { text } else { text.trim_start() };
        if text.is_empty() {
            return !self.closed;
        }
        if !*started {
            *started = true;
            self.stream(stream, "\n\n");
        }
        self.stream(stream, text)
    }

    /// A whole text written by code, checked like the model's.
    fn write(&mut self, text: &str, sources: &Sources<CitationKind>) {
        let mut stream = CitationStream::new(sources);
        self.stream(&mut stream, text);
        let rest = stream.finish();
        self.emit(rest);
    }

    fn finish(self) -> Reply {
        self.reply
    }
}

fn citation(cited: Cited<CitationKind>) -> Citation {
    Citation { n: cited.n, kind: cited.kind, id: cited.id, title: cited.title }
}

fn step_of(call: &Call) -> ToolStep {
    ToolStep { name: call.name.clone(), arguments: call.arguments.clone() }
}

fn loop_error(err: LoopError<ServiceError>) -> ServiceError {
    match err {
        LoopError::Chat(err) => ServiceError::Chat(err),
        LoopError::Tool(err) => err,
        LoopError::UnknownTool(name) => ServiceError::Internal(anyhow::anyhow!("no tool {name:?}")),
    }
}

/// The facts the answer starts with: each tool's summary (when it says more than the list)
/// and one line per source, `[n] facts`.
fn lead(ran: &[Ran<CitationKind>], sources: &Sources<CitationKind>) -> String {
    let mut lines: Vec<String> = Vec::new();
    for r in ran {
        // One item's line says what its summary would.
        if PHRASED.contains(&r.call.name.as_str()) || r.output.items.len() != 1 {
            lines.push(r.output.summary.clone());
        }
    }
    if ran.is_empty() {
        lines.push("Here is what I found:".to_owned());
    }
    for (n, source) in sources.iter() {
        let facts = source.text.lines().next().unwrap_or_default();
        let line = match source.kind {
            CitationKind::Job | CitationKind::Application => facts.to_owned(),
            CitationKind::Help => format!("Help: {}", source.title),
            CitationKind::Company => format!("Company: {}", source.title),
            CitationKind::Resume => format!("Your resume: {}", source.title),
            CitationKind::SavedSearch => format!("Your saved search: {}", source.title),
        };
        lines.push(format!("[{n}] {}", strip_invisible(&line)));
    }
    lines.join("\n")
}

/// The request for the model's sentences: the shared system prompt, then the message with
/// the numbered sources quoted as data.
fn answer_request(
    ctx: &Context,
    principal: &Principal,
    message: &str,
    sources: &Sources<CitationKind>,
) -> Result<ChatRequest, ServiceError> {
    let quoter = Quoter::new();
    let role = match principal.role {
        Role::Candidate => "candidate",
        Role::Employer => "employer",
        Role::Admin => "administrator",
    };
    let sources: Vec<Value> = sources
        .iter()
        .map(|(n, s)| {
            json!({"n": n, "kind": s.kind.as_str(), "title": quoter.clean(&s.title), "text": quoter.clean(&s.text)})
        })
        .collect();
    let values = json!({
        "role": role,
        "message": quoter.clean(message),
        "delimiter": quoter.open(),
        "sources": sources,
    });
    let system = ctx
        .prompts
        .render(prompts::SYSTEM, &json!({}))
        .map_err(|e| ServiceError::Internal(e.into()))?;
    let user = ctx
        .prompts
        .render(prompts::ASSISTANT, &values)
        .map_err(|e| ServiceError::Internal(e.into()))?;
    let mut request = ChatRequest::new(vec![Message::system(system), Message::user(user)]);
    let mut params = GenerationParams { max_tokens: ANSWER_TOKENS, ..ctx.ai.chat_params() };
    // A model that starts copying a quoted document's delimiters is repeating the data, not
    // answering: the answer ends there, and the delimiter is never shown.
    params.stop.extend(QUOTE_STOPS.iter().map(|s| (*s).to_owned()));
    request.params = params;
    Ok(request)
}

/// The tool a message routes to with a local model, with its arguments: the router picks
/// it; the search's filters come from the model as constrained JSON (checked against the
/// message), references to a job or an application and a stage from the message by code.
async fn local_call(turn: &Turn<'_>) -> Result<Option<Call>, ServiceError> {
    let Some(embedder) = turn.ctx.ai.embedder() else {
        return Ok(None);
    };
    let routed = tools::ROUTER.route(&embedder, turn.message).await?;
    tracing::debug!(?routed, "assistant routing");
    let Some(mut tool) = routed.tool else {
        return Ok(None);
    };
    if tool == tools::recommend_jobs::NAME && tools::recommend_jobs::names_a_search(turn.message) {
        tool = tools::search_jobs::NAME;
    }
    let reference = || -> Value {
        if let Some(id) = references::id_in(turn.message) {
            return json!(id);
        }
        match references::number_in(turn.message) {
            Some(u32::MAX) => json!("last"),
            Some(n) => json!(n.to_string()),
            None => {
                let words = references::naming_words(turn.message);
                if words.is_empty() { Value::Null } else { json!(words.join(" ")) }
            }
        }
    };
    let arguments = match tool {
        tools::search_jobs::NAME => search_arguments(turn).await?.to_json(),
        "get_job" | "save_job" | "draft_cover_letter" | "resume_feedback" => {
            json!({"job": reference()})
        }
        "application_status" => json!({"application": reference()}),
        "my_applications" => {
            let words = references::words(turn.message);
            // "applied" is the verb of every such question, not a stage asked for.
            let stage = Stage::ALL
                .iter()
                .filter(|s| **s != Stage::Applied)
                .find(|s| words.iter().any(|w| w == s.as_str()));
            json!({"stage": stage.map(|s| s.as_str())})
        }
        _ => json!({}),
    };
    Ok(Some(Call { name: tool.to_owned(), arguments }))
}

/// The search's arguments: the model's (constrained to the schema, read by serde) grounded
/// in the message; without a usable answer, what code reads from the message alone.
async fn search_arguments(turn: &Turn<'_>) -> Result<tools::SearchArgs, ServiceError> {
    let mut filled = tools::SearchArgs::default();
    if turn.take_call() {
        let values = json!({
            "tool": {"name": tools::search_jobs::NAME, "description": SEARCH_DESCRIPTION},
            "message": turn.message,
            "today": chrono::Utc::now().format("%Y-%m-%d").to_string(),
        });
        let prompt = turn
            .ctx
            .prompts
            .render(prompts::TOOL_ARGUMENTS, &values)
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let system = turn
            .ctx
            .prompts
            .render(prompts::SYSTEM, &json!({}))
            .map_err(|e| ServiceError::Internal(e.into()))?;
        let messages = vec![Message::system(system), Message::user(prompt)];
        let schema = tools::search_jobs::schema();
        let params = turn.ctx.ai.chat_params();
        match arguments::fill(turn.model.as_ref(), messages, &schema, &params, turn.queued).await {
            Ok(value) => match arguments::validate::<tools::SearchArgs>(value) {
                Ok(args) => filled = args,
                Err(why) => {
                    tracing::debug!(%why, "search arguments not valid; the message's words instead")
                }
            },
            Err(FillError::Unfilled(why)) => {
                tracing::debug!(%why, "no search arguments; the message's words instead")
            }
            Err(FillError::Chat(err)) => return Err(err.into()),
        }
    }
    Ok(filled.grounded(turn.message))
}

const SEARCH_DESCRIPTION: &str = "Search the open jobs by words and filters.";

/// With a hosted model: it chooses the tools itself (native tool calls), each call's
/// arguments checked like the router's.
async fn native_steps<'t>(
    turn: &Turn<'t>,
    toolbox: &tools::Tools<'t>,
    out: &mut Out<'_>,
) -> Result<Vec<Ran<CitationKind>>, ServiceError> {
    let system = turn
        .ctx
        .prompts
        .render(prompts::SYSTEM, &json!({}))
        .map_err(|e| ServiceError::Internal(e.into()))?;
    let mut messages = vec![Message::system(system)];
    for m in turn.history.iter().rev().take(6).rev() {
        messages.push(match m.role {
            MessageRole::User => Message::user(&m.content),
            MessageRole::Assistant => Message::assistant(cited_text(&m.content, &m.citations)),
        });
    }
    messages.push(Message::user(turn.message));
    let check = |name: &str, arguments: Value| -> Option<Value> {
        match name {
            tools::search_jobs::NAME => {
                arguments::validate::<tools::SearchArgs>(arguments).ok().map(|a| a.to_json())
            }
            _ => arguments.is_object().then_some(arguments),
        }
    };
    tool_loop::native_calls(
        turn.model.as_ref(),
        toolbox,
        turn,
        messages,
        &turn.ctx.ai.chat_params(),
        &turn.budget,
        check,
        |c| out.tool(&step_of(c)),
    )
    .await
    .map_err(loop_error)
}

/// An earlier answer as a hosted model reads it: its text, then what its numbers pointed at.
fn cited_text(content: &str, citations: &[Citation]) -> String {
    if citations.is_empty() {
        return content.to_owned();
    }
    let list: Vec<String> =
        citations.iter().map(|c| format!("[{}] {} {}", c.n, c.kind.as_str(), c.title)).collect();
    format!("{content}\n\n(sources: {})", list.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_lists_each_source_once_with_its_number() {
        let mut sources = Sources::new();
        sources.add(Source {
            kind: CitationKind::Job,
            id: "job:a".into(),
            title: "Rust".into(),
            text: "Rust at Acme · remote\nlong description".into(),
        });
        sources.add(Source {
            kind: CitationKind::Help,
            id: "applying".into(),
            title: "Applying to jobs".into(),
            text: "How to apply".into(),
        });
        let text = lead(&[], &sources);
        assert_eq!(
            text,
            "Here is what I found:\n[1] Rust at Acme · remote\n[2] Help: Applying to jobs"
        );
        let (resolved, cited) = sources.resolve(&text);
        assert_eq!(resolved, text);
        assert_eq!(cited.len(), 2);
    }
}
