//! The facts a chain's text may use, and the check that a sentence uses no other: every
//! number and year, every capitalised name (employers, schools, places, people), every degree
//! and every skill the text names must be among the inputs' words.
//!
//! The check is deliberately strict and shallow: it reads words, not meaning, so it may turn
//! down a harmless sentence (the chain then writes without it, or falls back to a template) but
//! it does not let an invented employer, year or skill through.

use std::collections::HashSet;

/// Finds the canonical names of the skills a line of text names (the skills taxonomy's
/// reading, which the services own).
pub type SkillFinder = fn(&str) -> Vec<String>;

/// Words that may be capitalised in any text without being a fact: the pronoun, and the
/// words of a letter's greeting and closing.
const COMMON: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "dear",
    "hiring",
    "manager",
    "managers",
    "team",
    "sir",
    "madam",
    "kind",
    "regards",
    "best",
    "sincerely",
    "yours",
    "faithfully",
    "thank",
    "thanks",
    "hello",
    "hi",
    "mr",
    "mrs",
    "ms",
    "cv",
    "resume",
    "cover",
    "letter",
    "ps",
    "the",
    "a",
    "an",
    "my",
    "our",
    "your",
    "their",
    "his",
    "her",
    "its",
    "this",
    "that",
    "these",
    "those",
    "as",
    "at",
    "in",
    "on",
    "for",
    "with",
    "from",
    "to",
    "by",
    "of",
    "and",
    "but",
    "or",
    "so",
    "if",
    "when",
    "while",
    "during",
    "after",
    "before",
    "since",
    "because",
    "although",
    "though",
    "here",
    "there",
    "we",
    "you",
    "he",
    "she",
    "they",
    "it",
    "what",
    "which",
    "who",
    "how",
    "why",
    "also",
    "then",
    "now",
    "today",
    "currently",
    "recently",
    "previously",
    "finally",
    "moreover",
    "furthermore",
    "additionally",
    "besides",
    "yes",
    "no",
    "please",
    "let",
    "not",
    "both",
    "each",
    "all",
    "every",
    "some",
    "any",
    "many",
    "most",
    "over",
    "through",
    "throughout",
    "given",
    "being",
    "having",
    "with",
    "without",
    "into",
    "about",
    "like",
    "unlike",
    "just",
    "only",
    "even",
    "however",
    "therefore",
    "overall",
    "together",
    "one",
];

/// Degrees by name: the text may name one only when the inputs do.
const DEGREES: &[&str] = &[
    "bachelor",
    "bachelors",
    "bachelor's",
    "master",
    "masters",
    "master's",
    "phd",
    "ph.d",
    "doctorate",
    "doctoral",
    "mba",
    "bsc",
    "msc",
    "beng",
    "meng",
    "diploma",
];

/// Words about studies in general: the text may use them only when the inputs name studies.
const STUDIES: &[&str] =
    &["degree", "degrees", "university", "college", "graduated", "graduate", "school", "studied"];

/// Numbers in words that state a quantity (not "one", which is everyday English).
const NUMBER_WORDS: &[(&str, u32)] = &[
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("hundred", 100),
    ("thousand", 1000),
    ("million", 1_000_000),
    ("dozen", 12),
    ("decade", 10),
    ("decades", 10),
];

/// What the inputs of one text say.
#[derive(Clone)]
pub struct Facts {
    words: HashSet<String>,
    numbers: HashSet<String>,
    skills: HashSet<String>,
    studies: bool,
    find_skills: SkillFinder,
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts")
            .field("words", &self.words.len())
            .field("numbers", &self.numbers)
            .field("skills", &self.skills)
            .finish()
    }
}

impl Facts {
    /// The facts of `texts` (every value the prompt shows) and `skills` (skill names the text
    /// may use, as the portal spells them).
    pub fn new<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        skills: impl IntoIterator<Item = &'a str>,
        find_skills: SkillFinder,
    ) -> Facts {
        let mut facts = Facts {
            words: HashSet::new(),
            numbers: HashSet::new(),
            skills: HashSet::new(),
            studies: false,
            find_skills,
        };
        for skill in skills {
            facts.add_text(skill);
            facts.skills.insert(skill.trim().to_lowercase());
            facts.skills.extend(find_skills(skill));
        }
        for text in texts {
            facts.add_text(text);
            for line in text.lines() {
                facts.skills.extend(find_skills(line));
            }
        }
        for (word, value) in NUMBER_WORDS {
            if facts.numbers.contains(&value.to_string()) {
                facts.words.insert((*word).to_owned());
            }
        }
        facts.studies = facts.words.iter().any(|w| {
            DEGREES.contains(&w.as_str()) || STUDIES.contains(&w.as_str()) || w == "institute"
        });
        facts
    }

    fn add_text(&mut self, text: &str) {
        for word in words(text) {
            let lower = word.text.to_lowercase();
            for part in lower.split('-').filter(|p| !p.is_empty()) {
                self.words.insert(strip_possessive(part).to_owned());
            }
            self.words.insert(strip_possessive(&lower).to_owned());
        }
        self.numbers.extend(numbers(text));
    }

    /// What `sentence` names that the facts do not (empty: it may be used).
    pub fn unknown(&self, sentence: &str) -> Vec<String> {
        let mut out = Vec::new();
        for number in numbers(sentence) {
            if !self.numbers.contains(&number) {
                out.push(number);
            }
        }
        let words = words(sentence);
        for word in &words {
            let lower = word.text.to_lowercase();
            let base = strip_possessive(&lower);
            let known = |w: &str| self.words.contains(w) || COMMON.contains(&w);
            if NUMBER_WORDS.iter().any(|(n, _)| *n == base) && !known(base) {
                out.push(word.text.to_owned());
                continue;
            }
            if DEGREES.contains(&base) && !known(base) {
                out.push(word.text.to_owned());
                continue;
            }
            if STUDIES.contains(&base) && !self.studies {
                out.push(word.text.to_owned());
                continue;
            }
            if !word.text.starts_with(char::is_uppercase) {
                continue;
            }
            if known(base) || base.split('-').all(|part| part.is_empty() || known(part)) {
                continue;
            }
            // A capitalised first word is taken for a name only in capitals ("IBM"); in a
            // name of several words ("Globex Corporation") the next word is caught.
            let acronym = word.text.chars().filter(|c| c.is_alphabetic()).count() > 1
                && !word.text.chars().any(char::is_lowercase);
            if word.sentence_start && !acronym {
                continue;
            }
            out.push(word.text.to_owned());
        }
        for skill in (self.find_skills)(sentence) {
            if !self.skills.contains(&skill) {
                out.push(skill);
            }
        }
        out.dedup();
        out
    }
}

