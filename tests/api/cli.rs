//! The real binary: configuration, `migrate`, `admin create-user`, `admin generate`, the database
//! lock, signals.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jobportal::core::config::DbConfig;
use jobportal::db::Database;
use jobportal::services::users;

use crate::helpers::{ServeProcess, jobportal};

fn workdir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

fn run(command: &mut std::process::Command) -> (i32, String, String) {
    let output = command.output().expect("jobportal runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn migrate_applies_then_says_nothing_is_pending() {
    let (_dir, data) = workdir();
    let (code, out, err) = run(jobportal(&data).arg("migrate"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("applied 0001_users"), "{out}");
    let (code, out, _) = run(jobportal(&data).arg("migrate"));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to apply"), "{out}");
    let (code, out, _) = run(jobportal(&data).args(["migrate", "--status"]));
    assert_eq!(code, 0);
    assert!(out.contains("0001_users") && out.contains("applied 20"), "{out}");
    assert!(out.contains("0 pending"), "{out}");
    // A clean exit leaves no error behind in the log.
    assert!(!err.contains("\"level\":\"ERROR\""), "{err}");
}

#[test]
fn an_invalid_setting_fails_at_start_with_one_line_naming_the_variable() {
    let (_dir, data) = workdir();
    let (code, _, err) = run(jobportal(&data).args(["serve"]).env("JOBPORTAL_ADDR", "localhost"));
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("JOBPORTAL_ADDR") && err.contains("--addr"), "{err}");

    let (code, _, err) = run(jobportal(&data).args(["serve", "--body-limit", "lots"]));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_BODY_LIMIT"), "{err}");

    // The chat model's settings are checked as strictly, and a key is never echoed.
    let (code, _, err) = run(jobportal(&data).args([
        "serve",
        "--llm-provider",
        "anthropic",
        "--llm-model",
        "claude-3-5-haiku-latest",
    ]));
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("JOBPORTAL_LLM_API_KEY") && err.contains("--llm-api-key"), "{err}");
    let (code, _, err) = run(jobportal(&data)
        .args(["serve"])
        .env("JOBPORTAL_LLM_TEMPERATURE", "hot")
        .env("JOBPORTAL_LLM_API_KEY", "sk-never-shown"));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_LLM_TEMPERATURE") && !err.contains("sk-never-shown"), "{err}");

    let (code, _, err) =
        run(jobportal(&data).args(["migrate"]).env("JOBPORTAL_DB_URL", "postgres://x"));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_DB_URL"), "{err}");

    // The worker builds the links of alert emails from the same public URL as `serve`.
    let (code, _, err) =
        run(jobportal(&data).args(["worker"]).env("JOBPORTAL_PUBLIC_URL", "jobs.example"));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_PUBLIC_URL") && err.contains("--public-url"), "{err}");
}

#[test]
fn flags_beat_the_environment_which_beats_dot_env() {
    let (dir, data) = workdir();
    std::fs::write(dir.path().join(".env"), "JOBPORTAL_LOG_FORMAT=bogus\n").unwrap();
    // .env alone: its bad value is used and reported.
    let (code, _, err) = run(jobportal(&data).arg("migrate").env_remove("JOBPORTAL_LOG_FORMAT"));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_LOG_FORMAT") && err.contains("bogus"), "{err}");
    // The environment wins over .env.
    let (code, _, err) = run(jobportal(&data).arg("migrate").env("JOBPORTAL_LOG_FORMAT", "json"));
    assert_eq!(code, 0, "{err}");
    // A flag wins over the environment.
    let (code, _, err) = run(jobportal(&data)
        .args(["migrate", "--log-format", "human"])
        .env("JOBPORTAL_LOG_FORMAT", "bogus"));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let (_dir, data) = workdir();
    for (shell, marker) in
        [("bash", "_jobportal()"), ("zsh", "#compdef jobportal"), ("fish", "complete -c jobportal")]
    {
        let (code, out, err) = run(jobportal(&data).args(["completions", shell]));
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(out.contains("migrate"), "{shell}");
    }
}

