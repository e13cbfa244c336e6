//! Runs a command of this binary in a child process under hard limits, for work on untrusted
//! input that could crash, hang or exhaust the process doing it.
//!
//! A parser that recurses without limit overflows its stack, and Rust answers a stack
//! overflow by aborting the whole process: neither `catch_unwind` nor a panic hook can stop
//! it. A parser that inflates a bomb takes memory the server needs. So such work runs in a
//! child: the input goes to its standard input, the answer comes from its standard output, and
//! whatever the child does to itself, the parent only sees an exit status.
//!
//! The limits are set in the child after `fork` and before `exec`, so they hold from the first
//! instruction of the child's `main`:
//! - memory: `RLIMIT_DATA` (heap and private mappings) at the limit, and `RLIMIT_AS` at the
//!   limit plus the size of the executable (which is mapped whole but not copied) and room for
//!   the stack and the loader;
//! - CPU time: `RLIMIT_CPU` (the kernel sends SIGXCPU, then SIGKILL a second later);
//! - files: `RLIMIT_FSIZE` 0 (the child writes no file), `RLIMIT_CORE` 0 (no core dump of an
//!   upload), and every inherited descriptor above standard error closed: the child holds no
//!   socket, no database file and no lock of the parent's;
//! - wall-clock time and output size are enforced by the parent, which kills the child.
//!
//! The child also starts with an empty environment (no secrets, no `JOBPORTAL_*` settings) in
//! the root directory (no `.env` file is read).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

/// What a child may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of heap (and, with the executable, of address space).
    pub memory: u64,
    /// CPU seconds, counted by the kernel.
    pub cpu: Duration,
    /// Time from start to exit, counted by the parent.
    pub wall: Duration,
    /// Bytes of standard output kept; more ends the child.
    pub output: usize,
}

/// How a sandboxed run ended when it did not end well.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the child process could not be started: {0}")]
    Spawn(#[source] io::Error),
    #[error("the child process ran out of memory")]
    OutOfMemory,
    #[error("the child process used more than its CPU time")]
    CpuTime,
    #[error("the child process did not finish in time")]
    WallTime,
    #[error("the child process wrote more than {0} bytes")]
    OutputTooLarge(usize),
    #[error("the child process overflowed its stack")]
    StackOverflow,
    #[error("the child process crashed ({0})")]
    Crashed(String),
    #[error("the child process failed: {0}")]
    Failed(String),
}

/// A successful run: the child exited with status 0.
#[derive(Debug)]
pub struct Output {
    pub stdout: Vec<u8>,
}

/// The most of the child's standard error kept, to tell why it died.
const STDERR_KEPT: usize = 16 * 1024;

/// Room in the address space beyond the heap limit and the executable: the main thread's stack
/// (8 MiB), the dynamic loader, libc and the allocator's reservations.
const ADDRESS_SPACE_SLACK: u64 = 256 * 1024 * 1024;

/// Runs `program args…` with `input` on its standard input, under `limits`.
pub async fn run(
    program: &Path,
    args: &[OsString],
    input: &[u8],
    limits: &Limits,
) -> Result<Output, SandboxError> {
    let executable = std::fs::metadata(program).map_err(SandboxError::Spawn)?.len();
    let rlimits = RawLimits::new(limits, executable);
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // SAFETY: the closure runs in the child between fork and exec, where only async-signal-safe
    // calls are allowed: it calls setrlimit and close_range (or close), nothing that allocates
    // or takes a lock.
    unsafe {
        command.pre_exec(move || rlimits.apply());
    }
    let mut child = command.spawn().map_err(SandboxError::Spawn)?;
    let mut stdin =
        child.stdin.take().ok_or_else(|| SandboxError::Failed("no standard input".into()))?;
    let stdout =
        child.stdout.take().ok_or_else(|| SandboxError::Failed("no standard output".into()))?;
    let stderr =
        child.stderr.take().ok_or_else(|| SandboxError::Failed("no standard error".into()))?;

    let work = async {
        // The child may die before it has read everything (a limit hit at start): its exit
        // status says why, so a broken pipe here is not the error to report.
        let write = async {
            let _ = stdin.write_all(input).await;
            drop(stdin);
        };
        let (_, out, err) = tokio::join!(
            write,
            read_capped(stdout, limits.output),
            read_capped(stderr, STDERR_KEPT)
        );
        (out, err)
    };
    // One deadline for reading the answer and for the exit that follows it.
    let deadline = tokio::time::Instant::now() + limits.wall;
    let (out, err) = match tokio::time::timeout_at(deadline, work).await {
        Ok(read) => read,
        Err(_) => {
            let _ = child.kill().await;
            return Err(SandboxError::WallTime);
        }
    };
    let out = match out {
        Ok(out) => out,
        Err(_) => {
            let _ = child.kill().await;
            return Err(SandboxError::OutputTooLarge(limits.output));
        }
    };
    let err = err.unwrap_or_else(|kept| kept);
    // Both pipes are closed: the child has exited or is about to.
    let status = match tokio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => status.map_err(|e| SandboxError::Failed(e.to_string()))?,
        Err(_) => {
            let _ = child.kill().await;
            return Err(SandboxError::WallTime);
        }
    };
    if status.success() {
        return Ok(Output { stdout: out });
    }
    Err(why(status, &String::from_utf8_lossy(&err)))
}

