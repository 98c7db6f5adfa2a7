//! The container init: what the cloned child does between clone and execve.
//!
//! Order (each step needs what the previous one set up):
//! 1. wait for `GO` (rootless: the parent has written the id maps);
//! 2. join namespaces given by path; bring `lo` up in a new network namespace;
//! 3. make `/` rprivate, mount the rootfs (overlay; fuse-overlayfs or a copy
//!    when it fails: [`super::rootfs`]), the spec's mounts, /dev nodes;
//! 4. pivot_root; create the working directory; masked paths, read-only
//!    paths, read-only root; hostname; with `process.terminal`, the pty
//!    from the container's devpts becomes stdio and controlling terminal;
//! 5. rlimits (clamped to the hard limit we have), chdir, bounding set,
//!    groups/gid/uid (keeping capabilities across), capability sets,
//!    ambient set, no_new_privs, umask;
//! 6. report `READY`, wait for `START`, reset signals, search the command in
//!    the container's PATH and execve. On failure, report errno → 126/127.
//!
//! Seccomp: `linux.seccomp` is compiled to BPF in [`Prepared::new`] (in the
//! parent, before clone; see [`super::seccomp`]) and installed as runc does:
//! without no_new_privs, installing a filter needs CAP_SYS_ADMIN (in the
//! container's user namespace when rootless), so it goes in before step 5
//! drops capabilities (every syscall the init makes after that is in
//! docker's allow-list); with no_new_privs, last, right before reporting
//! `READY`. no_new_privs is never forced on the container.

use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::unistd::{Gid, Uid};
use oci_spec::runtime::{LinuxNamespaceType, Mount, PosixRlimitType};

use super::caps::{self, CapSets};
use super::mounts;
use super::sync::{self, Msg};
use super::{ContainerPlan, RootfsPlan, RuntimeError};
use crate::userns::{IdMapping, IdRange};

/// docker's PATH when the container's environment has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// An error of the container init, sent to the parent as text.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{what}: {errno}")]
    Sys { what: String, errno: Errno },
    #[error("{0}")]
    Other(String),
}

fn sys(what: impl Into<String>) -> impl FnOnce(Errno) -> InitError {
    let what = what.into();
    move |errno| InitError::Sys { what, errno }
}

/// The plan, checked and turned into what the child needs (built before clone).
#[derive(Debug)]
pub struct Prepared {
    pub clone_flags: u64,
    pub id_mapping: Option<IdMapping>,
    join: Vec<(CloneFlags, PathBuf)>,
    /// A user namespace given by path: the parent joins it before the
    /// clone (a new user namespace's children cannot join a sibling's).
    pub enter_userns: Option<PathBuf>,
    /// With `enter_userns`: the maps of a user namespace nested in it, in
    /// its ids (written by the process that joined it, after the clone).
    pub nested_mapping: Option<IdMapping>,
    in_userns: bool,
    new_netns: bool,
    new_uts: bool,
    new_mountns: bool,
    rootfs: RootfsPlan,
    /// How the rootfs is made ([`super::rootfs`], `BERTH_STORAGE_DRIVER`).
    driver: super::rootfs::Driver,
    mounts: Vec<Mount>,
    masked: Vec<String>,
    readonly: Vec<String>,
    root_readonly: bool,
    hostname: Option<String>,
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
    oom_score_adj: Option<i32>,
    seccomp: Vec<seccompiler::BpfProgram>,
    /// `process.terminal`: allocate a pty in the container ([`super::pty`]).
    pub terminal: bool,
    /// False when the spec's `io.berth.sig-proxy` annotation is `"false"`
    /// (`run --sig-proxy=false`): received signals are not forwarded.
    pub forward_signals: bool,
}

fn cstring(s: &str, what: &str) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|_| RuntimeError::InvalidPlan(format!("{what} contains a NUL byte")))
}

fn ns_flag(t: LinuxNamespaceType) -> CloneFlags {
    match t {
        LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
        LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
        LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
        LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
        LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
        LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
        LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
        LinuxNamespaceType::Time => CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    }
}

