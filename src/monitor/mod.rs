//! The per-container monitor: the process that is a container's parent.
//!
//! berth has no daemon. Whoever starts a container stays its parent until it
//! exits, records what happens in `state.json`, and writes its output to the
//! json-file log ([`crate::container::logfile`]):
//!
//! - **foreground** (`run` without `-d`, `start -a`): the `berth` process the
//!   user started. Output goes to the caller's stdout/stderr and to the log;
//!   signals are forwarded (`--sig-proxy`); `-i` gives the container the
//!   caller's stdin itself (no copy) or, with `-t`, through the pty.
//! - **detached** (`run -d`, `start`, `restart`): `berth internal monitor ID`,
//!   started by [`spawn_detached`], a session leader with `/dev/null` stdio. It
//!   reports "started" or the start error to the command that spawned it over
//!   a pipe, then stays: logs, records the exit, applies the restart policy
//!   (docker's back-off) and `--rm`.
//!
//! Either way the monitor is single-threaded and has never run tokio: it
//! clones the container itself (see [`crate::runtime`]). Every state change
//! is an atomic rewrite of `state.json` under the container's lock, so `stop`
//! (which sets `stop_requested` before it signals) and the monitor never lose
//! each other's writes; a monitor killed with SIGKILL leaves a record that
//! [`ContainerState::observed`] reads truthfully.

pub mod attach;
pub mod control;
pub mod health;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::unistd::Pid;

use crate::container::create;
use crate::container::logfile::{LogWriter, Stream};
use crate::container::record::{
    self, ContainerConfig, ContainerState, ContainerStore, RecordError, RestartPolicy, Status,
};
use crate::context::Context;
use crate::network::ports::{self, PortBinding};
use crate::runtime::{self, ContainerPlan, RootfsPlan, RuntimeError, Started};

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error("container {0} is already running")]
    AlreadyRunning(String),
    #[error("container {id}: {message}")]
    Plan { id: String, message: String },
    #[error("opening the container's log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the container's monitor: {0}")]
    Spawn(String),
    #[error("{0}")]
    Network(String),
    /// The command could not be executed (126) or was not found (127).
    #[error("{message}")]
    Exec { code: i32, message: String },
}

impl MonitorError {
    /// docker's status for a container that could not start: 126/127 for
    /// its command, 125 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            MonitorError::Exec { code, .. } => *code,
            _ => 125,
        }
    }
}

/// The runtime plan of a recorded container: its spec and overlay layout.
pub fn plan_for(
    containers: &ContainerStore,
    config: &ContainerConfig,
) -> Result<ContainerPlan, MonitorError> {
    let spec = serde_json::from_value(config.spec.clone()).map_err(|e| MonitorError::Plan {
        id: config.id.clone(),
        message: format!("its runtime spec is unreadable: {e}"),
    })?;
    let dir = containers.dir(&config.id);
    Ok(ContainerPlan {
        spec,
        rootfs: RootfsPlan {
            lower: config.layers.clone(),
            upper: dir.join("upper"),
            work: dir.join("work"),
            merged: dir.join("merged"),
        },
    })
}

/// Makes this process the container's monitor, or fails if another live one
/// is (two `start`s at once: one wins).
fn claim(containers: &ContainerStore, id: &str) -> Result<(), MonitorError> {
    let me = std::process::id() as i32;
    let my_start = record::process_start_time(me).unwrap_or(0);
    let mut busy = false;
    containers.update_state(id, |s| {
        let observed = s.observed();
        if observed.status.is_running()
            || (s.monitor_pid != me && record::process_alive(s.monitor_pid, s.monitor_start))
        {
            busy = true;
            return;
        }
        *s = observed;
        s.monitor_pid = me;
        s.monitor_start = my_start;
        s.stop_requested = false;
    })?;
    if busy {
        return Err(MonitorError::AlreadyRunning(id.to_string()));
    }
    Ok(())
}

/// Told whether the container's command runs, with its setup warnings.
type StartedFn<'a> = dyn FnMut(Result<(), &MonitorError>, &[String]) + 'a;

