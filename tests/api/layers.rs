//! The layers every route sits behind (`api::with_layers`), on routes made for these tests:
//! an echo that reads a JSON body, a handler that panics, one that is slow.

use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use jobportal::api::extract::Json;
use jobportal::api::with_layers;
use jobportal::core::config::{CorsOrigins, ServeConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::helpers::{TestApp, assert_error, memory_db, spawn_router};

#[derive(Debug, Serialize, Deserialize)]
struct Posting {
    title: String,
    tags: Vec<String>,
    salary: Option<u32>,
}

async fn echo(Json(posting): Json<Posting>) -> Json<Posting> {
    Json(posting)
}

async fn boom() -> &'static str {
    panic!("secret detail: password=hunter2");
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(600)).await;
    "done"
}

async fn spawn_test_routes(config: ServeConfig) -> TestApp {
    let db = memory_db().await;
    spawn_router(db, config, |state| {
        let routes = Router::new()
            .route("/echo", post(echo))
            .route("/boom", get(boom))
            .route("/slow", get(slow));
        with_layers(routes, &state).with_state(state)
    })
    .await
}

#[tokio::test]
async fn a_valid_body_is_accepted() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response =
        app.post_json("/echo", &json!({"title": "Rust developer", "tags": ["rust"]})).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["title"], "Rust developer");
}

#[tokio::test]
async fn malformed_json_is_a_400_invalid_json() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response = app.post_raw("/echo", Some("application/json"), b"{\"title\": ".to_vec()).await;
    assert_error(response, 400, "invalid_json").await;
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_a_422_naming_the_field() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response = app.post_json("/echo", &json!({"title": "x", "tags": ["a", 7]})).await;
    let message = assert_error(response, 422, "validation_failed").await;
    assert!(message.contains("tags[1]"), "{message}");

    let response = app.post_json("/echo", &json!({"title": "x", "tags": [], "salary": -1})).await;
    let message = assert_error(response, 422, "validation_failed").await;
    assert!(message.contains("salary"), "{message}");
}

#[tokio::test]
async fn a_missing_field_is_a_422_naming_the_field() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let message = assert_error(
        app.post_json("/echo", &json!({"title": "x"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(message.contains("tags"), "{message}");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_415() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response =
        app.post_raw("/echo", Some("text/plain"), br#"{"title":"x","tags":[]}"#.to_vec()).await;
    assert_error(response, 415, "unsupported_media_type").await;
    let response = app.post_raw("/echo", None, br#"{"title":"x","tags":[]}"#.to_vec()).await;
    assert_error(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let config = ServeConfig { body_limit: 1024, ..ServeConfig::default() };
    let app = spawn_test_routes(config).await;
    let big = json!({"title": "x".repeat(2048), "tags": []});
    assert_error(app.post_json("/echo", &big).await, 413, "payload_too_large").await;
    // And a 10 MB one, sent without a content length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![b' '; 1024 * 1024])).collect();
    let response = app
        .client
        .post(app.url("/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_error(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_that_leaks_nothing() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response = app.get("/boom").await;
    assert_eq!(response.status(), 500);
    let text = response.text().await.unwrap();
    assert!(!text.contains("hunter2") && !text.contains("secret"), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], "internal");
    // The server survives it.
    assert_eq!(app.get("/slow").await.status(), 200);
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_a_503_timeout() {
    let config =
        ServeConfig { request_timeout: Duration::from_millis(100), ..ServeConfig::default() };
    let app = spawn_test_routes(config).await;
    assert_error(app.get("/slow").await, 503, "timeout").await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_request_finish_and_refuses_new_ones() {
    let mut app = spawn_test_routes(ServeConfig::default()).await;
    let client = app.client.clone();
    let url = app.url("/slow");
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.begin_shutdown();
    let response = in_flight.await.unwrap().expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "done");
    let addr = app.addr;
    app.wait_stopped().await.expect("server stops cleanly");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "still accepting after shutdown");
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let config = ServeConfig {
        cors_origins: CorsOrigins::List(vec!["https://jobs.example".into()]),
        ..ServeConfig::default()
    };
    let app = spawn_test_routes(config).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/echo"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://jobs.example").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://jobs.example");
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn without_cors_configured_no_cors_headers_are_sent() {
    let app = spawn_test_routes(ServeConfig::default()).await;
    let response = app
        .client
        .get(app.url("/slow"))
        .header("origin", "https://jobs.example")
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("access-control-allow-origin").is_none());
}
