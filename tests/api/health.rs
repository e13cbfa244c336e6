//! Liveness, readiness and request ids.

use crate::helpers::{spawn_app, spawn_unmigrated_app};

#[tokio::test]
async fn healthz_says_the_process_is_alive() {
    let app = spawn_app().await;
    let response = app.get_healthz().await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn readyz_reports_each_check_when_ready() {
    let app = spawn_app().await;
    let response = app.get_readyz().await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["migrations"]["status"], "ok");
    assert!(body["checks"]["migrations"]["detail"].as_str().unwrap().contains("0 pending"));
}

#[tokio::test]
async fn readyz_is_unavailable_while_migrations_are_pending() {
    let app = spawn_unmigrated_app().await;
    let response = app.get_readyz().await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["migrations"]["status"], "failing");
    assert!(body["checks"]["migrations"]["detail"].as_str().unwrap().contains("pending"), "{body}");

    // Once migrated, the same server is ready.
    jobportal::db::migrations::Migrator::new(&app.db).apply(|_| {}).await.unwrap();
    assert_eq!(app.get_readyz().await.status(), 200);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let response = app.get_healthz().await;
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-42.a:b")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42.a:b");

    // A request id that could forge log lines is replaced, not echoed.
    let response =
        app.client.get(app.url("/healthz")).header("x-request-id", "a b\"c").send().await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    // Errors carry one too.
    let response = app.get("/nope").await;
    assert!(response.headers().contains_key("x-request-id"));
}
