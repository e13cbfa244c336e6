//! Saved jobs and saved searches: bookmarks, the filters of the job search kept and checked,
//! and the unsubscribe link that works without signing in.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn bookmarks_are_idempotent_and_a_closed_job_stays_listed_as_unavailable() {
    let app = spawn_app().await;
    let owner = app.register_verified("owner@acme.test", "employer").await;
    assert_eq!(app.post_authed("/api/v1/companies", &owner.access, &json!({ "name": "Acme" })).await.status(), 201);
    let job: Value = app
        .post_authed(
            "/api/v1/jobs",
            &owner.access,
            &json!({ "company": "acme", "title": "Data Engineer", "description": "Pipelines.", "workplace": "remote", "employment_type": "full_time" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = job["id"].as_str().unwrap();
    let ada = app.register("ada@example.com", "candidate").await;
    // A draft cannot be bookmarked: it is not public.
    assert_error(app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{id}"), &ada.access).send().await.unwrap(), 404, "not_found").await;
    assert_eq!(app.post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({})).await.status(), 200);
    let put = || app.authed(reqwest::Method::PUT, &format!("/api/v1/saved-jobs/{id}"), &ada.access).send();
    assert_eq!(put().await.unwrap().status(), 201);
    assert_eq!(put().await.unwrap().status(), 204, "saving twice changes nothing");
    let list: Value = app.get_authed("/api/v1/saved-jobs", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["available"], true);
    assert_eq!(list["items"][0]["job"]["title"], "Data Engineer");

    assert_eq!(app.post_authed(&format!("/api/v1/jobs/{id}/close"), &owner.access, &json!({})).await.status(), 200);
    let list: Value = app.get_authed("/api/v1/saved-jobs", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"][0]["available"], false);
    assert_eq!(list["items"][0]["job"], Value::Null);

    assert_eq!(app.delete_authed(&format!("/api/v1/saved-jobs/{id}"), &ada.access, None).await.status(), 204);
    assert_eq!(app.delete_authed(&format!("/api/v1/saved-jobs/{id}"), &ada.access, None).await.status(), 204);
    let list: Value = app.get_authed("/api/v1/saved-jobs", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    let bob = app.register("bob@example.com", "candidate").await;
    let list: Value = app.get_authed("/api/v1/saved-jobs", &bob.access).await.json().await.unwrap();
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
        (json!({ "name": "x", "filters": { "workplace": ["moon"] }, "frequency": "daily" }), "workplace"),
        (json!({ "name": "x", "filters": {}, "frequency": "hourly" }), "frequency"),
        (json!({ "name": "", "filters": {}, "frequency": "daily" }), "name"),
        (json!({ "name": "x", "filters": { "salary_min": 10 }, "frequency": "daily" }), "salary_currency"),
    ] {
        let message = assert_error(app.post_authed("/api/v1/saved-searches", &ada.access, &bad).await, 422, "validation_failed").await;
        assert!(message.contains(what), "{what}: {message}");
    }
    let unknown = json!({ "name": "x", "filters": { "colour": "red" }, "frequency": "daily" });
    assert_eq!(app.post_authed("/api/v1/saved-searches", &ada.access, &unknown).await.status(), 422);

    let updated: Value = app
        .patch_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access, &json!({ "frequency": "weekly", "name": "Rust, weekly" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((updated["frequency"].as_str(), updated["name"].as_str()), (Some("weekly"), Some("Rust, weekly")));
    assert_eq!(updated["filters"]["q"], "rust", "filters not sent stay");

    let bob = app.register("bob@example.com", "candidate").await;
    assert_error(app.get_authed(&format!("/api/v1/saved-searches/{id}"), &bob.access).await, 404, "not_found").await;
    assert_error(app.delete_authed(&format!("/api/v1/saved-searches/{id}"), &bob.access, None).await, 404, "not_found").await;

    // The one-click unsubscribe needs no login.
    let response = app.client.post(app.url(&format!("/api/v1/saved-searches/unsubscribe?token={token}"))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["active"], false);
    let after: Value = app.get_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access).await.json().await.unwrap();
    assert_eq!(after["active"], false);
    assert_error(app.client.post(app.url("/api/v1/saved-searches/unsubscribe?token=forged")).send().await.unwrap(), 400, "invalid_token").await;

    assert_eq!(app.delete_authed(&format!("/api/v1/saved-searches/{id}"), &ada.access, None).await.status(), 204);
    let list: Value = app.get_authed("/api/v1/saved-searches", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
}
