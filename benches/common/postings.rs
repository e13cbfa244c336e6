//! Jobs for the benchmarks that run the real binary: scaled from real postings (BENCH_SOURCE,
//! default the fixtures), with real titles, companies, locations and categories, mixed so each
//! combination is new, and generated skills, salaries and descriptions. Deterministic: every
//! run generates the same jobs.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde_json::{Value, json};

/// A deterministic stream of numbers (splitmix64), so every run generates the same jobs.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub const SKILLS: &[&str] = &[
    "rust",
    "python",
    "go",
    "java",
    "kotlin",
    "typescript",
    "javascript",
    "react",
    "vue.js",
    "node.js",
    "c++",
    "c#",
    ".net",
    "postgresql",
    "mysql",
    "redis",
    "kafka",
    "kubernetes",
    "docker",
    "terraform",
    "aws",
    "gcp",
    "azure",
    "linux",
    "graphql",
    "grpc",
    "spark",
    "airflow",
    "dbt",
    "snowflake",
    "pytorch",
    "tensorflow",
    "sql",
    "excel",
    "salesforce",
    "figma",
    "sketch",
    "swift",
    "android",
    "ios",
    "elixir",
    "scala",
    "ruby",
    "rails",
    "php",
    "django",
    "flask",
    "fastapi",
    "spring",
    "hadoop",
    "tableau",
    "looker",
    "jira",
    "sap",
    "hubspot",
    "marketo",
    "seo",
    "copywriting",
    "negotiation",
    "accounting",
];

const SENTENCES: &[&str] = &[
    "You will own projects end to end, from the first sketch to running them in production.",
    "We value clear writing, kind code review and shipping small changes often.",
    "The team works across time zones and meets in person twice a year.",
    "You will mentor colleagues and help us grow the practice as the company scales.",
    "Our customers rely on us every day, so reliability and care matter more than speed.",
    "We offer a learning budget, flexible hours and parental leave for every parent.",
    "You will work closely with product, design and support to decide what to build next.",
    "Experience in a regulated industry is a plus but not required.",
    "We publish salary ranges and review them every year against the market.",
    "The role reports to the head of the department and has a budget of its own.",
];

pub struct Source {
    pub titles: Vec<(String, Value, Value, Value)>,
    pub companies: Vec<Value>,
    pub locations: Vec<Value>,
}

pub fn read_source(path: &Path) -> Source {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut source = Source { titles: Vec::new(), companies: Vec::new(), locations: Vec::new() };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.unwrap();
        let Ok(record) = serde_json::from_str::<Value>(&line) else { continue };
        let Some(title) = record["title"].as_str() else { continue };
        source.titles.push((
            title.to_owned(),
            record["category"].clone(),
            record["seniority"].clone(),
            record["employment_type"].clone(),
        ));
        source.companies.push(record["company"].clone());
        if record["location"].is_object() {
            source.locations.push(record["location"].clone());
        }
    }
    assert!(
        !source.titles.is_empty() && !source.locations.is_empty(),
        "no postings in {}",
        path.display()
    );
    source
}

/// Writes `count` jobs; returns how many distinct titles they use.
pub fn generate(source: &Source, count: u64, out: &Path) -> usize {
    let mut writer = BufWriter::new(std::fs::File::create(out).unwrap());
    let now = chrono::Utc::now();
    let n = source.titles.len() as u64;
    for i in 0..count {
        let r = mix(i);
        let (title, category, seniority, employment) = &source.titles[(i % n) as usize];
        let company = &source.companies[(mix(r) % source.companies.len() as u64) as usize];
        let location = &source.locations[(mix(r ^ 1) % source.locations.len() as u64) as usize];
        let skills: Vec<&str> = (0..2 + r % 4)
            .map(|k| SKILLS[(mix(r.wrapping_add(k)) % SKILLS.len() as u64) as usize])
            .collect();
        let workplace = ["onsite", "hybrid", "remote"][(r % 3) as usize];
        // Most real postings do not say; a generated job does (nine in ten full time).
        let employment = match employment {
            Value::Null => {
                json!(if mix(r ^ 5).is_multiple_of(10) { "contract" } else { "full_time" })
            }
            known => known.clone(),
        };
        let salary = (r % 10 < 4).then(|| {
            let min = 30_000 + (mix(r ^ 2) % 150) * 1_000;
            let currency = ["USD", "EUR", "GBP"][(mix(r ^ 3) % 3) as usize];
            json!({ "min": min, "max": min + 20_000, "currency": currency, "period": "year" })
        });
        let company_name = company["name"].as_str().unwrap_or("the company");
        let city = location["city"].as_str().unwrap_or("our office");
        let mut description = format!(
            "{company_name} is hiring a {title} in {city}.\n\nYou will work with {}.",
            skills.join(", ")
        );
        for k in 0..3 {
            description.push(' ');
            description.push_str(SENTENCES[(mix(r ^ (10 + k)) % SENTENCES.len() as u64) as usize]);
        }
        let posted = now - chrono::Duration::hours((mix(r ^ 4) % (60 * 24)) as i64);
        let record = json!({
            "source": "bench", "external_id": format!("bench-{i}"), "title": title,
            "description": description, "company": company, "location": location,
            "workplace": workplace, "employment_type": employment, "seniority": seniority,
            "salary": salary, "skills": skills, "category": category,
            "posted_at": posted.to_rfc3339(),
        });
        serde_json::to_writer(&mut writer, &record).unwrap();
        writer.write_all(b"\n").unwrap();
    }
    writer.flush().unwrap();
    let mut distinct: Vec<&str> = source.titles.iter().map(|t| t.0.as_str()).collect();
    distinct.sort();
    distinct.dedup();
    distinct.len()
}

/// The words of the real titles (four letters or more, lowercased), the most frequent first.
pub fn title_words(source: &Source) -> Vec<String> {
    let mut frequency: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (title, ..) in &source.titles {
        for word in title.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| w.len() >= 4) {
            *frequency.entry(word.to_lowercase()).or_default() += 1;
        }
    }
    let mut words: Vec<(String, usize)> = frequency.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}
