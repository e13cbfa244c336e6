//! The HTML pages the links in account emails open: verification, password reset and
//! invitations, followed from the emails in the outbox through a real HTTP client.

use std::time::Duration;

use jobportal::core::config::ServeConfig;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

/// The link in the newest email of `template` to `to`, as the email's text carries it.
async fn link_sent_to(app: &TestApp, to: &str, template: &str) -> String {
    let emails = app.emails_to(to).await;
    let email = emails.iter().rev().find(|e| e.template == template).expect("the email was queued");
    let start = email.text.find("http").expect("a link in the email");
    email.text[start..].split_whitespace().next().unwrap().to_owned()
}

/// The path and query of a link under `base`, to request from the test server.
fn path_of(link: &str, base: &str) -> String {
    link.strip_prefix(base).unwrap_or_else(|| panic!("{link} is not under {base}")).to_owned()
}

/// `application/x-www-form-urlencoded`, as a browser encodes a form.
fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                b => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.post_raw(path, Some("application/x-www-form-urlencoded"), form_body(fields)).await
}

/// Asserts the status and the headers every page carries; returns the page.
async fn page(response: reqwest::Response, status: u16) -> String {
    let url = response.url().clone();
    assert_eq!(response.status(), status, "status of {url}");
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(header("content-type").starts_with("text/html"), "{url}: {headers:?}\n{text}");
    let policy = header("content-security-policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("form-action 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(!text.contains("<script"), "{text}");
    text
}

async fn me(app: &TestApp, access: &str) -> Value {
    app.get_me(access).await.json().await.unwrap()
}

#[tokio::test]
async fn the_verification_link_asks_first_then_verifies_once() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let link = link_sent_to(&app, "ada@example.com", "verify_email").await;
    let token = path_of(&link, "http://127.0.0.1:8080/verify-email?token=");
    let path = format!("/verify-email?token={token}");

    // Opening the link (as a mail scanner would) changes nothing.
    let asks = page(app.get(&path).await, 200).await;
    assert!(asks.contains("method=\"post\" action=\"/verify-email\""), "{asks}");
    assert!(asks.contains(&format!("name=\"token\" value=\"{token}\"")), "{asks}");
    assert_eq!(page(app.get(&path).await, 200).await, asks, "a second look is the same page");
    assert_eq!(me(&app, &ada.access).await["email_verified"], false);

    let done = page(post_form(&app, "/verify-email", &[("token", &token)]).await, 200).await;
    assert!(done.contains("ada@example.com is verified"), "{done}");
    assert_eq!(me(&app, &ada.access).await["email_verified"], true);

    // Used: said in words, on the POST and on the link.
    let again = page(post_form(&app, "/verify-email", &[("token", &token)]).await, 410).await;
    assert!(again.contains("already used"), "{again}");
    let reopened = page(app.get(&path).await, 410).await;
    assert!(reopened.contains("already used"), "{reopened}");

    // Unknown, cut short, missing: not valid, and the token typed is not echoed.
    let forged = page(app.get("/verify-email?token=%22%3E%3Cscript%3Ex").await, 400).await;
    assert!(forged.contains("not valid") && forged.contains("ask for a new"), "{forged}");
    assert!(!forged.contains("script"), "{forged}");
    page(app.get("/verify-email").await, 400).await;
    page(post_form(&app, "/verify-email", &[("token", "forged")]).await, 400).await;
    let empty = page(post_form(&app, "/verify-email", &[]).await, 400).await;
    assert!(empty.contains("not valid"), "{empty}");
    // A body that is not the page's form is said on a page too.
    let json = app.post_json("/verify-email", &json!({ "token": token })).await;
    page(json, 400).await;
}

