//! Suggestions: typeahead completions (prefix, one typo, ranked by count, following job
//! writes), did-you-mean on searches, similar jobs and salary insights, with their 422s.

use serde_json::{Value, json};

use jobportal::core::config::ServeConfig;

use crate::helpers::{TestApp, assert_error, rust_job, spawn_app, spawn_app_with};

fn job(id: &str, title: &str, patch: Value) -> Value {
    let mut value = json!({
        "source": "test", "external_id": id, "title": title, "company": {"name": "Acme"},
        "location": {"city": "Lisbon", "country_code": "PT"}, "workplace": "onsite",
        "employment_type": "full_time", "seniority": "mid",
    });
    for (k, v) in patch.as_object().unwrap() {
        value[k] = v.clone();
    }
    value
}

async fn suggest(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/suggest?{query}")).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// (text, count, corrected) of the completions of one kind.
fn completions(body: &Value, kind: &str) -> Vec<(String, u64, bool)> {
    let kinds = body["kinds"].as_array().unwrap();
    let of = kinds.iter().find(|k| k["kind"] == kind).unwrap_or_else(|| panic!("{kind} in {body}"));
    of["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["text"].as_str().unwrap().to_owned(),
                c["count"].as_u64().unwrap(),
                c["corrected"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn owned(items: &[(&str, u64, bool)]) -> Vec<(String, u64, bool)> {
    items.iter().map(|(t, c, x)| (t.to_string(), *c, *x)).collect()
}

async fn loaded(app: &TestApp) {
    crate::helpers::eventually(
        std::time::Duration::from_secs(10),
        "suggestions loaded",
        || async { app.ctx.suggestions.store().is_loaded() },
    )
    .await;
}

#[tokio::test]
async fn suggest_completes_prefixes_then_one_typo_ranked_by_how_many_jobs_carry_them() {
    let app = spawn_app().await;
    loaded(&app).await;
    app.import_jsonl(&[
        job("1", "Python Developer", json!({"skills": ["python"]})),
        job("2", "Python Developer", json!({"skills": ["python", "django"]})),
        job(
            "3",
            "Python Developer",
            json!({"skills": ["python"], "company": {"name": "Pyramid Labs"}}),
        ),
        job(
            "4",
            "Sr. Python Engineer",
            json!({"location": {"city": "Porto", "country_code": "PT"}}),
        ),
        job("5", "Senior Python Engineer", json!({})),
        job("6", "Data Analyst", json!({"skills": ["python"]})),
    ])
    .await;
    let body = suggest(&app, "q=pyth&kinds=title").await;
    assert_eq!(body["q"], "pyth");
    assert_eq!(body["kinds"].as_array().unwrap().len(), 1, "only the kinds asked for");
    assert_eq!(
        completions(&body, "title"),
        owned(&[("Python Developer", 3, false), ("Senior Python Engineer", 2, false)]),
        "\"Sr.\" and \"Senior\" are one title; the most jobs first"
    );
    // A word inside the title completes too, and the count orders them.
    assert_eq!(
        completions(&suggest(&app, "q=sr%20pyt&kinds=title").await, "title"),
        owned(&[("Senior Python Engineer", 2, false)])
    );
    assert_eq!(
        completions(&suggest(&app, "q=pyhton&kinds=title&limit=1").await, "title"),
        owned(&[("Python Developer", 3, true)]),
        "one typo in a word of five letters or more"
    );
    assert!(completions(&suggest(&app, "q=pyht&kinds=title").await, "title").is_empty());
    let all = suggest(&app, "q=py").await;
    let kinds: Vec<&str> =
        all["kinds"].as_array().unwrap().iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["title", "skill", "company", "location"]);
    let skills = completions(&all, "skill");
    assert_eq!(skills[0], ("python".to_owned(), 4, false));
    assert!(
        skills[1..].iter().all(|(_, count, _)| *count == 0),
        "then skills of the taxonomy no job asks for: {skills:?}"
    );
    assert_eq!(completions(&all, "company"), owned(&[("Pyramid Labs", 1, false)]));
    assert_eq!(
        completions(&suggest(&app, "q=po&kinds=location").await, "location"),
        owned(&[("Porto, PT", 1, false)])
    );
    assert_eq!(
        completions(&suggest(&app, "q=PT&kinds=location").await, "location"),
        owned(&[("Lisbon, PT", 5, false), ("Porto, PT", 1, false)])
    );
}

#[tokio::test]
async fn suggest_forgets_the_only_title_of_a_job_that_closes() {
    let app = spawn_app().await;
    loaded(&app).await;
    let (owner, _) = app.published_job("owner@suggest.test", "Orchard").await;
    let company = "orchard";
    let mut body = rust_job(company);
    body["title"] = json!("Quantum Gardener");
    body["skills"] = json!(["rust", "quantum computing"]);
    let id = app.post_job(&owner, &body).await;
    assert_eq!(
        completions(&suggest(&app, "q=quantum&kinds=title").await, "title"),
        owned(&[("Quantum Gardener", 1, false)])
    );
    let rust = completions(&suggest(&app, "q=rust&kinds=skill").await, "skill");
    assert_eq!(rust[0], ("rust".to_owned(), 2, false));
    app.close_job(&owner, &id).await;
    assert!(completions(&suggest(&app, "q=quantum&kinds=title").await, "title").is_empty());
    let rust = completions(&suggest(&app, "q=rust&kinds=skill").await, "skill");
    assert_eq!(rust[0], ("rust".to_owned(), 1, false), "the other job still asks for it");
    app.publish_job(&owner, &id).await;
    assert_eq!(
        completions(&suggest(&app, "q=quantum&kinds=title").await, "title"),
        owned(&[("Quantum Gardener", 1, false)]),
        "reopened"
    );
}

#[tokio::test]
async fn suggest_refuses_every_bad_parameter_with_422() {
    let app = spawn_app().await;
    let long = "a".repeat(101);
    for query in [
        "",
        "q=",
        "q=%20-%20",
        "q=py&kinds=salary",
        "q=py&kinds=,",
        "q=py&limit=0",
        "q=py&limit=21",
        "q=py&limit=ten",
        &format!("q={long}"),
    ] {
        let message = assert_error(
            app.get(&format!("/api/v1/suggest?{query}")).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(!message.is_empty(), "{query}");
    }
}

#[tokio::test]
async fn suggest_did_you_mean_corrects_a_misspelt_search_and_stays_silent_on_a_good_one() {
    let app = spawn_app().await;
    loaded(&app).await;
    let mut jobs: Vec<Value> =
        (0..5).map(|i| job(&format!("p{i}"), "Python Developer", json!({}))).collect();
    jobs.push(job("k", "Kubernetes Administrator", json!({})));
    app.import_jsonl(&jobs).await;
    let body = app.search("?q=pyhton%20developer&mode=keyword").await;
    assert_eq!(body["total"], 0);
    assert_eq!(body["did_you_mean"], json!({"q": "python developer", "total": 5}));
    // The correction keeps the filters: in Porto nothing is found either way.
    let body = app.search("?q=pyhton%20developer&location=porto").await;
    assert!(body.get("did_you_mean").is_none(), "{body}");
    let body = app.search("?q=python%20developer").await;
    assert_eq!(body["total"], 5);
    assert!(body.get("did_you_mean").is_none(), "a query that matches: {body}");
    let body = app.search("?q=kubernetes").await;
    assert_eq!(body["total"], 1);
    assert!(body.get("did_you_mean").is_none(), "a rare but right word: {body}");
    let body = app.search("?q=zzzzzzzz").await;
    assert!(body.get("did_you_mean").is_none(), "nothing close: {body}");
}

async fn similar(app: &TestApp, id: &str) -> Value {
    let response = app.get(&format!("/api/v1/jobs/{id}/similar")).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn similar_titles(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["job"]["title"].as_str().unwrap().to_owned())
        .collect()
}

/// Jobs of one company: the job to compare, a close one, a closed close one, a far one.
async fn similar_jobs(app: &TestApp) -> (String, String, String) {
    let (owner, _) = app.published_job("owner@similar.test", "Forge").await;
    let post = |title: &str, skills: Value, description: &str| {
        let mut body = rust_job("forge");
        body["title"] = json!(title);
        body["skills"] = skills;
        body["description"] = json!(description);
        body
    };
    let own = app
        .post_job(
            &owner,
            &post(
                "Rust Systems Engineer",
                json!(["rust", "tokio", "linux"]),
                "Async Rust services on Linux with tokio.",
            ),
        )
        .await;
    let close = app
        .post_job(
            &owner,
            &post(
                "Systems Programmer",
                json!(["rust", "tokio"]),
                "Low-level Rust and tokio networking.",
            ),
        )
        .await;
    let closed = app
        .post_job(
            &owner,
            &post(
                "Rust Systems Engineer II",
                json!(["rust", "tokio", "linux"]),
                "Async Rust services on Linux with tokio.",
            ),
        )
        .await;
    app.post_job(
        &owner,
        &post("Pastry Chef", json!(["baking"]), "Croissants and cakes every morning."),
    )
    .await;
    app.close_job(&owner, &closed).await;
    (own, close, closed)
}

#[tokio::test]
async fn similar_jobs_by_keywords_leave_out_the_job_itself_and_closed_jobs() {
    let app = spawn_app().await;
    let (own, close, closed) = similar_jobs(&app).await;
    let body = similar(&app, &own).await;
    assert_eq!(body["method"], "keyword", "the embedding model is not loaded");
    assert_eq!(body["job_id"], own.as_str());
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["job"]["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&own.as_str()) && !ids.contains(&closed.as_str()), "{body}");
    assert_eq!(ids[0], close, "{body}");
    assert_eq!(body["items"][0]["shared_skills"], json!(["rust", "tokio"]));
    assert!(!similar_titles(&body).contains(&"Pastry Chef".to_owned()), "nothing shared");
    assert_error(app.get(&format!("/api/v1/jobs/{closed}/similar")).await, 404, "not_found").await;
    assert_error(app.get("/api/v1/jobs/nope/similar").await, 404, "not_found").await;
    for limit in ["0", "51", "x"] {
        assert_error(
            app.get(&format!("/api/v1/jobs/{own}/similar?limit={limit}")).await,
            422,
            "validation_failed",
        )
        .await;
    }
}

#[tokio::test]
async fn similar_jobs_by_embedding_leave_out_the_job_itself_and_closed_jobs() {
    let app = spawn_app().await;
    let state = app.ctx.ai.load_embedder().await;
    assert!(
        matches!(state, jobportal::ai::ModelState::Loaded(_)),
        "the embedding model loads from models/embed (run scripts/models.sh)"
    );
    let (own, close, closed) = similar_jobs(&app).await;
    jobportal::services::embeddings::sync_jobs(&app.ctx, |_| {}).await.unwrap();
    let body = similar(&app, &own).await;
    assert_eq!(body["method"], "embedding");
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["job"]["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&own.as_str()) && !ids.contains(&closed.as_str()), "{body}");
    assert!(ids.contains(&close.as_str()), "{body}");
    let scores: Vec<f64> =
        body["items"].as_array().unwrap().iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");
    let limited = app
        .get(&format!("/api/v1/jobs/{own}/similar?limit=1"))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);
}

fn salaried(id: &str, title: &str, min: f64, max: f64, currency: &str, period: &str) -> Value {
    job(
        id,
        title,
        json!({"salary": {"min": min, "max": max, "currency": currency, "period": period}, "seniority": "senior"}),
    )
}

async fn insights(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/v1/insights/salaries?{query}")).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn salary_jobs(app: &TestApp) {
    app.import_jsonl(&[
        // Yearly middles: 30 000, 40 000, 50 000, 60 000, 100 000 EUR.
        salaried("e1", "Rust Engineer", 25_000.0, 35_000.0, "EUR", "year"),
        salaried("e2", "Rust Engineer", 40_000.0, 40_000.0, "EUR", "year"),
        salaried("e3", "Sr. Rust Engineer", 4_000.0, 4_333.333_333_333_333, "EUR", "month"),
        salaried("e4", "Rust Engineer", 25.0, 32.692_307_692_307_69, "EUR", "hour"),
        salaried("e5", "Rust Developer", 90_000.0, 110_000.0, "EUR", "year"),
        salaried("u1", "Rust Engineer", 100_000.0, 120_000.0, "USD", "year"),
        salaried("u2", "Rust Engineer", 130_000.0, 150_000.0, "USD", "year"),
        job("n", "Rust Engineer", json!({"salary": {"min": 1, "max": 2, "currency": "EUR", "period": "year", "public": false}})),
        job("none", "Rust Engineer", json!({})),
    ])
    .await;
}

#[tokio::test]
async fn salary_insights_give_hand_computed_percentiles_per_currency() {
    let app = spawn_app().await;
    loaded(&app).await;
    salary_jobs(&app).await;
    let body = insights(&app, "currency=eur&q=rust").await;
    assert_eq!(body["min_count"], 5);
    let currencies = body["currencies"].as_array().unwrap();
    assert_eq!(currencies.len(), 1);
    let eur = &currencies[0];
    assert_eq!((eur["currency"].as_str(), eur["count"].as_u64()), (Some("EUR"), Some(5)));
    let p = &eur["percentiles"];
    // Ranks p/100 × 4 between 30k, 40k, 50k, 60k, 100k, interpolated linearly.
    for (name, want) in [
        ("p10", 34_000.0),
        ("p25", 40_000.0),
        ("p50", 50_000.0),
        ("p75", 60_000.0),
        ("p90", 84_000.0),
    ] {
        let got = p[name].as_f64().unwrap();
        assert!((got - want).abs() < 0.01, "{name}: {got} != {want}");
    }
    assert_eq!((eur["min"].as_f64(), eur["max"].as_f64()), (Some(30_000.0), Some(100_000.0)));
    let bars = eur["histogram"].as_array().unwrap();
    assert_eq!(bars.len(), 10);
    let counts: Vec<u64> = bars.iter().map(|b| b["count"].as_u64().unwrap()).collect();
    // Bars of 7 000 from 30 000: 30k | 40k (37k-44k) | 50k (44k-51k) | 60k (58k-65k) | 100k.
    assert_eq!(counts, [1, 1, 1, 0, 1, 0, 0, 0, 0, 1]);
    assert_eq!(bars[0]["from"], 30_000.0);
    // Without a currency, only those with enough salaries: USD has two.
    let all = insights(&app, "").await;
    let names: Vec<&str> = all["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["EUR"]);
    // Filters: every salaried job here is senior and in Portugal.
    let senior = insights(&app, "seniority=senior&country=pt&workplace=onsite").await;
    assert_eq!(senior["currencies"][0]["count"], 5);
}

#[tokio::test]
async fn salary_insights_refuse_below_the_minimum_count_and_bad_parameters() {
    let app = spawn_app().await;
    loaded(&app).await;
    salary_jobs(&app).await;
    for query in
        ["currency=USD", "q=developer", "country=ES", "workplace=remote", "q=senior%20rust"]
    {
        let message = assert_error(
            app.get(&format!("/api/v1/insights/salaries?{query}")).await,
            422,
            "too_few_salaries",
        )
        .await;
        assert!(message.contains("at least 5"), "{query}: {message}");
    }
    for query in [
        "country=PRT",
        "currency=EU",
        "seniority=guru",
        "workplace=moon",
        &format!("q={}", "a".repeat(201)),
    ] {
        assert_error(
            app.get(&format!("/api/v1/insights/salaries?{query}")).await,
            422,
            "validation_failed",
        )
        .await;
    }
    // The minimum is a setting.
    let lenient =
        spawn_app_with(ServeConfig { salary_insights_min_count: 2, ..ServeConfig::default() })
            .await;
    loaded(&lenient).await;
    salary_jobs(&lenient).await;
    let body = insights(&lenient, "currency=USD").await;
    let usd = &body["currencies"][0];
    assert_eq!(
        (usd["count"].as_u64(), usd["percentiles"]["p50"].as_f64()),
        (Some(2), Some(125_000.0))
    );
}
