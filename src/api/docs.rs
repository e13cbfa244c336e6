//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive docs
//! page at `/docs`, whose assets are compiled into the binary so it works offline.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error::ErrorCode;
use super::health;
use super::v1::{admin, auth, companies, users};
use crate::schemas::error::ErrorBody;

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(title = "jobportal API"),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::register, auth::login, auth::refresh, auth::logout, auth::verify_email,
        auth::resend_verification, auth::forgot_password, auth::reset_password,
        users::get_me, users::update_me, users::change_password, users::export, users::delete_me,
        companies::create, companies::get_company, companies::update, companies::members,
        companies::invite, companies::accept_invite, companies::remove_member,
        companies::transfer_ownership,
        admin::list_users, admin::disable_user, admin::enable_user, admin::verify_company,
        admin::unverify_company, admin::audit_log,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Registration, sign-in, tokens, email verification, password reset"),
        (name = "users", description = "The caller's own account: profile, password, export, deletion"),
        (name = "companies", description = "Company profiles, members, invitations, ownership"),
        (name = "admin", description = "Moderation and the audit log (admins only)"),
    )
)]
struct ApiDoc;

/// Declares the `bearer` scheme the secured paths name: `Authorization: Bearer <access token>`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

/// The OpenAPI document, with the table of error codes in its description.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut description = String::from(
        "The HTTP API of jobportal, a self-hosted job portal.\n\n\
         Every error answers `{\"error\":{\"code\":\"…\",\"message\":\"…\"}}`; codes are stable:\n\n\
         | code | status |\n|---|---|\n",
    );
    for code in ErrorCode::ALL {
        description.push_str(&format!("| `{}` | {} |\n", code.as_str(), code.status().as_u16()));
    }
    doc.info.description = Some(description);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// `/docs` (Swagger UI) and the document it reads.
pub fn swagger_ui() -> SwaggerUi {
    // The validator badge would fetch an image from validator.swagger.io: off, we are offline.
    SwaggerUi::new("/docs")
        .url(OPENAPI_PATH, openapi())
        .config(Config::from(OPENAPI_PATH).validator_url("none"))
}
