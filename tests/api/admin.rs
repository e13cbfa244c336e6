//! Admin endpoints: the user list, disabling, and the audit log.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn admins_list_users_with_filters_and_pages() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.register(&format!("cand{i}@example.com"), "candidate").await;
    }
    app.register("boss@example.com", "employer").await;
    let admin = app.admin("root@example.com").await;

    let all: Value =
        app.get_authed("/api/v1/admin/users", &admin.access).await.json().await.unwrap();
    assert_eq!(all["total"], 5);
    let candidates: Value = app
        .get_authed("/api/v1/admin/users?role=candidate&limit=2", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(candidates["total"], 3);
    assert_eq!(candidates["items"].as_array().unwrap().len(), 2);
    let rest: Value = app
        .get_authed("/api/v1/admin/users?role=candidate&limit=2&offset=2", &admin.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let found: Value =
        app.get_authed("/api/v1/admin/users?q=BOSS", &admin.access).await.json().await.unwrap();
    assert_eq!(found["items"][0]["email"], "boss@example.com");

    assert_error(
        app.get_authed("/api/v1/admin/users?limit=0", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/admin/users?limit=1000", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/admin/users?role=root", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/admin/users?disabled=maybe", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
}

#[tokio::test]
async fn an_admin_cannot_disable_themselves() {
    let app = spawn_app().await;
    let admin = app.admin("root@example.com").await;
    let response = app
        .post_authed(
            &format!("/api/v1/admin/users/{}/disable", admin.id),
            &admin.access,
            &json!({}),
        )
        .await;
    assert_error(response, 422, "validation_failed").await;
    let response = app
        .post_authed("/api/v1/admin/users/no-such-user/disable", &admin.access, &json!({}))
        .await;
    assert_error(response, 404, "not_found").await;
}

#[tokio::test]
async fn security_events_land_in_the_audit_log_filterable_by_action_and_actor() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    app.post_login("ada@example.com", "wrong password!").await;
    app.post_login("ghost@example.com", "wrong password!").await;
    app.login("ada@example.com").await;
    let rotated: Value = app.post_refresh(&ada.refresh).await.json().await.unwrap();
    assert!(rotated["refresh_token"].is_string());
    app.post_refresh(&ada.refresh).await; // reuse
    let admin = app.admin("root@example.com").await;
    app.disable_user(&admin, &ada.id).await;

    let log = |query: &'static str| {
        let app = &app;
        let token = admin.access.clone();
        async move {
            let response = app.get_authed(&format!("/api/v1/admin/audit-log{query}"), &token).await;
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let failed = log("?action=auth.login_failed").await;
    assert_eq!(failed["total"], 2);
    let reasons: Vec<&str> = failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"wrong_password") && reasons.contains(&"unknown_account"),
        "{reasons:?}"
    );
    assert!(failed["items"].as_array().unwrap().iter().all(|e| e["ip"] == "127.0.0.1"));
    // No address is recorded, not even the unknown one that was tried.
    assert!(!failed.to_string().contains("ghost@example.com"));

    assert_eq!(log("?action=auth.refresh_reuse_detected").await["total"], 1);
    assert_eq!(log("?action=auth.login_succeeded").await["total"], 2);
    let disabled = log("?action=admin.user_disabled").await;
    assert_eq!(disabled["items"][0]["actor"], admin.id);
    assert_eq!(disabled["items"][0]["target"], ada.id);

    let by_ada = app
        .get_authed(&format!("/api/v1/admin/audit-log?actor={}&limit=2", ada.id), &admin.access)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(by_ada["items"].as_array().unwrap().len(), 2);
    assert!(by_ada["total"].as_u64().unwrap() >= 4);

    let future = log("?since=2999-01-01T00:00:00Z").await;
    assert_eq!(future["total"], 0);
    assert_error(
        app.get_authed("/api/v1/admin/audit-log?action=made.up", &admin.access).await,
        422,
        "validation_failed",
    )
    .await;
    assert_error(
        app.get_authed("/api/v1/admin/audit-log?since=yesterday", &admin.access).await,
        400,
        "invalid_parameter",
    )
    .await;
}
