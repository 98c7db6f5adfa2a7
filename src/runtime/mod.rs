//! berth's own container runtime: turns a [`ContainerPlan`] (an OCI runtime
//! spec plus the overlay layout of the rootfs) into a running process.
//!
//! # Process model
//!
//! ```text
//! caller (single-threaded: `berth internal run-plan`, later the monitor)
//!  └─ clone(CLONE_NEW{USER,NS,PID,UTS,IPC,NET,CGROUP} as the spec asks)
//!      = container init, PID 1 in its pid namespace, later execs the command
//! ```
//!
//! One clone, no intermediate process. Rootless, the user namespace is
//! created by the same clone as the others (so they are owned by it); the
//! child blocks on a pipe until the parent has written its id maps with
//! newuidmap/newgidmap ([`crate::userns::write_maps`]), and is then root in
//! the namespace with every capability there.
//!
//! # Life cycle: [`create`] → [`Container::start`] → [`Container::wait`]
//!
//! Two CLOEXEC pipes connect parent and child ([`sync`]):
//! 1. [`create`] clones, maps ids (rootless), sends `GO`; the child sets up
//!    the rootfs, mounts, pivot_root, user, capabilities… everything except
//!    the final execve, then reports `READY` (or an error message, which
//!    becomes [`RuntimeError::Setup`]) and blocks.
//! 2. [`Container::start`] sends `START`; the child searches the command in
//!    the container's PATH and execs it. The child's end of the report pipe
//!    is CLOEXEC: a successful exec closes it (the parent reads EOF), a
//!    failed one writes the errno first ([`Started::ExecFailed`], 126/127).
//! 3. [`Container::wait`] forwards signals and reaps the child.
//!
//! The overlay and every other mount live in the container's mount
//! namespace: they disappear with it, nothing is left to unmount.
//! cgroups are never touched (DESIGN §6). Seccomp (`linux.seccomp`) is
//! compiled before clone and installed by the init: see [`init`], [`seccomp`].

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

pub mod caps;
pub mod exec;
mod init;
pub(crate) use init::loopback_up;
pub mod io;
pub mod mounts;
pub mod pty;
pub mod rootfs;
pub mod seccomp;
mod sync;

/// The container's root file system: an overlay of the image's layers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootfsPlan {
    /// Layer diff dirs, TOP FIRST (overlay lowerdir order).
    pub lower: Vec<PathBuf>,
    /// The container's upper dir (exists, empty, owned by the caller).
    pub upper: PathBuf,
    /// Overlay workdir (exists, empty, same file system as `upper`).
    pub work: PathBuf,
    /// Mount point (exists, empty).
    pub merged: PathBuf,
}

/// Everything needed to run one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerPlan {
    pub spec: oci_spec::runtime::Spec,
    pub rootfs: RootfsPlan,
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid container plan: {0}")]
    InvalidPlan(String),
    #[error("{what}: {errno}")]
    Sys { what: String, errno: Errno },
    #[error("mapping the container's user namespace: {0}")]
    IdMap(#[from] crate::userns::UsernsError),
    /// The container init failed before exec; the message names the step.
    #[error("{0}")]
    Setup(String),
    #[error("container init: {0}")]
    Protocol(String),
}

impl RuntimeError {
    fn sys(what: impl Into<String>, errno: Errno) -> RuntimeError {
        RuntimeError::Sys {
            what: what.into(),
            errno,
        }
    }
}

/// The signals a foreground `run` forwards to the container.
pub const FORWARDED_SIGNALS: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// A created container: init is blocked before exec until [`Container::start`].
#[derive(Debug)]
pub struct Container {
    pid: Pid,
    to_child: Option<OwnedFd>,
    from_child: OwnedFd,
    /// `process.terminal`: the socket the init sends the pty master on.
    console_socket: Option<OwnedFd>,
    /// `process.terminal`: the pty master, once the init has sent it.
    master: Option<OwnedFd>,
    /// Non-fatal problems met during setup (e.g. mqueue not mountable rootless).
    pub warnings: Vec<String>,
    reaped: Option<i32>,
    /// Whether [`Container::wait`] forwards the signals it receives (false
    /// with `--sig-proxy=false`: the spec's `io.berth.sig-proxy` annotation).
    forward_signals: bool,
}

/// What [`Container::start`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The command is running (exec succeeded).
    Running,
    /// The command could not be executed; the init has exited with `status`
    /// (126: not executable, 127: not found). `message` is docker-like.
    ExecFailed { status: i32, message: String },
}

