//! Sources numbered by the server, and the `[n]` of an answer mapped back to them.
//!
//! The server numbers what it retrieved `[1]`…`[n]` ([`Sources`]) and shows the model those
//! numbers only. After (or while) the model writes, each citation group (`[2]`, `[1, 3]`) is
//! checked: a number the server handed out is kept and resolved to its source; any other is
//! removed from the text, with the space before it, and a group left empty disappears. The
//! citations come out in the order of their first use. [`CitationStream`] does this on a
//! stream of text pieces, so the text a client sees is the text that is stored.

use super::quoting::Quoter;

/// A source the answer may cite: what it is (`K`, e.g. job or help page), its id, its title,
/// and its text (untrusted: quoted when it goes into a prompt).
#[derive(Debug, Clone, PartialEq)]
pub struct Source<K> {
    pub kind: K,
    pub id: String,
    pub title: String,
    pub text: String,
}

/// A number of the answer resolved to the source it points at.
#[derive(Debug, Clone, PartialEq)]
pub struct Cited<K> {
    pub n: u32,
    pub kind: K,
    pub id: String,
    pub title: String,
}

/// The sources of one answer, numbered from 1 in the order they were added, each once.
#[derive(Debug, Clone)]
pub struct Sources<K> {
    items: Vec<Source<K>>,
}

impl<K> Default for Sources<K> {
    fn default() -> Self {
        Self { items: Vec::new() }
    }
}

impl<K: Clone + PartialEq> Sources<K> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Numbers `source`, or returns the number it already has (same kind and id).
    pub fn add(&mut self, source: Source<K>) -> u32 {
        if let Some(n) = self.number_of(&source.kind, &source.id) {
            return n;
        }
        self.items.push(source);
        self.items.len() as u32
    }

    /// The number of the source of this kind and id, if it has one.
    pub fn number_of(&self, kind: &K, id: &str) -> Option<u32> {
        self.items.iter().position(|s| &s.kind == kind && s.id == id).map(|i| i as u32 + 1)
    }

    pub fn get(&self, n: u32) -> Option<&Source<K>> {
        (n as usize).checked_sub(1).and_then(|i| self.items.get(i))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Each source with its number.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Source<K>)> {
        self.items.iter().enumerate().map(|(i, s)| (i as u32 + 1, s))
    }

    /// The citation of number `n`, if the server handed it out.
    pub fn cite(&self, n: u32) -> Option<Cited<K>> {
        self.get(n).map(|s| Cited {
            n,
            kind: s.kind.clone(),
            id: s.id.clone(),
            title: s.title.clone(),
        })
    }

    /// The sources as a prompt shows them: `[n] title` then the text quoted as data, one after
    /// the other.
    pub fn block(&self, quoter: &Quoter) -> String {
        self.iter()
            .map(|(n, s)| {
                format!(
                    "[{n}] {}\n{}",
                    super::quoting::strip_invisible(&s.title),
                    quoter.quote(&s.text)
                )
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// `text` with the numbers the server did not hand out removed, and the citations of the
    /// others in the order of first use.
    pub fn resolve(&self, text: &str) -> (String, Vec<Cited<K>>) {
        let mut stream = CitationStream::new(self);
        let mut out = stream.push(text);
        let rest = stream.finish();
        out.text.push_str(&rest.text);
        out.cited.extend(rest.cited);
        (out.text, out.cited)
    }
}

/// What a piece of a stream gives: text ready to show, and citations first used in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted<K> {
    pub text: String,
    pub cited: Vec<Cited<K>>,
}

/// The longest citation group looked at (`[12, 3, 45]`); a longer bracket is plain text.
const MAX_GROUP: usize = 24;

/// Checks citations in a text that arrives in pieces. Text is held back only while it may
/// still become a citation group (from a `[` to its `]`) and spaces before one (removed with
/// a group that turns out empty), so the answer still streams.
pub struct CitationStream<'a, K> {
    sources: &'a Sources<K>,
    /// Spaces not given out yet.
    spaces: String,
    /// An open `[` and what followed it.
    group: String,
    seen: Vec<u32>,
}

impl<'a, K: Clone + PartialEq> CitationStream<'a, K> {
    pub fn new(sources: &'a Sources<K>) -> Self {
        Self { sources, spaces: String::new(), group: String::new(), seen: Vec::new() }
    }

    /// The numbers cited so far, in order of first use.
    pub fn cited_numbers(&self) -> &[u32] {
        &self.seen
    }

    /// Takes the next piece of text.
    pub fn push(&mut self, piece: &str) -> Emitted<K> {
        let mut out = Emitted { text: String::new(), cited: Vec::new() };
        for c in piece.chars() {
            if !self.group.is_empty() {
                if c == ']' {
                    self.group.push(c);
                    self.close_group(&mut out);
                } else if (c.is_ascii_digit() || c == ',' || c == ' ')
                    && self.group.len() < MAX_GROUP
                {
                    self.group.push(c);
                } else {
                    // Not a citation: the bracket was text.
                    self.flush(&mut out);
                    self.take(c, &mut out);
                }
                continue;
            }
            self.take(c, &mut out);
        }
        out
    }

    /// Ends the stream: whatever was held back is given out as text.
    pub fn finish(mut self) -> Emitted<K> {
        let mut out = Emitted { text: String::new(), cited: Vec::new() };
        self.flush(&mut out);
        out
    }

    fn take(&mut self, c: char, out: &mut Emitted<K>) {
        match c {
            '[' => self.group.push(c),
            ' ' => self.spaces.push(c),
            _ => {
                out.text.push_str(&std::mem::take(&mut self.spaces));
                out.text.push(c);
            }
        }
    }