/// How the container's output leaves the monitor.
enum Attach {
    Foreground {
        forward_stdin: bool,
        sig_proxy: bool,
    },
    Detached,
}

/// One run of the container: create, record, start, pump, reap, record.
/// `started` is called once the command runs (or failed to exec).
fn run_once(
    containers: &ContainerStore,
    config: &ContainerConfig,
    attach: &Attach,
    log: &mut LogWriter,
    mut server: Option<&mut attach::Server>,
    started: &mut StartedFn,
) -> Result<runtime::Outcome, MonitorError> {
    let mut plan = plan_for(containers, config)?;
    let id = &config.id;
    // The holder must run before the clone: rootless, the container is
    // created in its user namespace; its bridges are where user-defined
    // networks are.
    let holder = match network_holder(config, &mut plan) {
        Ok(h) => h,
        Err(e) => {
            record_failed_start(containers, id, 125, &e.to_string());
            started(Err(&e), &[]);
            return Err(e);
        }
    };
    let tty = plan
        .spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    let mut stdio = runtime::Stdio::default();
    let mut outputs = Vec::new();
    // Held open so a detached `-i` container's stdin does not see EOF.
    let mut _stdin_keep = None;
    if !tty {
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        stdio.stdout = Some(out_w);
        stdio.stderr = Some(err_w);
        outputs.push((out_r, Stream::Stdout));
        outputs.push((err_r, Stream::Stderr));
    }
    match attach {
        // The caller's own stdin: no copy, EOF when the caller's input ends.
        Attach::Foreground {
            forward_stdin: true,
            ..
        } => {}
        Attach::Detached if config.open_stdin && !tty => {
            let (r, w) = pipe()?;
            stdio.stdin = Some(r);
            _stdin_keep = Some(w);
        }
        _ => stdio.stdin = Some(dev_null()?),
    }
    let mut container = match runtime::create_with_stdio(&plan, stdio) {
        Ok(c) => c,
        Err(e) => {
            let e = MonitorError::from(e);
            record_failed_start(containers, id, 125, &e.to_string());
            started(Err(&e), &[]);
            return Err(e);
        }
    };
    let pid = container.pid().as_raw();
    // Network: the container's netns exists now; connect it (and publish its
    // ports) before its command runs. Dropping `_network` stops the helper
    // (pasta outlives the container otherwise), on every way out of here.
    let attached = if !config.networks.is_empty() {
        attach_bridges(holder.as_ref(), config, pid)
    } else {
        Ok(())
    };
    if let Err(e) = attached {
        record_failed_start(containers, id, 125, &e.to_string());
        started(Err(&e), &[]);
        return Err(e);
    }
    let (_network, _published, ports) =
        match connect_network(containers, config, holder.as_ref(), pid) {
            Ok(n) => n,
            Err(e) => {
                record_failed_start(containers, id, 125, &e.to_string());
                started(Err(&e), &[]);
                return Err(e);
            }
        };
    containers.update_state(id, |s| {
        s.ports = ports.clone();
        s.status = Status::Running;
        s.pid = pid;
        s.pid_start = record::process_start_time(pid).unwrap_or(0);
        s.started_at = Some(Utc::now());
        s.boot_id = record::boot_id();
        s.exit_code = 0;
        s.error.clear();
        s.oom_killed = false;
        s.health = config
            .healthcheck
            .as_ref()
            .map(|_| health::starting_health());
    })?;
    crate::events::container_started(containers.data_dir(), config);
    // Running now: the holder sees it and stays; others may start.
    drop(holder);
    let master = container.take_master();
    match container.start()? {
        Started::Running => started(Ok(()), &container.warnings),
        Started::ExecFailed { status, message } => {
            let e = MonitorError::Exec {
                code: status,
                message: message.clone(),
            };
            record_failed_start(containers, id, status, &message);
            started(Err(&e), &container.warnings);
            return Ok(runtime::Outcome {
                code: status,
                exec_error: Some(message),
            });
        }
    }
    let code = match attach {
        Attach::Foreground {
            forward_stdin,
            sig_proxy,
        } => {
            let _sigpipe = runtime::pty::IgnoreSigpipe::new();
            let mut watch = MonitorWatch {
                log: &mut *log,
                server: None,
                health: checker(config),
                containers,
                echo: true,
                released: true,
            };
            let code = match master {
                Some(m) => runtime::attach_terminal(&mut container, m, *forward_stdin, &mut watch)?,
                None => runtime::io::pump_with(
                    &mut container,
                    runtime::io::Pump {
                        outputs,
                        input: None,
                        forward_signals: *sig_proxy,
                        resize: None,
                    },
                    &mut watch,
                )?,
            };
            if let Some(checker) = watch.health.as_mut() {
                checker.stop();
            }
            code
        }
        Attach::Detached => {
            if let Some(server) = server.as_deref_mut() {
                let stdin = match (&master, &_stdin_keep) {
                    (Some(m), _) => Some(m.as_raw_fd()),
                    (None, Some(w)) => {
                        runtime::io::set_nonblocking(w.as_raw_fd())?;
                        Some(w.as_raw_fd())
                    }
                    (None, None) => None,
                };
                let stdin = stdin.filter(|_| config.open_stdin);
                server.connect_container(stdin, master.as_ref().map(|m| m.as_raw_fd()));
            }
            if let Some(m) = master {
                outputs.push((m, Stream::Stdout));
            }
            let mut watch = MonitorWatch {
                log: &mut *log,
                server: server.as_deref_mut(),
                health: checker(config),
                containers,
                echo: false,
                released: false,
            };
            let code = runtime::io::pump_with(
                &mut container,
                runtime::io::Pump {
                    outputs,
                    input: None,
                    forward_signals: false,
                    resize: None,
                },
                &mut watch,
            )?;
            if let Some(checker) = watch.health.as_mut() {
                checker.stop();
            }
            if let Some(server) = server {
                server.exited(code);
            }
            code
        }
    };
    let _ = log.finish();
    containers.update_state(id, |s| {
        s.status = Status::Exited;
        s.pid = 0;
        s.exit_code = code;
        s.finished_at = Some(Utc::now());
    })?;
    crate::events::container_died(containers.data_dir(), config, code);
    Ok(runtime::Outcome {
        code,
        exec_error: None,
    })
}

