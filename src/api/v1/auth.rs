//! `/api/v1/auth`: register, login, refresh, logout, email verification, password reset.
//!
//! Every endpoint here that can be used to guess or to send email is rate limited per client
//! address; login also per account (failed attempts) and the email senders per account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{ClientMeta, CurrentUser, Json};
use crate::api::routes::Routes;
use crate::core::rate_limit::RetryAfter;
use crate::schemas::auth::{
    AcceptedBody, AuthBody, ForgotPasswordRequest, LoginRequest, RefreshRequest, RegisterRequest,
    ResetPasswordRequest, TokenRequest, TokensBody,
};
use crate::schemas::error::ErrorBody;
use crate::schemas::user::UserBody;
use crate::services::auth::{self, Registration};
use crate::services::error::AuthFailure;
use crate::services::login_limits::{self, Reserved};
use crate::services::{RequestMeta, ServiceError};

pub fn router() -> Routes {
    Routes::new()
        .route("/register", post(register))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/verify-email", post(verify_email))
        .route("/resend-verification", post(resend_verification))
        .route("/forgot-password", post(forgot_password))
        .route("/reset-password", post(reset_password))
}

fn limited(RetryAfter(seconds): RetryAfter) -> ApiError {
    ApiError::rate_limited(seconds)
}

/// One bucket per endpoint and client address.
pub(crate) fn per_ip(state: &AppState, endpoint: &str, meta: &RequestMeta) -> Result<(), ApiError> {
    let key = format!("{endpoint}|{}", meta.ip.as_deref().unwrap_or("unknown"));
    state.limits.auth_per_ip.check(&key).map_err(limited)
}

/// The key of per-account limits: a digest of the address as typed, normalised the cheap way,
/// so an unknown account is limited exactly like a known one.
pub(crate) fn account_key(email: &str) -> String {
    // A digest, not the text: the key lives for a whole window, and an email is whatever a
    // client sent (up to the body limit) until it is validated.
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

/// Creates a candidate or employer account, signs it in and emails a verification link.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = AuthBody),
        (status = 409, description = "`email_taken`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: bad email, weak password, bad name", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    ))]
pub async fn register(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<AuthBody>), ApiError> {
    per_ip(&state, "register", &meta)?;
    let (user, pair) = auth::register(
        &state.ctx,
        Registration {
            email: &body.email,
            password: &body.password,
            full_name: &body.full_name,
            role: body.role.into(),
        },
        &meta,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AuthBody { user: user.into(), tokens: pair.into() })))
}

/// Signs in. A wrong password and an unknown email get the same answer.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = AuthBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many attempts from this address or failures for this account", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<LoginRequest>,
) -> Result<Json<AuthBody>, ApiError> {
    per_ip(&state, "login", &meta)?;
    // The attempt is counted before the password is checked, so concurrent guesses cannot all
    // pass the limit while none of them has failed yet.
    let key = account_key(&body.email);
    let attempt = match login_limits::reserve(&state.ctx, &key, state.limits.login_failures).await?
    {
        Reserved::Counted(attempt) => attempt,
        Reserved::Refused(seconds) => return Err(ApiError::rate_limited(seconds)),
    };
    match auth::login(&state.ctx, &body.email, &body.password, &meta).await {
        Ok((user, pair)) => {
            attempt.succeeded(&state.ctx).await;
            Ok(Json(AuthBody { user: user.into(), tokens: pair.into() }))
        }
        Err(err @ ServiceError::Unauthenticated(AuthFailure::BadCredentials)) => {
            attempt.failed();
            Err(err.into())
        }
        // Any other outcome (a disabled account, a database error) says nothing about the
        // password: the attempt is given back.
        Err(err) => {
            attempt.give_back(&state.ctx).await;
            Err(err.into())
        }
    }
}

/// Trades a refresh token for a new pair. Each refresh token works once; using one again
/// revokes the session it belongs to.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokensBody),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    ))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<RefreshRequest>,
) -> Result<Json<TokensBody>, ApiError> {
    per_ip(&state, "refresh", &meta)?;
    let pair = auth::refresh(&state.ctx, &body.refresh_token, &meta).await?;
    Ok(Json(pair.into()))
}

/// Ends the caller's session: its refresh and access tokens stop working.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
    ))]
pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
) -> Result<StatusCode, ApiError> {
    auth::logout(&state.ctx, &principal, &meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirms an email address with the token from the verification email.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = TokenRequest,
    responses(
        (status = 200, description = "Verified", body = UserBody),
        (status = 400, description = "`invalid_token`", body = ErrorBody),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<TokenRequest>,
) -> Result<Json<UserBody>, ApiError> {
    per_ip(&state, "verify-email", &meta)?;
    let user = auth::verify_email(&state.ctx, &body.token, &meta).await?;
    Ok(Json(user.into()))
}

/// Sends the caller a new verification email.
#[utoipa::path(post, path = "/api/v1/auth/resend-verification", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 202, description = "On its way", body = AcceptedBody),
        (status = 409, description = "`already_verified`", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    ))]
pub async fn resend_verification(
    State(state): State<AppState>,
    CurrentUser(principal): CurrentUser,
    ClientMeta(meta): ClientMeta,
) -> Result<(StatusCode, Json<AcceptedBody>), ApiError> {
    per_ip(&state, "resend-verification", &meta)?;
    state
        .limits
        .emails_per_account
        .check(&format!("user|{}", principal.user_id))
        .map_err(limited)?;
    auth::resend_verification(&state.ctx, &principal).await?;
    Ok((StatusCode::ACCEPTED, Json(AcceptedBody::new("a verification email is on its way"))))
}

/// Emails a reset link if an account has this address. The answer is the same either way.
#[utoipa::path(post, path = "/api/v1/auth/forgot-password", tag = "auth", request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "If the account exists, an email is on its way", body = AcceptedBody),
        (status = 422, description = "`validation_failed`: not an email address", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    ))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<ForgotPasswordRequest>,
) -> Result<(StatusCode, Json<AcceptedBody>), ApiError> {
    per_ip(&state, "forgot-password", &meta)?;
    state
        .limits
        .emails_per_account
        .check(&format!("email|{}", account_key(&body.email)))
        .map_err(limited)?;
    auth::forgot_password(&state.ctx, &body.email, &meta).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(AcceptedBody::new("if an account has this address, a reset email is on its way")),
    ))
}

/// Sets a new password with the token from the reset email; every session ends.
#[utoipa::path(post, path = "/api/v1/auth/reset-password", tag = "auth", request_body = ResetPasswordRequest,
    responses(
        (status = 200, description = "Password changed; sign in with it", body = AcceptedBody),
        (status = 400, description = "`invalid_token`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: the new password breaks a rule", body = ErrorBody),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    Json(body): Json<ResetPasswordRequest>,
) -> Result<Json<AcceptedBody>, ApiError> {
    per_ip(&state, "reset-password", &meta)?;
    auth::reset_password(&state.ctx, &body.token, &body.new_password, &meta).await?;
    Ok(Json(AcceptedBody::new("the password is changed; every device was signed out")))
}

#[cfg(test)]
mod tests {
    use super::account_key;

    #[test]
    fn an_account_key_is_a_fixed_size_digest_of_the_normalised_address() {
        assert_eq!(account_key(" Ada@Example.com "), account_key("ada@example.com"));
        assert_ne!(account_key("ada@example.com"), account_key("bob@example.com"));
        assert_eq!(account_key(&"a".repeat(1 << 20)).len(), 64);
    }
}
