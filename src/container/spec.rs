//! Image config + docker's run flags → [`oci_spec::runtime::Spec`], with
//! docker's defaults (moby `oci/defaults.go`, `daemon/oci_linux.go`,
//! `container.CreateDaemonEnvironment`, `daemon/commit.go` merge).
//!
//! Pure: everything the host could tell is passed in through
//! [`SpecInputs`] (except the host's own hostname for `--network host` and
//! the file of `--security-opt seccomp=FILE`).
//!
//! What the Spec does not carry yet, on purpose:
//! - `linux.seccomp` is docker's default profile resolved for the
//!   container's capabilities ([`crate::runtime::seccomp::default_profile`]),
//!   `None` with `seccomp=unconfined` or `--privileged` (as docker);
//!   `seccomp=PROFILE.json` is read (docker's JSON format) and resolved for
//!   the same capabilities ([`crate::runtime::seccomp::load_profile`]): the
//!   one file `build_spec` reads besides the host's hostname.
//! - no `/sys/fs/cgroup` mount, no cgroup namespace, no `linux.resources`
//!   and no `cgroupsPath`: berth doesn't touch cgroups yet (DESIGN §6).
//! - `linux.devices` is empty: the runtime creates (root) or bind-mounts
//!   (rootless) the OCI default devices (null, zero, full, random, urandom,
//!   tty, console, ptmx).
//! - `root.path` is `rootfs`: the runtime points it at the overlay mount.
//! - Rootless bind mounts must keep the source mount's locked flags
//!   (`nosuid`, `nodev`, …) when remounted read-only: the runtime does that
//!   (docker reads them with statfs at spec time).
//! - Labels go to the container record, not the Spec (docker does the same).
//! - Rootless id maps: the caller's standard map ([`SpecInputs::id_mapping`]),
//!   or podman's keep-id layout ([`IdMapping::keep_id`]) with `--userns=keep-id`
//!   and whenever `-u` names the caller's own uid (docker's
//!   `-u "$(id -u):$(id -g)"` build pattern then leaves files owned by the
//!   caller). Container root is then a subordinate id, so the image's
//!   root-owned files appear owned by the kept uid (podman does the same).

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, Capability, Linux, LinuxCapabilities, LinuxIdMapping, LinuxIdMappingBuilder,
    LinuxNamespace, LinuxNamespaceType, Mount, PosixRlimit, PosixRlimitBuilder, Process, Root,
    Spec, User,
};
use serde_json::Value;

use super::parse::{
    self, BindOrVolume, DEFAULT_PROPAGATION, Resource, Seccomp, Userns, clean_path,
    merge_tmpfs_options, parse_security_opts, parse_ulimit,
};
use super::user::{resolve_group_add, resolve_user};
use crate::userns::{IdMapping, IdRange};

/// docker's default PATH (`oci.DefaultPathEnv`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// docker's default `/dev/shm` size (64 MiB).
pub const DEFAULT_SHM_SIZE: u64 = 64 * 1024 * 1024;

/// Where `--init` puts the init binary (docker's `/sbin/docker-init`).
pub const INIT_PATH: &str = "/sbin/docker-init";

/// docker's default capabilities (moby `oci/caps/defaults.go`), in docker's
/// order.
pub const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability up to the kernel's current last one, by number.
pub const ALL_CAPABILITIES: [&str; 41] = crate::runtime::caps::NAMES;