pub(super) fn rlimit_resource(t: PosixRlimitType) -> libc::__rlimit_resource_t {
    use PosixRlimitType::*;
    match t {
        RlimitCpu => libc::RLIMIT_CPU,
        RlimitFsize => libc::RLIMIT_FSIZE,
        RlimitData => libc::RLIMIT_DATA,
        RlimitStack => libc::RLIMIT_STACK,
        RlimitCore => libc::RLIMIT_CORE,
        RlimitRss => libc::RLIMIT_RSS,
        RlimitNproc => libc::RLIMIT_NPROC,
        RlimitNofile => libc::RLIMIT_NOFILE,
        RlimitMemlock => libc::RLIMIT_MEMLOCK,
        RlimitAs => libc::RLIMIT_AS,
        RlimitLocks => libc::RLIMIT_LOCKS,
        RlimitSigpending => libc::RLIMIT_SIGPENDING,
        RlimitMsgqueue => libc::RLIMIT_MSGQUEUE,
        RlimitNice => libc::RLIMIT_NICE,
        RlimitRtprio => libc::RLIMIT_RTPRIO,
        RlimitRttime => libc::RLIMIT_RTTIME,
    }
}

/// `N` of a `/proc/N/ns/user` path: a process in that namespace, whose
/// `/proc/N/uid_map` gives the namespace's maps.
fn namespace_owner_pid(path: &std::path::Path) -> Option<i32> {
    let mut parts = path.strip_prefix("/proc").ok()?.components();
    let pid = parts.next()?.as_os_str().to_str()?.parse().ok()?;
    (parts.as_path() == std::path::Path::new("ns/user")).then_some(pid)
}

fn to_ranges(m: &[oci_spec::runtime::LinuxIdMapping]) -> Vec<IdRange> {
    m.iter()
        .map(|r| IdRange {
            container: r.container_id(),
            host: r.host_id(),
            size: r.size(),
        })
        .collect()
}

impl Prepared {
    pub fn new(plan: &ContainerPlan) -> Result<Prepared, RuntimeError> {
        let spec = &plan.spec;
        let invalid = |s: &str| RuntimeError::InvalidPlan(s.to_string());
        let process = spec
            .process()
            .as_ref()
            .ok_or_else(|| invalid("no process"))?;
        let linux = spec.linux().as_ref();
        let args = process.args().as_deref().unwrap_or(&[]);
        if args.is_empty() || args[0].is_empty() {
            return Err(invalid("no command (process.args is empty)"));
        }
        let mut clone_flags = CloneFlags::empty();
        let mut join = Vec::new();
        let mut enter_userns = None;
        for ns in linux
            .and_then(|l| l.namespaces().as_ref())
            .into_iter()
            .flatten()
        {
            let flag = ns_flag(ns.typ());
            match ns.path() {
                Some(p) if ns.typ() == LinuxNamespaceType::User => enter_userns = Some(p.clone()),
                Some(p) => join.push((flag, p.clone())),
                None => clone_flags |= flag,
            }
        }
        let spec_mapping = {
            let uids = to_ranges(
                linux
                    .and_then(|l| l.uid_mappings().as_deref())
                    .unwrap_or(&[]),
            );
            let gids = to_ranges(
                linux
                    .and_then(|l| l.gid_mappings().as_deref())
                    .unwrap_or(&[]),
            );
            (!uids.is_empty() && !gids.is_empty()).then_some(IdMapping { uids, gids })
        };
        // Joining a user namespace whose maps are not the spec's: the
        // container gets a namespace of its own nested in it, with the
        // spec's maps (translated into the joined one's ids, written from
        // inside it: see `clone_init_in_user_namespace`).
        let mut nested_mapping = None;
        if let (Some(path), Some(wanted)) = (&enter_userns, &spec_mapping) {
            let parent = namespace_owner_pid(path)
                .and_then(|pid| IdMapping::of_process(pid).ok())
                .ok_or_else(|| {
                    RuntimeError::InvalidPlan(format!(
                        "cannot read the id maps of the user namespace {}",
                        path.display()
                    ))
                })?;
            if !wanted.same_ids(&parent) {
                nested_mapping = Some(
                    wanted
                        .nested_in(&parent)
                        .map_err(RuntimeError::InvalidPlan)?,
                );
                clone_flags |= CloneFlags::CLONE_NEWUSER;
            }
        }
        let in_userns = clone_flags.contains(CloneFlags::CLONE_NEWUSER) || enter_userns.is_some();
        let id_mapping =
            if clone_flags.contains(CloneFlags::CLONE_NEWUSER) && enter_userns.is_none() {
                if spec_mapping.is_none() {
                    return Err(invalid(
                        "a user namespace needs linux.uidMappings and linux.gidMappings",
                    ));
                }
                spec_mapping
            } else {
                None
            };
        let envs = process.env().as_deref().unwrap_or(&[]);
        let path_var = envs
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
            .to_string();
        // The child inherits this process's bounding set: it can have no more.
        let caps = CapSets::from_spec(process.capabilities().as_ref())
            .map_err(|e| RuntimeError::InvalidPlan(e.to_string()))?
            .clamp(super::caps::current_bounding(super::caps::last_cap()));
        let user = process.user();
        let cwd = process.cwd().clone();
        if !cwd.is_absolute() {
            return Err(invalid("process.cwd must be absolute"));
        }
        Ok(Prepared {
            clone_flags: clone_flags.bits() as u64,
            id_mapping,
            nested_mapping,
            join,
            enter_userns,
            in_userns,
            new_netns: clone_flags.contains(CloneFlags::CLONE_NEWNET),
            new_uts: clone_flags.contains(CloneFlags::CLONE_NEWUTS),
            new_mountns: clone_flags.contains(CloneFlags::CLONE_NEWNS),
            rootfs: plan.rootfs.clone(),
            driver: super::rootfs::Driver::from_env().map_err(RuntimeError::InvalidPlan)?,
            mounts: spec.mounts().clone().unwrap_or_default(),
            masked: linux
                .and_then(|l| l.masked_paths().clone())
                .unwrap_or_default(),
            readonly: linux
                .and_then(|l| l.readonly_paths().clone())
                .unwrap_or_default(),
            root_readonly: spec.root().as_ref().and_then(|r| r.readonly()) == Some(true),
            hostname: spec.hostname().clone().filter(|h| !h.is_empty()),
            argv: args
                .iter()
                .map(|a| cstring(a, "an argument"))
                .collect::<Result<_, _>>()?,
            envp: envs
                .iter()
                .map(|e| cstring(e, "an environment variable"))
                .collect::<Result<_, _>>()?,
            path_var,
            cwd,
            uid: user.uid(),
            gid: user.gid(),
            groups: user.additional_gids().clone().unwrap_or_default(),
            umask: user.umask().unwrap_or(0o022),
            caps,
            last_cap: caps::last_cap(),
            rlimits: process
                .rlimits()
                .iter()
                .flatten()
                .map(|r| (rlimit_resource(r.typ()), r.soft(), r.hard()))
                .collect(),
            no_new_privs: process.no_new_privileges() == Some(true),
            oom_score_adj: process.oom_score_adj(),
            seccomp: match linux.and_then(|l| l.seccomp().as_ref()) {
                Some(s) => super::seccomp::compile(s)
                    .map_err(|e| RuntimeError::InvalidPlan(e.to_string()))?,
                None => Vec::new(),
            },
            terminal: process.terminal() == Some(true),
            forward_signals: spec
                .annotations()
                .as_ref()
                .and_then(|a| a.get(crate::container::spec::SIG_PROXY_ANNOTATION))
                .is_none_or(|v| v != "false"),
        })
    }
}

