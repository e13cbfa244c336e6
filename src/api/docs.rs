//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive docs
//! page at `/docs`, whose assets are compiled into the binary so it works offline.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error::ErrorCode;
use super::v1::{
    admin, applications, assistant, auth, companies, jobs, recommendations, resumes, saved,
    suggestions, users,
};
use super::{health, pages};
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
        admin::unverify_company, admin::audit_log, admin::list_tasks, admin::retry_task,
        admin::discard_task, admin::get_task, admin::import_jobs, admin::pending_jobs, admin::approve_job, admin::reject_job,
        companies::company_jobs,
        jobs::search_jobs, jobs::get_job, jobs::jsonld, jobs::create, jobs::update, jobs::publish,
        jobs::close, jobs::archive,
        resumes::upload, resumes::list, resumes::get_resume, resumes::correct, resumes::delete,
        resumes::download, resumes::make_default, resumes::reparse,
        applications::apply, applications::list_for_job, applications::list_mine,
        applications::get_application, applications::edit_cover_letter, applications::move_stage,
        applications::withdraw, applications::history, applications::notes, applications::add_note,
        applications::resume, applications::resume_file,
        saved::save_job, saved::unsave_job, saved::list_saved_jobs, saved::create_search,
        saved::list_searches, saved::get_search, saved::update_search, saved::delete_search,
        saved::unsubscribe, saved::confirm_unsubscribe,
        pages::verify_email_page, pages::verify_email, pages::reset_password_page, pages::reset_password,
        pages::invite_page, pages::forgot_password_page, pages::forgot_password,
        recommendations::recommended_jobs, recommendations::dismiss, recommendations::undismiss,
        recommendations::get_preferences, recommendations::put_preferences, recommendations::recommended_candidates,
        applications::draft_cover_letter, resumes::feedback, recommendations::recommended_job,
        assistant::create, assistant::list, assistant::get_conversation, assistant::delete,
        assistant::send_message,
        suggestions::suggest, suggestions::similar, suggestions::salary_insights,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth, &CommonErrors),
    tags(
        (name = "operations", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Registration, sign-in, tokens, email verification, password reset"),
        (name = "users", description = "The caller's own account: profile, password, export, deletion"),
        (name = "companies", description = "Company profiles, members, invitations, ownership"),
        (name = "jobs", description = "Search, job pages and JSON-LD; posting and managing jobs"),
        (name = "resumes", description = "A candidate's resumes: upload, parsed profile, corrections, files"),
        (name = "applications", description = "Applying, the employer's pipeline, stage history, internal notes"),
        (name = "saved", description = "Saved jobs and saved searches (job alerts)"),
        (name = "recommendations", description = "Explained job and candidate recommendations from the local embedding model"),
        (name = "admin", description = "Moderation and the audit log (admins only)"),
        (name = "pages", description = "The HTML pages the links in account emails open (no JavaScript; a GET only asks, the form it posts acts)"),
        (name = "assistant", description = "Conversations with the assistant: questions answered from the portal's own data, each claim citing its source; answers as JSON or streamed as server-sent events"),
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

/// Adds the answers any operation of a kind can give, so each path documents every status a
/// client can see: a body can be malformed (400), too large (413), of the wrong type (415) or
/// of the wrong shape (422); parameters can be malformed (400); a secured operation can be
/// called without a valid token (401) or by a disabled account (403); a path can name nothing
/// (404); a write can meet a concurrent one (409); anything can time out (503). Answers an
/// operation documents itself are kept.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                )
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            let operations = [
                (false, item.get.as_mut()),
                (true, item.post.as_mut()),
                (true, item.put.as_mut()),
                (true, item.patch.as_mut()),
                (true, item.delete.as_mut()),
            ];
            for (writes, operation) in operations {
                let Some(operation) = operation else { continue };
                let mut add = |status: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(description).into());
                };
                if operation.request_body.is_some() {
                    add("400", "`invalid_json`: the body is not JSON");
                    add("413", "`payload_too_large`");
                    add("415", "`unsupported_media_type`: not application/json");
                    add(
                        "422",
                        "`validation_failed`: a field is missing, of the wrong type, unknown or breaks a rule",
                    );
                }
                let parameters = operation.parameters.as_deref().unwrap_or_default();
                if !parameters.is_empty() {
                    add("400", "`invalid_parameter`");
                }
                if parameters
                    .iter()
                    .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))
                {
                    add("404", "`not_found`");
                }
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add("401", "`unauthorized` or `token_expired`");
                    add("403", "`account_disabled` or `forbidden`");
                }
                if writes {
                    add("409", "`conflict`: a concurrent change got in the way; retry");
                }
                add("503", "`timeout`, `unavailable` or `database_unavailable`");
            }
        }
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
