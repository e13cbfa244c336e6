//! The database connection: one `Surreal<Any>` chosen by URL, and the errors of reaching it.
//!
//! `surrealkv://PATH` is the embedded, on-disk engine (the default), `mem://` keeps everything in
//! memory (tests), `ws://HOST:PORT` talks to a SurrealDB server shared by several processes;
//! connecting to a server defines the namespace and the database when they are missing, and
//! its queries are bounded in time ([`availability`]).
//! An embedded database belongs to one process: a second process gets [`DbError::InUse`], which
//! says what to do instead. [`backup`] exports and imports the whole database (a server's
//! through its HTTP endpoints, [`server_http`]).

pub mod availability;
pub mod backup;
pub mod migrations;
pub mod server_http;

use std::borrow::Cow;
use std::future::IntoFuture;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use surrealdb::Surreal;
use surrealdb::engine::any::{self, Any};
use surrealdb::method::Transaction;
use surrealdb::opt::auth::Root;
use surrealdb::types::QueryError;

use crate::core::config::{DbConfig, DbMemory};
pub use availability::{Availability, Query};

/// How long connecting to a SurrealDB server may take before we give up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "the database at {} is in use by another process. An embedded database belongs to one \
         process: stop the other jobportal (workers already run inside `jobportal serve`), or \
         run a SurrealDB server and point every process at it with --db ws://HOST:PORT",
        path.display()
    )]
    InUse { path: PathBuf },

    #[error("cannot create the database directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },

    #[error("cannot open the database at {url}: {message}")]
    Open { url: String, message: String },

    #[error("timed out after {}s connecting to the database at {url}", CONNECT_TIMEOUT.as_secs())]
    ConnectTimeout { url: String },

    #[error("cannot sign in to the database at {url} as {user}: {message}")]
    SignIn { url: String, user: String, message: String },

    #[error("database query failed: {0}")]
    Query(#[from] surrealdb::Error),

    #[error("the database answered something unexpected: {0}")]
    Unexpected(String),

    #[error("the database's export failed: {0}")]
    Export(String),

    #[error("the import into the database failed: {0}")]
    Import(String),
}

impl DbError {
    /// True when retrying the same work may succeed (a write conflict between transactions).
    pub fn is_conflict(&self) -> bool {
        matches!(self, DbError::Query(err) if is_conflict(err))
    }

    /// True when the database server did not answer in time or could not be reached (retrying
    /// succeeds once it answers again).
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Query(err) => err.is_connection(),
            DbError::ConnectTimeout { .. } => true,
            _ => false,
        }
    }

    /// True when the write failed because the database's disk is full (retrying succeeds once
    /// space is freed).
    pub fn is_storage_full(&self) -> bool {
        let message = match self {
            DbError::Query(err) => err.message().to_owned(),
            DbError::Export(message) | DbError::Import(message) => message.clone(),
            _ => return false,
        };
        message.contains("No space left on device")
            || message.contains("os error 28")
            || message.contains("no storage space")
    }
}

pub(crate) fn is_conflict(err: &surrealdb::Error) -> bool {
    err.query_details() == Some(&QueryError::TransactionConflict)
        || err.message().contains("can be retried")
}

/// Sizes the memory of the embedded datastores opened from now on (SurrealKV's memtable and
/// block cache; see [`DbMemory`]). The SDK passes no such setting to its engine: the patched
/// engine (vendor/README.md) takes it here. Process-wide, like the engine's own defaults.
fn size_the_storage_engine(memory: DbMemory) {
    surrealdb_engine_local::set_datastore_config(vec![
        ("surrealkv_max_memtable_size".into(), memory.write_buffer.to_string()),
        ("surrealkv_block_cache_capacity".into(), memory.cache.to_string()),
    ]);
}

/// A connected database with its namespace and database selected. Cloning is cheap: clones
/// share one session (a cloned `Surreal` handle is a new session, which SurrealDB's single
/// session task has to create and later drop; cloned for every request, that task became the
/// bottleneck and stalled requests under load). A transaction gets a session of its own.
#[derive(Clone, Debug)]
pub struct Database {
    db: Arc<Surreal<Any>>,
    url: String,
    embedded_path: Option<PathBuf>,
    /// A server's: every query bounded in time, refused at once while it does not answer.
    availability: Option<Arc<Availability>>,
    /// A server's HTTP export and import (its RPC protocol has neither).
    http: Option<Arc<server_http::ServerHttp>>,
}

