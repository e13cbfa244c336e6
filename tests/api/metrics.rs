//! Prometheus metrics of the HTTP server.

use crate::helpers::spawn_app;

#[tokio::test]
async fn requests_are_counted_by_route_and_status() {
    let app = spawn_app().await;
    app.get_healthz().await;
    app.get_healthz().await;
    app.get("/no/such/route/123").await;
    let text = app.get_metrics().await;
    assert!(
        text.contains(
            r#"jobportal_http_requests_total{method="GET",route="/healthz",status="200"} 2"#
        ),
        "{text}"
    );
    // Unknown paths share one label value, so nobody can grow the label set.
    assert!(
        text.contains(
            r#"jobportal_http_requests_total{method="GET",route="unmatched",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(!text.contains("/no/such/route"));
    assert!(text.contains("jobportal_http_request_duration_seconds_bucket"), "{text}");
    assert!(text.contains("# TYPE jobportal_http_requests_in_flight gauge"), "{text}");
}

#[tokio::test]
async fn metrics_use_the_openmetrics_content_type() {
    let app = spawn_app().await;
    let response = app.get("/metrics").await;
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
}
