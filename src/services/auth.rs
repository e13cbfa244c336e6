//! Authentication: registration, login, refresh-token rotation with theft detection, logout,
//! email verification and password reset.
//!
//! A login opens a *session*. The session hands out a short-lived access token (JWT naming the
//! session) and an opaque refresh token (stored as a hash). Each refresh uses the presented
//! token up and returns a new pair in the same session; presenting a used token again means
//! somebody copied it, so the whole session is revoked. Every authenticated request checks
//! the session and the user, so logout, a password change or disabling an account take effect
//! at once, not when the access token expires.

use chrono::{Duration as ChronoDuration, Utc};
use minijinja::context;
use serde_json::json;

use super::email::{self, Template};
use super::error::{AuthFailure, ConflictKind};
use super::{Context, Principal, RequestMeta, ServiceError, audit, races};
use crate::core::config::Secret;
use crate::core::security::{self, TokenError};
use crate::db::Executor;
use crate::models::audit::AuditAction;
use crate::models::session::TokenPair;
use crate::models::token::{NewToken, TokenKind, TokenState};
use crate::models::user::{NewUser, Role, User};
use crate::repositories::{self, RepoError, new_key};
use crate::utils::validators::{Email, FullName, Password};

/// What registration asks for.
#[derive(Debug)]
pub struct Registration<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub full_name: &'a str,
    /// Candidate or employer: registration never makes an admin.
    pub role: Role,
}

fn chrono(d: std::time::Duration) -> ChronoDuration {
    ChronoDuration::from_std(d).unwrap_or(ChronoDuration::MAX)
}

/// Opens a session for a user in the caller's transaction and returns its tokens.
async fn open_session(
    ctx: &Context,
    ex: &impl Executor,
    user: &User,
    meta: &RequestMeta,
) -> Result<TokenPair, ServiceError> {
    let session_id = new_key();
    let now = Utc::now();
    let session_expires = now + chrono(ctx.auth.session_max_age);
    repositories::sessions::create(
        ex,
        &session_id,
        &user.id,
        session_expires,
        meta.ip.clone(),
        meta.user_agent.as_ref().map(|ua| ua.chars().take(512).collect()),
    )
    .await?;
    issue_pair(ctx, ex, &user.id, user.role, &session_id, session_expires).await
}

/// A new refresh token in `session_id` plus an access token naming it.
async fn issue_pair(
    ctx: &Context,
    ex: &impl Executor,
    user_id: &str,
    role: Role,
    session_id: &str,
    session_expires: chrono::DateTime<Utc>,
) -> Result<TokenPair, ServiceError> {
    let refresh_token = security::random_token();
    let refresh_expires = (Utc::now() + chrono(ctx.auth.refresh_token_ttl)).min(session_expires);
    repositories::sessions::insert_refresh_token(
        ex,
        &new_key(),
        session_id,
        user_id,
        &security::hash_token(&refresh_token),
        refresh_expires,
    )
    .await?;
    let access_token =
        ctx.keys.issue(user_id, role.as_str(), session_id, ctx.auth.access_token_ttl);
    Ok(TokenPair {
        access_token,
        access_expires_in: ctx.auth.access_token_ttl.as_secs(),
        refresh_token,
        refresh_expires_in: (refresh_expires - Utc::now()).num_seconds().max(0) as u64,
    })
}

/// Stores a new single-use token of `kind` for `user`'s current address; returns the token
/// itself, which only the email will carry.
async fn issue_user_token(
    ex: &impl Executor,
    kind: TokenKind,
    user: &User,
    ttl: std::time::Duration,
) -> Result<String, ServiceError> {
    let token = security::random_token();
    let new = NewToken {
        kind,
        token_hash: security::hash_token(&token),
        email: user.email.clone(),
        user_id: Some(user.id.clone()),
        company_id: None,
        role: None,
        invited_by: None,
        expires_at: Utc::now() + chrono(ttl),
    };
    repositories::tokens::insert(ex, &new).await?;
    Ok(token)
}

