//! The pages the links in account emails open, when the site has no front end of its own:
//! `/verify-email`, `/reset-password` and `/accept-invite`, each with `?token=…`, and
//! `/forgot-password`, where a new reset link is asked for.
//!
//! A GET never acts: mail scanners and link previews follow links, so the page asks, and only
//! the form it posts back does the work, through the same services as the JSON endpoints (and
//! the same per-address rate limits). What went wrong is said in words on the page, with what
//! to do next.

use axum::extract::State;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Form, extract::Query};

use super::AppState;
use super::error::ApiError;
use super::extract::ClientMeta;
use super::html::{self, Page};
use super::routes::Routes;
use super::v1::auth::{account_key, per_ip};
use crate::models::token::{TokenKind, TokenState};
use crate::schemas::pages::{ForgotPasswordForm, LinkQuery, ResetPasswordForm, VerifyEmailForm};
use crate::services::{ServiceError, auth};

pub fn router() -> Routes {
    Routes::new()
        .route("/verify-email", get(verify_email_page).post(verify_email))
        .route("/reset-password", get(reset_password_page).post(reset_password))
        .route("/accept-invite", get(invite_page))
        .route("/forgot-password", get(forgot_password_page).post(forgot_password))
}

/// What a link is for, and so what a page says about it.
#[derive(Debug, Clone, Copy)]
enum Link {
    Verify,
    Reset,
    Invite,
}

impl Link {
    fn kind(self) -> TokenKind {
        match self {
            Link::Verify => TokenKind::VerifyEmail,
            Link::Reset => TokenKind::ResetPassword,
            Link::Invite => TokenKind::CompanyInvite,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Link::Verify => "Confirm your email address",
            Link::Reset => "Choose a new password",
            Link::Invite => "Company invitation",
        }
    }

    /// What the reader can do to get a link that works.
    fn remedy(self) -> &'static str {
        match self {
            Link::Verify => "Sign in and ask for a new verification email.",
            Link::Reset => "Ask for a new password reset email at /forgot-password.",
            Link::Invite => "Ask the person who invited you to send a new invitation.",
        }
    }
}

/// The token of a link, or an empty one when the query is missing or malformed (an empty
/// token matches nothing, so the page says the link is not valid).
fn token_of(query: Result<Query<LinkQuery>, QueryRejection>) -> String {
    query.ok().and_then(|Query(q)| q.token).unwrap_or_default()
}

/// A page for an error that is not about the link itself (rate limit, database trouble).
fn failure(err: impl Into<ApiError>) -> Page {
    let err = err.into();
    let status = err.code.status();
    let text = if status == StatusCode::TOO_MANY_REQUESTS {
        "Too many attempts from your address. Wait a little and try again.".to_owned()
    } else if status.is_server_error() {
        "Something went wrong on our side. Try again in a moment.".to_owned()
    } else {
        format!("This did not work: {}.", err.message)
    };
    let page = Page::message(status, "Something went wrong", &text);
    match err.retry_after {
        Some(seconds) => page.retry_after(seconds),
        None => page,
    }
}

/// The page for a link whose token does not work, saying why: used, expired or unknown.
/// `state` is what the token's row says now; a token that is still valid but could not be used
/// (its account's address changed since) is said as no longer usable.
fn link_problem(link: Link, state: Option<TokenState>) -> Page {
    let (status, what) = match state {
        Some(TokenState::Used) => (
            StatusCode::GONE,
            match link {
                Link::Verify => {
                    "This link was already used: the address it confirms was verified then."
                }
                Link::Reset => "This link was already used, or a newer one replaced it.",
                Link::Invite => "This invitation was already accepted or withdrawn.",
            },
        ),
        Some(TokenState::Expired) => (StatusCode::GONE, "This link has expired."),
        Some(TokenState::Valid) => (StatusCode::BAD_REQUEST, "This link cannot be used any more."),
        None => (
            StatusCode::BAD_REQUEST,
            "This link is not valid. Check that you opened the whole link from the email.",
        ),
    };
    let body = format!("{}{}", html::paragraph(what), html::paragraph(link.remedy()));
    Page::new(status, link.title(), body)
}

