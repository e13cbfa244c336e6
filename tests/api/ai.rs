//! The local AI runtime with the real models of `models/` (scripts/models.sh fetches them):
//! embedding values published for all-MiniLM-L6-v2, `/readyz` embedder states, semantic and hybrid
//! search (finding what keywords miss, keeping filters and facets), the job vectors following
//! create / update / close, HNSW recall against exact search on real embeddings, and explained
//! recommendations both ways.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use jobportal::ai::ModelState;
use jobportal::ai::providers::embedder::{Embedder, cosine};
use jobportal::ai::rag::vectorstore::{HnswConfig, VectorIndex};
use jobportal::core::config::ServeConfig;
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, assert_error, fixture, spawn_app, spawn_app_with};

fn embed_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/embed")
}

/// The app with its embedding model loaded.
async fn app_with_models() -> TestApp {
    let app = spawn_app().await;
    let state = app.ctx.ai.load_embedder().await;
    assert!(
        matches!(state, ModelState::Loaded(_)),
        "the embedding model loads from models/embed (run scripts/models.sh): {}",
        state.name()
    );
    app
}

/// Runs the vector sync as `serve` does after a job write.
async fn sync(app: &TestApp) -> jobportal::services::embeddings::SyncReport {
    jobportal::services::embeddings::sync_jobs(&app.ctx, |_| {})
        .await
        .expect("sync runs")
        .expect("the model is loaded")
}

fn posting(id: &str, title: &str, description: &str, skills: &[&str], workplace: &str) -> Value {
    json!({
        "source": "test", "external_id": id, "title": title, "description": description,
        "company": { "name": "Acme" }, "location": { "city": "Lisbon", "country_code": "PT" },
        "workplace": workplace, "skills": skills, "status": "published"
    })
}

async fn titles(app: &TestApp, query: &str) -> (Vec<String>, Value) {
    let body = app.search(&format!("?{query}")).await;
    let titles = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["title"].as_str().unwrap().to_owned())
        .collect();
    (titles, body)
}

#[tokio::test]
async fn embeddings_match_the_published_values_of_the_model() {
    let embedder = tokio::task::spawn_blocking(|| Embedder::load(&embed_dir()))
        .await
        .unwrap()
        .expect("model loads");
    let texts =
        vec!["This is an example sentence".to_owned(), "Each sentence is converted".to_owned()];
    let vectors = embedder.embed(&texts).await.unwrap();
    // sentence-transformers' published output for this model.
    let expected = [0.0677, 0.0635, 0.0487, 0.0793];
    for (got, want) in vectors[0].iter().zip(expected) {
        assert!((got - want).abs() < 5e-4, "{:?} should begin {expected:?}", &vectors[0][..4]);
    }
    assert_eq!(vectors[0].len(), 384);
    let norm: f32 = vectors[0].iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
    let similarity = cosine(&vectors[0], &vectors[1]);
    assert!((similarity - 0.405).abs() < 0.01, "cosine {similarity}");
    // Padding a batch to its longest text changes nothing: each alone gives the same vector.
    let alone = embedder.embed(&texts[1..]).await.unwrap();
    let fresh = Embedder::load(&embed_dir()).unwrap().embed(&texts[1..]).await.unwrap();
    assert!(cosine(&alone[0], &vectors[1]) > 0.9999);
    assert!(cosine(&fresh[0], &vectors[1]) > 0.9999, "batched and single inputs agree");
}

#[tokio::test]
async fn a_search_is_answered_between_two_slices_of_a_backfill_and_both_get_the_same_vectors() {
    let embedder = tokio::task::spawn_blocking(|| Embedder::load(&embed_dir()))
        .await
        .unwrap()
        .expect("model loads");
    // A backfill of many job texts (distinct, so none comes from the cache).
    let backfill: Vec<String> = (0..160)
        .map(|i| format!("Job {i}: backend engineer building payment services in Rust and Go, on call one week in six, team of {i} people"))
        .collect();
    let bulk = {
        let embedder = embedder.clone();
        let texts = backfill.clone();
        tokio::spawn(async move { embedder.embed_bulk(&texts).await })
    };
    // Sent once the backfill has started: answered before it ends.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let query = vec!["remote rust jobs".to_owned()];
    let answered = embedder.embed(&query).await.unwrap();
    assert!(!bulk.is_finished(), "the search waited for the whole backfill");
    let bulk = bulk.await.unwrap().unwrap();
    assert_eq!(bulk.len(), backfill.len());
    // Each vector is its own text's, whatever slice it ran in (a model of its own: no cache).
    let fresh =
        tokio::task::spawn_blocking(|| Embedder::load(&embed_dir())).await.unwrap().unwrap();
    let texts = [backfill[7].clone(), backfill[150].clone(), query[0].clone()];
    let again = fresh.embed(&texts).await.unwrap();
    assert!(cosine(&again[0], &bulk[7]) > 0.9999);
    assert!(cosine(&again[1], &bulk[150]) > 0.9999);
    assert!(cosine(&again[2], &answered[0]) > 0.9999);
    assert!(cosine(&again[0], &bulk[150]) < 0.9999, "the vectors are in the texts' order");
}

