//! The HTTP API: router, shared state, the layers around every route, and the server loop.
//!
//! Only this module knows axum. Handlers parse with [`extract`], call `services/`, and answer
//! with `schemas/` types or an [`error::ApiError`].

pub mod docs;
pub mod error;
pub mod extract;
pub mod head_guard;
pub mod health;
pub mod html;

pub mod middleware;
pub mod pages;
pub mod routes;
pub mod v1;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Method, Uri, header};
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::core::config::{CorsOrigins, ServeConfig};
use crate::core::metrics::Metrics;
use crate::core::rate_limit::RateLimits;
use crate::db::Database;
use crate::services::Context;
use crate::workers::WorkersStatus;
use error::{ApiError, ErrorCode};
use routes::Routes;

/// What every handler can reach ([`Shared`]): one `Arc`, so the clone each request's handler
/// takes is one reference count (the token keys and the settings inside allocate to clone).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`].
#[derive(Clone)]
pub struct Shared {
    /// What the services need (database, token keys, settings).
    pub ctx: Context,
    pub config: Arc<ServeConfig>,
    pub metrics: Arc<Metrics>,
    pub limits: Arc<RateLimits>,
    /// The workers running in this process, if any (readiness reports them).
    pub workers: Option<Arc<WorkersStatus>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The state of an API over these services (`crate::app` assembles them from `config`).
    pub fn new(ctx: Context, config: ServeConfig) -> Self {
        let limits = Arc::new(RateLimits::new(&config.rate_limits));
        Self(Arc::new(Shared {
            ctx,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            limits,
            workers: None,
        }))
    }

    /// Shares a metrics registry with the workers of this process.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.metrics = metrics;
        Self(Arc::new(shared))
    }

    pub fn with_workers(self, status: Arc<WorkersStatus>) -> Self {
        let mut shared = Arc::unwrap_or_clone(self.0);
        shared.workers = Some(status);
        Self(Arc::new(shared))
    }

    pub fn db(&self) -> &Database {
        &self.ctx.db
    }
}

/// Every operation the API serves; each one is in the OpenAPI document ([`docs`]), and a test
/// holds the two to each other.
pub fn routes() -> Routes {
    Routes::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", v1::router())
        .merge(pages::router())
}

/// The whole application: every route, the docs, the fallbacks and the layers.
pub fn router(state: AppState) -> Router {
    let routes = routes().into_router().merge(docs::swagger_ui());
    with_layers(routes, &state).with_state(state)
}

/// Adds the fallbacks and the layers of [`middleware`] to a set of routes. The real router and
/// the tests of the layers themselves share this, so what the tests prove is what runs.
pub fn with_layers(routes: Router<AppState>, state: &AppState) -> Router<AppState> {
    let config = &state.config;
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(config.request_timeout, middleware::timeout))
        .layer(axum::middleware::from_fn(middleware::error_bodies))
        .layer(tower::util::option_layer(cors_layer(&config.cors_origins)))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), middleware::observe))
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {method} {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, format!("{method} is not allowed on {}", uri.path()))
}

fn cors_layer(origins: &CorsOrigins) -> Option<CorsLayer> {
    let allow = match origins {
        CorsOrigins::None => return None,
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => {
            AllowOrigin::list(list.iter().filter_map(|o| header::HeaderValue::from_str(o).ok()))
        }
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, middleware::REQUEST_ID])
            .expose_headers([middleware::REQUEST_ID, HeaderName::from_static("retry-after")])
            .max_age(Duration::from_secs(600)),
    )
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets in-flight
/// requests finish for up to `grace`, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            grace_ms = grace.as_millis() as u64,
            "shutting down: no new connections, finishing in-flight requests"
        );
        let _ = started_tx.send(());
    };
    // The guard answers, with our error body, the requests hyper's parser would refuse with an
    // empty one (see `head_guard`).
    let listener = head_guard::GuardedListener(listener);
    let server =
        axum::serve(listener, app.into_make_service_with_connect_info::<head_guard::PeerAddr>())
            .with_graceful_shutdown(signal);
    let deadline = async move {
        if started_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!("in-flight requests did not finish within the shutdown timeout; stopping anyway");
            Ok(())
        }
    }
}

/// A future that completes on SIGTERM or ctrl-c (SIGINT). The handlers are installed when this
/// is called, not when the future is first polled, so a signal that arrives during start-up
/// (migrations) is kept and ends the server as soon as it starts.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let terminate = signal(SignalKind::terminate()).ok();
    let interrupt = signal(SignalKind::interrupt()).ok();
    async move {
        async fn recv(signal: Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            () = recv(terminate) => tracing::info!("received SIGTERM"),
            () = recv(interrupt) => tracing::info!("received ctrl-c"),
        }
    }
}

/// A future that completes on ctrl-c.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("received ctrl-c");
        } else {
            std::future::pending::<()>().await;
        }
    }
}
