//! Saved jobs and saved searches: bookmarks, the filters of the job search kept and checked,
//! and the unsubscribe link that works without signing in.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app, spawn_app_on_disk};

#[tokio::test]
async fn bookmarks_are_idempotent_and_a_closed_job_stays_listed_as_unavailable() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let draft = json!({ "company": "acme", "title": "Data Engineer", "description": "Pipelines.", "workplace": "remote", "employment_type": "full_time" });
    let job = app.create_job(&owner, &draft).await;
    let id = job["id"].as_str().unwrap();
    let ada = app.register("ada@example.com", "candidate").await;
    // A draft cannot be bookmarked: it is not public.
    assert_error(
        app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{id}"), &ada.access)
            .send()
            .await
            .unwrap(),
        404,
        "not_found",
    )
    .await;
    app.publish_job(&owner, id).await;
    let put = || {
        app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{id}"), &ada.access).send()
    };
    assert_eq!(put().await.unwrap().status(), 201);
    assert_eq!(put().await.unwrap().status(), 204, "saving twice changes nothing");
    let list = app.saved_jobs(&ada).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["available"], true);
    assert_eq!(list["items"][0]["job"]["title"], "Data Engineer");

    app.close_job(&owner, id).await;
    let list = app.saved_jobs(&ada).await;
    assert_eq!(list["items"][0]["available"], false);
    assert_eq!(list["items"][0]["job"], Value::Null);

    assert_eq!(
        app.delete_authed(&format!("/api/v1/saved-jobs/{id}"), &ada.access, None).await.status(),
        204
    );
    assert_eq!(
        app.delete_authed(&format!("/api/v1/saved-jobs/{id}"), &ada.access, None).await.status(),
        204
    );
    let list = app.saved_jobs(&ada).await;
    assert_eq!(list["items"], json!([]));
    let bob = app.register("bob@example.com", "candidate").await;
    let list = app.saved_jobs(&bob).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn saved_searches_keep_checked_filters_and_unsubscribe_without_a_login() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let body = json!({
        "name": "Remote Rust",
        "filters": { "q": "rust", "workplace": ["remote"], "skills": ["Rust"] },
        "frequency": "daily"
    });
    let response = app.post_authed("/api/v1/saved-searches", &ada.access, &body).await;
    assert_eq!(response.status(), 201);
    let search: Value = response.json().await.unwrap();
    assert_eq!(search["name"], "Remote Rust");
    assert_eq!(search["frequency"], "daily");
    assert_eq!(search["active"], true);
    assert_eq!(search["matches_now"], 0);
    assert_eq!(search["filters"]["workplace"], json!(["remote"]));
    let id = search["id"].as_str().unwrap();
    let token = search["unsubscribe_token"].as_str().unwrap().to_owned();

    for (bad, what) in [
        (
            json!({ "name": "x", "filters": { "workplace": ["moon"] }, "frequency": "daily" }),
            "workplace",
        ),
        (json!({ "name": "x", "filters": {}, "frequency": "hourly" }), "frequency"),
        (json!({ "name": "", "filters": {}, "frequency": "daily" }), "name"),
        (
            json!({ "name": "x", "filters": { "salary_min": 10 }, "frequency": "daily" }),
            "salary_currency",
        ),
    ] {
        let message = assert_error(
            app.post_authed("/api/v1/saved-searches", &ada.access, &bad).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(message.contains(what), "{what}: {message}");
    }
    let unknown = json!({ "name": "x", "filters": { "colour": "red" }, "frequency": "daily" });
    assert_eq!(
        app.post_authed("/api/v1/saved-searches", &ada.access, &unknown).await.status(),
        422
    );

    let updated: Value = app
        .patch_authed(
            &format!("/api/v1/saved-searches/{id}"),
            &ada.access,
            &json!({ "frequency": "weekly", "name": "Rust, weekly" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (updated["frequency"].as_str(), updated["name"].as_str()),
        (Some("weekly"), Some("Rust, weekly"))
    );
    assert_eq!(updated["filters"]["q"], "rust", "filters not sent stay");

    let bob = app.register("bob@example.com", "candidate").await;
    assert_error(
        app.get_authed(&format!("/api/v1/saved-searches/{id}"), &bob.access).await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        app.delete_authed(&format!("/api/v1/saved-searches/{id}"), &bob.access, None).await,
        404,
        "not_found",
    )
    .await;

    // The link in the email asks first (a GET changes nothing), the one-click POST acts; no login.
    let page = app
        .client
        .get(app.url(&format!("/api/v1/saved-searches/unsubscribe?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("method=\"post\""));
    let still: Value = app
        .get_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["active"], true, "opening the link does not unsubscribe");
    let response = app
        .client
        .post(app.url(&format!("/api/v1/saved-searches/unsubscribe?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["active"], false);
    let after: Value = app
        .get_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["active"], false);
    assert_error(
        app.client
            .post(app.url("/api/v1/saved-searches/unsubscribe?token=forged"))
            .send()
            .await
            .unwrap(),
        400,
        "invalid_token",
    )
    .await;

    assert_eq!(
        app.delete_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access, None)
            .await
            .status(),
        204
    );
    let list: Value =
        app.get_authed("/api/v1/saved-searches", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
}

async fn publish(
    app: &crate::helpers::TestApp,
    owner: &crate::helpers::Account,
    title: &str,
    skills: &[&str],
) -> String {
    let body = json!({
        "company": "acme", "title": title, "description": "Real work.", "workplace": "remote",
        "employment_type": "full_time", "skills": skills, "expires_at": "2099-01-01T00:00:00Z"
    });
    app.post_job(owner, &body).await
}

#[tokio::test]
async fn a_digest_lists_only_new_matching_jobs_once_and_stops_after_unsubscribing() {
    use jobportal::models::saved::AlertFrequency;
    use jobportal::services::alerts::send_digests;

    let app = spawn_app().await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let old = publish(&app, &owner, "Rust Engineer (before the search)", &["rust"]).await;
    let ada = app.register_verified("ada@example.com", "candidate").await;
    let body = json!({ "name": "Rust", "filters": { "q": "rust" }, "frequency": "instant" });
    let search = app.save_search(&ada, &body).await;
    let token = search["unsubscribe_token"].as_str().unwrap().to_owned();
    // An unverified address gets no digests.
    let bob = app.register("bob@example.com", "candidate").await;
    app.save_search(&bob, &body).await;

    let summary =
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO).await.unwrap();
    assert_eq!((summary.searches, summary.sent), (2, 0), "nothing new, nothing sent");
    assert!(app.emails_to("ada@example.com").await.iter().all(|e| e.template != "job_alert"));

    let rust = publish(&app, &owner, "Senior Rust Engineer", &["rust"]).await;
    publish(&app, &owner, "Sales Manager", &["sales"]).await;
    // A daily run does not touch instant searches.
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Daily, std::time::Duration::ZERO)
            .await
            .unwrap()
            .searches,
        0
    );
    let summary =
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO).await.unwrap();
    assert_eq!((summary.sent, summary.skipped), (1, 1), "the unverified address is skipped");
    let alerts: Vec<_> = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|e| e.template == "job_alert")
        .collect();
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0];
    assert!(
        alert.text.contains("Senior Rust Engineer")
            && alert.text.contains(&format!("/jobs/{rust}")),
        "{}",
        alert.text
    );
    assert!(!alert.text.contains("Sales Manager"), "only matching jobs");
    assert!(
        !alert.text.contains("before the search") && !alert.text.contains(&old),
        "only jobs published since the last digest"
    );
    assert!(alert.subject.contains("1 new job"), "{}", alert.subject);
    let header = |name: &str| alert.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(
        header("List-Unsubscribe").unwrap(),
        format!("<http://127.0.0.1:8080/api/v1/saved-searches/unsubscribe?token={token}>")
    );
    assert_eq!(header("List-Unsubscribe-Post").unwrap(), "List-Unsubscribe=One-Click");
    assert!(app.emails_to("bob@example.com").await.iter().all(|e| e.template != "job_alert"));

    // The same window is never sent twice.
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO)
            .await
            .unwrap()
            .sent,
        0
    );
    let newer = publish(&app, &owner, "Rust Platform Engineer", &["rust"]).await;
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO)
            .await
            .unwrap()
            .sent,
        1
    );
    let alerts: Vec<_> = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|e| e.template == "job_alert")
        .collect();
    assert_eq!(alerts.len(), 2);
    assert!(
        alerts[1].text.contains(&newer) && !alerts[1].text.contains(&rust),
        "{}",
        alerts[1].text
    );

    // One click (no login) and the alerts stop.
    let response = app
        .client
        .post(app.url(&format!("/api/v1/saved-searches/unsubscribe?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    publish(&app, &owner, "Rust Tooling Engineer", &["rust"]).await;
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO)
            .await
            .unwrap()
            .sent,
        0
    );
}

