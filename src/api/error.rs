//! The one error body of the API and its table of stable codes.
//!
//! Every failure a client sees is `{"error":{"code":"…","message":"…"}}` with a code from
//! [`ErrorCode`]. Codes are part of the API: add new ones, never rename or reuse them.
//! Subsystem errors (database, services) carry no HTTP; they are mapped here, at the edge.
//! Internal errors are logged with their cause chain and answered with an opaque message.

use crate::schemas::error::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::ai::providers::chat::error::ChatError;
use crate::ai::providers::chat::template::TemplateError;
use crate::ai::providers::chat::types::ModelError;
use crate::services::ServiceError;
use crate::services::error::{AuthFailure, ConflictKind};

/// Stable error codes, each with its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request body is not valid JSON.
    InvalidJson,
    /// A query string or path parameter could not be read.
    InvalidParameter,
    /// The request was understood but a field is missing, has the wrong type or fails a rule.
    ValidationFailed,
    /// The route or the object does not exist (or the caller may not know it does).
    NotFound,
    /// The route exists but not with this method.
    MethodNotAllowed,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The body is not `application/json` where JSON is expected.
    UnsupportedMediaType,
    /// The request took longer than the configured timeout.
    Timeout,
    /// A dependency (the database) is not available right now.
    Unavailable,
    /// Something failed on our side; the details are in the server log, not in the response.
    Internal,
    /// No valid access token (missing, malformed, or of an ended session).
    Unauthorized,
    /// The access token expired: use the refresh token.
    TokenExpired,
    /// Login failed: the email or the password is wrong (which one is not said).
    InvalidCredentials,
    /// The refresh token is unknown, expired or of an ended session.
    InvalidRefreshToken,
    /// The refresh token was already used: the session is revoked, sign in again.
    RefreshTokenReused,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// The account is disabled.
    AccountDisabled,
    /// The action needs a verified email address.
    EmailNotVerified,
    /// A verification, reset or invitation token that is unknown, used or expired.
    InvalidToken,
    /// An account with this email exists.
    EmailTaken,
    /// A company with this slug exists.
    SlugTaken,
    /// The person already belongs to the company.
    AlreadyMember,
    /// The company would be left without an owner.
    LastOwner,
    /// The email address is verified already.
    AlreadyVerified,
    /// A concurrent change got in the way; retrying may succeed.
    Conflict,
    /// The object's lifecycle does not allow this move now.
    InvalidTransition,
    /// Too many requests; `Retry-After` says when to try again.
    RateLimited,
    /// The candidate applied to this job already (one application per job).
    AlreadyApplied,
    /// The job is closed or expired and takes no applications.
    JobClosed,
    /// The resume was sent with an application and cannot be deleted.
    ResumeInUse,
    /// An upload is not of a kind the portal reads (a resume must be PDF, DOCX or text).
    UnsupportedFileType,
    /// The job takes applications on the employer's site; the message carries its URL.
    ApplyExternally,
    /// A local model the request needs is missing or still loading; the message says which
    /// and how to fetch it.
    ModelUnavailable,
    /// The request target (path and query) is longer than the server accepts.
    UriTooLong,
    /// The request head (headers) is larger, or has more headers, than the server accepts.
    HeadersTooLarge,
    /// The request line or a header is not valid HTTP/1.
    MalformedRequest,
    /// The chat model is writing other answers and its queue is full; `Retry-After` says when
    /// to try again.
    ModelBusy,
    /// The conversation and the answer asked for do not fit in the chat model's context.
    PromptTooLong,
    /// The hosted chat provider limits this portal's requests now; `Retry-After` says when to
    /// try again when the provider said.
    ModelRateLimited,
    /// The hosted chat provider refused or failed the request (the details are in the server
    /// log).
    ModelProviderError,
    /// A message to the assistant is longer than the configured limit.
    MessageTooLong,
    /// Salary insights match fewer published salaries than the configured minimum (in the
    /// currency asked for, or in every currency).
    TooFewSalaries,
    /// The database's disk is full: nothing of the request was written; try again once space
    /// is freed.
    StorageFull,
    /// The database server does not answer (stopped, frozen or out of reach): nothing of the
    /// request was done; `Retry-After` says when to try again. Service resumes by itself once
    /// the server answers.
    DatabaseUnavailable,
}

