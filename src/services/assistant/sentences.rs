//! The model's sentences after the facts of an answer, passed on one by one once complete:
//! a sentence that names a number, a name or a skill that neither the sources nor the message
//! hold is left out, and so is one that starts like a line of the fact list (`[2] …`), since
//! a small model restating the list pairs titles, places and pay wrongly.

use crate::ai::chains::facts::Facts;
use crate::ai::chains::sentence_end;
use crate::services::resume_parser::taxonomy;

/// The skills a line names, as the taxonomy reads them (everyday words only with evidence).
fn skills_in(text: &str) -> Vec<String> {
    taxonomy::find(text, false)
}

/// Sentences of the model's text, checked as they complete.
pub struct Checked {
    facts: Facts,
    pending: String,
    /// Sentences left out so far.
    pub left_out: usize,
}

impl Checked {
    /// Sentences may name what `texts` (the sources, the facts written, the message) hold.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        Self { facts: Facts::new(texts, [], skills_in), pending: String::new(), left_out: 0 }
    }

    /// Takes the next piece of the model's text; gives what may be shown of it now (whole
    /// sentences, possibly none).
    pub fn push(&mut self, piece: &str) -> String {
        self.pending.push_str(piece);
        let mut out = String::new();
        while let Some(end) = sentence_end(&self.pending) {
            let sentence: String = self.pending.drain(..end).collect();
            out.push_str(&self.check(sentence));
        }
        out
    }

    /// The rest, once the model is done: its last sentence when complete (`complete`: the
    /// answer ended by itself, not at the token limit).
    pub fn finish(&mut self, complete: bool) -> String {
        let rest = std::mem::take(&mut self.pending);
        if complete { self.check(rest) } else { String::new() }
    }

    fn check(&mut self, sentence: String) -> String {
        let body = sentence.trim();
        if body.is_empty() {
            return sentence;
        }
        let restates_list = body
            .strip_prefix('[')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        if restates_list || !self.facts.unknown(&without_citations(body)).is_empty() {
            self.left_out += 1;
            return String::new();
        }
        sentence
    }
}

/// The sentence without its `[n]` citations (their numbers are no facts of the sentence).
fn without_citations(sentence: &str) -> String {
    let mut out = String::with_capacity(sentence.len());
    let mut rest = sentence;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].chars().all(|c| c.is_ascii_digit()) => {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "Senior Data Engineer at EvenUp · San Francisco, US · hybrid · senior";

    #[test]
    fn sentences_with_the_sources_facts_pass_whole_and_others_are_left_out() {
        let mut checked = Checked::new([SOURCE, "data engineer jobs"]);
        let mut shown = String::new();
        for piece in [
            "The first",
            " one is hybrid in San Francisco [1]. ",
            "It is at Glo",
            "bex in 2019 [1]. ",
        ] {
            shown.push_str(&checked.push(piece));
        }
        shown.push_str(&checked.push("[2] job: Staff Data Scientist · New York\n"));
        shown.push_str(&checked.push("Good luck!"));
        assert_eq!(shown, "The first one is hybrid in San Francisco [1]. ");
        assert_eq!(checked.finish(true), "Good luck!");
        assert_eq!(checked.left_out, 2);
    }

    #[test]
    fn citations_are_taken_out_before_the_check_and_other_brackets_stay() {
        assert_eq!(
            without_citations("Two roles [1][2] in [Berlin] [x]."),
            "Two roles  in [Berlin] [x]."
        );
    }

    #[test]
    fn an_answer_cut_by_the_token_limit_loses_its_unfinished_sentence() {
        let mut checked = Checked::new([SOURCE]);
        assert_eq!(
            checked.push("It is a senior role [1]. It is also"),
            "It is a senior role [1]. "
        );
        assert_eq!(checked.finish(false), "");
    }
}
