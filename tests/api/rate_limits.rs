//! Rate limits on the authentication endpoints.

use std::time::Duration;

use jobportal::core::config::{Rate, RateLimitConfig, ServeConfig};
use serde_json::json;

use crate::helpers::{PASSWORD, assert_error, memory_db, spawn_app_with, spawn_router};

fn config(limits: RateLimitConfig) -> ServeConfig {
    ServeConfig { rate_limits: limits, ..ServeConfig::default() }
}

#[tokio::test]
async fn after_the_configured_failed_logins_an_account_answers_429_even_to_the_right_password() {
    let limits = RateLimitConfig {
        login_failures_per_account: Rate::new(3, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    app.register("ada@example.com", "candidate").await;
    app.register("bob@example.com", "candidate").await;
    for _ in 0..3 {
        assert_error(
            app.post_login("ada@example.com", "wrong password!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let response = app.post_login("ADA@example.com", PASSWORD).await;
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_error(response, 429, "rate_limited").await;
    // Other accounts are untouched.
    assert_eq!(app.post_login("bob@example.com", PASSWORD).await.status(), 200);
    // An unknown account is limited exactly like a known one, so the 429 reveals nothing.
    for _ in 0..3 {
        assert_error(
            app.post_login("ghost@example.com", "wrong password!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(app.post_login("ghost@example.com", "wrong password!").await, 429, "rate_limited")
        .await;
}

#[tokio::test]
async fn failed_logins_of_an_account_are_counted_once_for_every_server_on_the_database() {
    let limits = RateLimitConfig {
        login_failures_per_account: Rate::new(4, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let db = memory_db().await;
    jobportal::app::migrate(&db).await.unwrap();
    let a = spawn_router(db.clone(), config(limits.clone()), jobportal::api::router).await;
    let b = spawn_router(db.clone(), config(limits), jobportal::api::router).await;
    a.register("ada@example.com", "candidate").await;
    // Guesses spread over two servers share one budget.
    for app in [&a, &b, &a, &b] {
        assert_error(
            app.post_login("ada@example.com", "wrong password!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    for app in [&a, &b] {
        assert_error(app.post_login("ada@example.com", PASSWORD).await, 429, "rate_limited").await;
    }
}

#[tokio::test]
async fn a_successful_login_clears_the_failures() {
    let limits = RateLimitConfig {
        login_failures_per_account: Rate::new(2, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    app.register("ada@example.com", "candidate").await;
    app.post_login("ada@example.com", "wrong password!").await;
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 200);
    app.post_login("ada@example.com", "wrong password!").await;
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test]
async fn each_auth_endpoint_is_limited_per_client_address() {
    let limits = RateLimitConfig {
        auth_per_ip: Rate::new(3, Duration::from_secs(60)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    for i in 0..3 {
        assert_eq!(
            app.post_register(&format!("u{i}@example.com"), PASSWORD, "candidate").await.status(),
            201
        );
    }
    let response = app.post_register("u9@example.com", PASSWORD, "candidate").await;
    assert!(response.headers().contains_key("retry-after"));
    assert_error(response, 429, "rate_limited").await;
    // Endpoints have separate buckets.
    assert_eq!(app.post_login("u0@example.com", PASSWORD).await.status(), 200);
    for _ in 0..2 {
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "x@example.com" })).await;
    }
    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "y@example.com" })).await;
    assert_eq!(response.status(), 202);
    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "z@example.com" })).await;
    assert_error(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn reset_emails_are_limited_per_account() {
    let limits = RateLimitConfig {
        emails_per_account: Rate::new(2, Duration::from_secs(3600)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    app.register("ada@example.com", "candidate").await;
    for _ in 0..2 {
        let response = app
            .post_json("/api/v1/auth/forgot-password", &json!({ "email": "ada@example.com" }))
            .await;
        assert_eq!(response.status(), 202);
    }
    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "Ada@example.com" })).await;
    assert_error(response, 429, "rate_limited").await;
    let resets = app
        .emails_to("ada@example.com")
        .await
        .into_iter()
        .filter(|e| e.template == "reset_password")
        .count();
    assert_eq!(resets, 2);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_configured_header_names_the_client() {
    let limits = RateLimitConfig {
        auth_per_ip: Rate::new(1, Duration::from_secs(60)),
        ..RateLimitConfig::default()
    };
    let trusted = ServeConfig {
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..config(limits.clone())
    };
    let app = spawn_app_with(trusted).await;
    let login = |ip: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
            .json(&json!({ "email": "x@example.com", "password": "whatever123" }))
            .send()
    };
    assert_eq!(login("198.51.100.1").await.unwrap().status(), 401);
    assert_eq!(
        login("198.51.100.2").await.unwrap().status(),
        401,
        "another client, another bucket"
    );
    assert_eq!(login("198.51.100.1").await.unwrap().status(), 429);

    // Without the setting the header is not believed: every request is the peer's.
    let untrusting = spawn_app_with(config(limits)).await;
    let login = |ip: &'static str| {
        untrusting
            .client
            .post(untrusting.url("/api/v1/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({ "email": "x@example.com", "password": "whatever123" }))
            .send()
    };
    assert_eq!(login("198.51.100.1").await.unwrap().status(), 401);
    assert_eq!(login("198.51.100.2").await.unwrap().status(), 429);
}

/// Fires `wrong` logins with a wrong password and one with the right one for the same account
/// at once, each from the address `from(i)` names (none: the test client's own), and returns
/// how many were answered after checking the password (401 or 200) and how many were refused.
async fn concurrent_logins(
    app: &crate::helpers::TestApp,
    email: &str,
    wrong: usize,
    from: impl Fn(usize) -> Option<String>,
) -> (usize, usize) {
    let requests = (0..=wrong).map(|i| {
        let password = if i == wrong { PASSWORD } else { "wrong password!" };
        let mut request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }));
        if let Some(ip) = from(i) {
            request = request.header("x-forwarded-for", ip);
        }
        request.send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let (mut checked, mut refused) = (0, 0);
    for response in responses {
        let status = response.expect("login is answered").status().as_u16();
        match status {
            200 | 401 => checked += 1,
            429 => refused += 1,
            other => panic!("a login answered {other}"),
        }
    }
    (checked, refused)
}

#[tokio::test]
async fn concurrent_logins_for_one_account_check_at_most_the_allowed_failures() {
    let limits = RateLimitConfig {
        auth_per_ip: Rate::new(1000, Duration::from_secs(60)),
        login_failures_per_account: Rate::new(5, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    app.register("ada@example.com", "candidate").await;
    let (checked, refused) = concurrent_logins(&app, "ada@example.com", 20, |_| None).await;
    assert!(checked <= 5, "{checked} passwords were checked, {refused} refused");
    assert_eq!(checked + refused, 21);
}

#[tokio::test]
async fn concurrent_logins_from_many_addresses_check_at_most_the_allowed_failures() {
    let limits = RateLimitConfig {
        auth_per_ip: Rate::new(1, Duration::from_secs(60)),
        login_failures_per_account: Rate::new(5, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let trusted =
        ServeConfig { trusted_proxy_header: Some("x-forwarded-for".into()), ..config(limits) };
    let app = spawn_app_with(trusted).await;
    app.register("ada@example.com", "candidate").await;
    let (checked, refused) =
        concurrent_logins(&app, "ada@example.com", 29, |i| Some(format!("198.51.100.{}", i + 1)))
            .await;
    assert!(checked <= 5, "{checked} passwords were checked, {refused} refused");
    assert_eq!(checked + refused, 30);
    // The per-address limit still holds beside it: a second login from one of those addresses
    // is refused even for another account.
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", "198.51.100.1")
        .json(&json!({ "email": "bob@example.com", "password": "wrong password!" }))
        .send()
        .await
        .unwrap();
    assert_error(response, 429, "rate_limited").await;
}

#[tokio::test]
async fn a_login_refused_for_another_reason_than_the_password_gives_its_attempt_back() {
    let limits = RateLimitConfig {
        auth_per_ip: Rate::new(1000, Duration::from_secs(60)),
        login_failures_per_account: Rate::new(2, Duration::from_secs(900)),
        ..RateLimitConfig::default()
    };
    let app = spawn_app_with(config(limits)).await;
    let user = app.register("ada@example.com", "candidate").await;
    let admin = app.admin("root@example.com").await;
    app.disable_user(&admin, &user.id).await;
    // The right password of a disabled account is no failed guess: more of them than the
    // limit allows are all answered.
    for _ in 0..4 {
        assert_error(app.post_login("ada@example.com", PASSWORD).await, 403, "account_disabled")
            .await;
    }
    for _ in 0..2 {
        assert_error(
            app.post_login("ada@example.com", "wrong password!").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    assert_error(app.post_login("ada@example.com", PASSWORD).await, 429, "rate_limited").await;
}