impl ErrorCode {
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidJson,
        ErrorCode::InvalidParameter,
        ErrorCode::ValidationFailed,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Timeout,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
        ErrorCode::Unauthorized,
        ErrorCode::TokenExpired,
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidRefreshToken,
        ErrorCode::RefreshTokenReused,
        ErrorCode::Forbidden,
        ErrorCode::AccountDisabled,
        ErrorCode::EmailNotVerified,
        ErrorCode::InvalidToken,
        ErrorCode::EmailTaken,
        ErrorCode::SlugTaken,
        ErrorCode::AlreadyMember,
        ErrorCode::LastOwner,
        ErrorCode::AlreadyVerified,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::InvalidTransition,
        ErrorCode::AlreadyApplied,
        ErrorCode::JobClosed,
        ErrorCode::ResumeInUse,
        ErrorCode::UnsupportedFileType,
        ErrorCode::ApplyExternally,
        ErrorCode::ModelUnavailable,
        ErrorCode::UriTooLong,
        ErrorCode::HeadersTooLarge,
        ErrorCode::MalformedRequest,
        ErrorCode::ModelBusy,
        ErrorCode::PromptTooLong,
        ErrorCode::ModelRateLimited,
        ErrorCode::ModelProviderError,
        ErrorCode::MessageTooLong,
        ErrorCode::TooFewSalaries,
        ErrorCode::StorageFull,
        ErrorCode::DatabaseUnavailable,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidParameter => "invalid_parameter",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::TokenExpired => "token_expired",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::InvalidRefreshToken => "invalid_refresh_token",
            ErrorCode::RefreshTokenReused => "refresh_token_reused",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::AccountDisabled => "account_disabled",
            ErrorCode::EmailNotVerified => "email_not_verified",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::EmailTaken => "email_taken",
            ErrorCode::SlugTaken => "slug_taken",
            ErrorCode::AlreadyMember => "already_member",
            ErrorCode::LastOwner => "last_owner",
            ErrorCode::AlreadyVerified => "already_verified",
            ErrorCode::Conflict => "conflict",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::AlreadyApplied => "already_applied",
            ErrorCode::JobClosed => "job_closed",
            ErrorCode::ResumeInUse => "resume_in_use",
            ErrorCode::UnsupportedFileType => "unsupported_file_type",
            ErrorCode::ApplyExternally => "apply_externally",
            ErrorCode::ModelUnavailable => "model_unavailable",
            ErrorCode::UriTooLong => "uri_too_long",
            ErrorCode::HeadersTooLarge => "headers_too_large",
            ErrorCode::MalformedRequest => "malformed_request",
            ErrorCode::ModelBusy => "model_busy",
            ErrorCode::PromptTooLong => "prompt_too_long",
            ErrorCode::ModelRateLimited => "model_rate_limited",
            ErrorCode::ModelProviderError => "model_provider_error",
            ErrorCode::MessageTooLong => "message_too_long",
            ErrorCode::TooFewSalaries => "too_few_salaries",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::DatabaseUnavailable => "database_unavailable",
        }
    }

    pub const fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidJson | ErrorCode::InvalidParameter | ErrorCode::MalformedRequest => {
                StatusCode::BAD_REQUEST
            }
            ErrorCode::UriTooLong => StatusCode::URI_TOO_LONG,
            ErrorCode::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorCode::ValidationFailed
            | ErrorCode::PromptTooLong
            | ErrorCode::MessageTooLong
            | ErrorCode::TooFewSalaries => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::Timeout
            | ErrorCode::Unavailable
            | ErrorCode::ModelUnavailable
            | ErrorCode::ModelBusy
            | ErrorCode::DatabaseUnavailable
            | ErrorCode::ModelRateLimited => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ModelProviderError => StatusCode::BAD_GATEWAY,
            ErrorCode::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Unauthorized
            | ErrorCode::TokenExpired
            | ErrorCode::InvalidCredentials
            | ErrorCode::InvalidRefreshToken
            | ErrorCode::RefreshTokenReused => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::AccountDisabled | ErrorCode::EmailNotVerified => {
                StatusCode::FORBIDDEN
            }
            ErrorCode::InvalidToken => StatusCode::BAD_REQUEST,
            ErrorCode::EmailTaken
            | ErrorCode::SlugTaken
            | ErrorCode::AlreadyMember
            | ErrorCode::LastOwner
            | ErrorCode::AlreadyVerified
            | ErrorCode::Conflict
            | ErrorCode::InvalidTransition
            | ErrorCode::AlreadyApplied
            | ErrorCode::JobClosed
            | ErrorCode::ResumeInUse
            | ErrorCode::ApplyExternally => StatusCode::CONFLICT,
            ErrorCode::UnsupportedFileType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The code used when a response with this status carries no error body of ours
    /// (a layer answered before any handler ran).
    pub fn for_status(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::URI_TOO_LONG => ErrorCode::UriTooLong,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => ErrorCode::HeadersTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::REQUEST_TIMEOUT | StatusCode::GATEWAY_TIMEOUT => ErrorCode::Timeout,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::ValidationFailed,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::RateLimited,
            s if s.is_client_error() => ErrorCode::InvalidParameter,
            _ => ErrorCode::Internal,
        }
    }
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for a `Retry-After` header (429, and 503 from a busy or rate-limited model).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after: None }
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            code: ErrorCode::RateLimited,
            message: format!("too many requests; try again in {retry_after} s"),
            retry_after: Some(retry_after),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message)
    }

    /// 503 `database_unavailable`, with `Retry-After`.
    pub fn database_unavailable() -> Self {
        Self {
            code: ErrorCode::DatabaseUnavailable,
            message: "the database is unavailable: nothing was done; try again shortly".into(),
            retry_after: Some(DATABASE_UNAVAILABLE_RETRY_AFTER),
        }
    }

    /// Logs the cause chain and answers an opaque 500; a cause that is the database server
    /// not answering answers 503 `database_unavailable` instead.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        let err = err.into();
        if err.chain().any(is_database_unavailable) {
            tracing::warn!(error = format!("{err:#}"), "the database is unavailable");
            return Self::database_unavailable();
        }
        tracing::error!(error = format!("{err:#}"), "internal error");
        Self::new(ErrorCode::Internal, "internal server error")
    }
}

