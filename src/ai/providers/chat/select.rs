//! Which chat model the settings name, started: the local engine over a GGUF file of the
//! models directory, or a hosted provider reached over HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::anthropic::AnthropicChat;
use super::engine::{EngineOptions, LocalEngine};
use super::error::ChatError;
use super::openai::OpenAiChat;
use super::provider::ChatModel;
use super::remote::RemoteConfig;
use super::types::GenerationParams;
use crate::ai::providers::foreground::Foreground;
use crate::core::config::{ChatBackend, ChatDefaults, ChatSettings, HostedChat, env};

/// The local model `scripts/models.sh` fetches: the default whenever it is there, so that a
/// bigger GGUF dropped beside it is used only when named.
pub const DEFAULT_LOCAL_MODEL: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The GGUF file the local model loads: `explicit` when given (whether or not it exists),
/// else [`DEFAULT_LOCAL_MODEL`] in `llm_dir` when present, else the first `.gguf` there by
/// name. `Err` says that there is none and which command fetches it.
pub fn local_model_file(llm_dir: &Path, explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let default = llm_dir.join(DEFAULT_LOCAL_MODEL);
    if default.is_file() {
        return Ok(default);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(llm_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "gguf") && p.is_file())
        .collect();
    files.sort();
    files.into_iter().next().ok_or_else(|| {
        format!(
            "no .gguf file in {}: run `{}` (or set {} to a .gguf file)",
            llm_dir.display(),
            crate::ai::FETCH_COMMAND,
            env::LLM_MODEL
        )
    })
}

/// The parameters of an answer whose caller asks for nothing in particular.
pub fn default_params(defaults: &ChatDefaults) -> GenerationParams {
    GenerationParams {
        max_tokens: defaults.max_tokens,
        temperature: defaults.temperature,
        top_p: defaults.top_p,
        repetition_penalty: defaults.repetition_penalty,
        ..GenerationParams::default()
    }
}

/// How a hosted provider is reached, from its settings.
pub fn remote_config(hosted: &HostedChat) -> RemoteConfig {
    RemoteConfig {
        base_url: hosted.base_url.clone(),
        model: hosted.model.clone(),
        api_key: hosted.api_key.clone(),
        timeout: hosted.timeout,
    }
}

/// Starts the chat model `settings` name. The local model loads in the background on a thread
/// of its own (its state says `Loading`, then `Ready` or `Failed`); a local file that is not
/// there is `Missing`, which is not an error here. `Err` is settings that cannot work.
pub fn start(
    settings: &ChatSettings,
    models_dir: &Path,
    foreground: Foreground,
) -> Result<Arc<dyn ChatModel>, ChatError> {
    match &settings.backend {
        ChatBackend::Local { model } => {
            let options = EngineOptions {
                queue_size: settings.queue_size,
                threads: settings.threads,
                foreground,
            };
            let engine = match local_model_file(&models_dir.join("llm"), model.as_deref()) {
                Ok(path) => LocalEngine::start(path, options).map_err(|err| {
                    ChatError::Unavailable(format!("cannot start the chat model's thread: {err}"))
                })?,
                Err(message) => LocalEngine::missing("local (no model file)".into(), message),
            };
            Ok(Arc::new(engine))
        }
        ChatBackend::OpenAi(hosted) => Ok(Arc::new(OpenAiChat::new(remote_config(hosted))?)),
        ChatBackend::Anthropic(hosted) => Ok(Arc::new(AnthropicChat::new(remote_config(hosted))?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) {
        std::fs::write(dir.join(name), b"").unwrap();
    }

    #[test]
    fn the_default_file_wins_over_others_and_then_the_first_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let llm = dir.path();
        let none = local_model_file(llm, None).unwrap_err();
        assert!(none.contains(crate::ai::FETCH_COMMAND) && none.contains(".gguf"), "{none}");

        touch(llm, "notes.txt");
        touch(llm, "Qwen2.5-0.5B-Instruct.Q4_K_M.gguf");
        touch(llm, "B-model.gguf");
        assert_eq!(local_model_file(llm, None).unwrap(), llm.join("B-model.gguf"));
        // A bigger model beside the default does not replace it.
        touch(llm, DEFAULT_LOCAL_MODEL);
        assert_eq!(local_model_file(llm, None).unwrap(), llm.join(DEFAULT_LOCAL_MODEL));
        // A file named explicitly is used as it is (its absence is the engine's to report).
        let named = llm.join("elsewhere.gguf");
        assert_eq!(local_model_file(llm, Some(&named)).unwrap(), named);
    }

    #[test]
    fn the_defaults_become_the_parameters_of_an_answer() {
        let defaults =
            ChatDefaults { max_tokens: 99, temperature: 0.5, top_p: 0.9, repetition_penalty: 1.3 };
        let params = default_params(&defaults);
        assert_eq!(
            (params.max_tokens, params.temperature, params.top_p, params.repetition_penalty),
            (99, 0.5, 0.9, 1.3)
        );
    }

    #[tokio::test]
    async fn a_models_directory_without_a_gguf_gives_a_missing_model_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let model = start(&ChatSettings::default(), dir.path(), Foreground::default()).unwrap();
        let super::super::provider::ChatModelState::Missing(message) = model.state() else {
            panic!("{:?}", model.state())
        };
        assert!(message.contains(crate::ai::FETCH_COMMAND), "{message}");
    }

    fn ollama() -> HostedChat {
        HostedChat {
            base_url: "http://127.0.0.1:11434/v1".into(),
            model: "qwen2.5:0.5b".into(),
            api_key: Some(crate::core::config::Secret::new("sk-123")),
            timeout: std::time::Duration::from_secs(5),
        }
    }

    #[test]
    fn a_hosted_provider_is_reached_as_configured() {
        let hosted = ollama();
        let remote = remote_config(&hosted);
        assert_eq!(
            (remote.base_url, remote.model, remote.api_key, remote.timeout),
            (hosted.base_url, hosted.model, hosted.api_key, hosted.timeout)
        );
    }

    #[test]
    fn a_hosted_provider_is_the_one_configured_and_never_shows_its_key() {
        let openai =
            ChatSettings { backend: ChatBackend::OpenAi(ollama()), ..ChatSettings::default() };
        let model = start(&openai, Path::new("models"), Foreground::default()).unwrap();
        let described = model.describe();
        assert!(described.starts_with("openai qwen2.5:0.5b at "), "{described}");
        assert_eq!(model.state(), super::super::provider::ChatModelState::Ready);
        assert!(!described.contains("sk-123") && !format!("{model:?}").contains("sk-123"));
        let anthropic =
            ChatSettings { backend: ChatBackend::Anthropic(ollama()), ..ChatSettings::default() };
        let described =
            start(&anthropic, Path::new("models"), Foreground::default()).unwrap().describe();
        assert!(described.starts_with("anthropic qwen2.5:0.5b at "), "{described}");
        // A base URL that cannot work is refused when the model is started.
        let broken = HostedChat { base_url: "ftp://example.com".into(), ..ollama() };
        let broken =
            ChatSettings { backend: ChatBackend::OpenAi(broken), ..ChatSettings::default() };
        assert!(matches!(
            start(&broken, Path::new("models"), Foreground::default()),
            Err(ChatError::Unavailable(_))
        ));
    }
}
