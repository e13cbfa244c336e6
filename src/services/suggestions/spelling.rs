//! Did you mean: a keyword search that finds nothing or very little gets a corrected query,
//! its words replaced by close words of the portal's own vocabulary (the words of public jobs'
//! titles, skills, companies and places) that far more jobs carry, when the correction finds
//! clearly more jobs.

use super::store::State;
use super::text;

/// A search that finds this many jobs or fewer may get a correction.
pub const FEW_RESULTS: u64 = 2;

/// A word shorter than this is never corrected (too many words are one edit from it).
pub const MIN_WORD_CHARS: usize = 4;

/// The query with its unknown or rare words replaced by the most common word of the
/// vocabulary within one edit (two for words of eight letters or more) that at least three
/// times as many jobs carry; `None` when no word changes. The words come back lower case.
pub fn correct(state: &State, query: &str) -> Option<String> {
    let words = text::words(query);
    let mut changed = false;
    let mut out = Vec::with_capacity(words.len());
    let (mut candidate, mut rows) = (Vec::new(), Vec::new());
    for word in words {
        let typed: Vec<char> = word.chars().collect();
        if typed.len() < MIN_WORD_CHARS || typed.iter().any(|c| c.is_ascii_digit()) {
            out.push(word);
            continue;
        }
        let known = state.vocabulary.count_of(&word);
        let max = if typed.len() >= 8 { 2 } else { 1 };
        let mut best: Option<(u32, usize, &str)> = None;
        let needed = if known == 0 { 1 } else { known.saturating_mul(3) };
        for (other, count) in state.vocabulary.iter_held_by(needed) {
            if other.len().abs_diff(word.len()) > 2 * max {
                continue;
            }
            // A word fewer jobs carry than the best one found so far cannot replace it.
            if best.is_some_and(|(c, ..)| count < c) {
                continue;
            }
            candidate.clear();
            candidate.extend(other.chars());
            let Some(d) = text::distance(&typed, &candidate, max, &mut rows) else { continue };
            if d == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((c, bd, w)) => {
                    (count, std::cmp::Reverse(d), std::cmp::Reverse(other))
                        > (c, std::cmp::Reverse(bd), std::cmp::Reverse(w))
                }
            };
            if better {
                best = Some((count, d, other));
            }
        }
        match best {
            Some((_, _, replacement)) => {
                changed = true;
                out.push(replacement.to_owned());
            }
            None => out.push(word),
        }
    }
    changed.then(|| out.join(" "))
}

/// Whether a correction that finds `corrected` jobs is worth proposing to a search that found
/// `found`: more than twice as many, and at least three more (one more when nothing was found).
pub fn clearly_more(found: u64, corrected: u64) -> bool {
    corrected > 2 * found && corrected >= found + if found == 0 { 1 } else { 3 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::suggestions::store::{Facts, Store};

    fn job(id: &str, title: &str) -> Facts {
        Facts {
            id: id.into(),
            version: 1,
            title: title.into(),
            skills: Vec::new(),
            company: "Acme".into(),
            locations: Vec::new(),
            countries: Vec::new(),
            seniority: None,
            workplace: None,
            salary: None,
            expires_at: None,
        }
    }

    #[test]
    fn rare_and_unknown_words_become_common_close_ones() {
        let store = Store::new(Vec::new());
        let mut jobs: Vec<Facts> =
            (0..6).map(|i| job(&format!("p{i}"), "Python Developer")).collect();
        jobs.push(job("x", "Pyhton Developer"));
        jobs.push(job("k", "Kubernetes Administrator"));
        store.write(jobs, &[]);
        let state = store.read();
        assert_eq!(correct(&state, "pyhton developr").as_deref(), Some("python developer"));
        assert_eq!(correct(&state, "kubernets").as_deref(), Some("kubernetes"));
        assert_eq!(correct(&state, "python developer"), None, "known words stay");
        assert_eq!(correct(&state, "java"), None, "short words stay");
        assert_eq!(correct(&state, "zzzzzz"), None, "nothing close");
    }

    #[test]
    fn only_clearly_more_is_worth_it() {
        assert!(clearly_more(0, 1));
        assert!(!clearly_more(0, 0));
        assert!(clearly_more(1, 4));
        assert!(!clearly_more(1, 3));
        assert!(!clearly_more(2, 4));
        assert!(clearly_more(2, 5));
    }
}
