//! Skills found in free text by phrase, against the taxonomy compiled into the binary
//! (`utils/skills_taxonomy.tsv`: canonical name, then its aliases; sources in its NOTICE).

use std::collections::HashMap;
use std::sync::LazyLock;

const TAXONOMY: &str = include_str!("../../utils/skills_taxonomy.tsv");

/// Names that are also ordinary words (or letters): they count only inside a skills section,
/// where a list of skills is what a reader expects.
const AMBIGUOUS: &[&str] = &[
    "c", "r", "go", "d", "access", "excel", "word", "swift", "spring", "rest", "express", "make", "chef",
    "puppet", "ant", "shell", "jade", "dart", "julia", "elm", "crystal", "unity", "vision", "oracle",
    "sage", "salt", "storm", "spark", "hive", "pig", "flume", "less", "sketch", "office", "outlook",
    "teams", "slack", "windows", "apache", "leadership", "teamwork", "communication", "management",
    "marketing", "design", "research", "writing", "editing", "testing", "support", "training", "teaching",
    "negotiation", "planning", "analysis", "reporting", "networking", "security", "operations", "finance",
    "accounting", "budgeting", "recruiting", "coaching", "mentoring", "scheduling", "logistics",
    "procurement", "compliance", "auditing", "banking", "sales",
];

struct Taxonomy {
    /// Phrase (tokens joined by one space) → canonical name.
    phrases: HashMap<String, &'static str>,
    longest: usize,
}

fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-' | '\'')))
        .map(|t| t.trim_end_matches(['.', '-', '\'']).trim_start_matches(['-', '\'']).to_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

static TABLE: LazyLock<Taxonomy> = LazyLock::new(|| {
    let mut phrases = HashMap::new();
    let mut longest = 1;
    for line in TAXONOMY.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (canonical, aliases) = line.split_once('\t').unwrap_or((line, ""));
        let canonical: &'static str = canonical.trim();
        for name in std::iter::once(canonical).chain(aliases.split('|')).map(str::trim).filter(|a| !a.is_empty()) {
            let key = tokens(name).join(" ");
            if key.is_empty() {
                continue;
            }
            longest = longest.max(key.split(' ').count());
            phrases.entry(key).or_insert(canonical);
        }
    }
    Taxonomy { phrases, longest: longest.min(6) }
});

/// The canonical skills named in `text`, longest phrase first, in order of appearance.
/// `lenient` (a skills section) also accepts the [`AMBIGUOUS`] names.
pub fn find(text: &str, lenient: bool) -> Vec<String> {
    let table = &*TABLE;
    let words = tokens(text);
    // The whole items of a list in the text, for one-letter names; computed once.
    let mut list_items: Option<Vec<String>> = None;
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut matched = 0;
        for n in (1..=table.longest.min(words.len() - i)).rev() {
            let key = words[i..i + n].join(" ");
            let hit = table.phrases.get(&key).or_else(|| key.strip_prefix('.').and_then(|k| table.phrases.get(k)));
            if let Some(canonical) = hit {
                if n == 1 && !lenient && AMBIGUOUS.contains(&key.as_str()) {
                    continue;
                }
                // A one-letter name ("C", "R") counts only as a whole item of a list.
                if key.chars().count() == 1 && !list_items.get_or_insert_with(|| items(text)).contains(&key) {
                    continue;
                }
                if !out.iter().any(|s| s == canonical) {
                    out.push((*canonical).to_owned());
                }
                matched = n;
                break;
            }
        }
        i += matched.max(1);
    }
    out
}

/// The one-letter items of a list in `text` ("C, C++, R" has "c" and "r"), lower case.
fn items(text: &str) -> Vec<String> {
    text.split([',', ';', '|', '/', '•', '\t', ':', '(', ')'])
        .map(|item| item.trim().trim_end_matches(['.', '-']).trim().to_lowercase())
        .filter(|item| item.chars().count() == 1)
        .collect()
}

/// The canonical name of one skill if the taxonomy knows it.
pub fn canonical(name: &str) -> Option<&'static str> {
    TABLE.phrases.get(&tokens(name).join(" ")).copied()
}

/// How many names (canonical and aliases) the taxonomy holds.
pub fn size() -> usize {
    TABLE.phrases.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_aliases_and_punctuation() {
        let found = find("Worked with Node.js, C++ and Postgres on AWS; some machine learning.", false);
        for wanted in ["node.js", "c++", "postgresql", "amazon web services", "machine learning"] {
            assert!(found.iter().any(|s| s == wanted), "{wanted} in {found:?}");
        }
        assert!(size() > 1000, "the taxonomy holds {} names", size());
    }

    #[test]
    fn ambiguous_words_count_only_in_skills_sections() {
        assert!(!find("I like to go running", false).contains(&"go".to_owned()));
        assert!(find("Go, Python", true).contains(&"go".to_owned()));
    }

    #[test]
    fn one_letter_names_count_only_as_list_items() {
        assert!(find("Languages: C, C++, R", true).contains(&"r".to_owned()));
        assert!(find("Languages: C, C++, R", true).contains(&"c".to_owned()));
        assert!(!find("R&D lead, grade C student", true).contains(&"r".to_owned()));
        assert!(!find("Vitamin C research", true).contains(&"c".to_owned()));
    }
}
