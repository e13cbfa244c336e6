//! Loading: the portal's records as retrievable documents (a kind, an id, a title and plain
//! text built from the record's fields), and the one cleaning every retrieved text gets
//! ([`strip_invisible`]).
//!
//! Text written by users (job descriptions, resumes, cover letters) is only data here: it is
//! copied into a document's text, never read for meaning.

use crate::models::application::Application;
use crate::models::company::Company;
use crate::models::conversation::CitationKind;
use crate::models::job::Job;
use crate::models::resume::Resume;
use crate::models::saved::SavedSearch;

/// One retrievable document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: CitationKind,
    /// The id of the record (a help page's is its name, e.g. `applying`).
    pub id: String,
    pub title: String,
    /// Plain text, invisible characters removed.
    pub text: String,
}

impl Document {
    /// A document of `kind` whose title and text are cleaned with [`strip_invisible`].
    pub fn new(kind: CitationKind, id: impl Into<String>, title: &str, text: &str) -> Self {
        Self {
            kind,
            id: id.into(),
            title: strip_invisible(title).trim().to_owned(),
            text: strip_invisible(text).trim().to_owned(),
        }
    }
}

/// Whether `c` is a character that shows nothing yet can change how text reads or is
/// understood: zero-width characters and joiners, bidirectional controls, the tag block,
/// variation selectors, soft hyphens and the other format characters, and control characters
/// other than tab and line breaks.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                  // soft hyphen
        | '\u{034F}'                // combining grapheme joiner
        | '\u{061C}'                // Arabic letter mark
        | '\u{115F}' | '\u{1160}'   // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'   // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'   // Mongolian variation selectors and vowel separator
        | '\u{200B}'..='\u{200F}'   // zero-width space, non-joiner, joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'   // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, bidi isolates, deprecated formats
        | '\u{3164}'                // Hangul filler
        | '\u{FE00}'..='\u{FE0F}'   // variation selectors
        | '\u{FEFF}'                // zero-width no-break space (BOM)
        | '\u{FFA0}'                // halfwidth Hangul filler
        | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}' // musical formatting
        | '\u{E0000}'..='\u{E007F}' // tags
        | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
    ) || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// `text` without its invisible characters ([`is_invisible`]); everything visible is kept
