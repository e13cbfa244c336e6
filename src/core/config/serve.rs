//! The settings of the HTTP server, resolved: address, limits, URLs, tokens, rate limits, the
//! reading of uploaded documents.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::args::ServeOpts;
use super::env;
use super::error::{ConfigError, setting};
use super::parse::{parse_bool, parse_duration, parse_public_url, parse_size};
use super::secret::Secret;

/// Which origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

/// At most `count` events per `period` (a bucket that refills evenly over the period).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn new(count: u32, period: Duration) -> Self {
        Self { count, period }
    }
}

/// Rate limits of the authentication endpoints.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    pub auth_per_ip: Rate,
    pub login_failures_per_account: Rate,
    pub emails_per_account: Rate,
    /// Messages to the assistant per user.
    pub assistant_per_user: Rate,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            auth_per_ip: Rate::new(20, Duration::from_secs(60)),
            login_failures_per_account: Rate::new(5, Duration::from_secs(15 * 60)),
            emails_per_account: Rate::new(3, Duration::from_secs(3600)),
            assistant_per_user: Rate::new(20, Duration::from_secs(60)),
        }
    }
}

/// Token lifetimes.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_max_age: Duration,
    pub verify_email_ttl: Duration,
    pub reset_password_ttl: Duration,
    pub invite_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 86_400),
            session_max_age: Duration::from_secs(90 * 86_400),
            verify_email_ttl: Duration::from_secs(48 * 3600),
            reset_password_ttl: Duration::from_secs(3600),
            invite_ttl: Duration::from_secs(7 * 86_400),
        }
    }
}

/// What the assistant accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssistantConfig {
    /// Longest message a user may send, in characters.
    pub max_message_chars: usize,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        Self { max_message_chars: 4000 }
    }
}

/// How the server reads uploaded documents: in a child process under these limits
/// (`services::resume_parser::isolated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentsConfig {
    /// The program whose `parse-document` command reads documents; `None` is this executable.
    pub program: Option<PathBuf>,
    pub limits: crate::core::sandbox::Limits,
    /// Documents read at once; `None` is one per core.
    pub concurrency: Option<usize>,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        Self {
            program: None,
            limits: crate::core::sandbox::Limits {
                // Four times the most a PDF's streams may decode to: the reader keeps a
                // stream's encoded and decoded bytes while it works.
                memory: 512 * 1024 * 1024,
                cpu: Duration::from_secs(10),
                wall: Duration::from_secs(15),
                // The text of `MAX_TEXT_CHARS` characters of a resume, at four bytes each, escaped in JSON.
                output: 8 * 1024 * 1024,
            },
            concurrency: None,
        }
    }
}

/// The resolved settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
    pub cors_origins: CorsOrigins,
    /// Base of the links in emails, without a trailing slash.
    pub public_url: String,
    /// Base of the account links in emails (verification, reset, invitation) when a front end
    /// of the site's own serves those pages, without a trailing slash; `None`: the built-in
    /// pages under `public_url`.
    pub app_url: Option<String>,
    /// Lower-case header name holding the client address, when behind a trusted proxy.
    pub trusted_proxy_header: Option<String>,
    pub auth: AuthConfig,
    pub rate_limits: RateLimitConfig,
    /// Concurrent password hashes; `None` is the default (cores - 1, at least 1).
    pub password_hash_concurrency: Option<usize>,
    /// Jobs of unverified companies wait for an admin.
    pub moderate_unverified: bool,
    /// Largest resume upload, in bytes.
    pub resume_max_size: usize,
    /// Where uploads (imports) are kept until a task processes them.
    pub data_dir: PathBuf,
    /// The model weights (`embed/`, `llm/`).
    pub models_dir: PathBuf,
    /// Prompt templates that replace the built-in ones, file by file (`None`: the built-in).
    pub prompts_dir: Option<PathBuf>,
    /// How uploaded documents are read.
    pub documents: DocumentsConfig,
    /// What the assistant accepts.
    pub assistant: AssistantConfig,
    /// The fewest published salaries (per currency) salary insights answer about.
    pub salary_insights_min_count: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            jwt_secret: None,
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(30),
            cors_origins: CorsOrigins::None,
            public_url: "http://127.0.0.1:8080".into(),
            app_url: None,
            trusted_proxy_header: None,
            auth: AuthConfig::default(),
            rate_limits: RateLimitConfig::default(),
            password_hash_concurrency: None,
            moderate_unverified: false,
            resume_max_size: 5 * 1024 * 1024,
            data_dir: std::env::temp_dir().join("jobportal"),
            models_dir: PathBuf::from("models"),
            prompts_dir: None,
            documents: DocumentsConfig::default(),
            assistant: AssistantConfig::default(),
            salary_insights_min_count: 5,
        }
    }
}

