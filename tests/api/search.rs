//! Public search: ranking, analysis, every filter, facets, sorting and paging, and how fresh a
//! page is: what this process writes shows at once, what another process writes once the
//! index catches up.

use chrono::{Duration, Utc};
use jobportal::models::job::{JobStatus, Review};
use serde_json::{Value, json};

use crate::helpers::{assert_error, spawn_app};

fn job(id: &str, title: &str) -> Value {
    json!({
        "source": "test", "external_id": id, "title": title, "company": {"name": "Acme"},
        "location": {"city": "Lisbon", "country_code": "PT"}, "workplace": "onsite",
        "employment_type": "full_time", "seniority": "mid", "posted_at": Utc::now().to_rfc3339()
    })
}

fn with(mut value: Value, patch: Value) -> Value {
    for (k, v) in patch.as_object().unwrap() {
        value[k] = v.clone();
    }
    value
}

fn titles(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_title_weighs_more_than_skills_which_weigh_more_than_the_description() {
    let app = spawn_app().await;
    app.import_jsonl(&[
        with(
            job("d", "Platform Engineer"),
            json!({ "description": "Our services are written in Kotlin." }),
        ),
        with(job("s", "Backend Engineer"), json!({ "skills": ["kotlin"] })),
        job("t", "Kotlin Developer"),
        job("x", "Sales Manager"),
    ])
    .await;
    let body = app.search("?q=kotlin").await;
    assert_eq!(titles(&body), ["Kotlin Developer", "Backend Engineer", "Platform Engineer"]);
    assert_eq!(body["total"], 3);
    assert_eq!(body["sort"], "relevance");
}

#[tokio::test]
async fn case_plurals_and_punctuation_do_not_get_in_the_way() {
    let app = spawn_app().await;
    app.import_jsonl(&[
        job("1", "Senior Node.js Developer"),
        job("2", "C++ Engineer"),
        job("3", "Full-Stack Engineer"),
        job("4", "C# Developer"),
    ])
    .await;
    assert_eq!(titles(&app.search("?q=nodejs").await), ["Senior Node.js Developer"]);
    assert_eq!(titles(&app.search("?q=NODE.JS%20developers").await), ["Senior Node.js Developer"]);
    assert_eq!(titles(&app.search("?q=c%2B%2B").await), ["C++ Engineer"]);
    assert_eq!(titles(&app.search("?q=c%23").await), ["C# Developer"]);
    assert_eq!(titles(&app.search("?q=full%20stack").await), ["Full-Stack Engineer"]);
    assert_eq!(titles(&app.search("?q=fullstack").await).len(), 0, "one word is not two");
    // Query syntax in user input is just text, never an error.
    for odd in ["title%3A%22x", "(((", "AND%20OR%20NOT", "*", "%5C"] {
        app.search(&format!("?q={odd}")).await;
    }
}

#[tokio::test]
async fn every_filter_narrows_and_they_combine() {
    let app = spawn_app().await;
    let old = (Utc::now() - Duration::days(40)).to_rfc3339();
    app.import_jsonl(&[
        with(job("1", "Rust Engineer"), json!({ "workplace": "remote", "skills": ["rust", "postgresql"], "seniority": "senior", "category": "engineering",
            "salary": {"min": 90000, "max": 120000, "currency": "EUR", "period": "year"} })),
        with(job("2", "Go Engineer"), json!({ "location": {"city": "Porto", "country_code": "PT"}, "skills": ["go"], "employment_type": "contract", "category": "engineering",
            "salary": {"min": 45, "max": 60, "currency": "EUR", "period": "hour"} })),
        with(job("3", "Rust Contractor"), json!({ "location": {"city": "Berlin", "country_code": "DE"}, "skills": ["rust"], "employment_type": "contract",
            "company": {"name": "Beta"}, "posted_at": old })),
        with(job("4", "Designer"), json!({ "workplace": "hybrid", "category": "design",
            "salary": {"min": 50000, "max": 70000, "currency": "USD", "period": "year"} })),
    ])
    .await;
    let check = |q: &'static str, expected: &'static [&'static str]| {
        let app = &app;
        async move {
            let mut got = titles(&app.search(q).await);
            got.sort();
            let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(got, want, "{q}");
        }
    };
    check("?workplace=remote", &["Rust Engineer"]).await;
    check("?workplace=remote,hybrid", &["Rust Engineer", "Designer"]).await;
    check("?country=de", &["Rust Contractor"]).await;
    check("?location=porto", &["Go Engineer"]).await;
    check("?employment_type=contract", &["Go Engineer", "Rust Contractor"]).await;
    check("?seniority=senior", &["Rust Engineer"]).await;
    check("?category=design", &["Designer"]).await;
    check("?skills=rust", &["Rust Engineer", "Rust Contractor"]).await;
    check("?skills=rust,postgres", &["Rust Engineer"]).await;
    check("?company=beta", &["Rust Contractor"]).await;
    check("?company=nobody", &[]).await;
    check("?posted_within_days=7", &["Rust Engineer", "Go Engineer", "Designer"]).await;
    // 45-60 EUR an hour is 93,600-124,800 a year: both EUR jobs pay at least 100k; USD never counts.
    check("?salary_min=100000&salary_currency=EUR", &["Rust Engineer", "Go Engineer"]).await;
    check(
        "?salary_min=8000&salary_currency=eur&salary_period=month",
        &["Rust Engineer", "Go Engineer"],
    )
    .await;
    check("?salary_min=130000&salary_currency=EUR", &[]).await;
    check("?salary_min=60000&salary_currency=USD", &["Designer"]).await;
    check("?q=engineer&employment_type=contract&country=PT", &["Go Engineer"]).await;
    check(
        "?skills=rust&workplace=remote&seniority=senior&category=engineering",
        &["Rust Engineer"],
    )
    .await;
}

/// A job at several places is found by each of them (the `location` text and the `country`
/// filter), and the locations facet counts it once under each of its places.
#[tokio::test]
async fn a_job_at_several_places_is_found_by_each_and_counted_once_per_place() {
    let app = spawn_app().await;
    let several = json!([
        {"city": "Lisbon", "country_code": "PT"}, {"city": "Berlin", "country_code": "DE"},
        {"city": "Munich", "region": "Bavaria", "country_code": "DE"}, {"city": "Berlin", "country_code": "DE"}
    ]);
    let summary = app
        .import_jsonl(&[
            with(job("multi", "Rust Engineer"), json!({ "location": null, "locations": several })),
            with(
                job("porto", "Rust Developer"),
                json!({ "location": {"city": "Porto", "country_code": "PT"} }),
            ),
            with(
                job("paris", "Rust Consultant"),
                json!({ "location": {"city": "Paris", "country_code": "FR"} }),
            ),
        ])
        .await;
    assert_eq!(summary.created, 3, "{summary:?}");
    for (query, expected) in [
        ("?location=lisbon", &["Rust Engineer"][..]),
        ("?location=berlin", &["Rust Engineer"]),
        ("?location=bavaria", &["Rust Engineer"]),
        ("?location=porto", &["Rust Developer"]),
        ("?country=DE", &["Rust Engineer"]),
        ("?country=PT", &["Rust Developer", "Rust Engineer"]),
        ("?country=FR,DE", &["Rust Consultant", "Rust Engineer"]),
        ("?q=rust&location=munich&country=DE", &["Rust Engineer"]),
    ] {
        let mut found = titles(&app.search(query).await);
        found.sort();
        assert_eq!(found, expected, "{query}");
    }
    let body = app.search("?q=rust").await;
    let mut locations: Vec<(String, u64)> = body["facets"]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap().to_owned(), v["count"].as_u64().unwrap()))
        .collect();
    locations.sort();
    let expected: Vec<(String, u64)> =
        ["Berlin, DE", "Lisbon, PT", "Munich, DE", "Paris, FR", "Porto, PT"]
            .iter()
            .map(|v| (v.to_string(), 1))
            .collect();
    assert_eq!(locations, expected);
    let filtered = app.search("?country=DE").await;
    assert_eq!(filtered["total"], 1);
    let item = &filtered["items"][0];
    assert_eq!(item["locations"].as_array().unwrap().len(), 3, "{item}");
    assert_eq!(item["location"]["city"], "Lisbon", "the first place is the primary one");
}

