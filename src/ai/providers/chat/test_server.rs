//! A hosted chat API's stand-in for tests: a real HTTP server on loopback that records each
//! request and answers it with the next scripted reply, byte for byte as given (a whole
//! body, a stream of server-sent events that ends, breaks off or stalls, an endless stream
//! that reports when its client went away, or no answer at all).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// How a stream of events ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The body ends normally.
    Complete,
    /// The connection is broken off (no end of the chunked body).
    Cut,
    /// Nothing more is sent, and the connection stays open.
    Stall,
}

/// One scripted reply.
pub enum Reply {
    /// This status, headers and body, whole.
    Whole { status: u16, headers: Vec<(&'static str, String)>, body: String },
    /// `200 text/event-stream`: these pieces, each its own chunk a moment after the last.
    Events { pieces: Vec<String>, ending: Ending },
    /// `200 text/event-stream`: this piece every few milliseconds, until the client is gone,
    /// which is then reported.
    Endless { piece: String, gone: oneshot::Sender<()> },
    /// Never any answer.
    Silent,
}

impl Reply {
    pub fn events(pieces: &[String]) -> Self {
        Self::Events { pieces: pieces.to_vec(), ending: Ending::Complete }
    }

    pub fn error(status: u16, headers: Vec<(&'static str, String)>, body: &str) -> Self {
        Self::Whole { status, headers, body: body.to_owned() }
    }
}

#[derive(Default)]
struct Script {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

/// The running server; it stops with the test's runtime.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    script: Arc<Script>,
}

impl TestServer {
    /// A server answering its requests with `replies`, in order (a 500 once they run out).
    pub async fn start(replies: Vec<Reply>) -> Self {
        let script = Arc::new(Script::default());
        script.replies.lock().unwrap().extend(replies);
        let router = axum::Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, script }
    }

    /// The requests received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }
}

async fn answer(
    State(script): State<Arc<Script>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    script.received.lock().unwrap().push(Received { path: uri.path().to_owned(), headers, body });
    let reply = script.replies.lock().unwrap().pop_front();
    let event_stream = |body: Body| {
        Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache")
            .body(body)
            .unwrap()
    };
    match reply {
        None => Response::builder().status(500).body(Body::from("no reply scripted")).unwrap(),
        Some(Reply::Whole { status, headers, body }) => {
            let mut response =
                Response::builder().status(status).header("content-type", "application/json");
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
        Some(Reply::Events { pieces, ending }) => {
            let (sender, chunks) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
            tokio::spawn(async move {
                for piece in pieces {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    if sender.send(Ok(Bytes::from(piece))).await.is_err() {
                        return;
                    }
                }
                match ending {
                    Ending::Complete => {}
                    Ending::Cut => {
                        let _ = sender.send(Err(std::io::Error::other("cut"))).await;
                    }
                    Ending::Stall => {
                        sender.closed().await;
                    }
                }
            });
            event_stream(Body::from_stream(receiver_stream(chunks)))
        }
        Some(Reply::Endless { piece, gone }) => {
            let (sender, chunks) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
            tokio::spawn(async move {
                while sender.send(Ok(Bytes::from(piece.clone()))).await.is_ok() {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let _ = gone.send(());
            });
            event_stream(Body::from_stream(receiver_stream(chunks)))
        }
        Some(Reply::Silent) => std::future::pending().await,
    }
}

fn receiver_stream<T: Send + 'static>(
    receiver: mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

/// Everything a chat stream gives until it ends: its events, and the error that ended it if
/// one did. Fails the test when the stream is not over within ten seconds.
pub async fn collect(
    mut stream: super::provider::ChatStream,
) -> (Vec<super::provider::ChatEvent>, Option<super::error::ChatError>) {
    let mut events = Vec::new();
    let read = async {
        while let Some(item) = stream.recv().await {
            match item {
                Ok(event) => events.push(event),
                Err(err) => return Some(err),
            }
        }
        None
    };
    let error =
        tokio::time::timeout(Duration::from_secs(10), read).await.expect("the stream ended");
    (events, error)
}

/// The texts of `events`, in order.
pub fn texts(events: &[super::provider::ChatEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|event| match event {
            super::provider::ChatEvent::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The `Finished` that ends `events`; fails the test when the answer did not finish.
pub fn finished(events: &[super::provider::ChatEvent]) -> &super::types::Generation {
    match events.last() {
        Some(super::provider::ChatEvent::Finished(generation)) => generation,
        other => panic!("the answer did not finish: {other:?}"),
    }
}

/// The tool both providers' tests offer.
pub fn weather_tool() -> super::message::Tool {
    super::message::Tool {
        name: "get_weather".into(),
        description: "The current weather in a city".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}
