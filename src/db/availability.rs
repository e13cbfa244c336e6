//! Whether a SurrealDB server answers: every query to one is bounded by a timeout, and once
//! one times out or the connection fails, queries fail at once (a connection error, see
//! [`super::DbError::is_unavailable`]) until a probe finds the server answering again.
//!
//! A frozen server keeps its connection open and never answers; a stopped one makes the
//! client reconnect in the background, holding every query meanwhile. Without a bound, either
//! would hold every request and every worker until the server came back. The probe runs once
//! a second while the server is marked down (every few seconds otherwise), so service resumes
//! by itself within about a second of the server's return. An embedded database has no
//! `Availability`: it is in the process and cannot be out of reach.

use std::future::{Future, IntoFuture};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use surrealdb::Surreal;
use surrealdb::engine::any::Any;
use surrealdb::types::ConnectionError;

/// How often the probe asks an answering server whether it still answers.
const PROBE_UP: Duration = Duration::from_secs(5);
/// How often the probe asks a server marked down whether it answers again.
const PROBE_DOWN: Duration = Duration::from_secs(1);

/// The state of one server connection, shared by every clone of the [`super::Database`].
#[derive(Debug)]
pub struct Availability {
    url: String,
    timeout: Duration,
    down: AtomicBool,
    /// Wakes the probe when a query marks the server down, so that a slow answer from a
    /// server that is up costs a moment, not a probe interval.
    went_down: tokio::sync::Notify,
}

impl Availability {
    pub fn new(url: &str, timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            url: url.to_owned(),
            timeout,
            down: AtomicBool::new(false),
            went_down: tokio::sync::Notify::new(),
        })
    }

    /// The longest one query may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// False from a timeout or a connection failure until a probe gets an answer.
    pub fn is_up(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    fn mark_down(&self, why: &str) {
        if !self.down.swap(true, Ordering::Relaxed) {
            self.went_down.notify_one();
            tracing::error!(url = %self.url, reason = why,
                "the database is unavailable: requests that need it answer 503 database_unavailable until it answers again");
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!(url = %self.url, "the database answers again");
        }
    }

    /// Runs one database call under the timeout: refused at once while the server is marked
    /// down; a timeout or a connection failure marks it down.
    pub async fn guard<T>(
        &self,
        call: impl Future<Output = Result<T, surrealdb::Error>>,
    ) -> Result<T, surrealdb::Error> {
        if !self.is_up() {
            return Err(unavailable(format!(
                "the database at {} is unavailable (no answer to the last attempt)",
                self.url
            )));
        }
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Err(err)) if err.is_connection() => {
                self.mark_down(err.message());
                Err(err)
            }
            Ok(result) => result,
            Err(_) => {
                let message = format!(
                    "the database at {} did not answer within {} ms",
                    self.url,
                    self.timeout.as_millis()
                );
                self.mark_down(&message);
                Err(unavailable(message))
            }
        }
    }

    /// Asks the server `RETURN 1` now and then, for as long as the connection exists, and
    /// marks it up or down by the answer.
    pub fn spawn_probe(self: &Arc<Self>, db: Weak<Surreal<Any>>) {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(availability) = this.upgrade() else { return };
                if availability.is_up() {
                    // Held for one wait at most: the next turn sees whether the connection is
                    // gone.
                    let _ = tokio::time::timeout(PROBE_UP, availability.went_down.notified()).await;
                    drop(availability);
                } else {
                    drop(availability);
                    tokio::time::sleep(PROBE_DOWN).await;
                }
                let (Some(availability), Some(db)) = (this.upgrade(), db.upgrade()) else {
                    return;
                };
                let probe = async {
                    let mut response = db.query("RETURN 1").await?;
                    response.take::<Option<i64>>(0)
                };
                match tokio::time::timeout(availability.timeout, probe).await {
                    Ok(Ok(Some(1))) => availability.mark_up(),
                    Ok(Ok(other)) => availability.mark_down(&format!("RETURN 1 gave {other:?}")),
                    Ok(Err(err)) => availability.mark_down(err.message()),
                    Err(_) => availability.mark_down("the probe got no answer in time"),
                }
            }
        });
    }
}

fn unavailable(message: String) -> surrealdb::Error {
    surrealdb::Error::connection(message, ConnectionError::ConnectionFailed)
}

/// A query on the database or in a transaction: SurrealDB's query builder with the
/// connection's [`Availability`] applied when it is awaited.
#[must_use = "a query does nothing until it is awaited"]
pub struct Query<'a> {
    inner: surrealdb::method::Query<'a, Any>,
    availability: Option<Arc<Availability>>,
}

impl<'a> Query<'a> {
    pub(crate) fn new(
        inner: surrealdb::method::Query<'a, Any>,
        availability: Option<Arc<Availability>>,
    ) -> Self {
        Self { inner, availability }
    }

    /// Binds variables (`$name`) of the query.
    pub fn bind(self, vars: impl surrealdb::method::IntoVariables) -> Self {
        Self { inner: self.inner.bind(vars), availability: self.availability }
    }
}

impl<'a> IntoFuture for Query<'a> {
    type Output = Result<surrealdb::IndexedResults, surrealdb::Error>;
    type IntoFuture = std::pin::Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let Self { inner, availability } = self;
        Box::pin(async move {
            match availability {
                Some(availability) => availability.guard(inner.into_future()).await,
                None => inner.await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_timeout_marks_the_server_down_queries_then_fail_at_once_and_a_probe_brings_it_back()
    {
        let availability = Availability::new("ws://db.test:8000", Duration::from_millis(50));
        let ok = availability.guard(async { Ok::<_, surrealdb::Error>(1) }).await;
        assert_eq!(ok.unwrap(), 1);

        // No answer within the timeout: an unavailable error, and the server is marked down.
        let started = std::time::Instant::now();
        let err = availability.guard(std::future::pending::<Result<(), _>>()).await.unwrap_err();
        assert!(err.is_connection(), "{err}");
        assert!(err.message().contains("did not answer within 50 ms"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(!availability.is_up());

        // Down: refused without running the call.
        let ran = AtomicBool::new(false);
        let err = availability
            .guard(async {
                ran.store(true, Ordering::Relaxed);
                Ok::<_, surrealdb::Error>(())
            })
            .await
            .unwrap_err();
        assert!(err.is_connection() && !ran.load(Ordering::Relaxed), "{err}");
        assert!(
            crate::db::DbError::Query(err).is_unavailable(),
            "mapped to 503 database_unavailable"
        );

        // A database that answers `RETURN 1` brings it back within a probe interval.
        let db = Arc::new(surrealdb::engine::any::connect("mem://").await.unwrap());
        availability.spawn_probe(Arc::downgrade(&db));
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !availability.is_up() {
            assert!(std::time::Instant::now() < deadline, "the probe did not bring it back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(availability.guard(async { Ok::<_, surrealdb::Error>(2) }).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_connection_error_marks_the_server_down_and_other_errors_do_not() {
        let availability = Availability::new("ws://db.test:8000", Duration::from_secs(5));
        let query_error = surrealdb::Error::thrown("a query's own error".into());
        let err = availability.guard(async { Err::<(), _>(query_error) }).await.unwrap_err();
        assert!(!err.is_connection());
        assert!(availability.is_up(), "a query's own error says nothing of the server");
        let reset = unavailable("Connection reset".into());
        assert!(availability.guard(async { Err::<(), _>(reset) }).await.is_err());
        assert!(!availability.is_up());
    }
}
