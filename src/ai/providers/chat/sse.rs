//! Server-sent events read from a byte stream, as the HTML standard defines them: lines
//! ending in LF, CRLF or CR; `event:` and `data:` fields (several `data:` lines join with
//! newlines); comments (`:`) and other fields skipped; a blank line ends an event.
//!
//! [`SseParser::push`] takes the bytes as they arrive, in pieces of any size (a line or a
//! UTF-8 character may be split between two), and returns the events they complete.

/// The most a single line, or the data of one event (its `data:` lines joined), may hold
/// before the stream is refused as malformed.
const MAX_LINE: usize = 8 * 1024 * 1024;

/// One event: its type (`message` when the stream names none) and its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Why a byte stream is not server-sent events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a server-sent events line or event is longer than {MAX_LINE} bytes")]
pub struct SseError;

/// Reads events out of a byte stream fed piece by piece.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The bytes of the line being read.
    line: Vec<u8>,
    /// The last byte ended a line with CR: an LF right after it belongs to that line end.
    after_cr: bool,
    /// Nothing read yet: a byte order mark is skipped.
    started: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `bytes` and returns the events they complete, in order.
    pub fn push(&mut self, mut bytes: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut events = Vec::new();
        if !self.started && !bytes.is_empty() {
            self.line.extend_from_slice(bytes);
            if self.line.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.line) {
                return Ok(events);
            }
            self.started = true;
            let pending = std::mem::take(&mut self.line);
            let pending = pending.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&pending);
            self.read(pending, &mut events)?;
            return Ok(events);
        }
        if self.after_cr && !bytes.is_empty() {
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
            self.after_cr = false;
        }
        self.read(bytes, &mut events)?;
        Ok(events)
    }

    fn read(&mut self, mut bytes: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&bytes[..end]);
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, events)?;
            let crlf = bytes[end] == b'\r' && bytes.get(end + 1) == Some(&b'\n');
            if bytes[end] == b'\r' && end + 1 == bytes.len() {
                self.after_cr = true;
            }
            bytes = &bytes[end + if crlf { 2 } else { 1 }..];
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() > MAX_LINE {
            return Err(SseError);
        }
        Ok(())
    }

    fn line_done(&mut self, line: &[u8], events: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let data = std::mem::take(&mut self.data);
            if std::mem::take(&mut self.has_data) {
                let event = if event.is_empty() { "message".to_owned() } else { event };
                events.push(SseEvent { event, data });
            }
            return Ok(());
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "event" => self.event = value.to_owned(),
            "data" => {
                if self.data.len() + value.len() + 1 > MAX_LINE {
                    return Err(SseError);
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event are pending (the stream ended in the middle of
    /// one: an event is only complete at its blank line).
    pub fn is_mid_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || !self.event.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: &str, data: &str) -> SseEvent {
        SseEvent { event: event.into(), data: data.into() }
    }

    fn all(parser: &mut SseParser, pieces: &[&[u8]]) -> Vec<SseEvent> {
        pieces.iter().flat_map(|piece| parser.push(piece).unwrap()).collect()
    }

    #[test]
    fn named_and_unnamed_events_with_comments_and_multiline_data() {
        let stream = b": keep-alive\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\ndata: first\ndata:second\nid: 7\nretry: 10\n\ndata: [DONE]\n\n";
        let events = all(&mut SseParser::new(), &[stream]);
        assert_eq!(
            events,
            vec![
                event("ping", "{\"type\": \"ping\"}"),
                event("message", "first\nsecond"),
                event("message", "[DONE]"),
            ]
        );
    }

    #[test]
    fn every_split_of_the_bytes_gives_the_same_events() {
        let stream =
            "\u{feff}event: a\r\ndata: é€😀 x\r\n\r\ndata: b\rdata:  c\r\rdata\n\n".as_bytes();
        let expected = vec![event("a", "é€😀 x"), event("message", "b\n c"), event("message", "")];
        assert_eq!(all(&mut SseParser::new(), &[stream]), expected);
        for split in 0..=stream.len() {
            let mut parser = SseParser::new();
            let (head, tail) = stream.split_at(split);
            assert_eq!(all(&mut parser, &[head, tail]), expected, "split at {split}");
            assert!(!parser.is_mid_event());
        }
        let mut parser = SseParser::new();
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(all(&mut parser, &bytes), expected);
    }

    #[test]
    fn an_event_without_its_blank_line_is_not_complete() {
        let mut parser = SseParser::new();
        assert_eq!(parser.push(b"data: {\"partial\"").unwrap(), vec![]);
        assert!(parser.is_mid_event());
        assert_eq!(parser.push(b": true}\n").unwrap(), vec![]);
        assert!(parser.is_mid_event());
        assert_eq!(parser.push(b"\n").unwrap(), vec![event("message", "{\"partial\": true}")]);
        assert!(!parser.is_mid_event());
    }

    #[test]
    fn an_event_with_no_data_is_not_dispatched() {
        let events = all(&mut SseParser::new(), &[b"event: nothing\n\n\n\ndata: x\n\n"]);
        assert_eq!(events, vec![event("message", "x")]);
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut parser = SseParser::new();
        parser.push(b"data: ").unwrap();
        let chunk = vec![b'x'; 1024 * 1024];
        let refused = (0..10).map(|_| parser.push(&chunk)).find_map(Result::err);
        assert_eq!(refused, Some(SseError));
    }

    #[test]
    fn an_endless_event_of_short_lines_is_refused() {
        let mut parser = SseParser::new();
        let lines = "data: 0123456789abcdef0123456789abcdef\n".repeat(32 * 1024);
        let refused = (0..16).map(|_| parser.push(lines.as_bytes())).find_map(Result::err);
        assert_eq!(refused, Some(SseError));
        assert!(parser.data.len() <= MAX_LINE);
    }
}
