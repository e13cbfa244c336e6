//! Resumes and the structured profile read from them.
//!
//! Every value of a profile says where it came from: the line of the resume's text the parser
//! read it from, the candidate's own correction, or a computation over other fields. A parser
//! that cannot find a field leaves it empty; it never guesses one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a value of the profile came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Source {
    /// `parsed` (read from the resume), `corrected` (set by the candidate) or `computed`
    /// (derived from other fields, e.g. years of experience from the work history).
    pub origin: String,
    /// 1-based line of the resume's text, for parsed values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The text the value was read from, or how it was computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Source {
    pub fn line(line: usize, text: &str) -> Source {
        Source {
            origin: "parsed".into(),
            line: Some(u32::try_from(line).unwrap_or(u32::MAX)),
            text: Some(text.trim().chars().take(300).collect()),
        }
    }

    pub fn corrected() -> Source {
        Source { origin: "corrected".into(), line: None, text: None }
    }

    pub fn computed(how: impl Into<String>) -> Source {
        Source { origin: "computed".into(), line: None, text: Some(how.into()) }
    }
}

/// A value with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Sourced { value, source }
    }
}

/// One job of the work history. Dates are `YYYY-MM` or `YYYY`, as precise as the resume says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Experience {
    pub title: Option<String>,
    pub company: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The resume says "present" (or "current", "now") for the end.
    #[serde(default)]
    pub current: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Education {
    pub degree: Option<String>,
    pub school: Option<String>,
    pub year: Option<i32>,
}

/// The structured profile of a resume.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub name: Option<Sourced<String>>,
    pub email: Option<Sourced<String>>,
    pub phone: Option<Sourced<String>>,
    pub location: Option<Sourced<String>>,
    pub summary: Option<Sourced<String>>,
    #[serde(default)]
    pub links: Vec<Sourced<String>>,
    /// Canonical skill names (the taxonomy's), each with the line that named it.
    #[serde(default)]
    pub skills: Vec<Sourced<String>>,
    #[serde(default)]
    pub experience: Vec<Sourced<Experience>>,
    #[serde(default)]
    pub education: Vec<Sourced<Education>>,
    pub years_experience: Option<Sourced<f32>>,
}

/// A stored resume, without its file.
#[derive(Debug, Clone)]
pub struct Resume {
    pub id: String,
    pub owner_id: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub is_default: bool,
    pub parse_status: String,
    pub parse_message: Option<String>,
    pub parser_version: u32,
    /// The extracted text the parsed sources point into.
    pub text: String,
    pub parsed: Profile,
    /// The candidate's corrections: the fields present replace the parsed ones (a `null`
    /// clears one); they survive re-parsing.
    pub corrections: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Resume {
    /// The profile the portal uses: the parsed one with the corrections applied.
    pub fn profile(&self) -> Profile {
        apply_corrections(&self.parsed, &self.corrections)
    }
}

/// The fields of a profile a candidate may correct, as JSON keys.
pub const CORRECTABLE: &[&str] = &[
    "name",
    "email",
    "phone",
    "location",
    "summary",
    "links",
    "skills",
    "experience",
    "education",
    "years_experience",
];

/// Applies corrections (JSON: field → plain value, list of plain values, or null) to a parsed
/// profile. Corrected values carry the `corrected` source.
pub fn apply_corrections(
    parsed: &Profile,
    corrections: &serde_json::Map<String, serde_json::Value>,
) -> Profile {
    use serde_json::Value;
    fn one<T: serde::de::DeserializeOwned>(v: &Value) -> Option<Sourced<T>> {
        if v.is_null() {
            return None;
        }
        serde_json::from_value(v.clone()).ok().map(|value| Sourced::new(value, Source::corrected()))
    }
    fn many<T: serde::de::DeserializeOwned>(v: &Value) -> Vec<Sourced<T>> {
        v.as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| serde_json::from_value(item.clone()).ok())
                    .map(|value| Sourced::new(value, Source::corrected()))
                    .collect()
            })
            .unwrap_or_default()
    }
    let mut p = parsed.clone();
    for (key, v) in corrections {
        match key.as_str() {
            "name" => p.name = one(v),
            "email" => p.email = one(v),
            "phone" => p.phone = one(v),
            "location" => p.location = one(v),
            "summary" => p.summary = one(v),
            "years_experience" => p.years_experience = one(v),
            "links" => p.links = many(v),
            "skills" => p.skills = many(v),
            "experience" => p.experience = many(v),
            "education" => p.education = many(v),
            _ => {}
        }
    }
    p
}
