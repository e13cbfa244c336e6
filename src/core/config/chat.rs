//! The settings of the chat model, resolved: which model (a local GGUF file or a hosted
//! provider's), its default generation parameters, its queue and its threads.

use std::path::PathBuf;
use std::time::Duration;

use super::args::ChatOpts;
use super::env;
use super::error::{ConfigError, setting};
use super::parse::{absolute, parse_duration};
use super::secret::Secret;

/// Where the chat model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatProvider {
    /// A GGUF file, in this process.
    Local,
    /// An OpenAI-compatible chat completions API (OpenAI, Ollama, vLLM, llama.cpp's server).
    OpenAi,
    /// Anthropic's messages API.
    Anthropic,
}

impl ChatProvider {
    /// `local`, `openai` or `anthropic`, as the setting spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    /// The provider's own API, when the base URL is not set.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Local => None,
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Anthropic => Some("https://api.anthropic.com/v1"),
        }
    }
}

/// How a hosted chat model is reached.
#[derive(Debug, Clone, PartialEq)]
pub struct HostedChat {
    /// The API's base URL, without a trailing slash.
    pub base_url: String,
    /// The provider's model name.
    pub model: String,
    pub api_key: Option<Secret>,
    /// The longest wait for the answer to start and between two of its pieces.
    pub timeout: Duration,
}

/// Which chat model, and where.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatBackend {
    /// A GGUF file run in this process; `None` picks one in `<models dir>/llm` (the SmolLM2
    /// file when present, else the first `.gguf` by name).
    Local {
        model: Option<PathBuf>,
    },
    OpenAi(HostedChat),
    Anthropic(HostedChat),
}

impl ChatBackend {
    pub fn provider(&self) -> ChatProvider {
        match self {
            Self::Local { .. } => ChatProvider::Local,
            Self::OpenAi(_) => ChatProvider::OpenAi,
            Self::Anthropic(_) => ChatProvider::Anthropic,
        }
    }
}

/// How an answer is generated unless its caller says otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChatDefaults {
    pub max_tokens: usize,
    /// 0 to 2; 0 always takes the most likely token.
    pub temperature: f64,
    /// In (0, 1]; 1 samples among all tokens.
    pub top_p: f64,
    /// At least 1; 1 is off (the local model only).
    pub repetition_penalty: f32,
}

impl Default for ChatDefaults {
    fn default() -> Self {
        Self { max_tokens: 512, temperature: 0.0, top_p: 1.0, repetition_penalty: 1.1 }
    }
}

/// The resolved settings of the chat model.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatSettings {
    pub backend: ChatBackend,
    pub defaults: ChatDefaults,
    /// Answers that may wait while the local model writes another (the running one is not
    /// counted); one more is refused at once.
    pub queue_size: usize,
    /// Threads the local model computes with.
    pub threads: usize,
}

impl Default for ChatSettings {
    /// The local model picked in the models directory, one thread per core.
    fn default() -> Self {
        Self {
            backend: ChatBackend::Local { model: None },
            defaults: ChatDefaults::default(),
            queue_size: 4,
            threads: cores(),
        }
    }
}

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The most of anything countable a setting accepts (threads, queue slots).
const MAX_COUNT: usize = 4096;

