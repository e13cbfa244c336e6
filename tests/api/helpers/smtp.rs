//! A real SMTP server for the workers to send to.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{free_port, test_python};

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
