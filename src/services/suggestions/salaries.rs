//! Salary insights: over the public jobs that publish a salary and match, each salary as a
//! yearly amount (the middle of its range), per currency (amounts are never converted): how
//! many, the 10th, 25th, 50th, 75th and 90th percentiles and a histogram. A currency with fewer
//! salaries than the configured minimum is not answered, so one company's pay is never shown
//! as a market.

use std::collections::BTreeMap;

use super::store::State;
use super::text;
use crate::models::job::{Seniority, Workplace};
use crate::services::ServiceError;

/// The bars of a histogram.
pub const HISTOGRAM_BUCKETS: usize = 10;
/// The longest `q`, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The parameters of a salary insights request as they came.
#[derive(Debug, Clone, Default)]
pub struct SalaryParams {
    pub q: Option<String>,
    pub country: Option<String>,
    pub seniority: Option<String>,
    pub workplace: Option<String>,
    pub currency: Option<String>,
}

/// A salary insights request, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SalaryQuery {
    /// Words every job must carry (in its title, skills, company or places).
    pub words: Vec<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    pub seniority: Option<Seniority>,
    pub workplace: Option<Workplace>,
    /// ISO 4217, upper case.
    pub currency: Option<String>,
}

fn code(name: &str, raw: Option<String>, letters: usize) -> Result<Option<String>, ServiceError> {
    let Some(raw) = raw.map(|r| r.trim().to_ascii_uppercase()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if raw.len() != letters || !raw.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ServiceError::validation(format!("{name} must be a {letters}-letter code")));
    }
    Ok(Some(raw))
}

impl SalaryParams {
    /// Checks every parameter: `q` of at most [`MAX_QUERY_CHARS`] characters, `country` a
    /// two-letter code, `currency` a three-letter one, `seniority` and `workplace` known names.
    pub fn parse(self) -> Result<SalaryQuery, ServiceError> {
        let q = self.q.unwrap_or_default();
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(ServiceError::validation(format!(
                "q may have at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let named = |name: &str, raw: Option<String>| {
            raw.map(|r| r.trim().to_ascii_lowercase())
                .filter(|r| !r.is_empty())
                .map(|r| (name.to_owned(), r))
        };
        let seniority = match named("seniority", self.seniority) {
            None => None,
            Some((_, raw)) => Some(Seniority::parse(&raw).ok_or_else(|| {
                ServiceError::validation(format!(
                    "seniority {raw:?} is not one of {}",
                    Seniority::names()
                ))
            })?),
        };
        let workplace = match named("workplace", self.workplace) {
            None => None,
            Some((_, raw)) => Some(Workplace::parse(&raw).ok_or_else(|| {
                ServiceError::validation(format!(
                    "workplace {raw:?} is not one of {}",
                    Workplace::names()
                ))
            })?),
        };
        Ok(SalaryQuery {
            words: text::words(&q),
            country: code("country", self.country, 2)?,
            seniority,
            workplace,
            currency: code("currency", self.currency, 3)?,
        })
    }
}

/// Yearly amounts at the 10th, 25th, 50th, 75th and 90th percentiles.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
}

/// A bar of a histogram: salaries from `from` up to `to` (the last bar includes `to`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub from: f64,
    pub to: f64,
    pub count: u32,
}

/// The salaries of one currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CurrencySalaries {
    pub currency: String,
    pub count: usize,
    pub min: f64,
    pub max: f64,
    pub percentiles: Percentiles,
    pub histogram: Vec<Bucket>,
}

/// The answer: per currency with enough salaries, the most salaries first.
#[derive(Debug, Clone, PartialEq)]
pub struct SalaryInsights {
    pub currencies: Vec<CurrencySalaries>,
    /// The fewest salaries a currency needs to be answered.
    pub min_count: usize,
}

/// The value at percentile `p` of sorted `values`, interpolated linearly between the two
/// closest ranks (rank `p / 100 × (n − 1)`), rounded to cents.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    let value = sorted[low] + (rank - low as f64) * (sorted[high] - sorted[low]);
    (value * 100.0).round() / 100.0
}

/// [`HISTOGRAM_BUCKETS`] bars of equal width from the lowest to the highest value (one bar
/// when they are equal).
pub fn histogram(sorted: &[f64]) -> Vec<Bucket> {
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    if max <= min {
        return vec![Bucket { from: min, to: max, count: sorted.len() as u32 }];
    }
    let width = (max - min) / HISTOGRAM_BUCKETS as f64;
    let mut buckets: Vec<Bucket> = (0..HISTOGRAM_BUCKETS)
        .map(|i| Bucket {
            from: min + width * i as f64,
            to: if i + 1 == HISTOGRAM_BUCKETS { max } else { min + width * (i + 1) as f64 },
            count: 0,
        })
        .collect();
    for value in sorted {
        let at = (((value - min) / width) as usize).min(HISTOGRAM_BUCKETS - 1);
        buckets[at].count += 1;
    }
    buckets
}

