//! The task queue, the workers and email delivery, against a real SMTP server (aiosmtpd).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use jobportal::core::config::{EmailBackendConfig, Secret, ServeConfig};
use jobportal::models::task::TaskStatus;
use jobportal::queue::{self, Attempt, Queue, Registry, Task};
use jobportal::repositories;
use jobportal::services::TaskContext;
use jobportal::workers::runner;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, SmtpServer, TestApp, assert_error, eventually, header, spawn_app,
    spawn_app_with_workers, test_worker_config, token_in_message,
};

fn smtp(server: &SmtpServer) -> EmailBackendConfig {
    EmailBackendConfig::Smtp { url: Secret::new(server.url()), timeout: Duration::from_secs(5) }
}

async fn app_with_smtp(server: &SmtpServer) -> TestApp {
    spawn_app_with_workers(ServeConfig::default(), test_worker_config(smtp(server))).await
}

#[tokio::test]
async fn the_verification_email_reaches_the_smtp_server_with_a_working_token() {
    let server = SmtpServer::start();
    let app = app_with_smtp(&server).await;
    app.register("ada@example.com", "candidate").await;

    let messages = server.wait_for(1, Duration::from_secs(15)).await;
    let message = &messages[0];
    assert_eq!(header(message, "To"), Some("ada@example.com"));
    assert_eq!(header(message, "Subject"), Some("Confirm your email address"));
    assert_eq!(header(message, "From"), Some("jobportal <noreply@jobs.test>"));
    let stored = &app.emails_to("ada@example.com").await[0];
    assert_eq!(header(message, "Message-ID"), Some(stored.message_id.as_str()));
    eventually(Duration::from_secs(5), "the email marked sent", || async {
        app.emails_to("ada@example.com").await[0].status == "sent"
    })
    .await;

    // The token in the message that arrived verifies the address.
    let token = token_in_message(message);
    let response = app.post_json("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_reset_requested_while_the_mail_server_is_down_arrives_exactly_once_when_it_is_back() {
    let mut server = SmtpServer::stopped();
    let app = app_with_smtp(&server).await;
    app.register("ada@example.com", "candidate").await;
    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "ada@example.com" })).await;
    assert_eq!(response.status(), 202, "the request is acknowledged though no mail server answers");

    // Nothing listens: the delivery fails and is retried with backoff.
    eventually(Duration::from_secs(15), "two failed attempts", || async {
        let emails = app.emails_to("ada@example.com").await;
        emails.iter().any(|e| e.template == "reset_password" && e.attempts >= 2)
    })
    .await;
    let reset = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .find(|e| e.template == "reset_password")
        .unwrap();
    assert_eq!(reset.status, "queued");
    assert!(reset.last_error.as_deref().unwrap_or("").contains("temporary"), "{reset:?}");

    server.restart();
    let messages = server.wait_for(2, Duration::from_secs(15)).await;
    // Give any duplicate a chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resets: Vec<_> = server
        .messages()
        .into_iter()
        .filter(|m| header(m, "Subject") == Some("Reset your password"))
        .collect();
    assert_eq!(resets.len(), 1, "{messages:?}");
    assert_eq!(header(&resets[0], "Message-ID"), Some(reset.message_id.as_str()));
    let reset = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .find(|e| e.template == "reset_password")
        .unwrap();
    assert_eq!(reset.status, "sent");
}

