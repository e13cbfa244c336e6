//! Sentence embeddings with all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions), in process, on
//! the CPU: the forward pass is the jobportal-bert crate's, which packs a batch's texts end to
//! end without padding.
//!
//! The model lives on one dedicated thread that owns it; callers send texts over a channel and
//! await the vectors, so inference never runs on the async runtime's workers. A request is
//! interactive (someone waits: a search, a question) or bulk (a backfill). The thread drains
//! every interactive request queued into one batch (forward passes of at most 1024 tokens);
//! bulk requests run in slices of a few texts, and interactive ones queued meanwhile go
//! between two slices, so a backfill of thousands of jobs delays a search by one slice.
//! Vectors are mean-pooled over each text's tokens and L2-normalised, so a dot product is the
//! cosine. A bounded cache keyed by the text's hash answers repeated texts (the same query, an
//! unchanged job) without the model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jobportal_bert::Encoder;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams, TruncationStrategy};
use tokio::sync::{mpsc, oneshot};

use super::foreground::Foreground;

/// Dimensions of a vector.
pub const DIMENSIONS: usize = 384;

/// Tokens past this are cut (the model was trained on 256-token inputs).
pub const MAX_TOKENS: usize = 256;

/// The most texts run through the model at once.
pub const MAX_BATCH: usize = 32;

/// The most tokens of one forward pass: what bounds the encoder's working memory (about 15 MiB).
const TOKENS_PER_PASS: usize = 1024;

/// How many vectors the cache keeps.
const CACHE_ENTRIES: usize = 20_000;

/// The files of the model inside its folder.
pub const FILES: [&str; 3] = ["model.safetensors", "tokenizer.json", "config.json"];

/// What names this model in stored vectors: a vector made by another model is not comparable.
pub const MODEL_ID: &str = "all-MiniLM-L6-v2";

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding model is missing: {0}")]
    Missing(String),
    #[error("cannot load the embedding model: {0}")]
    Load(String),
    #[error("embedding failed: {0}")]
    Inference(String),
    #[error("the embedding model has stopped")]
    Stopped,
}

type Reply = oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>;

struct Request {
    texts: Vec<String>,
    reply: Reply,
    priority: Priority,
}

/// Who waits for a request: a person (a search, a question to the assistant) or a backfill.
/// A person's request never waits behind more than one [`BULK_SLICE`] of a backfill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priority {
    Interactive,
    Bulk,
}

/// The most texts of a bulk request run at once: what a person's request may wait behind.
const BULK_SLICE: usize = 8;

/// Vectors already computed, by the hash of their text.
type VectorCache = Arc<Mutex<HashMap<[u8; 16], Arc<[f32]>>>>;

/// A loaded embedding model. Cheap to clone; the model thread stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct Embedder {
    sender: mpsc::Sender<Request>,
    cache: VectorCache,
    /// The model's tokenizer without padding or truncation, for counting a text's tokens.
    tokenizer: Arc<Tokenizer>,
}

/// The model and its tokenizer, owned by the model thread.
struct Model {
    encoder: Encoder,
    tokenizer: Tokenizer,
}

/// Says which of the model's files are missing from `dir`, if any.
pub fn missing_files(dir: &Path) -> Vec<PathBuf> {
    FILES.iter().map(|f| dir.join(f)).filter(|p| !p.is_file()).collect()
}

impl Model {
    fn load(dir: &Path) -> Result<Self, EmbedError> {
        let missing = missing_files(dir);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
            return Err(EmbedError::Missing(names.join(", ")));
        }
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| EmbedError::Load(format!("tokenizer.json: {e}")))?;
        // The shipped tokenizer pads every input to 128 tokens; the encoder packs a batch's
        // texts without padding, so none is added. Inputs are cut at the length the model was
        // trained on.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Load(format!("tokenizer: {e}")))?;
        let encoder = Encoder::load(dir).map_err(|e| EmbedError::Load(e.to_string()))?;
        if encoder.dimensions() != DIMENSIONS || encoder.max_tokens() < MAX_TOKENS {
            return Err(EmbedError::Load(format!(
                "config.json: {} dimensions and {} positions, expected {DIMENSIONS} and {MAX_TOKENS}",
                encoder.dimensions(),
                encoder.max_tokens()
            )));
        }
        Ok(Self { encoder, tokenizer })
    }

    /// Embeds texts in forward passes of at most [`TOKENS_PER_PASS`] tokens (a longer text
    /// runs alone), answers in the input's order.
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Inference(format!("tokenizer: {e}")))?;
        let ids: Vec<&[u32]> = encodings.iter().map(|e| e.get_ids()).collect();
        let mut out = Vec::with_capacity(ids.len());
        let mut start = 0;
        while start < ids.len() {
            let mut end = start + 1;
            let mut tokens = ids[start].len();
            while end < ids.len() && tokens + ids[end].len() <= TOKENS_PER_PASS {
                tokens += ids[end].len();
                end += 1;
            }
            let vectors = self
                .encoder
                .encode(&ids[start..end])
                .map_err(|e| EmbedError::Inference(e.to_string()))?;
            out.extend(vectors);
            start = end;
        }
        Ok(out)
    }

    /// Embeds any number of texts: shortest first, in batches, answers in the input's order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(MAX_BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            for (&i, vector) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }
}