/// Reads a pipe to its end, keeping at most `cap` bytes: `Err` with what was kept when the
/// child wrote more.
async fn read_capped(mut pipe: impl AsyncRead + Unpin, cap: usize) -> Result<Vec<u8>, Vec<u8>> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return Ok(kept),
            Ok(n) if kept.len() + n > cap => {
                kept.extend_from_slice(&buf[..cap - kept.len()]);
                return Err(kept);
            }
            Ok(n) => kept.extend_from_slice(&buf[..n]),
        }
    }
}

/// Why a child that did not exit with 0 ended, from its status and the end of its stderr.
fn why(status: ExitStatus, stderr: &str) -> SandboxError {
    use std::os::unix::process::ExitStatusExt;
    if stderr.contains("has overflowed its stack") {
        return SandboxError::StackOverflow;
    }
    if stderr.contains("memory allocation of") || stderr.contains("out of memory") {
        return SandboxError::OutOfMemory;
    }
    // A Rust panic that nothing caught: the program's fault on this input, not a failure to run.
    if stderr.contains("panicked at") || status.code() == Some(101) {
        return SandboxError::Crashed("a panic".into());
    }
    match status.signal() {
        Some(libc::SIGXCPU) => SandboxError::CpuTime,
        // The kernel's hard CPU limit, a second after the soft one.
        Some(libc::SIGKILL) => SandboxError::CpuTime,
        Some(libc::SIGSEGV) | Some(libc::SIGBUS) => {
            SandboxError::Crashed("segmentation fault".into())
        }
        Some(signal) => SandboxError::Crashed(format!("signal {signal}")),
        None => {
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            SandboxError::Failed(format!(
                "exit status {}: {}",
                status.code().unwrap_or(-1),
                last.trim()
            ))
        }
    }
}

/// The limits as the kernel takes them, computed before `fork` so the child only copies them.
#[derive(Debug, Clone, Copy)]
struct RawLimits {
    data: libc::rlim_t,
    address_space: libc::rlim_t,
    cpu_soft: libc::rlim_t,
}

impl RawLimits {
    fn new(limits: &Limits, executable: u64) -> Self {
        let cpu = limits.cpu.as_secs().max(1);
        Self {
            data: limits.memory,
            address_space: limits
                .memory
                .saturating_add(executable)
                .saturating_add(ADDRESS_SPACE_SLACK),
            cpu_soft: cpu,
        }
    }

    /// Runs in the child before `exec`: async-signal-safe calls only.
    fn apply(&self) -> io::Result<()> {
        set(libc::RLIMIT_DATA, self.data, self.data)?;
        set(libc::RLIMIT_AS, self.address_space, self.address_space)?;
        set(libc::RLIMIT_CPU, self.cpu_soft, self.cpu_soft + 1)?;
        set(libc::RLIMIT_FSIZE, 0, 0)?;
        set(libc::RLIMIT_CORE, 0, 0)?;
        close_inherited();
        Ok(())
    }
}