#[tokio::test]
async fn a_temporary_refusal_is_retried_and_a_permanent_one_is_not() {
    let server = SmtpServer::start();
    server.set_fault("MAIL 451 4.3.0 greylisted, try later");
    let app = app_with_smtp(&server).await;
    // The task of the permanently refused email dies, as it should.
    app.expect_dead_tasks();
    app.register("ada@example.com", "candidate").await;
    eventually(Duration::from_secs(15), "a retried attempt", || async {
        app.emails_to("ada@example.com").await[0].attempts >= 2
    })
    .await;
    server.set_fault("");
    server.wait_for(1, Duration::from_secs(15)).await;

    server.set_fault("RCPT 550 5.1.1 no such user");
    app.register("ghost@example.com", "candidate").await;
    eventually(Duration::from_secs(15), "the email failed for good", || async {
        app.emails_to("ghost@example.com").await[0].status == "failed"
    })
    .await;
    let failed = &app.emails_to("ghost@example.com").await[0];
    assert_eq!(failed.attempts, 1, "a 5xx is not retried");
    assert!(failed.last_error.as_deref().unwrap().contains("550"), "{failed:?}");
    let (dead, _) =
        repositories::tasks::list(&app.db, Some(TaskStatus::Dead), Some("send_email"), 10, 0)
            .await
            .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn without_smtp_emails_are_written_as_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let backend = EmailBackendConfig::File { dir: dir.path().join("mail") };
    let app = spawn_app_with_workers(ServeConfig::default(), test_worker_config(backend)).await;
    app.register("ada@example.com", "candidate").await;
    eventually(Duration::from_secs(10), "an .eml file", || async {
        std::fs::read_dir(dir.path().join("mail")).map(|d| d.count() == 1).unwrap_or(false)
    })
    .await;
    let file = std::fs::read_dir(dir.path().join("mail")).unwrap().next().unwrap().unwrap().path();
    assert_eq!(file.extension().unwrap(), "eml");
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("Subject: Confirm your email address"), "{text}");
}

/// A task for the queue tests: counts its runs per number, fails `fail_first` times.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Count {
    run: String,
    n: u32,
    fail_first: u32,
    sleep_ms: u64,
}

static RUNS: LazyLock<Mutex<HashMap<(String, u32), u32>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl Task for Count {
    const KIND: &'static str = "test_count";
    const QUEUE: Queue = Queue::Default;
    const MAX_ATTEMPTS: u32 = 4;
    type Context = Arc<TaskContext>;

    async fn run(self, _ctx: Arc<TaskContext>, attempt: Attempt) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(self.sleep_ms)).await;
        if attempt.number <= self.fail_first {
            anyhow::bail!("planned failure {} of {}", attempt.number, self.fail_first);
        }
        *RUNS.lock().unwrap().entry((self.run.clone(), self.n)).or_default() += 1;
        Ok(())
    }
}

fn runs(run: &str) -> HashMap<u32, u32> {
    RUNS.lock().unwrap().iter().filter(|((r, _), _)| r == run).map(|((_, n), c)| (*n, *c)).collect()
}

/// A task context over the app's services, for runners with the test registry.
fn context(app: &TestApp, loops: usize) -> Arc<TaskContext> {
    let mut config = test_worker_config(EmailBackendConfig::File {
        dir: std::env::temp_dir().join("jobportal-unused"),
    });
    config.default_loops = loops;
    config.email_loops = 0;
    Arc::new(TaskContext {
        services: app.ctx.clone(),
        mailer: jobportal::services::email::Mailer::from_config(&config.email).unwrap(),
        metrics: app.metrics.clone(),
        config,
    })
}

