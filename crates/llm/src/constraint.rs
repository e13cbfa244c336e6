//! Constrained generation: an answer that must be one JSON value valid against a schema, one
//! of fixed texts, or free text with tool calls of the offered tools, enforced token by token
//! with llguidance (the grammar engine inside llama.cpp, vLLM and SGLang).
//!
//! Before each token the [`Constraint`] says which tokens may come next; the others are given
//! a score of minus infinity, so the model cannot write anything the format does not allow.
//! Text the format forces (the `"}` that must close a value, the rest of the only choice that
//! fits) comes as whole tokens without asking the model.
//!
//! llguidance works on bytes, so it gets the model's own vocabulary as a table of each
//! token's bytes ([`ChatTokenizer::piece`]): a vocabulary token's bytes, a user-defined
//! token's text (Qwen's `<tool_call>`, which the grammar text `<tool_call>` matches as one
//! token or as several), and for control tokens byte `0xFF` then their name
//! (`TokTrie::SPECIAL_TOKEN_MARKER`), which no text of a grammar contains: they are never
//! allowed, but for the end of the turn, which ends the answer once the format is complete.

use std::sync::Arc;

use llguidance::api::{StopReason, TopLevelGrammar};
use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};
use serde_json::{Value, json};

use crate::message::Tool;
use crate::tokenizer::{ChatTokenizer, TokenPiece};
use crate::tool_calls;
use crate::types::{ModelError, OutputFormat};

/// How JSON answers are spaced: a single space at most, and only after a comma or a colon
/// (`{"a": 1, "b": [2, 3]}` and `{"a":1}` are both allowed). Small models left free to add
/// whitespace may add nothing else until they run out of tokens.
pub(crate) fn compact_json() -> Value {
    json!({
        "whitespace_flexible": false,
        "item_separator": ", ?",
        "key_separator": ": ?",
    })
}

/// Turns answer formats into constraints for one model's vocabulary. Building it reads the
/// whole vocabulary (tens of milliseconds for SmolLM2's 49,152 tokens, in the optimised
/// build): build it once per model and share it.
pub struct ConstraintCompiler {
    factory: ParserFactory,
}

impl std::fmt::Debug for ConstraintCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConstraintCompiler")
            .field("tokens", &self.factory.tok_env().tok_trie().vocab_size())
            .finish()
    }
}

impl ConstraintCompiler {
    /// The compiler for the model whose tokenizer this is (its end-of-sequence token is the
    /// end of a turn).
    pub fn new(tokenizer: Arc<ChatTokenizer>) -> Result<Self, ModelError> {
        let words = token_bytes(&tokenizer);
        let vocab_size = u32::try_from(words.len())
            .map_err(|_| ModelError::Constraint("the vocabulary is too large".into()))?;
        let mut info = TokRxInfo::new(vocab_size, tokenizer.eos());
        info.tok_end_of_turn = Some(tokenizer.eos());
        info.tok_bos = tokenizer.bos();
        let trie = TokTrie::from(&info, &words);
        let env: TokEnv = Arc::new(VocabularyEnv { trie, tokenizer });
        let mut factory = ParserFactory::new_simple(&env).map_err(constraint_error)?;
        factory.quiet();
        Ok(Self { factory })
    }

    /// The constraint an answer in `format` must meet, `tools` offered: none for free text
    /// without tools. A format that cannot be enforced (a schema llguidance cannot compile, no
    /// choices, calls without tools) is an error here, before anything is generated.
    pub fn compile(
        &self,
        format: &OutputFormat,
        tools: &[Tool],
    ) -> Result<Option<Constraint>, ModelError> {
        let grammar = match format {
            OutputFormat::Text if tools.is_empty() => return Ok(None),
            OutputFormat::Text => TopLevelGrammar::from_lark(tool_calls::grammar(tools, false)?),
            OutputFormat::ToolCalls if tools.is_empty() => {
                return Err(ModelError::Constraint("no tools are offered to call".into()));
            }
            OutputFormat::ToolCalls => {
                TopLevelGrammar::from_lark(tool_calls::grammar(tools, true)?)
            }
            OutputFormat::JsonSchema(schema) => {
                TopLevelGrammar::from_json_schema(with_compact_whitespace(schema)?)
            }
            OutputFormat::Choice(choices) => TopLevelGrammar::from_lark(choice_grammar(choices)?),
        };
        let matcher = Matcher::new(self.factory.create_parser(grammar));
        if let Some(error) = matcher.get_error() {
            return Err(ModelError::Constraint(error));
        }
        Ok(Some(Constraint { matcher }))
    }
}

/// One answer's constraint: what may come next, given what came so far.
pub struct Constraint {
    matcher: Matcher,
}

impl std::fmt::Debug for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraint").field("stop", &self.matcher.stop_reason()).finish()
    }
}

