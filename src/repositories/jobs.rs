//! Queries on `job`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, record_exists, unexpected};
use crate::db::Executor;
use crate::models::job::{
    EmploymentType, Job, JobFields, JobStatus, Location, Review, Salary, SalaryPeriod, Seniority,
    Workplace,
};

/// One of a job's places as stored (migration 0010).
#[derive(Debug, Clone, SurrealValue)]
struct LocationRow {
    city: Option<String>,
    region: Option<String>,
    country_code: Option<String>,
}

impl From<LocationRow> for Location {
    fn from(r: LocationRow) -> Self {
        Location { city: r.city, region: r.region, country_code: r.country_code }
    }
}

impl From<&Location> for LocationRow {
    fn from(l: &Location) -> Self {
        LocationRow {
            city: l.city.clone(),
            region: l.region.clone(),
            country_code: l.country_code.clone(),
        }
    }
}

fn location_rows(locations: &[Location]) -> Vec<LocationRow> {
    locations.iter().map(LocationRow::from).collect()
}

#[derive(Debug, SurrealValue)]
struct JobRow {
    id: RecordId,
    company: RecordId,
    title: String,
    description: Option<String>,
    locations: Option<Vec<LocationRow>>,
    workplace: Option<String>,
    remote_regions: Option<Vec<String>>,
    employment_type: Option<String>,
    seniority: Option<String>,
    salary_min: Option<f64>,
    salary_max: Option<f64>,
    salary_currency: Option<String>,
    salary_period: Option<String>,
    salary_public: Option<bool>,
    skills: Option<Vec<String>>,
    category: Option<String>,
    tags: Option<Vec<String>>,
    apply_url: Option<String>,
    status: String,
    review: String,
    posted_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    source: String,
    external_id: String,
    content_hash: String,
    view_count: Option<i64>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn parse<T>(
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<T>, RepoError> {
    value.map(|v| parse(&v).ok_or_else(|| unexpected(format!("unknown {what} {v:?}")))).transpose()
}

impl TryFrom<JobRow> for Job {
    type Error = RepoError;

    fn try_from(r: JobRow) -> Result<Self, Self::Error> {
        let salary = match (r.salary_min, r.salary_max) {
            (None, None) => None,
            (min, max) => Some(Salary {
                min,
                max,
                currency: r.salary_currency,
                period: parse(r.salary_period, SalaryPeriod::parse, "salary period")?,
                public: r.salary_public.unwrap_or(false),
            }),
        };
        Ok(Job {
            id: key_string(&r.id),
            company_id: key_string(&r.company),
            fields: JobFields {
                title: r.title,
                description: r.description.unwrap_or_default(),
                locations: r
                    .locations
                    .unwrap_or_default()
                    .into_iter()
                    .map(Location::from)
                    .collect(),
                workplace: parse(r.workplace, Workplace::parse, "workplace")?,
                remote_regions: r.remote_regions.unwrap_or_default(),
                employment_type: parse(
                    r.employment_type,
                    EmploymentType::parse,
                    "employment type",
                )?,
                seniority: parse(r.seniority, Seniority::parse, "seniority")?,
                salary,
                skills: r.skills.unwrap_or_default(),
                category: r.category,
                tags: r.tags.unwrap_or_default(),
                apply_url: r.apply_url,
                expires_at: r.expires_at,
            },
            status: JobStatus::parse(&r.status)
                .ok_or_else(|| unexpected(format!("unknown status {:?}", r.status)))?,
            review: Review::parse(&r.review)
                .ok_or_else(|| unexpected(format!("unknown review {:?}", r.review)))?,
            posted_at: r.posted_at,
            closed_at: r.closed_at,
            source: r.source,
            external_id: r.external_id,
            content_hash: r.content_hash,
            view_count: r.view_count.unwrap_or(0).max(0) as u64,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn record_ids(table: &str, ids: &[String]) -> Vec<RecordId> {
    ids.iter().map(|id| RecordId::new(table, id.as_str())).collect()
}

fn rows_of(rows: Vec<JobRow>) -> Result<Vec<Job>, RepoError> {
    rows.into_iter().map(Job::try_from).collect()
}

/// The SET clause of every field of `JobFields`, bound by [`bind_fields`].
const SET_FIELDS: &str = "title = $title, description = $description, locations = $locations, \
    workplace = $workplace, remote_regions = $remote_regions, \
    employment_type = $employment_type, seniority = $seniority, salary_min = $salary_min, \
    salary_max = $salary_max, salary_currency = $salary_currency, salary_period = $salary_period, \
    salary_public = $salary_public, skills = $skills, category = $category, tags = $tags, \
    apply_url = $apply_url, expires_at = $expires_at";

fn bind_fields<'a>(query: crate::db::Query<'a>, f: &JobFields) -> crate::db::Query<'a> {
    let salary = f.salary.as_ref();
    query
        .bind(("title", f.title.clone()))
        .bind(("description", f.description.clone()))
        .bind(("locations", location_rows(&f.locations)))
        .bind(("workplace", f.workplace.map(|w| w.as_str())))
        .bind(("remote_regions", f.remote_regions.clone()))
        .bind(("employment_type", f.employment_type.map(|e| e.as_str())))
        .bind(("seniority", f.seniority.map(|s| s.as_str())))
        .bind(("salary_min", salary.and_then(|s| s.min)))
        .bind(("salary_max", salary.and_then(|s| s.max)))
        .bind(("salary_currency", salary.and_then(|s| s.currency.clone())))
        .bind(("salary_period", salary.and_then(|s| s.period).map(|p| p.as_str())))
        .bind(("salary_public", salary.is_some_and(|s| s.public)))
        .bind(("skills", f.skills.clone()))
        .bind(("category", f.category.clone()))
        .bind(("tags", f.tags.clone()))
        .bind(("apply_url", f.apply_url.clone()))
        .bind(("expires_at", f.expires_at))
}

/// A job about to be stored.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub company_id: String,
    pub fields: JobFields,
    pub status: JobStatus,
    pub review: Review,
    pub posted_at: Option<DateTime<Utc>>,
    pub source: String,
    pub external_id: String,
    pub content_hash: String,
    pub created_by: Option<String>,
}

/// Stores a new job (its id is new: the record id is what keeps (source, external_id) unique,
/// see migration 0007).
pub async fn insert(ex: &impl Executor, job: &NewJob) -> Result<Job, RepoError> {
    let sql = format!(
        "CREATE type::record('job', $id) SET company = type::record('company', $company), {SET_FIELDS}, \
         status = $status, review = $review, posted_at = $posted_at, source = $source, \
         external_id = $external_id, content_hash = $content_hash, created_by = $created_by RETURN AFTER"
    );
    let query = ex
        .query(sql)
        .bind(("id", job.id.clone()))
        .bind(("company", job.company_id.clone()))
        .bind(("status", job.status.as_str()))
        .bind(("review", job.review.as_str()))
        .bind(("posted_at", job.posted_at))
        .bind(("source", job.source.clone()))
        .bind(("external_id", job.external_id.clone()))
        .bind(("content_hash", job.content_hash.clone()))
        .bind(("created_by", job.created_by.clone()));
    let mut response = bind_fields(query, &job.fields).await?;
    let row: Option<JobRow> = response.take(0)?;
    row.map(Job::try_from).transpose()?.ok_or_else(|| unexpected("CREATE job returned no row"))
}

/// One job as `INSERT` takes it.
#[derive(SurrealValue)]
struct JobWrite {
    id: RecordId,
    company: RecordId,
    title: String,
    description: String,
    locations: Vec<LocationRow>,
    workplace: Option<String>,
    remote_regions: Vec<String>,
    employment_type: Option<String>,
    seniority: Option<String>,
    salary_min: Option<f64>,
    salary_max: Option<f64>,
    salary_currency: Option<String>,
    salary_period: Option<String>,
    salary_public: bool,
    skills: Vec<String>,
    category: Option<String>,
    tags: Vec<String>,
    apply_url: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    status: String,
    review: String,
    posted_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    source: String,
    external_id: String,
    content_hash: String,
    created_by: Option<String>,
    /// Given, not left to the field's default: a default is an expression evaluated per record.
    view_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl JobWrite {
    fn new(job: &NewJob, now: DateTime<Utc>) -> Self {
        let f = &job.fields;
        let salary = f.salary.as_ref();
        JobWrite {
            id: RecordId::new("job", job.id.as_str()),
            company: RecordId::new("company", job.company_id.as_str()),
            title: f.title.clone(),
            description: f.description.clone(),
            locations: location_rows(&f.locations),
            workplace: f.workplace.map(|w| w.as_str().to_owned()),
            remote_regions: f.remote_regions.clone(),
            employment_type: f.employment_type.map(|e| e.as_str().to_owned()),
            seniority: f.seniority.map(|s| s.as_str().to_owned()),
            salary_min: salary.and_then(|s| s.min),
            salary_max: salary.and_then(|s| s.max),
            salary_currency: salary.and_then(|s| s.currency.clone()),
            salary_period: salary.and_then(|s| s.period).map(|p| p.as_str().to_owned()),
            salary_public: salary.is_some_and(|s| s.public),
            skills: f.skills.clone(),
            category: f.category.clone(),
            tags: f.tags.clone(),
            apply_url: f.apply_url.clone(),
            expires_at: f.expires_at,
            status: job.status.as_str().to_owned(),
            review: job.review.as_str().to_owned(),
            posted_at: job.posted_at,
            closed_at: (job.status == JobStatus::Closed).then_some(now),
            source: job.source.clone(),
            external_id: job.external_id.clone(),
            content_hash: job.content_hash.clone(),
            created_by: job.created_by.clone(),
            view_count: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Creates imported jobs that do not exist yet, in one statement that returns nothing (the
/// cheapest write SurrealDB has: no per-row duplicate handling, no rows sent back); the jobs
/// are returned as written, with `now` as their creation and update time. `None` when one of
/// them exists already: the statement wrote nothing, and the transaction cannot be committed.
pub async fn insert_new(
    ex: &impl Executor,
    jobs: &[NewJob],
) -> Result<Option<Vec<Job>>, RepoError> {
    if jobs.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let now = Utc::now();
    let rows: Vec<JobWrite> = jobs.iter().map(|job| JobWrite::new(job, now)).collect();
    match ex.query("INSERT INTO job $rows RETURN NONE").bind(("rows", rows)).await?.check() {
        Ok(_) => {}
        Err(err) if record_exists(&err) => return Ok(None),
        Err(err) => return Err(err.into()),
    }
    Ok(Some(
        jobs.iter()
            .map(|job| Job {
                id: job.id.clone(),
                company_id: job.company_id.clone(),
                fields: job.fields.clone(),
                status: job.status,
                review: job.review,
                posted_at: job.posted_at,
                closed_at: (job.status == JobStatus::Closed).then_some(now),
                source: job.source.clone(),
                external_id: job.external_id.clone(),
                content_hash: job.content_hash.clone(),
                view_count: 0,
                created_at: now,
                updated_at: now,
            })
            .collect(),
    ))
}

/// Stores imported jobs in one statement: new ones are created, existing ones (same id) get
/// the source's fields, status and company, keeping their review, views and creation time.
pub async fn upsert_many(ex: &impl Executor, jobs: &[NewJob]) -> Result<Vec<Job>, RepoError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows: Vec<JobWrite> = jobs.iter().map(|job| JobWrite::new(job, now)).collect();
    let mut response = ex
        .query(
            "INSERT INTO job $rows ON DUPLICATE KEY UPDATE company = $input.company, title = $input.title, \
             description = $input.description, locations = $input.locations, workplace = $input.workplace, \
             remote_regions = $input.remote_regions, employment_type = $input.employment_type, \
             seniority = $input.seniority, salary_min = $input.salary_min, salary_max = $input.salary_max, \
             salary_currency = $input.salary_currency, salary_period = $input.salary_period, \
             salary_public = $input.salary_public, skills = $input.skills, category = $input.category, \
             tags = $input.tags, apply_url = $input.apply_url, expires_at = $input.expires_at, \
             status = $input.status, posted_at = $input.posted_at ?? posted_at, \
             closed_at = IF $input.status = 'closed' { closed_at ?? $input.closed_at } ELSE { NONE }, \
             content_hash = $input.content_hash, updated_at = time::now() RETURN AFTER",
        )
        .bind(("rows", rows))
        .await?;
    rows_of(response.take(0)?)
}

pub async fn find(ex: &impl Executor, id: &str) -> Result<Option<Job>, RepoError> {
    let mut response =
        ex.query("SELECT * FROM ONLY type::record('job', $id)").bind(("id", id.to_owned())).await?;
    let row: Option<JobRow> = response.take(0)?;
    row.map(Job::try_from).transpose()
}

/// The jobs with these ids that exist, in no particular order.
pub async fn find_many(ex: &impl Executor, ids: &[String]) -> Result<Vec<Job>, RepoError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Selecting from a list of record ids fetches them directly, no scan.
    let mut response = ex.query("SELECT * FROM $ids").bind(("ids", record_ids("job", ids))).await?;
    rows_of(response.take(0)?)
}

/// The jobs among `ids` that are public at `now` (published, approved, not expired), whole,
/// in no particular order: the query itself keeps out every other job, so a caller cannot show
/// a draft, closed, rejected or expired one whatever ids it passes.
pub async fn find_public_many(
    ex: &impl Executor,
    ids: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Job>, RepoError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut response = ex
        .query(
            "SELECT * FROM $ids WHERE status = 'published' AND review = 'approved' \
             AND (expires_at = NONE OR expires_at > $now)",
        )
        .bind(("ids", record_ids("job", ids)))
        .bind(("now", now))
        .await?;
    rows_of(response.take(0)?)
}

/// The jobs, in any status, of the companies `user_id` is a member of, most recently changed
/// first, at most `limit`: the query reads the membership itself, so no other company's job
/// can come back.
pub async fn of_member_companies(
    ex: &impl Executor,
    user_id: &str,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    let mut response = ex
        .query(
            "SELECT * FROM job WHERE company IN \
             (SELECT VALUE company FROM company_member WHERE user = type::record('user', $user)) \
             ORDER BY updated_at DESC LIMIT $limit",
        )
        .bind(("user", user_id.to_owned()))
        .bind(("limit", i64::from(limit)))
        .await?;
    rows_of(response.take(0)?)
}

/// The (id, content hash) of the jobs among `ids` that exist.
pub async fn hashes(
    ex: &impl Executor,
    ids: &[String],
) -> Result<Vec<(String, String)>, RepoError> {
    #[derive(SurrealValue)]
    struct HashRow {
        id: RecordId,
        content_hash: String,
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut response =
        ex.query("SELECT id, content_hash FROM $ids").bind(("ids", record_ids("job", ids))).await?;
    let rows: Vec<HashRow> = response.take(0)?;
    Ok(rows.into_iter().map(|r| (key_string(&r.id), r.content_hash)).collect())
}

/// Changes a job's fields (not its company, status or source).
pub async fn update_fields(
    ex: &impl Executor,
    id: &str,
    fields: &JobFields,
    content_hash: &str,
) -> Result<Option<Job>, RepoError> {
    update_fields_if(ex, id, None, fields, content_hash).await
}

/// Like [`update_fields`], only while the job is still the version the caller read (its
/// `updated_at`), checked and written in one statement: an edit based on a job that another
/// request changed meanwhile (another edit, an archive) writes nothing and returns `None`.
pub async fn update_fields_if(
    ex: &impl Executor,
    id: &str,
    read_at: Option<DateTime<Utc>>,
    fields: &JobFields,
    content_hash: &str,
) -> Result<Option<Job>, RepoError> {
    let sql = format!(
        "UPDATE type::record('job', $id) SET {SET_FIELDS}, content_hash = $content_hash, \
         updated_at = time::now() WHERE $read_at = NONE OR updated_at = $read_at RETURN AFTER"
    );
    let query = ex
        .query(sql)
        .bind(("id", id.to_owned()))
        .bind(("read_at", read_at))
        .bind(("content_hash", content_hash.to_owned()));
    let mut response = bind_fields(query, fields).await?;
    let rows: Vec<JobRow> = response.take(0)?;
    rows.into_iter().next().map(Job::try_from).transpose()
}

/// Moves a job to `status` and `review`, stamping `posted_at` when it first becomes public
/// (publication, or an admin's approval of a job that waited for review) and
/// `closed_at` on closing.
pub async fn set_status(
    ex: &impl Executor,
    id: &str,
    status: JobStatus,
    review: Review,
) -> Result<Option<Job>, RepoError> {
    set_status_if(ex, id, None, status, review).await
}

/// Like [`set_status`], only while the job's status is still `from` (checked and written in
/// one statement, so a move decided on a status another request just changed does nothing).
pub async fn set_status_if(
    ex: &impl Executor,
    id: &str,
    from: Option<JobStatus>,
    status: JobStatus,
    review: Review,
) -> Result<Option<Job>, RepoError> {
    let mut response = ex
        .query(
            "UPDATE type::record('job', $id) SET status = $status, review = $review, \
             posted_at = IF $status = 'published' AND $review = 'approved' AND posted_at = NONE { time::now() } ELSE { posted_at }, \
             closed_at = IF $status = 'closed' { time::now() } ELSE { closed_at }, \
             updated_at = time::now() WHERE $from = NONE OR status = $from RETURN AFTER",
        )
        .bind(("id", id.to_owned()))
        .bind(("from", from.map(|f| f.as_str())))
        .bind(("status", status.as_str()))
        .bind(("review", review.as_str()))
        .await?;
    let rows: Vec<JobRow> = response.take(0)?;
    rows.into_iter().next().map(Job::try_from).transpose()
}

/// A company's jobs, newest first, optionally of one status.
pub async fn list_for_company(
    ex: &impl Executor,
    company_id: &str,
    status: Option<JobStatus>,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Job>, u64), RepoError> {
    let condition =
        "company = type::record('company', $company) AND ($status = NONE OR status = $status)";
    let sql = format!(
        "SELECT * FROM job WHERE {condition} ORDER BY created_at DESC, id DESC LIMIT $limit START $offset; \
         SELECT count() AS count FROM job WHERE {condition} GROUP ALL;"
    );
    let mut response = ex
        .query(sql)
        .bind(("company", company_id.to_owned()))
        .bind(("status", status.map(|s| s.as_str())))
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let jobs = rows_of(response.take(0)?)?;
    let count: Option<Count> = response.take(1)?;
    Ok((jobs, count.map_or(0, |c| c.count)))
}

/// Jobs waiting for an admin, oldest first.
pub async fn pending_review(
    ex: &impl Executor,
    limit: u32,
    offset: u32,
) -> Result<(Vec<Job>, u64), RepoError> {
    let mut response = ex
        .query(
            "SELECT * FROM job WHERE review = 'pending' AND status = 'published' ORDER BY updated_at LIMIT $limit START $offset; \
             SELECT count() AS count FROM job WHERE review = 'pending' AND status = 'published' GROUP ALL;",
        )
        .bind(("limit", i64::from(limit)))
        .bind(("offset", i64::from(offset)))
        .await?;
    let jobs = rows_of(response.take(0)?)?;
    let count: Option<Count> = response.take(1)?;
    Ok((jobs, count.map_or(0, |c| c.count)))
}

/// Closes up to `limit` published jobs whose expiry passed; returns the ids it closed (fewer
/// than `limit`: none are left). One write of bounded size, whatever expired at once: the
/// embedded database refuses a transaction larger than its write buffer.
pub async fn close_expired(
    ex: &impl Executor,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<String>, RepoError> {
    let mut response = ex
        .query(
            "UPDATE (SELECT VALUE id FROM job WHERE status = 'published' AND expires_at != NONE \
               AND expires_at <= $now LIMIT $limit) \
             SET status = 'closed', closed_at = $now, updated_at = time::now() \
             WHERE status = 'published' RETURN VALUE id",
        )
        .bind(("now", now))
        .bind(("limit", i64::from(limit)))
        .await?;
    let ids: Vec<RecordId> = response.take(0)?;
    Ok(ids.iter().map(key_string).collect())
}

pub async fn add_view(ex: &impl Executor, id: &str) -> Result<(), RepoError> {
    ex.query("UPDATE type::record('job', $id) SET view_count += 1 RETURN NONE")
        .bind(("id", id.to_owned()))
        .await?
        .check()?;
    Ok(())
}

/// How many jobs are published and approved (what the index holds), and the latest
/// `updated_at` of any job (unix micros), to tell whether the index is current.
pub async fn index_state(ex: &impl Executor) -> Result<(u64, i64), RepoError> {
    #[derive(SurrealValue)]
    struct Latest {
        updated_at: Option<DateTime<Utc>>,
    }
    let mut response = ex
        .query(
            "SELECT count() AS count FROM job WHERE status = 'published' AND review = 'approved' GROUP ALL; \
             SELECT updated_at FROM job ORDER BY updated_at DESC LIMIT 1;",
        )
        .await?;
    let count: Option<Count> = response.take(0)?;
    let latest: Option<Latest> = response.take(1)?;
    let micros = latest.and_then(|l| l.updated_at).map_or(0, |at| at.timestamp_micros());
    Ok((count.map_or(0, |c| c.count), micros))
}

/// A page of published, approved jobs in id order, after `after` (a rebuild walks them all).
///
/// The page is read as a range of record ids, which stops at `limit` public jobs: a condition
/// on the status would be answered from its index, every public job read and sorted for each
/// page (the whole walk quadratic in the number of jobs, and a page's peak memory all of them).
pub async fn public_page(
    ex: &impl Executor,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    const FIRST: &str = "SELECT * FROM type::record('job', ..) \
        WHERE status = 'published' AND review = 'approved' ORDER BY id LIMIT $limit";
    const AFTER: &str = "SELECT * FROM type::record('job', $after>..) \
        WHERE status = 'published' AND review = 'approved' ORDER BY id LIMIT $limit";
    page_by_id(ex, if after.is_some() { AFTER } else { FIRST }, after, limit).await
}

/// A page of every job (any status) in id order, after `after` (a walk over the whole table).
///
/// A range of record ids reads the table in the order it is stored, each block of it once;
/// the same walk in `updated_at` order ([`updated_after`]) reads each record through the index,
/// a block per record (at 100,000 jobs, `serve` used 110 s of CPU after a restart, most of it
/// in the first vector sync, against 16 s this way).
pub async fn every_page(
    ex: &impl Executor,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    const FIRST: &str = "SELECT * FROM type::record('job', ..) ORDER BY id LIMIT $limit";
    const AFTER: &str = "SELECT * FROM type::record('job', $after>..) ORDER BY id LIMIT $limit";
    page_by_id(ex, if after.is_some() { AFTER } else { FIRST }, after, limit).await
}

/// Runs one of the id-range page queries above.
async fn page_by_id(
    ex: &impl Executor,
    query: &'static str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    let mut response = ex
        .query(query)
        .bind(("after", after.map(str::to_owned)))
        .bind(("limit", i64::from(limit)))
        .await?;
    rows_of(response.take(0)?)
}

/// The database's clock, which stamps `updated_at` (a database server's clock may differ
/// from this machine's).
pub async fn database_now(ex: &impl Executor) -> Result<DateTime<Utc>, RepoError> {
    let mut response = ex.query("RETURN time::now()").await?;
    let now: Option<DateTime<Utc>> = response.take(0)?;
    now.ok_or_else(|| unexpected("time::now() returned nothing"))
}

/// Jobs changed after `since` (any status), oldest change first; a page that follows another
/// passes the last (updated_at, id) it saw, so jobs stamped with one instant are not skipped.
///
/// Two statements, each an ordered walk of the `job_updated` index that stops at `limit`: the
/// rest of the instant `since` after that id, then what came later. (One statement with `OR`
/// makes SurrealDB read every later job to sort them, so paging through a whole table cost the
/// square of its size.)
pub async fn updated_after(
    ex: &impl Executor,
    since: DateTime<Utc>,
    after_id: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    const LATER: &str =
        "SELECT * FROM job WHERE updated_at > $since ORDER BY updated_at, id LIMIT $limit";
    const SAME_INSTANT_THEN_LATER: &str = "SELECT * FROM job WHERE updated_at = $since \
        AND id > type::record('job', $after) ORDER BY id LIMIT $limit; \
        SELECT * FROM job WHERE updated_at > $since ORDER BY updated_at, id LIMIT $limit";
    let rows: Vec<JobRow> = match after_id {
        Some(after) => {
            let mut response = ex
                .query(SAME_INSTANT_THEN_LATER)
                .bind(("since", since))
                .bind(("after", after.to_owned()))
                .bind(("limit", i64::from(limit)))
                .await?;
            let mut rows: Vec<JobRow> = response.take(0)?;
            rows.extend(response.take::<Vec<JobRow>>(1)?);
            rows.truncate(limit as usize);
            rows
        }
        None => ex
            .query(LATER)
            .bind(("since", since))
            .bind(("limit", i64::from(limit)))
            .await?
            .take(0)?,
    };
    rows_of(rows)
}

/// Like [`public_page`], for one company's jobs (the `job_company_status` index).
pub async fn public_page_of_company(
    ex: &impl Executor,
    company_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Job>, RepoError> {
    let mut response = ex
        .query(
            "SELECT * FROM job WHERE company = type::record('company', $company) AND status = 'published' \
             AND review = 'approved' AND ($after = NONE OR id > type::record('job', $after)) \
             ORDER BY id LIMIT $limit",
        )
        .bind(("company", company_id.to_owned()))
        .bind(("after", after.map(str::to_owned)))
        .bind(("limit", i64::from(limit)))
        .await?;
    rows_of(response.take(0)?)
}

/// The names of the companies of some jobs, by company id.
pub async fn company_names_of<'a>(
    ex: &impl Executor,
    jobs: impl IntoIterator<Item = &'a Job>,
) -> Result<std::collections::HashMap<String, String>, RepoError> {
    Ok(company_names(ex, &crate::models::job::company_ids(jobs)).await?.into_iter().collect())
}

/// Company names by id, for the index.
pub async fn company_names(
    ex: &impl Executor,
    company_ids: &[String],
) -> Result<Vec<(String, String)>, RepoError> {
    #[derive(SurrealValue)]
    struct NameRow {
        id: RecordId,
        name: String,
    }
    if company_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut response = ex
        .query("SELECT id, name FROM $ids")
        .bind(("ids", record_ids("company", company_ids)))
        .await?;
    let rows: Vec<NameRow> = response.take(0)?;
    Ok(rows.into_iter().map(|r| (key_string(&r.id), r.name)).collect())
}