#[tokio::test]
async fn facets_count_the_filtered_result() {
    let app = spawn_app().await;
    app.import_jsonl(&[
        with(job("1", "Rust Engineer"), json!({ "workplace": "remote", "skills": ["rust", "sql"] })),
        with(job("2", "Rust Lead"), json!({ "workplace": "remote", "seniority": "lead", "skills": ["rust"] })),
        with(job("3", "Rust Intern"), json!({ "workplace": "hybrid", "employment_type": "internship", "seniority": "intern", "skills": ["rust"] })),
        with(job("4", "Go Engineer"), json!({ "skills": ["go"], "location": {"city": "Porto", "country_code": "PT"} })),
    ])
    .await;
    let body = app.search("?q=rust").await;
    let facet = |name: &str| -> Vec<(String, u64)> {
        body["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["value"].as_str().unwrap().to_owned(), v["count"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(facet("workplace"), [("remote".to_owned(), 2), ("hybrid".to_owned(), 1)]);
    assert_eq!(facet("skills"), [("rust".to_owned(), 3), ("sql".to_owned(), 1)]);
    assert_eq!(facet("locations"), [("Lisbon, PT".to_owned(), 3)]);
    assert!(facet("employment_type").contains(&("internship".to_owned(), 1)));
    assert!(facet("seniority").contains(&("lead".to_owned(), 1)));
    let without = app.search("?q=rust&facets=false").await;
    assert_eq!(without["facets"], json!({}));
}

#[tokio::test]
async fn sorting_by_newest_and_by_salary() {
    let app = spawn_app().await;
    let at = |days: i64| (Utc::now() - Duration::days(days)).to_rfc3339();
    app.import_jsonl(&[
        with(job("1", "Old"), json!({ "posted_at": at(9), "salary": {"min": 1, "max": 100000, "currency": "EUR", "period": "year"} })),
        with(job("2", "New"), json!({ "posted_at": at(1), "salary": {"min": 1, "max": 5000, "currency": "EUR", "period": "month"} })),
        with(job("3", "Middle"), json!({ "posted_at": at(5) })),
    ])
    .await;
    assert_eq!(titles(&app.search("?sort=newest").await), ["New", "Middle", "Old"]);
    assert_eq!(
        titles(&app.search("").await),
        ["New", "Middle", "Old"],
        "newest is the default without q"
    );
    // 5,000 a month is 60,000 a year; no salary sorts last.
    assert_eq!(titles(&app.search("?sort=salary").await), ["Old", "New", "Middle"]);
    assert_error(app.get("/api/v1/jobs?sort=random").await, 422, "validation_failed").await;
}

#[tokio::test]
async fn paging_is_bounded_and_a_page_past_the_end_is_empty() {
    let app = spawn_app().await;
    let jobs: Vec<Value> = (0..25).map(|i| job(&i.to_string(), &format!("Engineer {i}"))).collect();
    app.import_jsonl(&jobs).await;
    let first = app.search("?limit=10").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 10);
    assert_eq!(first["total"], 25);
    assert_eq!(first["next_offset"], 10);
    let last = app.search("?limit=10&offset=20").await;
    assert_eq!(last["items"].as_array().unwrap().len(), 5);
    assert_eq!(last["next_offset"], Value::Null);
    let past = app.search("?limit=10&offset=100").await;
    assert_eq!(past["items"], json!([]));
    assert_eq!(past["total"], 25);
    let mut seen: Vec<String> = Vec::new();
    for offset in [0, 10, 20] {
        let page = app.search(&format!("?limit=10&offset={offset}")).await;
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()),
        );
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25, "pages neither repeat nor skip");
    for bad in [
        "?limit=0",
        "?limit=1000",
        "?limit=-1",
        "?offset=x",
        "?offset=10001",
        "?workplace=moon",
        "?country=Portugal",
        "?salary_min=100",
        "?nonsense=1",
        "?posted_within_days=100000000",
        "?posted_within_days=3651",
    ] {
        let response = app.get(&format!("/api/v1/jobs{bad}")).await;
        assert!(response.status().is_client_error(), "{bad}: {}", response.status());
    }
    let skills = |n: usize| (0..n).map(|i| format!("skill{i}")).collect::<Vec<_>>().join(",");
    assert_eq!(app.get(&format!("/api/v1/jobs?skills={}", skills(20))).await.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/jobs?skills={}", skills(21))).await.status(),
        422,
        "a list is bounded"
    );
}