#[tokio::test]
async fn a_job_that_waited_for_review_reaches_digests_once_approved_and_only_candidates_save_searches()
 {
    use jobportal::core::config::ServeConfig;
    use jobportal::models::saved::AlertFrequency;
    use jobportal::services::alerts::send_digests;

    let app = crate::helpers::spawn_app_with(ServeConfig {
        moderate_unverified: true,
        ..ServeConfig::default()
    })
    .await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let body = json!({ "name": "Rust", "filters": { "q": "rust" }, "frequency": "instant" });
    assert_error(
        app.post_authed("/api/v1/saved-searches", &owner.access, &body).await,
        403,
        "forbidden",
    )
    .await;
    let ada = app.register_verified("ada@example.com", "candidate").await;
    app.save_search(&ada, &body).await;
    let job = publish(&app, &owner, "Rust Engineer", &["rust"]).await;
    let pending: Value =
        app.get_authed(&format!("/api/v1/jobs/{job}"), &owner.access).await.json().await.unwrap();
    assert_eq!(pending["review"], "pending", "{pending}");
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO)
            .await
            .unwrap()
            .sent,
        0
    );
    let admin = app.admin("admin@example.com").await;
    app.approve_job(&admin, &job).await;
    assert_eq!(
        send_digests(&app.ctx, AlertFrequency::Instant, std::time::Duration::ZERO)
            .await
            .unwrap()
            .sent,
        1
    );
    let alert = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .find(|e| e.template == "job_alert")
        .unwrap();
    assert!(alert.text.contains("Rust Engineer"), "{}", alert.text);
}

#[tokio::test]
async fn racing_saves_of_one_job_answer_as_a_save_and_repeats_do() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_on_disk(jobportal::core::config::ServeConfig::default(), dir.path()).await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let ada = app.register("ada@example.com", "candidate").await;
    for round in 0..8 {
        let body = json!({ "company": "acme", "title": format!("Data Engineer {round}"), "description": "Pipelines.", "workplace": "remote", "employment_type": "full_time" });
        let id = app.post_job(&owner, &body).await;
        let puts = (0..16).map(|_| {
            app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{id}"), &ada.access)
                .send()
        });
        let mut statuses: Vec<u16> = futures_util::future::join_all(puts)
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
        statuses.sort_unstable();
        let mut expected = vec![201];
        expected.extend([204; 15]);
        assert_eq!(
            statuses, expected,
            "round {round}: one save creates the bookmark, the others find it"
        );
    }
    let list = app.saved_jobs(&ada).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 8);
}
