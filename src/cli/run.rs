//! `run [OPTIONS] IMAGE [COMMAND] [ARG...]`: foreground containers.
//!
//! The container is created from this very process, which must therefore be
//! single-threaded: no tokio runtime is started when the image is present.
//! When it has to be pulled first, the pull runs on tokio and berth then
//! re-executes itself with `--pull never`, so the container is still created
//! by a process that never had threads.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;

use anyhow::{Context as _, bail};

use crate::container::create;
use crate::container::parse::{self, BindOrVolume};
use crate::container::spec::{NetworkMode, RunOptions};
use crate::context::Context;
use crate::error::{ExitStatus, NotImplemented};
use crate::image::local;
use crate::image::reference::Reference;
use crate::image::registry::Platform;

#[derive(clap::Args, Debug)]
#[command(trailing_var_arg = true, disable_help_flag = true)]
pub struct Args {
    /// Print usage (docker's `-h` is --hostname here)
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    env_file: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Add additional groups to join
    #[arg(long = "group-add")]
    group_add: Vec<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    hostname: Option<String>,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume")]
    volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long)]
    mount: Vec<String>,
    /// Mount volumes from the specified container(s)
    #[arg(long = "volumes-from", value_name = "CONTAINER[:ro|rw]")]
    volumes_from: Vec<String>,
    /// Mount a tmpfs directory
    #[arg(long)]
    tmpfs: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    read_only: bool,
    /// Run an init inside the container
    #[arg(long)]
    init: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    platform: Option<String>,
    /// Pull image before running ("always", "missing", "never")
    #[arg(long, default_value = "missing")]
    pull: String,
    /// Ulimit options
    #[arg(long)]
    ulimit: Vec<String>,
    /// Size of /dev/shm
    #[arg(long = "shm-size")]
    shm_size: Option<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long)]
    label: Vec<String>,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    privileged: bool,
    /// Security Options
    #[arg(long = "security-opt")]
    security_opt: Vec<String>,
    /// Connect a container to a network ("bridge" (default, rootless), "host", "none")
    #[arg(long, alias = "net")]
    network: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    network_alias: Vec<String>,
    /// IPv4 address (e.g., 172.30.100.104)
    #[arg(long)]
    ip: Option<std::net::Ipv4Addr>,
    /// Publish a container's port(s) to the host ([IP:][HOST_PORT:]CONTAINER_PORT[/PROTO])
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Add a custom host-to-IP mapping (host:ip; ip may be "host-gateway")
    #[arg(long = "add-host")]
    add_host: Vec<String>,
    /// Set custom DNS servers
    #[arg(long)]
    dns: Vec<String>,
    /// Set custom DNS search domains
    #[arg(long = "dns-search")]
    dns_search: Vec<String>,
    /// User namespace to use ("host" or "" as default; podman's "keep-id[:uid=UID,gid=GID]")
    #[arg(long)]
    userns: Option<String>,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    sig_proxy: bool,
    /// Restart policy to apply when a container exits ("no", "on-failure[:max-retries]", "always", "unless-stopped")
    #[arg(long, default_value = "no")]
    restart: String,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout", allow_negative_numbers = true)]
    stop_timeout: Option<i64>,
    /// Logging driver for the container (json-file)
    #[arg(long = "log-driver")]
    log_driver: Option<String>,
    /// Log driver options (max-size, max-file)
    #[arg(long = "log-opt")]
    log_opt: Vec<String>,
    /// Command to run to check health
    #[arg(long = "health-cmd")]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval")]
    health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout")]
    health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries")]
    health_retries: Option<i64>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period")]
    health_start_period: Option<String>,
    /// Time between running the check during the start period (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-interval")]
    health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    no_healthcheck: bool,
    /// Suppress the pull output
    #[arg(short = 'q', long)]
    quiet: bool,
    /// The image, then the command and its arguments
    #[arg(
        required = true,
        value_name = "IMAGE [COMMAND] [ARG...]",
        allow_hyphen_values = true
    )]
    image_and_command: Vec<String>,
}

