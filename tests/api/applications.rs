//! Applications: applying (once, even when racing), closed and external jobs, the pipeline's
//! transitions and the forbidden ones, history, who sees internal notes, the emails each side
//! gets, and the authorization matrix between candidates and companies.

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, assert_error, rust_job, spawn_app};
use crate::resumes::candidate_with_resume;

/// A job of Acme's, published; with an external `apply_url` when given.
async fn publish(app: &TestApp, owner: &Account, apply_url: Option<&str>) -> String {
    let mut body = rust_job("acme");
    if let Some(url) = apply_url {
        body["apply_url"] = json!(url);
    }
    app.post_job(owner, &body).await
}

async fn stage(app: &TestApp, who: &Account, id: &str, body: Value) -> reqwest::Response {
    app.post_authed(&format!("/api/v1/applications/{id}/stage"), &who.access, &body).await
}

#[tokio::test]
async fn a_candidate_applies_with_the_default_resume_and_the_company_is_emailed() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, resume) = candidate_with_resume(&app, "ada@example.com").await;
    let response = app.apply(&ada, &job, &json!({ "cover_letter": "Dear Acme," })).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["stage"], "applied");
    assert_eq!(body["resume_id"], resume.as_str());
    assert_eq!(body["cover_letter"], "Dear Acme,");
    assert_eq!(body["cover_letter_editable"], true);
    assert_eq!(body["job"]["id"], job.as_str());
    assert!(body.get("candidate").is_none(), "the candidate's own view");

    let emails = app.emails_to("owner@acme.test").await;
    let received: Vec<_> = emails.iter().filter(|e| e.template == "application_received").collect();
    assert_eq!(received.len(), 1);
    assert!(received[0].subject.contains("Backend Engineer (Rust)"), "{}", received[0].subject);
    assert!(received[0].text.contains(&format!("/applications/{}", body["id"].as_str().unwrap())));

    let mine: Value =
        app.get_authed("/api/v1/applications", &ada.access).await.json().await.unwrap();
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["job"]["title"], "Backend Engineer (Rust)");

    // The company's list, with counts per stage.
    let list = app.job_applications(&owner, &job, "").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["counts"]["applied"], 1);
    assert_eq!(list["counts"]["hired"], 0);
    assert_eq!(list["items"][0]["candidate"]["email"], "ada@example.com");
}

#[tokio::test]
async fn a_double_click_and_racing_requests_make_exactly_one_application() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let empty = json!({});
    let requests = (0..8).map(|_| app.apply(&ada, &job, &empty));
    let responses = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for response in responses {
        match response.status().as_u16() {
            201 => created += 1,
            409 => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "already_applied", "{body}");
            }
            other => panic!("unexpected status {other}: {}", response.text().await.unwrap()),
        }
    }
    assert_eq!(created, 1);
    let list = app.job_applications(&owner, &job, "").await;
    assert_eq!(list["total"], 1);
    let emails = app.emails_to("owner@acme.test").await;
    assert_eq!(
        emails.iter().filter(|e| e.template == "application_received").count(),
        1,
        "one email, not eight"
    );
    assert_error(app.apply(&ada, &job, &json!({})).await, 409, "already_applied").await;
}

