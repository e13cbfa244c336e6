//! Typed calls for the endpoints tests use to set the scene: companies and their members, jobs
//! and their lifecycle, applications, saved searches and the public search. Each asserts the
//! status of success and returns the body; a test about an endpoint's refusals calls it raw.

use serde_json::{Value, json};

use super::{Account, TestApp};

/// The body of a successful answer; panics naming the request when the status differs.
async fn expect(response: reqwest::Response, status: u16, what: &str) -> Value {
    let actual = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(actual, status, "{what}: {text}");
    if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("a JSON body") }
}

/// The `id` of a created resource.
fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_else(|| panic!("no id in {body}")).to_owned()
}

impl TestApp {
    /// `owner` creates company `name` (its slug is the name in lower case, words joined by `-`);
    /// returns the company.
    pub async fn create_company(&self, owner: &Account, name: &str) -> Value {
        let response =
            self.post_authed("/api/v1/companies", &owner.access, &json!({ "name": name })).await;
        expect(response, 201, &format!("create company {name}")).await
    }

    /// A verified employer who owns a new company `name`.
    pub async fn company_owner(&self, email: &str, name: &str) -> Account {
        let owner = self.register_verified(email, "employer").await;
        self.create_company(&owner, name).await;
        owner
    }

    /// `owner` invites `email` to company `slug` as `role`, and `email` registers as an
    /// employer and accepts; returns the new member.
    pub async fn join_company(
        &self,
        owner: &Account,
        slug: &str,
        email: &str,
        role: &str,
    ) -> Account {
        let response = self
            .post_authed(
                &format!("/api/v1/companies/{slug}/invites"),
                &owner.access,
                &json!({ "email": email, "role": role }),
            )
            .await;
        expect(response, 201, &format!("invite {email} to {slug}")).await;
        let member = self.register(email, "employer").await;
        let token = self.token_sent_to(email, "company_invite").await;
        self.accept_invite(&member, &token).await;
        member
    }

    /// `member` accepts the invitation `token`.
    pub async fn accept_invite(&self, member: &Account, token: &str) -> Value {
        let response = self
            .post_authed(
                "/api/v1/companies/invites/accept",
                &member.access,
                &json!({ "token": token }),
            )
            .await;
        expect(response, 200, "accept the invitation").await
    }

    /// `owner` creates a draft job from `body`; returns the job.
    pub async fn create_job(&self, owner: &Account, body: &Value) -> Value {
        let response = self.post_authed("/api/v1/jobs", &owner.access, body).await;
        expect(response, 201, &format!("create job {body}")).await
    }

    /// `owner` publishes job `id`; returns the job.
    pub async fn publish_job(&self, owner: &Account, id: &str) -> Value {
        self.job_action(owner, id, "publish").await
    }

    /// `owner` closes job `id`; returns the job.
    pub async fn close_job(&self, owner: &Account, id: &str) -> Value {
        self.job_action(owner, id, "close").await
    }

    /// `owner` archives job `id`; returns the job.
    pub async fn archive_job(&self, owner: &Account, id: &str) -> Value {
        self.job_action(owner, id, "archive").await
    }

    async fn job_action(&self, owner: &Account, id: &str, action: &str) -> Value {
        let response = self
            .post_authed(&format!("/api/v1/jobs/{id}/{action}"), &owner.access, &json!({}))
            .await;
        expect(response, 200, &format!("{action} job {id}")).await
    }

    /// `owner` creates a job from `body` and publishes it; returns its id.
    pub async fn post_job(&self, owner: &Account, body: &Value) -> String {
        let id = id_of(&self.create_job(owner, body).await);
        self.publish_job(owner, &id).await;
        id
    }

    /// A verified employer who owns a new company `name` with one published job (a remote,
    /// full-time "Backend Engineer (Rust)"): the owner and the job's id.
    pub async fn published_job(&self, email: &str, name: &str) -> (Account, String) {
        let owner = self.company_owner(email, name).await;
        let company = name.to_lowercase().replace(' ', "-");
        let job = self.post_job(&owner, &rust_job(&company)).await;
        (owner, job)
    }

    /// `admin` approves job `id`, which waited for review; returns the job.
    pub async fn approve_job(&self, admin: &Account, id: &str) -> Value {
        let response = self
            .post_authed(&format!("/api/v1/admin/jobs/{id}/approve"), &admin.access, &json!({}))
            .await;
        expect(response, 200, &format!("approve job {id}")).await
    }

    /// `admin` disables the account `user_id`; returns the account.
    pub async fn disable_user(&self, admin: &Account, user_id: &str) -> Value {
        let response = self
            .post_authed(
                &format!("/api/v1/admin/users/{user_id}/disable"),
                &admin.access,
                &json!({}),
            )
            .await;
        expect(response, 200, &format!("disable user {user_id}")).await
    }

    /// `who` applies to job `job` with `body`, as sent.
    pub async fn apply(&self, who: &Account, job: &str, body: &Value) -> reqwest::Response {
        self.post_authed(&format!("/api/v1/jobs/{job}/applications"), &who.access, body).await
    }

    /// `who` applies to job `job` with a cover letter; returns the application's id.
    pub async fn applied(&self, who: &Account, job: &str) -> String {
        let body = json!({ "cover_letter": "I would love to build this." });
        id_of(&expect(self.apply(who, job, &body).await, 201, &format!("apply to {job}")).await)
    }

    /// The applications to job `job` as `who` (a member of its company) lists them, with
    /// `query` (empty or starting with `?`).
    pub async fn job_applications(&self, who: &Account, job: &str, query: &str) -> Value {
        let path = format!("/api/v1/jobs/{job}/applications{query}");
        expect(self.get_authed(&path, &who.access).await, 200, &path).await
    }

    /// The jobs recommended to candidate `who`.
    pub async fn recommended_jobs(&self, who: &Account) -> Value {
        let path = "/api/v1/recommendations/jobs";
        expect(self.get_authed(path, &who.access).await, 200, path).await
    }

    /// The jobs `who` bookmarked.
    pub async fn saved_jobs(&self, who: &Account) -> Value {
        let path = "/api/v1/saved-jobs";
        expect(self.get_authed(path, &who.access).await, 200, path).await
    }

    /// `who` saves the search `body`; returns it.
    pub async fn save_search(&self, who: &Account, body: &Value) -> Value {
        let response = self.post_authed("/api/v1/saved-searches", &who.access, body).await;
        expect(response, 201, &format!("save search {body}")).await
    }

    /// The public job search `GET /api/v1/jobs{query}` (`query` starts with `?` or is empty).
    pub async fn search(&self, query: &str) -> Value {
        expect(self.get(&format!("/api/v1/jobs{query}")).await, 200, query).await
    }
}

/// A job of company `company` that can be published: a remote, full-time "Backend Engineer
/// (Rust)" open until 2099.
pub fn rust_job(company: &str) -> Value {
    json!({
        "company": company, "title": "Backend Engineer (Rust)", "description": "Rust services.",
        "workplace": "remote", "employment_type": "full_time", "skills": ["rust"],
        "expires_at": "2099-01-01T00:00:00Z"
    })
}
