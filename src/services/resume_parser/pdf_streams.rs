//! How much the streams of a PDF decode to, read from the bytes without a PDF library, so that
//! a small file that decodes to gigabytes (a "bomb") is refused before the PDF reader decodes
//! it: the reader decodes every layer of every stream into memory, with no limit.
//!
//! The file is read forward as PDF syntax (comments, literal and hex strings, names with their
//! `#xx` escapes, nested dictionaries and arrays), so a filter is recognised however it is
//! spelled and wherever it stands in its dictionary. Each dictionary followed by `stream` is a
//! stream's: its `/Filter` (a name or an array of names) is applied to the data with every
//! decoder streaming, and what every layer produces counts against one budget for the file.
//! Filters the text reader never decodes (images: DCT, JPX, CCITT, JBIG2) end a chain.
//!
//! This is a cheap first line: the document reader also runs in a child process with a memory
//! limit (`services::resume_parser::isolated`), which contains whatever this misses.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Deeper nesting than this is not a resume: the scan stops and calls the file too deep.
const MAX_DEPTH: usize = 64;

/// What the scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every stream decodes within the budget.
    Within,
    /// The streams decode to more than the budget.
    Over,
    /// Dictionaries or arrays nested deeper than any real document.
    TooDeep,
}

/// Decodes (and discards) every stream of a PDF and says whether all of them fit in `budget`
/// bytes. A stream that fails to decode counts what it gave before failing: judging it is the
/// PDF reader's job.
pub fn scan(bytes: &[u8], budget: u64) -> Verdict {
    let mut lexer = Lexer { bytes, pos: 0 };
    let produced = Rc::new(Cell::new(0u64));
    loop {
        let Some(token) = lexer.next() else { return Verdict::Within };
        if token != Token::DictOpen {
            continue;
        }
        let dict = match lexer.dict(1) {
            Ok(dict) => dict,
            Err(Deep) => return Verdict::TooDeep,
        };
        let Some(data) = lexer.stream_data(&dict) else { continue };
        if decoded_size(data, &dict, budget, &produced) > budget {
            return Verdict::Over;
        }
    }
}

