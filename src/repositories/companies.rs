//! Queries on `company` and `company_member`.

use chrono::{DateTime, Utc};
use surrealdb::types::{RecordId, SurrealValue};

use super::{Count, RepoError, key_string, new_key, unexpected};
use crate::db::Executor;
use crate::models::company::{Company, CompanyFields, CompanyRole, Member, Membership};

#[derive(Debug, SurrealValue)]
struct CompanyRow {
    id: RecordId,
    name: String,
    slug: String,
    website: Option<String>,
    description: Option<String>,
    location: Option<String>,
    size: Option<String>,
    logo_url: Option<String>,
    verified: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<CompanyRow> for Company {
    fn from(r: CompanyRow) -> Self {
        Company {
            id: key_string(&r.id),
            name: r.name,
            slug: r.slug,
            website: r.website,
            description: r.description,
            location: r.location,
            size: r.size,
            logo_url: r.logo_url,
            verified: r.verified,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COMPANY_FIELDS: &str = "id, name, slug, website, description, location, size, logo_url, \
                              verified, created_at, updated_at";

/// Stores a company; a taken slug is `RepoError::Duplicate { index: "company_slug" }`.
pub async fn insert(
    ex: &impl Executor,
    slug: &str,
    fields: &CompanyFields,
    created_by: &str,
) -> Result<Company, RepoError> {
    insert_with_id(ex, &new_key(), slug, fields, created_by).await
}

/// Stores a company under a given id (imports derive it from the slug).
pub async fn insert_with_id(
    ex: &impl Executor,
    id: &str,
    slug: &str,
    fields: &CompanyFields,
    created_by: &str,
) -> Result<Company, RepoError> {
    let sql = format!(
        "CREATE type::record('company', $id) SET name = $name, slug = $slug, website = $website, \
         description = $description, location = $location, size = $size, logo_url = $logo_url, \
         created_by = $created_by RETURN {COMPANY_FIELDS}"
    );
    let mut response = ex
        .query(sql)
        .bind(("id", id.to_owned()))
        .bind(("name", fields.name.clone().unwrap_or_default()))
        .bind(("slug", slug.to_owned()))
        .bind(("website", fields.website.clone()))
        .bind(("description", fields.description.clone()))
        .bind(("location", fields.location.clone()))
        .bind(("size", fields.size.clone()))
        .bind(("logo_url", fields.logo_url.clone()))
        .bind(("created_by", created_by.to_owned()))
        .await?;
    let row: Option<CompanyRow> = response.take(0)?;
    row.map(Company::from).ok_or_else(|| unexpected("CREATE company returned no row"))
}

/// Stores companies an import names, each under an id derived from its slug, in one statement.
pub async fn insert_many_with_ids(
    ex: &impl Executor,
    companies: &[(String, String, CompanyFields)],
    created_by: &str,
) -> Result<(), RepoError> {
    #[derive(SurrealValue)]
    struct CompanyWrite {
        id: RecordId,
        name: String,
        slug: String,
        website: Option<String>,
        created_by: String,
    }
    if companies.is_empty() {
        return Ok(());
    }
    let rows: Vec<CompanyWrite> = companies
        .iter()
        .map(|(id, slug, fields)| CompanyWrite {
            id: RecordId::new("company", id.as_str()),
            name: fields.name.clone().unwrap_or_default(),
            slug: slug.clone(),
            website: fields.website.clone(),
            created_by: created_by.to_owned(),
        })
        .collect();
    ex.query("INSERT INTO company $rows RETURN NONE").bind(("rows", rows)).await?.check()?;
    Ok(())
}

/// The (slug, id) of the companies with these slugs that exist.
pub async fn ids_by_slugs(
    ex: &impl Executor,
    slugs: &[String],
) -> Result<Vec<(String, String)>, RepoError> {
    #[derive(SurrealValue)]
    struct SlugRow {
        id: RecordId,
        slug: String,
    }
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let mut response = ex
        .query("SELECT id, slug FROM company WHERE slug IN $slugs")
        .bind(("slugs", slugs.to_vec()))
        .await?;
    let rows: Vec<SlugRow> = response.take(0)?;
    Ok(rows.into_iter().map(|r| (r.slug, key_string(&r.id))).collect())
}

pub async fn find_by_slug(ex: &impl Executor, slug: &str) -> Result<Option<Company>, RepoError> {
    let sql = format!("SELECT {COMPANY_FIELDS} FROM company WHERE slug = $slug LIMIT 1");
    let mut response = ex.query(sql).bind(("slug", slug.to_owned())).await?;
    let row: Option<CompanyRow> = response.take(0)?;
    Ok(row.map(Company::from))
}

pub async fn find_by_id(ex: &impl Executor, id: &str) -> Result<Option<Company>, RepoError> {
    let sql = format!("SELECT {COMPANY_FIELDS} FROM ONLY type::record('company', $id)");
    let mut response = ex.query(sql).bind(("id", id.to_owned())).await?;
    let row: Option<CompanyRow> = response.take(0)?;
    Ok(row.map(Company::from))
}

/// The companies of some jobs (those that exist).
pub async fn of_jobs<'a>(
    ex: &impl Executor,
    jobs: impl IntoIterator<Item = &'a crate::models::job::Job>,
) -> Result<Vec<Company>, RepoError> {
    find_many(ex, &crate::models::job::company_ids(jobs)).await
}

/// The companies with these ids that exist.
pub async fn find_many(ex: &impl Executor, ids: &[String]) -> Result<Vec<Company>, RepoError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<RecordId> = ids.iter().map(|id| RecordId::new("company", id.as_str())).collect();
    let sql = format!("SELECT {COMPANY_FIELDS} FROM $ids");
    let mut response = ex.query(sql).bind(("ids", ids)).await?;
    let rows: Vec<CompanyRow> = response.take(0)?;
    Ok(rows.into_iter().map(Company::from).collect())
}

/// Changes the fields that are `Some`. An empty string clears an optional field.
pub async fn update(
    ex: &impl Executor,
    id: &str,
    fields: &CompanyFields,
) -> Result<Option<Company>, RepoError> {
    // `$x ?? x` keeps the stored value when the field was not given; "" means "clear it".
    let sql = format!(
        "UPDATE ONLY type::record('company', $id) SET name = $name ?? name, \
         website = IF $website = '' {{ NONE }} ELSE {{ $website ?? website }}, \
         description = IF $description = '' {{ NONE }} ELSE {{ $description ?? description }}, \
         location = IF $location = '' {{ NONE }} ELSE {{ $location ?? location }}, \
         size = IF $size = '' {{ NONE }} ELSE {{ $size ?? size }}, \
         logo_url = IF $logo_url = '' {{ NONE }} ELSE {{ $logo_url ?? logo_url }}, \
         updated_at = time::now() RETURN {COMPANY_FIELDS}"
    );
    let mut response = ex
        .query(sql)
        .bind(("id", id.to_owned()))
        .bind(("name", fields.name.clone()))
        .bind(("website", fields.website.clone()))
        .bind(("description", fields.description.clone()))
        .bind(("location", fields.location.clone()))
        .bind(("size", fields.size.clone()))
        .bind(("logo_url", fields.logo_url.clone()))
        .await?;
    let row: Option<CompanyRow> = response.take(0)?;
    Ok(row.map(Company::from))
}

pub async fn set_verified(
    ex: &impl Executor,
    id: &str,
    verified: bool,
) -> Result<Option<Company>, RepoError> {
    let sql = format!(
        "UPDATE ONLY type::record('company', $id) SET verified = $verified, updated_at = time::now() \
         RETURN {COMPANY_FIELDS}"
    );
    let mut response =
        ex.query(sql).bind(("id", id.to_owned())).bind(("verified", verified)).await?;
    let row: Option<CompanyRow> = response.take(0)?;
    Ok(row.map(Company::from))
}

/// Adds a member; one who already is one is `RepoError::Duplicate { index:
/// "company_member_unique" }`.
pub async fn add_member(
    ex: &impl Executor,
    company_id: &str,
    user_id: &str,
    role: CompanyRole,
) -> Result<(), RepoError> {
    ex.query(
        "CREATE company_member SET company = type::record('company', $company), \
         user = type::record('user', $user), role = $role RETURN NONE",
    )
    .bind(("company", company_id.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("role", role.as_str()))
    .await?
    .check()?;
    Ok(())
}

#[derive(Debug, SurrealValue)]
struct RoleRow {
    role: String,
}

/// The role of a user in a company, if they are a member.
pub async fn member_role(
    ex: &impl Executor,
    company_id: &str,
    user_id: &str,
) -> Result<Option<CompanyRole>, RepoError> {
    let mut response = ex
        .query(
            "SELECT role FROM company_member WHERE company = type::record('company', $company) \
             AND user = type::record('user', $user) LIMIT 1",
        )
        .bind(("company", company_id.to_owned()))
        .bind(("user", user_id.to_owned()))
        .await?;
    let row: Option<RoleRow> = response.take(0)?;
    row.map(|r| r.role.parse::<CompanyRole>().map_err(unexpected)).transpose()
}

#[derive(Debug, SurrealValue)]
struct MemberRow {
    user: RecordId,
    email: Option<String>,
    full_name: Option<String>,
    role: String,
    created_at: DateTime<Utc>,
}

/// The members of a company, owners first, then by when they joined.
pub async fn members(ex: &impl Executor, company_id: &str) -> Result<Vec<Member>, RepoError> {
    let mut response = ex
        .query(
            "SELECT user, user.email AS email, user.full_name AS full_name, role, created_at \
             FROM company_member WHERE company = type::record('company', $company) \
             ORDER BY role, created_at",
        )
        .bind(("company", company_id.to_owned()))
        .await?;
    let rows: Vec<MemberRow> = response.take(0)?;
    rows.into_iter()
        .map(|r| {
            Ok(Member {
                user_id: key_string(&r.user),
                email: r.email.unwrap_or_default(),
                full_name: r.full_name.unwrap_or_default(),
                role: r.role.parse().map_err(unexpected)?,
                since: r.created_at,
            })
        })
        .collect()
}

pub async fn set_member_role(
    ex: &impl Executor,
    company_id: &str,
    user_id: &str,
    role: CompanyRole,
) -> Result<(), RepoError> {
    ex.query(
        "UPDATE company_member SET role = $role WHERE company = type::record('company', $company) \
         AND user = type::record('user', $user) RETURN NONE",
    )
    .bind(("company", company_id.to_owned()))
    .bind(("user", user_id.to_owned()))
    .bind(("role", role.as_str()))
    .await?
    .check()?;
    Ok(())
}

/// Removes a member; true if they were one.
pub async fn remove_member(
    ex: &impl Executor,
    company_id: &str,
    user_id: &str,
) -> Result<bool, RepoError> {
    let mut response = ex
        .query(
            "DELETE company_member WHERE company = type::record('company', $company) \
             AND user = type::record('user', $user) RETURN BEFORE",
        )
        .bind(("company", company_id.to_owned()))
        .bind(("user", user_id.to_owned()))
        .await?;
    let removed: Vec<RoleRow> = response.take(0)?;
    Ok(!removed.is_empty())
}

pub async fn count_owners(ex: &impl Executor, company_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM company_member \
             WHERE company = type::record('company', $company) AND role = 'owner' GROUP ALL",
        )
        .bind(("company", company_id.to_owned()))
        .await?;
    let count: Option<Count> = response.take(0)?;
    Ok(count.map_or(0, |c| c.count))
}

pub async fn count_members(ex: &impl Executor, company_id: &str) -> Result<u64, RepoError> {
    let mut response = ex
        .query(
            "SELECT count() AS count FROM company_member \
             WHERE company = type::record('company', $company) GROUP ALL",
        )
        .bind(("company", company_id.to_owned()))
        .await?;
    let count: Option<Count> = response.take(0)?;
    Ok(count.map_or(0, |c| c.count))
}

#[derive(Debug, SurrealValue)]
struct MembershipRow {
    company: CompanyRow,
    role: String,
}

/// Every company a user belongs to, with their role.
pub async fn memberships_of(
    ex: &impl Executor,
    user_id: &str,
) -> Result<Vec<Membership>, RepoError> {
    let sql = format!(
        "SELECT (SELECT {COMPANY_FIELDS} FROM ONLY $parent.company) AS company, role \
         FROM company_member WHERE user = type::record('user', $user) ORDER BY created_at"
    );
    let mut response = ex.query(sql).bind(("user", user_id.to_owned())).await?;
    let rows: Vec<MembershipRow> = response.take(0)?;
    rows.into_iter()
        .map(|r| {
            Ok(Membership { company: r.company.into(), role: r.role.parse().map_err(unexpected)? })
        })
        .collect()
}

/// Deletes a company and its memberships.
pub async fn delete(ex: &impl Executor, company_id: &str) -> Result<(), RepoError> {
    ex.query(
        "DELETE company_member WHERE company = type::record('company', $company); \
         DELETE type::record('company', $company);",
    )
    .bind(("company", company_id.to_owned()))
    .await?
    .check()?;
    Ok(())
}

/// Removes every membership of a user (account deletion).
pub async fn remove_user_everywhere(ex: &impl Executor, user_id: &str) -> Result<(), RepoError> {
    ex.query("DELETE company_member WHERE user = type::record('user', $user)")
        .bind(("user", user_id.to_owned()))
        .await?
        .check()?;
    Ok(())
}
