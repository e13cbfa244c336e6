//! Version 1 of the API, mounted at `/api/v1`. Each resource gets a module here as it arrives.

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
