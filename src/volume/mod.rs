//! Named and anonymous volumes (docker's `local` driver).
//!
//! ```text
//! volumes/.lock                 flock: shared while a container takes its
//!                               volumes, exclusive while `volume rm`/`prune`
//!                               checks users and removes
//! volumes/<name>/volume.json    what `volume inspect` shows (written once)
//! volumes/<name>/_data/         the data, bind-mounted into containers
//! volumes/<name>/populated      present once the image's files were copied in
//! ```
//!
//! A volume is created whole in `volumes/.new-<random>/` and renamed into
//! place with `RENAME_NOREPLACE`: two creates of one name at once give one
//! volume, and both callers see it (docker's `volume create x` is
//! idempotent). Removal renames the directory away first, so the name is free
//! at once and a crash never leaves half a volume under its name.
//!
//! Which containers use a volume is read from their records
//! ([`crate::container::record::ContainerConfig::volumes`]); a volume in use
//! by any container, running or not, is never removed.
//!
//! Copy-up (the image's files into a new volume) is in [`copyup`].

pub mod copyup;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::container::record::ContainerStore;
use crate::context::Context;

/// docker's label on the volumes it creates for `-v /path` and image
/// `VOLUME`s: what `volume prune` (without `-a`) and `rm -v` remove.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error("No such volume: {0}")]
    NotFound(String),
    #[error(
        "create {0}: \"{0}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )]
    InvalidName(String),
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    InUse { name: String, users: Vec<String> },
    #[error("create {name}: {message}")]
    InvalidOptions { name: String, message: String },
    #[error("volume driver {0}: only the local driver is supported")]
    Driver(String),
    #[error("volume store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("volume {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error(transparent)]
    Record(#[from] crate::container::record::RecordError),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What `volume.json` holds: docker's `Volume` minus what is derived.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VolumeMeta {
    pub name: String,
    pub driver: String,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `--opt k=v` (`type`, `device`, `o`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl VolumeMeta {
    pub fn is_anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

/// A stored volume.
#[derive(Debug, Clone)]
pub struct Volume {
    pub meta: VolumeMeta,
    /// `volumes/<name>/_data`.
    pub mountpoint: PathBuf,
}

impl Volume {
    /// docker's `Volume` JSON (`volume inspect`), keys in docker's order.
    pub fn inspect_json(&self) -> serde_json::Value {
        serde_json::json!({
            "CreatedAt": self.meta.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "Driver": self.meta.driver,
            "Labels": self.meta.labels,
            "Mountpoint": self.mountpoint.to_string_lossy(),
            "Name": self.meta.name,
            "Options": self.meta.options,
            "Scope": "local",
        })
    }

    /// How the local driver mounts it: `None` for a plain directory.
    pub fn mount_kind(&self) -> MountKind {
        let o = &self.meta.options;
        match o.get("type").map(String::as_str) {
            None | Some("") => MountKind::Directory,
            Some("tmpfs") => MountKind::Tmpfs {
                options: o.get("o").cloned().unwrap_or_default(),
            },
            Some("none") if is_bind_option(o.get("o")) => MountKind::Bind {
                device: PathBuf::from(o.get("device").cloned().unwrap_or_default()),
                read_only: o.get("o").is_some_and(|v| v.split(',').any(|x| x == "ro")),
            },
            Some(other) => MountKind::Unsupported(other.to_string()),
        }
    }
}

fn is_bind_option(o: Option<&String>) -> bool {
    o.is_some_and(|v| v.split(',').any(|x| x == "bind" || x == "rbind"))
}

/// How a volume reaches a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    /// `_data`, bind-mounted.
    Directory,
    /// `--opt type=tmpfs [--opt o=size=…]`: a tmpfs of the container's own.
    Tmpfs { options: String },
    /// `--opt type=none --opt o=bind --opt device=/path`.
    Bind { device: PathBuf, read_only: bool },
    /// A device or network file system: needs the daemon's mount.
    Unsupported(String),
}

/// docker's rule for local volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_name(name: &str) -> Result<(), VolumeError> {
    let mut chars = name.chars();
    let ok = name.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(VolumeError::InvalidName(name.to_string()))
    }
}