/// A bulk request part done: its texts sorted by length, and the vectors of the first `done`.
struct BulkInProgress {
    request: Request,
    order: Vec<usize>,
    vectors: Vec<Vec<f32>>,
    done: usize,
}

/// The model thread's loop until every sender is gone: interactive requests first (everything
/// queued joins one batch), then one slice of the oldest bulk request, then a look at the
/// queue again.
fn serve(model: &Model, receiver: &mut mpsc::Receiver<Request>, foreground: &Foreground) {
    let mut interactive: Vec<Request> = Vec::new();
    let mut bulk: std::collections::VecDeque<Request> = std::collections::VecDeque::new();
    let mut current: Option<BulkInProgress> = None;
    loop {
        if interactive.is_empty() && bulk.is_empty() && current.is_none() {
            match receiver.blocking_recv() {
                Some(request) => queue(request, &mut interactive, &mut bulk),
                None => return,
            }
        }
        while let Ok(request) = receiver.try_recv() {
            queue(request, &mut interactive, &mut bulk);
        }
        if !interactive.is_empty() {
            answer_together(model, std::mem::take(&mut interactive));
            continue;
        }
        let mut part = match current.take() {
            Some(part) => part,
            None => {
                let Some(request) = bulk.pop_front() else { continue };
                let mut order: Vec<usize> = (0..request.texts.len()).collect();
                order.sort_by_key(|&i| request.texts[i].len());
                let vectors = vec![Vec::new(); request.texts.len()];
                BulkInProgress { request, order, vectors, done: 0 }
            }
        };
        // Nobody waits for it any more (the sync was stopped): the rest is not computed.
        if part.request.reply.is_closed() {
            continue;
        }
        // A person's answer from the chat model goes first (for a few seconds at most).
        foreground.defer();
        if let Ok(request) = receiver.try_recv() {
            queue(request, &mut interactive, &mut bulk);
            current = Some(part);
            continue;
        }
        let slice: Vec<usize> =
            part.order.iter().skip(part.done).take(BULK_SLICE).copied().collect();
        let texts: Vec<&str> = slice.iter().map(|&i| part.request.texts[i].as_str()).collect();
        match guarded(|| model.embed_batch(&texts)) {
            Ok(vectors) => {
                for (&i, vector) in slice.iter().zip(vectors) {
                    part.vectors[i] = vector;
                }
                part.done += slice.len();
                if part.done >= part.order.len() {
                    let _ = part.request.reply.send(Ok(part.vectors));
                } else {
                    current = Some(part);
                }
            }
            Err(err) => {
                let _ = part.request.reply.send(Err(err));
            }
        }
    }
}

fn queue(
    request: Request,
    interactive: &mut Vec<Request>,
    bulk: &mut std::collections::VecDeque<Request>,
) {
    match request.priority {
        Priority::Interactive => interactive.push(request),
        Priority::Bulk => bulk.push_back(request),
    }
}

/// Runs model code; a panic in it fails this batch, not the thread.
fn guarded(
    run: impl FnOnce() -> Result<Vec<Vec<f32>>, EmbedError>,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
        .unwrap_or_else(|_| Err(EmbedError::Inference("the model panicked on this batch".into())))
}

/// Embeds the texts of several requests as one and answers each.
fn answer_together(model: &Model, requests: Vec<Request>) {
    let texts: Vec<String> = requests.iter().flat_map(|r| r.texts.iter().cloned()).collect();
    match guarded(|| model.embed(&texts)) {
        Ok(mut vectors) => {
            for request in requests.into_iter().rev() {
                let rest = vectors.split_off(vectors.len() - request.texts.len());
                let _ = request.reply.send(Ok(rest));
            }
        }
        Err(err) => {
            let message = err.to_string();
            for request in requests {
                let _ = request.reply.send(Err(EmbedError::Inference(message.clone())));
            }
        }
    }
}