/// Seconds a client is told to wait when the database is unavailable.
pub const DATABASE_UNAVAILABLE_RETRY_AFTER: u64 = 2;

/// True for an error that says the database server did not answer or could not be reached.
fn is_database_unavailable(err: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(err) = err.downcast_ref::<crate::db::DbError>() {
        return err.is_unavailable();
    }
    if let Some(err) = err.downcast_ref::<crate::repositories::RepoError>() {
        return err.is_unavailable();
    }
    if let Some(err) = err.downcast_ref::<surrealdb::Error>() {
        return err.is_connection();
    }
    false
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail { code: self.code.as_str().to_owned(), message: self.message },
        };
        let mut response = (self.code.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        match self.code {
            ErrorCode::TokenExpired => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(
                        r#"Bearer error="invalid_token", error_description="expired""#,
                    ),
                );
            }
            code if code.status() == StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Validation(message) => {
                ApiError::new(ErrorCode::ValidationFailed, message)
            }
            ServiceError::InvalidParameter(message) => {
                ApiError::new(ErrorCode::InvalidParameter, message)
            }
            ServiceError::NotFound(what) => ApiError::not_found(format!("{what} not found")),
            ServiceError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            ServiceError::Conflict(kind, message) => {
                let code = match kind {
                    ConflictKind::EmailTaken => ErrorCode::EmailTaken,
                    ConflictKind::SlugTaken => ErrorCode::SlugTaken,
                    ConflictKind::AlreadyMember => ErrorCode::AlreadyMember,
                    ConflictKind::LastOwner => ErrorCode::LastOwner,
                    ConflictKind::AlreadyVerified => ErrorCode::AlreadyVerified,
                    ConflictKind::Concurrent => ErrorCode::Conflict,
                    ConflictKind::InvalidTransition => ErrorCode::InvalidTransition,
                    ConflictKind::AlreadyApplied => ErrorCode::AlreadyApplied,
                    ConflictKind::JobClosed => ErrorCode::JobClosed,
                    ConflictKind::ResumeInUse => ErrorCode::ResumeInUse,
                };
                ApiError::new(code, message)
            }
            ServiceError::Unauthenticated(failure) => match failure {
                AuthFailure::Missing => {
                    ApiError::new(ErrorCode::Unauthorized, "a valid access token is required")
                }
                AuthFailure::Expired => ApiError::new(
                    ErrorCode::TokenExpired,
                    "the access token has expired; refresh it",
                ),
                AuthFailure::SessionEnded => {
                    ApiError::new(ErrorCode::Unauthorized, "this session has ended; sign in again")
                }
                AuthFailure::BadCredentials => ApiError::new(
                    ErrorCode::InvalidCredentials,
                    "the email or the password is wrong",
                ),
                AuthFailure::BadRefreshToken => ApiError::new(
                    ErrorCode::InvalidRefreshToken,
                    "the refresh token is invalid or expired; sign in again",
                ),
                AuthFailure::RefreshReused => ApiError::new(
                    ErrorCode::RefreshTokenReused,
                    "this refresh token was already used; the session is revoked, sign in again",
                ),
            },
            ServiceError::AccountDisabled => {
                ApiError::new(ErrorCode::AccountDisabled, "this account is disabled")
            }
            ServiceError::EmailNotVerified => {
                ApiError::new(ErrorCode::EmailNotVerified, "verify your email address first")
            }
            ServiceError::InvalidToken => {
                ApiError::new(ErrorCode::InvalidToken, "the token is invalid, used or expired")
            }
            ServiceError::UnsupportedFile(message) => {
                ApiError::new(ErrorCode::UnsupportedFileType, message)
            }
            ServiceError::ApplyExternally(url) => ApiError::new(
                ErrorCode::ApplyExternally,
                format!("this job takes applications at {url}"),
            ),
            ServiceError::ModelUnavailable(message) => {
                ApiError::new(ErrorCode::ModelUnavailable, message)
            }
            ServiceError::ReaderFailed(message) => ApiError::new(ErrorCode::Unavailable, message),
            ServiceError::MessageTooLong { max_chars } => ApiError::new(
                ErrorCode::MessageTooLong,
                format!("a message may have at most {max_chars} characters"),
            ),
            err @ ServiceError::TooFewSalaries { .. } => {
                ApiError::new(ErrorCode::TooFewSalaries, err.to_string())
            }
            ServiceError::DatabaseUnavailable => ApiError::database_unavailable(),
            ServiceError::StorageFull => ApiError::new(
                ErrorCode::StorageFull,
                "the portal's disk is full: nothing was saved; try again once space is freed",
            ),
            ServiceError::Chat(err) => ApiError::from(err),
            ServiceError::Internal(err) => ApiError::internal(err),
        }
    }
}

