//! What the hosted chat providers share: their HTTP client and endpoint, the refusal of a
//! request read from its status and error body, and the answer's server-sent events read
//! into a [`ChatStream`] under the configured timeout.
//!
//! [`Endpoint::stream`] returns the stream at once and runs the request on a task of its
//! own: errors before the answer starts (no connection, a refused key, a timeout) arrive as
//! the stream's one item. The timeout bounds the wait for the response's head and for each
//! next piece of its body, never the whole answer. The task stops, dropping the connection,
//! as soon as the stream is dropped (noticed while it waits, and after each event it sends).
//! A provider's [`Decoder`] turns its events into [`Piece`]s; an answer whose body ends
//! before the decoder saw its end is an error, never a silent finish.

use std::fmt;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::mpsc;

use super::error::ChatError;
use super::message::ToolCall;
use super::provider::{ChatEvent, ChatStream};
use super::remote::RemoteConfig;
use super::sse::{SseEvent, SseParser};
use super::structured::Unwrap;
use super::types::{FinishReason, Generation};

/// The most of an error body kept for its message.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// How long the rest of a finished answer's body is read (so its connection can be reused).
const DRAIN: Duration = Duration::from_secs(1);
/// The longest wait a provider's retry hint is taken for (a larger one is cut to it).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// What a provider's events add to the answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    ToolCall(ToolCall),
    /// The answer is complete.
    End(End),
}

/// How an answer ended, as its provider reported it (token counts are 0 when it did not).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct End {
    pub finish: FinishReason,
    pub prompt_tokens: usize,
    pub generated_tokens: usize,
}

/// A provider's reading of its own stream of events.
pub trait Decoder: Send + 'static {
    /// What `event` adds to the answer, appended to `pieces`; [`Piece::End`] when complete.
    fn decode(&mut self, event: SseEvent, pieces: &mut Vec<Piece>) -> Result<(), ChatError>;
}

