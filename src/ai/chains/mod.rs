//! Chains: a text for a person phrased by the chat model from facts the code computed, and
//! checked in code against those facts before anyone reads it.
//!
//! Each chain is a plain function over a plain input (no database: the services gather the
//! facts), the chat model and the [`Prompts`]. It asks the model with the one system prompt
//! every request shares, keeps only sentences that name nothing the facts do not (numbers,
//! years, names, degrees, skills: [`facts::Facts`]) and that do not repeat a kept one, asks
//! once more when too little is left or it does not name what it is about (the company, the
//! skills), and otherwise writes the text from a template of its own. [`Written::source`]
//! says which.
//!
//! - [`cover_letter`]: a job and a candidate's profile → a letter, streamed.
//! - [`recommendation`]: the explanation of a recommended job → two or three sentences.
//! - [`resume_feedback`]: the skills a resume shows and misses for a job → advice.

pub mod cover_letter;
pub mod facts;
pub mod recommendation;
pub mod resume_feedback;

use std::collections::HashSet;

use serde::Serialize;

use crate::ai::prompts::{self, PromptError, Prompts};
use crate::ai::providers::chat::error::ChatError;
use crate::ai::providers::chat::message::Message;
use crate::ai::providers::chat::provider::{ChatEvent, ChatModel, ChatRequest};
use crate::ai::providers::chat::types::{FinishReason, GenerationParams};
use facts::Facts;

/// Who wrote a chain's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The chat model (every sentence checked against the facts).
    Model,
    /// The chain's own template, from the facts alone.
    Template,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Model => "model",
            Source::Template => "template",
        }
    }
}

/// A chain's text and who wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub source: Source,
}

/// Why a chain could not write: the model failed (busy, unavailable, broke off), or a prompt
/// does not render with the chain's values.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

/// One question of a chain to the model.
pub(crate) struct Ask<'a> {
    /// The user message (the chain's rendered template).
    pub prompt: String,
    pub facts: &'a Facts,
    pub params: GenerationParams,
    /// Fewer characters than this left after the check: the attempt failed.
    pub min_chars: usize,
    /// The text must name at least one of these (lower case; none: no such rule), so that it
    /// says what it is for: the company a letter is to, a skill advice is about.
    pub mentions: Vec<String>,
    /// Whether sentences are sent on as they pass (else all at the end). A streamed answer
    /// keeps the sentences that pass and leaves out the others; one that is not streamed
    /// fails at its first unknown fact.
    pub stream: bool,
}

/// Asks up to twice (the second time sampling, so it can answer differently) and returns
/// the checked text, or `None` when neither answer was good enough (long enough, naming one
/// of `mentions`) or the model is too busy for the second. Pieces of the text go to
/// `on_piece` as they pass; nothing is sent for an attempt that fails, so what was sent is
/// always exactly the returned text.
pub(crate) async fn ask(
    model: &dyn ChatModel,
    prompts: &Prompts,
    ask: &Ask<'_>,
    on_piece: &mut (dyn FnMut(&str) + Send),
) -> Result<Option<String>, ChainError> {
    let system = prompts.render(prompts::SYSTEM, &serde_json::json!({}))?;
    for attempt in 0..2 {
        let mut params = ask.params.clone();
        if attempt > 0 {
            params.temperature = params.temperature.max(0.7);
            params.top_p = params.top_p.min(0.9);
            params.seed = params.seed.wrapping_add(1);
        }
        let mut request = ChatRequest::new(vec![
            Message::system(system.clone()),
            Message::user(ask.prompt.clone()),
        ]);
        request.params = params;
        let mut stream = match model.chat(request) {
            Ok(stream) => stream,
            // The first answer was asked for; the template beats a refusal now.
            Err(ChatError::Busy) if attempt > 0 => return Ok(None),
            Err(err) => return Err(err.into()),
        };
        let mut gate = Gate::new(ask);
        let mut complete = false;
        while let Some(event) = stream.recv().await {
            match event? {
                ChatEvent::Text(text) => {
                    if !gate.push(&text, on_piece) {
                        break;
                    }
                }
                ChatEvent::ToolCall(_) | ChatEvent::Queued(_) => {}
                ChatEvent::Finished(generation) => {
                    complete = generation.finish != FinishReason::Length;
                    break;
                }
            }
        }
        drop(stream);
        if let Some(text) = gate.finish(complete, on_piece) {
            return Ok(Some(text));
        }
        tracing::debug!(
            attempt,
            unknown = ?gate.unknown,
            "the model's text named facts its input does not hold"
        );
    }
    Ok(None)
}

