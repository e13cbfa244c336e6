//! Saved jobs (bookmarks) and saved searches (job alerts, with an unsubscribe token that works
//! without signing in).

use chrono::Utc;

use super::search::{self, SearchParams};
use super::{Context, Principal, ServiceError, policy, races};
use crate::core::security;
use crate::models::company::Company;
use crate::models::job::Job;
use crate::models::saved::{AlertFrequency, SavedJob, SavedSearch, SearchFilters};
use crate::repositories;

/// The most saved searches one user keeps.
pub const MAX_SAVED_SEARCHES: u64 = 50;

/// Bookmarks a public job; `true` when it was not saved before.
pub async fn save_job(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
) -> Result<bool, ServiceError> {
    policy::keep_resumes(principal)?;
    let job =
        repositories::jobs::find(&ctx.db, job_id).await?.ok_or(ServiceError::NotFound("job"))?;
    if !job.is_public(Utc::now()) {
        return Err(ServiceError::NotFound("job"));
    }
    // Two saves of the same job at once write the same record; the one that loses the race is
    // made again and finds the bookmark there, as a save after the other would.
    races::again_on_conflict(|| async {
        Ok(repositories::saved::save_job(&ctx.db, &principal.user_id, job_id).await?)
    })
    .await
}

pub async fn unsave_job(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
) -> Result<(), ServiceError> {
    policy::keep_resumes(principal)?;
    repositories::saved::unsave_job(&ctx.db, &principal.user_id, job_id).await?;
    Ok(())
}

/// A bookmark with its job when the job still exists; `public` says whether it is still open.
pub struct SavedJobView {
    pub saved: SavedJob,
    pub job: Option<(Job, Company)>,
    pub public: bool,
}

pub async fn saved_jobs(
    ctx: &Context,
    principal: &Principal,
) -> Result<Vec<SavedJobView>, ServiceError> {
    policy::keep_resumes(principal)?;
    let saved = repositories::saved::saved_jobs(&ctx.db, &principal.user_id).await?;
    let now = Utc::now();
    let mut out = Vec::with_capacity(saved.len());
    for s in saved {
        let job = repositories::jobs::find(&ctx.db, &s.job_id).await?;
        let company = match &job {
            Some(job) => repositories::companies::find_by_id(&ctx.db, &job.company_id).await?,
            None => None,
        };
        let public = job.as_ref().is_some_and(|j| j.is_public(now));
        out.push(SavedJobView { saved: s, job: job.zip(company), public });
    }
    Ok(out)
}

/// The search a saved one runs (newest first, no facets).
pub fn params(filters: &SearchFilters, limit: u32) -> SearchParams {
    SearchParams {
        q: filters.q.clone(),
        location: filters.location.clone(),
        countries: filters.country.clone(),
        workplaces: filters.workplace.clone(),
        employment_types: filters.employment_type.clone(),
        seniorities: filters.seniority.clone(),
        categories: filters.category.clone(),
        skills: filters.skills.clone(),
        companies: filters.company.clone(),
        salary_min: filters.salary_min,
        salary_currency: filters.salary_currency.clone(),
        salary_period: filters.salary_period.clone(),
        posted_within_days: None,
        sort: Some("newest".into()),
        limit: Some(limit),
        offset: None,
        facets: Some(false),
        // Alerts match words, not meanings: a digest says exactly why each job is in it.
        mode: Some("keyword".into()),
    }
}

fn clean_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        return Err(ServiceError::validation(
            "name must be 1 to 120 characters without control characters",
        ));
    }
    Ok(name.to_owned())
}

fn frequency(raw: &str) -> Result<AlertFrequency, ServiceError> {
    AlertFrequency::parse(raw.trim()).ok_or_else(|| {
        ServiceError::validation(format!(
            "frequency {raw:?} is not one of {}",
            AlertFrequency::names()
        ))
    })
}

