//! Creating a container from a stored image and docker's run flags: its
//! record, its directories and /etc files, its Spec and the plan the runtime
//! executes; and removing it again.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use chrono::Utc;

use super::record::{self, ContainerConfig, ContainerStore, RecordError};
use super::spec::{self, EtcFiles, Limits, NetworkMode, RunOptions, SpecError, SpecInputs};
use crate::context::Context;
use crate::image::local;
use crate::image::store::{ImageRecord, StoreError};
use crate::runtime::{ContainerPlan, RootfsPlan};

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Userns(#[from] crate::userns::UsernsError),
    #[error(transparent)]
    Volume(#[from] crate::volume::VolumeError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    #[error("preparing container {what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CreateError {
    let what = what.into();
    move |source| CreateError::Io { what, source }
}

/// A container that exists on disk and is ready to run.
pub struct Prepared {
    pub config: ContainerConfig,
    pub plan: ContainerPlan,
}

/// Reads `path` (like `/etc/passwd`) from the image's layers, top first, as the
/// container will see it: a whiteout or an opaque dir above hides what is below.
pub fn read_from_layers(layers: &[PathBuf], path: &str) -> Option<String> {
    let rel = path.trim_start_matches('/');
    for layer in layers {
        let p = layer.join(rel);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_char_device() => return None,
            Ok(m) if m.is_file() => return std::fs::read_to_string(&p).ok(),
            Ok(_) => return None,
            Err(_) => {
                let parent = p.parent().unwrap_or(layer);
                let opaque = crate::image::store::has_opaque_marker(parent);
                if opaque {
                    return None;
                }
            }
        }
    }
    None
}

/// Like docker: a generated name that is taken is generated again, with a
/// number added after a few tries.
fn create_with_generated_name(
    containers: &ContainerStore,
    config: &mut ContainerConfig,
) -> Result<PathBuf, CreateError> {
    for attempt in 0..16 {
        config.name = record::generate_name();
        if attempt >= 3 {
            config
                .name
                .push_str(&rand::random_range(0..10_000).to_string());
        }
        match containers.create(config) {
            Err(RecordError::NameInUse { .. }) => continue,
            other => return Ok(other?),
        }
    }
    config.name = format!("berth_{}", &config.id[..12]);
    Ok(containers.create(config)?)
}

/// What `create`/`run` record about a container beyond its runtime spec.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `--name`; None: a generated one.
    pub name: Option<String>,
    /// `--rm`.
    pub auto_remove: bool,
    pub restart_policy: record::RestartPolicy,
    /// `--stop-signal`; None: the image's StopSignal, else SIGTERM.
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    /// `--log-opt max-size` in bytes (0: unlimited) and `max-file`.
    pub log_max_size: u64,
    pub log_max_file: u32,
    /// `--health-*` flags: each set field replaces the image's; `--no-healthcheck` is `test = ["NONE"]`.
    pub healthcheck: record::Healthcheck,
}

/// docker's merge of `--health-*` over the image's HEALTHCHECK; None when
/// there is no check (or `NONE`).
pub fn merge_healthcheck(
    flags: &record::Healthcheck,
    image: Option<&serde_json::Value>,
) -> Option<record::Healthcheck> {
    let mut hc: record::Healthcheck = image
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    if !flags.test.is_empty() {
        hc.test = flags.test.clone();
    }
    for (mine, theirs) in [
        (&mut hc.interval, flags.interval),
        (&mut hc.timeout, flags.timeout),
        (&mut hc.start_period, flags.start_period),
        (&mut hc.start_interval, flags.start_interval),
        (&mut hc.retries, flags.retries),
    ] {
        if theirs != 0 {
            *mine = theirs;
        }
    }
    match hc.test.first().map(String::as_str) {
        None | Some("NONE") => None,
        _ => Some(hc),
    }
}

