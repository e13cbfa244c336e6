//! Queries on `task`, the durable queue. A task is claimable when it is due (`queued` or
//! `failed` with `run_at` passed) or when its worker's lease ran out (`running` with
//! `lease_until` passed). Two workers that pick the same row both write it, so one of them
//! fails with a transaction conflict or finds it no longer claimable, and claims nothing.

use std::time::Duration;

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, new_key};
use crate::db::Executor;
use crate::models::task::{NewTask, TaskRecord, TaskStatus};

#[derive(Debug, SurrealValue)]
struct TaskRow {
    id: RecordId,
    kind: String,
    queue: String,
    payload: Option<serde_json::Value>,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: DateTime<Utc>,
    lease_until: Option<DateTime<Utc>>,
    locked_by: Option<String>,
    last_error: Option<String>,
    result: Option<serde_json::Value>,
    dedup_key: String,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl From<TaskRow> for TaskRecord {
    fn from(r: TaskRow) -> Self {
        TaskRecord {
            id: key_string(&r.id),
            kind: r.kind,
            queue: r.queue,
            payload: r.payload.unwrap_or(serde_json::Value::Null),
            status: TaskStatus::parse(&r.status).unwrap_or(TaskStatus::Dead),
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            max_attempts: u32::try_from(r.max_attempts).unwrap_or(1),
            run_at: r.run_at,
            lease_until: r.lease_until,
            locked_by: r.locked_by,
            last_error: r.last_error,
            result: r.result,
            dedup_key: r.dedup_key,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// Enqueues a task; a task with the same dedup key already there makes this a no-op.
/// Returns the id of the new task, or `None` when the key was taken.
pub async fn insert(ex: &impl Executor, task: &NewTask) -> Result<Option<String>, RepoError> {
    let id = new_key();
    let result = ex
        .query(
            "CREATE type::record('task', $id) SET kind = $kind, queue = $queue, payload = $payload, \
             max_attempts = $max_attempts, run_at = $run_at, dedup_key = $dedup_key RETURN NONE",
        )
        .bind(("id", id.clone()))
        .bind(("kind", task.kind.clone()))
        .bind(("queue", task.queue.clone()))
        .bind(("payload", task.payload.clone()))
        .bind(("max_attempts", i64::from(task.max_attempts)))
        .bind(("run_at", task.run_at))
        .bind(("dedup_key", task.dedup_key.clone()))
        .await
        .map_err(RepoError::from)
        .and_then(|r| r.check().map_err(RepoError::from));
    match result {
        Ok(_) => Ok(Some(id)),
        Err(RepoError::Duplicate { index }) if index == "task_dedup" => Ok(None),
        Err(err) => Err(err),
    }
}

/// Claims the next due task of a queue for `worker`, with a lease of `lease`.
///
/// Each candidate query is an index range scan on `task_claim` (queue, status, run_at), which
/// also yields the oldest first: one OR over the three cases would scan and sort the table.
/// The UPDATE re-checks that the row is still claimable, so a row another worker took in
/// between is simply not claimed (and two UPDATEs of one row conflict: one fails).
pub async fn claim(
    ex: &impl Executor,
    queue: &str,
    worker: &str,
    lease: Duration,
) -> Result<Option<TaskRecord>, RepoError> {
    let sql = "\
        LET $now = time::now(); \
        LET $candidate = (SELECT VALUE id FROM task WHERE queue = $queue AND status = 'queued' \
                AND run_at <= $now ORDER BY run_at LIMIT 1)[0] \
            ?? (SELECT VALUE id FROM task WHERE queue = $queue AND status = 'failed' \
                AND run_at <= $now ORDER BY run_at LIMIT 1)[0] \
            ?? (SELECT VALUE id FROM task WHERE queue = $queue AND status = 'running' \
                AND lease_until < $now LIMIT 1)[0]; \
        IF $candidate = NONE { RETURN [] } ELSE { \
            RETURN UPDATE $candidate SET status = 'running', attempts += 1, \
                lease_until = time::now() + $lease, locked_by = $worker, started_at = time::now() \
            WHERE (status IN ['queued', 'failed'] AND run_at <= $now) \
                OR (status = 'running' AND lease_until < $now) \
            RETURN AFTER \
        };";
    let mut response = ex
        .query(sql)
        .bind(("queue", queue.to_owned()))
        .bind(("worker", worker.to_owned()))
        .bind(("lease", lease))
        .await?;
    let rows: Vec<TaskRow> = response.take(2)?;
    Ok(rows.into_iter().next().map(TaskRecord::from))
}

/// Extends the lease of a task this worker still holds; false if it lost it.
pub async fn renew_lease(
    ex: &impl Executor,
    id: &str,
    worker: &str,
    lease: Duration,
) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('task', $id) SET lease_until = time::now() + $lease \
             WHERE status = 'running' AND locked_by = $worker RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .bind(("worker", worker.to_owned()))
        .bind(("lease", lease))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

/// Marks a task done, if this worker still holds it.
pub async fn complete(ex: &impl Executor, id: &str, worker: &str) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('task', $id) SET status = 'done', finished_at = time::now(), \
             lease_until = NONE, last_error = NONE WHERE status = 'running' AND locked_by = $worker \
             RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .bind(("worker", worker.to_owned()))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

/// Records a failed attempt: `failed` and due again at `retry_at`, or `dead` when `retry_at`
/// is `None`.
pub async fn fail(
    ex: &impl Executor,
    id: &str,
    worker: &str,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('task', $id) SET \
             status = IF $retry_at = NONE { 'dead' } ELSE { 'failed' }, \
             run_at = $retry_at ?? run_at, last_error = $error, lease_until = NONE, \
             finished_at = IF $retry_at = NONE { time::now() } ELSE { NONE } \
             WHERE status = 'running' AND locked_by = $worker RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .bind(("worker", worker.to_owned()))
        .bind(("error", error.chars().take(2000).collect::<String>()))
        .bind(("retry_at", retry_at))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

/// Gives a running task back to the queue without counting the attempt (graceful shutdown).
pub async fn hand_back(ex: &impl Executor, id: &str, worker: &str) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('task', $id) SET status = 'queued', attempts = math::max([attempts - 1, 0]), \
             lease_until = NONE, locked_by = NONE WHERE status = 'running' AND locked_by = $worker \
             RETURN VALUE id",
        )
        .bind(("id", id.to_owned()))
        .bind(("worker", worker.to_owned()))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(!ids.is_empty())
}

/// Records what a task reported (it stays with the task for whoever polls it).
pub async fn set_result(
    ex: &impl Executor,
    id: &str,
    result: serde_json::Value,
) -> Result<(), RepoError> {
    ex.query("UPDATE type::record('task', $id) SET result = $result RETURN NONE")
        .bind(("id", id.to_owned()))
        .bind(("result", result))
        .await?
        .check()?;
    Ok(())
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<TaskRecord>, RepoError> {
    let mut response = ex
        .query("SELECT * FROM ONLY type::record('task', $id)")
        .bind(("id", id.to_owned()))
        .await?;
    let row: Option<TaskRow> = response.take(0)?;
    Ok(row.map(TaskRecord::from))
}

/// A page of tasks, newest first, by status and kind.
pub async fn list(
    ex: &impl Executor,
    status: Option<TaskStatus>,
    kind: Option<&str>,
    limit: u32,
    offset: u32,
) -> Result<(Vec<TaskRecord>, u64), RepoError> {
    let condition = "($status = NONE OR status = $status) AND ($kind = NONE OR kind = $kind)";
    let sql = format!(
        "SELECT * FROM task WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $limit START $offset; \
         SELECT count() AS count FROM task WHERE {condition} GROUP ALL;"
    );
    let mut response = ex
        .query(sql)
        .bind(("status", status.map(|s| s.as_str())))
        .bind(("kind", kind.map(str::to_owned)))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let rows: Vec<TaskRow> = response.take(0)?;
    let count: Option<Count> = response.take(1)?;
    Ok((rows.into_iter().map(TaskRecord::from).collect(), count.map_or(0, |c| c.count)))
}

/// Puts a dead or failed task back in the queue with fresh attempts.
pub async fn retry(ex: &impl Executor, id: &str) -> Result<Option<TaskRecord>, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('task', $id) SET status = 'queued', attempts = 0, run_at = time::now(), \
             finished_at = NONE, lease_until = NONE, locked_by = NONE \
             WHERE status IN ['dead', 'failed'] RETURN AFTER",
        )
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<TaskRow> = response.take(0)?;
    Ok(rows.into_iter().next().map(TaskRecord::from))
}

/// Deletes a dead task; true if there was one.
pub async fn discard(ex: &impl Executor, id: &str) -> Result<bool, RepoError> {
    let mut response = ex
        .query("DELETE type::record('task', $id) WHERE status = 'dead' RETURN BEFORE")
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<serde_json::Value> = response.take(0)?;
    Ok(!rows.is_empty())
}

#[derive(Debug, SurrealValue)]
struct DepthRow {
    kind: String,
    status: String,
    count: u64,
}

/// How many tasks there are by kind and status.
pub async fn depth(ex: &impl Executor) -> Result<Vec<(String, TaskStatus, u64)>, RepoError> {
    let mut response =
        ex.query("SELECT kind, status, count() AS count FROM task GROUP BY kind, status").await?;
    let rows: Vec<DepthRow> = response.take(0)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| TaskStatus::parse(&r.status).map(|s| (r.kind, s, r.count)))
        .collect())
}

/// Deletes finished tasks (done) older than `before`; returns how many.
pub async fn prune_done(ex: &impl Executor, before: DateTime<Utc>) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM task WHERE status = 'done' AND finished_at < $before GROUP ALL; \
             DELETE task WHERE status = 'done' AND finished_at < $before RETURN NONE;",
        )
        .bind(("before", before))
        .await?;
    let count: Option<Count> = response.take(0)?;
    response.check()?;
    Ok(count.map_or(0, |c| c.count))
}
