//! Companies: creation, profile, invitations, members and ownership.

use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_verified_employer_creates_a_company_and_owns_it() {
    let app = spawn_app().await;
    let grace = app.register_verified("grace@example.com", "employer").await;
    let response = app.post_authed("/api/v1/companies", &grace.access, &json!({
        "name": "Acme Robotics & Co", "website": "https://acme.example", "size": "11-50", "location": "Lisbon"
    })).await;
    assert_eq!(response.status(), 201);
    let company: Value = response.json().await.unwrap();
    assert_eq!(company["slug"], "acme-robotics-co");
    assert_eq!(company["verified"], false);

    let me: Value = app.get_me(&grace.access).await.json().await.unwrap();
    assert_eq!(
        me["companies"],
        json!([{ "slug": "acme-robotics-co", "name": "Acme Robotics & Co", "role": "owner", "verified": false }])
    );

    let public: Value = app.get("/api/v1/companies/acme-robotics-co").await.json().await.unwrap();
    assert_eq!(public["location"], "Lisbon");
    assert_error(app.get("/api/v1/companies/nope").await, 404, "not_found").await;
}

#[tokio::test]
async fn creating_a_company_needs_a_verified_employer_and_a_free_valid_slug() {
    let app = spawn_app().await;
    let unverified = app.register("new@example.com", "employer").await;
    let response =
        app.post_authed("/api/v1/companies", &unverified.access, &json!({ "name": "Acme" })).await;
    assert_error(response, 403, "email_not_verified").await;

    let candidate = app.register_verified("cand@example.com", "candidate").await;
    let response =
        app.post_authed("/api/v1/companies", &candidate.access, &json!({ "name": "Acme" })).await;
    assert_error(response, 403, "forbidden").await;

    let grace = app.company_owner("grace@example.com", "Acme").await;
    let again =
        app.post_authed("/api/v1/companies", &grace.access, &json!({ "name": "ACME" })).await;
    assert_error(again, 409, "slug_taken").await;
    for bad in [
        json!({ "name": "X", "slug": "Bad Slug" }),
        json!({ "name": "" }),
        json!({ "name": "X", "website": "javascript:alert(1)" }),
        json!({ "name": "X", "size": "huge" }),
        json!({ "name": "X", "verified": true }),
    ] {
        assert_error(
            app.post_authed("/api/v1/companies", &grace.access, &bad).await,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn an_invitation_by_email_makes_a_member_once() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    let response = app
        .post_authed(
            "/api/v1/companies/acme/invites",
            &owner.access,
            &json!({ "email": "Rec@Example.com", "role": "recruiter" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let email = &app.emails_to("rec@example.com").await[0];
    assert_eq!(email.template, "company_invite");
    assert!(email.subject.contains("Acme"), "{}", email.subject);
    let token = app.token_sent_to("rec@example.com", "company_invite").await;

    // Somebody else cannot use it, and using it wrongly does not burn it.
    let stranger = app.register("stranger@example.com", "employer").await;
    let response = app
        .post_authed(
            "/api/v1/companies/invites/accept",
            &stranger.access,
            &json!({ "token": token }),
        )
        .await;
    assert_error(response, 403, "forbidden").await;

    let rec = app.register("rec@example.com", "employer").await;
    let response = app
        .post_authed("/api/v1/companies/invites/accept", &rec.access, &json!({ "token": token }))
        .await;
    assert_eq!(response.status(), 200);
    let joined: Value = response.json().await.unwrap();
    assert_eq!(joined["role"], "recruiter");
    assert_eq!(joined["company"]["slug"], "acme");
    // Accepting proved the address.
    let me: Value = app.get_me(&rec.access).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);

    let again = app
        .post_authed("/api/v1/companies/invites/accept", &rec.access, &json!({ "token": token }))
        .await;
    assert_error(again, 400, "invalid_token").await;

    let members: Value =
        app.get_authed("/api/v1/companies/acme/members", &owner.access).await.json().await.unwrap();
    let roles: Vec<(&str, &str)> = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("owner@example.com", "owner"), ("rec@example.com", "recruiter")]);
    assert_eq!(members["invites"], json!([]));

    let dup = app
        .post_authed(
            "/api/v1/companies/acme/invites",
            &owner.access,
            &json!({ "email": "rec@example.com", "role": "owner" }),
        )
        .await;
    assert_error(dup, 409, "already_member").await;
}

#[tokio::test]
async fn a_candidate_cannot_join_a_company() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    app.post_authed(
        "/api/v1/companies/acme/invites",
        &owner.access,
        &json!({ "email": "cand@example.com", "role": "recruiter" }),
    )
    .await;
    let candidate = app.register("cand@example.com", "candidate").await;
    let token = app.token_sent_to("cand@example.com", "company_invite").await;
    let response = app
        .post_authed(
            "/api/v1/companies/invites/accept",
            &candidate.access,
            &json!({ "token": token }),
        )
        .await;
    assert_error(response, 403, "forbidden").await;
}

#[tokio::test]
async fn ownership_moves_and_the_last_owner_stays() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    let rec = app.join_company(&owner, "acme", "rec@example.com", "recruiter").await;

    let leave = app
        .delete_authed(&format!("/api/v1/companies/acme/members/{}", owner.id), &owner.access, None)
        .await;
    assert_error(leave, 409, "last_owner").await;

    let response = app
        .post_authed(
            "/api/v1/companies/acme/transfer-ownership",
            &owner.access,
            &json!({ "user_id": rec.id }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let members: Vec<Value> = response.json().await.unwrap();
    let role_of = |id: &str| members.iter().find(|m| m["user_id"] == id).unwrap()["role"].clone();
    assert_eq!(role_of(&rec.id), "owner");
    assert_eq!(role_of(&owner.id), "recruiter");

    // The former owner is a recruiter now: no more invitations, but leaving is allowed.
    let invite = app
        .post_authed(
            "/api/v1/companies/acme/invites",
            &owner.access,
            &json!({ "email": "x@example.com", "role": "recruiter" }),
        )
        .await;
    assert_error(invite, 403, "forbidden").await;
    let leave = app
        .delete_authed(&format!("/api/v1/companies/acme/members/{}", owner.id), &owner.access, None)
        .await;
    assert_eq!(leave.status(), 204);
    assert_error(
        app.get_authed("/api/v1/companies/acme/members", &owner.access).await,
        404,
        "not_found",
    )
    .await;

    let unknown = app
        .post_authed(
            "/api/v1/companies/acme/transfer-ownership",
            &rec.access,
            &json!({ "user_id": owner.id }),
        )
        .await;
    assert_error(unknown, 404, "not_found").await;
}

#[tokio::test]
async fn owners_edit_the_profile_but_not_the_slug() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    let response = app
        .patch_authed(
            "/api/v1/companies/acme",
            &owner.access,
            &json!({ "description": "We build robots.", "website": "https://acme.example" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response =
        app.patch_authed("/api/v1/companies/acme", &owner.access, &json!({ "website": "" })).await;
    let company: Value = response.json().await.unwrap();
    assert_eq!(company["website"], Value::Null, "an empty string clears a field");
    assert_eq!(company["description"], "We build robots.", "absent fields stay");
    let response = app
        .patch_authed("/api/v1/companies/acme", &owner.access, &json!({ "slug": "other" }))
        .await;
    assert_error(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn empty_optional_fields_on_creation_mean_absent() {
    let app = spawn_app().await;
    let owner = app.register_verified("owner@example.com", "employer").await;
    let response = app
        .post_authed(
            "/api/v1/companies",
            &owner.access,
            &json!({
                "name": "Acme", "size": "", "website": "", "description": null
            }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let company: Value = response.json().await.unwrap();
    assert_eq!(company["size"], Value::Null);
    assert_eq!(company["website"], Value::Null);
}

#[tokio::test]
async fn ids_that_cannot_exist_are_not_found() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@example.com", "Acme").await;
    for id in ["", " ", "user:other", "0", &"9".repeat(300)] {
        let response = app
            .post_authed(
                "/api/v1/companies/acme/transfer-ownership",
                &owner.access,
                &json!({ "user_id": id }),
            )
            .await;
        assert_error(response, 404, "not_found").await;
    }
    let response =
        app.delete_authed("/api/v1/companies/acme/members/not-a-uuid", &owner.access, None).await;
    assert_error(response, 404, "not_found").await;
    let admin = app.admin("root@example.com").await;
    let response =
        app.post_authed("/api/v1/admin/users/%20/disable", &admin.access, &json!({})).await;
    assert_error(response, 404, "not_found").await;
}