/// What a token's row says, for the page; a token nobody could have been sent is unknown.
async fn state_of(
    state: &AppState,
    link: Link,
    token: &str,
) -> Result<Option<TokenState>, ServiceError> {
    if token.trim().is_empty() {
        return Ok(None);
    }
    auth::token_state(&state.ctx, link.kind(), token).await
}

/// The page a failed POST answers: why the token did not work, or the error itself.
async fn after_failure(state: &AppState, link: Link, token: &str, err: ServiceError) -> Page {
    match err {
        ServiceError::InvalidToken => match state_of(state, link, token).await {
            Ok(token_state) => link_problem(link, token_state),
            Err(err) => failure(err),
        },
        err => failure(err),
    }
}

/// The page the verification email links to: it asks before verifying anything.
#[utoipa::path(get, path = "/verify-email", tag = "pages", params(LinkQuery),
    responses(
        (status = 200, description = "A page with a button that confirms the address", content_type = "text/html"),
        (status = 400, description = "A page saying the link is not valid", content_type = "text/html"),
        (status = 410, description = "A page saying the link was used or has expired, and how to get a new one", content_type = "text/html"),
    ))]
pub async fn verify_email_page(
    State(state): State<AppState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Page {
    let link = Link::Verify;
    let token = token_of(query);
    match state_of(&state, link, &token).await {
        Ok(Some(TokenState::Valid)) => {
            let body = html::form(
                "/verify-email",
                &[("token", &token)],
                &html::paragraph("Confirm that this email address is yours?"),
                "Confirm my address",
            );
            Page::new(StatusCode::OK, link.title(), body)
        }
        Ok(token_state) => link_problem(link, token_state),
        Err(err) => failure(err),
    }
}

/// Verifies the address with the token the page posts back.
#[utoipa::path(post, path = "/verify-email", tag = "pages",
    request_body(content = VerifyEmailForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A page saying the address is verified", content_type = "text/html"),
        (status = 400, description = "A page saying the link or the form is not valid", content_type = "text/html"),
        (status = 410, description = "A page saying the link was used or has expired, and how to get a new one", content_type = "text/html"),
        (status = 413, description = "A page saying the form is too large", content_type = "text/html"),
        (status = 429, description = "A page saying to wait (too many attempts from this address)", content_type = "text/html"),
    ))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    form: Result<Form<VerifyEmailForm>, FormRejection>,
) -> Page {
    let link = Link::Verify;
    if let Err(err) = per_ip(&state, "verify-email", &meta) {
        return failure(err);
    }
    let token = match form {
        Ok(Form(form)) => form.token.unwrap_or_default(),
        Err(rejection) => return bad_form(link, &rejection),
    };
    if token.trim().is_empty() {
        return link_problem(link, None);
    }
    match auth::verify_email(&state.ctx, &token, &meta).await {
        Ok(user) => Page::new(
            StatusCode::OK,
            "Email address verified",
            format!(
                "{}{}",
                html::paragraph(&format!("Thank you: {} is verified.", user.email)),
                html::paragraph("You can close this page.")
            ),
        ),
        Err(err) => after_failure(&state, link, &token, err).await,
    }
}

/// A form that did not arrive as the page sends it (not form-encoded, an unknown field).
fn bad_form(link: Link, rejection: &FormRejection) -> Page {
    let status = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    };
    let text = "The form did not arrive as this page sends it. Open the link from the email again.";
    Page::message(status, link.title(), text)
}

