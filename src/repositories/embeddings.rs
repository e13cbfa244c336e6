//! Queries on what semantic search and recommendations store: `job_embedding` (job vectors),
//! `recommendation_dismissal` and `candidate_preferences`.

use surrealdb::types::{RecordId, SurrealValue};

use super::{RepoError, key_string, wrote_any};
use crate::db::Executor;
use crate::models::recommendation::Preferences;

/// A stored vector of one job.
#[derive(Debug, Clone)]
pub struct StoredVector {
    pub job_id: String,
    /// Hex hash of the text it was made from.
    pub hash: String,
    pub vector: Vec<f32>,
}

#[derive(SurrealValue)]
struct VectorRow {
    id: RecordId,
    model: String,
    hash: String,
    vector: Vec<f64>,
}

fn from_rows(rows: Vec<VectorRow>, model: &str) -> Vec<StoredVector> {
    rows.into_iter()
        .filter(|r| r.model == model)
        .map(|r| StoredVector {
            job_id: key_string(&r.id),
            hash: r.hash,
            vector: r.vector.into_iter().map(|v| v as f32).collect(),
        })
        .collect()
}

/// The stored vectors of these jobs made by `model` (jobs without one are left out).
pub async fn find_many(
    ex: &impl Executor,
    job_ids: &[String],
    model: &str,
) -> Result<Vec<StoredVector>, RepoError> {
    if job_ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<RecordId> =
        job_ids.iter().map(|id| RecordId::new("job_embedding", id.as_str())).collect();
    let mut response =
        ex.query("SELECT id, model, hash, vector FROM $ids").bind(("ids", ids)).await?;
    let rows: Vec<VectorRow> = response.take(0)?;
    Ok(from_rows(rows, model))
}

/// Stores vectors (replacing what a job had).
pub async fn upsert_many(
    ex: &impl Executor,
    vectors: &[StoredVector],
    model: &str,
) -> Result<(), RepoError> {
    if vectors.is_empty() {
        return Ok(());
    }
    #[derive(SurrealValue)]
    struct Row {
        key: String,
        hash: String,
        vector: Vec<f64>,
    }
    let rows: Vec<Row> = vectors
        .iter()
        .map(|v| Row {
            key: v.job_id.clone(),
            hash: v.hash.clone(),
            vector: v.vector.iter().map(|x| f64::from(*x)).collect(),
        })
        .collect();
    ex.query(
        "FOR $row IN $rows { UPSERT type::record('job_embedding', $row.key) \
         SET model = $model, hash = $row.hash, vector = $row.vector, updated_at = time::now() RETURN NONE; }",
    )
    .bind(("rows", rows))
    .bind(("model", model.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// The claims' key: a job and the hash of its text.
fn claim_key(job_id: &str, hash: &str) -> String {
    format!("{job_id}:{hash}")
}

/// Claims the computing of a job's vector for its text's hash, for `lease`: `true` when this
/// caller got it (no other live claim for the same job and hash; an expired one is taken over).
pub async fn claim(
    ex: &impl Executor,
    job_id: &str,
    hash: &str,
    lease: std::time::Duration,
) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "DELETE type::record('embedding_claim', $key) WHERE until < time::now() RETURN NONE; \
             CREATE type::record('embedding_claim', $key) SET job = $job, \
             until = time::now() + type::duration($lease) RETURN NONE;",
        )
        .bind(("key", claim_key(job_id, hash)))
        .bind(("job", job_id.to_owned()))
        .bind(("lease", format!("{}ms", lease.as_millis())))
        .await?;
    let errors = response.take_errors();
    match errors.into_values().next() {
        None => Ok(true),
        // Another process holds it (or created it at the same moment).
        Some(err)
            if err.is_already_exists()
                || err.message().contains("already exists")
                || crate::db::is_conflict(&err) =>
        {
            Ok(false)
        }
        Some(err) => Err(err.into()),
    }
}

/// Ends the claims of vectors now stored.
pub async fn release(ex: &impl Executor, claims: &[(String, String)]) -> Result<(), RepoError> {
    if claims.is_empty() {
        return Ok(());
    }
    let ids: Vec<RecordId> = claims
        .iter()
        .map(|(job, hash)| RecordId::new("embedding_claim", claim_key(job, hash)))
        .collect();
    ex.query("DELETE $ids RETURN NONE").bind(("ids", ids)).await?.check()?;
    Ok(())
}

/// Records that a candidate does not want a job recommended again (twice is once).
pub async fn dismiss(
    ex: &impl Executor,
    candidate_id: &str,
    job_id: &str,
) -> Result<(), RepoError> {
    ex.query(
        "UPSERT type::record('recommendation_dismissal', $key) SET candidate = type::record('user', $candidate), \
         job = type::record('job', $job) RETURN NONE",
    )
    .bind(("key", format!("{candidate_id}:{job_id}")))
    .bind(("candidate", candidate_id.to_owned()))
    .bind(("job", job_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Takes a dismissal back. `true` when there was one.
pub async fn undismiss(
    ex: &impl Executor,
    candidate_id: &str,
    job_id: &str,
) -> Result<bool, RepoError> {
    let response = ex
        .query("DELETE type::record('recommendation_dismissal', $key) RETURN BEFORE")
        .bind(("key", format!("{candidate_id}:{job_id}")))
        .await?;
    wrote_any(response)
}

/// The jobs a candidate dismissed.
pub async fn dismissed_jobs(
    ex: &impl Executor,
    candidate_id: &str,
) -> Result<Vec<String>, RepoError> {
    #[derive(SurrealValue)]
    struct Row {
        job: RecordId,
    }
    let mut response = ex
        .query("SELECT job FROM recommendation_dismissal WHERE candidate = type::record('user', $candidate)")
        .bind(("candidate", candidate_id.to_owned()))
        .await?;
    let rows: Vec<Row> = response.take(0)?;
    Ok(rows.into_iter().map(|r| key_string(&r.job)).collect())
}

/// A candidate's stated preferences (default when none were saved).
pub async fn preferences(ex: &impl Executor, candidate_id: &str) -> Result<Preferences, RepoError> {
    let mut response = ex
        .query("SELECT VALUE value FROM type::record('candidate_preferences', $id)")
        .bind(("id", candidate_id.to_owned()))
        .await?;
    let rows: Vec<serde_json::Value> = response.take(0)?;
    Ok(rows.into_iter().next().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default())
}

pub async fn set_preferences(
    ex: &impl Executor,
    candidate_id: &str,
    preferences: &Preferences,
) -> Result<(), RepoError> {
    let value = serde_json::to_value(preferences).map_err(|e| super::unexpected(e.to_string()))?;
    ex.query(
        "UPSERT type::record('candidate_preferences', $id) SET owner = type::record('user', $id), \
         value = $value, updated_at = time::now() RETURN NONE",
    )
    .bind(("id", candidate_id.to_owned()))
    .bind(("value", value))
    .await?
    .check()?;
    Ok(())
}
