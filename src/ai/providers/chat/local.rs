//! A GGUF chat model loaded in this process (candle, on the CPU), and token-by-token
//! generation from it.
//!
//! The model code is picked by the file's `general.architecture`: `llama` (SmolLM2 and other
//! Llama-shaped models) or `qwen2` (Qwen2 and Qwen2.5). The tokenizer and the chat template
//! come from the same file. Generation is blocking and runs on the caller's thread: callers
//! run it on a thread of its own, never on the async runtime.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::{quantized_llama, quantized_qwen2};

use super::message::{Message, Tool};
use super::template::{ChatTemplate, TemplateError};
use super::tokenizer::{ChatTokenizer, TokenizerError};

/// Why a model could not be loaded or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("cannot read the model file {path}: {message}")]
    Read { path: String, message: String },
    #[error("the model's architecture {0:?} is not supported (llama and qwen2 are)")]
    Architecture(String),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(
        "the prompt has {prompt} tokens; with {max_tokens} to generate that is more than the model's {limit}"
    )]
    TooLong { prompt: usize, max_tokens: usize, limit: usize },
    #[error("the model failed: {0}")]
    Inference(String),
    /// Every slot of the model's queue is taken: try again in a moment.
    #[error("the chat model is busy with other answers; try again shortly")]
    Busy,
    /// The model is not there or did not load.
    #[error("the chat model is unavailable: {0}")]
    Unavailable(String),
}

impl From<candle_core::Error> for ChatError {
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
    /// The model ended its turn, or wrote a stop text.
    Stop,
    /// `max_tokens` were generated.
    Length,
    /// The caller asked to stop (the client went away).
    Cancelled,
}

/// What a generation produced, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub text: String,
    pub finish: FinishReason,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
    /// From the start to the first generated token (the prompt's processing, mostly).
    pub first_token_seconds: f64,
    /// All of it.
    pub seconds: f64,
}

enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
}

impl Weights {
    fn forward(&mut self, input: &Tensor, position: usize) -> candle_core::Result<Tensor> {
        match self {
            Self::Llama(model) => model.forward(input, position),
            Self::Qwen2(model) => model.forward(input, position),
        }
    }
}

/// A chat model in memory: weights, tokenizer, template.
pub struct LocalModel {
    weights: Weights,
    tokenizer: ChatTokenizer,
    template: ChatTemplate,
    architecture: String,
    context_length: usize,
    device: Device,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("architecture", &self.architecture)
            .field("context_length", &self.context_length)
            .field("tokenizer", &self.tokenizer)
            .finish()
    }
}

