//! Checks the head of the first request on each connection before hyper parses it, so the
//! requests hyper would refuse on its own answer our JSON error body.
//!
//! hyper (1.x) refuses a request line or header section it cannot parse by writing a bare
//! `400`, `414` or `431` head with an empty body (`Conn::on_parse_error` writes
//! `role::Server::on_error`'s head with no body), and offers no hook to give that response a
//! body: the request never becomes a `Request` that a layer of ours could see. So
//! [`GuardedListener`] hands hyper each connection through a [`HeadGuard`], which reads the
//! first request head itself and answers, as JSON, what hyper would refuse:
//!
//! - a request target longer than [`MAX_TARGET`] (hyper's own limit is 65,534 bytes): 414
//!   `uri_too_long`;
//! - a head longer than [`MAX_HEAD`] (hyper's is about 400 KiB of buffer) or with more than
//!   [`MAX_HEADERS`] headers (hyper's is 100): 431 `headers_too_large`;
//! - a request line or header that is not HTTP/1 (bytes outside the grammar, such as
//!   non-ASCII in the target, control characters, a folded header line): 400
//!   `malformed_request`.
//!
//! Every check is at least as lenient as hyper's parser (httparse, then `http::Uri`), so a
//! request hyper accepts is never refused here, except for the two size limits, which are ours
//! and lower than hyper's on purpose, so that ours are the ones a client meets.
//!
//! Only the first request of a connection is checked: finding where a later request on a
//! kept-alive connection begins would mean following each body's framing (lengths, chunks) in
//! parallel with hyper. A malformed later request still gets hyper's empty-bodied answer.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::error::ErrorCode;
use crate::schemas::error::{ErrorBody, ErrorDetail};

/// The longest request target (path and query) accepted.
pub const MAX_TARGET: usize = 32 * 1024;
/// The longest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a request may have.
pub const MAX_HEADERS: usize = 100;

/// How long, and how many bytes at most, a refused client's further bytes are read and dropped
/// before the connection closes.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 4 * 1024 * 1024;

/// A TCP listener whose connections come wrapped in a [`HeadGuard`].
#[derive(Debug)]
pub struct GuardedListener(pub TcpListener);

impl Listener for GuardedListener {
    type Io = HeadGuard<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        (HeadGuard::new(stream), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The peer address of a guarded connection, for `ConnectInfo`.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, GuardedListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, GuardedListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// What to do with the bytes of a head read so far.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The head is not complete and nothing is wrong with it yet.
    NeedMore,
    /// The head is complete (or not HTTP/1 at all, such as HTTP/2's preface): hyper decides.
    Pass,
    /// Refused with this code and message.
    Refuse(ErrorCode, &'static str),
}

/// `tchar` of RFC 9110: what a method or a header name is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Bytes that may appear in a request target: visible ASCII. `http::Uri` refuses everything
/// else, so hyper would too.
fn is_target_byte(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
}

/// Bytes httparse accepts in a header value: visible ASCII, space, tab and obs-text.
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// Checks a request line (without its line ending), possibly still incomplete.
fn check_request_line(line: &[u8], complete: bool) -> Verdict {
    const MALFORMED: Verdict =
        Verdict::Refuse(ErrorCode::MalformedRequest, "the request line is not valid HTTP/1");
    let mut parts = line.splitn(3, |&b| b == b' ');
    let method = parts.next().unwrap_or_default();
    if !method.iter().all(|&b| is_tchar(b)) || (method.is_empty() && !line.is_empty()) {
        return MALFORMED;
    }
    let Some(target) = parts.next() else {
        return if complete { MALFORMED } else { Verdict::NeedMore };
    };
    if !target.iter().all(|&b| is_target_byte(b)) {
        return MALFORMED;
    }
    if target.len() > MAX_TARGET {
        return Verdict::Refuse(
            ErrorCode::UriTooLong,
            "the request target is longer than the limit",
        );
    }
    let Some(version) = parts.next() else {
        return if complete { MALFORMED } else { Verdict::NeedMore };
    };
    if method == b"PRI" && target == b"*" && version.starts_with(b"HTTP/2") {
        // HTTP/2 with prior knowledge: hyper speaks it, and its preface is not HTTP/1.
        return Verdict::Pass;
    }
    // httparse reads HTTP/1.0 and HTTP/1.1 only.
    let version_ok = version.len() <= 8
        && version.iter().enumerate().all(|(i, &b)| match i {
            0..7 => b == b"HTTP/1."[i],
            _ => b == b'0' || b == b'1',
        });
    match (version_ok, complete) {
        (true, true) if version.len() == 8 => Verdict::Pass,
        (true, false) => Verdict::NeedMore,
        _ => MALFORMED,
    }
}

/// Checks one complete header line (without its line ending).
fn check_header_line(line: &[u8]) -> Verdict {
    const MALFORMED: Verdict =
        Verdict::Refuse(ErrorCode::MalformedRequest, "a request header is not valid HTTP/1");
    let Some(colon) = line.iter().position(|&b| b == b':') else { return MALFORMED };
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return MALFORMED;
    }
    if !value.iter().all(|&b| is_value_byte(b)) {
        return MALFORMED;
    }
    Verdict::Pass
}

/// Checks the start of a connection's bytes: the request line, then each header line, until
/// the empty line that ends the head.
fn inspect(bytes: &[u8]) -> Verdict {
    // Empty lines before the request line are allowed (RFC 9112, 2.2), as httparse allows.
    let start = bytes.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(bytes.len());
    let mut rest = &bytes[start..];
    let mut headers = 0;
    let mut first = true;
    loop {
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            // A line ending may have arrived up to its carriage return.
            let partial = rest.strip_suffix(b"\r").unwrap_or(rest);
            let verdict =
                if first { check_request_line(partial, false) } else { Verdict::NeedMore };
            if verdict != Verdict::NeedMore {
                return verdict;
            }
            return if bytes.len() > MAX_HEAD {
                Verdict::Refuse(
                    ErrorCode::HeadersTooLarge,
                    "the request head is larger than the limit",
                )
            } else {
                Verdict::NeedMore
            };
        };
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        rest = &rest[end + 1..];
        if first {
            first = false;
            match check_request_line(line, true) {
                Verdict::Pass if line.starts_with(b"PRI ") => return Verdict::Pass,
                Verdict::Pass => continue,
                other => return other,
            }
        }
        if line.is_empty() {
            let head_len = bytes.len() - rest.len();
            return if head_len > MAX_HEAD {
                Verdict::Refuse(
                    ErrorCode::HeadersTooLarge,
                    "the request head is larger than the limit",
                )
            } else {
                Verdict::Pass
            };
        }
        if line[0] == b' ' || line[0] == b'\t' {
            return Verdict::Refuse(
                ErrorCode::MalformedRequest,
                "folded header lines are not accepted",
            );
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Verdict::Refuse(ErrorCode::HeadersTooLarge, "the request has too many headers");
        }
        if let refused @ Verdict::Refuse(..) = check_header_line(line) {
            return refused;
        }
    }
}