#[tokio::test]
async fn readyz_reports_each_model_and_a_missing_model_names_the_command() {
    let app = spawn_app().await;
    let body: Value = app.get_readyz().await.json().await.unwrap();
    assert_eq!(body["models"]["embeddings"]["state"], "not_loaded", "{body}");
    app.ctx.ai.load_embedder().await;
    let body: Value = app.get_readyz().await.json().await.unwrap();
    assert_eq!(body["models"]["embeddings"]["state"], "loaded", "{body}");

    let missing = tempfile::tempdir().unwrap();
    let app = spawn_app_with(ServeConfig {
        models_dir: missing.path().to_owned(),
        ..ServeConfig::default()
    })
    .await;
    app.ctx.ai.load_embedder().await;
    let response = app.get_readyz().await;
    assert_eq!(response.status(), 200, "a missing model does not make the portal unready");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["models"]["embeddings"]["state"], "missing", "{body}");
    assert!(
        body["models"]["embeddings"]["detail"].as_str().unwrap().contains("scripts/models.sh"),
        "{body}"
    );
    // Search goes on by keywords; asking for meaning says why it cannot.
    app.import_jsonl(&[posting("1", "Rust Developer", "", &[], "remote")]).await;
    let (found, body) = titles(&app, "q=rust").await;
    assert_eq!(
        (found, body["mode"].as_str()),
        (vec!["Rust Developer".to_owned()], Some("keyword"))
    );
    let message =
        assert_error(app.get("/api/v1/jobs?q=rust&mode=semantic").await, 503, "model_unavailable")
            .await;
    assert!(message.contains("scripts/models.sh"), "{message}");
    assert_error(app.get("/api/v1/jobs?q=rust&mode=psychic").await, 422, "validation_failed").await;
}

#[tokio::test]
async fn semantic_search_finds_what_keywords_miss_and_keeps_filters_and_facets() {
    let app = app_with_models().await;
    app.import_jsonl(&[
        posting(
            "rust",
            "Backend Developer (Rust)",
            "Build our payment APIs in Rust and PostgreSQL.",
            &["rust", "postgresql"],
            "remote",
        ),
        posting("nurse", "Registered Nurse", "Night shifts on the cardiology ward.", &[], "onsite"),
        posting(
            "acct",
            "Senior Accountant",
            "Month-end close, IFRS reporting and audits.",
            &["accounting"],
            "hybrid",
        ),
        posting(
            "mkt",
            "Marketing Manager",
            "Own our brand campaigns and social media.",
            &[],
            "remote",
        ),
        posting("chef", "Sous Chef", "Run the kitchen line of a busy restaurant.", &[], "onsite"),
    ])
    .await;
    let report = sync(&app).await;
    assert_eq!((report.embedded, report.loaded), (5, 0));
    assert_eq!(app.ctx.ai.jobs.len(), 5);

    let q = "q=software+engineer+who+writes+Rust";
    let (keyword, _) = titles(&app, &format!("{q}&mode=keyword")).await;
    assert!(keyword.is_empty(), "no posting has all of these words: {keyword:?}");
    let (semantic, body) = titles(&app, &format!("{q}&mode=semantic")).await;
    assert_eq!(semantic.first().map(String::as_str), Some("Backend Developer (Rust)"), "{body}");
    assert_eq!(body["mode"], "semantic");
    let (hybrid, body) = titles(&app, q).await;
    assert_eq!(body["mode"], "hybrid", "hybrid is the default once the model is loaded");
    assert_eq!(hybrid.first().map(String::as_str), Some("Backend Developer (Rust)"));
    assert_eq!(body["total"].as_u64().unwrap() as usize, hybrid.len());

    // Filters apply to meaning too, and the facets count what is left.
    let (filtered, body) = titles(&app, &format!("{q}&mode=semantic&workplace=onsite")).await;
    assert!(
        !filtered.is_empty() && !filtered.contains(&"Backend Developer (Rust)".to_owned()),
        "{body}"
    );
    for job in body["items"].as_array().unwrap() {
        assert_eq!(job["workplace"], "onsite");
    }
    assert_eq!(
        body["facets"]["workplace"],
        json!([{ "value": "onsite", "count": filtered.len() }])
    );
    // A keyword ranking a hybrid search fuses: the exact title still comes first.
    let (hybrid, _) = titles(&app, "q=sous+chef").await;
    assert_eq!(hybrid.first().map(String::as_str), Some("Sous Chef"));
    // Sorting by newest keeps the semantic candidate set.
    let (newest, _) = titles(&app, &format!("{q}&mode=semantic&sort=newest")).await;
    assert_eq!(newest.iter().collect::<HashSet<_>>(), semantic.iter().collect::<HashSet<_>>());
}