/// One hosted chat API: where its answers are asked for, and the one HTTP client that asks.
pub struct Endpoint {
    pub provider: &'static str,
    /// The base URL as configured, without a trailing slash and without any user or password
    /// in it, for [`Endpoint::describe`].
    base_url: String,
    url: reqwest::Url,
    pub model: String,
    /// Only for `Debug` (which redacts it); requests carry it in `headers`.
    api_key: Option<crate::core::config::Secret>,
    /// Sent with every request: the key (marked sensitive) and the provider's own headers.
    headers: HeaderMap,
    pub timeout: Duration,
    client: reqwest::Client,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("url", &without_credentials(&self.url))
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Endpoint {
    /// The endpoint `path` under `config.base_url`, sending `headers` (plus the key's, made by
    /// `key_header` from the key) with every request.
    pub fn new(
        provider: &'static str,
        config: RemoteConfig,
        path: &str,
        mut headers: HeaderMap,
        key_header: impl FnOnce(&str) -> (&'static str, String),
    ) -> Result<Self, ChatError> {
        let unavailable =
            |message: String| ChatError::Unavailable(format!("{provider}: {message}"));
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let base = reqwest::Url::parse(&base_url).map_err(|err| {
            unavailable(format!("the base URL {base_url:?} is not a URL ({err})"))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(unavailable(format!("the base URL {base_url:?} is not an http(s) URL")));
        }
        let url = reqwest::Url::parse(&format!("{base_url}{path}")).map_err(|err| {
            unavailable(format!("the base URL {base_url:?} is not a URL ({err})"))
        })?;
        if config.model.trim().is_empty() {
            return Err(unavailable("no model is named".into()));
        }
        if config.timeout.is_zero() {
            return Err(unavailable("the timeout is zero".into()));
        }
        if let Some(key) = config.api_key.as_ref().filter(|key| !key.expose().trim().is_empty()) {
            let (name, value) = key_header(key.expose());
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                unavailable("the API key has characters an HTTP header cannot carry".into())
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        // Redirects are not followed: reqwest drops only `Authorization` and cookies on a
        // redirect to another host, so a key sent in another header (Anthropic's
        // `x-api-key`) would go along. A redirect is an error naming where it points.
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| unavailable(format!("cannot build the HTTP client: {}", chain(&err))))?;
        Ok(Self {
            provider,
            base_url: without_credentials(&base).trim_end_matches('/').to_owned(),
            url,
            model: config.model,
            api_key: config.api_key,
            headers,
            timeout: config.timeout,
            client,
        })
    }

    /// The host the requests go to.
    pub fn host(&self) -> Option<&str> {
        self.url.host_str()
    }

    /// `openai gpt-4o-mini at https://api.openai.com/v1`: never the key.
    pub fn describe(&self) -> String {
        format!("{} {} at {}", self.provider, self.model, self.base_url)
    }

    /// Posts `body` and streams the answer, read by `decoder` and given as `unwrap` says.
    pub fn stream(&self, body: &Value, decoder: impl Decoder, unwrap: Unwrap) -> ChatStream {
        let (events, stream) = mpsc::unbounded_channel();
        let request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .json(body);
        let answer = Answer {
            provider: self.provider,
            started: Instant::now(),
            first_token: None,
            text: String::new(),
            tool_calls: Vec::new(),
            unwrap,
            events,
        };
        let (provider, timeout) = (self.provider, self.timeout);
        tokio::spawn(async move {
            let events = answer.events.clone();
            if let Err(err) = run(request, provider, timeout, decoder, answer).await {
                tracing::debug!(provider, error = %err, "a hosted chat answer failed");
                let _ = events.send(Err(err));
            }
        });
        stream
    }
}

/// The answer as it comes: its text so far, its timings, where its events go.
struct Answer {
    provider: &'static str,
    started: Instant,
    first_token: Option<f64>,
    text: String,
    /// The calls sent so far, for the end's `Generation`.
    tool_calls: Vec<ToolCall>,
    unwrap: Unwrap,
    events: mpsc::UnboundedSender<Result<ChatEvent, ChatError>>,
}

impl Answer {
    fn add(&mut self, piece: Piece) -> Result<bool, ChatError> {
        if self.first_token.is_none() {
            self.first_token = Some(self.started.elapsed().as_secs_f64());
        }
        match piece {
            Piece::Text(text) => {
                self.text.push_str(&text);
                if !self.unwrap.collects() {
                    let _ = self.events.send(Ok(ChatEvent::Text(text)));
                }
            }
            Piece::ToolCall(call) => {
                self.tool_calls.push(call.clone());
                let _ = self.events.send(Ok(ChatEvent::ToolCall(call)));
            }
            Piece::End(end) => {
                self.end(end)?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn end(&mut self, end: End) -> Result<(), ChatError> {
        let mut text = std::mem::take(&mut self.text);
        let why = match end.finish {
            FinishReason::Length => " (cut at max_tokens)",
            FinishReason::Refused => " (the provider refused or filtered the answer)",
            _ => "",
        };
        let interrupted = |message: &str| ChatError::Interrupted {
            provider: self.provider,
            message: format!("{message}{why}"),
        };
        if self.unwrap.collects() && text.is_empty() && self.tool_calls.is_empty() {
            // An empty text is no JSON value and no choice: never a valid answer.
            return Err(interrupted("the provider sent no answer"));
        }
        if self.unwrap.collects() && !text.is_empty() {
            text = self.unwrap.apply(&text).map_err(|message| interrupted(&message))?;
            let _ = self.events.send(Ok(ChatEvent::Text(text.clone())));
        }
        let seconds = self.started.elapsed().as_secs_f64();
        let generation = Generation {
            text,
            finish: end.finish,
            prompt_tokens: end.prompt_tokens,
            cached_tokens: 0,
            generated_tokens: end.generated_tokens,
            first_token_seconds: self.first_token.unwrap_or(seconds),
            seconds,
            tool_calls: std::mem::take(&mut self.tool_calls),
        };
        let _ = self.events.send(Ok(ChatEvent::Finished(generation)));
        Ok(())
    }
}

/// Sends the request and reads its answer into `answer`, until its end, an error, or the
/// stream being dropped (then it returns at once, dropping the connection).
async fn run(
    request: reqwest::RequestBuilder,
    provider: &'static str,
    timeout: Duration,
    mut decoder: impl Decoder,
    mut answer: Answer,
) -> Result<(), ChatError> {
    let events = answer.events.clone();
    let timed_out = || ChatError::TimedOut { provider, after: timeout };
    let response = tokio::select! {
        () = events.closed() => return Ok(()),
        sent = tokio::time::timeout(timeout, request.send()) => match sent {
            Err(_) => return Err(timed_out()),
            Ok(Err(err)) if err.is_timeout() => return Err(timed_out()),
            Ok(Err(err)) => return Err(ChatError::Unreachable { provider, message: chain(&err) }),
            Ok(Ok(response)) => response,
        },
    };
    if !response.status().is_success() {
        return Err(refusal(provider, timeout, response).await);
    }
    let interrupted = |message: String| ChatError::Interrupted { provider, message };
    let mut body = response.bytes_stream();
    let mut parser = SseParser::new();
    let mut pieces = Vec::new();
    // The body's first bytes while no event came: a server that did not stream (an error
    // object sent with 200, a whole answer) is reported with what it said.
    let mut unstreamed = Vec::new();
    let mut any_event = false;
    loop {
        let chunk = tokio::select! {
            () = events.closed() => return Ok(()),
            chunk = tokio::time::timeout(timeout, body.next()) => chunk.map_err(|_| timed_out())?,
        };
        let bytes = match chunk {
            None if !any_event => {
                let said = error_message(&unstreamed);
                return Err(interrupted(format!("the answer is not a stream of events: {said}")));
            }
            None if parser.is_mid_event() => {
                return Err(interrupted("the connection closed in the middle of an event".into()));
            }
            None => {
                return Err(interrupted("the connection closed before the answer's end".into()));
            }
            Some(Err(err)) => return Err(interrupted(chain(&err))),
            Some(Ok(bytes)) => bytes,
        };
        let parsed = parser.push(&bytes).map_err(|err| interrupted(err.to_string()))?;
        if !any_event && parsed.is_empty() && unstreamed.len() < MAX_ERROR_BODY {
            unstreamed.extend_from_slice(&bytes);
        }
        for event in parsed {
            any_event = true;
            decoder.decode(event, &mut pieces)?;
            for piece in pieces.drain(..) {
                if answer.add(piece)? {
                    let _ = tokio::time::timeout(DRAIN, async {
                        while let Some(Ok(_)) = body.next().await {}
                    })
                    .await;
                    return Ok(());
                }
            }
            if events.is_closed() {
                return Ok(());
            }
        }
    }
}

/// The error a refused request (any status but 2xx) stands for.
async fn refusal(
    provider: &'static str,
    timeout: Duration,
    mut response: reqwest::Response,
) -> ChatError {
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
        let to = location.map_or_else(|| "elsewhere".to_owned(), |to| format!("to {to}"));
        let message = format!(
            "the answer is a redirect {to}, which is not followed (the API key would go with \
             it): configure the base URL the API answers at"
        );
        return ChatError::Rejected { provider, status, message };
    }
    let retry_after = retry_after(response.headers());
    let mut body = Vec::new();
    let _ = tokio::time::timeout(timeout, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            body.extend_from_slice(&chunk);
            if body.len() >= MAX_ERROR_BODY {
                break;
            }
        }
    })
    .await;
    status_error(provider, status, retry_after, error_message(&body))
}

/// The error of a provider's HTTP `status`, with its message and retry hint.
pub fn status_error(
    provider: &'static str,
    status: u16,
    retry_after: Option<Duration>,
    message: String,
) -> ChatError {
    match status {
        401 | 403 => ChatError::Unauthorized { provider, status, message },
        429 => ChatError::RateLimited { provider, retry_after, message },
        500..=599 => ChatError::ProviderFailed { provider, status, message },
        _ => ChatError::Rejected { provider, status, message },
    }
}

/// The message of an error body: `error.message` (OpenAI's and Anthropic's shape, with the
/// error's type when it has one), `error` as text (Ollama's), or the body itself, shortened.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    let error = parsed.as_ref().and_then(|body| body.get("error"));
    if let Some(message) = error.and_then(Value::as_str) {
        return message.to_owned();
    }
    if let Some(message) = error.and_then(|e| e.get("message")).and_then(Value::as_str) {
        return match error.and_then(|e| e.get("type")).and_then(Value::as_str) {
            Some(kind) if !kind.is_empty() => format!("{kind}: {message}"),
            _ => message.to_owned(),
        };
    }
    let text = text.trim();
    if text.is_empty() {
        return "no error message".into();
    }
    let mut short: String = text.chars().take(500).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

/// The provider's hint of when to try again: `retry-after-ms`, or `retry-after` in seconds
/// or as an HTTP date; at most [`MAX_RETRY_AFTER`] (a larger or unrepresentable wait is cut
/// to it).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let number = |text: &str| text.parse::<f64>().ok().filter(|s| !s.is_nan() && *s >= 0.0);
    let capped = |seconds: f64| {
        Duration::try_from_secs_f64(seconds).map_or(MAX_RETRY_AFTER, |d| d.min(MAX_RETRY_AFTER))
    };
    if let Some(ms) = header("retry-after-ms").and_then(number) {
        return Some(capped(ms / 1000.0));
    }
    let value = header("retry-after")?;
    number(value).map(capped).or_else(|| {
        let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        let wait = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
        Some(wait.to_std().unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
    })
}

/// `url` without the user and password it may hold (they are secrets too).
fn without_credentials(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// An error with its causes, `a: b: c` (reqwest's own message names no cause).
fn chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message = format!("{message}: {text}");
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hint(name: &'static str, value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        retry_after(&headers)
    }

    #[test]
    fn a_huge_or_endless_retry_hint_is_cut_to_the_cap_without_a_panic() {
        assert_eq!(hint("retry-after", "1e30"), Some(MAX_RETRY_AFTER));
        assert_eq!(hint("retry-after-ms", "1e30"), Some(MAX_RETRY_AFTER));
        assert_eq!(hint("retry-after", "inf"), Some(MAX_RETRY_AFTER));
        assert_eq!(hint("retry-after", "7200"), Some(MAX_RETRY_AFTER));
        assert_eq!(hint("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        assert_eq!(hint("retry-after", "2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(hint("retry-after-ms", "1500"), Some(Duration::from_millis(1500)));
        assert_eq!(hint("retry-after", "-1"), None);
        assert_eq!(hint("retry-after", "NaN"), None);
    }
}