#[tokio::test]
async fn an_expired_verification_link_says_so_and_verifies_nothing() {
    let mut config = ServeConfig::default();
    config.auth.verify_email_ttl = Duration::from_millis(1);
    let app = spawn_app_with(config).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let token = app.token_sent_to("ada@example.com", "verify_email").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let opened = page(app.get(&format!("/verify-email?token={token}")).await, 410).await;
    assert!(opened.contains("expired") && opened.contains("Sign in and ask for a new"), "{opened}");
    let posted = page(post_form(&app, "/verify-email", &[("token", &token)]).await, 410).await;
    assert!(posted.contains("expired"), "{posted}");
    assert_eq!(me(&app, &ada.access).await["email_verified"], false);
}

#[tokio::test]
async fn the_reset_link_opens_a_form_that_sets_the_password_by_the_api_rules() {
    let app = spawn_app().await;
    app.register("ada@example.com", "candidate").await;
    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "ada@example.com" })).await;
    assert_eq!(response.status(), 202);
    let link = link_sent_to(&app, "ada@example.com", "reset_password").await;
    let token = path_of(&link, "http://127.0.0.1:8080/reset-password?token=");
    let path = format!("/reset-password?token={token}");

    let form = page(app.get(&path).await, 200).await;
    assert!(form.contains("action=\"/reset-password\""), "{form}");
    assert_eq!(form.matches("type=\"password\"").count(), 2, "{form}");

    // A weak password: the rule in words on the form again, never the password itself.
    let weak = "abc12";
    let fields = [("token", token.as_str()), ("password", weak), ("confirmation", weak)];
    let refused = page(post_form(&app, "/reset-password", &fields).await, 422).await;
    assert!(refused.contains("at least 8 characters long"), "{refused}");
    assert!(!refused.contains(weak), "{refused}");
    assert_eq!(refused.matches("type=\"password\"").count(), 2, "the form is shown again");

    // Two different passwords.
    let (first, second) = ("violet harbour 31", "violet harbour 32");
    let fields = [("token", token.as_str()), ("password", first), ("confirmation", second)];
    let differ = page(post_form(&app, "/reset-password", &fields).await, 422).await;
    assert!(differ.contains("The two passwords differ"), "{differ}");
    assert!(!differ.contains(first) && !differ.contains(second), "{differ}");

    // Neither refusal used up the link or changed the password.
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 200);
    page(app.get(&path).await, 200).await;

    let fields = [("token", token.as_str()), ("password", first), ("confirmation", first)];
    let done = page(post_form(&app, "/reset-password", &fields).await, 200).await;
    assert!(done.contains("Your password is changed"), "{done}");
    assert_eq!(app.post_login("ada@example.com", PASSWORD).await.status(), 401);
    assert_eq!(app.post_login("ada@example.com", first).await.status(), 200);

    let again = page(post_form(&app, "/reset-password", &fields).await, 410).await;
    assert!(again.contains("already used"), "{again}");
    let reopened = page(app.get(&path).await, 410).await;
    assert!(reopened.contains("already used") && reopened.contains("new password reset email"));
    page(app.get("/reset-password?token=forged").await, 400).await;

    // The password-changed email links to the page that asks for a new reset link.
    let link = link_sent_to(&app, "ada@example.com", "password_changed").await;
    assert_eq!(link, "http://127.0.0.1:8080/forgot-password");
    let asks = page(app.get("/forgot-password").await, 200).await;
    assert!(asks.contains("action=\"/forgot-password\"") && asks.contains("name=\"email\""));
    let resets = || async {
        let emails = app.emails_to("ada@example.com").await;
        emails.iter().filter(|e| e.template == "reset_password").count()
    };
    let before = resets().await;
    let sent =
        page(post_form(&app, "/forgot-password", &[("email", "ADA@example.com")]).await, 200).await;
    assert!(sent.contains("If an account has this address"), "{sent}");
    assert_eq!(resets().await, before + 1, "a new reset email is queued");
    let unknown =
        page(post_form(&app, "/forgot-password", &[("email", "nobody@example.com")]).await, 200)
            .await;
    assert_eq!(unknown, sent, "an unknown address gets the same page");
    let bad =
        page(post_form(&app, "/forgot-password", &[("email", "<b>not an address")]).await, 422)
            .await;
    assert!(bad.contains("not an email address") && !bad.contains("<b>"), "{bad}");
}