/// Sentences of the model's text, checked one by one as they complete.
struct Gate<'a> {
    facts: &'a Facts,
    min_chars: usize,
    mentions: &'a [String],
    stream: bool,
    /// The words of each kept sentence (a sentence much like one of them is a repetition).
    kept_words: Vec<HashSet<String>>,
    /// The incomplete sentence at the end.
    pending: String,
    kept: String,
    /// How much of `kept` was sent.
    sent: usize,
    failed: bool,
    /// What the left-out sentences named that the facts do not hold.
    unknown: Vec<String>,
}

impl<'a> Gate<'a> {
    fn new(ask: &'a Ask<'a>) -> Self {
        Gate {
            facts: ask.facts,
            min_chars: ask.min_chars,
            mentions: &ask.mentions,
            stream: ask.stream,
            kept_words: Vec::new(),
            pending: String::new(),
            kept: String::new(),
            sent: 0,
            failed: false,
            unknown: Vec::new(),
        }
    }

    /// Takes the next piece; `false` once the attempt has failed (stop asking).
    fn push(&mut self, text: &str, on_piece: &mut (dyn FnMut(&str) + Send)) -> bool {
        self.pending.push_str(text);
        while let Some(end) = sentence_end(&self.pending) {
            let sentence: String = self.pending.drain(..end).collect();
            self.check(&sentence);
            if self.failed {
                return false;
            }
        }
        if self.stream && self.enough() {
            self.send(on_piece);
        }
        true
    }

    fn check(&mut self, sentence: &str) {
        let body = sentence.trim();
        if body.is_empty() {
            if self.kept.trim().is_empty() {
                return;
            }
            // Blank lines part paragraphs; never more than one in a row.
            if !self.kept.ends_with("\n\n") {
                self.kept.push_str(if self.kept.ends_with('\n') { "\n" } else { "\n\n" });
            }
            return;
        }
        let unknown = self.facts.unknown(body);
        let words = sentence_words(body);
        let repeated = self.kept_words.iter().any(|kept| {
            let shared = kept.intersection(&words).count();
            let all = kept.union(&words).count();
            all > 0 && shared * 5 >= all * 4
        });
        if unknown.is_empty() && !repeated {
            self.kept_words.push(words);
            if self.kept.is_empty() {
                self.kept.push_str(sentence.trim_start());
            } else {
                self.kept.push_str(sentence);
            }
            return;
        }
        self.unknown.extend(unknown);
        if !self.stream {
            self.failed = true;
        } else if sentence.ends_with('\n') && !self.kept.is_empty() && !self.kept.ends_with('\n') {
            self.kept.push('\n');
        }
    }

    /// Whether what was kept is a text of its own: long enough, naming what it must.
    fn enough(&self) -> bool {
        if self.failed || self.kept.trim().chars().count() < self.min_chars {
            return false;
        }
        let kept = self.kept.to_lowercase();
        self.mentions.is_empty() || self.mentions.iter().any(|m| names(&kept, m))
    }

    /// Sends what was kept and not sent, up to its trailing blank space (which the next
    /// sentence may need, and the end never does).
    fn send(&mut self, on_piece: &mut (dyn FnMut(&str) + Send)) {
        let visible = self.kept.trim_end().len();
        if visible > self.sent {
            on_piece(&self.kept[self.sent..visible]);
            self.sent = visible;
        }
    }

    /// The text, when the attempt passed. An answer cut by the token limit loses its
    /// unfinished last sentence.
    fn finish(
        &mut self,
        complete: bool,
        on_piece: &mut (dyn FnMut(&str) + Send),
    ) -> Option<String> {
        if !self.failed && complete {
            let rest = std::mem::take(&mut self.pending);
            self.check(&rest);
        }
        let text = self.kept.trim_end().to_owned();
        if !self.enough() {
            return (self.sent > 0).then(|| self.kept[..self.sent].to_owned());
        }
        self.send(on_piece);
        Some(text)
    }
}

