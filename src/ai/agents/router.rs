//! Which tool a message asks for: by the similarity of its embedding to example phrases of
//! each tool, plus a bonus when it names one of the tool's keywords. Small local models do not
//! choose tools reliably; an embedding model already loaded does it in milliseconds.
//!
//! The examples and keywords are data ([`Route`]); their embeddings are computed once, on the
//! first message (through the async embedder), and kept. A message whose best score is below
//! the threshold goes to no tool (the caller answers from retrieval).
//!
//! A confirmation is not routed by meaning: [`confirmation`] reads a yes or a no from a short
//! closed list of phrases, so a write never runs on a guess.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::ai::providers::embedder::{EmbedError, Embedder, cosine};

/// One tool's row of the routing table.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The tool's name; [`NO_TOOL`] is a row of messages that want none.
    pub tool: &'static str,
    /// Messages that ask for this tool, as users write them.
    pub examples: &'static [&'static str],
    /// Words or phrases that point at this tool (lower case, matched as whole words).
    pub keywords: &'static [&'static str],
    /// Words or phrases of which a message must name one to be routed here (none: any
    /// message may be): a question about "my application" says "my" or "I".
    pub requires: &'static [&'static str],
}

/// Where a message was routed.
#[derive(Debug, Clone, PartialEq)]
pub struct Routed {
    /// The chosen tool; `None` when no tool scored at least the threshold.
    pub tool: Option<&'static str>,
    /// The best tool's score (chosen or not).
    pub confidence: f32,
    /// The best tool whatever the threshold, with its score.
    pub best: Option<(&'static str, f32)>,
    /// The second best tool and its score.
    pub runner_up: Option<(&'static str, f32)>,
}

/// The name of a row of messages that want no tool (questions about using the portal,
/// greetings): a message closest to it routes to no tool, whatever its score.
pub const NO_TOOL: &str = "none";

/// What a keyword adds to a tool's score.
pub const KEYWORD_BONUS: f32 = 0.2;

/// The score a tool needs to be chosen (the best cosine to one of its examples, plus the
/// keyword bonus).
pub const THRESHOLD: f32 = 0.5;

/// Routes messages over a table of tools.
pub struct Router {
    routes: &'static [Route],
    threshold: f32,
    /// Each route's example vectors, in the table's order, once computed.
    vectors: OnceCell<Vec<Vec<Arc<[f32]>>>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("tools", &self.routes.iter().map(|r| r.tool).collect::<Vec<_>>())
            .field("threshold", &self.threshold)
            .field("embedded", &self.vectors.initialized())
            .finish()
    }
}

impl Router {
    pub const fn new(routes: &'static [Route], threshold: f32) -> Self {
        Self { routes, threshold, vectors: OnceCell::const_new() }
    }

    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// The tool `message` asks for, if any scores at least the threshold.
    pub async fn route(&self, embedder: &Embedder, message: &str) -> Result<Routed, EmbedError> {
        let vectors = self.vectors(embedder).await?;
        let query = embedder.embed_one(message).await?;
        Ok(self.score(vectors, &query, message, None))
    }

    /// Routes every example of the table as a message, against the table without that
    /// example: whether the table generalises beyond its own phrases. Gives each tool, the
    /// example, and where it went.
    pub async fn leave_one_out(
        &self,
        embedder: &Embedder,
    ) -> Result<Vec<(&'static str, &'static str, Routed)>, EmbedError> {
        let vectors = self.vectors(embedder).await?;
        let mut out = Vec::new();
        for (r, route) in self.routes.iter().enumerate() {
            for (e, example) in route.examples.iter().enumerate() {
                let routed = self.score(vectors, &vectors[r][e], example, Some((r, e)));
                out.push((route.tool, *example, routed));
            }
        }
        Ok(out)
    }

    /// Computes the examples' vectors now (they are otherwise computed by the first message).
    pub async fn prepare(&self, embedder: &Embedder) -> Result<(), EmbedError> {
        self.vectors(embedder).await.map(|_| ())
    }

    /// The examples' vectors, computed on first use, all in one request to the model.
    async fn vectors(&self, embedder: &Embedder) -> Result<&Vec<Vec<Arc<[f32]>>>, EmbedError> {
        self.vectors
            .get_or_try_init(|| async {
                let texts: Vec<String> = self
                    .routes
                    .iter()
                    .flat_map(|route| route.examples.iter().map(|e| e.to_string()))
                    .collect();
                let mut vectors = embedder.embed(&texts).await?.into_iter();
                Ok::<_, EmbedError>(
                    self.routes
                        .iter()
                        .map(|route| vectors.by_ref().take(route.examples.len()).collect())
                        .collect(),
                )
            })
            .await
    }

    /// Scores `message` (its vector `query`) against every route but, when `leave_out` says
    /// so, one example of one route (to check that a table generalises).
    fn score(
        &self,
        vectors: &[Vec<Arc<[f32]>>],
        query: &[f32],
        message: &str,
        leave_out: Option<(usize, usize)>,
    ) -> Routed {
        let words = words(message);
        let mut scores: Vec<(&'static str, f32)> = self
            .routes
            .iter()
            .zip(vectors)
            .enumerate()
            .filter(|(_, (route, _))| {
                route.requires.is_empty() || route.requires.iter().any(|k| has_phrase(&words, k))
            })
            .map(|(r, (route, examples))| {
                let similarity = examples
                    .iter()
                    .enumerate()
                    .filter(|(e, _)| leave_out != Some((r, *e)))
                    .map(|(_, v)| cosine(query, v))
                    .fold(f32::MIN, f32::max);
                let bonus = if route.keywords.iter().any(|k| has_phrase(&words, k)) {
                    KEYWORD_BONUS
                } else {
                    0.0
                };
                (route.tool, similarity + bonus)
            })
            .collect();
        scores.sort_by(|a, b| b.1.total_cmp(&a.1));
        let best = scores.first().copied();
        let confidence = best.map_or(0.0, |b| b.1);
        Routed {
            tool: best.filter(|b| b.1 >= self.threshold && b.0 != NO_TOOL).map(|b| b.0),
            confidence,
            best,
            runner_up: scores.get(1).copied(),
        }
    }
}

/// The lower-case words of a text (letters, digits and apostrophes).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `phrase` (one or more words) occurs in `words` as whole words.
fn has_phrase(words: &[String], phrase: &str) -> bool {
    let phrase: Vec<String> = self::words(phrase);
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase.as_slice())
}

/// A yes or a no to a question the assistant asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Yes,
    No,
}