#[tokio::test]
async fn the_vectors_follow_a_job_through_create_update_close_reopen_and_archive() {
    let app = app_with_models().await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let body = json!({
        "company": "acme", "title": "Backend Developer (Rust)", "description": "Payment APIs in Rust.",
        "workplace": "remote", "employment_type": "full_time", "skills": ["rust"]
    });
    let id = app.create_job(&owner, &body).await["id"].as_str().unwrap().to_owned();
    sync(&app).await;
    assert!(app.ctx.ai.jobs.is_empty(), "a draft has no vector");

    app.publish_job(&owner, &id).await;
    assert_eq!(sync(&app).await.embedded, 1);
    let first = app.ctx.ai.jobs.vector_of(&id).expect("a published job has a vector");
    let (found, _) = titles(&app, "q=rust+programmer&mode=semantic").await;
    assert_eq!(found, vec!["Backend Developer (Rust)"]);

    // An edit re-embeds: the old vector is gone, the new text is what is found.
    let response = app
        .patch_authed(
            &format!("/api/v1/jobs/{id}"),
            &owner.access,
            &json!({ "title": "Pastry Chef", "description": "Croissants at dawn.", "skills": [] }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(sync(&app).await.embedded, 1);
    let second = app.ctx.ai.jobs.vector_of(&id).unwrap();
    assert!(cosine(&first, &second) < 0.5, "the vector changed with the text");
    let (found, _) = titles(&app, "q=baker+making+pastries&mode=semantic").await;
    assert_eq!(found, vec!["Pastry Chef"]);
    assert_eq!(sync(&app).await.embedded, 0, "nothing changed, nothing is computed");

    // Closing removes it at once, before any sync; it never comes back from the index.
    app.close_job(&owner, &id).await;
    assert!(app.ctx.ai.jobs.vector_of(&id).is_none());
    let (found, _) = titles(&app, "q=baker+making+pastries&mode=semantic").await;
    assert!(found.is_empty(), "{found:?}");
    sync(&app).await;
    assert!(app.ctx.ai.jobs.is_empty());

    // Reopened, it is found again (its stored vector is reused); archived, it is gone for good.
    app.publish_job(&owner, &id).await;
    let report = sync(&app).await;
    assert_eq!((report.embedded, report.loaded), (0, 1));
    let (found, _) = titles(&app, "q=baker+making+pastries&mode=semantic").await;
    assert_eq!(found, vec!["Pastry Chef"]);
    app.archive_job(&owner, &id).await;
    assert!(app.ctx.ai.jobs.vector_of(&id).is_none());
    let (found, _) = titles(&app, "q=baker+making+pastries&mode=semantic").await;
    assert!(found.is_empty(), "{found:?}");

    // A restart (a fresh collection) loads the stored vectors of public jobs instead of
    // computing them.
    let other = app_with_models().await;
    other
        .import_jsonl(&[
            posting("1", "Rust Developer", "", &[], "remote"),
            posting("2", "Go Developer", "", &[], "remote"),
        ])
        .await;
    assert_eq!(sync(&other).await.embedded, 2);
    let fresh = jobportal::services::Context {
        ai: Arc::new(jobportal::ai::Ai::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))),
        ..other.ctx.clone()
    };
    fresh.ai.load_embedder().await;
    let report = jobportal::services::embeddings::sync_jobs(&fresh, |_| {}).await.unwrap().unwrap();
    assert_eq!((report.embedded, report.loaded), (0, 2));
}

