//! The local chat model served to async code: one model instance, owned by a thread of its
//! own, fed by a bounded queue.
//!
//! [`LocalEngine::start`] spawns the thread, which loads the model and then answers requests
//! one at a time. [`LocalEngine::chat`] queues a request and returns its stream of events at
//! once; when the queue is full it refuses with [`ChatError::Busy`] instead of piling up work.
//! Dropping the stream stops the generation at its next token. Inference never runs on the
//! async runtime. A stream that ends without [`ChatEvent::Finished`] or an error lost its
//! model (a panic): the engine is then `Failed`.

use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;

use super::error::ChatError;
use super::message::{Message, Tool};
use super::model::LocalModel;
use super::provider::{ChatEvent, ChatStream};
use super::types::{FinishReason, GenerationParams, ModelError, OutputFormat};

/// Where the engine's model stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineState {
    Loading,
    Loaded,
    Failed(String),
}

struct Request {
    messages: Vec<Message>,
    tools: Vec<Tool>,
    params: GenerationParams,
    events: mpsc::UnboundedSender<Result<ChatEvent, ChatError>>,
}

/// Counters of the engine's work.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Answers started (not refused).
    pub answers: AtomicU64,
    /// Tokens generated over all answers.
    pub generated_tokens: AtomicU64,
    /// Answers stopped because their stream was dropped.
    pub cancelled: AtomicU64,
}

/// A handle to the model's thread. Cheap to clone; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct LocalEngine {
    queue: SyncSender<Request>,
    state: Arc<RwLock<EngineState>>,
    stats: Arc<EngineStats>,
}

impl std::fmt::Debug for LocalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEngine").field("state", &self.state()).finish()
    }
}

impl LocalEngine {
    /// Starts the model's thread: it loads the GGUF at `path`, then answers up to
    /// `queue_size` waiting requests in order (requests made while it loads wait too).
    pub fn start(path: PathBuf, queue_size: usize) -> std::io::Result<Self> {
        let (queue, requests) = std::sync::mpsc::sync_channel::<Request>(queue_size.max(1));
        let state = Arc::new(RwLock::new(EngineState::Loading));
        let stats = Arc::new(EngineStats::default());
        let (thread_state, thread_stats) = (state.clone(), stats.clone());
        std::thread::Builder::new().name("chat-model".into()).spawn(move || {
            let loaded =
                catch_unwind(AssertUnwindSafe(|| LocalModel::load(&path))).unwrap_or_else(|_| {
                    Err(ModelError::Inference("loading the model panicked".into()))
                });
            let mut model = match loaded {
                Ok(model) => {
                    set(&thread_state, EngineState::Loaded);
                    model
                }
                Err(err) => {
                    fail(&thread_state, err.to_string());
                    return refuse_all(requests, err.to_string());
                }
            };
            while let Ok(request) = requests.recv() {
                // A panic leaves the model in an unknown state: it answers nothing more.
                let answered =
                    catch_unwind(AssertUnwindSafe(|| answer(&mut model, request, &thread_stats)));
                if answered.is_err() {
                    let message = "the chat model failed while answering".to_owned();
                    fail(&thread_state, message.clone());
                    return refuse_all(requests, message);
                }
            }
        })?;
        Ok(Self { queue, state, stats })
    }

    pub fn state(&self) -> EngineState {
        self.state.read().map(|s| s.clone()).unwrap_or(EngineState::Loading)
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }

    /// Queues an answer to `messages` and returns its events as they come. A full queue is
    /// [`ChatError::Busy`] at once; a model that failed to load is
    /// [`ChatError::Unavailable`].
    pub fn chat(
        &self,
        messages: Vec<Message>,
        tools: Vec<Tool>,
        params: GenerationParams,
    ) -> Result<ChatStream, ChatError> {
        if let EngineState::Failed(message) = self.state() {
            return Err(ChatError::Unavailable(message));
        }
        let (events, stream) = mpsc::unbounded_channel();
        match self.queue.try_send(Request { messages, tools, params, events }) {
            Ok(()) => Ok(stream),
            Err(TrySendError::Full(_)) => Err(ChatError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                Err(ChatError::Unavailable("the chat model's thread has stopped".into()))
            }
        }
    }
}

fn fail(state: &RwLock<EngineState>, message: String) {
    tracing::warn!(error = %message, "the chat model is unavailable");
    set(state, EngineState::Failed(message));
}

/// Answers every request that comes, until every handle is gone, with the reason the model is
/// unavailable (requests queued before the failure was known included).
fn refuse_all(requests: std::sync::mpsc::Receiver<Request>, message: String) {
    for request in requests {
        let _ = request.events.send(Err(ChatError::Unavailable(message.clone())));
    }
}

fn set(state: &RwLock<EngineState>, value: EngineState) {
    if let Ok(mut state) = state.write() {
        *state = value;
    }
}