pub fn exec(ctx: &Context, args: Args) -> anyhow::Result<()> {
    // docker's CheckTty, before anything is pulled or created: `-it` needs
    // a terminal on stdin (`-t` alone does not: output still goes through the pty).
    // SAFETY: isatty on fd 0 is harmless.
    if !args.detach
        && args.tty
        && args.interactive
        && unsafe { libc::isatty(libc::STDIN_FILENO) } != 1
    {
        return Err(ExitStatus::with_message(1, "the input device is not a TTY").into());
    }
    let prepared = create_container(ctx, &args)?;
    let id = prepared.config.id.clone();
    if args.detach {
        let started = crate::monitor::spawn_detached(&id);
        return match started {
            Ok(warnings) => {
                report_warnings(&warnings);
                println!("{id}");
                Ok(())
            }
            Err(e) => Err(ExitStatus::with_message(e.exit_code(), format!("Error: {e}")).into()),
        };
    }
    let outcome =
        crate::monitor::run_foreground(ctx, &id, args.interactive, args.sig_proxy, &mut |w| {
            report_warnings(w)
        })
        .map_err(|e| ExitStatus::with_message(e.exit_code(), format!("Error: {e}")))?;
    let code = report_outcome(outcome);
    if code == 0 {
        return Ok(());
    }
    Err(ExitStatus::new(code).into())
}

/// `create`'s half of `run`: finds (or pulls) the image and records the
/// container, ready to start.
pub(super) fn create_container(ctx: &Context, args: &Args) -> anyhow::Result<create::Prepared> {
    let (image_name, command) = args
        .image_and_command
        .split_first()
        .expect("clap requires IMAGE");
    let opts = run_options(args, command)?;
    let settings = settings(args)?;
    let image = find_or_pull(ctx, args, image_name)?;
    Ok(create::prepare(ctx, &image, image_name, &opts, &settings)?)
}

pub(super) fn report_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("WARNING: {w}");
    }
}

/// Prints what docker prints about a finished foreground container; returns its exit code.
pub(super) fn report_outcome(outcome: crate::runtime::Outcome) -> i32 {
    if let Some(message) = &outcome.exec_error {
        eprintln!("Error: {message}");
    }
    outcome.code
}

/// The record-level settings (`--name`, `--rm`, `--restart`, `--stop-*`, `--log-opt`).
pub(super) fn settings(args: &Args) -> anyhow::Result<create::Settings> {
    let restart_policy = parse::parse_restart(&args.restart)?;
    if args.rm && !matches!(restart_policy.name.as_str(), "" | "no") {
        bail!("conflicting options: cannot specify both --restart and --rm");
    }
    let mut settings = create::Settings {
        name: args.name.clone(),
        auto_remove: args.rm,
        restart_policy,
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
        ..Default::default()
    };
    if let Some(driver) = args.log_driver.as_deref()
        && driver != "json-file"
    {
        bail!(NotImplemented(format!(
            "--log-driver {driver} (only json-file)"
        )));
    }
    for opt in &args.log_opt {
        let (k, v) = opt
            .split_once('=')
            .with_context(|| format!("invalid log opt: {opt}: expected key=value"))?;
        match k {
            "max-size" => {
                settings.log_max_size = crate::format::units::parse_size(v)
                    .with_context(|| format!("invalid max-size: {v}"))?
                    as u64
            }
            "max-file" => {
                settings.log_max_file = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .with_context(|| format!("invalid max-file: {v}"))?
            }
            _ => bail!("unknown log opt '{k}' for json-file log driver"),
        }
    }
    settings.healthcheck = healthcheck_flags(args)?;
    if settings.log_max_file > 1 && settings.log_max_size == 0 {
        bail!("max-file cannot be set without max-size");
    }
    Ok(settings)
}

/// `--health-*` and `--no-healthcheck`, with docker's checks.
fn healthcheck_flags(args: &Args) -> anyhow::Result<crate::container::record::Healthcheck> {
    use crate::container::record::Healthcheck;
    let any_set = args.health_cmd.is_some()
        || args.health_interval.is_some()
        || args.health_timeout.is_some()
        || args.health_retries.is_some()
        || args.health_start_period.is_some()
        || args.health_start_interval.is_some();
    if args.no_healthcheck {
        if any_set {
            bail!("--no-healthcheck conflicts with --health-* options");
        }
        return Ok(Healthcheck {
            test: vec!["NONE".into()],
            ..Default::default()
        });
    }
    let duration = |flag: &str, v: &Option<String>| -> anyhow::Result<i64> {
        let Some(v) = v else { return Ok(0) };
        let ns = crate::container::logread::parse_go_duration(v).with_context(|| {
            format!("invalid argument \"{v}\" for \"{flag}\" flag: time: invalid duration \"{v}\"")
        })?;
        if ns < 0 {
            bail!("{flag} cannot be negative");
        }
        if ns != 0 && ns < 1_000_000 {
            bail!("{flag} cannot be less than 1ms");
        }
        Ok(ns as i64)
    };
    let retries = args.health_retries.unwrap_or(0);
    if retries < 0 {
        bail!("--health-retries cannot be negative");
    }
    Ok(Healthcheck {
        test: args
            .health_cmd
            .as_ref()
            .map(|c| vec!["CMD-SHELL".to_string(), c.clone()])
            .unwrap_or_default(),
        interval: duration("--health-interval", &args.health_interval)?,
        timeout: duration("--health-timeout", &args.health_timeout)?,
        start_period: duration("--health-start-period", &args.health_start_period)?,
        start_interval: duration("--health-start-interval", &args.health_start_interval)?,
        retries,
    })
}