/// The child's whole life: never returns.
pub fn run(p: &Prepared, from_parent: OwnedFd, to_parent: OwnedFd, console: Option<OwnedFd>) -> ! {
    if !sync::wait_for(&from_parent, sync::GO) {
        exit(1);
    }
    let mut warnings = Vec::new();
    let result = setup(p, console.as_ref(), &mut warnings);
    drop(console);
    for w in warnings {
        sync::send(&to_parent, &Msg::Warning(w));
    }
    if let Err(e) = result {
        sync::send(&to_parent, &Msg::Error(e.to_string()));
        exit(1);
    }
    sync::send(&to_parent, &Msg::Ready);
    if !sync::wait_for(&from_parent, sync::START) {
        exit(1);
    }
    drop(from_parent);
    exec(p, &to_parent)
}

fn exit(code: i32) -> ! {
    // SAFETY: _exit never returns; no destructors or atexit handlers of the
    // parent's copy of the process image must run.
    unsafe { libc::_exit(code) }
}

fn setup(
    p: &Prepared,
    console: Option<&OwnedFd>,
    warnings: &mut Vec<String>,
) -> Result<(), InitError> {
    for (flag, path) in &p.join {
        let f = std::fs::File::open(path)
            .map_err(|e| InitError::Other(format!("opening namespace {}: {e}", path.display())))?;
        nix::sched::setns(f, *flag)
            .map_err(sys(format!("joining namespace {}", path.display())))?;
    }
    if p.new_netns {
        loopback_up().map_err(sys("bringing up lo in the container's network namespace"))?;
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    if !p.new_mountns {
        return Err(InitError::Other(
            "the spec has no mount namespace: berth needs one".into(),
        ));
    }
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(sys("making / rprivate"))?;
    super::rootfs::mount_rootfs(&p.rootfs, p.driver, warnings)?;
    let root = rustix::fs::open(
        &p.rootfs.merged,
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| InitError::Sys {
        what: format!("opening {}", p.rootfs.merged.display()),
        errno: Errno::from_raw(e.raw_os_error()),
    })?;
    let mounted = mounts::mount_all(&root, &p.mounts, p.in_userns, warnings)?;
    if mounted.dev_tmpfs {
        mounts::populate_dev(&root, p.in_userns)?;
    }
    drop(root);
    if let Some(adj) = p.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| InitError::Other(format!("setting oom_score_adj: {e}")))?;
    }
    mounts::pivot(&p.rootfs.merged)?;
    // docker creates a missing working directory (before --read-only applies).
    std::fs::create_dir_all(&p.cwd).map_err(|e| {
        InitError::Other(format!(
            "creating the working directory {}: {e}",
            p.cwd.display()
        ))
    })?;
    mounts::mask_paths(&p.masked)?;
    mounts::readonly_paths(&p.readonly)?;
    if p.root_readonly {
        mounts::readonly_root()?;
    }
    if let Some(h) = &p.hostname {
        if !p.new_uts {
            return Err(InitError::Other(
                "a hostname needs a UTS namespace in the spec".into(),
            ));
        }
        nix::unistd::sethostname(h).map_err(sys(format!("setting the hostname {h}")))?;
    }
    if let Some(socket) = console {
        super::pty::setup_slave(socket, p.uid)?;
    }
    set_rlimits(&p.rlimits)?;
    nix::unistd::chdir(&p.cwd).map_err(sys(format!("chdir {}", p.cwd.display())))?;
    if !p.no_new_privs {
        apply_seccomp(p)?;
    }
    set_user_and_caps(p)?;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(p.umask));
    if p.no_new_privs {
        apply_seccomp(p)?;
    }
    Ok(())
}