/// Real embeddings of the 300 real job titles in fixtures/jobs, held as 8-bit codes: the top 10
/// of the HNSW graph and of an exact scan of the codes against exact f32 search over the
/// embeddings as the model gave them, unfiltered and with filters of 50% and 5% of the points
/// (the filtered-HNSW test qdrant runs). Filtered search must still return 10 results, and the
/// exact scan of the codes must rank the f32 top 10 almost exactly.
#[tokio::test]
async fn hnsw_recall_against_exact_search_on_real_embeddings() {
    let text = String::from_utf8(fixture("jobs/network-jobs-300.jsonl")).unwrap();
    let mut titles: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["title"].as_str().map(str::to_owned))
        .collect();
    titles.sort();
    titles.dedup();
    assert!(titles.len() > 250, "{}", titles.len());
    let embedder =
        tokio::task::spawn_blocking(|| Embedder::load(&embed_dir())).await.unwrap().unwrap();
    let vectors = embedder.embed(&titles).await.unwrap();
    let graph = VectorIndex::new(HnswConfig { exact_below: 0, ..HnswConfig::default() });
    let exact = VectorIndex::new(HnswConfig { exact_below: usize::MAX, ..HnswConfig::default() });
    for (i, vector) in vectors.iter().enumerate() {
        graph.upsert(&format!("j{i}"), vector.clone(), [0; 16]);
        exact.upsert(&format!("j{i}"), vector.clone(), [0; 16]);
    }
    graph.index_tail();
    assert_eq!(graph.shape(), (titles.len(), 0, 0));
    let half: HashSet<String> =
        (0..titles.len()).filter(|i| i % 2 == 0).map(|i| format!("j{i}")).collect();
    let few: HashSet<String> =
        (0..titles.len()).filter(|i| i % 20 == 3).map(|i| format!("j{i}")).collect();
    let queries = [
        "software engineer",
        "data scientist",
        "account executive",
        "product designer",
        "recruiter",
        "security engineer",
        "nurse",
        "sales manager",
    ];
    let queries: Vec<String> = queries.iter().map(|q| q.to_string()).collect();
    let query_vectors = embedder.embed(&queries).await.unwrap();
    for (name, allow) in
        [("no filter", None), ("50% filter", Some(&half)), ("5% filter", Some(&few))]
    {
        let keys: Option<Vec<String>> = allow.map(|a| a.iter().cloned().collect());
        let (mut found, mut wanted, mut found_exact) = (0, 0, 0);
        for q in &query_vectors {
            let mut scored: Vec<(f32, usize)> = vectors
                .iter()
                .enumerate()
                .filter(|(i, _)| allow.is_none_or(|a| a.contains(&format!("j{i}"))))
                .map(|(i, v)| (jobportal::ai::rag::vectorstore::dot(q, v), i))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0));
            let truth: HashSet<String> =
                scored.iter().take(10).map(|(_, i)| format!("j{i}")).collect();
            let over_codes = exact.search(q, 10, keys.as_deref());
            found_exact += over_codes.iter().filter(|h| truth.contains(&h.key)).count();
            let got = graph.search(q, 10, keys.as_deref());
            assert_eq!(got.len(), 10, "{name}: k results however selective the filter");
            assert!(
                got.iter().all(|h| allow.is_none_or(|a| a.contains(&h.key))),
                "{name}: only allowed keys"
            );
            found += got.iter().filter(|h| truth.contains(&h.key)).count();
            wanted += truth.len();
        }
        let recall = found as f64 / wanted as f64;
        assert!(recall >= 0.95, "{name}: recall@10 {recall:.3}");
        let recall = found_exact as f64 / wanted as f64;
        assert!(recall >= 0.98, "{name}: recall@10 of the exact scan of codes {recall:.3}");
    }
}

