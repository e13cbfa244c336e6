//! A job's fields as somebody typed them (a request or an import record): checked, normalised
//! and applied over the stored ones; and the hash of a job's content.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::models::job::{
    EmploymentType, JobFields, JobInput, JobStatus, Location, LocationInput, MAX_LOCATIONS, Salary,
    SalaryPeriod, Seniority, Workplace,
};
use crate::services::ServiceError;
use crate::utils::skills;

pub(super) fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::validation(message)
}

fn text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, ServiceError> {
    match value.map(|v| v.trim().to_owned()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.chars().count() > max => {
            Err(invalid(format!("{field} must be at most {max} characters")))
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') => {
            Err(invalid(format!("{field} contains control characters")))
        }
        Some(v) => Ok(Some(v)),
    }
}

fn choice<T>(
    field: &str,
    value: Option<String>,
    parse: fn(&str) -> Option<T>,
    names: fn() -> String,
) -> Result<Option<T>, ServiceError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{field} must be one of {}", names()))),
    }
}

fn list(
    field: &str,
    values: Vec<String>,
    max_items: usize,
    max_len: usize,
) -> Result<Vec<String>, ServiceError> {
    if values.len() > max_items {
        return Err(invalid(format!("{field} has more than {max_items} entries")));
    }
    let mut out: Vec<String> = Vec::new();
    for value in values {
        if let Some(v) = text(field, Some(value), max_len)?
            && !out.contains(&v)
        {
            out.push(v);
        }
    }
    Ok(out)
}

/// Checks and normalises a complete job (the stored one with `input` applied over it).
pub fn validate(base: Option<&JobFields>, input: JobInput) -> Result<JobFields, ServiceError> {
    let salary_input = JobInput {
        salary_min: input.salary_min,
        salary_max: input.salary_max,
        salary_currency: input.salary_currency.clone(),
        salary_period: input.salary_period.clone(),
        salary_public: input.salary_public,
        ..JobInput::default()
    };
    let locations = locations(base.map(|b| b.locations.as_slice()).unwrap_or_default(), &input)?;
    let title = match input.title {
        Some(t) => {
            text("title", Some(t), 200)?.ok_or_else(|| invalid("title must not be empty"))?
        }
        None => base.map(|b| b.title.clone()).ok_or_else(|| invalid("title is required"))?,
    };
    let description = match input.description {
        Some(d) => text("description", Some(d), 100_000)?.unwrap_or_default(),
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let workplace = if input.workplace.is_some() {
        choice("workplace", input.workplace, Workplace::parse, Workplace::names)?
    } else {
        base.and_then(|b| b.workplace)
    };
    let employment_type = if input.employment_type.is_some() {
        choice(
            "employment_type",
            input.employment_type,
            EmploymentType::parse,
            EmploymentType::names,
        )?
    } else {
        base.and_then(|b| b.employment_type)
    };
    let seniority = if input.seniority.is_some() {
        choice("seniority", input.seniority, Seniority::parse, Seniority::names)?
    } else {
        base.and_then(|b| b.seniority)
    };
    let remote_regions = match input.remote_regions {
        Some(r) => list("remote_regions", r, 20, 60)?,
        None => base.map(|b| b.remote_regions.clone()).unwrap_or_default(),
    };
    let salary = salary(base.and_then(|b| b.salary.clone()), &salary_input)?;
    let skills = match input.skills {
        Some(s) => {
            if s.len() > 50 {
                return Err(invalid("skills has more than 50 entries"));
            }
            skills::normalize_all(s.iter().map(String::as_str))
        }
        None => base.map(|b| b.skills.clone()).unwrap_or_default(),
    };
    let category = if input.category.is_some() {
        text("category", input.category, 60)?.map(|c| c.to_lowercase())
    } else {
        base.and_then(|b| b.category.clone())
    };
    let tags = match input.tags {
        Some(t) => list("tags", t, 30, 80)?,
        None => base.map(|b| b.tags.clone()).unwrap_or_default(),
    };
    let apply_url = if input.apply_url.is_some() {
        let url = text("apply_url", input.apply_url, 2048)?;
        if let Some(u) = &url {
            let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return Err(invalid("apply_url must be an http:// or https:// URL"));
            }
        }
        url
    } else {
        base.and_then(|b| b.apply_url.clone())
    };
    let expires_at = input.expires_at.or(base.and_then(|b| b.expires_at));
    Ok(JobFields {
        title,
        description,
        locations,
        workplace,
        remote_regions,
        employment_type,
        seniority,
        salary,
        skills,
        category,
        tags,
        apply_url,
        expires_at,
    })
}

fn country_code(field: &str, value: Option<String>) -> Result<Option<String>, ServiceError> {
    let Some(code) = value.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(Some(code))
    } else {
        Err(invalid(format!("{field} must be a two-letter ISO 3166 code such as PT")))
    }
}

/// One place, checked; `prefix` names it in errors (`locations[2].` or nothing).
fn location(prefix: &str, input: LocationInput) -> Result<Location, ServiceError> {
    Ok(Location {
        city: text(&format!("{prefix}city"), input.city, 100)?,
        region: text(&format!("{prefix}region"), input.region, 100)?,
        country_code: country_code(&format!("{prefix}country_code"), input.country_code)?,
    })
}