/// The network holder the container needs, with `plan` set to create it in
/// the holder's user namespace when rootless. Rootless that is every
/// container with a user namespace of its own to make (see
/// [`crate::network::holder`]: `network connect` needs it later); as root
/// only those on user-defined networks (the holder is their DNS). None
/// for `--network container:` (the plan joins that container's) and,
/// rootless without subordinate ids, for containers on no user-defined
/// network (they keep their own single-id namespace, as before).
fn network_holder(
    config: &ContainerConfig,
    plan: &mut ContainerPlan,
) -> Result<Option<crate::network::holder::Holder>, MonitorError> {
    use oci_spec::runtime::LinuxNamespaceType;
    if let Some(target) = config.network_mode.strip_prefix("container:") {
        join_container_network(target, plan)?;
        return Ok(None);
    }
    let paths = crate::paths::Paths::detect().map_err(|e| MonitorError::Network(e.to_string()))?;
    let on_user_network = config
        .networks
        .iter()
        .any(|e| e.network != crate::network::DEFAULT_NETWORK);
    let wanted = if paths.rootless {
        // The plan's map says whether the caller has subordinate ids: a
        // single-id map is all there is without them.
        let subordinate_ids = plan
            .spec
            .linux()
            .as_ref()
            .and_then(|l| l.uid_mappings().as_ref())
            .is_some_and(|m| m.iter().map(|r| u64::from(r.size())).sum::<u64>() > 1);
        on_user_network || subordinate_ids
    } else {
        // root's default bridge is in the host's namespace, and the
        // default network has no name resolution.
        on_user_network
    };
    if !wanted {
        return Ok(None);
    }
    let holder =
        crate::network::holder::ensure(&paths).map_err(|e| MonitorError::Network(e.to_string()))?;
    if let Some(userns) = holder.user_namespace()
        && let Some(linux) = plan.spec.linux_mut()
        && let Some(namespaces) = linux.namespaces_mut()
    {
        // The spec's id maps stay: the runtime nests a user namespace with
        // them when they are not the holder's.
        for ns in namespaces.iter_mut() {
            if ns.typ() == LinuxNamespaceType::User && ns.path().is_none() {
                ns.set_path(Some(userns.clone()));
            }
        }
    }
    Ok(Some(holder))
}

