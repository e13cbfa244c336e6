//! Explained recommendations: jobs for a candidate, candidates for a job.
//!
//! A match is scored from parts that add up, and each part is a reason the caller sees:
//! - similarity: the cosine of the embeddings of the candidate's resume profile and the job's
//!   text, mapped from this model's useful range (0.1 to 0.7) onto 0 to 1, weighted 0.55
//!   (1.0 when the job lists no skills);
//! - skills: the share of the job's skills the candidate has (normalised names), weighted 0.45;
//! - preferences (jobs for a candidate): workplace, location, seniority and salary each add a
//!   little when they fit what the candidate asked for and take more away when they do not.
//!
//! Same data, same ranking: ties are broken by id, and nothing random is involved.

use std::collections::HashSet;

use chrono::Utc;

use super::{Context, Principal, ServiceError};
use crate::models::company::Company;
use crate::models::job::{Job, Seniority, Workplace};
use crate::models::recommendation::{Explanation, Match, Preferences, Reason};
use crate::models::resume::{Profile, Resume};
use crate::models::user::Role;
use crate::repositories;
use crate::utils::skills;

/// Weight of similarity when the job lists skills (skills take the rest).
const SIMILARITY_WEIGHT: f32 = 0.55;
const SKILLS_WEIGHT: f32 = 0.45;
/// What a preference that fits adds, and what one that does not takes away.
const FITS: f32 = 0.05;
const MISFITS: f32 = -0.15;
/// How many of the closest jobs are scored for a candidate.
const JOB_POOL: usize = 200;
/// How many candidates are scored for a job.
const CANDIDATE_POOL: u32 = 500;
/// The most items one request returns.
pub const MAX_LIMIT: u32 = 50;

/// A recommended job.
#[derive(Debug, Clone)]
pub struct JobRecommendation {
    pub job: Job,
    pub company: Company,
    pub matched: Match,
}

/// A recommended candidate for a job.
#[derive(Debug, Clone)]
pub struct CandidateRecommendation {
    pub candidate_id: String,
    pub resume_id: String,
    pub name: Option<String>,
    /// The latest job title on the resume.
    pub headline: Option<String>,
    pub years_experience: Option<f32>,
    /// Applied to this job (else: discoverable).
    pub applied: bool,
    pub matched: Match,
}

/// What the model reads of a resume: the titles held, the skills, the summary (falls back to
/// the start of the resume's text when the parser found none of those).
pub fn profile_text(profile: &Profile, resume_text: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let titles: Vec<&str> =
        profile.experience.iter().filter_map(|e| e.value.title.as_deref()).take(3).collect();
    if !titles.is_empty() {
        parts.push(format!("{}.", titles.join(", ")));
    }
    if !profile.skills.is_empty() {
        let names: Vec<&str> = profile.skills.iter().map(|s| s.value.as_str()).collect();
        parts.push(format!("Skills: {}.", names.join(", ")));
    }
    if let Some(summary) = &profile.summary {
        parts.push(summary.value.clone());
    }
    if parts.is_empty() {
        return resume_text.chars().take(2_000).collect();
    }
    parts.join(" ")
}

fn profile_skills(profile: &Profile) -> Vec<String> {
    skills::normalize_all(profile.skills.iter().map(|s| s.value.as_str()))
}

