//! `search_jobs`: the public job search with every filter of `GET /jobs`.
//!
//! Its arguments come from the model as constrained JSON, then are checked twice in code: by
//! serde into [`SearchArgs`] (closed sets are enums) and against the user's own words
//! ([`SearchArgs::grounded`]): a filter whose value the message does not mention is dropped,
//! so a small model cannot narrow a search with a value it made up. What the message says in
//! so many words (`remote`, `senior`, `full-time`, `newest`) is read by code as well.

use futures_util::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};

use super::references::{naming_words, words};
use super::{Turn, job_source};
use crate::ai::agents::arguments::{nullable_enum, nullable_string};
use crate::ai::agents::tool_loop::{Tool, ToolOutput};
use crate::models::conversation::CitationKind;
use crate::models::job::{EmploymentType, SalaryPeriod, Seniority, SortBy, Workplace};
use crate::services::ServiceError;
use crate::services::search::{self, SearchParams};

pub const NAME: &str = "search_jobs";

/// What the search says when no open job matches.
pub const NO_MATCH: &str = "No open job matches this search.";

/// The most jobs one search shows in an answer.
pub const SHOWN: u32 = 5;

/// The arguments of a job search; every one optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchArgs {
    /// Words to look for (title, skills, description).
    #[serde(default)]
    pub query: Option<String>,
    /// A city or region.
    #[serde(default)]
    pub location: Option<String>,
    /// A two-letter country code.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub workplace: Option<Workplace>,
    #[serde(default)]
    pub employment_type: Option<EmploymentType>,
    #[serde(default)]
    pub seniority: Option<Seniority>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub skills: Option<Vec<String>>,
    /// A company's slug.
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub salary_min: Option<f64>,
    #[serde(default)]
    pub salary_currency: Option<String>,
    #[serde(default)]
    pub salary_period: Option<SalaryPeriod>,
    #[serde(default)]
    pub posted_within_days: Option<u32>,
    #[serde(default)]
    pub sort: Option<SortBy>,
}