/// docker's masked paths (docker 28: oci/defaults.go plus
/// `/proc/interrupts`). docker 28 also masks each
/// `/sys/devices/system/cpu/cpu*/thermal_throttle`, which depends on the
/// host: not done here.
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// docker's read-only paths.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// Default rlimits: what a container of a stock docker install (dockerd and
/// containerd under systemd with `LimitNOFILE=infinity`) sees, clamped to
/// the caller's hard limits (DESIGN §6). Other resources are inherited.
pub const DEFAULT_RLIMITS: [(Resource, u64, u64); 1] = [(Resource::Nofile, 1048576, 1048576)];

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// docker's wording.
    #[error("No command specified")]
    NoCommand,
    #[error("unable to find user {0}: no matching entries in passwd file")]
    UserNotFound(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    GroupNotFound(String),
    #[error("Unable to find group {0}: no matching entries in group file")]
    GroupAddNotFound(String),
    #[error("uids and gids must be in range 0-2147483647")]
    IdRange,
    #[error(
        "--ulimit {name}={soft}:{hard}: berth's own hard limit for {name} is {max}, and an unprivileged process cannot raise it (lower the value, or raise the limit for berth, e.g. with `ulimit -H` in a root shell or limits.conf)"
    )]
    UlimitAboveHard {
        name: &'static str,
        soft: u64,
        hard: u64,
        max: u64,
    },
    #[error(
        "{what} {id} is not mapped in the rootless user namespace (mapped: {mapped}); add a range for your user to {file} (e.g. `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER` as root)"
    )]
    Unmapped {
        what: &'static str,
        id: u32,
        mapped: String,
        file: &'static str,
    },
    #[error("{0} is not supported by berth yet")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
}

/// Parsed docker flags (the CLI fills this).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// After IMAGE; empty = the image's Cmd.
    pub command: Vec<String>,
    /// `--entrypoint` (`Some("")` clears the image's).
    pub entrypoint: Option<String>,
    /// `-e K=V` (`-e K` already resolved from the caller's env by the CLI;
    /// a bare `K` left over removes K, as in docker), `--env-file` lines.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub group_add: Vec<String>,
    /// Default: the first 12 hex of the container id (`--network host`: the
    /// host's name, as docker).
    pub hostname: Option<String>,
    pub binds: Vec<BindMount>,
    pub tmpfs: Vec<TmpfsMount>,
    /// `-v NAME:/path`, `-v /path`, `--mount type=volume`: resolved by
    /// [`crate::container::create`] into binds of `volumes/<name>/_data`
    /// (or tmpfs/bind for volumes made with `--opt type=…`) before
    /// [`build_spec`], which never sees them.
    pub volumes: Vec<parse::VolumeMount>,
    /// `--volumes-from CTR[:ro|rw]`: likewise resolved at creation.
    pub volumes_from: Vec<String>,
    pub read_only: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub ulimits: Vec<String>,
    /// Bytes; `None`/0 = 64 MiB.
    pub shm_size: Option<u64>,
    pub network: NetworkMode,
    /// With [`NetworkMode::Container`]: the other container, as given.
    pub network_container: Option<String>,
    /// With [`NetworkMode::User`]: the networks, the first one's name is
    /// docker's `HostConfig.NetworkMode`.
    pub networks: Vec<NetworkRequest>,
    /// `-p` (host ports 0: picked at start).
    pub publish: Vec<crate::network::ports::PortBinding>,
    /// `-P`: the image's exposed ports on free host ports.
    pub publish_all: bool,
    /// `--add-host NAME:IP` as (name, ip); ip may be `host-gateway`.
    pub add_hosts: Vec<(String, String)>,
    /// `--dns`: replaces the nameservers of resolv.conf.
    pub dns: Vec<String>,
    /// `--dns-search`: replaces its search domains (`.` alone: none).
    pub dns_search: Vec<String>,
    pub init: bool,
    pub tty: bool,
    pub interactive: bool,
    pub labels: Vec<String>,
    /// `--userns` ([`parse::parse_userns`]); `None`/`""`/`host`: the default.
    pub userns: Option<String>,
    /// `--sig-proxy=false`: the runtime does not forward the signals `run`
    /// receives (recorded as the [`SIG_PROXY_ANNOTATION`] annotation).
    pub no_sig_proxy: bool,
}