/// `--network container:ID`: the plan joins the network namespace of that
/// running container (and, rootless, its user namespace, which owns it).
fn join_container_network(target: &str, plan: &mut ContainerPlan) -> Result<(), MonitorError> {
    use oci_spec::runtime::LinuxNamespaceType;
    let paths = crate::paths::Paths::detect().map_err(|e| MonitorError::Network(e.to_string()))?;
    let containers = ContainerStore::open(&paths.data)?;
    let state = containers.read_state(target)?.observed();
    if !state.status.is_running() {
        return Err(MonitorError::Network(format!(
            "cannot join network of a non running container: {target}"
        )));
    }
    let pid = state.pid;
    if let Some(namespaces) = plan
        .spec
        .linux_mut()
        .as_mut()
        .and_then(|l| l.namespaces_mut().as_mut())
    {
        for ns in namespaces.iter_mut() {
            match ns.typ() {
                LinuxNamespaceType::Network => {
                    ns.set_path(Some(format!("/proc/{pid}/ns/net").into()));
                }
                LinuxNamespaceType::User => {
                    ns.set_path(Some(format!("/proc/{pid}/ns/user").into()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Connects the created container `pid` to each of its bridge networks
/// (the first one carries the default route): user-defined ones, whose
/// bridges are where the holder says, and root's default `berth0`, in the
/// host's namespace.
fn attach_bridges(
    holder: Option<&crate::network::holder::Holder>,
    config: &ContainerConfig,
    pid: i32,
) -> Result<(), MonitorError> {
    use crate::network::{bridge, store::NetworkStore};
    let net = |e: crate::network::NetworkError| MonitorError::Network(e.to_string());
    let paths = crate::paths::Paths::detect().map_err(|e| MonitorError::Network(e.to_string()))?;
    let store = NetworkStore::open(&paths.data).map_err(|e| net(e.into()))?;
    let place = match holder {
        Some(h) => h.place().map_err(net)?,
        None => bridge::Place {
            user: None,
            net: None,
        },
    };
    for (index, endpoint) in config.networks.iter().enumerate() {
        let network = store
            .get_attachable(&endpoint.network_id)
            .map_err(|e| net(e.into()))?;
        match holder {
            Some(h) => h.ensure_bridge(&network),
            None => bridge::ensure_bridge(&place, &network),
        }
        .map_err(net)?;
        // With a user-mode helper (a rootless default-network container
        // connected to more networks), the helper keeps the default route.
        let helper = !config.network_helper.is_empty();
        let default_route = index == 0 && !helper;
        let inside = index + usize::from(helper);
        bridge::attach(&place, &network, endpoint, pid, inside, default_route).map_err(net)?;
    }
    if let Some(h) = holder {
        crate::network::holder::kick(h);
    }
    Ok(())
}

/// What keeps a started container connected: the user-mode helper of the
/// rootless default network, or the NAT rules of ports published on a
/// bridge (root). Dropping them disconnects.
type Connected = (
    Option<crate::network::Connection>,
    Option<crate::network::BridgePorts>,
    Vec<PortBinding>,
);

/// Starts the network helper of a container on the rootless default
/// network and publishes its ports through it; publishes the ports of a
/// container on a bridge (NAT as root, the proxy rootless). Host ports are
/// picked now.
fn connect_network(
    containers: &ContainerStore,
    config: &ContainerConfig,
    holder: Option<&crate::network::holder::Holder>,
    pid: i32,
) -> Result<Connected, MonitorError> {
    let net = |e: crate::network::NetworkError| MonitorError::Network(e.to_string());
    let wanted = ports::requested(
        &config.port_bindings,
        config.publish_all,
        &config.exposed_ports,
    );
    let Some(helper) = crate::network::Helper::parse(&config.network_helper) else {
        let Some(endpoint) = config.networks.first().filter(|_| !wanted.is_empty()) else {
            return Ok((None, None, Vec::new()));
        };
        let paths =
            crate::paths::Paths::detect().map_err(|e| MonitorError::Network(e.to_string()))?;
        let store =
            crate::network::store::NetworkStore::open(&paths.data).map_err(|e| net(e.into()))?;
        let network = store
            .get_attachable(&endpoint.network_id)
            .map_err(|e| net(e.into()))?;
        let place = match holder {
            Some(h) => h.place().map_err(net)?,
            None => crate::network::bridge::Place {
                user: None,
                net: None,
            },
        };
        let (published, ports) =
            crate::network::publish_on_bridge(&place, &network, endpoint.ip, &wanted)
                .map_err(net)?;
        return Ok((None, Some(published), ports));
    };
    let ports = ports::allocate(&wanted).map_err(|e| net(e.into()))?;
    let (udp, tcp): (Vec<PortBinding>, Vec<PortBinding>) =
        if helper == crate::network::Helper::Pasta {
            ports.iter().cloned().partition(|b| b.proto == "udp")
        } else {
            (Vec::new(), ports.clone())
        };
    let conn = helper
        .connect(pid, &tcp, &containers.dir(&config.id))
        .map_err(net)?;
    let udp_proxy = if udp.is_empty() {
        None
    } else {
        Some(crate::network::publish_udp_in_container(pid, &udp).map_err(net)?)
    };
    Ok((Some(conn), udp_proxy, ports))
}

/// What the monitor does while the container runs: output to the log, to
/// the caller's stdout/stderr (`echo`: foreground) or to attached clients
/// (detached); and health checks.
struct MonitorWatch<'a> {
    log: &'a mut LogWriter,
    server: Option<&'a mut attach::Server>,
    health: Option<health::Checker>,
    containers: &'a ContainerStore,
    echo: bool,
    /// Start-up memory given back yet (detached monitors, before their first sleep).
    released: bool,
}

fn checker(config: &ContainerConfig) -> Option<health::Checker> {
    config
        .healthcheck
        .as_ref()
        .and_then(|h| health::Checker::new(&config.id, h))
}

impl runtime::io::Watch for MonitorWatch<'_> {
    fn output(&mut self, stream: Stream, bytes: &[u8]) -> bool {
        let _ = self.log.write(stream, bytes);
        if let Some(server) = self.server.as_deref_mut() {
            server.output(stream, bytes);
        }
        if self.echo {
            let fd = match stream {
                Stream::Stdout => libc::STDOUT_FILENO,
                Stream::Stderr => libc::STDERR_FILENO,
            };
            return runtime::io::write_all(fd, bytes).is_ok();
        }
        true
    }

    fn fds(&mut self, fds: &mut Vec<libc::pollfd>) -> i32 {
        if !self.released {
            // Just before the loop's first sleep: everything start-up touched
            // is behind us, and what the loop needs faults back in.
            self.released = true;
            release_startup_code();
        }
        if let Some(server) = self.server.as_deref() {
            server.fds(fds);
        }
        // The checker's fds come last: `ready` hands the server its own.
        self.health.as_ref().map_or(-1, |h| h.fds(fds))
    }

    fn ready(&mut self, fds: &[libc::pollfd]) {
        if let Some(server) = self.server.as_deref_mut() {
            server.ready(fds);
        }
        if let Some(h) = self.health.as_mut() {
            h.tick(self.containers);
        }
    }
}

fn record_failed_start(containers: &ContainerStore, id: &str, code: i32, message: &str) {
    // docker leaves a container whose command could not start in "created".
    let _ = containers.update_state(id, |s| {
        s.status = Status::Created;
        s.pid = 0;
        s.exit_code = code;
        s.error = message.to_string();
    });
}

/// Marks the monitor gone; the record is final until the next start.
fn release(containers: &ContainerStore, id: &str) {
    let _ = containers.update_state(id, |s| {
        s.monitor_pid = 0;
        s.monitor_start = 0;
    });
}

fn open_log(
    containers: &ContainerStore,
    config: &ContainerConfig,
) -> Result<LogWriter, MonitorError> {
    let path = containers.log_path(&config.id);
    LogWriter::open(&path, config.log_max_size, config.log_max_file)
        .map_err(|source| MonitorError::Log { path, source })
}

/// Runs a recorded container in this process, attached to the caller's
/// terminal or pipes, once (`run`, `start -a`). Removes it afterwards when it
/// was created with `--rm`, even if it failed to start. Must be called from
/// a single-threaded process.
pub fn run_foreground(
    ctx: &Context,
    id: &str,
    forward_stdin: bool,
    sig_proxy: bool,
    warn: &mut dyn FnMut(&[String]),
) -> Result<runtime::Outcome, MonitorError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let config = containers.read_config(id)?;
    let result = (|| {
        claim(&containers, id)?;
        let mut log = open_log(&containers, &config)?;
        let old = runtime::block_signals()?;
        let attach = Attach::Foreground {
            forward_stdin,
            sig_proxy,
        };
        let outcome = run_once(
            &containers,
            &config,
            &attach,
            &mut log,
            None,
            &mut |_, w| warn(w),
        );
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_SETMASK,
            Some(&old),
            None,
        );
        release(&containers, id);
        outcome
    })();
    if config.auto_remove {
        let _ = create::remove(ctx, &config);
    }
    result
}

/// What a detached monitor tells the command that spawned it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Report {
    code: i32,
    message: String,
    #[serde(default)]
    warnings: Vec<String>,
}

/// Starts `berth internal monitor ID` for a recorded container and waits
/// until the container's command runs (or could not start). Returns the
/// warnings of its setup.
pub fn spawn_detached(id: &str) -> Result<Vec<String>, MonitorError> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| MonitorError::Spawn(format!("pipe: {e}")))?;
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["internal", "monitor", id, "--report-fd", "3"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .current_dir("/");
    let w_raw = w.as_raw_fd();
    // SAFETY: dup2 is async-signal-safe; it runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(w_raw, 3) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| MonitorError::Spawn(e.to_string()))?;
    drop(w);
    let mut text = String::new();
    let _ = std::fs::File::from(r).read_to_string(&mut text);
    // The monitor lives on, reparented; reap it if it already ended so no zombie stays.
    let _ = child.try_wait();
    let report: Report = serde_json::from_str(text.trim()).map_err(|_| {
        MonitorError::Spawn("the monitor exited before the container started".into())
    })?;
    match report.code {
        0 => Ok(report.warnings),
        126 | 127 => Err(MonitorError::Exec {
            code: report.code,
            message: report.message,
        }),
        _ => Err(MonitorError::Spawn(report.message)),
    }
}

/// `berth internal monitor ID`: the detached monitor's whole life. Returns
/// the process's exit status.
pub fn run_detached(id: &str, report: Option<OwnedFd>) -> i32 {
    let _ = nix::unistd::setsid();
    // The report pipe was inherited without CLOEXEC: the container must not
    // inherit it too, or the spawning command would wait for its exit.
    if let Some(fd) = &report {
        let _ = nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        );
    }
    let mut report = report.map(std::fs::File::from);
    let mut send = |code: i32, message: String, warnings: &[String]| {
        if let Some(mut f) = report.take() {
            let r = Report {
                code,
                message,
                warnings: warnings.to_vec(),
            };
            let _ = writeln!(
                f,
                "{}",
                serde_json::to_string(&r).expect("report serialises")
            );
        }
    };
    let ctx = match Context::new() {
        Ok(c) => c,
        Err(e) => {
            send(125, e.to_string(), &[]);
            return 125;
        }
    };
    let result = detached_loop(&ctx, id, &mut send);
    if let Err(e) = &result {
        send(e.exit_code(), e.to_string(), &[]);
    }
    match result {
        Ok(()) => 0,
        Err(e) => e.exit_code(),
    }
}