#[tokio::test]
async fn closed_external_and_unknown_jobs_and_missing_resumes_are_refused_clearly() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let external = publish(&app, &owner, Some("https://acme.example/careers/42")).await;
    let message =
        assert_error(app.apply(&ada, &external, &json!({})).await, 409, "apply_externally").await;
    assert!(message.contains("https://acme.example/careers/42"), "{message}");

    app.close_job(&owner, &job).await;
    assert_error(app.apply(&ada, &job, &json!({})).await, 409, "job_closed").await;
    assert_error(app.apply(&ada, "no-such-job", &json!({})).await, 404, "not_found").await;

    let other = publish(&app, &owner, None).await;
    let bob = app.register("bob@example.com", "candidate").await;
    let message =
        assert_error(app.apply(&bob, &other, &json!({})).await, 422, "validation_failed").await;
    assert!(message.contains("resume"), "{message}");
    let ada_resume = app
        .get_authed("/api/v1/resumes", &ada.access)
        .await
        .json::<Value>()
        .await
        .unwrap()["items"][0]["id"]
        .clone();
    assert_error(
        app.apply(&bob, &other, &json!({ "resume_id": ada_resume })).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.apply(&bob, &other, &json!({ "resume_id": "" })).await,
        422,
        "validation_failed",
    )
    .await;
    let too_long = "x".repeat(20_001);
    assert_error(
        app.apply(&ada, &other, &json!({ "cover_letter": too_long })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(app.apply(&owner, &other, &json!({})).await, 403, "forbidden").await;
    // A resume with an application cannot be deleted.
    app.applied(&ada, &other).await;
    let id = ada_resume.as_str().unwrap();
    assert_error(
        app.delete_authed(&format!("/api/v1/resumes/{id}"), &ada.access, None).await,
        409,
        "resume_in_use",
    )
    .await;
}

#[tokio::test]
async fn the_pipeline_moves_forward_or_out_and_every_move_is_history() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let id = app.applied(&ada, &job).await;

    for to in ["screening", "interview", "offer", "hired"] {
        let response =
            stage(&app, &owner, &id, json!({ "stage": to, "note": format!("internal: {to}") }))
                .await;
        assert_eq!(response.status(), 200, "to {to}");
        assert_eq!(response.json::<Value>().await.unwrap()["stage"], to);
    }
    // Hired is final.
    for to in ["offer", "rejected", "screening"] {
        let body = if to == "rejected" {
            json!({ "stage": to, "reason": "other" })
        } else {
            json!({ "stage": to })
        };
        assert_error(stage(&app, &owner, &id, body).await, 409, "invalid_transition").await;
    }
    assert_error(
        app.post_authed(&format!("/api/v1/applications/{id}/withdraw"), &ada.access, &json!({}))
            .await,
        409,
        "invalid_transition",
    )
    .await;

    let history: Value = app
        .get_authed(&format!("/api/v1/applications/{id}/history"), &owner.access)
        .await
        .json()
        .await
        .unwrap();
    let moves: Vec<(Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!("applied")),
            (json!("applied"), json!("screening")),
            (json!("screening"), json!("interview")),
            (json!("interview"), json!("offer")),
            (json!("offer"), json!("hired")),
        ]
    );
    assert_eq!(history["items"][1]["note"], "internal: screening");
    assert_eq!(history["items"][1]["actor_id"], owner.id.as_str());
    assert_eq!(history["items"][1]["by"], "company");

    // The candidate sees the same moves, without internal notes or who moved them.
    let theirs: Value = app
        .get_authed(&format!("/api/v1/applications/{id}/history"), &ada.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["items"].as_array().unwrap().len(), 5);
    for item in theirs["items"].as_array().unwrap() {
        assert!(item.get("note").is_none() && item.get("actor_id").is_none(), "{item}");
    }
    // One email per move the candidate should know about.
    let emails = app.emails_to("ada@example.com").await;
    let status: Vec<&str> = emails
        .iter()
        .filter(|e| e.template == "application_status")
        .map(|e| e.subject.as_str())
        .collect();
    assert_eq!(status.len(), 4, "{status:?}");
    assert!(status[1].contains("interview"), "{status:?}");
    assert!(
        !emails.iter().any(|e| e.text.contains("internal:")),
        "notes never reach the candidate"
    );
}

