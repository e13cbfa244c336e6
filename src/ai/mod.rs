//! The AI runtime: the models this process has loaded (or is loading), the chat model it
//! serves (local, or a hosted provider when configured) and the vector collections built from
//! their output. The local models run in process, on the CPU, offline. [`prompts`] holds the
//! templates the chat model is asked with; [`chains`] phrase facts the services computed and
//! check the model's text against them.
//!
//! A missing or still-loading model never stops the portal: search falls back to keyword
//! ranking and `/readyz` says which model is missing and which command fetches it.

pub mod agents;
pub mod chains;
pub mod prompts;
pub mod providers;
pub mod rag;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use providers::chat::error::ChatError;
use providers::chat::provider::ChatModel;
use providers::chat::select;
use providers::chat::types::GenerationParams;
use providers::embedder::{self, EmbedError, Embedder};
use providers::foreground::Foreground;
use rag::vectorstore::{HnswConfig, VectorIndex};

use crate::core::config::ChatSettings;

/// The command that fetches the models.
pub const FETCH_COMMAND: &str = "./scripts/models.sh";

/// Where the embedding model stands in this process.
#[derive(Clone)]
pub enum ModelState {
    /// Nothing asked for it yet (commands that need no model).
    NotLoaded,
    Loading,
    Loaded(Embedder),
    /// Its files are not there; the message names them and the command that fetches them.
    Missing(String),
    Failed(String),
}

impl ModelState {
    /// `loaded`, `loading`, `missing`, `failed` or `not_loaded`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotLoaded => "not_loaded",
            Self::Loading => "loading",
            Self::Loaded(_) => "loaded",
            Self::Missing(_) => "missing",
            Self::Failed(_) => "failed",
        }
    }

    /// The state in words for a message: "loading", "missing (… run `./scripts/models.sh` …)".
    pub fn describe(&self) -> String {
        match self {
            Self::Missing(message) => format!("missing ({message})"),
            Self::Failed(message) => format!("failed to load ({message})"),
            other => other.name().replace('_', " "),
        }
    }
}

/// Fixes the thread count the model code uses to the number of cores, unless
/// `RAYON_NUM_THREADS` says otherwise. Unset, candle asks the OS on every matrix product
/// (reading /proc/cpuinfo: a quarter of an embedding's time).
///
/// # Safety
/// It sets an environment variable: call it before any other thread exists.
pub unsafe fn fix_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        // SAFETY: the caller promises no other thread runs.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", threads.to_string()) };
    }
}

/// The models and vector collections of this process. Shared by every request.
pub struct Ai {
    models_dir: PathBuf,
    embedder: RwLock<ModelState>,
    /// The chat model and the parameters of an answer that asks for nothing in particular,
    /// once started ([`Ai::start_chat`]); commands that need none never start one.
    chat: OnceLock<(Arc<dyn ChatModel>, GenerationParams)>,
    /// Embeddings of the public jobs, by job id.
    pub jobs: Arc<VectorIndex>,
    /// How far the job vectors have followed the jobs (unix micros): the newest `updated_at`
    /// they saw, or the start of the last complete sync by the database's clock if later.
    pub jobs_watermark: AtomicI64,
    /// Wakes the loop that keeps the job vectors in step (a job was written).
    pub jobs_changed: tokio::sync::Notify,
    /// Jobs whose text changed without their `updated_at` (their company was renamed): the
    /// next sync looks at them too.
    pub jobs_pending: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// The chat model's answers being computed, which the embedder's backfills wait for.
    foreground: Foreground,
}

impl std::fmt::Debug for Ai {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ai")
            .field("models_dir", &self.models_dir)
            .field("embedder", &self.embedder_state().name())
            .field("chat", &self.chat())
            .field("job_vectors", &self.jobs.len())
            .finish()
    }
}

