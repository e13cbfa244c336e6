//! A router that lists the paths it serves. axum cannot list a router's routes, so the API is
//! built with [`Routes`], and a test checks every served operation against the OpenAPI
//! document (and every documented one against the router).

use axum::Router;
use axum::routing::MethodRouter;

use super::AppState;

/// An axum router and the paths of its routes (in axum's syntax, `{id}` for a parameter, which
/// is also OpenAPI's). Built like a `Router`: `route`, `nest`, `merge`.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    paths: Vec<String>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `path` with the handlers of `methods`.
    pub fn route(mut self, path: &str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path.to_owned());
        self
    }

    /// Serves `routes` under `prefix` (their `/` is `prefix` itself, as axum nests it).
    pub fn nest(mut self, prefix: &str, routes: Routes) -> Self {
        self.router = self.router.nest(prefix, routes.router);
        self.paths.extend(
            routes.paths.into_iter().map(|path| {
                if path == "/" { prefix.to_owned() } else { format!("{prefix}{path}") }
            }),
        );
        self
    }

    /// Serves `routes` beside these.
    pub fn merge(mut self, routes: Routes) -> Self {
        self.router = self.router.merge(routes.router);
        self.paths.extend(routes.paths);
        self
    }

    /// Every path served, each once per `route` call that added it.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