#[tokio::test]
async fn closed_expired_and_unapproved_jobs_never_show() {
    let app = spawn_app().await;
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let soon = (Utc::now() + Duration::seconds(2)).to_rfc3339();
    app.import_jsonl(&[
        job("open", "Open Engineer"),
        with(job("expired", "Expired Engineer"), json!({ "expires_at": past })),
        with(job("soon", "Soon Expired Engineer"), json!({ "expires_at": soon })),
        with(job("draft", "Draft Engineer"), json!({ "status": "draft" })),
    ])
    .await;
    let body = app.search("?q=engineer").await;
    let mut got = titles(&body);
    got.sort();
    assert_eq!(got, ["Open Engineer", "Soon Expired Engineer"]);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        titles(&app.search("?q=engineer").await),
        ["Open Engineer"],
        "expiry is checked at query time"
    );

    // The database changes behind the index's back (as after a crash between the two writes):
    // pages are read from the index, which still lists the job...
    let found = app.search("?q=open").await;
    let id = found["items"][0]["id"].as_str().unwrap().to_owned();
    jobportal::repositories::jobs::set_status(&app.db, &id, JobStatus::Closed, Review::Approved)
        .await
        .unwrap();
    assert_eq!(app.search("?q=open").await["total"], 1, "near-real-time: not seen yet");

    // ...until it catches up, or, at start, is compared with the database and rebuilt.
    let rebuilt = jobportal::services::jobs::ensure_index(&app.ctx, |_| {}).await.unwrap();
    assert!(rebuilt.is_some());
    assert_eq!(app.search("?q=open").await["total"], 0);
    assert!(
        jobportal::services::jobs::ensure_index(&app.ctx, |_| {}).await.unwrap().is_none(),
        "current now"
    );
}