/// The container's standard streams: each `Some` becomes its fd 0/1/2,
/// each `None` is inherited from the caller. Ignored for fds a terminal
/// (`process.terminal`) replaces.
#[derive(Debug, Default)]
pub struct Stdio {
    pub stdin: Option<OwnedFd>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// Creates the container: namespaces, rootfs, mounts, pivot_root, user and
/// capabilities are in place when this returns; the command is not yet
/// executed. Must be called from a single-threaded process.
pub fn create(plan: &ContainerPlan) -> Result<Container, RuntimeError> {
    create_with_stdio(plan, Stdio::default())
}

/// [`create`] with the container's stdio given explicitly.
pub fn create_with_stdio(plan: &ContainerPlan, stdio: Stdio) -> Result<Container, RuntimeError> {
    let prepared = init::Prepared::new(plan)?;
    let (to_child_r, to_child_w) = pipe()?;
    let (from_child_r, from_child_w) = pipe()?;
    let (console_parent, console_child) = if prepared.terminal {
        let (p, c) = pty::console_socket()?;
        (Some(p), Some(c))
    } else {
        (None, None)
    };
    let flags = prepared.clone_flags | libc::SIGCHLD as u64;
    let ret = match &prepared.enter_userns {
        None => clone_init(flags)?,
        Some(path) => clone_init_in_user_namespace(path, flags, prepared.nested_mapping.as_ref())?,
    };
    if ret == 0 {
        drop(to_child_w);
        drop(from_child_r);
        drop(console_parent);
        for (fd, target) in [(&stdio.stdin, 0), (&stdio.stdout, 1), (&stdio.stderr, 2)] {
            if let Some(fd) = fd {
                // SAFETY: dup2 onto a standard fd in the fresh child; the copy is not CLOEXEC.
                unsafe { libc::dup2(fd.as_raw_fd(), target) };
            }
        }
        drop(stdio);
        init::run(&prepared, to_child_r, from_child_w, console_child);
    }
    drop(stdio);
    drop(to_child_r);
    drop(from_child_w);
    drop(console_child);
    let mut container = Container {
        pid: Pid::from_raw(ret as i32),
        to_child: Some(to_child_w),
        from_child: from_child_r,
        console_socket: console_parent,
        master: None,
        warnings: Vec::new(),
        reaped: None,
        forward_signals: prepared.forward_signals,
    };
    if let Err(e) = container.finish_create(&prepared) {
        container.kill_and_reap();
        return Err(e);
    }
    Ok(container)
}

/// Clones the container's init with `flags` (a fork-like clone, no
/// CLONE_VM, no new stack): its pid in the parent, 0 in the child.
fn clone_init(flags: u64) -> Result<i64, RuntimeError> {
    // SAFETY: called from a single-threaded process; the child only runs
    // `init::run`, which never returns.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    if ret < 0 {
        return Err(RuntimeError::sys(
            "creating the container's namespaces (clone)",
            Errno::last(),
        ));
    }
    Ok(ret)
}

/// [`clone_init`] inside the existing user namespace at `path` (rootless
/// containers: the network holder's). A short-lived intermediate child
/// joins it and clones the init, then exits; this process, a child
/// subreaper, inherits the init as its own child. The caller itself never
/// joins: it stays the user's process, in the user's namespace.
///
/// With `nested` (the container's maps are not the joined namespace's,
/// e.g. `--userns=keep-id`), `flags` holds CLONE_NEWUSER and the
/// intermediate, root with every capability in the joined namespace,
/// writes the new one's maps itself (in the joined namespace's ids): no
/// newuidmap. The init waits for the parent's GO, which comes after.
fn clone_init_in_user_namespace(
    path: &std::path::Path,
    flags: u64,
    nested: Option<&crate::userns::IdMapping>,
) -> Result<i64, RuntimeError> {
    let userns = std::fs::File::open(path)
        .map_err(|e| RuntimeError::InvalidPlan(format!("opening {}: {e}", path.display())))?;
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let (r, w) = pipe()?;
    // SAFETY: fork of a single-threaded process; the child only makes
    // syscalls before it clones or exits.
    let middle = unsafe { libc::fork() };
    if middle < 0 {
        return Err(RuntimeError::sys("fork", Errno::last()));
    }
    if middle == 0 {
        drop(r);
        // SAFETY: setns on an fd we own, in the single-threaded child.
        let report = if unsafe { libc::setns(userns.as_raw_fd(), libc::CLONE_NEWUSER) } != 0 {
            -(Errno::last() as i32)
        } else {
            // SAFETY: as in `clone_init`.
            let ret =
                unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
            if ret == 0 {
                drop(w);
                return Ok(0);
            }
            if ret < 0 {
                -(Errno::last() as i32)
            } else if let Some(m) = nested
                && let Err(e) = crate::userns::write_map_direct(ret as i32, "uid_map", &m.uids)
                    .and_then(|()| crate::userns::write_map_direct(ret as i32, "gid_map", &m.gids))
            {
                // SAFETY: kill of the init just cloned, which waits for GO.
                unsafe { libc::kill(ret as i32, libc::SIGKILL) };
                -e.raw_os_error().unwrap_or(libc::EIO)
            } else {
                ret as i32
            }
        };
        let _ = nix::unistd::write(&w, &report.to_ne_bytes());
        // SAFETY: the intermediate ends here, without running destructors.
        unsafe { libc::_exit(0) };
    }
    drop(w);
    let mut buf = [0u8; 4];
    let got = nix::unistd::read(&r, &mut buf);
    let _ = waitpid(Pid::from_raw(middle), None);
    let value = match got {
        Ok(4) => i32::from_ne_bytes(buf),
        _ => -(libc::EIO),
    };
    if value < 0 {
        return Err(RuntimeError::sys(
            "creating the container in the shared user namespace (the network holder's)",
            Errno::from_raw(-value),
        ));
    }
    Ok(value as i64)
}

