//! Splitting: a long text as overlapping chunks of at most so many tokens, so each fits what
//! the embedding model reads (256 tokens) and the best part of a long job description can be
//! found and quoted.
//!
//! Tokens are counted with the embedding model's tokenizer when it is loaded
//! ([`Embedder::token_spans`](crate::ai::providers::embedder::Embedder::token_spans)); without
//! it, a word counts as [`TOKENS_PER_WORD`] tokens. A chunk ends before a word, never inside
//! one, when a word boundary is near; together the chunks cover the whole text.

use std::ops::Range;

/// Tokens per chunk.
pub const CHUNK_TOKENS: usize = 200;

/// Tokens a chunk repeats from the end of the one before it.
pub const OVERLAP_TOKENS: usize = 40;

/// What a word costs when the tokenizer is not there (English text averages about 1.3
/// WordPiece tokens a word).
pub const TOKENS_PER_WORD: f32 = 4.0 / 3.0;

/// How a text is cut: at most `size` tokens a chunk, `overlap` of them repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Splitter {
    pub size: usize,
    pub overlap: usize,
}

impl Default for Splitter {
    fn default() -> Self {
        Self { size: CHUNK_TOKENS, overlap: OVERLAP_TOKENS }
    }
}

/// The byte ranges of the whitespace-separated words of `text`.
pub fn word_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(s..text.len());
    }
    spans
}

impl Splitter {
    /// A splitter of `size` tokens with `overlap` repeated; the overlap is kept below the size
    /// so every chunk moves on.
    pub fn new(size: usize, overlap: usize) -> Self {
        let size = size.max(1);
        Self { size, overlap: overlap.min(size - 1) }
    }

    /// Splits `text` whose tokens are `spans` (byte ranges, in order, as a tokenizer gives
    /// them) into chunks of at most `size` tokens, each but the first starting `overlap` or
    /// more tokens before the end of the one before. The first chunk starts at 0 and the last
    /// ends at the text's end; each ends where the next token starts, so nothing between
    /// tokens is lost. Empty for a text with no tokens.
    pub fn split(&self, text: &str, spans: &[Range<usize>]) -> Vec<Range<usize>> {
        let n = spans.len();
        if n == 0 {
            return Vec::new();
        }
        let word_start = |t: usize| -> bool {
            let at = spans[t].start;
            at == 0 || text[..at].chars().next_back().is_some_and(char::is_whitespace)
        };
        let mut chunks = Vec::new();
        let mut first = 0;
        loop {
            let mut end = (first + self.size).min(n);
            if end < n {
                // Back to the start of a word, if one is within the last quarter.
                let floor = (end - self.size / 4).max(first + self.overlap + 1);
                if let Some(t) = (floor..=end).rev().find(|&t| word_start(t)) {
                    end = t;
                }
            }
            let from = if first == 0 { 0 } else { spans[first].start };
            let to = if end == n { text.len() } else { spans[end].start };
            chunks.push(from..to);
            if end == n {
                break;
            }
            let mut next = end.saturating_sub(self.overlap).max(first + 1);
            // Start at a word's beginning too, when one is in the overlap.
            if let Some(t) = (first + 1..=next).rev().find(|&t| word_start(t))
                && next - t <= self.overlap
            {
                next = t;
            }
            first = next;
        }
        chunks
    }

