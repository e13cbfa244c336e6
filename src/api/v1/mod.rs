//! Version 1 of the API, mounted at `/api/v1`: one module per resource.

pub mod admin;
pub mod auth;
pub mod companies;
pub mod jobs;
pub mod users;

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router())
        .nest("/users", users::router())
        .nest("/companies", companies::router())
        .nest("/jobs", jobs::router())
        .nest("/admin", admin::router())
}