/// Creates the container's record and files and builds what the runtime needs.
/// On error nothing is left behind (the name is free again).
pub fn prepare(
    ctx: &Context,
    image: &ImageRecord,
    image_name: &str,
    opts: &RunOptions,
    settings: &Settings,
) -> Result<Prepared, CreateError> {
    let name = settings.name.as_deref();
    let store = ctx.store()?;
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let id = record::generate_id();
    let given = name.map(record::validate_name).transpose()?;
    let image_config = local::config_json(store, image)?;
    let layers: Vec<PathBuf> = image
        .layers
        .iter()
        .rev()
        .map(|l| store.layer_diff(&l.diff_id))
        .collect::<Result<_, _>>()?;
    let labels = super::parse::parse_labels(&opts.labels)?;
    let mut config = ContainerConfig {
        id: id.clone(),
        name: given.clone().unwrap_or_default(),
        created: Utc::now(),
        image: image_name.to_string(),
        image_id: image.id.clone(),
        spec: serde_json::Value::Null,
        command: Vec::new(),
        mounts: Vec::new(),
        layers: layers.clone(),
        auto_remove: settings.auto_remove,
        labels,
        tty: opts.tty,
        open_stdin: opts.interactive,
        restart_policy: settings.restart_policy.clone(),
        stop_signal: settings.stop_signal.clone().or_else(|| {
            image_config
                .pointer("/config/StopSignal")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(String::from)
        }),
        stop_timeout: settings.stop_timeout,
        log_max_size: settings.log_max_size,
        log_max_file: settings.log_max_file,
        healthcheck: merge_healthcheck(
            &settings.healthcheck,
            image_config.pointer("/config/Healthcheck"),
        ),
        network_mode: opts.network.name().into(),
        network_helper: String::new(),
        port_bindings: opts.publish.clone(),
        publish_all: opts.publish_all,
        exposed_ports: image_config
            .pointer("/config/ExposedPorts")
            .and_then(|v| v.as_object())
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default(),
        volumes: Vec::new(),
        networks: Vec::new(),
    };
    let (volumes, inherited_binds) = plan_volumes(ctx, opts, &image_config)?;
    config.volumes = volumes
        .iter()
        .map(|v| record::VolumeRef {
            name: v.name.clone(),
            destination: v.destination.clone(),
        })
        .collect();
    // From the record's creation until its volumes exist, none of them can be removed.
    let volume_store = crate::volume::VolumeStore::open(&ctx.paths.data)?;
    let _volume_lock = if volumes.is_empty() {
        None
    } else {
        Some(volume_store.lock_shared()?)
    };
    // Network: rootless, the helper of the default network is chosen now
    // (the addresses in /etc/hosts depend on it); a missing one fails here.
    // As root the default network is the `berth0` bridge, an endpoint like
    // a user-defined network's.
    let rootless = ctx.paths.rootless;
    let helper = match opts.network {
        NetworkMode::Bridge if rootless => Some(crate::network::Helper::find()?),
        _ => None,
    };
    if let Some(h) = helper {
        config.network_helper = h.name().into();
    }
    let requests = match opts.network {
        NetworkMode::User => opts.networks.clone(),
        NetworkMode::Bridge if !rootless => vec![spec::NetworkRequest {
            network: crate::network::DEFAULT_NETWORK.into(),
            aliases: Vec::new(),
            ip: None,
        }],
        _ => Vec::new(),
    };
    // Bridge endpoints: addresses are handed out under the network store's
    // lock, held until the record that holds them is written.
    let _network_lock = if !requests.is_empty() {
        let networks = crate::network::store::NetworkStore::open(&ctx.paths.data)
            .map_err(crate::network::NetworkError::from)?;
        let (lock, endpoints) = crate::network::plan_endpoints(
            &networks,
            &containers,
            &requests,
            &[],
            &containers.dir(&config.id),
        )?;
        config.network_mode = endpoints
            .first()
            .map(|e| e.network.clone())
            .unwrap_or_default();
        config.networks = endpoints;
        Some(lock)
    } else {
        None
    };
    if let Some(target) = &opts.network_container {
        // docker records the other container's full id.
        let target_id = containers.resolve(target)?;
        config.network_mode = format!("container:{target_id}");
    }
    let dir = match given {
        Some(_) => containers.create(&config)?,
        None => create_with_generated_name(&containers, &mut config)?,
    };
    crate::events::container(&ctx.paths.data, &config, "create", &[]);
    drop(_network_lock);
    let mut opts = opts.clone();
    opts.binds.extend(inherited_binds);
    let mounted = mount_volumes(ctx, &volume_store, &volumes, &layers, &mut opts);
    drop(_volume_lock);
    let filled = mounted.and_then(|()| {
        fill(
            ctx,
            &containers,
            &mut config,
            &dir,
            &image_config,
            &layers,
            &opts,
        )
    });
    match filled {
        Ok(plan) => Ok(Prepared { config, plan }),
        Err(e) => {
            let _ = remove_with(ctx, &config, true);
            Err(e)
        }
    }
}

