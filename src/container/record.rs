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
    #[error("multiple containers found with provided prefix: {0}")]
    Ambiguous(String),
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
    /// Kept in its own file, `spec.json` (most of it is the seccomp profile):
    /// [`ContainerStore::read_config`] loads it, [`ContainerStore::list`]
    /// does not (`ps` needs only [`ContainerConfig::command`] and
    /// [`ContainerConfig::mounts`]). Null when not loaded.
    #[serde(default, skip_serializing)]
    pub spec: serde_json::Value,
    /// The spec's `process.args`: what `ps` shows.
    #[serde(default)]
    pub command: Vec<String>,
    /// The spec's bind mounts (OCI `mounts` entries): what `ps` shows.
    #[serde(default)]
    pub mounts: Vec<serde_json::Value>,
    /// Layer dirs, top first.
    pub layers: Vec<PathBuf>,
    pub auto_remove: bool,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `-t`: the container has a pty (its output is one stream, logged as stdout).
    #[serde(default)]
    pub tty: bool,
    /// `-i`: stdin stays open (docker's `Config.OpenStdin`).
    #[serde(default)]
    pub open_stdin: bool,
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// `--stop-signal` or the image's `StopSignal` (docker's default SIGTERM when empty).
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `--stop-timeout` in seconds (default 10).
    #[serde(default)]
    pub stop_timeout: Option<i64>,
    /// `--log-opt max-size` in bytes (0: unlimited) and `max-file`.
    #[serde(default)]
    pub log_max_size: u64,
    #[serde(default)]
    pub log_max_file: u32,
    /// `--network` as given (`host`, `none`, …); docker's `HostConfig.NetworkMode`.
    #[serde(default)]
    pub network_mode: String,
    /// The user-mode network helper of the default network (`pasta`,
    /// `slirp4netns`), chosen at create; empty for host/none.
    #[serde(default)]
    pub network_helper: String,
    /// `-p` as given (host port 0: picked at each start); docker's `HostConfig.PortBindings`.
    #[serde(default)]
    pub port_bindings: Vec<crate::network::ports::PortBinding>,
    /// `-P`: also publish `exposed_ports` on free host ports.
    #[serde(default)]
    pub publish_all: bool,
    /// The image's `ExposedPorts` keys (`80/tcp`).
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// The health check the monitor runs: `--health-*` over the image's HEALTHCHECK.
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    /// The volumes it mounts (named, anonymous, `--volumes-from`): what
    /// `volume rm` checks and `rm -v` removes.
    #[serde(default)]
    pub volumes: Vec<VolumeRef>,
    /// Its endpoints on user-defined networks (`--network NAME`, `network
    /// connect`), addresses handed out at create/connect time.
    #[serde(default)]
    pub networks: Vec<Endpoint>,
}

/// A container's place on a user-defined network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Endpoint {
    pub network: String,
    pub network_id: String,
    pub endpoint_id: String,
    /// `--network-alias` / `connect --alias`: names other containers on this
    /// network resolve to it, besides its name and short id.
    #[serde(default)]
    pub aliases: Vec<String>,
    pub ip: std::net::Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: std::net::Ipv4Addr,
    pub mac: String,
}

/// One volume a container mounts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VolumeRef {
    pub name: String,
    pub destination: String,
}

/// docker's `Config.Healthcheck` (durations in nanoseconds, 0: the default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Healthcheck {
    /// `["CMD", args…]`, `["CMD-SHELL", command]` or `["NONE"]`.
    #[serde(rename = "Test", default)]
    pub test: Vec<String>,
    #[serde(rename = "Interval", default)]
    pub interval: i64,
    #[serde(rename = "Timeout", default)]
    pub timeout: i64,
    #[serde(rename = "StartPeriod", default)]
    pub start_period: i64,
    #[serde(rename = "StartInterval", default)]
    pub start_interval: i64,
    #[serde(rename = "Retries", default)]
    pub retries: i64,
}

/// `--restart`: docker's `HostConfig.RestartPolicy`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RestartPolicy {
    /// `""`/`no`, `always`, `unless-stopped`, `on-failure`.
    #[serde(rename = "Name", default)]
    pub name: String,
    #[serde(rename = "MaximumRetryCount", default)]
    pub maximum_retry_count: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Exited,
    Dead,
}

impl Status {
    /// docker's `State.Status` string.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// Has a live process (docker's `State.Running` is true for paused and restarting too).
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused | Status::Restarting)
    }
}