fn detached_loop(
    ctx: &Context,
    id: &str,
    send: &mut dyn FnMut(i32, String, &[String]),
) -> Result<(), MonitorError> {
    let containers = ContainerStore::open(&ctx.paths.data)?;
    let config = containers.read_config(id)?;
    claim(&containers, id)?;
    // SIGTERM/SIGINT/SIGHUP to the monitor must not orphan the container: block
    // them (and SIGCHLD, which the pump reads from a signalfd).
    runtime::block_signals()?;
    let mut log = open_log(&containers, &config)?;
    // No attach socket is no reason not to run the container.
    let mut server = attach::Server::bind(&containers.dir(id)).ok();
    let mut backoff = Backoff::default();
    let mut first = true;
    let result = loop {
        let began = Instant::now();
        let outcome = run_once(
            &containers,
            &config,
            &Attach::Detached,
            &mut log,
            server.as_mut(),
            &mut |r, warnings| {
                if first {
                    match r {
                        Ok(()) => send(0, String::new(), warnings),
                        Err(e) => send(e.exit_code(), e.to_string(), warnings),
                    }
                }
            },
        );
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => break Err(e),
        };
        if first && outcome.exec_error.is_some() {
            break Ok(());
        }
        first = false;
        let state = match containers.read_state(id) {
            Ok(s) => s,
            // Removed under us (`rm -f`): nothing left to do.
            Err(_) => return Ok(()),
        };
        if !should_restart(&config.restart_policy, &state, outcome.code) {
            break Ok(());
        }
        let delay = backoff.next(began.elapsed());
        containers.update_state(id, |s| {
            s.status = Status::Restarting;
            s.restart_count += 1;
        })?;
        if !sleep_unless_stopped(&containers, id, delay) {
            containers.update_state(id, |s| s.status = Status::Exited)?;
            break Ok(());
        }
    };
    drop(server);
    let _ = std::fs::remove_file(containers.dir(id).join(attach::SOCKET));
    release(&containers, id);
    if config.auto_remove {
        let _ = create::remove(ctx, &config);
    }
    result
}