    fn flush(&mut self, out: &mut Emitted<K>) {
        out.text.push_str(&std::mem::take(&mut self.spaces));
        out.text.push_str(&std::mem::take(&mut self.group));
    }

    /// A complete `[…]`: a citation group when it holds numbers and commas only.
    fn close_group(&mut self, out: &mut Emitted<K>) {
        let inner = &self.group[1..self.group.len() - 1];
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            // `[]`, `[ ]`, `[1,,2]`: not a citation.
            self.flush(out);
            return;
        }
        let known: Vec<u32> = parts
            .iter()
            .filter_map(|p| p.parse::<u32>().ok())
            .filter(|&n| self.sources.get(n).is_some())
            .collect();
        self.group.clear();
        if known.is_empty() {
            // Every number was made up: the group goes, with the spaces before it.
            self.spaces.clear();
            return;
        }
        out.text.push_str(&std::mem::take(&mut self.spaces));
        let mut kept: Vec<u32> = Vec::new();
        for n in known {
            if kept.contains(&n) {
                continue;
            }
            kept.push(n);
            if !self.seen.contains(&n) {
                self.seen.push(n);
                out.cited.extend(self.sources.cite(n));
            }
        }
        let list: Vec<String> = kept.iter().map(u32::to_string).collect();
        out.text.push_str(&format!("[{}]", list.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(n: usize) -> Sources<&'static str> {
        let mut sources = Sources::new();
        for i in 1..=n {
            sources.add(Source {
                kind: "job",
                id: format!("job:{i}"),
                title: format!("Job {i}"),
                text: String::new(),
            });
        }
        sources
    }

    fn ids(cited: &[Cited<&str>]) -> Vec<(u32, String)> {
        cited.iter().map(|c| (c.n, c.id.clone())).collect()
    }

    #[test]
    fn sources_are_numbered_once_each_from_one() {
        let mut s = sources(2);
        let again = s.add(Source {
            kind: "job",
            id: "job:1".into(),
            title: "x".into(),
            text: String::new(),
        });
        assert_eq!(again, 1);
        let other_kind = s.add(Source {
            kind: "company",
            id: "job:1".into(),
            title: "x".into(),
            text: String::new(),
        });
        assert_eq!(other_kind, 3);
        assert!(s.get(0).is_none() && s.get(4).is_none());
        assert_eq!(s.get(2).unwrap().id, "job:2");
    }

    #[test]
    fn unknown_numbers_are_dropped_from_the_text_and_the_citations() {
        let s = sources(3);
        let (text, cited) = s.resolve("Rust at Acme [2]. Go at Beta [7]. Both [3, 9].");
        assert_eq!(text, "Rust at Acme [2]. Go at Beta. Both [3].");
        assert_eq!(ids(&cited), vec![(2, "job:2".into()), (3, "job:3".into())]);
        let (text, cited) = s.resolve("[0] Nothing [4][5] here");
        assert_eq!(text, " Nothing here");
        assert!(cited.is_empty());
    }

    #[test]
    fn citations_come_in_order_of_first_use_and_repeats_count_once() {
        let s = sources(3);
        let (text, cited) = s.resolve("See [3], then [1] and [3] again, [1, 1, 2].");
        assert_eq!(text, "See [3], then [1] and [3] again, [1, 2].");
        assert_eq!(
            ids(&cited),
            vec![(3, "job:3".into()), (1, "job:1".into()), (2, "job:2".into())]
        );
    }

    #[test]
    fn brackets_that_are_not_citations_stay_as_they_are() {
        let s = sources(1);
        for text in [
            "an array [a, b]",
            "empty [] and [ ]",
            "[1,,1]",
            "open [1 and more",
            "x [123456789012345678901234567890]",
        ] {
            let (out, cited) = s.resolve(text);
            assert_eq!(out, text);
            assert!(cited.is_empty(), "{text}");
        }
    }

    #[test]
    fn a_stream_in_any_pieces_gives_what_the_whole_text_gives() {
        let s = sources(2);
        let text = "First [1]. Made up [8]. Both [2, 1] and [x]. End [2]";
        let whole = s.resolve(text);
        // Cut the text at every place (and into single characters): same text, same citations,
        // and each citation given out with the piece that completes it.
        for cut in 0..=text.len() {
            let mut stream = CitationStream::new(&s);
            let (a, b) = text.split_at(cut);
            let mut first = stream.push(a);
            let second = stream.push(b);
            let rest = stream.finish();
            first.text.push_str(&second.text);
            first.text.push_str(&rest.text);
            first.cited.extend(second.cited);
            first.cited.extend(rest.cited);
            assert_eq!((first.text, first.cited), whole, "cut at {cut}");
        }
        let mut stream = CitationStream::new(&s);
        let mut streamed = String::new();
        for c in text.chars() {
            streamed.push_str(&stream.push(&c.to_string()).text);
        }
        streamed.push_str(&stream.finish().text);
        assert_eq!(streamed, whole.0);
        assert_eq!(whole.0, "First [1]. Made up. Both [2, 1] and [x]. End [2]");
    }

    #[test]
    fn the_sources_block_quotes_each_text_under_its_number() {
        let mut s = Sources::new();
        s.add(Source {
            kind: "job",
            id: "job:a".into(),
            title: "Rust\u{200B} engineer".into(),
            text: "Build things.".into(),
        });
        let quoter = Quoter::new();
        let block = s.block(&quoter);
        assert_eq!(
            block,
            format!("[1] Rust engineer\n{}\nBuild things.\n{}", quoter.open(), quoter.close())
        );
    }
}
