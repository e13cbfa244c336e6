//! The caller's own account: profile, export, deletion.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_error, spawn_app};

#[tokio::test]
async fn a_candidate_edits_their_name_and_discoverability() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let me: Value = app.get_me(&ada.access).await.json().await.unwrap();
    assert_eq!(me["discoverable"], false, "off until the candidate says so");

    let response = app
        .patch_authed(
            "/api/v1/users/me",
            &ada.access,
            &json!({ "full_name": "  Ada King  ", "discoverable": true }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["full_name"], "Ada King");
    assert_eq!(user["discoverable"], true);
}

#[tokio::test]
async fn fields_a_user_may_not_set_are_refused() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    for body in [
        json!({ "role": "admin" }),
        json!({ "email_verified": true }),
        json!({ "disabled": false }),
    ] {
        assert_error(
            app.patch_authed("/api/v1/users/me", &ada.access, &body).await,
            422,
            "validation_failed",
        )
        .await;
    }
    let me: Value = app.get_me(&ada.access).await.json().await.unwrap();
    assert_eq!(me["role"], "candidate");
}

#[tokio::test]
async fn only_candidates_can_be_discoverable() {
    let app = spawn_app().await;
    let grace = app.register("grace@example.com", "employer").await;
    let response =
        app.patch_authed("/api/v1/users/me", &grace.access, &json!({ "discoverable": true })).await;
    assert_error(response, 422, "validation_failed").await;
    let response =
        app.patch_authed("/api/v1/users/me", &grace.access, &json!({ "full_name": "" })).await;
    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn the_export_holds_the_account_sessions_emails_and_audit_trail_but_no_secrets() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    app.login("ada@example.com").await;
    let response = app.get_authed("/api/v1/users/me/export", &ada.access).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["user"]["email"], "ada@example.com");
    assert_eq!(export["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(export["emails"][0]["template"], "verify_email");
    let actions: Vec<&str> = export["audit_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"user.registered") && actions.contains(&"auth.login_succeeded"),
        "{actions:?}"
    );
    for secret in [
        "argon2",
        "password_hash",
        "token_hash",
        &ada.refresh,
        &app.token_sent_to("ada@example.com", "verify_email").await,
    ] {
        assert!(!text.contains(secret), "the export leaks {secret}");
    }
}

#[tokio::test]
async fn deleting_the_account_needs_the_password_and_removes_the_personal_data() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let wrong = app
        .delete_authed(
            "/api/v1/users/me",
            &ada.access,
            Some(&json!({ "password": "not it at all" })),
        )
        .await;
    assert_error(wrong, 422, "validation_failed").await;

    let response = app
        .delete_authed("/api/v1/users/me", &ada.access, Some(&json!({ "password": PASSWORD })))
        .await;
    assert_eq!(response.status(), 204);
    assert_error(app.get_me(&ada.access).await, 401, "unauthorized").await;
    assert_error(app.post_login("ada@example.com", PASSWORD).await, 401, "invalid_credentials")
        .await;
    assert!(app.emails_to("ada@example.com").await.is_empty());

    // What remains for the record names an id, never the address.
    let admin = app.admin("root@example.com").await;
    let log: Value = app
        .get_authed(&format!("/api/v1/admin/audit-log?target={}", ada.id), &admin.access)
        .await
        .json()
        .await
        .unwrap();
    let entries = log["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "user.deleted"));
    assert!(!log.to_string().contains("ada@example.com"), "{log}");

    // The address is free again.
    assert_eq!(app.post_register("ada@example.com", PASSWORD, "candidate").await.status(), 201);
}

#[tokio::test]
async fn the_only_owner_of_a_company_with_members_cannot_delete_the_account() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    let recruiter = app.join_company(&owner, "acme", "rec@example.com", "recruiter").await;

    let response = app
        .delete_authed("/api/v1/users/me", &owner.access, Some(&json!({ "password": PASSWORD })))
        .await;
    assert_error(response, 409, "last_owner").await;
    assert_eq!(app.get_me(&owner.access).await.status(), 200, "nothing was deleted");

    // A recruiter leaves with their account; a sole member takes their company along.
    let response = app
        .delete_authed(
            "/api/v1/users/me",
            &recruiter.access,
            Some(&json!({ "password": PASSWORD })),
        )
        .await;
    assert_eq!(response.status(), 204);
    let response = app
        .delete_authed("/api/v1/users/me", &owner.access, Some(&json!({ "password": PASSWORD })))
        .await;
    assert_eq!(response.status(), 204);
    assert_error(app.get("/api/v1/companies/acme").await, 404, "not_found").await;
}
