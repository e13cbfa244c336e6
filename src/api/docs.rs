//! The OpenAPI 3.1 document, generated from the handlers' annotations, and the interactive docs
//! page at `/docs`, whose assets are compiled into the binary so it works offline.

use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::error::ErrorCode;
use super::health;
use crate::schemas::error::ErrorBody;

pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(title = "jobportal API"),
    paths(health::healthz, health::readyz, health::metrics),
    components(schemas(ErrorBody)),
    tags((name = "operations", description = "Liveness, readiness and metrics"))
)]
struct ApiDoc;

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