/// Creates a verification token for `user` and queues the email that carries it.
async fn send_verification(
    ctx: &Context,
    ex: &impl Executor,
    user: &User,
) -> Result<(), ServiceError> {
    let token =
        issue_user_token(ex, TokenKind::VerifyEmail, user, ctx.auth.verify_email_ttl).await?;
    let values = context! {
        name => &user.full_name,
        email => &user.email,
        link => ctx.page_link("verify-email", &token),
        token => &token,
        hours => ctx.auth.verify_email_ttl.as_secs() / 3600,
    };
    email::queue(ex, Template::VerifyEmail, &user.email, &ctx.public_url, values).await
}

async fn notify_password_changed(
    ctx: &Context,
    ex: &impl Executor,
    user: &User,
    how: &str,
) -> Result<(), ServiceError> {
    let values = context! {
        name => &user.full_name,
        email => &user.email,
        how => how,
        when => Utc::now().format("%Y-%m-%d %H:%M").to_string(),
        forgot_link => ctx.page_url("forgot-password"),
    };
    email::queue(ex, Template::PasswordChanged, &user.email, &ctx.public_url, values).await
}

/// Registers a candidate or an employer, signs them in and sends the verification email, all
/// in one transaction.
pub async fn register(
    ctx: &Context,
    input: Registration<'_>,
    meta: &RequestMeta,
) -> Result<(User, TokenPair), ServiceError> {
    if input.role == Role::Admin {
        return Err(ServiceError::forbidden("registration cannot create an admin"));
    }
    let email = Email::parse(input.email).map_err(|e| ServiceError::validation(e.to_string()))?;
    let full_name =
        FullName::parse(input.full_name).map_err(|e| ServiceError::validation(e.to_string()))?;
    let password = Password::parse(input.password, &email)
        .map_err(|e| ServiceError::validation(e.to_string()))?;
    let password_hash = security::hash_password(password.into_secret()).await?;

    let new = NewUser {
        email: email.into_inner(),
        full_name: full_name.into_inner(),
        role: input.role,
        password_hash,
        email_verified: false,
    };
    // A registration racing another one for the same address may fail with a transaction
    // conflict instead of the unique index's refusal; made again, it meets the index.
    races::again_on_conflict(|| register_user(ctx, &new, meta)).await
}

