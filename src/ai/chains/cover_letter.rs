//! A cover letter from a job's facts and the candidate's profile, using no other fact.

use serde::Serialize;

use super::facts::{Facts, SkillFinder};
use super::{Ask, ChainError, Source, Written, ask, list};
use crate::ai::prompts::{self, Prompts};
use crate::ai::providers::chat::provider::ChatModel;
use crate::ai::providers::chat::types::GenerationParams;

/// The job, as the letter may speak of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct JobFacts {
    pub title: String,
    pub company: String,
    /// "Berlin, DE"; `None` when the job says no place (or is remote).
    pub location: Option<String>,
    /// The skills the job asks for.
    pub skills: Vec<String>,
}

/// The candidate, from their resume's profile (with their corrections).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CandidateFacts {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub skills: Vec<String>,
    /// Of the job's skills, those the candidate has.
    pub matched_skills: Vec<String>,
    /// "Backend Engineer at Initech (2019 to 2023)", most recent first.
    pub experience: Vec<String>,
    /// "BSc Computer Science, Example University (2018)".
    pub education: Vec<String>,
}

/// What the letter is written from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CoverLetterInput {
    pub job: JobFacts,
    pub candidate: CandidateFacts,
}

impl CoverLetterInput {
    /// Every fact the letter may use.
    pub fn facts(&self, find_skills: SkillFinder) -> Facts {
        let job = &self.job;
        let candidate = &self.candidate;
        let texts = [job.title.as_str(), job.company.as_str()]
            .into_iter()
            .chain(job.location.as_deref())
            .chain(candidate.name.as_deref())
            .chain(candidate.summary.as_deref())
            .chain(candidate.experience.iter().map(String::as_str))
            .chain(candidate.education.iter().map(String::as_str));
        let skills = job.skills.iter().chain(&candidate.skills).map(String::as_str);
        Facts::new(texts, skills, find_skills)
    }
}

/// The fewest characters a letter of the model's may have.
const MIN_CHARS: usize = 150;

/// Writes the letter, sending its text to `on_piece` as each sentence passes the check (the
/// pieces add up to the returned text). The model's sentences that name anything not in the
/// input, or repeat one already kept, are left out; when too little is left twice, or the
/// company is never named, the letter is [`template`]'s.
pub async fn write(
    model: &dyn ChatModel,
    prompts: &Prompts,
    params: GenerationParams,
    input: &CoverLetterInput,
    find_skills: SkillFinder,
    on_piece: &mut (dyn FnMut(&str) + Send),
) -> Result<Written, ChainError> {
    let facts = input.facts(find_skills);
    let question = Ask {
        prompt: prompts.render(prompts::COVER_LETTER, input)?,
        facts: &facts,
        params,
        min_chars: MIN_CHARS,
        mentions: vec![input.job.company.to_lowercase()],
        stream: true,
    };
    if let Some(text) = ask(model, prompts, &question, on_piece).await? {
        return Ok(Written { text, source: Source::Model });
    }
    let text = template(input);
    // Paragraph by paragraph, so a stream reads like one.
    let mut rest = text.as_str();
    while let Some(end) = rest.find("\n\n") {
        on_piece(&rest[..end + 2]);
        rest = &rest[end + 2..];
    }
    on_piece(rest);
    Ok(Written { text, source: Source::Template })
}

