//! Resumes: upload (the kind read from the bytes), reading in a child process, the
//! candidate's corrections, re-parsing, the default resume, download and deletion.

use sha2::{Digest, Sha256};

use super::error::ConflictKind;
use super::resume_parser::{self, Analysis, FileKind, PARSER_VERSION, Unsupported};
use super::{Context, Principal, ServiceError, policy};
use crate::models::resume::{CORRECTABLE, Education, Experience, Resume, apply_corrections};
use crate::repositories::{
    self,
    resumes::{NewResume, ParseWrite},
};
use crate::utils::skills;

/// The most resumes one candidate keeps.
pub const MAX_RESUMES: u64 = 20;

/// Reads the document in a child process (a bounded number at a time), then parses the
/// profile from its text on the blocking pool.
async fn analyse(
    ctx: &Context,
    bytes: &[u8],
    kind: Option<FileKind>,
) -> Result<Result<Analysis, Unsupported>, ServiceError> {
    let reading = match ctx.documents.read(bytes, kind).await {
        Ok(reading) => reading,
        Err(unsupported) => return Ok(Err(unsupported)),
    };
    tokio::task::spawn_blocking(move || {
        Ok(resume_parser::analyse_text(reading.kind, reading.extracted))
    })
    .await
    .map_err(|e| ServiceError::Internal(anyhow::anyhow!("parsing a resume: {e}")))
}

fn parse_write(
    analysis: &Analysis,
    corrections: &serde_json::Map<String, serde_json::Value>,
) -> Result<ParseWrite, ServiceError> {
    let effective = apply_corrections(&analysis.profile, corrections);
    Ok(ParseWrite {
        status: analysis.status.as_str().to_owned(),
        message: analysis.message.clone(),
        version: PARSER_VERSION,
        text: analysis.text.clone(),
        parsed: serde_json::to_value(&analysis.profile)
            .map_err(|e| ServiceError::Internal(e.into()))?,
        skills: effective.skills.into_iter().map(|s| s.value).collect(),
    })
}

/// A file name fit to keep and to send back in a download header.
fn clean_file_name(name: Option<&str>, kind: FileKind) -> String {
    let base = name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(200)
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() {
        match kind {
            FileKind::Pdf => "resume.pdf".into(),
            FileKind::Docx => "resume.docx".into(),
            FileKind::Text => "resume.txt".into(),
        }
    } else {
        base.to_owned()
    }
}

/// Stores an uploaded resume with its parse. The first one becomes the default.
pub async fn upload(
    ctx: &Context,
    principal: &Principal,
    file_name: Option<&str>,
    bytes: bytes::Bytes,
) -> Result<Resume, ServiceError> {
    policy::keep_resumes(principal)?;
    if repositories::resumes::count_by_owner(&ctx.db, &principal.user_id).await? >= MAX_RESUMES {
        return Err(ServiceError::validation(format!(
            "a candidate keeps at most {MAX_RESUMES} resumes: delete one first"
        )));
    }
    let analysis = match analyse(ctx, &bytes, None).await? {
        Ok(analysis) => analysis,
        Err(Unsupported::Empty) => return Err(ServiceError::validation("the file is empty")),
        Err(Unsupported::Kind(what)) => {
            return Err(ServiceError::UnsupportedFile(format!(
                "a resume must be a PDF, DOCX or plain-text file; this is {what}"
            )));
        }
    };
    let id = repositories::new_key();
    let is_default =
        repositories::resumes::default_of(&ctx.db, &principal.user_id).await?.is_none();
    let resume = NewResume {
        id: id.clone(),
        owner_id: principal.user_id.clone(),
        file_name: clean_file_name(file_name, analysis.kind),
        content_type: analysis.kind.content_type().to_owned(),
        sha256: hex::encode(Sha256::digest(&bytes)),
        is_default,
        parse: parse_write(&analysis, &serde_json::Map::new())?,
    };
    let tx = ctx.db.begin().await?;
    repositories::resumes::insert(&tx, &resume, bytes).await?;
    tx.commit().await?;
    get(ctx, principal, &id).await
}

/// One of the caller's resumes (another's is not found).
pub async fn get(ctx: &Context, principal: &Principal, id: &str) -> Result<Resume, ServiceError> {
    if id.trim().is_empty() {
        return Err(ServiceError::NotFound("resume"));
    }
    let resume =
        repositories::resumes::find(&ctx.db, id).await?.ok_or(ServiceError::NotFound("resume"))?;
    policy::own_resume(principal, &resume.owner_id)?;
    Ok(resume)
}

pub async fn list(ctx: &Context, principal: &Principal) -> Result<Vec<Resume>, ServiceError> {
    policy::keep_resumes(principal)?;
    Ok(repositories::resumes::list_by_owner(&ctx.db, &principal.user_id).await?)
}