/// The cache key of a text.
fn key(text: &str) -> [u8; 16] {
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl Embedder {
    /// Loads the model from `dir` on a new thread and returns once it is ready (or failed).
    /// Blocks: call it from a blocking context.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        Self::load_deferring(dir, Foreground::default())
    }

    /// Loads the model like [`Self::load`]; its bulk work waits while `foreground` is busy.
    pub fn load_deferring(dir: &Path, foreground: Foreground) -> Result<Self, EmbedError> {
        let (sender, mut receiver) = mpsc::channel::<Request>(256);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), EmbedError>>();
        let dir_of_tokenizer = dir.to_owned();
        let dir = dir.to_owned();
        std::thread::Builder::new()
            .name("jobportal-embed".into())
            .spawn(move || {
                let model = match Model::load(&dir) {
                    Ok(model) => {
                        let _ = ready_tx.send(Ok(()));
                        model
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                serve(&model, &mut receiver, &foreground);
            })
            .map_err(|e| EmbedError::Load(format!("cannot start the model thread: {e}")))?;
        ready_rx.recv().map_err(|_| EmbedError::Stopped)??;
        let mut tokenizer = Tokenizer::from_file(dir_of_tokenizer.join("tokenizer.json"))
            .map_err(|e| EmbedError::Load(format!("tokenizer.json: {e}")))?;
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| EmbedError::Load(format!("tokenizer: {e}")))?;
        Ok(Self {
            sender,
            cache: Arc::new(Mutex::new(HashMap::new())),
            tokenizer: Arc::new(tokenizer),
        })
    }

    /// Embeds texts (each a unit vector of [`DIMENSIONS`]), in the order given, for someone
    /// waiting: ahead of any backfill.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Arc<[f32]>>, EmbedError> {
        self.embed_with(texts, Priority::Interactive).await
    }

    /// Embeds texts like [`Self::embed`], for a backfill: in slices, behind every interactive
    /// request.
    pub async fn embed_bulk(&self, texts: &[String]) -> Result<Vec<Arc<[f32]>>, EmbedError> {
        self.embed_with(texts, Priority::Bulk).await
    }

    async fn embed_with(
        &self,
        texts: &[String],
        priority: Priority,
    ) -> Result<Vec<Arc<[f32]>>, EmbedError> {
        let keys: Vec<[u8; 16]> = texts.iter().map(|t| key(t)).collect();
        let mut out: Vec<Option<Arc<[f32]>>> = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            keys.iter().map(|k| cache.get(k).cloned()).collect()
        };
        let todo: Vec<usize> = (0..texts.len()).filter(|&i| out[i].is_none()).collect();
        if !todo.is_empty() {
            let (reply, answer) = oneshot::channel();
            let request = Request {
                texts: todo.iter().map(|&i| texts[i].clone()).collect(),
                reply,
                priority,
            };
            self.sender.send(request).await.map_err(|_| EmbedError::Stopped)?;
            let vectors = answer.await.map_err(|_| EmbedError::Stopped)??;
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() + vectors.len() > CACHE_ENTRIES {
                cache.clear();
            }
            for (&i, vector) in todo.iter().zip(vectors) {
                let vector: Arc<[f32]> = vector.into();
                cache.insert(keys[i], vector.clone());
                out[i] = Some(vector);
            }
        }
        Ok(out.into_iter().map(|v| v.unwrap_or_else(|| Arc::from(Vec::new()))).collect())
    }

    /// The byte ranges of the model's tokens in `text`, in order (no special tokens, nothing
    /// cut): what a text's length is counted in when it is split for embedding. CPU work of
    /// about a microsecond per word.
    pub fn token_spans(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        match self.tokenizer.encode(text, false) {
            Ok(encoding) => encoding
                .get_offsets()
                .iter()
                .filter(|(start, end)| end > start)
                .map(|&(start, end)| start..end)
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Embeds one text.
    pub async fn embed_one(&self, text: &str) -> Result<Arc<[f32]>, EmbedError> {
        let mut vectors = self.embed(&[text.to_owned()]).await?;
        vectors.pop().ok_or(EmbedError::Stopped)
    }
}

/// The dot product of two unit vectors: their cosine.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
