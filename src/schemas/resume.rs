//! Bodies of `/api/v1/resumes`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::models::resume::{Profile, Resume};

/// A resume: the file's facts, how parsing went, and the profile (the parse with the
/// candidate's corrections; each value says where it came from).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResumeBody {
    pub id: String,
    pub file_name: String,
    /// `application/pdf`, the DOCX type or `text/plain`, read from the file's bytes.
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub is_default: bool,
    /// `parsed`, `no_text` (empty, or only images), `encrypted`, `corrupt`, or `failed` (the
    /// document reader crashed, or ran past its time or memory, on this file).
    pub parse_status: String,
    /// What to do about a file that did not parse.
    pub parse_message: Option<String>,
    pub parser_version: u32,
    pub profile: Profile,
    /// The candidate's corrections as sent (field → value; `null` clears a field).
    pub corrections: serde_json::Map<String, serde_json::Value>,
    /// The text read from the file; `source.line` of parsed values points into it. Left out
    /// of listings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ResumeBody {
    pub fn new(resume: &Resume, with_text: bool) -> Self {
        Self {
            id: resume.id.clone(),
            file_name: resume.file_name.clone(),
            content_type: resume.content_type.clone(),
            size: resume.size,
            sha256: resume.sha256.clone(),
            is_default: resume.is_default,
            parse_status: resume.parse_status.clone(),
            parse_message: resume.parse_message.clone(),
            parser_version: resume.parser_version,
            profile: resume.profile(),
            corrections: resume.corrections.clone(),
            text: with_text.then(|| resume.text.clone()),
            created_at: resume.created_at,
            updated_at: resume.updated_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeListBody {
    pub items: Vec<ResumeBody>,
}

/// Corrections to a resume's profile. `set` maps fields to their corrected values (`null`
/// clears a field; lists replace the parsed list whole); `reset` drops earlier corrections so
/// the parsed values show again. Corrections survive re-parsing.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectResumeRequest {
    /// e.g. `{"name": "Ada Lovelace", "skills": ["rust", "go"], "phone": null}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub set: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub reset: Vec<String>,
}
