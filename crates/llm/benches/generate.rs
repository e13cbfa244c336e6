//! The chat model's speed beside llama.cpp: prompt tokens/s, decode tokens/s, time to the
//! first token cold and on a follow-up turn, and peak RSS, for SmolLM2 (and Qwen2.5-Coder-0.5B
//! when `./scripts/models.sh qwen` fetched it), each with the ratio ours / llama.cpp.
//!
//! Both engines get the same prompt: the model's chat template rendered by this crate (a job
//! assistant's system prompt and a user's question, about 110 tokens), whose ids llama.cpp must
//! tokenize identically, and generate the same number of tokens greedily, on the same number
//! of threads. Every measurement runs in a process of its own (which also gives its peak RSS),
//! ours and llama.cpp's alternately (A B A B), each after a short warm-up generation in that
//! process; the figures are the medians, and each pair's ratios are printed as well, because
//! the machine's speed drifts over minutes.
//!
//! - Cold: the context cleared first, the whole prompt processed.
//! - Follow-up: the same conversation plus the first answer and one more user message, right
//!   after the first answer, with whatever context the engine kept (llama.cpp reuses the
//!   longest common prefix of its tokens).
//! - Decode tokens/s counts the tokens after the first, whose time is the prompt's, as
//!   llama.cpp's `n_eval` does.
//!
//! `scripts/bench.sh llm` builds llama.cpp (llama-cpp-python from its sdist) into a venv and
//! runs this. Knobs: BENCH_RUNS (pairs, default 5), BENCH_TOKENS (default 128), BENCH_THREADS
//! (default 2), BENCH_LLAMA_PYTHON (a Python with llama_cpp; without it only our figures),
//! BENCH_MODELS (`smollm2`, `qwen`, or both, comma-separated; default: those present),
//! JOBPORTAL_MODELS_DIR.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;

use jobportal_llm::message::Message;
use jobportal_llm::model::LocalModel;
use jobportal_llm::types::{GenerationParams, OutputFormat};
use serde_json::{Value, json};

const SYSTEM: &str = "You are the assistant of a job portal. You help job seekers find \
    suitable roles, improve their resumes and prepare for interviews. Be concrete and \
    practical. When you give a list, explain every item in full sentences.";
const QUESTION: &str = "I am a backend developer with three years of Python experience and I \
    want a Rust job in Berlin or remote. Write me a detailed plan: which skills to learn first, \
    what to build for my portfolio, how to adapt my resume, and how to prepare for interviews.";
const FOLLOW_UP: &str = "Thanks. Which of these steps should I start with this week, and how \
    many hours should I plan for it?";

/// Marks where the first answer goes in the rendered follow-up conversation.
const ANSWER_MARK: &str = "\u{1}ANSWER\u{1}";