#[tokio::test]
async fn changes_made_by_another_process_reach_the_index_when_it_catches_up() {
    use jobportal::repositories::jobs as repo;
    use jobportal::services::jobs::{catch_up_index, ensure_index};
    let app = spawn_app().await;
    app.import_jsonl(&[job("a", "Harbour Pilot"), job("b", "Lighthouse Keeper")]).await;
    assert_eq!(
        catch_up_index(&app.ctx).await.unwrap(),
        0,
        "an index written by this process is current"
    );
    let pilot = app.search("?q=pilot").await["items"][0]["id"].as_str().unwrap().to_owned();
    let keeper = app.search("?q=keeper").await["items"][0]["id"].as_str().unwrap().to_owned();

    // Another process changes the database; this process's index does not see it.
    repo::set_status(&app.db, &pilot, JobStatus::Closed, Review::Approved).await.unwrap();
    let mut renamed = repo::find(&app.db, &keeper).await.unwrap().unwrap();
    renamed.fields.title = "Lighthouse Engineer".into();
    repo::update_fields(&app.db, &keeper, &renamed.fields, "changed elsewhere").await.unwrap();
    assert_eq!(app.search("?q=engineer").await["total"], 0, "not seen yet");
    assert_eq!(app.search("?q=pilot").await["total"], 1, "the index still counts it");

    assert_eq!(catch_up_index(&app.ctx).await.unwrap(), 2);
    assert_eq!(titles(&app.search("?q=engineer").await), ["Lighthouse Engineer"]);
    assert_eq!(app.search("?q=pilot").await["total"], 0);
    assert_eq!(catch_up_index(&app.ctx).await.unwrap(), 0, "caught up");
    assert!(
        ensure_index(&app.ctx, |_| {}).await.unwrap().is_none(),
        "and current by the start-up check"
    );
}

