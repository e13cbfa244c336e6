//! The durable task queue's contract: what a task is, how it is enqueued, and the registry
//! that turns a stored task back into work.
//!
//! A [`Task`] is a serde payload with a stable [`Task::KIND`], the queue it runs on, and an
//! idempotent `run`: a task may run again after a crash (its lease ran out after the work but
//! before it was marked done), so running it twice must do no harm. Enqueue it in the same
//! transaction as the data it acts on (an email and its delivery), so neither exists without
//! the other. `run` gets the task's [`Task::Context`], whatever the process that runs it hands
//! its tasks (the services, the mailer, …), so this module names none of it.
//!
//! It stands below `services`, which define and enqueue tasks beside the work they do, and
//! above `repositories`, where `tasks` stores them: it imports neither `services` nor
//! `workers` (the loops that claim and run tasks), so every layer above may enqueue without a
//! circle. It is not a repository itself: it holds no query, only the rules around them.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::db::Executor;
use crate::models::task::NewTask;
use crate::repositories::{self, RepoError};

/// Queues have their own workers, so slow work on one cannot hold up another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Outgoing email.
    Email,
    /// Everything else: imports, maintenance, digests.
    Default,
}

impl Queue {
    pub const ALL: [Queue; 2] = [Queue::Email, Queue::Default];

    pub const fn as_str(self) -> &'static str {
        match self {
            Queue::Email => "email",
            Queue::Default => "default",
        }
    }

    pub fn parse(s: &str) -> Option<Queue> {
        Queue::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

/// Which attempt this is, so a task can act on its last one (mark its email failed), and which
/// task (so it can record a result).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub number: u32,
    pub max: u32,
    pub task_id: String,
}

impl Attempt {
    pub fn is_last(&self) -> bool {
        self.number >= self.max
    }
}

/// An error that retrying cannot fix: the task goes straight to `dead`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Permanent(pub String);

pub type TaskFuture = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// A unit of background work.
pub trait Task: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with the task: never rename it while such tasks may be queued.
    const KIND: &'static str;
    const QUEUE: Queue;
    const MAX_ATTEMPTS: u32 = 8;

    /// What the process running the task hands it (cheap to clone: an `Arc`).
    type Context: Clone + Send + Sync + 'static;

    /// A key that makes a second enqueue of the same work a no-op; `None` enqueues every time.
    fn dedup_key(&self) -> Option<String> {
        None
    }

    fn run(
        self,
        ctx: Self::Context,
        attempt: Attempt,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

fn new_task<T: Task>(task: &T, run_at: DateTime<Utc>) -> Result<NewTask, RepoError> {
    let payload =
        serde_json::to_value(task).map_err(|e| repositories::unexpected(e.to_string()))?;
    let dedup_key = match task.dedup_key() {
        Some(key) => format!("{}:{key}", T::KIND),
        None => format!("{}:{}", T::KIND, uuid::Uuid::now_v7()),
    };
    Ok(NewTask {
        kind: T::KIND.to_owned(),
        queue: T::QUEUE.as_str().to_owned(),
        payload,
        max_attempts: T::MAX_ATTEMPTS,
        run_at,
        dedup_key,
    })
}

/// Enqueues a task due now; returns its id, or `None` when its dedup key was already taken.
pub async fn enqueue<T: Task>(ex: &impl Executor, task: &T) -> Result<Option<String>, RepoError> {
    enqueue_at(ex, task, Utc::now()).await
}

/// Enqueues a task due at `run_at`.
pub async fn enqueue_at<T: Task>(
    ex: &impl Executor,
    task: &T,
    run_at: DateTime<Utc>,
) -> Result<Option<String>, RepoError> {
    repositories::tasks::insert(ex, &new_task(task, run_at)?).await
}

/// Runs the payload of one stored task with the context `C`.
pub type Handler<C> = Arc<dyn Fn(C, serde_json::Value, Attempt) -> TaskFuture + Send + Sync>;

/// The kinds this process knows how to run, all with the same context `C`.
#[derive(Clone)]
pub struct Registry<C> {
    handlers: HashMap<&'static str, Handler<C>>,
}

impl<C> Default for Registry<C> {
    fn default() -> Self {
        Self { handlers: HashMap::new() }
    }
}

impl<C: Clone + Send + Sync + 'static> Registry<C> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register<T: Task<Context = C>>(mut self) -> Self {
        let handler: Handler<C> = Arc::new(|ctx, payload, attempt| {
            Box::pin(async move {
                // A payload that does not parse never will: no retry can help.
                let task: T = serde_json::from_value(payload).map_err(|e| {
                    Permanent(format!("the payload of a {} task does not parse: {e}", T::KIND))
                })?;
                task.run(ctx, attempt).await
            })
        });
        self.handlers.insert(T::KIND, handler);
        self
    }

    pub fn handler(&self, kind: &str) -> Option<&Handler<C>> {
        self.handlers.get(kind)
    }

    pub fn kinds(&self) -> impl Iterator<Item = &&'static str> {
        self.handlers.keys()
    }
}
