//! A BERT sentence encoder (all-MiniLM-L6-v2 and other BERT models with GELU) on the CPU: token
//! ids in, one mean-pooled unit vector per sequence out.
//!
//! The sequences of a batch are packed end to end, never padded: every matrix product runs over
//! exactly the batch's tokens, and attention runs per sequence over its own tokens, so a batch
//! of texts of mixed lengths costs what its tokens cost. The projections use gemm (the crate
//! candle uses) with the bias or the residual already in the output; layer norm, GELU and
//! attention are fused kernels of their own ([`kernels`]). The word table stays mapped from the
//! weights file, so only the rows of tokens seen are in memory.

pub mod kernels;
mod weights;

use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Deserialize;

use kernels::Simd;
use weights::{Table, Weights};

/// The fields of a BERT `config.json` the encoder reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config.json: {0}")]
    Config(String),
    #[error("model.safetensors: {0}")]
    Weights(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    #[error("token id {id} is outside the vocabulary of {vocabulary}")]
    UnknownToken { id: u32, vocabulary: usize },
    #[error("a sequence of {len} tokens is longer than the model's {max}")]
    TooLong { len: usize, max: usize },
}

/// A dense layer: `y = x · W + b`, `W` stored inputs × outputs (row-major).
struct Linear {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

impl Linear {
    /// Reads the layers `names` (each PyTorch's outputs × `inputs`) as one layer whose outputs
    /// are theirs side by side.
    fn load(
        weights: &Weights,
        names: &[&str],
        inputs: usize,
        outputs: usize,
    ) -> Result<Self, LoadError> {
        let total = outputs * names.len();
        let mut weight = vec![0f32; inputs * total];
        let mut bias = Vec::with_capacity(total);
        for (part, name) in names.iter().enumerate() {
            let w = weights.read(&format!("{name}.weight"), &[outputs, inputs])?;
            for (o, row) in w.chunks_exact(inputs).enumerate() {
                for (i, &value) in row.iter().enumerate() {
                    weight[i * total + part * outputs + o] = value;
                }
            }
            bias.extend(weights.read(&format!("{name}.bias"), &[outputs])?);
        }
        Ok(Self { weight, bias, inputs })
    }

    fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// `out += x · W` over `rows` rows (`out` holds the bias, or the residual plus the bias).
    fn accumulate(&self, x: &[f32], out: &mut [f32], rows: usize, threads: usize) {
        let (k, n) = (self.inputs, self.outputs());
        assert!(x.len() >= rows * k && out.len() >= rows * n && self.weight.len() == k * n);
        let parallelism =
            if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
        // SAFETY: the asserts above keep every index gemm reads or writes inside the slices;
        // `out` does not overlap `x` or the weights (it is borrowed mutably).
        unsafe {
            gemm::gemm(
                rows,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                true,
                x.as_ptr(),
                1,
                k as isize,
                self.weight.as_ptr(),
                1,
                n as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    }

    /// Every row of `out` (`rows` of them) becomes the bias.
    fn bias_into(&self, out: &mut [f32], rows: usize) {
        for row in out[..rows * self.outputs()].chunks_exact_mut(self.outputs()) {
            row.copy_from_slice(&self.bias);
        }
    }

    /// Every row of `out` becomes the same row of `residual` plus the bias.
    fn residual_into(&self, residual: &[f32], out: &mut [f32], rows: usize) {
        let n = self.outputs();
        for (row, res) in out[..rows * n].chunks_exact_mut(n).zip(residual.chunks_exact(n)) {
            for ((o, r), b) in row.iter_mut().zip(res).zip(&self.bias) {
                *o = r + b;
            }
        }
    }
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Norm {
    fn load(weights: &Weights, name: &str, width: usize) -> Result<Self, LoadError> {
        Ok(Self {
            weight: weights.read(&format!("{name}.weight"), &[width])?,
            bias: weights.read(&format!("{name}.bias"), &[width])?,
        })
    }
}

struct Layer {
    /// Queries, keys and values in one product.
    qkv: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    up: Linear,
    down: Linear,
    out_norm: Norm,
}

/// The working memory of a forward pass, kept between batches.
#[derive(Default)]
struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    context: Vec<f32>,
    attended: Vec<f32>,
    inner: Vec<f32>,
}

/// Rows per task when a per-row kernel is split across threads.
const ROWS_PER_TASK: usize = 32;

/// A loaded encoder. Its methods take `&self`; one forward pass runs at a time (they share the
/// working memory) and each uses every thread of rayon's pool.
pub struct Encoder {
    hidden: usize,
    heads: usize,
    eps: f32,
    words: Table,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    simd: Simd,
    scratch: Mutex<Scratch>,
}

impl Encoder {
    /// Loads `config.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let config: Config = serde_json::from_slice(
            &std::fs::read(dir.join("config.json"))
                .map_err(|e| LoadError::Config(e.to_string()))?,
        )
        .map_err(|e| LoadError::Config(e.to_string()))?;
        Self::load_with(&config, &dir.join("model.safetensors"))
    }

