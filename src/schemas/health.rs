//! Liveness and readiness answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::health::{Check, Readiness};

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
    /// The models by name: `embeddings`, and `chat` when this process serves a chat model
    /// (local, or a hosted provider). A model that is not ready does not make the portal
    /// unready: search falls back to keyword ranking, and a request that needs a model answers
    /// 503 `model_unavailable`.
    pub models: BTreeMap<String, ModelBody>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelBody {
    /// `loaded` (for a hosted chat model: configured), `loading`, `missing` (the detail names
    /// the command that fetches it), `failed` (the detail says why), or `not_loaded` (the
    /// embedder of a process that does not use it).
    #[schema(example = "loaded")]
    pub state: String,
    /// What it is (`local SmolLM2-135M-Instruct.Q4_1.gguf`, `openai gpt-4o-mini at
    /// https://api.openai.com/v1`; never a key), or what is wrong and the command that fixes it.
    #[schema(example = "all-MiniLM-L6-v2; 1200 job vectors")]
    pub detail: String,
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
        let models = r
            .models
            .iter()
            .map(|m| {
                (
                    m.name.to_owned(),
                    ModelBody { state: m.state.to_owned(), detail: m.detail.clone() },
                )
            })
            .collect();
        Self { status: if r.ready() { "ready" } else { "unavailable" }.into(), checks, models }
    }
}
