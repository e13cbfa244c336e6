//! Skills found in free text by phrase, against the taxonomy compiled into the binary
//! (`utils/skills_taxonomy.tsv`: canonical name, then its aliases; sources in its NOTICE).
//! A one-word name that is also an everyday word counts only with evidence ([`ambiguity`]).

use std::collections::HashMap;
use std::sync::LazyLock;

use super::ambiguity;

const TAXONOMY: &str = include_str!("../../utils/skills_taxonomy.tsv");

struct Taxonomy {
    /// Phrase (tokens joined by one space) → canonical name.
    phrases: HashMap<String, &'static str>,
    longest: usize,
}

static TABLE: LazyLock<Taxonomy> = LazyLock::new(|| {
    let mut phrases = HashMap::new();
    let mut longest = 1;
    for line in TAXONOMY.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let (canonical, aliases) = line.split_once('\t').unwrap_or((line, ""));
        let canonical: &'static str = canonical.trim();
        for name in std::iter::once(canonical)
            .chain(aliases.split('|'))
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
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

/// A word of `text`: its byte range, without the punctuation that ends a sentence or quotes.
fn spans(text: &str) -> Vec<(usize, usize)> {
    let is_word_char = |c: char| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '-' | '\'');
    let mut out = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (start, is_word_char(c) && at < text.len()) {
            (None, true) => start = Some(at),
            (Some(s), false) => {
                start = None;
                let raw = &text[s..at];
                let trimmed = raw.trim_end_matches(['.', '-', '\'']);
                let lead = trimmed.len() - trimmed.trim_start_matches(['-', '\'']).len();
                if lead < trimmed.len() {
                    out.push((s + lead, s + trimmed.len()));
                }
            }
            _ => {}
        }
    }
    out
}

fn tokens(text: &str) -> Vec<String> {
    spans(text).into_iter().map(|(s, e)| text[s..e].to_lowercase()).collect()
}

/// Whether the text between two words parts items of a list: a comma, a slash, a bullet, a
/// full stop, a tab, a spaced "&" or "-" (and "and", see [`find`]). Quotes do not, nor a bare
/// "&" ("R&D" is one item).
fn parts_items(gap: &str) -> bool {
    gap != "&"
        && gap
            .chars()
            .any(|c| c == '\t' || !(c.is_whitespace() || matches!(c, '"' | '\'' | '“' | '”')))
}

/// The canonical skills named in `text` (one line), longest phrase first, in order of
/// appearance. Everyday words count only with evidence ([`ambiguity::has_evidence`]), which a
/// skills section (`in_skills_section`) makes easier to give.
pub fn find(text: &str, in_skills_section: bool) -> Vec<String> {
    let table = &*TABLE;
    let spans = spans(text);
    let lower: Vec<String> = spans.iter().map(|&(s, e)| text[s..e].to_lowercase()).collect();
    // Words grouped into list items; "and" parts items and belongs to none (`usize::MAX`).
    let mut words = Vec::with_capacity(spans.len());
    let mut item_words: Vec<usize> = Vec::new();
    let mut new_item = true;
    for (k, &(start, end)) in spans.iter().enumerate() {
        if k > 0 && parts_items(&text[spans[k - 1].1..start]) {
            new_item = true;
        }
        if lower[k] == "and" {
            new_item = true;
        } else if new_item {
            item_words.push(0);
            new_item = false;
        }
        let item = if lower[k] == "and" {
            usize::MAX
        } else {
            let item = item_words.len() - 1;
            item_words[item] += 1;
            item
        };
        words.push(ambiguity::Word { start, end, item });
    }
    // Every phrase of the taxonomy in the line: (first word, words, canonical, needs evidence).
    let mut hits: Vec<(usize, usize, &'static str, bool)> = Vec::new();
    let mut i = 0;
    while i < lower.len() {
        let mut matched = 0;
        for n in (1..=table.longest.min(lower.len() - i)).rev() {
            let key = lower[i..i + n].join(" ");
            let hit = table
                .phrases
                .get(&key)
                .or_else(|| key.strip_prefix('.').and_then(|k| table.phrases.get(k)));
            if let Some(&canonical) = hit {
                hits.push((i, n, canonical, n == 1 && ambiguity::is_everyday(&key)));
                matched = n;
                break;
            }
        }
        i += matched.max(1);
    }
    let mut item_is_skill = vec![false; item_words.len()];
    for &(first, n, _, everyday) in &hits {
        let item = words[first].item;
        if !everyday
            && item != usize::MAX
            && words[first + n - 1].item == item
            && item_words[item] == n
        {
            item_is_skill[item] = true;
        }
    }
    let line =
        ambiguity::Line { text, words: &words, item_is_skill: &item_is_skill, in_skills_section };
    let mut out: Vec<String> = Vec::new();
    for (first, _, canonical, everyday) in hits {
        if everyday && !ambiguity::has_evidence(&line, first) {
            continue;
        }
        if !out.iter().any(|s| s == canonical) {
            out.push(canonical.to_owned());
        }
    }
    out
}

/// The canonical name of one skill if the taxonomy knows it.
pub fn canonical(name: &str) -> Option<&'static str> {
    TABLE.phrases.get(&tokens(name).join(" ")).copied()
}

