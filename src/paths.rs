//! Where berth keeps things, for root and for an unprivileged user.
//!
//! Rootless: data in `$XDG_DATA_HOME/berth` (default `~/.local/share/berth`),
//! config in `$XDG_CONFIG_HOME/berth`, runtime state in
//! `$XDG_RUNTIME_DIR/berth` (falling back to `/run/user/$UID/berth`, then
//! `/tmp/berth-run-$UID`, created 0700 and checked to be ours).
//! Root: `/var/lib/berth`, `/etc/berth`, `/run/berth`.
//! `BERTH_ROOT`, `BERTH_RUNROOT` and `BERTH_CONFIG_DIR` override each (the
//! test suite and people with several stores use them).

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("cannot find the home directory: set HOME")]
    NoHome,
    #[error("runtime directory {path}: {source}")]
    Runtime { path: PathBuf, source: io::Error },
    #[error(
        "runtime directory {0} is not owned by the current user: set XDG_RUNTIME_DIR to a directory you own"
    )]
    RuntimeNotOwned(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Paths {
    /// True when berth runs as an unprivileged user (user namespaces, subuids).
    pub rootless: bool,
    pub uid: u32,
    pub gid: u32,
    /// Persistent data: the image store, later containers and volumes.
    pub data: PathBuf,
    /// Directory of `config.toml` and berth's own `auth.json`.
    pub config_dir: PathBuf,
    runtime_override: Option<PathBuf>,
    runtime_candidates: Vec<PathBuf>,
}

impl Paths {
    pub fn detect() -> Result<Paths, PathsError> {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        let rootless = uid != 0;
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let (data, config_dir, runtime_candidates) = if rootless {
            let base = directories::BaseDirs::new().ok_or(PathsError::NoHome)?;
            let mut runtime = Vec::new();
            if let Some(dir) = base.runtime_dir() {
                runtime.push(dir.join("berth"));
            }
            runtime.push(PathBuf::from(format!("/run/user/{uid}/berth")));
            runtime.push(PathBuf::from(format!("/tmp/berth-run-{uid}")));
            (
                base.data_dir().join("berth"),
                base.config_dir().join("berth"),
                runtime,
            )
        } else {
            (
                PathBuf::from("/var/lib/berth"),
                PathBuf::from("/etc/berth"),
                vec![PathBuf::from("/run/berth")],
            )
        };
        Ok(Paths {
            rootless,
            uid,
            gid,
            data: env_path("BERTH_ROOT").unwrap_or(data),
            config_dir: env_path("BERTH_CONFIG_DIR").unwrap_or(config_dir),
            runtime_override: env_path("BERTH_RUNROOT"),
            runtime_candidates,
        })
    }

    pub fn storage(&self) -> PathBuf {
        self.data.join("storage")
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn auth_file(&self) -> PathBuf {
        self.config_dir.join("auth.json")
    }

    /// The runtime directory, created on first use (0700, owned by us).
    pub fn runtime(&self) -> Result<PathBuf, PathsError> {
        if let Some(dir) = &self.runtime_override {
            ensure_private_dir(dir, self.uid)?;
            return Ok(dir.clone());
        }
        let mut last_err = None;
        for dir in &self.runtime_candidates {
            // The /run/user fallback only counts when logind (or someone) made the parent for us.
            if dir.starts_with("/run/user") && !dir.parent().is_some_and(Path::exists) {
                continue;
            }
            match ensure_private_dir(dir, self.uid) {
                Ok(()) => return Ok(dir.clone()),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| PathsError::Runtime {
            path: PathBuf::from("/tmp"),
            source: io::Error::from(io::ErrorKind::NotFound),
        }))
    }
}

fn ensure_private_dir(dir: &Path, uid: u32) -> Result<(), PathsError> {
    let err = |source| PathsError::Runtime {
        path: dir.to_path_buf(),
        source,
    };
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(err(e)),
    }
    let meta = fs::metadata(dir).map_err(err)?;
    if meta.uid() != uid {
        return Err(PathsError::RuntimeNotOwned(dir.to_path_buf()));
    }
    if meta.permissions().mode() & 0o077 != 0 && dir.starts_with("/tmp") {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}
