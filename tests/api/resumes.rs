//! Resumes: uploads of each kind (read from the bytes, never the name), each broken kind,
//! the size limit, the parsed profile with its sources, corrections that survive re-parsing,
//! the default resume, downloads and who may see them.

use jobportal::core::config::ServeConfig;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error, fixture, spawn_app, spawn_app_with};

fn skills(resume: &Value) -> Vec<String> {
    resume["profile"]["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap().to_owned())
        .collect()
}

/// The line of the resume's text a parsed value says it came from.
fn source_line(resume: &Value, value: &Value) -> String {
    let line = value["source"]["line"].as_u64().expect("a parsed value has a line") as usize;
    resume["text"].as_str().unwrap().lines().nth(line - 1).unwrap().to_owned()
}

#[tokio::test]
async fn a_docx_resume_is_parsed_into_a_profile_whose_values_point_at_their_lines() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let resume =
        app.upload_resume(&ada.access, "cv.docx", &fixture("resumes/sample-resume.docx")).await;
    assert_eq!(
        resume["content_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert_eq!(resume["parse_status"], "parsed");
    assert_eq!(resume["is_default"], true, "the first resume is the default");
    let p = &resume["profile"];
    assert_eq!(p["name"]["value"], "Ada Example");
    assert_eq!(p["email"]["value"], "ada@example.com");
    assert_eq!(p["phone"]["value"], "+44 20 7946 0958");
    assert!(source_line(&resume, &p["email"]).contains("ada@example.com"));
    assert!(source_line(&resume, &p["name"]).contains("Ada Example"));
    let found = skills(&resume);
    for wanted in ["rust", "postgresql", "kubernetes", "python"] {
        assert!(found.contains(&wanted.to_owned()), "{wanted} in {found:?}");
    }
    let experience = p["experience"].as_array().unwrap();
    assert_eq!(experience.len(), 2, "{experience:?}");
    assert_eq!(experience[0]["value"]["start"], "2019-01");
    assert_eq!(experience[0]["value"]["current"], true);
    assert!(
        experience[0]["value"]["company"].as_str().unwrap().contains("Acme Freight"),
        "{experience:?}"
    );
    let education = p["education"].as_array().unwrap();
    assert_eq!(education[0]["value"]["school"], "University of Edinburgh", "{education:?}");
    assert_eq!(education[0]["value"]["year"], 2016);
    assert_eq!(p["years_experience"]["source"]["origin"], "computed");
}

#[tokio::test]
async fn a_real_pdf_and_a_plain_text_resume_are_read_by_their_bytes() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    // A PDF named .txt is still a PDF.
    let pdf =
        app.upload_resume(&ada.access, "resume.txt", &fixture("resumes/ashok-resume.pdf")).await;
    assert_eq!(pdf["content_type"], "application/pdf");
    assert_eq!(pdf["parse_status"], "parsed", "{}", pdf["parse_message"]);
    assert_eq!(pdf["profile"]["email"]["value"], "ashok.gadiparthi@gmail.com");
    assert_eq!(pdf["profile"]["name"]["value"], "Ashok Gadiparthi");
    let found = skills(&pdf);
    for wanted in ["hadoop", "python", "java"] {
        assert!(found.contains(&wanted.to_owned()), "{wanted} in {found:?}");
    }
    let text =
        app.upload_resume(&ada.access, "resume.pdf", &fixture("resumes/sample-resume.txt")).await;
    assert_eq!(text["content_type"], "text/plain");
    assert_eq!(text["profile"]["name"]["value"], "Ada Example");
    assert_eq!(text["is_default"], false, "only the first is the default");

    let list: Value = app.get_authed("/api/v1/resumes", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"][0].get("text").is_none(), "a listing leaves the text out");
}

#[tokio::test]
async fn broken_files_are_kept_with_a_status_and_a_message_and_nothing_invented() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let pdf = fixture("resumes/ashok-resume.pdf");
    let docx = fixture("resumes/sample-resume.docx");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("encrypted.pdf", fixture("resumes/broken/encrypted.pdf"), "encrypted"),
        ("scan.pdf", fixture("resumes/broken/image-only.pdf"), "no_text"),
        ("empty.docx", fixture("resumes/broken/empty.docx"), "no_text"),
        ("truncated.pdf", pdf[..4096].to_vec(), "corrupt"),
        ("truncated.docx", docx[..2048].to_vec(), "corrupt"),
        ("blank.txt", b" \n\n\t\n".to_vec(), "no_text"),
    ];
    for (name, bytes, status) in cases {
        let resume = app.upload_resume(&ada.access, name, &bytes).await;
        assert_eq!(resume["parse_status"], status, "{name}: {resume}");
        assert!(resume["parse_message"].as_str().is_some_and(|m| m.len() > 10), "{name}: {resume}");
        assert_eq!(resume["profile"]["name"], Value::Null, "{name}");
        assert_eq!(resume["profile"]["skills"], json!([]), "{name}");
        // The file itself is kept, byte for byte.
        let id = resume["id"].as_str().unwrap();
        let file = app.get_authed(&format!("/api/v1/resumes/{id}/file"), &ada.access).await;
        assert_eq!(file.status(), 200);
        assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice(), "{name}");
    }
}