async fn company_and_jobs(app: &TestApp) -> (Account, Vec<String>) {
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let mut ids = Vec::new();
    for (title, description, skills, workplace) in [
        (
            "Senior Backend Engineer (Rust)",
            "Build streaming services in Rust on Kubernetes with PostgreSQL.",
            vec!["rust", "postgresql", "kubernetes", "kafka"],
            "onsite",
        ),
        ("Registered Nurse", "Night shifts on the cardiology ward.", vec![], "onsite"),
        (
            "Python Data Engineer",
            "Pipelines in Python and PostgreSQL.",
            vec!["python", "postgresql", "airflow"],
            "remote",
        ),
    ] {
        let body = json!({
            "company": "acme", "title": title, "description": description, "workplace": workplace,
            "employment_type": "full_time", "skills": skills,
            "city": "Berlin", "country_code": "DE"
        });
        ids.push(app.post_job(&owner, &body).await);
    }
    sync(app).await;
    (owner, ids)
}

#[tokio::test]
async fn job_recommendations_explain_themselves_and_respect_dismissals_and_applications() {
    let app = app_with_models().await;
    let (_, ids) = company_and_jobs(&app).await;
    let (ada, _) = crate::resumes::candidate_with_resume(&app, "ada@example.com").await;

    let body = app.recommended_jobs(&ada).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{body}");
    let first = &items[0];
    assert_eq!(
        first["job"]["id"],
        ids[0].as_str(),
        "the Rust backend job fits the Rust backend resume best: {body}"
    );
    // Hand-checked: the resume names Rust, PostgreSQL, Kubernetes and Python; the job asks for
    // Rust, PostgreSQL, Kubernetes and Kafka.
    let explanation = &first["explanation"];
    assert_eq!(explanation["matched_skills"], json!(["rust", "postgresql", "kubernetes"]));
    assert_eq!(explanation["missing_skills"], json!(["kafka"]));
    assert_eq!(explanation["skills_summary"], "3 of 4 skills match");
    let effects: f64 = explanation["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["effect"].as_f64().unwrap())
        .sum();
    assert!(
        (effects - first["score"].as_f64().unwrap()).abs() < 0.01,
        "the reasons add up to the score: {first}"
    );
    let scores: Vec<f64> = items.iter().map(|i| i["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // Same data, same answer.
    let again = app.recommended_jobs(&ada).await;
    assert_eq!(again, body);

    // Preferences move jobs and say why.
    let response = app
        .put_json_authed(
            "/api/v1/recommendations/preferences",
            &ada.access,
            &json!({ "workplaces": ["remote"], "countries": ["pt"] }),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["countries"], json!(["PT"]));
    let body = app.recommended_jobs(&ada).await;
    let rust = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["job"]["id"] == ids[0].as_str())
        .unwrap();
    let factors: Vec<&str> = rust["explanation"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["factor"].as_str().unwrap())
        .collect();
    assert_eq!(factors, vec!["similarity", "skills", "workplace", "location"], "{rust}");
    assert!(rust["explanation"]["reasons"][2]["effect"].as_f64().unwrap() < 0.0);
    let response = app
        .put_json_authed(
            "/api/v1/recommendations/preferences",
            &ada.access,
            &json!({ "workplaces": ["moon"] }),
        )
        .await;
    assert_error(response, 422, "validation_failed").await;

    // Dismissed and applied-to jobs are not recommended.
    assert_eq!(
        app.post_authed(
            &format!("/api/v1/recommendations/jobs/{}/dismiss", ids[0]),
            &ada.access,
            &json!({})
        )
        .await
        .status(),
        204
    );
    assert_eq!(app.apply(&ada, &ids[2], &json!({})).await.status(), 201);
    let body = app.recommended_jobs(&ada).await;
    let left: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["job"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(left, vec![ids[1].as_str()]);
    let response = app
        .delete_authed(
            &format!("/api/v1/recommendations/jobs/{}/dismiss", ids[0]),
            &ada.access,
            None,
        )
        .await;
    assert_eq!(response.status(), 204);
    let body = app.recommended_jobs(&ada).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);

    // Employers get none; a candidate without a resume is told what to do.
    let owner = app.login("owner@acme.test").await;
    assert_error(
        app.get_authed("/api/v1/recommendations/jobs", &owner.access).await,
        403,
        "forbidden",
    )
    .await;
    let bob = app.register("bob@example.com", "candidate").await;
    let message = assert_error(
        app.get_authed("/api/v1/recommendations/jobs", &bob.access).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(message.contains("resume"), "{message}");
}

#[tokio::test]
async fn a_company_sees_applicants_and_discoverable_candidates_only() {
    let app = app_with_models().await;
    let (owner, ids) = company_and_jobs(&app).await;
    let (ada, _) = crate::resumes::candidate_with_resume(&app, "ada@example.com").await;
    let (bob, _) = crate::resumes::candidate_with_resume(&app, "bob@example.com").await;
    let (_hidden, _) = crate::resumes::candidate_with_resume(&app, "hidden@example.com").await;
    let response =
        app.patch_authed("/api/v1/users/me", &ada.access, &json!({ "discoverable": true })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.apply(&bob, &ids[0], &json!({})).await.status(), 201);

    let path = format!("/api/v1/jobs/{}/recommended-candidates", ids[0]);
    let body: Value = app.get_authed(&path, &owner.access).await.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    let who: HashSet<&str> = items.iter().map(|i| i["candidate_id"].as_str().unwrap()).collect();
    assert_eq!(who, HashSet::from([ada.id.as_str(), bob.id.as_str()]), "{body}");
    for item in items {
        assert_eq!(item["applied"], item["candidate_id"] == bob.id.as_str());
        assert_eq!(item["explanation"]["missing_skills"], json!(["kafka"]));
        assert_eq!(item["headline"], "Senior Backend Engineer");
    }
    let stranger = app.register_verified("x@other.test", "employer").await;
    assert_error(app.get_authed(&path, &stranger.access).await, 403, "forbidden").await;
    assert_error(app.get_authed(&path, &ada.access).await, 403, "forbidden").await;
}

#[tokio::test]
async fn hybrid_counts_every_keyword_match_and_pages_past_the_semantic_candidates() {
    let app = app_with_models().await;
    let mut records: Vec<Value> = (0..130)
        .map(|i| {
            posting(
                &format!("r{i}"),
                &format!("Rust Developer {i}"),
                "Services in Rust.",
                &["rust"],
                "remote",
            )
        })
        .collect();
    records.push(posting("chef", "Sous Chef", "Run the kitchen line.", &[], "onsite"));
    app.import_jsonl(&records).await;
    sync(&app).await;
    let (_, keyword) = titles(&app, "q=rust&mode=keyword&limit=1").await;
    let (_, hybrid) = titles(&app, "q=rust&limit=1").await;
    assert_eq!(hybrid["mode"], "hybrid");
    assert_eq!(keyword["total"], 130);
    assert!(
        hybrid["total"].as_u64().unwrap() >= 130,
        "every keyword match is in the result: {}",
        hybrid["total"]
    );
    assert_eq!(hybrid["facets"]["skills"][0], json!({ "value": "rust", "count": 130 }));
    // A page past the 100 semantic candidates is still full, and pages do not overlap.
    let (kpage, _) = titles(&app, "q=rust&mode=keyword&limit=20&offset=110").await;
    let (kbefore, _) = titles(&app, "q=rust&mode=keyword&limit=100&offset=10").await;
    assert!(kpage.iter().all(|t| !kbefore.contains(t)), "keyword {kpage:?}");
    let (page, _) = titles(&app, "q=rust&limit=20&offset=110").await;
    assert_eq!(page.len(), 20);
    let (before, _) = titles(&app, "q=rust&limit=100&offset=10").await;
    assert!(page.iter().all(|t| !before[..100].contains(t)), "{page:?}");
}

#[tokio::test]
async fn renaming_a_company_recomputes_its_jobs_vectors() {
    let app = app_with_models().await;
    let owner = app.company_owner("owner@acme.test", "Acme").await;
    let body = json!({ "company": "acme", "title": "Engineer", "description": "Build things.", "workplace": "remote", "employment_type": "full_time" });
    let id = app.post_job(&owner, &body).await;
    sync(&app).await;
    let before = app.ctx.ai.jobs.hash_of(&id).unwrap();
    let response = app
        .patch_authed(
            "/api/v1/companies/acme",
            &owner.access,
            &json!({ "name": "Northwind Bakery" }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(sync(&app).await.embedded, 1, "the company's name is in the job's text");
    assert_ne!(app.ctx.ai.jobs.hash_of(&id).unwrap(), before);
}
