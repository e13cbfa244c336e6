//! Extractors whose rejections speak our error body.
//!
//! Handlers take [`Json`], [`Query`] and [`Path`] from here instead of axum's, so a malformed
//! request gets `{"error":{"code":…}}` naming the offending field, never axum's plain text.
//! [`CurrentUser`] is the authentication gate; [`ClientMeta`] says where a request came from.

use axum::extract::rejection::{
    BytesRejection, FailedToBufferBody, JsonRejection, PathRejection, QueryRejection,
};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, ErrorCode};
use crate::services::{self, Principal, RequestMeta};

/// JSON body in, JSON body out; a rejected body answers 400, 413, 415 or 422 with our body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(err) => {
            let detail = serde_detail(&err).unwrap_or_else(|| err.body_text());
            ApiError::new(ErrorCode::ValidationFailed, format!("invalid request body: {detail}"))
        }
        JsonRejection::JsonSyntaxError(err) => {
            let detail = serde_detail(&err).unwrap_or_else(|| err.body_text());
            ApiError::new(
                ErrorCode::InvalidJson,
                format!("request body is not valid JSON: {detail}"),
            )
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "expected a request body with content-type: application/json",
        ),
        JsonRejection::BytesRejection(BytesRejection::FailedToBufferBody(
            FailedToBufferBody::LengthLimitError(_),
        )) => ApiError::new(ErrorCode::PayloadTooLarge, "request body is larger than the limit"),
        other => ApiError::new(ErrorCode::InvalidJson, other.body_text()),
    }
}

/// The serde message with its field path, e.g. `tags[2]: invalid type: integer, expected a
/// string at line 1 column 20`, without axum's prefix.
fn serde_detail(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = err.source();
    while let Some(inner) = source {
        if let Some(e) = inner.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let path = e.path().to_string();
            return Some(if path == "." {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            });
        }
        source = inner.source();
    }
    None
}

/// Query string parameters; a bad one answers 400 `invalid_parameter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    let text = rejection.body_text();
    let detail = text.strip_prefix("Failed to deserialize query string: ").unwrap_or(&text);
    ApiError::new(ErrorCode::InvalidParameter, format!("invalid query string: {detail}"))
}

/// Path parameters; a bad one answers 400 `invalid_parameter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(rejection: PathRejection) -> ApiError {
    match rejection {
        PathRejection::FailedToDeserializePathParams(err) => ApiError::new(
            ErrorCode::InvalidParameter,
            format!("invalid path parameter: {}", err.body_text()),
        ),
        other => {
            ApiError::internal(anyhow::anyhow!("path extraction failed: {}", other.body_text()))
        }
    }
}

/// The authenticated caller: a valid `Authorization: Bearer` access token whose session is
/// live and whose account is enabled. Anything else answers 401 (or 403 for a disabled
/// account) before the handler runs.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Principal);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(ErrorCode::Unauthorized, "a valid access token is required")
            })?;
        let principal = services::auth::authenticate(&state.ctx, token).await?;
        Ok(CurrentUser(principal))
    }
}

/// Where the request came from: the client address (from the trusted proxy header when one is
/// configured, else the peer) and the user agent.
#[derive(Debug, Clone)]
pub struct ClientMeta(pub RequestMeta);

impl FromRequestParts<AppState> for ClientMeta {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let from_proxy = state.config.trusted_proxy_header.as_deref().and_then(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            // x-forwarded-for lists every hop; the last one was added by our proxy.
            let last = value.rsplit(',').next()?.trim();
            last.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string())
        });
        let peer = || {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip().to_string())
        };
        let ip = from_proxy.or_else(peer);
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Ok(ClientMeta(RequestMeta { ip, user_agent }))
    }
}