#[tokio::test]
async fn wrong_kinds_empty_files_and_oversize_uploads_are_refused() {
    let app =
        spawn_app_with(ServeConfig { resume_max_size: 64 * 1024, ..ServeConfig::default() }).await;
    let ada = app.register("ada@example.com", "candidate").await;
    let png = [
        0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 1,
    ];
    let message = assert_error(
        app.upload("/api/v1/resumes", &ada.access, "resume.pdf", "application/pdf", &png).await,
        415,
        "unsupported_file_type",
    )
    .await;
    assert!(message.contains("PNG"), "{message}");
    let doc = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0];
    let message = assert_error(
        app.upload("/api/v1/resumes", &ada.access, "cv.doc", "application/msword", &doc).await,
        415,
        "unsupported_file_type",
    )
    .await;
    assert!(message.contains(".docx"), "{message}");
    let mut zip = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut zip));
        writer.start_file("notes.txt", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut writer, b"not a resume").unwrap();
        writer.finish().unwrap();
    }
    assert_error(
        app.upload("/api/v1/resumes", &ada.access, "cv.docx", "application/zip", &zip).await,
        415,
        "unsupported_file_type",
    )
    .await;
    assert_error(
        app.upload("/api/v1/resumes", &ada.access, "cv.pdf", "application/pdf", b"").await,
        422,
        "validation_failed",
    )
    .await;
    // Larger than the limit: refused while it streams in, nothing stored.
    let big = fixture("resumes/ashok-resume.pdf");
    assert!(big.len() > 64 * 1024);
    assert_error(
        app.upload("/api/v1/resumes", &ada.access, "big.pdf", "application/pdf", &big).await,
        413,
        "payload_too_large",
    )
    .await;
    // Not multipart at all.
    let response = app
        .authed(reqwest::Method::POST, "/api/v1/resumes", &ada.access)
        .header("content-type", "application/pdf")
        .body(big[..1000].to_vec())
        .send()
        .await
        .unwrap();
    assert_error(response, 415, "unsupported_media_type").await;
    let list: Value = app.get_authed("/api/v1/resumes", &ada.access).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]), "nothing refused was stored");
}

