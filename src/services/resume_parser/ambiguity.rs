//! Skill names that are also everyday words ("go", "spice", "com", "sms", "jet"), and the
//! evidence an occurrence of one needs before it counts as the skill.
//!
//! Whether a name is everyday is decided from data, not by hand: `utils/skills_word_frequency.tsv`
//! holds the Zipf frequency in English (log10 of uses per billion words, from wordfreq; written
//! by `scripts/build_skills_taxonomy.py`) of the taxonomy's one-word names. A name English uses
//! at least [`EVERYDAY_ZIPF`] is everyday, whatever it means in a resume: "go" (6.0), "com"
//! (4.2, every web address), "jet" (4.3), "spice" (3.9), "sms" (3.7), and also "python" (3.8)
//! or "java" (4.0), which lose nothing, because resumes name real skills in lists. So is a
//! name of one or two letters ("c", "r", "ml"), which initials and abbreviations share, and
//! the few generic claims of [`GENERIC`].
//!
//! An everyday name counts when one of these holds:
//! - it is a short item of a list in a skills section ("Languages: Go, Rust"), and the last
//!   word of its item but for a version ("Core Java 8", not "Go getter");
//! - it is such an item of a list that also holds an item that is nothing but a skill
//!   ("Python, Go, SQL" anywhere);
//! - it is written in capitals, as an acronym is, in the middle of a sentence ("maintained
//!   legacy COM components"): in a line that is not all capitals, after a word of the same
//!   clause, and without a capitalised word beside it (that would be a longer name such as
//!   "Inbound SMS", "Desk Jet" or "M COM"). A capitalised word is no evidence: resumes
//!   capitalise departments and titles ("10 Sales officers"), and on the labelled resumes
//!   that rule found 142 more skills of which one was right.

use std::collections::HashMap;
use std::sync::LazyLock;

const FREQUENCY: &str = include_str!("../../utils/skills_word_frequency.tsv");

/// The Zipf frequency from which a name is an everyday word: about three uses in a million
/// words of English. Chosen on the labelled resumes of pydparser's train split and checked on
/// its dev split: at 3.0 "sql", "unix" and "linux" written only in prose are lost; at 4.0
/// "sms", "spice", "python" in prose count again, and with them most of the false hits.
pub const EVERYDAY_ZIPF: f32 = 3.5;

/// Generic claims below that frequency that still say little outside a list of skills ("all
/// aspects of project management including budgeting"); the skills sections name them.
const GENERIC: &[&str] = &["auditing", "budgeting", "teamwork"];

/// The most words, versions aside, of a list item holding an everyday name ("Core Java 8"):
/// beyond that the item is a phrase ("happy to go"), not a name.
const MAX_ITEM_WORDS: usize = 2;

static ZIPF: LazyLock<HashMap<&'static str, f32>> = LazyLock::new(|| {
    FREQUENCY
        .lines()
        .filter_map(|line| {
            let (name, zipf) = line.split_once('\t')?;
            Some((name, zipf.trim().parse().ok()?))
        })
        .collect()
});

/// Whether a one-word name (lower case) is an everyday English word, a generic claim, or so
/// short (one or two letters: "c", "r", "go") that initials and abbreviations share it.
pub fn is_everyday(name: &str) -> bool {
    (name.len() <= 2 && name.chars().all(|c| c.is_ascii_alphabetic()))
        || GENERIC.contains(&name)
        || ZIPF.get(name).is_some_and(|&zipf| zipf >= EVERYDAY_ZIPF)
}

/// One word of a line: its byte range in the line and its list item.
#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub item: usize,
}

/// What is known about the line a name was found in.
pub struct Line<'a> {
    pub text: &'a str,
    pub words: &'a [Word],
    /// Whether each item is exactly one skill's name (its only words are that name's).
    pub item_is_skill: &'a [bool],
    pub in_skills_section: bool,
}

/// Whether the everyday name that is word `i` of the line has the evidence of a skill.
pub fn has_evidence(line: &Line<'_>, i: usize) -> bool {
    listed(line, i) || written_as_an_acronym(line, i)
}

fn listed(line: &Line<'_>, i: usize) -> bool {
    let word = line.words[i];
    let is_version = |w: &Word| line.text[w.start..w.end].chars().any(|c| c.is_ascii_digit());
    let size = line.words.iter().filter(|w| w.item == word.item && !is_version(w)).count();
    // A one-letter name ("C", "R") only as a whole item: "a/c", "grade C", "R&D" are not it.
    if word.end - word.start == 1 && size != 1 {
        return false;
    }
    // The head of an English compound is its last word: "Core Java" is Java, a "Go getter" is
    // not Go. Only a version may follow the name ("Java 8", "Python 3.x", "Oracle 11g").
    let versioned = line.words[i + 1..].iter().take_while(|w| w.item == word.item).all(is_version);
    if !versioned || size > MAX_ITEM_WORDS {
        return false;
    }
    line.in_skills_section
        || line.item_is_skill.iter().enumerate().any(|(item, &skill)| skill && item != word.item)
}

fn written_as_an_acronym(line: &Line<'_>, i: usize) -> bool {
    let word = line.words[i];
    let written = &line.text[word.start..word.end];
    if written.chars().count() <= 2
        || written.chars().any(char::is_lowercase)
        || !line.text.chars().any(char::is_lowercase)
    {
        return false;
    }
    // After a word of the same clause: only spaces between them.
    let Some(before) = i.checked_sub(1).map(|j| line.words[j]) else { return false };
    if !line.text[before.end..word.start].chars().all(char::is_whitespace) {
        return false;
    }
    let capitalised =
        |w: &Word| line.text[w.start..w.end].chars().next().is_some_and(char::is_uppercase);
    let after = line
        .words
        .get(i + 1)
        .filter(|a| line.text[word.end..a.start].chars().all(char::is_whitespace));
    !capitalised(&before) && !after.is_some_and(capitalised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyday_words_are_told_from_the_frequency_list() {
        for word in ["go", "com", "sms", "spice", "jet"] {
            assert!(is_everyday(word), "{word}");
        }
        for name in ["kubernetes", "postgresql", "sql", "abap", "c++", "c#"] {
            assert!(!is_everyday(name), "{name}");
        }
    }
}