/// How long a client waits before asking a busy chat model again: about one short answer.
pub const MODEL_BUSY_RETRY_AFTER: u64 = 5;

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        let seconds = |d: std::time::Duration| d.as_secs_f64().ceil().max(1.0) as u64;
        match err {
            ChatError::Busy => ApiError {
                retry_after: Some(MODEL_BUSY_RETRY_AFTER),
                ..ApiError::new(ErrorCode::ModelBusy, err.to_string())
            },
            ChatError::Unavailable(message) => ApiError::new(
                ErrorCode::ModelUnavailable,
                format!("the chat model is unavailable: {message}"),
            ),
            ChatError::RateLimited { provider, retry_after, message } => {
                tracing::warn!(provider, error = %message, "the chat provider limits requests");
                ApiError {
                    retry_after: retry_after.map(seconds),
                    ..ApiError::new(
                        ErrorCode::ModelRateLimited,
                        match retry_after {
                            Some(wait) => format!(
                                "the chat model's provider limits this portal's requests; try again in {} s",
                                seconds(wait)
                            ),
                            None => "the chat model's provider limits this portal's requests; try again later".into(),
                        },
                    )
                }
            }
            ChatError::InvalidRequest(message) => ApiError::validation(message),
            // The provider's own words stay in the log: they may name the account or key.
            ChatError::Unauthorized { provider, status, ref message }
            | ChatError::ProviderFailed { provider, status, ref message }
            | ChatError::Rejected { provider, status, ref message } => {
                tracing::warn!(provider, status, error = %message, "the chat provider refused or failed a request");
                ApiError::new(
                    ErrorCode::ModelProviderError,
                    format!("the chat model's provider answered HTTP {status}"),
                )
            }
            ChatError::Unreachable { provider, ref message } => {
                tracing::warn!(provider, error = %message, "the chat provider cannot be reached");
                ApiError::new(
                    ErrorCode::ModelProviderError,
                    "the chat model's provider could not be reached",
                )
            }
            ChatError::TimedOut { provider, after } => {
                tracing::warn!(
                    provider,
                    seconds = after.as_secs_f64(),
                    "the chat provider timed out"
                );
                ApiError::new(
                    ErrorCode::ModelProviderError,
                    "the chat model's provider did not answer in time",
                )
            }
            ChatError::Interrupted { provider, ref message } => {
                tracing::warn!(provider, error = %message, "the chat provider's answer broke off");
                ApiError::new(
                    ErrorCode::ModelProviderError,
                    "the chat model's provider broke off its answer",
                )
            }
            ChatError::Model(err @ ModelError::TooLong { .. }) => {
                ApiError::new(ErrorCode::PromptTooLong, err.to_string())
            }
            ChatError::Model(
                err @ (ModelError::EmptyPrompt | ModelError::Template(TemplateError::Render(_))),
            ) => ApiError::validation(err.to_string()),
            ChatError::Model(err) => ApiError::internal(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_map_back_from_their_status() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
        assert_eq!(ErrorCode::for_status(StatusCode::NOT_FOUND), ErrorCode::NotFound);
        assert_eq!(
            ErrorCode::for_status(StatusCode::PAYLOAD_TOO_LARGE),
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(ErrorCode::for_status(StatusCode::URI_TOO_LONG), ErrorCode::UriTooLong);
        assert_eq!(ErrorCode::for_status(StatusCode::BAD_GATEWAY), ErrorCode::Internal);
    }

    /// The status, the code, the `Retry-After` header and the body a chat model's error
    /// answers.
    async fn answer(err: ChatError) -> (u16, String, Option<String>, String) {
        use http_body_util::BodyExt;
        let response = ApiError::from(err).into_response();
        let status = response.status().as_u16();
        let retry_after =
            response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let code = body["error"]["code"].as_str().unwrap().to_owned();
        (status, code, retry_after, body["error"]["message"].as_str().unwrap().to_owned())
    }

    #[tokio::test]
    async fn a_busy_or_unavailable_chat_model_is_503_and_busy_says_when_to_retry() {
        let (status, code, retry, _) = answer(ChatError::Busy).await;
        assert_eq!((status, code.as_str(), retry.as_deref()), (503, "model_busy", Some("5")));

        let missing = "no .gguf file in /m/llm: run `./scripts/models.sh`".to_owned();
        let (status, code, retry, message) = answer(ChatError::Unavailable(missing)).await;
        assert_eq!((status, code.as_str(), retry), (503, "model_unavailable", None));
        assert!(message.contains("./scripts/models.sh"), "{message}");
    }

    #[tokio::test]
    async fn a_prompt_the_model_cannot_take_is_422() {
        let too_long = ModelError::TooLong { prompt: 2000, max_tokens: 512, limit: 2048 };
        let (status, code, _, message) = answer(too_long.into()).await;
        assert_eq!((status, code.as_str()), (422, "prompt_too_long"));
        assert!(message.contains("2000") && message.contains("2048"), "{message}");

        let (status, code, _, _) = answer(ModelError::EmptyPrompt.into()).await;
        assert_eq!((status, code.as_str()), (422, "validation_failed"));
        let render = ModelError::Template(TemplateError::Render("roles must alternate".into()));
        let (status, code, _, message) = answer(render.into()).await;
        assert_eq!((status, code.as_str()), (422, "validation_failed"));
        assert!(message.contains("roles must alternate"), "{message}");
        // The model failing is ours, and opaque.
        let (status, code, _, message) =
            answer(ModelError::Inference("shape mismatch".into()).into()).await;
        assert_eq!((status, code.as_str()), (500, "internal"));
        assert!(!message.contains("shape"), "{message}");
    }

    #[tokio::test]
    async fn a_hosted_provider_limit_is_503_and_its_failure_502_with_its_wait_and_not_its_words() {
        let limited = ChatError::RateLimited {
            provider: "openai",
            retry_after: Some(Duration::from_millis(2500)),
            message: "Rate limit reached for org-secret".into(),
        };
        let (status, code, retry, message) = answer(limited).await;
        assert_eq!(
            (status, code.as_str(), retry.as_deref()),
            (503, "model_rate_limited", Some("3"))
        );
        assert!(message.contains("3 s") && !message.contains("org-secret"), "{message}");
        let unhinted = ChatError::RateLimited {
            provider: "openai",
            retry_after: None,
            message: "slow".into(),
        };
        let (_, _, retry, _) = answer(unhinted).await;
        assert_eq!(retry, None, "no wait is made up when the provider gave none");

        let refused = ChatError::Unauthorized {
            provider: "openai",
            status: 401,
            message: "Incorrect API key provided: sk-abc***xyz".into(),
        };
        let (status, code, retry, message) = answer(refused).await;
        assert_eq!((status, code.as_str(), retry), (502, "model_provider_error", None));
        assert!(message.contains("401") && !message.contains("sk-abc"), "{message}");
        let overloaded = ChatError::ProviderFailed {
            provider: "anthropic",
            status: 529,
            message: "Overloaded".into(),
        };
        let (status, code, _, message) = answer(overloaded).await;
        assert_eq!((status, code.as_str()), (502, "model_provider_error"));
        assert!(message.contains("529"), "{message}");
        let invalid = ChatError::InvalidRequest("a tool result without its call's id".into());
        let (status, code, _, _) = answer(invalid).await;
        assert_eq!((status, code.as_str()), (422, "validation_failed"));
        let late = ChatError::TimedOut { provider: "openai", after: Duration::from_secs(60) };
        let (status, _, _, message) = answer(late).await;
        assert_eq!(status, 502);
        assert!(message.contains("in time"), "{message}");
        let unreachable =
            ChatError::Unreachable { provider: "openai", message: "connection refused".into() };
        let (status, _, _, message) = answer(unreachable).await;
        assert_eq!(status, 502);
        assert!(message.contains("could not be reached"), "{message}");
    }
}
