//! `exec`: one more process in a running container.
//!
//! # Process model
//!
//! ```text
//! berth exec (the caller; single-threaded: setns into a user namespace
//!  │          refuses a multi-threaded process, see [`single_threaded`])
//!  │  open /proc/PID/ns/* of the container's PID 1, check it is still the
//!  │  recorded process, then setns: user (rootless) first, then cgroup, ipc,
//!  │  uts, net, pid, mnt. The mount namespace makes the container's root
//!  │  our root and cwd; the pid namespace only applies to children, so:
//!  └─ fork = the exec'd process, in the container's pid namespace
//!        stdio, rlimits, chdir, seccomp/credentials/no_new_privs exactly as
//!        the container init does ([`super::init`]), then PATH search + execve
//! ```
//!
//! No intermediate process and no copies: without `-t` the process gets the
//! caller's stdout/stderr (and stdin with `-i`, else `/dev/null`) as they are,
//! so `exec -i c sh -c 'cat > f' < big` streams at pipe speed and sees EOF.
//! With `-t` the pty is opened from the container's own devpts (`/dev/ptmx`
//! after joining its mount namespace, as the init does for `run -t`), and
//! this process proxies it with [`super::attach_terminal`]. Signals received
//! by this process are forwarded to the exec'd process. With `-d` this
//! process returns once the command runs; the process is then reparented to
//! the container's PID 1 (the reaper of its pid namespace).
//!
//! Exec failures are reported like the init's over a CLOEXEC pipe (EOF: the
//! exec succeeded), with docker's statuses: 126 cannot be executed, 127 not
//! found, 126 for any other failure to start (docker's "OCI runtime exec
//! failed").
//!
//! The process is made non-dumpable before it joins anything, as runc does:
//! processes of the container must not be able to ptrace a berth that holds
//! capabilities in their namespaces.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;
use oci_spec::runtime::Spec;

use super::caps::{self, CapSets};
use super::init::{self, Credentials, InitError};
use super::sync::{self, Msg};
use super::{Container, Outcome, RuntimeError, io, pty, seccomp};
use crate::container::record;

/// What `berth exec` asks for.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// Host pid of the container's PID 1 and its start time (`state.json`).
    pub pid: i32,
    pub pid_start: u64,
    /// The command and its arguments.
    pub args: Vec<String>,
    /// `-e`/`--env-file` entries, in order: `K=V` sets, a bare `K` unsets.
    pub env: Vec<String>,
    /// `-u USER[:GROUP]`, resolved in the container's `/etc/passwd` and
    /// `/etc/group`; None: the container's user.
    pub user: Option<String>,
    /// `-w`; None: the container's working directory.
    pub workdir: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub detach: bool,
    /// All capabilities (the container's seccomp profile still applies, as in docker).
    pub privileged: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The recorded PID 1 is gone (or was never there).
    #[error("container is not running")]
    NotRunning,
    /// This process has threads: it cannot join a user namespace.
    #[error("berth exec must run single-threaded")]
    Threaded,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
}

/// Whether this process has a single thread (`Threads:` in /proc/self/status).
pub fn single_threaded() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u32>().ok())
        })
        == Some(1)
}

/// docker's wording for a process that could not be started in the container.
pub fn oci_message(message: &str) -> String {
    format!(
        "OCI runtime exec failed: exec failed: unable to start container process: {message}: unknown"
    )
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// The exec'd process's environment: the container's (`process.env`), then
/// `TERM=xterm` with `-t` when it has no TERM (docker's
/// CreateDaemonEnvironment), `HOME` of the `-u` user when one was given, then
/// the flags' variables replacing same-named ones in place or appended; a
/// bare `NAME` removes NAME.
pub fn exec_env(
    container_env: &[String],
    flag_env: &[String],
    tty: bool,
    home: Option<&str>,
) -> Vec<String> {
    let mut env: Vec<Option<String>> = container_env.iter().cloned().map(Some).collect();
    let set = |env: &mut Vec<Option<String>>, v: String, replace: bool| {
        let key = env_key(&v).to_string();
        let pos = env
            .iter()
            .position(|e| e.as_deref().is_some_and(|e| env_key(e) == key));
        match (v.contains('='), pos) {
            (true, Some(i)) if replace => env[i] = Some(v),
            (true, Some(_)) => {}
            (true, None) => env.push(Some(v)),
            (false, Some(i)) => env[i] = None,
            (false, None) => {}
        }
    };
    if tty {
        set(&mut env, "TERM=xterm".into(), false);
    }
    if let Some(home) = home {
        set(&mut env, format!("HOME={home}"), true);
    }
    for v in flag_env {
        set(&mut env, v.clone(), true);
    }
    env.into_iter().flatten().collect()
}

/// `inside outside count` lines of a uid_map/gid_map.
fn parse_id_map(text: &str) -> Vec<(u32, u32)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|n| n.parse::<u64>().ok());
            let (inside, _, count) = (f.next()??, f.next()??, f.next()??);
            Some((
                inside.min(u32::MAX as u64) as u32,
                (inside + count).min(u32::MAX as u64 + 1).saturating_sub(1) as u32,
            ))
        })
        .collect()
}

