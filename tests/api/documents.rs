//! Hostile documents: a PDF that makes the PDF reader recurse without end, decompression bombs
//! in every disguise, and a reader that runs out of memory. Each is generated here, uploaded by
//! an ordinary candidate, kept with a status and a message, and the server goes on serving.

use std::time::Duration;

use jobportal::core::config::ServeConfig;
use serde_json::Value;

use crate::helpers::{TestApp, fixture, spawn_app, spawn_app_with};

const MIB: usize = 1 << 20;

/// A PDF of numbered objects (the first is the catalog) with a correct cross-reference table.
fn pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = b"<< ".to_vec();
    out.extend_from_slice(dict);
    out.extend_from_slice(format!(" /Length {} >>\nstream\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// One page whose content stream has the dictionary entries `dict` and the data `data`.
fn one_page_pdf(dict: &[u8], data: &[u8], resources: &str) -> Vec<u8> {
    pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} /Contents 4 0 R >>").into_bytes(),
        stream(dict, data),
    ])
}

/// The page draws the form X0, and the form draws itself.
fn self_drawing_form_pdf() -> Vec<u8> {
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X0 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        stream(b"", b"/X0 Do"),
    ];
    objects.push(stream(b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X0 5 0 R >> >>", b"/X0 Do"));
    pdf(&objects)
}

/// Raw deflate blocks of `n` zero bytes, made without compressing them all: one mebibyte is
/// compressed with a full flush (which resets the window, so every such block is the same
/// bytes) and its block repeated. Returns the blocks and the final empty block.
fn deflate_zeros(n: usize) -> Vec<u8> {
    assert_eq!(n % MIB, 0);
    let mut compress = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(MIB / 100);
    compress.compress_vec(&vec![0u8; MIB], &mut block, flate2::FlushCompress::Full).unwrap();
    let mut end = Vec::with_capacity(64);
    compress.compress_vec(&[], &mut end, flate2::FlushCompress::Finish).unwrap();
    let mut out = Vec::with_capacity(block.len() * n / MIB + end.len());
    for _ in 0..n / MIB {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&end);
    out
}

/// A zlib stream of `n` zero bytes.
fn zlib_zeros(n: usize) -> Vec<u8> {
    let mut out = vec![0x78, 0xDA];
    out.extend_from_slice(&deflate_zeros(n));
    // Adler-32 of n zeros: `a` stays 1, `b` adds 1 per byte.
    out.extend_from_slice(&((((n % 65521) as u32) << 16) | 1).to_be_bytes());
    out
}

fn ascii85(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 5 / 4 + 8);
    for chunk in bytes.chunks(4) {
        let mut group = [0u8; 4];
        group[..chunk.len()].copy_from_slice(chunk);
        let mut value = u32::from_be_bytes(group);
        let mut digits = [0u8; 5];
        for d in digits.iter_mut().rev() {
            *d = (value % 85) as u8 + b'!';
            value /= 85;
        }
        out.extend_from_slice(&digits[..chunk.len() + 1]);
    }
    out.extend_from_slice(b"~>");
    out
}

/// A DOCX (a zip) whose `word/document.xml` inflates to `n` bytes, written by hand so that
/// nothing here has to compress them.
fn docx_bomb(n: usize) -> Vec<u8> {
    let name = b"word/document.xml";
    let data = deflate_zeros(n);
    let crc = 0u32; // never reached: the reader stops long before the end
    let mut zip = Vec::new();
    let local = |zip: &mut Vec<u8>| {
        zip.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&crc.to_le_bytes());
        zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
        zip.extend_from_slice(&(n as u32).to_le_bytes());
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(name);
    };
    local(&mut zip);
    zip.extend_from_slice(&data);
    let central = zip.len();
    zip.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&(data.len() as u32).to_le_bytes());
    zip.extend_from_slice(&(n as u32).to_le_bytes());
    zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
    zip.extend_from_slice(&[0; 12]);
    zip.extend_from_slice(&0u32.to_le_bytes());
    zip.extend_from_slice(name);
    let central_len = zip.len() - central;
    zip.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&(central_len as u32).to_le_bytes());
    zip.extend_from_slice(&(central as u32).to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// This process's resident memory, in bytes (the server under test runs in it).
fn resident() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<usize>().unwrap() * 1024
}

