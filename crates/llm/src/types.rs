//! What generation takes and gives: the parameters (with the answer's format and how its JSON
//! is spaced), how an answer ended and what it cost, and why a model could not load or answer.

use crate::message::ToolCall;
use crate::template::TemplateError;
use crate::tokenizer::TokenizerError;

/// Why a model could not be loaded or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read the model file {path}: {message}")]
    Read { path: String, message: String },
    #[error("the model's architecture {0:?} is not supported (llama and qwen2 are)")]
    Architecture(String),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error(
        "the prompt has {prompt} tokens; with {max_tokens} to generate that is more than the model's {limit}"
    )]
    TooLong { prompt: usize, max_tokens: usize, limit: usize },
    #[error("the model failed: {0}")]
    Inference(String),
    /// The answer's format cannot be enforced (a JSON schema that does not compile, no
    /// choices), or enforcing it failed.
    #[error("the answer's format cannot be enforced: {0}")]
    Constraint(String),
}

impl From<candle_core::Error> for ModelError {
    fn from(err: candle_core::Error) -> Self {
        Self::Inference(err.to_string())
    }
}

/// How to pick each next token.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    pub max_tokens: usize,
    /// 0: always the most likely token (the same answer every time).
    pub temperature: f64,
    /// Sample only among the most likely tokens whose probabilities add up to this (1: all).
    pub top_p: f64,
    /// Sample only among this many most likely tokens (0: no limit).
    pub top_k: usize,
    pub seed: u64,
    /// Generation ends before any of these texts (which the answer leaves out).
    pub stop: Vec<String>,
    /// Above 1, tokens of the last `repeat_last_n` are made less likely (small models loop).
    pub repetition_penalty: f32,
    pub repeat_last_n: usize,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            max_tokens: 512,
            temperature: 0.0,
            top_p: 1.0,
            top_k: 0,
            seed: 0,
            stop: Vec::new(),
            repetition_penalty: 1.1,
            repeat_last_n: 64,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended its turn, or wrote a stop text, or completed the answer's format.
    Stop,
    /// `max_tokens` were generated. An answer in a format (a JSON value, a choice) cut here
    /// is incomplete: it does not parse.
    Length,
    /// The caller asked to stop (the client went away).
    Cancelled,
    /// The model called one or more tools and waits for their results.
    ToolCalls,
    /// A hosted provider refused to answer or filtered the answer: it is not complete.
    Refused,
}

/// What shape the answer must take. Anything but `Text` is enforced while generating, so a
/// model cannot write anything else (not checked afterwards and retried). Stop texts do not
/// apply to a JSON value or a choice: the format says where they end.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum OutputFormat {
    /// Free text (and tool calls, when tools are offered).
    #[default]
    Text,
    /// One JSON value valid against this JSON schema, and nothing after it; spaced compactly
    /// (one space at most, after a comma or a colon).
    JsonSchema(serde_json::Value),
    /// Exactly one of these texts.
    Choice(Vec<String>),
    /// One or more calls of the offered tools and no text (hosted APIs: `tool_choice`
    /// required). Without tools offered it is an error.
    ToolCalls,
}

/// What a generation produced, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The answer's text (without its tool calls).
    pub text: String,
    /// The complete tool calls the answer made, in order (`finish` is `ToolCalls` when it
    /// made some and ended by itself).
    pub tool_calls: Vec<ToolCall>,
    pub finish: FinishReason,
    pub prompt_tokens: usize,
    /// Of the prompt's tokens, how many were already in the model's context (kept from the
    /// previous answer) and not processed again (0 from hosted models, which do not say).
    pub cached_tokens: usize,
    pub generated_tokens: usize,
    /// From the start to the first generated token (the prompt's processing, mostly).
    pub first_token_seconds: f64,
    /// All of it.
    pub seconds: f64,
}

/// How constrained JSON answers are spaced: a single space at most, and only after a comma or
/// a colon (`{"a": 1, "b": [2, 3]}` and `{"a":1}` are both allowed). Small models left free to add
/// whitespace may add nothing else until they run out of tokens.
pub(crate) fn compact_json() -> serde_json::Value {
    serde_json::json!({
        "whitespace_flexible": false,
        "item_separator": ", ?",
        "key_separator": ": ?",
    })
}
