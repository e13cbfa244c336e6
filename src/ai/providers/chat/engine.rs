//! The local chat model served to async code: one model instance, owned by a thread of its
//! own, computing in a thread pool of its own, behind a bounded queue.
//!
//! [`LocalEngine::start`] decides at once whether the GGUF file is there (`Missing`
//! otherwise, with the command that fetches it), then spawns the thread, which loads the model
//! and answers requests one at a time. Everything the model computes runs inside a rayon pool
//! of the configured number of threads (`ThreadPool::install`), so its rayon loops use that
//! many threads and never rayon's global pool. (candle 0.11.1's own quantized matmuls and
//! element-wise loops use a process-wide pool of candle's, sized once from
//! `CANDLE_NUM_THREADS` or `RAYON_NUM_THREADS`, whatever the current rayon pool.)
//! [`ChatModel::chat`] queues a request and returns
//! its stream of events at once; beyond the answer being written and `queue_size` waiting ones
//! it refuses with [`ChatError::Busy`] instead of piling up work. An answer that waits hears
//! its place ([`ChatEvent::Queued`]) when it is queued and each time it moves up. Dropping the
//! stream stops the generation at its next token. Inference never runs on the async runtime.
//! A stream that ends without [`ChatEvent::Finished`] or an error lost its model (a panic):
//! the engine is then `Failed`.

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio::sync::mpsc;

use super::error::ChatError;
use super::model::LocalModel;
use super::provider::{ChatEvent, ChatModel, ChatModelState, ChatRequest, ChatStream};
use super::types::{FinishReason, ModelError};
use crate::ai::providers::foreground::Foreground;

/// How the engine runs its model.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Answers that may wait while one is written; one more is refused ([`ChatError::Busy`]).
    pub queue_size: usize,
    /// Threads the model computes with (at least 1).
    pub threads: usize,
    /// Where an answer being computed is counted (background model work waits for it).
    pub foreground: Foreground,
}

type Events = mpsc::UnboundedSender<Result<ChatEvent, ChatError>>;

struct Request {
    chat: ChatRequest,
    events: Events,
}

/// The requests sent to the model's thread and not yet taken by it, in order: a request is
/// pushed here and sent under this lock, so the order here is the order of the channel.
#[derive(Default)]
struct Waiting(Mutex<VecDeque<Events>>);

impl Waiting {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Events>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model takes the first request: each one behind it hears its new place.
    fn take_first(&self) {
        let mut waiting = self.lock();
        waiting.pop_front();
        for (at, events) in waiting.iter().enumerate() {
            let _ = events.send(Ok(ChatEvent::Queued(at + 1)));
        }
    }
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
    /// The threads of the pool the model computes in, as seen from inside it (0 until loaded).
    pub threads: AtomicUsize,
}

/// A handle to the model's thread. Cheap to clone; the thread ends when every handle is gone.
#[derive(Clone)]
pub struct LocalEngine {
    /// `local <file name>`.
    name: String,
    /// `None` when there is no model to send requests to (its file is missing).
    queue: Option<Sender<Request>>,
    /// Requests accepted and not yet done with (the one being answered included).
    outstanding: Arc<AtomicUsize>,
    waiting: Arc<Waiting>,
    /// The most requests outstanding at once: the running one and `queue_size` waiting.
    capacity: usize,
    state: Arc<RwLock<ChatModelState>>,
    stats: Arc<EngineStats>,
}

impl std::fmt::Debug for LocalEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEngine")
            .field("model", &self.name)
            .field("state", &self.state())
            .finish()
    }
}

