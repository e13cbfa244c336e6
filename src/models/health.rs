//! Readiness: each check's verdict and where each local model stands.

/// One check's verdict.
#[derive(Debug, Clone)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone)]
pub struct Readiness {
    pub database: Check,
    pub migrations: Check,
    pub workers: Check,
    pub scheduler: Check,
    pub models: Vec<ModelReport>,
}

/// Where one local model stands.
#[derive(Debug, Clone)]
pub struct ModelReport {
    pub name: &'static str,
    pub state: &'static str,
    pub detail: String,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.database.ok && self.migrations.ok && self.workers.ok && self.scheduler.ok
    }
}