async fn still_healthy(app: &TestApp, token: &str) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let text = app.upload_resume(token, "cv.txt", &fixture("resumes/sample-resume.txt")).await;
    assert_eq!(text["parse_status"], "parsed", "an ordinary resume is still read: {text}");
}

async fn file_of(app: &TestApp, token: &str, resume: &Value) -> Vec<u8> {
    let id = resume["id"].as_str().unwrap();
    let response = app.get_authed(&format!("/api/v1/resumes/{id}/file"), token).await;
    assert_eq!(response.status(), 200);
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_pdf_whose_form_draws_itself_is_kept_as_failed_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let eve = app.register("eve@example.com", "candidate").await;
    let hostile = self_drawing_form_pdf();
    assert!(hostile.len() < 1024, "{} bytes", hostile.len());
    let resume = app.upload_resume(&eve.access, "cv.pdf", &hostile).await;
    assert_eq!(resume["content_type"], "application/pdf");
    assert_eq!(resume["parse_status"], "failed", "{resume}");
    let message = resume["parse_message"].as_str().unwrap();
    assert!(message.contains("made the document reader fail"), "{message}");
    assert_eq!(file_of(&app, &eve.access, &resume).await, hostile, "the upload is kept as it came");

    // Re-parsing goes through the same child process.
    let id = resume["id"].as_str().unwrap();
    let again = app
        .post_authed(&format!("/api/v1/resumes/{id}/reparse"), &eve.access, &serde_json::json!({}))
        .await;
    assert_eq!(again.status(), 503);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["error"]["code"], "unavailable", "{again}");
    still_healthy(&app, &eve.access).await;
}

/// A reader that stands in for one that cannot finish: a script that sleeps.
fn hanging_reader(dir: &std::path::Path) -> std::path::PathBuf {
    let program = dir.join("reader");
    std::fs::write(&program, "#!/bin/sh\nexec sleep 30\n").unwrap();
    std::fs::set_permissions(&program, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .unwrap();
    program
}

#[tokio::test]
async fn a_reparse_the_reader_cannot_finish_keeps_the_good_parse_stored_before() {
    let app = spawn_app().await;
    let eve = app.register("eve@example.com", "candidate").await;
    let good = app.upload_resume(&eve.access, "cv.pdf", &fixture("resumes/ashok-resume.pdf")).await;
    assert_eq!(good["parse_status"], "parsed");
    // The same database served by a server whose reader cannot finish in time.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::default();
    config.documents.program = Some(hanging_reader(dir.path()));
    config.documents.limits.wall = Duration::from_millis(500);
    let slow = crate::helpers::spawn_router(app.db.clone(), config, jobportal::api::router).await;
    let token = slow.login("eve@example.com").await.access;
    let id = good["id"].as_str().unwrap();
    let response = slow
        .post_authed(&format!("/api/v1/resumes/{id}/reparse"), &token, &serde_json::json!({}))
        .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("took too long"), "{body}");
    let stored: Value =
        app.get_authed(&format!("/api/v1/resumes/{id}"), &eve.access).await.json().await.unwrap();
    assert_eq!(stored["parse_status"], "parsed");
    assert_eq!(stored["profile"], good["profile"], "the stored parse is unchanged");
    assert_eq!(stored["text"], good["text"]);
}