/// The canonical names of the taxonomy, each once, sorted.
pub fn canonical_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = TABLE.phrases.values().copied().collect();
    names.sort_unstable();
    names.dedup();
    names
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
        let found =
            find("Worked with Node.js, C++ and Postgres on AWS; some machine learning.", false);
        for wanted in ["node.js", "c++", "postgresql", "amazon web services", "machine learning"] {
            assert!(found.iter().any(|s| s == wanted), "{wanted} in {found:?}");
        }
        assert!(size() > 1000, "the taxonomy holds {} names", size());
    }

    fn names(text: &str, in_skills_section: bool) -> Vec<String> {
        find(text, in_skills_section)
    }

    #[test]
    fn go_in_a_sentence_is_not_the_language() {
        for line in [
            "Always ready to go the extra mile for a customer.",
            "• Resourceful, Go getter & Team Player.",
        ] {
            assert!(!names(line, false).contains(&"go".to_owned()), "{line}");
            assert!(!names(line, true).contains(&"go".to_owned()), "{line} in a skills section");
        }
    }

    #[test]
    fn go_in_a_skills_list_is_the_language() {
        assert!(names("Languages: Go, Python, Java", true).contains(&"go".to_owned()));
        assert!(names("Go", true).contains(&"go".to_owned()), "a bullet of a skills section");
        assert!(
            names("Stack: Go, PostgreSQL and Kubernetes on AWS", false).contains(&"go".to_owned())
        );
        assert!(
            names("Rewrote the billing service in Golang", false).contains(&"go".to_owned()),
            "an unambiguous alias"
        );
    }

    #[test]
    fn and_between_two_languages_parts_the_list() {
        let found = names("Go and Rust", true);
        assert!(found.contains(&"go".to_owned()), "{found:?}");
        assert!(!names("Happy to go and help", true).contains(&"go".to_owned()));
    }

    #[test]
    fn com_in_a_commerce_degree_is_not_the_component_object_model() {
        for line in
            ["B. Com", "M COM in Acc, business, MGMT", "Completed graduation B Com in Commerce"]
        {
            assert!(!names(line, false).contains(&"component object model".to_owned()), "{line}");
        }
    }

    #[test]
    fn com_written_as_the_acronym_mid_sentence_is_the_component_object_model() {
        assert!(
            names("Maintained legacy COM components in C++ for the desktop client", false)
                .contains(&"component object model".to_owned())
        );
    }

    #[test]
    fn sms_messages_are_not_a_skill() {
        for line in [
            "• Completed the testbed setup and Functional Testing of the Inbound SMS.",
            "To generate leads through Internet & SMS.",
            "* Bulk SMS / Mass mailing/digital campaigns etc.",
        ] {
            assert!(!names(line, false).contains(&"sms".to_owned()), "{line}");
        }
    }

    #[test]
    fn spice_in_a_company_name_is_not_a_skill() {
        assert!(
            !names("(Territory Sales Executive) for Spice Mobile", false)
                .contains(&"spice".to_owned())
        );
    }

    #[test]
    fn jet_in_a_printer_name_is_not_the_oracle_toolkit() {
        let line =
            "in 250 Desktops, 300 Printers (Lasers and Desk Jet, MFP, Scanners) and 250 Online";
        assert!(!names(line, false).contains(&"oracle javascript extension toolkit".to_owned()));
    }

    #[test]
    fn a_capitalised_everyday_word_in_a_sentence_is_not_enough() {
        assert!(
            !names("➢ Handled a team of 10-15 Sales officers.", false)
                .contains(&"sales".to_owned())
        );
        assert!(
            !names("Migrated the reporting jobs to Python last year", false)
                .contains(&"python".to_owned())
        );
        assert!(names("Python, Django, PostgreSQL", false).contains(&"python".to_owned()));
    }

    #[test]
    fn everyday_words_in_prose_count_in_neither_kind_of_section() {
        assert!(!find("I like to go running", false).contains(&"go".to_owned()));
        assert!(!find("I like to go running", true).contains(&"go".to_owned()));
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
