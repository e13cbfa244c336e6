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

/// The real binary reports its memory at each scrape: the resident set and its split, the
/// live heap its allocator counts, and the parts its components hold.
#[tokio::test]
async fn the_process_memory_is_read_at_each_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = crate::helpers::ServeProcess::start(&data);
    let text = reqwest::get(serve.url("/metrics")).await.unwrap().text().await.unwrap();
    let gauge = |kind: &str| -> u64 {
        let prefix = format!("jobportal_memory_bytes{{kind=\"{kind}\"}} ");
        let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()));
        line.unwrap_or_else(|| panic!("no {kind}: {text}")).trim().parse().unwrap()
    };
    let resident = gauge("resident");
    assert!(resident > 1 << 20, "{text}");
    assert!(gauge("resident_peak") >= resident, "{text}");
    assert!(gauge("resident_anonymous") <= resident, "{text}");
    assert!(gauge("resident_files_database") <= resident, "{text}");
    let heap = gauge("heap");
    assert!(heap > 1 << 20 && gauge("heap_large_blocks") <= heap, "{text}");
    // A component's part is of the heap: present, and no larger than it.
    assert!(gauge("heap_part_suggestions") <= heap, "{text}");
    assert!(gauge("heap_part_hnsw_graph") <= heap, "{text}");
}

/// The embedded database's write buffer is the size it is given, not one sized from the host's
/// memory: it is one block reserved whole, so the heap's larger blocks differ by exactly the
/// difference of two settings.
#[tokio::test]
async fn the_embedded_databases_write_buffer_is_the_size_it_is_given() {
    let mut large = Vec::new();
    for size in ["16MiB", "48MiB"] {
        let dir = tempfile::tempdir().unwrap();
        let mut command = crate::helpers::jobportal(&dir.path().join("data"));
        command.env("JOBPORTAL_DB_WRITE_BUFFER", size).env("JOBPORTAL_DB_CACHE", "8MiB");
        let serve = crate::helpers::ServeProcess::start_with(command);
        let text = reqwest::get(serve.url("/metrics")).await.unwrap().text().await.unwrap();
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("jobportal_memory_bytes{kind=\"heap_large_blocks\"} "));
        large.push(line.unwrap_or_else(|| panic!("{text}")).trim().parse::<u64>().unwrap());
    }
    assert_eq!(large[1] - large[0], 32 << 20, "{large:?}");
    assert!(large[0] >= 16 << 20 && large[0] < 64 << 20, "{large:?}");
}