/// A volume the container will mount.
#[derive(Debug, Clone, Default)]
struct PlannedVolume {
    name: String,
    destination: String,
    read_only: bool,
    no_copy: bool,
    subpath: Option<String>,
    /// Made for this container (`-v /path`, the image's `VOLUME`s).
    anonymous: bool,
    /// `--mount volume-driver/-label/-opt`: used only when the volume is new.
    driver: Option<String>,
    labels: std::collections::BTreeMap<String, String>,
    options: std::collections::BTreeMap<String, String>,
}

/// docker's volume sources, in its order of precedence: `-v`/`--mount`
/// (named ones made on first use, anonymous ones named now), then
/// `--volumes-from` (its volumes and binds, for destinations still free),
/// then the image's `VOLUME`s (anonymous) where nothing else is mounted.
fn plan_volumes(
    ctx: &Context,
    opts: &RunOptions,
    image_config: &serde_json::Value,
) -> Result<(Vec<PlannedVolume>, Vec<spec::BindMount>), CreateError> {
    use super::parse::clean_path;
    let mut taken: std::collections::BTreeSet<String> = opts
        .binds
        .iter()
        .map(|b| clean_path(&b.destination))
        .chain(opts.tmpfs.iter().map(|t| clean_path(&t.destination)))
        .collect();
    let mut planned = Vec::new();
    for v in &opts.volumes {
        let destination = clean_path(&v.destination);
        taken.insert(destination.clone());
        planned.push(PlannedVolume {
            name: v.name.clone().unwrap_or_else(crate::volume::generate_name),
            destination,
            read_only: v.read_only,
            no_copy: v.no_copy,
            subpath: v.subpath.clone(),
            anonymous: v.name.is_none(),
            driver: v.driver.clone(),
            labels: v.labels.iter().cloned().collect(),
            options: v.options.iter().cloned().collect(),
        });
    }
    let mut binds = Vec::new();
    if !opts.volumes_from.is_empty() {
        let containers = ContainerStore::open(&ctx.paths.data)?;
        for from in &opts.volumes_from {
            let (name, mode) = match from.rsplit_once(':') {
                Some((n, m @ ("ro" | "rw"))) => (n, Some(m == "ro")),
                Some((_, m)) => {
                    return Err(CreateError::Invalid(format!("invalid mode: {m}")));
                }
                None => (from.as_str(), None),
            };
            let id = containers.resolve(name)?;
            let other = containers.read_config(&id)?;
            for m in super::view::mounts(&other) {
                let destination = clean_path(&m.destination);
                if !taken.insert(destination.clone()) {
                    continue;
                }
                let read_only = mode.unwrap_or(m.read_only);
                match m.name {
                    Some(volume) => planned.push(PlannedVolume {
                        name: volume,
                        destination,
                        read_only,
                        no_copy: true,
                        subpath: None,
                        anonymous: false,
                        ..Default::default()
                    }),
                    None => binds.push(spec::BindMount {
                        source: PathBuf::from(&m.source),
                        destination,
                        read_only,
                        propagation: Some(m.propagation),
                    }),
                }
            }
        }
    }
    if let Some(image_volumes) = image_config
        .pointer("/config/Volumes")
        .and_then(|v| v.as_object())
    {
        for dst in image_volumes.keys() {
            let destination = clean_path(dst);
            if !destination.starts_with('/') || !taken.insert(destination.clone()) {
                continue;
            }
            planned.push(PlannedVolume {
                name: crate::volume::generate_name(),
                destination,
                read_only: false,
                no_copy: false,
                subpath: None,
                anonymous: true,
                ..Default::default()
            });
        }
    }
    Ok((planned, binds))
}

