//! The resume parser: resumes per second on the fixtures (each format; text extraction alone
//! is the baseline, so the cost of the rules shows as the difference), what reading each in a
//! child process costs against reading it in this process, then field-level precision and
//! recall on the labelled resumes of the pydparser train split.
//!
//! `scripts/bench.sh resumes` (it exports the labelled resumes first with
//! scripts/resume_eval_data.py). Knobs: BENCH_SECONDS per measurement (default 2),
//! BENCH_RESUMES (the JSONL of labelled resumes; the scores are skipped, saying so, without).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use jobportal::models::resume::Profile;
use jobportal::services::resume_parser::{self, extract, profile, taxonomy};

fn rate(seconds: f64, mut f: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget || n < 3 {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn throughput(seconds: f64) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/resumes");
    println!("resumes per second on the fixtures (one core; baseline: reading the text alone)");
    println!(
        "{:<22} {:>12} {:>14} {:>10} {:>8}",
        "file", "extract/s", "extract+parse/s", "parse share", "skills"
    );
    for name in ["sample-resume.txt", "sample-resume.docx", "ashok-resume.pdf"] {
        let bytes = std::fs::read(root.join(name)).expect("fixture");
        let kind = extract::detect(&bytes).expect("a resume");
        let extract_rate = rate(seconds, || {
            std::hint::black_box(extract::extract(kind, &bytes));
        });
        let full_rate = rate(seconds, || {
            std::hint::black_box(resume_parser::analyse(&bytes).unwrap());
        });
        let skills = resume_parser::analyse(&bytes).unwrap().profile.skills.len();
        let share = 1.0 - full_rate / extract_rate;
        println!(
            "{name:<22} {extract_rate:>12.1} {full_rate:>14.1} {:>9.0}% {skills:>8}",
            share * 100.0
        );
    }
}

/// Lower case, whitespace collapsed, surrounding punctuation dropped.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
        .to_lowercase()
}

#[derive(Default)]
struct Score {
    true_positive: usize,
    predicted: usize,
    gold: usize,
}

impl Score {
    fn add(
        &mut self,
        predicted: &HashSet<String>,
        gold: &HashSet<String>,
        matches: impl Fn(&str, &str) -> bool,
    ) {
        self.predicted += predicted.len();
        self.gold += gold.len();
        self.true_positive +=
            predicted.iter().filter(|p| gold.iter().any(|g| matches(p, g))).count();
    }

    fn line(&self, field: &str) {
        let p = if self.predicted == 0 {
            0.0
        } else {
            self.true_positive as f64 / self.predicted as f64
        };
        let r = if self.gold == 0 { 0.0 } else { self.true_positive as f64 / self.gold as f64 };
        let f1 = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        println!(
            "{field:<34} {:>6} {:>6} {:>6} {:>9.3} {:>7.3} {:>6.3}",
            self.gold, self.predicted, self.true_positive, p, r, f1
        );
    }
}

fn canonical_skill(raw: &str) -> Option<String> {
    taxonomy::canonical(raw).map(str::to_owned).or_else(|| jobportal::utils::skills::normalize(raw))
}

