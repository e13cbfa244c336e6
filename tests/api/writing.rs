//! Texts the chat model writes from the portal's facts, through the real API with the real
//! default model: a cover letter draft (JSON and streamed), advice on a resume for a job, a
//! recommendation's explanation in words; what the code guarantees about them (no number, year
//! or skill that is not in the inputs; the streamed pieces add up to the draft; the draft saves
//! onto an application); the refusals; and the prompts overridden from a directory, or broken.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jobportal::ai::providers::chat::provider::ChatModelState;
use jobportal::core::config::{ChatBackend, ChatSettings, ServeConfig};
use jobportal::services::resume_parser::taxonomy;
use serde_json::{Value, json};

use crate::helpers::{
    Account, TestApp, assert_error, fixture, jobportal, spawn_app, spawn_app_with_chat,
};

const RESUME: &str = "resumes/sample-resume.txt";

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn config(prompts_dir: Option<&Path>) -> ServeConfig {
    ServeConfig {
        models_dir: models(),
        prompts_dir: prompts_dir.map(Path::to_owned),
        request_timeout: Duration::from_secs(120),
        ..ServeConfig::default()
    }
}

/// The default local model, on two threads (the tests share the machine).
fn local() -> ChatSettings {
    ChatSettings {
        backend: ChatBackend::Local { model: None },
        threads: 2,
        ..ChatSettings::default()
    }
}

/// The app with the real default chat model, once it is loaded.
async fn app_with_model(prompts_dir: Option<&Path>) -> TestApp {
    let mut app = spawn_app_with_chat(config(prompts_dir), local()).await;
    app.client = reqwest::Client::builder().timeout(Duration::from_secs(180)).build().unwrap();
    let model = app.ctx.ai.chat().expect("the chat model is started");
    let started = Instant::now();
    while model.state() == ChatModelState::Loading {
        assert!(started.elapsed() < Duration::from_secs(120), "the chat model still loads");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(model.state(), ChatModelState::Ready);
    app
}

/// The job the texts are about: its skills are four the taxonomy knows, two of which the
/// sample resume shows (rust, postgresql) and two it does not (terraform, go).
fn platform_job(company: &str) -> Value {
    json!({
        "company": company, "title": "Platform Engineer",
        "description": "Run our data platform. Founded 1999, 250 people, 12 offices.",
        "workplace": "remote", "employment_type": "full_time",
        "skills": ["Rust", "Postgres", "Terraform", "Go"],
        "expires_at": "2099-01-01T00:00:00Z"
    })
}

/// A company with the platform job, and a candidate with the sample resume: (employer,
/// candidate, job id, resume id).
async fn scene(app: &TestApp) -> (Account, Account, String, String) {
    let owner = app.company_owner("owner@northwind.test", "Northwind Data").await;
    let job = app.post_job(&owner, &platform_job("northwind-data")).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let resume = app.upload_resume(&ada.access, "cv.txt", &fixture(RESUME)).await;
    assert_eq!(resume["parse_status"], "parsed", "{resume}");
    (owner, ada, job, resume["id"].as_str().unwrap().to_owned())
}

fn digit_runs(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The server-sent events of a response: (event, data as JSON), keep-alive comments left out.
async fn events(response: reqwest::Response) -> Vec<(String, Value)> {
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/event-stream"), "{content_type}");
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = Some(value.trim().to_owned());
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            Some((name?, serde_json::from_str(&data).expect("event data is JSON")))
        })
        .collect()
}

fn source_of(body: &Value) -> &str {
    let source = body["source"].as_str().unwrap_or_default();
    assert!(source == "model" || source == "template", "{body}");
    source
}

/// The skills the taxonomy finds in `text`, line by line.
fn skills_named(text: &str) -> BTreeSet<String> {
    text.lines().flat_map(|line| taxonomy::find(line, false)).collect()
}

