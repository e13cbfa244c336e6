//! The OpenAPI document and the offline docs page.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_is_3_1_and_lists_the_endpoints() {
    let app = spawn_app().await;
    let doc = app.get_openapi().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/users/me", "/api/v1/admin/audit-log"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    for path in
        ["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/companies"]
    {
        assert!(doc["paths"][path]["post"].is_object(), "{path} missing");
    }
    // Secured operations name the bearer scheme, and the scheme is declared.
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["paths"]["/api/v1/users/me"]["get"]["security"][0]["bearer"].is_array());
    assert!(doc["paths"]["/api/v1/auth/login"]["post"].get("security").is_none());
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

/// The methods an operation can have in the document (HEAD and OPTIONS are not documented).
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `path` with every `{parameter}` segment filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "probe" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_served_is_documented_and_every_documented_operation_is_served() {
    let app = spawn_app().await;
    let doc = app.get_openapi().await;
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item[method].is_object() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    // The router's paths, and on each the methods that reach a handler: a method the router
    // does not serve answers 405 `method_not_allowed` (a path it does not serve, 404 "no route").
    let routes = jobportal::api::routes();
    let mut served = BTreeSet::new();
    for path in routes.paths() {
        for method in METHODS {
            let response = app
                .authed(method.to_uppercase().parse().unwrap(), &concrete(path), "not-a-token")
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or_default();
            let unrouted = (status == 405 && body["error"]["code"] == "method_not_allowed")
                || (status == 404
                    && body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.starts_with("no route")));
            if !unrouted {
                served.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    assert!(served.len() > 50, "the probe reached too few handlers: {served:?}");
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(undocumented.is_empty(), "served but not in the OpenAPI document: {undocumented:?}");
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(unserved.is_empty(), "in the OpenAPI document but not served: {unserved:?}");
}