/// Installs the compiled filters (none: unconfined).
fn apply_seccomp(p: &Prepared) -> Result<(), InitError> {
    super::seccomp::install(&p.seccomp).map_err(sys("installing the seccomp filter"))
}

pub(crate) fn loopback_up() -> Result<(), Errno> {
    // SAFETY: a plain socket and two ioctls on a zeroed, NUL-terminated ifreq.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(Errno::last());
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        ifr.ifr_name[0] = b'l' as libc::c_char;
        ifr.ifr_name[1] = b'o' as libc::c_char;
        let mut r = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut ifr);
        if r == 0 {
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            r = libc::ioctl(fd, libc::SIOCSIFFLAGS, &ifr);
        }
        let err = Errno::last();
        libc::close(fd);
        if r < 0 { Err(err) } else { Ok(()) }
    }
}

/// Sets each rlimit; a hard limit above ours (which we may not raise: root
/// here lacks CAP_SYS_RESOURCE, DESIGN §6) is clamped to ours.
pub(super) fn set_rlimits(
    limits: &[(libc::__rlimit_resource_t, u64, u64)],
) -> Result<(), InitError> {
    for &(res, soft, hard) in limits {
        let want = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit/getrlimit with valid pointers.
        unsafe {
            if libc::setrlimit(res, &want) == 0 {
                continue;
            }
            let mut cur = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if Errno::last() != Errno::EPERM || libc::getrlimit(res, &mut cur) != 0 {
                return Err(InitError::Sys {
                    what: format!("setting rlimit {res} to {soft}:{hard}"),
                    errno: Errno::last(),
                });
            }
            let clamped = libc::rlimit {
                rlim_cur: soft.min(cur.rlim_max),
                rlim_max: hard.min(cur.rlim_max),
            };
            if libc::setrlimit(res, &clamped) != 0 {
                return Err(InitError::Sys {
                    what: format!("setting rlimit {res} to {soft}:{hard}"),
                    errno: Errno::last(),
                });
            }
        }
    }
    Ok(())
}

fn set_user_and_caps(p: &Prepared) -> Result<(), InitError> {
    set_credentials(&Credentials {
        uid: p.uid,
        gid: p.gid,
        groups: &p.groups,
        caps: &p.caps,
        last_cap: p.last_cap,
        no_new_privs: p.no_new_privs,
    })
}

/// Who a process becomes: ids, groups, capabilities (shared with `exec`).
pub(super) struct Credentials<'a> {
    pub uid: u32,
    pub gid: u32,
    pub groups: &'a [u32],
    pub caps: &'a CapSets,
    pub last_cap: u32,
    pub no_new_privs: bool,
}