fn scores(path: &str) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            println!("\nfield scores skipped: {path}: {err} (scripts/bench.sh resumes exports it)");
            return;
        }
    };
    let mut seen = HashSet::new();
    let mut docs: Vec<(String, BTreeMap<String, Vec<String>>)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let body = value["text"].as_str().unwrap_or_default().to_owned();
        if !seen.insert(body.clone()) {
            continue;
        }
        let labels = value["labels"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_array()
                                .map(|a| {
                                    a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()
                                })
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        docs.push((body, labels));
    }
    let start = Instant::now();
    let parsed: Vec<Profile> = docs.iter().map(|(body, _)| profile::parse(body)).collect();
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "\nfield scores on {}: {} resumes ({} labelled copies were duplicates), parsed at {:.0}/s",
        std::path::Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path),
        docs.len(),
        text.lines().filter(|l| !l.trim().is_empty()).count() - docs.len(),
        docs.len() as f64 / elapsed
    );
    println!(
        "{:<34} {:>6} {:>6} {:>6} {:>9} {:>7} {:>6}",
        "field", "gold", "found", "right", "precision", "recall", "F1"
    );
    let exact = |p: &str, g: &str| p == g;
    let loose = |p: &str, g: &str| {
        p == g || (p.len() >= 3 && g.contains(p)) || (g.len() >= 3 && p.contains(g))
    };
    let (
        mut email,
        mut name,
        mut skills,
        mut designation,
        mut designation_loose,
        mut degree,
        mut degree_loose,
    ) = Default::default();
    let (mut profile_links, mut all_email_labels) = (Score::default(), Score::default());
    let (mut skills_labelled, mut skills_known) = (Score::default(), Score::default());
    let mut dump: usize =
        std::env::var("BENCH_DUMP").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
    let set = |values: Vec<String>| {
        values.into_iter().map(|v| norm(&v)).filter(|v| !v.is_empty()).collect::<HashSet<_>>()
    };
    for ((_, labels), p) in docs.iter().zip(&parsed) {
        let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let email_labels = get("Email Address");
        let (real, profile_urls): (Vec<String>, Vec<String>) =
            email_labels.iter().cloned().partition(|e| e.contains('@'));
        let ours_email = set(p.email.iter().map(|e| e.value.clone()).collect());
        Score::add(&mut email, &ours_email, &set(real), exact);
        Score::add(&mut all_email_labels, &ours_email, &set(email_labels.clone()), exact);
        // Indeed profile URLs labelled as the email, against the links we found.
        let strip = |u: &str| {
            let u = u.split_whitespace().collect::<String>().to_lowercase();
            let u = u
                .trim_start_matches("indeed:")
                .trim_start_matches("https://")
                .trim_start_matches("www.")
                .to_owned();
            u.split('?').next().unwrap_or("").to_owned()
        };
        let ours_links: HashSet<String> = p
            .links
            .iter()
            .map(|l| strip(&l.value))
            .filter(|l| l.starts_with("indeed.com/r/"))
            .collect();
        let gold_links: HashSet<String> = profile_urls.iter().map(|u| strip(u)).collect();
        Score::add(&mut profile_links, &ours_links, &gold_links, exact);
        Score::add(
            &mut name,
            &set(p.name.iter().map(|n| n.value.clone()).collect()),
            &set(get("Name")),
            exact,
        );
        // A labelled span is often a whole list ("SQL, PL/SQL, HTML"), with Indeed's
        // "(less than 1 year)" after items and "Label:" before them.
        let gold_skills: HashSet<String> = get("Skills")
            .iter()
            .flat_map(|s| {
                s.split([',', '\n', '•', '●', '➢', ';', '|']).map(str::to_owned).collect::<Vec<_>>()
            })
            .map(|item| {
                let item = item.split('(').next().unwrap_or("").to_owned();
                item.rsplit(':')
                    .next()
                    .unwrap_or("")
                    .trim_matches(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
                    .to_owned()
            })
            .filter_map(|s| canonical_skill(&s))
            .collect();
        if !gold_skills.is_empty() {
            let ours: HashSet<String> = p.skills.iter().map(|s| s.value.clone()).collect();
            Score::add(&mut skills_labelled, &ours, &gold_skills, exact);
            let known: HashSet<String> =
                gold_skills.iter().filter(|g| taxonomy::canonical(g).is_some()).cloned().collect();
            Score::add(&mut skills_known, &ours, &known, exact);
        }
        let ours_skills: HashSet<String> = p.skills.iter().map(|s| s.value.clone()).collect();
        if dump > 0 {
            dump -= 1;
            let mut extra: Vec<_> = ours_skills.difference(&gold_skills).collect();
            let mut missed: Vec<_> = gold_skills.difference(&ours_skills).collect();
            extra.sort();
            missed.sort();
            println!(
                "skills found, not labelled: {extra:?}\nskills labelled, not found: {missed:?}\n"
            );
        }
        Score::add(&mut skills, &ours_skills, &gold_skills, exact);
        let titles = set(p.experience.iter().filter_map(|e| e.value.title.clone()).collect());
        Score::add(&mut designation, &titles, &set(get("Designation")), exact);
        Score::add(&mut designation_loose, &titles, &set(get("Designation")), loose);
        let degrees = set(p.education.iter().filter_map(|e| e.value.degree.clone()).collect());
        Score::add(&mut degree, &degrees, &set(get("Degree")), exact);
        Score::add(&mut degree_loose, &degrees, &set(get("Degree")), loose);
    }
    email.line("email (labels that are addresses)");
    all_email_labels.line("email (every 'Email Address' label)");
    profile_links.line("Indeed profile URL (in links)");
    name.line("name");
    skills.line("skills (canonical names)");
    skills_labelled.line("skills, resumes with skills labelled");
    skills_known.line("  the same, gold the taxonomy knows");
    designation.line("designation (exact)");
    designation_loose.line("designation (one contains other)");
    degree.line("degree (exact)");
    degree_loose.line("degree (one contains other)");
}

