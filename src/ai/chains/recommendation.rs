//! Why a job was recommended, in two or three sentences: the deterministic explanation
//! (matched and missing skills, the reasons) phrased, naming no skill or fact it does not hold.

use serde::Serialize;

use super::facts::{Facts, SkillFinder};
use super::{Ask, ChainError, Source, Written, ask, list};
use crate::ai::prompts::{self, Prompts};
use crate::ai::providers::chat::provider::ChatModel;
use crate::ai::providers::chat::types::GenerationParams;
use crate::models::recommendation::Explanation;

/// The job, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobName {
    pub title: String,
    pub company: String,
}

/// What the sentences are written from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExplanationInput {
    pub job: JobName,
    pub matched_skills: Vec<String>,
    pub missing_skills: Vec<String>,
    /// The explanation's reasons in words, skills first ("1 of 2 skills match"), then the
    /// preferences the job fits or misses.
    pub reasons: Vec<String>,
}

impl ExplanationInput {
    /// The input of a job's explanation. The similarity of the texts is left out (a cosine
    /// means nothing to a reader); its skills part becomes the skills summary.
    pub fn new(title: &str, company: &str, explanation: &Explanation) -> Self {
        let mut reasons = Vec::new();
        if !explanation.matched_skills.is_empty() || !explanation.missing_skills.is_empty() {
            reasons.push(format!("{}.", capitalise(&explanation.skills_summary)));
        }
        reasons.extend(
            explanation
                .reasons
                .iter()
                .filter(|r| r.factor != "similarity" && r.factor != "skills")
                .map(|r| format!("{}.", capitalise(&r.detail))),
        );
        ExplanationInput {
            job: JobName { title: title.to_owned(), company: company.to_owned() },
            matched_skills: explanation.matched_skills.clone(),
            missing_skills: explanation.missing_skills.clone(),
            reasons,
        }
    }

    /// Every fact the sentences may use.
    pub fn facts(&self, find_skills: SkillFinder) -> Facts {
        let texts = [self.job.title.as_str(), self.job.company.as_str()]
            .into_iter()
            .chain(self.reasons.iter().map(String::as_str));
        let skills = self.matched_skills.iter().chain(&self.missing_skills).map(String::as_str);
        Facts::new(texts, skills, find_skills)
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

const MIN_CHARS: usize = 40;

/// Phrases the explanation; any unknown fact in the model's text means a second answer, and
/// then [`template`]'s sentences.
pub async fn explain(
    model: &dyn ChatModel,
    prompts: &Prompts,
    params: GenerationParams,
    input: &ExplanationInput,
    find_skills: SkillFinder,
) -> Result<Written, ChainError> {
    let facts = input.facts(find_skills);
    let question = Ask {
        prompt: prompts.render(prompts::RECOMMENDATION_EXPLANATION, input)?,
        facts: &facts,
        params: GenerationParams { max_tokens: params.max_tokens.min(160), ..params },
        min_chars: MIN_CHARS,
        mentions: match input.matched_skills.is_empty() && input.missing_skills.is_empty() {
            true => vec![input.job.company.to_lowercase()],
            false => input
                .matched_skills
                .iter()
                .chain(&input.missing_skills)
                .map(|s| s.to_lowercase())
                .collect(),
        },
        stream: false,
    };
    Ok(match ask(model, prompts, &question, &mut |_| {}).await? {
        Some(text) => Written { text, source: Source::Model },
        None => Written { text: template(input), source: Source::Template },
    })
}

/// The explanation in sentences built from its parts alone.
pub fn template(input: &ExplanationInput) -> String {
    let mut sentences = vec![match input.matched_skills.as_slice() {
        [] => format!(
            "“{}” at {} was recommended for how closely your resume reads like the job.",
            input.job.title, input.job.company
        ),
        matched => format!(
            "“{}” at {} was recommended because it asks for {}, which your resume shows.",
            input.job.title,
            input.job.company,
            list(matched)
        ),
    }];
    if !input.missing_skills.is_empty() {
        sentences.push(format!(
            "It also asks for {}, which your resume does not show.",
            list(&input.missing_skills)
        ));
    }
    let preferences: Vec<String> = input
        .reasons
        .iter()
        .skip(usize::from(!input.matched_skills.is_empty() || !input.missing_skills.is_empty()))
        .map(|r| r.trim_end_matches('.').to_owned())
        .collect();
    if !preferences.is_empty() {
        sentences.push(format!("As for your preferences: {}.", preferences.join("; ")));
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::chains::test_model::Scripted;
    use crate::models::recommendation::Reason;

    fn skills_in(text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        ["rust", "python", "kubernetes", "postgresql", "go"]
            .into_iter()
            .filter(|s| lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *s))
            .map(str::to_owned)
            .collect()
    }

    fn input() -> ExplanationInput {
        let explanation = Explanation {
            similarity: 0.52,
            matched_skills: vec!["rust".into()],
            missing_skills: vec!["kubernetes".into()],
            skills_summary: "1 of 2 skills match".into(),
            reasons: vec![
                Reason {
                    factor: "similarity",
                    effect: 0.3,
                    detail: "your resume and the job read alike (cosine 0.52)".into(),
                },
                Reason {
                    factor: "skills",
                    effect: 0.2,
                    detail: "1 of 2 skills match; missing: kubernetes".into(),
                },
                Reason {
                    factor: "workplace",
                    effect: 0.05,
                    detail: "remote, as you prefer".into(),
                },
            ],
        };
        ExplanationInput::new("Rust Developer", "Acme", &explanation)
    }

    #[test]
    fn the_input_keeps_skills_and_preferences_but_not_the_cosine() {
        let input = input();
        assert_eq!(input.reasons, ["1 of 2 skills match.", "Remote, as you prefer."]);
        assert_eq!(
            template(&input),
            "“Rust Developer” at Acme was recommended because it asks for rust, which your \
             resume shows. It also asks for kubernetes, which your resume does not show. As for \
             your preferences: Remote, as you prefer."
        );
        assert_eq!(input.facts(skills_in).unknown(&template(&input)), Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_skill_outside_the_explanation_means_the_template() {
        let prompts = Prompts::load(None).unwrap();
        let model = Scripted::new(&[
            "Acme wants Rust and Go, and you know both well.",
            "The job suits your Python background.",
        ]);
        let written = explain(&model, &prompts, GenerationParams::default(), &input(), skills_in)
            .await
            .unwrap();
        assert_eq!(written, Written { text: template(&input()), source: Source::Template });

        let fine = "This Rust Developer job at Acme matches your Rust. It also wants Kubernetes, \
                    which your resume does not show yet.";
        let model = Scripted::new(&[fine]);
        let written = explain(&model, &prompts, GenerationParams::default(), &input(), skills_in)
            .await
            .unwrap();
        assert_eq!(written, Written { text: fine.into(), source: Source::Model });
    }

    #[test]
    fn the_prompts_sample_has_the_shape_of_the_input() {
        let sample = crate::ai::prompts::TEMPLATES
            .iter()
            .find(|t| t.name == prompts::RECOMMENDATION_EXPLANATION)
            .unwrap()
            .sample;
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        assert_eq!(
            crate::ai::chains::shape(&sample),
            crate::ai::chains::shape(&serde_json::to_value(input()).unwrap())
        );
    }
}
