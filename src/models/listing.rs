//! A public job as a search page shows it, read from the listing the search index stores of
//! it without copying its text.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::job::{EmploymentType, Job, SalaryPeriod, Seniority, Workplace};

/// Text of a [`View`]: borrowed from the stored listing, owned only when it has escapes.
/// (serde borrows a bare `Cow<str>` field, but not one inside an `Option` or a `Vec`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visit)
    }
}

/// A place of a [`View`], borrowed from the stored listing.
#[derive(Debug, Deserialize)]
pub struct PlaceView<'a> {
    #[serde(borrow, default)]
    pub city: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub region: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub country_code: Option<Text<'a>>,
}

/// A salary of a [`View`].
#[derive(Debug, Deserialize)]
pub struct SalaryView<'a> {
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(borrow, default)]
    pub currency: Option<Text<'a>>,
    #[serde(default)]
    pub period: Option<SalaryPeriod>,
    #[serde(default)]
    pub public: bool,
}

/// What a search page shows of a job's stored listing (`services::jobs::listing`), borrowed
/// from its bytes: reading it allocates only for the lists (and for text with escapes), where
/// decoding the listing builds a whole [`Job`].
#[derive(Debug, Deserialize)]
pub struct View<'a> {
    #[serde(borrow)]
    pub id: Text<'a>,
    #[serde(borrow)]
    pub company_id: Text<'a>,
    #[serde(borrow)]
    pub title: Text<'a>,
    #[serde(borrow, default)]
    pub locations: Vec<PlaceView<'a>>,
    #[serde(default)]
    pub workplace: Option<Workplace>,
    #[serde(default)]
    pub employment_type: Option<EmploymentType>,
    #[serde(default)]
    pub seniority: Option<Seniority>,
    #[serde(borrow, default)]
    pub salary: Option<SalaryView<'a>>,
    #[serde(borrow, default)]
    pub skills: Vec<Text<'a>>,
    #[serde(borrow, default)]
    pub category: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub tags: Vec<Text<'a>>,
    #[serde(borrow, default)]
    pub apply_url: Option<Text<'a>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub posted_at: Option<DateTime<Utc>>,
}

impl<'a> View<'a> {
    /// The view of a decoded job, borrowing its text: what reading its stored listing gives.
    pub fn of(job: &'a Job) -> View<'a> {
        let text = |s: &'a String| Text(Cow::Borrowed(s.as_str()));
        let f = &job.fields;
        View {
            id: text(&job.id),
            company_id: text(&job.company_id),
            title: text(&f.title),
            locations: f
                .locations
                .iter()
                .map(|place| PlaceView {
                    city: place.city.as_ref().map(text),
                    region: place.region.as_ref().map(text),
                    country_code: place.country_code.as_ref().map(text),
                })
                .collect(),
            workplace: f.workplace,
            employment_type: f.employment_type,
            seniority: f.seniority,
            salary: f.salary.as_ref().map(|salary| SalaryView {
                min: salary.min,
                max: salary.max,
                currency: salary.currency.as_ref().map(text),
                period: salary.period,
                public: salary.public,
            }),
            skills: f.skills.iter().map(text).collect(),
            category: f.category.as_ref().map(text),
            tags: f.tags.iter().map(text).collect(),
            apply_url: f.apply_url.as_ref().map(text),
            expires_at: f.expires_at,
            posted_at: job.posted_at,
        }
    }

    /// Whether the job is public at `now` (only published, approved jobs are indexed, so:
    /// unexpired), as [`Job::is_public`] says of the decoded job.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}