/// The reset form; `problem` is said above it (never the password itself).
fn reset_form(status: StatusCode, token: &str, problem: Option<&str>) -> Page {
    let mut fields = String::new();
    if let Some(problem) = problem {
        fields
            .push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", html::escape(problem)));
    }
    fields.push_str(&html::password_input("password", "New password", "new-password"));
    fields.push_str(&html::password_input(
        "confirmation",
        "The new password again",
        "new-password",
    ));
    fields.push_str(&html::paragraph(
        "At least 8 characters, not a common password and not your email address. \
         Every device you are signed in on will be signed out.",
    ));
    let body = html::form("/reset-password", &[("token", token)], &fields, "Change my password");
    Page::new(status, Link::Reset.title(), body)
}

/// The page the reset email links to: a form for the new password.
#[utoipa::path(get, path = "/reset-password", tag = "pages", params(LinkQuery),
    responses(
        (status = 200, description = "A page with a form for the new password", content_type = "text/html"),
        (status = 400, description = "A page saying the link is not valid", content_type = "text/html"),
        (status = 410, description = "A page saying the link was used or has expired, and how to get a new one", content_type = "text/html"),
    ))]
pub async fn reset_password_page(
    State(state): State<AppState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Page {
    let link = Link::Reset;
    let token = token_of(query);
    match state_of(&state, link, &token).await {
        Ok(Some(TokenState::Valid)) => reset_form(StatusCode::OK, &token, None),
        Ok(token_state) => link_problem(link, token_state),
        Err(err) => failure(err),
    }
}

/// Sets the new password with the token the form posts back, by the rules of
/// `POST /api/v1/auth/reset-password`; a refused password is said on the form again.
#[utoipa::path(post, path = "/reset-password", tag = "pages",
    request_body(content = ResetPasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A page saying the password is changed", content_type = "text/html"),
        (status = 400, description = "A page saying the link or the form is not valid", content_type = "text/html"),
        (status = 410, description = "A page saying the link was used or has expired, and how to get a new one", content_type = "text/html"),
        (status = 422, description = "The form again, saying why the password was refused (too weak, or the two differ)", content_type = "text/html"),
        (status = 413, description = "A page saying the form is too large", content_type = "text/html"),
        (status = 429, description = "A page saying to wait (too many attempts from this address)", content_type = "text/html"),
    ))]
pub async fn reset_password(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    form: Result<Form<ResetPasswordForm>, FormRejection>,
) -> Page {
    let link = Link::Reset;
    if let Err(err) = per_ip(&state, "reset-password", &meta) {
        return failure(err);
    }
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => return bad_form(link, &rejection),
    };
    let token = form.token.unwrap_or_default();
    // A link that no longer works is said first: a new password would not help.
    match state_of(&state, link, &token).await {
        Ok(Some(TokenState::Valid)) => {}
        Ok(token_state) => return link_problem(link, token_state),
        Err(err) => return failure(err),
    }
    let password = form.password.unwrap_or_default();
    if password != form.confirmation.unwrap_or_default() {
        let problem = "The two passwords differ. Type the same new password twice.";
        return reset_form(StatusCode::UNPROCESSABLE_ENTITY, &token, Some(problem));
    }
    match auth::reset_password(&state.ctx, &token, &password, &meta).await {
        Ok(()) => Page::new(
            StatusCode::OK,
            "Password changed",
            format!(
                "{}{}",
                html::paragraph("Your password is changed, and every device was signed out."),
                html::paragraph("Sign in with the new password.")
            ),
        ),
        Err(ServiceError::Validation(reason)) => {
            let problem = format!("This password cannot be used: {reason}.");
            reset_form(StatusCode::UNPROCESSABLE_ENTITY, &token, Some(&problem))
        }
        Err(err) => after_failure(&state, link, &token, err).await,
    }
}