fn id_mapped(ranges: &[(u32, u32)], id: u32) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= id && id <= hi)
}

/// The namespaces joined, in order: user first (it grants the capabilities
/// the others need rootless), mount last (it changes our root).
const NAMESPACES: [(&str, CloneFlags); 7] = [
    ("user", CloneFlags::CLONE_NEWUSER),
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// How the exec'd process's stdio is set up.
enum ChildStdio {
    /// Inherit stdout/stderr; stdin from this fd (`/dev/null` without `-i`), or inherited.
    Direct { stdin: Option<OwnedFd> },
    /// The pty slave as controlling terminal and stdio.
    Tty(OwnedFd),
    /// `/dev/null` everywhere, in a session of its own (`-d`).
    Detached(OwnedFd),
}

/// Everything the child needs, built before fork.
struct Child {
    stdio: ChildStdio,
    argv: Vec<CString>,
    envp: Vec<CString>,
    path_var: String,
    cwd: PathBuf,
    uid: u32,
    gid: u32,
    groups: Vec<u32>,
    umask: u32,
    caps: CapSets,
    last_cap: u32,
    rlimits: Vec<(libc::__rlimit_resource_t, u64, u64)>,
    no_new_privs: bool,
    seccomp: Vec<seccompiler::BpfProgram>,
}

fn cstrings(v: &[String], what: &str) -> Result<Vec<CString>, ExecError> {
    v.iter()
        .map(|s| {
            CString::new(s.as_str())
                .map_err(|_| ExecError::Invalid(format!("{what} contains a NUL byte")))
        })
        .collect()
}

fn sys(what: &str) -> impl FnOnce(Errno) -> RuntimeError + '_ {
    move |e| RuntimeError::sys(what, e)
}

fn failed(code: i32, message: &str) -> Outcome {
    Outcome {
        code,
        exec_error: Some(oci_message(message)),
    }
}