const YES: &[&str] = &[
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "do it",
    "go ahead",
    "please do",
    "yes please",
    "yes do it",
    "ok do it",
    "okay do it",
    "sure go ahead",
    "yes go ahead",
    "yes save it",
    "save it",
    "go for it",
    "of course",
    "absolutely",
];
const NO: &[&str] = &[
    "no",
    "n",
    "nope",
    "nah",
    "cancel",
    "don't",
    "dont",
    "do not",
    "no thanks",
    "no thank you",
    "stop",
    "never mind",
    "nevermind",
    "forget it",
    "not now",
    "no don't",
    "no cancel",
];

/// The user's answer to a confirmation: the whole message must be one of a closed list of
/// phrases (case, punctuation and a trailing "please" or "thanks" aside). Anything else is
/// neither: a new question, and the pending write is not run.
pub fn confirmation(message: &str) -> Option<Confirmation> {
    let mut words = words(message);
    while matches!(words.last().map(String::as_str), Some("please" | "thanks" | "thank" | "you"))
        && words.len() > 1
    {
        words.pop();
    }
    let text = words.join(" ");
    if YES.contains(&text.as_str()) {
        Some(Confirmation::Yes)
    } else if NO.contains(&text.as_str()) {
        Some(Confirmation::No)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmations_are_read_from_a_closed_list() {
        for yes in [
            "yes",
            "Yes!",
            "OK",
            "ok, do it",
            "Do it.",
            "yes please",
            "Sure, go ahead",
            "okay thanks",
        ] {
            assert_eq!(confirmation(yes), Some(Confirmation::Yes), "{yes}");
        }
        for no in ["no", "No.", "cancel", "no thanks", "Don't", "never mind", "nope"] {
            assert_eq!(confirmation(no), Some(Confirmation::No), "{no}");
        }
        for neither in [
            "yes but first show me remote jobs",
            "what about no-code jobs",
            "",
            "please",
            "yesterday",
            "is it ok to apply twice",
        ] {
            assert_eq!(confirmation(neither), None, "{neither}");
        }
    }

    #[test]
    fn keywords_match_whole_words_and_phrases() {
        let w = words("Any REMOTE jobs for a cover-letter writer?");
        assert!(has_phrase(&w, "remote"));
        assert!(has_phrase(&w, "cover letter"));
        assert!(!has_phrase(&w, "remo"));
        assert!(!has_phrase(&w, "letter cover"));
    }

    static TABLE: &[Route] = &[
        Route {
            tool: "weather",
            examples: &["will it rain tomorrow", "how warm is it outside"],
            keywords: &["forecast"],
            requires: &[],
        },
        Route {
            tool: "music",
            examples: &["play some jazz", "put on my favourite song"],
            keywords: &["playlist"],
            requires: &["my", "some"],
        },
    ];

    fn unit(v: &[f32]) -> Arc<[f32]> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect::<Vec<_>>().into()
    }

    #[test]
    fn the_best_score_wins_with_its_runner_up_and_a_low_one_routes_nowhere() {
        let router = Router::new(TABLE, 0.6);
        let vectors = vec![
            vec![unit(&[1.0, 0.0, 0.0]), unit(&[0.9, 0.1, 0.0])],
            vec![unit(&[0.0, 1.0, 0.0]), unit(&[0.0, 0.9, 0.1])],
        ];
        let routed = router.score(&vectors, &unit(&[0.8, 0.2, 0.0]), "rain on my trip?", None);
        assert_eq!(routed.tool, Some("weather"));
        assert_eq!(routed.runner_up.map(|r| r.0), Some("music"));
        // Far from both: no tool, though there is a best one.
        let routed = router.score(&vectors, &unit(&[0.0, 0.0, 1.0]), "hello to my friends", None);
        assert_eq!(routed.tool, None);
        assert!(routed.best.is_some() && routed.confidence < 0.6);
        // A keyword lifts its tool over the threshold and over the other.
        let query = unit(&[0.3, 0.4, 0.8]);
        let routed = router.score(&vectors, &query, "my playlist", None);
        assert_eq!(routed.tool, Some("music"), "{routed:?}");
        let expected = cosine(&query, &vectors[1][1]) + KEYWORD_BONUS;
        assert!((routed.confidence - expected).abs() < 1e-6, "{routed:?}");
        // Without the keyword the same message stays below the threshold.
        let routed = router.score(&vectors, &query, "my songs", None);
        assert_eq!(routed.tool, None, "{routed:?}");
        // Closest to a route whose required words it lacks: the other route.
        let routed = router.score(&vectors, &unit(&[0.1, 1.0, 0.0]), "jazz tonight", None);
        assert_eq!(routed.tool, None, "{routed:?}");
        assert_eq!(routed.best.map(|b| b.0), Some("weather"), "{routed:?}");
        let routed = router.score(&vectors, &unit(&[0.1, 1.0, 0.0]), "my jazz tonight", None);
        assert_eq!(routed.tool, Some("music"), "{routed:?}");
    }
}
