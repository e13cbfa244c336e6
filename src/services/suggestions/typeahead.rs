//! Typeahead: the best completions of what was typed, per kind. Completions that begin with it
//! (or have a word that does) come first, then those it begins after one typo (in a word of
//! [`TYPO_MIN_LETTERS`] letters or more, the first letter as typed); each group by how many
//! public jobs carry them.

use std::collections::HashSet;

use super::store::{Kind, State, Terms};
use super::text;
use crate::services::ServiceError;

/// Completions per kind unless asked for another number.
pub const DEFAULT_LIMIT: usize = 5;
/// The most completions per kind.
pub const MAX_LIMIT: usize = 20;
/// The longest text completed, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// A word this long or longer may hold one typo.
pub const TYPO_MIN_LETTERS: usize = 5;

/// The parameters of a typeahead request as they came.
#[derive(Debug, Clone, Default)]
pub struct SuggestParams {
    pub q: Option<String>,
    /// Comma separated kinds; all of them when absent.
    pub kinds: Option<String>,
    pub limit: Option<String>,
}

/// A typeahead request, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggest {
    /// The text as compared ([`text::key`]).
    pub key: String,
    pub kinds: Vec<Kind>,
    pub limit: usize,
}

impl SuggestParams {
    /// Checks every parameter: `q` has a letter or digit and at most [`MAX_QUERY_CHARS`]
    /// characters, `kinds` names known kinds, `limit` is within 1..=[`MAX_LIMIT`].
    pub fn parse(self) -> Result<Suggest, ServiceError> {
        let q = self.q.unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::validation(format!(
                "q may have at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let key = text::key(&q);
        if key.is_empty() {
            return Err(ServiceError::validation("q must have a letter or a digit"));
        }
        let kinds = match self.kinds.as_deref().map(str::trim) {
            None | Some("") => Kind::ALL.to_vec(),
            Some(list) => {
                let mut kinds = Vec::new();
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let kind = Kind::parse(name).ok_or_else(|| {
                        ServiceError::validation(format!(
                            "kinds: {name:?} is not one of title, skill, company, location"
                        ))
                    })?;
                    if !kinds.contains(&kind) {
                        kinds.push(kind);
                    }
                }
                if kinds.is_empty() {
                    return Err(ServiceError::validation("kinds must name at least one kind"));
                }
                kinds
            }
        };
        let limit = match self.limit.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(raw) => {
                raw.parse::<usize>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(
                    || {
                        ServiceError::validation(format!(
                            "limit must be a whole number from 1 to {MAX_LIMIT}"
                        ))
                    },
                )?
            }
        };
        Ok(Suggest { key, kinds, limit })
    }
}

/// One completion.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// As most jobs write it.
    pub text: String,
    /// Public jobs that carry it.
    pub count: u32,
    /// Reached only by allowing a typo.
    pub corrected: bool,
}

/// The completions of `key` among `terms`, at most `limit`.
pub fn complete(terms: &Terms, key: &str, limit: usize) -> Vec<Completion> {
    let exact: HashSet<&str> = terms.starting_with(key).map(|(_, full)| full).collect();
    let typed: Vec<char> = key.chars().collect();
    let mut corrected: HashSet<&str> = HashSet::new();
    // Typo matches come after every prefix match: none shows when those fill the answer.
    let may_typo =
        exact.len() < limit && key.split(' ').any(|w| w.chars().count() >= TYPO_MIN_LETTERS);
    if may_typo && let Some(first) = typed.first() {
        let mut chars = Vec::new();
        for (start, full) in terms.starting_with(&first.to_string()) {
            if exact.contains(full) || corrected.contains(full) {
                continue;
            }
            chars.clear();
            chars.extend(start.chars().take(typed.len() + 1));
            if let Some(Some(at)) = text::prefix_edit(&typed, &chars)
                && text::word_len_at(&typed, at) >= TYPO_MIN_LETTERS
            {
                corrected.insert(full);
            }
        }
    }
    let mut found = ranked(terms, exact, false, limit);
    found.extend(ranked(terms, corrected, true, limit - found.len()));
    found
}

