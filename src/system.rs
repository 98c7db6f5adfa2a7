//! System-wide commands: `info` (docker's `Info` object, [`info`]) and
//! `system prune` ([`prune`]: containers, networks, images, build cache and
//! anonymous volumes, each with its own module's prune).
//!
//! berth has no daemon: what docker's daemon reports about itself is reported
//! here about this berth installation and the host it runs on, under
//! docker's JSON field names (`Driver`, `SecurityOptions`, `NCPU`,
//! `MemTotal`, `DockerRootDir`, …) so `info --format` templates work.

use std::path::Path;

use serde_json::{Value, json};

use crate::container::record::{ContainerStore, RecordError, Status};
use crate::context::Context;
use crate::image::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Volume(#[from] crate::volume::VolumeError),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error(transparent)]
    Control(#[from] crate::monitor::control::ControlError),
    #[error(transparent)]
    Image(#[from] crate::image::local::ImageError),
    #[error("{0}")]
    Other(String),
}

/// Counts of containers by state, as docker's `Containers*` fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ContainerCounts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

/// Counts containers the way docker's daemon does: paused, running
/// (restarting counts as running), everything else stopped.
pub fn container_counts(ctx: &Context) -> Result<ContainerCounts, SystemError> {
    let store = ContainerStore::open(&ctx.paths.data)?;
    let mut c = ContainerCounts::default();
    for (_, state) in store.list()? {
        c.total += 1;
        match state.observed().status {
            Status::Paused => c.paused += 1,
            Status::Running | Status::Restarting => c.running += 1,
            _ => c.stopped += 1,
        }
    }
    Ok(c)
}

/// The storage driver name docker users know for what berth does with
/// `BERTH_STORAGE_DRIVER`: native overlay shows as `overlay2`.
pub fn storage_driver() -> &'static str {
    match std::env::var(crate::runtime::rootfs::DRIVER_ENV).as_deref() {
        Ok("fuse-overlayfs") => "fuse-overlayfs",
        Ok("vfs") | Ok("copy") => "vfs",
        _ => "overlay2",
    }
}

/// docker's `SecurityOptions`: seccomp with the built-in profile, and
/// `rootless` for an unprivileged user.
pub fn security_options(rootless: bool) -> Vec<String> {
    let mut v = vec!["name=seccomp,profile=builtin".to_string()];
    if rootless {
        v.push("name=rootless".into());
    }
    v
}

/// docker's `Info` object (`GET /info`), for this berth installation.
/// `server_version` is what `ServerVersion` says (the docker release berth
/// follows when invoked as `docker`, berth's own version otherwise).
pub fn info(ctx: &Context, server_version: &str) -> Result<Value, SystemError> {
    let counts = container_counts(ctx)?;
    let images = ctx.store()?.images()?.images.len();
    let rootless = ctx.paths.rootless;
    let driver = storage_driver();
    let driver_status: Vec<[String; 2]> = if driver == "overlay2" {
        vec![
            ["Backing Filesystem".into(), backing_fs(&ctx.paths.data)],
            ["Supports d_type".into(), "true".into()],
            ["Using metacopy".into(), "false".into()],
            ["Native Overlay Diff".into(), "true".into()],
            ["userxattr".into(), rootless.to_string()],
        ]
    } else {
        Vec::new()
    };
    let cgroup_version = if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    };
    // berth never joins or creates cgroups: docker's rootless daemon
    // without delegation says "none" too.
    let cgroup_driver = if rootless { "none" } else { "cgroupfs" };
    let mut insecure_cidrs = vec![json!({"IP": "::1", "Mask": "/////////////////////w=="})];
    insecure_cidrs.push(json!({"IP": "127.0.0.0", "Mask": "/wAAAA=="}));
    let mut index_configs = serde_json::Map::new();
    for r in &ctx.config.registries.insecure {
        index_configs.insert(
            r.clone(),
            json!({"Name": r, "Mirrors": [], "Secure": false, "Official": false}),
        );
    }
    let hub_mirrors: Vec<String> = ctx
        .config
        .mirrors_for("docker.io")
        .iter()
        .map(|m| format!("https://{m}/"))
        .collect();
    index_configs.insert(
        "docker.io".into(),
        json!({"Name": "docker.io", "Mirrors": hub_mirrors, "Secure": true, "Official": true}),
    );
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "berth".into());
    let (http_proxy, https_proxy, no_proxy) =
        (proxy("HTTP_PROXY"), proxy("HTTPS_PROXY"), proxy("NO_PROXY"));
    let mut info = json!({
        "ID": engine_id(&ctx.paths.data),
        "Containers": counts.total,
        "ContainersRunning": counts.running,
        "ContainersPaused": counts.paused,
        "ContainersStopped": counts.stopped,
        "Images": images,
        "Driver": driver,
        "DriverStatus": driver_status,
        "Plugins": {
            "Volume": ["local"],
            "Network": ["bridge", "host", "null"],
            "Authorization": null,
            "Log": ["json-file"],
        },
        "MemoryLimit": false,
        "SwapLimit": false,
        "CpuCfsPeriod": false,
        "CpuCfsQuota": false,
        "CPUShares": false,
        "CPUSet": false,
        "PidsLimit": false,
        "IPv4Forwarding": true,
    });
    let part2 = json!({
        "Debug": false,
        "NFd": 0,
        "OomKillDisable": false,
        "NGoroutines": 0,
        "SystemTime": crate::format::units::go_rfc3339_nano(chrono::Utc::now()),
        "LoggingDriver": "json-file",
        "CgroupDriver": cgroup_driver,
        "CgroupVersion": cgroup_version,
        "NEventsListener": 0,
        "KernelVersion": read_trimmed("/proc/sys/kernel/osrelease"),
        "OperatingSystem": os_release("PRETTY_NAME").unwrap_or_else(|| "Linux".into()),
        "OSVersion": os_release("VERSION_ID").unwrap_or_default(),
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "IndexServerAddress": crate::image::auth::DOCKER_HUB_AUTH_KEY,
        "RegistryConfig": {
            "AllowNondistributableArtifactsCIDRs": null,
            "AllowNondistributableArtifactsHostnames": null,
            "InsecureRegistryCIDRs": insecure_cidrs,
            "IndexConfigs": index_configs,
            "Mirrors": hub_mirrors,
        },
        "NCPU": ncpu(),
        "MemTotal": mem_total(),
        "GenericResources": null,
    });
    let part3 = json!({
        "DockerRootDir": ctx.paths.data.to_string_lossy(),
        "HttpProxy": http_proxy,
        "HttpsProxy": https_proxy,
        "NoProxy": no_proxy,
        "Name": read_trimmed("/proc/sys/kernel/hostname"),
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": server_version,
        "Runtimes": {"berth": {"path": exe}},
        "DefaultRuntime": "berth",
        "Swarm": {
            "NodeID": "",
            "NodeAddr": "",
            "LocalNodeState": "inactive",
            "ControlAvailable": false,
            "Error": "",
            "RemoteManagers": null,
        },
        "LiveRestoreEnabled": false,
        "Isolation": "",
        "InitBinary": "",
        "ContainerdCommit": {"ID": ""},
        "RuncCommit": {"ID": ""},
        "InitCommit": {"ID": ""},
        "SecurityOptions": security_options(rootless),
        "CDISpecDirs": [],
        "Warnings": null,
    });
    for part in [part2, part3] {
        if let (Value::Object(all), Value::Object(more)) = (&mut info, part) {
            all.extend(more);
        }
    }
    Ok(info)
}