#[tokio::test]
async fn the_first_catch_up_after_the_start_up_check_looks_back_from_the_check() {
    use jobportal::services::jobs::ensure_index;
    let app = spawn_app().await;
    app.import_jsonl(&[job("a", "Harbour Pilot"), job("b", "Lighthouse Keeper")]).await;
    let newest = jobportal::repositories::jobs::index_state(&app.db).await.unwrap().1;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let before = jobportal::repositories::jobs::database_now(&app.db).await.unwrap();
    // A fresh process over this index has not caught up yet: its first pass would look back
    // from the newest job, over every job of the import.
    assert_eq!(app.ctx.jobs_index.checked(), None);
    assert!(ensure_index(&app.ctx, |_| {}).await.unwrap().is_none(), "current");
    let checked = app.ctx.jobs_index.checked().expect("the check is a complete pass");
    assert!(checked >= before.timestamp_micros() && checked > newest, "{checked} {newest}");
}

#[tokio::test]
async fn a_job_written_here_is_listed_as_written_by_every_search_that_starts_after() {
    let app = spawn_app().await;
    let (owner, id) = app.published_job("owner@example.com", "Harbour Co").await;
    app.import_jsonl(&[job("a", "Harbour Pilot")]).await;
    // Remembered: the index's answer, and the listing of each job with its company.
    for _ in 0..2 {
        let page = app.search("?q=harbour&sort=newest").await;
        assert_eq!(page["total"], 2, "{page}");
    }
    let listed = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["id"] == id.as_str())
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect()
    };

    let response = app
        .patch_authed(
            &format!("/api/v1/jobs/{id}"),
            &owner.access,
            &json!({ "title": "Harbour Rust Engineer" }),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let page = app.search("?q=harbour&sort=newest").await;
    assert_eq!(listed(&page), ["Harbour Rust Engineer"], "{page}");
    assert_eq!(titles(&app.search("?q=engineer").await), ["Harbour Rust Engineer"]);

    app.close_job(&owner, &id).await;
    let page = app.search("?q=harbour&sort=newest").await;
    assert_eq!(titles(&page), ["Harbour Pilot"], "closed here: never listed again");
    assert_eq!(page["total"], 1);
    assert_eq!(app.search("?q=engineer").await["total"], 0);
    let page = app.search("?q=harbour&mode=keyword&sort=relevance&limit=1&offset=0").await;
    assert_eq!(titles(&page), ["Harbour Pilot"]);
}

#[tokio::test]
async fn a_repeated_search_shows_each_job_as_the_index_has_it_now() {
    use jobportal::repositories::jobs as repo;
    let app = spawn_app().await;
    app.import_jsonl(&[job("a", "Harbour Pilot"), job("b", "River Pilot")]).await;
    let first = app.search("?q=pilot&sort=newest").await;
    assert_eq!(first["total"], 2);
    assert_eq!(first["items"][0]["company"]["name"], "Acme");
    let id = first["items"][0]["id"].as_str().unwrap().to_owned();

    // Changed behind the index's back (another process): listed as before until the index
    // catches up, then as the database has it.
    let mut job = repo::find(&app.db, &id).await.unwrap().unwrap();
    job.fields.title = "Harbour Pilot (night shifts)".into();
    repo::update_fields(&app.db, &id, &job.fields, "changed elsewhere").await.unwrap();
    let before = app.search("?q=pilot&sort=newest").await;
    assert!(titles(&before).contains(&"Harbour Pilot".to_owned()), "{before}");
    assert_eq!(jobportal::services::jobs::catch_up_index(&app.ctx).await.unwrap(), 1);
    let again = app.search("?q=pilot&sort=newest").await;
    let listed =
        again["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).cloned();
    assert_eq!(listed.unwrap()["title"], "Harbour Pilot (night shifts)");

    // Written by this process (database, then index): the next search shows it at once.
    job.fields.title = "Harbour Pilot (day shifts)".into();
    repo::update_fields(&app.db, &id, &job.fields, "changed here").await.unwrap();
    let written = repo::find(&app.db, &id).await.unwrap().unwrap();
    jobportal::services::jobs::sync_index(&app.ctx, &[written]).await.unwrap();
    let body = app.search("?q=pilot&sort=newest").await;
    let listed = body["items"].as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).cloned();
    assert_eq!(listed.unwrap()["title"], "Harbour Pilot (day shifts)");

    // A company's new name and verification show on the next page (they are not part of the
    // job's version).
    let admin = app.admin("admin@example.com").await;
    let response = app
        .patch_authed("/api/v1/companies/acme", &admin.access, &json!({ "name": "Acme Harbours" }))
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let renamed = app.search("?q=pilot&sort=newest").await;
    assert!(
        renamed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["company"]["name"] == "Acme Harbours"),
        "{renamed}"
    );
    assert_eq!(renamed["items"][0]["company"]["verified"], false);
    let response =
        app.post_authed("/api/v1/admin/companies/acme/verify", &admin.access, &json!({})).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let verified = app.search("?q=pilot&sort=newest").await;
    assert!(
        verified["items"].as_array().unwrap().iter().all(|i| i["company"]["verified"] == true),
        "{verified}"
    );

    // Closed elsewhere: gone once the index catches up, which forgets what it remembered.
    repo::set_status(&app.db, &id, JobStatus::Closed, Review::Approved).await.unwrap();
    assert_eq!(app.search("?q=pilot&sort=newest").await["total"], 2, "not seen yet");
    jobportal::services::jobs::catch_up_index(&app.ctx).await.unwrap();
    let closed = app.search("?q=pilot&sort=newest").await;
    assert_eq!(titles(&closed), ["River Pilot"]);
    assert_eq!(closed["total"], 1);
}

