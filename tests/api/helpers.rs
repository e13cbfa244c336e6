//! The test harness: a real server on a random port over a fresh in-memory database, with one
//! method per endpoint, and a way to run the real binary.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use jobportal::api::{self, AppState};
use jobportal::core::config::{
    DbConfig, EmailBackendConfig, EmailConfig, ServeConfig, WorkerConfig,
};
use jobportal::db::Database;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: Database,
    /// What the services of this app use (database, search index, settings).
    pub ctx: jobportal::services::Context,
    pub metrics: std::sync::Arc<jobportal::core::metrics::Metrics>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    /// The app running beside the server (its workers and catch-up loops), when the test
    /// asked for them.
    pub workers: Option<jobportal::app::App>,
}

/// The real application over a fresh, migrated in-memory database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServeConfig::default()).await
}

pub async fn spawn_app_with(config: ServeConfig) -> TestApp {
    let config = with_document_reader(config);
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.expect("migrations apply");
    spawn_router(db, config, api::router).await
}

/// The real application over a fresh, migrated database on disk (SurrealKV) in `dir`. Its
/// commits take long enough for concurrent requests to overlap in the engine, so races that an
/// in-memory database settles one after the other happen here as they do in production.
pub async fn spawn_app_on_disk(config: ServeConfig, dir: &Path) -> TestApp {
    let url = format!("surrealkv://{}", dir.join("db").display());
    let db = Database::connect(&DbConfig { url, ..DbConfig::memory() })
        .await
        .expect("on-disk database opens");
    jobportal::app::migrate(&db).await.expect("migrations apply");
    spawn_router(db, config, api::router).await
}

/// Worker settings for tests: one loop per queue, quick polling, short leases and backoff, no
/// schedules, email to `backend`.
pub fn test_worker_config(backend: EmailBackendConfig) -> WorkerConfig {
    WorkerConfig {
        email_loops: 1,
        default_loops: 1,
        lease: Duration::from_secs(2),
        poll_interval: Duration::from_millis(50),
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(1),
        email: EmailConfig { backend, from: "jobportal <noreply@jobs.test>".into() },
        schedules: Vec::new(),
        alerts_settle: Duration::ZERO,
    }
}

/// The real application with its workers running in-process, as `serve` runs them.
pub async fn spawn_app_with_workers(config: ServeConfig, workers: WorkerConfig) -> TestApp {
    let config = with_document_reader(config);
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.expect("migrations apply");
    let running = jobportal::app::App::builder(config)
        .check_index()
        .catch_up(false)
        .workers(workers)
        .expect("mailer")
        .start(&db)
        .await
        .expect("the app starts");
    let mut app = spawn_state(running.api_state(), api::router).await;
    app.workers = Some(running);
    app
}

/// The real application over a database nobody migrated.
pub async fn spawn_unmigrated_app() -> TestApp {
    let db = memory_db().await;
    spawn_router(db, ServeConfig::default(), api::router).await
}

pub async fn memory_db() -> Database {
    Database::connect(&DbConfig::memory()).await.expect("in-memory database opens")
}

/// With TEST_LOG set (e.g. `TEST_LOG=debug`), the server's logs go to the test output.
fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// Serves whatever router `build` makes from the state, through the real `api::serve`.
pub async fn spawn_router(
    db: Database,
    config: ServeConfig,
    build: impl FnOnce(AppState) -> Router,
) -> TestApp {
    let app = jobportal::app::App::builder(with_document_reader(config))
        .start(&db)
        .await
        .expect("the app starts");
    spawn_state(app.api_state(), build).await
}

/// Documents are read by the real binary's `parse-document` command: the server's default,
/// this process's own executable, is the test harness here.
pub fn with_document_reader(mut config: ServeConfig) -> ServeConfig {
    if config.documents.program.is_none() {
        config.documents.program = Some(env!("CARGO_BIN_EXE_jobportal").into());
    }
    config
}

