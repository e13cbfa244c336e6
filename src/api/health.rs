//! Operations endpoints outside the versioned API: liveness, readiness and metrics.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::Json;
use crate::schemas::health::{Health, ReadinessBody};
use crate::services;

/// The process is alive; says nothing about its dependencies.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into() })
}

/// Ready to serve: the database answers and its schema is current. 503 lists what fails.
/// Also lists the embedder and the chat model as loaded, loading, missing or failed
/// (informational: a model that is not ready does not make the portal unready).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Every check passes", body = ReadinessBody),
        (status = 503, description = "A check fails", body = ReadinessBody),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let readiness = services::health::readiness(
        state.db(),
        state.workers.as_ref().map(|w| w.report()),
        &state.ctx.ai,
    )
    .await;
    let status = if readiness.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(ReadinessBody::from(&readiness))).into_response()
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text")))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    // The memory is read from /proc at each scrape (the smaps walk is file work, so off the
    // async threads).
    let ctx = state.ctx.clone();
    let memory = tokio::task::spawn_blocking(move || {
        crate::core::memory::gauges(&services::health::memory_components(&ctx))
    })
    .await
    .map_err(ApiError::internal)?;
    state.metrics.set_memory(&memory);
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(([(CONTENT_TYPE, crate::core::metrics::CONTENT_TYPE)], text).into_response())
}
