//! A real SurrealDB server (`surreal start`, built by scripts/surreal-server.sh) on a free
//! loopback port with a data directory of its own, for tests of several processes on one
//! database; and the real binary's processes pointed at it.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobportal::core::config::{DbConfig, Secret};
use serde_json::Value;

use super::free_port;

/// The `surreal` binary from `JOBPORTAL_TEST_SURREAL` (scripts/test.sh builds it with
/// scripts/surreal-server.sh and sets it). Unset, a test that needs it is skipped with the
/// reason printed, except under CI (`CI` set), where that is a failure: the full run must run
/// these tests.
pub fn surreal_binary() -> Option<PathBuf> {
    match std::env::var_os("JOBPORTAL_TEST_SURREAL").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(path.is_file(), "JOBPORTAL_TEST_SURREAL={} is not a file", path.display());
            Some(path)
        }
        None if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "JOBPORTAL_TEST_SURREAL is unset under CI: scripts/test.sh builds the SurrealDB \
             server (scripts/surreal-server.sh) and sets it to the path printed"
        ),
        None => {
            eprintln!(
                "skipped: no SurrealDB server: run scripts/surreal-server.sh and set \
                 JOBPORTAL_TEST_SURREAL to the path it prints (scripts/test.sh does both)"
            );
            None
        }
    }
}

/// A `surreal start` process with root credentials, storing to SurrealKV in a temporary
/// directory; stopped (and thawed first, when frozen) when dropped.
pub struct SurrealServer {
    binary: PathBuf,
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SurrealServer {
    pub fn start(binary: &Path) -> SurrealServer {
        let mut server = SurrealServer {
            binary: binary.to_owned(),
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Where jobportal finds it, as `DbConfig` (for the test's own connection).
    pub fn db_config(&self) -> DbConfig {
        DbConfig {
            url: self.url(),
            user: Some("root".into()),
            password: Some(Secret::new("root")),
            ..DbConfig::memory()
        }
    }

    /// Points a `jobportal` command at this server.
    pub fn point(&self, command: &mut Command) {
        command
            .env("JOBPORTAL_DB_URL", self.url())
            .env("JOBPORTAL_DB_USER", "root")
            .env("JOBPORTAL_DB_PASSWORD", "root");
    }

    /// Starts the server (again) on the same port and data; returns once it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("surreal.log"))
            .unwrap();
        let child = Command::new(&self.binary)
            .args(["start", "--no-banner", "--log", "warn", "--bind"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["--user", "root", "--pass", "root"])
            .arg(format!("surrealkv://{}", self.dir.path().join("data").display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("surreal starts");
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(60));
    }

    /// Waits until `GET /health` answers 200.
    pub fn wait_ready(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.health() == Some(200) {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("surreal exited ({status}): {}", self.log());
            }
            assert!(Instant::now() < deadline, "surreal did not answer: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The status of `GET /health`, or `None` when nothing answers within a second.
    fn health(&self) -> Option<u16> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream =
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("surreal.log")).unwrap_or_default()
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("the server is running").id();
        let status = Command::new("kill").args([signal, &pid.to_string()]).status().unwrap();
        assert!(status.success(), "kill {signal} {pid}");
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server run again (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// Kills the server (SIGKILL) and waits for it to go; its data stays for [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SurrealServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `jobportal` process other than `serve` (a `worker`), its JSON log lines kept.
pub struct LoggedProcess {
    pub child: Child,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl LoggedProcess {
    pub fn spawn(mut command: Command) -> LoggedProcess {
        let mut child =
            command.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("jobportal starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        LoggedProcess { child, log }
    }

    pub fn log_lines(&self) -> Vec<Value> {
        self.log.lock().unwrap().iter().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Waits until a log line has this message; panics after `limit`.
    pub fn wait_for_message(&self, message: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.log_lines().iter().any(|l| l["message"] == message) {
            assert!(
                Instant::now() < deadline,
                "no `{message}` in the log: {:?}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for LoggedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