#[tokio::test]
async fn decompression_bombs_in_every_disguise_are_refused_without_the_server_inflating_them() {
    let app = spawn_app().await;
    let eve = app.register("eve@example.com", "candidate").await;
    let inflated = 320 * MIB;
    let zeros = zlib_zeros(inflated);
    let mut long_entry = b"/Filter /FlateDecode /Comment (".to_vec();
    long_entry.extend(std::iter::repeat_n(b'x', 5000));
    long_entry.push(b')');
    let lzw = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
        .encode(&vec![0u8; inflated])
        .unwrap();
    let bombs: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "flate.pdf",
            one_page_pdf(b"/Filter /FlateDecode", &zeros, "<< >>"),
            "expands to more than",
        ),
        (
            "ascii85.pdf",
            one_page_pdf(b"/Filter [/ASCII85Decode /FlateDecode]", &ascii85(&zeros), "<< >>"),
            "expands to more than",
        ),
        ("long-entry.pdf", one_page_pdf(&long_entry, &zeros, "<< >>"), "expands to more than"),
        (
            "escaped-name.pdf",
            one_page_pdf(b"/Filter /Flate#44ecode", &zeros, "<< >>"),
            "expands to more than",
        ),
        ("lzw.pdf", one_page_pdf(b"/Filter /LZWDecode", &lzw, "<< >>"), "expands to more than"),
        ("bomb.docx", docx_bomb(1024 * MIB), "expands to more than"),
    ];
    let before = resident();
    for (name, bytes, said) in &bombs {
        assert!(bytes.len() < 2 * MIB, "{name} is {} bytes", bytes.len());
        let resume = app.upload_resume(&eve.access, name, bytes).await;
        assert_eq!(resume["parse_status"], "corrupt", "{name}: {resume}");
        let message = resume["parse_message"].as_str().unwrap();
        assert!(message.contains(said), "{name}: {message}");
        assert_eq!(file_of(&app, &eve.access, &resume).await.len(), bytes.len(), "{name} is kept");
    }
    // Each of these grew the server by hundreds of megabytes when it inflated them itself.
    let grown = resident().saturating_sub(before);
    assert!(grown < 256 * MIB, "the server grew by {} MiB", grown / MIB);
    still_healthy(&app, &eve.access).await;
}

#[tokio::test]
async fn a_document_that_needs_more_memory_than_the_reader_may_use_is_failed_not_fatal() {
    // Under the 128 MiB the stream scan allows, over the 64 MiB this reader may use.
    let mut config = ServeConfig::default();
    config.documents.limits.memory = 64 * MIB as u64;
    let app = spawn_app_with(config).await;
    let eve = app.register("eve@example.com", "candidate").await;
    let bytes = one_page_pdf(b"/Filter /FlateDecode", &zlib_zeros(100 * MIB), "<< >>");
    let resume = app.upload_resume(&eve.access, "big.pdf", &bytes).await;
    assert_eq!(resume["parse_status"], "failed", "{resume}");
    let message = resume["parse_message"].as_str().unwrap();
    assert!(message.contains("needed more than the 64 MB"), "{message}");
    still_healthy(&app, &eve.access).await;
}

#[tokio::test]
async fn a_reader_that_hangs_is_stopped_at_its_time_limit() {
    // A reader that cannot finish in time: a script that sleeps stands in for it.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServeConfig::default();
    config.documents.program = Some(hanging_reader(dir.path()));
    config.documents.limits.wall = Duration::from_millis(500);
    let app = spawn_app_with(config).await;
    let eve = app.register("eve@example.com", "candidate").await;
    let started = std::time::Instant::now();
    let resume =
        app.upload_resume(&eve.access, "cv.pdf", &fixture("resumes/ashok-resume.pdf")).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(resume["parse_status"], "failed", "{resume}");
    assert_eq!(resume["content_type"], "application/pdf", "the kind is told from the first bytes");
    assert!(resume["parse_message"].as_str().unwrap().contains("took too long"), "{resume}");
}

#[tokio::test]
async fn uploads_read_at_once_are_bounded_and_each_gets_its_answer() {
    let mut config = ServeConfig::default();
    config.documents.concurrency = Some(1);
    let app = spawn_app_with(config).await;
    let eve = app.register("eve@example.com", "candidate").await;
    let pdf = fixture("resumes/ashok-resume.pdf");
    let uploads = (0..4).map(|i| {
        let (app, token, pdf) = (&app, eve.access.clone(), pdf.clone());
        async move { app.upload_resume(&token, &format!("cv{i}.pdf"), &pdf).await }
    });
    for resume in futures_util::future::join_all(uploads).await {
        assert_eq!(resume["parse_status"], "parsed", "{resume}");
        assert_eq!(resume["profile"]["email"]["value"], "ashok.gadiparthi@gmail.com");
    }
}
