//! Jobs from the employer's side: drafts, edits, the lifecycle, moderation, who may do what,
//! and the public view with its JSON-LD.

use jobportal::core::config::ServeConfig;
use jobportal::db::Executor;
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, assert_error, spawn_app, spawn_app_with};

/// An owner with a company `slug`.
async fn employer(app: &TestApp, email: &str, company: &str) -> Account {
    app.company_owner(email, company).await
}

fn full_job(company: &str) -> Value {
    json!({
        "company": company,
        "title": "Backend Engineer (Rust)",
        "description": "Build the APIs of our job portal in **Rust**.",
        "city": "Lisbon", "country_code": "pt",
        "workplace": "hybrid", "employment_type": "full_time", "seniority": "senior",
        "salary_min": 60000, "salary_max": 80000, "salary_currency": "eur", "salary_period": "year", "salary_public": true,
        "skills": ["Rust", "Postgres", "rust"],
        "category": "Engineering", "tags": ["backend"],
        "expires_at": "2099-01-01T00:00:00Z"
    })
}

async fn draft(app: &TestApp, owner: &Account, company: &str) -> Value {
    app.create_job(owner, &full_job(company)).await
}

#[tokio::test]
async fn a_member_creates_a_draft_that_only_the_company_sees() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let job = draft(&app, &owner, "acme").await;
    assert_eq!(job["status"], "draft");
    assert_eq!(job["skills"], json!(["rust", "postgresql"]));
    assert_eq!(job["location"]["country_code"], "PT");
    assert_eq!(job["category"], "engineering");
    assert_eq!(job["company"]["slug"], "acme");
    let id = job["id"].as_str().unwrap();

    assert_error(app.get(&format!("/api/v1/jobs/{id}")).await, 404, "not_found").await;
    let stranger = app.register("x@example.com", "candidate").await;
    assert_error(
        app.get_authed(&format!("/api/v1/jobs/{id}"), &stranger.access).await,
        404,
        "not_found",
    )
    .await;
    let seen: Value =
        app.get_authed(&format!("/api/v1/jobs/{id}"), &owner.access).await.json().await.unwrap();
    assert_eq!(seen["status"], "draft");
    let listed: Value = app
        .get_authed("/api/v1/companies/acme/jobs?status=draft", &owner.access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1);
}

#[tokio::test]
async fn publishing_makes_a_job_public_and_closing_and_archiving_take_it_back() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap();

    let published: Value = app
        .post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["status"], "published");
    assert!(published["posted_at"].is_string());
    let public: Value = app.get(&format!("/api/v1/jobs/{id}")).await.json().await.unwrap();
    assert_eq!(public["title"], "Backend Engineer (Rust)");
    assert!(
        public.get("status").unwrap().is_null(),
        "the public does not see the lifecycle: {public}"
    );
    assert_eq!(public["salary"]["currency"], "EUR");

    let search: Value = app.get("/api/v1/jobs?q=rust").await.json().await.unwrap();
    assert_eq!(search["total"], 1);

    let closed =
        app.post_authed(&format!("/api/v1/jobs/{id}/close"), &owner.access, &json!({})).await;
    assert_eq!(closed.status(), 200);
    assert_error(app.get(&format!("/api/v1/jobs/{id}")).await, 404, "not_found").await;
    let search: Value = app.get("/api/v1/jobs?q=rust").await.json().await.unwrap();
    assert_eq!(search["total"], 0, "a closed job leaves the search");

    let reopened =
        app.post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({})).await;
    assert_eq!(reopened.status(), 200);
    let archived: Value = app
        .post_authed(&format!("/api/v1/jobs/{id}/archive"), &owner.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(archived["status"], "archived");
    for action in ["publish", "close", "archive"] {
        let response = app
            .post_authed(&format!("/api/v1/jobs/{id}/{action}"), &owner.access, &json!({}))
            .await;
        assert_error(response, 409, "invalid_transition").await;
    }
    let edit = app
        .patch_authed(&format!("/api/v1/jobs/{id}"), &owner.access, &json!({ "title": "New" }))
        .await;
    assert_error(edit, 409, "invalid_transition").await;
    let search: Value = app.get("/api/v1/jobs?q=rust").await.json().await.unwrap();
    assert_eq!(search["total"], 0);
}