impl Constraint {
    /// Gives every token the constraint does not allow next (and every score past the
    /// vocabulary) a score of minus infinity. A constraint that allows nothing is an error.
    pub fn mask(&mut self, logits: &mut [f32]) -> Result<(), ModelError> {
        let mask = self.matcher.compute_mask().map_err(constraint_error)?;
        if mask.is_zero() {
            return Err(ModelError::Constraint("no token can continue the answer".into()));
        }
        let allowed = mask.len();
        for (id, score) in logits.iter_mut().enumerate() {
            if id >= allowed || !mask.get(id) {
                *score = f32::NEG_INFINITY;
            }
        }
        Ok(())
    }

    /// Takes the token generated next (one the mask allowed).
    pub fn accept(&mut self, token: u32) -> Result<(), ModelError> {
        self.matcher.consume_token(token).map_err(constraint_error)
    }

    /// Takes and returns the tokens the format forces next (none when the model has a
    /// choice).
    pub fn forced(&mut self) -> Result<Vec<u32>, ModelError> {
        let tokens = self.matcher.consume_ff_tokens();
        self.check()?;
        Ok(tokens)
    }

    /// Whether the answer is complete: nothing more can follow, or the end of the turn came
    /// where the format allowed it.
    pub fn is_done(&self) -> Result<bool, ModelError> {
        self.check()?;
        Ok(self.matcher.is_stopped())
    }

    fn check(&self) -> Result<(), ModelError> {
        match self.matcher.stop_reason() {
            StopReason::NotStopped
            | StopReason::NoExtension
            | StopReason::NoExtensionBias
            | StopReason::EndOfSentence => match self.matcher.get_error() {
                None => Ok(()),
                Some(error) => Err(ModelError::Constraint(error)),
            },
            other => Err(ModelError::Constraint(
                self.matcher
                    .get_error()
                    .unwrap_or_else(|| format!("the constraint stopped: {other}")),
            )),
        }
    }
}

/// Every token's bytes, by id, as llguidance takes them: control tokens and those no text
/// produces marked with `0xFF` before their name.
pub fn token_bytes(tokenizer: &ChatTokenizer) -> Vec<Vec<u8>> {
    (0..tokenizer.len())
        .map(|id| {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            let name = match tokenizer.piece(id) {
                Some(TokenPiece::Bytes(bytes)) => return bytes,
                Some(TokenPiece::Special(name)) if !name.is_empty() => name,
                // A token without a name is named by its id.
                _ => format!("<[{id}]>"),
            };
            let mut bytes = vec![TokTrie::SPECIAL_TOKEN_MARKER];
            bytes.extend_from_slice(name.as_bytes());
            bytes
        })
        .collect()
}

/// The vocabulary as llguidance sees it: the byte table as a trie, and the model's own
/// tokenizer for the tokens of forced text.
struct VocabularyEnv {
    trie: TokTrie,
    tokenizer: Arc<ChatTokenizer>,
}

impl TokenizerEnv for VocabularyEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, bytes: &[u8]) -> Vec<TokenId> {
        // Bytes that are not text (part of a character) go greedily through the trie.
        self.trie.tokenize_with_greedy_fallback(bytes, |text| {
            self.tokenizer
                .encode(text)
                .unwrap_or_else(|_| self.trie.greedy_tokenize(text.as_bytes()))
        })
    }
}

/// `schema` with its `x-guidance` whitespace settings replaced by [`compact_json`]'s (its other
/// llguidance settings kept).
fn with_compact_whitespace(schema: &Value) -> Result<Value, ModelError> {
    let mut schema = match schema {
        Value::Object(schema) => schema.clone(),
        Value::Bool(true) => serde_json::Map::new(),
        other => {
            return Err(ModelError::Constraint(format!("a JSON schema is an object, not {other}")));
        }
    };
    let mut guidance = match schema.remove("x-guidance") {
        None => serde_json::Map::new(),
        Some(Value::Object(settings)) => settings,
        Some(other) => {
            return Err(ModelError::Constraint(format!(
                "the schema's x-guidance is an object, not {other}"
            )));
        }
    };
    guidance.remove("whitespace_pattern");
    if let Value::Object(compact) = compact_json() {
        guidance.extend(compact);
    }
    schema.insert("x-guidance".into(), Value::Object(guidance));
    Ok(Value::Object(schema))
}

/// A Lark grammar whose only sentences are the choices.
fn choice_grammar(choices: &[String]) -> Result<String, ModelError> {
    if choices.is_empty() {
        return Err(ModelError::Constraint("there are no choices to answer with".into()));
    }
    if choices.iter().any(String::is_empty) {
        return Err(ModelError::Constraint("a choice is empty".into()));
    }
    // Lark's string literals are JSON strings.
    let literals: Vec<String> = choices
        .iter()
        .map(|choice| {
            serde_json::to_string(choice).map_err(|e| ModelError::Constraint(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok(format!("start: {}\n", literals.join(" | ")))
}

fn constraint_error(err: impl std::fmt::Display) -> ModelError {
    ModelError::Constraint(err.to_string())
}
