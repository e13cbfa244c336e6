//! Liveness and readiness answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::services::health::{Check, Readiness};

/// `GET /healthz`: the process is alive.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// Version of the running binary.
    #[schema(example = "0.1.0")]
    pub version: String,
}

/// `GET /readyz`: every check and the overall verdict.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadinessBody {
    /// `ready` when every check passes, `unavailable` otherwise.
    #[schema(example = "ready")]
    pub status: String,
    /// One entry per check, by name: `database`, `migrations`, `workers`, `scheduler`.
    pub checks: BTreeMap<String, CheckBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckBody {
    /// `ok` or `failing`.
    #[schema(example = "ok")]
    pub status: String,
    #[schema(example = "1 applied, 0 pending")]
    pub detail: String,
}

impl From<&Check> for CheckBody {
    fn from(check: &Check) -> Self {
        Self {
            status: if check.ok { "ok" } else { "failing" }.into(),
            detail: check.detail.clone(),
        }
    }
}

impl From<&Readiness> for ReadinessBody {
    fn from(r: &Readiness) -> Self {
        let checks = BTreeMap::from([
            ("database".to_owned(), CheckBody::from(&r.database)),
            ("migrations".to_owned(), CheckBody::from(&r.migrations)),
            ("workers".to_owned(), CheckBody::from(&r.workers)),
            ("scheduler".to_owned(), CheckBody::from(&r.scheduler)),
        ]);
        Self { status: if r.ready() { "ready" } else { "unavailable" }.into(), checks }
    }
}
