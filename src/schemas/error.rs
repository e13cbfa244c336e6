//! The error body every failed request answers with.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error":{"code":"…","message":"…"}}`
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `not_found`; see the table in the API description.
    #[schema(example = "not_found")]
    pub code: String,
    /// Human-readable explanation; may change between versions.
    #[schema(example = "no route for GET /api/v1/nope")]
    pub message: String,
}