/// The original file of one of the caller's resumes.
pub async fn file(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(Resume, bytes::Bytes), ServiceError> {
    let resume = get(ctx, principal, id).await?;
    let content = repositories::resumes::file(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound("resume file"))?;
    Ok((resume, content))
}

pub async fn set_default(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Resume, ServiceError> {
    get(ctx, principal, id).await?;
    repositories::resumes::set_default(&ctx.db, &principal.user_id, id).await?;
    get(ctx, principal, id).await
}

/// Deletes a resume no application uses; the default moves to the newest remaining one.
pub async fn delete(ctx: &Context, principal: &Principal, id: &str) -> Result<(), ServiceError> {
    let resume = get(ctx, principal, id).await?;
    let tx = ctx.db.begin().await?;
    if repositories::applications::count_with_resume(&tx, id).await? > 0 {
        return Err(ServiceError::conflict(
            ConflictKind::ResumeInUse,
            "this resume was sent with an application; it stays while the application does",
        ));
    }
    repositories::resumes::delete(&tx, id).await?;
    tx.commit().await?;
    if resume.is_default
        && let Some(next) =
            repositories::resumes::list_by_owner(&ctx.db, &principal.user_id).await?.first()
    {
        repositories::resumes::set_default(&ctx.db, &principal.user_id, &next.id).await?;
    }
    Ok(())
}

/// Parses the stored file again with the current rules; corrections stay.
pub async fn reparse(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<Resume, ServiceError> {
    let resume = get(ctx, principal, id).await?;
    let content = repositories::resumes::file(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound("resume file"))?;
    let kind = FileKind::from_content_type(&resume.content_type);
    let analysis = match analyse(ctx, &content, kind).await? {
        Ok(analysis) => analysis,
        Err(err) => {
            return Err(ServiceError::Internal(anyhow::anyhow!(
                "a stored resume is no longer readable: {err}"
            )));
        }
    };
    // A reader that could not finish says nothing new about the file: the parse stored
    // before (perhaps a good one) stays.
    if analysis.status == resume_parser::ParseStatus::Failed {
        return Err(ServiceError::ReaderFailed(format!(
            "the file could not be read again ({}); the stored parse is unchanged",
            analysis.message.as_deref().unwrap_or("the document reader failed")
        )));
    }
    if !repositories::resumes::update_parse_if(
        &ctx.db,
        id,
        resume.updated_at,
        &parse_write(&analysis, &resume.corrections)?,
    )
    .await?
    {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the resume changed meanwhile; try again",
        ));
    }
    get(ctx, principal, id).await
}

fn text_value(
    field: &str,
    value: &serde_json::Value,
    max: usize,
) -> Result<serde_json::Value, ServiceError> {
    match value {
        serde_json::Value::Null => Ok(serde_json::Value::Null),
        serde_json::Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(serde_json::Value::Null);
            }
            if s.chars().count() > max {
                return Err(ServiceError::validation(format!(
                    "{field} must be at most {max} characters"
                )));
            }
            if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                return Err(ServiceError::validation(format!(
                    "{field} contains control characters"
                )));
            }
            Ok(serde_json::Value::String(s.to_owned()))
        }
        _ => Err(ServiceError::validation(format!("{field} must be a string or null"))),
    }
}

fn valid_date(field: &str, value: &Option<String>) -> Result<(), ServiceError> {
    let Some(v) = value else { return Ok(()) };
    let ok = match v.split_once('-') {
        None => v.len() == 4 && v.parse::<u16>().is_ok(),
        Some((y, m)) => {
            y.len() == 4
                && y.parse::<u16>().is_ok()
                && m.len() == 2
                && m.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(ServiceError::validation(format!("{field} must be YYYY or YYYY-MM")))
    }
}

fn list_of<T: serde::de::DeserializeOwned>(
    field: &str,
    value: &serde_json::Value,
    max: usize,
) -> Result<Vec<T>, ServiceError> {
    let items = value
        .as_array()
        .ok_or_else(|| ServiceError::validation(format!("{field} must be a list")))?;
    if items.len() > max {
        return Err(ServiceError::validation(format!("{field} may hold at most {max} entries")));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::from_value(item.clone())
                .map_err(|e| ServiceError::validation(format!("{field}[{i}]: {e}")))
        })
        .collect()
}