/// The first `limit` completions of `keys`, the most jobs first (then the shorter, then alphabetically).
fn ranked(terms: &Terms, keys: HashSet<&str>, corrected: bool, limit: usize) -> Vec<Completion> {
    let mut found: Vec<(&str, u32)> =
        keys.into_iter().filter_map(|k| terms.by_key.get(k).map(|t| (k, t.count))).collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.len().cmp(&b.0.len())).then(a.0.cmp(b.0)));
    found
        .into_iter()
        .take(limit)
        .map(|(k, count)| Completion {
            text: terms.display(&terms.by_key[k]).to_owned(),
            count,
            corrected,
        })
        .collect()
}

/// The completions of a checked request, per kind asked for, in the order asked.
pub fn suggest(state: &State, request: &Suggest) -> Vec<(Kind, Vec<Completion>)> {
    request
        .kinds
        .iter()
        .map(|kind| (*kind, complete(state.terms(*kind), &request.key, request.limit)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::suggestions::store::{Facts, Store};

    fn job(id: &str, title: &str, skills: &[&str]) -> Facts {
        Facts {
            id: id.into(),
            version: 1,
            title: text::title_form(title),
            skills: skills.iter().map(|s| s.to_string()).collect(),
            company: "Acme".into(),
            locations: Vec::new(),
            countries: Vec::new(),
            seniority: None,
            workplace: None,
            salary: None,
            expires_at: None,
        }
    }

    fn texts(found: &[Completion]) -> Vec<&str> {
        found.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn prefixes_first_by_count_then_one_typo() {
        let store = Store::new(vec!["python", "pytorch"]);
        store.write(
            vec![
                job("1", "Python Developer", &["python"]),
                job("2", "Python Developer", &["python"]),
                job("3", "Sr. Python Engineer", &["python"]),
                job("4", "Senior Python Engineer", &[]),
                job("5", "Senior Python Engineer", &[]),
                job("6", "Backend Developer", &[]),
            ],
            &[],
        );
        let state = store.read();
        let titles = state.terms(Kind::Title);
        assert_eq!(
            texts(&complete(titles, "pyth", 5)),
            ["Senior Python Engineer", "Python Developer"],
            "a word start matches; ranked by count"
        );
        assert_eq!(texts(&complete(titles, "dev", 5)), ["Python Developer", "Backend Developer"]);
        let typo = complete(titles, "pyhton", 5);
        assert_eq!(texts(&typo), ["Senior Python Engineer", "Python Developer"]);
        assert!(typo.iter().all(|c| c.corrected));
        assert!(complete(titles, "pyhn", 5).is_empty(), "no typo in a short word");
        assert!(complete(titles, "ypthon", 5).is_empty(), "the first letter as typed");
        let skills = complete(state.terms(Kind::Skill), "py", 5);
        assert_eq!(
            skills.iter().map(|c| (c.text.as_str(), c.count)).collect::<Vec<_>>(),
            [("python", 3), ("pytorch", 0)]
        );
    }

    #[test]
    fn every_bad_parameter_is_refused() {
        let parse = |q: &str, kinds: Option<&str>, limit: Option<&str>| {
            SuggestParams {
                q: Some(q.into()),
                kinds: kinds.map(Into::into),
                limit: limit.map(Into::into),
            }
            .parse()
        };
        let ok = parse(" Sr. Py", Some("skill, title,skill"), Some("3")).unwrap();
        assert_eq!(
            ok,
            Suggest { key: "senior py".into(), kinds: vec![Kind::Skill, Kind::Title], limit: 3 }
        );
        assert_eq!(parse("py", None, None).unwrap().kinds, Kind::ALL);
        for (q, kinds, limit) in [
            ("", None, None),
            ("--", None, None),
            ("py", Some("salary"), None),
            ("py", Some(","), None),
            ("py", None, Some("0")),
            ("py", None, Some("21")),
            ("py", None, Some("x")),
        ] {
            assert!(
                matches!(parse(q, kinds, limit), Err(ServiceError::Validation(_))),
                "{q} {kinds:?} {limit:?}"
            );
        }
        assert!(parse(&"a".repeat(MAX_QUERY_CHARS + 1), None, None).is_err());
    }
}
