use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_the_endpoints() {
    let app = spawn_app().await;
    let doc = app.get_openapi().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    // The code table is part of the description, so clients can find every code.
    let description = doc["info"]["description"].as_str().unwrap();
    for code in ["not_found", "validation_failed", "payload_too_large", "internal"] {
        assert!(description.contains(code), "{code} not documented");
    }
}

#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_from_the_binary() {
    let app = spawn_app().await;
    let response = app.get("/docs").await;
    assert!(response.status().is_redirection());
    assert_eq!(response.headers()["location"], "/docs/");

    let html = app.get("/docs/").await;
    assert_eq!(html.status(), 200);
    let html = html.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    // Offline: nothing is fetched from another host.
    assert!(!html.contains("https://"), "the page loads a remote asset: {html}");

    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);

    let init = app.get("/docs/swagger-initializer.js").await.text().await.unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert!(init.contains(r#""validatorUrl": "none""#), "{init}");
}
