//! The layers every request passes through, outermost first:
//!
//! 1. [`observe`]: request id (kept from `x-request-id` when sane, else a new UUID), a tracing
//!    span carrying it, one access line per request, metrics, and the id on the response.
//! 2. CORS, when configured.
//! 3. [`error_bodies`]: a 4xx/5xx that some layer answered without our JSON body gets one
//!    (the HTML pages of [`super::html`] keep theirs).
//! 4. [`timeout`]: a request that takes too long answers 503 `timeout`.
//! 5. [`panic_response`] (via `CatchPanicLayer`): a panicking handler answers 500 `internal`,
//!    with nothing of the panic in the response.
//! 6. The body limit, enforced by the extractors (413 `payload_too_large`).

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::error::{ApiError, ErrorCode};
use crate::core::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served, in the request's extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn acceptable_request_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then(|| s.to_owned())
}

/// Request id, span, access log and metrics.
pub async fn observe(
    State(metrics): State<Arc<Metrics>>,
    mut req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());

    metrics.in_flight.inc();
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = next.run(req).instrument(span).await;
    metrics.in_flight.dec();

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    let latency_ms = (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    if status >= 500 {
        tracing::error!(target: "jobportal::access", %method, %path, status, latency_ms, request_id = %id, "request");
    } else {
        tracing::info!(target: "jobportal::access", %method, %path, status, latency_ms, request_id = %id, "request");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Gives our JSON error body to a 4xx/5xx response that has none (e.g. from a layer or the
/// embedded docs' asset server), keeping its other headers (`Allow`, `Retry-After`, …).
pub async fn error_bodies(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    // Our HTML pages (for the links in emails) say what went wrong in words, for a person.
    if is_json || response.extensions().get::<super::html::HtmlPage>().is_some() {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let code = ErrorCode::for_status(status);
    let message = status.canonical_reason().unwrap_or("error").to_ascii_lowercase();
    let replacement = ApiError::new(code, message).into_response();
    let (new_parts, body) = replacement.into_parts();
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.status = new_parts.status;
    Response::from_parts(parts, body)
}

/// Answers 503 `timeout` when the handler (including reading the body) takes too long.
/// The one route that receives large bodies, and how long it may take.
const UPLOAD_PATH: &str = "/api/v1/admin/jobs/import";
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(3600);

pub async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    // An upload of up to 512 MiB is bounded by its size, not by the time a slow link takes;
    // its handler only streams the body to disk.
    let limit = if req.uri().path() == UPLOAD_PATH { limit.max(UPLOAD_TIMEOUT) } else { limit };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            ApiError::new(ErrorCode::Timeout, format!("the request took longer than {limit:?}"))
                .into_response()
        }
    }
}

/// What a panicking handler answers: the panic is logged, the client learns nothing of it.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(not a string)");
    tracing::error!(panic = message, "handler panicked");
    ApiError::new(ErrorCode::Internal, "internal server error").into_response()
}
