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

/// Sends `request` as raw bytes on a new connection and reads the answer until the server
/// closes it: the status, the head and the body.
async fn raw(app: &crate::helpers::TestApp, request: &[u8]) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    // The server may answer before it has read everything; what matters is the answer.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .expect("the answer is read");
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, head, answer[split + 4..].to_vec())
}

fn assert_json_error(status: u16, head: &str, body: &[u8], expected: u16, code: &str) {
    assert_eq!(status, expected, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    let body: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(body)));
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_very_long_query_string_is_a_json_414() {
    let app = spawn_app().await;
    let request = format!("GET /api/v1/jobs?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000));
    let (status, head, body) = raw(&app, request.as_bytes()).await;
    assert_json_error(status, &head, &body, 414, "uri_too_long");
}

#[tokio::test]
async fn a_one_mebibyte_uri_is_a_json_414() {
    let app = spawn_app().await;
    let request = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1 << 20));
    let (status, head, body) = raw(&app, request.as_bytes()).await;
    assert_json_error(status, &head, &body, 414, "uri_too_long");
}

#[tokio::test]
async fn an_oversized_header_section_is_a_json_431() {
    let app = spawn_app().await;
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(200_000));
    let (status, head, body) = raw(&app, request.as_bytes()).await;
    assert_json_error(status, &head, &body, 431, "headers_too_large");
    let many = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-A: b\r\n".repeat(150));
    let (status, head, body) = raw(&app, many.as_bytes()).await;
    assert_json_error(status, &head, &body, 431, "headers_too_large");
}

#[tokio::test]
async fn invalid_utf8_in_the_request_line_is_a_json_400() {
    let app = spawn_app().await;
    for request in [
        &b"GET /api/v1/jobs?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G\xe9T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    ] {
        let (status, head, body) = raw(&app, request).await;
        assert_json_error(status, &head, &body, 400, "malformed_request");
    }
}

#[tokio::test]
async fn ordinary_requests_pass_the_head_check_unchanged() {
    let app = spawn_app().await;
    let (status, _, body) =
        raw(&app, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    // A request whose body arrives in the same packet as its head gets all of it.
    let json = br#"{"email":"ada@example.com","password":"not the password"}"#;
    let request = [
        format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            json.len()
        )
        .as_bytes(),
        json,
    ]
    .concat();
    let (status, head, body) = raw(&app, &request).await;
    assert_json_error(status, &head, &body, 401, "invalid_credentials");
    // So do the largest target and head the limits allow.
    let long = format!(
        "GET /healthz?pad={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(30_000)
    );
    assert_eq!(raw(&app, long.as_bytes()).await.0, 200);
}