async fn count_with(app: &TestApp, status: TaskStatus) -> u64 {
    repositories::tasks::list(&app.db, Some(status), Some("test_count"), 1, 0).await.unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_racing_on_a_thousand_tasks_run_each_exactly_once() {
    let app = spawn_app().await;
    let run = uuid::Uuid::new_v4().to_string();
    for n in 0..1000 {
        queue::enqueue(&app.db, &Count { run: run.clone(), n, fail_first: 0, sleep_ms: 0 })
            .await
            .unwrap();
    }
    let registry = Arc::new(Registry::new().register::<Count>());
    // The race under test is two claims of one task. A lease that runs out lets another worker
    // run the task again by design (the lease test below), so these leases cannot run out: a
    // task whose outcome was not recorded stays `running` and is listed when the wait ends.
    let mut config = context(&app, 2).config.clone();
    config.lease = Duration::from_secs(120);
    let first = runner::start(context(&app, 2), registry.clone(), &config);
    let second = runner::start(context(&app, 2), registry, &config);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while count_with(&app, TaskStatus::Done).await < 1000 {
        if tokio::time::Instant::now() >= deadline {
            let mut left = Vec::new();
            for status in
                [TaskStatus::Queued, TaskStatus::Running, TaskStatus::Failed, TaskStatus::Dead]
            {
                left.extend(
                    repositories::tasks::list(&app.db, Some(status), Some("test_count"), 10, 0)
                        .await
                        .unwrap()
                        .0,
                );
            }
            panic!("not all thousand tasks done after 120 s; some of those left: {left:#?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    first.shutdown(Duration::from_secs(5)).await;
    second.shutdown(Duration::from_secs(5)).await;
    let counts = runs(&run);
    assert_eq!(counts.len(), 1000);
    assert!(
        counts.values().all(|c| *c == 1),
        "some task ran twice: {:?}",
        counts.iter().filter(|(_, c)| **c != 1).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_failing_task_is_retried_with_backoff_until_it_succeeds_or_dies() {
    let app = spawn_app().await;
    // The task that always fails dies, as it should.
    app.expect_dead_tasks();
    let run = uuid::Uuid::new_v4().to_string();
    queue::enqueue(&app.db, &Count { run: run.clone(), n: 1, fail_first: 2, sleep_ms: 0 })
        .await
        .unwrap();
    queue::enqueue(&app.db, &Count { run: run.clone(), n: 2, fail_first: 99, sleep_ms: 0 })
        .await
        .unwrap();
    let runner = runner::start(
        context(&app, 1),
        Arc::new(Registry::new().register::<Count>()),
        &context(&app, 1).config,
    );
    eventually(Duration::from_secs(30), "one done and one dead", || async {
        count_with(&app, TaskStatus::Done).await == 1
            && count_with(&app, TaskStatus::Dead).await == 1
    })
    .await;
    runner.shutdown(Duration::from_secs(5)).await;
    let (tasks, _) =
        repositories::tasks::list(&app.db, None, Some("test_count"), 10, 0).await.unwrap();
    let done = tasks.iter().find(|t| t.status == TaskStatus::Done).unwrap();
    assert_eq!(done.attempts, 3);
    let dead = tasks.iter().find(|t| t.status == TaskStatus::Dead).unwrap();
    assert_eq!(dead.attempts, 4);
    assert!(dead.last_error.as_deref().unwrap().contains("planned failure 4 of 99"));
    assert_eq!(runs(&run), HashMap::from([(1, 1)]));
    // The outcomes are in the metrics.
    let text = app.get_metrics().await;
    assert!(
        text.contains(r#"jobportal_task_attempts_total{kind="test_count",outcome="retry"} 5"#),
        "{text}"
    );
    assert!(
        text.contains(r#"jobportal_task_attempts_total{kind="test_count",outcome="dead"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn at_shutdown_a_task_that_outlives_the_grace_period_goes_back_to_the_queue() {
    let app = spawn_app().await;
    let run = uuid::Uuid::new_v4().to_string();
    queue::enqueue(&app.db, &Count { run: run.clone(), n: 1, fail_first: 0, sleep_ms: 30_000 })
        .await
        .unwrap();
    let runner = runner::start(
        context(&app, 1),
        Arc::new(Registry::new().register::<Count>()),
        &context(&app, 1).config,
    );
    eventually(Duration::from_secs(10), "the task running", || async {
        count_with(&app, TaskStatus::Running).await == 1
    })
    .await;
    runner.shutdown(Duration::from_millis(300)).await;
    let (tasks, _) =
        repositories::tasks::list(&app.db, None, Some("test_count"), 10, 0).await.unwrap();
    assert_eq!(tasks[0].status, TaskStatus::Queued);
    assert_eq!(tasks[0].attempts, 0, "handing back does not use up an attempt");
    assert!(runs(&run).is_empty());
}

#[tokio::test]
async fn a_task_whose_worker_died_runs_again_after_its_lease_ran_out() {
    let app = spawn_app().await;
    let run = uuid::Uuid::new_v4().to_string();
    queue::enqueue(&app.db, &Count { run: run.clone(), n: 7, fail_first: 0, sleep_ms: 0 })
        .await
        .unwrap();
    // A worker claims it and vanishes without a word (as after SIGKILL).
    let claimed =
        repositories::tasks::claim(&app.db, "default", "dead-worker", Duration::from_millis(500))
            .await
            .unwrap();
    assert!(claimed.is_some());
    assert!(
        repositories::tasks::claim(&app.db, "default", "other", Duration::from_secs(1))
            .await
            .unwrap()
            .is_none(),
        "leased"
    );
    let runner = runner::start(
        context(&app, 1),
        Arc::new(Registry::new().register::<Count>()),
        &context(&app, 1).config,
    );
    eventually(Duration::from_secs(10), "the task done", || async {
        count_with(&app, TaskStatus::Done).await == 1
    })
    .await;
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(runs(&run), HashMap::from([(7, 1)]));
    let (tasks, _) =
        repositories::tasks::list(&app.db, None, Some("test_count"), 10, 0).await.unwrap();
    assert_eq!(tasks[0].attempts, 2);
}

#[tokio::test]
async fn a_dedup_key_makes_one_task_however_often_it_is_enqueued() {
    let app = spawn_app().await;
    let slot = jobportal::services::housekeeping::Prune { slot: 1_800_000_000 };
    assert!(queue::enqueue(&app.db, &slot).await.unwrap().is_some());
    assert!(
        queue::enqueue(&app.db, &slot).await.unwrap().is_none(),
        "a second scheduler's enqueue of the same slot"
    );
    let (tasks, total) =
        repositories::tasks::list(&app.db, None, Some("prune"), 10, 0).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(tasks[0].dedup_key, "prune:1800000000");
}

#[tokio::test]
async fn admins_list_dead_tasks_and_retry_or_discard_them() {
    let app = spawn_app().await;
    let run = uuid::Uuid::new_v4().to_string();
    for n in 0..2 {
        queue::enqueue(&app.db, &Count { run: run.clone(), n, fail_first: 99, sleep_ms: 0 })
            .await
            .unwrap();
    }
    let runner = runner::start(
        context(&app, 1),
        Arc::new(Registry::new().register::<Count>()),
        &context(&app, 1).config,
    );
    eventually(Duration::from_secs(30), "two dead tasks", || async {
        count_with(&app, TaskStatus::Dead).await == 2
    })
    .await;
    runner.shutdown(Duration::from_secs(5)).await;

    let admin = app.admin("root@example.com").await;
    let user = app.register("ada@example.com", "candidate").await;
    assert_error(app.get_authed("/api/v1/admin/tasks", &user.access).await, 403, "forbidden").await;
    let page: Value = app
        .get_authed("/api/v1/admin/tasks?status=dead", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2);
    let item = &page["items"][0];
    assert_eq!(item["status"], "dead");
    assert!(item["last_error"].as_str().unwrap().contains("planned failure"));
    let (first, second) =
        (page["items"][0]["id"].as_str().unwrap(), page["items"][1]["id"].as_str().unwrap());

    let retried: Value = app
        .post_authed(&format!("/api/v1/admin/tasks/{first}/retry"), &admin.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["attempts"], 0);
    let response =
        app.delete_authed(&format!("/api/v1/admin/tasks/{second}"), &admin.access, None).await;
    assert_eq!(response.status(), 204);
    // Only dead tasks are discarded; a queued one is not.
    let response =
        app.delete_authed(&format!("/api/v1/admin/tasks/{first}"), &admin.access, None).await;
    assert_error(response, 409, "conflict").await;
    assert_error(
        app.post_authed("/api/v1/admin/tasks/nope/retry", &admin.access, &json!({})).await,
        404,
        "not_found",
    )
    .await;
    let page: Value = app
        .get_authed("/api/v1/admin/tasks?kind=test_count", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_error(
        app.get_authed("/api/v1/admin/tasks?status=sleeping", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
    let _ = PASSWORD;
}

#[tokio::test]
async fn readiness_and_metrics_report_the_workers() {
    let server = SmtpServer::start();
    let app = app_with_smtp(&server).await;
    app.register("ada@example.com", "candidate").await;
    server.wait_for(1, Duration::from_secs(15)).await;
    let ready: Value = app.get_readyz().await.json().await.unwrap();
    assert_eq!(ready["checks"]["workers"]["status"], "ok", "{ready}");
    assert!(ready["checks"]["workers"]["detail"].as_str().unwrap().contains("2 loops"), "{ready}");
    assert_eq!(ready["checks"]["scheduler"]["status"], "ok");
    eventually(Duration::from_secs(10), "the queue depth in the metrics", || async {
        app.get_metrics().await.contains(r#"jobportal_tasks{kind="send_email",status="done"} 1"#)
    })
    .await;
    let text = app.get_metrics().await;
    assert!(
        text.contains(r#"jobportal_task_attempts_total{kind="send_email",outcome="done"} 1"#),
        "{text}"
    );
    assert!(text.contains("jobportal_task_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn the_scheduled_run_closes_expired_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with_workers(
        ServeConfig::default(),
        test_worker_config(EmailBackendConfig::File { dir: dir.path().to_path_buf() }),
    )
    .await;
    // Far enough ahead that importing and searching (slow on a loaded machine) end before it.
    let expiry = chrono::Utc::now() + chrono::Duration::seconds(5);
    let soon = expiry.to_rfc3339();
    let job = |id: &str, title: &str| {
        json!({
            "source": "test", "external_id": id, "title": title, "company": {"name": "Acme"},
            "posted_at": chrono::Utc::now().to_rfc3339()
        })
    };
    let mut expiring = job("soon", "Expiring Welder");
    expiring["expires_at"] = json!(soon);
    app.import_jsonl(&[job("open", "Open Welder"), expiring]).await;
    let before: Value = app.get("/api/v1/jobs?q=welder").await.json().await.unwrap();
    assert_eq!(before["total"], 2);
    let id = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["title"] == "Expiring Welder")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let wait =
        (expiry - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100);
    tokio::time::sleep(wait).await;

    let slot = jobportal::services::jobs::expiry::CloseExpiredJobs { slot: 1_800_000_000 };
    queue::enqueue(&app.db, &slot).await.unwrap().expect("enqueued");
    eventually(Duration::from_secs(20), "the close_expired_jobs task done", || async {
        let (tasks, _) =
            repositories::tasks::list(&app.db, None, Some("close_expired_jobs"), 10, 0)
                .await
                .unwrap();
        assert_ne!(tasks[0].status, TaskStatus::Dead, "{:?}", tasks[0]);
        tasks[0].status == TaskStatus::Done
    })
    .await;
    let job = repositories::jobs::find(&app.db, &id).await.unwrap().expect("the job");
    assert_eq!(job.status, jobportal::models::job::JobStatus::Closed);
    let after: Value = app.get("/api/v1/jobs?q=welder").await.json().await.unwrap();
    assert_eq!(after["total"], 1, "{after}");
    assert_eq!(after["items"][0]["title"], "Open Welder");
}

async fn publish_job(app: &TestApp, owner: &crate::helpers::Account, title: &str) -> String {
    let body = json!({
        "company": "acme", "title": title, "description": "Real work.", "workplace": "remote",
        "employment_type": "full_time", "expires_at": "2099-01-01T00:00:00Z"
    });
    app.post_job(owner, &body).await
}

async fn alerts_done(app: &TestApp) -> u64 {
    repositories::tasks::list(&app.db, Some(TaskStatus::Done), Some("job_alerts"), 1, 0)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn a_digest_reaches_the_mail_server_with_exactly_the_new_matching_jobs_and_unsubscribing_stops_it()
 {
    use jobportal::services::alerts::JobAlerts;

    let server = SmtpServer::start();
    let app = app_with_smtp(&server).await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let ada = app.register_verified("ada@example.com", "candidate").await;
    let search =
        json!({ "name": "Data jobs", "filters": { "q": "data engineer" }, "frequency": "daily" });
    app.save_search(&ada, &search).await;
    let matching = publish_job(&app, &owner, "Senior Data Engineer").await;
    publish_job(&app, &owner, "Office Manager").await;

    let digests = |server: &SmtpServer| -> Vec<String> {
        server
            .messages()
            .into_iter()
            .filter(|m| header(m, "Subject").is_some_and(|s| s.contains("new job")))
            .collect()
    };
    queue::enqueue(&app.db, &JobAlerts { frequency: "daily".into(), slot: 1 }).await.unwrap();
    eventually(Duration::from_secs(20), "the digest at the mail server", || async {
        !digests(&server).is_empty()
    })
    .await;
    // Headers from the raw message; the body decoded (decoding the headers too would turn
    // the `=XX` that a token may hold into other bytes).
    let raw = digests(&server)[0].clone();
    let message = crate::helpers::decode_quoted_printable(&raw);
    assert_eq!(header(&raw, "To"), Some("ada@example.com"));
    assert!(
        message.contains("Senior Data Engineer") && message.contains(&format!("/jobs/{matching}")),
        "{message}"
    );
    assert!(!message.contains("Office Manager"), "only the matching job");
    assert_eq!(header(&raw, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let link = header(&raw, "List-Unsubscribe").unwrap().trim_matches(['<', '>']).to_owned();
    let path = link
        .strip_prefix("http://127.0.0.1:8080")
        .expect("the public URL starts the link")
        .to_owned();

    // The same window is not sent again.
    queue::enqueue(&app.db, &JobAlerts { frequency: "daily".into(), slot: 2 }).await.unwrap();
    eventually(Duration::from_secs(20), "the second run done", || async {
        alerts_done(&app).await >= 2
    })
    .await;
    assert_eq!(digests(&server).len(), 1);

    // One click on the header's link (no login), then a new matching job: no more digests.
    assert_eq!(app.client.post(app.url(&path)).send().await.unwrap().status(), 200);
    publish_job(&app, &owner, "Data Engineer, Streaming").await;
    queue::enqueue(&app.db, &JobAlerts { frequency: "daily".into(), slot: 3 }).await.unwrap();
    eventually(Duration::from_secs(20), "the third run done", || async {
        alerts_done(&app).await >= 3
    })
    .await;
    assert_eq!(digests(&server).len(), 1, "unsubscribed: nothing more");
}

/// The expiry sweep closes a bounded number of jobs per write (a transaction must fit the
/// embedded database's write buffer) and picks up where it stopped: each call closes the next
/// ones, never one already closed or one not expired.
#[tokio::test]
async fn expired_jobs_are_closed_a_bounded_batch_per_write() {
    let app = spawn_app().await;
    let expiry = chrono::Utc::now() + chrono::Duration::seconds(3);
    let mut jobs: Vec<Value> = (0..5)
        .map(|i| {
            json!({
                "source": "test", "external_id": format!("soon-{i}"), "title": "Expiring Welder",
                "company": {"name": "Acme"}, "expires_at": expiry.to_rfc3339(),
            })
        })
        .collect();
    jobs.push(json!({
        "source": "test", "external_id": "open", "title": "Open Welder", "company": {"name": "Acme"},
    }));
    app.import_jsonl(&jobs).await;
    let wait =
        (expiry - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(100);
    tokio::time::sleep(wait).await;

    let now = chrono::Utc::now();
    let mut closed = Vec::new();
    for expected in [2, 2, 1, 0] {
        let ids = repositories::jobs::close_expired(&app.db, now, 2).await.unwrap();
        assert_eq!(ids.len(), expected, "{ids:?} after {closed:?}");
        assert!(ids.iter().all(|id| !closed.contains(id)), "{ids:?} again after {closed:?}");
        closed.extend(ids);
    }
    for id in &closed {
        let job = repositories::jobs::find(&app.db, id).await.unwrap().expect("the job");
        assert_eq!(job.status, jobportal::models::job::JobStatus::Closed);
        assert!(job.external_id.starts_with("soon-"), "{job:?}");
    }
}