fn set(
    resource: libc::__rlimit_resource_t,
    soft: libc::rlim_t,
    hard: libc::rlim_t,
) -> io::Result<()> {
    let limit = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: setrlimit reads the struct it is given and nothing else.
    if unsafe { libc::setrlimit(resource, &limit) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Closes every descriptor above standard error. Descriptors the standard library and tokio
/// open are close-on-exec already; this also covers any a dependency opened without the flag.
fn close_inherited() {
    // SAFETY: close_range and close only close descriptors of this (child) process.
    unsafe {
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..4096 {
                libc::close(fd);
            }
        }
    }
}

/// The program to run for this binary's own commands: the executable of this process. On
/// Linux it is `/proc/self/exe`, which still opens the running binary after an upgrade has
/// replaced (and so unlinked) the file it was started from.
pub fn this_executable() -> io::Result<PathBuf> {
    let proc = Path::new("/proc/self/exe");
    if proc.exists() { Ok(proc.to_path_buf()) } else { std::env::current_exe() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            memory: 64 << 20,
            cpu: Duration::from_secs(5),
            wall: Duration::from_secs(10),
            output: 1 << 20,
        }
    }

    async fn sh(script: &str, limits: &Limits) -> Result<Output, SandboxError> {
        run(Path::new("/bin/sh"), &["-c".into(), script.into()], b"", limits).await
    }

    #[tokio::test]
    async fn the_child_starts_with_the_limits_set_and_no_inherited_descriptors() {
        // A descriptor the parent holds without close-on-exec must not reach the child.
        let file = std::fs::File::open("/proc/self/status").unwrap();
        let raw = std::os::fd::AsRawFd::as_raw_fd(&file);
        // SAFETY: fcntl on a descriptor this test owns.
        unsafe { libc::fcntl(raw, libc::F_SETFD, 0) };
        let out = sh("ls /proc/self/fd; echo limits; ulimit -d; ulimit -t; ulimit -f; ulimit -c; env | wc -l", &limits())
            .await
            .expect("sh runs");
        let text = String::from_utf8(out.stdout).unwrap();
        let (fds, limits) = text.split_once("limits\n").unwrap();
        // 0, 1, 2 and the one `ls` opens to read the directory.
        let fds: Vec<u32> = fds.lines().map(|l| l.parse().unwrap()).collect();
        assert!(fds.iter().filter(|fd| **fd > 2).count() <= 1, "inherited descriptors: {fds:?}");
        let values: Vec<&str> = limits.lines().collect();
        assert_eq!(values[0], (64 * 1024).to_string(), "data limit in KiB");
        assert_eq!(values[1], "5", "cpu seconds");
        assert_eq!(values[2], "0", "file size");
        assert_eq!(values[3], "0", "core size");
        // `env` itself sees PWD and SHLVL that sh sets; nothing of the parent's.
        assert!(values[4].parse::<u32>().unwrap() <= 3, "environment: {}", values[4]);
        drop(file);
    }

    #[tokio::test]
    async fn a_child_that_hangs_is_killed_at_the_wall_clock_limit() {
        let limits = Limits { wall: Duration::from_millis(300), ..limits() };
        let started = std::time::Instant::now();
        assert!(matches!(sh("sleep 30", &limits).await, Err(SandboxError::WallTime)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_child_that_spins_is_stopped_at_its_cpu_limit() {
        let limits =
            Limits { cpu: Duration::from_secs(1), wall: Duration::from_secs(30), ..limits() };
        assert!(matches!(sh("while :; do :; done", &limits).await, Err(SandboxError::CpuTime)));
    }

    #[tokio::test]
    async fn output_past_the_cap_ends_the_child() {
        let limits = Limits { output: 1000, ..limits() };
        assert!(matches!(sh("yes", &limits).await, Err(SandboxError::OutputTooLarge(1000))));
        let ok = sh("printf hello", &limits).await.unwrap();
        assert_eq!(ok.stdout, b"hello");
    }

    #[tokio::test]
    async fn a_failing_child_says_its_status_and_last_words() {
        match sh("echo 'bad input' >&2; exit 3", &limits()).await {
            Err(SandboxError::Failed(message)) => assert_eq!(message, "exit status 3: bad input"),
            other => panic!("{other:?}"),
        }
        match sh("kill -SEGV $$", &limits()).await {
            Err(SandboxError::Crashed(message)) => assert_eq!(message, "segmentation fault"),
            other => panic!("{other:?}"),
        }
    }
}