#[tokio::test]
async fn a_page_of_jobs_listed_before_and_new_ones_shows_each_public_one_once_as_stored() {
    use jobportal::repositories::jobs as repo;
    let app = spawn_app().await;
    app.import_jsonl(&[job("a", "Harbour Pilot"), job("b", "River Pilot")]).await;
    let first = app.search("?q=pilot").await;
    assert_eq!(first["total"], 2, "{first}");
    let ids: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    let (harbour, river) = if first["items"][0]["title"] == "Harbour Pilot" {
        (&ids[0], &ids[1])
    } else {
        (&ids[1], &ids[0])
    };

    // Behind the index's back: one listed job is closed, the other retitled; the index
    // catches up. Then a new job arrives through the index, so the next page holds a job
    // remembered at an older version, one gone and one never listed.
    repo::set_status(&app.db, harbour, JobStatus::Closed, Review::Approved).await.unwrap();
    let mut changed = repo::find(&app.db, river).await.unwrap().unwrap();
    changed.fields.title = "River Pilot (tugs)".into();
    repo::update_fields(&app.db, river, &changed.fields, "changed elsewhere").await.unwrap();
    jobportal::services::jobs::catch_up_index(&app.ctx).await.unwrap();
    app.import_jsonl(&[job("c", "Sea Pilot")]).await;

    let page = app.search("?q=pilot").await;
    let mut shown = titles(&page);
    shown.sort();
    assert_eq!(shown, ["River Pilot (tugs)", "Sea Pilot"], "{page}");
    assert!(
        page["items"].as_array().unwrap().iter().all(|i| i["company"]["name"] == "Acme"),
        "{page}"
    );
}

#[tokio::test]
async fn paging_through_changes_visits_each_job_once_even_when_many_share_an_instant() {
    use jobportal::repositories::jobs as repo;
    let app = spawn_app().await;
    // One import batch: every job gets the same `updated_at`.
    let jobs: Vec<Value> =
        (0..25).map(|i| job(&format!("j{i}"), &format!("Engineer {i}"))).collect();
    app.import_jsonl(&jobs).await;
    let later =
        app.search("?q=engineer&limit=1").await["items"][0]["id"].as_str().unwrap().to_owned();
    let mut changed = repo::find(&app.db, &later).await.unwrap().unwrap();
    changed.fields.title = "Engineer, changed".into();
    repo::update_fields(&app.db, &later, &changed.fields, "later").await.unwrap();

    let mut seen = Vec::new();
    let (mut since, mut after) = (Utc::now() - Duration::days(1), None::<String>);
    loop {
        let page = repo::updated_after(&app.db, since, after.as_deref(), 7).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 7);
        since = last.updated_at;
        after = Some(last.id.clone());
        seen.extend(page.iter().map(|j| (j.updated_at, j.id.clone())));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "oldest change first, then by id");
    sorted.dedup();
    assert_eq!(sorted.len(), 25, "each job once");
    assert_eq!(seen.last().unwrap().1, later, "the changed job comes last");
}
