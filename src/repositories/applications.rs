//! Queries on `application`, `application_event` and `application_note`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, new_key, unexpected, wrote_any};
use crate::db::Executor;
use crate::models::application::{Application, Note, RejectionReason, Stage, StageEvent};

#[derive(Debug, SurrealValue)]
struct ApplicationRow {
    id: RecordId,
    job: RecordId,
    company: RecordId,
    candidate: RecordId,
    resume: RecordId,
    cover_letter: Option<String>,
    stage: String,
    rejection_reason: Option<String>,
    viewed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ApplicationRow> for Application {
    type Error = RepoError;

    fn try_from(r: ApplicationRow) -> Result<Self, RepoError> {
        Ok(Application {
            id: key_string(&r.id),
            job_id: key_string(&r.job),
            company_id: key_string(&r.company),
            candidate_id: key_string(&r.candidate),
            resume_id: key_string(&r.resume),
            cover_letter: r.cover_letter.unwrap_or_default(),
            stage: Stage::parse(&r.stage)
                .ok_or_else(|| unexpected(format!("unknown stage {:?}", r.stage)))?,
            rejection_reason: r.rejection_reason.as_deref().and_then(RejectionReason::parse),
            viewed_at: r.viewed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

const FIELDS: &str = "id, job, company, candidate, resume, cover_letter, stage, rejection_reason, viewed_at, created_at, updated_at";

/// A new application; a second one of the same candidate to the same job is
/// `RepoError::Duplicate { index: "application_job_candidate" }`.
pub struct NewApplication<'a> {
    pub id: &'a str,
    pub job_id: &'a str,
    pub company_id: &'a str,
    pub candidate_id: &'a str,
    pub resume_id: &'a str,
    pub cover_letter: &'a str,
}

pub async fn insert(ex: &impl Executor, a: &NewApplication<'_>) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('application', $id) SET job = type::record('job', $job), \
         company = type::record('company', $company), candidate = type::record('user', $candidate), \
         resume = type::record('resume', $resume), cover_letter = $cover_letter RETURN NONE",
    )
    .bind(("id", a.id.to_owned()))
    .bind(("job", a.job_id.to_owned()))
    .bind(("company", a.company_id.to_owned()))
    .bind(("candidate", a.candidate_id.to_owned()))
    .bind(("resume", a.resume_id.to_owned()))
    .bind(("cover_letter", a.cover_letter.to_owned()))
    .await?
    .check()?;
    Ok(())
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<Application>, RepoError> {
    let mut response = ex
        .query(format!("SELECT {FIELDS} FROM type::record('application', $id)"))
        .bind(("id", id.to_owned()))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(0)?;
    rows.into_iter().next().map(Application::try_from).transpose()
}

/// The application of a candidate to a job, if any.
pub async fn find_by_job_candidate(
    ex: &impl Executor,
    job_id: &str,
    candidate_id: &str,
) -> Result<Option<Application>, RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM application WHERE job = type::record('job', $job) \
             AND candidate = type::record('user', $candidate) LIMIT 1"
        ))
        .bind(("job", job_id.to_owned()))
        .bind(("candidate", candidate_id.to_owned()))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(0)?;
    rows.into_iter().next().map(Application::try_from).transpose()
}

/// A candidate's applications, newest first.
pub async fn list_by_candidate(
    ex: &impl Executor,
    candidate_id: &str,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Application>, u64), RepoError> {
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM application WHERE candidate = type::record('user', $candidate) \
             ORDER BY created_at DESC LIMIT $limit START $offset; \
             SELECT count() AS count FROM application WHERE candidate = type::record('user', $candidate) GROUP ALL;"
        ))
        .bind(("candidate", candidate_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(0)?;
    let total: Option<Count> = response.take(1)?;
    Ok((
        rows.into_iter().map(Application::try_from).collect::<Result<_, _>>()?,
        total.map_or(0, |c| c.count),
    ))
}

/// A candidate's applications, newest first, at most `limit`, each with the title of its job
/// and the name of its company (`None` when the job or company is gone). Both queries are
/// bound to the candidate: the titles are those of the jobs of this candidate's applications.
pub async fn of_candidate_with_titles(
    ex: &impl Executor,
    candidate_id: &str,
    limit: u32,
) -> Result<Vec<(Application, Option<String>, Option<String>)>, RepoError> {
    #[derive(SurrealValue)]
    struct TitleRow {
        id: RecordId,
        title: Option<String>,
        company_name: Option<String>,
    }
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM application WHERE candidate = type::record('user', $candidate) \
             ORDER BY created_at DESC LIMIT $limit; \
             SELECT id, title, company.name AS company_name FROM job WHERE id IN \
             (SELECT VALUE job FROM application WHERE candidate = type::record('user', $candidate));"
        ))
        .bind(("candidate", candidate_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(0)?;
    let titles: Vec<TitleRow> = response.take(1)?;
    let titles: std::collections::HashMap<String, (Option<String>, Option<String>)> =
        titles.into_iter().map(|t| (key_string(&t.id), (t.title, t.company_name))).collect();
    rows.into_iter()
        .map(|row| {
            let application = Application::try_from(row)?;
            let (title, company) = titles.get(&application.job_id).cloned().unwrap_or_default();
            Ok((application, title, company))
        })
        .collect()
}

/// The applications to the jobs of the companies `user_id` is a member of, newest first, at
/// most `limit`, each with its candidate's name and its job's title. The query reads the
/// membership itself, so no other company's applications can come back.
pub async fn to_member_companies(
    ex: &impl Executor,
    user_id: &str,
    limit: u32,
) -> Result<Vec<(Application, String, String)>, RepoError> {
    #[derive(SurrealValue)]
    struct NameRow {
        id: RecordId,
        candidate_name: Option<String>,
        job_title: Option<String>,
    }
    let mut response = ex
        .query(format!(
            "LET $companies = (SELECT VALUE company FROM company_member WHERE user = type::record('user', $user)); \
             SELECT {FIELDS} FROM application WHERE company IN $companies \
             ORDER BY created_at DESC LIMIT $limit; \
             SELECT id, candidate.full_name AS candidate_name, job.title AS job_title FROM application \
             WHERE company IN $companies ORDER BY created_at DESC LIMIT $limit;"
        ))
        .bind(("user", user_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(1)?;
    let names: Vec<NameRow> = response.take(2)?;
    let names: std::collections::HashMap<String, (String, String)> = names
        .into_iter()
        .map(|n| {
            (
                key_string(&n.id),
                (n.candidate_name.unwrap_or_default(), n.job_title.unwrap_or_default()),
            )
        })
        .collect();
    rows.into_iter()
        .map(|row| {
            let application = Application::try_from(row)?;
            let (name, title) = names.get(&application.id).cloned().unwrap_or_default();
            Ok((application, name, title))
        })
        .collect()
}

/// Filters of a job's application list.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub stages: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: u32,
    pub offset: u32,
}

/// One page of a job's applications (oldest first: the order they came in), the total that
/// match, and the count per stage over all of the job's applications.
pub async fn list_by_job(
    ex: &impl Executor,
    job_id: &str,
    filter: &JobFilter,
) -> Result<(Vec<Application>, u64, Vec<(String, u64)>), RepoError> {
    #[derive(SurrealValue)]
    struct StageCount {
        stage: String,
        count: u64,
    }
    let condition = "job = type::record('job', $job) AND (array::len($stages) = 0 OR stage IN $stages) \
                     AND ($since = NONE OR created_at >= $since) AND ($until = NONE OR created_at < $until)";
    let mut response = ex
        .query(format!(
            "SELECT {FIELDS} FROM application WHERE {condition} ORDER BY created_at ASC LIMIT $limit START $offset; \
             SELECT count() AS count FROM application WHERE {condition} GROUP ALL; \
             SELECT stage, count() AS count FROM application WHERE job = type::record('job', $job) GROUP BY stage;"
        ))
        .bind(("job", job_id.to_owned()))
        .bind(("stages", filter.stages.clone()))
        .bind(("since", filter.since))
        .bind(("until", filter.until))
        .bind(("limit", i64::from(filter.limit)))
        .bind(("offset", i64::from(filter.offset)))
        .await?;
    let rows: Vec<ApplicationRow> = response.take(0)?;
    let total: Option<Count> = response.take(1)?;
    let stages: Vec<StageCount> = response.take(2)?;
    Ok((
        rows.into_iter().map(Application::try_from).collect::<Result<_, _>>()?,
        total.map_or(0, |c| c.count),
        stages.into_iter().map(|s| (s.stage, s.count)).collect(),
    ))
}

/// How many applications a job has.
pub async fn count_for_job(ex: &impl Executor, job_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query("SELECT count() AS count FROM application WHERE job = type::record('job', $job) GROUP ALL")
        .bind(("job", job_id.to_owned()))
        .await?;
    let row: Option<Count> = response.take(0)?;
    Ok(row.map_or(0, |c| c.count))
}

pub async fn count_with_resume(ex: &impl Executor, resume_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query("SELECT count() AS count FROM application WHERE resume = type::record('resume', $resume) GROUP ALL")
        .bind(("resume", resume_id.to_owned()))
        .await?;
    let row: Option<Count> = response.take(0)?;
    Ok(row.map_or(0, |c| c.count))
}

/// Moves an application from `from` to `to` in one statement: `false` if it was no longer at
/// `from` (another move came first).
pub async fn set_stage_if(
    ex: &impl Executor,
    id: &str,
    from: Stage,
    to: Stage,
    reason: Option<RejectionReason>,
) -> Result<bool, RepoError> {
    let response = ex
        .query(
            "UPDATE type::record('application', $id) SET stage = $to, rejection_reason = $reason, \
             updated_at = time::now() WHERE stage = $from RETURN id",
        )
        .bind(("id", id.to_owned()))
        .bind(("from", from.as_str()))
        .bind(("to", to.as_str()))
        .bind(("reason", reason.map(|r| r.as_str().to_owned())))
        .await?;
    wrote_any(response)
}

/// Stamps the first time the company opened the application.
pub async fn mark_viewed(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query("UPDATE type::record('application', $id) SET viewed_at = time::now() WHERE viewed_at = NONE RETURN NONE")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// Changes the cover letter while the company has not opened the application and it is open:
/// `false` otherwise.
pub async fn update_cover_letter_if_unread(
    ex: &impl Executor,
    id: &str,
    text: &str,
) -> Result<bool, RepoError> {
    let response = ex
        .query(
            "UPDATE type::record('application', $id) SET cover_letter = $text, updated_at = time::now() \
             WHERE viewed_at = NONE AND stage NOT IN ['hired', 'rejected', 'withdrawn'] RETURN id",
        )
        .bind(("id", id.to_owned()))
        .bind(("text", text.to_owned()))
        .await?;
    wrote_any(response)
}

#[derive(Debug, SurrealValue)]
struct EventRow {
    id: RecordId,
    from_stage: Option<String>,
    to_stage: String,
    actor: RecordId,
    by_role: String,
    reason: Option<String>,
    note: Option<String>,
    at: DateTime<Utc>,
}

/// Records one move.
pub async fn insert_event(
    ex: &impl Executor,
    application_id: &str,
    event: &StageEvent,
) -> Result<(), RepoError> {
    ex.query(
        "CREATE type::record('application_event', $id) SET application = type::record('application', $application), \
         from_stage = $from, to_stage = $to, actor = type::record('user', $actor), by_role = $by_role, \
         reason = $reason, note = $note RETURN NONE",
    )
    .bind(("id", new_key()))
    .bind(("application", application_id.to_owned()))
    .bind(("from", event.from.map(|s| s.as_str().to_owned())))
    .bind(("to", event.to.as_str()))
    .bind(("actor", event.actor_id.clone()))
    .bind(("by_role", event.by_role.clone()))
    .bind(("reason", event.reason.map(|r| r.as_str().to_owned())))
    .bind(("note", event.note.clone()))
    .await?
    .check()?;
    Ok(())
}

/// The moves of an application, oldest first.
pub async fn events(
    ex: &impl Executor,
    application_id: &str,
) -> Result<Vec<StageEvent>, RepoError> {
    let mut response = ex
        .query(
            "SELECT id, from_stage, to_stage, actor, by_role, reason, note, at FROM application_event \
             WHERE application = type::record('application', $application) ORDER BY at ASC, id ASC",
        )
        .bind(("application", application_id.to_owned()))
        .await?;
    let rows: Vec<EventRow> = response.take(0)?;
    rows.into_iter()
        .map(|r| {
            Ok(StageEvent {
                id: key_string(&r.id),
                from: r.from_stage.as_deref().and_then(Stage::parse),
                to: Stage::parse(&r.to_stage)
                    .ok_or_else(|| unexpected(format!("unknown stage {:?}", r.to_stage)))?,
                actor_id: key_string(&r.actor),
                by_role: r.by_role,
                reason: r.reason.as_deref().and_then(RejectionReason::parse),
                note: r.note,
                at: r.at,
            })
        })
        .collect()
}

pub async fn insert_note(
    ex: &impl Executor,
    application_id: &str,
    author_id: &str,
    body: &str,
) -> Result<Note, RepoError> {
    let id = new_key();
    ex.query(
        "CREATE type::record('application_note', $id) SET application = type::record('application', $application), \
         author = type::record('user', $author), body = $body RETURN NONE",
    )
    .bind(("id", id.clone()))
    .bind(("application", application_id.to_owned()))
    .bind(("author", author_id.to_owned()))
    .bind(("body", body.to_owned()))
    .await?
    .check()?;
    notes(ex, application_id)
        .await?
        .into_iter()
        .find(|n| n.id == id)
        .ok_or_else(|| unexpected("a note just written is missing"))
}

pub async fn notes(ex: &impl Executor, application_id: &str) -> Result<Vec<Note>, RepoError> {
    #[derive(SurrealValue)]
    struct NoteRow {
        id: RecordId,
        author: RecordId,
        body: String,
        created_at: DateTime<Utc>,
    }
    let mut response = ex
        .query(
            "SELECT id, author, body, created_at FROM application_note \
             WHERE application = type::record('application', $application) ORDER BY created_at ASC, id ASC",
        )
        .bind(("application", application_id.to_owned()))
        .await?;
    let rows: Vec<NoteRow> = response.take(0)?;
    Ok(rows
        .into_iter()
        .map(|r| Note {
            id: key_string(&r.id),
            author_id: key_string(&r.author),
            body: r.body,
            created_at: r.created_at,
        })
        .collect())
}

/// Deletes a candidate's applications with their history and notes (account deletion).
pub async fn delete_for_candidate(ex: &impl Executor, candidate_id: &str) -> Result<(), RepoError> {
    ex.query(
        "LET $ids = (SELECT VALUE id FROM application WHERE candidate = type::record('user', $user)); \
         DELETE application_event WHERE application IN $ids; \
         DELETE application_note WHERE application IN $ids; \
         DELETE application WHERE id IN $ids;",
    )
    .bind(("user", candidate_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// The jobs a candidate applied to (withdrawn ones too).
pub async fn job_ids_of_candidate(
    ex: &impl Executor,
    candidate_id: &str,
) -> Result<Vec<String>, RepoError> {
    let mut response = ex
        .query(
            "SELECT VALUE job FROM application WHERE candidate = type::record('user', $candidate)",
        )
        .bind(("candidate", candidate_id.to_owned()))
        .await?;
    let rows: Vec<RecordId> = response.take(0)?;
    Ok(rows.iter().map(key_string).collect())
}

/// The candidates who applied to a job.
pub async fn candidate_ids_of_job(
    ex: &impl Executor,
    job_id: &str,
) -> Result<Vec<String>, RepoError> {
    let mut response = ex
        .query("SELECT VALUE candidate FROM application WHERE job = type::record('job', $job)")
        .bind(("job", job_id.to_owned()))
        .await?;
    let rows: Vec<RecordId> = response.take(0)?;
    Ok(rows.iter().map(key_string).collect())
}