/// A health check's state, as docker's `State.Health`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Health {
    /// `starting`, `healthy`, `unhealthy`.
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "FailingStreak")]
    pub failing_streak: u32,
    #[serde(rename = "Log", default)]
    pub log: Vec<HealthLog>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthLog {
    #[serde(rename = "Start")]
    pub start: DateTime<Utc>,
    #[serde(rename = "End")]
    pub end: DateTime<Utc>,
    #[serde(rename = "ExitCode")]
    pub exit_code: i32,
    #[serde(rename = "Output")]
    pub output: String,
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
    /// Start time of `pid` (field 22 of /proc/PID/stat): guards against pid reuse.
    #[serde(default)]
    pub pid_start: u64,
    /// The process that is the container's parent and records its exit: the
    /// monitor (detached) or the foreground `berth run`; 0 when none.
    #[serde(default)]
    pub monitor_pid: i32,
    #[serde(default)]
    pub monitor_start: u64,
    #[serde(default)]
    pub oom_killed: bool,
    #[serde(default)]
    pub restart_count: u32,
    /// Set by `stop`/`kill`/`rm -f` before they signal: the monitor must not restart it.
    #[serde(default)]
    pub stop_requested: bool,
    #[serde(default)]
    pub health: Option<Health>,
    /// The ports published by the current (or last) run, host ports resolved.
    #[serde(default)]
    pub ports: Vec<crate::network::ports::PortBinding>,
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
            pid_start: 0,
            monitor_pid: 0,
            monitor_start: 0,
            oom_killed: false,
            restart_count: 0,
            stop_requested: false,
            health: None,
            ports: Vec::new(),
        }
    }

    /// The state as it really is now. A record says "running" until its
    /// monitor writes the exit; if the monitor was killed, or the machine
    /// rebooted, nobody will: a container whose process is gone (and whose
    /// monitor is gone too) has exited, with an unknown status (255).
    pub fn observed(&self) -> ContainerState {
        let mut s = self.clone();
        if !s.status.is_running() {
            return s;
        }
        let rebooted = !s.boot_id.is_empty() && s.boot_id != boot_id();
        if !rebooted
            && (process_alive(s.pid, s.pid_start) || process_alive(s.monitor_pid, s.monitor_start))
        {
            return s;
        }
        s.status = Status::Exited;
        s.pid = 0;
        s.exit_code = 255;
        if s.error.is_empty() {
            s.error = if rebooted {
                "the machine rebooted while the container was running".into()
            } else {
                "the container's monitor died; its exit status is unknown".into()
            };
        }
        s.finished_at = s.finished_at.or(s.started_at);
        s
    }
}

/// Field 22 of `/proc/PID/stat` (start time in clock ticks), or None if
/// there is no such process or it is a zombie (an orphan's zombie waits for
/// whatever init the machine has to reap it: it runs no more).
pub fn process_start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    if after.starts_with(['Z', 'X']) {
        return None;
    }
    after.split(' ').nth(19)?.parse().ok()
}

/// Whether `pid` is still the process that started at `start` (0: any).
pub fn process_alive(pid: i32, start: u64) -> bool {
    match process_start_time(pid) {
        Some(t) => start == 0 || t == start,
        None => false,
    }
}