/// What reading a document in a child process costs (the server's way: `parse-document` of the
/// release binary, under its limits) against reading it in this process (the baseline), per
/// fixture, in alternating pairs because the machine's speed drifts.
fn isolation(seconds: f64) {
    use jobportal::core::config::DocumentsConfig;
    use jobportal::services::resume_parser::isolated::DocumentReader;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/resumes");
    let config = DocumentsConfig {
        program: Some(env!("CARGO_BIN_EXE_jobportal").into()),
        concurrency: Some(1),
        ..Default::default()
    };
    let reader = DocumentReader::new(&config);
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    println!(
        "\nreading in a child process (the server's way) against in this process (baseline), ms per resume"
    );
    println!(
        "{:<22} {:>5} {:>12} {:>12} {:>10} {:>8}",
        "file", "pair", "in process", "child", "cost", "ratio"
    );
    for name in ["sample-resume.txt", "sample-resume.docx", "ashok-resume.pdf"] {
        let bytes = std::fs::read(root.join(name)).expect("fixture");
        let reading = runtime.block_on(reader.read(&bytes, None)).expect("a resume");
        assert_eq!(
            reading.extracted.status,
            extract::ParseStatus::Parsed,
            "{name}: {:?}",
            reading.extracted.message
        );
        for pair in 1..=2 {
            let local = rate(seconds / 2.0, || {
                let kind = extract::detect(&bytes).expect("a resume");
                std::hint::black_box(extract::extract(kind, &bytes));
            });
            let child = rate(seconds / 2.0, || {
                std::hint::black_box(
                    runtime.block_on(reader.read(&bytes, None)).expect("a resume"),
                );
            });
            let (local_ms, child_ms) = (1000.0 / local, 1000.0 / child);
            println!(
                "{name:<22} {pair:>5} {local_ms:>12.2} {child_ms:>12.2} {:>8.2}ms {:>7.1}x",
                child_ms - local_ms,
                child_ms / local_ms
            );
        }
    }
}

fn main() {
    let seconds: f64 =
        std::env::var("BENCH_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2.0);
    println!("taxonomy: {} names", taxonomy::size());
    throughput(seconds);
    isolation(seconds);
    let default = dirs_cache().join("jobportal/resume-eval/pydparser-train.jsonl");
    let path = std::env::var("BENCH_RESUMES").unwrap_or_else(|_| default.display().to_string());
    scores(&path);
}

fn dirs_cache() -> std::path::PathBuf {
    std::env::var_os("XDG_CACHE_HOME").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
            .join(".cache")
    })
}