impl Container {
    /// Host pid of the container's PID 1.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// The pty master (`process.terminal`), once: its owner proxies it.
    pub fn take_master(&mut self) -> Option<OwnedFd> {
        self.master.take()
    }

    fn finish_create(&mut self, prepared: &init::Prepared) -> Result<(), RuntimeError> {
        if let Some(mapping) = &prepared.id_mapping {
            crate::userns::write_maps(self.pid.as_raw() as u32, mapping)?;
        }
        self.send(sync::GO)?;
        loop {
            match sync::read_msg(&self.from_child)? {
                Some(sync::Msg::Warning(w)) => self.warnings.push(w),
                Some(sync::Msg::Ready) => {
                    if let Some(socket) = self.console_socket.take() {
                        let master = pty::recv_master(&socket)?;
                        pty::copy_window_size(&master);
                        self.master = Some(master);
                    }
                    return Ok(());
                }
                Some(sync::Msg::Error(e)) => return Err(RuntimeError::Setup(e)),
                Some(sync::Msg::ExecFailed { .. }) => {
                    return Err(RuntimeError::Protocol("exec report before start".into()));
                }
                None => {
                    let status = self.reap_blocking();
                    return Err(RuntimeError::Protocol(format!(
                        "exited during setup without a report (status {status})"
                    )));
                }
            }
        }
    }

    fn send(&self, byte: u8) -> Result<(), RuntimeError> {
        let fd = self.to_child.as_ref().expect("start called once");
        nix::unistd::write(fd, &[byte])
            .map(|_| ())
            .map_err(|e| RuntimeError::sys("signalling the container init", e))
    }

    /// Lets the init exec the command. Reports whether the exec succeeded.
    pub fn start(&mut self) -> Result<Started, RuntimeError> {
        self.send(sync::START)?;
        self.to_child = None;
        loop {
            match sync::read_msg(&self.from_child)? {
                None => return Ok(Started::Running),
                Some(sync::Msg::Warning(w)) => self.warnings.push(w),
                Some(sync::Msg::ExecFailed { status, message }) => {
                    self.reap_blocking();
                    return Ok(Started::ExecFailed { status, message });
                }
                Some(sync::Msg::Error(e)) => {
                    self.reap_blocking();
                    return Err(RuntimeError::Setup(e));
                }
                Some(sync::Msg::Ready) => {
                    return Err(RuntimeError::Protocol("unexpected ready message".into()));
                }
            }
        }
    }

    /// Waits for the container to exit, forwarding [`FORWARDED_SIGNALS`]
    /// received by this process to it. The caller must have blocked those
    /// signals and SIGCHLD (see [`block_signals`]) before [`create`], so none
    /// is lost. Returns docker's status: the exit code, or 128+N for signal N.
    pub fn wait(&mut self) -> Result<i32, RuntimeError> {
        if let Some(status) = self.reaped {
            return Ok(status);
        }
        let mut set = SigSet::empty();
        set.add(Signal::SIGCHLD);
        for s in FORWARDED_SIGNALS {
            set.add(s);
        }
        loop {
            if let Some(status) = self.try_reap()? {
                return Ok(status);
            }
            let sig = set
                .wait()
                .map_err(|e| RuntimeError::sys("waiting for signals", e))?;
            if sig != Signal::SIGCHLD && self.forward_signals {
                // ESRCH: it is exiting; the SIGCHLD follows.
                let _ = nix::sys::signal::kill(self.pid, sig);
            }
        }
    }