impl Ai {
    pub fn new(models_dir: &Path) -> Self {
        Self {
            models_dir: models_dir.to_owned(),
            embedder: RwLock::new(ModelState::NotLoaded),
            chat: OnceLock::new(),
            jobs: Arc::new(VectorIndex::new(HnswConfig::default())),
            jobs_watermark: AtomicI64::new(0),
            jobs_changed: tokio::sync::Notify::new(),
            jobs_pending: std::sync::Mutex::new(std::collections::BTreeSet::new()),
            foreground: Foreground::default(),
        }
    }

    pub fn models_dir(&self) -> &Path {
        &self.models_dir
    }

    /// Where the embedding model's files are.
    pub fn embed_dir(&self) -> PathBuf {
        self.models_dir.join("embed")
    }

    /// Where the chat model's GGUF files are.
    pub fn llm_dir(&self) -> PathBuf {
        self.models_dir.join("llm")
    }

    pub fn embedder_state(&self) -> ModelState {
        self.embedder.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The embedder, when it is loaded.
    pub fn embedder(&self) -> Option<Embedder> {
        match &*self.embedder.read().unwrap_or_else(|e| e.into_inner()) {
            ModelState::Loaded(embedder) => Some(embedder.clone()),
            _ => None,
        }
    }

    /// Loads the embedding model (once; a second call while loaded or loading returns at
    /// once). Blocking: run it on a blocking thread.
    pub fn load_embedder_blocking(&self) -> ModelState {
        {
            let mut state = self.embedder.write().unwrap_or_else(|e| e.into_inner());
            if matches!(*state, ModelState::Loaded(_) | ModelState::Loading) {
                return state.clone();
            }
            *state = ModelState::Loading;
        }
        let started = std::time::Instant::now();
        let next = match Embedder::load_deferring(&self.embed_dir(), self.foreground.clone()) {
            Ok(embedder) => {
                tracing::info!(
                    model = embedder::MODEL_ID,
                    millis = started.elapsed().as_millis() as u64,
                    "embedding model loaded"
                );
                ModelState::Loaded(embedder)
            }
            Err(EmbedError::Missing(files)) => {
                let message = format!(
                    "{files} not found: run `{FETCH_COMMAND}` (or set JOBPORTAL_MODELS_DIR)"
                );
                tracing::warn!("embedding model missing: {message}; search stays keyword-only");
                ModelState::Missing(message)
            }
            Err(err) => {
                tracing::error!(error = %err, "embedding model failed to load; search stays keyword-only");
                ModelState::Failed(err.to_string())
            }
        };
        *self.embedder.write().unwrap_or_else(|e| e.into_inner()) = next.clone();
        next
    }

    /// Loads the embedding model on a blocking thread; returns its state once settled.
    pub async fn load_embedder(self: &Arc<Self>) -> ModelState {
        let ai = self.clone();
        tokio::task::spawn_blocking(move || ai.load_embedder_blocking())
            .await
            .unwrap_or_else(|e| ModelState::Failed(format!("the loading thread failed: {e}")))
    }

    /// Starts the chat model `settings` name (once: later calls return the first), without
    /// waiting for a local model to load (it loads on a thread of its own). `Err` is settings
    /// that cannot work; a missing local file is a model in the `Missing` state instead.
    pub fn start_chat(&self, settings: &ChatSettings) -> Result<Arc<dyn ChatModel>, ChatError> {
        if let Some((model, _)) = self.chat.get() {
            return Ok(model.clone());
        }
        let model = select::start(settings, &self.models_dir, self.foreground.clone())?;
        let params = select::default_params(&settings.defaults);
        Ok(self.chat.get_or_init(|| (model, params)).0.clone())
    }

    /// The chat model of this process, once started.
    pub fn chat(&self) -> Option<Arc<dyn ChatModel>> {
        self.chat.get().map(|(model, _)| model.clone())
    }

    /// The parameters of an answer whose caller asks for nothing in particular: the configured
    /// defaults (the built-in ones before the chat model is started).
    pub fn chat_params(&self) -> GenerationParams {
        self.chat.get().map_or_else(GenerationParams::default, |(_, params)| params.clone())
    }

    pub fn jobs_watermark(&self) -> i64 {
        self.jobs_watermark.load(Ordering::Relaxed)
    }
}