/// The JSON schema the model fills (every key present, null when the message does not say).
pub fn schema() -> Value {
    let names = |all: &[&'static str]| nullable_enum(all.iter().copied());
    json!({
        "type": "object",
        "properties": {
            "query": nullable_string(80),
            "location": nullable_string(60),
            "country": {"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
            "workplace": names(&Workplace::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            "employment_type": names(&EmploymentType::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            "seniority": names(&Seniority::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            "category": nullable_string(40),
            "skills": {"type": ["array", "null"], "items": {"type": "string", "minLength": 1, "maxLength": 30}, "maxItems": 5},
            "company": nullable_string(60),
            "salary_min": {"type": ["integer", "null"], "minimum": 0, "maximum": 10_000_000},
            "salary_currency": {"type": ["string", "null"], "pattern": "^[A-Z]{3}$"},
            "salary_period": names(&SalaryPeriod::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            "posted_within_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 365},
            "sort": names(&SortBy::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
        },
        "required": [
            "query", "location", "country", "workplace", "employment_type", "seniority",
            "category", "skills", "company", "salary_min", "salary_currency", "salary_period",
            "posted_within_days", "sort"
        ],
        "additionalProperties": false
    })
}

/// Whether `value` (its words) occurs in `message`'s words.
fn mentioned(message: &[String], value: &str) -> bool {
    let wanted = words(value);
    !wanted.is_empty() && message.windows(wanted.len()).any(|w| w == wanted.as_slice())
}

/// Whether any of `spellings` occurs in the message's words.
fn says(message: &[String], spellings: &[&str]) -> bool {
    spellings.iter().any(|s| mentioned(message, s))
}

impl SearchArgs {
    /// Keeps only what `message` says: each filter whose value it does not mention is
    /// dropped; the closed sets it names in so many words are set; a missing query becomes the
    /// message's naming words.
    pub fn grounded(mut self, message: &str) -> Self {
        let said = words(message);
        // Kept when the message says it and it names something (not "jobs", not "remote").
        let names = |v: &str| {
            naming_words(v)
                .iter()
                .any(|w| !SEARCH_WORDS.contains(&w.as_str()) && !is_filter_word(w))
        };
        let keep = |v: Option<String>| v.filter(|v| mentioned(&said, v) && names(v));
        // A place is where the message puts one: after "in", "near", "around", "from" ("remote
        // Rust jobs" names no place called Rust).
        let placed = |v: &String| {
            let wanted = words(v);
            said.windows(wanted.len() + 1).any(|w| {
                matches!(w[0].as_str(), "in" | "near" | "around" | "from") && w[1..] == wanted[..]
            })
        };
        self.location = keep(self.location).filter(placed).or_else(|| place_named(message));
        self.category = keep(self.category);
        self.company = keep(self.company);
        // A company is no place ("the steward job at Lanternfish Analytics").
        if self
            .location
            .as_deref()
            .zip(self.company.as_deref())
            .is_some_and(|(l, c)| l.eq_ignore_ascii_case(c))
        {
            self.location = None;
        }
        self.country = self.country.filter(|c| said.iter().any(|w| w.eq_ignore_ascii_case(c)));
        self.skills = self
            .skills
            .map(|s| s.into_iter().filter(|s| mentioned(&said, s) && names(s)).collect::<Vec<_>>())
            .filter(|s| !s.is_empty());
        self.workplace = [
            (Workplace::Remote, &["remote", "remotely", "from home", "wfh"][..]),
            (Workplace::Hybrid, &["hybrid"][..]),
            (
                Workplace::Onsite,
                &["onsite", "on site", "on-site", "in office", "in the office"][..],
            ),
        ]
        .into_iter()
        .find(|(_, spellings)| says(&said, spellings))
        .map(|(w, _)| w);
        self.employment_type = [
            (EmploymentType::FullTime, &["full time", "full-time", "fulltime"][..]),
            (EmploymentType::PartTime, &["part time", "part-time", "parttime"][..]),
            (EmploymentType::Contract, &["contract", "contractor", "freelance"][..]),
            (EmploymentType::Internship, &["internship", "internships", "intern", "interns"][..]),
            (EmploymentType::Temporary, &["temporary", "temp"][..]),
        ]
        .into_iter()
        .find(|(_, spellings)| says(&said, spellings))
        .map(|(t, _)| t);
        // Words of titles as often as of levels: "Account Executive", "Tech Lead".
        let title_words = title_words(&said);
        self.seniority = Seniority::ALL
            .iter()
            .copied()
            .filter(|s| *s != Seniority::Intern && !title_words.contains(&s.as_str()))
            .find(|s| {
                mentioned(&said, s.as_str())
                    || (*s == Seniority::Senior && says(&said, &["sr"]))
                    || (*s == Seniority::Junior && says(&said, &["jr", "entry level", "graduate"]))
            })
            .or(self.seniority.filter(|s| mentioned(&said, s.as_str())));
        let amount = |n: f64| {
            let digits = format!("{n:.0}");
            said.iter().any(|w| {
                w.replace([',', '.'], "") == digits
                    || w.trim_end_matches('k') == format!("{:.0}", n / 1000.0) && w.ends_with('k')
            })
        };
        self.salary_min = self.salary_min.filter(|&n| amount(n));
        self.salary_currency = self
            .salary_currency
            .filter(|c| {
                self.salary_min.is_some()
                    && (said.iter().any(|w| w.eq_ignore_ascii_case(c))
                        || currency_sign(message) == Some(c.as_str()))
            })
            .or_else(|| self.salary_min.and(currency_sign(message).map(str::to_owned)));
        if self.salary_currency.is_none() {
            self.salary_min = None;
        }
        self.salary_period = self
            .salary_period
            .filter(|p| self.salary_min.is_some() && mentioned(&said, p.as_str()));
        self.posted_within_days = if says(&said, &["today", "last 24 hours"]) {
            Some(1)
        } else if says(&said, &["this week", "last week", "past week", "last 7 days"]) {
            Some(7)
        } else if says(&said, &["this month", "last month", "past month", "last 30 days"]) {
            Some(30)
        } else {
            self.posted_within_days.filter(|d| said.iter().any(|w| w == &d.to_string()))
        };
        self.sort = if says(&said, &["newest", "latest", "most recent", "recent"]) {
            Some(SortBy::Newest)
        } else if says(
            &said,
            &["best paid", "highest paid", "highest salary", "best paying", "top salary"],
        ) {
            Some(SortBy::Salary)
        } else {
            None
        };
        // What a filter already says is not searched for as words too.
        let filtered: Vec<String> = [
            self.location.as_deref(),
            self.company.as_deref(),
            self.category.as_deref(),
            self.country.as_deref(),
        ]
        .into_iter()
        .flatten()
        .flat_map(words)
        .chain(SEARCH_WORDS.iter().map(|w| w.to_string()))
        .collect();
        let searchable = |words: Vec<String>| -> Vec<String> {
            words
                .into_iter()
                .filter(|w| {
                    title_words.contains(&w.as_str())
                        || (!filtered.contains(w) && !is_filter_word(w))
                })
                .collect()
        };
        let from_model: Vec<String> = self
            .query
            .as_deref()
            .map(naming_words)
            .unwrap_or_default()
            .into_iter()
            .filter(|w| said.contains(w))
            .collect();
        // The message's naming words, with any other word of it the model chose: the search
        // ranks by every word (a job matching more of them first), and the model sometimes
        // keeps only some ("data" of "data engineer jobs") or only a filter's ("remote").
        let mut query_words = naming_words(message);
        for word in from_model {
            if !query_words.contains(&word) {
                query_words.push(word);
            }
        }
        let query = searchable(query_words);
        self.query = (!query.is_empty()).then(|| query.join(" "));
        self
    }

    /// The query, skills and category as the words of one search (their naming words, less
    /// those that ask for a search): skills and a category are how the model heard the
    /// message's words ("data engineer jobs" as a category), and the words may match where
    /// the filters match nothing.
    pub fn as_words(&self) -> Option<String> {
        let mut out: Vec<String> = Vec::new();
        let heard = self
            .query
            .iter()
            .chain(self.skills.iter().flatten())
            .chain(self.category.iter())
            .flat_map(|text| naming_words(text));
        for word in heard {
            if !SEARCH_WORDS.contains(&word.as_str()) && !out.contains(&word) {
                out.push(word);
            }
        }
        match (out.is_empty(), &self.company) {
            (true, company) => company.clone(),
            (false, Some(company)) => Some(format!("{} {company}", out.join(" "))),
            (false, None) => Some(out.join(" ")),
        }
    }

    /// The search the API would run for these arguments (its page: the first [`SHOWN`]).
    pub fn params(&self) -> SearchParams {
        let list = |v: &Option<String>| v.iter().cloned().collect::<Vec<_>>();
        // The company as words of the search (its name is indexed), not as a filter by slug: a
        // name as people write it is not the portal's slug of it.
        let q = match (&self.query, &self.company) {
            (Some(q), Some(company)) => Some(format!("{q} {company}")),
            (q, company) => q.clone().or_else(|| company.clone()),
        };
        SearchParams {
            q,
            location: self.location.clone(),
            countries: list(&self.country),
            workplaces: self.workplace.iter().map(|w| w.as_str().to_owned()).collect(),
            employment_types: self.employment_type.iter().map(|t| t.as_str().to_owned()).collect(),
            seniorities: self.seniority.iter().map(|s| s.as_str().to_owned()).collect(),
            categories: list(&self.category),
            skills: self.skills.clone().unwrap_or_default(),
            companies: Vec::new(),
            salary_min: self.salary_min,
            salary_currency: self.salary_currency.clone(),
            salary_period: self.salary_period.map(|p| p.as_str().to_owned()),
            posted_within_days: self.posted_within_days,
            sort: self.sort.map(|s| s.as_str().to_owned()),
            limit: Some(SHOWN),
            offset: None,
            facets: Some(false),
            mode: None,
        }
    }

    /// The arguments as stored with the step: only what is set.
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                out.insert(k.to_owned(), v);
            }
        };
        put("query", json!(self.query));
        put("location", json!(self.location));
        put("country", json!(self.country));
        put("workplace", json!(self.workplace));
        put("employment_type", json!(self.employment_type));
        put("seniority", json!(self.seniority));
        put("category", json!(self.category));
        put("skills", json!(self.skills));
        put("company", json!(self.company));
        put("salary_min", json!(self.salary_min));
        put("salary_currency", json!(self.salary_currency));
        put("salary_period", json!(self.salary_period));
        put("posted_within_days", json!(self.posted_within_days));
        put("sort", json!(self.sort));
        Value::Object(out)
    }
}

/// Words that ask for a search rather than say what to search for.
const SEARCH_WORDS: &[&str] = &[
    "level",
    "levels",
    "ask",
    "asks",
    "asking",
    "need",
    "needs",
    "skill",
    "roles",
    "anyone",
    "anywhere",
    "currently",
    "find",
    "search",
    "looking",
    "look",
    "openings",
    "opening",
    "positions",
    "hiring",
    "vacancies",
    "vacancy",
    "work",
    "offers",
    "available",
    "open",
    "new",
    "companies",
    "company",
    "who",
    "week",
    "month",
    "today",
    "posted",
    "recent",
    "newest",
    "latest",
    "paying",
    "pay",
    "salary",
    "over",
    "above",
    "least",
    "per",
    "year",
    "euros",
    "eur",
    "usd",
    "dollars",
    "best",
    "highest",
    "paid",
];

/// The level words of `said` that name a title instead ("account executive", "tech lead"):
/// "executive" unless it says "executive level" or "c-level"; "lead" unless another word
/// follows it ("lead designer").
fn title_words(said: &[String]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if said.iter().any(|w| w == "executive")
        && !says(said, &["executive level", "executive-level", "c-level", "c level"])
    {
        out.push("executive");
    }
    let lead_as_level = said.windows(2).any(|w| {
        w[0] == "lead" && !STOP_AFTER_LEVEL.contains(&w[1].as_str()) && !is_filter_word(&w[1])
    });
    if said.iter().any(|w| w == "lead") && !lead_as_level {
        out.push("lead");
    }
    out
}

/// Words after "lead" that leave it a title of its own ("tech lead jobs", "lead in Berlin").
const STOP_AFTER_LEVEL: &[&str] =
    &["jobs", "job", "roles", "role", "positions", "position", "in", "at", "for", "openings"];

/// The place a message names after "in", "near" or "around" in capitalised words ("jobs in
/// New York", "in Dublin?"), when a search's location is not otherwise given.
fn place_named(message: &str) -> Option<String> {
    let tokens: Vec<&str> = message.split_whitespace().collect();
    let at = tokens.iter().rposition(|t| matches!(*t, "in" | "near" | "around"))?;
    // Up to three capitalised words, not past the end of their sentence or clause ("in
    // Seattle. Any Program Manager openings there?").
    let mut place: Vec<&str> = Vec::new();
    for raw in tokens[at + 1..].iter().take(3) {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        if !word.starts_with(char::is_uppercase) {
            break;
        }
        place.push(word);
        if raw.ends_with(['.', '?', '!', ',', ';', ':']) {
            break;
        }
    }
    (!place.is_empty()).then(|| place.join(" "))
}

/// Whether a word is one a filter reads (so not a search word).
fn is_filter_word(word: &str) -> bool {
    matches!(
        word,
        "remote"
            | "remotely"
            | "hybrid"
            | "onsite"
            | "full"
            | "time"
            | "full-time"
            | "part"
            | "part-time"
            | "contract"
            | "freelance"
            | "internship"
            | "internships"
            | "temporary"
            | "senior"
            | "junior"
            | "mid"
            | "lead"
            | "executive"
            | "sr"
            | "jr"
            | "intern"
    ) || word.trim_end_matches('k').chars().all(|c| c.is_ascii_digit() || c == ',' || c == '.')
}

/// The currency a sign in the message names (€, $, £).
fn currency_sign(message: &str) -> Option<&'static str> {
    if message.contains('€') {
        Some("EUR")
    } else if message.contains('£') {
        Some("GBP")
    } else if message.contains('$') {
        Some("USD")
    } else {
        None
    }
}

/// The least cosine between the search's words and a job for a job found by meaning alone:
/// the assistant lists what answers the question, not the nearest of whatever there is.
pub const MIN_MEANING: f32 = 0.4;

/// The jobs of the search and how many match: the keyword search with every filter; when no
/// job has the words, the jobs closest in meaning under the same filters, if close enough.
async fn find(
    turn: &Turn<'_>,
    args: &SearchArgs,
) -> Result<
    (Vec<std::sync::Arc<(crate::models::job::Job, crate::models::company::Company)>>, u64),
    ServiceError,
> {
    let mut params = args.params();
    params.mode = Some("keyword".into());
    let mut found = search::search(turn.ctx, params.clone()).await?;
    if found.total == 0 && (args.skills.is_some() || args.category.is_some()) {
        params.skills = Vec::new();
        params.categories = Vec::new();
        params.q = args.as_words();
        found = search::search(turn.ctx, params.clone()).await?;
    }
    if found.total == 0
        && let Some(q) = params.q.clone()
    {
        let named = naming_part(turn, &q).await?;
        if !named.is_empty() && named != q {
            params.q = Some(named);
            found = search::search(turn.ctx, params.clone()).await?;
        }
    }
    let (Some(text), Some(embedder), 0) = (params.q.clone(), turn.ctx.ai.embedder(), found.total)
    else {
        return Ok((found.jobs, found.total));
    };
    params.mode = Some("semantic".into());
    let by_meaning = search::search(turn.ctx, params).await?;
    let query = embedder.embed_one(&text).await?;
    let close: Vec<_> =
        by_meaning
            .jobs
            .into_iter()
            .filter(|j| {
                turn.ctx.ai.jobs.vector_of(&j.0.id).is_some_and(|v| {
                    crate::ai::providers::embedder::cosine(&query, &v) >= MIN_MEANING
                })
            })
            .collect();
    let total = close.len() as u64;
    Ok((close, total))
}

/// The words of `q` that name jobs: each one some job carries in its title, skills, company or
/// places, or that no job uses at all (a role the portal does not have: the search must find
/// nothing). Left out are the words only descriptions use ("roles based in London", "good at
/// modeling", "hiring right now"): prose, which would make the search want every word.
async fn naming_part(turn: &Turn<'_>, q: &str) -> Result<String, ServiceError> {
    let mut kept = Vec::new();
    for word in q.split_whitespace() {
        let keep = turn.ctx.suggestions.names_jobs(word) || {
            let alone = SearchParams { q: Some(word.to_owned()), ..SearchParams::default() };
            search::count(turn.ctx, alone.parse()?).await? == 0
        };
        if keep {
            kept.push(word);
        }
    }
    Ok(kept.join(" "))
}

pub struct SearchJobs;

impl<'t> Tool<Turn<'t>, CitationKind, ServiceError> for SearchJobs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn description(&self) -> &'static str {
        "Search the open jobs by words and filters (location, country, workplace, employment type, seniority, category, skills, company, minimum salary, posted within days, sort)."
    }

    fn schema(&self) -> Value {
        schema()
    }

    fn run<'a>(
        &'a self,
        turn: &'a Turn<'t>,
        arguments: Value,
    ) -> BoxFuture<'a, Result<ToolOutput<CitationKind>, ServiceError>> {
        Box::pin(async move {
            let args: SearchArgs = serde_json::from_value(arguments)
                .map_err(|e| ServiceError::validation(format!("search arguments: {e}")))?;
            let (jobs, total) = match find(turn, &args).await {
                Ok(found) => found,
                Err(err) => return super::refusal(err),
            };
            let items: Vec<_> = jobs.iter().map(|j| job_source(&j.0, &j.1, true)).collect();
            let summary = match total {
                0 => NO_MATCH.to_owned(),
                1 => "1 open job matches.".to_owned(),
                n => format!("{n} open jobs match; the first {} are listed.", items.len()),
            };
            Ok(ToolOutput::new(summary, items))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made_up() -> SearchArgs {
        SearchArgs {
            query: Some("rust developer".into()),
            location: Some("Paris".into()),
            country: Some("FR".into()),
            workplace: Some(Workplace::Onsite),
            employment_type: Some(EmploymentType::Contract),
            seniority: Some(Seniority::Lead),
            category: Some("engineering".into()),
            skills: Some(vec!["go".into(), "rust".into()]),
            company: Some("acme".into()),
            salary_min: Some(50_000.0),
            salary_currency: Some("USD".into()),
            salary_period: Some(SalaryPeriod::Hour),
            posted_within_days: Some(3),
            sort: Some(SortBy::Salary),
        }
    }

    #[test]
    fn filters_the_message_does_not_mention_are_dropped() {
        let args = made_up().grounded("find me remote rust jobs");
        assert_eq!(
            args,
            SearchArgs {
                query: Some("rust".into()),
                workplace: Some(Workplace::Remote),
                skills: Some(vec!["rust".into()]),
                ..SearchArgs::default()
            }
        );
    }

    #[test]
    fn the_query_has_every_naming_word_of_the_message_whatever_the_model_kept() {
        let args = SearchArgs {
            query: Some("remote jobs".into()),
            workplace: Some(Workplace::Remote),
            ..SearchArgs::default()
        }
        .grounded("find remote rust jobs");
        assert_eq!(args.query.as_deref(), Some("rust"));
        assert_eq!(args.workplace, Some(Workplace::Remote));
        let args = SearchArgs { query: Some("data".into()), ..SearchArgs::default() }
            .grounded("data engineer jobs");
        assert_eq!(args.query.as_deref(), Some("data engineer"));
    }

    #[test]
    fn a_category_that_swallowed_the_message_is_searched_as_its_words() {
        // What SmolLM2 filled for "data engineer jobs": the whole message as the category, so
        // the query kept no word and the category matched no job.
        let args =
            SearchArgs { category: Some("data engineer jobs".into()), ..SearchArgs::default() }
                .grounded("data engineer jobs");
        assert_eq!(args.query, None);
        assert_eq!(args.as_words().as_deref(), Some("data engineer"));
        let args = SearchArgs {
            query: Some("rust".into()),
            skills: Some(vec!["Rust".into(), "tokio".into()]),
            category: Some("engineering jobs".into()),
            company: Some("Acme".into()),
            ..SearchArgs::default()
        };
        assert_eq!(args.as_words().as_deref(), Some("rust tokio engineering Acme"));
    }

    #[test]
    fn a_place_after_in_is_the_location_and_title_words_are_no_levels() {
        let args =
            SearchArgs::default().grounded("Are there any Account Executive jobs in New York?");
        assert_eq!(args.location.as_deref(), Some("New York"));
        assert_eq!(args.seniority, None);
        assert_eq!(args.query.as_deref(), Some("account executive"));
        let args = SearchArgs::default()
            .grounded("I live in Seattle. Any Program Manager openings there?");
        assert_eq!(args.location.as_deref(), Some("Seattle"), "a place ends with its sentence");
        assert!(args.query.as_deref().is_some_and(|q| q.ends_with("program manager")), "{args:?}");
        let args = SearchArgs::default().grounded("Any tech lead jobs in Dublin");
        assert_eq!((args.location.as_deref(), args.seniority), (Some("Dublin"), None));
        assert_eq!(args.query.as_deref(), Some("tech lead"));
        let args = SearchArgs::default().grounded("lead designer roles, executive level too");
        assert_eq!(args.seniority, Some(Seniority::Lead));
        assert_eq!(args.location, None);
        let args = SearchArgs {
            location: Some("Lanternfish Analytics".into()),
            company: Some("Lanternfish Analytics".into()),
            ..SearchArgs::default()
        }
        .grounded("What does the Records Data Steward job at Lanternfish Analytics involve?");
        assert_eq!((args.location, args.company.as_deref()), (None, Some("Lanternfish Analytics")));
        let args = SearchArgs::default().grounded("data jobs in berlin");
        assert_eq!(args.location, None, "a place is written with a capital");
        let args = SearchArgs { location: Some("berlin".into()), ..SearchArgs::default() }
            .grounded("data jobs in berlin");
        assert_eq!(args.location.as_deref(), Some("berlin"), "or after a place word");
        let args = SearchArgs { location: Some("Rust".into()), ..SearchArgs::default() }
            .grounded("Are there any remote Rust jobs?");
        assert_eq!((args.location, args.query.as_deref()), (None, Some("rust")), "no place word");
    }

    #[test]
    fn what_the_message_says_is_kept_or_read() {
        let message = "Senior full-time backend jobs at acme in Berlin, DE paying over 80000 EUR, newest first, posted this week";
        let args = SearchArgs {
            location: Some("Berlin".into()),
            country: Some("DE".into()),
            company: Some("acme".into()),
            salary_min: Some(80_000.0),
            salary_currency: Some("EUR".into()),
            ..SearchArgs::default()
        }
        .grounded(message);
        assert_eq!(args.location.as_deref(), Some("Berlin"));
        assert_eq!(args.country.as_deref(), Some("DE"));
        assert_eq!(args.company.as_deref(), Some("acme"));
        assert_eq!(args.seniority, Some(Seniority::Senior));
        assert_eq!(args.employment_type, Some(EmploymentType::FullTime));
        assert_eq!(
            (args.salary_min, args.salary_currency.as_deref()),
            (Some(80_000.0), Some("EUR"))
        );
        assert_eq!(args.sort, Some(SortBy::Newest));
        assert_eq!(args.posted_within_days, Some(7));
        assert_eq!(args.query.as_deref(), Some("backend"));
        let params = args.params();
        assert_eq!(params.q.as_deref(), Some("backend acme"), "the company is searched by name");
        assert!(params.companies.is_empty());
        assert!(params.clone().parse().is_ok(), "{params:?}");
    }

    #[test]
    fn an_amount_without_a_currency_is_no_filter() {
        let args = SearchArgs { salary_min: Some(60_000.0), ..SearchArgs::default() }
            .grounded("jobs paying 60000");
        assert_eq!(args.salary_min, None);
        let args = SearchArgs { salary_min: Some(60_000.0), ..SearchArgs::default() }
            .grounded("jobs paying 60k €");
        assert_eq!(
            (args.salary_min, args.salary_currency.as_deref()),
            (Some(60_000.0), Some("EUR"))
        );
    }

    #[test]
    fn the_schema_names_every_closed_set_and_every_filter_of_the_search() {
        let schema = schema();
        assert_eq!(
            schema["properties"]["workplace"]["enum"],
            json!(["onsite", "hybrid", "remote", null])
        );
        assert_eq!(
            schema["required"].as_array().unwrap().len(),
            schema["properties"].as_object().unwrap().len()
        );
        // serde reads what the schema allows.
        let filled = json!({"query": "x", "location": null, "country": "DE", "workplace": "remote", "employment_type": "full_time", "seniority": null, "category": null, "skills": ["rust"], "company": null, "salary_min": 1000, "salary_currency": "EUR", "salary_period": "month", "posted_within_days": 7, "sort": "newest"});
        let args: SearchArgs = crate::ai::agents::arguments::validate(filled).unwrap();
        assert_eq!(args.salary_period, Some(SalaryPeriod::Month));
    }
}
