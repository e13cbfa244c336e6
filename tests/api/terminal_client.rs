//! The terminal app's HTTP client (`jobportal::tui::client::Client`) against the real server:
//! signing out ends the session on the server, and calls that find their access token expired
//! at the same moment renew it once, without the server taking the second renewal for a stolen
//! refresh token.

use std::time::Duration;

use jobportal::core::config::{AuthConfig, ServeConfig};
use jobportal::tui::client::Client;
use jobportal::tui::session::SessionStore;

use crate::helpers::{PASSWORD, TestApp, assert_error, spawn_app, spawn_app_with};

/// A client of `app` keeping its session in `dir`, as `jobportal assistant` does.
fn client(app: &TestApp, dir: &tempfile::TempDir) -> (Client, SessionStore) {
    let store = SessionStore::at(dir.path().join("jobportal/session.json"));
    let client = Client::new(&app.url(""), Some(store.clone())).expect("a client");
    (client, store)
}

/// The reasons the user's sessions ended, oldest session first (`None`: still open). The first
/// is the registration's, which stays open: the app signs in a session of its own.
async fn revoked_reasons(app: &TestApp, user_id: &str) -> Vec<Option<String>> {
    let sessions =
        jobportal::repositories::sessions::list_for_user(&app.db, user_id).await.unwrap();
    sessions.into_iter().map(|s| s.revoked_reason).collect()
}

#[tokio::test]
async fn signing_out_after_signing_in_ends_the_session_on_the_server_and_forgets_it() {
    let app = spawn_app().await;
    app.register("ada@example.com", "candidate").await;
    let dir = tempfile::tempdir().unwrap();
    let (client, store) = client(&app, &dir);
    let user = client.login("ada@example.com", PASSWORD).await.unwrap();
    let kept = store.load(client.server()).expect("the session is kept");

    client.logout().await.unwrap().unwrap();

    assert_eq!(store.load(client.server()), None, "the kept session is forgotten");
    // Never used, so refused because its session ended (not as a reused token).
    assert_error(app.post_refresh(&kept).await, 401, "invalid_refresh_token").await;
    assert_eq!(revoked_reasons(&app, &user.id).await, vec![None, Some("logout".to_owned())]);
}

#[tokio::test]
async fn logout_from_a_kept_session_renews_it_then_ends_it_on_the_server() {
    let app = spawn_app().await;
    app.register("ada@example.com", "candidate").await;
    let dir = tempfile::tempdir().unwrap();
    let (first, store) = client(&app, &dir);
    let user = first.login("ada@example.com", PASSWORD).await.unwrap();
    let kept = store.load(first.server()).expect("the session is kept");

    // `jobportal assistant --logout` is a new process: only the file knows the session.
    let (client, _) = client(&app, &dir);
    client.logout().await.unwrap().unwrap();

    assert_eq!(store.load(client.server()), None, "the kept session is forgotten");
    assert_eq!(
        revoked_reasons(&app, &user.id).await,
        vec![None, Some("logout".to_owned())],
        "ended by the logout, not as a stolen token"
    );
    assert_eq!(app.post_refresh(&kept).await.status(), 401);
    // Nothing kept: signing out again has nothing to end and is no error.
    client.logout().await.unwrap().unwrap();
}

#[tokio::test]
async fn calls_that_find_the_access_token_expired_together_renew_it_once_and_all_succeed() {
    let config = ServeConfig {
        auth: AuthConfig { access_token_ttl: Duration::from_secs(1), ..AuthConfig::default() },
        ..ServeConfig::default()
    };
    let app = spawn_app_with(config).await;
    app.register("ada@example.com", "candidate").await;
    let dir = tempfile::tempdir().unwrap();
    let (client, store) = client(&app, &dir);
    let user = client.login("ada@example.com", PASSWORD).await.unwrap();

    for round in 0..2 {
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let calls = (0..6).map(|_| client.applications());
        for result in futures_util::future::join_all(calls).await {
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
    }

    assert_eq!(revoked_reasons(&app, &user.id).await, vec![None, None], "no session was ended");
    let kept = store.load(client.server()).expect("the renewed session is kept");
    assert_eq!(app.post_refresh(&kept).await.status(), 200, "the newest refresh token works");
}
