//! Passwords and secrets: argon2id hashing (always on a blocking thread), the generated
//! token-signing secret kept in the data directory, random opaque tokens (stored only as
//! SHA-256 hashes) and signed access tokens (JWT, HS256 pinned).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm as JwtAlgorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use super::config::Secret;

/// OWASP's argon2id parameters: 19 MiB of memory, 2 passes, 1 lane.
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;

/// The file, inside the data directory, that holds a generated token-signing secret.
pub const JWT_SECRET_FILE: &str = "jwt_secret";

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the password hashing thread stopped: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("cannot {action} {}: {source}", path.display())]
    SecretFile { action: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{} holds a secret shorter than 32 characters; delete it to generate a new one", path.display())]
    SecretTooShort { path: PathBuf },
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(ARGON2_MEMORY_KIB, ARGON2_PASSES, ARGON2_LANES, None)
        .expect("argon2 parameters are valid constants");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// How many password hashes may run at once. Each one keeps a core busy for tens of
/// milliseconds; letting every login hash at once would take every core from the async
/// workers, and every other request would wait. Waiting for a permit is async (no thread is
/// held), so queued logins cost nothing but their own latency.
static HASHING: OnceLock<tokio::sync::Semaphore> = OnceLock::new();

/// The default number of concurrent hashes: one core is always left to everything else.
pub fn default_hashing_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// Sets the number of concurrent hashes; only the first call (before any hashing) counts.
pub fn set_hashing_concurrency(permits: usize) {
    let _ = HASHING.set(tokio::sync::Semaphore::new(permits.max(1)));
}

fn hashing() -> &'static tokio::sync::Semaphore {
    HASHING.get_or_init(|| tokio::sync::Semaphore::new(default_hashing_concurrency()))
}

/// Runs argon2 work on the blocking pool, at most [`set_hashing_concurrency`] at a time.
async fn with_hashing_permit<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, SecurityError> {
    let _permit = hashing().acquire().await.expect("the hashing semaphore is never closed");
    Ok(tokio::task::spawn_blocking(work).await?)
}

/// Hashes a password into a PHC string. Takes ~20–50 ms of CPU, so it runs on the blocking
/// pool (on an async worker it would stall every other request on that thread), a bounded
/// number at a time.
pub async fn hash_password(password: Secret) -> Result<String, SecurityError> {
    with_hashing_permit(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| SecurityError::Hash(err.to_string()))
    })
    .await?
}

/// Checks a password against a PHC string, on the blocking pool. A malformed hash is a
/// mismatch, not an error a caller could tell apart.
pub async fn verify_password(password: Secret, hash: String) -> Result<bool, SecurityError> {
    with_hashing_permit(move || {
        PasswordHash::new(&hash)
            .map(|parsed| argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
}

/// A hash of a password nobody knows, verified against when the account does not exist, so a
/// login for an unknown email costs the same time as a wrong password.
pub async fn verify_against_nothing(password: Secret) -> Result<(), SecurityError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => {
            let mut bytes = [0u8; 24];
            rand::rng().fill_bytes(&mut bytes);
            let hash = hash_password(Secret::new(hex::encode(bytes))).await?;
            DUMMY.get_or_init(|| hash).clone()
        }
    };
    verify_password(password, hash).await?;
    Ok(())
}

/// A random 256-bit token for links and refresh tokens, URL-safe (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How an opaque token is stored: its SHA-256, hex. A leaked table holds no usable token.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    pub role: String,
    /// The session (refresh-token family) this token belongs to.
    pub sid: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
}

/// Signs and checks access tokens. HS256 only: a token announcing another algorithm (or
/// `none`) is refused before any key is used.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys([redacted])")
    }
}

impl TokenKeys {
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(JwtAlgorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
        }
    }

    /// Signs a token for `user` in `session`, valid for `ttl`.
    pub fn issue(&self, user: &str, role: &str, session: &str, ttl: Duration) -> String {
        let iat = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims {
            sub: user.to_owned(),
            role: role.to_owned(),
            sid: session.to_owned(),
            iat,
            exp: iat + ttl.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(JwtAlgorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a byte secret cannot fail")
    }

    /// Checks the signature, the expiry and the shape of the claims. A claim of the wrong type
    /// or a `sub` or `sid` that is not a key this server issues makes the token invalid, so a
    /// signed but malformed token is refused here and never reaches a query.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })?;
        if !is_issued_key(&claims.sub) || !is_issued_key(&claims.sid) {
            return Err(TokenError::Invalid);
        }
        Ok(claims)
    }
}

/// Whether `key` has the form of the record keys this server creates for users and sessions:
/// a UUID in its lower-case hyphenated form.
fn is_issued_key(key: &str) -> bool {
    uuid::Uuid::try_parse(key).is_ok_and(|uuid| uuid.hyphenated().to_string() == key)
}

