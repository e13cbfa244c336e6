//! The names of the `JOBPORTAL_*` environment variables, which other tools and scripts rely on.

pub const DATA_DIR: &str = "JOBPORTAL_DATA_DIR";
pub const MODELS_DIR: &str = "JOBPORTAL_MODELS_DIR";
pub const LLM_MODEL: &str = "JOBPORTAL_LLM_MODEL";
pub const DB_URL: &str = "JOBPORTAL_DB_URL";
pub const DB_NAMESPACE: &str = "JOBPORTAL_DB_NAMESPACE";
pub const DB_DATABASE: &str = "JOBPORTAL_DB_DATABASE";
pub const DB_USER: &str = "JOBPORTAL_DB_USER";
pub const DB_PASSWORD: &str = "JOBPORTAL_DB_PASSWORD";
pub const LOG_FORMAT: &str = "JOBPORTAL_LOG_FORMAT";
pub const LOG: &str = "JOBPORTAL_LOG";
pub const ADDR: &str = "JOBPORTAL_ADDR";
pub const JWT_SECRET: &str = "JOBPORTAL_JWT_SECRET";
pub const BODY_LIMIT: &str = "JOBPORTAL_BODY_LIMIT";
pub const REQUEST_TIMEOUT: &str = "JOBPORTAL_REQUEST_TIMEOUT";
pub const SHUTDOWN_TIMEOUT: &str = "JOBPORTAL_SHUTDOWN_TIMEOUT";
pub const CORS_ORIGINS: &str = "JOBPORTAL_CORS_ORIGINS";
pub const PASSWORD: &str = "JOBPORTAL_PASSWORD";
pub const PUBLIC_URL: &str = "JOBPORTAL_PUBLIC_URL";
pub const APP_URL: &str = "JOBPORTAL_APP_URL";
pub const TRUSTED_PROXY_HEADER: &str = "JOBPORTAL_TRUSTED_PROXY_HEADER";
pub const ACCESS_TOKEN_TTL: &str = "JOBPORTAL_ACCESS_TOKEN_TTL";
pub const REFRESH_TOKEN_TTL: &str = "JOBPORTAL_REFRESH_TOKEN_TTL";
pub const SESSION_MAX_AGE: &str = "JOBPORTAL_SESSION_MAX_AGE";
pub const RATE_LIMIT_AUTH_PER_IP: &str = "JOBPORTAL_RATE_LIMIT_AUTH_PER_IP";
pub const RATE_LIMIT_LOGIN_FAILURES: &str = "JOBPORTAL_RATE_LIMIT_LOGIN_FAILURES";
pub const RATE_LIMIT_EMAILS_PER_ACCOUNT: &str = "JOBPORTAL_RATE_LIMIT_EMAILS_PER_ACCOUNT";
pub const PASSWORD_HASH_CONCURRENCY: &str = "JOBPORTAL_PASSWORD_HASH_CONCURRENCY";
pub const RUN_WORKERS: &str = "JOBPORTAL_RUN_WORKERS";
pub const MODERATE_UNVERIFIED: &str = "JOBPORTAL_MODERATE_UNVERIFIED";
pub const RESUME_MAX_SIZE: &str = "JOBPORTAL_RESUME_MAX_SIZE";
pub const QUEUE_CONCURRENCY: &str = "JOBPORTAL_QUEUE_CONCURRENCY";
pub const TASK_LEASE: &str = "JOBPORTAL_TASK_LEASE";
pub const TASK_POLL_INTERVAL: &str = "JOBPORTAL_TASK_POLL_INTERVAL";
pub const TASK_BACKOFF: &str = "JOBPORTAL_TASK_BACKOFF";
pub const TASK_BACKOFF_MAX: &str = "JOBPORTAL_TASK_BACKOFF_MAX";
pub const SMTP_URL: &str = "JOBPORTAL_SMTP_URL";
pub const SMTP_TIMEOUT: &str = "JOBPORTAL_SMTP_TIMEOUT";
pub const EMAIL_FROM: &str = "JOBPORTAL_EMAIL_FROM";
pub const PRODUCTION: &str = "JOBPORTAL_PRODUCTION";
pub const SCHEDULE_PRUNE: &str = "JOBPORTAL_SCHEDULE_PRUNE";
pub const SCHEDULE_CLOSE_EXPIRED_JOBS: &str = "JOBPORTAL_SCHEDULE_CLOSE_EXPIRED_JOBS";
pub const SCHEDULE_ALERTS_INSTANT: &str = "JOBPORTAL_SCHEDULE_ALERTS_INSTANT";
pub const SCHEDULE_ALERTS_DAILY: &str = "JOBPORTAL_SCHEDULE_ALERTS_DAILY";
pub const SCHEDULE_ALERTS_WEEKLY: &str = "JOBPORTAL_SCHEDULE_ALERTS_WEEKLY";

/// Every variable above, for the check that the docs name them all.
pub const ALL: &[&str] = &[
    DATA_DIR,
    LLM_MODEL,
    DB_URL,
    DB_NAMESPACE,
    DB_DATABASE,
    DB_USER,
    DB_PASSWORD,
    LOG_FORMAT,
    LOG,
    ADDR,
    JWT_SECRET,
    BODY_LIMIT,
    REQUEST_TIMEOUT,
    SHUTDOWN_TIMEOUT,
    CORS_ORIGINS,
    PASSWORD,
    PUBLIC_URL,
    APP_URL,
    TRUSTED_PROXY_HEADER,
    ACCESS_TOKEN_TTL,
    REFRESH_TOKEN_TTL,
    SESSION_MAX_AGE,
    RATE_LIMIT_AUTH_PER_IP,
    RATE_LIMIT_LOGIN_FAILURES,
    RATE_LIMIT_EMAILS_PER_ACCOUNT,
    PASSWORD_HASH_CONCURRENCY,
    RUN_WORKERS,
    MODERATE_UNVERIFIED,
    RESUME_MAX_SIZE,
    QUEUE_CONCURRENCY,
    TASK_LEASE,
    TASK_POLL_INTERVAL,
    TASK_BACKOFF,
    TASK_BACKOFF_MAX,
    SMTP_URL,
    SMTP_TIMEOUT,
    EMAIL_FROM,
    PRODUCTION,
    SCHEDULE_PRUNE,
    SCHEDULE_CLOSE_EXPIRED_JOBS,
    SCHEDULE_ALERTS_INSTANT,
    SCHEDULE_ALERTS_DAILY,
    SCHEDULE_ALERTS_WEEKLY,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variable_is_documented_in_env_example_and_the_readme() {
        let example = include_str!("../../../.env.example");
        let readme = include_str!("../../../README.md");
        for var in ALL {
            assert!(example.contains(var), "{var} is missing from .env.example");
            assert!(readme.contains(var), "{var} is missing from README.md");
        }
    }
}