#[tokio::test]
async fn corrections_replace_parsed_values_and_survive_reparsing() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let resume =
        app.upload_resume(&ada.access, "cv.txt", &fixture("resumes/sample-resume.txt")).await;
    let id = resume["id"].as_str().unwrap();
    let path = format!("/api/v1/resumes/{id}");
    let response = app
        .patch_authed(
            &path,
            &ada.access,
            &json!({ "set": {
                "name": "Ada Lovelace",
                "phone": null,
                "skills": ["Rust", "Golang", "Postgres"],
                "education": [{ "degree": "BSc Mathematics", "school": "University of London", "year": 2012 }]
            }}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let corrected: Value = response.json().await.unwrap();
    assert_eq!(corrected["profile"]["name"]["value"], "Ada Lovelace");
    assert_eq!(corrected["profile"]["name"]["source"]["origin"], "corrected");
    assert_eq!(corrected["profile"]["phone"], Value::Null, "null clears a field");
    assert_eq!(skills(&corrected), ["rust", "go", "postgresql"], "skills are normalised");
    assert_eq!(
        corrected["profile"]["email"]["source"]["origin"], "parsed",
        "other fields stay parsed"
    );

    let reparsed: Value = app
        .post_authed(&format!("{path}/reparse"), &ada.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        reparsed["profile"]["name"]["value"], "Ada Lovelace",
        "corrections survive re-parsing"
    );
    assert_eq!(skills(&reparsed), ["rust", "go", "postgresql"]);
    assert_eq!(reparsed["profile"]["education"][0]["value"]["degree"], "BSc Mathematics");

    // Resetting a field brings the parsed value back.
    let reset: Value = app
        .patch_authed(&path, &ada.access, &json!({ "reset": ["name"] }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(reset["profile"]["name"]["value"], "Ada Example");
    assert_eq!(reset["profile"]["name"]["source"]["origin"], "parsed");

    for (body, what) in [
        (json!({ "set": { "salary": 1 } }), "an unknown field"),
        (json!({ "set": { "email": "not an email" } }), "a bad email"),
        (json!({ "set": { "links": ["javascript:alert(1)"] } }), "a non-http link"),
        (
            json!({ "set": { "experience": [{ "title": "Engineer", "start": "March 2019" }] } }),
            "a free-text date",
        ),
        (json!({ "set": { "years_experience": -1 } }), "negative years"),
        (json!({ "set": { "name": 5 } }), "a number for a name"),
    ] {
        let response = app.patch_authed(&path, &ada.access, &body).await;
        assert_eq!(response.status(), 422, "{what}");
    }
}

#[tokio::test]
async fn resumes_are_their_owners_alone() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let bob = app.register("bob@example.com", "candidate").await;
    let employer = app.register("emp@example.com", "employer").await;
    let resume =
        app.upload_resume(&ada.access, "cv.txt", &fixture("resumes/sample-resume.txt")).await;
    let id = resume["id"].as_str().unwrap();
    for who in [&bob, &employer] {
        assert_error(
            app.get_authed(&format!("/api/v1/resumes/{id}"), &who.access).await,
            404,
            "not_found",
        )
        .await;
        assert_error(
            app.get_authed(&format!("/api/v1/resumes/{id}/file"), &who.access).await,
            404,
            "not_found",
        )
        .await;
        let response = app
            .patch_authed(
                &format!("/api/v1/resumes/{id}"),
                &who.access,
                &json!({ "set": { "name": "X" } }),
            )
            .await;
        assert_error(response, 404, "not_found").await;
        assert_error(
            app.delete_authed(&format!("/api/v1/resumes/{id}"), &who.access, None).await,
            404,
            "not_found",
        )
        .await;
    }
    let bob_list: Value =
        app.get_authed("/api/v1/resumes", &bob.access).await.json().await.unwrap();
    assert_eq!(bob_list["items"], json!([]));
    // Employers keep no resumes.
    let response = app
        .upload("/api/v1/resumes", &employer.access, "cv.txt", "text/plain", b"Some Body\nRust")
        .await;
    assert_error(response, 403, "forbidden").await;
    assert_error(app.get("/api/v1/resumes").await, 401, "unauthorized").await;
}

#[tokio::test]
async fn the_default_moves_and_a_deleted_default_passes_to_the_newest() {
    let app = spawn_app().await;
    let ada = app.register("ada@example.com", "candidate").await;
    let first =
        app.upload_resume(&ada.access, "a.txt", &fixture("resumes/sample-resume.txt")).await;
    let second =
        app.upload_resume(&ada.access, "b.docx", &fixture("resumes/sample-resume.docx")).await;
    let (a, b) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    let made: Value = app
        .post_authed(&format!("/api/v1/resumes/{b}/default"), &ada.access, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(made["is_default"], true);
    let a_now: Value =
        app.get_authed(&format!("/api/v1/resumes/{a}"), &ada.access).await.json().await.unwrap();
    assert_eq!(a_now["is_default"], false, "one default at a time");
    let response = app.delete_authed(&format!("/api/v1/resumes/{b}"), &ada.access, None).await;
    assert_eq!(response.status(), 204);
    let a_now: Value =
        app.get_authed(&format!("/api/v1/resumes/{a}"), &ada.access).await.json().await.unwrap();
    assert_eq!(a_now["is_default"], true);
}

/// Used by other test modules.
pub async fn candidate_with_resume(
    app: &TestApp,
    email: &str,
) -> (crate::helpers::Account, String) {
    let account = app.register(email, "candidate").await;
    let resume =
        app.upload_resume(&account.access, "cv.txt", &fixture("resumes/sample-resume.txt")).await;
    (account, resume["id"].as_str().unwrap().to_owned())
}
