//! Registration, login, tokens, verification and password reset.

use std::time::Duration;

use jobportal::core::config::{AuthConfig, Rate, RateLimitConfig, ServeConfig};
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, assert_error, spawn_app, spawn_app_on_disk, spawn_app_with, token_in,
};

#[tokio::test]
async fn registration_signs_in_and_emails_a_verification_link_that_works_once() {
    let app = spawn_app().await;
    let response = app.post_register("Ada@Example.com", PASSWORD, "candidate").await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["user"]["role"], "candidate");
    assert_eq!(body["user"]["email_verified"], false);
    assert_eq!(body["tokens"]["token_type"], "Bearer");
    assert_eq!(body["tokens"]["expires_in"], 900);
    assert!(body["user"].get("password_hash").is_none());
    let access = body["tokens"]["access_token"].as_str().unwrap();
    assert_eq!(app.get_me(access).await.status(), 200);

    // The email was written to the outbox with the registration.
    let emails = app.emails_to("ada@example.com").await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].template, "verify_email");
    assert_eq!(emails[0].status, "queued");
    assert!(emails[0].html.contains("verify-email?token="));
    let token = token_in(&emails[0].text);
    assert_eq!(token.len(), 43);

    let verified = app.post_json("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_eq!(verified.status(), 200);
    assert_eq!(verified.json::<Value>().await.unwrap()["email_verified"], true);
    let again = app.post_json("/api/v1/auth/verify-email", &json!({ "token": token })).await;
    assert_error(again, 400, "invalid_token").await;
    let bogus =
        app.post_json("/api/v1/auth/verify-email", &json!({ "token": "x".repeat(43) })).await;
    assert_error(bogus, 400, "invalid_token").await;
}

#[tokio::test]
async fn registration_never_grants_admin_nor_accepts_extra_fields() {
    let app = spawn_app().await;
    let body = json!({ "email": "eve@example.com", "password": PASSWORD, "full_name": "Eve", "role": "admin" });
    assert_error(app.post_json("/api/v1/auth/register", &body).await, 422, "validation_failed")
        .await;
    let body = json!({
        "email": "eve@example.com", "password": PASSWORD, "full_name": "Eve", "role": "candidate",
        "email_verified": true
    });
    let message =
        assert_error(app.post_json("/api/v1/auth/register", &body).await, 422, "validation_failed")
            .await;
    assert!(message.contains("email_verified"), "{message}");
}

#[tokio::test]
async fn an_email_registers_once_in_any_letter_case() {
    let app = spawn_app().await;
    app.register("grace@example.com", "employer").await;
    let again = app.post_register("GRACE@example.COM", PASSWORD, "candidate").await;
    assert_error(again, 409, "email_taken").await;
}

#[tokio::test]
async fn two_racing_registrations_of_one_email_make_one_account() {
    let app = spawn_app().await;
    let (a, b) = tokio::join!(
        app.post_register("race@example.com", PASSWORD, "candidate"),
        app.post_register("Race@example.com", PASSWORD, "employer"),
    );
    let (won, lost) = if a.status() == 201 { (a, b) } else { (b, a) };
    assert_eq!(won.status(), 201);
    // The loser answers what a registration after the winner's answers.
    assert_error(lost, 409, "email_taken").await;
    assert_eq!(app.emails_to("race@example.com").await.len(), 1);
}