fn models_dir() -> PathBuf {
    std::env::var_os("JOBPORTAL_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn conversation() -> Vec<Message> {
    vec![Message::system(SYSTEM), Message::user(QUESTION)]
}

fn follow_up(answer: &str) -> Vec<Message> {
    let mut messages = conversation();
    messages.push(Message::assistant(answer));
    messages.push(Message::user(FOLLOW_UP));
    messages
}

fn greedy(max_tokens: usize) -> GenerationParams {
    // Plain greedy decoding, as llama.cpp's temp 0 / top_k 1 (no repetition penalty).
    GenerationParams { max_tokens, repetition_penalty: 1.0, ..GenerationParams::default() }
}

/// The peak resident set of this process, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// One measurement of our engine, in this process: load, warm up, cold answer, follow-up.
fn worker(gguf: &Path, tokens: usize) -> Value {
    let mut model = LocalModel::load(gguf).expect("the model loads");
    let messages = conversation();
    let prompt = model.prompt(&messages, &[]).expect("the template renders");
    let ids = model.tokenizer().encode(&prompt).expect("the prompt encodes");
    let quiet = |_: &str| ControlFlow::Continue(());
    model
        .generate(&ids, &[], &OutputFormat::Text, &greedy(8), quiet)
        .expect("the warm-up generates");
    model.clear_cache();
    let cold = model
        .generate(&ids, &[], &OutputFormat::Text, &greedy(tokens), quiet)
        .expect("the answer generates");
    let next = model
        .chat(&follow_up(&cold.text), &[], &OutputFormat::Text, &greedy(1), quiet)
        .expect("follow-up");
    // The same follow-up from nothing: what the reused context saved.
    model.clear_cache();
    let next_cold = model
        .chat(&follow_up(&cold.text), &[], &OutputFormat::Text, &greedy(1), quiet)
        .expect("follow-up, cold");
    let decode_seconds = cold.seconds - cold.first_token_seconds;
    json!({
        "prompt_tokens": cold.prompt_tokens,
        "generated": cold.generated_tokens,
        "prompt_tps": cold.prompt_tokens as f64 / cold.first_token_seconds,
        "decode_tps": cold.generated_tokens.saturating_sub(1) as f64 / decode_seconds,
        "ttft_cold_ms": cold.first_token_seconds * 1e3,
        "followup_prompt_tokens": next.prompt_tokens,
        "ttft_followup_ms": next.first_token_seconds * 1e3,
        "ttft_followup_cold_ms": next_cold.first_token_seconds * 1e3,
        "peak_rss_mib": peak_rss_mib(),
        "answer": cold.text,
    })
}

/// Runs a worker process and returns the JSON it printed on its last `RESULT ` line.
fn run(command: &mut Command) -> Value {
    let output = command.output().expect("the measuring process starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("RESULT "));
    match (output.status.success(), line) {
        (true, Some(line)) => serde_json::from_str(line).expect("the result is JSON"),
        _ => panic!(
            "{command:?} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn show(value: f64, decimals: usize) -> String {
    format!("{value:.decimals$}")
}

/// The machine's 1-minute load average: other work running beside a measurement skews it.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_owned()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The figures compared: key in the results, label, decimals shown.
const METRICS: [(&str, &str, usize); 5] = [
    ("prompt_tps", "prompt tok/s", 1),
    ("decode_tps", "decode tok/s", 1),
    ("ttft_cold_ms", "first token, cold (ms)", 0),
    ("ttft_followup_ms", "first token, follow-up (ms)", 0),
    ("peak_rss_mib", "peak RSS (MiB)", 0),
];

fn bench_model(name: &str, gguf: &Path, runs: usize, tokens: usize, threads: usize) {
    let llama = std::env::var("BENCH_LLAMA_PYTHON").ok().filter(|p| !p.is_empty());
    // The prompt and the follow-up turn as our template renders them.
    let model = LocalModel::load(gguf).expect("the model loads");
    let prompt = model.prompt(&conversation(), &[]).expect("the template renders");
    let ids = model.tokenizer().encode(&prompt).expect("the prompt encodes");
    let rendered = model.prompt(&follow_up(ANSWER_MARK), &[]).expect("the template renders");
    drop(model);
    let (before, suffix) = rendered.split_once(ANSWER_MARK).expect("the answer is rendered");
    assert_eq!(before, prompt, "the follow-up conversation starts with the first prompt");
    let spec = json!({
        "prompt": prompt, "ids": ids, "followup_suffix": suffix, "tokens": tokens,
        "threads": threads,
    });
    let spec_file = std::env::temp_dir().join(format!("jobportal-bench-llm-{name}.json"));
    std::fs::write(&spec_file, spec.to_string()).expect("the spec is written");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench/llm_llama_cpp.py");
    let me = std::env::current_exe().expect("this benchmark's path");

    println!(
        "\n{name} ({}): prompt {} tokens (the chat template rendered by jobportal-llm), \
         {tokens} generated greedily, {threads} threads, {runs} runs in alternating processes",
        gguf.file_name().unwrap().to_string_lossy(),
        ids.len()
    );
    if llama.is_some() {
        println!(
            "  each run: ours/llama.cpp's figure (their ratio), then the 1-minute load average"
        );
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for run_index in 1..=runs {
        let a = run(Command::new(&me)
            .arg("--worker")
            .arg(gguf)
            .arg(tokens.to_string())
            .env("RAYON_NUM_THREADS", threads.to_string()));
        let b = llama
            .as_ref()
            .map(|python| run(Command::new(python).arg(&script).arg(gguf).arg(&spec_file)));
        if let Some(b) = &b {
            assert_eq!(b["same_ids"], json!(true), "llama.cpp tokenizes the prompt differently");
        }
        let cell = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
        let mut line = format!("  run {run_index}:");
        for (key, label, decimals) in METRICS {
            let short = label.split(" (").next().unwrap_or(label);
            line += &format!(" {short} {}", show(cell(&a, key), decimals));
            if let Some(b) = &b {
                line += &format!(
                    "/{} ({:.2})",
                    show(cell(b, key), decimals),
                    cell(&a, key) / cell(b, key)
                );
            }
            line += ";";
        }
        println!("{}; load {}", line.trim_end_matches(';'), load_average());
        ours.push(a);
        theirs.extend(b);
    }

    let generated = |v: &[Value]| v.first().map_or(0, |v| v["generated"].as_u64().unwrap_or(0));
    println!(
        "  generated tokens: ours {}, llama.cpp {}; follow-up prompt {} tokens{}",
        generated(&ours),
        if theirs.is_empty() { "-".into() } else { generated(&theirs).to_string() },
        ours[0]["followup_prompt_tokens"],
        theirs.first().map_or(String::new(), |t| format!(
            " (llama.cpp evaluated {} of its own, the rest reused)",
            t["followup_evaluated"]
        ))
    );
    println!("  {:<30} {:>10} {:>10} {:>16}", "median", "ours", "llama.cpp", "ours/llama.cpp");
    for (key, label, decimals) in METRICS {
        let m =
            |v: &[Value]| median(v.iter().map(|r| r[key].as_f64().unwrap_or(f64::NAN)).collect());
        let (a, b) = (m(&ours), m(&theirs));
        let ratios: Vec<f64> = ours
            .iter()
            .zip(&theirs)
            .map(|(x, y)| x[key].as_f64().unwrap_or(f64::NAN) / y[key].as_f64().unwrap_or(f64::NAN))
            .collect();
        let (b, ratio) = if theirs.is_empty() {
            ("-".to_owned(), "-".to_owned())
        } else {
            (show(b, decimals), format!("{:.2}", median(ratios)))
        };
        println!("  {label:<30} {:>10} {b:>10} {ratio:>16}", show(a, decimals));
    }
    println!(
        "  (ours/llama.cpp: the median of the runs' ratios; above 1 is better for tok/s, below 1 for ms and MiB)"
    );
    let reuse: Vec<f64> = ours
        .iter()
        .map(|r| {
            let cell = |key: &str| r[key].as_f64().unwrap_or(f64::NAN);
            cell("ttft_followup_ms") / cell("ttft_followup_cold_ms")
        })
        .collect();
    let cold_followup = median(
        ours.iter().map(|r| r["ttft_followup_cold_ms"].as_f64().unwrap_or(f64::NAN)).collect(),
    );
    println!(
        "  ours, the follow-up's first token with the context reused against the same prompt cold ({} ms): {:.2}",
        show(cold_followup, 0),
        median(reuse)
    );
    let answer: String = ours[0]["answer"].as_str().unwrap_or_default().chars().take(160).collect();
    println!("  our answer begins: {answer:?}");
    if let Some(t) = theirs.first() {
        let answer: String = t["answer"].as_str().unwrap_or_default().chars().take(160).collect();
        println!("  llama.cpp's begins: {answer:?}");
    }
}

/// The command that fetches a model.
fn fetch(key: &str) -> &'static str {
    if key == "qwen" { "./scripts/models.sh qwen" } else { "./scripts/models.sh" }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--worker") {
        let gguf = PathBuf::from(&args[at + 1]);
        let tokens: usize = args[at + 2].parse().expect("a token count");
        println!("RESULT {}", worker(&gguf, tokens));
        return;
    }
    let runs = env_usize("BENCH_RUNS", 5).max(1);
    let tokens = env_usize("BENCH_TOKENS", 128).max(2);
    let threads = env_usize("BENCH_THREADS", 2).max(1);
    let dir = models_dir();
    let models = [
        ("smollm2", "SmolLM2-135M-Instruct", "llm/SmolLM2-135M-Instruct.Q4_1.gguf"),
        ("qwen", "Qwen2.5-Coder-0.5B-Instruct", "llm/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"),
    ];
    let wanted = std::env::var("BENCH_MODELS").ok();
    if std::env::var_os("BENCH_LLAMA_PYTHON").is_none() {
        println!("BENCH_LLAMA_PYTHON is not set: our figures only (scripts/bench.sh llm sets it)");
    }
    for (key, name, file) in models {
        let path = dir.join(file);
        match &wanted {
            Some(list) if !list.split(',').any(|m| m.trim() == key) => continue,
            Some(_) => {
                assert!(path.exists(), "{} is missing (run {})", path.display(), fetch(key))
            }
            None if !path.exists() => {
                println!("\n{name}: {} is not there (run {})", path.display(), fetch(key));
                continue;
            }
            None => {}
        }
        bench_model(name, &path, runs, tokens, threads);
    }
}
