//! The authorization matrix: who may see and change what, and that nobody learns more than
//! they may (404 for what one may not see, 403 for what one may see but not change).

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, assert_error, spawn_app};

struct World {
    candidate_a: Account,
    candidate_b: Account,
    owner_x: Account,
    recruiter_x: Account,
    owner_y: Account,
    admin: Account,
}

async fn world(app: &TestApp) -> World {
    let candidate_a = app.register("a@example.com", "candidate").await;
    let candidate_b = app.register("b@example.com", "candidate").await;
    let owner_x = app.company_owner("owner-x@example.com", "X Corp").await;
    let owner_y = app.company_owner("owner-y@example.com", "Y Corp").await;
    let recruiter_x = app.join_company(&owner_x, "x-corp", "rec-x@example.com", "recruiter").await;
    let admin = app.admin("admin@example.com").await;
    World { candidate_a, candidate_b, owner_x, recruiter_x, owner_y, admin }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    who: &Account,
    body: Value,
) -> reqwest::Response {
    app.authed(method, path, &who.access).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn each_caller_sees_only_their_own_account() {
    let app = spawn_app().await;
    let w = world(&app).await;
    for (who, email) in [
        (&w.candidate_a, "a@example.com"),
        (&w.candidate_b, "b@example.com"),
        (&w.owner_x, "owner-x@example.com"),
    ] {
        let me: Value = app.get_me(&who.access).await.json().await.unwrap();
        assert_eq!(me["email"], email);
    }
    // No endpoint takes another user's id, except the admin ones.
    for who in [&w.candidate_a, &w.owner_x, &w.recruiter_x] {
        let path = format!("/api/v1/admin/users/{}/disable", w.candidate_b.id);
        assert_error(call(&app, Method::POST, &path, who, json!({})).await, 403, "forbidden").await;
        assert_error(app.get_authed("/api/v1/admin/users", &who.access).await, 403, "forbidden")
            .await;
        assert_error(
            app.get_authed("/api/v1/admin/audit-log", &who.access).await,
            403,
            "forbidden",
        )
        .await;
    }
}

#[tokio::test]
async fn members_of_another_company_and_candidates_cannot_see_its_members() {
    let app = spawn_app().await;
    let w = world(&app).await;
    for who in [&w.owner_y, &w.candidate_a] {
        let response = app.get_authed("/api/v1/companies/x-corp/members", &who.access).await;
        let text = response.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert!(!text.contains("owner-x@example.com") && !text.contains("rec-x"), "{text}");
    }
    for who in [&w.owner_x, &w.recruiter_x, &w.admin] {
        assert_eq!(
            app.get_authed("/api/v1/companies/x-corp/members", &who.access).await.status(),
            200
        );
    }
}

#[tokio::test]
async fn only_owners_and_admins_change_a_company_and_only_owners_manage_members() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let patch = json!({ "description": "changed" });
    for who in [&w.recruiter_x, &w.owner_y, &w.candidate_a] {
        assert_error(
            call(&app, Method::PATCH, "/api/v1/companies/x-corp", who, patch.clone()).await,
            403,
            "forbidden",
        )
        .await;
        let invite = json!({ "email": "z@example.com", "role": "recruiter" });
        assert_error(
            call(&app, Method::POST, "/api/v1/companies/x-corp/invites", who, invite).await,
            403,
            "forbidden",
        )
        .await;
        let transfer = json!({ "user_id": who.id });
        assert_error(
            call(&app, Method::POST, "/api/v1/companies/x-corp/transfer-ownership", who, transfer)
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    // Removing someone else: recruiter and outsiders are refused, the owner is not.
    let path = format!("/api/v1/companies/x-corp/members/{}", w.recruiter_x.id);
    assert_error(
        call(&app, Method::DELETE, &path, &w.owner_y, json!(null)).await,
        403,
        "forbidden",
    )
    .await;
    let owner_path = format!("/api/v1/companies/x-corp/members/{}", w.owner_x.id);
    assert_error(
        call(&app, Method::DELETE, &owner_path, &w.recruiter_x, json!(null)).await,
        403,
        "forbidden",
    )
    .await;

    assert_eq!(
        call(&app, Method::PATCH, "/api/v1/companies/x-corp", &w.owner_x, patch.clone())
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&app, Method::PATCH, "/api/v1/companies/x-corp", &w.admin, patch).await.status(),
        200
    );
    assert_eq!(app.delete_authed(&path, &w.owner_x.access, None).await.status(), 204);
}

#[tokio::test]
async fn only_admins_verify_companies() {
    let app = spawn_app().await;
    let w = world(&app).await;
    for who in [&w.owner_x, &w.candidate_a] {
        assert_error(
            call(&app, Method::POST, "/api/v1/admin/companies/x-corp/verify", who, json!({})).await,
            403,
            "forbidden",
        )
        .await;
    }
    let response =
        call(&app, Method::POST, "/api/v1/admin/companies/x-corp/verify", &w.admin, json!({}))
            .await;
    assert_eq!(response.status(), 200);
    let company: Value = app.get("/api/v1/companies/x-corp").await.json().await.unwrap();
    assert_eq!(company["verified"], true);
    let response =
        call(&app, Method::POST, "/api/v1/admin/companies/x-corp/unverify", &w.admin, json!({}))
            .await;
    assert_eq!(response.json::<Value>().await.unwrap()["verified"], false);
    assert_error(
        call(&app, Method::POST, "/api/v1/admin/companies/nope/verify", &w.admin, json!({})).await,
        404,
        "not_found",
    )
    .await;
}