#[tokio::test]
async fn weak_passwords_are_refused_with_the_rule_they_break() {
    let app = spawn_app().await;
    for (password, rule) in [
        ("short", "at least 8"),
        ("password123", "common"),
        ("Sunshine1", "common"),
        ("neo@example.com", "email"),
    ] {
        let message = assert_error(
            app.post_register("neo@example.com", password, "candidate").await,
            422,
            "validation_failed",
        )
        .await;
        assert!(message.contains(rule), "{password}: {message}");
    }
    let long = "x".repeat(129);
    assert_error(
        app.post_register("neo@example.com", &long, "candidate").await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("ada@example.com", "candidate").await;
    let wrong = app.post_login("ada@example.com", "not the password").await;
    let unknown = app.post_login("nobody@example.com", "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(unknown.status(), 401);
    assert_eq!(wrong.headers()["www-authenticate"], unknown.headers()["www-authenticate"]);
    let (wrong, unknown): (Value, Value) =
        (wrong.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["error"]["code"], "invalid_credentials");
    // Not even a malformed address is told apart.
    let malformed = app.post_login("not-an-email", "not the password").await;
    assert_eq!(malformed.json::<Value>().await.unwrap(), unknown);
}

#[tokio::test]
async fn login_returns_a_working_pair() {
    let app = spawn_app().await;
    app.register("ada@example.com", "candidate").await;
    let account = app.login("ADA@example.com").await;
    let me: Value = app.get_me(&account.access).await.json().await.unwrap();
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["companies"], json!([]));
}

#[tokio::test]
async fn a_refresh_token_rotates_and_its_reuse_revokes_the_whole_family() {
    let app = spawn_app().await;
    let first = app.register("ada@example.com", "candidate").await;

    let rotated = app.post_refresh(&first.refresh).await;
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let second_refresh = rotated["refresh_token"].as_str().unwrap().to_owned();
    let second_access = rotated["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(app.get_me(&second_access).await.status(), 200);

    // The first token comes back: somebody copied it. The family dies.
    assert_error(app.post_refresh(&first.refresh).await, 401, "refresh_token_reused").await;
    assert_error(app.post_refresh(&second_refresh).await, 401, "invalid_refresh_token").await;
    assert_error(app.get_me(&second_access).await, 401, "unauthorized").await;
    assert_error(app.get_me(&first.access).await, 401, "unauthorized").await;

    // Another login is a new family and works.
    let again = app.login("ada@example.com").await;
    assert_eq!(app.get_me(&again.access).await.status(), 200);
    assert_eq!(app.post_refresh(&again.refresh).await.status(), 200);
}

#[tokio::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = spawn_app().await;
    assert_error(app.post_refresh("no-such-token").await, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_ends_the_session_for_both_tokens_and_only_that_session() {
    let app = spawn_app().await;
    let laptop = app.register("ada@example.com", "candidate").await;
    let phone = app.login("ada@example.com").await;
    let response = app.post_authed("/api/v1/auth/logout", &laptop.access, &json!({})).await;
    assert_eq!(response.status(), 204);
    assert_error(app.get_me(&laptop.access).await, 401, "unauthorized").await;
    assert_error(app.post_refresh(&laptop.refresh).await, 401, "invalid_refresh_token").await;
    assert_eq!(app.get_me(&phone.access).await.status(), 200);
}

#[tokio::test]
async fn an_expired_access_token_says_so() {
    let config = ServeConfig {
        auth: AuthConfig { access_token_ttl: Duration::from_secs(1), ..AuthConfig::default() },
        ..ServeConfig::default()
    };
    let app = spawn_app_with(config).await;
    let account = app.register("ada@example.com", "candidate").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let response = app.get_me(&account.access).await;
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_error(response, 401, "token_expired").await;
    // The refresh token still renews it.
    assert_eq!(app.post_refresh(&account.refresh).await.status(), 200);
}

#[tokio::test]
async fn missing_malformed_and_forged_tokens_are_401() {
    let app = spawn_app().await;
    let account = app.register("ada@example.com", "candidate").await;
    assert_error(app.get("/api/v1/users/me").await, 401, "unauthorized").await;
    for bad in ["garbage", "a.b.c", &format!("{}x", account.access)] {
        assert_error(app.get_me(bad).await, 401, "unauthorized").await;
    }
    let basic = app
        .client
        .get(app.url("/api/v1/users/me"))
        .basic_auth("ada", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_error(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn racing_registrations_of_one_email_answer_as_a_registration_after_the_first_does() {
    let config = ServeConfig {
        rate_limits: RateLimitConfig {
            auth_per_ip: Rate::new(1000, Duration::from_secs(60)),
            ..RateLimitConfig::default()
        },
        ..ServeConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_on_disk(config, dir.path()).await;
    for round in 0..3 {
        let email = format!("ada{round}@example.com");
        let registrations = (0..15).map(|_| app.post_register(&email, PASSWORD, "candidate"));
        let responses = futures_util::future::join_all(registrations).await;
        let mut created = 0;
        for response in responses {
            if response.status() == 201 {
                created += 1;
            } else {
                assert_error(response, 409, "email_taken").await;
            }
        }
        assert_eq!(created, 1, "{email}: exactly one registration creates the account");
        assert_eq!(app.post_login(&email, PASSWORD).await.status(), 200);
    }
}

/// The claims of a token, read without checking it.
fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn tokens_signed_with_the_right_key_but_malformed_claims_are_401() {
    let secret = "s".repeat(48);
    let config = ServeConfig {
        jwt_secret: Some(jobportal::core::config::Secret::new(secret.clone())),
        ..ServeConfig::default()
    };
    let app = spawn_app_with(config).await;
    let account = app.register("ada@example.com", "candidate").await;
    let good = claims_of(&account.access);
    let sign = |claims: &Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    // The same claims signed again are accepted, so the refusals below are about the claims.
    assert_eq!(app.get_me(&sign(&good)).await.status(), 200);

    let user = good["sub"].as_str().unwrap();
    let session = good["sid"].as_str().unwrap();
    let ttl = Duration::from_secs(60);
    let issued = [
        app.ctx.keys.issue(user, "candidate", "", ttl),
        app.ctx.keys.issue("", "candidate", session, ttl),
        app.ctx.keys.issue(user, "candidate", "session:⟨x⟩", ttl),
        app.ctx.keys.issue(&format!("user:{user}"), "candidate", session, ttl),
        app.ctx.keys.issue(user, "candidate", &session.to_uppercase(), ttl),
    ];
    for token in &issued {
        let message = assert_error(app.get_me(token).await, 401, "unauthorized").await;
        assert!(!message.contains("valid id"), "{message}");
    }
    let malformed: [(&str, Value); 7] = [
        ("sid", json!("")),
        ("sid", json!(12)),
        ("sid", json!({ "tb": "session", "id": session })),
        ("sub", json!(null)),
        ("sub", json!([user])),
        ("exp", json!("later")),
        ("iat", json!(-1)),
    ];
    for (claim, value) in malformed {
        let mut claims = good.clone();
        claims[claim] = value.clone();
        let response = app.get_me(&sign(&claims)).await;
        assert_eq!(response.status(), 401, "{claim}: {value}");
        assert_error(response, 401, "unauthorized").await;
    }
    // The account's own token still works.
    assert_eq!(app.get_me(&account.access).await.status(), 200);
}

#[tokio::test]
async fn forgot_password_says_the_same_for_unknown_addresses_and_a_reset_works_once() {
    let app = spawn_app().await;
    let old = app.register("ada@example.com", "candidate").await;

    let known =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "ADA@example.com" })).await;
    let unknown = app
        .post_json("/api/v1/auth/forgot-password", &json!({ "email": "nobody@example.com" }))
        .await;
    assert_eq!(known.status(), 202);
    assert_eq!(unknown.status(), 202);
    assert_eq!(known.json::<Value>().await.unwrap(), unknown.json::<Value>().await.unwrap());
    assert!(app.emails_to("nobody@example.com").await.is_empty());
    let token = app.token_sent_to("ada@example.com", "reset_password").await;

    // A password the policy refuses does not burn the link.
    let weak = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "token": token, "new_password": "password1" }),
        )
        .await;
    assert_error(weak, 422, "validation_failed").await;

    let reset = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "token": token, "new_password": "a brand new secret" }),
        )
        .await;
    assert_eq!(reset.status(), 200);
    let reused = app
        .post_json(
            "/api/v1/auth/reset-password",
            &json!({ "token": token, "new_password": "yet another secret" }),
        )
        .await;
    assert_error(reused, 400, "invalid_token").await;

    // Every old session ended; the old password is gone; the new one works.
    assert_error(app.get_me(&old.access).await, 401, "unauthorized").await;
    assert_error(app.post_refresh(&old.refresh).await, 401, "invalid_refresh_token").await;
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.post_login("ada@example.com", "a brand new secret").await.status(), 200);
    // The owner hears about it.
    assert!(
        app.emails_to("ada@example.com").await.iter().any(|e| e.template == "password_changed")
    );
}