impl LocalModel {
    /// Loads a GGUF file (seconds for a small model: call it off the async runtime).
    pub fn load(path: &Path) -> Result<Self, ChatError> {
        let read_error = |e: &dyn std::fmt::Display| ChatError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut file = std::fs::File::open(path).map_err(|e| read_error(&e))?;
        let content = Content::read(&mut file).map_err(|e| read_error(&e))?;
        let architecture = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_default();
        let tokenizer = ChatTokenizer::from_gguf(&content)?;
        let token_text =
            |id: Option<u32>| id.and_then(|id| tokenizer.token(id)).unwrap_or_default();
        let template = ChatTemplate::from_gguf(
            &content,
            token_text(tokenizer.bos()),
            token_text(Some(tokenizer.eos())),
        )?;
        let context_length = content
            .metadata
            .get(&format!("{architecture}.context_length"))
            .and_then(|v| v.to_u32().ok())
            .map_or(2048, |n| n as usize);
        let device = Device::Cpu;
        let weights = match architecture.as_str() {
            "llama" => Weights::Llama(quantized_llama::ModelWeights::from_gguf(
                content, &mut file, &device,
            )?),
            "qwen2" => Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(
                content, &mut file, &device,
            )?),
            other => return Err(ChatError::Architecture(other.to_owned())),
        };
        // candle's Llama code has rotary tables for this many positions only.
        let context_length = match architecture.as_str() {
            "llama" => context_length.min(quantized_llama::MAX_SEQ_LEN),
            _ => context_length,
        };
        Ok(Self { weights, tokenizer, template, architecture, context_length, device })
    }

    pub fn tokenizer(&self) -> &ChatTokenizer {
        &self.tokenizer
    }

    /// The prompt a conversation becomes, the assistant's turn opened.
    pub fn prompt(&self, messages: &[Message], tools: &[Tool]) -> Result<String, ChatError> {
        Ok(self.template.render(messages, tools, true)?)
    }

    /// Generates the assistant's answer to a conversation, handing each new piece of text to
    /// `on_text` as it comes; `on_text` returning `Break` stops generation before the next
    /// token.
    pub fn chat(
        &mut self,
        messages: &[Message],
        tools: &[Tool],
        params: &GenerationParams,
        on_text: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation, ChatError> {
        let prompt = self.prompt(messages, tools)?;
        let ids = self.tokenizer.encode(&prompt)?;
        self.generate(&ids, params, on_text)
    }

    /// Generates from prompt tokens (the model starts from an empty context).
    pub fn generate(
        &mut self,
        prompt: &[u32],
        params: &GenerationParams,
        mut on_text: impl FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation, ChatError> {
        let started = Instant::now();
        if prompt.is_empty() || prompt.len() + params.max_tokens > self.context_length {
            return Err(ChatError::TooLong {
                prompt: prompt.len(),
                max_tokens: params.max_tokens,
                limit: self.context_length,
            });
        }
        let mut sampler = LogitsProcessor::from_sampling(params.seed, sampling(params));
        let eos = self.tokenizer.eos();
        let mut context: Vec<u32> = prompt.to_vec();
        let mut generated: Vec<u32> = Vec::new();
        let mut text = String::new();
        let mut first_token_seconds = 0.0;
        let mut finish = FinishReason::Length;
        let mut input = Tensor::new(prompt, &self.device)?.unsqueeze(0)?;
        let mut position = 0;
        while generated.len() < params.max_tokens {
            let logits = self.weights.forward(&input, position)?.squeeze(0)?;
            position += input.dim(1)?;
            let logits = if params.repetition_penalty == 1.0 {
                logits
            } else {
                let start = context.len().saturating_sub(params.repeat_last_n);
                candle_transformers::utils::apply_repeat_penalty(
                    &logits,
                    params.repetition_penalty,
                    &context[start..],
                )?
            };
            let next = sampler.sample(&logits)?;
            if generated.is_empty() {
                first_token_seconds = started.elapsed().as_secs_f64();
            }
            if next == eos {
                finish = FinishReason::Stop;
                break;
            }
            generated.push(next);
            context.push(next);
            // The text so far, decoded whole, so a character split over tokens comes out once
            // it is complete.
            let decoded = self.tokenizer.decode(&generated)?;
            if let Some(at) = params.stop.iter().filter_map(|s| decoded.find(s.as_str())).min() {
                if at > text.len() && decoded.is_char_boundary(at) {
                    let _ = on_text(&decoded[text.len()..at]);
                }
                text = decoded[..at].to_owned();
                finish = FinishReason::Stop;
                break;
            }
            if decoded.len() > text.len() && !decoded.ends_with('\u{FFFD}') {
                let piece = &decoded[text.len()..];
                let flow = on_text(piece);
                text = decoded;
                if flow.is_break() {
                    finish = FinishReason::Cancelled;
                    break;
                }
            }
            input = Tensor::new(&[next], &self.device)?.unsqueeze(0)?;
        }
        Ok(Generation {
            text,
            finish,
            prompt_tokens: prompt.len(),
            generated_tokens: generated.len(),
            first_token_seconds,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

fn sampling(params: &GenerationParams) -> Sampling {
    let temperature = params.temperature;
    if temperature <= 0.0 {
        return Sampling::ArgMax;
    }
    let top_p = params.top_p < 1.0;
    match (params.top_k > 0, top_p) {
        (true, true) => Sampling::TopKThenTopP { k: params.top_k, p: params.top_p, temperature },
        (true, false) => Sampling::TopK { k: params.top_k, temperature },
        (false, true) => Sampling::TopP { p: params.top_p, temperature },
        (false, false) => Sampling::All { temperature },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smollm2() -> LocalModel {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/llm/SmolLM2-135M-Instruct.Q4_1.gguf");
        LocalModel::load(&path).expect("SmolLM2 loads (run ./scripts/models.sh)")
    }

    fn question() -> Vec<Message> {
        vec![
            Message::system("You are a helpful assistant. Answer in one short sentence."),
            Message::user("What is the capital of France?"),
        ]
    }

    /// Greedy decoding is deterministic, streams exactly the answer, and ends at the model's
    /// end of turn.
    #[test]
    fn a_greedy_answer_is_the_same_every_run_and_ends_with_the_turn() {
        let mut model = smollm2();
        let params = GenerationParams { max_tokens: 96, ..GenerationParams::default() };
        let mut streamed = String::new();
        let first = model
            .chat(&question(), &[], &params, |piece| {
                streamed.push_str(piece);
                ControlFlow::Continue(())
            })
            .unwrap();
        let second = model.chat(&question(), &[], &params, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(first.finish, FinishReason::Stop, "{first:?}");
        assert!(!first.text.trim().is_empty(), "{first:?}");
        assert!(first.text.to_lowercase().contains("paris"), "{first:?}");
        assert_eq!(first.text, second.text);
        assert_eq!(streamed, first.text, "the pieces add up to the answer");
        assert!(first.prompt_tokens > 20 && first.generated_tokens > 0, "{first:?}");
        assert!(!first.text.contains("<|im_end|>"), "{first:?}");
    }

    #[test]
    fn a_caller_that_stops_listening_stops_generation_at_the_next_token() {
        let mut model = smollm2();
        let params = GenerationParams { max_tokens: 96, ..GenerationParams::default() };
        let mut pieces = 0;
        let generation = model
            .chat(&question(), &[], &params, |_| {
                pieces += 1;
                ControlFlow::Break(())
            })
            .unwrap();
        assert_eq!(generation.finish, FinishReason::Cancelled);
        assert_eq!(pieces, 1);
        assert!(generation.generated_tokens <= 2, "{generation:?}");
    }

    #[test]
    fn a_stop_text_ends_the_answer_before_it_and_max_tokens_ends_it_early() {
        let mut model = smollm2();
        let greedy = GenerationParams { max_tokens: 96, ..GenerationParams::default() };
        let full = model.chat(&question(), &[], &greedy, |_| ControlFlow::Continue(())).unwrap();
        let word = full.text.split_whitespace().nth(2).expect("a few words").to_owned();
        let stopped = GenerationParams { stop: vec![word.clone()], ..greedy.clone() };
        let cut = model.chat(&question(), &[], &stopped, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(cut.finish, FinishReason::Stop);
        assert!(full.text.starts_with(&cut.text) && !cut.text.contains(&word), "{cut:?} {word}");
        let short = GenerationParams { max_tokens: 2, ..greedy };
        let two = model.chat(&question(), &[], &short, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!((two.finish, two.generated_tokens), (FinishReason::Length, 2));
    }

    #[test]
    fn sampling_with_a_seed_repeats_and_a_file_that_is_not_a_model_is_refused() {
        let mut model = smollm2();
        let params = GenerationParams {
            max_tokens: 24,
            temperature: 0.9,
            top_p: 0.95,
            seed: 7,
            ..GenerationParams::default()
        };
        let a = model.chat(&question(), &[], &params, |_| ControlFlow::Continue(())).unwrap();
        let b = model.chat(&question(), &[], &params, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(a.text, b.text);
        let not_a_model = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let err = LocalModel::load(&not_a_model).unwrap_err();
        assert!(matches!(err, ChatError::Read { .. }), "{err}");
    }
}
