//! Containers on disk: what later commands (`ps`, `inspect`, `rm`, …) read.
//!
//! ```text
//! containers/<id>/config.json   written once at creation
//! containers/<id>/state.json    replaced atomically on every change
//! containers/<id>/upper, work, merged, hosts, hostname, resolv.conf
//! names/<name>                  holds the id; created with O_EXCL, so two
//!                               `run --name x` at once: exactly one wins
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::image::store::write_atomic;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameInUse { name: String, id: String },
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("container store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("container record {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (a leading `/` is accepted and dropped).
pub fn validate_name(name: &str) -> Result<String, RecordError> {
    let n = name.strip_prefix('/').unwrap_or(name);
    let mut chars = n.chars();
    let ok = n.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(n.to_string())
    } else {
        Err(RecordError::InvalidName(name.to_string()))
    }
}

/// A name like docker's (`adjective_surname`) for containers started without `--name`.
pub fn generate_name() -> String {
    const LEFT: &[&str] = &[
        "admiring", "bold", "brave", "busy", "clever", "cool", "eager", "elegant", "festive",
        "focused", "gallant", "gifted", "happy", "hopeful", "jolly", "keen", "kind", "lucid",
        "modest", "nice", "quirky", "relaxed", "serene", "sharp", "stoic", "tender", "vibrant",
        "wizardly", "youthful", "zealous",
    ];
    const RIGHT: &[&str] = &[
        "babbage", "bohr", "curie", "darwin", "dijkstra", "einstein", "euler", "fermi", "galileo",
        "gauss", "hopper", "hypatia", "kepler", "knuth", "lamport", "lovelace", "meitner",
        "newton", "noether", "pascal", "ritchie", "shannon", "thompson", "turing", "wozniak",
    ];
    let l = LEFT[rand::random_range(0..LEFT.len())];
    let r = RIGHT[rand::random_range(0..RIGHT.len())];
    format!("{l}_{r}")
}

/// A new container id: 64 hex digits, never all digits (docker avoids ids that parse as numbers).
pub fn generate_id() -> String {
    loop {
        let id = hex::encode(rand::random::<[u8; 32]>());
        if id[..12].bytes().any(|b| b.is_ascii_alphabetic()) {
            return id;
        }
    }
}

/// What a container was created with; never changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub id: String,
    pub name: String,
    pub created: DateTime<Utc>,
    /// The image as the user named it.
    pub image: String,
    pub image_id: String,
    /// The runtime description (an OCI runtime spec), as built at creation.
    pub spec: serde_json::Value,
    /// Layer dirs, top first.
    pub layers: Vec<PathBuf>,
    pub auto_remove: bool,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

/// What changes over a container's life.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    #[serde(default)]
    pub pid: i32,
    #[serde(default)]
    pub exit_code: i32,
    #[serde(default)]
    pub error: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `/proc/sys/kernel/random/boot_id` when it started: a running container from another boot has exited.
    #[serde(default)]
    pub boot_id: String,
}

impl ContainerState {
    pub fn created() -> ContainerState {
        ContainerState {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: None,
            finished_at: None,
            boot_id: String::new(),
        }
    }
}

