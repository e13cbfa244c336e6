//! What a user's reference to a job or an application points at: a number the assistant
//! handed out before (`2`, `[2]`, `#2`, "job 2", "the second"), or words of its title or
//! company. Numbers are looked up in the conversation's citations, newest message first, so
//! "the second" is the second of the last list; words are matched against the jobs cited
//! before, then searched. Everything is read through the services, as the caller may see it.

use std::sync::LazyLock;

use regex::Regex;

use super::Turn;
use crate::models::application::Application;
use crate::models::company::Company;
use crate::models::conversation::CitationKind;
use crate::models::job::Job;
use crate::services::search::SearchParams;
use crate::services::{ServiceError, applications, jobs, search};

const ORDINALS: &[&str] = &[
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
];

static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)
        \[\s*(\d{1,2})\s*\]
        | \#(\d{1,2})\b
        | \b(?:job|number|no\.?|result|item|position|role|offer|option|application)\s*(\d{1,2})\b
        | \b(\d{1,2})(?:st|nd|rd|th)\b
        | ^\s*(\d{1,2})\s*$",
    )
    .expect("the pattern compiles")
});

/// A record id (a UUID) written in a message, such as a job's id copied from its page.
static ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .expect("the pattern compiles")
});

/// The record id a text names, if it names one (lowercase).
pub fn id_in(text: &str) -> Option<String> {
    ID.find(text).map(|m| m.as_str().to_ascii_lowercase())
}

/// The number a text refers to (1 to 99), if it refers to one.
pub fn number_in(text: &str) -> Option<u32> {
    if let Some(captures) = NUMBER.captures(text) {
        return captures.iter().skip(1).flatten().next().and_then(|m| m.as_str().parse().ok());
    }
    let words = words(text);
    ORDINALS
        .iter()
        .position(|o| words.iter().any(|w| w == o))
        .map(|i| i as u32 + 1)
        .or_else(|| words.iter().any(|w| w == "last").then_some(u32::MAX))
}

/// Words that say what to do, not which item: left out when matching titles.
const STOP: &[&str] = &[
    "a",
    "about",
    "add",
    "against",
    "am",
    "an",
    "and",
    "any",
    "application",
    "applications",
    "are",
    "at",
    "been",
    "bookmark",
    "can",
    "could",
    "cover",
    "cv",
    "describe",
    "details",
    "did",
    "do",
    "does",
    "draft",
    "feedback",
    "fit",
    "for",
    "from",
    "get",
    "give",
    "has",
    "have",
    "help",
    "how",
    "i",
    "i'm",
    "improve",
    "in",
    "is",
    "it",
    "its",
    "job",
    "jobs",
    "keep",
    "later",
    "letter",
    "list",
    "me",
    "missing",
    "more",
    "motivation",
    "my",
    "news",
    "of",
    "on",
    "one",
    "please",
    "position",
    "prepare",
    "remember",
    "require",
    "requires",
    "resume",
    "review",
    "role",
    "save",
    "saved",
    "say",
    "show",
    "skills",
    "stage",
    "status",
    "tell",
    "that",
    "the",
    "this",
    "to",
    "want",
    "what",
    "where",
    "which",
    "with",
    "would",
    "write",
    "you",
    "your",
    "there",
    "these",
    "those",
    "want",
    "like",
    "got",
    "interview",
    "rejected",
    "heard",
    "back",
    // Function words of English (pronouns, auxiliaries, adverbs of degree and time) and the
    // contractions people type: they name nothing.
    "i'd",
    "i'll",
    "we",
    "we're",
    "they",
    "they're",
    "them",
    "their",
    "he",
    "she",
    "him",
    "her",
    "his",
    "our",
    "us",
    "it's",
    "you're",
    "you've",
    "was",
    "were",
    "be",
    "being",
    "had",
    "will",
    "should",
    "may",
    "might",
    "must",
    "shall",
    "don't",
    "doesn't",
    "isn't",
    "aren't",
    "just",
    "only",
    "very",
    "so",
    "too",
    "also",
    "then",
    "than",
    "now",
    "here",
    "when",
    "why",
    "whom",
    "all",
    "some",
    "anything",
    "something",
    "if",
    "or",
    "but",
    "not",
    "no",
    "by",
    "into",
    "out",
    "again",
    "own",
    "same",
    "such",
    "each",
    "other",
    "both",
    "because",
    "while",
    "once",
    "really",
    "still",
    "maybe",
    "hi",
    "hello",
    "thanks",
];

