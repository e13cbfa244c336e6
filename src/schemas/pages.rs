//! What the HTML pages for the links in emails read: the token in the link, and the forms
//! those pages post back.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The query of a link in an email. The token is optional here so that a link cut short still
/// answers a page that says so, not an error body.
#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The token from the email.
    pub token: Option<String>,
}

/// The form of the email verification page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailForm {
    /// The token from the email.
    pub token: Option<String>,
}

/// The form of the password reset page. It has no `Debug`, so the passwords cannot end up in
/// a log line.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordForm {
    /// The token from the email.
    pub token: Option<String>,
    /// The new password.
    pub password: Option<String>,
    /// The new password again.
    pub confirmation: Option<String>,
}

/// The form of the page that asks for a reset email.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordForm {
    /// The account's email address.
    pub email: Option<String>,
}