pub fn boot_id() -> String {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

pub struct ContainerStore {
    containers: PathBuf,
    names: PathBuf,
}

impl ContainerStore {
    pub fn open(data: &Path) -> Result<ContainerStore, RecordError> {
        let store = ContainerStore {
            containers: data.join("containers"),
            names: data.join("names"),
        };
        for d in [&store.containers, &store.names] {
            fs::create_dir_all(d).map_err(io_err(d))?;
        }
        Ok(store)
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.containers.join(id)
    }

    /// Reserves `name` for `id` atomically and creates the container's directory.
    pub fn create(&self, config: &ContainerConfig) -> Result<PathBuf, RecordError> {
        let name_path = self.names.join(&config.name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&name_path)
        {
            Ok(mut f) => f
                .write_all(config.id.as_bytes())
                .map_err(io_err(&name_path))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let id = fs::read_to_string(&name_path).unwrap_or_default();
                return Err(RecordError::NameInUse {
                    name: config.name.clone(),
                    id,
                });
            }
            Err(e) => return Err(io_err(&name_path)(e)),
        }
        let dir = self.dir(&config.id);
        let made = fs::create_dir(&dir)
            .map_err(io_err(&dir))
            .and_then(|()| {
                let bytes = serde_json::to_vec_pretty(config).expect("config serialises");
                write_atomic(&dir.join("config.json"), &bytes).map_err(|e| RecordError::Corrupt {
                    path: dir.clone(),
                    message: e.to_string(),
                })
            })
            .and_then(|()| self.write_state(&config.id, &ContainerState::created()));
        if let Err(e) = made {
            let _ = fs::remove_file(&name_path);
            let _ = fs::remove_dir_all(&dir);
            return Err(e);
        }
        Ok(dir)
    }

    pub fn write_state(&self, id: &str, state: &ContainerState) -> Result<(), RecordError> {
        let path = self.dir(id).join("state.json");
        let bytes = serde_json::to_vec_pretty(state).expect("state serialises");
        write_atomic(&path, &bytes).map_err(|e| RecordError::Corrupt {
            path,
            message: e.to_string(),
        })
    }

    pub fn read_state(&self, id: &str) -> Result<ContainerState, RecordError> {
        let path = self.dir(id).join("state.json");
        let bytes = fs::read(&path).map_err(io_err(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| RecordError::Corrupt {
            path,
            message: e.to_string(),
        })
    }

    /// Forgets the container: its name first (so it can be reused at once), then its record.
    /// The directory tree itself may hold subuid-owned files: the caller deletes `dir` (see
    /// `image::pull::remove_trees_blocking`) after this moves it out of the way.
    pub fn unregister(&self, config: &ContainerConfig) -> Result<PathBuf, RecordError> {
        let name_path = self.names.join(&config.name);
        if fs::read_to_string(&name_path).is_ok_and(|id| id == config.id) {
            let _ = fs::remove_file(&name_path);
        }
        let dir = self.dir(&config.id);
        let gone = self.containers.join(format!(".removing-{}", config.id));
        match fs::rename(&dir, &gone) {
            Ok(()) => Ok(gone),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(gone),
            Err(e) => Err(io_err(&dir)(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(id: &str, name: &str) -> ContainerConfig {
        ContainerConfig {
            id: id.into(),
            name: name.into(),
            created: Utc::now(),
            image: "busybox".into(),
            image_id: "sha256:x".into(),
            spec: serde_json::json!({}),
            layers: vec![],
            auto_remove: false,
            labels: Default::default(),
        }
    }

    #[test]
    fn names_follow_docker_rules() {
        assert_eq!(validate_name("/web-1").unwrap(), "web-1");
        assert!(validate_name("a").is_err());
        assert!(validate_name("-x").is_err());
        assert!(validate_name("a b").is_err());
        assert!(validate_name(&generate_name()).is_ok());
        let id = generate_id();
        assert_eq!(id.len(), 64);
    }

    #[test]
    fn a_name_is_taken_once_and_freed_on_unregister() {
        let dir = tempfile::tempdir().unwrap();
        let store = ContainerStore::open(dir.path()).unwrap();
        let a = config(&generate_id(), "web");
        let b = config(&generate_id(), "web");
        store.create(&a).unwrap();
        let err = store.create(&b).unwrap_err();
        assert!(
            err.to_string()
                .contains("The container name \"/web\" is already in use"),
            "{err}"
        );
        assert!(!store.dir(&b.id).exists());
        assert_eq!(store.read_state(&a.id).unwrap().status, Status::Created);
        let gone = store.unregister(&a).unwrap();
        std::fs::remove_dir_all(gone).unwrap();
        store.create(&b).unwrap();
    }

    #[test]
    fn concurrent_creates_with_one_name_have_one_winner() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let root = root.clone();
                std::thread::spawn(move || {
                    let store = ContainerStore::open(&root).unwrap();
                    store.create(&config(&generate_id(), "same")).is_ok()
                })
            })
            .collect();
        let wins = handles
            .into_iter()
            .filter(|_| true)
            .map(|h| h.join().unwrap())
            .filter(|w| *w)
            .count();
        assert_eq!(wins, 1);
    }
}