/// Generates one answer, sending its pieces; a dropped stream stops it at the next token.
fn answer(model: &mut LocalModel, request: Request, stats: &EngineStats) {
    let Request { messages, tools, params, events } = request;
    if events.is_closed() {
        return;
    }
    stats.answers.fetch_add(1, Ordering::SeqCst);
    let result = model.chat(&messages, &tools, &OutputFormat::Text, &params, |piece| {
        let sent = if piece.is_empty() {
            !events.is_closed()
        } else {
            events.send(Ok(ChatEvent::Text(piece.to_owned()))).is_ok()
        };
        if sent { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
    });
    match result {
        Ok(generation) => {
            stats.generated_tokens.fetch_add(generation.generated_tokens as u64, Ordering::SeqCst);
            if generation.finish == FinishReason::Cancelled {
                stats.cancelled.fetch_add(1, Ordering::SeqCst);
            }
            for call in &generation.tool_calls {
                let _ = events.send(Ok(ChatEvent::ToolCall(call.clone())));
            }
            let _ = events.send(Ok(ChatEvent::Finished(generation)));
        }
        Err(err) => {
            let _ = events.send(Err(err.into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use super::*;

    fn smollm2() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/llm/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    fn question() -> Vec<Message> {
        vec![Message::user("Write a long story about a lighthouse keeper.")]
    }

    fn params(max_tokens: usize) -> GenerationParams {
        GenerationParams { max_tokens, ..GenerationParams::default() }
    }

    async fn wait_for(engine: &LocalEngine, done: impl Fn(&EngineStats) -> bool) {
        let started = Instant::now();
        while !done(engine.stats()) {
            assert!(started.elapsed() < Duration::from_secs(120), "{:?}", engine.stats());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn an_answer_streams_its_pieces_then_how_it_ended() {
        let engine = LocalEngine::start(smollm2(), 4).unwrap();
        let mut stream = engine.chat(question(), vec![], params(12)).unwrap();
        let mut text = String::new();
        let finished = loop {
            match stream.recv().await.expect("the stream ends with Finished").unwrap() {
                ChatEvent::Text(piece) => text.push_str(&piece),
                ChatEvent::Finished(generation) => break generation,
                ChatEvent::ToolCall(call) => panic!("no tools were offered: {call:?}"),
            }
        };
        assert_eq!(engine.state(), EngineState::Loaded);
        assert_eq!(finished.finish, FinishReason::Length);
        assert_eq!(finished.generated_tokens, 12);
        assert_eq!(text, finished.text);
    }

    /// The client goes away after the first piece: the model stops at the next token instead
    /// of writing the rest of a long answer.
    #[tokio::test]
    async fn a_dropped_stream_stops_the_generation_long_before_its_end() {
        let engine = LocalEngine::start(smollm2(), 4).unwrap();
        let mut stream = engine.chat(question(), vec![], params(400)).unwrap();
        assert!(matches!(stream.recv().await, Some(Ok(ChatEvent::Text(_)))));
        drop(stream);
        wait_for(&engine, |s| s.cancelled.load(Ordering::SeqCst) == 1).await;
        // The model may run a few tokens ahead of the reader before it sees the stream gone,
        // never the 400 it was asked for.
        let generated = engine.stats().generated_tokens.load(Ordering::SeqCst);
        assert!(generated < 100, "{generated} tokens generated for a stream nobody read");
    }

    /// One answer runs, one waits; the next is refused at once, not queued without bound.
    #[tokio::test]
    async fn a_full_queue_answers_busy() {
        let engine = LocalEngine::start(smollm2(), 1).unwrap();
        let mut running = engine.chat(question(), vec![], params(200)).unwrap();
        assert!(matches!(running.recv().await, Some(Ok(ChatEvent::Text(_)))));
        let _waiting = engine.chat(question(), vec![], params(8)).unwrap();
        let refused = engine.chat(question(), vec![], params(8));
        assert!(matches!(refused, Err(ChatError::Busy)), "{refused:?}");
    }

    #[tokio::test]
    async fn a_model_that_cannot_load_is_unavailable_with_the_reason() {
        let engine = LocalEngine::start(PathBuf::from("/nonexistent/model.gguf"), 2).unwrap();
        // Asked before or after the failure is known: refused either way, with the reason.
        let err = match engine.chat(question(), vec![], params(8)) {
            Ok(mut early) => early.recv().await.unwrap().unwrap_err(),
            Err(err) => err,
        };
        assert!(err.to_string().contains("/nonexistent/model.gguf"), "{err}");
        assert!(matches!(engine.state(), EngineState::Failed(_)));
        let later = engine.chat(question(), vec![], params(8));
        assert!(matches!(later, Err(ChatError::Unavailable(_))), "{later:?}");
    }
}
