//! A SurrealDB server's HTTP endpoints for what its RPC protocol (`ws://`) does not carry:
//! `GET /export` (the selected database as SurrealQL, streamed) and `POST /import` (a
//! SurrealQL file, streamed). Both sign in with the configured root user (Basic) and name the
//! namespace and database in `Surreal-NS` / `Surreal-DB`; the HTTP address is the WebSocket
//! one with `http` for `ws` (`https` for `wss`), never through a proxy.
//!
//! The server answers an export with `200` before it has read anything, and a failure after
//! that only ends the stream early, on a whole line. [`ServerHttp::export_to`] therefore checks
//! the export's own shape (SurrealDB 3.3's): every table has its `-- TABLE DATA: name`
//! section, and each section ends with a blank line, so a stream cut between two statements
//! or two tables is told from a whole one. A stream cut after a section's header and before
//! its first record looks like an empty table only when the next blank line is missing, so
//! that case is caught too. An import answers `422` when a statement did not apply (the
//! server carries on past it), with the failures one per line: that is an error here.

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::DbError;
use crate::core::config::{DbConfig, Secret};

/// How long reaching the server may take; an export or import itself may take as long as
/// the data needs.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// The longest pause in an export's stream before it counts as stalled (the server reads a
/// table's records in batches and sends each as it is read).
const EXPORT_STALL: Duration = Duration::from_secs(120);

/// The HTTP side of one SurrealDB server, for one namespace and database.
#[derive(Debug, Clone)]
pub struct ServerHttp {
    /// `http://HOST:PORT` or `https://HOST:PORT`, without a trailing slash.
    base: String,
    namespace: String,
    database: String,
    credentials: Option<(String, Secret)>,
    /// The client for exports (bounded pauses) and for imports (the answer comes once the
    /// whole file is applied, which takes as long as it takes); or why there is none.
    clients: Result<(reqwest::Client, reqwest::Client), String>,
}

impl ServerHttp {
    /// The HTTP endpoints of the server `config` names; `None` for an embedded database.
    pub fn new(config: &DbConfig) -> Option<ServerHttp> {
        let base = http_base(&config.url)?;
        let client = || reqwest::Client::builder().connect_timeout(CONNECT_TIMEOUT).no_proxy();
        let clients = client()
            .read_timeout(EXPORT_STALL)
            .build()
            .and_then(|export| Ok((export, client().build()?)))
            .map_err(|err| format!("cannot make an HTTP client: {err}"));
        Some(ServerHttp {
            base,
            namespace: config.namespace.clone(),
            database: config.database.clone(),
            credentials: config.user.clone().zip(config.password.clone()),
            clients,
        })
    }

    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::RequestBuilder {
        let request = client
            .request(method, format!("{}{path}", self.base))
            .header("Surreal-NS", &self.namespace)
            .header("Surreal-DB", &self.database)
            .header(reqwest::header::ACCEPT, "application/octet-stream");
        match &self.credentials {
            Some((user, password)) => request.basic_auth(user, Some(password.expose())),
            None => request,
        }
    }

    /// Streams the server's export of the database into `path` (which must exist; it is
    /// truncated), then checks that it is whole: a data section for every table of `tables`,
    /// each ended (see the module).
    pub async fn export_to(&self, path: &Path, tables: &[String]) -> Result<(), DbError> {
        let failed = |message: String| DbError::Export(message);
        let (client, _) = self.clients.as_ref().map_err(|err| failed(err.clone()))?;
        let mut response = self
            .request(client, reqwest::Method::GET, "/export")
            .send()
            .await
            .map_err(|err| failed(format!("cannot reach {}/export: {err}", self.base)))?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(failed(format!("{}/export answered {status}: {}", self.base, body.trim())));
        }
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .await
            .map_err(|err| failed(format!("cannot write {}: {err}", path.display())))?;
        let mut tail = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| failed(format!("the export stopped part-way: {err}")))?
        {
            file.write_all(&chunk)
                .await
                .map_err(|err| failed(format!("cannot write {}: {err}", path.display())))?;
            remember_tail(&mut tail, &chunk);
        }
        file.flush()
            .await
            .map_err(|err| failed(format!("cannot write {}: {err}", path.display())))?;
        drop(file);
        check_whole(path, tables, &tail).await.map_err(failed)
    }

    /// Sends the SurrealQL file `path` to the server's import. Not atomic: the statements
    /// before a failing one stay applied.
    pub async fn import_from(&self, path: &Path) -> Result<(), DbError> {
        let failed = |message: String| DbError::Import(message);
        let (_, client) = self.clients.as_ref().map_err(|err| failed(err.clone()))?;
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|err| failed(format!("cannot read {}: {err}", path.display())))?;
        let length = file
            .metadata()
            .await
            .map_err(|err| failed(format!("cannot read {}: {err}", path.display())))?
            .len();
        // With its length said first, a file over the server's limit on imports
        // (SURREAL_HTTP_MAX_IMPORT_BODY_SIZE, 4 GiB by default) is refused (413) before any
        // of it is applied, rather than cut off part-way.
        let response = self
            .request(client, reqwest::Method::POST, "/import")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, length)
            .body(reqwest::Body::from(file))
            .send()
            .await
            .map_err(|err| failed(format!("cannot reach {}/import: {err}", self.base)))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(());
        }
        let first: Vec<&str> = body.lines().filter(|l| !l.trim().is_empty()).take(3).collect();
        let hint = if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
            " (the server's SURREAL_HTTP_MAX_IMPORT_BODY_SIZE is smaller than the file)"
        } else {
            ""
        };
        Err(failed(format!("{}/import answered {status}{hint}: {}", self.base, first.join("; "))))
    }
}