impl ChatOpts {
    pub fn resolve(&self) -> Result<ChatSettings, ConfigError> {
        let provider = setting(env::LLM_PROVIDER, "llm-provider", &self.llm_provider, |raw| {
            match raw.trim().to_ascii_lowercase().as_str() {
                "local" | "" => Ok(ChatProvider::Local),
                "openai" => Ok(ChatProvider::OpenAi),
                "anthropic" => Ok(ChatProvider::Anthropic),
                _ => Err("expected local, openai or anthropic"),
            }
        })?;
        let model = self.llm_model.as_deref().map(str::trim).filter(|m| !m.is_empty());
        // Checked whichever the provider, so a bad value never waits for the day it is used.
        let timeout = setting(env::LLM_TIMEOUT, "llm-timeout", &self.llm_timeout, |raw| {
            parse_duration(raw)
                .filter(|d| !d.is_zero())
                .ok_or("expected a positive duration such as 60s or 2m")
        })?;
        let backend = match provider {
            ChatProvider::Local => {
                ChatBackend::Local { model: model.map(|m| absolute(&PathBuf::from(m))) }
            }
            ChatProvider::OpenAi => ChatBackend::OpenAi(self.hosted(provider, model, timeout)?),
            ChatProvider::Anthropic => {
                ChatBackend::Anthropic(self.hosted(provider, model, timeout)?)
            }
        };
        let max_tokens =
            setting(env::LLM_MAX_TOKENS, "llm-max-tokens", &self.llm_max_tokens, |raw| {
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or("expected a positive number of tokens, e.g. 512")
            })?;
        let temperature =
            setting(env::LLM_TEMPERATURE, "llm-temperature", &self.llm_temperature, |raw| {
                parse_temperature(raw)
            })?;
        let top_p = setting(env::LLM_TOP_P, "llm-top-p", &self.llm_top_p, parse_top_p)?;
        let repetition_penalty = setting(
            env::LLM_REPETITION_PENALTY,
            "llm-repetition-penalty",
            &self.llm_repetition_penalty,
            |raw| {
                raw.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|x| x.is_finite() && (1.0..=10.0).contains(x))
                    .ok_or("expected a number from 1 (off) to 10, e.g. 1.1")
            },
        )?;
        let queue_size =
            setting(env::LLM_QUEUE_SIZE, "llm-queue-size", &self.llm_queue_size, |raw| {
                raw.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= MAX_COUNT)
                    .ok_or_else(|| format!("expected a number from 0 to {MAX_COUNT}"))
            })?;
        let threads =
            setting(env::LLM_THREADS, "llm-threads", &self.llm_threads, |raw| {
                match raw.trim().to_ascii_lowercase().as_str() {
                    "auto" | "" => Ok(cores()),
                    raw => raw
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_COUNT).contains(n))
                        .ok_or_else(|| format!("expected auto or a number from 1 to {MAX_COUNT}")),
                }
            })?;
        Ok(ChatSettings {
            backend,
            defaults: ChatDefaults { max_tokens, temperature, top_p, repetition_penalty },
            queue_size,
            threads,
        })
    }

    /// The hosted provider's address, model, key and timeout.
    fn hosted(
        &self,
        provider: ChatProvider,
        model: Option<&str>,
        timeout: Duration,
    ) -> Result<HostedChat, ConfigError> {
        let name = provider.name();
        let model = setting(env::LLM_MODEL, "llm-model", model.unwrap_or_default(), |raw| {
            if raw.is_empty() {
                Err(format!("the {name} provider needs a model name, e.g. {}", example(provider)))
            } else if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err("a model name has no spaces".to_owned())
            } else {
                Ok(raw.to_owned())
            }
        })?;
        let base_url = match self.llm_base_url.as_deref().map(str::trim) {
            None | Some("") => provider.default_base_url().unwrap_or_default().to_owned(),
            // A user or password in the URL would be printed wherever the URL is: refused
            // without echoing it.
            Some(raw) if has_credentials(raw) => {
                return Err(ConfigError::new(
                    env::LLM_BASE_URL,
                    "llm-base-url",
                    "[redacted]",
                    format!(
                        "must not carry a user or password; put the key in {}",
                        env::LLM_API_KEY
                    ),
                ));
            }
            Some(raw) => setting(env::LLM_BASE_URL, "llm-base-url", raw, parse_base_url)?,
        };
        let api_key = self.llm_api_key.clone().filter(|key| !key.expose().trim().is_empty());
        if provider == ChatProvider::Anthropic && api_key.is_none() {
            return Err(ConfigError::new(
                env::LLM_API_KEY,
                "llm-api-key",
                "",
                "the anthropic provider needs an API key",
            ));
        }
        if let Some(key) = &api_key
            && key.expose().chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::new(
                env::LLM_API_KEY,
                "llm-api-key",
                "[redacted]",
                "an API key has no spaces or line breaks",
            ));
        }
        Ok(HostedChat { base_url, model, api_key, timeout })
    }
}