/// Stores a new user, opens its first session and queues its verification email, in one
/// transaction.
async fn register_user(
    ctx: &Context,
    new: &NewUser,
    meta: &RequestMeta,
) -> Result<(User, TokenPair), ServiceError> {
    let tx = ctx.db.begin().await?;
    let user = match repositories::users::insert(&tx, new).await {
        Ok(user) => user,
        Err(RepoError::Duplicate { index }) if index == "user_email" => {
            return Err(ServiceError::conflict(
                ConflictKind::EmailTaken,
                "an account with this email already exists",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let pair = open_session(ctx, &tx, &user, meta).await?;
    send_verification(ctx, &tx, &user).await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::UserRegistered,
        Some(&user.id),
        meta,
        json!({ "role": user.role.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok((user, pair))
}

/// The answer to a wrong email or password. It stays that answer when its audit entry cannot
/// be written: an error here would give the failed-login count back, and would tell a guesser
/// "wrong" (an error) from "right" (200) while the database is in trouble.
fn wrong_credentials(audit_write: Result<(), ServiceError>) -> ServiceError {
    if let Err(err) = audit_write {
        tracing::error!(error = %err, "a failed login was not written to the audit log");
    }
    ServiceError::Unauthenticated(AuthFailure::BadCredentials)
}

/// Checks an email and password. A wrong password and an unknown email answer the same error
/// after the same amount of work (a full argon2 verification either way).
pub async fn login(
    ctx: &Context,
    email: &str,
    password: &str,
    meta: &RequestMeta,
) -> Result<(User, TokenPair), ServiceError> {
    let secret = Secret::new(password);
    let found = match Email::parse(email) {
        Ok(email) => {
            let user = repositories::users::find_by_email(&ctx.db, email.as_str()).await?;
            match user {
                Some(user) => {
                    let hash = repositories::users::password_hash(&ctx.db, &user.id).await?;
                    Some((user, hash.unwrap_or_default()))
                }
                None => None,
            }
        }
        Err(_) => None,
    };
    let Some((user, hash)) = found else {
        security::verify_against_nothing(secret).await?;
        let record = audit::record(
            &ctx.db,
            None,
            AuditAction::LoginFailed,
            None,
            meta,
            json!({ "reason": "unknown_account" }),
        )
        .await;
        return Err(wrong_credentials(record));
    };
    if !security::verify_password(secret, hash).await? {
        let record = audit::record(
            &ctx.db,
            Some(&user.id),
            AuditAction::LoginFailed,
            Some(&user.id),
            meta,
            json!({ "reason": "wrong_password" }),
        )
        .await;
        return Err(wrong_credentials(record));
    }
    if user.disabled {
        audit::record(
            &ctx.db,
            Some(&user.id),
            AuditAction::LoginFailed,
            Some(&user.id),
            meta,
            json!({ "reason": "disabled" }),
        )
        .await?;
        return Err(ServiceError::AccountDisabled);
    }
    let tx = ctx.db.begin().await?;
    let pair = open_session(ctx, &tx, &user, meta).await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::LoginSucceeded,
        Some(&user.id),
        meta,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok((user, pair))
}

/// Trades a refresh token for a new pair. A token used twice revokes its whole session.
pub async fn refresh(
    ctx: &Context,
    token: &str,
    meta: &RequestMeta,
) -> Result<TokenPair, ServiceError> {
    let bad = ServiceError::Unauthenticated(AuthFailure::BadRefreshToken);
    let hash = security::hash_token(token.trim());
    let Some(record) = repositories::sessions::find_refresh_token(&ctx.db, &hash).await? else {
        return Err(bad);
    };
    if record.used {
        return Err(reuse_detected(ctx, &record.session_id, &record.user_id, meta).await);
    }
    let now = Utc::now();
    if record.session_revoked || record.session_expires_at <= now || record.expires_at <= now {
        return Err(bad);
    }
    let user = repositories::users::find_by_id(&ctx.db, &record.user_id).await?.ok_or(bad)?;
    if user.disabled {
        return Err(ServiceError::AccountDisabled);
    }

    let tx = ctx.db.begin().await?;
    if !repositories::sessions::mark_refresh_token_used(&tx, &record.id).await? {
        tx.cancel().await;
        return Err(reuse_detected(ctx, &record.session_id, &record.user_id, meta).await);
    }
    repositories::sessions::touch(&tx, &record.session_id).await?;
    let pair =
        issue_pair(ctx, &tx, &user.id, user.role, &record.session_id, record.session_expires_at)
            .await?;
    match tx.commit().await {
        Ok(()) => Ok(pair),
        // Two requests rotated the same token at once: one of them holds a copy.
        Err(err) if err.is_conflict() => {
            Err(reuse_detected(ctx, &record.session_id, &record.user_id, meta).await)
        }
        Err(err) => Err(err.into()),
    }
}

/// Revokes a session whose refresh token came back after rotation, and says so in the log.
async fn reuse_detected(
    ctx: &Context,
    session_id: &str,
    user_id: &str,
    meta: &RequestMeta,
) -> ServiceError {
    let outcome = async {
        repositories::sessions::revoke(&ctx.db, session_id, "refresh_token_reused").await?;
        audit::record(
            &ctx.db,
            Some(user_id),
            AuditAction::RefreshReuseDetected,
            Some(user_id),
            meta,
            json!({ "session": session_id }),
        )
        .await
    }
    .await;
    match outcome {
        Ok(()) => ServiceError::Unauthenticated(AuthFailure::RefreshReused),
        Err(err) => err,
    }
}

/// Ends the caller's session: its refresh tokens and access tokens stop working.
pub async fn logout(
    ctx: &Context,
    principal: &Principal,
    meta: &RequestMeta,
) -> Result<(), ServiceError> {
    let tx = ctx.db.begin().await?;
    repositories::sessions::revoke(&tx, &principal.session_id, "logout").await?;
    audit::record(
        &tx,
        Some(&principal.user_id),
        AuditAction::Logout,
        Some(&principal.user_id),
        meta,
        json!({ "session": principal.session_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Who holds this access token, checked against the live session and account.
pub async fn authenticate(ctx: &Context, access_token: &str) -> Result<Principal, ServiceError> {
    let claims = ctx.keys.verify(access_token).map_err(|err| match err {
        TokenError::Expired => ServiceError::Unauthenticated(AuthFailure::Expired),
        TokenError::Invalid => ServiceError::Unauthenticated(AuthFailure::Missing),
    })?;
    let state = repositories::sessions::state(&ctx.db, &claims.sid)
        .await?
        .filter(|s| s.user_id == claims.sub)
        .ok_or(ServiceError::Unauthenticated(AuthFailure::SessionEnded))?;
    if state.revoked || state.expires_at <= Utc::now() {
        return Err(ServiceError::Unauthenticated(AuthFailure::SessionEnded));
    }
    if state.disabled {
        return Err(ServiceError::AccountDisabled);
    }
    let role = state.role.parse::<Role>().map_err(|e| ServiceError::Internal(e.into()))?;
    Ok(Principal { user_id: state.user_id, role, session_id: claims.sid })
}

/// Confirms an email address with the token that was sent to it.
pub async fn verify_email(
    ctx: &Context,
    token: &str,
    meta: &RequestMeta,
) -> Result<User, ServiceError> {
    let tx = ctx.db.begin().await?;
    let consumed = repositories::tokens::consume(
        &tx,
        TokenKind::VerifyEmail,
        &security::hash_token(token.trim()),
    )
    .await?
    .ok_or(ServiceError::InvalidToken)?;
    let user_id = consumed.user_id.ok_or(ServiceError::InvalidToken)?;
    let user =
        repositories::users::find_by_id(&tx, &user_id).await?.ok_or(ServiceError::InvalidToken)?;
    // The address may have changed since the token was sent; it only vouches for that one.
    if user.email != consumed.email {
        return Err(ServiceError::InvalidToken);
    }
    let user = repositories::users::set_email_verified(&tx, &user.id)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    audit::record(&tx, Some(&user.id), AuditAction::EmailVerified, Some(&user.id), meta, json!({}))
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// Whether an emailed token of `kind` still works, was used or expired (`None`: unknown), so a
/// page can say why a link did nothing. It changes nothing.
pub async fn token_state(
    ctx: &Context,
    kind: TokenKind,
    token: &str,
) -> Result<Option<TokenState>, ServiceError> {
    let hash = security::hash_token(token.trim());
    Ok(repositories::tokens::state(&ctx.db, kind, &hash).await?)
}

/// Sends a new verification email to the caller.
pub async fn resend_verification(ctx: &Context, principal: &Principal) -> Result<(), ServiceError> {
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    if user.email_verified {
        return Err(ServiceError::conflict(
            ConflictKind::AlreadyVerified,
            "this email address is already verified",
        ));
    }
    let tx = ctx.db.begin().await?;
    send_verification(ctx, &tx, &user).await?;
    tx.commit().await?;
    Ok(())
}

/// Emails a reset link if the account exists; says nothing either way.
pub async fn forgot_password(
    ctx: &Context,
    email: &str,
    meta: &RequestMeta,
) -> Result<(), ServiceError> {
    let email = Email::parse(email).map_err(|e| ServiceError::validation(e.to_string()))?;
    let Some(user) = repositories::users::find_by_email(&ctx.db, email.as_str()).await? else {
        return Ok(());
    };
    if user.disabled {
        return Ok(());
    }
    let tx = ctx.db.begin().await?;
    let token =
        issue_user_token(&tx, TokenKind::ResetPassword, &user, ctx.auth.reset_password_ttl).await?;
    let values = context! {
        name => &user.full_name,
        email => &user.email,
        link => ctx.page_link("reset-password", &token),
        token => &token,
        minutes => ctx.auth.reset_password_ttl.as_secs() / 60,
    };
    email::queue(&tx, Template::ResetPassword, &user.email, &ctx.public_url, values).await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::PasswordResetRequested,
        Some(&user.id),
        meta,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a new password with a reset token; every session of the account ends.
pub async fn reset_password(
    ctx: &Context,
    token: &str,
    new_password: &str,
    meta: &RequestMeta,
) -> Result<(), ServiceError> {
    let hash = security::hash_token(token.trim());
    // Look first, use up later: a password the policy refuses must not burn the link.
    let found = repositories::tokens::find_valid(&ctx.db, TokenKind::ResetPassword, &hash)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    let user_id = found.user_id.ok_or(ServiceError::InvalidToken)?;
    let user = repositories::users::find_by_id(&ctx.db, &user_id)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    let email = Email::parse(&user.email).map_err(|e| ServiceError::Internal(e.into()))?;
    let password = Password::parse(new_password, &email)
        .map_err(|e| ServiceError::validation(e.to_string()))?;
    let password_hash = security::hash_password(password.into_secret()).await?;

    let tx = ctx.db.begin().await?;
    repositories::tokens::consume(&tx, TokenKind::ResetPassword, &hash)
        .await?
        .ok_or(ServiceError::InvalidToken)?;
    repositories::users::set_password_hash(&tx, &user.id, password_hash).await?;
    repositories::tokens::invalidate_for_user(&tx, TokenKind::ResetPassword, &user.id).await?;
    let ended =
        repositories::sessions::revoke_all_for_user(&tx, &user.id, "password_reset").await?;
    // The link reached the mailbox, which proves the address.
    if !user.email_verified && found.email == user.email {
        repositories::users::set_email_verified(&tx, &user.id).await?;
    }
    notify_password_changed(ctx, &tx, &user, "reset").await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::PasswordReset,
        Some(&user.id),
        meta,
        json!({ "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes the caller's password after checking the current one; every session ends and a new
/// one is opened for the caller.
pub async fn change_password(
    ctx: &Context,
    principal: &Principal,
    current: &str,
    new_password: &str,
    meta: &RequestMeta,
) -> Result<TokenPair, ServiceError> {
    let user = repositories::users::find_by_id(&ctx.db, &principal.user_id)
        .await?
        .ok_or(ServiceError::NotFound("user"))?;
    let hash = repositories::users::password_hash(&ctx.db, &user.id).await?.unwrap_or_default();
    if !security::verify_password(Secret::new(current), hash).await? {
        return Err(ServiceError::validation("the current password is wrong"));
    }
    let email = Email::parse(&user.email).map_err(|e| ServiceError::Internal(e.into()))?;
    let password = Password::parse(new_password, &email)
        .map_err(|e| ServiceError::validation(e.to_string()))?;
    if current == new_password {
        return Err(ServiceError::validation("the new password must differ from the current one"));
    }
    let password_hash = security::hash_password(password.into_secret()).await?;

    let tx = ctx.db.begin().await?;
    repositories::users::set_password_hash(&tx, &user.id, password_hash).await?;
    repositories::tokens::invalidate_for_user(&tx, TokenKind::ResetPassword, &user.id).await?;
    let ended =
        repositories::sessions::revoke_all_for_user(&tx, &user.id, "password_changed").await?;
    let pair = open_session(ctx, &tx, &user, meta).await?;
    notify_password_changed(ctx, &tx, &user, "changed").await?;
    audit::record(
        &tx,
        Some(&user.id),
        AuditAction::PasswordChanged,
        Some(&user.id),
        meta,
        json!({ "sessions_ended": ended }),
    )
    .await?;
    tx.commit().await?;
    Ok(pair)
}