/// Serves a prepared state.
pub async fn spawn_state(state: AppState, build: impl FnOnce(AppState) -> Router) -> TestApp {
    init_test_logging();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a random port");
    let addr = listener.local_addr().unwrap();
    let db = state.db().clone();
    let ctx = state.ctx.clone();
    let metrics = state.metrics.clone();
    let app = build(state);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(
        listener,
        app,
        async {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        db,
        ctx,
        metrics,
        shutdown: Some(tx),
        server: Some(server),
        workers: None,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request is answered")
    }

    pub async fn get_healthz(&self) -> reqwest::Response {
        self.get("/healthz").await
    }

    pub async fn get_readyz(&self) -> reqwest::Response {
        self.get("/readyz").await
    }

    pub async fn get_metrics(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    pub async fn get_openapi(&self) -> Value {
        let response = self.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request is answered")
    }

    /// A request with `Authorization: Bearer <token>`.
    pub fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(token)
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.authed(reqwest::Method::GET, path, token).send().await.expect("request is answered")
    }

    pub async fn post_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.authed(reqwest::Method::POST, path, token)
            .json(body)
            .send()
            .await
            .expect("request is answered")
    }

    pub async fn patch_authed(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.authed(reqwest::Method::PATCH, path, token)
            .json(body)
            .send()
            .await
            .expect("request is answered")
    }

    pub async fn put_json_authed(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::Response {
        self.authed(reqwest::Method::PUT, path, token)
            .json(body)
            .send()
            .await
            .expect("request is answered")
    }

    pub async fn delete_authed(
        &self,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut request = self.authed(reqwest::Method::DELETE, path, token);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request is answered")
    }

    pub async fn post_register(
        &self,
        email: &str,
        password: &str,
        role: &str,
    ) -> reqwest::Response {
        let name = email.split('@').next().unwrap_or("someone");
        self.post_json(
            "/api/v1/auth/register",
            &serde_json::json!({ "email": email, "password": password, "full_name": name, "role": role }),
        )
        .await
    }

    pub async fn post_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn post_refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn get_me(&self, access_token: &str) -> reqwest::Response {
        self.get_authed("/api/v1/users/me", access_token).await
    }

    /// Registers an account (status 201 asserted) and returns it signed in.
    pub async fn register(&self, email: &str, role: &str) -> Account {
        let response = self.post_register(email, PASSWORD, role).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "register {email}: {text}");
        Account::from_auth_body(serde_json::from_str(&text).unwrap())
    }

    /// Registers and verifies an account by the link in its email.
    pub async fn register_verified(&self, email: &str, role: &str) -> Account {
        let account = self.register(email, role).await;
        let token = self.token_sent_to(email, "verify_email").await;
        let response = self
            .post_json("/api/v1/auth/verify-email", &serde_json::json!({ "token": token }))
            .await;
        assert_eq!(response.status(), 200);
        account
    }

    /// An admin, made the only way admins are made (the CLI's service), then signed in.
    pub async fn admin(&self, email: &str) -> Account {
        jobportal::services::users::create_user(
            &self.db,
            jobportal::services::users::CreateUser {
                email,
                full_name: "Admin",
                role: jobportal::models::user::Role::Admin,
                password: PASSWORD,
                email_verified: true,
            },
        )
        .await
        .expect("admin created");
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> Account {
        let response = self.post_login(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "login {email}");
        Account::from_auth_body(response.json().await.unwrap())
    }

    /// Imports JSON Lines records through the import service (as `import-jobs` does).
    pub async fn import_jsonl(
        &self,
        lines: &[serde_json::Value],
    ) -> jobportal::services::import::ImportSummary {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let input = jobportal::services::import::Input {
            name: "test.jsonl".into(),
            reader: Box::new(std::io::Cursor::new(text.into_bytes())),
            format: None,
        };
        jobportal::services::import::import(&self.ctx, vec![input], &Default::default(), &mut ())
            .await
            .expect("import runs")
    }

    /// Every email in the outbox to an address, oldest first.
    pub async fn emails_to(&self, email: &str) -> Vec<jobportal::models::email::QueuedEmail> {
        jobportal::repositories::emails::list_to(&self.db, email).await.expect("outbox readable")
    }

    /// The token in the newest email of `template` to an address.
    pub async fn token_sent_to(&self, email: &str, template: &str) -> String {
        let emails = self.emails_to(email).await;
        let last = emails
            .iter()
            .rev()
            .find(|e| e.template == template)
            .unwrap_or_else(|| panic!("no {template} email to {email}: {emails:?}"));
        token_in(&last.text)
    }

    pub async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        request.send().await.expect("request is answered")
    }

    /// Signals shutdown without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    pub async fn wait_stopped(mut self) -> std::io::Result<()> {
        let server = self.server.take().expect("server still running");
        tokio::time::timeout(Duration::from_secs(10), server).await.expect("server stops").unwrap()
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "lighthouse keeper 42";

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl Account {
    pub fn from_auth_body(body: Value) -> Self {
        Account {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            access: body["tokens"]["access_token"].as_str().expect("access token").to_owned(),
            refresh: body["tokens"]["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }
}

/// The value of `token=` in the first link of a plain-text email body.
pub fn token_in(text: &str) -> String {
    let start = text.find("token=").expect("a link with a token") + "token=".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The token in a raw message as the SMTP server received it (quoted-printable body).
pub fn token_in_message(raw: &str) -> String {
    token_in(&decode_quoted_printable(raw))
}

/// Undoes quoted-printable: soft line breaks go, `=XX` becomes its byte. Plain text passes
/// through unchanged (an `=` not followed by two hex digits stays).
pub fn decode_quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Asserts an error body `{"error":{"code":…,"message":…}}` with this status and code; returns
/// the message.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(content_type.starts_with("application/json"), "content-type {content_type:?}");
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message is a string");
    assert!(!message.is_empty());
    assert_eq!(body.as_object().unwrap().len(), 1, "only `error` at the top: {body}");
    message.to_owned()
}

/// The real `jobportal` binary, run with a clean environment of its own.
pub fn jobportal(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_jobportal"));
    for (key, _) in std::env::vars() {
        if key.starts_with("JOBPORTAL_") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(data_dir.parent().unwrap_or(data_dir))
        .env("JOBPORTAL_DATA_DIR", data_dir)
        .env("JOBPORTAL_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    command
}

/// A `jobportal serve` process on a random port, with its address read from its log.
pub struct ServeProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServeProcess {
    pub fn start(data_dir: &Path) -> ServeProcess {
        Self::start_with(jobportal(data_dir))
    }

    pub fn start_with(mut command: Command) -> ServeProcess {
        use std::io::BufRead;
        let mut child = command
            .args(["serve", "--addr", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("jobportal serve starts");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && value["message"] == "listening"
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(value["addr"].as_str().unwrap_or_default().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("logged address parses"),
            Err(_) => {
                let _ = child.kill();
                panic!("serve did not log `listening`: {:?}", log.lock().unwrap());
            }
        };
        ServeProcess { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn sigterm(&self) {
        let status =
            Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; panics after `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Give the reader thread a moment to take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("process did not exit within {limit:?}: {:?}", self.log.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_lines(&self) -> Vec<Value> {
        self.log.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Python with the test peers (aiosmtpd, schemathesis): `JOBPORTAL_TEST_PYTHON`, or the
/// virtualenv that scripts/tools.sh makes (and is run to make, the first time).
pub fn test_python() -> std::path::PathBuf {
    if let Ok(python) = std::env::var("JOBPORTAL_TEST_PYTHON") {
        return python.into();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tools.sh");
    let output = Command::new(&script).output().expect("scripts/tools.sh runs");
    assert!(
        output.status.success(),
        "installing the test peers failed (python3 and PyPI are needed): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().into()
}

/// A free TCP port on loopback (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A real SMTP server (aiosmtpd) on loopback, delivering to a Maildir, able to fail on demand
/// (tests/support/aiosmtpd_faulty.py).
pub struct SmtpServer {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpServer {
    pub fn start() -> Self {
        let mut server =
            SmtpServer { port: free_port(), dir: tempfile::tempdir().unwrap(), child: None };
        server.restart();
        server
    }

    /// A server that is not running yet, on a port nothing listens on.
    pub fn stopped() -> Self {
        SmtpServer { port: free_port(), dir: tempfile::tempdir().unwrap(), child: None }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and mailbox; returns once it accepts connections.
    pub fn restart(&mut self) {
        let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let child = Command::new(test_python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd_faulty.FaultyMailbox"])
            .arg(self.dir.path().join("mail"))
            .env("PYTHONPATH", support)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "aiosmtpd did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Makes the server fail or stall (see tests/support/aiosmtpd_faulty.py); "" clears it.
    pub fn set_fault(&self, lines: &str) {
        std::fs::write(self.dir.path().join("smtp_fault"), lines).unwrap();
    }

    /// Whether a client has reached DATA.
    pub fn data_started(&self) -> bool {
        self.dir.path().join("data_started").exists()
    }

    /// Every accepted message, as text.
    pub fn messages(&self) -> Vec<String> {
        let new = self.dir.path().join("mail/new");
        let mut files: Vec<_> = std::fs::read_dir(&new)
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect()
    }

    /// Waits until at least `n` messages arrived; panics after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {n} messages after {limit:?}",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The value of a header in a raw message.
pub fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A file from `fixtures/`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

impl TestApp {
    /// Uploads a file as `multipart/form-data` (part `file`) to `path`.
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> reqwest::Response {
        let boundary = "jobportal-test-boundary-7d2f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.authed(reqwest::Method::POST, path, token)
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .expect("request is answered")
    }

    /// Uploads a resume and returns its body (status 201 asserted).
    pub async fn upload_resume(&self, token: &str, file_name: &str, bytes: &[u8]) -> Value {
        let response = self
            .upload("/api/v1/resumes", token, file_name, "application/octet-stream", bytes)
            .await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "upload {file_name}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}
