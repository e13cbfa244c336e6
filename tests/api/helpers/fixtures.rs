//! Data for tests: files from `fixtures/`, resumes uploaded from them, and jobs imported through
//! the import service.

use std::path::Path;

use serde_json::Value;

use super::TestApp;

/// A file from `fixtures/`.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

impl TestApp {
    /// Imports JSON Lines records through the import service (as `import-jobs` does).
    pub async fn import_jsonl(
        &self,
        lines: &[serde_json::Value],
    ) -> jobportal::services::import::ImportSummary {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let input = jobportal::services::import::Input {
            name: "test.jsonl".into(),
            reader: Box::new(std::io::Cursor::new(text.into_bytes())),
            format: None,
        };
        jobportal::services::import::import(&self.ctx, vec![input], &Default::default(), &mut ())
            .await
            .expect("import runs")
    }

    /// Uploads a resume and returns its body (status 201 asserted).
    pub async fn upload_resume(&self, token: &str, file_name: &str, bytes: &[u8]) -> Value {
        let response = self
            .upload("/api/v1/resumes", token, file_name, "application/octet-stream", bytes)
            .await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 201, "upload {file_name}: {text}");
        serde_json::from_str(&text).unwrap()
    }
}
