//! `jobportal import-jobs` (the real binary) and the admin import API: every format, broken
//! records, idempotence, dry runs, standard input, and a SIGKILL halfway.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use jobportal::core::config::{DbConfig, EmailBackendConfig, ServeConfig};
use jobportal::db::Database;
use serde_json::{Value, json};

use crate::helpers::{
    ServeProcess, TestApp, eventually, jobportal, spawn_app_with_workers, test_worker_config,
};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jobs/network-jobs-300.jsonl");

fn workdir() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

fn import(data: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let output = jobportal(data).arg("import-jobs").args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn open(data: &std::path::Path) -> Database {
    Database::connect(&DbConfig {
        url: format!("surrealkv://{}", data.join("db").display()),
        ..DbConfig::memory()
    })
    .await
    .unwrap()
}

/// (job id, content hash, status) of every job, and (id, slug) of every company, sorted.
async fn contents(
    data: &std::path::Path,
) -> (Vec<(String, String, String)>, Vec<(String, String)>) {
    let db = open(data).await;
    let mut jobs = Vec::new();
    let mut after = None;
    loop {
        let page =
            jobportal::repositories::jobs::public_page(&db, after.as_deref(), 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        jobs.extend(page.into_iter().map(|j| (j.id, j.content_hash, j.status.as_str().to_owned())));
    }
    let mut companies: Vec<(String, String)> = Vec::new();
    for (id, _, _) in &jobs {
        let job = jobportal::repositories::jobs::find(&db, id).await.unwrap().unwrap();
        let company = jobportal::repositories::companies::find_by_id(&db, &job.company_id)
            .await
            .unwrap()
            .unwrap();
        companies.push((company.id, company.slug));
    }
    companies.sort();
    companies.dedup();
    jobs.sort();
    db.close().await;
    (jobs, companies)
}

#[tokio::test]
async fn the_fixtures_import_then_the_api_finds_them_and_a_second_run_changes_nothing() {
    let (_dir, data) = workdir();
    let (code, out, err) = import(&data, &[FIXTURE]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("300 created, 0 updated, 0 unchanged, 0 invalid"), "{out}");

    let (code, out, _) = import(&data, &[FIXTURE]);
    assert_eq!(code, 0);
    assert!(out.contains("0 created, 0 updated, 300 unchanged, 0 invalid"), "{out}");

    let server = ServeProcess::start(&data);
    let body: Value =
        reqwest::get(server.url("/api/v1/jobs?limit=5")).await.unwrap().json().await.unwrap();
    assert_eq!(body["total"], 300);
    // The demo postings have descriptions, so a keyword hit may come from the text or the tags
    // alone (a content manager's "search engines" shares the stem of "engineer", a support
    // specialist sits in "dept:Engineering"); every hit names the word somewhere, and most are
    // engineering titles.
    let body: Value =
        reqwest::get(server.url("/api/v1/jobs?q=engineer&workplace=remote&mode=keyword&limit=100"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{body}");
    let mut engineer_titles = 0;
    for item in items {
        assert_eq!(item["workplace"], "remote");
        let title = item["title"].as_str().unwrap().to_lowercase();
        engineer_titles += usize::from(title.contains("engineer"));
        let job: Value =
            reqwest::get(server.url(&format!("/api/v1/jobs/{}", item["id"].as_str().unwrap())))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let text = format!("{title} {} {} {}", job["description"], job["skills"], job["tags"])
            .to_lowercase();
        assert!(text.contains("engin"), "{job}");
    }
    assert!(
        engineer_titles * 2 > items.len(),
        "{engineer_titles} of {} hits have an engineering title: {body}",
        items.len()
    );
    let facets = &body["facets"]["category"];
    assert!(facets.as_array().unwrap().iter().any(|f| f["value"] == "engineering"), "{facets}");
}

/// The demo postings carry a description and skills composed from O*NET task statements (and
/// say so), and a keyword search for a skill ranks postings whose titles fit that skill first.
#[tokio::test]
async fn the_demo_postings_have_composed_descriptions_and_skills_that_search_finds() {
    let records: Vec<Value> = std::fs::read_to_string(FIXTURE)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 300);
    for record in &records {
        let description = record["description"].as_str().unwrap_or_default();
        assert!(description.contains("What you will do:\n- "), "{record}");
        assert!(
            description.contains("composed from O*NET task statements")
                && description.contains("not the employer's text"),
            "{record}"
        );
        assert!(description.contains("CC BY 4.0") && description.contains("USDOL/ETA"), "{record}");
        assert!(!record["skills"].as_array().unwrap().is_empty(), "{record}");
        let tags: Vec<&str> =
            record["tags"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
        assert!(
            tags.contains(&"composed:onet") && tags.iter().any(|t| t.starts_with("onet:")),
            "{record}"
        );
    }

    let (_dir, data) = workdir();
    let (code, out, err) = import(&data, &[FIXTURE]);
    assert_eq!(code, 0, "{out}{err}");
    let server = ServeProcess::start(&data);
    // A skill, and words of which the title of every one of its top hits has at least one.
    let cases: [(&str, &[&str]); 5] = [
        ("python", &["python"]),
        ("machine learning", &["machine learning", "ai ", "scientist"]),
        ("recruitment", &["recruit", "hr", "people", "talent"]),
        ("nursing", &["nurse", "cnm", "whnp"]),
        ("penetration testing", &["penetration", "red team", "security"]),
    ];
    for (skill, fitting) in cases {
        let with_skill = records
            .iter()
            .filter(|r| r["skills"].as_array().unwrap().iter().any(|s| s == skill))
            .count();
        assert!(with_skill > 0, "some demo posting has the skill {skill}");
        let url = server
            .url(&format!("/api/v1/jobs?q={}&mode=keyword&limit=10", skill.replace(' ', "+")));
        let body: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        assert!(body["total"].as_u64().unwrap() >= with_skill as u64, "{skill}: {body}");
        for item in body["items"].as_array().unwrap().iter().take(with_skill.min(3)) {
            let title = format!("{} ", item["title"].as_str().unwrap().to_lowercase());
            assert!(
                fitting.iter().any(|w| title.contains(w)),
                "{skill}: {title} does not fit; {body}"
            );
        }
    }

    // A posting whose source lists several places ("San Francisco, CA; Cottonwood Heights, UT;
    // Frisco, TX") carries them all, the first as `location`, and a location filter on any
    // later place finds it with all its places.
    let several: Vec<&Value> =
        records.iter().filter(|r| r["locations"].as_array().is_some_and(|l| l.len() > 1)).collect();
    assert_eq!(several.len(), 18, "demo postings with several places");
    let mut searched = 0;
    for record in &several {
        assert_eq!(record["location"], record["locations"][0], "{record}");
        for later in &record["locations"].as_array().unwrap()[1..] {
            let Some(city) = later["city"].as_str() else { continue };
            let body =
                search(&server, &format!("?location={}&limit=100", city.replace(' ', "+"))).await;
            assert!(body["total"].as_u64().unwrap() <= 100, "{city}: {body}");
            let found = body["items"].as_array().unwrap().iter().any(|item| {
                item["title"] == record["title"]
                    && item["company"]["name"] == record["company"]["name"]
                    && places(item) == places(record)
            });
            assert!(found, "{city} finds {record}: {body}");
            searched += 1;
        }
    }
    assert_eq!(searched, 29, "later places with a city");
    // Cottonwood Heights is only the second place of one posting, whose primary is San Francisco.
    let body = search(&server, "?location=cottonwood+heights").await;
    assert_eq!(titles(&body), ["Recruiter (Contract)"], "{body}");
    assert_eq!(body["items"][0]["location"]["city"], "San Francisco", "{body}");
}

#[tokio::test]
async fn broken_records_are_reported_by_line_and_the_rest_imported() {
    let (dir, data) = workdir();
    let jsonl = dir.path().join("jobs.jsonl");
    let huge = "x".repeat(200_000);
    let mut file = std::fs::File::create(&jsonl).unwrap();
    writeln!(file, r#"{{"title": "Good One", "company": "Acme", "external_id": "1"}}"#).unwrap();
    writeln!(file, r#"{{"company": "Acme", "external_id": "2"}}"#).unwrap(); // line 2: no title
    writeln!(file, r#"{{"title": "Typed", "company": "Acme", "skills": 7}}"#).unwrap(); // line 3: wrong type
    writeln!(file, r#"{{"title": "Huge", "company": "Acme", "description": "{huge}"}}"#).unwrap(); // line 4
    file.write_all(b"{\"title\": \"Bad \xff bytes\", \"company\": \"Acme\"}\n").unwrap(); // line 5
    writeln!(file, "not json at all").unwrap(); // line 6
    writeln!(file, r#"{{"title": "Good Two", "company": "Beta", "external_id": "7"}}"#).unwrap();
    drop(file);
    let csv = dir.path().join("jobs.csv");
    std::fs::write(&csv, "title,company,city,salary_min,shoe_size\nCSV Job,Acme,Lisbon,50000,42\n\"Unclosed,Acme\nOther,Beta,Porto,lots,41\n").unwrap();
    let json_array = dir.path().join("jobs.json");
    std::fs::write(
        &json_array,
        r#"[{"title": "Array Job", "company": "Gamma"}, {"title": 5, "company": "Gamma"}]"#,
    )
    .unwrap();
    let jsonld = dir.path().join("postings.jsonld");
    std::fs::write(&jsonld, json!({
        "@context": "https://schema.org/",
        "@graph": [
            {"@type": "JobPosting", "title": "LD One", "hiringOrganization": {"name": "Delta"}, "identifier": "d1",
             "jobLocation": {"address": {"addressLocality": "Madrid", "addressCountry": "ES"}}, "employmentType": "PART_TIME"},
            {"@type": "JobPosting", "title": "LD Two"}
        ]
    }).to_string()).unwrap();

    let (code, out, err) = import(
        &data,
        &[
            jsonl.to_str().unwrap(),
            csv.to_str().unwrap(),
            json_array.to_str().unwrap(),
            jsonld.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "some records were invalid: {out}{err}");
    let name = |p: &std::path::Path| p.display().to_string();
    for expected in [
        format!("{}:2: record 2 (external_id \"2\"): title is required", name(&jsonl)),
        format!("{}:3: record 3: skills must be a list of strings", name(&jsonl)),
        format!("{}:4: record 4: description must be at most", name(&jsonl)),
        format!("{}:5: record 5: not valid UTF-8", name(&jsonl)),
        format!("{}:6: record 6: not valid JSON", name(&jsonl)),
        format!("{}: record 2: title must be a string", name(&json_array)),
        format!("{}: record 2: hiringOrganization.name is required", name(&jsonld)),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in {err}");
    }
    assert!(
        err.contains(&format!("{}:3: record 2:", name(&csv))),
        "the broken quote is reported: {err}"
    );
    assert_eq!(err.matches("shoe_size").count(), 1, "an unknown column is reported once: {err}");
    assert!(out.contains("5 created"), "{out}");

    let server = ServeProcess::start(&data);
    let body: Value = reqwest::get(server.url("/api/v1/jobs?limit=20&sort=newest"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut titles: Vec<&str> =
        body["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    titles.sort();
    assert_eq!(titles, ["Array Job", "CSV Job", "Good One", "Good Two", "LD One"]);
    let ld: Value =
        reqwest::get(server.url("/api/v1/jobs?q=ld")).await.unwrap().json().await.unwrap();
    assert_eq!(ld["items"][0]["location"]["country_code"], "ES");
    assert_eq!(ld["items"][0]["employment_type"], "part_time");
}

/// GET /api/v1/jobs with a query, as JSON.
async fn search(server: &ServeProcess, query: &str) -> Value {
    reqwest::get(server.url(&format!("/api/v1/jobs{query}"))).await.unwrap().json().await.unwrap()
}

fn titles(body: &Value) -> Vec<String> {
    let mut titles: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles
}

/// The (city, region, country_code) of each of a listed job's places, in order.
fn places(item: &Value) -> Vec<(String, String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    item["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (text(&l["city"]), text(&l["region"]), text(&l["country_code"])))
        .collect()
}

fn place(city: &str, region: &str, country: &str) -> (String, String, String) {
    (city.to_owned(), region.to_owned(), country.to_owned())
}

/// A posting at several places keeps them all, from each format: a `locations` list (JSON
/// Lines), a raw list of places in one field (network-jobs-data's "San Francisco, CA; New York
/// City, NY"), `|`-separated CSV columns, and an array of schema.org `jobLocation`s. A comma
/// never splits a place.
#[tokio::test]
async fn postings_at_several_places_import_from_every_format_with_all_their_places() {
    let (dir, data) = workdir();
    let jsonl = dir.path().join("multi.jsonl");
    let lines = [
        json!({"external_id": "list-1", "title": "Polyglot Platform Engineer", "company": "Acme", "locations": [
            {"city": "Lisbon", "country_code": "pt"}, {"city": "Madrid", "country_code": "ES"},
            {"city": "Lisbon", "country_code": "PT"}, {"city": "New York", "region": "NY", "country_code": "US"}]}),
        json!({"external_id": "raw-1", "title": "Raw List Analyst", "company": "Acme",
            "location": {"city": "San Francisco, CA; New York City, NY | Los Angeles, CA", "region": null, "country_code": "US"}}),
        json!({"external_id": "one-1", "title": "Single Place Designer", "company": "Acme",
            "location": {"city": "New York, NY", "country_code": "US"}}),
    ];
    std::fs::write(&jsonl, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let csv = dir.path().join("multi.csv");
    std::fs::write(
        &csv,
        "external_id,title,company,city,region,country_code\n\
        csv-1,CSV Multi Engineer,Beta,Berlin|Munich,,DE\n\
        csv-2,CSV Iberia Engineer,Beta,Lisbon | Porto | Vigo,,PT|PT|ES\n",
    )
    .unwrap();
    let jsonld = dir.path().join("multi.jsonld");
    std::fs::write(&jsonld, json!({"@context": "https://schema.org/", "@graph": [{
        "@type": "JobPosting", "title": "Linked Data Engineer", "identifier": {"@type": "PropertyValue", "value": "ld-1"},
        "hiringOrganization": {"name": "Gamma"},
        "jobLocation": [
            {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Paris", "addressCountry": "FR"}},
            {"@type": "Place", "address": {"@type": "PostalAddress", "addressLocality": "Amsterdam",
                "addressRegion": "North Holland", "addressCountry": "NL"}}
        ]}]}).to_string()).unwrap();

    let (code, out, err) =
        import(&data, &[jsonl.to_str().unwrap(), csv.to_str().unwrap(), jsonld.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("6 created"), "{out}");

    let server = ServeProcess::start(&data);
    let server_ref = &server;
    let job = move |title: &'static str| {
        let server = server_ref;
        async move {
            let body = search(server, &format!("?q={}", title.replace(' ', "+"))).await;
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["title"] == title)
                .cloned()
                .unwrap_or_else(|| panic!("{title} in {body}"))
        }
    };
    let polyglot = job("Polyglot Platform Engineer").await;
    assert_eq!(
        places(&polyglot),
        [place("Lisbon", "", "PT"), place("Madrid", "", "ES"), place("New York", "NY", "US")],
        "a repeated place is kept once"
    );
    assert_eq!(
        polyglot["location"], polyglot["locations"][0],
        "the first place is the primary location"
    );
    assert_eq!(
        places(&job("Raw List Analyst").await),
        [
            place("San Francisco, CA", "", "US"),
            place("New York City, NY", "", "US"),
            place("Los Angeles, CA", "", "US")
        ]
    );
    assert_eq!(places(&job("Single Place Designer").await), [place("New York, NY", "", "US")]);
    assert_eq!(
        places(&job("CSV Multi Engineer").await),
        [place("Berlin", "", "DE"), place("Munich", "", "DE")]
    );
    assert_eq!(
        places(&job("CSV Iberia Engineer").await),
        [place("Lisbon", "", "PT"), place("Porto", "", "PT"), place("Vigo", "", "ES")]
    );
    let linked = job("Linked Data Engineer").await;
    assert_eq!(
        places(&linked),
        [place("Paris", "", "FR"), place("Amsterdam", "North Holland", "NL")]
    );

    // Each place finds its job.
    assert_eq!(titles(&search(&server, "?location=madrid").await), ["Polyglot Platform Engineer"]);
    assert_eq!(titles(&search(&server, "?location=munich").await), ["CSV Multi Engineer"]);
    assert_eq!(titles(&search(&server, "?location=amsterdam").await), ["Linked Data Engineer"]);
    assert_eq!(titles(&search(&server, "?location=los+angeles").await), ["Raw List Analyst"]);
    assert_eq!(
        titles(&search(&server, "?location=lisbon").await),
        ["CSV Iberia Engineer", "Polyglot Platform Engineer"]
    );
    assert_eq!(
        titles(&search(&server, "?country=ES").await),
        ["CSV Iberia Engineer", "Polyglot Platform Engineer"]
    );
    assert_eq!(titles(&search(&server, "?country=NL").await), ["Linked Data Engineer"]);

    // The JSON-LD of a job lists every place.
    let id = linked["id"].as_str().unwrap();
    let ld: Value = reqwest::get(server.url(&format!("/api/v1/jobs/{id}/jsonld")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let localities: Vec<&str> = ld["jobLocation"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["address"]["addressLocality"].as_str().unwrap())
        .collect();
    assert_eq!(localities, ["Paris", "Amsterdam"], "{ld}");
    assert_eq!(ld["jobLocation"][1]["address"]["addressRegion"], "North Holland");
}

/// A JSON document holds its records on one line: an error names the record by its number
/// and identifier, not the line every record shares.
#[tokio::test]
async fn a_bad_record_of_a_one_line_json_array_is_named_by_its_number_and_id() {
    let (dir, data) = workdir();
    let long = "x".repeat(101);
    let array = dir.path().join("jobs.json");
    std::fs::write(&array, json!([
        {"external_id": "greenhouse:1", "title": "Fine", "company": "Acme"},
        {"external_id": "greenhouse:2", "title": "Also Fine", "company": "Acme"},
        {"external_id": "greenhouse:123", "title": "Too Long", "company": "Acme", "location": {"city": long}},
        {"external_id": 456, "title": "Numbered", "company": "Acme", "locations": [{"city": "Lisbon"}, {"city": long}]},
        {"title": "No Id", "company": "Acme", "location": {"country_code": "Portugal"}},
    ]).to_string()).unwrap();
    let jsonld = dir.path().join("postings.jsonld");
    std::fs::write(&jsonld, json!([
        {"@type": "JobPosting", "title": "LD", "hiringOrganization": {"name": "Delta"}, "identifier": "ld-1"},
        {"@type": "JobPosting", "title": "LD", "identifier": {"@type": "PropertyValue", "value": "ld-bad"}},
    ]).to_string()).unwrap();
    let (code, out, err) = import(&data, &[array.to_str().unwrap(), jsonld.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    let name = |p: &std::path::Path| p.display().to_string();
    for expected in [
        format!(
            "{}: record 3 (external_id \"greenhouse:123\"): city must be at most 100 characters",
            name(&array)
        ),
        format!(
            "{}: record 4 (external_id \"456\"): locations[1].city must be at most 100 characters",
            name(&array)
        ),
        format!("{}: record 5: country_code must be a two-letter ISO 3166 code", name(&array)),
        format!(
            "{}: record 2 (identifier \"ld-bad\"): hiringOrganization.name is required",
            name(&jsonld)
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in {err}");
    }
    assert!(!err.contains(":1:"), "no error names the line all records share: {err}");
    assert!(out.contains("3 created"), "{out}");
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let (_dir, data) = workdir();
    let (code, out, _) = import(&data, &["--dry-run", FIXTURE]);
    assert_eq!(code, 0);
    assert!(
        out.contains("checked 300 records")
            && out.contains("300 valid")
            && out.contains("nothing written"),
        "{out}"
    );
    // Nothing at all, not only no public job: no company, no job in any state, no task.
    assert_eq!(counts(&data).await, [0, 0, 0], "a dry run wrote company, job or task records");
    // The same count sees what a real import writes.
    let (code, _, _) = import(&data, &[FIXTURE]);
    assert_eq!(code, 0);
    let [companies, jobs, _] = counts(&data).await;
    assert!(companies > 0 && jobs == 300, "{companies} companies, {jobs} jobs");
}

/// How many records the company, job and task tables hold, whatever their state.
async fn counts(data: &std::path::Path) -> [i64; 3] {
    use jobportal::db::Executor;
    let db = open(data).await;
    let mut out = [0; 3];
    for (slot, table) in out.iter_mut().zip(["company", "job", "task"]) {
        let count: Option<i64> = db
            .query("RETURN count(SELECT id FROM type::table($table))")
            .bind(("table", table))
            .await
            .unwrap()
            .take(0)
            .unwrap();
        *slot = count.unwrap_or(-1);
    }
    db.close().await;
    out
}

#[tokio::test]
async fn standard_input_is_read_with_dash() {
    let (_dir, data) = workdir();
    let mut child = jobportal(&data)
        .args(["import-jobs", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&std::fs::read(FIXTURE).unwrap()[..]).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("300 created"));
}

#[tokio::test]
async fn killed_halfway_and_run_again_it_ends_exactly_like_one_clean_run() {
    let (dir, killed) = workdir();
    let clean = dir.path().join("clean");
    // Enough records that the kill lands mid-way: the fixtures, many times over, with new ids.
    let big = dir.path().join("big.jsonl");
    let fixture = std::fs::read_to_string(FIXTURE).unwrap();
    let mut out = std::fs::File::create(&big).unwrap();
    for round in 0..6 {
        for line in fixture.lines() {
            let mut record: Value = serde_json::from_str(line).unwrap();
            record["external_id"] =
                json!(format!("{}#{round}", record["external_id"].as_str().unwrap()));
            writeln!(out, "{record}").unwrap();
        }
    }
    drop(out);

    let (code, out_text, err) = import(&clean, &["--batch-size", "100", big.to_str().unwrap()]);
    assert_eq!(code, 0, "{out_text}{err}");
    let expected = contents(&clean).await;
    assert_eq!(expected.0.len(), 1800);

    let mut child = jobportal(&killed)
        .args(["import-jobs", "--batch-size", "100", big.to_str().unwrap()])
        .env("JOBPORTAL_LOG", "info,jobportal=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until a few batches are in, then kill it without warning.
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut batches = 0;
    for line in std::io::BufRead::lines(stderr).map_while(Result::ok) {
        if line.contains("batch written") {
            batches += 1;
            if batches == 5 {
                break;
            }
        }
    }
    assert_eq!(batches, 5, "the import logged its batches");
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = contents(&killed).await;
    assert!(
        !partial.0.is_empty() && partial.0.len() < 1800,
        "killed mid-way: {} jobs",
        partial.0.len()
    );

    let (code, out_text, err) = import(&killed, &["--batch-size", "100", big.to_str().unwrap()]);
    assert_eq!(code, 0, "{out_text}{err}");
    assert_eq!(
        contents(&killed).await,
        expected,
        "the rerun converges on the clean run's database"
    );
    // And the search index agrees.
    let server = ServeProcess::start(&killed);
    let body: Value =
        reqwest::get(server.url("/api/v1/jobs?limit=1")).await.unwrap().json().await.unwrap();
    assert_eq!(body["total"], 1800);
}

/// Batches of new jobs are inserted without reading first, and a batch that meets stored jobs
/// goes back to comparing them: a file whose batches are all new, then new and stored mixed
/// (some changed), then all new again counts and stores each job as one careful pass would.
#[tokio::test]
async fn batches_of_new_stored_and_changed_jobs_are_each_counted_and_stored() {
    let (dir, data) = workdir();
    let fixture: Vec<Value> = std::fs::read_to_string(FIXTURE)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = dir.path().join("first.jsonl");
    std::fs::write(&first, fixture[..100].iter().map(|r| format!("{r}\n")).collect::<String>())
        .unwrap();
    let (code, out, err) = import(&data, &[first.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");

    // 50 new, then the 100 stored ones (every other one retitled), then 150 new: in batches of
    // 25 that is two all-new batches, four mixed, six all-new.
    let mut second = String::new();
    for record in &fixture[100..150] {
        second.push_str(&format!("{record}\n"));
    }
    for (n, record) in fixture[..100].iter().enumerate() {
        let mut record = record.clone();
        if n % 2 == 1 {
            record["title"] = json!(format!("Retitled {n}"));
        }
        second.push_str(&format!("{record}\n"));
    }
    for record in &fixture[150..300] {
        second.push_str(&format!("{record}\n"));
    }
    let second_file = dir.path().join("second.jsonl");
    std::fs::write(&second_file, second).unwrap();
    let (code, out, err) = import(&data, &["--batch-size", "25", second_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("200 created, 50 updated, 50 unchanged, 0 invalid"), "{out}");

    // The database holds each job once, as the file last described it; so does the index.
    let (once, _) = {
        let (clean_dir, clean) = workdir();
        let all = clean_dir.path().join("all.jsonl");
        let mut text = String::new();
        for (n, record) in fixture.iter().enumerate() {
            let mut record = record.clone();
            if n < 100 && n % 2 == 1 {
                record["title"] = json!(format!("Retitled {n}"));
            }
            text.push_str(&format!("{record}\n"));
        }
        std::fs::write(&all, text).unwrap();
        let (code, out, err) = import(&clean, &[all.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        (contents(&clean).await, clean_dir)
    };
    assert_eq!(contents(&data).await, once);
    let server = ServeProcess::start(&data);
    let body: Value = reqwest::get(server.url("/api/v1/jobs?q=retitled&limit=100"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 50, "{body}");
    let body: Value =
        reqwest::get(server.url("/api/v1/jobs?limit=1")).await.unwrap().json().await.unwrap();
    assert_eq!(body["total"], 300);
}

#[tokio::test]
async fn admins_import_over_http_as_a_task_and_poll_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { data_dir: dir.path().to_path_buf(), ..ServeConfig::default() };
    let app = spawn_app_with_workers(
        config,
        test_worker_config(EmailBackendConfig::File { dir: dir.path().join("mail") }),
    )
    .await;
    let admin = app.admin("root@example.com").await;
    let user = app.register("ada@example.com", "candidate").await;
    let body = std::fs::read(FIXTURE).unwrap();
    let upload = |token: &str| {
        app.client
            .post(app.url("/api/v1/admin/jobs/import?source=upload"))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(body.clone())
            .send()
    };
    assert_eq!(upload(&user.access).await.unwrap().status(), 403);
    let response = upload(&admin.access).await.unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    let task = finished_task(&app, &admin.access, &status_url).await;
    assert_eq!(task["result"]["created"], 300, "{task}");
    assert_eq!(task["result"]["invalid"], 0);
    let search: Value = app.get("/api/v1/jobs?limit=1").await.json().await.unwrap();
    assert_eq!(search["total"], 300);
    assert!(
        std::fs::read_dir(dir.path().join("imports")).unwrap().next().is_none(),
        "the upload is removed once imported"
    );
}

#[tokio::test]
async fn the_admin_import_report_names_a_bad_record_by_its_number_and_id() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServeConfig { data_dir: dir.path().to_path_buf(), ..ServeConfig::default() };
    let app = spawn_app_with_workers(
        config,
        test_worker_config(EmailBackendConfig::File { dir: dir.path().join("mail") }),
    )
    .await;
    let admin = app.admin("root@example.com").await;
    let body = json!([
        {"external_id": "greenhouse:1", "title": "Fine", "company": "Acme", "locations": [{"city": "Lisbon"}, {"city": "Porto"}]},
        {"external_id": "greenhouse:123", "title": "Too Long", "company": "Acme", "location": {"city": "x".repeat(101)}},
    ])
    .to_string();
    let response = app
        .client
        .post(app.url("/api/v1/admin/jobs/import?source=upload"))
        .bearer_auth(&admin.access)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    let status_url = accepted["status_url"].as_str().unwrap().to_owned();
    let task = finished_task(&app, &admin.access, &status_url).await;
    assert_eq!(task["result"]["created"], 1, "{task}");
    assert_eq!(task["result"]["invalid"], 1, "{task}");
    assert_eq!(
        task["result"]["errors"],
        json!([
            "upload: record 2 (external_id \"greenhouse:123\"): city must be at most 100 characters"
        ]),
        "{task}"
    );
    let found: Value = app.get("/api/v1/jobs?location=porto").await.json().await.unwrap();
    assert_eq!(found["total"], 1, "{found}");
}

#[tokio::test]
async fn admin_reindex_jobs_rebuilds_a_lost_index_from_the_database() {
    let (_dir, data) = workdir();
    let (code, out, err) = import(&data, &[FIXTURE]);
    assert_eq!(code, 0, "{out}{err}");
    let index_dir = jobportal::repositories::job_index::index_dir(&data);
    std::fs::remove_dir_all(&index_dir).unwrap();

    let output = jobportal(&data).args(["admin", "reindex-jobs"]).output().unwrap();
    let (out, err) =
        (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{out}{err}");
    assert!(out.contains("indexed 300 public jobs"), "{out}");
    assert!(err.contains("300 public jobs to index"), "{err}");

    let index = jobportal::repositories::job_index::JobIndex::open(Some(&index_dir)).unwrap();
    assert_eq!(index.len(), 300);
    let hits = index
        .search(&jobportal::repositories::job_index::IndexQuery {
            text: Some("engineer".into()),
            limit: 10,
            now: chrono::Utc::now().timestamp(),
            ..Default::default()
        })
        .unwrap();
    assert!(hits.total > 0 && hits.ids.len() == 10, "{hits:?}");
}

/// The admin import task at `status_url` once it is done (a dead or failed task fails the test).
async fn finished_task(app: &TestApp, token: &str, status_url: &str) -> Value {
    eventually(Duration::from_secs(60), "the import task done", || async {
        let task: Value = app.get_authed(status_url, token).await.json().await.unwrap();
        assert!(
            task["status"] != "dead" && task["status"] != "failed",
            "the import task failed: {task}"
        );
        task["status"] == "done"
    })
    .await;
    app.get_authed(status_url, token).await.json().await.unwrap()
}