fn run_options(args: &Args, command: &[String]) -> anyhow::Result<RunOptions> {
    let lookup = |k: &str| std::env::var(k).ok();
    let mut env = Vec::new();
    for f in &args.env_file {
        let text = std::fs::read_to_string(f).with_context(|| format!("open {f}"))?;
        env.extend(parse::parse_env_file(&text, &lookup)?);
    }
    for e in &args.env {
        if e.contains('=') {
            env.push(e.clone());
        } else if let Some(v) = lookup(e) {
            env.push(format!("{e}={v}"));
        } else {
            // docker: `-e NAME` with NAME unset removes it from the image's env.
            env.push(e.clone());
        }
    }
    let mut binds = Vec::new();
    let mut tmpfs = Vec::new();
    let mut volumes = Vec::new();
    for v in &args.volume {
        push_mount(
            parse::parse_volume(v)?,
            &mut binds,
            &mut tmpfs,
            &mut volumes,
        )?;
    }
    for m in &args.mount {
        push_mount(parse::parse_mount(m)?, &mut binds, &mut tmpfs, &mut volumes)?;
    }
    let mut seen = std::collections::BTreeSet::new();
    let destinations = binds
        .iter()
        .map(|b| &b.destination)
        .chain(volumes.iter().map(|v| &v.destination));
    for d in destinations {
        if !seen.insert(parse::clean_path(d)) {
            bail!("Duplicate mount point: {}", parse::clean_path(d));
        }
    }
    for t in &args.tmpfs {
        tmpfs.push(parse::parse_tmpfs(t)?);
    }
    let network = network_options(args)?;
    let shm_size = args
        .shm_size
        .as_deref()
        .map(crate::format::units::parse_size)
        .transpose()
        .context("invalid --shm-size")?
        .map(|s| s as u64);
    Ok(RunOptions {
        command: command.to_vec(),
        entrypoint: args.entrypoint.clone(),
        env,
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        group_add: args.group_add.clone(),
        hostname: args.hostname.clone(),
        binds,
        tmpfs,
        volumes,
        volumes_from: args.volumes_from.clone(),
        read_only: args.read_only,
        privileged: args.privileged,
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        security_opt: args.security_opt.clone(),
        ulimits: args.ulimit.clone(),
        shm_size,
        network: network.mode,
        network_container: args
            .network
            .as_deref()
            .and_then(|n| n.strip_prefix("container:"))
            .map(String::from),
        networks: network.networks,
        publish: network.publish,
        publish_all: args.publish_all
            && matches!(network.mode, NetworkMode::Bridge | NetworkMode::User),
        add_hosts: network.add_hosts,
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        init: args.init,
        tty: args.tty,
        interactive: args.interactive,
        labels: args.label.clone(),
        userns: args.userns.clone(),
        no_sig_proxy: !args.sig_proxy,
    })
}

struct NetworkOptions {
    mode: NetworkMode,
    networks: Vec<crate::container::spec::NetworkRequest>,
    publish: Vec<crate::network::ports::PortBinding>,
    add_hosts: Vec<(String, String)>,
}