#[tokio::test]
async fn changing_the_password_ends_every_session_and_opens_a_new_one() {
    let app = spawn_app().await;
    let laptop = app.register("ada@example.com", "candidate").await;
    let phone = app.login("ada@example.com").await;

    let wrong = app
        .post_authed(
            "/api/v1/users/me/password",
            &laptop.access,
            &json!({ "current_password": "nope nope", "new_password": "a brand new secret" }),
        )
        .await;
    assert_error(wrong, 422, "validation_failed").await;

    let changed = app
        .post_authed(
            "/api/v1/users/me/password",
            &laptop.access,
            &json!({ "current_password": PASSWORD, "new_password": "a brand new secret" }),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let tokens: Value = changed.json().await.unwrap();
    assert_error(app.get_me(&laptop.access).await, 401, "unauthorized").await;
    assert_error(app.get_me(&phone.access).await, 401, "unauthorized").await;
    assert_error(app.post_refresh(&phone.refresh).await, 401, "invalid_refresh_token").await;
    assert_eq!(app.get_me(tokens["access_token"].as_str().unwrap()).await.status(), 200);
    assert_eq!(app.post_login("ada@example.com", "a brand new secret").await.status(), 200);
}

#[tokio::test]
async fn resending_verification_sends_a_new_link_until_the_address_is_verified() {
    let app = spawn_app().await;
    let account = app.register("ada@example.com", "candidate").await;
    let response =
        app.post_authed("/api/v1/auth/resend-verification", &account.access, &json!({})).await;
    assert_eq!(response.status(), 202);
    assert_eq!(app.emails_to("ada@example.com").await.len(), 2);
    let token = app.token_sent_to("ada@example.com", "verify_email").await;
    assert_eq!(
        app.post_json("/api/v1/auth/verify-email", &json!({ "token": token })).await.status(),
        200
    );
    let again =
        app.post_authed("/api/v1/auth/resend-verification", &account.access, &json!({})).await;
    assert_error(again, 409, "already_verified").await;
}

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_cannot_sign_in() {
    let app = spawn_app().await;
    let user = app.register("ada@example.com", "candidate").await;
    let admin = app.admin("root@example.com").await;
    assert_eq!(app.disable_user(&admin, &user.id).await["disabled"], true);

    assert_error(app.get_me(&user.access).await, 401, "unauthorized").await;
    assert_error(app.post_refresh(&user.refresh).await, 401, "invalid_refresh_token").await;
    assert_error(app.post_login("ada@example.com", PASSWORD).await, 403, "account_disabled").await;
    // A wrong password still says only that.
    assert_error(
        app.post_login("ada@example.com", "not the password").await,
        401,
        "invalid_credentials",
    )
    .await;

    let response = app
        .post_authed(&format!("/api/v1/admin/users/{}/enable", user.id), &admin.access, &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_refreshes_of_one_token_never_both_get_a_new_pair() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let (a, b) = tokio::join!(app.post_refresh(&ada.refresh), app.post_refresh(&ada.refresh));
    let statuses = [a.status().as_u16(), b.status().as_u16()];
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
    assert!(statuses.contains(&401), "{statuses:?}");
    // Whatever the interleaving, the token is spent.
    assert_eq!(app.post_refresh(&ada.refresh).await.status(), 401);
}
