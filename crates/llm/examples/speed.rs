//! Quick speed check of the local chat model: prompt processing, time to first token (cold
//! and on a follow-up turn that reuses the cached prefix), decoding and peak memory, for our
//! forward pass and for candle's quantized Llama on the same prompt, alternating.
//!
//! `cargo run -p jobportal-llm --example speed -- [GGUF] [ours|candle|both] [rounds]`
//! with `RAYON_NUM_THREADS` setting the threads (2 matches the reference numbers). Peak
//! memory is only meaningful with one engine per process (`ours` or `candle`).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama;
use jobportal_llm::message::Message;
use jobportal_llm::model::LocalModel;
use jobportal_llm::tokenizer::ChatTokenizer;
use jobportal_llm::transformer::{Scratch, Transformer};
use jobportal_llm::types::GenerationParams;

const DECODE: usize = 128;

fn conversation() -> Vec<Message> {
    vec![
        Message::system(
            "You are the assistant of a job portal. Answer briefly, in plain sentences, and \
             cite the ids of the jobs you mention. Never invent jobs that were not listed.",
        ),
        Message::user(
            "I am a backend developer with five years of Rust and Go and some Kubernetes. \
             Which of these fits me? Job 17: Senior Rust engineer, payments, remote in the EU. \
             Job 23: Go developer, logistics, Porto, hybrid. Job 31: React developer, Berlin.",
        ),
    ]
}

fn argmax(xs: &[f32]) -> u32 {
    xs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i as u32)
}

struct Run {
    prompt_seconds: f64,
    decode_seconds: f64,
}

fn ours(model: &Transformer, prompt: &[u32]) -> Run {
    let mut cache = model.new_cache();
    let mut scratch = Scratch::default();
    let started = Instant::now();
    let mut next = argmax(model.forward(prompt, &mut cache, &mut scratch, false).unwrap());
    let prompt_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 1..DECODE {
        next = argmax(model.forward(&[next], &mut cache, &mut scratch, false).unwrap());
    }
    Run { prompt_seconds, decode_seconds: started.elapsed().as_secs_f64() }
}

fn candle(model: &mut quantized_llama::ModelWeights, prompt: &[u32]) -> Run {
    let device = Device::Cpu;
    let logits = |model: &mut quantized_llama::ModelWeights, ids: &[u32], pos: usize| {
        let input = Tensor::new(ids, &device).unwrap().unsqueeze(0).unwrap();
        let logits: Vec<f32> =
            model.forward(&input, pos).unwrap().squeeze(0).unwrap().to_vec1().unwrap();
        argmax(&logits)
    };
    let started = Instant::now();
    let mut next = logits(model, prompt, 0);
    let prompt_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for i in 1..DECODE {
        next = logits(model, &[next], prompt.len() + i - 1);
    }
    Run { prompt_seconds, decode_seconds: started.elapsed().as_secs_f64() }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn report(name: &str, prompt_tokens: usize, runs: &[Run]) {
    let prompt = median(runs.iter().map(|r| r.prompt_seconds).collect());
    let decode = median(runs.iter().map(|r| r.decode_seconds).collect());
    println!(
        "{name:>6}: prompt {:.1} tok/s (first token {:.1} ms), decode {:.1} tok/s",
        prompt_tokens as f64 / prompt,
        prompt * 1e3,
        (DECODE - 1) as f64 / decode
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../models/llm/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    let which = args.next().unwrap_or_else(|| "both".to_owned());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(5);
    let threads = rayon::current_num_threads();

    let mut file = std::fs::File::open(&path).expect("the model file");
    let content = Content::read(&mut file).unwrap();
    let tokenizer = ChatTokenizer::from_gguf(&content).unwrap();
    let chat = LocalModel::load(&path).unwrap();
    let prompt = tokenizer.encode(&chat.prompt(&conversation(), &[]).unwrap()).unwrap();
    drop(chat);
    println!(
        "{} prompt tokens, {DECODE} decoded, {threads} threads, {rounds} rounds",
        prompt.len()
    );

    let (do_ours, do_candle) = (which != "candle", which != "ours");
    let own = do_ours.then(|| Transformer::from_gguf(&content, &mut file, "llama").unwrap());
    let mut reference = do_candle.then(|| {
        quantized_llama::ModelWeights::from_gguf(content, &mut file, &Device::Cpu).unwrap()
    });
    let (mut a, mut b) = (Vec::new(), Vec::new());
    // One warm-up round, then alternate.
    for round in 0..=rounds {
        if let Some(model) = &own {
            let run = ours(model, &prompt);
            if round > 0 {
                a.push(run);
            }
        }
        if let Some(model) = reference.as_mut() {
            let run = candle(model, &prompt);
            if round > 0 {
                b.push(run);
            }
        }
    }
    if do_ours {
        report("ours", prompt.len(), &a);
    }
    if do_candle {
        report("candle", prompt.len(), &b);
    }
    if do_ours && do_candle {
        let ratio = |f: fn(&Run) -> f64| {
            median(b.iter().map(f).collect()) / median(a.iter().map(f).collect())
        };
        println!(
            " ratio: prompt {:.2}x, decode {:.2}x (ours over candle)",
            ratio(|r| r.prompt_seconds),
            ratio(|r| r.decode_seconds)
        );
    }
    drop(own);
    drop(reference);

    if do_ours {
        // A follow-up turn: the first answer and a new question after it.
        let mut model = LocalModel::load(&path).unwrap();
        let params = GenerationParams { max_tokens: 64, ..GenerationParams::default() };
        let mut cold = Vec::new();
        let mut warm = Vec::new();
        let mut cached = 0;
        for _ in 0..rounds {
            model.clear_cache();
            let mut messages = conversation();
            let first = model.chat(&messages, &[], &params, |_| ControlFlow::Continue(())).unwrap();
            messages.push(Message::assistant(first.text.clone()));
            messages.push(Message::user("And which one pays best?"));
            let follow =
                model.chat(&messages, &[], &params, |_| ControlFlow::Continue(())).unwrap();
            warm.push(follow.first_token_seconds);
            cached = follow.cached_tokens;
            model.clear_cache();
            let fresh = model.chat(&messages, &[], &params, |_| ControlFlow::Continue(())).unwrap();
            cold.push(fresh.first_token_seconds);
            assert_eq!(fresh.text, follow.text);
            cached = cached.min(follow.prompt_tokens);
        }
        let (cold, warm) = (median(cold), median(warm));
        println!(
            "follow-up turn: first token {:.1} ms with {cached} tokens reused, {:.1} ms cold ({:.2}x)",
            warm * 1e3,
            cold * 1e3,
            warm / cold
        );
    }
    println!("peak RSS {:.1} MiB", peak_rss_mib());
}
