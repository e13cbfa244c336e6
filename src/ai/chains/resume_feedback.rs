//! Advice on a resume for one job: the skills to put forward (the job asks for them and the
//! resume shows them) and those the resume does not show, phrased, naming no other skill.

use serde::Serialize;

use super::facts::{Facts, SkillFinder};
use super::recommendation::JobName;
use super::{Ask, ChainError, Source, Written, ask, list};
use crate::ai::prompts::{self, Prompts};
use crate::ai::providers::chat::provider::ChatModel;
use crate::ai::providers::chat::types::GenerationParams;

/// What the advice is written from (the skills computed in code, in the job's order).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FeedbackInput {
    pub job: JobName,
    /// The job's skills the resume shows.
    pub emphasise: Vec<String>,
    /// The job's skills the resume does not show.
    pub missing_skills: Vec<String>,
}

impl FeedbackInput {
    /// Every fact the advice may use.
    pub fn facts(&self, find_skills: SkillFinder) -> Facts {
        let texts = [self.job.title.as_str(), self.job.company.as_str()];
        let skills = self.emphasise.iter().chain(&self.missing_skills).map(String::as_str);
        Facts::new(texts, skills, find_skills)
    }
}

const MIN_CHARS: usize = 40;

/// Phrases the advice; any unknown fact in the model's text means a second answer, and then
/// [`template`]'s sentences.
pub async fn advise(
    model: &dyn ChatModel,
    prompts: &Prompts,
    params: GenerationParams,
    input: &FeedbackInput,
    find_skills: SkillFinder,
) -> Result<Written, ChainError> {
    if input.emphasise.is_empty() && input.missing_skills.is_empty() {
        // Nothing to compare: nothing to phrase.
        return Ok(Written { text: template(input), source: Source::Template });
    }
    let facts = input.facts(find_skills);
    let question = Ask {
        prompt: prompts.render(prompts::RESUME_FEEDBACK, input)?,
        facts: &facts,
        params: GenerationParams { max_tokens: params.max_tokens.min(200), ..params },
        min_chars: MIN_CHARS,
        mentions: match input.missing_skills.is_empty() {
            true => &input.emphasise,
            false => &input.missing_skills,
        }
        .iter()
        .map(|s| s.to_lowercase())
        .collect(),
        stream: false,
    };
    Ok(match ask(model, prompts, &question, &mut |_| {}).await? {
        Some(text) => Written { text, source: Source::Model },
        None => Written { text: template(input), source: Source::Template },
    })
}

/// The advice built from the skills alone.
pub fn template(input: &FeedbackInput) -> String {
    let mut sentences = Vec::new();
    if input.emphasise.is_empty() && input.missing_skills.is_empty() {
        return format!(
            "“{}” at {} lists no skills to compare your resume with.",
            input.job.title, input.job.company
        );
    }
    if input.emphasise.is_empty() {
        sentences.push(format!(
            "Your resume shows none of the skills “{}” at {} lists.",
            input.job.title, input.job.company
        ));
    } else {
        sentences.push(format!(
            "For “{}” at {}, put {} forward: the job asks for {} and your resume shows {}.",
            input.job.title,
            input.job.company,
            list(&input.emphasise),
            if input.emphasise.len() == 1 { "it" } else { "them" },
            if input.emphasise.len() == 1 { "it" } else { "them" },
        ));
    }
    if input.missing_skills.is_empty() {
        sentences.push("Your resume shows every skill the job lists.".to_owned());
    } else {
        sentences.push(format!(
            "The job also asks for {}, which your resume does not show: if you have {}, say so \
             with an example.",
            list(&input.missing_skills),
            if input.missing_skills.len() == 1 { "it" } else { "them" },
        ));
    }
    sentences.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::chains::test_model::Scripted;

    fn skills_in(text: &str) -> Vec<String> {
        let lower = text.to_lowercase();
        ["rust", "python", "kubernetes", "postgresql"]
            .into_iter()
            .filter(|s| lower.split(|c: char| !c.is_alphanumeric()).any(|w| w == *s))
            .map(str::to_owned)
            .collect()
    }

    fn input() -> FeedbackInput {
        FeedbackInput {
            job: JobName { title: "Rust Developer".into(), company: "Acme".into() },
            emphasise: vec!["rust".into()],
            missing_skills: vec!["kubernetes".into(), "postgresql".into()],
        }
    }

    #[tokio::test]
    async fn advice_naming_another_skill_falls_back_to_the_template() {
        let prompts = Prompts::load(None).unwrap();
        let model = Scripted::new(&["Learn Python.", "Add Python to your resume."]);
        let written = advise(&model, &prompts, GenerationParams::default(), &input(), skills_in)
            .await
            .unwrap();
        assert_eq!(written.source, Source::Template);
        assert_eq!(
            written.text,
            "For “Rust Developer” at Acme, put rust forward: the job asks for it and your resume \
             shows it. The job also asks for kubernetes and postgresql, which your resume does \
             not show: if you have them, say so with an example."
        );
        assert_eq!(input().facts(skills_in).unknown(&written.text), Vec::<String>::new());
    }

    #[tokio::test]
    async fn advice_that_names_no_missing_skill_says_nothing_and_is_replaced() {
        let prompts = Prompts::load(None).unwrap();
        let vague = "A resume is a tool to show your skills. Keep it short and clear for Acme.";
        let model = Scripted::new(&[vague]);
        let written = advise(&model, &prompts, GenerationParams::default(), &input(), skills_in)
            .await
            .unwrap();
        assert_eq!(written.source, Source::Template);
        let useful = "Put Rust first for the Rust Developer job at Acme. Kubernetes is missing \
            from your resume; add it only if you have used it.";
        let model = Scripted::new(&[useful]);
        let written = advise(&model, &prompts, GenerationParams::default(), &input(), skills_in)
            .await
            .unwrap();
        assert_eq!(written, Written { text: useful.into(), source: Source::Model });
    }

    #[test]
    fn the_prompts_sample_has_the_shape_of_the_input() {
        let sample = crate::ai::prompts::TEMPLATES
            .iter()
            .find(|t| t.name == prompts::RESUME_FEEDBACK)
            .unwrap()
            .sample;
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        assert_eq!(
            crate::ai::chains::shape(&sample),
            crate::ai::chains::shape(&serde_json::to_value(input()).unwrap())
        );
    }
}