/// Bounding set, groups, gid/uid (keeping capabilities across), capability
/// sets, ambient set, no_new_privs.
pub(super) fn set_credentials(p: &Credentials) -> Result<(), InitError> {
    caps::drop_bounding(p.caps.bounding, p.last_cap)
        .map_err(sys("dropping capabilities from the bounding set"))?;
    // SAFETY: plain prctl.
    if unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) } < 0 {
        return Err(InitError::Sys {
            what: "prctl(PR_SET_KEEPCAPS)".into(),
            errno: Errno::last(),
        });
    }
    // With a single-id mapping setgroups is denied in the namespace.
    let setgroups_denied = std::fs::read_to_string("/proc/self/setgroups")
        .map(|s| s.trim() == "deny")
        .unwrap_or(false);
    if !setgroups_denied {
        let groups: Vec<Gid> = p.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        nix::unistd::setgroups(&groups).map_err(sys("setting supplementary groups"))?;
    }
    let (uid, gid) = (Uid::from_raw(p.uid), Gid::from_raw(p.gid));
    nix::unistd::setresgid(gid, gid, gid).map_err(sys(format!("setting gid {}", p.gid)))?;
    nix::unistd::setresuid(uid, uid, uid).map_err(sys(format!("setting uid {}", p.uid)))?;
    // Changing uid made this process non-dumpable, which hides
    // /proc/PID/ns/* from the monitor's user until the exec resets it; the
    // network helper joins the namespaces between READY and START.
    // SAFETY: plain prctl.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    caps::set_process_caps(p.caps).map_err(sys("setting capabilities"))?;
    caps::set_ambient(p.caps.ambient, p.last_cap).map_err(sys("raising ambient capabilities"))?;
    if p.no_new_privs {
        // SAFETY: plain prctl.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(InitError::Sys {
                what: "prctl(PR_SET_NO_NEW_PRIVS)".into(),
                errno: Errno::last(),
            });
        }
    }
    Ok(())
}

/// Default dispositions and an empty mask, as a freshly started process expects.
pub(super) fn reset_signals() {
    // SAFETY: resetting dispositions to SIG_DFL and clearing the mask.
    unsafe {
        for sig in 1..libc::SIGRTMIN() {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// execvpe over the container's PATH (we are inside its root now).
fn exec(p: &Prepared, to_parent: &OwnedFd) -> ! {
    reset_signals();
    let (status, message) = exec_search(&p.argv, &p.envp, &p.path_var);
    sync::send(to_parent, &Msg::ExecFailed { status, message });
    exit(status)
}

/// Searches `argv[0]` in `path_var` (unless it names a path) and execs it;
/// returns only on failure, with docker's status (126: cannot be executed,
/// 127: not found) and message.
pub(super) fn exec_search(argv: &[CString], envp: &[CString], path_var: &str) -> (i32, String) {
    let c_argv = argv;
    let mut argv: Vec<*const libc::c_char> = c_argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envp.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    let name = c_argv[0].to_bytes();
    let name_str = String::from_utf8_lossy(name).into_owned();
    let try_exec = |path: &CString| -> Errno {
        // SAFETY: NUL-terminated argv/envp arrays of live CStrings.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        Errno::last()
    };
    let (status, message) = if mounts::is_bare_name(&name_str) {
        let mut denied = false;
        let mut other = None;
        for dir in path_var.split(':') {
            let dir = if dir.is_empty() { "." } else { dir };
            let mut full = PathBuf::from(dir);
            full.push(std::ffi::OsStr::from_bytes(name));
            let Ok(c) = CString::new(full.as_os_str().as_bytes()) else {
                continue;
            };
            match try_exec(&c) {
                Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP | Errno::ENAMETOOLONG => {}
                Errno::EACCES => denied = true,
                e => {
                    other = Some(e);
                    break;
                }
            }
        }
        match other {
            Some(e) => (
                126,
                format!("exec: \"{name_str}\": {}", e.desc().to_lowercase()),
            ),
            None if denied => (126, format!("exec: \"{name_str}\": permission denied")),
            None => (
                127,
                format!("exec: \"{name_str}\": executable file not found in $PATH"),
            ),
        }
    } else {
        let e = try_exec(&c_argv[0]);
        let status = if matches!(e, Errno::ENOENT | Errno::ENOTDIR) {
            127
        } else {
            126
        };
        (
            status,
            format!("exec: \"{name_str}\": {}", e.desc().to_lowercase()),
        )
    };
    (status, message)
}