/// `label=k[=v]` (true) or `label!=k[=v]` (false), as the prune filters take them.
pub type LabelFilter = (bool, String, Option<String>);

/// docker's prune filters: `until=<timestamp|duration>`, `label=`, `label!=`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PruneFilters {
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub labels: Vec<LabelFilter>,
}

impl PruneFilters {
    /// Parses `--filter` values (`until` relative to `now`).
    pub fn parse(
        values: &[String],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<PruneFilters, SystemError> {
        let mut f = PruneFilters::default();
        for v in values {
            let (key, value) = v.split_once('=').ok_or_else(|| {
                SystemError::Other("bad format of filter (expected name=value)".into())
            })?;
            match key {
                "until" => {
                    f.until = Some(
                        crate::container::logread::parse_time_arg(value, now)
                            .map_err(|e| SystemError::Other(e.to_string()))?,
                    )
                }
                "label" | "label!" => {
                    let (k, v) = match value.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (value.to_string(), None),
                    };
                    f.labels.push((key == "label", k, v));
                }
                _ => return Err(SystemError::Other(format!("invalid filter '{key}'"))),
            }
        }
        Ok(f)
    }

    /// Whether `labels` pass every label filter.
    pub fn labels_match(&self, labels: &std::collections::BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(want, k, v)| {
            let has = match v {
                Some(v) => labels.get(k) == Some(v),
                None => labels.contains_key(k),
            };
            has == *want
        })
    }
}

/// What `system prune` may remove.
#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    /// `-a`: every unused image, not only dangling ones (and all build cache).
    pub all: bool,
    /// `--volumes`: anonymous volumes no container uses.
    pub volumes: bool,
    pub filters: PruneFilters,
}

/// One line of docker's `Deleted Images:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageDeletion {
    Untagged(String),
    Deleted(String),
}