/// Reads the generated token-signing secret from the data directory, creating it (mode 0600)
/// on first use. Returns the secret and whether it was just created.
pub fn load_or_create_jwt_secret(data_dir: &Path) -> Result<(Secret, bool), SecurityError> {
    let path = data_dir.join(JWT_SECRET_FILE);
    std::fs::create_dir_all(data_dir).map_err(|source| SecurityError::SecretFile {
        action: "create",
        path: data_dir.to_path_buf(),
        source,
    })?;
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let generated = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            file.write_all(generated.as_bytes()).and_then(|()| file.sync_all()).map_err(
                |source| SecurityError::SecretFile { action: "write", path: path.clone(), source },
            )?;
            Ok((Secret::new(generated), true))
        }
        // Already there (from an earlier start, or another process won the race): use it.
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).map_err(|source| {
                SecurityError::SecretFile { action: "read", path: path.clone(), source }
            })?;
            let secret = text.trim();
            if secret.chars().count() < 32 {
                return Err(SecurityError::SecretTooShort { path });
            }
            Ok((Secret::new(secret), false))
        }
        Err(source) => Err(SecurityError::SecretFile { action: "create", path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password(Secret::new("correct horse battery")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password(Secret::new("correct horse battery"), hash.clone()).await.unwrap());
        assert!(!verify_password(Secret::new("correct horse battery!"), hash).await.unwrap());
        assert!(!verify_password(Secret::new("x"), "not a hash".into()).await.unwrap());
    }

    const USER: &str = "0190f0c4-1b2a-7c3d-8e4f-5a6b7c8d9e0f";
    const SESSION: &str = "0190f0c4-1b2a-7c3d-8e4f-5a6b7c8d9e10";

    fn keys() -> TokenKeys {
        TokenKeys::new(&Secret::new("k".repeat(40)))
    }

    #[test]
    fn an_access_token_round_trips() {
        let token = keys().issue(USER, "candidate", SESSION, Duration::from_secs(60));
        let claims = keys().verify(&token).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.role.as_str(), claims.sid.as_str()),
            (USER, "candidate", SESSION)
        );
        assert_eq!(claims.exp - claims.iat, 60);
    }

    #[test]
    fn an_access_token_signed_with_another_key_is_invalid() {
        let other = TokenKeys::new(&Secret::new("x".repeat(40)));
        let token = other.issue(USER, "admin", SESSION, Duration::from_secs(60));
        assert_eq!(keys().verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_access_token_is_reported_as_expired() {
        let claims = AccessClaims {
            sub: USER.into(),
            role: "candidate".into(),
            sid: SESSION.into(),
            iat: 1_000,
            exp: 1_060,
            jti: "j".into(),
        };
        let secret = "k".repeat(40);
        let token = jsonwebtoken::encode(
            &Header::new(JwtAlgorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        assert_eq!(keys().verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn tokens_with_alg_none_or_another_algorithm_are_refused() {
        let token = keys().issue(USER, "candidate", SESSION, Duration::from_secs(60));
        let payload = token.split('.').nth(1).unwrap();
        for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"HS512","typ":"JWT"}"#] {
            let forged = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header));
            assert_eq!(keys().verify(&forged), Err(TokenError::Invalid), "{header}");
        }
        // A payload edited to say admin breaks the signature.
        let mut claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["role"] = "admin".into();
        let parts: Vec<&str> = token.split('.').collect();
        let forged =
            format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(claims.to_string()), parts[2]);
        assert_eq!(keys().verify(&forged), Err(TokenError::Invalid));
    }

    fn signed(claims: serde_json::Value) -> String {
        let secret = "k".repeat(40);
        jsonwebtoken::encode(
            &Header::new(JwtAlgorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn signed_tokens_with_malformed_claims_are_invalid() {
        let exp = jsonwebtoken::get_current_timestamp() + 60;
        let good = serde_json::json!({
            "sub": USER, "role": "candidate", "sid": SESSION, "iat": 0, "exp": exp, "jti": "j"
        });
        assert!(keys().verify(&signed(good.clone())).is_ok());
        let upper = SESSION.to_uppercase();
        let braced = format!("{{{SESSION}}}");
        let malformed: [(&str, serde_json::Value); 8] = [
            ("sid", "".into()),
            ("sid", "session:x".into()),
            ("sid", upper.into()),
            ("sid", braced.into()),
            ("sid", 7.into()),
            ("sub", "".into()),
            ("sub", serde_json::Value::Null),
            ("exp", "tomorrow".into()),
        ];
        for (claim, value) in malformed {
            let mut claims = good.clone();
            claims[claim] = value.clone();
            assert_eq!(
                keys().verify(&signed(claims)),
                Err(TokenError::Invalid),
                "{claim}: {value}"
            );
        }
    }

    #[test]
    fn random_tokens_are_long_unique_and_stored_as_hashes() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
    }

    #[test]
    fn the_jwt_secret_is_generated_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_jwt_secret(dir.path()).unwrap();
        assert!(created);
        assert_eq!(first.expose().len(), 96);
        let (second, created_again) = load_or_create_jwt_secret(dir.path()).unwrap();
        assert!(!created_again);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                std::fs::metadata(dir.path().join(JWT_SECRET_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