/// Runs `opts.args` in the running container whose runtime spec is `spec`.
/// Returns docker's status (the command's exit code, 128+N for signal N,
/// 126/127 with a message when it could not be started; 0 at once with `-d`).
///
/// Must be called from a single-threaded process ([`single_threaded`]);
/// this process joins the container's namespaces and stays in them.
pub fn exec(spec: &Spec, opts: &ExecOptions) -> Result<Outcome, ExecError> {
    let process = spec
        .process()
        .as_ref()
        .ok_or_else(|| ExecError::Invalid("the container's spec has no process".into()))?;
    if opts.args.is_empty() || opts.args[0].is_empty() {
        return Err(ExecError::Invalid("no command given".into()));
    }
    if !single_threaded() {
        return Err(ExecError::Threaded);
    }
    let last_cap = caps::last_cap();
    let wanted = if opts.privileged {
        let all = if last_cap >= 63 {
            u64::MAX
        } else {
            (1u64 << (last_cap + 1)) - 1
        };
        CapSets {
            bounding: all,
            effective: all,
            permitted: all,
            inheritable: 0,
            ambient: 0,
        }
    } else {
        CapSets::from_spec(process.capabilities().as_ref()).map_err(ExecError::Invalid)?
    };
    let caps = wanted.clamp(caps::current_bounding(last_cap));
    let seccomp = match spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
        Some(s) => seccomp::compile(s).map_err(|e| ExecError::Invalid(e.to_string()))?,
        None => Vec::new(),
    };
    let dev_null = || -> Result<OwnedFd, ExecError> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null")
            .map(OwnedFd::from)
            .map_err(|e| ExecError::Invalid(format!("/dev/null: {e}")))
    };
    let null = if opts.detach || !opts.interactive {
        Some(dev_null()?)
    } else {
        None
    };

    // The container's namespaces, opened while /proc is still ours.
    let pid = opts.pid;
    let mut joins = Vec::new();
    for (name, flag) in NAMESPACES {
        let theirs = match std::fs::File::open(format!("/proc/{pid}/ns/{name}")) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ExecError::NotRunning);
            }
            Err(e) => {
                return Err(ExecError::Invalid(format!(
                    "opening the container's {name} namespace: {e}"
                )));
            }
        };
        let same = match (
            theirs.metadata(),
            std::fs::metadata(format!("/proc/self/ns/{name}")),
        ) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        };
        if !same {
            joins.push((name, flag, theirs));
        }
    }
    // The fds name the namespaces of the process that was alive just now:
    // if it is still the recorded one, they are the container's.
    if !record::process_alive(pid, opts.pid_start) {
        return Err(ExecError::NotRunning);
    }
    let joins_user = joins.iter().any(|(n, _, _)| *n == "user");
    let gid_ranges = if joins_user {
        Some(parse_id_map(
            &std::fs::read_to_string(format!("/proc/{pid}/gid_map")).unwrap_or_default(),
        ))
    } else {
        None
    };

    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    for (name, flag, fd) in joins {
        nix::sched::setns(fd, flag).map_err(|e| {
            RuntimeError::sys(format!("joining the container's {name} namespace"), e)
        })?;
    }
    // From here on our root and cwd are the container's root, and /proc is
    // the container's (where this process has no pid: no /proc/self).

    let (uid, gid, mut groups, home) = match opts.user.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => {
            let passwd = std::fs::read_to_string("/etc/passwd").ok();
            let group = std::fs::read_to_string("/etc/group").ok();
            match crate::container::user::resolve_user(u, passwd.as_deref(), group.as_deref()) {
                Ok(r) => (r.uid, r.gid, r.additional_gids, Some(r.home)),
                Err(e) => return Ok(failed(126, &e.to_string())),
            }
        }
        None => {
            let user = process.user();
            (
                user.uid(),
                user.gid(),
                user.additional_gids().clone().unwrap_or_default(),
                None,
            )
        }
    };
    // Supplementary groups the namespace cannot name are dropped (setgroups would fail).
    if let Some(ranges) = &gid_ranges {
        groups.retain(|g| id_mapped(ranges, *g));
    }
    let env = exec_env(
        process.env().as_deref().unwrap_or(&[]),
        &opts.env,
        opts.tty,
        home.as_deref(),
    );
    let path_var = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(init::DEFAULT_PATH)
        .to_string();
    let cwd = match opts.workdir.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => PathBuf::from(w),
        None => process.cwd().clone(),
    };
    if !cwd.is_absolute() {
        return Ok(failed(
            126,
            &format!("the working directory '{}' must be absolute", cwd.display()),
        ));
    }

    let mut master = None;
    let stdio = if opts.detach {
        ChildStdio::Detached(null.expect("opened for -d"))
    } else if opts.tty {
        let (m, slave) = match pty::open_pty(uid) {
            Ok(p) => p,
            Err(e) => return Ok(failed(126, &e.to_string())),
        };
        if !is_ptmx(&m) {
            return Ok(failed(
                126,
                "/dev/ptmx in the container is not the pty multiplexer",
            ));
        }
        pty::copy_window_size(&m);
        master = Some(m);
        ChildStdio::Tty(slave)
    } else {
        ChildStdio::Direct { stdin: null }
    };
    let child = Child {
        stdio,
        argv: cstrings(&opts.args, "an argument")?,
        envp: cstrings(&env, "an environment variable")?,
        path_var,
        cwd,
        uid,
        gid,
        groups,
        umask: process.user().umask().unwrap_or(0o022),
        caps,
        last_cap,
        rlimits: process
            .rlimits()
            .iter()
            .flatten()
            .map(|r| (init::rlimit_resource(r.typ()), r.soft(), r.hard()))
            .collect(),
        no_new_privs: process.no_new_privileges() == Some(true),
        seccomp,
    };

    let (report_r, report_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(sys("creating a pipe"))?;
    let old_mask = if opts.detach {
        None
    } else {
        Some(super::block_signals()?)
    };
    let result = fork_and_wait(child, master, report_r, report_w, opts);
    if let Some(old) = old_mask {
        let _ = nix::sys::signal::sigprocmask(
            nix::sys::signal::SigmaskHow::SIG_SETMASK,
            Some(&old),
            None,
        );
    }
    result
}

