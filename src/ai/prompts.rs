//! The prompts: the minijinja templates of `prompts/`, compiled into the binary and overridden
//! file by file from a directory (`JOBPORTAL_PROMPTS_DIR`) without rebuilding.
//!
//! [`TEMPLATES`] is the one table of them: each template's name (its file is `NAME.j2`), its
//! embedded text and sample data of the shape the code passes it. [`Prompts::load`] renders
//! every template once with its sample data, so a template that does not parse, or names a
//! value the code does not pass (undefined values are errors, never empty text), stops the
//! program at start with its file and line instead of failing a request later.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

/// One template of [`TEMPLATES`].
#[derive(Debug, Clone, Copy)]
pub struct PromptTemplate {
    /// What the code renders it by; its file is `prompts/NAME.j2`.
    pub name: &'static str,
    /// The embedded text, the default.
    pub text: &'static str,
    /// Data of the shape the code passes (JSON), rendered at load.
    pub sample: &'static str,
}

const fn template(name: &'static str, text: &'static str, sample: &'static str) -> PromptTemplate {
    PromptTemplate { name, text, sample }
}

/// The system prompt every chat request starts with. It takes no values, so it is the same
/// text in every request (a local model reuses the work of a prefix it has already read).
pub const SYSTEM: &str = "system";
/// One turn of the assistant: the message, and the sources numbered for citing.
pub const ASSISTANT: &str = "assistant";
/// A question answered from numbered sources.
pub const QUESTION_ANSWERING: &str = "question_answering";
/// Which tool serves a message.
pub const TOOL_ROUTING: &str = "tool_routing";
/// The arguments of the chosen tool, from the message.
pub const TOOL_ARGUMENTS: &str = "tool_arguments";
/// A cover letter from a job's and a candidate's facts.
pub const COVER_LETTER: &str = "cover_letter";
/// Why a job was recommended, from the deterministic explanation.
pub const RECOMMENDATION_EXPLANATION: &str = "recommendation_explanation";
/// Advice on a resume for a job, from the skills it shows and misses.
pub const RESUME_FEEDBACK: &str = "resume_feedback";

/// Every template: name, embedded text, sample data.
pub const TEMPLATES: &[PromptTemplate] = &[
    template(SYSTEM, include_str!("../../prompts/system.j2"), r#"{}"#),
    template(
        ASSISTANT,
        include_str!("../../prompts/assistant.j2"),
        r#"{"role": "candidate", "message": "Any remote Rust jobs?", "delimiter": "<<<data-7f3a>>>",
            "sources": [{"n": 1, "kind": "job", "title": "Rust Developer at Acme",
                         "text": "Remote. Build services in Rust."}]}"#,
    ),
    template(
        QUESTION_ANSWERING,
        include_str!("../../prompts/question_answering.j2"),
        r#"{"question": "Which jobs use Rust?", "delimiter": "<<<data-7f3a>>>",
            "sources": [{"n": 1, "kind": "job", "title": "Rust Developer at Acme",
                         "text": "Remote. Build services in Rust."}]}"#,
    ),
    template(
        TOOL_ROUTING,
        include_str!("../../prompts/tool_routing.j2"),
        r#"{"message": "Find remote Rust jobs",
            "tools": [{"name": "search_jobs", "description": "Search the public jobs."},
                      {"name": "my_applications", "description": "List your applications."}]}"#,
    ),
    template(
        TOOL_ARGUMENTS,
        include_str!("../../prompts/tool_arguments.j2"),
        r#"{"message": "Find remote Rust jobs", "today": "2026-01-31",
            "tool": {"name": "search_jobs", "description": "Search the public jobs."}}"#,
    ),
    template(
        COVER_LETTER,
        include_str!("../../prompts/cover_letter.j2"),
        r#"{"job": {"title": "Rust Developer", "company": "Acme", "location": "Berlin",
                    "skills": ["Rust", "PostgreSQL"]},
            "candidate": {"name": "Ada Lovelace", "summary": "Backend engineer.",
                          "skills": ["Rust", "Python"], "matched_skills": ["Rust"],
                          "experience": ["Backend Engineer at Initech (2019 to 2023)"],
                          "education": ["BSc Computer Science, Example University (2018)"]}}"#,
    ),
    template(
        RECOMMENDATION_EXPLANATION,
        include_str!("../../prompts/recommendation_explanation.j2"),
        r#"{"job": {"title": "Rust Developer", "company": "Acme"},
            "matched_skills": ["Rust"], "missing_skills": ["Kubernetes"],
            "reasons": ["Your resume shows 1 of the 2 skills the job lists."]}"#,
    ),
    template(
        RESUME_FEEDBACK,
        include_str!("../../prompts/resume_feedback.j2"),
        r#"{"job": {"title": "Rust Developer", "company": "Acme"},
            "emphasise": ["Rust"], "missing_skills": ["Kubernetes"]}"#,
    ),
];