fn round(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// The similarity and skills parts of a match: (reasons, matched, missing, summary).
fn core_reasons(
    job: &Job,
    candidate_skills: &[String],
    similarity: f32,
    whose: &str,
) -> (Vec<Reason>, Vec<String>, Vec<String>, String) {
    let have: HashSet<&str> = candidate_skills.iter().map(String::as_str).collect();
    let (matched, missing): (Vec<String>, Vec<String>) =
        job.fields.skills.iter().cloned().partition(|s| have.contains(s.as_str()));
    let closeness = ((similarity - 0.1) / 0.6).clamp(0.0, 1.0);
    let mut reasons = Vec::new();
    let summary;
    if job.fields.skills.is_empty() {
        summary = "the job lists no skills".to_owned();
        reasons.push(Reason {
            factor: "similarity",
            effect: round(closeness),
            detail: format!("{whose} resume and the job read alike (cosine {similarity:.2}); the job lists no skills"),
        });
    } else {
        let total = job.fields.skills.len();
        summary = format!("{} of {total} skills match", matched.len());
        reasons.push(Reason {
            factor: "similarity",
            effect: round(SIMILARITY_WEIGHT * closeness),
            detail: format!("{whose} resume and the job read alike (cosine {similarity:.2})"),
        });
        let detail = if missing.is_empty() {
            format!("{summary}: all of them")
        } else {
            format!("{summary}; missing: {}", missing.join(", "))
        };
        reasons.push(Reason {
            factor: "skills",
            effect: round(SKILLS_WEIGHT * matched.len() as f32 / total as f32),
            detail,
        });
    }
    (reasons, matched, missing, summary)
}

/// "Lisbon, PT", "Lisbon, PT or Porto, PT", or the first three and how many more.
fn places_text(labels: &[String]) -> String {
    const SHOWN: usize = 3;
    if labels.len() <= SHOWN {
        labels.join(" or ")
    } else {
        format!("{} or {} other places", labels[..SHOWN].join(", "), labels.len() - SHOWN)
    }
}

fn level(s: Seniority) -> i32 {
    match s {
        Seniority::Intern => 0,
        Seniority::Junior => 1,
        Seniority::Mid => 2,
        Seniority::Senior => 3,
        Seniority::Lead => 4,
        Seniority::Executive => 5,
    }
}

/// The reasons a job fits or misses a candidate's stated preferences.
fn preference_reasons(job: &Job, prefs: &Preferences) -> Vec<Reason> {
    let f = &job.fields;
    let mut reasons = Vec::new();
    if let (false, Some(workplace)) = (prefs.workplaces.is_empty(), f.workplace) {
        let name = workplace.as_str();
        reasons.push(if prefs.workplaces.iter().any(|w| w == name) {
            Reason { factor: "workplace", effect: FITS, detail: format!("{name}, as you prefer") }
        } else {
            Reason {
                factor: "workplace",
                effect: MISFITS,
                detail: format!("{name}; you prefer {}", prefs.workplaces.join(" or ")),
            }
        });
    }
    // Where a remote job is does not matter.
    if (!prefs.countries.is_empty() || !prefs.cities.is_empty())
        && f.workplace != Some(Workplace::Remote)
    {
        // A job at several places fits when any of them is one the candidate wants.
        let wanted_place = |l: &&crate::models::job::Location| {
            l.country_code
                .as_deref()
                .is_some_and(|c| prefs.countries.iter().any(|p| p.eq_ignore_ascii_case(c)))
                || l.city
                    .as_deref()
                    .is_some_and(|c| prefs.cities.iter().any(|p| p.eq_ignore_ascii_case(c)))
        };
        if let Some(place) = f.locations.iter().find(wanted_place) {
            reasons.push(Reason {
                factor: "location",
                effect: FITS,
                detail: format!("in {}, where you want to work", place.label().unwrap_or_default()),
            });
        } else {
            let labels: Vec<String> = f.locations.iter().filter_map(|l| l.label()).collect();
            if !labels.is_empty() {
                let wanted: Vec<&str> =
                    prefs.cities.iter().chain(&prefs.countries).map(String::as_str).collect();
                reasons.push(Reason {
                    factor: "location",
                    effect: MISFITS,
                    detail: format!(
                        "in {}; you want {}",
                        places_text(&labels),
                        wanted.join(" or ")
                    ),
                });
            }
        }
    }
    if let (false, Some(seniority)) = (prefs.seniorities.is_empty(), f.seniority) {
        let wanted: Vec<Seniority> =
            prefs.seniorities.iter().filter_map(|s| Seniority::parse(s)).collect();
        if let Some(distance) = wanted.iter().map(|w| (level(*w) - level(seniority)).abs()).min() {
            reasons.push(if distance == 0 {
                Reason {
                    factor: "seniority",
                    effect: FITS,
                    detail: format!("{} level, as you prefer", seniority.as_str()),
                }
            } else {
                Reason {
                    factor: "seniority",
                    effect: round((-0.05 * distance as f32).max(-0.2)),
                    detail: format!(
                        "{} level; you prefer {}",
                        seniority.as_str(),
                        prefs.seniorities.join(" or ")
                    ),
                }
            });
        }
    }
    if let (Some(floor), Some(currency), Some(salary)) = (
        prefs.salary_min_yearly,
        prefs.salary_currency.as_deref(),
        f.salary.as_ref().filter(|s| s.public),
    ) && salary.currency.as_deref() == Some(currency)
        && let Some(top) = salary.yearly_top()
    {
        reasons.push(if top >= floor {
            Reason {
                factor: "salary",
                effect: FITS,
                detail: format!("pays up to {top:.0} {currency} a year, above your {floor:.0}"),
            }
        } else {
            Reason {
                factor: "salary",
                effect: MISFITS,
                detail: format!("pays at most {top:.0} {currency} a year, below your {floor:.0}"),
            }
        });
    }
    reasons
}

/// Scores and explains one job for one candidate.
pub fn explain(
    job: &Job,
    candidate_skills: &[String],
    similarity: f32,
    prefs: Option<&Preferences>,
    whose: &str,
) -> Match {
    let (mut reasons, matched_skills, missing_skills, skills_summary) =
        core_reasons(job, candidate_skills, similarity, whose);
    if let Some(prefs) = prefs {
        reasons.extend(preference_reasons(job, prefs));
    }
    let score = round(reasons.iter().map(|r| r.effect).sum());
    Match {
        score,
        explanation: Explanation {
            similarity: round(similarity),
            matched_skills,
            missing_skills,
            skills_summary,
            reasons,
        },
    }
}

fn embedder(ctx: &Context) -> Result<crate::ai::providers::embedder::Embedder, ServiceError> {
    ctx.ai.embedder().ok_or_else(|| {
        ServiceError::ModelUnavailable(format!(
            "recommendations need the embedding model, which is {}",
            ctx.ai.embedder_state().describe()
        ))
    })
}

async fn default_resume(ctx: &Context, candidate_id: &str) -> Result<Resume, ServiceError> {
    let missing = || {
        ServiceError::validation("upload a resume first: recommendations read your default resume")
    };
    let id = repositories::resumes::default_of(&ctx.db, candidate_id).await?.ok_or_else(missing)?;
    repositories::resumes::find(&ctx.db, &id).await?.ok_or_else(missing)
}

fn require_candidate(principal: &Principal) -> Result<(), ServiceError> {
    if principal.role != Role::Candidate {
        return Err(ServiceError::forbidden("recommendations are for candidates"));
    }
    Ok(())
}

/// Jobs for the calling candidate, best first: from the closest public jobs to their default
/// resume, leaving out those they applied to or dismissed.
pub async fn for_candidate(
    ctx: &Context,
    principal: &Principal,
    limit: u32,
) -> Result<Vec<JobRecommendation>, ServiceError> {
    require_candidate(principal)?;
    let embedder = embedder(ctx)?;
    let resume = default_resume(ctx, &principal.user_id).await?;
    let profile = resume.profile();
    let vector = embedder.embed_one(&profile_text(&profile, &resume.text)).await?;
    let prefs = repositories::embeddings::preferences(&ctx.db, &principal.user_id).await?;
    let mut excluded: HashSet<String> =
        repositories::applications::job_ids_of_candidate(&ctx.db, &principal.user_id)
            .await?
            .into_iter()
            .collect();
    excluded.extend(repositories::embeddings::dismissed_jobs(&ctx.db, &principal.user_id).await?);
    let vectors = ctx.ai.jobs.clone();
    let k = JOB_POOL + excluded.len();
    let hits =
        super::pool::run(move || Ok::<_, ServiceError>(vectors.search(&vector, k, None))).await?;
    let hits: Vec<_> =
        hits.into_iter().filter(|h| !excluded.contains(&h.key)).take(JOB_POOL).collect();
    let ids: Vec<String> = hits.iter().map(|h| h.key.clone()).collect();
    let jobs = repositories::jobs::find_many(&ctx.db, &ids).await?;
    let companies = repositories::companies::of_jobs(&ctx.db, &jobs).await?;
    let skills = profile_skills(&profile);
    let now = Utc::now();
    let mut out = Vec::new();
    for hit in &hits {
        let Some(job) = jobs.iter().find(|j| j.id == hit.key && j.is_public(now)) else { continue };
        let Some(company) = companies.iter().find(|c| c.id == job.company_id) else { continue };
        out.push(JobRecommendation {
            job: job.clone(),
            company: company.clone(),
            matched: explain(job, &skills, hit.similarity, Some(&prefs), "your"),
        });
    }
    out.sort_by(|a, b| {
        b.matched.score.total_cmp(&a.matched.score).then_with(|| a.job.id.cmp(&b.job.id))
    });
    out.truncate(limit.clamp(1, MAX_LIMIT) as usize);
    Ok(out)
}

/// One public job for the calling candidate, scored and explained as [`for_candidate`] would
/// (whether or not it is among their recommendations, applied to or dismissed).
pub async fn for_candidate_job(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
) -> Result<JobRecommendation, ServiceError> {
    require_candidate(principal)?;
    let (job, company) = super::jobs::get(ctx, None, job_id).await?;
    let embedder = embedder(ctx)?;
    let resume = default_resume(ctx, &principal.user_id).await?;
    let profile = resume.profile();
    let vector = embedder.embed_one(&profile_text(&profile, &resume.text)).await?;
    let job_vector = match ctx.ai.jobs.vector_of(&job.id) {
        Some(vector) => vector,
        None => embedder.embed_one(&super::embeddings::job_text(&job, &company.name)).await?,
    };
    let similarity = crate::ai::rag::vectorstore::dot(&vector, &job_vector);
    let prefs = repositories::embeddings::preferences(&ctx.db, &principal.user_id).await?;
    let matched = explain(&job, &profile_skills(&profile), similarity, Some(&prefs), "your");
    Ok(JobRecommendation { job, company, matched })
}

/// The candidate does not want this job recommended again.
pub async fn dismiss(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
) -> Result<(), ServiceError> {
    require_candidate(principal)?;
    repositories::jobs::find(&ctx.db, job_id)
        .await?
        .filter(|j| j.is_public(Utc::now()))
        .ok_or(ServiceError::NotFound("job"))?;
    repositories::embeddings::dismiss(&ctx.db, &principal.user_id, job_id).await?;
    Ok(())
}

/// Takes a dismissal back; `false` when there was none.
pub async fn undismiss(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
) -> Result<bool, ServiceError> {
    require_candidate(principal)?;
    Ok(repositories::embeddings::undismiss(&ctx.db, &principal.user_id, job_id).await?)
}

pub async fn preferences(
    ctx: &Context,
    principal: &Principal,
) -> Result<Preferences, ServiceError> {
    require_candidate(principal)?;
    Ok(repositories::embeddings::preferences(&ctx.db, &principal.user_id).await?)
}

/// Checks and stores the candidate's preferences (lists are trimmed, de-duplicated, checked
/// against the known values).
pub async fn set_preferences(
    ctx: &Context,
    principal: &Principal,
    prefs: Preferences,
) -> Result<Preferences, ServiceError> {
    require_candidate(principal)?;
    fn clean(
        field: &str,
        values: Vec<String>,
        check: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Vec<String>, ServiceError> {
        if values.len() > 20 {
            return Err(ServiceError::validation(format!("{field} may name at most 20 values")));
        }
        let mut out: Vec<String> = Vec::new();
        for value in values {
            let value = check(value.trim())
                .map_err(|e| ServiceError::validation(format!("{field}: {e}")))?;
            if !value.is_empty() && !out.contains(&value) {
                out.push(value);
            }
        }
        Ok(out)
    }
    let countries = clean("countries", prefs.countries, |c| {
        let c = c.to_ascii_uppercase();
        if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(c)
        } else {
            Err(format!("{c:?} is not a two-letter ISO code"))
        }
    })?;
    let cities = clean("cities", prefs.cities, |c| {
        if c.chars().count() <= 100 {
            Ok(c.to_owned())
        } else {
            Err("a city name is at most 100 characters".into())
        }
    })?;
    let workplaces = clean("workplaces", prefs.workplaces, |w| {
        let w = w.to_ascii_lowercase();
        if Workplace::parse(&w).is_some() {
            Ok(w)
        } else {
            Err(format!("{w:?} is not one of {}", Workplace::names()))
        }
    })?;
    let seniorities = clean("seniorities", prefs.seniorities, |s| {
        let s = s.to_ascii_lowercase();
        if Seniority::parse(&s).is_some() {
            Ok(s)
        } else {
            Err(format!("{s:?} is not one of {}", Seniority::names()))
        }
    })?;
    let salary_currency =
        match prefs.salary_currency.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(_) => {
                return Err(ServiceError::validation(
                    "salary_currency must be a three-letter ISO 4217 code",
                ));
            }
        };
    if let Some(min) = prefs.salary_min_yearly {
        if !min.is_finite() || min < 0.0 {
            return Err(ServiceError::validation("salary_min_yearly must be a positive number"));
        }
        if salary_currency.is_none() {
            return Err(ServiceError::validation(
                "salary_min_yearly needs salary_currency (e.g. EUR)",
            ));
        }
    }
    let prefs = Preferences {
        countries,
        cities,
        workplaces,
        seniorities,
        salary_min_yearly: prefs.salary_min_yearly,
        salary_currency,
    };
    repositories::embeddings::set_preferences(&ctx.db, &principal.user_id, &prefs).await?;
    Ok(prefs)
}

