//! A search's parameters: as the API receives them ([`SearchParams`]), and checked once into a
//! [`Search`] (lists bounded, names normalised the way the index was written, limit and offset
//! within their bounds, the sort and the mode parsed).

use crate::models::job::SortBy;
use crate::models::job::{EmploymentType, SalaryPeriod, Seniority, Workplace};
use crate::services::ServiceError;
use crate::utils::skills;

/// A search as the API received it (already split into lists): nothing checked yet;
/// [`SearchParams::parse`] checks it all, once.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    pub q: Option<String>,
    pub location: Option<String>,
    pub countries: Vec<String>,
    pub workplaces: Vec<String>,
    pub employment_types: Vec<String>,
    pub seniorities: Vec<String>,
    pub categories: Vec<String>,
    pub skills: Vec<String>,
    /// Company slugs.
    pub companies: Vec<String>,
    pub salary_min: Option<f64>,
    pub salary_currency: Option<String>,
    pub salary_period: Option<String>,
    pub posted_within_days: Option<u32>,
    pub sort: Option<String>,
    /// 1 to [`MAX_LIMIT`]; none: [`DEFAULT_LIMIT`].
    pub limit: Option<u32>,
    /// At most [`MAX_OFFSET`]; none: 0.
    pub offset: Option<u32>,
    /// Count the facets; none: yes.
    pub facets: Option<bool>,
    /// `keyword`, `semantic` or `hybrid`; none: hybrid when the embedding model is loaded.
    pub mode: Option<String>,
}

/// A search whose parameters are checked and normalised ([`SearchParams::parse`]): the values
/// the index was written with, limits within their bounds. Only the company slugs are still to
/// be looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    /// At most 500 characters; none when blank.
    pub text: Option<String>,
    /// At most 200 characters; none when blank.
    pub location: Option<String>,
    /// Upper-case ISO 3166 codes.
    pub countries: Vec<String>,
    pub workplaces: Vec<String>,
    pub employment_types: Vec<String>,
    pub seniorities: Vec<String>,
    /// Lower case.
    pub categories: Vec<String>,
    /// Normalised skill names, every one of them wanted.
    pub skills: Vec<String>,
    /// Company slugs, trimmed.
    pub companies: Vec<String>,
    /// The least yearly pay, in `salary_currency`.
    pub salary_min_yearly: Option<f64>,
    /// Upper-case ISO 4217, present with `salary_min_yearly`.
    pub salary_currency: Option<String>,
    pub posted_within_days: Option<u32>,
    pub sort: SortBy,
    pub limit: u32,
    pub offset: u32,
    pub facets: bool,
    /// None: hybrid when the embedding model is loaded, else keyword.
    pub mode: Option<SearchMode>,
}

/// How a text query ranks jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchMode {
    /// Full-text (BM25) alone.
    Keyword,
    /// By meaning alone: cosine similarity of sentence embeddings.
    Semantic,
    /// Both rankings fused (reciprocal rank fusion).
    Hybrid,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Semantic => "semantic",
            Self::Hybrid => "hybrid",
        }
    }
}

/// The most values one filter list may name (`skills=a,b,…`): more is a mistake or an attack.
pub const MAX_LIST: usize = 20;

/// The longest window of `posted_within_days` (ten years).
pub const MAX_POSTED_WITHIN_DAYS: u32 = 3650;

/// The size of a page when a search names none.
pub const DEFAULT_LIMIT: u32 = 20;

/// The largest page a search may ask for.
pub const MAX_LIMIT: u32 = 100;

/// The deepest page a search may ask for: a deep offset makes every segment keep that many
/// hits. Past it, narrow the search instead.
pub const MAX_OFFSET: u32 = 10_000;

fn choices(
    field: &str,
    values: &[String],
    parse: fn(&str) -> bool,
    names: String,
) -> Result<Vec<String>, ServiceError> {
    values
        .iter()
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .map(|v| {
            if parse(&v) {
                Ok(v)
            } else {
                Err(ServiceError::validation(format!("{field} {v:?} is not one of {names}")))
            }
        })
        .collect()
}

/// Refuses a list longer than [`MAX_LIST`] and drops repeats, keeping the first of each.
fn bounded(field: &str, values: &[String]) -> Result<Vec<String>, ServiceError> {
    if values.len() > MAX_LIST {
        return Err(ServiceError::validation(format!(
            "{field} may name at most {MAX_LIST} values"
        )));
    }
    let mut seen: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    Ok(seen)
}

