//! Version 1 of the API, mounted at `/api/v1`: one module per resource.

pub mod admin;
pub mod applications;
pub mod assistant;
pub mod auth;
pub mod companies;
pub mod jobs;
pub mod recommendations;
pub mod resumes;
pub mod saved;
pub mod suggestions;
pub mod users;

use super::routes::Routes;

pub fn router() -> Routes {
    Routes::new()
        .nest("/auth", auth::router())
        .nest("/users", users::router())
        .nest("/companies", companies::router())
        .nest(
            "/jobs",
            jobs::router()
                .merge(applications::job_routes())
                .merge(recommendations::job_routes())
                .merge(suggestions::job_routes()),
        )
        .nest("/applications", applications::router())
        .nest("/resumes", resumes::router())
        .nest("/recommendations", recommendations::router())
        .nest("/saved-jobs", saved::jobs_router())
        .nest("/saved-searches", saved::searches_router())
        .nest("/admin", admin::router())
        .nest("/assistant", assistant::router())
        .merge(suggestions::router())
}