/// Why the prompts cannot be loaded or one cannot be rendered. A template's error names its
/// file (the embedded `prompts/NAME.j2` or the overriding file's path) and line.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The overrides' directory, or a file in it, cannot be read.
    #[error("cannot read the prompt {path}: {message}")]
    Read { path: String, message: String },
    /// A `.j2` file among the overrides that is no template's.
    #[error("{path}: there is no prompt called {name} (the prompts are {known})")]
    Unknown { path: String, name: String, known: String },
    /// A template does not parse, or does not render with the values it was given.
    #[error("{}: {message}", at(file, *line))]
    Template { file: String, line: Option<usize>, message: String },
    /// The code asked for a template the table does not list.
    #[error("there is no prompt called {0}")]
    NotFound(String),
}

fn at(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_owned(),
    }
}

/// The loaded templates, each from its override or else embedded. Shared by every request.
pub struct Prompts {
    env: Environment<'static>,
    /// Template name → the file it was read from, as errors name it.
    origins: BTreeMap<&'static str, String>,
    overridden: Vec<&'static str>,
}

impl std::fmt::Debug for Prompts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompts").field("overridden", &self.overridden).finish()
    }
}

impl Prompts {
    /// The embedded templates, each replaced by `DIR/NAME.j2` when `dir` has that file; then
    /// every template rendered once with its sample data. Other files and subdirectories of
    /// `dir` are left alone; a `.j2` file that is no template's is an error (a misspelt name
    /// would otherwise change nothing, silently).
    pub fn load(dir: Option<&Path>) -> Result<Prompts, PromptError> {
        let mut overrides = match dir {
            Some(dir) => read_overrides(dir)?,
            None => BTreeMap::new(),
        };
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        let mut origins = BTreeMap::new();
        let mut overridden = Vec::new();
        for t in TEMPLATES {
            let (file, text) = match overrides.remove(t.name) {
                Some((path, text)) => {
                    overridden.push(t.name);
                    (path, Cow::Owned(text))
                }
                None => (format!("prompts/{}.j2", t.name), Cow::Borrowed(t.text)),
            };
            env.add_template_owned(file_name(t.name), text)
                .map_err(|err| template_error(&file, &err))?;
            origins.insert(t.name, file);
        }
        if let Some((name, (path, _))) = overrides.into_iter().next() {
            let known = TEMPLATES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ");
            return Err(PromptError::Unknown { path, name, known });
        }
        let prompts = Prompts { env, origins, overridden };
        for t in TEMPLATES {
            let sample: serde_json::Value =
                serde_json::from_str(t.sample).map_err(|err| PromptError::Template {
                    file: format!("the sample data of {}", t.name),
                    line: Some(err.line()),
                    message: err.to_string(),
                })?;
            prompts.render(t.name, &sample)?;
        }
        Ok(prompts)
    }

    /// Renders the template `name` with `values` (every value it names must be there),
    /// without leading or trailing blank space.
    pub fn render(&self, name: &str, values: &impl Serialize) -> Result<String, PromptError> {
        let template = self
            .env
            .get_template(&file_name(name))
            .map_err(|_| PromptError::NotFound(name.to_owned()))?;
        let text = template.render(values).map_err(|err| {
            let file = err
                .name()
                .and_then(|file| file.strip_suffix(".j2"))
                .and_then(|name| self.origins.get(name))
                .or_else(|| self.origins.get(name))
                .cloned()
                .unwrap_or_else(|| file_name(name));
            template_error(&file, &err)
        })?;
        Ok(text.trim().to_owned())
    }

    /// The names of the templates read from the overrides' directory.
    pub fn overridden(&self) -> &[&'static str] {
        &self.overridden
    }
}

fn file_name(name: &str) -> String {
    format!("{name}.j2")
}

fn template_error(file: &str, err: &minijinja::Error) -> PromptError {
    let message = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    PromptError::Template { file: file.to_owned(), line: err.line(), message }
}