/// Makes the planned volumes that don't exist yet, copies the image's files
/// into new ones, and turns each into the bind (or tmpfs) the spec mounts.
fn mount_volumes(
    ctx: &Context,
    store: &crate::volume::VolumeStore,
    volumes: &[PlannedVolume],
    layers: &[PathBuf],
    opts: &mut RunOptions,
) -> Result<(), CreateError> {
    use crate::volume::MountKind;
    for v in volumes {
        let mut labels = v.labels.clone();
        if v.anonymous {
            labels.insert(crate::volume::ANONYMOUS_LABEL.to_string(), String::new());
        }
        let (volume, _) = store.create(
            Some(&v.name),
            v.driver.as_deref(),
            labels,
            v.options.clone(),
        )?;
        match volume.mount_kind() {
            MountKind::Directory => {
                let mut source = volume.mountpoint.clone();
                if let Some(sub) = &v.subpath {
                    let clean = super::parse::clean_path(sub);
                    if sub.starts_with('/') || clean.starts_with("..") {
                        return Err(CreateError::Invalid(format!(
                            "invalid volume subpath: {sub}: must be relative and stay inside the volume"
                        )));
                    }
                    source = source.join(clean);
                    if !source.exists() {
                        return Err(CreateError::Invalid(format!(
                            "cannot access path {}: no such file or directory",
                            source.display()
                        )));
                    }
                } else if !v.no_copy && !store.is_populated(&v.name) {
                    copy_up(ctx, store, &volume, layers, &v.destination)?;
                }
                opts.binds.push(spec::BindMount {
                    source,
                    destination: v.destination.clone(),
                    read_only: v.read_only,
                    propagation: None,
                });
            }
            MountKind::Tmpfs { options } => {
                let mut options: Vec<String> = options
                    .split(',')
                    .filter(|o| !o.is_empty())
                    .map(String::from)
                    .collect();
                if v.read_only {
                    options.push("ro".into());
                }
                opts.tmpfs.push(spec::TmpfsMount {
                    destination: v.destination.clone(),
                    options,
                });
            }
            MountKind::Bind { device, read_only } => opts.binds.push(spec::BindMount {
                source: device,
                destination: v.destination.clone(),
                read_only: read_only || v.read_only,
                propagation: None,
            }),
            MountKind::Unsupported(t) => {
                return Err(CreateError::Invalid(format!(
                    "volume {}: type {t} is not supported",
                    v.name
                )));
            }
        }
    }
    Ok(())
}

/// Fills an empty, never populated volume with the image's files at
/// `destination` (rootless inside the user namespace, so owners are the
/// real subordinate ids), and marks it populated if anything was copied.
fn copy_up(
    ctx: &Context,
    store: &crate::volume::VolumeStore,
    volume: &crate::volume::Volume,
    layers: &[PathBuf],
    destination: &str,
) -> Result<(), CreateError> {
    let name = &volume.meta.name;
    // One copy at a time per volume; the second sees it populated.
    let lock_path = store.volume_dir(name).join("volume.json");
    let lock = std::fs::File::open(&lock_path).map_err(io(lock_path.display().to_string()))?;
    lock.lock().map_err(io(lock_path.display().to_string()))?;
    if store.is_populated(name) {
        return Ok(());
    }
    let what = || format!("copying the image's {destination} into volume {name}");
    let copied = if ctx.paths.rootless {
        let mapping = ctx.id_mapping()?.cloned();
        let mut args: Vec<std::ffi::OsString> = vec![
            "volume-copy-up".into(),
            "--dest".into(),
            volume.mountpoint.clone().into(),
            "--path".into(),
            destination.into(),
        ];
        for l in layers {
            args.push("--lower".into());
            args.push(l.clone().into());
        }
        let child = crate::userns::spawn_helper(&ctx.paths, mapping.as_ref(), args)?;
        let out = child.wait_with_output().map_err(io(what()))?;
        if !out.status.success() {
            return Err(CreateError::Io {
                what: what(),
                source: std::io::Error::other(
                    String::from_utf8_lossy(&out.stderr)
                        .trim()
                        .trim_start_matches("Error: ")
                        .to_string(),
                ),
            });
        }
        String::from_utf8_lossy(&out.stdout).trim() == "copied"
    } else {
        crate::volume::copyup::copy_up(layers, destination, &volume.mountpoint)
            .map_err(io(what()))?
    };
    if copied {
        store.mark_populated(name)?;
    }
    Ok(())
}

