//! The word analysis of job text, the same at index and query time: words and the tech names
//! punctuation is part of, lower-cased, tech names made canonical, English stems.

use std::collections::HashMap;

use tantivy::tokenizer::{
    LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The name the analyzer is registered under, and the text fields' tokenizer.
pub(super) const ANALYZER: &str = "job_text";

/// Canonical names for tokens people write in several ways.
#[derive(Clone)]
struct TechAliases;

impl TokenFilter for TechAliases {
    type Tokenizer<T: Tokenizer> = TechAliasesFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> TechAliasesFilter<T> {
        TechAliasesFilter(tokenizer)
    }
}

#[derive(Clone)]
struct TechAliasesFilter<T>(T);

impl<T: Tokenizer> Tokenizer for TechAliasesFilter<T> {
    type TokenStream<'a> = TechAliasesStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        TechAliasesStream(self.0.token_stream(text))
    }
}

struct TechAliasesStream<S>(S);

impl<S: TokenStream> TokenStream for TechAliasesStream<S> {
    fn advance(&mut self) -> bool {
        if !self.0.advance() {
            return false;
        }
        let text = &mut self.0.token_mut().text;
        let canonical = match text.as_str() {
            "c++" => "cpp",
            "c#" => "csharp",
            "f#" => "fsharp",
            ".net" => "dotnet",
            "node.js" | "nodejs" => "nodejs",
            "vue.js" | "vuejs" => "vue",
            "react.js" | "reactjs" => "react",
            "golang" => "go",
            _ => return true,
        };
        text.clear();
        text.push_str(canonical);
        true
    }
    fn token(&self) -> &Token {
        self.0.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}

/// Splits text into runs of letters and digits, keeping the few tech names punctuation is part
/// of: "c++", "c#", "f#", ".net", and a word followed by ".js" ("node.js"). Hand-written because
/// a regex with Unicode classes spends most of an import building its lazy DFA.
#[derive(Clone, Default)]
struct WordTokenizer {
    token: Token,
}

struct WordStream<'a> {
    text: &'a str,
    at: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream { text, at: 0, token: &mut self.token }
    }
}

/// A character of a word (what `\w` means, for the end-of-word checks).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `rest` starts with `word` (ASCII, any case) and no word character follows it.
fn starts_word(rest: &str, word: &str) -> bool {
    rest.len() >= word.len()
        && rest.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
        && !rest[word.len()..].chars().next().is_some_and(is_word)
}

impl WordStream<'_> {
    /// The length of the token starting at `rest`, if one does.
    fn token_at(rest: &str) -> Option<usize> {
        let bytes = rest.as_bytes();
        let first = rest.chars().next()?;
        if matches!(first, 'c' | 'C') && bytes.get(1..3) == Some(b"++") {
            return Some(3);
        }
        if matches!(first, 'c' | 'C' | 'f' | 'F') && bytes.get(1) == Some(&b'#') {
            return Some(2);
        }
        if first == '.' && starts_word(&rest[1..], "net") {
            return Some(4);
        }
        if !first.is_alphanumeric() {
            return None;
        }
        let end =
            rest.char_indices().find(|(_, c)| !c.is_alphanumeric()).map_or(rest.len(), |(i, _)| i);
        if rest[end..].starts_with('.') && starts_word(&rest[end + 1..], "js") {
            return Some(end + 3);
        }
        Some(end)
    }
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while self.at < self.text.len() {
            let rest = &self.text[self.at..];
            if let Some(len) = Self::token_at(rest) {
                self.token.offset_from = self.at;
                self.token.offset_to = self.at + len;
                self.token.text.push_str(&rest[..len]);
                self.at += len;
                return true;
            }
            self.at += rest.chars().next().map_or(1, char::len_utf8);
        }
        false
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The analysis chain: words, at most 40 bytes long, lower-cased, canonical, stemmed.
pub(super) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(TechAliases)
        .filter(RememberedStems)
        .build()
}