/// What `system prune` removed, per kind, in docker's order.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
    pub images: Vec<ImageDeletion>,
    pub build_cache: Vec<String>,
    pub reclaimed: u64,
}

/// Where a build cache would live (`<data>/buildcache`); `system prune`
/// empties it when it exists.
pub const BUILD_CACHE_DIR: &str = "buildcache";

/// `system prune`: stopped containers, then networks no container uses,
/// then (with `--volumes`) anonymous volumes no container uses (docker ≥ 23:
/// never a named one), then dangling images (every unused one with `-a`)
/// and the layers nothing uses any more, then the build cache. Each kind
/// goes through its own module's prune, with the same filters.
pub fn prune(ctx: &Context, opts: &PruneOptions) -> Result<PruneReport, SystemError> {
    let f = &opts.filters;
    if opts.volumes && f.until.is_some() {
        return Err(SystemError::Other(
            "The \"until\" filter is not supported with \"--volumes\"".into(),
        ));
    }
    let mut report = PruneReport::default();
    let (containers, bytes) = crate::monitor::control::prune(ctx, f.until, &f.labels)?;
    report.containers = containers;
    report.reclaimed += bytes;
    report.networks = crate::network::manage::prune(&ctx.paths, &f.labels, f.until)?;
    if opts.volumes {
        let (volumes, bytes) = crate::volume::prune(ctx, false, &f.labels)?;
        report.volumes = volumes;
        report.reclaimed += bytes;
    }
    let store = ctx.store()?;
    let users = ContainerStore::open(&ctx.paths.data)?.image_users()?;
    let wanted = |i: &crate::image::store::ImageRecord| {
        if f.until.is_none() && f.labels.is_empty() {
            return true;
        }
        let Ok(config) = crate::image::local::config_json(store, i) else {
            return false;
        };
        if let Some(until) = f.until {
            let created = crate::image::local::created_of(&config).unwrap_or(i.added);
            if created >= until {
                return false;
            }
        }
        let labels: std::collections::BTreeMap<String, String> =
            serde_json::from_value(config["config"]["Labels"].clone()).unwrap_or_default();
        f.labels_match(&labels)
    };
    let removed =
        crate::image::local::prune_where(store, opts.all, &|id| users.get(id).cloned(), &wanted)?;
    for image in removed {
        for t in image.repo_tags.iter().chain(&image.repo_digests) {
            report
                .images
                .push(ImageDeletion::Untagged(crate::image::local::familiar(t)));
        }
        report.images.push(ImageDeletion::Deleted(image.id));
    }
    for layer in free_layers(ctx)? {
        report.reclaimed += layer.size;
        report.images.push(ImageDeletion::Deleted(layer.diff_id));
    }
    let (cache, bytes) = prune_build_cache(&ctx.paths.data.join(BUILD_CACHE_DIR))?;
    report.build_cache = cache;
    report.reclaimed += bytes;
    Ok(report)
}

