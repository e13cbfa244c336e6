//! `/api/v1/suggest` (typeahead), `/api/v1/insights/salaries` (salary insights) and
//! `/api/v1/jobs/{id}/similar` (similar jobs): public, like search.

use axum::extract::State;
use axum::routing::get;

use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::extract::{Json, Path, Query};
use crate::api::routes::Routes;
use crate::schemas::error::ErrorBody;
use crate::schemas::job::JobSummaryBody;
use crate::schemas::suggestion::{
    BucketBody, CompletionBody, CurrencySalariesBody, KindCompletionsBody, PercentilesBody,
    SalaryInsightsBody, SalaryInsightsQuery, SimilarJobBody, SimilarJobsBody, SimilarQuery,
    SuggestBody, SuggestQuery,
};
use crate::services::suggestions::{self, SalaryParams, SuggestParams};

pub fn router() -> Routes {
    Routes::new().route("/suggest", get(suggest)).route("/insights/salaries", get(salary_insights))
}

pub fn job_routes() -> Routes {
    Routes::new().route("/{id}/similar", get(similar))
}

/// Typeahead: per kind, the best completions of what was typed, from the public jobs (and,
/// for skills, the skills taxonomy). Completions that begin with the text, or have a word that
/// does, come first; then those it begins with one typo (in a word of five letters or more,
/// the first letter as typed); each group ranked by how many public jobs carry them. Titles
/// are counted once whatever their abbreviations ("Sr." is "Senior").
#[utoipa::path(get, path = "/api/v1/suggest", tag = "jobs", params(SuggestQuery),
    responses(
        (status = 200, description = "Completions per kind", body = SuggestBody),
        (status = 422, description = "`validation_failed`: `q` missing, empty or longer than 100 characters, an unknown kind, or `limit` not from 1 to 20", body = ErrorBody),
    ))]
pub async fn suggest(
    State(state): State<AppState>,
    Query(query): Query<SuggestQuery>,
) -> Result<Json<SuggestBody>, ApiError> {
    let q = query.q.clone().unwrap_or_default();
    let found = suggestions::suggest(
        &state.ctx,
        SuggestParams { q: query.q, kinds: query.kinds, limit: query.limit },
    )?;
    Ok(Json(SuggestBody {
        q,
        kinds: found
            .into_iter()
            .map(|(kind, items)| KindCompletionsBody {
                kind: kind.as_str().into(),
                items: items
                    .into_iter()
                    .map(|c| CompletionBody {
                        text: c.text,
                        count: c.count,
                        corrected: c.corrected,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// The public jobs most like a public job: nearest by the embedding of their text, or, while
/// the embedding model is not loaded (or the job has no vector yet), by the skills and title
/// words they share (`method` says which). Never the job itself nor a job that is not public.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/similar", tag = "jobs",
    params(("id" = String, Path, description = "Job id"), SimilarQuery),
    responses(
        (status = 200, description = "Similar jobs, best first", body = SimilarJobsBody),
        (status = 404, description = "`not_found`: no such public job", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `limit` not from 1 to 50", body = ErrorBody),
    ))]
pub async fn similar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SimilarQuery>,
) -> Result<Json<SimilarJobsBody>, ApiError> {
    let limit = suggestions::parse_similar_limit(query.limit.as_deref())?;
    let found = suggestions::similar(&state.ctx, &id, limit).await?;
    Ok(Json(SimilarJobsBody {
        job_id: id,
        method: found.method.as_str().into(),
        items: found
            .items
            .into_iter()
            .map(|s| SimilarJobBody {
                job: JobSummaryBody::new(&s.listing.0, &s.listing.1),
                score: s.score,
                shared_skills: s.shared_skills,
            })
            .collect(),
    }))
}

/// Salary insights over the public jobs that publish a salary and match: per currency (never
/// converted), salaries as yearly amounts (the middle of each range), their count, the 10th,
/// 25th, 50th, 75th and 90th percentiles and a histogram. A currency with fewer salaries than
/// the configured minimum (`JOBPORTAL_SALARY_INSIGHTS_MIN_COUNT`, 5 by default) is left out,
/// and when none is left the answer is 422 `too_few_salaries`.
#[utoipa::path(get, path = "/api/v1/insights/salaries", tag = "jobs", params(SalaryInsightsQuery),
    responses(
        (status = 200, description = "Salary insights per currency", body = SalaryInsightsBody),
        (status = 422, description = "`validation_failed`: a parameter is not a known value or code; `too_few_salaries`: fewer matching salaries than the minimum", body = ErrorBody),
    ))]
pub async fn salary_insights(
    State(state): State<AppState>,
    Query(query): Query<SalaryInsightsQuery>,
) -> Result<Json<SalaryInsightsBody>, ApiError> {
    let insights = suggestions::salary_insights(
        &state.ctx,
        SalaryParams {
            q: query.q,
            country: query.country,
            seniority: query.seniority,
            workplace: query.workplace,
            currency: query.currency,
        },
    )
    .await?;
    Ok(Json(SalaryInsightsBody {
        min_count: insights.min_count as u64,
        currencies: insights
            .currencies
            .into_iter()
            .map(|c| CurrencySalariesBody {
                currency: c.currency,
                count: c.count as u64,
                min: c.min,
                max: c.max,
                percentiles: PercentilesBody {
                    p10: c.percentiles.p10,
                    p25: c.percentiles.p25,
                    p50: c.percentiles.p50,
                    p75: c.percentiles.p75,
                    p90: c.percentiles.p90,
                },
                histogram: c
                    .histogram
                    .into_iter()
                    .map(|b| BucketBody { from: b.from, to: b.to, count: b.count })
                    .collect(),
            })
            .collect(),
    }))
}
