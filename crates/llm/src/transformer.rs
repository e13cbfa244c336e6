//! The forward pass of Llama-shaped decoder models (`llama`: SmolLM2, Llama; `qwen2`: the same
//! with q/k/v biases and NEOX rotary embeddings) over quantized weights: a batch of new tokens
//! goes through every layer at once, attends to the cached positions and to itself (causal),
//! and leaves its keys and values in the cache.

use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::Content;
use rayon::prelude::*;

use crate::cache::KvCache;
use crate::kernels::{self, Level};
use crate::matmul::{self, Activations, LoadError, Matrix, Product};

/// The shape of the model, from the GGUF's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub layers: usize,
    pub dim: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub ffn: usize,
    pub vocab: usize,
    pub norm_eps: f32,
    pub rope_base: f32,
    pub rope_dim: usize,
    /// Rotary pairs are (i, i + rope_dim/2) (NEOX) rather than (2i, 2i+1).
    pub rope_neox: bool,
    /// q, k and v have biases.
    pub qkv_bias: bool,
}

impl Config {
    /// Reads the shape of an `llama` or `qwen2` model.
    pub fn from_gguf(content: &Content, arch: &str) -> Result<Self, LoadError> {
        let get = |key: &str| content.metadata.get(&format!("{arch}.{key}"));
        let int = |key: &str| {
            get(key)
                .and_then(|v| {
                    v.to_u32()
                        .ok()
                        .map(|v| v as usize)
                        .or_else(|| v.to_u64().ok().and_then(|v| usize::try_from(v).ok()))
                })
                .ok_or_else(|| LoadError::Missing(format!("{arch}.{key}")))
        };
        let float = |key: &str| get(key).and_then(|v| v.to_f32().ok());
        let dim = int("embedding_length")?;
        let heads = int("attention.head_count")?;
        let head_dim = dim / heads.max(1);
        let vocab = match content.tensor_infos.get("token_embd.weight") {
            Some(info) => info.shape.dims().first().copied().unwrap_or(0),
            None => return Err(LoadError::Missing("token_embd.weight".to_owned())),
        };
        let config = Self {
            layers: int("block_count")?,
            dim,
            heads,
            kv_heads: int("attention.head_count_kv").unwrap_or(heads),
            head_dim,
            ffn: int("feed_forward_length")?,
            vocab,
            norm_eps: float("attention.layer_norm_rms_epsilon").unwrap_or(1e-5),
            rope_base: float("rope.freq_base").unwrap_or(10_000.0),
            rope_dim: int("rope.dimension_count").unwrap_or(head_dim),
            rope_neox: arch == "qwen2",
            qkv_bias: arch == "qwen2",
        };
        config.check()?;
        Ok(config)
    }

    /// Refuses a shape the forward pass cannot run (it would divide by zero or read past a
    /// head), so a bad file fails to load instead of failing its first answer.
    fn check(&self) -> Result<(), LoadError> {
        let refuse = |why: String| Err(LoadError::Config(why));
        if self.layers == 0 || self.dim == 0 || self.ffn == 0 || self.vocab == 0 {
            return refuse(format!(
                "{} layers of width {}, feed-forward {} and {} tokens",
                self.layers, self.dim, self.ffn, self.vocab
            ));
        }
        if self.heads == 0 || !self.dim.is_multiple_of(self.heads) {
            return refuse(format!("width {} in {} heads", self.dim, self.heads));
        }
        if self.kv_heads == 0 || !self.heads.is_multiple_of(self.kv_heads) {
            return refuse(format!("{} heads over {} key/value heads", self.heads, self.kv_heads));
        }
        if self.rope_dim > self.head_dim || !self.rope_dim.is_multiple_of(2) {
            return refuse(format!(
                "rotary dimension {} in heads of {}",
                self.rope_dim, self.head_dim
            ));
        }
        Ok(())
    }

    fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Box<dyn Matrix>,
    wk: Box<dyn Matrix>,
    wv: Box<dyn Matrix>,
    bias: Option<[Vec<f32>; 3]>,
    wo: Box<dyn Matrix>,
    ffn_norm: Vec<f32>,
    gate: Box<dyn Matrix>,
    up: Box<dyn Matrix>,
    down: Box<dyn Matrix>,
}

