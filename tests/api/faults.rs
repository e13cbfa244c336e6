//! Faults, with the real binary: a `serve` killed (SIGKILL) in the middle of writes loses
//! nothing it acknowledged, leaves nothing half-written, and its search index catches up with
//! the database at the next start.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jobportal::core::config::DbConfig;
use jobportal::db::{Database, Executor};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, ServeProcess, jobportal};

/// What the killed server answered with a success.
#[derive(Default)]
struct Acknowledged {
    /// Registered candidates' emails.
    users: Vec<String>,
    /// Application ids.
    applications: Vec<String>,
    /// Job id → the title it was last acknowledged with, and whether it was published.
    jobs: BTreeMap<String, (String, bool)>,
    /// Why each writer stopped (an answer other than success; none while the server lives).
    stopped: Vec<String>,
}

fn serve(data: &std::path::Path) -> ServeProcess {
    let mut command = jobportal(data);
    command
        .env("JOBPORTAL_RUN_WORKERS", "false")
        .env("JOBPORTAL_RATE_LIMIT_AUTH_PER_IP", "100000/1m");
    ServeProcess::start_with(command)
}

async fn send(request: reqwest::RequestBuilder) -> Option<(u16, Value)> {
    let response = request.timeout(Duration::from_secs(20)).send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    Some((status, body))
}

/// Notes why a writer stopped.
fn stopped(acked: &Mutex<Acknowledged>, what: &str, answer: Option<(u16, Value)>) {
    let why = match answer {
        Some((status, body)) => format!("{what}: {status} {body}"),
        None => format!("{what}: no answer"),
    };
    acked.lock().unwrap().stopped.push(why);
}

/// A job of Harbour Co that can be published.
fn job(title: &str) -> Value {
    json!({
        "company": "harbour-co", "title": title, "description": "Bring ships in.",
        "workplace": "onsite", "employment_type": "full_time",
        "location": {"city": "Lisbon", "country_code": "PT"},
        "expires_at": "2099-01-01T00:00:00Z"
    })
}

/// A resume upload (applications need one).
fn upload_resume(client: &reqwest::Client, base: &str, access: &str) -> reqwest::RequestBuilder {
    let boundary = "jobportal-faults-boundary";
    let resume = include_bytes!("../../fixtures/resumes/sample-resume.txt");
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cv.txt\"\r\n\
         Content-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(resume);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    client
        .post(format!("{base}/api/v1/resumes"))
        .bearer_auth(access)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
}

/// Candidates register, upload a resume and apply to `job` until the server stops answering.
async fn candidates(
    name: &'static str,
    base: String,
    job: String,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Instant,
) {
    let client = reqwest::Client::new();
    for i in 0.. {
        if Instant::now() > stop {
            return;
        }
        let email = format!("candidate-{name}{i}@example.com");
        let answer = send(client.post(format!("{base}/api/v1/auth/register")).json(
            &json!({ "email": email, "password": PASSWORD, "full_name": "Cand", "role": "candidate" }),
        ))
        .await;
        let Some((201, body)) = answer else { return stopped(&acked, "register", answer) };
        acked.lock().unwrap().users.push(email);
        let access = body["tokens"]["access_token"].as_str().unwrap().to_owned();
        let answer = send(upload_resume(&client, &base, &access)).await;
        let Some((201, _)) = answer else { return stopped(&acked, "upload", answer) };
        let answer = send(
            client
                .post(format!("{base}/api/v1/jobs/{job}/applications"))
                .bearer_auth(&access)
                .json(&json!({ "cover_letter": "Hello." })),
        )
        .await;
        let Some((201, body)) = answer else { return stopped(&acked, "apply", answer) };
        acked.lock().unwrap().applications.push(body["id"].as_str().unwrap().to_owned());
    }
}