/// `/dev/ptmx` turned out to be the pty multiplexer (character device 5:2).
fn is_ptmx(fd: &OwnedFd) -> bool {
    match nix::sys::stat::fstat(fd) {
        Ok(st) => {
            (st.st_mode & libc::S_IFMT) == libc::S_IFCHR
                && libc::major(st.st_rdev) == 5
                && libc::minor(st.st_rdev) == 2
        }
        Err(_) => false,
    }
}

fn fork_and_wait(
    child: Child,
    master: Option<OwnedFd>,
    report_r: OwnedFd,
    report_w: OwnedFd,
    opts: &ExecOptions,
) -> Result<Outcome, ExecError> {
    // SAFETY: this process is single-threaded (checked before setns(user),
    // which would have failed otherwise); the child only runs `run_child`.
    let ret = unsafe { libc::fork() };
    if ret < 0 {
        let e = Errno::last();
        // ENOMEM: the pid namespace's init has exited.
        if e == Errno::ENOMEM {
            return Err(ExecError::NotRunning);
        }
        return Err(RuntimeError::sys("fork", e).into());
    }
    if ret == 0 {
        drop(report_r);
        drop(master);
        run_child(child, report_w);
    }
    drop(report_w);
    drop(child);
    let mut container = Container {
        pid: Pid::from_raw(ret),
        to_child: None,
        from_child: report_r,
        console_socket: None,
        master: None,
        warnings: Vec::new(),
        reaped: None,
        forward_signals: true,
    };
    loop {
        match sync::read_msg(&container.from_child)? {
            None => break,
            Some(Msg::ExecFailed { status, message }) => {
                container.reap_blocking();
                return Ok(failed(status, &message));
            }
            Some(Msg::Error(e)) => {
                container.reap_blocking();
                return Ok(failed(126, &e));
            }
            Some(Msg::Warning(_)) | Some(Msg::Ready) => {}
        }
    }
    if opts.detach {
        // Running: it is left to the container's PID 1 once we exit (the
        // reaper of its pid namespace), never killed by the drop below.
        container.reaped = Some(0);
        return Ok(Outcome {
            code: 0,
            exec_error: None,
        });
    }
    let code = match master {
        Some(m) => super::attach_terminal(
            &mut container,
            m,
            opts.interactive,
            &mut io::Sink(&mut |_, b| io::write_all(libc::STDOUT_FILENO, b).is_ok()),
        )?,
        None => container.wait()?,
    };
    Ok(Outcome {
        code,
        exec_error: None,
    })
}

/// The exec'd process: never returns.
fn run_child(child: Child, to_parent: OwnedFd) -> ! {
    if let Err(e) = setup_child(&child) {
        sync::send(&to_parent, &Msg::Error(e.to_string()));
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(126) }
    }
    init::reset_signals();
    let (status, message) = init::exec_search(&child.argv, &child.envp, &child.path_var);
    sync::send(&to_parent, &Msg::ExecFailed { status, message });
    // SAFETY: as above.
    unsafe { libc::_exit(status) }
}