/// Spec annotation recording `--sig-proxy=false` (value `"false"`): whoever
/// waits for the container in the foreground does not forward signals to it.
pub const SIG_PROXY_ANNOTATION: &str = "io.berth.sig-proxy";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMount {
    pub source: PathBuf,
    pub destination: String,
    pub read_only: bool,
    pub propagation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmpfsMount {
    pub destination: String,
    /// The user's options only; docker's defaults are merged in
    /// [`build_spec`] ([`parse::merge_tmpfs_options`]).
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkMode {
    #[default]
    None,
    Host,
    /// docker's default network (`bridge`, `default`): a network namespace
    /// of its own, connected by a user-mode helper ([`crate::network`]).
    Bridge,
    /// User-defined networks ([`RunOptions::networks`]): a network namespace
    /// of its own with one veth per network ([`crate::network::bridge`]).
    User,
    /// `container:NAME`: the network namespace of another, running container
    /// (its path is set when the container starts: the other's pid changes).
    Container,
}

/// `--network NAME` (and later `network connect`): a user-defined network
/// to attach to, with `--network-alias` and `--ip`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkRequest {
    pub network: String,
    pub aliases: Vec<String>,
    pub ip: Option<std::net::Ipv4Addr>,
}

impl NetworkMode {
    /// docker's `HostConfig.NetworkMode` name.
    pub fn name(self) -> &'static str {
        match self {
            NetworkMode::None => "none",
            NetworkMode::Host => "host",
            NetworkMode::Bridge => crate::network::DEFAULT_NETWORK,
            // The network's own name, `container:ID`: the caller records it.
            NetworkMode::User | NetworkMode::Container => "",
        }
    }
}

/// Host files bound into the container.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EtcFiles {
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
    pub hostname: PathBuf,
    /// The init binary for `--init` (bound read-only at [`INIT_PATH`]).
    pub init: Option<PathBuf>,
}

/// The caller's hard rlimits. A resource not listed is unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    hard: BTreeMap<Resource, u64>,
}

impl Limits {
    pub fn unlimited() -> Limits {
        Limits::default()
    }

    /// This process's hard limits (getrlimit).
    pub fn current() -> Limits {
        let mut hard = BTreeMap::new();
        for r in Resource::ALL {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit only writes the struct we pass.
            if unsafe { libc::getrlimit(r.libc(), &mut lim) } == 0
                && lim.rlim_max != libc::RLIM_INFINITY
            {
                hard.insert(r, lim.rlim_max);
            }
        }
        Limits { hard }
    }

    pub fn with(mut self, r: Resource, hard: u64) -> Limits {
        self.hard.insert(r, hard);
        self
    }

    pub fn hard(&self, r: Resource) -> u64 {
        self.hard.get(&r).copied().unwrap_or(parse::UNLIMITED)
    }
}

pub struct SpecInputs<'a> {
    /// The image config blob (`{"config": {Env, Cmd, Entrypoint, WorkingDir, User, …}, …}`).
    pub image_config: &'a Value,
    /// Reads `/etc/passwd`, `/etc/group` from the image's merged layers.
    pub rootfs_etc: &'a dyn Fn(&str) -> Option<String>,
    /// 64 hex.
    pub container_id: &'a str,
    pub rootless: bool,
    pub id_mapping: Option<&'a IdMapping>,
    pub etc_files: EtcFiles,
    pub hard_limits: Limits,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    match v? {
        Value::Array(a) => Some(
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_string())
                .collect(),
        ),
        Value::String(s) => Some(vec![s.clone()]),
        _ => None,
    }
}