fn fill(
    ctx: &Context,
    containers: &ContainerStore,
    config: &mut ContainerConfig,
    dir: &Path,
    image_config: &serde_json::Value,
    layers: &[PathBuf],
    opts: &RunOptions,
) -> Result<ContainerPlan, CreateError> {
    let rootfs = RootfsPlan {
        lower: layers.to_vec(),
        upper: dir.join("upper"),
        work: dir.join("work"),
        merged: dir.join("merged"),
    };
    for d in [&rootfs.upper, &rootfs.work, &rootfs.merged] {
        std::fs::create_dir(d).map_err(io(d.display().to_string()))?;
    }
    for b in &opts.binds {
        if !b.source.exists() {
            // `-v` creates a missing host directory, as docker does (`--mount` was refused by the caller).
            std::fs::create_dir_all(&b.source)
                .map_err(io(format!("bind source {}", b.source.display())))?;
        }
    }
    let hostname = match (&opts.hostname, &opts.network) {
        (Some(h), _) => h.clone(),
        (None, NetworkMode::Host) => nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| config.id[..12].to_string()),
        (None, NetworkMode::None | NetworkMode::Bridge | NetworkMode::User) => {
            config.id[..12].to_string()
        }
        // docker: the other container's name for the network, its files.
        (None, NetworkMode::Container) => read_target_file(containers, config, "hostname")?
            .trim()
            .to_string(),
    };
    let etc = EtcFiles {
        hosts: dir.join("hosts"),
        resolv_conf: dir.join("resolv.conf"),
        hostname: dir.join("hostname"),
        init: if opts.init { find_init_binary() } else { None },
    };
    let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let (hosts, resolv) = if opts.network == NetworkMode::Container {
        (
            read_target_file(containers, config, "hosts")?,
            read_target_file(containers, config, "resolv.conf")?,
        )
    } else {
        network_etc(
            opts,
            &hostname,
            config,
            ctx.paths.rootless,
            &host_hosts,
            &host_resolv,
        )?
    };
    let writes = [
        (&etc.hosts, hosts),
        (&etc.resolv_conf, resolv),
        (&etc.hostname, super::etc::hostname_file(&hostname)),
    ];
    for (path, text) in writes {
        std::fs::write(path, text).map_err(io(path.display().to_string()))?;
    }
    let mapping = ctx.id_mapping()?;
    let etc_reader = |p: &str| read_from_layers(layers, p);
    let mut run_opts = opts.clone();
    run_opts.hostname = Some(hostname);
    let inputs = SpecInputs {
        image_config,
        rootfs_etc: &etc_reader,
        container_id: &config.id,
        rootless: ctx.paths.rootless,
        id_mapping: mapping,
        etc_files: etc,
        hard_limits: Limits::current(),
    };
    let spec = spec::build_spec(&run_opts, &inputs)?;
    config.spec = serde_json::to_value(&spec).expect("spec serialises");
    config.command = spec
        .process()
        .as_ref()
        .and_then(|p| p.args().clone())
        .unwrap_or_default();
    config.mounts = config
        .spec
        .get("mounts")
        .and_then(|m| m.as_array())
        .map(|list| {
            list.iter()
                .filter(|m| m.get("type").and_then(|t| t.as_str()) == Some("bind"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    containers.write_config(config)?;
    let _ = dir;
    Ok(ContainerPlan { spec, rootfs })
}

/// A generated /etc file of the container whose network namespace
/// `config` shares (`--network container:ID`).
fn read_target_file(
    containers: &ContainerStore,
    config: &ContainerConfig,
    name: &str,
) -> Result<String, CreateError> {
    let target = config
        .network_mode
        .strip_prefix("container:")
        .unwrap_or_default();
    let path = containers.dir(target).join(name);
    std::fs::read_to_string(&path).map_err(io(path.display().to_string()))
}

/// The network part of `/etc/hosts` and `/etc/resolv.conf`: docker's
/// content for the mode, the container's own name (none: 127.0.0.1;
/// default network: its address), `host.docker.internal` and
/// `host.containers.internal` on the default network, `--add-host` (with
/// `host-gateway` resolved), `--dns`/`--dns-search`.
fn network_etc(
    opts: &RunOptions,
    hostname: &str,
    config: &ContainerConfig,
    rootless: bool,
    host_hosts: &str,
    host_resolv: &str,
) -> Result<(String, String), CreateError> {
    let addrs = match opts.network {
        NetworkMode::Bridge if rootless => {
            crate::network::Helper::parse(&config.network_helper).and_then(|h| h.addresses())
        }
        // Rootless, user-defined networks live in a namespace that pasta
        // connects like the default network's; as root the bridge's
        // gateway is the host (root's default network is a bridge too).
        NetworkMode::User | NetworkMode::Bridge => config.networks.first().and_then(|e| {
            let gateway = if rootless {
                crate::network::Helper::Pasta.addresses()?.gateway
            } else {
                e.gateway
            };
            Some(crate::network::Addresses {
                gateway,
                container: e.ip,
            })
        }),
        _ => None,
    };
    // What `host-gateway` means: the host's loopback as seen from inside.
    let gateway = match (opts.network, addrs) {
        (NetworkMode::Host, _) => Some("127.0.0.1".to_string()),
        (_, Some(a)) => Some(a.gateway.to_string()),
        _ => None,
    };
    let mut extra = Vec::new();
    match opts.network {
        NetworkMode::None => extra.push((hostname.to_string(), "127.0.0.1".to_string())),
        NetworkMode::Bridge | NetworkMode::User => {
            if let Some(a) = addrs {
                extra.push((hostname.to_string(), a.container.to_string()));
                for name in crate::network::HOST_NAMES {
                    extra.push((name.to_string(), a.gateway.to_string()));
                }
            }
        }
        NetworkMode::Host | NetworkMode::Container => {}
    }
    for (name, ip) in &opts.add_hosts {
        let ip = if ip == "host-gateway" {
            gateway.clone().ok_or_else(|| {
                SpecError::Invalid(format!(
                    "--add-host {name}:host-gateway: the container has no network to reach the host through"
                ))
            })?
        } else {
            ip.clone()
        };
        extra.push((name.clone(), ip));
    }
    let hosts = super::etc::generate_hosts(&opts.network, host_hosts, &extra);
    // On a user-defined network the resolver is berth's DNS server on the
    // network's gateway (docker's embedded DNS): container names first,
    // the host's resolvers for the rest.
    // The default network has no such server: the host's resolvers.
    let resolv = match config.networks.first() {
        Some(e) if opts.network == NetworkMode::User => {
            super::etc::resolv_conf_with_nameserver(host_resolv, &e.gateway.to_string())
        }
        _ => super::etc::generate_resolv_conf(host_resolv, &opts.network),
    };
    let resolv = super::etc::apply_dns_flags(&resolv, &opts.dns, &opts.dns_search);
    Ok((hosts, resolv))
}

/// A static init for `--init`: docker's own `docker-init` (tini) or Debian's
/// `tini-static` (package `tini`). It must be static: it runs inside the image.
pub fn find_init_binary() -> Option<PathBuf> {
    const CANDIDATES: &[&str] = &[
        "/usr/libexec/docker/docker-init",
        "/usr/local/bin/docker-init",
        "/usr/bin/docker-init",
        "/usr/bin/tini-static",
        "/usr/local/bin/tini-static",
    ];
    CANDIDATES.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// Removes the container: its name and record at once, then its files (some
/// owned by subuids when rootless, so through the user namespace). A `--rm`
/// container takes its anonymous volumes with it, as docker's does.
pub fn remove(ctx: &Context, config: &ContainerConfig) -> Result<(), CreateError> {
    remove_with(ctx, config, config.auto_remove)
}

/// [`remove`]; with `anonymous_volumes` (`rm -v`) also the anonymous volumes
/// it mounts that no other container uses. Named volumes always stay.
pub fn remove_with(
    ctx: &Context,
    config: &ContainerConfig,
    anonymous_volumes: bool,
) -> Result<(), CreateError> {
    remove_container(ctx, config)?;
    if anonymous_volumes && !config.volumes.is_empty() {
        let names: Vec<String> = config.volumes.iter().map(|v| v.name.clone()).collect();
        crate::volume::remove_anonymous(ctx, &names)?;
    }
    Ok(())
}

fn remove_container(ctx: &Context, config: &ContainerConfig) -> Result<(), CreateError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let gone = containers.unregister(config)?;
    crate::events::container(&ctx.paths.data, config, "destroy", &[]);
    // overlay leaves `work/work` mode 000; we own it, so opening it up lets an
    // ordinary removal finish without entering the user namespace.
    let _ = std::fs::set_permissions(
        gone.join("work/work"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    );
    let mapping = ctx.id_mapping()?.cloned();
    crate::image::pull::remove_trees_blocking(&ctx.paths, mapping.as_ref(), &[gone]).map_err(|e| {
        CreateError::Io {
            what: format!("removing container {}", config.id),
            source: std::io::Error::other(e.to_string()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_through_layers_like_overlay() {
        let dir = tempfile::tempdir().unwrap();
        let (top, bottom) = (dir.path().join("top"), dir.path().join("bottom"));
        std::fs::create_dir_all(top.join("etc")).unwrap();
        std::fs::create_dir_all(bottom.join("etc")).unwrap();
        std::fs::write(bottom.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        let layers = vec![top.clone(), bottom.clone()];
        assert_eq!(
            read_from_layers(&layers, "/etc/passwd").unwrap(),
            "root:x:0:0::/root:/bin/sh\n"
        );
        std::fs::write(
            top.join("etc/passwd"),
            "app:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        assert!(
            read_from_layers(&layers, "/etc/passwd")
                .unwrap()
                .starts_with("app:")
        );
        assert!(read_from_layers(&layers, "/etc/group").is_none());
    }
}
