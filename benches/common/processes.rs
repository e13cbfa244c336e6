//! The real binary's processes, for the benchmarks that run it: a `jobportal` command with
//! this checkout's models and no `JOBPORTAL_*` of the caller, a `serve` found by its log, and
//! the kernel's figures of a process's memory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `jobportal` (BENCH_BINARY, default the one cargo built with the bench) on the data
/// directory `data`, logging JSON.
pub fn jobportal(data: &Path) -> Command {
    let binary = std::env::var_os("BENCH_BINARY")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_jobportal")), PathBuf::from);
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars() {
        if key.starts_with("JOBPORTAL_") {
            command.env_remove(key);
        }
    }
    command
        .env("JOBPORTAL_DATA_DIR", data)
        .env("JOBPORTAL_MODELS_DIR", Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
        .env("JOBPORTAL_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    command
}

/// The first JSON line of the log whose message is `message` (waits up to ten minutes).
pub fn wait_for_log(log: &Path, message: &str) -> Value {
    wait_for_one_of(log, &[message])
}

/// The first JSON line of the log whose message is one of `messages` (waits up to ten
/// minutes).
pub fn wait_for_one_of(log: &Path, messages: &[&str]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(line) = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| messages.iter().any(|m| v["message"] == *m))
        {
            return line;
        }
        assert!(Instant::now() < deadline, "none of {messages:?} in the log: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The peak resident set of a running process, from the kernel's high-water mark.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:")
}

/// The resident set of a running process now.
#[allow(dead_code, reason = "the load benchmark's, not the search benchmark's")]
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:")
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.trim().strip_suffix("kB")?.trim().parse().ok())
}

/// Runs a child to its end, sampling its peak RSS; returns (wall time, peak RSS KiB, stdout).
pub fn run_measured(mut command: Command) -> (Duration, u64, String) {
    let started = Instant::now();
    let errors = tempfile::tempfile().unwrap();
    let mut child =
        command.stdout(Stdio::piped()).stderr(errors.try_clone().unwrap()).spawn().unwrap();
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        peak = peak.max(peak_rss_kib(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = started.elapsed();
    let output = child.wait_with_output().unwrap();
    if !output.status.success() {
        let mut text = String::new();
        let mut errors = errors;
        std::io::Seek::seek(&mut errors, std::io::SeekFrom::Start(0)).unwrap();
        std::io::Read::read_to_string(&mut errors, &mut text).unwrap();
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        panic!(
            "{:?}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            tail.join("\n")
        );
    }
    (elapsed, peak, String::from_utf8_lossy(&output.stdout).into_owned())
}

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `command` (a `jobportal serve` on `127.0.0.1:0`) with its log in `log`, and
    /// returns once the log says where it listens.
    pub fn start(command: &mut Command, log: &Path) -> Server {
        // Owned by a `Server` from the start, so a serve that never starts is stopped and
        // waited for.
        let child = command
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server { child, addr: String::new() };
        server.addr =
            wait_for_log(log, "listening")["addr"].as_str().unwrap_or_default().to_owned();
        server
    }
}