/// The model's weights (read-only while generating: the state is in [`KvCache`] and
/// [`Scratch`]).
pub struct Transformer {
    config: Config,
    embed: Box<dyn Matrix>,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// `None`: the output projection is the embedding matrix (tied).
    output: Option<Box<dyn Matrix>>,
    /// `rope_base^(-2i/rope_dim)` for every rotary pair.
    inv_freq: Vec<f32>,
    level: Level,
}

/// Buffers reused from one forward pass to the next.
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    xn: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    attn: Vec<f32>,
    o: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    down: Vec<f32>,
    cos: Vec<f32>,
    sin: Vec<f32>,
    logits: Vec<f32>,
    acts: Activations,
}

impl Transformer {
    /// Reads the weights of an `llama` or `qwen2` model, kept in their quantized blocks.
    pub fn from_gguf<R: Read + Seek>(
        content: &Content,
        file: &mut R,
        arch: &str,
    ) -> Result<Self, LoadError> {
        let config = Config::from_gguf(content, arch)?;
        let c = &config;
        let (dim, kv_dim) = (c.dim, c.kv_dim());
        let q_dim = c.heads * c.head_dim;
        let embed = matmul::load_matrix(content, file, "token_embd.weight", c.vocab, dim)?;
        let output = if content.tensor_infos.contains_key("output.weight") {
            Some(matmul::load_matrix(content, file, "output.weight", c.vocab, dim)?)
        } else {
            None
        };
        let norm = matmul::load_vector(content, file, "output_norm.weight", dim)?;
        let mut layers = Vec::with_capacity(c.layers);
        for i in 0..c.layers {
            let name = |n: &str| format!("blk.{i}.{n}");
            let m = |file: &mut R, n: &str, rows, cols| {
                matmul::load_matrix(content, file, &name(n), rows, cols)
            };
            let bias = if c.qkv_bias {
                Some([
                    matmul::load_vector(content, file, &name("attn_q.bias"), q_dim)?,
                    matmul::load_vector(content, file, &name("attn_k.bias"), kv_dim)?,
                    matmul::load_vector(content, file, &name("attn_v.bias"), kv_dim)?,
                ])
            } else {
                None
            };
            layers.push(Layer {
                attn_norm: matmul::load_vector(content, file, &name("attn_norm.weight"), dim)?,
                wq: m(file, "attn_q.weight", q_dim, dim)?,
                wk: m(file, "attn_k.weight", kv_dim, dim)?,
                wv: m(file, "attn_v.weight", kv_dim, dim)?,
                bias,
                wo: m(file, "attn_output.weight", dim, q_dim)?,
                ffn_norm: matmul::load_vector(content, file, &name("ffn_norm.weight"), dim)?,
                gate: m(file, "ffn_gate.weight", c.ffn, dim)?,
                up: m(file, "ffn_up.weight", c.ffn, dim)?,
                down: m(file, "ffn_down.weight", dim, c.ffn)?,
            });
        }
        let inv_freq = (0..c.rope_dim / 2)
            .map(|i| 1.0 / c.rope_base.powf(2.0 * i as f32 / c.rope_dim as f32))
            .collect();
        Ok(Self { config, embed, layers, norm, output, inv_freq, level: Level::detected() })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// An empty cache for this model.
    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.config.layers, self.config.kv_dim())
    }

    /// Runs `tokens` after the cached positions and returns the logits of the last one
    /// (`all`: of every one, `tokens.len() × vocab`). The tokens join the cache.
    pub fn forward<'s>(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        scratch: &'s mut Scratch,
        all: bool,
    ) -> Result<&'s [f32], ForwardError> {
        let c = &self.config;
        let n = tokens.len();
        if n == 0 {
            return Ok(&[]);
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.vocab) {
            return Err(ForwardError::Token { token: bad, vocab: c.vocab });
        }
        // On a thread of the current rayon pool: the parallel parts of every layer then start
        // without waking the calling thread up each time, and its serial parts keep the other
        // threads of the pool spinning rather than asleep.
        rayon::scope(|_| self.run(tokens, cache, scratch, all));
        Ok(&scratch.logits)
    }

    fn run(&self, tokens: &[u32], cache: &mut KvCache, s: &mut Scratch, all: bool) {
        let c = &self.config;
        let n = tokens.len();
        let start = cache.len();
        let (dim, q_dim) = (c.dim, c.heads * c.head_dim);
        s.x.resize(n * dim, 0.0);
        for (row, &token) in s.x.chunks_exact_mut(dim).zip(tokens) {
            self.embed.row_f32(token as usize, row);
        }
        self.rotary_tables(start, n, s);
        for (l, layer) in self.layers.iter().enumerate() {
            rms_norm(&s.x, &layer.attn_norm, c.norm_eps, &mut s.xn);
            s.acts.set(&s.xn, n, dim);
            matmul::matmul(
                self.level,
                &mut s.acts,
                &mut [
                    Product { matrix: &*layer.wq, out: &mut s.q },
                    Product { matrix: &*layer.wk, out: &mut s.k },
                    Product { matrix: &*layer.wv, out: &mut s.v },
                ],
            );
            if let Some([bq, bk, bv]) = &layer.bias {
                add_rows(&mut s.q, bq);
                add_rows(&mut s.k, bk);
                add_rows(&mut s.v, bv);
            }
            self.rotate(&mut s.q, c.heads, &s.cos, &s.sin);
            self.rotate(&mut s.k, c.kv_heads, &s.cos, &s.sin);
            cache.append(l, &s.k, &s.v);
            let (keys, values) = cache.layer(l);
            s.attn.resize(n * q_dim, 0.0);
            attention(c, start, &s.q, keys, values, &mut s.attn);
            s.acts.set(&s.attn, n, q_dim);
            matmul::matmul(
                self.level,
                &mut s.acts,
                &mut [Product { matrix: &*layer.wo, out: &mut s.o }],
            );
            add(&mut s.x, &s.o);

            rms_norm(&s.x, &layer.ffn_norm, c.norm_eps, &mut s.xn);
            s.acts.set(&s.xn, n, dim);
            matmul::matmul(
                self.level,
                &mut s.acts,
                &mut [
                    Product { matrix: &*layer.gate, out: &mut s.gate },
                    Product { matrix: &*layer.up, out: &mut s.up },
                ],
            );
            for (g, u) in s.gate.iter_mut().zip(&s.up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            s.acts.set(&s.gate, n, c.ffn);
            matmul::matmul(
                self.level,
                &mut s.acts,
                &mut [Product { matrix: &*layer.down, out: &mut s.down }],
            );
            add(&mut s.x, &s.down);
        }
        cache.push_tokens(tokens);
        let rows = if all { n } else { 1 };
        let last = &s.x[(n - rows) * dim..];
        rms_norm(last, &self.norm, c.norm_eps, &mut s.xn);
        s.acts.set(&s.xn, rows, dim);
        let output = self.output.as_deref().unwrap_or(&*self.embed);
        matmul::matmul(
            self.level,
            &mut s.acts,
            &mut [Product { matrix: output, out: &mut s.logits }],
        );
    }

    fn rotary_tables(&self, start: usize, n: usize, s: &mut Scratch) {
        let half = self.inv_freq.len();
        s.cos.resize(n * half, 0.0);
        s.sin.resize(n * half, 0.0);
        for t in 0..n {
            let pos = (start + t) as f32;
            for (i, f) in self.inv_freq.iter().enumerate() {
                let (sin, cos) = (pos * f).sin_cos();
                s.cos[t * half + i] = cos;
                s.sin[t * half + i] = sin;
            }
        }
    }

    /// Rotates the first `rope_dim` values of every head of every token.
    fn rotate(&self, x: &mut [f32], heads: usize, cos: &[f32], sin: &[f32]) {
        let c = &self.config;
        let half = self.inv_freq.len();
        for (t, token) in x.chunks_exact_mut(heads * c.head_dim).enumerate() {
            let (cos, sin) = (&cos[t * half..(t + 1) * half], &sin[t * half..(t + 1) * half]);
            for head in token.chunks_exact_mut(c.head_dim) {
                for i in 0..half {
                    let (a, b) = if c.rope_neox { (i, i + half) } else { (2 * i, 2 * i + 1) };
                    let (x0, x1) = (head[a], head[b]);
                    head[a] = x0 * cos[i] - x1 * sin[i];
                    head[b] = x0 * sin[i] + x1 * cos[i];
                }
            }
        }
    }
}

