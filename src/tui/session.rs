//! The kept session: the refresh token of one server in the user's config directory
//! (`$XDG_CONFIG_HOME/jobportal/session.json`, else `~/.config/…`), readable by the user only.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    server: String,
    refresh_token: String,
}

/// Where the session is kept.
#[derive(Debug, Clone)]
pub struct SessionStore {
    path: PathBuf,
}

impl SessionStore {
    pub fn at(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file in the user's config directory, when there is a home to put it in.
    pub fn default_location() -> Option<Self> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
        Some(Self::at(base.join("jobportal").join("session.json")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The refresh token kept for `server`, if any.
    pub fn load(&self, server: &str) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let stored: Stored = serde_json::from_str(&text).ok()?;
        (stored.server == server).then_some(stored.refresh_token)
    }

    /// Keeps `refresh_token` for `server` in a file only its owner can read (mode 0600).
    pub fn save(&self, server: &str, refresh_token: &str) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string(&Stored {
            server: server.to_owned(),
            refresh_token: refresh_token.to_owned(),
        })?;
        let tmp = self.path.with_extension("json.tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)
    }

    /// Forgets the session; nothing kept is not an error.
    pub fn forget(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_kept_per_server_readable_by_its_owner_only_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::at(dir.path().join("jobportal/session.json"));
        assert_eq!(store.load("http://a"), None);
        store.save("http://a", "r1").unwrap();
        assert_eq!(store.load("http://a").as_deref(), Some("r1"));
        assert_eq!(store.load("http://b"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        store.save("http://a", "r2").unwrap();
        assert_eq!(store.load("http://a").as_deref(), Some("r2"));
        store.forget().unwrap();
        store.forget().unwrap();
        assert_eq!(store.load("http://a"), None);
    }
}