impl LocalEngine {
    /// Starts the model's thread: it loads the GGUF at `path` inside a pool of
    /// `options.threads` threads, then answers the requests in order (those made while it
    /// loads wait too). A file that is not there is `Missing` at once, and no thread starts.
    pub fn start(path: PathBuf, options: EngineOptions) -> std::io::Result<Self> {
        let name = format!("local {}", file_name(&path));
        if !path.is_file() {
            return Ok(Self::missing(
                name,
                format!(
                    "no chat model at {}: run `{}` (or point {} at a .gguf file)",
                    path.display(),
                    crate::ai::FETCH_COMMAND,
                    crate::core::config::env::LLM_MODEL
                ),
            ));
        }
        let (queue, requests) = std::sync::mpsc::channel::<Request>();
        let state = Arc::new(RwLock::new(ChatModelState::Loading));
        let stats = Arc::new(EngineStats::default());
        let outstanding = Arc::new(AtomicUsize::new(0));
        let waiting = Arc::new(Waiting::default());
        let (thread_state, thread_stats, thread_outstanding, thread_waiting) =
            (state.clone(), stats.clone(), outstanding.clone(), waiting.clone());
        let threads = options.threads.max(1);
        std::thread::Builder::new().name("chat-model".into()).spawn(move || {
            let served = Served {
                state: thread_state,
                outstanding: thread_outstanding,
                waiting: thread_waiting,
                foreground: options.foreground,
            };
            let pool = match rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("chat-model-{i}"))
                .build()
            {
                Ok(pool) => pool,
                Err(err) => {
                    let message = format!("cannot start the chat model's {threads} threads: {err}");
                    served.fail(message.clone());
                    return served.refuse_all(requests, message);
                }
            };
            pool.install(|| run(&path, requests, &served, &thread_stats));
        })?;
        Ok(Self {
            name,
            queue: Some(queue),
            outstanding,
            waiting,
            capacity: options.queue_size.saturating_add(1),
            state,
            stats,
        })
    }

    /// An engine without a model: `Missing` for this reason, refusing every request with it.
    pub fn missing(name: String, message: String) -> Self {
        Self {
            name,
            queue: None,
            outstanding: Arc::default(),
            waiting: Arc::default(),
            capacity: 0,
            state: Arc::new(RwLock::new(ChatModelState::Missing(message))),
            stats: Arc::default(),
        }
    }

    pub fn stats(&self) -> &EngineStats {
        &self.stats
    }
}

impl ChatModel for LocalEngine {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn state(&self) -> ChatModelState {
        self.state.read().map(|s| s.clone()).unwrap_or(ChatModelState::Loading)
    }

    /// Queues an answer and returns its events as they come. A full queue is
    /// [`ChatError::Busy`] at once; a model that is missing or failed to load is
    /// [`ChatError::Unavailable`].
    fn chat(&self, request: ChatRequest) -> Result<ChatStream, ChatError> {
        let queue = match (self.state(), &self.queue) {
            (ChatModelState::Missing(message) | ChatModelState::Failed(message), _) => {
                return Err(ChatError::Unavailable(message));
            }
            (_, None) => return Err(ChatError::Unavailable("the chat model is not there".into())),
            (_, Some(queue)) => queue,
        };
        let mut waiting = self.waiting.lock();
        let Ok(ahead) = self.outstanding.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            (n < self.capacity).then_some(n + 1)
        }) else {
            return Err(ChatError::Busy);
        };
        let (events, stream) = mpsc::unbounded_channel();
        if ahead > 0 {
            let _ = events.send(Ok(ChatEvent::Queued(ahead)));
        }
        waiting.push_back(events.clone());
        match queue.send(Request { chat: request, events }) {
            Ok(()) => Ok(stream),
            Err(_) => {
                waiting.pop_back();
                self.outstanding.fetch_sub(1, Ordering::SeqCst);
                Err(ChatError::Unavailable("the chat model's thread has stopped".into()))
            }
        }
    }
}

/// The file's name, for logs and `/readyz`.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into())
}

/// What the model's thread shares with the handles.
struct Served {
    state: Arc<RwLock<ChatModelState>>,
    outstanding: Arc<AtomicUsize>,
    waiting: Arc<Waiting>,
    foreground: Foreground,
}

impl Served {
    fn set(&self, value: ChatModelState) {
        if let Ok(mut state) = self.state.write() {
            *state = value;
        }
    }

    fn fail(&self, message: String) {
        tracing::warn!(error = %message, "the chat model is unavailable");
        self.set(ChatModelState::Failed(message));
    }

    /// A request is done with: its slot is free.
    fn done(&self) {
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
    }

    /// Answers every request that comes, until every handle is gone, with the reason the
    /// model is unavailable (requests queued before the failure was known included).
    fn refuse_all(&self, requests: std::sync::mpsc::Receiver<Request>, message: String) {
        for request in requests {
            self.waiting.take_first();
            let _ = request.events.send(Err(ChatError::Unavailable(message.clone())));
            self.done();
        }
    }
}

