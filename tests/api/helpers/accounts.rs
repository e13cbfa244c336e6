//! Accounts for tests: registering, signing in, verifying, and making admins.

use serde_json::Value;

use super::TestApp;

impl TestApp {
    pub async fn post_register(
        &self,
        email: &str,
        password: &str,
        role: &str,
    ) -> reqwest::Response {
        let name = email.split('@').next().unwrap_or("someone");
        self.post_json(
            "/api/v1/auth/register",
            &serde_json::json!({ "email": email, "password": password, "full_name": name, "role": role }),
        )
        .await
    }

    pub async fn post_login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn post_refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post_json(
            "/api/v1/auth/refresh",
            &serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    pub async fn get_me(&self, access_token: &str) -> reqwest::Response {
        self.get_authed("/api/v1/users/me", access_token).await
    }

    /// Registers an account (status 201 asserted) and returns it signed in.
    pub async fn register(&self, email: &str, role: &str) -> Account {
        let response = self.post_register(email, PASSWORD, role).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "register {email}: {text}");
        Account::from_auth_body(serde_json::from_str(&text).unwrap())
    }

    /// Registers and verifies an account by the link in its email.
    pub async fn register_verified(&self, email: &str, role: &str) -> Account {
        let account = self.register(email, role).await;
        let token = self.token_sent_to(email, "verify_email").await;
        let response = self
            .post_json("/api/v1/auth/verify-email", &serde_json::json!({ "token": token }))
            .await;
        assert_eq!(response.status(), 200);
        account
    }

    /// An admin, made the only way admins are made (the CLI's service), then signed in.
    pub async fn admin(&self, email: &str) -> Account {
        jobportal::services::users::create_user(
            &self.db,
            jobportal::services::users::CreateUser {
                email,
                full_name: "Admin",
                role: jobportal::models::user::Role::Admin,
                password: PASSWORD,
                email_verified: true,
            },
        )
        .await
        .expect("admin created");
        self.login(email).await
    }

    pub async fn login(&self, email: &str) -> Account {
        let response = self.post_login(email, PASSWORD).await;
        assert_eq!(response.status(), 200, "login {email}");
        Account::from_auth_body(response.json().await.unwrap())
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "lighthouse keeper 42";

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl Account {
    pub fn from_auth_body(body: Value) -> Self {
        Account {
            id: body["user"]["id"].as_str().expect("user id").to_owned(),
            access: body["tokens"]["access_token"].as_str().expect("access token").to_owned(),
            refresh: body["tokens"]["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }
}