impl Database {
    /// Connects, signs in when a user is configured, and selects the namespace and database;
    /// on a server, defines them first when they are missing.
    pub async fn connect(config: &DbConfig) -> Result<Self, DbError> {
        if let Some(parent) = config.embedded_path().and_then(Path::parent) {
            std::fs::create_dir_all(parent)
                .map_err(|source| DbError::CreateDir { path: parent.to_path_buf(), source })?;
        }
        let url = config.url.clone();
        if config.embedded_path().is_some() {
            size_the_storage_engine(config.memory);
        }
        let connect = any::connect(url.as_str());
        let db = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Err(_) => return Err(DbError::ConnectTimeout { url }),
            Ok(Err(err)) => return Err(open_error(config, err)),
            Ok(Ok(db)) => db,
        };
        if let (Some(user), Some(password)) = (&config.user, &config.password) {
            let credentials =
                Root { username: user.clone(), password: password.expose().to_owned() };
            db.signin(credentials).await.map_err(|err| DbError::SignIn {
                url: url.clone(),
                user: user.clone(),
                message: err.message().to_owned(),
            })?;
        }
        if config.is_remote() {
            define_namespace_and_database(&db, config).await?;
        }
        db.use_ns(config.namespace.as_str())
            .use_db(config.database.as_str())
            .await
            .map_err(|err| DbError::Open { url: url.clone(), message: err.message().to_owned() })?;
        let db = Arc::new(db);
        let availability = config.is_remote().then(|| {
            let availability = Availability::new(&url, config.timeout);
            availability.spawn_probe(Arc::downgrade(&db));
            availability
        });
        Ok(Self {
            db,
            url,
            embedded_path: config.embedded_path().map(Path::to_path_buf),
            availability,
            http: server_http::ServerHttp::new(config).map(Arc::new),
        })
    }

    /// Closes the database and, for an embedded one, waits (up to a few seconds) until the
    /// engine has flushed and released its lock. SurrealDB shuts an embedded datastore down in
    /// a background task when the last handle drops; returning before it finishes would let the
    /// runtime cancel it mid-way. Other clones of this handle must be dropped first.
    pub async fn close(self) {
        let Self { db, embedded_path, .. } = self;
        drop(db);
        let Some(path) = embedded_path else { return };
        let lock_path = path.join("LOCK");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while tokio::time::Instant::now() < deadline {
            match std::fs::File::open(&lock_path) {
                Ok(file) => {
                    if fs2::FileExt::try_lock_exclusive(&file).is_ok() {
                        let _ = fs2::FileExt::unlock(&file);
                        // The engine's tasks still hold the datastore for a moment after the
                        // lock goes; let them drop it while the runtime is still there.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        return;
                    }
                }
                Err(_) => return,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tracing::warn!(path = %path.display(), "the database did not close within 5 s");
    }

    /// The SurrealDB handle, for `repositories/` and `db/` only.
    pub(crate) fn handle(&self) -> &Surreal<Any> {
        &self.db
    }

    /// Starts a transaction: pass `&tx` to repository functions, then `commit` it. Dropped
    /// without `commit`, it is cancelled.
    pub async fn begin(&self) -> Result<Tx, DbError> {
        let begin = Surreal::clone(&self.db).begin();
        let tx = match &self.availability {
            Some(availability) => availability.guard(begin.into_future()).await?,
            None => begin.await?,
        };
        Ok(Tx { inner: Some(tx), availability: self.availability.clone() })
    }

    /// True for a SurrealDB server, which several processes may share (an embedded database
    /// belongs to this process alone).
    pub fn is_server(&self) -> bool {
        self.availability.is_some()
    }

    /// False while a database server does not answer (always true for an embedded one).
    pub fn is_available(&self) -> bool {
        self.availability.as_ref().is_none_or(|a| a.is_up())
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Names of the tables defined in the selected database, sorted.
    pub async fn table_names(&self) -> Result<Vec<String>, DbError> {
        let mut response = Executor::query(self, "INFO FOR DB").await?;
        let info: Option<serde_json::Value> = response.take(0)?;
        let mut names: Vec<String> = info
            .as_ref()
            .and_then(|i| i.get("tables"))
            .and_then(|t| t.as_object())
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        Ok(names)
    }

    /// Answers whether the database serves queries.
    pub async fn ping(&self) -> Result<(), DbError> {
        let mut response = Executor::query(self, "RETURN 1").await?;
        let one: Option<i64> = response.take(0)?;
        match one {
            Some(1) => Ok(()),
            other => Err(DbError::Unexpected(format!("RETURN 1 gave {other:?}"))),
        }
    }
}

/// `DEFINE NAMESPACE` and `DEFINE DATABASE`, each when missing: SurrealDB 3 does not create
/// them on first use for every kind of user. Processes starting together may conflict; the
/// loser tries again.
async fn define_namespace_and_database(
    db: &Surreal<Any>,
    config: &DbConfig,
) -> Result<(), DbError> {
    // Both names are checked identifiers (letters, digits, underscores): safe in the text.
    let sql = format!(
        "DEFINE NAMESPACE IF NOT EXISTS {ns}; USE NS {ns}; DEFINE DATABASE IF NOT EXISTS {db};",
        ns = config.namespace,
        db = config.database
    );
    let mut attempt = 0;
    loop {
        let outcome = match tokio::time::timeout(CONNECT_TIMEOUT, db.query(sql.as_str())).await {
            Err(_) => return Err(DbError::ConnectTimeout { url: config.url.clone() }),
            Ok(Ok(response)) => response.check().map(drop),
            Ok(Err(err)) => Err(err),
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err(err) if is_conflict(&err) && attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(20 * attempt)).await;
            }
            Err(err) => {
                return Err(DbError::Open {
                    url: config.url.clone(),
                    message: format!(
                        "cannot define the namespace {} and the database {}: {}",
                        config.namespace,
                        config.database,
                        err.message()
                    ),
                });
            }
        }
    }
}

