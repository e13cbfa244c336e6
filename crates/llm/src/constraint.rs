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
use serde_json::Value;

use crate::message::Tool;
use crate::tokenizer::{ChatTokenizer, TokenPiece};
use crate::tool_calls;
use crate::types::{ModelError, OutputFormat, compact_json};

/// Turns answer formats into constraints for one model's vocabulary. Building it reads the
/// whole vocabulary (about 0.13 s for SmolLM2's 49,152 tokens on a busy 2-core machine):
/// build it once per model and share it. Compiling a format is then a matter of
/// milliseconds, and each constrained token costs about what a free one does.
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

#[cfg(test)]
pub(crate) mod tests {
    use std::ops::ControlFlow;

    use serde_json::json;

    use super::*;
    use crate::message::Message;
    use crate::model::LocalModel;
    use crate::types::{FinishReason, GenerationParams};

    fn smollm2() -> LocalModel {
        LocalModel::load(&crate::testing::smollm2())
            .expect("SmolLM2 loads (run ./scripts/models.sh)")
    }

    /// What the portal asks of a job posting: bounded strings and lists, an enum, a boolean
    /// and a number that may be missing.
    fn job_summary() -> Value {
        json!({
            "type": "object",
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 48},
                "seniority": {"enum": ["junior", "mid", "senior", "lead"]},
                "remote": {"type": "boolean"},
                "skills": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 24},
                    "maxItems": 4
                },
                "salary": {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000}
            },
            "required": ["title", "seniority", "remote", "skills", "salary"],
            "additionalProperties": false
        })
    }

    const SUMMARIZE: &str = "Summarize the job posting as JSON with its title, seniority \
        (junior, mid, senior or lead), whether it is remote, up to four skills, and the yearly \
        salary (null when it is not given).";

    const POSTINGS: [&str; 20] = [
        "Senior Rust engineer for our search backend. Fully remote. Rust, PostgreSQL, Kubernetes. 120000 EUR a year.",
        "Junior frontend developer in Lyon, on site. React and TypeScript. Salary 38000 EUR.",
        "We are looking for a lead data scientist (Python, PyTorch, SQL) in London. Hybrid. £95,000.",
        "Mid-level Java developer, Spring Boot and Kafka, Munich office, 70k.",
        "Nurse for the night shift at a hospital in Berlin. No remote work possible.",
        "Remote-first startup hires a senior DevOps engineer: Terraform, AWS, Go. Pay: 140000 USD.",
        "Part-time barista in Vienna, weekends. Latte art is a plus.",
        "Lead mobile engineer (Kotlin, Swift) to build our banking app. Remote within the EU. 110000 EUR.",
        "Entry-level accountant, Excel and SAP, Madrid. Salary according to experience.",
        "Staff security engineer, penetration testing and cloud security, remote, 160k USD.",
        "Warehouse worker in Rotterdam, forklift license required, 32000 EUR.",
        "Mid-level UX designer with Figma and user research experience. Hybrid in Copenhagen.",
        "Senior C++ developer for trading systems in Chicago, low latency, 200000 USD.",
        "Junior QA tester, manual and automated testing with Selenium, fully remote.",
        "Head of marketing for a fashion brand in Milan, SEO and social media, 90000 EUR.",
        "Electrician for construction sites around Zurich, CHF 85,000 per year.",
        "Mid-level data engineer, Spark, Airflow and dbt, remote in Canada, 115000 CAD.",
        "Teacher of mathematics at a secondary school in Dublin, on site.",
        "Senior product manager for a SaaS platform, remote, salary 130000 EUR.",
        "Junior Python developer, Django and REST APIs, Warsaw office, 60000 PLN.",
    ];

    /// The longest run of whitespace outside JSON strings.
    fn longest_whitespace_outside_strings(json: &str) -> usize {
        let (mut longest, mut run, mut in_string, mut escaped) = (0, 0, false, false);
        for c in json.chars() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
                continue;
            }
            if c.is_whitespace() {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
                in_string = c == '"';
            }
        }
        longest
    }

    /// Every answer is one JSON value, complete and valid against the schema (checked by a
    /// validator of its own), spaced compactly, greedy or sampled; what was streamed is the
    /// answer.
    #[test]
    fn json_answers_to_twenty_postings_are_valid_against_the_schema() {
        let mut model = smollm2();
        let schema = job_summary();
        let validator = jsonschema::validator_for(&schema).expect("the schema is valid");
        let format = OutputFormat::JsonSchema(schema.clone());
        for (i, posting) in POSTINGS.iter().enumerate() {
            // Every third answer is sampled: the constraint holds whatever token is drawn.
            let params = GenerationParams {
                max_tokens: 160,
                temperature: if i % 3 == 0 { 0.8 } else { 0.0 },
                top_p: 0.95,
                seed: i as u64,
                ..GenerationParams::default()
            };
            let messages = [Message::system(SUMMARIZE), Message::user(*posting)];
            let mut streamed = String::new();
            let answer = model
                .chat(&messages, &[], &format, &params, |piece| {
                    streamed.push_str(piece);
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(answer.finish, FinishReason::Stop, "{posting}: {answer:?}");
            assert_eq!(streamed, answer.text, "{posting}");
            let value: Value = serde_json::from_str(&answer.text)
                .unwrap_or_else(|e| panic!("{posting}: {e}: {}", answer.text));
            let errors: Vec<String> =
                validator.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{posting}: {errors:?}: {}", answer.text);
            assert_eq!(answer.text.trim(), answer.text, "nothing before or after the value");
            assert!(
                longest_whitespace_outside_strings(&answer.text) <= 1,
                "{posting}: {}",
                answer.text
            );
            assert!(answer.tool_calls.is_empty());
        }
    }

    /// Shown a pretty-printed example, the model would indent its answer; the constraint
    /// allows one space after a comma or a colon and nothing else.
    #[test]
    fn whitespace_in_a_json_answer_is_capped() {
        let mut model = smollm2();
        let example = "{\n    \"title\": \"Baker\",\n    \"seniority\": \"mid\",\n    \"remote\": false,\n    \"skills\": [\n        \"bread\"\n    ],\n    \"salary\": null\n}";
        let messages = [
            Message::system(format!("{SUMMARIZE} Indent the JSON by four spaces.")),
            Message::user("Mid-level baker in Lyon, bread and pastry."),
            Message::assistant(example),
            Message::user(POSTINGS[0]),
        ];
        let params = GenerationParams { max_tokens: 160, ..GenerationParams::default() };
        let free = model
            .chat(&messages, &[], &OutputFormat::Text, &params, |_| ControlFlow::Continue(()))
            .unwrap();
        assert!(free.text.contains("\n    "), "unconstrained, it indents: {}", free.text);
        let format = OutputFormat::JsonSchema(job_summary());
        let answer =
            model.chat(&messages, &[], &format, &params, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(answer.finish, FinishReason::Stop, "{answer:?}");
        assert!(!answer.text.contains('\n'), "{}", answer.text);
        assert_eq!(longest_whitespace_outside_strings(&answer.text), 1, "{}", answer.text);
        let _: Value = serde_json::from_str(&answer.text).unwrap();
    }

    /// A choice is exactly one of the choices, greedy or sampled.
    #[test]
    fn a_choice_is_exactly_one_of_the_choices() {
        let mut model = smollm2();
        let choices = vec!["remote".to_owned(), "hybrid".to_owned(), "on site".to_owned()];
        let format = OutputFormat::Choice(choices.clone());
        let system = Message::system("Say where the job is done: remote, hybrid or on site.");
        for (i, posting) in POSTINGS.iter().take(6).enumerate() {
            let params = GenerationParams {
                max_tokens: 16,
                temperature: if i % 2 == 0 { 0.0 } else { 1.0 },
                seed: i as u64,
                ..GenerationParams::default()
            };
            let mut streamed = String::new();
            let answer = model
                .chat(&[system.clone(), Message::user(*posting)], &[], &format, &params, |piece| {
                    streamed.push_str(piece);
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert!(choices.contains(&answer.text), "{posting}: {answer:?}");
            assert_eq!(answer.finish, FinishReason::Stop, "{posting}: {answer:?}");
            assert_eq!(streamed, answer.text);
        }
    }

    /// A format that cannot be enforced is refused before a single token is generated.
    #[test]
    fn a_format_that_cannot_be_enforced_is_an_error_before_generation() {
        let mut model = smollm2();
        let params = GenerationParams { max_tokens: 16, ..GenerationParams::default() };
        let question = [Message::user("Describe a job.")];
        let formats = [
            (OutputFormat::JsonSchema(json!({"type": "strin"})), "strin"),
            (OutputFormat::JsonSchema(json!({"$ref": "#/$defs/missing"})), "missing"),
            (OutputFormat::JsonSchema(json!("an object")), "object"),
            (OutputFormat::Choice(Vec::new()), "no choices"),
            (OutputFormat::Choice(vec!["yes".into(), String::new()]), "empty"),
            (OutputFormat::ToolCalls, "no tools"),
        ];
        for (format, says) in formats {
            let mut called = false;
            let err = model
                .chat(&question, &[], &format, &params, |_| {
                    called = true;
                    ControlFlow::Continue(())
                })
                .unwrap_err();
            assert!(matches!(err, ModelError::Constraint(_)), "{format:?}: {err}");
            assert!(err.to_string().contains(says), "{format:?}: {err}");
            assert!(!called, "{format:?}: nothing was generated");
        }
    }

    /// `max_tokens` still ends a constrained answer: it is then incomplete.
    #[test]
    fn a_json_answer_cut_by_max_tokens_ends_with_length() {
        let mut model = smollm2();
        let params = GenerationParams { max_tokens: 6, ..GenerationParams::default() };
        let messages = [Message::system(SUMMARIZE), Message::user(POSTINGS[0])];
        let format = OutputFormat::JsonSchema(job_summary());
        let answer =
            model.chat(&messages, &[], &format, &params, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!((answer.finish, answer.generated_tokens), (FinishReason::Length, 6));
        assert!(answer.text.starts_with("{\"title\":"), "{}", answer.text);
        assert!(serde_json::from_str::<Value>(&answer.text).is_err(), "{}", answer.text);
    }

    /// Every vocabulary token's bytes are the text it decodes to; control tokens are marked,
    /// and the table is the model's vocabulary with the end of the turn as its end.
    #[test]
    fn the_token_table_is_each_tokens_bytes_and_control_tokens_are_marked() {
        let tokenizer = crate::testing::smollm2_tokenizer();
        let table = token_bytes(&tokenizer);
        assert_eq!(table.len(), tokenizer.len());
        let mut marked = 0;
        for (id, bytes) in table.iter().enumerate() {
            let id = id as u32;
            if tokenizer.is_control(id) {
                let name = tokenizer.token(id).unwrap();
                assert_eq!(bytes[0], TokTrie::SPECIAL_TOKEN_MARKER, "{name}");
                assert_eq!(&bytes[1..], name.as_bytes());
                marked += 1;
            } else {
                let decoded = tokenizer.decode(&[id]).unwrap();
                assert_eq!(String::from_utf8_lossy(bytes), decoded, "token {id}");
            }
        }
        assert_eq!(marked, 17, "SmolLM2's control tokens");
        assert_eq!(table[tokenizer.eos() as usize], b"\xFF<|im_end|>");
        // Whole tokens that are text encode back to themselves.
        let space_the = tokenizer.encode(" the").unwrap();
        assert_eq!(space_the.len(), 1);
        assert_eq!(table[space_the[0] as usize], b" the");
        let compiler = ConstraintCompiler::new(std::sync::Arc::new(tokenizer)).unwrap();
        let trie = compiler.factory.tok_env().tok_trie();
        assert_eq!(trie.vocab_size(), 49_152);
        assert_eq!(trie.eos_token(), 2);
    }

    /// Feeds `text`'s tokens to `constraint`, each checked against the mask first; the
    /// number that were allowed (until one is refused or the constraint is done).
    pub(crate) fn allowed_prefix(
        constraint: &mut Constraint,
        tokenizer: &ChatTokenizer,
        text: &str,
    ) -> usize {
        let ids = tokenizer.encode(text).unwrap();
        for (n, id) in ids.iter().enumerate() {
            if constraint.is_done().unwrap() {
                return n;
            }
            let mut scores = vec![0.0; tokenizer.len()];
            constraint.mask(&mut scores).unwrap();
            if scores[*id as usize] == f32::NEG_INFINITY {
                return n;
            }
            constraint.accept(*id).unwrap();
        }
        ids.len()
    }

    #[test]
    fn a_json_constraint_refuses_a_second_space_and_ends_with_the_value() {
        let tokenizer = std::sync::Arc::new(crate::testing::smollm2_tokenizer());
        let compiler = ConstraintCompiler::new(tokenizer.clone()).unwrap();
        let format = OutputFormat::JsonSchema(json!({
            "type": "object",
            "properties": {"a": {"type": "integer"}, "b": {"type": "array"}},
            "required": ["a", "b"]
        }));
        let compile = || compiler.compile(&format, &[]).unwrap().unwrap();
        for text in ["{\"a\": 1, \"b\": [2, 3]}", "{\"a\":1,\"b\":[]}"] {
            let mut constraint = compile();
            let ids = tokenizer.encode(text).unwrap();
            assert_eq!(allowed_prefix(&mut constraint, &tokenizer, text), ids.len(), "{text}");
            assert!(constraint.is_done().unwrap(), "{text}: nothing can follow");
        }
        for text in ["{\"a\":  1", "{\n\"a\"", "{\"a\": 1, \"b\": []} "] {
            let mut constraint = compile();
            let ids = tokenizer.encode(text).unwrap();
            assert!(allowed_prefix(&mut constraint, &tokenizer, text) < ids.len(), "{text}");
        }
    }
}
