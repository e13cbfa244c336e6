//! Queries on `resume` and `resume_file`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, unexpected, wrote_any};
use crate::db::Executor;
use crate::models::resume::{Profile, Resume};

#[derive(Debug, SurrealValue)]
struct ResumeRow {
    id: RecordId,
    owner: RecordId,
    file_name: String,
    content_type: String,
    size: i64,
    sha256: String,
    is_default: bool,
    parse_status: String,
    parse_message: Option<String>,
    parser_version: i64,
    text: Option<String>,
    parsed: Option<serde_json::Value>,
    corrections: Option<serde_json::Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ResumeRow> for Resume {
    type Error = RepoError;

    fn try_from(r: ResumeRow) -> Result<Self, RepoError> {
        let parsed: Profile = match r.parsed {
            Some(value) => serde_json::from_value(value)
                .map_err(|e| unexpected(format!("a stored profile: {e}")))?,
            None => Profile::default(),
        };
        Ok(Resume {
            id: key_string(&r.id),
            owner_id: key_string(&r.owner),
            file_name: r.file_name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or(0),
            sha256: r.sha256,
            is_default: r.is_default,
            parse_status: r.parse_status,
            parse_message: r.parse_message,
            parser_version: u32::try_from(r.parser_version).unwrap_or(0),
            text: r.text.unwrap_or_default(),
            parsed,
            corrections: r.corrections.and_then(|c| c.as_object().cloned()).unwrap_or_default(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const FIELDS: &str = "id, owner, file_name, content_type, size, sha256, is_default, parse_status, parse_message, \
                      parser_version, text, parsed, corrections, created_at, updated_at";

/// A resume to store with its file.
#[derive(Debug, Clone)]
pub struct NewResume {
    pub id: String,
    pub owner_id: String,
    pub file_name: String,
    pub content_type: String,
    pub sha256: String,
    pub is_default: bool,
    pub parse: ParseWrite,
}

/// What a parse wrote: status, message, text, the profile and the effective skills.
#[derive(Debug, Clone)]
pub struct ParseWrite {
    pub status: String,
    pub message: Option<String>,
    pub version: u32,
    pub text: String,
    pub parsed: serde_json::Value,
    pub skills: Vec<String>,
}

/// Stores a resume and its file, in the caller's transaction.
pub async fn insert(
    ex: &impl Executor,
    resume: &NewResume,
    content: bytes::Bytes,
) -> Result<(), RepoError> {
    let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
    ex.query(
        "CREATE type::record('resume', $id) SET owner = type::record('user', $owner), file_name = $file_name, \
         content_type = $content_type, size = $size, sha256 = $sha256, is_default = $is_default, \
         parse_status = $status, parse_message = $message, parser_version = $version, text = $text, \
         parsed = $parsed, skills = $skills RETURN NONE; \
         CREATE type::record('resume_file', $id) SET owner = type::record('user', $owner), content = $content RETURN NONE;",
    )
    .bind(("id", resume.id.clone()))
    .bind(("owner", resume.owner_id.clone()))
    .bind(("file_name", resume.file_name.clone()))
    .bind(("content_type", resume.content_type.clone()))
    .bind(("size", size))
    .bind(("sha256", resume.sha256.clone()))
    .bind(("is_default", resume.is_default))
    .bind(("status", resume.parse.status.clone()))
    .bind(("message", resume.parse.message.clone()))
    .bind(("version", i64::from(resume.parse.version)))
    .bind(("text", resume.parse.text.clone()))
    .bind(("parsed", resume.parse.parsed.clone()))
    .bind(("skills", resume.parse.skills.clone()))
    .bind(("content", content))
    .await?
    .check()?;
    Ok(())
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<Resume>, RepoError> {
    let mut response = ex
        .query(format!("SELECT {FIELDS} FROM type::record('resume', $id)"))
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<ResumeRow> = response.take(0)?;
    rows.into_iter().next().map(Resume::try_from).transpose()
}

/// A candidate's resumes, newest first (the text is left out: a listing does not need it).
pub async fn list_by_owner(ex: &impl Executor, owner_id: &str) -> Result<Vec<Resume>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {} FROM resume WHERE owner = type::record('user', $owner) ORDER BY created_at DESC",
            FIELDS.replace("text, ", "")
        ))
        .bind(("owner", owner_id.to_owned()))
        .await?;
    let rows: Vec<ResumeRow> = response.take(0)?;
    rows.into_iter().map(Resume::try_from).collect()
}

/// A candidate's resumes with their text, newest first, at most `limit`: only those whose
/// owner is `owner_id` (the query binds it).
pub async fn with_text_by_owner(
    ex: &impl Executor,
    owner_id: &str,
    limit: u32,
) -> Result<Vec<Resume>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM resume WHERE owner = type::record('user', $owner) \
             ORDER BY created_at DESC LIMIT $limit"
        ))
        .bind(("owner", owner_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .await?;
    let rows: Vec<ResumeRow> = response.take(0)?;
    rows.into_iter().map(Resume::try_from).collect()
}

pub async fn count_by_owner(ex: &impl Executor, owner_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query("SELECT count() AS count FROM resume WHERE owner = type::record('user', $owner) GROUP ALL")
        .bind(("owner", owner_id.to_owned()))
        .await?;
    let row: Option<Count> = response.take(0)?;
    Ok(row.map_or(0, |c| c.count))
}

/// The candidate's default resume, if one is marked.
pub async fn default_of(ex: &impl Executor, owner_id: &str) -> Result<Option<String>, RepoError> {
    #[derive(SurrealValue)]
    struct IdRow {
        id: RecordId,
    }
    let mut response = ex
        .query("SELECT id FROM resume WHERE owner = type::record('user', $owner) AND is_default = true LIMIT 1")
        .bind(("owner", owner_id.to_owned()))
        .await?;
    let rows: Vec<IdRow> = response.take(0)?;
    Ok(rows.first().map(|r| key_string(&r.id)))
}

/// The original file.
pub async fn file(ex: &impl Executor, id: &str) -> Result<Option<bytes::Bytes>, RepoError> {
    #[derive(SurrealValue)]
    struct FileRow {
        content: bytes::Bytes,
    }
    let mut response = ex
        .query("SELECT content FROM type::record('resume_file', $id)")
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<FileRow> = response.take(0)?;
    Ok(rows.into_iter().next().map(|r| r.content))
}

/// Marks one resume of its owner as the default and unmarks the others.
pub async fn set_default(ex: &impl Executor, owner_id: &str, id: &str) -> Result<(), RepoError> {
    ex.query(
        "UPDATE resume SET is_default = (id = type::record('resume', $id)) \
         WHERE owner = type::record('user', $owner) RETURN NONE",
    )
    .bind(("owner", owner_id.to_owned()))
    .bind(("id", id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Writes to a candidate's resume inside an application's transaction, so a deletion racing
/// the application conflicts with it instead of leaving the application without its resume.
/// `false` when the resume is gone.
pub async fn hold(ex: &impl Executor, id: &str, owner_id: &str) -> Result<bool, RepoError> {
    let response = ex
        .query(
            "UPDATE type::record('resume', $id) SET updated_at = updated_at \
             WHERE owner = type::record('user', $owner) RETURN id",
        )
        .bind(("id", id.to_owned()))
        .bind(("owner", owner_id.to_owned()))
        .await?;
    wrote_any(response)
}

/// Replaces what a parse wrote, only onto the version read (`read_at`); the corrections
/// stay. `false` when another change came first.
pub async fn update_parse_if(
    ex: &impl Executor,
    id: &str,
    read_at: DateTime<Utc>,
    parse: &ParseWrite,
) -> Result<bool, RepoError> {
    let response = ex.query(
        "UPDATE type::record('resume', $id) SET parse_status = $status, parse_message = $message, \
         parser_version = $version, text = $text, parsed = $parsed, skills = $skills, updated_at = time::now() \
         WHERE updated_at = $read_at RETURN id",
    )
    .bind(("id", id.to_owned()))
    .bind(("read_at", read_at))
    .bind(("status", parse.status.clone()))
    .bind(("message", parse.message.clone()))
    .bind(("version", i64::from(parse.version)))
    .bind(("text", parse.text.clone()))
    .bind(("parsed", parse.parsed.clone()))
    .bind(("skills", parse.skills.clone()))
    .await?;
    wrote_any(response)
}

/// Writes the corrections and the effective skills, only onto the version read (`read_at`):
/// `false` when another change came first.
pub async fn update_corrections_if(
    ex: &impl Executor,
    id: &str,
    read_at: DateTime<Utc>,
    corrections: serde_json::Value,
    skills: &[String],
) -> Result<bool, RepoError> {
    let response = ex
        .query(
            "UPDATE type::record('resume', $id) SET corrections = $corrections, skills = $skills, \
             updated_at = time::now() WHERE updated_at = $read_at RETURN id",
        )
        .bind(("id", id.to_owned()))
        .bind(("read_at", read_at))
        .bind(("corrections", corrections))
        .bind(("skills", skills.to_vec()))
        .await?;
    wrote_any(response)
}

pub async fn delete(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query("DELETE type::record('resume', $id); DELETE type::record('resume_file', $id);")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Deletes all of a user's resumes and files (account deletion).
pub async fn delete_for_user(ex: &impl Executor, user_id: &str) -> Result<(), RepoError> {
    ex.query(
        "DELETE resume WHERE owner = type::record('user', $user); \
         DELETE resume_file WHERE owner = type::record('user', $user);",
    )
    .bind(("user", user_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// The default resumes of the candidates a company may consider for a job: those who applied
/// to it, and those who chose to be discoverable (enabled candidate accounts only). At most
/// `limit`, applicants first.
pub async fn pool_for_job(
    ex: &impl Executor,
    job_id: &str,
    limit: u32,
) -> Result<Vec<Resume>, RepoError> {
    let mut response = ex
        .query(format!(
            "LET $applicants = (SELECT VALUE candidate FROM application WHERE job = type::record('job', $job)); \
             SELECT {FIELDS} FROM resume WHERE is_default = true AND owner IN $applicants \
             AND owner.disabled = false ORDER BY updated_at DESC LIMIT $limit; \
             SELECT {FIELDS} FROM resume WHERE is_default = true AND owner.discoverable = true \
             AND owner.role = 'candidate' AND owner.disabled = false AND owner NOT IN $applicants \
             ORDER BY updated_at DESC LIMIT $limit;"
        ))
        .bind(("job", job_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .await?;
    let mut rows: Vec<ResumeRow> = response.take(1)?;
    let discoverable: Vec<ResumeRow> = response.take(2)?;
    rows.extend(discoverable);
    rows.truncate(limit as usize);
    rows.into_iter().map(Resume::try_from).collect()
}