/// Entrypoint + Cmd with docker's override rules (daemon `merge` and
/// `mergeAndVerifyConfig`): a given `--entrypoint` (even `""`) drops the
/// image's Cmd; a given command replaces the image's Cmd; `[""]` as the
/// entrypoint means none; nothing left is `No command specified`.
pub fn process_args(opts: &RunOptions, image: &Value) -> Result<Vec<String>, SpecError> {
    let image_cmd = strings(image.get("Cmd")).unwrap_or_default();
    let image_entry = strings(image.get("Entrypoint"));
    let mut entrypoint = opts.entrypoint.as_ref().map(|e| vec![e.clone()]);
    let mut cmd = opts.command.clone();
    if entrypoint.is_none() {
        if cmd.is_empty() {
            cmd = image_cmd;
        }
        entrypoint = image_entry;
    }
    let mut entrypoint = entrypoint.unwrap_or_default();
    if entrypoint.len() == 1 && entrypoint[0].is_empty() {
        entrypoint.clear();
    }
    if entrypoint.is_empty() && cmd.is_empty() {
        return Err(SpecError::NoCommand);
    }
    entrypoint.extend(cmd);
    Ok(entrypoint)
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// The container's environment, as docker builds it: `PATH`, `HOSTNAME`,
/// `TERM=xterm` (tty), then the flags' variables followed by the image's
/// ones the flags don't name; a later value replaces an earlier one of the
/// same name in place; a bare `NAME` removes NAME. `HOME` is appended when
/// missing (runc does it from passwd).
pub fn build_env(
    image_env: &[String],
    flag_env: &[String],
    hostname: &str,
    tty: bool,
    home: &str,
) -> Vec<String> {
    // daemon/commit.go merge: user env, then image env not overridden.
    let mut config_env: Vec<String> = flag_env.to_vec();
    for ie in image_env {
        if !flag_env.iter().any(|fe| env_key(fe) == env_key(ie)) {
            config_env.push(ie.clone());
        }
    }
    let mut env: Vec<Option<String>> = vec![
        Some(format!("PATH={DEFAULT_PATH}")),
        Some(format!("HOSTNAME={hostname}")),
    ];
    if tty {
        env.push(Some("TERM=xterm".to_string()));
    }
    // ReplaceOrAppendEnvValues (a later duplicate replaces the earlier).
    for v in config_env {
        let key = env_key(&v).to_string();
        let pos = env
            .iter()
            .position(|e| e.as_deref().is_some_and(|e| env_key(e) == key));
        match (v.contains('='), pos) {
            (true, Some(i)) => env[i] = Some(v),
            (true, None) => env.push(Some(v)),
            (false, Some(i)) => env[i] = None,
            (false, None) => {}
        }
    }
    let mut env: Vec<String> = env.into_iter().flatten().collect();
    if !env.iter().any(|e| env_key(e) == "HOME") {
        env.push(format!("HOME={home}"));
    }
    env
}

fn normalize_cap(c: &str) -> Result<String, SpecError> {
    let up = c.to_uppercase();
    if up == "ALL" {
        return Ok(up);
    }
    let name = if up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    };
    if ALL_CAPABILITIES.contains(&name.as_str()) {
        Ok(name)
    } else {
        Err(SpecError::Invalid(format!("unknown capability: {c:?}")))
    }
}