/// The lower-case words of a text.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '+' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The words of a text that may name an item (not [`STOP`] words, not numbers or ordinals).
pub fn naming_words(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !STOP.contains(&w.as_str()) && !ORDINALS.contains(&w.as_str()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// How many of `wanted` occur in `text`.
fn overlap(wanted: &[String], text: &str) -> usize {
    let have = words(text);
    wanted.iter().filter(|w| have.contains(w)).count()
}

/// One of the caller's applications, with its job and company when they still exist.
pub type Mine = (Application, Option<(Job, Company)>);

/// A reference resolved, or why not, in words for the user.
pub type Resolved<T> = Result<T, String>;

/// The job `reference` points at (a number or words; none: the only job of the last list).
pub async fn job(
    turn: &Turn<'_>,
    reference: Option<&str>,
) -> Result<Resolved<(Job, Company)>, ServiceError> {
    let reference = reference.unwrap_or("").trim();
    let cited_jobs = |list: &[crate::models::conversation::Citation]| -> Vec<String> {
        list.iter().filter(|c| c.kind == CitationKind::Job).map(|c| c.id.clone()).collect()
    };
    let id = if let Some(id) = id_in(reference) {
        // Looked up as the caller may see it, like every other reference.
        Some(id)
    } else if let Some(n) = number_in(reference) {
        match numbered(turn, n) {
            Some((CitationKind::Job, id)) => Some(id),
            Some((CitationKind::Application, id)) => {
                match applications::get(turn.ctx, turn.principal, &id).await {
                    Ok(view) => Some(view.job.id),
                    Err(ServiceError::NotFound(_)) => None,
                    Err(err) => return Err(err),
                }
            }
            Some(_) => return Ok(Err(format!("[{n}] is not a job."))),
            None => {
                return Ok(Err(format!(
                    "I have not listed a job numbered {n} in this conversation. Search first, then name a job by its number."
                )));
            }
        }
    } else {
        let wanted = naming_words(reference);
        if wanted.is_empty() {
            let last = cited_jobs(turn.last_cited());
            match last.len() {
                0 => {
                    return Ok(Err(
                        "Which job? Search first, then name a job by its number, e.g. [1].".into(),
                    ));
                }
                1 => last.into_iter().next(),
                _ => {
                    return Ok(Err("Which of them? Name it by its number, e.g. [1].".into()));
                }
            }
        } else {
            // The best match among the jobs cited before, else the best of a search.
            let best = turn
                .cited()
                .filter(|c| c.kind == CitationKind::Job)
                .map(|c| (overlap(&wanted, &c.title), c.id.clone()))
                .filter(|(score, _)| *score > 0)
                .max_by_key(|(score, _)| *score)
                .map(|(_, id)| id);
            match best {
                Some(id) => Some(id),
                None => {
                    let params = SearchParams {
                        q: Some(wanted.join(" ")),
                        limit: Some(1),
                        facets: Some(false),
                        ..SearchParams::default()
                    };
                    search::search(turn.ctx, params).await?.jobs.first().map(|j| j.0.id.clone())
                }
            }
        }
    };
    let Some(id) = id else {
        return Ok(Err("I could not find that job.".into()));
    };
    match jobs::get(turn.ctx, Some(turn.principal), &id).await {
        Ok(found) => Ok(Ok(found)),
        Err(ServiceError::NotFound(_)) => Ok(Err("That job is no longer open.".into())),
        Err(err) => Err(err),
    }
}

/// What number `n` points at: the kind and id of the newest citation numbered `n` (`u32::MAX`:
/// the last of the newest list).
pub fn numbered(turn: &Turn<'_>, n: u32) -> Option<(CitationKind, String)> {
    if n == u32::MAX {
        return turn.last_cited().last().map(|c| (c.kind, c.id.clone()));
    }
    turn.history
        .iter()
        .rev()
        .find_map(|m| m.citations.iter().find(|c| c.n == n))
        .map(|c| (c.kind, c.id.clone()))
}

/// The caller's application `reference` points at, among `mine` (their applications with
/// jobs and companies): by number (an application or a job cited before), by words of the
/// job's title or company, or the only one. `Err` lists nothing: the caller says why.
pub fn application<'m>(
    turn: &Turn<'_>,
    reference: Option<&str>,
    mine: &'m [Mine],
) -> Resolved<&'m Mine> {
    let reference = reference.unwrap_or("").trim();
    if mine.is_empty() {
        return Err("You have not applied to any job yet.".into());
    }
    if let Some(id) = id_in(reference) {
        return mine
            .iter()
            .find(|(a, _)| a.id == id || a.job_id == id)
            .ok_or_else(|| "That is not one of your applications.".to_owned());
    }
    if let Some(n) = number_in(reference) {
        let found = match numbered(turn, n) {
            Some((CitationKind::Application, id)) => mine.iter().find(|(a, _)| a.id == id),
            Some((CitationKind::Job, id)) => mine.iter().find(|(a, _)| a.job_id == id),
            _ => None,
        };
        return found.ok_or_else(|| format!("[{n}] is not one of your applications."));
    }
    let wanted = naming_words(reference);
    if !wanted.is_empty() {
        let scored: Vec<(usize, &Mine)> = mine
            .iter()
            .map(|entry| {
                let label = entry
                    .1
                    .as_ref()
                    .map(|(job, company)| format!("{} {}", job.fields.title, company.name))
                    .unwrap_or_default();
                (overlap(&wanted, &label), entry)
            })
            .collect();
        let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
        let top: Vec<_> = scored.iter().filter(|(s, _)| *s == best && best > 0).collect();
        if top.len() == 1 {
            return Ok(top[0].1);
        }
    }
    if mine.len() == 1 {
        return Ok(&mine[0]);
    }
    Err("Which application? Name the job or its company.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_from_brackets_words_and_ordinals() {
        for (text, n) in [
            ("save [2]", Some(2)),
            ("save [ 12 ]", Some(12)),
            ("tell me about #3", Some(3)),
            ("bookmark job 4", Some(4)),
            ("the 2nd one", Some(2)),
            ("what about the second one?", Some(2)),
            ("2", Some(2)),
            ("save the last one", Some(u32::MAX)),
            ("save the Rust job at Acme", None),
            ("jobs paying 80000", None),
            ("C++ developer with 5 years", None),
        ] {
            assert_eq!(number_in(text), n, "{text}");
        }
    }

    #[test]
    fn an_id_in_a_message_is_read_whole() {
        let id = "0193a5f0-84d0-7c3e-9a1b-2f4e6d8c0b1a";
        assert_eq!(id_in(&format!("Tell me about job {}", id.to_uppercase())), Some(id.into()));
        assert_eq!(id_in("Tell me about job 2"), None);
    }

    #[test]
    fn naming_words_leave_out_what_to_do() {
        assert_eq!(
            naming_words("Please save the Rust job at Acme for later"),
            vec!["rust", "acme"]
        );
        assert_eq!(naming_words("save it"), Vec::<String>::new());
        assert_eq!(naming_words("write a cover letter for the C++ role"), vec!["c++"]);
    }
}