/// Why a forward pass was refused.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("token {token} is outside the model's vocabulary of {vocab}")]
    Token { token: u32, vocab: usize },
}

/// Causal attention of `n` new tokens (positions `start..start+n`, their keys and values
/// already in `keys`/`values`) over every position up to their own; the heads run in parallel.
fn attention(c: &Config, start: usize, q: &[f32], keys: &[f32], values: &[f32], out: &mut [f32]) {
    let (hd, kv_dim, q_dim) = (c.head_dim, c.kv_dim(), c.heads * c.head_dim);
    let n = q.len() / q_dim;
    let group = c.heads / c.kv_heads;
    let scale = 1.0 / (hd as f32).sqrt();
    // Each head writes its slice of every token's output: compute per head into its own
    // buffer (heads × n × hd), then interleave.
    let mut per_head = vec![0f32; c.heads * n * hd];
    per_head.par_chunks_mut(n * hd).enumerate().for_each(|(h, head_out)| {
        let kv = (h / group) * hd;
        let mut scores = Vec::with_capacity(start + n);
        for t in 0..n {
            let qh = &q[t * q_dim + h * hd..t * q_dim + (h + 1) * hd];
            let seen = start + t + 1;
            scores.clear();
            let mut max = f32::NEG_INFINITY;
            for j in 0..seen {
                let score =
                    kernels::dot_f32(qh, &keys[j * kv_dim + kv..j * kv_dim + kv + hd]) * scale;
                max = max.max(score);
                scores.push(score);
            }
            let mut sum = 0.0;
            for score in scores.iter_mut() {
                *score = (*score - max).exp();
                sum += *score;
            }
            let o = &mut head_out[t * hd..(t + 1) * hd];
            o.fill(0.0);
            for (j, &w) in scores.iter().enumerate() {
                kernels::axpy(w / sum, &values[j * kv_dim + kv..j * kv_dim + kv + hd], o);
            }
        }
    });
    for (h, head_out) in per_head.chunks_exact(n * hd).enumerate() {
        for t in 0..n {
            out[t * q_dim + h * hd..t * q_dim + (h + 1) * hd]
                .copy_from_slice(&head_out[t * hd..(t + 1) * hd]);
        }
    }
}