#[tokio::test]
async fn admin_create_user_takes_the_password_from_env_or_stdin_never_a_flag() {
    let (_dir, data) = workdir();
    let (code, out, err) = run(jobportal(&data)
        .args([
            "admin",
            "create-user",
            "--email",
            " Grace@Example.COM ",
            "--role",
            "admin",
            "--name",
            "Grace Hopper",
        ])
        .env("JOBPORTAL_PASSWORD", "correct horse battery"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created admin grace@example.com"), "{out}");

    let mut child = jobportal(&data)
        .args([
            "admin",
            "create-user",
            "--email",
            "alan@example.com",
            "--role",
            "employer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"another good password\n").unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(status.success(), "{err}");

    // The same email again, in another case: refused.
    let (code, _, err) = run(jobportal(&data)
        .args(["admin", "create-user", "--email", "GRACE@example.com", "--role", "candidate"])
        .env("JOBPORTAL_PASSWORD", "correct horse battery"));
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");

    // No password source and no terminal: a clear refusal.
    let (code, _, err) = run(jobportal(&data).args([
        "admin",
        "create-user",
        "--email",
        "x@example.com",
        "--role",
        "candidate",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("JOBPORTAL_PASSWORD"), "{err}");

    // There is no --password flag.
    let (code, _, _) = run(jobportal(&data).args([
        "admin",
        "create-user",
        "--email",
        "x@example.com",
        "--role",
        "candidate",
        "--password",
        "abcdefgh1",
    ]));
    assert_eq!(code, 2);

    // What the processes stored, read back through the service layer.
    let db = Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    let grace =
        users::find_by_email(&db, "grace@example.com").await.unwrap().expect("grace exists");
    assert_eq!(grace.full_name, "Grace Hopper");
    assert_eq!(grace.role.as_str(), "admin");
    let alan = users::find_by_email(&db, "alan@example.com").await.unwrap().expect("alan exists");
    assert_eq!(alan.full_name, "alan");
    assert!(users::find_by_email(&db, "x@example.com").await.unwrap().is_none());
    db.close().await;
}

#[tokio::test]
async fn a_second_process_on_the_same_data_dir_fails_fast_with_the_in_use_message() {
    let (_dir, data) = workdir();
    let server = ServeProcess::start(&data);
    for args in [&["migrate"][..], &["serve", "--addr", "127.0.0.1:0"][..]] {
        let started = Instant::now();
        let (code, _, err) = run(jobportal(&data).args(args));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains("is in use by another process"), "{err}");
        assert!(err.contains("ws://"), "the message says what to do instead: {err}");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        assert!(!err.contains("panicked"), "{err}");
    }
    // The first one is unharmed.
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert!(health.status().is_success());
}

#[tokio::test]
async fn sigterm_stops_serve_with_exit_0_and_the_database_reopens() {
    let (_dir, data) = workdir();
    let mut server = ServeProcess::start(&data);
    let response = reqwest::Client::new()
        .get(server.url("/readyz"))
        .header("x-request-id", "probe-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // No models here: serve starts anyway, and says which command fetches the chat model.
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["models"]["chat"]["state"], "missing", "{body}");
    assert!(body["models"]["chat"]["detail"].as_str().unwrap().contains("scripts/models.sh"));

    server.sigterm();
    let started = Instant::now();
    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());

    let lines = server.log_lines();
    // One access line with method, path, status, latency and the request id.
    let access: Vec<_> = lines.iter().filter(|l| l["target"] == "jobportal::access").collect();
    assert_eq!(access.len(), 1, "{lines:?}");
    let line = access[0];
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/readyz");
    assert_eq!(line["status"], 200);
    assert_eq!(line["request_id"], "probe-1");
    assert!(line["latency_ms"].is_number());
    assert!(lines.iter().any(|l| l["message"] == "received SIGTERM"));
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
    assert!(!lines.iter().any(|l| l["level"] == "ERROR"), "{lines:?}");

    // The lock went with the process.
    let (code, out, err) = run(jobportal(&data).arg("migrate"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing to apply"));
}

#[test]
fn serve_generates_a_jwt_secret_once_with_mode_0600() {
    let (_dir, data) = workdir();
    let mut server = ServeProcess::start(&data);
    let path = data.join("jwt_secret");
    let first = std::fs::read_to_string(&path).unwrap();
    assert!(first.len() >= 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let warned = server
        .log_lines()
        .iter()
        .filter(|l| {
            l["level"] == "WARN"
                && l["message"].as_str().unwrap_or("").contains("JOBPORTAL_JWT_SECRET")
        })
        .count();
    assert_eq!(warned, 1);
    server.sigterm();
    server.wait_exit(Duration::from_secs(10));

    let mut again = ServeProcess::start(&data);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
    assert!(
        !again
            .log_lines()
            .iter()
            .any(|l| l["message"].as_str().unwrap_or("").contains("JOBPORTAL_JWT_SECRET"))
    );
    again.sigterm();
    again.wait_exit(Duration::from_secs(10));
    // The secret never reaches the log.
    assert!(
        !again
            .log
            .lock()
            .unwrap()
            .iter()
            .chain(server.log.lock().unwrap().iter())
            .any(|l| l.contains(first.trim()))
    );
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_before_exiting_0() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let (_dir, data) = workdir();
    let mut server = ServeProcess::start(&data);
    let body = br#"{"email":"nobody@example.com","password":"not the password"}"#;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The request is half uploaded when the signal arrives.
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.child.try_wait().unwrap().is_none(), "exited with a request in flight");
    stream.write_all(&body[10..]).await.unwrap();

    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(response.contains("invalid_credentials"), "{response}");

    let status = server.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    // And no new connection is accepted any more.
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test]
async fn a_worker_killed_mid_delivery_is_replaced_and_the_email_arrives_exactly_once() {
    use jobportal::models::task::TaskStatus;

    use crate::helpers::SmtpServer;

    let (_dir, data) = workdir();
    let server = SmtpServer::start();

    // The API takes a registration (and queues its email) with no workers in the process.
    let mut serve = ServeProcess::start_with({
        let mut command = jobportal(&data);
        command.env("JOBPORTAL_RUN_WORKERS", "false");
        command
    });
    let response = reqwest::Client::new()
        .post(serve.url("/api/v1/auth/register"))
        .json(&serde_json::json!({
            "email": "ada@example.com", "password": crate::helpers::PASSWORD, "full_name": "Ada", "role": "candidate"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    serve.sigterm();
    assert!(serve.wait_exit(Duration::from_secs(10)).success());

    let worker = |delay: bool| {
        server.set_fault(if delay { "DELAY 4" } else { "" });
        let mut command = jobportal(&data);
        command
            .arg("worker")
            .env("JOBPORTAL_SMTP_URL", server.url())
            .env("JOBPORTAL_TASK_LEASE", "2s")
            .env("JOBPORTAL_TASK_POLL_INTERVAL", "100ms")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.spawn().expect("jobportal worker starts")
    };

    // Worker A reaches DATA on a slow server and is killed there, before any 250.
    let mut first = worker(true);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.data_started() {
        assert!(Instant::now() < deadline, "worker A never reached DATA");
        std::thread::sleep(Duration::from_millis(20));
    }
    let killed_at = Instant::now();
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(server.messages().is_empty());

    // Worker B takes the task over once A's lease has run out, and delivers it.
    let mut second = worker(false);
    let messages = server.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(crate::helpers::header(&messages[0], "To"), Some("ada@example.com"));
    // Past the moment A's abandoned DATA would have finished: still exactly one message.
    tokio::time::sleep(Duration::from_secs(5).saturating_sub(killed_at.elapsed())).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(server.messages().len(), 1, "the email arrived more than once");
    let status = Command::new("kill").args(["-TERM", &second.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(second.wait().unwrap().success());

    let db = Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    let (tasks, _) =
        jobportal::repositories::tasks::list(&db, None, Some("send_email"), 10, 0).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].status, TaskStatus::Done);
    assert_eq!(tasks[0].attempts, 2, "A's attempt and B's");
    let emails = jobportal::repositories::emails::list_to(&db, "ada@example.com").await.unwrap();
    assert_eq!(emails[0].status, "sent");
    db.close().await;
}

/// `admin generate` answers with the local chat model without the server: the same answer on
/// every run at temperature 0, ending with the model's turn, with its speed on request.
#[test]
fn admin_generate_answers_the_same_every_run_and_says_how_fast() {
    let (_dir, data) = workdir();
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let answer = || {
        run(jobportal(&data)
            .args(["admin", "generate", "--prompt", "What is the capital of France?"])
            .args(["--system", "You are a helpful assistant. Answer in one short sentence."])
            .args(["--max-tokens", "96", "--stats"])
            .env("JOBPORTAL_MODELS_DIR", &models))
    };
    let (code, first, err) = answer();
    assert_eq!(code, 0, "{err}");
    assert!(first.to_lowercase().contains("paris"), "{first}");
    assert!(err.contains("tokens/s") && err.contains("first token after"), "{err}");
    assert!(err.contains("Stop"), "the answer ends with the model's turn: {err}");
    let (code, second, err) = answer();
    assert_eq!(code, 0, "{err}");
    assert_eq!(first, second);

    // The message may come from standard input.
    let mut child = jobportal(&data)
        .args(["admin", "generate", "--max-tokens", "8"])
        .env("JOBPORTAL_MODELS_DIR", &models)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Say hello.").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(!String::from_utf8_lossy(&output.stdout).trim().is_empty());
}

/// `--json-schema` reads and parses its file before any model loads: a file that is not
/// there, not JSON or not a schema is a clear error naming it.
#[test]
fn admin_generate_refuses_a_json_schema_file_it_cannot_use() {
    let (dir, data) = workdir();
    let models = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let generate = |schema: &std::path::Path| {
        run(jobportal(&data)
            .args(["admin", "generate", "--prompt", "A person, please."])
            .arg("--json-schema")
            .arg(schema)
            .env("JOBPORTAL_MODELS_DIR", &models))
    };
    let absent = dir.path().join("absent.json");
    let (code, out, err) = generate(&absent);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("cannot read the JSON schema") && err.contains("absent.json"), "{err}");
    assert!(out.is_empty(), "{out}");

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"type\": \"object\",").unwrap();
    let (code, _, err) = generate(&broken);
    assert_eq!(code, 1);
    assert!(err.contains("broken.json") && err.contains("not valid JSON"), "{err}");
    assert!(err.contains("line 1"), "the parser's position is kept: {err}");

    let list = dir.path().join("list.json");
    std::fs::write(&list, "[1, 2]").unwrap();
    let (code, _, err) = generate(&list);
    assert_eq!(code, 1);
    assert!(err.contains("list.json") && err.contains("not a schema"), "{err}");
}

#[test]
fn admin_generate_without_a_model_says_which_command_fetches_it() {
    let (dir, data) = workdir();
    let empty = dir.path().join("no-models");
    std::fs::create_dir_all(empty.join("llm")).unwrap();
    let (code, out, err) = run(jobportal(&data)
        .args(["admin", "generate", "--prompt", "hello"])
        .env("JOBPORTAL_MODELS_DIR", &empty));
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no chat model") && err.contains("./scripts/models.sh"), "{err}");
    assert!(out.is_empty(), "{out}");

    // A file named with --llm-model that is not there: the same, naming it.
    let (code, _, err) = run(jobportal(&data).args([
        "admin",
        "generate",
        "--prompt",
        "hello",
        "--llm-model",
        "nowhere/Big-7B.gguf",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("no chat model") && err.contains("nowhere/Big-7B.gguf"), "{err}");
    assert!(err.contains("./scripts/models.sh"), "{err}");
}
