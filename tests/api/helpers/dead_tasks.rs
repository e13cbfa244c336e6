//! Background tasks a test left dead: dropping a [`TestApp`] fails the test when one of its tasks
//! ran out of attempts, unless the test said it makes tasks die on purpose.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jobportal::db::Database;
use jobportal::db::migrations::Migrator;
use jobportal::models::task::{TaskRecord, TaskStatus};
use jobportal::repositories::tasks;

use super::TestApp;

/// How many dead tasks the failure names.
const SHOWN: u32 = 20;

impl TestApp {
    /// This test makes tasks die on purpose: dropping the app does not fail it for them.
    pub fn expect_dead_tasks(&self) {
        self.dead_tasks_expected.store(true, Ordering::Relaxed);
    }

    /// Panics naming the dead tasks (the newest [`SHOWN`]), unless the test expects some. Called
    /// when the app drops, except while the test is already failing.
    pub(super) fn assert_no_dead_tasks(&self) {
        if self.dead_tasks_expected.load(Ordering::Relaxed) || std::thread::panicking() {
            return;
        }
        let Some((tasks, total)) = dead_tasks(&self.db)
            .unwrap_or_else(|err| panic!("the task table cannot be read: {err}"))
        else {
            return;
        };
        if total == 0 {
            return;
        }
        let named: Vec<String> = tasks
            .iter()
            .map(|t| {
                format!(
                    "{} ({}, {} attempts): {}",
                    t.id,
                    t.kind,
                    t.attempts,
                    t.last_error.as_deref().unwrap_or("no error recorded")
                )
            })
            .collect();
        panic!(
            "{total} background task(s) left dead (a test that means it calls \
             `app.expect_dead_tasks()`):\n  {}",
            named.join("\n  ")
        );
    }
}

/// The dead tasks (the newest [`SHOWN`]) and how many there are; `None` when no migration was
/// applied, so there is no task table.
///
/// The test's runtime is blocked in `drop` (and is single-threaded for most tests), so the
/// query runs on a thread of its own with its own runtime. It shares the app's database
/// session, which an embedded engine serves on the caller's task: nothing has to run on the
/// blocked runtime.
fn dead_tasks(db: &Database) -> Result<Option<(Vec<TaskRecord>, u64)>, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the check");
                let check = async {
                    let status = Migrator::new(db).status().await.map_err(|e| e.to_string())?;
                    if status.applied() == 0 {
                        return Ok(None);
                    }
                    let dead = tasks::list(db, Some(TaskStatus::Dead), None, SHOWN, 0).await;
                    dead.map(Some).map_err(|e| e.to_string())
                };
                runtime.block_on(async {
                    tokio::time::timeout(Duration::from_secs(30), check)
                        .await
                        .unwrap_or_else(|_| Err("no answer within 30 s".to_owned()))
                })
            })
            .join()
            .expect("the check's thread does not panic")
    })
}