/// A generated name: 64 hex digits, as docker's.
pub fn generate_name() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The local driver's options: `type`, `device`, `o` (docker also knows
/// `size`, for quota'd xfs; berth does not).
fn validate_options(name: &str, options: &BTreeMap<String, String>) -> Result<(), VolumeError> {
    let invalid = |message: String| VolumeError::InvalidOptions {
        name: name.to_string(),
        message,
    };
    for k in options.keys() {
        if !matches!(k.as_str(), "type" | "device" | "o") {
            return Err(invalid(format!("invalid option: \"{k}\"")));
        }
    }
    let typ = options.get("type").map(String::as_str).unwrap_or("");
    let device = options.get("device").map(String::as_str).unwrap_or("");
    if typ.is_empty() && (!device.is_empty() || options.contains_key("o")) {
        return Err(invalid("missing required option: \"type\"".into()));
    }
    match typ {
        "" | "tmpfs" => {}
        "none" if is_bind_option(options.get("o")) => {
            if device.is_empty() {
                return Err(invalid("missing required option: \"device\"".into()));
            }
            if !device.starts_with('/') {
                return Err(invalid(format!(
                    "invalid device: \"{device}\": a bind device must be an absolute path"
                )));
            }
        }
        other => {
            return Err(invalid(format!(
                "type \"{other}\" needs a mount by the daemon, which berth does not do: use type=tmpfs, or type=none with o=bind"
            )));
        }
    }
    Ok(())
}

/// The volumes of one data dir.
pub struct VolumeStore {
    dir: PathBuf,
}

/// A held `volumes/.lock` (shared or exclusive); released on drop.
pub struct StoreLock(#[allow(dead_code)] fs::File);

impl VolumeStore {
    pub fn open(data: &Path) -> Result<VolumeStore, VolumeError> {
        let dir = data.join("volumes");
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(VolumeStore { dir })
    }

    fn lock(&self, exclusive: bool) -> Result<StoreLock, VolumeError> {
        let path = self.dir.join(".lock");
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let r = if exclusive { f.lock() } else { f.lock_shared() };
        r.map_err(io_err(&path))?;
        Ok(StoreLock(f))
    }

    /// Held while a container is created with volumes: no volume it names
    /// can be removed until its record says it uses it.
    pub fn lock_shared(&self) -> Result<StoreLock, VolumeError> {
        self.lock(false)
    }

    /// Held while users are checked and a volume removed.
    pub fn lock_exclusive(&self) -> Result<StoreLock, VolumeError> {
        self.lock(true)
    }

    pub fn volume_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Where a volume's data lives (whether or not it exists).
    pub fn mountpoint(&self, name: &str) -> PathBuf {
        self.volume_dir(name).join("_data")
    }

    /// The volume called `name`.
    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        if validate_name(name).is_err() {
            return Err(VolumeError::NotFound(name.to_string()));
        }
        let path = self.volume_dir(name).join("volume.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(VolumeError::NotFound(name.to_string()));
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let meta: VolumeMeta =
            serde_json::from_slice(&bytes).map_err(|e| VolumeError::Corrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(Volume {
            meta,
            mountpoint: self.mountpoint(name),
        })
    }

    /// Every volume, by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let Some(name) = entry.file_name().to_str().map(String::from) else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            match self.get(&name) {
                Ok(v) => out.push(v),
                Err(VolumeError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        Ok(out)
    }

    /// `volume create`: the volume `name` (generated when None), made now
    /// or already there (then `labels`/`options` are those it was made
    /// with, as docker). Returns the volume and whether this call made it.
    pub fn create(
        &self,
        name: Option<&str>,
        driver: Option<&str>,
        labels: BTreeMap<String, String>,
        options: BTreeMap<String, String>,
    ) -> Result<(Volume, bool), VolumeError> {
        if let Some(d) = driver
            && !d.is_empty()
            && d != "local"
        {
            return Err(VolumeError::Driver(d.to_string()));
        }
        let name = match name {
            Some(n) => {
                validate_name(n)?;
                n.to_string()
            }
            None => generate_name(),
        };
        validate_options(&name, &options)?;
        if let Ok(v) = self.get(&name) {
            return Ok((v, false));
        }
        let meta = VolumeMeta {
            name: name.clone(),
            driver: "local".into(),
            created: Utc::now(),
            labels,
            options,
        };
        let tmp = self.dir.join(format!(".new-{}", generate_name()));
        let made = (|| {
            fs::create_dir(&tmp)?;
            // 0755 like docker's; the data dir is the container root's (the caller's).
            fs::create_dir(tmp.join("_data"))?;
            let json = serde_json::to_vec_pretty(&meta).expect("volume meta serialises");
            fs::write(tmp.join("volume.json"), json)?;
            rename_noreplace(&tmp, &self.volume_dir(&name))
        })();
        match made {
            Ok(()) => {
                crate::events::record(
                    self.data_dir(),
                    "volume",
                    "create",
                    &name,
                    &[("driver", "local")],
                );
                Ok((
                    Volume {
                        meta,
                        mountpoint: self.mountpoint(&name),
                    },
                    true,
                ))
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                if e.kind() == io::ErrorKind::AlreadyExists
                    || e.raw_os_error() == Some(libc::ENOTEMPTY)
                {
                    // Someone made it first: theirs is the volume.
                    return Ok((self.get(&name)?, false));
                }
                Err(io_err(&self.volume_dir(&name))(e))
            }
        }
    }

    /// Whether the image's files were copied in already.
    pub fn is_populated(&self, name: &str) -> bool {
        self.volume_dir(name).join("populated").exists()
    }

    pub fn mark_populated(&self, name: &str) -> Result<(), VolumeError> {
        let p = self.volume_dir(name).join("populated");
        fs::write(&p, b"").map_err(io_err(&p))
    }

    /// Takes the volume away from its name (which is free at once); the
    /// caller deletes the returned tree (it may hold subuid-owned files).
    /// The caller holds the exclusive lock and has checked users.
    pub fn unlink(&self, name: &str) -> Result<PathBuf, VolumeError> {
        self.get(name)?;
        let gone = self
            .dir
            .join(format!(".removing-{name}-{}", &generate_name()[..8]));
        fs::rename(self.volume_dir(name), &gone).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                VolumeError::NotFound(name.to_string())
            } else {
                io_err(&self.volume_dir(name))(e)
            }
        })?;
        crate::events::record(
            self.data_dir(),
            "volume",
            "destroy",
            name,
            &[("driver", "local")],
        );
        Ok(gone)
    }

    /// The data dir the volumes live in (where [`crate::events`] are logged).
    fn data_dir(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// Leftovers of removals and creates a crash interrupted.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with(".removing-")
            })
            .map(|e| e.path())
            .collect()
    }
}

fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    rustix::fs::renameat_with(
        rustix::fs::CWD,
        from,
        rustix::fs::CWD,
        to,
        rustix::fs::RenameFlags::NOREPLACE,
    )
    .map_err(|e| io::Error::from_raw_os_error(e.raw_os_error()))
}

/// Volume name → ids of the containers (running or not) whose records use it.
pub fn users(containers: &ContainerStore) -> Result<BTreeMap<String, Vec<String>>, VolumeError> {
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (config, _) in containers.list()? {
        for v in &config.volumes {
            let ids = users.entry(v.name.clone()).or_default();
            if !ids.contains(&config.id) {
                ids.push(config.id.clone());
            }
        }
    }
    Ok(users)
}

/// Deletes trees taken away from their names (subuid-owned files through the user namespace).
fn delete_trees(ctx: &Context, trees: &[PathBuf]) -> Result<(), VolumeError> {
    if trees.is_empty() {
        return Ok(());
    }
    let mapping = ctx
        .id_mapping()
        .map_err(|e| VolumeError::Io {
            path: trees[0].clone(),
            source: io::Error::other(e.to_string()),
        })?
        .cloned();
    crate::image::pull::remove_trees_blocking(&ctx.paths, mapping.as_ref(), trees).map_err(|e| {
        VolumeError::Io {
            path: trees[0].clone(),
            source: io::Error::other(e.to_string()),
        }
    })
}

/// `volume rm [-f] NAME…`: each result in order. A volume some container
/// uses is never removed (`force` only makes a missing one no error).
pub fn remove(
    ctx: &Context,
    names: &[String],
    force: bool,
) -> Result<Vec<Result<(), VolumeError>>, VolumeError> {
    let store = VolumeStore::open(&ctx.paths.data)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let lock = store.lock_exclusive()?;
    let users = users(&containers)?;
    let mut results = Vec::new();
    let mut trees = store.leftovers();
    for name in names {
        let r = match users.get(name) {
            Some(ids) if store.get(name).is_ok() => Err(VolumeError::InUse {
                name: name.clone(),
                users: ids.clone(),
            }),
            _ => match store.unlink(name) {
                Ok(t) => {
                    trees.push(t);
                    Ok(())
                }
                Err(VolumeError::NotFound(_)) if force => Ok(()),
                Err(e) => Err(e),
            },
        };
        results.push(r);
    }
    drop(lock);
    delete_trees(ctx, &trees)?;
    Ok(results)
}