impl ServeOpts {
    pub fn resolve(&self) -> Result<ServeConfig, ConfigError> {
        let addr = setting(env::ADDR, "addr", &self.addr, |raw| {
            raw.trim().parse::<SocketAddr>().map_err(|_| "expected HOST:PORT, e.g. 127.0.0.1:8080")
        })?;
        let jwt_secret = match self.jwt_secret.as_ref().map(Secret::expose) {
            None | Some("") => None,
            Some(s) if s.chars().count() < 32 => {
                return Err(ConfigError::new(
                    env::JWT_SECRET,
                    "jwt-secret",
                    "[redacted]",
                    "must be at least 32 characters long",
                ));
            }
            Some(s) => Some(Secret::new(s)),
        };
        let body_limit = setting(env::BODY_LIMIT, "body-limit", &self.body_limit, |raw| {
            parse_size(raw)
                .filter(|n| *n > 0)
                .ok_or("expected a positive size such as 1048576, 512KiB or 1MiB")
        })?;
        let request_timeout =
            setting(env::REQUEST_TIMEOUT, "request-timeout", &self.request_timeout, |raw| {
                parse_duration(raw)
                    .filter(|d| !d.is_zero())
                    .ok_or("expected a positive duration such as 30s, 500ms or 2m")
            })?;
        let shutdown_timeout =
            setting(env::SHUTDOWN_TIMEOUT, "shutdown-timeout", &self.shutdown_timeout, |raw| {
                parse_duration(raw).ok_or("expected a duration such as 30s, 500ms or 2m")
            })?;
        let cors_origins =
            setting(env::CORS_ORIGINS, "cors-origins", &self.cors_origins, parse_cors_origins)?;
        let public_url =
            setting(env::PUBLIC_URL, "public-url", &self.public_url, parse_public_url)?;
        let app_url = match self.app_url.trim() {
            "" => None,
            _ => Some(setting(env::APP_URL, "app-url", &self.app_url, parse_public_url)?),
        };
        let trusted_proxy_header = setting(
            env::TRUSTED_PROXY_HEADER,
            "trusted-proxy-header",
            &self.trusted_proxy_header,
            |raw| {
                let header = raw.trim().to_ascii_lowercase();
                if header.is_empty() {
                    Ok(None)
                } else if header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                    Ok(Some(header))
                } else {
                    Err("expected a header name such as x-forwarded-for")
                }
            },
        )?;
        let ttl = |var: &'static str, flag: &'static str, raw: &str| {
            setting(var, flag, raw, |raw| {
                parse_duration(raw)
                    .filter(|d| !d.is_zero())
                    .ok_or("expected a positive duration such as 15m, 12h or 30d")
            })
        };
        let auth = AuthConfig {
            access_token_ttl: ttl(
                env::ACCESS_TOKEN_TTL,
                "access-token-ttl",
                &self.access_token_ttl,
            )?,
            refresh_token_ttl: ttl(
                env::REFRESH_TOKEN_TTL,
                "refresh-token-ttl",
                &self.refresh_token_ttl,
            )?,
            session_max_age: ttl(env::SESSION_MAX_AGE, "session-max-age", &self.session_max_age)?,
            ..AuthConfig::default()
        };
        let rate = |var: &'static str, flag: &'static str, raw: &str| {
            setting(var, flag, raw, |raw| {
                parse_rate(raw).ok_or("expected COUNT/PERIOD with COUNT >= 1, e.g. 20/1m or 5/15m")
            })
        };
        let rate_limits = RateLimitConfig {
            auth_per_ip: rate(
                env::RATE_LIMIT_AUTH_PER_IP,
                "rate-limit-auth-per-ip",
                &self.rate_limit_auth_per_ip,
            )?,
            login_failures_per_account: rate(
                env::RATE_LIMIT_LOGIN_FAILURES,
                "rate-limit-login-failures",
                &self.rate_limit_login_failures,
            )?,
            emails_per_account: rate(
                env::RATE_LIMIT_EMAILS_PER_ACCOUNT,
                "rate-limit-emails-per-account",
                &self.rate_limit_emails_per_account,
            )?,
            assistant_per_user: rate(
                env::RATE_LIMIT_ASSISTANT,
                "rate-limit-assistant",
                &self.rate_limit_assistant,
            )?,
        };
        let password_hash_concurrency = match self.password_hash_concurrency.trim() {
            "" | "auto" => None,
            raw => Some(setting(
                env::PASSWORD_HASH_CONCURRENCY,
                "password-hash-concurrency",
                raw,
                |raw| {
                    raw.parse::<usize>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or("expected auto or a positive number")
                },
            )?),
        };
        let moderate_unverified = setting(
            env::MODERATE_UNVERIFIED,
            "moderate-unverified",
            &self.moderate_unverified,
            |raw| parse_bool(raw).ok_or("expected true or false"),
        )?;
        let resume_max_size =
            setting(env::RESUME_MAX_SIZE, "resume-max-size", &self.resume_max_size, |raw| {
                parse_size(raw)
                    .filter(|n| *n > 0)
                    .ok_or("expected a positive size such as 5MiB or 2097152")
            })?;
        let max_message_chars = setting(
            env::ASSISTANT_MAX_MESSAGE,
            "assistant-max-message",
            &self.assistant_max_message,
            |raw| {
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("expected a positive number of characters such as 4000")
            },
        )?;
        let salary_insights_min_count = setting(
            env::SALARY_INSIGHTS_MIN_COUNT,
            "salary-insights-min-count",
            &self.salary_insights_min_count,
            |raw| {
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("expected a positive number of salaries such as 5")
            },
        )?;
        Ok(ServeConfig {
            assistant: AssistantConfig { max_message_chars },
            salary_insights_min_count,
            data_dir: PathBuf::new(),
            models_dir: PathBuf::new(),
            prompts_dir: None,
            documents: DocumentsConfig::default(),
            moderate_unverified,
            resume_max_size,
            addr,
            jwt_secret,
            body_limit,
            request_timeout,
            shutdown_timeout,
            cors_origins,
            public_url,
            app_url,
            trusted_proxy_header,
            auth,
            rate_limits,
            password_hash_concurrency,
        })
    }
}

