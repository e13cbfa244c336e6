//! The candidate's terminal app end to end: the real binary's `serve` with the fixture jobs
//! and the default models, and `jobportal assistant` in a real terminal (tmux), driven by keys
//! and read from the screen, waiting for text rather than for time. A candidate signs in, asks
//! for jobs, gets an answer with sources, opens a cited job, saves it and quits; the saved job
//! is then there through the API.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, ServeProcess, jobportal};

/// A tmux server of this test's own (its own socket), killed when dropped.
struct Terminal {
    socket: String,
}

impl Terminal {
    /// Starts `command` in a detached 100×30 terminal.
    fn start(command: &str) -> Terminal {
        let socket = format!("jobportal-test-{}", std::process::id());
        let terminal = Terminal { socket };
        let status = terminal
            .tmux()
            .args(["new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command])
            .status()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        terminal
    }

    fn tmux(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    /// The screen as text.
    fn screen(&self) -> String {
        let output = self.tmux().args(["capture-pane", "-p", "-t", "app"]).output().unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Keys as tmux names them (`Enter`, `M-1`, `C-q`) or literal text.
    fn keys(&self, keys: &[&str]) {
        let status = self.tmux().args(["send-keys", "-t", "app"]).args(keys).status().unwrap();
        assert!(status.success());
    }

    fn text(&self, text: &str) {
        let status = self.tmux().args(["send-keys", "-t", "app", "-l", text]).status().unwrap();
        assert!(status.success());
    }

    /// Waits until the screen satisfies `ready`; panics with the screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < limit,
                "waited {limit:?} for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the app's terminal is still there (it closes when the app exits).
    fn running(&self) -> bool {
        self.tmux().args(["has-session", "-t", "app"]).status().is_ok_and(|s| s.success())
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Single-quoted for the shell.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_candidate_signs_in_asks_opens_a_cited_job_and_saves_it_in_the_terminal_app() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The fixture jobs, imported by the real command.
    let jobs = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/jobs");
    let mut files: Vec<_> = std::fs::read_dir(&jobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let output = jobportal(&data)
        .env("JOBPORTAL_MODELS_DIR", models_dir())
        .arg("import-jobs")
        .args(&files)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let mut serve = jobportal(&data);
    serve.env("JOBPORTAL_MODELS_DIR", models_dir());
    let server = ServeProcess::start_with(serve);
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let body: Value =
            client.get(server.url("/readyz")).send().await.unwrap().json().await.unwrap();
        let models = &body["models"];
        if models["chat"]["state"] == "loaded" && models["embeddings"]["state"] == "loaded" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "models did not load: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let email = "tui@candidates.test";
    let registered = client
        .post(server.url("/api/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "full_name": "Tui Candidate", "role": "candidate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);

    // The app signs in with --email and the password from the environment.
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let command = format!(
        "env -i PATH=/usr/bin:/bin TERM=xterm-256color HOME={home} JOBPORTAL_SERVER_URL={url} JOBPORTAL_PASSWORD={password} {bin} assistant --email {email}",
        home = quoted(&home.display().to_string()),
        url = quoted(&server.url("")),
        password = quoted(PASSWORD),
        bin = quoted(env!("CARGO_BIN_EXE_jobportal")),
    );
    let terminal = Terminal::start(&command);
    let long = Duration::from_secs(120);
    terminal.wait_for("the chat after signing in", long, |s| {
        s.contains(email) && s.contains("Message")
    });

    // A question; the answer lists jobs and shows its sources.
    terminal.text("data engineer jobs");
    terminal.keys(&["Enter"]);
    let screen = terminal.wait_for("an answer with sources", long, |s| {
        s.contains("Sources") && s.contains("[1]") && !s.contains("answering")
    });
    assert!(screen.contains("searching jobs"), "the tool step is shown:\n{screen}");

    // The first source, opened: the job's detail.
    terminal.keys(&["M-1"]);
    let detail = terminal.wait_for("the cited job's detail", long, |s| s.contains("s save"));
    terminal.keys(&["s"]);
    terminal.wait_for("the job saved", long, |s| s.contains("★ saved"));

    // Back to the chat, then quit: the terminal closes with the app.
    terminal.keys(&["Escape"]);
    terminal.wait_for("the chat again", long, |s| s.contains("Sources"));
    terminal.keys(&["C-q"]);
    let started = Instant::now();
    while terminal.running() {
        assert!(started.elapsed() < Duration::from_secs(10), "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The saved job, through the API: the one the first source pointed at.
    let login: Value = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["tokens"]["access_token"].as_str().unwrap();
    let saved: Value = client
        .get(server.url("/api/v1/saved-jobs"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = saved["items"].as_array().unwrap_or_else(|| panic!("{saved}"));
    assert_eq!(items.len(), 1, "{saved}");
    let title = items[0]["job"]["title"].as_str().unwrap_or_else(|| panic!("{saved}"));
    assert!(detail.contains(title), "saved {title:?}; the detail:\n{detail}");
    // The conversation is the server's: the answer with its citations was stored.
    let conversations: Value = client
        .get(server.url("/api/v1/assistant/conversations"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = conversations["items"][0]["id"].as_str().unwrap_or_else(|| panic!("{conversations}"));
    let conversation: Value = client
        .get(server.url(&format!("/api/v1/assistant/conversations/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = &conversation["messages"][1];
    assert_eq!(answer["role"], "assistant", "{conversation}");
    assert!(!answer["citations"].as_array().unwrap().is_empty(), "{conversation}");
}