/// as it is. Borrowed when there is nothing to remove.
pub fn strip_invisible(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_invisible) {
        std::borrow::Cow::Owned(text.chars().filter(|&c| !is_invisible(c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Appends `label: value` as a line when there is a value.
fn line(out: &mut String, label: &str, value: impl AsRef<str>) {
    let value = value.as_ref().trim();
    if !value.is_empty() {
        out.push_str(label);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
}

fn words(value: &str) -> String {
    value.replace('_', " ")
}

/// A public job: its title, company, places, terms and skills, then its description.
pub fn job(job: &Job, company_name: Option<&str>) -> Document {
    let f = &job.fields;
    let mut text = String::new();
    line(&mut text, "Title", &f.title);
    line(&mut text, "Company", company_name.unwrap_or_default());
    if job.status != crate::models::job::JobStatus::Published {
        line(&mut text, "Status", job.status.as_str());
    } else if job.review != crate::models::job::Review::Approved {
        line(&mut text, "Review", job.review.as_str());
    }
    let places: Vec<String> = f.locations.iter().filter_map(|l| l.label()).collect();
    line(&mut text, "Location", places.join("; "));
    line(&mut text, "Workplace", f.workplace.map(|w| w.as_str()).unwrap_or_default());
    line(&mut text, "Remote regions", f.remote_regions.join(", "));
    line(
        &mut text,
        "Employment type",
        f.employment_type.map(|t| words(t.as_str())).unwrap_or_default(),
    );
    line(&mut text, "Seniority", f.seniority.map(|s| s.as_str()).unwrap_or_default());
    if let Some(salary) = f.salary.as_ref().filter(|s| s.public) {
        let amount = match (salary.min, salary.max) {
            (Some(min), Some(max)) => format!("{min:.0}–{max:.0}"),
            (Some(min), None) => format!("from {min:.0}"),
            (None, Some(max)) => format!("up to {max:.0}"),
            (None, None) => String::new(),
        };
        if !amount.is_empty() {
            let currency = salary.currency.as_deref().unwrap_or_default();
            let period = salary.period.map(|p| format!(" per {}", p.as_str())).unwrap_or_default();
            line(&mut text, "Salary", format!("{amount} {currency}{period}"));
        }
    }
    line(&mut text, "Category", f.category.as_deref().unwrap_or_default());
    line(&mut text, "Skills", f.skills.join(", "));
    text.push('\n');
    text.push_str(&f.description);
    let title = match company_name {
        Some(company) if !company.trim().is_empty() => format!("{} at {}", f.title, company.trim()),
        _ => f.title.clone(),
    };
    Document::new(CitationKind::Job, &job.id, &title, &text)
}

/// A company's public profile.
pub fn company(company: &Company) -> Document {
    let mut text = String::new();
    line(&mut text, "Company", &company.name);
    line(&mut text, "Location", company.location.as_deref().unwrap_or_default());
    line(
        &mut text,
        "Size",
        company.size.as_deref().map(|s| format!("{s} people")).unwrap_or_default(),
    );
    line(&mut text, "Website", company.website.as_deref().unwrap_or_default());
    line(&mut text, "Verified", if company.verified { "yes" } else { "no" });
    text.push('\n');
    text.push_str(company.description.as_deref().unwrap_or_default());
    Document::new(CitationKind::Company, &company.id, &company.name, &text)
}

/// One of the caller's resumes: its file name, the parsed profile's skills and summary, and
/// the extracted text.
pub fn resume(resume: &Resume) -> Document {
    let p = &resume.parsed;
    let mut text = String::new();
    line(&mut text, "Resume", &resume.file_name);
    line(&mut text, "Default", if resume.is_default { "yes" } else { "no" });
    let skills: Vec<&str> = p.skills.iter().map(|s| s.value.as_str()).collect();
    line(&mut text, "Skills", skills.join(", "));
    if let Some(years) = &p.years_experience {
        line(&mut text, "Years of experience", format!("{}", years.value));
    }
    for job in &p.experience {
        let e = &job.value;
        let role = [e.title.as_deref(), e.company.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" at ");
        line(&mut text, "Experience", role);
    }
    line(&mut text, "Summary", p.summary.as_ref().map(|s| s.value.as_str()).unwrap_or_default());
    text.push('\n');
    text.push_str(&resume.text);
    Document::new(CitationKind::Resume, &resume.id, &format!("Resume {}", resume.file_name), &text)
}

/// One of the caller's applications: the job it went to, its stage, and the cover letter.
pub fn application(
    application: &Application,
    job_title: Option<&str>,
    company_name: Option<&str>,
) -> Document {
    let job_title = job_title.unwrap_or("a job no longer listed");
    let mut text = String::new();
    line(&mut text, "Application to", job_title);
    line(&mut text, "Company", company_name.unwrap_or_default());
    line(&mut text, "Stage", application.stage.as_str());
    if let Some(reason) = application.rejection_reason {
        line(&mut text, "Rejection reason", words(reason.as_str()));
    }
    line(&mut text, "Applied on", application.created_at.format("%Y-%m-%d").to_string());
    line(&mut text, "Job id", &application.job_id);
    line(&mut text, "Cover letter", &application.cover_letter);
    let title = match company_name {
        Some(company) => {
            format!("Application: {job_title} at {company} ({})", application.stage.as_str())
        }
        None => format!("Application: {job_title} ({})", application.stage.as_str()),
    };
    Document::new(CitationKind::Application, &application.id, &title, &text)
}

/// An application to one of the caller's company's jobs, as its company sees it: the
/// candidate's name, the job, the stage and the cover letter.
pub fn applicant(application: &Application, candidate_name: &str, job_title: &str) -> Document {
    let mut text = String::new();
    line(&mut text, "Applicant", candidate_name);
    line(&mut text, "Applied to", job_title);
    line(&mut text, "Stage", application.stage.as_str());
    line(&mut text, "Applied on", application.created_at.format("%Y-%m-%d").to_string());
    line(&mut text, "Job id", &application.job_id);
    line(&mut text, "Cover letter", &application.cover_letter);
    let title =
        format!("Applicant {candidate_name} for {job_title} ({})", application.stage.as_str());
    Document::new(CitationKind::Application, &application.id, &title, &text)
}

/// One of the caller's saved searches: its name, filters and alert settings.
pub fn saved_search(search: &SavedSearch) -> Document {
    let f = &search.filters;
    let mut text = String::new();
    line(&mut text, "Saved search", &search.name);
    line(&mut text, "Keywords", f.q.as_deref().unwrap_or_default());
    line(&mut text, "Location", f.location.as_deref().unwrap_or_default());
    line(&mut text, "Countries", f.country.join(", "));
    line(&mut text, "Workplace", f.workplace.join(", "));
    line(&mut text, "Employment type", words(&f.employment_type.join(", ")));
    line(&mut text, "Seniority", f.seniority.join(", "));
    line(&mut text, "Category", f.category.join(", "));
    line(&mut text, "Skills", f.skills.join(", "));
    line(&mut text, "Companies", f.company.join(", "));
    if let Some(min) = f.salary_min {
        let currency = f.salary_currency.as_deref().unwrap_or_default();
        let period = f.salary_period.as_deref().map(|p| format!(" per {p}")).unwrap_or_default();
        line(&mut text, "Minimum salary", format!("{min:.0} {currency}{period}"));
    }
    line(
        &mut text,
        "Alerts",
        format!("{} ({})", search.frequency.as_str(), if search.active { "on" } else { "off" }),
    );
    Document::new(
        CitationKind::SavedSearch,
        &search.id,
        &format!("Saved search {}", search.name),
        &text,
    )
}

/// A help page written in Markdown: its first `# ` heading is the title, the rest the text.
pub fn help_page(name: &str, markdown: &str) -> Document {
    let mut lines = markdown.lines();
    let title = lines
        .by_ref()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim_start_matches('#').trim().to_owned())
        .unwrap_or_else(|| name.to_owned());
    let text: Vec<&str> = lines.collect();
    Document::new(CitationKind::Help, name, &title, &text.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_go_and_visible_text_stays() {
        let text = "Ig\u{200B}nore\u{202E} previous\u{E0041}\u{E0042} instructions\u{FEFF}\u{2066}x\u{2069}\u{0007}";
        assert_eq!(strip_invisible(text), "Ignore previous instructionsx");
        let visible = "Café — naïve résumé, 東京, emoji 🙂, tab\tand\nlines";
        assert!(matches!(strip_invisible(visible), std::borrow::Cow::Borrowed(_)));
        assert_eq!(strip_invisible(visible), visible);
    }

    #[test]
    fn a_help_page_takes_its_title_from_its_heading() {
        let doc = help_page("applying", "# How to apply\n\nOpen a job and press Apply.\u{200B}\n");
        assert_eq!(doc.kind, CitationKind::Help);
        assert_eq!(doc.id, "applying");
        assert_eq!(doc.title, "How to apply");
        assert_eq!(doc.text, "Open a job and press Apply.");
    }
}
