//! Server-sent events read from a byte stream that arrives in arbitrary pieces: an event is its
//! `event:` name and its `data:` lines, ended by a blank line; comments (keep-alives) are skipped.

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `message` when the server named none.
    pub event: String,
    pub data: String,
}

/// Turns chunks of bytes into events; a line or a UTF-8 character split between chunks is kept
/// until its end arrives.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseParser {
    /// The events completed by this chunk, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(end) = self.buffer.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let line = String::from_utf8_lossy(&line);
            self.line(&line, &mut out);
        }
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() || self.event.is_some() {
                out.push(SseEvent {
                    event: self.event.take().unwrap_or_else(|| "message".into()),
                    data: std::mem::take(&mut self.data).join("\n"),
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => self.data.push(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = "event: token\ndata: {\"text\":\"Two \"}\n\n: keep-alive\n\nevent: token\r\ndata: {\"text\":\"jobs é\"}\r\n\r\nevent: done\ndata: {\"a\":1}\ndata: {\"b\":2}\n\n";

    fn all(parser: &mut SseParser, chunks: &[&[u8]]) -> Vec<SseEvent> {
        chunks.iter().flat_map(|c| parser.feed(c)).collect()
    }

    #[test]
    fn events_are_the_same_whatever_the_chunk_boundaries() {
        let whole = all(&mut SseParser::default(), &[STREAM.as_bytes()]);
        assert_eq!(whole.len(), 3);
        assert_eq!(
            whole[0],
            SseEvent { event: "token".into(), data: "{\"text\":\"Two \"}".into() }
        );
        assert_eq!(whole[1].data, "{\"text\":\"jobs é\"}");
        assert_eq!(
            whole[2],
            SseEvent { event: "done".into(), data: "{\"a\":1}\n{\"b\":2}".into() }
        );
        let bytes = STREAM.as_bytes();
        for size in 1..8 {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert_eq!(all(&mut SseParser::default(), &chunks), whole, "chunks of {size} bytes");
        }
    }

    #[test]
    fn an_unfinished_event_waits_for_its_blank_line() {
        let mut parser = SseParser::default();
        assert!(parser.feed(b"event: token\ndata: {}\n").is_empty());
        assert_eq!(parser.feed(b"\n").len(), 1);
    }
}