fn setup_child(c: &Child) -> Result<(), InitError> {
    let dup = |fd: &OwnedFd, target: i32| -> Result<(), InitError> {
        // SAFETY: dup2 onto a standard fd of this fresh child.
        if unsafe { libc::dup2(fd.as_raw_fd(), target) } < 0 {
            return Err(InitError::Sys {
                what: "setting up stdio".into(),
                errno: Errno::last(),
            });
        }
        Ok(())
    };
    match &c.stdio {
        ChildStdio::Direct { stdin } => {
            if let Some(fd) = stdin {
                dup(fd, 0)?;
            }
        }
        ChildStdio::Tty(slave) => {
            let slave = slave
                .try_clone()
                .map_err(|e| InitError::Other(format!("duplicating the pty slave: {e}")))?;
            pty::become_stdio(slave)?;
        }
        ChildStdio::Detached(null) => {
            // SAFETY: plain setsid.
            unsafe { libc::setsid() };
            for target in 0..3 {
                dup(null, target)?;
            }
        }
    }
    // Nothing of berth's (or of whoever started it) beyond stdio reaches the command.
    // SAFETY: close_range with the CLOEXEC flag only marks fds.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    init::set_rlimits(&c.rlimits)?;
    nix::unistd::chdir(&c.cwd).map_err(|errno| InitError::Sys {
        what: format!(
            "chdir to cwd (\"{}\") set in config.json failed",
            c.cwd.display()
        ),
        errno,
    })?;
    let install_seccomp = || {
        seccomp::install(&c.seccomp).map_err(|errno| InitError::Sys {
            what: "installing the seccomp filter".into(),
            errno,
        })
    };
    // As the init: without no_new_privs the filter needs CAP_SYS_ADMIN, so
    // it goes in before the capabilities are dropped; with it, last.
    if !c.no_new_privs {
        install_seccomp()?;
    }
    init::set_credentials(&Credentials {
        uid: c.uid,
        gid: c.gid,
        groups: &c.groups,
        caps: &c.caps,
        last_cap: c.last_cap,
        no_new_privs: c.no_new_privs,
    })?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(c.umask));
    if c.no_new_privs {
        install_seccomp()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn env_is_the_containers_with_the_flags_replacing_in_place() {
        let base = s(&["PATH=/bin", "HOSTNAME=abc", "A=1", "HOME=/root"]);
        assert_eq!(exec_env(&base, &[], false, None), base);
        assert_eq!(
            exec_env(&base, &s(&["A=2", "B=3", "HOSTNAME"]), false, None),
            s(&["PATH=/bin", "A=2", "HOME=/root", "B=3"])
        );
        // A later flag wins; a bare unknown name is nothing.
        assert_eq!(
            exec_env(&s(&["A=1"]), &s(&["B=1", "B=2", "C"]), false, None),
            s(&["A=1", "B=2"])
        );
    }

    #[test]
    fn tty_adds_term_unless_set_and_user_sets_home() {
        assert_eq!(
            exec_env(&s(&["A=1"]), &[], true, None),
            s(&["A=1", "TERM=xterm"])
        );
        assert_eq!(
            exec_env(&s(&["TERM=vt100"]), &[], true, None),
            s(&["TERM=vt100"])
        );
        assert_eq!(
            exec_env(&s(&["HOME=/root", "X=1"]), &[], false, Some("/home")),
            s(&["HOME=/home", "X=1"])
        );
        // -e HOME beats the user's home; -e TERM beats xterm.
        assert_eq!(
            exec_env(&[], &s(&["HOME=/x", "TERM=dumb"]), true, Some("/home")),
            s(&["TERM=dumb", "HOME=/x"])
        );
    }

    #[test]
    fn id_maps_are_parsed_as_inclusive_ranges() {
        let r =
            parse_id_map("         0       1000          1\n         1     100000      65536\n");
        assert_eq!(r, vec![(0, 0), (1, 65536)]);
        assert!(id_mapped(&r, 0) && id_mapped(&r, 65536) && !id_mapped(&r, 65537));
        let full = parse_id_map("0 0 4294967295\n");
        assert!(id_mapped(&full, 4294967294));
        assert!(parse_id_map("garbage\n").is_empty());
    }

    #[test]
    fn messages_are_dockers() {
        assert_eq!(
            oci_message("exec: \"x\": executable file not found in $PATH"),
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"x\": executable file not found in $PATH: unknown"
        );
    }

    #[test]
    fn a_second_thread_is_seen() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || rx.recv());
        assert!(!single_threaded());
        drop(tx);
        let _ = t.join();
    }
}