/// This boot's id (read once per process: `ps` asks for every container).
pub fn boot_id() -> String {
    static BOOT_ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        })
        .clone()
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

    /// The data dir the store lives in (where [`crate::events`] are logged).
    pub fn data_dir(&self) -> &Path {
        self.containers.parent().unwrap_or(&self.containers)
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
        // State before config: `list` and `resolve` take config.json as the
        // sign that a record is complete, so it must come last.
        let made = fs::create_dir(&dir)
            .map_err(io_err(&dir))
            .and_then(|()| self.write_state(&config.id, &ContainerState::created()))
            .and_then(|()| self.write_config(config));
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

    /// Changes the state under the container's lock (`containers/<id>/lock`),
    /// so a monitor recording an exit and a `stop` asking for no restart
    /// never lose each other's writes. Returns the new state.
    pub fn update_state(
        &self,
        id: &str,
        change: impl FnOnce(&mut ContainerState),
    ) -> Result<ContainerState, RecordError> {
        let _lock = self.lock(id)?;
        let mut state = self.read_state(id)?;
        change(&mut state);
        self.write_state(id, &state)?;
        Ok(state)
    }

    /// The container's exclusive lock, held until the returned file is dropped.
    pub fn lock(&self, id: &str) -> Result<fs::File, RecordError> {
        let path = self.dir(id).join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => RecordError::NotFound(id.to_string()),
                _ => io_err(&path)(e),
            })?;
        file.lock().map_err(io_err(&path))?;
        Ok(file)
    }

    /// Writes `config.json` and, when the config carries it, `spec.json`
    /// (first: a config is never without its spec).
    pub fn write_config(&self, config: &ContainerConfig) -> Result<(), RecordError> {
        let dir = self.dir(&config.id);
        let corrupt = |e: crate::image::store::StoreError| RecordError::Corrupt {
            path: dir.clone(),
            message: e.to_string(),
        };
        if !config.spec.is_null() {
            let spec = serde_json::to_vec(&config.spec).expect("spec serialises");
            write_atomic(&dir.join("spec.json"), &spec).map_err(corrupt)?;
        }
        let bytes = serde_json::to_vec(config).expect("config serialises");
        write_atomic(&dir.join("config.json"), &bytes).map_err(corrupt)
    }

    /// The container's config with its runtime spec.
    pub fn read_config(&self, id: &str) -> Result<ContainerConfig, RecordError> {
        let mut config = self.read_summary(id)?;
        if config.spec.is_null() {
            let path = self.dir(id).join("spec.json");
            match fs::read(&path) {
                Ok(bytes) => {
                    config.spec =
                        serde_json::from_slice(&bytes).map_err(|e| RecordError::Corrupt {
                            path,
                            message: e.to_string(),
                        })?
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Ok(config)
    }

    /// The container's config without its runtime spec (unless an older
    /// record holds it inline).
    pub fn read_summary(&self, id: &str) -> Result<ContainerConfig, RecordError> {
        let path = self.dir(id).join("config.json");
        let bytes = fs::read(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => RecordError::NotFound(id.to_string()),
            _ => io_err(&path)(e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| RecordError::Corrupt {
            path,
            message: e.to_string(),
        })
    }

    /// Config and observed state ([`ContainerState::observed`]) of one container.
    pub fn load(&self, id: &str) -> Result<(ContainerConfig, ContainerState), RecordError> {
        let config = self.read_config(id)?;
        let state = self.read_state(id)?.observed();
        Ok((config, state))
    }

    /// Every container, newest first (docker's `ps` order), without runtime
    /// specs ([`ContainerStore::read_summary`]). Records that vanish while
    /// listing (a concurrent `rm`) are skipped.
    pub fn list(&self) -> Result<Vec<(ContainerConfig, ContainerState)>, RecordError> {
        let entries = fs::read_dir(&self.containers).map_err(io_err(&self.containers))?;
        let mut all = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&self.containers))?;
            let name = entry.file_name();
            let Some(id) = name.to_str() else { continue };
            if id.starts_with('.') {
                continue;
            }
            let loaded = self
                .read_summary(id)
                .and_then(|c| Ok((c, self.read_state(id)?.observed())));
            match loaded {
                Ok(c) => all.push(c),
                Err(RecordError::NotFound(_)) => continue,
                // Half-created (config not yet written) or being removed.
                Err(RecordError::Io { .. }) | Err(RecordError::Corrupt { .. })
                    if !self.dir(id).join("config.json").exists()
                        || !self.dir(id).join("state.json").exists() =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        all.sort_by_key(|c| std::cmp::Reverse(c.0.created));
        Ok(all)
    }

    /// docker's lookup: full id, then exact name, then a unique id prefix.
    pub fn resolve(&self, name_or_id: &str) -> Result<String, RecordError> {
        let not_found = || RecordError::NotFound(name_or_id.to_string());
        let wanted = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if wanted.is_empty() || wanted.contains('/') || wanted.starts_with('.') {
            return Err(not_found());
        }
        if wanted.len() == 64 && self.dir(wanted).join("config.json").exists() {
            return Ok(wanted.to_string());
        }
        if let Ok(id) = fs::read_to_string(self.names.join(wanted))
            && self.dir(&id).exists()
        {
            return Ok(id);
        }
        if !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(not_found());
        }
        let mut found = None;
        let entries = fs::read_dir(&self.containers).map_err(io_err(&self.containers))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str() else { continue };
            if id.starts_with(wanted) {
                if found.is_some() {
                    return Err(RecordError::Ambiguous(name_or_id.to_string()));
                }
                found = Some(id.to_string());
            }
        }
        found.ok_or_else(not_found)
    }

    /// Gives the container a new name (docker's `rename`): the new name is
    /// reserved atomically first, then the record changes, then the old name is freed.
    pub fn rename(&self, id: &str, new_name: &str) -> Result<(), RecordError> {
        let new_name = validate_name(new_name)?;
        let _lock = self.lock(id)?;
        let mut config = self.read_config(id)?;
        let old = config.name.clone();
        let new_path = self.names.join(&new_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&new_path)
        {
            Ok(mut f) => f.write_all(id.as_bytes()).map_err(io_err(&new_path))?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let holder = fs::read_to_string(&new_path).unwrap_or_default();
                return Err(RecordError::NameInUse {
                    name: new_name,
                    id: holder,
                });
            }
            Err(e) => return Err(io_err(&new_path)(e)),
        }
        config.name = new_name;
        if let Err(e) = self.write_config(&config) {
            let _ = fs::remove_file(&new_path);
            return Err(e);
        }
        let _ = fs::remove_file(self.names.join(&old));
        crate::events::container(self.data_dir(), &config, "rename", &[("oldName", &old)]);
        Ok(())
    }

    /// Image ids used by containers: short container id and whether it runs
    /// (a running one wins).
    pub fn image_users(
        &self,
    ) -> Result<std::collections::HashMap<String, (String, bool)>, RecordError> {
        let mut users = std::collections::HashMap::new();
        for (config, state) in self.list()? {
            let running = state.status.is_running();
            let entry = users
                .entry(config.image_id.clone())
                .or_insert_with(|| (config.id[..12].to_string(), running));
            if running && !entry.1 {
                *entry = (config.id[..12].to_string(), true);
            }
        }
        Ok(users)
    }

    /// The diff_ids of every layer some container is built on (its lower
    /// dirs are `…/layers/<hex>/diff`): image removal must keep them.
    pub fn layers_in_use(&self) -> Result<std::collections::BTreeSet<String>, RecordError> {
        let mut layers = std::collections::BTreeSet::new();
        for (config, _) in self.list()? {
            for dir in &config.layers {
                if let Some(hex) = dir
                    .parent()
                    .and_then(|p| p.file_name())
                    .and_then(|n| n.to_str())
                {
                    layers.insert(format!("sha256:{hex}"));
                }
            }
        }
        Ok(layers)
    }

    /// The json-file log of the container's stdout and stderr.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).join("ctr.log")
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
            command: vec![],
            mounts: vec![],
            layers: vec![],
            auto_remove: false,
            labels: Default::default(),
            tty: false,
            open_stdin: false,
            restart_policy: Default::default(),
            stop_signal: None,
            stop_timeout: None,
            log_max_size: 0,
            log_max_file: 0,
            network_mode: String::new(),
            network_helper: String::new(),
            networks: Vec::new(),
            port_bindings: Vec::new(),
            publish_all: false,
            exposed_ports: Vec::new(),
            healthcheck: None,
            volumes: vec![],
        }
    }

    #[test]
    fn a_running_record_from_another_boot_or_with_dead_pids_reads_as_exited() {
        let mut s = ContainerState::created();
        s.status = Status::Running;
        s.pid = std::process::id() as i32;
        s.boot_id = boot_id();
        assert_eq!(s.observed().status, Status::Running);
        s.boot_id = "another-boot".into();
        let seen = s.observed();
        assert_eq!((seen.status, seen.exit_code), (Status::Exited, 255));
        assert!(seen.error.contains("rebooted"), "{}", seen.error);
        // Same boot, but neither the container nor its monitor is alive.
        s.boot_id = boot_id();
        s.pid_start = 1; // not our start time: the pid was reused
        let seen = s.observed();
        assert_eq!(seen.status, Status::Exited);
        assert!(seen.error.contains("monitor died"), "{}", seen.error);
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
    #[test]
    fn list_never_fails_on_a_record_being_created() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let store = ContainerStore::open(&root).unwrap();
        let creator = std::thread::spawn(move || {
            let store = ContainerStore::open(&root).unwrap();
            for n in 0..300 {
                store
                    .create(&config(&generate_id(), &format!("c{n}")))
                    .unwrap();
            }
        });
        let mut seen = 0;
        while !creator.is_finished() {
            seen = store.list().expect("list while creating").len().max(seen);
        }
        creator.join().unwrap();
        assert_eq!(store.list().unwrap().len(), 300);
        assert!(seen <= 300);
    }
}