/// `rm -v` and `--rm`: removes those of `names` that are anonymous and that
/// no container uses any more (another may have them through `--volumes-from`).
pub fn remove_anonymous(ctx: &Context, names: &[String]) -> Result<(), VolumeError> {
    let store = VolumeStore::open(&ctx.paths.data)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let lock = store.lock_exclusive()?;
    let users = users(&containers)?;
    let mut trees = Vec::new();
    for name in names {
        let anonymous = store.get(name).is_ok_and(|v| v.meta.is_anonymous());
        if anonymous && !users.contains_key(name) {
            match store.unlink(name) {
                Ok(t) => trees.push(t),
                Err(VolumeError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    drop(lock);
    delete_trees(ctx, &trees)
}

/// `volume prune`: removes the unused volumes (only anonymous ones unless
/// `all`) whose labels match `labels` (docker's `label=k[=v]`, `label!=…`).
/// Returns their names and the bytes they held.
pub fn prune(
    ctx: &Context,
    all: bool,
    labels: &[(bool, String, Option<String>)],
) -> Result<(Vec<String>, u64), VolumeError> {
    let store = VolumeStore::open(&ctx.paths.data)?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let lock = store.lock_exclusive()?;
    let users = users(&containers)?;
    let mut removed = Vec::new();
    let mut reclaimed = 0;
    let mut trees = store.leftovers();
    for v in store.list()? {
        if users.contains_key(&v.meta.name) || (!all && !v.meta.is_anonymous()) {
            continue;
        }
        if !labels
            .iter()
            .all(|(want, k, val)| label_matches(&v.meta.labels, k, val.as_deref()) == *want)
        {
            continue;
        }
        let size = crate::container::view::dir_size(&v.mountpoint);
        match store.unlink(&v.meta.name) {
            Ok(t) => {
                trees.push(t);
                reclaimed += size;
                removed.push(v.meta.name.clone());
            }
            Err(VolumeError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    drop(lock);
    delete_trees(ctx, &trees)?;
    Ok((removed, reclaimed))
}

/// docker's `label=k` / `label=k=v` test.
pub fn label_matches(labels: &BTreeMap<String, String>, key: &str, value: Option<&str>) -> bool {
    match value {
        Some(v) => labels.get(key).is_some_and(|have| have == v),
        None => labels.contains_key(key),
    }
}

/// Parses `k=v` pairs (`--label`, `--opt`): a bare `k` is `k=""`.
pub fn parse_pairs(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (s.clone(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_is_idempotent_and_names_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path()).unwrap();
        let (v, made) = store
            .create(Some("data"), None, Default::default(), Default::default())
            .unwrap();
        assert!(made);
        assert!(v.mountpoint.is_dir());
        let (again, made) = store
            .create(Some("data"), None, Default::default(), Default::default())
            .unwrap();
        assert!(!made);
        assert_eq!(again.meta, v.meta);
        assert!(matches!(
            store.create(Some("a"), None, Default::default(), Default::default()),
            Err(VolumeError::InvalidName(_))
        ));
        let (anon, _) = store
            .create(None, None, Default::default(), Default::default())
            .unwrap();
        assert_eq!(anon.meta.name.len(), 64);
        assert_eq!(store.list().unwrap().len(), 2);
        let gone = store.unlink("data").unwrap();
        fs::remove_dir_all(gone).unwrap();
        assert!(matches!(store.get("data"), Err(VolumeError::NotFound(_))));
    }

    #[test]
    fn concurrent_creates_of_one_name_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let store = VolumeStore::open(&path).unwrap();
                    store
                        .create(Some("shared"), None, Default::default(), Default::default())
                        .unwrap()
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(results.iter().filter(|(_, made)| *made).count(), 1);
        let created = results[0].0.meta.created;
        assert!(results.iter().all(|(v, _)| v.meta.created == created));
    }

    #[test]
    fn options_follow_the_local_driver() {
        let opts =
            |list: &[&str]| parse_pairs(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(validate_options("v", &opts(&["type=tmpfs", "o=size=1m"])).is_ok());
        assert!(validate_options("v", &opts(&["type=none", "o=bind", "device=/x"])).is_ok());
        assert!(validate_options("v", &opts(&["type=none", "o=bind"])).is_err());
        assert!(validate_options("v", &opts(&["device=/x"])).is_err());
        assert!(validate_options("v", &opts(&["foo=bar"])).is_err());
        assert!(validate_options("v", &opts(&["type=nfs", "device=:/x"])).is_err());
    }
}
