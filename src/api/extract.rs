//! Extractors whose rejections speak our error body.
//!
//! Handlers take [`Json`], [`Query`] and [`Path`] from here instead of axum's, so a malformed
//! request gets `{"error":{"code":…}}` naming the offending field, never axum's plain text.
//! [`CurrentUser`] is the authentication gate; [`ClientMeta`] says where a request came from.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, PathRejection, QueryRejection};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::{ApiError, ErrorCode};
use super::head_guard::PeerAddr;
use crate::services::{self, Principal, RequestMeta};

/// JSON body in, JSON body out; a rejected body answers 400, 413, 415 or 422 with our body.
///
/// A body that is not JSON at all is `invalid_json` (400); JSON of the wrong shape is
/// `validation_failed` (422) naming the field (`tags[1]: invalid type …`). Telling the two
/// apart takes a second parse, done only when the first one failed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(CONTENT_TYPE)) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a request body with content-type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::new(ErrorCode::PayloadTooLarge, "request body is larger than the limit")
            }
            other => ApiError::new(ErrorCode::InvalidJson, other.body_text()),
        })?;
        parse_json(&bytes).map(Json)
    }
}

fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|err| (err.path().to_string(), err.into_inner()))
        .and_then(|value| deserializer.end().map(|()| value).map_err(|err| (String::new(), err)));
    result.map_err(|(path, err)| {
        if serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err() {
            return ApiError::new(
                ErrorCode::InvalidJson,
                format!("request body is not valid JSON: {err}"),
            );
        }
        let detail =
            if path.is_empty() || path == "." { err.to_string() } else { format!("{path}: {err}") };
        ApiError::new(ErrorCode::ValidationFailed, format!("invalid request body: {detail}"))
    })
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
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

/// The caller if a bearer token is present (and valid: a bad one is still 401), `None` for an
/// anonymous request.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(MaybeUser(None));
        }
        let CurrentUser(principal) = CurrentUser::from_request_parts(parts, state).await?;
        Ok(MaybeUser(Some(principal)))
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
                .get::<ConnectInfo<PeerAddr>>()
                .map(|ConnectInfo(PeerAddr(addr))| addr.ip().to_string())
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