/// The words of a sentence, in lower case.
fn sentence_words(sentence: &str) -> HashSet<String> {
    sentence
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `text` names `phrase` as whole words (both in lower case).
fn names(text: &str, phrase: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric();
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after = text[at + phrase.len()..].chars().next().is_none_or(|c| !is_word(c));
        before && after
    })
}

/// Where the first complete sentence of `text` ends (after its closing punctuation and the
/// blank space that follows, or after a line break).
pub(crate) fn sentence_end(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if c == '\n' {
            return Some(at + 1);
        }
        if matches!(c, '.' | '!' | '?') {
            let next = chars.peek().map(|&(_, n)| n);
            match next {
                Some(n) if n == ' ' || n == '\t' => {
                    // The spaces after it belong to it; a line break ends it on its own.
                    let mut end = at + 1;
                    for (i, n) in text[at + 1..].char_indices() {
                        if n == ' ' || n == '\t' {
                            end = at + 1 + i + n.len_utf8();
                        } else {
                            break;
                        }
                    }
                    if end == text.len() {
                        // More spaces may follow: wait for the next piece.
                        return None;
                    }
                    return Some(end);
                }
                Some('\n') => return Some(at + 2),
                _ => {}
            }
        }
    }
    None
}

/// "a", "a and b", "a, b and c".
pub(crate) fn list(items: &[impl AsRef<str>]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [rest @ .., last] => format!(
            "{} and {}",
            rest.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "),
            last.as_ref()
        ),
    }
}

/// The shape of a JSON value: its keys, with every leaf `null` and every list its first item's
/// shape (the prompts' samples must have the shape of the chains' inputs).
#[cfg(test)]
pub(crate) fn shape(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        _ => Value::Null,
    }
}

#[cfg(test)]
pub(crate) mod test_model {
    //! A chat model that answers scripted texts, piece by piece, for the chains' unit tests.

    use std::sync::Mutex;

    use tokio::sync::mpsc;

    use crate::ai::providers::chat::error::ChatError;
    use crate::ai::providers::chat::provider::{
        ChatEvent, ChatModel, ChatModelState, ChatRequest, ChatStream,
    };
    use crate::ai::providers::chat::types::{FinishReason, Generation};

    /// Answers each request with the next script (the last one again when they run out) and
    /// remembers the requests.
    #[derive(Debug)]
    pub struct Scripted {
        scripts: Vec<String>,
        pub requests: Mutex<Vec<ChatRequest>>,
    }

    impl Scripted {
        pub fn new(scripts: &[&str]) -> Self {
            Scripted {
                scripts: scripts.iter().map(|s| (*s).to_owned()).collect(),
                requests: Mutex::new(Vec::new()),
            }
        }
    }

    impl ChatModel for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }

        fn state(&self) -> ChatModelState {
            ChatModelState::Ready
        }

        fn chat(&self, request: ChatRequest) -> Result<ChatStream, ChatError> {
            let mut requests = self.requests.lock().unwrap();
            let text = self.scripts[requests.len().min(self.scripts.len() - 1)].clone();
            requests.push(request);
            let (tx, rx) = mpsc::unbounded_channel();
            // Pieces of three characters, as tokens come.
            let chars: Vec<char> = text.chars().collect();
            for piece in chars.chunks(3) {
                let _ = tx.send(Ok(ChatEvent::Text(piece.iter().collect())));
            }
            let _ = tx.send(Ok(ChatEvent::Finished(Generation {
                text,
                tool_calls: Vec::new(),
                finish: FinishReason::Stop,
                prompt_tokens: 0,
                cached_tokens: 0,
                generated_tokens: 0,
                first_token_seconds: 0.0,
                seconds: 0.0,
            })));
            Ok(rx)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_end_after_their_punctuation_and_spaces_or_a_line_break() {
        assert_eq!(sentence_end("Hello there. Next"), Some(13));
        assert_eq!(sentence_end("Hello there.  "), None);
        assert_eq!(sentence_end("Dear Acme team,\nI"), Some(16));
        assert_eq!(sentence_end("It is 3.5 years"), None);
        assert_eq!(sentence_end("Done.\n\nNext"), Some(6));
        assert_eq!(list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(list(&["a"]), "a");
    }

    #[test]
    fn names_are_found_as_whole_words() {
        assert!(names("dear acme team,", "acme"));
        assert!(names("rust and go.", "go"));
        assert!(!names("we are going", "go"));
        assert!(names("node.js, mostly", "node.js"));
    }
}