/// `--network`, `-p`, `--add-host`. The default network (`bridge`, also
/// `default` and no flag) is berth's pasta/slirp4netns network rootless,
/// and the `berth0` bridge as root.
fn network_options(args: &Args) -> anyhow::Result<NetworkOptions> {
    let mode = match args.network.as_deref() {
        None | Some("bridge") | Some("default") => NetworkMode::Bridge,
        Some("host") => NetworkMode::Host,
        Some("none") => NetworkMode::None,
        Some(other) if other.starts_with("container:") => {
            let conflicts = [
                ("hostname", args.hostname.is_some()),
                ("dns", !args.dns.is_empty() || !args.dns_search.is_empty()),
                ("add-host", !args.add_host.is_empty()),
            ];
            if let Some((what, _)) = conflicts.iter().find(|(_, set)| *set) {
                bail!("conflicting options: {what} and the network mode");
            }
            NetworkMode::Container
        }
        Some(_) => NetworkMode::User,
    };
    let networks = match (mode, args.network.as_deref()) {
        (NetworkMode::User, Some(name)) => vec![crate::container::spec::NetworkRequest {
            network: name.to_string(),
            aliases: args.network_alias.clone(),
            ip: args.ip,
        }],
        _ => {
            if !args.network_alias.is_empty() {
                bail!("network-scoped aliases are only supported for user-defined networks");
            }
            if args.ip.is_some() {
                bail!(
                    "user specified IP address is supported only when connecting to networks with user configured subnets"
                );
            }
            Vec::new()
        }
    };
    let mut publish = Vec::new();
    for p in &args.publish {
        publish.extend(crate::network::ports::parse_publish(p)?);
    }
    let publishes = matches!(mode, NetworkMode::Bridge | NetworkMode::User);
    if (!publish.is_empty() || args.publish_all) && !publishes {
        if mode == NetworkMode::Host {
            // docker ignores published ports with the host's network (with a warning).
            eprintln!("WARNING: Published ports are discarded when using host network mode");
            publish.clear();
        } else {
            bail!("conflicting options: port publishing and the container type network mode");
        }
    }
    let mut add_hosts = Vec::new();
    for h in &args.add_host {
        // docker accepts `name:ip` and `name=ip`; an IPv6 address has colons.
        let (name, ip) = h
            .split_once('=')
            .or_else(|| h.split_once(':'))
            .with_context(|| format!("bad format for add-host: {h:?}"))?;
        if name.is_empty()
            || (ip != "host-gateway"
                && ip
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_err())
        {
            bail!("invalid IP address in add-host: {ip:?}");
        }
        add_hosts.push((name.to_string(), ip.trim_matches(['[', ']']).to_string()));
    }
    Ok(NetworkOptions {
        mode,
        networks,
        publish,
        add_hosts,
    })
}

fn push_mount(
    m: BindOrVolume,
    binds: &mut Vec<crate::container::spec::BindMount>,
    tmpfs: &mut Vec<crate::container::spec::TmpfsMount>,
    volumes: &mut Vec<parse::VolumeMount>,
) -> anyhow::Result<()> {
    match m {
        BindOrVolume::Bind {
            mount,
            create_source,
        } => {
            if !create_source && !mount.source.exists() {
                bail!(
                    "invalid mount config for type \"bind\": bind source path does not exist: {}",
                    mount.source.display()
                );
            }
            binds.push(mount);
        }
        BindOrVolume::Tmpfs(t) => tmpfs.push(t),
        // Named volumes are made on first use, anonymous ones named, at creation.
        BindOrVolume::Volume(v) => volumes.push(v),
    }
    Ok(())
}

fn find_or_pull(
    ctx: &Context,
    args: &Args,
    image_name: &str,
) -> anyhow::Result<crate::image::store::ImageRecord> {
    let store = ctx.store()?;
    let mut policy = args.pull.as_str();
    if !matches!(policy, "always" | "missing" | "never") {
        bail!(
            "invalid pull option: '{policy}': must be one of \"always\", \"missing\" or \"never\""
        );
    }
    if std::env::var_os(PULLED_MARKER).is_some() {
        // SAFETY: still single-threaded here; the marker must not reach a later re-exec.
        unsafe { std::env::remove_var(PULLED_MARKER) };
        policy = "never";
    }
    if policy != "always" {
        let index = store.images()?;
        match local::find(&index, image_name) {
            Ok((image, _)) => return Ok(image.clone()),
            Err(local::ImageError::NotFound(_)) if policy == "missing" => {}
            Err(local::ImageError::NotFound(n)) => bail!("No such image: {n}"),
            Err(e) => return Err(e.into()),
        }
    }
    let reference = Reference::parse(image_name)?;
    if policy == "missing" {
        eprintln!(
            "Unable to find image '{}' locally",
            reference.familiar_string()
        );
    }
    let platform = args.platform.as_deref().map(Platform::parse).transpose()?;
    super::pull::run_pull_to_stderr(ctx, image_name, &reference, platform, args.quiet)?;
    // The pull ran tokio: this process has threads now. Start again, single-threaded.
    Err(reexec_after_pull().into())
}

/// Set on the re-executed `run` after a pull: use the local image, never pull again.
const PULLED_MARKER: &str = "BERTH_RUN_PULLED";

/// Replaces this process with the same `berth run …`, marked as already pulled.
fn reexec_after_pull() -> std::io::Error {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    std::process::Command::new(exe)
        .arg0(&argv[0])
        .args(&argv[1..])
        .env(PULLED_MARKER, "1")
        .exec()
}