/// Each row of `x` scaled to unit root mean square, times `weight`.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut Vec<f32>) {
    let dim = weight.len();
    out.resize(x.len(), 0.0);
    for (row, o) in x.chunks_exact(dim).zip(out.chunks_exact_mut(dim)) {
        let mean = row.iter().map(|v| v * v).sum::<f32>() / dim as f32;
        let scale = 1.0 / (mean + eps).sqrt();
        for ((o, &v), &w) in o.iter_mut().zip(row).zip(weight) {
            *o = v * scale * w;
        }
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    for (x, y) in x.iter_mut().zip(y) {
        *x += y;
    }
}

fn add_rows(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        add(row, bias);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::ChatTokenizer;
    use candle_core::{Device, Tensor};
    use candle_transformers::models::quantized_llama;

    const TEXT: &str = "<|im_start|>system\nYou are a helpful assistant for a job portal. Answer \
        briefly and cite job ids.<|im_end|>\n<|im_start|>user\nI am a backend developer with \
        five years of Rust and Go, some Kubernetes, and I would like to move to Lisbon or work \
        remotely from Portugal. Which of these jobs fit me best, and why? Job 17: Senior Rust \
        engineer, payments platform, remote within the EU, 70k to 90k euros. Job 23: Go \
        developer for logistics software in Porto, hybrid, two days a week in the office. Job \
        31: Frontend developer (React, TypeScript) in Berlin. Job 42: Site reliability engineer \
        in Lisbon, Kubernetes and Terraform, on call one week a month.<|im_end|>\n\
        <|im_start|>assistant\nThe best fits are job 17 and job 42. Job 17 asks for senior Rust \
        experience and is remote within the EU, so you can work from Portugal. Job 42 is in \
        Lisbon and uses Kubernetes, which you know, though it includes on-call duty. Job 23 \
        fits your Go experience but is in Porto with office days. Job 31 is a frontend role in \
        Berlin and does not match your background.<|im_end|>\n";

    /// A shape the forward pass cannot run is refused at load, naming what is wrong.
    #[test]
    fn a_shape_that_cannot_run_is_refused() {
        let good = Config {
            layers: 30,
            dim: 576,
            heads: 9,
            kv_heads: 3,
            head_dim: 64,
            ffn: 1536,
            vocab: 49152,
            norm_eps: 1e-5,
            rope_base: 10_000.0,
            rope_dim: 64,
            rope_neox: false,
            qkv_bias: false,
        };
        assert!(good.check().is_ok());
        for (bad, says) in [
            (Config { kv_heads: 0, ..good.clone() }, "key/value heads"),
            (Config { kv_heads: 4, ..good.clone() }, "key/value heads"),
            (Config { heads: 0, ..good.clone() }, "heads"),
            (Config { heads: 7, ..good.clone() }, "in 7 heads"),
            (Config { rope_dim: 65, ..good.clone() }, "rotary"),
            (Config { rope_dim: 128, ..good.clone() }, "rotary"),
            (Config { layers: 0, ..good.clone() }, "layers"),
        ] {
            let err = bad.check().unwrap_err().to_string();
            assert!(err.contains(says), "{bad:?}: {err}");
        }
    }

    fn argmax(xs: &[f32]) -> usize {
        xs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i).unwrap()
    }

    /// Our forward pass against candle's quantized Llama (the reference) on real text: the
    /// same most likely next token at every position, and logits within a small distance
    /// (both quantize activations to 8 bits per block; they differ in summation order and in
    /// how attention and the last matmul are computed). The prompt goes in as two batches
    /// and then token by token, so the batched path, attention over a cached prefix and the
    /// single-token path are all compared.
    #[test]
    fn logits_match_candles_llama_at_every_position_of_real_text() {
        let path = crate::testing::smollm2();
        let mut file = std::fs::File::open(&path).expect("SmolLM2 (run ./scripts/models.sh)");
        let content = Content::read(&mut file).unwrap();
        let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
        let tokens = tokenizer.encode(TEXT).unwrap();
        assert!(tokens.len() > 200, "{}", tokens.len());
        let ours = Transformer::from_gguf(&content, &mut file, "llama").unwrap();
        let vocab = ours.config().vocab;
        let mut cache = ours.new_cache();
        let mut scratch = Scratch::default();
        let mut logits: Vec<f32> = Vec::new();
        let (a, b) = (97, 200);
        for chunk in [&tokens[..a], &tokens[a..b]] {
            logits.extend_from_slice(ours.forward(chunk, &mut cache, &mut scratch, true).unwrap());
        }
        for &token in &tokens[b..] {
            logits
                .extend_from_slice(ours.forward(&[token], &mut cache, &mut scratch, true).unwrap());
        }
        assert_eq!(logits.len(), tokens.len() * vocab);
        // The forward pass computes on the threads of the current pool: the exact products
        // are switched on in the one thread of a pool of its own.
        let exact_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .start_handler(|_| crate::matmul::EXACT.with(|e| e.set(true)))
            .build()
            .unwrap();
        let mut exact_cache = ours.new_cache();
        let exact = exact_pool
            .install(|| {
                ours.forward(&tokens, &mut exact_cache, &mut scratch, true).map(<[f32]>::to_vec)
            })
            .unwrap();
        assert_eq!(cache.tokens(), &tokens[..]);

        let mut reference =
            quantized_llama::ModelWeights::from_gguf(content, &mut file, &Device::Cpu).unwrap();
        let mean_abs = |a: &[f32], b: &[f32]| {
            a.iter().zip(b).map(|(x, y)| (x - y).abs() as f64).sum::<f64>() / a.len() as f64
        };
        let max_abs =
            |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        let (mut worst, mut same, mut near_ties) = (0f32, 0, 0);
        let (mut ours_error, mut candle_error, mut between) = (0f64, 0f64, 0f64);
        for (i, &token) in tokens.iter().enumerate() {
            let input = Tensor::new(&[token], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            let want: Vec<f32> =
                reference.forward(&input, i).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
            let got = &logits[i * vocab..(i + 1) * vocab];
            let exact = &exact[i * vocab..(i + 1) * vocab];
            let diff = max_abs(got, &want);
            worst = worst.max(diff);
            between += mean_abs(got, &want);
            ours_error += mean_abs(got, exact);
            candle_error += mean_abs(&want, exact);
            let mut sorted = want.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            if argmax(got) == argmax(&want) {
                same += 1;
            } else {
                // Where the reference's two best candidates are within the noise of 8-bit
                // activations, either may come first; a clear winner must be ours too.
                near_ties += 1;
                assert!(
                    sorted[0] - sorted[1] < diff,
                    "position {i}: {} vs {}, margin {}",
                    argmax(got),
                    argmax(&want),
                    sorted[0] - sorted[1]
                );
            }
        }
        let n = tokens.len() as f64;
        let (between, ours_error, candle_error) = (between / n, ours_error / n, candle_error / n);
        eprintln!(
            "{} positions: same argmax at {same} ({near_ties} near ties differ); max abs logit \
             diff {worst}, mean {between:.4}; mean error against f32 activations: ours \
             {ours_error:.4}, candle {candle_error:.4}",
            tokens.len()
        );
        assert!(same * 100 >= tokens.len() * 95, "same argmax at {same} of {}", tokens.len());
        assert!(worst < 4.0 && between < 0.3, "logits differ by {worst} (mean {between})");
        // Our 8-bit activations cost no more accuracy than candle's.
        assert!(ours_error < 1.25 * candle_error, "{ours_error} vs candle's {candle_error}");
    }

    /// The `qwen2` variant (q/k/v biases, NEOX rotary pairs, k-quant and Q5_0/Q8_0 weights)
    /// against candle's quantized Qwen2: the same next token after a prompt and after each of
    /// ten greedy steps, and logits within the noise of 8-bit activations.
    #[test]
    #[ignore = "needs the optional Qwen2.5-Coder-0.5B GGUF in models/llm"]
    fn qwen2_logits_match_candles_qwen2() {
        use candle_transformers::models::quantized_qwen2;
        let path = crate::testing::models_dir().join("llm/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf");
        let mut file = std::fs::File::open(&path).expect("the Qwen2.5 model");
        let content = Content::read(&mut file).unwrap();
        let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
        let mut tokens = tokenizer.encode(&TEXT[..600]).unwrap();
        let ours = Transformer::from_gguf(&content, &mut file, "qwen2").unwrap();
        let mut reference =
            quantized_qwen2::ModelWeights::from_gguf(content, &mut file, &Device::Cpu).unwrap();
        let mut cache = ours.new_cache();
        let mut scratch = Scratch::default();
        let (mut fed, mut worst, mut mean) = (0, 0f32, 0f64);
        for step in 0..11 {
            let got =
                ours.forward(&tokens[fed..], &mut cache, &mut scratch, false).unwrap().to_vec();
            let input = Tensor::new(&tokens[fed..], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            let want: Vec<f32> =
                reference.forward(&input, fed).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
            let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            worst = worst.max(diff);
            mean += got.iter().zip(&want).map(|(a, b)| (a - b).abs() as f64).sum::<f64>()
                / got.len() as f64;
            assert_eq!(argmax(&got), argmax(&want), "step {step}, logits differ by up to {diff}");
            fed = tokens.len();
            tokens.push(argmax(&want) as u32);
        }
        eprintln!("qwen2: max abs logit diff {worst}, mean {:.4}", mean / 11.0);
        assert!(worst < 4.0 && mean / 11.0 < 0.3, "{worst} {mean}");
    }
}