/// Parses `COUNT/PERIOD`: `20/1m`, `5/15m`, `3/1h`; the period may omit its number (`10/m`).
pub fn parse_rate(raw: &str) -> Option<Rate> {
    let (count, period) = raw.trim().split_once('/')?;
    let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
    let period = period.trim();
    let period = if period.starts_with(|c: char| c.is_ascii_digit()) {
        parse_duration(period)?
    } else {
        parse_duration(&format!("1{period}"))?
    };
    (!period.is_zero()).then_some(Rate { count, period })
}

fn parse_cors_origins(raw: &str) -> Result<CorsOrigins, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(CorsOrigins::None);
    }
    if raw == "*" {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::new();
    for origin in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(|| format!("origin {origin:?} must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains('/') || !rest.is_ascii() {
            return Err(format!("origin {origin:?} must be scheme://host[:port] with no path"));
        }
        origins.push(origin.to_owned());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve_opts() -> ServeOpts {
        ServeOpts {
            addr: "127.0.0.1:8080".into(),
            jwt_secret: None,
            body_limit: "1MiB".into(),
            request_timeout: "30s".into(),
            shutdown_timeout: "30s".into(),
            cors_origins: String::new(),
            public_url: "http://127.0.0.1:8080".into(),
            app_url: String::new(),
            trusted_proxy_header: String::new(),
            access_token_ttl: "15m".into(),
            refresh_token_ttl: "30d".into(),
            session_max_age: "90d".into(),
            rate_limit_auth_per_ip: "20/1m".into(),
            rate_limit_login_failures: "5/15m".into(),
            rate_limit_emails_per_account: "3/1h".into(),
            password_hash_concurrency: "auto".into(),
            moderate_unverified: "false".into(),
            resume_max_size: "5MiB".into(),
            assistant_max_message: "4000".into(),
            rate_limit_assistant: "20/1m".into(),
            salary_insights_min_count: "5".into(),
        }
    }

    #[test]
    fn the_defaults_of_the_flags_match_the_default_config() {
        let resolved = serve_opts().resolve().unwrap();
        let default = ServeConfig::default();
        assert_eq!(resolved.resume_max_size, default.resume_max_size);
        assert_eq!(resolved.auth.access_token_ttl, default.auth.access_token_ttl);
        assert_eq!(resolved.auth.refresh_token_ttl, default.auth.refresh_token_ttl);
        assert_eq!(resolved.rate_limits.auth_per_ip, default.rate_limits.auth_per_ip);
        assert_eq!(
            resolved.rate_limits.login_failures_per_account,
            default.rate_limits.login_failures_per_account
        );
        assert_eq!(resolved.public_url, default.public_url);
        assert_eq!(resolved.app_url, default.app_url);
        assert_eq!(resolved.rate_limits.assistant_per_user, default.rate_limits.assistant_per_user);
        assert_eq!(resolved.assistant, default.assistant);
    }

    #[test]
    fn the_app_url_is_optional_and_checked_like_the_public_url() {
        let set = ServeOpts { app_url: "https://app.example/ ".into(), ..serve_opts() };
        assert_eq!(set.resolve().unwrap().app_url.as_deref(), Some("https://app.example"));
        let err =
            ServeOpts { app_url: "app.example".into(), ..serve_opts() }.resolve().unwrap_err();
        let line = err.to_string();
        assert!(line.contains("JOBPORTAL_APP_URL") && line.contains("--app-url"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn rates_are_a_count_over_a_period() {
        assert_eq!(parse_rate("20/1m"), Some(Rate::new(20, Duration::from_secs(60))));
        assert_eq!(parse_rate("5/15m"), Some(Rate::new(5, Duration::from_secs(900))));
        assert_eq!(parse_rate("10/h"), Some(Rate::new(10, Duration::from_secs(3600))));
        assert_eq!(parse_rate("0/1m"), None);
        assert_eq!(parse_rate("5"), None);
        assert_eq!(parse_rate("5/0s"), None);
    }

    #[test]
    fn an_invalid_address_names_the_variable_and_the_flag() {
        let err = ServeOpts { addr: "localhost".into(), ..serve_opts() }.resolve().unwrap_err();
        let line = err.to_string();
        assert!(line.contains("JOBPORTAL_ADDR"), "{line}");
        assert!(line.contains("--addr"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_short_jwt_secret_is_rejected_without_echoing_it() {
        let err = ServeOpts { jwt_secret: Some(Secret::new("hunter2")), ..serve_opts() }
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("JOBPORTAL_JWT_SECRET"));
        assert!(!err.to_string().contains("hunter2"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let opts = ServeOpts { jwt_secret: Some(Secret::new("x".repeat(40))), ..serve_opts() };
        let config = opts.resolve().unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(&"x".repeat(40)), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn cors_origins_are_checked() {
        assert_eq!(parse_cors_origins(""), Ok(CorsOrigins::None));
        assert_eq!(parse_cors_origins("*"), Ok(CorsOrigins::Any));
        assert_eq!(
            parse_cors_origins("https://a.example, http://localhost:3000"),
            Ok(CorsOrigins::List(vec!["https://a.example".into(), "http://localhost:3000".into()]))
        );
        assert!(parse_cors_origins("a.example").is_err());
        assert!(parse_cors_origins("https://a.example/path").is_err());
    }
}