/// Drops this process's resident pages of executable code. Users run dozens
/// of monitors: the start-up paths (config, spec, clone, id maps) touched
/// megabytes of berth's text (the kernel maps 64 KiB around each fault), of
/// which the loop that follows needs a few pages. Text mappings are private
/// and never written, so MADV_DONTNEED only unmaps them: what is needed again
/// faults back in from the page cache, shared with every other berth.
/// Read-only data mappings qualify too when no page of them is private.
fn release_startup_code() {
    // The spec, its seccomp profile and the record were parsed on the heap;
    // freed now, but malloc keeps the pages unless asked.
    // SAFETY: malloc_trim only returns free heap memory to the kernel.
    unsafe { libc::malloc_trim(0) };
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize)> = None;
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else { continue };
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            let perms = fields.next().unwrap_or("");
            // A private, non-writable mapping of a file (code, read-only data).
            current = (perms.starts_with('r')
                && perms.as_bytes().get(1) == Some(&b'-')
                && perms.ends_with('p')
                && line.contains('/'))
            .then_some((start, end));
            continue;
        }
        // Only if no page of it was ever written (RELRO data was, by the
        // dynamic linker): DONTNEED would throw such private copies away.
        if first == "Anonymous:"
            && fields.next() == Some("0")
            && let Some((start, end)) = current.take()
        {
            // SAFETY: a whole read-only file mapping of this process with no
            // private pages: dropping its pages changes nothing but residency.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM);
            }
        }
    }
}