    /// Reaps the container if it has exited: docker's status, or None while it runs.
    pub fn try_reap(&mut self) -> Result<Option<i32>, RuntimeError> {
        loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => return Ok(None),
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = Some(code);
                    return Ok(self.reaped);
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.reaped = Some(128 + sig as i32);
                    return Ok(self.reaped);
                }
                Ok(_) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(RuntimeError::sys("waiting for the container", e)),
            }
        }
    }

    fn reap_blocking(&mut self) -> i32 {
        if let Some(s) = self.reaped {
            return s;
        }
        loop {
            match waitpid(self.pid, None) {
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = Some(code);
                    return code;
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.reaped = Some(128 + sig as i32);
                    return 128 + sig as i32;
                }
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(_) => {
                    self.reaped = Some(-1);
                    return -1;
                }
            }
        }
    }

    fn kill_and_reap(&mut self) {
        if self.reaped.is_none() {
            let _ = nix::sys::signal::kill(self.pid, Signal::SIGKILL);
            self.reap_blocking();
        }
    }
}

impl Drop for Container {
    /// A container that was never waited for is killed, never left behind.
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Blocks SIGCHLD and [`FORWARDED_SIGNALS`] in this (single-threaded)
/// process; returns the previous mask. The container init unblocks
/// everything before it execs.
pub fn block_signals() -> Result<SigSet, RuntimeError> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGCHLD);
    for s in FORWARDED_SIGNALS {
        set.add(s);
    }
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))
        .map_err(|e| RuntimeError::sys("blocking signals", e))?;
    Ok(old)
}

/// What became of a foreground container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// docker's exit status: the process's code, 128+N for signal N, 126 if the
    /// command could not be executed (EACCES/ENOEXEC…), 127 if it was not found.
    pub code: i32,
    /// docker's message when the command could not be executed (126/127).
    pub exec_error: Option<String>,
}

/// Runs the container to completion with the caller's stdin/stdout/stderr,
/// forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGUSR1/SIGUSR2/SIGWINCH to it.
/// `created` is told the host pid of the container's PID 1 and any non-fatal
/// setup problems (e.g. mqueue not mountable rootless) before the command starts. Must be called from a single-threaded
/// process (it clones). Setup failures before exec are errors.
///
/// With `process.terminal`, the container gets a pty ([`pty`]) and this
/// process proxies it: the caller's stdin to it when `forward_stdin` (`-i`),
/// its output to stdout, SIGWINCH as a resize.
pub fn run_attached(
    plan: &ContainerPlan,
    forward_stdin: bool,
    created: impl FnOnce(Pid, &[String]),
) -> Result<Outcome, RuntimeError> {
    let old = block_signals()?;
    let result = run_blocked(plan, forward_stdin, created);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
    result
}

/// [`run_attached`], a terminal (if the spec asks for one) getting stdin.
pub fn run_foreground(
    plan: &ContainerPlan,
    created: impl FnOnce(Pid, &[String]),
) -> Result<Outcome, RuntimeError> {
    run_attached(plan, true, created)
}

fn run_blocked(
    plan: &ContainerPlan,
    forward_stdin: bool,
    created: impl FnOnce(Pid, &[String]),
) -> Result<Outcome, RuntimeError> {
    let mut container = create(plan)?;
    created(container.pid(), &container.warnings);
    let master = container.take_master();
    let started = container.start()?;
    if let Started::ExecFailed { status, message } = started {
        return Ok(Outcome {
            code: status,
            exec_error: Some(message),
        });
    }
    let code = match master {
        Some(master) => attach_terminal(
            &mut container,
            master,
            forward_stdin,
            &mut io::Sink(&mut |_, b| io::write_all(libc::STDOUT_FILENO, b).is_ok()),
        )?,
        None => container.wait()?,
    };
    Ok(Outcome {
        code,
        exec_error: None,
    })
}

/// Proxies a container's terminal to the caller's until it exits: the
/// caller's terminal in raw mode, stdin forwarded when asked (`-i`),
/// window size followed, signals forwarded; output to `sink`.
pub fn attach_terminal(
    container: &mut Container,
    master: OwnedFd,
    forward_stdin: bool,
    watch: &mut dyn io::Watch,
) -> Result<i32, RuntimeError> {
    let _sigpipe = pty::IgnoreSigpipe::new();
    let _raw = if forward_stdin && pty::is_tty(libc::STDIN_FILENO) {
        Some(pty::RawMode::enter()?)
    } else {
        None
    };
    // A resize may have happened between create and now.
    pty::copy_window_size(&master);
    let raw = master.as_raw_fd();
    let pump = io::Pump {
        outputs: vec![(master, crate::container::logfile::Stream::Stdout)],
        input: forward_stdin.then_some(io::Input {
            from: libc::STDIN_FILENO,
            to: raw,
        }),
        // `--sig-proxy=false`: the window size is still followed.
        forward_signals: container.forward_signals,
        resize: Some(raw),
    };
    io::pump_with(container, pump, watch)
}

fn pipe() -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| RuntimeError::sys("creating a pipe", e))
}

/// `/proc/self/fd/N` of an fd: how a path resolved safely is handed to mount(2).
fn fd_path(fd: &impl AsRawFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}
