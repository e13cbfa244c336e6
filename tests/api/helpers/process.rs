//! The real `jobportal` binary as a child process, and what child processes need (a free port,
//! the Python with the test peers).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

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