/// The page the invitation email links to. An invitation is accepted by a signed-in account
/// with the invited address, which these pages cannot be; so the page says whether the
/// invitation still works and how to accept it.
#[utoipa::path(get, path = "/accept-invite", tag = "pages", params(LinkQuery),
    responses(
        (status = 200, description = "A page saying the invitation is open and how to accept it", content_type = "text/html"),
        (status = 400, description = "A page saying the link is not valid", content_type = "text/html"),
        (status = 410, description = "A page saying the invitation was used or has expired", content_type = "text/html"),
    ))]
pub async fn invite_page(
    State(state): State<AppState>,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Page {
    let link = Link::Invite;
    let token = token_of(query);
    match state_of(&state, link, &token).await {
        Ok(Some(TokenState::Valid)) => {
            let body = format!(
                "{}{}<p><code>{}</code></p>",
                html::paragraph("This invitation is open."),
                html::paragraph(
                    "To accept it, sign in (or register as an employer) with the address it was \
                     sent to, then accept it in the portal's app, or send this code to \
                     POST /api/v1/companies/invites/accept:"
                ),
                html::escape(&token)
            );
            Page::new(StatusCode::OK, link.title(), body)
        }
        Ok(token_state) => link_problem(link, token_state),
        Err(err) => failure(err),
    }
}

/// The form that asks for a reset email; `problem` is said above it.
fn forgot_form(status: StatusCode, problem: Option<&str>) -> Page {
    let mut fields = String::new();
    if let Some(problem) = problem {
        fields
            .push_str(&format!("<p class=\"error\" role=\"alert\">{}</p>", html::escape(problem)));
    }
    fields.push_str(
        "<label for=\"email\">Your email address<input type=\"email\" id=\"email\" \
         name=\"email\" autocomplete=\"email\" required></label>",
    );
    let body = html::form("/forgot-password", &[], &fields, "Send me a reset link");
    Page::new(status, "Forgot your password?", body)
}

/// The page the password-changed email links to: a form that asks for a reset email.
#[utoipa::path(get, path = "/forgot-password", tag = "pages",
    responses((status = 200, description = "A page with a form for the account's email address", content_type = "text/html")))]
pub async fn forgot_password_page() -> Page {
    forgot_form(StatusCode::OK, None)
}

/// Sends a reset email if an account has the address, by the rules and limits of
/// `POST /api/v1/auth/forgot-password`; the page says the same either way.
#[utoipa::path(post, path = "/forgot-password", tag = "pages",
    request_body(content = ForgotPasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A page saying that an email is on its way if an account has the address", content_type = "text/html"),
        (status = 400, description = "A page saying the form is not valid", content_type = "text/html"),
        (status = 413, description = "A page saying the form is too large", content_type = "text/html"),
        (status = 422, description = "The form again, saying the address is not an email address", content_type = "text/html"),
        (status = 429, description = "A page saying to wait (too many attempts or emails)", content_type = "text/html"),
    ))]
pub async fn forgot_password(
    State(state): State<AppState>,
    ClientMeta(meta): ClientMeta,
    form: Result<Form<ForgotPasswordForm>, FormRejection>,
) -> Page {
    if let Err(err) = per_ip(&state, "forgot-password", &meta) {
        return failure(err);
    }
    let email = match form {
        Ok(Form(form)) => form.email.unwrap_or_default(),
        Err(rejection) => return bad_form(Link::Reset, &rejection),
    };
    let key = format!("email|{}", account_key(&email));
    if let Err(retry) = state.limits.emails_per_account.check(&key) {
        return failure(ApiError::rate_limited(retry.0));
    }
    match auth::forgot_password(&state.ctx, &email, &meta).await {
        Ok(()) => Page::message(
            StatusCode::OK,
            "Check your email",
            "If an account has this address, an email with a reset link is on its way.",
        ),
        Err(ServiceError::Validation(reason)) => {
            let problem = format!("This is not an email address: {reason}.");
            forgot_form(StatusCode::UNPROCESSABLE_ENTITY, Some(&problem))
        }
        Err(err) => failure(err),
    }
}