/// Empties the build cache directory (one entry per cache object): the
/// names removed and their bytes.
fn prune_build_cache(dir: &Path) -> Result<(Vec<String>, u64), SystemError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(SystemError::Other(format!("{}: {e}", dir.display()))),
    };
    let (mut names, mut bytes) = (Vec::new(), 0);
    for e in entries.flatten() {
        let path = e.path();
        let is_dir = path.is_dir() && !path.is_symlink();
        let size = if is_dir {
            crate::container::view::dir_size(&path)
        } else {
            path.symlink_metadata().map_or(0, |m| m.len())
        };
        let gone = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if gone.is_ok() {
            bytes += size;
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok((names, bytes))
}

/// Deletes the layers no image and no container uses any more (skipped
/// while a pull runs: the next removal does it). Returns the layers deleted.
pub fn free_layers(ctx: &Context) -> Result<Vec<crate::image::store::LayerInfo>, SystemError> {
    let store = ctx.store()?;
    let Some(gc) = store.try_gc_exclusive()? else {
        return Ok(Vec::new());
    };
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let moved = store.trash_unused_layers(&gc, &containers.layers_in_use()?)?;
    drop(gc);
    let trash = store.trash_entries()?;
    if !trash.is_empty() {
        let mapping = ctx
            .id_mapping()
            .map_err(|e| SystemError::Other(e.to_string()))?
            .cloned();
        crate::image::pull::remove_trees_blocking(&ctx.paths, mapping.as_ref(), &trash)
            .map_err(|e| SystemError::Other(e.to_string()))?;
    }
    Ok(moved)
}

fn proxy(name: &str) -> String {
    std::env::var(name)
        .or_else(|_| std::env::var(name.to_ascii_lowercase()))
        .unwrap_or_default()
}

fn read_trimmed(path: &str) -> String {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// A field of `/etc/os-release` (or `/usr/lib/os-release`), unquoted.
fn os_release(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .ok()?;
    os_release_field(&text, key)
}

fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// CPUs this process may run on (Go's `runtime.NumCPU`, which docker reports).
fn ncpu() -> usize {
    if let Ok(set) = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
        let n = (0..nix::sched::CpuSet::count())
            .filter(|&i| set.is_set(i).unwrap_or(false))
            .count();
        if n > 0 {
            return n;
        }
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn mem_total() -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let rest = l.strip_prefix("MemTotal:")?;
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// docker's `Backing Filesystem` names for the file system holding `dir`.
fn backing_fs(dir: &Path) -> String {
    let mut probe = dir;
    while !probe.exists() {
        match probe.parent() {
            Some(p) => probe = p,
            None => break,
        }
    }
    let Ok(st) = nix::sys::statfs::statfs(probe) else {
        return "unknown".into();
    };
    #[allow(clippy::unnecessary_cast)]
    let magic = st.filesystem_type().0 as i64;
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x2FC1_2FC1 => "zfs",
        0x794C_7630 => "overlayfs",
        _ => "<unknown>",
    }
    .into()
}

/// The installation's id (docker's engine id: a UUID made once, kept in
/// `<data>/engine-id`). Empty when it can be neither read nor made.
pub fn engine_id(data: &Path) -> String {
    let path = data.join("engine-id");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim();
        if !s.is_empty() {
            return s.to_string();
        }
    }
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let id = format!(
        "{}-{}-{}-{}-{}",
        hex::encode(&b[0..4]),
        hex::encode(&b[4..6]),
        hex::encode(&b[6..8]),
        hex::encode(&b[8..10]),
        hex::encode(&b[10..16])
    );
    if std::fs::create_dir_all(data).is_err() {
        return String::new();
    }
    let tmp = data.join(format!(".engine-id.{}", std::process::id()));
    if std::fs::write(&tmp, format!("{id}\n")).is_err() {
        return String::new();
    }
    // Two first calls at once: the first link wins, both report it.
    let _ = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_filters_parse_like_docker() {
        let now = chrono::Utc::now();
        let f = PruneFilters::parse(
            &[
                "until=24h".into(),
                "label=keep".into(),
                "label!=tier=db".into(),
            ],
            now,
        )
        .unwrap();
        let ago = now - f.until.unwrap();
        assert!(
            (ago - chrono::Duration::hours(24)).num_seconds().abs() <= 1,
            "{ago}"
        );
        assert_eq!(
            f.labels,
            [
                (true, "keep".to_string(), None),
                (false, "tier".to_string(), Some("db".to_string()))
            ]
        );
        let mut labels = std::collections::BTreeMap::new();
        labels.insert("keep".to_string(), "1".to_string());
        assert!(f.labels_match(&labels));
        labels.insert("tier".to_string(), "db".to_string());
        assert!(!f.labels_match(&labels));
        assert!(PruneFilters::parse(&["colour=red".into()], now).is_err());
        assert!(PruneFilters::parse(&["until".into()], now).is_err());
    }

    #[test]
    fn build_cache_prune_empties_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("buildcache");
        assert_eq!(prune_build_cache(&cache).unwrap(), (vec![], 0));
        std::fs::create_dir_all(cache.join("b/sub")).unwrap();
        std::fs::write(cache.join("b/sub/f"), b"12345").unwrap();
        std::fs::write(cache.join("a"), b"123").unwrap();
        let (names, bytes) = prune_build_cache(&cache).unwrap();
        assert_eq!(names, ["a", "b"]);
        assert!(bytes >= 8, "{bytes}");
        assert!(cache.is_dir() && std::fs::read_dir(&cache).unwrap().next().is_none());
    }

    #[test]
    fn os_release_fields_are_unquoted() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n";
        assert_eq!(
            os_release_field(text, "PRETTY_NAME").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(os_release_field(text, "VERSION_ID").as_deref(), Some("12"));
        assert_eq!(os_release_field(text, "ID"), None);
    }

    #[test]
    fn engine_id_is_a_uuid_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = engine_id(dir.path());
        let b = engine_id(dir.path());
        assert_eq!(a, b);
        assert_eq!(a.len(), 36, "{a}");
        let parts: Vec<_> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(a.as_bytes()[14] == b'4', "{a}");
    }

    #[test]
    fn security_options_name_rootless_only_for_users() {
        assert!(security_options(true).contains(&"name=rootless".to_string()));
        assert!(!security_options(false).contains(&"name=rootless".to_string()));
        assert_eq!(security_options(false)[0], "name=seccomp,profile=builtin");
    }
}