/// `ws://HOST:PORT[/…]` → `http://HOST:PORT`, `wss://…` → `https://…`, without a user or
/// password the URL may carry (they would be printed in messages); `None` otherwise.
fn http_base(url: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("ws://") {
        ("http", rest)
    } else if let Some(rest) = url.strip_prefix("wss://") {
        ("https", rest)
    } else {
        return None;
    };
    let authority = rest.split('/').next()?;
    let host = authority.rsplit('@').next().filter(|h| !h.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

/// How much of the end of an export is kept to check its last statement.
const TAIL: usize = 4096;

/// Keeps the last [`TAIL`] bytes seen.
fn remember_tail(tail: &mut Vec<u8>, chunk: &[u8]) {
    tail.extend_from_slice(chunk);
    if tail.len() > TAIL {
        tail.drain(..tail.len() - TAIL);
    }
}

/// Whether an export that the server ended is whole: every table of `tables` has its
/// `-- TABLE DATA: name` section, and the export ends as a section does, on a blank line
/// (two, when its last section holds no records: a header and nothing else is a cut).
async fn check_whole(path: &Path, tables: &[String], tail: &[u8]) -> Result<(), String> {
    let ended = tail.ends_with(b"\n\n");
    let last = String::from_utf8_lossy(tail);
    let empty_last =
        last.lines().map(str::trim).rfind(|l| !l.is_empty()).is_some_and(|l| l.starts_with("--"));
    if !ended || (empty_last && !tail.ends_with(b"\n\n\n")) {
        return Err("the export ended part-way (the server stopped sending)".into());
    }
    let owned = path.to_path_buf();
    let missing: Vec<String> = tables.to_vec();
    let missing = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<String>> {
        use std::io::BufRead;
        let mut missing = missing;
        let reader = std::io::BufReader::new(std::fs::File::open(&owned)?);
        for line in reader.split(b'\n') {
            let line = line?;
            if let Some(name) = line.strip_prefix(b"-- TABLE DATA: ") {
                let name = String::from_utf8_lossy(name);
                missing.retain(|t| t != name.trim_end());
            }
        }
        Ok(missing)
    })
    .await
    .map_err(|err| err.to_string())?
    .map_err(|err| format!("cannot read the export back: {err}"))?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("the export ended before the records of {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_address_is_the_websocket_one() {
        assert_eq!(http_base("ws://127.0.0.1:8000").as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(
            http_base("wss://db.example:443/rpc").as_deref(),
            Some("https://db.example:443")
        );
        assert_eq!(http_base("surrealkv:///var/db"), None);
        assert_eq!(http_base("mem://"), None);
        assert_eq!(http_base("ws://"), None);
    }

    #[test]
    fn the_tail_keeps_the_last_bytes() {
        let mut tail = Vec::new();
        remember_tail(&mut tail, &vec![b'a'; TAIL]);
        remember_tail(&mut tail, b"xyz");
        assert_eq!(tail.len(), TAIL);
        assert!(tail.ends_with(b"axyz"));
    }

    #[tokio::test]
    async fn an_export_is_whole_only_with_every_tables_records_and_its_last_section_ended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.surql");
        let rule = "-- ------------------------------";
        let job = format!("{rule}\n-- TABLE DATA: job\n{rule}\n\nINSERT [{{ id: job:1 }}];\n");
        let user = format!("{rule}\n-- TABLE DATA: user\n{rule}\n\n");
        let tables = ["job".to_owned(), "user".to_owned()];
        let check = |text: String| {
            let path = path.clone();
            let tables = tables.clone();
            async move {
                std::fs::write(&path, &text).unwrap();
                check_whole(&path, &tables, text.as_bytes()).await
            }
        };
        // Whole: the records of both, each section ended; an empty table ends with two.
        check(format!("OPTION IMPORT;\n\n{job}\n{user}\n")).await.unwrap();
        check(format!("OPTION IMPORT;\n\n{user}\n{job}\n")).await.unwrap();
        // Cut between two statements of a section, or before a table's records.
        let err = check(format!("OPTION IMPORT;\n\n{user}\n{job}")).await.unwrap_err();
        assert!(err.contains("part-way"), "{err}");
        let err = check(format!("OPTION IMPORT;\n\n{job}\n")).await.unwrap_err();
        assert!(err.contains("user"), "{err}");
        // Cut after a section's header, before its first record.
        let err = check(format!("OPTION IMPORT;\n\n{job}\n{user}")).await.unwrap_err();
        assert!(err.contains("part-way"), "{err}");
    }

    #[test]
    fn no_user_or_password_of_the_url_is_kept() {
        assert_eq!(
            http_base("ws://root:secret@db.internal:8000").as_deref(),
            Some("http://db.internal:8000")
        );
    }
}
