//! Unknown routes, wrong methods and missing assets answer our JSON error body.

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let app = spawn_app().await;
    let message = assert_error(app.get("/api/v1/nope").await, 404, "not_found").await;
    assert!(message.contains("/api/v1/nope"), "{message}");
    assert_error(app.get("/").await, 404, "not_found").await;
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405_with_allow() {
    let app = spawn_app().await;
    let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
    let allow = response.headers().get("allow").expect("allow header").to_str().unwrap().to_owned();
    assert!(allow.contains("GET"), "{allow}");
    assert_error(response, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn an_unknown_docs_asset_is_a_json_404() {
    let app = spawn_app().await;
    assert_error(app.get("/docs/no-such-file.js").await, 404, "not_found").await;
}