/// docker's `TweakCapabilities`: privileged → all; `--cap-add ALL` → all but
/// the dropped; `--cap-drop ALL` → only the added; else defaults − dropped +
/// added. Returns names (`CAP_…`), docker's order, no duplicates.
pub fn capability_names(
    cap_add: &[String],
    cap_drop: &[String],
    privileged: bool,
) -> Result<Vec<String>, SpecError> {
    let all = || ALL_CAPABILITIES.iter().map(|s| s.to_string());
    if privileged {
        return Ok(all().collect());
    }
    let add = cap_add
        .iter()
        .map(|c| normalize_cap(c))
        .collect::<Result<Vec<_>, _>>()?;
    let drop = cap_drop
        .iter()
        .map(|c| normalize_cap(c))
        .collect::<Result<Vec<_>, _>>()?;
    let has_all = |v: &[String]| v.iter().any(|c| c == "ALL");
    let caps: Vec<String> = if has_all(&add) {
        all().filter(|c| !drop.contains(c)).collect()
    } else if has_all(&drop) {
        add
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|s| s.to_string())
            .filter(|c| !drop.contains(c))
            .chain(add)
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for c in caps {
        if c != "ALL" && !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

fn to_capabilities(names: &[String]) -> Capabilities {
    names
        .iter()
        .filter_map(|n| serde_json::from_value::<Capability>(Value::String(n.clone())).ok())
        .collect()
}

fn mount(dst: &str, typ: &str, src: &str, opts: &[&str]) -> Mount {
    let mut m = Mount::default();
    m.set_destination(PathBuf::from(dst));
    m.set_typ(Some(typ.to_string()));
    m.set_source(Some(PathBuf::from(src)));
    m.set_options(Some(opts.iter().map(|s| s.to_string()).collect()));
    m
}

fn maps(ranges: &[IdRange], id: u32) -> bool {
    ranges
        .iter()
        .any(|r| id >= r.container && (id - r.container) < r.size)
}

fn describe(ranges: &[IdRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            if r.size == 1 {
                r.container.to_string()
            } else {
                format!("{}-{}", r.container, r.container as u64 + r.size as u64 - 1)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn oci_mapping(ranges: &[IdRange]) -> Vec<LinuxIdMapping> {
    ranges
        .iter()
        .map(|r| {
            LinuxIdMappingBuilder::default()
                .container_id(r.container)
                .host_id(r.host)
                .size(r.size)
                .build()
                .expect("every field is set")
        })
        .collect()
}

fn rlimit(res: Resource, soft: u64, hard: u64) -> PosixRlimit {
    PosixRlimitBuilder::default()
        .typ(res.oci())
        .soft(soft)
        .hard(hard)
        .build()
        .expect("every field is set")
}

fn depth(dst: &str) -> usize {
    clean_path(dst).matches('/').count()
}

/// Build the container's Spec.
pub fn build_spec(opts: &RunOptions, inputs: &SpecInputs) -> Result<Spec, SpecError> {
    let null = Value::Null;
    let image = inputs.image_config.get("config").unwrap_or(&null);

    // Command.
    let mut args = process_args(opts, image)?;
    if opts.init {
        let Some(_) = inputs.etc_files.init else {
            return Err(SpecError::Unsupported(
                "--init without an init binary (install Debian's `tini` package for /usr/bin/tini-static)"
                    .to_string(),
            ));
        };
        let mut with_init = vec![INIT_PATH.to_string(), "--".to_string()];
        with_init.append(&mut args);
        args = with_init;
    }

    // Hostname.
    let hostname = match (&opts.hostname, opts.network) {
        (Some(h), _) if !h.is_empty() => h.clone(),
        (_, NetworkMode::Host) => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".to_string()),
        _ => inputs
            .container_id
            .get(..12)
            .unwrap_or(inputs.container_id)
            .to_string(),
    };

    // User, and the id mapping it may call for (keep-id).
    let userns = parse::parse_userns(opts.userns.as_deref().unwrap_or(""))?;
    let flag_user = opts.user.as_deref().filter(|u| !u.is_empty());
    let owner = inputs.id_mapping.map(IdMapping::owner);
    let keep_target = match (userns, owner) {
        (Userns::KeepId { uid, gid }, Some((own_uid, own_gid))) => {
            Some((uid.unwrap_or(own_uid), gid.unwrap_or(own_gid)))
        }
        _ => None,
    };
    let user_spec = match (flag_user, keep_target) {
        (Some(u), _) => u.to_string(),
        // podman: keep-id runs the container as the kept ids unless -u is given.
        (None, Some((uid, gid))) => format!("{uid}:{gid}"),
        (None, None) => image
            .get("User")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    };
    let passwd = (inputs.rootfs_etc)("/etc/passwd");
    let group = (inputs.rootfs_etc)("/etc/group");
    let resolved = resolve_user(&user_spec, passwd.as_deref(), group.as_deref())?;
    let mut gids = resolved.additional_gids.clone();
    for g in resolve_group_add(&opts.group_add, group.as_deref())? {
        gids.push(g);
    }
    // Rootless, a `-u` naming the caller's own uid keeps it (the
    // build-in-container pattern `-u "$(id -u):$(id -g)" -v "$PWD":/src`
    // leaves files owned by the caller, as with docker). Only for `-u`: an
    // image's own USER that happens to equal the caller's uid keeps the
    // standard mapping, so the image's files stay its user's.
    let keep_target = keep_target.or_else(|| match owner {
        Some((own_uid, own_gid))
            if flag_user.is_some() && resolved.uid == own_uid && own_uid != 0 =>
        {
            Some((own_uid, own_gid))
        }
        _ => None,
    });
    let kept;
    let mapping = match (inputs.id_mapping, keep_target) {
        (Some(m), Some((uid, gid))) => {
            kept = m.keep_id(uid, gid);
            Some(&kept)
        }
        (m, _) => m,
    };
    if let Some(m) = mapping {
        if !maps(&m.uids, resolved.uid) {
            return Err(SpecError::Unmapped {
                what: "uid",
                id: resolved.uid,
                mapped: describe(&m.uids),
                file: "/etc/subuid",
            });
        }
        if !maps(&m.gids, resolved.gid) {
            return Err(SpecError::Unmapped {
                what: "gid",
                id: resolved.gid,
                mapped: describe(&m.gids),
                file: "/etc/subgid",
            });
        }
        // Supplementary groups the namespace can't name are dropped, so a
        // single-id mapping still runs (setgroups would fail otherwise).
        gids.retain(|g| maps(&m.gids, *g));
    }
    let mut user = User::default();
    user.set_uid(resolved.uid);
    user.set_gid(resolved.gid);
    user.set_additional_gids(Some(gids));

    // Environment and cwd.
    let image_env = strings(image.get("Env")).unwrap_or_default();
    let env = build_env(&image_env, &opts.env, &hostname, opts.tty, &resolved.home);
    let cwd = match &opts.workdir {
        Some(w) if !w.is_empty() => {
            if !w.starts_with('/') {
                return Err(SpecError::Invalid(format!(
                    "the working directory '{w}' is invalid, it needs to be an absolute path"
                )));
            }
            clean_path(w)
        }
        _ => match image.get("WorkingDir").and_then(Value::as_str) {
            Some(w) if !w.is_empty() => clean_path(&format!("/{w}")),
            _ => "/".to_string(),
        },
    };

    // Security.
    let security = parse_security_opts(&opts.security_opt)?;
    let cap_names = capability_names(&opts.cap_add, &opts.cap_drop, opts.privileged)?;
    let caps = to_capabilities(&cap_names);
    // docker: --privileged runs without seccomp, even with a profile given
    // (whose file the CLI still reads).
    let seccomp = match &security.seccomp {
        Seccomp::Unconfined => None,
        Seccomp::Default => {
            (!opts.privileged).then(|| crate::runtime::seccomp::default_profile(&cap_names))
        }
        Seccomp::Profile(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| {
                SpecError::Invalid(format!(
                    "opening seccomp profile ({}) failed: {e}",
                    path.display()
                ))
            })?;
            if opts.privileged {
                None
            } else {
                Some(
                    crate::runtime::seccomp::load_profile(&json, &cap_names).map_err(|e| {
                        SpecError::Invalid(format!(
                            "loading seccomp profile {}: {}",
                            path.display(),
                            e.0
                        ))
                    })?,
                )
            }
        }
    };
    // docker ≥ 24 (moby#45511) puts the set in bounding, effective and
    // permitted for every user; execve as a non-root uid clears effective
    // and permitted. Inheritable and ambient stay empty (CVE-2022-24769).
    let mut capabilities = LinuxCapabilities::default();
    capabilities.set_bounding(Some(caps.clone()));
    capabilities.set_effective(Some(caps.clone()));
    capabilities.set_permitted(Some(caps));
    capabilities.set_inheritable(None);
    capabilities.set_ambient(None);

    // Rlimits: the user's, then the defaults they don't name.
    let mut rlimits: Vec<PosixRlimit> = Vec::new();
    let mut named: Vec<Resource> = Vec::new();
    for raw in &opts.ulimits {
        let u = parse_ulimit(raw)?;
        let max = inputs.hard_limits.hard(u.resource);
        if u.hard > max {
            return Err(SpecError::UlimitAboveHard {
                name: u.resource.name(),
                soft: u.soft,
                hard: u.hard,
                max,
            });
        }
        let r = rlimit(u.resource, u.soft, u.hard);
        if let Some(i) = named.iter().position(|n| *n == u.resource) {
            rlimits[i] = r;
        } else {
            named.push(u.resource);
            rlimits.push(r);
        }
    }
    for (res, soft, hard) in DEFAULT_RLIMITS {
        if named.contains(&res) {
            continue;
        }
        let max = inputs.hard_limits.hard(res);
        rlimits.push(rlimit(res, soft.min(max), hard.min(max)));
    }

    let mut process = Process::default();
    process.set_terminal(Some(opts.tty));
    process.set_console_size(None);
    process.set_user(user);
    process.set_args(Some(args));
    process.set_env(Some(env));
    process.set_cwd(PathBuf::from(cwd));
    process.set_capabilities(Some(capabilities));
    process.set_rlimits(Some(rlimits));
    process.set_no_new_privileges(security.no_new_privileges.then_some(true));
    process.set_apparmor_profile(None);
    process.set_oom_score_adj(None);
    process.set_selinux_label(None);

    // Mounts: docker's defaults, minus those a user mount replaces, then the
    // user's and the /etc files sorted by depth (stable).
    let mapping_has_gid5 = mapping.is_none_or(|m| maps(&m.gids, 5));
    let devpts_opts: Vec<&str> = [
        "nosuid",
        "noexec",
        "newinstance",
        "ptmxmode=0666",
        "mode=0620",
        "gid=5",
    ]
    .into_iter()
    // gid=5 can't be named when the namespace doesn't map it.
    .filter(|o| *o != "gid=5" || mapping_has_gid5)
    .collect();
    let shm_size = match opts.shm_size {
        Some(n) if n > 0 => n,
        _ => DEFAULT_SHM_SIZE,
    };
    let shm_size_opt = format!("size={shm_size}");
    // Rootless with the host's network namespace: sysfs can't be mounted
    // from a user namespace that doesn't own the netns; bind the host's.
    let sys = if inputs.rootless && opts.network == NetworkMode::Host {
        mount(
            "/sys",
            "bind",
            "/sys",
            &["rbind", "nosuid", "noexec", "nodev", "ro"],
        )
    } else {
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        )
    };
    let defaults = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount("/dev/pts", "devpts", "devpts", &devpts_opts),
        sys,
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", &shm_size_opt],
        ),
    ];

    let mut user_mounts: Vec<Mount> = Vec::new();
    for b in &opts.binds {
        let mut o = vec!["rbind"];
        if b.read_only {
            o.push("ro");
        }
        o.push(b.propagation.as_deref().unwrap_or(DEFAULT_PROPAGATION));
        user_mounts.push(mount(
            &clean_path(&b.destination),
            "bind",
            &b.source.to_string_lossy(),
            &o,
        ));
    }
    let user_dsts: Vec<String> = opts
        .binds
        .iter()
        .map(|b| clean_path(&b.destination))
        .chain(opts.tmpfs.iter().map(|t| clean_path(&t.destination)))
        .collect();
    let etc = &inputs.etc_files;
    for (dst, src) in [
        ("/etc/resolv.conf", &etc.resolv_conf),
        ("/etc/hostname", &etc.hostname),
        ("/etc/hosts", &etc.hosts),
    ] {
        if user_dsts.iter().any(|d| d == dst) || src.as_os_str().is_empty() {
            continue;
        }
        let o: &[&str] = if opts.read_only {
            &["rbind", "ro", DEFAULT_PROPAGATION]
        } else {
            &["rbind", DEFAULT_PROPAGATION]
        };
        user_mounts.push(mount(dst, "bind", &src.to_string_lossy(), o));
    }
    for t in &opts.tmpfs {
        let merged = merge_tmpfs_options(&t.options);
        let o: Vec<&str> = merged.iter().map(String::as_str).collect();
        user_mounts.push(mount(&clean_path(&t.destination), "tmpfs", "tmpfs", &o));
    }
    user_mounts.sort_by_key(|m| depth(&m.destination().to_string_lossy()));

    let user_dev = user_dsts.iter().any(|d| d == "/dev");
    let mut mounts: Vec<Mount> = defaults
        .into_iter()
        .filter(|m| {
            let d = m.destination().to_string_lossy().to_string();
            !(user_dsts.contains(&d) || user_dev && d.starts_with("/dev/"))
        })
        .collect();
    if opts.privileged {
        // docker clears ro on /sys for privileged containers.
        for m in &mut mounts {
            if m.destination() == &PathBuf::from("/sys") {
                let o: Vec<String> = m
                    .options()
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| o != "ro")
                    .collect();
                m.set_options(Some(o));
            }
        }
    }
    mounts.extend(user_mounts);
    if let (true, Some(init)) = (opts.init, &etc.init) {
        mounts.push(mount(
            INIT_PATH,
            "bind",
            &init.to_string_lossy(),
            &["bind", "ro"],
        ));
    }

    // Namespaces (docker's order), user last.
    let ns = |t: LinuxNamespaceType| {
        let mut n = LinuxNamespace::default();
        n.set_typ(t);
        n
    };
    let mut namespaces = vec![ns(LinuxNamespaceType::Mount)];
    if opts.network != NetworkMode::Host {
        namespaces.push(ns(LinuxNamespaceType::Network));
    }
    namespaces.push(ns(LinuxNamespaceType::Uts));
    namespaces.push(ns(LinuxNamespaceType::Pid));
    namespaces.push(ns(LinuxNamespaceType::Ipc));

    let mut linux = Linux::default();
    if inputs.rootless {
        namespaces.push(ns(LinuxNamespaceType::User));
        if let Some(m) = mapping {
            linux.set_uid_mappings(Some(oci_mapping(&m.uids)));
            linux.set_gid_mappings(Some(oci_mapping(&m.gids)));
        }
    } else {
        linux.set_uid_mappings(None);
        linux.set_gid_mappings(None);
    }
    linux.set_namespaces(Some(namespaces));
    linux.set_resources(None);
    linux.set_devices(None);
    linux.set_seccomp(seccomp);
    if opts.privileged {
        linux.set_masked_paths(None);
        linux.set_readonly_paths(None);
    } else {
        linux.set_masked_paths(Some(MASKED_PATHS.iter().map(|s| s.to_string()).collect()));
        linux.set_readonly_paths(Some(READONLY_PATHS.iter().map(|s| s.to_string()).collect()));
    }
    // docker's default sysctls for a private network namespace; ping
    // sockets can't be set up from a user namespace.
    let mut sysctl = std::collections::HashMap::new();
    if opts.network != NetworkMode::Host {
        if !inputs.rootless {
            sysctl.insert(
                "net.ipv4.ping_group_range".to_string(),
                "0 2147483647".to_string(),
            );
        }
        sysctl.insert(
            "net.ipv4.ip_unprivileged_port_start".to_string(),
            "0".to_string(),
        );
    }
    linux.set_sysctl(Some(sysctl));

    let mut root = Root::default();
    root.set_path(PathBuf::from("rootfs"));
    root.set_readonly(Some(opts.read_only));

    let mut spec = Spec::default();
    spec.set_version(oci_spec::runtime::VERSION.to_string());
    spec.set_root(Some(root));
    spec.set_mounts(Some(mounts));
    spec.set_process(Some(process));
    spec.set_hostname(Some(hostname));
    spec.set_domainname(None);
    spec.set_hooks(None);
    spec.set_annotations(opts.no_sig_proxy.then(|| {
        std::collections::HashMap::from([(SIG_PROXY_ANNOTATION.to_string(), "false".to_string())])
    }));
    spec.set_linux(Some(linux));
    Ok(spec)
}

/// Resolve `-v`/`--mount` results into binds and tmpfs for [`RunOptions`];
/// volumes are returned apart (their issue comes later).
pub fn split_mounts(
    parsed: Vec<BindOrVolume>,
) -> (Vec<BindMount>, Vec<TmpfsMount>, Vec<parse::VolumeMount>) {
    let (mut b, mut t, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for p in parsed {
        match p {
            BindOrVolume::Bind { mount, .. } => b.push(mount),
            BindOrVolume::Tmpfs(m) => t.push(m),
            BindOrVolume::Volume(m) => v.push(m),
        }
    }
    (b, t, v)
}