/// The whole HTTP/1.1 response for a refused head; the connection closes after it.
fn refusal(code: ErrorCode, message: &str) -> Vec<u8> {
    let body = serde_json::to_vec(&ErrorBody {
        error: ErrorDetail { code: code.as_str().to_owned(), message: message.to_owned() },
    })
    .expect("an error body serializes");
    let status = code.status();
    let mut response = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

enum State {
    /// Reading the first head; nothing has been given to hyper yet.
    Inspecting(Vec<u8>),
    /// The head passed: hyper gets the bytes read so far, then the stream itself.
    Replaying(Vec<u8>, usize),
    Passthrough,
    /// The head was refused: our response is written, then the stream ends for hyper.
    Refusing(Vec<u8>, usize),
    /// The response is sent: what the client still sends is read and dropped for a moment, so
    /// closing with unread bytes does not reset the connection before it reads the response.
    Draining(Pin<Box<tokio::time::Sleep>>, usize),
    Closed,
}

/// How long a new connection has to send its first request head. A client that connects and
/// sends nothing, or trickles a head a byte at a time, would otherwise hold its connection, a
/// task and its buffer for ever (hyper's own header timeout needs a timer, which axum does not
/// give it). When it runs out the connection is closed without an answer, as hyper does.
pub const FIRST_HEAD_TIME: Duration = Duration::from_secs(30);

/// A connection whose first request head is checked before hyper reads it.
pub struct HeadGuard<S> {
    inner: S,
    state: State,
    /// When the first head must have arrived by.
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<S> HeadGuard<S> {
    pub fn new(inner: S) -> Self {
        Self::with_deadline(inner, FIRST_HEAD_TIME)
    }

    fn with_deadline(inner: S, first_head: Duration) -> Self {
        Self {
            inner,
            state: State::Inspecting(Vec::new()),
            deadline: Box::pin(tokio::time::sleep(first_head)),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for HeadGuard<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Inspecting(seen) => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        tracing::debug!(received = seen.len(), "no request head in time: closed");
                        this.state = State::Closed;
                        continue;
                    }
                    let mut chunk = [0u8; 8192];
                    let mut chunk = ReadBuf::new(&mut chunk);
                    ready!(Pin::new(&mut this.inner).poll_read(cx, &mut chunk))?;
                    if chunk.filled().is_empty() {
                        // The peer stopped sending: hyper sees what came and decides.
                        this.state = State::Replaying(std::mem::take(seen), 0);
                        continue;
                    }
                    seen.extend_from_slice(chunk.filled());
                    match inspect(seen) {
                        Verdict::NeedMore => {}
                        Verdict::Pass => this.state = State::Replaying(std::mem::take(seen), 0),
                        Verdict::Refuse(code, message) => {
                            tracing::info!(
                                target: "jobportal::access",
                                status = code.status().as_u16(),
                                code = code.as_str(),
                                "request refused before routing"
                            );
                            this.state = State::Refusing(refusal(code, message), 0);
                        }
                    }
                }
                State::Replaying(bytes, sent) => {
                    let n = out.remaining().min(bytes.len() - *sent);
                    out.put_slice(&bytes[*sent..*sent + n]);
                    *sent += n;
                    if *sent == bytes.len() {
                        this.state = State::Passthrough;
                    }
                    return Poll::Ready(Ok(()));
                }
                State::Passthrough => return Pin::new(&mut this.inner).poll_read(cx, out),
                State::Refusing(response, written) => {
                    while *written < response.len() {
                        let n = ready!(
                            Pin::new(&mut this.inner).poll_write(cx, &response[*written..])
                        )?;
                        if n == 0 {
                            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                        }
                        *written += n;
                    }
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    let until = tokio::time::sleep(DRAIN_TIME);
                    this.state = State::Draining(Box::pin(until), DRAIN_BYTES);
                }
                State::Draining(until, left) => {
                    if until.as_mut().poll(cx).is_ready() {
                        this.state = State::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 8192];
                    let mut scratch = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut scratch)) {
                        Ok(()) if !scratch.filled().is_empty() => {
                            *left = left.saturating_sub(scratch.filled().len());
                            if *left == 0 {
                                this.state = State::Closed;
                            }
                        }
                        _ => this.state = State::Closed,
                    }
                }
                // hyper sees the end of the stream before any request and closes quietly.
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HeadGuard<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_connection_that_sends_no_head_in_time_is_closed_and_one_that_does_is_not() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut guard = HeadGuard::with_deadline(server, Duration::from_millis(100));
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), guard.read(&mut buf)).await;
        assert_eq!(read.expect("closed at the deadline").unwrap(), 0, "end of stream for hyper");

        let (mut client, server) = tokio::io::duplex(1024);
        let mut guard = HeadGuard::with_deadline(server, Duration::from_millis(100));
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        let n = guard.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"GET / "));
        // Past the deadline, a connection whose head arrived goes on (keep-alive).
        tokio::time::sleep(Duration::from_millis(200)).await;
        client.write_all(b"GET /again HTTP/1.1\r\n\r\n").await.unwrap();
        let n = guard.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"GET /again"), "{:?}", String::from_utf8_lossy(&buf[..n]));
    }

    #[test]
    fn ordinary_heads_pass_once_complete() {
        let head =
            b"GET /api/v1/jobs?q=rust HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\xc3\xa9\r\n\r\n";
        assert_eq!(inspect(head), Verdict::Pass);
        for end in [0, 3, 10, 24, 30, 33, 34, head.len() - 1] {
            assert_eq!(inspect(&head[..end]), Verdict::NeedMore, "{end}");
        }
        assert_eq!(inspect(b"\r\nPOST / HTTP/1.0\nA: b\n\n"), Verdict::Pass);
        assert_eq!(inspect(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Verdict::Pass);
    }

    #[test]
    fn bad_request_lines_and_headers_are_malformed() {
        for head in [
            &b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n"[..],
            b"GET /\xff",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"GET / HTTZ",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\x07\r\n\r\n",
        ] {
            assert!(
                matches!(inspect(head), Verdict::Refuse(ErrorCode::MalformedRequest, _)),
                "{}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn limits_refuse_long_targets_and_large_heads() {
        let long = format!("GET /?q={} HTTP/1.1\r\n\r\n", "a".repeat(MAX_TARGET));
        assert!(matches!(inspect(long.as_bytes()), Verdict::Refuse(ErrorCode::UriTooLong, _)));
        let unfinished = format!("GET /?q={}", "a".repeat(MAX_TARGET));
        assert!(matches!(
            inspect(unfinished.as_bytes()),
            Verdict::Refuse(ErrorCode::UriTooLong, _)
        ));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(inspect(big.as_bytes()), Verdict::Refuse(ErrorCode::HeadersTooLarge, _)));
        let many = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS + 1));
        assert!(matches!(inspect(many.as_bytes()), Verdict::Refuse(ErrorCode::HeadersTooLarge, _)));
        let enough = format!("GET / HTTP/1.1\r\n{}\r\n", "A: b\r\n".repeat(MAX_HEADERS));
        assert_eq!(inspect(enough.as_bytes()), Verdict::Pass);
    }
}