/// The employer creates, publishes and retitles jobs until the server stops answering.
async fn employer(
    name: &'static str,
    base: String,
    access: String,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Instant,
) {
    let client = reqwest::Client::new();
    for i in 0.. {
        if Instant::now() > stop {
            return;
        }
        let title = format!("Harbour Pilot {name}{i}");
        let answer = send(
            client.post(format!("{base}/api/v1/jobs")).bearer_auth(&access).json(&job(&title)),
        )
        .await;
        let Some((201, body)) = answer else { return stopped(&acked, "create", answer) };
        let id = body["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().jobs.insert(id.clone(), (title, false));
        let publish = client
            .post(format!("{base}/api/v1/jobs/{id}/publish"))
            .bearer_auth(&access)
            .json(&json!({}));
        let answer = send(publish).await;
        let Some((200, _)) = answer else { return stopped(&acked, "publish", answer) };
        acked.lock().unwrap().jobs.get_mut(&id).unwrap().1 = true;
        let retitled = format!("Harbour Pilot {name}{i} (night)");
        let patch = client
            .patch(format!("{base}/api/v1/jobs/{id}"))
            .bearer_auth(&access)
            .json(&json!({ "title": retitled }));
        let answer = send(patch).await;
        let Some((200, _)) = answer else { return stopped(&acked, "retitle", answer) };
        acked.lock().unwrap().jobs.get_mut(&id).unwrap().0 = retitled;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_serve_killed_mid_writes_keeps_every_acknowledged_write_and_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let status = jobportal(&data)
        .args(["admin", "create-user", "--email", "boss@example.com", "--role", "employer"])
        .env("JOBPORTAL_PASSWORD", PASSWORD)
        .status()
        .unwrap();
    assert!(status.success());

    let mut server = serve(&data);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    let boss = signed_in(&client, &base, "boss@example.com").await;
    let (status, body) = send(
        client
            .post(format!("{base}/api/v1/companies"))
            .bearer_auth(&boss)
            .json(&json!({ "name": "Harbour Co" })),
    )
    .await
    .unwrap();
    assert_eq!(status, 201, "{body}");
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    // The job candidates apply to.
    let seed = {
        let create =
            client.post(format!("{base}/api/v1/jobs")).bearer_auth(&boss).json(&job("Deck Hand"));
        let (status, body) = send(create).await.unwrap();
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        let publish = client
            .post(format!("{base}/api/v1/jobs/{id}/publish"))
            .bearer_auth(&boss)
            .json(&json!({}));
        assert_eq!(send(publish).await.unwrap().0, 200);
        id
    };

    // Writers at full speed; the server is killed once some of each kind were acknowledged.
    let stop = Instant::now() + Duration::from_secs(60);
    let writers = [
        tokio::spawn(candidates("a", base.clone(), seed.clone(), acked.clone(), stop)),
        tokio::spawn(candidates("b", base.clone(), seed.clone(), acked.clone(), stop)),
        tokio::spawn(employer("a", base.clone(), boss.clone(), acked.clone(), stop)),
        tokio::spawn(employer("b", base.clone(), boss.clone(), acked.clone(), stop)),
    ];
    let deadline = Instant::now() + Duration::from_secs(50);
    loop {
        {
            let acked = acked.lock().unwrap();
            let retitled = acked.jobs.values().filter(|(t, _)| t.ends_with("(night)")).count();
            if acked.applications.len() >= 6 && retitled >= 6 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline && acked.lock().unwrap().stopped.is_empty(),
            "the writers stopped or were too slow: {:?}",
            acked.lock().unwrap().stopped
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let acked = Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap();

    // Restarted on the same data: every acknowledged write is there.
    let mut server = serve(&data);
    let base = format!("http://{}", server.addr);
    let mut public = BTreeSet::new();
    for (id, (title, published)) in &acked.jobs {
        let (status, body) = send(client.get(format!("{base}/api/v1/jobs/{id}"))).await.unwrap();
        if *published {
            assert_eq!(status, 200, "acknowledged as published: {id} {body}");
            assert_eq!(&body["title"], title, "the last acknowledged title");
        }
        if status == 200 {
            public.insert(id.clone());
        }
    }
    // The search index caught up at start: it lists exactly the public ones, as they are now.
    public.insert(seed.clone());
    let (status, body) =
        send(client.get(format!("{base}/api/v1/jobs?q=harbour&mode=keyword&limit=100")))
            .await
            .unwrap();
    assert_eq!(status, 200, "{body}");
    let listed: BTreeSet<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    // The company's name is searchable: its every public job is listed, the seed too.
    assert_eq!(listed, public, "{body}");
    for item in body["items"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        if let Some((title, true)) = acked.jobs.get(id)
            && title.ends_with("(night)")
        {
            assert_eq!(&item["title"], title, "listed as acknowledged");
        }
    }
    let boss = signed_in(&client, &base, "boss@example.com").await;
    let (status, body) = send(
        client.get(format!("{base}/api/v1/jobs/{seed}/applications?limit=100")).bearer_auth(&boss),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{body}");
    let applications: BTreeSet<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    for id in &acked.applications {
        assert!(applications.contains(id), "acknowledged application {id} is missing: {body}");
    }
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(10)).success());

    // Nothing half-written: each registration's user, session, verification email and audit
    // entry were written together or not at all.
    let db = Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap();
    let mut response = db
        .query(
            "SELECT VALUE email FROM user WHERE role = 'candidate' ORDER BY email; \
             SELECT VALUE to FROM email WHERE string::starts_with(to, 'candidate') ORDER BY to;",
        )
        .await
        .unwrap();
    let users: Vec<String> = response.take(0).unwrap();
    let emails: Vec<String> = response.take(1).unwrap();
    for email in &acked.users {
        assert!(users.contains(email), "acknowledged registration {email} is missing");
    }
    assert_eq!(users, emails, "every candidate has exactly one verification email, and no more");
    db.close().await;
}

/// A small filesystem of its own for a data directory, unmounted when dropped.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mib` MiB at `path`. Mounting needs root: elsewhere there is no disk
    /// to fill, and `None` says so.
    fn mount(path: &std::path::Path, mib: u32) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).unwrap();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount runs");
        assert!(status.success(), "root could not mount a tmpfs at {}", path.display());
        Some(SmallDisk { path: path.to_owned() })
    }

    /// Writes zeros until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 1 << 16];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

async fn register(client: &reqwest::Client, base: &str, email: &str) -> (u16, Value) {
    send(client.post(format!("{base}/api/v1/auth/register")).json(
        &json!({ "email": email, "password": PASSWORD, "full_name": "Ada", "role": "candidate" }),
    ))
    .await
    .expect("serve answers")
}

async fn login(client: &reqwest::Client, base: &str, email: &str) -> (u16, Value) {
    send(
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": PASSWORD })),
    )
    .await
    .expect("serve answers")
}

/// The access token of a login that must succeed.
async fn signed_in(client: &reqwest::Client, base: &str, email: &str) -> String {
    let (status, body) = login(client, base, email).await;
    assert_eq!(status, 200, "{body}");
    body["tokens"]["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_storage_full_reads_go_on_and_nothing_is_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Some(disk) = SmallDisk::mount(&data, 48) else {
        eprintln!("skipped: filling a disk needs root to mount one");
        return;
    };
    let mut server = serve(&data);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();
    assert_eq!(register(&client, &base, "ada@example.com").await.0, 201);

    let filler = disk.fill();
    for email in ["bob@example.com", "cy@example.com"] {
        let (status, body) = register(&client, &base, email).await;
        assert_eq!(status, 507, "{body}");
        assert_eq!(body["error"]["code"], "storage_full", "{body}");
    }
    let (status, body) = send(client.get(format!("{base}/api/v1/jobs?q=pilot"))).await.unwrap();
    assert_eq!(status, 200, "reads go on: {body}");
    assert_eq!(send(client.get(format!("{base}/healthz"))).await.unwrap().0, 200);

    // Space returns: the same writes succeed, without a restart.
    std::fs::remove_file(filler).unwrap();
    assert_eq!(register(&client, &base, "bob@example.com").await.0, 201);
    server.sigterm();
    assert!(server.wait_exit(Duration::from_secs(10)).success());

    // Nothing was corrupted: the store opens and holds what was acknowledged, and no more.
    let server = serve(&data);
    let base = format!("http://{}", server.addr);
    assert_eq!(login(&client, &base, "ada@example.com").await.0, 200);
    assert_eq!(login(&client, &base, "bob@example.com").await.0, 200);
    assert_eq!(login(&client, &base, "cy@example.com").await.0, 401);
    drop(server);
    drop(disk);
}