#[tokio::test]
async fn the_invitation_link_opens_a_page_that_says_how_to_accept_it() {
    let app = spawn_app().await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let invite = json!({ "email": "rec@example.com", "role": "recruiter" });
    let response = app.post_authed("/api/v1/companies/acme/invites", &owner.access, &invite).await;
    assert_eq!(response.status(), 201);
    let link = link_sent_to(&app, "rec@example.com", "company_invite").await;
    let token = path_of(&link, "http://127.0.0.1:8080/accept-invite?token=");
    let path = format!("/accept-invite?token={token}");

    let open = page(app.get(&path).await, 200).await;
    assert!(open.contains("This invitation is open") && open.contains(&token), "{open}");

    let rec = app.register("rec@example.com", "employer").await;
    app.accept_invite(&rec, &token).await;
    let used = page(app.get(&path).await, 410).await;
    assert!(used.contains("already accepted"), "{used}");
    assert!(!used.contains(&token), "{used}");
}

#[tokio::test]
async fn with_an_app_url_the_emails_link_to_the_sites_own_pages() {
    let config = ServeConfig { app_url: Some("https://app.example".into()), ..Default::default() };
    let app = spawn_app_with(config).await;
    app.register("ada@example.com", "candidate").await;
    let link = link_sent_to(&app, "ada@example.com", "verify_email").await;
    let token = path_of(&link, "https://app.example/verify-email?token=");
    // The built-in page still works for the same token.
    page(app.get(&format!("/verify-email?token={token}")).await, 200).await;

    let response =
        app.post_json("/api/v1/auth/forgot-password", &json!({ "email": "ada@example.com" })).await;
    assert_eq!(response.status(), 202);
    let link = link_sent_to(&app, "ada@example.com", "reset_password").await;
    let token = path_of(&link, "https://app.example/reset-password?token=");
    let fields = [
        ("token", token.as_str()),
        ("password", "violet harbour 31"),
        ("confirmation", "violet harbour 31"),
    ];
    page(post_form(&app, "/reset-password", &fields).await, 200).await;
    let link = link_sent_to(&app, "ada@example.com", "password_changed").await;
    assert_eq!(link, "https://app.example/forgot-password");

    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let invite = json!({ "email": "rec@example.com", "role": "recruiter" });
    let response = app.post_authed("/api/v1/companies/acme/invites", &owner.access, &invite).await;
    assert_eq!(response.status(), 201);
    let link = link_sent_to(&app, "rec@example.com", "company_invite").await;
    path_of(&link, "https://app.example/accept-invite?token=");
}

#[tokio::test]
async fn the_pages_are_in_the_openapi_document_as_html() {
    let app = spawn_app().await;
    let doc = app.get_openapi().await;
    for (path, method) in [
        ("/verify-email", "get"),
        ("/verify-email", "post"),
        ("/reset-password", "get"),
        ("/reset-password", "post"),
        ("/accept-invite", "get"),
        ("/forgot-password", "get"),
        ("/forgot-password", "post"),
    ] {
        let operation = &doc["paths"][path][method];
        assert_eq!(operation["tags"], json!(["pages"]), "{method} {path}");
        assert!(
            operation["responses"]["200"]["content"]["text/html"].is_object(),
            "{method} {path}"
        );
    }
    let form = &doc["paths"]["/reset-password"]["post"]["requestBody"]["content"];
    assert!(form["application/x-www-form-urlencoded"].is_object(), "{form}");
    assert!(
        doc["paths"]["/reset-password"]["post"]["responses"]["422"]["content"]["text/html"]
            .is_object()
    );
}