/// The job's places after `input`: a new list, the primary one edited, or `base` unchanged.
/// Empty places are dropped and repeated ones kept once, so every stored place says something
/// and a search facet counts a job once per place.
fn locations(base: &[Location], input: &JobInput) -> Result<Vec<Location>, ServiceError> {
    let edits_primary =
        input.city.is_some() || input.region.is_some() || input.country_code.is_some();
    let places = match &input.locations {
        Some(_) if edits_primary => {
            return Err(invalid(
                "give either locations or city, region and country_code, not both",
            ));
        }
        Some(list) => {
            if list.len() > MAX_LOCATIONS {
                return Err(invalid(format!("locations has more than {MAX_LOCATIONS} entries")));
            }
            list.iter()
                .enumerate()
                .map(|(i, place)| location(&format!("locations[{i}]."), place.clone()))
                .collect::<Result<Vec<_>, _>>()?
        }
        None if edits_primary => {
            let primary = base.first().cloned().unwrap_or_default();
            let edited = Location {
                city: if input.city.is_some() {
                    text("city", input.city.clone(), 100)?
                } else {
                    primary.city
                },
                region: if input.region.is_some() {
                    text("region", input.region.clone(), 100)?
                } else {
                    primary.region
                },
                country_code: if input.country_code.is_some() {
                    country_code("country_code", input.country_code.clone())?
                } else {
                    primary.country_code
                },
            };
            std::iter::once(edited).chain(base.iter().skip(1).cloned()).collect()
        }
        None => return Ok(base.to_vec()),
    };
    let mut out: Vec<Location> = Vec::with_capacity(places.len());
    for place in places {
        if !place.is_empty() && !out.contains(&place) {
            out.push(place);
        }
    }
    Ok(out)
}

fn salary(base: Option<Salary>, input: &JobInput) -> Result<Option<Salary>, ServiceError> {
    let touched = input.salary_min.is_some()
        || input.salary_max.is_some()
        || input.salary_currency.is_some()
        || input.salary_period.is_some()
        || input.salary_public.is_some();
    if !touched {
        return Ok(base);
    }
    let base = base.unwrap_or(Salary {
        min: None,
        max: None,
        currency: None,
        period: None,
        public: false,
    });
    let min = input.salary_min.or(base.min);
    let max = input.salary_max.or(base.max);
    for v in [min, max].into_iter().flatten() {
        if !v.is_finite() || !(0.0..=1e12).contains(&v) {
            return Err(invalid("salary amounts must be between 0 and 10^12"));
        }
    }
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        return Err(invalid("salary_min must not exceed salary_max"));
    }
    let currency = match &input.salary_currency {
        Some(c) => {
            let c = c.trim().to_ascii_uppercase();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(invalid(
                    "salary_currency must be a three-letter ISO 4217 code such as EUR",
                ));
            }
            Some(c)
        }
        None => base.currency,
    };
    let period = if input.salary_period.is_some() {
        choice(
            "salary_period",
            input.salary_period.clone(),
            SalaryPeriod::parse,
            SalaryPeriod::names,
        )?
    } else {
        base.period
    };
    if min.is_none() && max.is_none() {
        return Ok(None);
    }
    Ok(Some(Salary {
        min,
        max,
        currency,
        period,
        public: input.salary_public.unwrap_or(base.public),
    }))
}

/// A stable hash of a job's content, so an unchanged import is recognised. A job with one place
/// or none hashes as it did before jobs had several (its primary `location`), so the jobs
/// stored then are not all rewritten by the next import of the same file.
pub fn content_hash(company_id: &str, fields: &JobFields, status: JobStatus) -> String {
    let mut value = json!({
        "company": company_id,
        "title": fields.title,
        "description": fields.description,
        "location": fields.primary_location().cloned().unwrap_or_default(),
        "workplace": fields.workplace,
        "remote_regions": fields.remote_regions,
        "employment_type": fields.employment_type,
        "seniority": fields.seniority,
        "salary": fields.salary,
        "skills": fields.skills,
        "category": fields.category,
        "tags": fields.tags,
        "apply_url": fields.apply_url,
        "expires_at": fields.expires_at.map(|at| at.timestamp()),
        "status": status.as_str(),
    });
    if fields.locations.len() > 1 {
        value["more_locations"] = json!(fields.locations[1..]);
    }
    // Keys sorted at every level, whatever order serde_json keeps them in.
    value.sort_all_objects();
    hex::encode(Sha256::digest(value.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salaries_are_checked_and_normalised() {
        let input = JobInput {
            title: Some("X".into()),
            salary_min: Some(50.0),
            salary_max: Some(70.0),
            salary_currency: Some("eur".into()),
            salary_period: Some("hour".into()),
            salary_public: Some(true),
            ..JobInput::default()
        };
        let fields = validate(None, input).unwrap();
        let salary = fields.salary.unwrap();
        assert_eq!(salary.currency.as_deref(), Some("EUR"));
        assert_eq!(salary.yearly_top(), Some(70.0 * 2080.0));
        let bad = JobInput {
            title: Some("X".into()),
            salary_min: Some(9.0),
            salary_max: Some(1.0),
            ..JobInput::default()
        };
        assert!(validate(None, bad).is_err());
    }

    #[test]
    fn an_update_keeps_what_it_does_not_name() {
        let base = validate(
            None,
            JobInput {
                title: Some("Rust dev".into()),
                skills: Some(vec!["Rust".into()]),
                ..JobInput::default()
            },
        )
        .unwrap();
        let updated = validate(
            Some(&base),
            JobInput { description: Some("Hello".into()), ..JobInput::default() },
        )
        .unwrap();
        assert_eq!(updated.title, "Rust dev");
        assert_eq!(updated.skills, vec!["rust"]);
        assert_eq!(updated.description, "Hello");
    }
}