impl SearchParams {
    /// Checks every parameter and normalises it the way the index was written. A page size
    /// out of range is an invalid parameter; every other mistake is a validation error naming
    /// the parameter.
    pub fn parse(self) -> Result<Search, ServiceError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::InvalidParameter(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(ServiceError::validation(format!(
                "offset must be at most {MAX_OFFSET}; narrow the search instead"
            )));
        }
        let sort = match self.sort.as_deref().map(str::trim) {
            None | Some("") => SortBy::Relevance,
            Some(other) => SortBy::parse(other).ok_or_else(|| {
                ServiceError::validation(format!(
                    "sort {other:?} is not one of {}",
                    SortBy::names()
                ))
            })?,
        };
        if self.posted_within_days.is_some_and(|d| d > MAX_POSTED_WITHIN_DAYS) {
            return Err(ServiceError::validation(format!(
                "posted_within_days must be at most {MAX_POSTED_WITHIN_DAYS}"
            )));
        }
        let countries = bounded("country", &self.countries)?;
        let workplaces = bounded("workplace", &self.workplaces)?;
        let employment_types = bounded("employment_type", &self.employment_types)?;
        let seniorities = bounded("seniority", &self.seniorities)?;
        let categories = bounded("category", &self.categories)?;
        let skills = bounded("skills", &self.skills)?;
        let companies = bounded("company", &self.companies)?;
        let workplaces = choices(
            "workplace",
            &workplaces,
            |v| Workplace::parse(v).is_some(),
            Workplace::names(),
        )?;
        let employment_types = choices(
            "employment_type",
            &employment_types,
            |v| EmploymentType::parse(v).is_some(),
            EmploymentType::names(),
        )?;
        let seniorities = choices(
            "seniority",
            &seniorities,
            |v| Seniority::parse(v).is_some(),
            Seniority::names(),
        )?;
        let countries = countries
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .filter(|c| !c.is_empty())
            .map(|c| {
                if c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()) {
                    Ok(c)
                } else {
                    Err(ServiceError::validation(format!(
                        "country {c:?} is not a two-letter ISO code"
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let categories: Vec<String> =
            categories.iter().map(|c| c.trim().to_lowercase()).filter(|c| !c.is_empty()).collect();
        let skills = skills::normalize_all(skills.iter().map(String::as_str));
        let companies: Vec<String> =
            companies.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        let (salary_min_yearly, salary_currency) = match self.salary_min {
            None => (None, None),
            Some(min) if !min.is_finite() || min < 0.0 => {
                return Err(ServiceError::validation("salary_min must be a positive number"));
            }
            Some(min) => {
                let period = match self.salary_period.as_deref().map(str::trim) {
                    None | Some("") => SalaryPeriod::Year,
                    Some(p) => SalaryPeriod::parse(p).ok_or_else(|| {
                        ServiceError::validation(format!(
                            "salary_period {p:?} is not one of {}",
                            SalaryPeriod::names()
                        ))
                    })?,
                };
                let currency = self
                    .salary_currency
                    .as_deref()
                    .map(|c| c.trim().to_ascii_uppercase())
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| ServiceError::validation("salary_min needs salary_currency (e.g. EUR): amounts are compared in one currency"))?;
                if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(ServiceError::validation(
                        "salary_currency must be a three-letter ISO 4217 code",
                    ));
                }
                (Some(min * period.per_year()), Some(currency))
            }
        };
        let mode = match self.mode.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("keyword") => Some(SearchMode::Keyword),
            Some("semantic") => Some(SearchMode::Semantic),
            Some("hybrid") => Some(SearchMode::Hybrid),
            Some(other) => {
                return Err(ServiceError::validation(format!(
                    "mode {other:?} is not one of keyword, semantic, hybrid"
                )));
            }
        };
        Ok(Search {
            text: self
                .q
                .map(|q| q.chars().take(500).collect())
                .filter(|q: &String| !q.trim().is_empty()),
            location: self
                .location
                .map(|l| l.chars().take(200).collect())
                .filter(|l: &String| !l.trim().is_empty()),
            countries,
            workplaces,
            employment_types,
            seniorities,
            categories,
            skills,
            companies,
            salary_min_yearly,
            salary_currency,
            posted_within_days: self.posted_within_days,
            sort,
            limit,
            offset,
            facets: self.facets.unwrap_or(true),
            mode,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_once_with_their_defaults() {
        let search = SearchParams::default().parse().unwrap();
        assert_eq!((search.limit, search.offset, search.facets), (DEFAULT_LIMIT, 0, true));
        assert_eq!((search.sort, search.mode), (SortBy::Relevance, None));
        for limit in [0, MAX_LIMIT + 1] {
            let params = SearchParams { limit: Some(limit), ..SearchParams::default() };
            assert!(matches!(params.parse(), Err(ServiceError::InvalidParameter(_))));
        }
        let deep = SearchParams { offset: Some(MAX_OFFSET + 1), ..SearchParams::default() };
        assert!(matches!(deep.parse(), Err(ServiceError::Validation(_))));
        let parsed = SearchParams {
            sort: Some(" newest ".into()),
            mode: Some("semantic".into()),
            countries: vec!["pt".into(), "pt".into()],
            workplaces: vec!["Remote".into()],
            salary_min: Some(1000.0),
            salary_currency: Some("eur".into()),
            salary_period: Some("month".into()),
            ..SearchParams::default()
        }
        .parse()
        .unwrap();
        assert_eq!(parsed.sort, SortBy::Newest);
        assert_eq!(parsed.mode, Some(SearchMode::Semantic));
        assert_eq!(parsed.countries, vec!["PT"]);
        assert_eq!(parsed.workplaces, vec!["remote"]);
        assert_eq!(parsed.salary_min_yearly, Some(12_000.0));
        assert_eq!(parsed.salary_currency.as_deref(), Some("EUR"));
        let sort = SearchParams { sort: Some("oldest".into()), ..SearchParams::default() };
        assert_eq!(
            sort.parse().unwrap_err().to_string(),
            "sort \"oldest\" is not one of relevance, newest, salary"
        );
    }
}