    /// Splits `text` counting [`TOKENS_PER_WORD`] tokens a word (no tokenizer at hand).
    pub fn split_words(&self, text: &str) -> Vec<Range<usize>> {
        let words = |tokens: usize| ((tokens as f32 / TOKENS_PER_WORD).floor() as usize).max(1);
        let by_words = Splitter::new(words(self.size), words(self.overlap));
        by_words.split(text, &word_spans(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(words: usize) -> String {
        (0..words).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ")
    }

    /// Tokens of `text` covered by `range`.
    fn tokens_in(spans: &[Range<usize>], range: &Range<usize>) -> Vec<usize> {
        (0..spans.len())
            .filter(|&t| spans[t].start >= range.start && spans[t].end <= range.end)
            .collect()
    }

    fn check(text: &str, spans: &[Range<usize>], splitter: Splitter) -> Vec<Range<usize>> {
        let chunks = splitter.split(text, spans);
        // No text lost: the chunks cover the whole text, in order, from its start to its end.
        assert_eq!(chunks.first().map(|c| c.start), Some(0));
        assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
        for pair in chunks.windows(2) {
            assert!(pair[1].start <= pair[0].end, "a gap between {pair:?}");
            assert!(pair[1].start > pair[0].start, "no progress at {pair:?}");
        }
        let mut seen = vec![false; spans.len()];
        for chunk in &chunks {
            let tokens = tokens_in(spans, chunk);
            assert!(tokens.len() <= splitter.size, "{} tokens in a chunk", tokens.len());
            for t in tokens {
                seen[t] = true;
            }
        }
        assert!(seen.iter().all(|&s| s), "every token is in a chunk");
        // Each chunk repeats at least `overlap` tokens of the one before.
        for pair in chunks.windows(2) {
            let (a, b) = (tokens_in(spans, &pair[0]), tokens_in(spans, &pair[1]));
            let shared = b.iter().filter(|t| a.contains(t)).count();
            assert!(shared >= splitter.overlap, "{shared} tokens shared");
        }
        chunks
    }

    #[test]
    fn a_short_text_is_one_chunk_and_an_empty_one_none() {
        let text = text_of(50);
        let spans = word_spans(&text);
        assert_eq!(Splitter::default().split(&text, &spans), vec![0..text.len()]);
        assert!(Splitter::default().split("", &[]).is_empty());
        assert!(Splitter::default().split_words("  \n ").is_empty());
    }

    #[test]
    fn long_texts_are_cut_into_overlapping_chunks_of_the_size() {
        for words in [201, 400, 1000, 1234] {
            let text = text_of(words);
            let spans = word_spans(&text);
            let chunks = check(&text, &spans, Splitter::default());
            // Full chunks (only the last may be shorter), so the count is what the arithmetic says.
            let stride = CHUNK_TOKENS - OVERLAP_TOKENS;
            assert_eq!(chunks.len(), (words - OVERLAP_TOKENS).div_ceil(stride), "{words} words");
            assert_eq!(tokens_in(&spans, &chunks[0]).len(), CHUNK_TOKENS);
        }
    }

    #[test]
    fn sub_word_tokens_are_not_cut_from_their_word() {
        // Tokens of three bytes each, words of two tokens ("abcdef"): a chunk starts and ends
        // at words when it can.
        let text = vec!["abcdef"; 300].join(" ");
        let mut spans = Vec::new();
        for word in word_spans(&text) {
            spans.push(word.start..word.start + 3);
            spans.push(word.start + 3..word.end);
        }
        let splitter = Splitter::new(25, 5);
        let chunks = check(&text, &spans, splitter);
        for chunk in &chunks {
            let piece = &text[chunk.clone()];
            assert!(piece.trim().split(' ').all(|w| w == "abcdef"), "{piece:?}");
        }
    }

    #[test]
    fn without_a_tokenizer_words_stand_for_tokens() {
        let text = text_of(1000);
        let chunks = Splitter::default().split_words(&text);
        let spans = word_spans(&text);
        let most = (CHUNK_TOKENS as f32 / TOKENS_PER_WORD) as usize;
        for chunk in &chunks {
            assert!(tokens_in(&spans, chunk).len() <= most);
        }
        assert_eq!(chunks.last().map(|c| c.end), Some(text.len()));
        assert!(chunks.len() > 1000 / most);
    }

    #[test]
    fn odd_settings_still_move_on() {
        let text = text_of(30);
        let spans = word_spans(&text);
        check(&text, &spans, Splitter::new(1, 5));
        check(&text, &spans, Splitter::new(4, 3));
        check(&text, &spans, Splitter::new(0, 0));
    }
}
