//! Background tasks as the queue stores them.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    /// Waiting for a worker.
    Queued,
    /// Claimed by a worker whose lease has not run out.
    Running,
    Done,
    /// The last attempt failed; due again at `run_at`.
    Failed,
    /// Out of attempts; waits for an admin to retry or discard it.
    Dead,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Done,
        TaskStatus::Failed,
        TaskStatus::Dead,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::Done => "done",
            TaskStatus::Failed => "failed",
            TaskStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A task about to be enqueued.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub kind: String,
    pub queue: String,
    pub payload: serde_json::Value,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    /// Unique: a second task with the same key is not created.
    pub dedup_key: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub id: String,
    pub kind: String,
    pub queue: String,
    pub payload: serde_json::Value,
    pub status: TaskStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    /// What the task reported when it finished (an import's summary).
    pub result: Option<serde_json::Value>,
    pub dedup_key: String,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}