#[tokio::test]
async fn a_draft_cannot_be_closed_and_publishing_needs_the_fields_candidates_rely_on() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let response = app
        .post_authed("/api/v1/jobs", &owner.access, &json!({ "company": "acme", "title": "Bare" }))
        .await;
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_error(
        app.post_authed(&format!("/api/v1/jobs/{id}/close"), &owner.access, &json!({})).await,
        409,
        "invalid_transition",
    )
    .await;
    let message = assert_error(
        app.post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    for field in ["description", "workplace", "employment_type"] {
        assert!(message.contains(field), "{message}");
    }
    let patch = json!({ "description": "Real work.", "workplace": "remote", "employment_type": "contract" });
    assert_eq!(
        app.patch_authed(&format!("/api/v1/jobs/{id}"), &owner.access, &patch).await.status(),
        200
    );
    app.publish_job(&owner, &id).await;
    // A published job cannot lose what publishing needed.
    let patch = json!({ "description": "" });
    assert_error(
        app.patch_authed(&format!("/api/v1/jobs/{id}"), &owner.access, &patch).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn bad_job_fields_are_refused_with_the_rule_they_break() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    for (patch, rule) in [
        (json!({ "workplace": "moon" }), "workplace"),
        (json!({ "employment_type": "forever" }), "employment_type"),
        (json!({ "seniority": "god" }), "seniority"),
        (json!({ "country_code": "Portugal" }), "country_code"),
        (json!({ "salary_min": 90, "salary_max": 10 }), "salary_min"),
        (json!({ "salary_currency": "euros" }), "salary_currency"),
        (json!({ "salary_period": "decade" }), "salary_period"),
        (json!({ "apply_url": "ftp://x" }), "apply_url"),
        (json!({ "expires_at": "2001-01-01T00:00:00Z" }), "expires_at"),
        (json!({ "title": "" }), "title"),
        (json!({ "title": "x".repeat(201) }), "title"),
        (json!({ "status": "published" }), "status"),
    ] {
        let mut body = full_job("acme");
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let message = assert_error(
            app.post_authed("/api/v1/jobs", &owner.access, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(message.contains(rule), "{rule}: {message}");
    }
}

#[tokio::test]
async fn only_members_manage_a_companys_jobs() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let other = employer(&app, "other@example.com", "Beta").await;
    let candidate = app.register("cand@example.com", "candidate").await;
    let admin = app.admin("root@example.com").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap();

    for who in [&other, &candidate] {
        assert_error(
            app.post_authed("/api/v1/jobs", &who.access, &full_job("acme")).await,
            403,
            "forbidden",
        )
        .await;
        // A draft they may not see is not found; not even its existence leaks.
        assert_error(
            app.patch_authed(&format!("/api/v1/jobs/{id}"), &who.access, &json!({ "title": "x" }))
                .await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            app.post_authed(&format!("/api/v1/jobs/{id}/publish"), &who.access, &json!({})).await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            app.get_authed("/api/v1/companies/acme/jobs", &who.access).await,
            404,
            "not_found",
        )
        .await;
    }
    app.publish_job(&owner, id).await;
    // Public now: others may see it but not change it.
    assert_error(
        app.patch_authed(&format!("/api/v1/jobs/{id}"), &other.access, &json!({ "title": "x" }))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_error(
        app.post_authed("/api/v1/jobs", &admin.access, &full_job("acme")).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.patch_authed(
            &format!("/api/v1/jobs/{id}"),
            &admin.access,
            &json!({ "title": "Moderated title" })
        )
        .await
        .status(),
        200
    );
    assert_error(
        app.post_authed("/api/v1/jobs", &owner.access, &full_job("nope")).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn with_moderation_a_job_of_an_unverified_company_waits_for_an_admin() {
    let app =
        spawn_app_with(ServeConfig { moderate_unverified: true, ..ServeConfig::default() }).await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let admin = app.admin("root@example.com").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap();
    let published: Value = app
        .post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["review"], "pending");
    assert_error(app.get(&format!("/api/v1/jobs/{id}")).await, 404, "not_found").await;
    let pending: Value =
        app.get_authed("/api/v1/admin/jobs/pending", &admin.access).await.json().await.unwrap();
    assert_eq!(pending["total"], 1);
    assert_error(
        app.post_authed(&format!("/api/v1/admin/jobs/{id}/approve"), &owner.access, &json!({}))
            .await,
        403,
        "forbidden",
    )
    .await;
    let approved: Value = app
        .post_authed(&format!("/api/v1/admin/jobs/{id}/approve"), &admin.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(approved["review"], "approved");
    assert_eq!(app.get(&format!("/api/v1/jobs/{id}")).await.status(), 200);
    let search: Value = app.get("/api/v1/jobs").await.json().await.unwrap();
    assert_eq!(search["total"], 1);

    // A verified company's jobs go straight out.
    app.post_authed("/api/v1/admin/companies/acme/verify", &admin.access, &json!({})).await;
    let second = draft(&app, &owner, "acme").await;
    let second_id = second["id"].as_str().unwrap();
    let published: Value = app
        .post_authed(&format!("/api/v1/jobs/{second_id}/publish"), &owner.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(published["review"], "approved");
}

#[tokio::test]
async fn a_public_job_has_google_job_posting_json_ld_and_counts_its_views() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap();
    assert_error(app.get(&format!("/api/v1/jobs/{id}/jsonld")).await, 404, "not_found").await;
    app.publish_job(&owner, id).await;

    let response = app.get(&format!("/api/v1/jobs/{id}/jsonld")).await;
    assert_eq!(response.headers()["content-type"], "application/ld+json");
    let ld: Value = response.json().await.unwrap();
    assert_eq!(ld["@context"], "https://schema.org/");
    assert_eq!(ld["@type"], "JobPosting");
    assert_eq!(ld["title"], "Backend Engineer (Rust)");
    assert!(ld["description"].as_str().unwrap().contains("Rust"));
    assert!(ld["datePosted"].as_str().unwrap().ends_with('Z'));
    assert_eq!(ld["validThrough"], "2099-01-01T00:00:00Z");
    assert_eq!(ld["hiringOrganization"]["name"], "Acme");
    assert_eq!(ld["jobLocation"]["address"]["addressLocality"], "Lisbon");
    assert_eq!(ld["jobLocation"]["address"]["addressCountry"], "PT");
    assert_eq!(ld["employmentType"], "FULL_TIME");
    assert_eq!(ld["baseSalary"]["currency"], "EUR");
    assert_eq!(ld["baseSalary"]["value"]["minValue"], 60000.0);
    assert_eq!(ld["baseSalary"]["value"]["unitText"], "YEAR");
    assert_eq!(ld["directApply"], true);

    // A remote job says TELECOMMUTE.
    app.patch_authed(
        &format!("/api/v1/jobs/{id}"),
        &owner.access,
        &json!({ "workplace": "remote", "remote_regions": ["EU"] }),
    )
    .await;
    let ld: Value = app.get(&format!("/api/v1/jobs/{id}/jsonld")).await.json().await.unwrap();
    assert_eq!(ld["jobLocationType"], "TELECOMMUTE");
    assert_eq!(ld["applicantLocationRequirements"][0]["name"], "EU");

    for _ in 0..3 {
        app.get(&format!("/api/v1/jobs/{id}")).await;
    }
    let seen: Value =
        app.get_authed(&format!("/api/v1/jobs/{id}"), &owner.access).await.json().await.unwrap();
    assert_eq!(seen["view_count"], 3, "the company's own views do not count");
}

/// An employer lists several places; `city`/`country_code` edit the primary one and keep the
/// rest; the public view and its JSON-LD carry every place; bad places are refused whole.
#[tokio::test]
async fn a_job_at_several_places_is_created_edited_and_published_with_all_of_them() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let mut body = full_job("acme");
    let fields = body.as_object_mut().unwrap();
    fields.remove("city");
    fields.remove("country_code");
    fields.insert(
        "locations".into(),
        json!([{"city": "Lisbon", "country_code": "pt"}, {"city": "Madrid", "region": "Community of Madrid", "country_code": "ES"}, {}]),
    );
    let response = app.post_authed("/api/v1/jobs", &owner.access, &body).await;
    assert_eq!(response.status(), 201);
    let job: Value = response.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(
        job["locations"],
        json!([
            {"city": "Lisbon", "region": null, "country_code": "PT"},
            {"city": "Madrid", "region": "Community of Madrid", "country_code": "ES"}
        ]),
        "an empty place is dropped"
    );
    assert_eq!(job["location"], job["locations"][0]);

    let path = format!("/api/v1/jobs/{id}");
    let edited: Value = app
        .patch_authed(&path, &owner.access, &json!({ "city": "Porto" }))
        .await
        .json()
        .await
        .unwrap();
    let cities: Vec<&str> = edited["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["city"].as_str().unwrap())
        .collect();
    assert_eq!(cities, ["Porto", "Madrid"], "the primary place changed, the other stayed");
    assert_eq!(edited["location"]["country_code"], "PT");

    let too_long = "x".repeat(101);
    for (bad, message) in [
        (json!({ "locations": [{"city": "Lisbon"}], "city": "Porto" }), "not both"),
        (
            json!({ "locations": [{"city": "Lisbon"}, {"city": too_long}] }),
            "locations[1].city must be at most 100 characters",
        ),
        (
            json!({ "locations": [{"country_code": "Spain"}] }),
            "locations[0].country_code must be a two-letter",
        ),
        (json!({ "locations": vec![json!({"city": "Lisbon"}); 51] }), "more than 50"),
        (json!({ "locations": [{"town": "Lisbon"}] }), "town"),
    ] {
        let response = app.patch_authed(&path, &owner.access, &bad).await;
        let text = assert_error(response, 422, "validation_failed").await;
        assert!(text.contains(message), "{bad}: {text}");
    }
    let unchanged: Value = app.get_authed(&path, &owner.access).await.json().await.unwrap();
    assert_eq!(unchanged["locations"], edited["locations"], "a refused change writes nothing");

    app.post_authed(&format!("{path}/publish"), &owner.access, &json!({})).await;
    let public: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(public["locations"].as_array().unwrap().len(), 2);
    let ld: Value = app.get(&format!("{path}/jsonld")).await.json().await.unwrap();
    let places: Vec<(&str, &str)> = ld["jobLocation"]
        .as_array()
        .unwrap_or_else(|| panic!("several places are an array: {ld}"))
        .iter()
        .map(|p| {
            (
                p["address"]["addressLocality"].as_str().unwrap(),
                p["address"]["addressCountry"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(places, [("Porto", "PT"), ("Madrid", "ES")]);
    let found: Value = app.get("/api/v1/jobs?location=madrid").await.json().await.unwrap();
    assert_eq!(found["total"], 1, "{found}");
}

#[tokio::test]
async fn ids_that_cannot_exist_are_not_found() {
    let app = spawn_app().await;
    for id in ["nope", "%20", "job:1"] {
        assert_error(app.get(&format!("/api/v1/jobs/{id}")).await, 404, "not_found").await;
    }
}

#[tokio::test]
async fn renaming_a_company_renames_it_in_search() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Zanzibar Widgets").await;
    let job = draft(&app, &owner, "zanzibar-widgets").await;
    let id = job["id"].as_str().unwrap();
    let response =
        app.post_authed(&format!("/api/v1/jobs/{id}/publish"), &owner.access, &json!({})).await;
    assert_eq!(response.status(), 200);
    let found: Value = app.get("/api/v1/jobs?q=zanzibar").await.json().await.unwrap();
    assert_eq!(found["total"], 1, "{found}");

    let response = app
        .patch_authed(
            "/api/v1/companies/zanzibar-widgets",
            &owner.access,
            &json!({ "name": "Quokka Tools" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let new_name: Value = app.get("/api/v1/jobs?q=quokka").await.json().await.unwrap();
    assert_eq!(new_name["total"], 1, "{new_name}");
    assert_eq!(new_name["items"][0]["company"]["name"], "Quokka Tools");
    let old_name: Value = app.get("/api/v1/jobs?q=zanzibar").await.json().await.unwrap();
    assert_eq!(old_name["total"], 0, "the old name no longer matches: {old_name}");
}

#[tokio::test]
async fn concurrent_edits_never_lose_an_acknowledged_change() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap().to_owned();
    let edits = [
        ("title", json!("Edited title")),
        ("city", json!("Porto")),
        ("category", json!("design")),
        ("description", json!("Edited description")),
        ("seniority", json!("lead")),
        ("tags", json!(["edited"])),
    ];
    let responses = futures_util::future::join_all(edits.iter().map(|(field, value)| {
        let body = json!({ *field: value });
        let url = format!("/api/v1/jobs/{id}");
        let (app, token) = (&app, owner.access.clone());
        async move { app.patch_authed(&url, &token, &body).await.status().as_u16() }
    }))
    .await;
    assert!(responses.iter().all(|s| *s == 200 || *s == 409), "{responses:?}");
    assert!(responses.contains(&200));
    let now: Value =
        app.get_authed(&format!("/api/v1/jobs/{id}"), &owner.access).await.json().await.unwrap();
    for ((field, value), status) in edits.iter().zip(&responses) {
        if *status == 200 {
            let stored = if *field == "city" { &now["location"]["city"] } else { &now[*field] };
            assert_eq!(stored, value, "{field} was acknowledged, then lost: {now}");
        }
    }
}

/// The fields of a job as answered that a request takes back as they are.
fn editable(job: &Value) -> Value {
    let mut body = serde_json::Map::new();
    for field in [
        "title",
        "description",
        "location",
        "locations",
        "workplace",
        "remote_regions",
        "employment_type",
        "seniority",
        "salary",
        "skills",
        "category",
        "tags",
        "apply_url",
        "expires_at",
    ] {
        body.insert(field.into(), job[field].clone());
    }
    Value::Object(body)
}

#[tokio::test]
async fn a_job_is_created_and_updated_from_the_fields_of_its_answer() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let original = draft(&app, &owner, "acme").await;

    // A copy made from what a GET answered, nested `location` and `salary` included.
    let id = original["id"].as_str().unwrap();
    let read: Value =
        app.get_authed(&format!("/api/v1/jobs/{id}"), &owner.access).await.json().await.unwrap();
    assert!(read["salary"].is_object() && read["location"].is_object(), "{read}");
    let mut body = editable(&read);
    body["company"] = json!("acme");
    let response = app.post_authed("/api/v1/jobs", &owner.access, &body).await;
    assert_eq!(response.status(), 201);
    let copy: Value = response.json().await.unwrap();
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(editable(&copy), editable(&read));

    // The nested form alone edits the primary place and the salary.
    let copy_id = copy["id"].as_str().unwrap();
    let mut edit = json!({
        "location": { "city": "Porto", "region": "Norte", "country_code": "pt" },
        "salary": { "min": 65000, "max": 90000, "currency": "eur", "period": "year" },
    });
    let response = app.patch_authed(&format!("/api/v1/jobs/{copy_id}"), &owner.access, &edit).await;
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(
        edited["location"],
        json!({ "city": "Porto", "region": "Norte", "country_code": "PT" })
    );
    assert_eq!(edited["locations"], json!([edited["location"]]));
    assert_eq!(
        edited["salary"],
        json!({ "min": 65000.0, "max": 90000.0, "currency": "EUR", "period": "year" })
    );

    // A whole answer sent back as an update changes nothing.
    let response = app
        .patch_authed(&format!("/api/v1/jobs/{copy_id}"), &owner.access, &editable(&edited))
        .await;
    assert_eq!(response.status(), 200);
    let again: Value = response.json().await.unwrap();
    assert_eq!(editable(&again), editable(&edited));

    // Another job's answer sent back makes this one like it.
    edit = editable(&read);
    let response = app.patch_authed(&format!("/api/v1/jobs/{copy_id}"), &owner.access, &edit).await;
    assert_eq!(response.status(), 200);
    let restored: Value = response.json().await.unwrap();
    assert_eq!(editable(&restored), editable(&read));
}

#[tokio::test]
async fn a_value_given_in_both_its_nested_and_flat_form_is_refused() {
    let app = spawn_app().await;
    let owner = employer(&app, "owner@example.com", "Acme").await;
    let job = draft(&app, &owner, "acme").await;
    let id = job["id"].as_str().unwrap();
    let path = format!("/api/v1/jobs/{id}");
    for (body, words) in [
        (json!({ "location": { "city": "Porto" }, "city": "Porto" }), "location or city"),
        (json!({ "location": { "city": "Porto" }, "country_code": "PT" }), "location or city"),
        (json!({ "salary": { "min": 1.0 }, "salary_min": 1.0 }), "salary or salary_min"),
        (json!({ "salary": { "max": 9.0 }, "salary_currency": "EUR" }), "salary or salary_min"),
        (
            json!({ "location": { "city": "Porto" }, "locations": [{ "city": "Faro" }] }),
            "first of locations",
        ),
        (json!({ "location": { "city": "Porto" }, "locations": [] }), "first of locations"),
    ] {
        let message = assert_error(
            app.patch_authed(&path, &owner.access, &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(message.contains(words), "{body}: {message}");
        let mut create = body.clone();
        create["company"] = json!("acme");
        create["title"] = json!("Both forms");
        let message = assert_error(
            app.post_authed("/api/v1/jobs", &owner.access, &create).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(message.contains(words), "{create}: {message}");
    }
    // Nothing was changed or made.
    let unchanged: Value = app.get_authed(&path, &owner.access).await.json().await.unwrap();
    assert_eq!(editable(&unchanged), editable(&job));
    let listed: Value =
        app.get_authed("/api/v1/companies/acme/jobs", &owner.access).await.json().await.unwrap();
    assert_eq!(listed["total"], 1);
    // An unknown field of a nested object is refused like one of the request.
    assert_error(
        app.patch_authed(&path, &owner.access, &json!({ "salary": { "minimum": 1 } })).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn the_jobs_and_the_public_ones_are_walked_a_page_at_a_time_each_once_in_id_order() {
    let app = spawn_app().await;
    let text = String::from_utf8(crate::helpers::fixture("jobs/network-jobs-300.jsonl")).unwrap();
    let records: Vec<Value> =
        text.lines().take(60).map(|l| serde_json::from_str(l).unwrap()).collect();
    app.import_jsonl(&records).await;
    // Every third job closed and every fifth waiting for review: gaps inside pages.
    let mut ids: Vec<String> =
        app.db.query("SELECT VALUE record::id(id) FROM job").await.unwrap().take(0).unwrap();
    assert_eq!(ids.len(), 60);
    ids.sort();
    let mut public = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let change = match (n % 3, n % 5) {
            (0, _) => "UPDATE type::record('job', $id) SET status = 'closed'",
            (_, 0) => "UPDATE type::record('job', $id) SET review = 'pending'",
            _ => {
                public.push(id.clone());
                continue;
            }
        };
        app.db.query(change).bind(("id", id.clone())).await.unwrap().check().unwrap();
    }
    for size in [1, 7, 32, 1000] {
        assert_eq!(walk(&app.db, size, false).await, public, "pages of {size}");
        // Every job, whatever its status, the same way.
        assert_eq!(walk(&app.db, size, true).await, ids, "every job, pages of {size}");
    }
}

/// The ids of the public jobs (or of `every` job) in the order their pages of `size` give them.
async fn walk(db: &jobportal::db::Database, size: u32, every: bool) -> Vec<String> {
    use jobportal::repositories::jobs::{every_page, public_page};
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = if every {
            every_page(db, after.as_deref(), size).await
        } else {
            public_page(db, after.as_deref(), size).await
        };
        let page = page.unwrap();
        assert!(page.len() <= size as usize);
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        walked.extend(page.into_iter().map(|job| job.id));
    }
    walked
}