/// The insights of a checked request over the jobs held; `now` in seconds (expired jobs are
/// left out). Refused with [`ServiceError::TooFewSalaries`] when no currency (or not the one
/// asked for) has `min_count` salaries.
pub fn insights(
    state: &State,
    query: &SalaryQuery,
    min_count: usize,
    now: i64,
) -> Result<SalaryInsights, ServiceError> {
    let mut per_currency: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for row in state.salaries_matching(&query.words) {
        let salary = &row.salary;
        if query.currency.as_ref().is_some_and(|c| *c != salary.currency)
            || query.seniority.is_some_and(|s| row.seniority != Some(s))
            || query.workplace.is_some_and(|w| row.workplace != Some(w))
            || query.country.as_ref().is_some_and(|c| !row.countries.contains(c))
            || row.expires_at.is_some_and(|at| at <= now)
        {
            continue;
        }
        per_currency.entry(&salary.currency).or_default().push(salary.yearly);
    }
    let found = per_currency.values().map(Vec::len).max().unwrap_or(0);
    let mut currencies: Vec<CurrencySalaries> = per_currency
        .into_iter()
        .filter(|(_, values)| values.len() >= min_count.max(1))
        .map(|(currency, mut values)| {
            values.sort_by(f64::total_cmp);
            CurrencySalaries {
                currency: currency.to_owned(),
                count: values.len(),
                min: values[0],
                max: values[values.len() - 1],
                percentiles: Percentiles {
                    p10: percentile(&values, 10.0),
                    p25: percentile(&values, 25.0),
                    p50: percentile(&values, 50.0),
                    p75: percentile(&values, 75.0),
                    p90: percentile(&values, 90.0),
                },
                histogram: histogram(&values),
            }
        })
        .collect();
    if currencies.is_empty() {
        return Err(ServiceError::TooFewSalaries { found, min: min_count });
    }
    currencies.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.currency.cmp(&b.currency)));
    Ok(SalaryInsights { currencies, min_count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let values = [30_000.0, 40_000.0, 50_000.0, 60_000.0, 100_000.0];
        assert_eq!(percentile(&values, 50.0), 50_000.0);
        assert_eq!(percentile(&values, 10.0), 34_000.0);
        assert_eq!(percentile(&values, 25.0), 40_000.0);
        assert_eq!(percentile(&values, 90.0), 84_000.0);
        assert_eq!(percentile(&[7.0], 90.0), 7.0);
    }

    #[test]
    fn a_histogram_covers_every_value_once() {
        let values = [0.0, 1.0, 5.0, 9.99, 10.0];
        let bars = histogram(&values);
        assert_eq!(bars.len(), HISTOGRAM_BUCKETS);
        assert_eq!(bars.iter().map(|b| b.count).sum::<u32>(), 5);
        assert_eq!((bars[0].count, bars[1].count, bars[5].count, bars[9].count), (1, 1, 1, 2));
        assert_eq!((bars[0].from, bars[9].to), (0.0, 10.0));
        assert_eq!(histogram(&[3.0, 3.0]), vec![Bucket { from: 3.0, to: 3.0, count: 2 }]);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let parse = |p: SalaryParams| p.parse();
        let ok = parse(SalaryParams {
            q: Some("Sr. Rust".into()),
            country: Some("pt".into()),
            seniority: Some("Senior".into()),
            workplace: Some("remote".into()),
            currency: Some("eur".into()),
        })
        .unwrap();
        assert_eq!(ok.words, ["senior", "rust"]);
        assert_eq!((ok.country.as_deref(), ok.currency.as_deref()), (Some("PT"), Some("EUR")));
        for bad in [
            SalaryParams { country: Some("PRT".into()), ..Default::default() },
            SalaryParams { currency: Some("E1R".into()), ..Default::default() },
            SalaryParams { seniority: Some("guru".into()), ..Default::default() },
            SalaryParams { workplace: Some("moon".into()), ..Default::default() },
            SalaryParams { q: Some("x".repeat(MAX_QUERY_CHARS + 1)), ..Default::default() },
        ] {
            assert!(matches!(parse(bad), Err(ServiceError::Validation(_))));
        }
    }
}