fn open_error(config: &DbConfig, err: surrealdb::Error) -> DbError {
    let message = err.message().to_owned();
    if message.contains("already locked") {
        let path = config.embedded_path().map(Path::to_path_buf).unwrap_or_default();
        return DbError::InUse { path };
    }
    if message.contains("Batch too large for memtable") {
        // A transaction larger than the write buffer is in the store's log (written there
        // before it was refused): it can only be replayed into a larger buffer.
        return DbError::Open {
            url: config.url.clone(),
            message: format!(
                "{message}; its log holds a transaction larger than the write buffer of {} MiB: \
                 start once with a larger JOBPORTAL_DB_WRITE_BUFFER (the --db-write-buffer \
                 flag), such as 1GiB",
                config.memory.write_buffer >> 20
            ),
        };
    }
    DbError::Open { url: config.url.clone(), message }
}

/// Where repository queries run: the database itself (each statement its own transaction) or
/// an open [`Tx`].
pub trait Executor: Send + Sync {
    #[doc(hidden)]
    fn query<'a>(&'a self, sql: impl Into<Cow<'a, str>>) -> Query<'a>;
}

impl Executor for Database {
    fn query<'a>(&'a self, sql: impl Into<Cow<'a, str>>) -> Query<'a> {
        Query::new(self.db.query(sql), self.availability.clone())
    }
}

/// An open transaction. Everything run through it commits together or not at all.
pub struct Tx {
    inner: Option<Transaction<Any>>,
    availability: Option<Arc<Availability>>,
}

impl Tx {
    /// Commits; a conflict with a concurrent transaction is an error whose
    /// [`DbError::is_conflict`] is true.
    pub async fn commit(mut self) -> Result<(), DbError> {
        if let Some(tx) = self.inner.take() {
            match &self.availability {
                Some(availability) => availability.guard(tx.commit().into_future()).await?,
                None => tx.commit().await?,
            };
        }
        Ok(())
    }

    pub async fn cancel(mut self) {
        if let Some(tx) = self.inner.take() {
            let cancel = tx.cancel().into_future();
            match &self.availability {
                Some(availability) => drop(availability.guard(cancel).await),
                None => drop(cancel.await),
            }
        }
    }
}

impl Executor for Tx {
    fn query<'a>(&'a self, sql: impl Into<Cow<'a, str>>) -> Query<'a> {
        match &self.inner {
            Some(tx) => Query::new(tx.query(sql), self.availability.clone()),
            None => unreachable!("a Tx is only reachable before commit or cancel consume it"),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // An early return (`?`) left the transaction open: cancel it so it holds nothing.
        if let Some(tx) = self.inner.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            let limit = self.availability.as_ref().map(|a| a.timeout());
            handle.spawn(async move {
                let cancel = tx.cancel().into_future();
                match limit {
                    Some(limit) => drop(tokio::time::timeout(limit, cancel).await),
                    None => drop(cancel.await),
                }
            });
        }
    }
}