/// The model's life, inside its pool: load, then answer until every handle is gone.
fn run(
    path: &Path,
    requests: std::sync::mpsc::Receiver<Request>,
    served: &Served,
    stats: &EngineStats,
) {
    let started = std::time::Instant::now();
    let loaded = catch_unwind(AssertUnwindSafe(|| LocalModel::load(path)))
        .unwrap_or_else(|_| Err(ModelError::Inference("loading the model panicked".into())));
    let mut model = match loaded {
        Ok(model) => model,
        Err(err) => {
            served.fail(err.to_string());
            return served.refuse_all(requests, err.to_string());
        }
    };
    stats.threads.store(rayon::current_num_threads(), Ordering::SeqCst);
    tracing::info!(
        model = %path.display(),
        threads = rayon::current_num_threads(),
        millis = started.elapsed().as_millis() as u64,
        "chat model loaded"
    );
    served.set(ChatModelState::Ready);
    while let Ok(request) = requests.recv() {
        served.waiting.take_first();
        // A panic leaves the model in an unknown state: it answers nothing more.
        let answered = catch_unwind(AssertUnwindSafe(|| {
            let _running = served.foreground.begin();
            answer(&mut model, request, stats)
        }));
        // The slot is free before the answer's end is heard: a question asked as soon as the
        // last one ended is not told it waits behind it.
        served.done();
        match answered {
            Ok(Some((events, ending))) => {
                for event in ending {
                    let _ = events.send(event);
                }
            }
            Ok(None) => {}
            Err(_) => {
                let message = "the chat model failed while answering".to_owned();
                served.fail(message.clone());
                return served.refuse_all(requests, message);
            }
        }
    }
}

/// What ends an answer (its tool calls and how it ended, or its error), sent once its slot
/// is free, and where to send it.
type Ending = (Events, Vec<Result<ChatEvent, ChatError>>);