#[tokio::test]
async fn forbidden_moves_are_refused_with_the_rule_they_break() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let id = app.applied(&ada, &job).await;
    assert_eq!(
        stage(&app, &owner, &id, json!({ "stage": "interview" })).await.status(),
        200,
        "skipping ahead is allowed"
    );
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "screening" })).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "interview" })).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "withdrawn" })).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "rejected" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "rejected", "reason": "vibes" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "offer", "reason": "other" })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        stage(&app, &owner, &id, json!({ "stage": "promoted" })).await,
        422,
        "validation_failed",
    )
    .await;
    // Candidates withdraw; they do not move the pipeline.
    assert_error(stage(&app, &ada, &id, json!({ "stage": "offer" })).await, 403, "forbidden").await;
    let rejected =
        stage(&app, &owner, &id, json!({ "stage": "rejected", "reason": "position_filled" })).await;
    assert_eq!(rejected.status(), 200);
    let body: Value = rejected.json().await.unwrap();
    assert_eq!(
        (body["stage"].as_str(), body["rejection_reason"].as_str()),
        (Some("rejected"), Some("position_filled"))
    );
    let email = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .rev()
        .find(|e| e.template == "application_status")
        .unwrap();
    assert!(email.text.contains("the position was filled"), "{}", email.text);

    // Withdrawing: the candidate's own move, from an open application only.
    let second_job = publish(&app, &owner, None).await;
    let second = app.applied(&ada, &second_job).await;
    assert_error(
        app.post_authed(
            &format!("/api/v1/applications/{second}/withdraw"),
            &owner.access,
            &json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let withdrawn = app
        .post_authed(
            &format!("/api/v1/applications/{second}/withdraw"),
            &ada.access,
            &json!({ "note": "took another offer" }),
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    assert_error(
        stage(&app, &owner, &second, json!({ "stage": "screening" })).await,
        409,
        "invalid_transition",
    )
    .await;
    let history: Value = app
        .get_authed(&format!("/api/v1/applications/{second}/history"), &owner.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][1]["by"], "candidate");
}

#[tokio::test]
async fn the_cover_letter_is_editable_until_the_company_opens_the_application() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let id = app.applied(&ada, &job).await;
    let path = format!("/api/v1/applications/{id}");
    let edited: Value = app
        .patch_authed(&path, &ada.access, &json!({ "cover_letter": "Second draft." }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["cover_letter"], "Second draft.");
    assert_error(
        app.patch_authed(&path, &owner.access, &json!({ "cover_letter": "x" })).await,
        403,
        "forbidden",
    )
    .await;

    let seen: Value = app.get_authed(&path, &owner.access).await.json().await.unwrap();
    assert_eq!(seen["cover_letter"], "Second draft.");
    assert!(seen["viewed_at"].is_string());
    assert_eq!(
        seen["candidate"]["profile"]["name"]["value"], "Ada Example",
        "the company sees the parsed profile"
    );
    assert_error(
        app.patch_authed(&path, &ada.access, &json!({ "cover_letter": "Third." })).await,
        409,
        "invalid_transition",
    )
    .await;
    let theirs: Value = app.get_authed(&path, &ada.access).await.json().await.unwrap();
    assert_eq!(theirs["cover_letter"], "Second draft.", "the letter the company read is kept");
    assert_eq!(theirs["cover_letter_editable"], false);
}

#[tokio::test]
async fn internal_notes_are_for_the_company_and_resumes_reach_it_only_through_applications() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, resume) = candidate_with_resume(&app, "ada@example.com").await;
    let id = app.applied(&ada, &job).await;
    let note = app
        .post_authed(
            &format!("/api/v1/applications/{id}/notes"),
            &owner.access,
            &json!({ "body": "Strong Rust." }),
        )
        .await;
    assert_eq!(note.status(), 201);
    let notes: Value = app
        .get_authed(&format!("/api/v1/applications/{id}/notes"), &owner.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes["items"][0]["body"], "Strong Rust.");
    assert_error(
        app.get_authed(&format!("/api/v1/applications/{id}/notes"), &ada.access).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.post_authed(
            &format!("/api/v1/applications/{id}/notes"),
            &ada.access,
            &json!({ "body": "hi" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let candidate_view = app
        .get_authed(&format!("/api/v1/applications/{id}"), &ada.access)
        .await
        .text()
        .await
        .unwrap();
    assert!(!candidate_view.contains("Strong Rust."));

    // The company downloads the resume sent with the application, not the candidate's others.
    let file =
        app.get_authed(&format!("/api/v1/applications/{id}/resume/file"), &owner.access).await;
    assert_eq!(file.status(), 200);
    assert_eq!(
        file.bytes().await.unwrap().as_ref(),
        crate::helpers::fixture("resumes/sample-resume.txt").as_slice()
    );
    let profile: Value = app
        .get_authed(&format!("/api/v1/applications/{id}/resume"), &owner.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["id"], resume.as_str());
    assert_error(
        app.get_authed(&format!("/api/v1/resumes/{resume}/file"), &owner.access).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn candidates_and_companies_never_see_each_others_applications() {
    let app = spawn_app().await;
    let (acme, acme_job) = app.published_job("owner@acme.test", "Acme").await;
    let (globex, globex_job) = app.published_job("owner@globex.test", "Globex").await;
    let (ada, _) = candidate_with_resume(&app, "ada@example.com").await;
    let (bob, _) = candidate_with_resume(&app, "bob@example.com").await;
    let ada_app = app.applied(&ada, &acme_job).await;
    let bob_app = app.applied(&bob, &globex_job).await;
    let admin = app.admin("admin@example.com").await;

    // Candidate B never sees A's application; employer Y never sees applications to X's jobs.
    for (who, id) in [
        (&bob, &ada_app),
        (&ada, &bob_app),
        (&globex, &ada_app),
        (&acme, &bob_app),
        (&admin, &ada_app),
    ] {
        for path in ["", "/history", "/resume", "/resume/file", "/notes"] {
            assert_error(
                app.get_authed(&format!("/api/v1/applications/{id}{path}"), &who.access).await,
                404,
                "not_found",
            )
            .await;
        }
        assert_error(stage(&app, who, id, json!({ "stage": "screening" })).await, 404, "not_found")
            .await;
    }
    assert_error(
        app.get_authed(&format!("/api/v1/jobs/{acme_job}/applications"), &globex.access).await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.get_authed(&format!("/api/v1/jobs/{acme_job}/applications"), &bob.access).await,
        403,
        "forbidden",
    )
    .await;
    let bobs: Value =
        app.get_authed("/api/v1/applications", &bob.access).await.json().await.unwrap();
    assert_eq!(bobs["total"], 1);
    assert_eq!(bobs["items"][0]["id"], bob_app.as_str());
    // A recruiter invited to Acme sees Acme's pipeline.
    let list = app.job_applications(&acme, &acme_job, "").await;
    assert_eq!(list["total"], 1);
}

#[tokio::test]
async fn the_companys_list_filters_by_stage_and_date() {
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        let (who, _) = candidate_with_resume(&app, &format!("{name}@example.com")).await;
        ids.push(app.applied(&who, &job).await);
    }
    assert_eq!(stage(&app, &owner, &ids[0], json!({ "stage": "screening" })).await.status(), 200);
    let list = app.job_applications(&owner, &job, "?stage=screening").await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], ids[0].as_str());
    assert_eq!(list["counts"]["applied"], 2);
    assert_eq!(list["counts"]["screening"], 1);
    let future = app.job_applications(&owner, &job, "?since=2099-01-01T00:00:00Z").await;
    assert_eq!(future["total"], 0);
    let page = app.job_applications(&owner, &job, "?limit=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 3);
    assert_error(
        app.get_authed(&format!("/api/v1/jobs/{job}/applications?stage=nope"), &owner.access).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.get_authed(&format!("/api/v1/jobs/{job}/applications?since=yesterday"), &owner.access)
            .await,
        400,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn the_export_holds_resumes_applications_and_searches_and_deleting_the_account_removes_them()
{
    let app = spawn_app().await;
    let (owner, job) = app.published_job("owner@acme.test", "Acme").await;
    let (ada, resume) = candidate_with_resume(&app, "ada@example.com").await;
    let id = app.applied(&ada, &job).await;
    assert_eq!(
        stage(&app, &owner, &id, json!({ "stage": "screening", "note": "secret note" }))
            .await
            .status(),
        200
    );
    let put = app
        .authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{job}"), &ada.access)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    let search = json!({ "name": "Rust", "filters": { "q": "rust" }, "frequency": "weekly" });
    app.save_search(&ada, &search).await;

    let text = app.get_authed("/api/v1/users/me/export", &ada.access).await.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["resumes"][0]["id"], resume.as_str());
    assert!(export["resumes"][0]["text"].as_str().unwrap().contains("Ada Example"));
    assert_eq!(export["applications"][0]["id"], id.as_str());
    assert_eq!(export["applications"][0]["history"].as_array().unwrap().len(), 2);
    assert_eq!(export["saved_jobs"][0]["job_id"], job.as_str());
    assert_eq!(export["saved_searches"][0]["name"], "Rust");
    assert!(!text.contains("secret note"), "internal notes are the company's");

    let response = app
        .delete_authed(
            "/api/v1/users/me",
            &ada.access,
            Some(&json!({ "password": crate::helpers::PASSWORD })),
        )
        .await;
    assert_eq!(response.status(), 204);
    let list = app.job_applications(&owner, &job, "").await;
    assert_eq!(list["total"], 0, "the candidate's applications went with the account");
    use jobportal::db::Executor;
    for table in
        ["resume", "resume_file", "application", "application_event", "saved_job", "saved_search"]
    {
        let mut response =
            app.db.query(format!("SELECT count() AS n FROM {table} GROUP ALL")).await.unwrap();
        let n: Option<serde_json::Value> = response.take(0).unwrap();
        assert!(n.as_ref().is_none_or(|v| v["n"] == 0), "{table} still holds {n:?}");
    }
}