fn optional_text(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, ServiceError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() > max => {
            Err(ServiceError::validation(format!("{field} must be at most {max} characters")))
        }
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// Checks one correction and returns it in stored form.
fn correction(field: &str, value: &serde_json::Value) -> Result<serde_json::Value, ServiceError> {
    use serde_json::{Value, json};
    match field {
        "name" | "phone" | "location" => text_value(field, value, 200),
        "summary" => text_value(field, value, 5000),
        "email" => match text_value(field, value, 254)? {
            Value::String(s) => {
                let email = crate::utils::validators::Email::parse(&s)
                    .map_err(|e| ServiceError::validation(format!("email: {e}")))?;
                Ok(Value::String(email.as_str().to_owned()))
            }
            other => Ok(other),
        },
        "years_experience" => match value {
            Value::Null => Ok(Value::Null),
            Value::Number(n) if n.as_f64().is_some_and(|y| (0.0..=70.0).contains(&y)) => {
                Ok(value.clone())
            }
            _ => Err(ServiceError::validation(
                "years_experience must be a number from 0 to 70, or null",
            )),
        },
        "links" => {
            let links: Vec<String> = list_of(field, value, 20)?;
            for link in &links {
                let rest = link.strip_prefix("https://").or_else(|| link.strip_prefix("http://"));
                if rest.is_none_or(str::is_empty)
                    || link.len() > 2048
                    || link.chars().any(char::is_whitespace)
                {
                    return Err(ServiceError::validation(format!(
                        "links: {link:?} is not an http(s) URL"
                    )));
                }
            }
            Ok(json!(links))
        }
        "skills" => {
            let raw: Vec<String> = list_of(field, value, 100)?;
            let mut out: Vec<String> = Vec::new();
            for name in &raw {
                let canonical = resume_parser::taxonomy::canonical(name)
                    .map(str::to_owned)
                    .or_else(|| skills::normalize(name))
                    .ok_or_else(|| {
                        ServiceError::validation(format!("skills: {name:?} is not a skill name"))
                    })?;
                if !out.contains(&canonical) {
                    out.push(canonical);
                }
            }
            Ok(json!(out))
        }
        "experience" => {
            let entries: Vec<Experience> = list_of(field, value, 30)?;
            let mut out = Vec::new();
            for (i, e) in entries.into_iter().enumerate() {
                let entry = Experience {
                    title: optional_text(&format!("experience[{i}].title"), &e.title, 150)?,
                    company: optional_text(&format!("experience[{i}].company"), &e.company, 150)?,
                    start: e.start,
                    end: e.end,
                    current: e.current,
                };
                valid_date(&format!("experience[{i}].start"), &entry.start)?;
                valid_date(&format!("experience[{i}].end"), &entry.end)?;
                if entry.title.is_none() && entry.company.is_none() {
                    return Err(ServiceError::validation(format!(
                        "experience[{i}] needs a title or a company"
                    )));
                }
                out.push(entry);
            }
            Ok(json!(out))
        }
        "education" => {
            let entries: Vec<Education> = list_of(field, value, 10)?;
            let mut out = Vec::new();
            for (i, e) in entries.into_iter().enumerate() {
                let entry = Education {
                    degree: optional_text(&format!("education[{i}].degree"), &e.degree, 150)?,
                    school: optional_text(&format!("education[{i}].school"), &e.school, 150)?,
                    year: e.year,
                };
                if entry.year.is_some_and(|y| !(1900..=2100).contains(&y)) {
                    return Err(ServiceError::validation(format!(
                        "education[{i}].year must be between 1900 and 2100"
                    )));
                }
                if entry.degree.is_none() && entry.school.is_none() {
                    return Err(ServiceError::validation(format!(
                        "education[{i}] needs a degree or a school"
                    )));
                }
                out.push(entry);
            }
            Ok(json!(out))
        }
        other => Err(ServiceError::validation(format!(
            "{other:?} is not a field of the profile; correctable: {}",
            CORRECTABLE.join(", ")
        ))),
    }
}

/// Applies the candidate's corrections (`field → value`, `null` clears a field). They are kept
/// apart from the parse, so re-parsing never undoes them. `reset` lists fields whose
/// corrections are dropped (back to the parsed value).
pub async fn correct(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    changes: &serde_json::Map<String, serde_json::Value>,
    reset: &[String],
) -> Result<Resume, ServiceError> {
    let resume = get(ctx, principal, id).await?;
    let mut corrections = resume.corrections.clone();
    for field in reset {
        if !CORRECTABLE.contains(&field.as_str()) {
            return Err(ServiceError::validation(format!(
                "reset: {field:?} is not a field of the profile"
            )));
        }
        corrections.remove(field);
    }
    for (field, value) in changes {
        let value = correction(field, value)?;
        corrections.insert(field.clone(), value);
    }
    let effective = apply_corrections(&resume.parsed, &corrections);
    let skills: Vec<String> = effective.skills.into_iter().map(|s| s.value).collect();
    let written = repositories::resumes::update_corrections_if(
        &ctx.db,
        id,
        resume.updated_at,
        serde_json::Value::Object(corrections),
        &skills,
    )
    .await?;
    if !written {
        return Err(ServiceError::conflict(
            ConflictKind::Concurrent,
            "the resume changed meanwhile; read it again and retry",
        ));
    }
    get(ctx, principal, id).await
}
