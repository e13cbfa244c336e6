//! Passwords and secrets: argon2id hashing (always on a blocking thread) and the generated
//! token-signing secret kept in the data directory.

use std::io::Write;
use std::path::{Path, PathBuf};

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

/// Hashes a password into a PHC string. Takes ~20–50 ms of CPU, so it runs on the blocking
/// pool: on an async worker it would stall every other request on that thread.
pub async fn hash_password(password: Secret) -> Result<String, SecurityError> {
    tokio::task::spawn_blocking(move || {
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
    Ok(tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await?)
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