#[tokio::test]
async fn a_cover_letter_draft_holds_only_the_inputs_numbers_streams_and_saves_onto_an_application()
{
    let app = app_with_model(None).await;
    let (_, ada, job, _) = scene(&app).await;
    let inputs = format!(
        "{} {}",
        String::from_utf8(fixture(RESUME)).unwrap(),
        platform_job("northwind-data")
    );
    let allowed = digit_runs(&inputs);
    let path = format!("/api/v1/jobs/{job}/cover-letter");

    // JSON, from the default resume (no body at all).
    let response =
        app.authed(reqwest::Method::POST, &path, &ada.access).send().await.expect("answered");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let draft = body["draft"].as_str().unwrap().to_owned();
    source_of(&body);
    assert!(draft.len() > 100, "{body}");
    assert!(draft.contains("Northwind Data"), "the letter is to the job's company: {draft}");
    let invented: Vec<_> = digit_runs(&draft).difference(&allowed).cloned().collect();
    assert!(invented.is_empty(), "numbers not in the inputs {invented:?} in {draft}");

    // Streamed: tokens, then done with exactly what the tokens said.
    let response = app
        .authed(reqwest::Method::POST, &path, &ada.access)
        .header("accept", "text/event-stream")
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let events = events(response).await;
    let (last, tokens) = events.split_last().expect("some events");
    assert_eq!(last.0, "done", "{events:?}");
    assert!(!tokens.is_empty(), "{events:?}");
    assert!(tokens.iter().all(|(name, _)| name == "token"), "{events:?}");
    let streamed: String = tokens.iter().map(|(_, data)| data["text"].as_str().unwrap()).collect();
    assert_eq!(last.1["draft"].as_str().unwrap(), streamed);
    source_of(&last.1);
    let invented: Vec<_> = digit_runs(&streamed).difference(&allowed).cloned().collect();
    assert!(invented.is_empty(), "numbers not in the inputs {invented:?} in {streamed}");

    // The candidate saves the draft as the cover letter of an application, and changes it to
    // the streamed one until the company opens it.
    let response = app.apply(&ada, &job, &json!({ "cover_letter": draft })).await;
    assert_eq!(response.status(), 201);
    let application: Value = response.json().await.unwrap();
    assert_eq!(application["cover_letter"], draft.trim());
    let id = application["id"].as_str().unwrap();
    let response = app
        .patch_authed(
            &format!("/api/v1/applications/{id}"),
            &ada.access,
            &json!({ "cover_letter": streamed }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let application: Value = response.json().await.unwrap();
    assert_eq!(application["cover_letter"], streamed.trim());
}

#[tokio::test]
async fn resume_feedback_and_a_recommendations_summary_name_only_the_skills_they_compare() {
    let app = app_with_model(None).await;
    let (_, ada, job, resume) = scene(&app).await;
    let response = app
        .post_authed(
            &format!("/api/v1/resumes/{resume}/feedback"),
            &ada.access,
            &json!({ "job_id": job }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    // By hand: the job asks for rust, postgresql, terraform and go; the resume's skills are
    // Rust, PostgreSQL, Kubernetes and Python.
    assert_eq!(body["missing_skills"], json!(["terraform", "go"]), "{body}");
    assert_eq!(body["matched_skills"], json!(["rust", "postgresql"]), "{body}");
    assert_eq!(body["emphasise"], json!(["rust", "postgresql"]), "{body}");
    source_of(&body);
    let text = body["text"].as_str().unwrap();
    assert!(!text.is_empty());
    let allowed: BTreeSet<String> = ["rust", "postgresql", "terraform", "go"]
        .into_iter()
        .map(str::to_owned)
        .chain(skills_named("Platform Engineer\nNorthwind Data"))
        .collect();
    let named = skills_named(text);
    assert!(named.is_subset(&allowed), "{named:?} in {text}");

    // The same job's recommendation, explained in words.
    app.ctx.ai.load_embedder().await;
    let response =
        app.get_authed(&format!("/api/v1/recommendations/jobs/{job}"), &ada.access).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["job"]["id"], job.as_str(), "{body}");
    assert_eq!(body["explanation"]["matched_skills"], json!(["rust", "postgresql"]), "{body}");
    assert_eq!(body["explanation"]["missing_skills"], json!(["terraform", "go"]), "{body}");
    source_of(&body["summary"]);
    let summary = body["summary"]["text"].as_str().unwrap();
    let named = skills_named(summary);
    assert!(named.is_subset(&allowed), "{named:?} in {summary}");
    let invented: Vec<_> = digit_runs(summary)
        .difference(&digit_runs(&body["explanation"].to_string()))
        .cloned()
        .collect();
    assert!(invented.is_empty(), "{invented:?} in {summary}");
}

#[tokio::test]
async fn writing_refuses_non_candidates_others_resumes_unknown_jobs_and_bad_bodies() {
    let app = spawn_app_with_chat(config(None), local()).await;
    let (owner, ada, job, resume) = scene(&app).await;
    let bob = app.register("bob@example.com", "candidate").await;
    let letter = format!("/api/v1/jobs/{job}/cover-letter");
    let feedback = format!("/api/v1/resumes/{resume}/feedback");

    assert_error(app.post_authed(&letter, &owner.access, &json!({})).await, 403, "forbidden").await;
    assert_error(app.post_json(&letter, &json!({})).await, 401, "unauthorized").await;
    // Bob has no resume; Ada's is not his to name.
    assert_error(app.post_authed(&letter, &bob.access, &json!({})).await, 422, "validation_failed")
        .await;
    let theirs = json!({ "resume_id": resume });
    assert_error(app.post_authed(&letter, &bob.access, &theirs).await, 404, "not_found").await;
    assert_error(
        app.post_authed("/api/v1/jobs/nosuchjob/cover-letter", &ada.access, &json!({})).await,
        404,
        "not_found",
    )
    .await;
    let draft = app.create_job(&owner, &platform_job("northwind-data")).await;
    let unpublished = format!("/api/v1/jobs/{}/cover-letter", draft["id"].as_str().unwrap());
    assert_error(app.post_authed(&unpublished, &ada.access, &json!({})).await, 404, "not_found")
        .await;
    assert_error(
        app.post_authed(&letter, &ada.access, &json!({ "resume": resume })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_authed(&letter, &ada.access, &json!({ "resume_id": "" })).await,
        422,
        "validation_failed",
    )
    .await;
    let response = app
        .authed(reqwest::Method::POST, &letter, &ada.access)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, "invalid_json").await;

    let for_job = json!({ "job_id": job });
    assert_error(app.post_authed(&feedback, &bob.access, &for_job).await, 404, "not_found").await;
    assert_error(app.post_authed(&feedback, &owner.access, &for_job).await, 403, "forbidden").await;
    assert_error(
        app.post_authed(&feedback, &ada.access, &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.post_authed(&feedback, &ada.access, &json!({ "job_id": "" })).await,
        422,
        "validation_failed",
    )
    .await;
    let unknown = json!({ "job_id": "nosuchjob" });
    assert_error(app.post_authed(&feedback, &ada.access, &unknown).await, 404, "not_found").await;

    let explained = format!("/api/v1/recommendations/jobs/{job}");
    assert_error(app.get_authed(&explained, &owner.access).await, 403, "forbidden").await;
    assert_error(
        app.get_authed("/api/v1/recommendations/jobs/nosuchjob", &ada.access).await,
        404,
        "not_found",
    )
    .await;

    // A portal without a chat model says so, for JSON and for a stream alike.
    let bare = spawn_app().await;
    let (_, ada, job, resume) = scene(&bare).await;
    let letter = format!("/api/v1/jobs/{job}/cover-letter");
    assert_error(
        bare.post_authed(&letter, &ada.access, &json!({})).await,
        503,
        "model_unavailable",
    )
    .await;
    let streamed = bare
        .authed(reqwest::Method::POST, &letter, &ada.access)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_error(streamed, 503, "model_unavailable").await;
    assert_error(
        bare.post_authed(
            &format!("/api/v1/resumes/{resume}/feedback"),
            &ada.access,
            &json!({ "job_id": job }),
        )
        .await,
        503,
        "model_unavailable",
    )
    .await;
}

#[tokio::test]
async fn a_prompt_from_the_prompts_directory_replaces_the_built_in_one() {
    // A cover letter prompt that asks for one word: the model's answer is too short to be a
    // letter, so the portal answers its template letter instead.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cover_letter.j2"),
        "Answer with one word, yes or no: is {{ job.company }} hiring a {{ job.title }}?\n",
    )
    .unwrap();
    let built_in = app_with_model(None).await;
    let overridden = app_with_model(Some(dir.path())).await;
    let values = json!({
        "job": {"title": "Platform Engineer", "company": "Northwind Data", "location": null,
                "skills": []},
        "candidate": {"name": null, "summary": null, "skills": [], "matched_skills": [],
                      "experience": [], "education": []},
    });
    assert_eq!(
        overridden.ctx.prompts.render("cover_letter", &values).unwrap(),
        "Answer with one word, yes or no: is Northwind Data hiring a Platform Engineer?"
    );
    assert_ne!(
        built_in.ctx.prompts.render("cover_letter", &values).unwrap(),
        overridden.ctx.prompts.render("cover_letter", &values).unwrap()
    );
    // The other prompts stay the built-in ones.
    assert_eq!(
        built_in.ctx.prompts.render("system", &json!({})).unwrap(),
        overridden.ctx.prompts.render("system", &json!({})).unwrap()
    );
    let mut letters = Vec::new();
    for app in [&built_in, &overridden] {
        let (_, ada, job, _) = scene(app).await;
        let response = app
            .post_authed(&format!("/api/v1/jobs/{job}/cover-letter"), &ada.access, &json!({}))
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        letters.push((source_of(&body).to_owned(), body["draft"].as_str().unwrap().to_owned()));
    }
    assert_eq!(letters[1].0, "template", "{letters:?}");
    assert!(letters[1].1.starts_with("Dear Northwind Data team,"), "{letters:?}");
    // The facts are the same; what the model was asked, and so the letter, is not.
    assert_ne!(letters[0], letters[1], "{letters:?}");
}

#[test]
fn a_broken_prompt_file_stops_serve_with_its_file_and_line() {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let prompts = work.path().join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    let broken = prompts.join("cover_letter.j2");
    std::fs::write(&broken, "Dear {{ job.company }} team,\n\n{% if candidate.name %}\nno end\n")
        .unwrap();
    let output = jobportal(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("JOBPORTAL_PROMPTS_DIR", &prompts)
        .env("JOBPORTAL_RUN_WORKERS", "false")
        .output()
        .expect("jobportal runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{stderr}");
    assert!(last.contains(&format!("{}:", broken.display())), "{last}");
    assert!(last.contains("syntax error"), "{last}");

    // A value no code passes is caught as early, at its line.
    std::fs::write(&broken, "Dear {{ job.company }} team,\n{{ job.salary }}\n").unwrap();
    let output = jobportal(&data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("JOBPORTAL_PROMPTS_DIR", &prompts)
        .env("JOBPORTAL_RUN_WORKERS", "false")
        .output()
        .expect("jobportal runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.trim().lines().last().unwrap_or_default();
    assert!(last.contains(&format!("{}:2:", broken.display())), "{last}");
}

#[tokio::test]
async fn a_busy_model_is_503_model_busy_as_json_and_an_error_event_in_a_stream() {
    // No answer may wait: while one letter is written, the next request is refused at once.
    let settings = ChatSettings { queue_size: 0, ..local() };
    let mut app = spawn_app_with_chat(config(None), settings).await;
    app.client = reqwest::Client::builder().timeout(Duration::from_secs(180)).build().unwrap();
    let model = app.ctx.ai.chat().unwrap();
    let started = Instant::now();
    while model.state() == ChatModelState::Loading {
        assert!(started.elapsed() < Duration::from_secs(120), "the chat model still loads");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, ada, job, _) = scene(&app).await;
    let path = format!("/api/v1/jobs/{job}/cover-letter");
    let stream = |app: &TestApp| {
        app.authed(reqwest::Method::POST, &path, &ada.access).header("accept", "text/event-stream")
    };
    let mut first = stream(&app).send().await.unwrap();
    assert_eq!(first.status(), 200);
    // The first piece has come: the model is writing the rest.
    let mut received = String::from_utf8(first.chunk().await.unwrap().unwrap().to_vec()).unwrap();
    assert!(received.contains("event: token"), "{received}");

    let busy = app.post_authed(&path, &ada.access, &json!({})).await;
    assert_eq!(busy.headers()["retry-after"], "5");
    assert_error(busy, 503, "model_busy").await;
    let events = events(stream(&app).send().await.unwrap()).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].0, "error");
    assert_eq!(events[0].1["code"], "model_busy", "{events:?}");

    while let Some(chunk) = first.chunk().await.unwrap() {
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(received.contains("event: done"), "the first letter is finished: {received}");
}