/// Generates one answer, sending its pieces; a dropped stream stops it at the next token.
/// Returns the events that end it, for the caller to send after freeing the slot.
fn answer(model: &mut LocalModel, request: Request, stats: &EngineStats) -> Option<Ending> {
    let Request { chat: ChatRequest { messages, tools, params, format }, events } = request;
    if events.is_closed() {
        return None;
    }
    stats.answers.fetch_add(1, Ordering::SeqCst);
    let result = model.chat(&messages, &tools, &format, &params, |piece| {
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
            let mut ending: Vec<_> = generation
                .tool_calls
                .iter()
                .map(|call| Ok(ChatEvent::ToolCall(call.clone())))
                .collect();
            ending.push(Ok(ChatEvent::Finished(generation)));
            Some((events, ending))
        }
        Err(err) => Some((events, vec![Err(err.into())])),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::ai::providers::chat::message::{Message, Tool};
    use crate::ai::providers::chat::types::{GenerationParams, OutputFormat};

    fn smollm2() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/llm/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    fn options(queue_size: usize) -> EngineOptions {
        EngineOptions { queue_size, threads: 2, foreground: Foreground::default() }
    }

    fn question(max_tokens: usize) -> ChatRequest {
        ChatRequest {
            params: GenerationParams { max_tokens, ..GenerationParams::default() },
            ..ChatRequest::new(vec![Message::user("Write a long story about a lighthouse keeper.")])
        }
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
        let engine = LocalEngine::start(smollm2(), options(4)).unwrap();
        assert_eq!(engine.describe(), "local SmolLM2-135M-Instruct.Q4_1.gguf");
        let mut stream = engine.chat(question(12)).unwrap();
        let mut text = String::new();
        let finished = loop {
            match stream.recv().await.expect("the stream ends with Finished").unwrap() {
                ChatEvent::Text(piece) => text.push_str(&piece),
                ChatEvent::Finished(generation) => break generation,
                ChatEvent::ToolCall(call) => panic!("no tools were offered: {call:?}"),
                ChatEvent::Queued(ahead) => panic!("nothing came before it, yet {ahead} did"),
            }
        };
        // Its slot was free before its end was sent: a question asked now waits for nothing.
        assert_eq!(engine.outstanding.load(Ordering::SeqCst), 0);
        assert_eq!(engine.state(), ChatModelState::Ready);
        assert_eq!(finished.finish, FinishReason::Length);
        assert_eq!(finished.generated_tokens, 12);
        assert_eq!(text, finished.text);
    }

    /// The model computes in a pool of the configured size, not in rayon's global pool.
    #[tokio::test]
    async fn the_model_runs_in_a_pool_of_the_configured_threads() {
        let engine = LocalEngine::start(
            smollm2(),
            EngineOptions { queue_size: 1, threads: 1, foreground: Foreground::default() },
        )
        .unwrap();
        let mut stream = engine.chat(question(2)).unwrap();
        while let Some(event) = stream.recv().await {
            if matches!(event.unwrap(), ChatEvent::Finished(_)) {
                break;
            }
        }
        assert_eq!(engine.stats().threads.load(Ordering::SeqCst), 1);
        let engine = LocalEngine::start(
            smollm2(),
            EngineOptions { queue_size: 1, threads: 3, foreground: Foreground::default() },
        )
        .unwrap();
        wait_for(&engine, |s| s.threads.load(Ordering::SeqCst) != 0).await;
        assert_eq!(engine.stats().threads.load(Ordering::SeqCst), 3);
    }

    /// The client goes away after the first piece: the model stops at the next token instead
    /// of writing the rest of a long answer.
    #[tokio::test]
    async fn a_dropped_stream_stops_the_generation_long_before_its_end() {
        let engine = LocalEngine::start(smollm2(), options(4)).unwrap();
        let mut stream = engine.chat(question(400)).unwrap();
        assert!(matches!(stream.recv().await, Some(Ok(ChatEvent::Text(_)))));
        drop(stream);
        wait_for(&engine, |s| s.cancelled.load(Ordering::SeqCst) == 1).await;
        // The model may run a few tokens ahead of the reader before it sees the stream gone,
        // never the 400 it was asked for.
        let generated = engine.stats().generated_tokens.load(Ordering::SeqCst);
        assert!(generated < 100, "{generated} tokens generated for a stream nobody read");
    }

    /// One answer runs, one waits; the next is refused at once, not queued without bound. Once
    /// they are done, the slots are free again.
    #[tokio::test]
    async fn a_full_queue_answers_busy() {
        let engine = LocalEngine::start(smollm2(), options(1)).unwrap();
        let mut running = engine.chat(question(200)).unwrap();
        assert!(matches!(running.recv().await, Some(Ok(ChatEvent::Text(_)))));
        let waiting = engine.chat(question(8)).unwrap();
        let refused = engine.chat(question(8));
        assert!(matches!(refused, Err(ChatError::Busy)), "{refused:?}");
        drop((running, waiting));
        wait_for(&engine, |_| engine.outstanding.load(Ordering::SeqCst) == 0).await;
        assert!(engine.chat(question(1)).is_ok());
    }

    /// Answers that wait hear how many come before them, and again each time one is done.
    #[tokio::test]
    async fn a_waiting_answer_hears_its_place_as_it_moves_up() {
        let engine = LocalEngine::start(smollm2(), options(3)).unwrap();
        let mut running = engine.chat(question(24)).unwrap();
        assert!(matches!(running.recv().await, Some(Ok(ChatEvent::Text(_)))));
        let mut second = engine.chat(question(4)).unwrap();
        let mut third = engine.chat(question(4)).unwrap();
        // Every event of an answer until it finishes, as short names.
        async fn events(stream: &mut ChatStream) -> Vec<String> {
            let mut seen = Vec::new();
            while let Some(event) = stream.recv().await {
                match event.unwrap() {
                    ChatEvent::Queued(ahead) => seen.push(format!("queued {ahead}")),
                    ChatEvent::Text(_) => {
                        if seen.last().is_none_or(|s| s != "text") {
                            seen.push("text".into());
                        }
                    }
                    ChatEvent::ToolCall(_) => seen.push("call".into()),
                    ChatEvent::Finished(_) => {
                        seen.push("finished".into());
                        break;
                    }
                }
            }
            seen
        }
        let first = events(&mut running).await;
        assert_eq!(first, ["text", "finished"], "the first answer never waited");
        assert_eq!(events(&mut second).await, ["queued 1", "text", "finished"]);
        assert_eq!(events(&mut third).await, ["queued 2", "queued 1", "text", "finished"]);
        wait_for(&engine, |_| engine.outstanding.load(Ordering::SeqCst) == 0).await;
        let mut alone = engine.chat(question(2)).unwrap();
        assert_eq!(events(&mut alone).await.first().map(String::as_str), Some("text"));
    }

    /// With no queue, only the answer being written is accepted (while loading too).
    #[tokio::test]
    async fn a_queue_of_zero_takes_one_answer_at_a_time() {
        let engine = LocalEngine::start(smollm2(), options(0)).unwrap();
        let mut first = engine.chat(question(4)).unwrap();
        assert!(matches!(engine.chat(question(4)), Err(ChatError::Busy)));
        while let Some(event) = first.recv().await {
            if matches!(event.unwrap(), ChatEvent::Finished(_)) {
                break;
            }
        }
        wait_for(&engine, |_| engine.outstanding.load(Ordering::SeqCst) == 0).await;
        assert!(engine.chat(question(4)).is_ok());
    }

    #[tokio::test]
    async fn a_missing_file_is_missing_with_the_command_that_fetches_it_and_loads_nothing() {
        let engine =
            LocalEngine::start(PathBuf::from("/nonexistent/model.gguf"), options(2)).unwrap();
        let ChatModelState::Missing(message) = engine.state() else {
            panic!("{:?}", engine.state())
        };
        assert!(message.contains("/nonexistent/model.gguf"), "{message}");
        assert!(message.contains(crate::ai::FETCH_COMMAND), "{message}");
        let refused = engine.chat(question(8));
        assert!(matches!(&refused, Err(ChatError::Unavailable(m)) if *m == message), "{refused:?}");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_model_fails_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.gguf");
        std::fs::write(&path, b"these are not weights").unwrap();
        let engine = LocalEngine::start(path.clone(), options(2)).unwrap();
        // Asked before or after the failure is known: refused either way, with the reason.
        let err = match engine.chat(question(8)) {
            Ok(mut early) => early.recv().await.unwrap().unwrap_err(),
            Err(err) => err,
        };
        assert!(err.to_string().contains(&*path.to_string_lossy()), "{err}");
        assert!(matches!(engine.state(), ChatModelState::Failed(_)), "{:?}", engine.state());
        let later = engine.chat(question(8));
        assert!(matches!(later, Err(ChatError::Unavailable(_))), "{later:?}");
    }

    /// Every event of a stream, up to its end.
    async fn events(mut stream: ChatStream) -> Vec<ChatEvent> {
        let mut events = Vec::new();
        while let Some(event) = stream.recv().await {
            events.push(event.unwrap());
        }
        events
    }

    /// The request's format reaches the model: a choice is answered with one of its texts,
    /// and a required tool call arrives as a ToolCall event before the end.
    #[tokio::test]
    async fn a_choice_is_one_of_its_texts_and_a_required_call_comes_as_a_tool_call_event() {
        let engine = LocalEngine::start(smollm2(), options(2)).unwrap();
        let choice = ChatRequest {
            format: OutputFormat::Choice(vec!["yes".into(), "no".into()]),
            ..ChatRequest::new(vec![Message::user("Is Paris in France? Answer yes or no.")])
        };
        let answer = events(engine.chat(choice).unwrap()).await;
        let text: String = answer
            .iter()
            .filter_map(|e| if let ChatEvent::Text(t) = e { Some(t.as_str()) } else { None })
            .collect();
        assert!(text == "yes" || text == "no", "{answer:?}");
        assert!(matches!(answer.last(), Some(ChatEvent::Finished(g)) if g.text == text));

        let weather = Tool {
            name: "get_weather".into(),
            description: "The current weather in a city".into(),
            parameters: serde_json::json!({
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            }),
        };
        let call = ChatRequest {
            tools: vec![weather],
            format: OutputFormat::ToolCalls,
            params: GenerationParams { max_tokens: 64, ..GenerationParams::default() },
            ..ChatRequest::new(vec![Message::user("What's the weather like in Paris?")])
        };
        let answer = events(engine.chat(call).unwrap()).await;
        let [ChatEvent::ToolCall(call), ChatEvent::Finished(finished)] = answer.as_slice() else {
            panic!("one call, then the end: {answer:?}");
        };
        assert_eq!(call.name, "get_weather");
        assert!(call.arguments["city"].is_string(), "{call:?}");
        assert_eq!(finished.finish, FinishReason::ToolCalls);
        assert_eq!(finished.tool_calls, vec![call.clone()]);
    }
}