/// docker's rules: `always` and `unless-stopped` unless stopped by hand,
/// `on-failure[:N]` on a non-zero exit while fewer than N restarts happened.
pub fn should_restart(policy: &RestartPolicy, state: &ContainerState, code: i32) -> bool {
    if state.stop_requested {
        return false;
    }
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            code != 0
                && (policy.maximum_retry_count == 0
                    || state.restart_count < policy.maximum_retry_count)
        }
        _ => false,
    }
}

/// docker's restart back-off: 100 ms doubling up to a minute, back to the
/// start once a run lasted 10 s.
#[derive(Debug, Default)]
pub struct Backoff {
    current: Duration,
}

impl Backoff {
    pub fn next(&mut self, ran_for: Duration) -> Duration {
        if ran_for >= Duration::from_secs(10) || self.current.is_zero() {
            self.current = Duration::from_millis(100);
        } else {
            self.current = (self.current * 2).min(Duration::from_secs(60));
        }
        self.current
    }
}

/// Sleeps `delay` in short steps; false as soon as a stop is requested.
fn sleep_unless_stopped(containers: &ContainerStore, id: &str, delay: Duration) -> bool {
    let end = Instant::now() + delay;
    loop {
        match containers.read_state(id) {
            Ok(s) if !s.stop_requested => {}
            _ => return false,
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(100)));
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), MonitorError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| {
        MonitorError::Runtime(RuntimeError::Sys {
            what: "creating a pipe".into(),
            errno: e,
        })
    })
}