/// Runs a stream's filter chain, counting what every layer produces; stops once `budget` is
/// passed. Returns the running total for the file.
fn decoded_size(
    data: &[u8],
    dict: &[(Vec<u8>, Value)],
    budget: u64,
    produced: &Rc<Cell<u64>>,
) -> u64 {
    let filters: Vec<&[u8]> = match lookup(dict, b"Filter") {
        Some(Value::Name(name)) => vec![name.as_slice()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Name(n) => Some(n.as_slice()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let early_change = early_change(dict);
    let mut reader: Box<dyn Read + '_> = Box::new(data);
    let mut layers = 0;
    for filter in filters.iter().take(16) {
        reader = match *filter {
            b"FlateDecode" | b"Fl" => Box::new(flate2::read::ZlibDecoder::new(reader)),
            b"ASCII85Decode" | b"A85" => Box::new(Decode::new(reader, Ascii85::default())),
            b"ASCIIHexDecode" | b"AHx" => Box::new(Decode::new(reader, AsciiHex::default())),
            b"RunLengthDecode" | b"RL" => Box::new(Decode::new(reader, RunLength::default())),
            b"LZWDecode" | b"LZW" => Box::new(Lzw::new(reader, early_change)),
            // Images and encryption: the text reader does not expand these.
            _ => break,
        };
        reader = Box::new(Counting { inner: reader, produced: produced.clone(), budget });
        layers += 1;
    }
    if layers > 0 {
        let remaining = budget.saturating_sub(produced.get());
        // Reading stops at the budget: the counters have seen every byte each layer made.
        let _ = io::copy(&mut reader.take(remaining + 1), &mut io::sink());
    }
    produced.get()
}

/// LZW's `/EarlyChange` (1 unless the stream's `/DecodeParms` says 0).
fn early_change(dict: &[(Vec<u8>, Value)]) -> bool {
    let params = match lookup(dict, b"DecodeParms") {
        Some(Value::Dict(d)) => vec![d],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| if let Value::Dict(d) = v { Some(d) } else { None })
            .collect(),
        _ => Vec::new(),
    };
    !params.iter().any(|d| matches!(lookup(d, b"EarlyChange"), Some(Value::Other(v)) if v == b"0"))
}

fn lookup<'a>(dict: &'a [(Vec<u8>, Value)], key: &[u8]) -> Option<&'a Value> {
    dict.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Adds what a layer produces to the file's total, and stops the whole chain once the total
/// passes the budget: an inner layer whose output the outer one shrinks (deflated whitespace
/// under a hex filter) would otherwise inflate without end.
struct Counting<R> {
    inner: R,
    produced: Rc<Cell<u64>>,
    budget: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.produced.get() > self.budget {
            return Err(invalid("over the budget"));
        }
        let n = self.inner.read(buf)?;
        self.produced.set(self.produced.get() + n as u64);
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// The syntax, as far as a stream's dictionary needs it.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token<'a> {
    DictOpen,
    DictClose,
    ArrayOpen,
    ArrayClose,
    Name(Vec<u8>),
    /// A string's content does not matter here.
    Str,
    /// Numbers, keywords (`obj`, `R`, `stream`, `true`) and stray delimiters.
    Other(&'a [u8]),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Name(Vec<u8>),
    Array(Vec<Value>),
    Dict(Vec<(Vec<u8>, Value)>),
    Str,
    Other(Vec<u8>),
}

/// Nesting past [`MAX_DEPTH`].
struct Deep;

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

const fn is_white(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

const fn is_delimiter(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

impl<'a> Lexer<'a> {
    fn skip_white_and_comments(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if is_white(b) {
                self.pos += 1;
            } else if b == b'%' {
                while self.bytes.get(self.pos).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn next(&mut self) -> Option<Token<'a>> {
        self.skip_white_and_comments();
        let b = *self.bytes.get(self.pos)?;
        let rest = &self.bytes[self.pos..];
        Some(match b {
            b'<' if rest.starts_with(b"<<") => {
                self.pos += 2;
                Token::DictOpen
            }
            b'>' if rest.starts_with(b">>") => {
                self.pos += 2;
                Token::DictClose
            }
            b'[' => {
                self.pos += 1;
                Token::ArrayOpen
            }
            b']' => {
                self.pos += 1;
                Token::ArrayClose
            }
            b'<' => {
                let end = rest
                    .iter()
                    .position(|&c| c == b'>')
                    .map_or(self.bytes.len(), |e| self.pos + e + 1);
                self.pos = end;
                Token::Str
            }
            b'(' => {
                self.skip_literal_string();
                Token::Str
            }
            b'/' => {
                self.pos += 1;
                Token::Name(self.name())
            }
            _ if is_delimiter(b) => {
                self.pos += 1;
                Token::Other(&rest[..1])
            }
            _ => {
                let len =
                    rest.iter().position(|&c| is_white(c) || is_delimiter(c)).unwrap_or(rest.len());
                self.pos += len;
                Token::Other(&rest[..len])
            }
        })
    }

    /// A literal string: balanced parentheses, backslash escapes.
    fn skip_literal_string(&mut self) {
        let mut depth = 0usize;
        while let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            match b {
                // The escaped byte is skipped, but never past the end of the file.
                b'\\' => self.pos = (self.pos + 1).min(self.bytes.len()),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }

    /// A name's bytes after the slash, `#xx` escapes decoded.
    fn name(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(&b) = self.bytes.get(self.pos) {
            if is_white(b) || is_delimiter(b) {
                break;
            }
            self.pos += 1;
            if b == b'#' {
                let hex = self
                    .bytes
                    .get(self.pos..self.pos + 2)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(byte);
                    self.pos += 2;
                    continue;
                }
            }
            out.push(b);
        }
        out
    }

    /// The entries of a dictionary whose `<<` was just read.
    fn dict(&mut self, depth: usize) -> Result<Vec<(Vec<u8>, Value)>, Deep> {
        if depth > MAX_DEPTH {
            return Err(Deep);
        }
        let mut entries = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        while let Some(token) = self.next() {
            if token == Token::DictClose {
                break;
            }
            match key.take() {
                None => {
                    if let Token::Name(name) = token {
                        key = Some(name);
                    } else {
                        // Not a key: a damaged dictionary; keep reading to its end.
                        self.value(token, depth)?;
                    }
                }
                Some(k) => entries.push((k, self.value(token, depth)?)),
            }
        }
        Ok(entries)
    }

    fn value(&mut self, token: Token<'a>, depth: usize) -> Result<Value, Deep> {
        Ok(match token {
            Token::DictOpen => Value::Dict(self.dict(depth + 1)?),
            Token::ArrayOpen => {
                if depth + 1 > MAX_DEPTH {
                    return Err(Deep);
                }
                let mut items = Vec::new();
                while let Some(t) = self.next() {
                    if t == Token::ArrayClose || t == Token::DictClose {
                        break;
                    }
                    items.push(self.value(t, depth + 1)?);
                }
                Value::Array(items)
            }
            Token::Name(n) => Value::Name(n),
            Token::Str => Value::Str,
            Token::Other(o) => Value::Other(o.to_vec()),
            Token::DictClose | Token::ArrayClose => Value::Other(Vec::new()),
        })
    }

    /// When `stream` follows the dictionary just read: its data, and the position after it.
    /// `/Length` is used when it is a plain number that ends at `endstream`; otherwise the
    /// data runs to the next `endstream`.
    fn stream_data(&mut self, dict: &[(Vec<u8>, Value)]) -> Option<&'a [u8]> {
        let save = self.pos;
        self.skip_white_and_comments();
        if !self.bytes.get(self.pos..).is_some_and(|rest| rest.starts_with(b"stream")) {
            self.pos = save;
            return None;
        }
        let mut start = self.pos + 6;
        if self.bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if self.bytes.get(start) == Some(&b'\n') {
            start += 1;
        }
        let declared = match lookup(dict, b"Length") {
            Some(Value::Other(n)) => {
                std::str::from_utf8(n).ok().and_then(|n| n.parse::<usize>().ok())
            }
            _ => None,
        };
        let ends_there = |end: usize| {
            let after = self.bytes.get(end..).unwrap_or(&[]);
            let after = &after[after.iter().position(|&c| !is_white(c)).unwrap_or(after.len())..];
            after.starts_with(b"endstream")
        };
        let end = match declared.and_then(|n| start.checked_add(n)) {
            Some(end) if end <= self.bytes.len() && ends_there(end) => end,
            _ => find(&self.bytes[start.min(self.bytes.len())..], b"endstream")
                .map_or(self.bytes.len(), |e| start + e),
        };
        let data = &self.bytes[start.min(end)..end];
        self.pos = end;
        Some(data)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// The decoders, each a `Read` over the layer below.

/// A filter that turns one input byte at a time into output.
trait ByteFilter {
    /// Takes one byte; appends what it completes to `out`. `Ok(false)` at the end of the data.
    fn push(&mut self, byte: u8, out: &mut Vec<u8>) -> io::Result<bool>;
    /// The input ended: flush a partial group.
    fn finish(&mut self, out: &mut Vec<u8>);
}

struct Decode<R, F> {
    inner: R,
    filter: F,
    pending: Vec<u8>,
    served: usize,
    done: bool,
}

impl<R, F> Decode<R, F> {
    fn new(inner: R, filter: F) -> Self {
        Self { inner, filter, pending: Vec::new(), served: 0, done: false }
    }
}

impl<R: Read, F: ByteFilter> Read for Decode<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.served == self.pending.len() && !self.done {
            self.pending.clear();
            self.served = 0;
            let mut input = [0u8; 4096];
            let n = self.inner.read(&mut input)?;
            if n == 0 {
                self.filter.finish(&mut self.pending);
                self.done = true;
                break;
            }
            for &b in &input[..n] {
                if !self.filter.push(b, &mut self.pending)? {
                    self.done = true;
                    break;
                }
            }
        }
        let n = buf.len().min(self.pending.len() - self.served);
        buf[..n].copy_from_slice(&self.pending[self.served..self.served + n]);
        self.served += n;
        Ok(n)
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[derive(Default)]
struct Ascii85 {
    group: [u8; 5],
    len: usize,
    tilde: bool,
}

impl ByteFilter for Ascii85 {
    fn push(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        if self.tilde {
            return if b == b'>' { Ok(false) } else { Err(invalid("bad ASCII85 end")) };
        }
        match b {
            _ if is_white(b) => {}
            b'~' => {
                self.finish(out);
                self.tilde = true;
            }
            b'z' if self.len == 0 => out.extend_from_slice(&[0; 4]),
            b'!'..=b'u' => {
                self.group[self.len] = b - b'!';
                self.len += 1;
                if self.len == 5 {
                    let value = self.group.iter().fold(0u64, |acc, &d| acc * 85 + u64::from(d));
                    out.extend_from_slice(&(value as u32).to_be_bytes());
                    self.len = 0;
                }
            }
            _ => return Err(invalid("bad ASCII85 character")),
        }
        Ok(true)
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.len > 1 {
            let mut group = self.group;
            group[self.len..].fill(84);
            let value = group.iter().fold(0u64, |acc, &d| acc * 85 + u64::from(d));
            out.extend_from_slice(&(value as u32).to_be_bytes()[..self.len - 1]);
        }
        self.len = 0;
    }
}

#[derive(Default)]
struct AsciiHex {
    high: Option<u8>,
}

impl ByteFilter for AsciiHex {
    fn push(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        if b == b'>' {
            self.finish(out);
            return Ok(false);
        }
        if is_white(b) {
            return Ok(true);
        }
        let digit = (b as char).to_digit(16).ok_or_else(|| invalid("bad hex digit"))? as u8;
        match self.high.take() {
            None => self.high = Some(digit),
            Some(high) => out.push(high << 4 | digit),
        }
        Ok(true)
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if let Some(high) = self.high.take() {
            out.push(high << 4);
        }
    }
}

#[derive(Default)]
struct RunLength {
    /// Bytes still to copy literally.
    literal: usize,
    /// A run waits for the byte to repeat this many times.
    repeat: usize,
}

impl ByteFilter for RunLength {
    fn push(&mut self, b: u8, out: &mut Vec<u8>) -> io::Result<bool> {
        if self.literal > 0 {
            out.push(b);
            self.literal -= 1;
        } else if self.repeat > 0 {
            out.extend(std::iter::repeat_n(b, self.repeat));
            self.repeat = 0;
        } else {
            match b {
                0..=127 => self.literal = usize::from(b) + 1,
                128 => return Ok(false),
                _ => self.repeat = 257 - usize::from(b),
            }
        }
        Ok(true)
    }

    fn finish(&mut self, _: &mut Vec<u8>) {}
}

/// LZW as PDF uses it: most significant bit first, 8-bit symbols, code width growing one code
/// early unless `/EarlyChange 0` (TIFF's convention, which weezl calls the size switch).
struct Lzw<R> {
    inner: R,
    decoder: weezl::decode::Decoder,
    input: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> Lzw<R> {
    fn new(inner: R, early_change: bool) -> Self {
        let decoder = if early_change {
            weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
        } else {
            weezl::decode::Decoder::new(weezl::BitOrder::Msb, 8)
        };
        Self { inner, decoder, input: vec![0; 4096], at: 4096, done: false }
    }
}

impl<R: Read> Read for Lzw<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while !self.done && !buf.is_empty() {
            if self.at == self.input.len() {
                self.input.resize(4096, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.at = 0;
                if n == 0 {
                    self.done = true;
                    return Ok(0);
                }
            }
            let result = self.decoder.decode_bytes(&self.input[self.at..], buf);
            self.at += result.consumed_in;
            match result.status {
                Ok(weezl::LzwStatus::Done) => self.done = true,
                Ok(_) => {}
                Err(_) => return Err(invalid("bad LZW data")),
            }
            if result.consumed_out > 0 {
                return Ok(result.consumed_out);
            }
        }
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(bytes).unwrap();
        z.finish().unwrap()
    }

    fn zlib_zeros(n: usize) -> Vec<u8> {
        zlib(&vec![0u8; n])
    }

    fn lzw(bytes: &[u8]) -> Vec<u8> {
        weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(bytes)
            .unwrap()
    }

    /// A PDF body with one stream object: `dict` is the dictionary's inside.
    fn pdf_with_stream(dict: &[u8], data: &[u8]) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< ".to_vec();
        pdf.extend_from_slice(dict);
        pdf.extend_from_slice(b" >>\nstream\n");
        pdf.extend_from_slice(data);
        pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        pdf
    }

    const MIB: usize = 1 << 20;

    #[test]
    fn the_decoders_invert_their_encoders() {
        let text: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut out = Vec::new();
        Decode::new(&br#"9jqo^BlbD-BleB1DJ+*+F(f,q/0JhKF<GL>Cj@.4Gp$d7F!,L7@<6@)/0JDEF<G%<+EV:2F!,O<DJ+*.@<*K0@<6L(Df-\0Ec5e;DffZ(EZee.Bl.9pF"R~>"#[..], Ascii85::default()).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"Man is distinguished, not only by his reason, but by this singular passion from other animals.");
        out.clear();
        // Every byte value, a group of zeros written `z`, and a partial last group.
        Decode::new(&br#"!!*-'"9eu7#RLhG$k3[W&.oNg'GVB"(`=52*$$(B+<_pR,UFcb-n-Vr/1iJ-0JP==1c70M3&s#]4?Ykm5X@_(6q'R884cEH9MJ8X:f1+h<)lt#=BSg3>[:ZC?t!MSA7]@cBPD3sCi+'.E,fo>FEMbNG^4U^I!pHnJ:W<)KS>/9Ll%"IN/`jYOHG]iPa.Q$R$jD4S=Q7DTV8*TUnsrdW2ZetXKAY/Yd(L?['d?O\@K2_]Y2%o^qmn*`5Ta:aN;TJbg"GZd*^:jeCE.%f\,!5gtgiEi8N\UjQ5OekiqBum-X60nF?)@o_%qPq"ad`r;HWpz@:B~>"#[..], Ascii85::default()).read_to_end(&mut out).unwrap();
        let mut expected: Vec<u8> = (0..=255u8).collect();
        expected.extend_from_slice(b"\0\0\0\0ab");
        assert_eq!(out, expected);
        out.clear();
        Lzw::new(&lzw(&text)[..], true).read_to_end(&mut out).unwrap();
        assert_eq!(out, text);
        out.clear();
        Decode::new(&b"48 65 6c6C 6f7>"[..], AsciiHex::default()).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"Hellop");
        out.clear();
        Decode::new(&[2u8, b'a', b'b', b'c', 253, b'z', 128, b'x'][..], RunLength::default())
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"abczzzz");
    }

    #[test]
    fn a_plain_flate_bomb_is_over_and_a_small_stream_is_within() {
        let bomb = pdf_with_stream(b"/Filter /FlateDecode", &zlib_zeros(4 * MIB));
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
        assert_eq!(scan(&bomb, 8 * MIB as u64), Verdict::Within);
    }

    #[test]
    fn a_flate_bomb_behind_ascii85_is_over() {
        // ASCII85 of zlib data: five characters for every four bytes (no `z` shortcut).
        let mut padded = zlib_zeros(4 * MIB);
        padded.resize(padded.len().div_ceil(4) * 4, 0);
        let mut encoded = Vec::new();
        for group in padded.chunks(4) {
            let mut value = u32::from_be_bytes([group[0], group[1], group[2], group[3]]);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (value % 85) as u8 + b'!';
                value /= 85;
            }
            encoded.extend_from_slice(&digits);
        }
        encoded.extend_from_slice(b"~>");
        let bomb = pdf_with_stream(b"/Filter [/ASCII85Decode /FlateDecode]", &encoded);
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn a_filter_far_from_the_stream_keyword_is_still_seen() {
        let mut dict = b"/Filter /FlateDecode /Padding (".to_vec();
        dict.extend(std::iter::repeat_n(b'A', 8000));
        dict.extend_from_slice(b") /Nested << /Deeper [1 2 (a ) string with ) parentheses)] >>");
        let bomb = pdf_with_stream(&dict, &zlib_zeros(4 * MIB));
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn an_escaped_filter_name_is_decoded() {
        let bomb = pdf_with_stream(b"/Filter /Flate#44ecode", &zlib_zeros(4 * MIB));
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn an_lzw_bomb_is_over() {
        let bomb = pdf_with_stream(b"/Filter /LZWDecode", &lzw(&vec![0u8; 4 * MIB]));
        assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn intermediate_layers_count_too() {
        // Four MiB of ASCII85 text that fails to decode at its end: the outer layer made it.
        let mut junk = vec![b'!'; 4 * MIB];
        junk.push(b'v');
        let bomb = pdf_with_stream(b"/Filter [/FlateDecode /A85]", &zlib(&junk));
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn an_inner_layer_is_stopped_at_the_budget_even_when_the_outer_one_makes_nothing() {
        // Deflated whitespace under a hex filter: the hex layer outputs nothing at all.
        let bomb =
            pdf_with_stream(b"/Filter [/FlateDecode /ASCIIHexDecode]", &zlib(&vec![b' '; 4 * MIB]));
        assert_eq!(scan(&bomb, MIB as u64), Verdict::Over);
    }

    #[test]
    fn a_file_that_ends_inside_a_string_escape_is_scanned_without_a_panic() {
        assert_eq!(scan(b"%PDF-1.4\n<</A(\\", MIB as u64), Verdict::Within);
        assert_eq!(scan(b"%PDF-1.4\n<</A 1>>", MIB as u64), Verdict::Within);
    }

    #[test]
    fn a_declared_length_that_spans_a_fake_endstream_is_followed() {
        let data = zlib_zeros(4 * MIB);
        let mut inner = b"endstream (".to_vec();
        inner.extend_from_slice(&data);
        let dict = format!("/Length {} /Filter /FlateDecode", inner.len());
        // The data starts with a fake end; the stream really is all of `inner`, which does not
        // decode, and the real bomb is the next object.
        let mut pdf = pdf_with_stream(dict.as_bytes(), &inner);
        pdf.extend_from_slice(&pdf_with_stream(b"/Filter /FlateDecode", &data));
        assert_eq!(scan(&pdf, MIB as u64), Verdict::Over);
    }

    #[test]
    fn nesting_deeper_than_any_document_is_refused_without_recursing_into_it() {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n".to_vec();
        pdf.extend(std::iter::repeat_n(b'[', 100_000));
        let mut dict = b"<< /A ".to_vec();
        dict.extend(std::iter::repeat_n(b'[', 100_000));
        pdf.extend_from_slice(&dict);
        assert_eq!(scan(&pdf, MIB as u64), Verdict::TooDeep);
    }

    #[test]
    fn the_real_resume_is_within_the_budget() {
        let pdf = include_bytes!("../../../fixtures/resumes/ashok-resume.pdf");
        assert_eq!(scan(pdf, 128 * MIB as u64), Verdict::Within);
    }
}