fn example(provider: ChatProvider) -> &'static str {
    match provider {
        ChatProvider::Anthropic => "claude-3-5-haiku-latest",
        _ => "gpt-4o-mini",
    }
}

/// A temperature: a finite number from 0 to 2.
pub fn parse_temperature(raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && (0.0..=2.0).contains(t))
        .ok_or_else(|| "expected a number from 0 to 2, e.g. 0.7".to_owned())
}

/// A top-p: above 0, at most 1.
pub fn parse_top_p(raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p > 0.0 && *p <= 1.0)
        .ok_or_else(|| "expected a number above 0 and at most 1, e.g. 0.9".to_owned())
}

/// Whether a URL names a user or password (`https://user:pass@host/…`).
fn has_credentials(raw: &str) -> bool {
    let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.contains('@'))
}

/// An API's base URL: http(s), a host, no trailing slash, no query.
fn parse_base_url(raw: &str) -> Result<String, String> {
    let url = raw.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("must start with http:// or https://")?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty()
        || rest.contains(['?', '#'])
        || rest.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must be a URL such as https://api.openai.com/v1".into());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ChatOpts {
        ChatOpts {
            llm_provider: "local".into(),
            llm_model: None,
            llm_base_url: None,
            llm_api_key: None,
            llm_timeout: "60s".into(),
            llm_max_tokens: "512".into(),
            llm_temperature: "0".into(),
            llm_top_p: "1".into(),
            llm_repetition_penalty: "1.1".into(),
            llm_queue_size: "4".into(),
            llm_threads: "auto".into(),
        }
    }

    fn error(opts: ChatOpts) -> String {
        let line = opts.resolve().unwrap_err().to_string();
        assert!(!line.contains('\n'), "{line}");
        line
    }

    #[test]
    fn the_defaults_of_the_flags_match_the_default_settings() {
        assert_eq!(opts().resolve().unwrap(), ChatSettings::default());
    }

    #[test]
    fn a_local_model_is_a_file_made_absolute() {
        let settings =
            ChatOpts { llm_model: Some("models/x.gguf".into()), ..opts() }.resolve().unwrap();
        let ChatBackend::Local { model: Some(path) } = settings.backend else { panic!() };
        assert!(path.is_absolute() && path.ends_with("models/x.gguf"), "{path:?}");
    }

    #[test]
    fn a_hosted_provider_needs_a_model_name_and_defaults_to_its_official_url() {
        let line = error(ChatOpts { llm_provider: "openai".into(), ..opts() });
        assert!(line.contains("JOBPORTAL_LLM_MODEL") && line.contains("--llm-model"), "{line}");
        assert!(line.contains("needs a model name"), "{line}");

        let settings = ChatOpts {
            llm_provider: "OpenAI".into(),
            llm_model: Some("gpt-4o-mini".into()),
            ..opts()
        }
        .resolve()
        .unwrap();
        let ChatBackend::OpenAi(hosted) = settings.backend else { panic!("{settings:?}") };
        assert_eq!(hosted.base_url, "https://api.openai.com/v1");
        assert_eq!(hosted.model, "gpt-4o-mini");
        assert_eq!(hosted.api_key, None, "optional for openai-compatible servers");
        assert_eq!(hosted.timeout, Duration::from_secs(60));

        let ollama = ChatOpts {
            llm_provider: "openai".into(),
            llm_model: Some("qwen2.5:0.5b".into()),
            llm_base_url: Some("http://127.0.0.1:11434/v1/".into()),
            ..opts()
        };
        let ChatBackend::OpenAi(hosted) = ollama.resolve().unwrap().backend else { panic!() };
        assert_eq!(hosted.base_url, "http://127.0.0.1:11434/v1");
    }

    #[test]
    fn anthropic_needs_a_key_which_no_message_or_debug_output_shows() {
        let anthropic = ChatOpts {
            llm_provider: "anthropic".into(),
            llm_model: Some("claude-3-5-haiku-latest".into()),
            ..opts()
        };
        let line = error(anthropic.clone());
        assert!(line.contains("JOBPORTAL_LLM_API_KEY") && line.contains("needs an API key"));

        let key = "sk-ant-secret-value";
        let settings = ChatOpts { llm_api_key: Some(Secret::new(key)), ..anthropic.clone() }
            .resolve()
            .unwrap();
        let ChatBackend::Anthropic(hosted) = &settings.backend else { panic!() };
        assert_eq!(hosted.base_url, "https://api.anthropic.com/v1");
        assert!(!format!("{settings:?}").contains(key));
        let line =
            error(ChatOpts { llm_api_key: Some(Secret::new(format!("{key}\n"))), ..anthropic });
        assert!(!line.contains(key), "{line}");
    }

    #[test]
    fn invalid_values_name_the_variable_and_the_flag() {
        for (opts, var, flag) in [
            (ChatOpts { llm_provider: "gemini".into(), ..opts() }, "PROVIDER", "provider"),
            (ChatOpts { llm_max_tokens: "0".into(), ..opts() }, "MAX_TOKENS", "max-tokens"),
            (ChatOpts { llm_temperature: "3".into(), ..opts() }, "TEMPERATURE", "temperature"),
            (ChatOpts { llm_temperature: "NaN".into(), ..opts() }, "TEMPERATURE", "temperature"),
            (ChatOpts { llm_top_p: "0".into(), ..opts() }, "TOP_P", "top-p"),
            (
                ChatOpts { llm_repetition_penalty: "0.5".into(), ..opts() },
                "REPETITION_PENALTY",
                "repetition-penalty",
            ),
            (ChatOpts { llm_queue_size: "-1".into(), ..opts() }, "QUEUE_SIZE", "queue-size"),
            (ChatOpts { llm_threads: "0".into(), ..opts() }, "THREADS", "threads"),
            (
                ChatOpts {
                    llm_provider: "openai".into(),
                    llm_model: Some("m".into()),
                    llm_base_url: Some("api.openai.com".into()),
                    ..opts()
                },
                "BASE_URL",
                "base-url",
            ),
            // Checked under the local provider too, which does not use it.
            (ChatOpts { llm_timeout: "0s".into(), ..opts() }, "TIMEOUT", "timeout"),
        ] {
            let line = error(opts);
            assert!(line.contains(&format!("JOBPORTAL_LLM_{var}")), "{line}");
            assert!(line.contains(&format!("--llm-{flag}")), "{line}");
        }
    }

    #[test]
    fn a_base_url_with_a_user_or_password_is_refused_without_echoing_them() {
        for url in ["https://user:hunter2@api.example.com/v1", "http://hunter2@127.0.0.1:8000"] {
            let line = error(ChatOpts {
                llm_provider: "openai".into(),
                llm_model: Some("m".into()),
                llm_base_url: Some(url.into()),
                ..opts()
            });
            assert!(line.contains("JOBPORTAL_LLM_BASE_URL"), "{line}");
            assert!(!line.contains("hunter2"), "{line}");
        }
        assert!(!has_credentials("https://api.example.com/v1?email=a@b.c"));
    }

    #[test]
    fn threads_and_queue_take_numbers_or_auto() {
        let settings = ChatOpts { llm_threads: "3".into(), llm_queue_size: "0".into(), ..opts() }
            .resolve()
            .unwrap();
        assert_eq!((settings.threads, settings.queue_size), (3, 0));
        assert_eq!(opts().resolve().unwrap().threads, cores());
    }
}