/// The letter written from the facts alone.
pub fn template(input: &CoverLetterInput) -> String {
    let job = &input.job;
    let candidate = &input.candidate;
    let mut paragraphs = Vec::new();
    paragraphs.push(format!("Dear {} team,", job.company));
    let mut opening = format!("I am writing to apply for the {} position", job.title);
    if let Some(location) = &job.location {
        opening.push_str(&format!(" in {location}"));
    }
    opening.push('.');
    if let Some(summary) = candidate.summary.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        opening.push(' ');
        opening.push_str(summary);
        if !summary.ends_with(['.', '!', '?']) {
            opening.push('.');
        }
    }
    paragraphs.push(opening);
    let mut middle = Vec::new();
    if !candidate.matched_skills.is_empty() {
        middle
            .push(format!("The role asks for {}, which I bring.", list(&candidate.matched_skills)));
    } else if !candidate.skills.is_empty() {
        let shown: Vec<&String> = candidate.skills.iter().take(6).collect();
        middle.push(format!("My skills include {}.", list(&shown)));
    }
    if let Some(latest) = candidate.experience.first() {
        middle.push(format!("Most recently I worked as {latest}."));
    }
    if let Some(studies) = candidate.education.first() {
        middle.push(format!("I studied {studies}."));
    }
    if !middle.is_empty() {
        paragraphs.push(middle.join(" "));
    }
    paragraphs.push(format!(
        "I would welcome the chance to talk about how I can contribute to {}.",
        job.company
    ));
    let mut closing = "Kind regards,".to_owned();
    if let Some(name) = &candidate.name {
        closing.push('\n');
        closing.push_str(name);
    }
    paragraphs.push(closing);
    paragraphs.join("\n\n")
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

    pub(crate) fn input() -> CoverLetterInput {
        CoverLetterInput {
            job: JobFacts {
                title: "Rust Developer".into(),
                company: "Acme".into(),
                location: Some("Berlin, DE".into()),
                skills: vec!["rust".into(), "postgresql".into()],
            },
            candidate: CandidateFacts {
                name: Some("Ada Lovelace".into()),
                summary: Some("Backend engineer who likes type systems.".into()),
                skills: vec!["rust".into(), "python".into()],
                matched_skills: vec!["rust".into()],
                experience: vec!["Backend Engineer at Initech (2019 to 2023)".into()],
                education: vec!["BSc Computer Science, Example University (2018)".into()],
            },
        }
    }

    async fn run(scripts: &[&str]) -> (Written, String, usize) {
        let model = Scripted::new(scripts);
        let prompts = Prompts::load(None).unwrap();
        let mut streamed = String::new();
        let written = write(
            &model,
            &prompts,
            GenerationParams::default(),
            &input(),
            skills_in,
            &mut |piece| streamed.push_str(piece),
        )
        .await
        .unwrap();
        let asked = model.requests.lock().unwrap().len();
        (written, streamed, asked)
    }

    #[tokio::test]
    async fn sentences_naming_unknown_facts_are_left_out_of_the_model_letter() {
        let letter = "Dear Acme team,\n\nI am applying for the Rust Developer role in Berlin. \
            I worked at Globex for 7 years. As a Backend Engineer at Initech from 2019 to 2023 I \
            wrote Rust every day.\n\nI would love to bring that to Acme.\n\nKind regards,\nAda Lovelace";
        let (written, streamed, asked) = run(&[letter]).await;
        assert_eq!(written.source, Source::Model);
        assert_eq!(asked, 1);
        assert_eq!(streamed, written.text);
        assert!(
            !written.text.contains("Globex") && !written.text.contains('7'),
            "{}",
            written.text
        );
        assert!(written.text.starts_with("Dear Acme team,\n\nI am applying"), "{}", written.text);
        assert!(written.text.ends_with("Kind regards,\nAda Lovelace"), "{}", written.text);
    }

    #[tokio::test]
    async fn too_little_left_twice_falls_back_to_the_template_letter() {
        let bad = "I worked at Globex for 7 years. I hold a PhD from MIT. I know Kubernetes.";
        let (written, streamed, asked) = run(&[bad, bad]).await;
        assert_eq!(asked, 2, "asked once more before the template");
        assert_eq!(written.source, Source::Template);
        assert_eq!(written.text, template(&input()));
        assert_eq!(streamed, written.text);
        let facts = input().facts(skills_in);
        for sentence in written.text.split_inclusive(['.', '\n']) {
            assert_eq!(facts.unknown(sentence), Vec::<String>::new(), "{sentence}");
        }
    }

    #[tokio::test]
    async fn repeated_sentences_are_left_out_and_a_letter_must_name_the_company() {
        let looping = "Dear Acme team,\n\nI would love to write Rust for you every day. I would \
            love to write Rust for you each day. I would really love to write Rust for you every \
            day. Backend Engineer at Initech taught me a lot about services.\n\nKind regards,\nAda \
            Lovelace";
        let (written, streamed, _) = run(&[looping]).await;
        assert_eq!(written.source, Source::Model);
        assert_eq!(streamed, written.text);
        assert_eq!(written.text.matches("I would").count(), 1, "{}", written.text);
        let nameless = "Hello,\n\nI would love to write Rust every day as a Rust Developer, having \
            been a Backend Engineer at Initech from 2019 to 2023.\n\nKind regards,\nAda Lovelace";
        let (written, streamed, asked) = run(&[nameless]).await;
        assert_eq!((written.source, asked), (Source::Template, 2));
        assert_eq!(streamed, written.text);
    }

    #[tokio::test]
    async fn the_second_answer_is_used_when_the_first_fails() {
        let good = "Dear Acme team,\n\nI would like to join Acme as a Rust Developer. My years \
            as a Backend Engineer at Initech taught me to ship reliable services in Rust.\n\nKind \
            regards,\nAda Lovelace";
        let (written, streamed, asked) = run(&["I worked at Globex.", good]).await;
        assert_eq!((written.source, asked), (Source::Model, 2));
        assert_eq!(written.text, good);
        assert_eq!(streamed, good);
    }

    #[tokio::test]
    async fn every_request_starts_with_the_same_system_prompt() {
        let model = Scripted::new(&["I worked at Globex."]);
        let prompts = Prompts::load(None).unwrap();
        write(&model, &prompts, GenerationParams::default(), &input(), skills_in, &mut |_| {})
            .await
            .unwrap();
        let requests = model.requests.lock().unwrap();
        let system = prompts.render(prompts::SYSTEM, &serde_json::json!({})).unwrap();
        assert_eq!(requests.len(), 2);
        for request in requests.iter() {
            assert_eq!(request.messages[0].content, system);
            assert!(request.messages[1].content.contains("Rust Developer"));
        }
    }

    #[test]
    fn the_prompts_sample_has_the_shape_of_the_input() {
        let sample = crate::ai::prompts::TEMPLATES
            .iter()
            .find(|t| t.name == prompts::COVER_LETTER)
            .unwrap()
            .sample;
        let sample: serde_json::Value = serde_json::from_str(sample).unwrap();
        assert_eq!(
            crate::ai::chains::shape(&sample),
            crate::ai::chains::shape(&serde_json::to_value(input()).unwrap())
        );
    }
}