fn dev_null() -> Result<OwnedFd, MonitorError> {
    std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| MonitorError::Spawn(format!("/dev/null: {e}")))
}

/// Waits until `pid` (started at `start`) exits or `timeout` passes; true if it is gone.
pub fn wait_for_exit(pid: i32, start: u64, timeout: Duration) -> bool {
    if !record::process_alive(pid, start) {
        return true;
    }
    // SAFETY: pidfd_open has no memory arguments.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return !record::process_alive(pid, start);
    }
    // SAFETY: a fresh fd we own.
    let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    if !record::process_alive(pid, start) {
        return true;
    }
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut p, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if r > 0 {
            return true;
        }
        if r == 0 || left.is_zero() {
            return !record::process_alive(pid, start);
        }
    }
}

/// Signals the container's PID 1, if it is still the process the record names.
pub fn signal_container(state: &ContainerState, sig: nix::sys::signal::Signal) -> bool {
    if !record::process_alive(state.pid, state.pid_start) {
        return false;
    }
    nix::sys::signal::kill(Pid::from_raw(state.pid), sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(stop: bool, restarts: u32) -> ContainerState {
        let mut s = ContainerState::created();
        s.stop_requested = stop;
        s.restart_count = restarts;
        s
    }

    fn policy(name: &str, n: u32) -> RestartPolicy {
        RestartPolicy {
            name: name.into(),
            maximum_retry_count: n,
        }
    }

    #[test]
    fn restart_policies_follow_docker() {
        assert!(!should_restart(&policy("no", 0), &state(false, 0), 1));
        assert!(should_restart(&policy("always", 0), &state(false, 5), 0));
        assert!(!should_restart(&policy("always", 0), &state(true, 0), 1));
        assert!(should_restart(
            &policy("unless-stopped", 0),
            &state(false, 0),
            0
        ));
        assert!(!should_restart(
            &policy("on-failure", 0),
            &state(false, 0),
            0
        ));
        assert!(should_restart(
            &policy("on-failure", 2),
            &state(false, 1),
            3
        ));
        assert!(!should_restart(
            &policy("on-failure", 2),
            &state(false, 2),
            3
        ));
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_resets_after_a_long_run() {
        let mut b = Backoff::default();
        let short = Duration::from_millis(5);
        assert_eq!(b.next(short), Duration::from_millis(100));
        assert_eq!(b.next(short), Duration::from_millis(200));
        for _ in 0..20 {
            b.next(short);
        }
        assert_eq!(b.next(short), Duration::from_secs(60));
        assert_eq!(b.next(Duration::from_secs(11)), Duration::from_millis(100));
    }
}
