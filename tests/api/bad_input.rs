//! Bad input everywhere gets a 4xx with a stable code: never a 500, never a partial write.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

/// Every public and authenticated JSON endpoint, with a body that is wrong in many ways.
#[tokio::test]
async fn malformed_bodies_are_refused_with_a_stable_4xx_code_on_every_endpoint() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;

    let endpoints: &[(&str, &str, bool)] = &[
        ("POST", "/api/v1/auth/register", false),
        ("POST", "/api/v1/auth/login", false),
        ("POST", "/api/v1/auth/refresh", false),
        ("POST", "/api/v1/auth/verify-email", false),
        ("POST", "/api/v1/auth/forgot-password", false),
        ("POST", "/api/v1/auth/reset-password", false),
        ("PATCH", "/api/v1/users/me", true),
        ("POST", "/api/v1/users/me/password", true),
        ("DELETE", "/api/v1/users/me", true),
        ("POST", "/api/v1/companies", true),
        ("PATCH", "/api/v1/companies/acme", true),
        ("POST", "/api/v1/companies/acme/invites", true),
        ("POST", "/api/v1/companies/acme/transfer-ownership", true),
        ("POST", "/api/v1/companies/invites/accept", true),
    ];
    let bodies: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not json", b"{\"email\": ".to_vec(), "invalid_json"),
        ("an array", b"[1, 2]".to_vec(), "validation_failed"),
        (
            "wrong types",
            br#"{"email": 5, "password": [], "token": {}, "name": false, "full_name": 1}"#.to_vec(),
            "validation_failed",
        ),
        ("unknown field", br#"{"is_admin": true}"#.to_vec(), "validation_failed"),
        ("null", b"null".to_vec(), "validation_failed"),
        (
            "10 MB",
            {
                let mut big = b"{\"email\": \"".to_vec();
                big.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
                big.extend(b"\"}");
                big
            },
            "payload_too_large",
        ),
    ];
    for (method, path, authed) in endpoints {
        for (what, body, code) in &bodies {
            let mut request = app
                .client
                .request(method.parse().unwrap(), app.url(path))
                .header("content-type", "application/json")
                .body(body.clone());
            if *authed {
                request = request.bearer_auth(&owner.access);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_client_error(), "{method} {path} with {what}: {status} {text}");
            let body: Value = serde_json::from_str(&text)
                .unwrap_or_else(|_| panic!("{method} {path} {what}: {text}"));
            // Bodies missing required fields may fail on the unknown field or on a missing one;
            // either way it is a stable code, the one expected for this kind of mistake.
            assert_eq!(body["error"]["code"], *code, "{method} {path} with {what}: {text}");
        }
    }
    // Nothing of it stuck: still one company, one owner, the same account.
    let me: Value = app.get_me(&owner.access).await.json().await.unwrap();
    assert_eq!(me["companies"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn invalid_and_deceptive_email_addresses_are_refused_at_registration() {
    let app = spawn_app().await;
    let cases = [
        "",
        "plain",
        "two@@example.com",
        "no-domain@",
        "@no-local.com",
        "spaces in@example.com",
        "ada@exa mple.com",
        "ａda@example.com",        // fullwidth a
        "ada\u{200b}@example.com", // zero-width space
        "\u{212a}ate@example.com", // Kelvin sign, lower-cases to k
        "аda@example.com",         // Cyrillic а
        "ada@example.com\u{0}",
        "ada@example.com\nBcc: eve@example.com",
    ];
    for email in cases {
        let response = app
            .post_json("/api/v1/auth/register", &json!({ "email": email, "password": PASSWORD, "full_name": "Ada", "role": "candidate" }))
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 422, "{email:?}: {body}");
        assert_eq!(body["error"]["code"], "validation_failed", "{email:?}");
    }
    let total =
        jobportal::repositories::users::list(&app.db, &Default::default(), 10, 0).await.unwrap().1;
    assert_eq!(total, 0, "no account was created");
}

#[tokio::test]
async fn names_with_control_characters_or_no_content_are_refused() {
    let app = spawn_app().await;
    for name in ["", "   ", "Ada\u{7}", &"x".repeat(201)] {
        let response = app
            .post_json("/api/v1/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD, "full_name": name, "role": "candidate" }))
            .await;
        assert_eq!(response.status(), 422, "{name:?}");
    }
}