/// Candidates for a job, for the members of its company: those who applied and those who
/// chose to be discoverable, best first.
pub async fn for_job(
    ctx: &Context,
    principal: &Principal,
    job_id: &str,
    limit: u32,
) -> Result<Vec<CandidateRecommendation>, ServiceError> {
    let job =
        repositories::jobs::find(&ctx.db, job_id).await?.ok_or(ServiceError::NotFound("job"))?;
    let membership =
        repositories::companies::member_role(&ctx.db, &job.company_id, &principal.user_id).await?;
    if membership.is_none() {
        return Err(if job.is_public(Utc::now()) {
            ServiceError::forbidden("only the company's members see candidates for its jobs")
        } else {
            ServiceError::NotFound("job")
        });
    }
    let embedder = embedder(ctx)?;
    let job_vector = match ctx.ai.jobs.vector_of(&job.id) {
        Some(vector) => vector,
        None => {
            let names = repositories::jobs::company_names_of(&ctx.db, [&job]).await?;
            embedder
                .embed_one(&super::embeddings::job_text(
                    &job,
                    names.get(&job.company_id).map_or("", String::as_str),
                ))
                .await?
        }
    };
    let resumes = repositories::resumes::pool_for_job(&ctx.db, &job.id, CANDIDATE_POOL).await?;
    let applicants: HashSet<String> =
        repositories::applications::candidate_ids_of_job(&ctx.db, &job.id)
            .await?
            .into_iter()
            .collect();
    let profiles: Vec<Profile> = resumes.iter().map(Resume::profile).collect();
    let texts: Vec<String> =
        resumes.iter().zip(&profiles).map(|(r, p)| profile_text(p, &r.text)).collect();
    let vectors = embedder.embed(&texts).await?;
    let mut out: Vec<CandidateRecommendation> = resumes
        .iter()
        .zip(&profiles)
        .zip(&vectors)
        .map(|((resume, profile), vector)| {
            let similarity = crate::ai::rag::vectorstore::dot(&job_vector, vector);
            CandidateRecommendation {
                candidate_id: resume.owner_id.clone(),
                resume_id: resume.id.clone(),
                name: profile.name.as_ref().map(|n| n.value.clone()),
                headline: profile.experience.iter().find_map(|e| e.value.title.clone()),
                years_experience: profile.years_experience.as_ref().map(|y| y.value),
                applied: applicants.contains(&resume.owner_id),
                matched: explain(&job, &profile_skills(profile), similarity, None, "their"),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.matched
            .score
            .total_cmp(&a.matched.score)
            .then_with(|| a.candidate_id.cmp(&b.candidate_id))
    });
    out.truncate(limit.clamp(1, MAX_LIMIT) as usize);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::job::{JobFields, JobStatus, Location, Review};

    fn job_at(places: &[(&str, &str)]) -> Job {
        let locations = places
            .iter()
            .map(|(city, cc)| Location {
                city: Some((*city).into()),
                region: None,
                country_code: Some((*cc).into()),
            })
            .collect();
        let fields = crate::services::jobs::validate(
            None,
            crate::services::jobs::JobInput {
                title: Some("Engineer".into()),
                workplace: Some("onsite".into()),
                ..Default::default()
            },
        )
        .unwrap();
        Job {
            id: "j".into(),
            company_id: "c".into(),
            fields: JobFields { locations, ..fields },
            status: JobStatus::Published,
            review: Review::Approved,
            posted_at: None,
            closed_at: None,
            source: "test".into(),
            external_id: "j".into(),
            content_hash: String::new(),
            view_count: 0,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn location_reason(job: &Job, prefs: &Preferences) -> Option<(f32, String)> {
        preference_reasons(job, prefs)
            .into_iter()
            .find(|r| r.factor == "location")
            .map(|r| (r.effect, r.detail))
    }

    #[test]
    fn any_of_a_jobs_places_fits_a_location_preference() {
        let job = job_at(&[("Lisbon", "PT"), ("Berlin", "DE"), ("Madrid", "ES")]);
        let by_country = Preferences { countries: vec!["de".into()], ..Preferences::default() };
        assert_eq!(
            location_reason(&job, &by_country),
            Some((FITS, "in Berlin, DE, where you want to work".into()))
        );
        let by_city = Preferences { cities: vec!["madrid".into()], ..Preferences::default() };
        assert_eq!(
            location_reason(&job, &by_city),
            Some((FITS, "in Madrid, ES, where you want to work".into()))
        );
        let elsewhere = Preferences { countries: vec!["FR".into()], ..Preferences::default() };
        assert_eq!(
            location_reason(&job, &elsewhere),
            Some((MISFITS, "in Lisbon, PT or Berlin, DE or Madrid, ES; you want FR".into()))
        );
        let many = job_at(&[
            ("Lisbon", "PT"),
            ("Berlin", "DE"),
            ("Madrid", "ES"),
            ("Paris", "FR"),
            ("Rome", "IT"),
        ]);
        let (_, detail) = location_reason(
            &many,
            &Preferences { countries: vec!["US".into()], ..Preferences::default() },
        )
        .unwrap();
        assert_eq!(detail, "in Lisbon, PT, Berlin, DE, Madrid, ES or 2 other places; you want US");
    }
}