/// The `.j2` files of `dir`: template name → (path, text).
fn read_overrides(dir: &Path) -> Result<BTreeMap<String, (String, String)>, PromptError> {
    let read_error = |path: &Path, err: std::io::Error| PromptError::Read {
        path: path.display().to_string(),
        message: err.to_string(),
    };
    let mut found = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|err| read_error(dir, err))? {
        let path = entry.map_err(|err| read_error(dir, err))?.path();
        if path.extension().is_none_or(|ext| ext != "j2") || !path.is_file() {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(|err| read_error(&path, err))?;
        found.insert(name.to_owned(), (path.display().to_string(), text));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn the_embedded_templates_load_and_render_their_samples() {
        let prompts = Prompts::load(None).unwrap();
        assert!(prompts.overridden().is_empty());
        for t in TEMPLATES {
            let sample: serde_json::Value = serde_json::from_str(t.sample).unwrap();
            let text = prompts.render(t.name, &sample).unwrap();
            assert!(!text.is_empty(), "{} renders empty", t.name);
            assert!(!text.contains("{{") && !text.contains("{%"), "{}: {text}", t.name);
        }
        let sample = TEMPLATES.iter().find(|t| t.name == COVER_LETTER).unwrap().sample;
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        let letter = prompts.render(COVER_LETTER, &sample).unwrap();
        assert!(letter.contains("Dear Acme team,") && letter.contains("Initech"), "{letter}");
    }

    #[test]
    fn a_file_in_the_directory_replaces_that_template_only() {
        let dir = dir_with(&[
            (
                "resume_feedback.j2",
                "Feedback for {{ job.title }}: {{ missing_skills | join(\"/\") }}",
            ),
            ("notes.txt", "not a template"),
        ]);
        std::fs::create_dir(dir.path().join("help")).unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        assert_eq!(prompts.overridden(), [RESUME_FEEDBACK]);
        let values = serde_json::json!({
            "job": {"title": "Baker", "company": "Crumbs"},
            "emphasise": [], "missing_skills": ["Rust", "Go"],
        });
        assert_eq!(
            prompts.render(RESUME_FEEDBACK, &values).unwrap(),
            "Feedback for Baker: Rust/Go"
        );
        let embedded = Prompts::load(None).unwrap();
        assert_eq!(
            prompts.render(SYSTEM, &serde_json::json!({})).unwrap(),
            embedded.render(SYSTEM, &serde_json::json!({})).unwrap()
        );
    }

    #[test]
    fn a_value_the_code_does_not_pass_fails_at_load_with_file_and_line() {
        let dir = dir_with(&[(
            "cover_letter.j2",
            "Dear {{ job.company }},\n\nSalary: {{ job.salary }}\n",
        )]);
        let err = Prompts::load(Some(dir.path())).unwrap_err();
        let path = dir.path().join("cover_letter.j2").display().to_string();
        let shown = err.to_string();
        assert!(matches!(err, PromptError::Template { line: Some(3), .. }), "{err:?}");
        assert!(shown.starts_with(&format!("{path}:3: ")), "{shown}");
        assert!(shown.contains("undefined"), "{shown}");
    }

    #[test]
    fn a_syntax_error_fails_at_load_with_file_and_line() {
        let dir = dir_with(&[("system.j2", "You help.\n{% if %}\nnever\n{% endif %}\n")]);
        let err = Prompts::load(Some(dir.path())).unwrap_err().to_string();
        let path = dir.path().join("system.j2").display().to_string();
        assert!(err.starts_with(&format!("{path}:2: syntax error")), "{err}");
    }

    #[test]
    fn a_template_file_with_an_unknown_name_is_refused() {
        let dir = dir_with(&[("cover_leter.j2", "Dear {{ job.company }}")]);
        let err = Prompts::load(Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("cover_leter.j2") && err.contains("cover_letter"), "{err}");
        let missing = dir.path().join("nowhere");
        let err = Prompts::load(Some(&missing)).unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
    }

    #[test]
    fn rendering_with_missing_values_or_an_unknown_name_is_an_error() {
        let prompts = Prompts::load(None).unwrap();
        let err = prompts.render(RESUME_FEEDBACK, &serde_json::json!({})).unwrap_err();
        assert!(err.to_string().starts_with("prompts/resume_feedback.j2:"), "{err}");
        assert!(matches!(prompts.render("nope", &()), Err(PromptError::NotFound(_))));
    }
}