/// Checks the filters the way `GET /api/v1/jobs` does, by running them: the number of jobs
/// they match now.
async fn check_filters(ctx: &Context, filters: &SearchFilters) -> Result<u64, ServiceError> {
    Ok(search::search(ctx, params(filters, 1)).await?.total)
}

/// Saves a search; the digest covers jobs published from now on. Returns it with the number
/// of jobs it matches now.
pub async fn create_search(
    ctx: &Context,
    principal: &Principal,
    name: &str,
    filters: SearchFilters,
    freq: &str,
) -> Result<(SavedSearch, u64), ServiceError> {
    policy::keep_resumes(principal)?;
    let name = clean_name(name)?;
    let freq = frequency(freq)?;
    let matches = check_filters(ctx, &filters).await?;
    if repositories::saved::count_searches(&ctx.db, &principal.user_id).await? >= MAX_SAVED_SEARCHES
    {
        return Err(ServiceError::validation(format!(
            "a user keeps at most {MAX_SAVED_SEARCHES} saved searches"
        )));
    }
    let id = repositories::new_key();
    let token = security::random_token();
    repositories::saved::insert_search(
        &ctx.db,
        &id,
        &principal.user_id,
        &name,
        &filters,
        freq,
        &token,
    )
    .await?;
    Ok((get_search(ctx, principal, &id).await?, matches))
}

pub async fn get_search(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<SavedSearch, ServiceError> {
    policy::keep_resumes(principal)?;
    let search = repositories::saved::find_search(&ctx.db, id)
        .await?
        .ok_or(ServiceError::NotFound("saved search"))?;
    if search.user_id != principal.user_id {
        return Err(ServiceError::NotFound("saved search"));
    }
    Ok(search)
}

pub async fn list_searches(
    ctx: &Context,
    principal: &Principal,
) -> Result<Vec<SavedSearch>, ServiceError> {
    policy::keep_resumes(principal)?;
    Ok(repositories::saved::searches_of(&ctx.db, &principal.user_id).await?)
}

/// Changes a saved search: the fields given replace the stored ones.
pub async fn update_search(
    ctx: &Context,
    principal: &Principal,
    id: &str,
    name: Option<&str>,
    filters: Option<SearchFilters>,
    freq: Option<&str>,
    active: Option<bool>,
) -> Result<SavedSearch, ServiceError> {
    let current = get_search(ctx, principal, id).await?;
    let name = match name {
        Some(n) => clean_name(n)?,
        None => current.name.clone(),
    };
    let freq = match freq {
        Some(f) => frequency(f)?,
        None => current.frequency,
    };
    let filters = match filters {
        Some(f) => {
            check_filters(ctx, &f).await?;
            f
        }
        None => current.filters.clone(),
    };
    repositories::saved::update_search(&ctx.db, id, &name, &filters, freq, active).await?;
    get_search(ctx, principal, id).await
}

pub async fn delete_search(
    ctx: &Context,
    principal: &Principal,
    id: &str,
) -> Result<(), ServiceError> {
    get_search(ctx, principal, id).await?;
    repositories::saved::delete_search(&ctx.db, id).await?;
    Ok(())
}

/// The search an unsubscribe token belongs to (for the confirmation page).
pub async fn find_by_token(ctx: &Context, token: &str) -> Result<SavedSearch, ServiceError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(ServiceError::InvalidToken);
    }
    repositories::saved::find_by_token(&ctx.db, token).await?.ok_or(ServiceError::InvalidToken)
}

/// Turns off a saved search's alerts by the token its emails carry; no sign-in needed.
pub async fn unsubscribe(ctx: &Context, token: &str) -> Result<SavedSearch, ServiceError> {
    let token = token.trim();
    if token.is_empty() || token.len() > 200 {
        return Err(ServiceError::InvalidToken);
    }
    repositories::saved::unsubscribe(&ctx.db, token).await?.ok_or(ServiceError::InvalidToken)
}