struct Word<'a> {
    text: &'a str,
    /// The first word of the text or of a sentence, line or list item.
    sentence_start: bool,
}

/// The words of `text` (letters, digits, inner apostrophes and hyphens).
fn words(text: &str) -> Vec<Word<'_>> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '\'' | '’' | '-');
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_end = 0;
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        let inside = at < text.len() && is_word(c);
        match (start, inside) {
            (None, true) => start = Some(at),
            (Some(s), false) => {
                start = None;
                let raw = &text[s..at];
                let trimmed = raw.trim_matches(|c: char| matches!(c, '\'' | '’' | '-'));
                if trimmed.is_empty() {
                    continue;
                }
                let offset = raw.find(trimmed).unwrap_or(0);
                let gap = &text[last_end..s + offset];
                let sentence_start = out.is_empty()
                    || gap.contains(['.', '!', '?', ':', ';', '\n', '•', '*', '(', '"', '“']);
                out.push(Word { text: trimmed, sentence_start });
                last_end = s + offset + trimmed.len();
            }
            _ => {}
        }
    }
    out
}

fn strip_possessive(word: &str) -> &str {
    word.strip_suffix("'s").or_else(|| word.strip_suffix("’s")).unwrap_or(word)
}

/// The numbers of `text`: runs of digits, with the thousands separators left out ("10,000" is
/// "10000") and a decimal point kept ("3.5").
fn numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let joins = matches!(c, ',' | '.')
            && !current.is_empty()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_ascii_digit() {
            current.push(c);
        } else if joins {
            if c == '.' {
                current.push('.');
            }
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for the taxonomy: the skills it knows, found as words.
    fn skills_in(text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        ["rust", "python", "kubernetes", "postgresql"]
            .into_iter()
            .filter(|s| lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *s))
            .map(str::to_owned)
            .collect()
    }

    fn facts() -> Facts {
        Facts::new(
            [
                "Rust Developer",
                "Acme GmbH",
                "Berlin, DE",
                "Ada Lovelace",
                "Backend Engineer at Initech (2019 to 2023)",
                "BSc Computer Science, Example University (2018)",
                "Salary up to 80,000 EUR; 3 days remote",
            ],
            ["rust", "postgresql"],
            skills_in,
        )
    }

    #[test]
    fn sentences_with_only_known_facts_pass() {
        let facts = facts();
        for ok in [
            "Dear Acme GmbH team,",
            "I am applying for the Rust Developer position in Berlin.",
            "From 2019 to 2023 I worked as a Backend Engineer at Initech.",
            "My BSc in Computer Science from Example University gave me a solid base.",
            "I would enjoy three days of remote work.",
            "Kind regards,\nAda Lovelace",
            "Working with Rust and PostgreSQL every day, I learned a lot.",
            "Put Rust first for the Rust Developer job at Acme GmbH.",
            "The salary of 80,000 EUR fits.",
        ] {
            assert_eq!(facts.unknown(ok), Vec::<String>::new(), "{ok}");
        }
    }

    #[test]
    fn invented_employers_years_numbers_degrees_and_skills_are_caught() {
        let facts = facts();
        for (bad, named) in [
            ("I spent 2015 at Initech.", "2015"),
            ("I have 7 years of experience.", "7"),
            ("Before that I worked at Globex Corporation.", "Globex"),
            ("Globex Corporation hired me in Berlin.", "Corporation"),
            ("I led a team at IBM.", "IBM"),
            ("I hold a master's degree.", "master's"),
            ("I have a PhD.", "PhD"),
            ("I deployed services on Kubernetes.", "kubernetes"),
            ("I have five years of Python.", "five"),
            ("I moved to Munich last year.", "Munich"),
        ] {
            let unknown = facts.unknown(bad);
            assert!(unknown.iter().any(|u| u.eq_ignore_ascii_case(named)), "{bad}: {unknown:?}");
        }
        let no_studies = Facts::new(["Rust Developer", "Acme"], ["rust"], skills_in);
        assert_eq!(no_studies.unknown("I graduated from college."), ["graduated", "college"]);
    }

    #[test]
    fn numbers_keep_decimals_and_drop_thousands_separators() {
        assert_eq!(numbers("10,000 and 3.5, then 7. End 2019"), ["10000", "3.5", "7", "2019"]);
    }
}