    /// Loads the weights file `weights` of a model with this configuration.
    pub fn load_with(config: &Config, weights: &Path) -> Result<Self, LoadError> {
        if config.hidden_act != "gelu" {
            return Err(LoadError::Config(format!(
                "hidden_act {} (only gelu is supported)",
                config.hidden_act
            )));
        }
        let (h, i) = (config.hidden_size, config.intermediate_size);
        if config.num_attention_heads == 0
            || h % config.num_attention_heads != 0
            || config.type_vocab_size == 0
        {
            return Err(LoadError::Config(format!(
                "hidden_size {h} with {} attention heads and {} token types",
                config.num_attention_heads, config.type_vocab_size
            )));
        }
        let w = Weights::open(weights)?;
        let words = w.map("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let positions =
            w.read("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?;
        let mut token_type =
            w.read("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?;
        token_type.truncate(h);
        let embedding_norm = Norm::load(&w, "embeddings.LayerNorm", h)?;
        let layers = (0..config.num_hidden_layers)
            .map(|n| {
                let p = format!("encoder.layer.{n}");
                let q = format!("{p}.attention.self.query");
                let k = format!("{p}.attention.self.key");
                let v = format!("{p}.attention.self.value");
                Ok(Layer {
                    qkv: Linear::load(&w, &[&q, &k, &v], h, h)?,
                    attention_out: Linear::load(
                        &w,
                        &[&format!("{p}.attention.output.dense")],
                        h,
                        h,
                    )?,
                    attention_norm: Norm::load(&w, &format!("{p}.attention.output.LayerNorm"), h)?,
                    up: Linear::load(&w, &[&format!("{p}.intermediate.dense")], h, i)?,
                    down: Linear::load(&w, &[&format!("{p}.output.dense")], i, h)?,
                    out_norm: Norm::load(&w, &format!("{p}.output.LayerNorm"), h)?,
                })
            })
            .collect::<Result<Vec<_>, LoadError>>()?;
        Ok(Self {
            hidden: h,
            heads: config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            words,
            positions,
            token_type,
            embedding_norm,
            layers,
            simd: Simd::detect(),
            scratch: Mutex::new(Scratch::default()),
        })
    }

    /// The length of each vector.
    pub fn dimensions(&self) -> usize {
        self.hidden
    }

    /// The longest sequence the model takes.
    pub fn max_tokens(&self) -> usize {
        self.positions.len() / self.hidden
    }

    /// The instructions the kernels run with.
    pub fn simd(&self) -> Simd {
        self.simd
    }

    /// One vector per sequence of token ids (special tokens included, no padding): the mean of
    /// the last layer's states over the sequence's tokens, scaled to unit length (an empty
    /// sequence gives zeros).
    pub fn encode(&self, sequences: &[&[u32]]) -> Result<Vec<Vec<f32>>, EncodeError> {
        let vocabulary = self.words.rows();
        for sequence in sequences {
            if sequence.len() > self.max_tokens() {
                return Err(EncodeError::TooLong { len: sequence.len(), max: self.max_tokens() });
            }
            if let Some(&id) = sequence.iter().find(|&&id| id as usize >= vocabulary) {
                return Err(EncodeError::UnknownToken { id, vocabulary });
            }
        }
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        let states = self.forward(sequences, &mut scratch);
        let h = self.hidden;
        let mut out = Vec::with_capacity(sequences.len());
        let mut start = 0;
        for sequence in sequences {
            let rows = &states[start * h..(start + sequence.len()) * h];
            start += sequence.len();
            let mut mean = vec![0f32; h];
            for row in rows.chunks_exact(h) {
                for (m, x) in mean.iter_mut().zip(row) {
                    *m += x;
                }
            }
            let count = (sequence.len() as f32).max(1e-9);
            mean.iter_mut().for_each(|m| *m /= count);
            let norm = mean.iter().map(|m| m * m).sum::<f32>().sqrt().max(1e-12);
            mean.iter_mut().for_each(|m| *m /= norm);
            out.push(mean);
        }
        Ok(out)
    }

    /// The last layer's states of every token, sequences end to end (`hidden` per token).
    fn forward<'s>(&self, sequences: &[&[u32]], s: &'s mut Scratch) -> &'s [f32] {
        let h = self.hidden;
        let tokens: usize = sequences.iter().map(|q| q.len()).sum();
        let threads = rayon::current_num_threads();
        let inner = self.layers.first().map_or(0, |l| l.up.outputs());
        for (buffer, width) in [
            (&mut s.x, h),
            (&mut s.qkv, 3 * h),
            (&mut s.context, h),
            (&mut s.attended, h),
            (&mut s.inner, inner),
        ] {
            if buffer.len() < tokens * width {
                buffer.resize(tokens * width, 0.0);
            }
        }
        // Word + token type 0, + position; then layer norm.
        let mut rows = s.x.chunks_exact_mut(h);
        for sequence in sequences {
            for (position, (&id, row)) in sequence.iter().zip(&mut rows).enumerate() {
                self.words.row_into(id as usize, row);
                for ((x, t), p) in
                    row.iter_mut().zip(&self.token_type).zip(&self.positions[position * h..])
                {
                    *x = (*x + t) + p;
                }
            }
        }
        self.layer_norm(&mut s.x[..tokens * h], &self.embedding_norm);

        for layer in &self.layers {
            layer.qkv.bias_into(&mut s.qkv, tokens);
            layer.qkv.accumulate(&s.x, &mut s.qkv, tokens, threads);
            self.attend(sequences, &s.qkv[..tokens * 3 * h], &mut s.context[..tokens * h]);
            layer.attention_out.residual_into(&s.x, &mut s.attended, tokens);
            layer.attention_out.accumulate(&s.context, &mut s.attended, tokens, threads);
            self.layer_norm(&mut s.attended[..tokens * h], &layer.attention_norm);
            layer.up.bias_into(&mut s.inner, tokens);
            layer.up.accumulate(&s.attended, &mut s.inner, tokens, threads);
            let simd = self.simd;
            s.inner[..tokens * inner]
                .par_chunks_mut(ROWS_PER_TASK * inner)
                .for_each(|part| kernels::gelu(simd, part));
            layer.down.residual_into(&s.attended, &mut s.x, tokens);
            layer.down.accumulate(&s.inner, &mut s.x, tokens, threads);
            self.layer_norm(&mut s.x[..tokens * h], &layer.out_norm);
        }
        &s.x[..tokens * h]
    }

    fn layer_norm(&self, rows: &mut [f32], norm: &Norm) {
        let (simd, eps) = (self.simd, self.eps);
        rows.par_chunks_mut(ROWS_PER_TASK * self.hidden)
            .for_each(|part| kernels::layer_norm(simd, part, &norm.weight, &norm.bias, eps));
    }

    /// Each sequence's attention, sequences in parallel.
    fn attend(&self, sequences: &[&[u32]], qkv: &[f32], context: &mut [f32]) {
        let h = self.hidden;
        let mut parts = Vec::with_capacity(sequences.len());
        let (mut qkv, mut context) = (qkv, context);
        for sequence in sequences {
            let len = sequence.len();
            let (q, q_rest) = qkv.split_at(len * 3 * h);
            let (c, c_rest) = context.split_at_mut(len * h);
            parts.push((q, c, len));
            (qkv, context) = (q_rest, c_rest);
        }
        let (simd, heads) = (self.simd, self.heads);
        parts.into_par_iter().filter(|(_, _, len)| *len > 0).for_each(|(q, c, len)| {
            let mut scores = vec![0f32; len];
            kernels::attention(simd, q, c, len, heads, &mut scores);
        });
    }
}