/// At most this many words' stems are remembered by one analyzer (about 2 MB): the common
/// words, which are most of any text, are seen first.
const STEMS_KEPT: usize = 20_000;

/// English (Porter2) stemming, as tantivy's `Stemmer` does it, with the stems of the words
/// seen before remembered: an import stems the same few thousand words millions of times, and
/// looking a stem up costs a fraction of computing it. Each analyzer keeps its own table (an
/// indexing thread's lives as long as its segment; a clone starts empty).
struct RememberedStems;

impl TokenFilter for RememberedStems {
    type Tokenizer<T: Tokenizer> = RememberedStemsFilter<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> RememberedStemsFilter<T> {
        RememberedStemsFilter { inner: tokenizer, stems: HashMap::new() }
    }
}

struct RememberedStemsFilter<T> {
    inner: T,
    stems: HashMap<String, String>,
}

impl<T: Clone> Clone for RememberedStemsFilter<T> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), stems: HashMap::new() }
    }
}

impl<T: Tokenizer> Tokenizer for RememberedStemsFilter<T> {
    type TokenStream<'a> = RememberedStemsStream<'a, T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        RememberedStemsStream {
            tail: self.inner.token_stream(text),
            stems: &mut self.stems,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

struct RememberedStemsStream<'a, S> {
    tail: S,
    stems: &'a mut HashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<S: TokenStream> TokenStream for RememberedStemsStream<'_, S> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let text = &mut self.tail.token_mut().text;
        if let Some(stem) = self.stems.get(text.as_str()) {
            text.clear();
            text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(text).into_owned();
        if self.stems.len() < STEMS_KEPT {
            self.stems.insert(std::mem::replace(text, stem.clone()), stem);
        } else {
            *text = stem;
        }
        true
    }
    fn token(&self) -> &Token {
        self.tail.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// Splits and normalises text exactly as the index does.
pub(super) fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if !tokens.contains(&token.text) {
            tokens.push(token.text.clone());
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_stems_are_the_stems_tantivys_stemmer_makes() {
        use tantivy::tokenizer::{Language, Stemmer};
        let mut reference = TextAnalyzer::builder(WordTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(TechAliases)
            .filter(Stemmer::new(Language::English))
            .build();
        let mut ours = analyzer();
        let text = "Engineers engineering engineered; the running runner runs. Generously generous \
                    generalisations, organizations, happily happiness. Developers developing DEVELOPED \
                    C++ Node.js databases analyses analysis";
        // Twice: the second pass answers every word from what the first remembered.
        for _ in 0..2 {
            let tokens = |a: &mut TextAnalyzer| {
                let mut all = Vec::new();
                let mut stream = a.token_stream(text);
                while let Some(token) = stream.next() {
                    all.push(token.text.clone());
                }
                all
            };
            let expected = tokens(&mut reference);
            assert_eq!(tokens(&mut ours), expected);
            assert!(expected.contains(&"develop".to_owned()), "{expected:?}");
        }
    }

    #[test]
    fn case_plurals_and_punctuation_meet_in_the_analysis() {
        let mut a = analyzer();
        assert_eq!(analyze(&mut a, "Senior Developers"), analyze(&mut a, "senior developer"));
        assert_eq!(analyze(&mut a, "C++"), vec!["cpp"]);
        assert_eq!(analyze(&mut a, "Node.js"), analyze(&mut a, "nodejs"));
        assert_eq!(analyze(&mut a, "full-stack"), vec!["full", "stack"]);
        assert_eq!(analyze(&mut a, "C#, F# and .NET"), vec!["csharp", "fsharp", "and", "dotnet"]);
        assert_eq!(analyze(&mut a, "Vue.js/React.JS"), vec!["vue", "react"]);
        assert_eq!(analyze(&mut a, "abc++ x.json .network"), vec!["abc", "x", "json", "network"]);
        assert_eq!(
            analyze(&mut a, "Zürich São-Paulo 東京"),
            vec!["zürich", "são", "paulo", "東京"]
        );
    }
}
