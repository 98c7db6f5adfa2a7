//! Seccomp: docker's default profile as a table, the OCI `linux.seccomp`
//! it resolves to for a capability set, and the compilation of any OCI
//! `linux.seccomp` to BPF with seccompiler.
//!
//! # The default profile
//!
//! [`default_profile`] is moby's `profiles/seccomp/default.json` for amd64,
//! resolved for the container's capabilities the way docker does before it
//! writes `config.json`: an allow-list with `SCMP_ACT_ERRNO` (EPERM) as the
//! default action, the syscalls gated on a capability (CAP_SYS_ADMIN →
//! mount, unshare, setns, clone3…, CAP_SYS_PTRACE → ptrace…), and the
//! argument filters (`personality` values, `socket` except AF_VSOCK,
//! `clone` without namespace flags, `clone3` → ENOSYS so that glibc falls
//! back to `clone`, when CAP_SYS_ADMIN is missing). Bump [`PROFILE_VERSION`]
//! whenever the table changes.
//!
//! # Compilation ([`compile`])
//!
//! seccompiler builds a filter with one match action and one mismatch
//! action. An OCI profile with several actions becomes several filters,
//! installed in order: first the base filter (every rule's syscalls match
//! ALLOW, anything else gets the default action), then one filter per other
//! action (its rules match that action, the rest ALLOW). The kernel runs
//! every filter and keeps the most restrictive result (the latest installed
//! on a tie), which is what libseccomp's single filter would return for
//! docker's profiles.
//!
//! Limits: x86_64 only; the filter kills a process making syscalls through
//! another ABI (i386 `int 0x80`), where docker's profile also allows the
//! x86/x32 ABIs. `SCMP_ACT_NOTIFY` is refused. Syscall names unknown here
//! are ignored, as runc does for names libseccomp does not know.

use std::collections::BTreeMap;

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompOperator, LinuxSyscall,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Version of the default profile table (part of the cache key).
pub const PROFILE_VERSION: u32 = 1;

const EPERM: u32 = libc::EPERM as u32;
const ENOSYS: u32 = libc::ENOSYS as u32;
const AF_VSOCK: u64 = 40;
/// CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET (docker's mask).
const CLONE_NS_FLAGS: u64 = 0x7E02_0000;

/// Always allowed: docker's unconditional list, names that exist on x86_64.
const ALLOWED: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "clock_adjtime",
    "clock_getres",
    "clock_gettime",
    "clock_nanosleep",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "fcntl",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstatfs",
    "fsync",
    "ftruncate",
    "futex",
    "futex_waitv",
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "geteuid",
    "getgid",
    "getgroups",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresuid",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getxattr",
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "io_uring_enter",
    "io_uring_register",
    "io_uring_setup",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listxattr",
    "llistxattr",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "madvise",
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedsend",
    "mq_unlink",
    "mremap",
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recvfrom",
    "recvmmsg",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "sendfile",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsuid",
    "setgid",
    "setgroups",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setresgid",
    "setresuid",
    "setreuid",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setxattr",
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "socketpair",
    "splice",
    "stat",
    "statfs",
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_settime",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_settime",
    "times",
    "tkill",
    "truncate",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "utime",
    "utimensat",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "write",
    "writev",
    // docker: minKernel 4.8 (always true here).
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
    // docker: amd64/x32/x86 only.
    "arch_prctl",
    "modify_ldt",
];

/// Allowed when the container has the capability.
const BY_CAP: &[(&str, &[&str])] = &[
    ("CAP_DAC_READ_SEARCH", &["open_by_handle_at"]),
    (
        "CAP_SYS_ADMIN",
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount2",
            "unshare",
        ],
    ),
    ("CAP_SYS_BOOT", &["reboot"]),
    ("CAP_SYS_CHROOT", &["chroot"]),
    (
        "CAP_SYS_MODULE",
        &["delete_module", "init_module", "finit_module"],
    ),
    ("CAP_SYS_PACCT", &["acct"]),
    (
        "CAP_SYS_PTRACE",
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    ("CAP_SYS_RAWIO", &["iopl", "ioperm"]),
    ("CAP_SYS_TIME", &["settimeofday", "clock_settime"]),
    ("CAP_SYS_TTY_CONFIG", &["vhangup"]),
    (
        "CAP_SYS_NICE",
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
    ),
    ("CAP_SYSLOG", &["syslog"]),
    ("CAP_BPF", &["bpf"]),
    ("CAP_PERFMON", &["perf_event_open"]),
];

/// `personality(2)` values docker allows: PER_LINUX, PER_LINUX32,
/// UNAME26, UNAME26|PER_LINUX32, and the 0xffffffff query.
const PERSONALITIES: &[u64] = &[0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

fn allow(names: &[&str]) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names.iter().map(|n| n.to_string()).collect());
    s.set_action(LinuxSeccompAction::ScmpActAllow);
    s
}

fn arg(
    index: usize,
    op: LinuxSeccompOperator,
    value: u64,
    value_two: Option<u64>,
) -> LinuxSeccompArg {
    let mut b = LinuxSeccompArgBuilder::default()
        .index(index)
        .op(op)
        .value(value);
    if let Some(v) = value_two {
        b = b.value_two(v);
    }
    b.build().expect("all fields set")
}

/// docker's default profile resolved for `caps` (names like `CAP_SYS_ADMIN`).
pub fn default_profile(caps: &[String]) -> LinuxSeccomp {
    let has = |c: &str| caps.iter().any(|x| x == c);
    let mut names: Vec<&str> = ALLOWED.to_vec();
    for (cap, list) in BY_CAP {
        if has(cap) {
            names.extend_from_slice(list);
        }
    }
    names.sort_unstable();
    names.dedup();
    let mut syscalls = vec![allow(&names)];
    let mut socket = allow(&["socket"]);
    socket.set_args(Some(vec![arg(
        0,
        LinuxSeccompOperator::ScmpCmpNe,
        AF_VSOCK,
        None,
    )]));
    syscalls.push(socket);
    for &p in PERSONALITIES {
        let mut s = allow(&["personality"]);
        s.set_args(Some(vec![arg(0, LinuxSeccompOperator::ScmpCmpEq, p, None)]));
        syscalls.push(s);
    }
    if !has("CAP_SYS_ADMIN") {
        let mut clone = allow(&["clone"]);
        clone.set_args(Some(vec![arg(
            0,
            LinuxSeccompOperator::ScmpCmpMaskedEq,
            CLONE_NS_FLAGS,
            Some(0),
        )]));
        syscalls.push(clone);
        let mut clone3 = LinuxSyscall::default();
        clone3.set_names(vec!["clone3".into()]);
        clone3.set_action(LinuxSeccompAction::ScmpActErrno);
        clone3.set_errno_ret(Some(ENOSYS));
        syscalls.push(clone3);
    }
    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(LinuxSeccompAction::ScmpActErrno);
    profile.set_default_errno_ret(Some(EPERM));
    profile.set_architectures(Some(vec![Arch::ScmpArchX86_64]));
    profile.set_syscalls(Some(syscalls));
    profile
}

/// A seccomp profile in docker's JSON format (`--security-opt seccomp=FILE`):
/// OCI's `LinuxSeccomp` plus `archMap`, a legacy `name` per rule, and the
/// `includes`/`excludes` filters (capabilities, architectures, minimum
/// kernel) docker resolves before it writes `config.json`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerProfile {
    default_action: Option<String>,
    default_errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    architectures: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    arch_map: Vec<DockerArch>,
    listener_path: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    syscalls: Vec<DockerSyscall>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerArch {
    architecture: String,
    #[serde(default, deserialize_with = "nullable")]
    sub_architectures: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerSyscall {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    args: Vec<DockerArg>,
    #[serde(default, deserialize_with = "nullable")]
    includes: DockerFilter,
    #[serde(default, deserialize_with = "nullable")]
    excludes: DockerFilter,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerArg {
    index: usize,
    #[serde(default, deserialize_with = "nullable")]
    value: u64,
    #[serde(default, deserialize_with = "nullable")]
    value_two: u64,
    op: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerFilter {
    #[serde(default, deserialize_with = "nullable")]
    caps: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    arches: Vec<String>,
    min_kernel: Option<String>,
}

/// Go writes a nil slice or struct as `null`: read it as empty.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// The host architecture in docker's two spellings (Go's and libseccomp's).
const GO_ARCH: &str = "amd64";
const SCMP_ARCH: &str = "SCMP_ARCH_X86_64";

fn enum_value<T: serde::de::DeserializeOwned>(what: &str, v: &str) -> Result<T, SeccompError> {
    serde_json::from_value(serde_json::Value::String(v.to_string()))
        .map_err(|_| SeccompError(format!("unknown {what} {v:?}")))
}

/// `major.minor` of a kernel release like `6.1.0-18-amd64`.
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

fn running_kernel() -> Option<(u32, u32)> {
    let uts = nix::sys::utsname::uname().ok()?;
    kernel_version(&uts.release().to_string_lossy())
}

/// Parses a seccomp profile in docker's JSON format and resolves it the way
/// docker does for a container with capabilities `caps` on this host
/// (x86_64, the running kernel): `archMap` entries of this architecture,
/// rules whose `includes` hold and whose `excludes` do not. Errors name what
/// is wrong (JSON syntax, an unknown action, operator or architecture, `name`
/// with `names`…); the result is checked to compile.
pub fn load_profile(json: &str, caps: &[String]) -> Result<LinuxSeccomp, SeccompError> {
    load_profile_for(json, caps, running_kernel())
}

fn load_profile_for(
    json: &str,
    caps: &[String],
    kernel: Option<(u32, u32)>,
) -> Result<LinuxSeccomp, SeccompError> {
    let p: DockerProfile = serde_json::from_str(json).map_err(|e| SeccompError(e.to_string()))?;
    let default_action = p
        .default_action
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| SeccompError("the profile has no defaultAction".into()))?;
    if !p.architectures.is_empty() && !p.arch_map.is_empty() {
        return Err(SeccompError(
            "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'".into(),
        ));
    }
    let arch_names: Vec<&String> = if p.arch_map.is_empty() {
        p.architectures.iter().collect()
    } else {
        p.arch_map
            .iter()
            .filter(|a| a.architecture == SCMP_ARCH)
            .flat_map(|a| std::iter::once(&a.architecture).chain(&a.sub_architectures))
            .collect()
    };
    let mut arches = Vec::new();
    for a in arch_names {
        let arch: Arch = enum_value("architecture", a)?;
        if !arches.contains(&arch) {
            arches.push(arch);
        }
    }
    let has_cap = |c: &String| caps.iter().any(|x| x == c);
    let kernel_at_least = |v: &str| -> Result<bool, SeccompError> {
        let want =
            kernel_version(v).ok_or_else(|| SeccompError(format!("invalid minKernel {v:?}")))?;
        Ok(kernel.is_some_and(|k| k >= want))
    };
    let mut syscalls = Vec::new();
    for (i, call) in p.syscalls.into_iter().enumerate() {
        let mut names = call.names;
        if !call.name.is_empty() {
            if !names.is_empty() {
                return Err(SeccompError(format!(
                    "syscalls[{i}]: use either 'name' or 'names'"
                )));
            }
            names.push(call.name);
        }
        let action: LinuxSeccompAction = enum_value("action", &call.action)
            .map_err(|e| SeccompError(format!("syscalls[{i}]: {}", e.0)))?;
        let mut args = Vec::new();
        for a in &call.args {
            let op: LinuxSeccompOperator = enum_value("operator", &a.op)
                .map_err(|e| SeccompError(format!("syscalls[{i}]: {}", e.0)))?;
            args.push(arg(a.index, op, a.value, Some(a.value_two)));
        }
        let (inc, exc) = (&call.includes, &call.excludes);
        let excluded = exc.arches.iter().any(|a| a == GO_ARCH)
            || exc.caps.iter().any(has_cap)
            || match &exc.min_kernel {
                Some(v) => kernel_at_least(v)?,
                None => false,
            };
        let included = (inc.arches.is_empty() || inc.arches.iter().any(|a| a == GO_ARCH))
            && inc.caps.iter().all(has_cap)
            && match &inc.min_kernel {
                Some(v) => kernel_at_least(v)?,
                None => true,
            };
        if excluded || !included || names.is_empty() {
            continue;
        }
        let mut s = LinuxSyscall::default();
        s.set_names(names);
        s.set_action(action);
        s.set_errno_ret(call.errno_ret);
        s.set_args((!args.is_empty()).then_some(args));
        syscalls.push(s);
    }
    let mut profile = LinuxSeccomp::default();
    profile.set_default_action(enum_value("defaultAction", default_action)?);
    profile.set_default_errno_ret(p.default_errno_ret);
    profile.set_architectures((!arches.is_empty()).then_some(arches));
    profile.set_listener_path(p.listener_path.map(Into::into));
    profile.set_syscalls(Some(syscalls));
    compile(&profile)?;
    Ok(profile)
}

/// x86_64 syscall numbers, sorted by name (generated from the kernel's
/// `asm/unistd_64.h`, plus the calls up to Linux 6.18).
const SYSCALLS: &[(&str, i64)] = &[
    ("_sysctl", 156),
    ("accept", 43),
    ("accept4", 288),
    ("access", 21),
    ("acct", 163),
    ("add_key", 248),
    ("adjtimex", 159),
    ("afs_syscall", 183),
    ("alarm", 37),
    ("arch_prctl", 158),
    ("bind", 49),
    ("bpf", 321),
    ("brk", 12),
    ("cachestat", 451),
    ("capget", 125),
    ("capset", 126),
    ("chdir", 80),
    ("chmod", 90),
    ("chown", 92),
    ("chroot", 161),
    ("clock_adjtime", 305),
    ("clock_getres", 229),
    ("clock_gettime", 228),
    ("clock_nanosleep", 230),
    ("clock_settime", 227),
    ("clone", 56),
    ("clone3", 435),
    ("close", 3),
    ("close_range", 436),
    ("connect", 42),
    ("copy_file_range", 326),
    ("creat", 85),
    ("create_module", 174),
    ("delete_module", 176),
    ("dup", 32),
    ("dup2", 33),
    ("dup3", 292),
    ("epoll_create", 213),
    ("epoll_create1", 291),
    ("epoll_ctl", 233),
    ("epoll_ctl_old", 214),
    ("epoll_pwait", 281),
    ("epoll_pwait2", 441),
    ("epoll_wait", 232),
    ("epoll_wait_old", 215),
    ("eventfd", 284),
    ("eventfd2", 290),
    ("execve", 59),
    ("execveat", 322),
    ("exit", 60),
    ("exit_group", 231),
    ("faccessat", 269),
    ("faccessat2", 439),
    ("fadvise64", 221),
    ("fallocate", 285),
    ("fanotify_init", 300),
    ("fanotify_mark", 301),
    ("fchdir", 81),
    ("fchmod", 91),
    ("fchmodat", 268),
    ("fchmodat2", 452),
    ("fchown", 93),
    ("fchownat", 260),
    ("fcntl", 72),
    ("fdatasync", 75),
    ("fgetxattr", 193),
    ("file_getattr", 468),
    ("file_setattr", 469),
    ("finit_module", 313),
    ("flistxattr", 196),
    ("flock", 73),
    ("fork", 57),
    ("fremovexattr", 199),
    ("fsconfig", 431),
    ("fsetxattr", 190),
    ("fsmount", 432),
    ("fsopen", 430),
    ("fspick", 433),
    ("fstat", 5),
    ("fstatfs", 138),
    ("fsync", 74),
    ("ftruncate", 77),
    ("futex", 202),
    ("futex_requeue", 456),
    ("futex_wait", 455),
    ("futex_waitv", 449),
    ("futex_wake", 454),
    ("futimesat", 261),
    ("get_kernel_syms", 177),
    ("get_mempolicy", 239),
    ("get_robust_list", 274),
    ("get_thread_area", 211),
    ("getcpu", 309),
    ("getcwd", 79),
    ("getdents", 78),
    ("getdents64", 217),
    ("getegid", 108),
    ("geteuid", 107),
    ("getgid", 104),
    ("getgroups", 115),
    ("getitimer", 36),
    ("getpeername", 52),
    ("getpgid", 121),
    ("getpgrp", 111),
    ("getpid", 39),
    ("getpmsg", 181),
    ("getppid", 110),
    ("getpriority", 140),
    ("getrandom", 318),
    ("getresgid", 120),
    ("getresuid", 118),
    ("getrlimit", 97),
    ("getrusage", 98),
    ("getsid", 124),
    ("getsockname", 51),
    ("getsockopt", 55),
    ("gettid", 186),
    ("gettimeofday", 96),
    ("getuid", 102),
    ("getxattr", 191),
    ("getxattrat", 464),
    ("init_module", 175),
    ("inotify_add_watch", 254),
    ("inotify_init", 253),
    ("inotify_init1", 294),
    ("inotify_rm_watch", 255),
    ("io_cancel", 210),
    ("io_destroy", 207),
    ("io_getevents", 208),
    ("io_pgetevents", 333),
    ("io_setup", 206),
    ("io_submit", 209),
    ("io_uring_enter", 426),
    ("io_uring_register", 427),
    ("io_uring_setup", 425),
    ("ioctl", 16),
    ("ioperm", 173),
    ("iopl", 172),
    ("ioprio_get", 252),
    ("ioprio_set", 251),
    ("kcmp", 312),
    ("kexec_file_load", 320),
    ("kexec_load", 246),
    ("keyctl", 250),
    ("kill", 62),
    ("landlock_add_rule", 445),
    ("landlock_create_ruleset", 444),
    ("landlock_restrict_self", 446),
    ("lchown", 94),
    ("lgetxattr", 192),
    ("link", 86),
    ("linkat", 265),
    ("listen", 50),
    ("listmount", 458),
    ("listxattr", 194),
    ("listxattrat", 465),
    ("llistxattr", 195),
    ("lookup_dcookie", 212),
    ("lremovexattr", 198),
    ("lseek", 8),
    ("lsetxattr", 189),
    ("lsm_get_self_attr", 459),
    ("lsm_list_modules", 461),
    ("lsm_set_self_attr", 460),
    ("lstat", 6),
    ("madvise", 28),
    ("map_shadow_stack", 453),
    ("mbind", 237),
    ("membarrier", 324),
    ("memfd_create", 319),
    ("memfd_secret", 447),
    ("migrate_pages", 256),
    ("mincore", 27),
    ("mkdir", 83),
    ("mkdirat", 258),
    ("mknod", 133),
    ("mknodat", 259),
    ("mlock", 149),
    ("mlock2", 325),
    ("mlockall", 151),
    ("mmap", 9),
    ("modify_ldt", 154),
    ("mount", 165),
    ("mount_setattr", 442),
    ("move_mount", 429),
    ("move_pages", 279),
    ("mprotect", 10),
    ("mq_getsetattr", 245),
    ("mq_notify", 244),
    ("mq_open", 240),
    ("mq_timedreceive", 243),
    ("mq_timedsend", 242),
    ("mq_unlink", 241),
    ("mremap", 25),
    ("mseal", 462),
    ("msgctl", 71),
    ("msgget", 68),
    ("msgrcv", 70),
    ("msgsnd", 69),
    ("msync", 26),
    ("munlock", 150),
    ("munlockall", 152),
    ("munmap", 11),
    ("name_to_handle_at", 303),
    ("nanosleep", 35),
    ("newfstatat", 262),
    ("nfsservctl", 180),
    ("open", 2),
    ("open_by_handle_at", 304),
    ("open_tree", 428),
    ("open_tree_attr", 467),
    ("openat", 257),
    ("openat2", 437),
    ("pause", 34),
    ("perf_event_open", 298),
    ("personality", 135),
    ("pidfd_getfd", 438),
    ("pidfd_open", 434),
    ("pidfd_send_signal", 424),
    ("pipe", 22),
    ("pipe2", 293),
    ("pivot_root", 155),
    ("pkey_alloc", 330),
    ("pkey_free", 331),
    ("pkey_mprotect", 329),
    ("poll", 7),
    ("ppoll", 271),
    ("prctl", 157),
    ("pread64", 17),
    ("preadv", 295),
    ("preadv2", 327),
    ("prlimit64", 302),
    ("process_madvise", 440),
    ("process_mrelease", 448),
    ("process_vm_readv", 310),
    ("process_vm_writev", 311),
    ("pselect6", 270),
    ("ptrace", 101),
    ("putpmsg", 182),
    ("pwrite64", 18),
    ("pwritev", 296),
    ("pwritev2", 328),
    ("query_module", 178),
    ("quotactl", 179),
    ("quotactl_fd", 443),
    ("read", 0),
    ("readahead", 187),
    ("readlink", 89),
    ("readlinkat", 267),
    ("readv", 19),
    ("reboot", 169),
    ("recvfrom", 45),
    ("recvmmsg", 299),
    ("recvmsg", 47),
    ("remap_file_pages", 216),
    ("removexattr", 197),
    ("removexattrat", 466),
    ("rename", 82),
    ("renameat", 264),
    ("renameat2", 316),
    ("request_key", 249),
    ("restart_syscall", 219),
    ("rmdir", 84),
    ("rseq", 334),
    ("rt_sigaction", 13),
    ("rt_sigpending", 127),
    ("rt_sigprocmask", 14),
    ("rt_sigqueueinfo", 129),
    ("rt_sigreturn", 15),
    ("rt_sigsuspend", 130),
    ("rt_sigtimedwait", 128),
    ("rt_tgsigqueueinfo", 297),
    ("sched_get_priority_max", 146),
    ("sched_get_priority_min", 147),
    ("sched_getaffinity", 204),
    ("sched_getattr", 315),
    ("sched_getparam", 143),
    ("sched_getscheduler", 145),
    ("sched_rr_get_interval", 148),
    ("sched_setaffinity", 203),
    ("sched_setattr", 314),
    ("sched_setparam", 142),
    ("sched_setscheduler", 144),
    ("sched_yield", 24),
    ("seccomp", 317),
    ("security", 185),
    ("select", 23),
    ("semctl", 66),
    ("semget", 64),
    ("semop", 65),
    ("semtimedop", 220),
    ("sendfile", 40),
    ("sendmmsg", 307),
    ("sendmsg", 46),
    ("sendto", 44),
    ("set_mempolicy", 238),
    ("set_mempolicy_home_node", 450),
    ("set_robust_list", 273),
    ("set_thread_area", 205),
    ("set_tid_address", 218),
    ("setdomainname", 171),
    ("setfsgid", 123),
    ("setfsuid", 122),
    ("setgid", 106),
    ("setgroups", 116),
    ("sethostname", 170),
    ("setitimer", 38),
    ("setns", 308),
    ("setpgid", 109),
    ("setpriority", 141),
    ("setregid", 114),
    ("setresgid", 119),
    ("setresuid", 117),
    ("setreuid", 113),
    ("setrlimit", 160),
    ("setsid", 112),
    ("setsockopt", 54),
    ("settimeofday", 164),
    ("setuid", 105),
    ("setxattr", 188),
    ("setxattrat", 463),
    ("shmat", 30),
    ("shmctl", 31),
    ("shmdt", 67),
    ("shmget", 29),
    ("shutdown", 48),
    ("sigaltstack", 131),
    ("signalfd", 282),
    ("signalfd4", 289),
    ("socket", 41),
    ("socketpair", 53),
    ("splice", 275),
    ("stat", 4),
    ("statfs", 137),
    ("statmount", 457),
    ("statx", 332),
    ("swapoff", 168),
    ("swapon", 167),
    ("symlink", 88),
    ("symlinkat", 266),
    ("sync", 162),
    ("sync_file_range", 277),
    ("syncfs", 306),
    ("sysfs", 139),
    ("sysinfo", 99),
    ("syslog", 103),
    ("tee", 276),
    ("tgkill", 234),
    ("time", 201),
    ("timer_create", 222),
    ("timer_delete", 226),
    ("timer_getoverrun", 225),
    ("timer_gettime", 224),
    ("timer_settime", 223),
    ("timerfd_create", 283),
    ("timerfd_gettime", 287),
    ("timerfd_settime", 286),
    ("times", 100),
    ("tkill", 200),
    ("truncate", 76),
    ("tuxcall", 184),
    ("umask", 95),
    ("umount2", 166),
    ("uname", 63),
    ("unlink", 87),
    ("unlinkat", 263),
    ("unshare", 272),
    ("uselib", 134),
    ("userfaultfd", 323),
    ("ustat", 136),
    ("utime", 132),
    ("utimensat", 280),
    ("utimes", 235),
    ("vfork", 58),
    ("vhangup", 153),
    ("vmsplice", 278),
    ("vserver", 236),
    ("wait4", 61),
    ("waitid", 247),
    ("write", 1),
    ("writev", 20),
];

fn number(name: &str) -> Option<i64> {
    SYSCALLS
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| SYSCALLS[i].1)
}

/// Compile error: the profile uses something berth cannot express.
#[derive(Debug, thiserror::Error)]
#[error("seccomp: {0}")]
pub struct SeccompError(pub String);

fn action(a: LinuxSeccompAction, errno: Option<u32>) -> Result<SeccompAction, SeccompError> {
    use LinuxSeccompAction as A;
    Ok(match a {
        A::ScmpActAllow => SeccompAction::Allow,
        A::ScmpActErrno => SeccompAction::Errno(errno.unwrap_or(EPERM)),
        A::ScmpActKill | A::ScmpActKillThread => SeccompAction::KillThread,
        A::ScmpActKillProcess => SeccompAction::KillProcess,
        A::ScmpActTrap => SeccompAction::Trap,
        A::ScmpActLog => SeccompAction::Log,
        A::ScmpActTrace => SeccompAction::Trace(errno.unwrap_or(EPERM)),
        A::ScmpActNotify => {
            return Err(SeccompError("SCMP_ACT_NOTIFY is not supported".into()));
        }
    })
}

fn condition(a: &LinuxSeccompArg) -> Result<SeccompCondition, SeccompError> {
    use LinuxSeccompOperator as O;
    let (op, value) = match a.op() {
        O::ScmpCmpNe => (SeccompCmpOp::Ne, a.value()),
        O::ScmpCmpLt => (SeccompCmpOp::Lt, a.value()),
        O::ScmpCmpLe => (SeccompCmpOp::Le, a.value()),
        O::ScmpCmpEq => (SeccompCmpOp::Eq, a.value()),
        O::ScmpCmpGe => (SeccompCmpOp::Ge, a.value()),
        O::ScmpCmpGt => (SeccompCmpOp::Gt, a.value()),
        // libseccomp: (arg & value) == valueTwo.
        O::ScmpCmpMaskedEq => (
            SeccompCmpOp::MaskedEq(a.value()),
            a.value_two().unwrap_or(0),
        ),
    };
    let index = u8::try_from(a.index())
        .map_err(|_| SeccompError(format!("argument index {} out of range", a.index())))?;
    SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| SeccompError(format!("argument {index}: {e}")))
}

/// Rules per syscall; `None` = matches whatever the arguments.
type Rules = BTreeMap<i64, Option<Vec<SeccompRule>>>;

fn add(rules: &mut Rules, nr: i64, rule: Option<SeccompRule>) {
    let entry = rules.entry(nr).or_insert_with(|| Some(Vec::new()));
    match (entry.as_mut(), rule) {
        (Some(list), Some(r)) => list.push(r),
        (_, None) => *entry = None,
        (None, Some(_)) => {}
    }
}

fn filter(
    rules: &Rules,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, SeccompError> {
    let rules = rules
        .iter()
        .map(|(nr, r)| (*nr, r.clone().unwrap_or_default()))
        .collect();
    let f = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)
        .map_err(|e| SeccompError(e.to_string()))?;
    BpfProgram::try_from(f).map_err(|e| SeccompError(e.to_string()))
}

/// Compiles an OCI `linux.seccomp` to the BPF filters to install, in order.
pub fn compile(profile: &LinuxSeccomp) -> Result<Vec<BpfProgram>, SeccompError> {
    if let Some(archs) = profile.architectures()
        && !archs.is_empty()
        && !archs.contains(&Arch::ScmpArchX86_64)
        && !archs.contains(&Arch::ScmpArchNative)
    {
        return Err(SeccompError("the profile does not cover x86_64".into()));
    }
    if profile.listener_path().is_some() {
        return Err(SeccompError("seccomp listeners are not supported".into()));
    }
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut base = Rules::new();
    // Other actions, keyed by their kernel return value.
    let mut others: BTreeMap<u32, (SeccompAction, Rules)> = BTreeMap::new();
    for s in profile.syscalls().iter().flatten() {
        let act = action(s.action(), s.errno_ret().or(profile.default_errno_ret()))?;
        let rule = match s.args().as_deref() {
            None | Some([]) => None,
            Some(args) => Some(
                SeccompRule::new(args.iter().map(condition).collect::<Result<_, _>>()?)
                    .map_err(|e| SeccompError(e.to_string()))?,
            ),
        };
        for name in s.names() {
            let Some(nr) = number(name) else { continue };
            if act != default {
                add(&mut base, nr, rule.clone());
            }
            if act != SeccompAction::Allow {
                let key = u32::from(act.clone());
                add(
                    &mut others
                        .entry(key)
                        .or_insert_with(|| (act.clone(), Rules::new()))
                        .1,
                    nr,
                    rule.clone(),
                );
            }
        }
    }
    let mut out = Vec::new();
    if default != SeccompAction::Allow {
        out.push(filter(&base, default.clone(), SeccompAction::Allow)?);
    }
    for (_, (act, rules)) in others {
        if act != default || default == SeccompAction::Allow {
            out.push(filter(&rules, SeccompAction::Allow, act)?);
        }
    }
    Ok(out)
}

/// Installs the filters in order on the calling thread. Needs
/// no_new_privs or CAP_SYS_ADMIN in the current user namespace.
pub(crate) fn install(filters: &[BpfProgram]) -> Result<(), nix::errno::Errno> {
    for f in filters {
        let prog = libc::sock_fprog {
            len: u16::try_from(f.len()).map_err(|_| nix::errno::Errno::E2BIG)?,
            // seccompiler's sock_filter is #[repr(C)] with libc's layout.
            filter: f.as_ptr() as *mut libc::sock_filter,
        };
        // SAFETY: the kernel copies the program; `prog` and `f` outlive the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &prog as *const libc::sock_fprog,
            )
        };
        if r != 0 {
            return Err(nix::errno::Errno::last());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn table_sorted_and_every_profile_name_known() {
        assert!(SYSCALLS.windows(2).all(|w| w[0].0 < w[1].0));
        let mut all: Vec<&str> = ALLOWED.to_vec();
        for (_, l) in BY_CAP {
            all.extend_from_slice(l);
        }
        all.extend(["socket", "personality", "clone", "clone3"]);
        for n in all {
            assert!(number(n).is_some(), "{n}");
        }
        assert_eq!(number("read"), Some(0));
        assert_eq!(number("clone3"), Some(435));
        assert_eq!(number("fchmodat2"), Some(452));
    }

    #[test]
    fn default_profile_depends_on_caps() {
        let p = default_profile(&caps(&["CAP_CHOWN"]));
        let names: Vec<&String> = p
            .syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names())
            .collect();
        assert!(!names.iter().any(|n| *n == "mount"));
        assert!(names.iter().any(|n| *n == "clone3"));
        let p = default_profile(&caps(&["CAP_SYS_ADMIN"]));
        let s = p.syscalls().as_ref().unwrap();
        assert!(s[0].names().iter().any(|n| n == "mount"));
        assert!(s[0].names().iter().any(|n| n == "clone"));
        // No masked clone rule nor clone3 ENOSYS with CAP_SYS_ADMIN.
        assert!(
            s[1..]
                .iter()
                .all(|x| !x.names().iter().any(|n| n.starts_with("clone")))
        );
    }

    #[test]
    fn compiles_default_profile_fast() {
        let c = caps(&[
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
        ]);
        let t = std::time::Instant::now();
        let p = default_profile(&c);
        let built = t.elapsed();
        let f = compile(&p).unwrap();
        let total = t.elapsed();
        eprintln!(
            "default profile: build {built:?}, build+compile {total:?}, filters {:?}",
            f.iter().map(Vec::len).collect::<Vec<_>>()
        );
        // Base allow-list + clone3 → ENOSYS.
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|p| p.len() < 4096));
    }

    #[test]
    fn refuses_notify_and_other_arches() {
        let mut p = default_profile(&[]);
        p.set_architectures(Some(vec![Arch::ScmpArchAarch64]));
        assert!(compile(&p).is_err());
        let mut p = default_profile(&[]);
        p.set_default_action(LinuxSeccompAction::ScmpActNotify);
        assert!(compile(&p).is_err());
    }

    const CAPS: [&str; 2] = ["CAP_CHOWN", "CAP_KILL"];

    fn load(json: &str) -> Result<LinuxSeccomp, SeccompError> {
        load_profile_for(json, &caps(&CAPS), Some((6, 1)))
    }

    fn names(p: &LinuxSeccomp) -> Vec<String> {
        p.syscalls()
            .iter()
            .flatten()
            .flat_map(|s| s.names().clone())
            .collect()
    }

    #[test]
    fn docker_profile_format() {
        let p = load(
            r#"{
              "defaultAction": "SCMP_ACT_ERRNO",
              "defaultErrnoRet": 1,
              "archMap": [
                {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
                {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
              ],
              "syscalls": [
                {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                {"name": "mkdir", "action": "SCMP_ACT_ERRNO", "errnoRet": 13, "comment": "x"},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
                {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_KILL"]}},
                {"names": ["arm_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
                {"names": ["amd64_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
                {"names": ["not_chown"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_CHOWN"]}},
                {"names": ["new_kernel"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.5"}},
                {"names": ["old_kernel"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}}
              ]
            }"#,
        )
        .unwrap();
        assert_eq!(p.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(p.default_errno_ret(), Some(1));
        assert_eq!(
            p.architectures().clone().unwrap(),
            vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        assert_eq!(
            names(&p),
            [
                "read",
                "write",
                "exit_group",
                "mkdir",
                "personality",
                "kill",
                "amd64_only",
                "old_kernel"
            ]
        );
        let s = p.syscalls().as_ref().unwrap();
        assert_eq!(s[1].errno_ret(), Some(13));
        assert_eq!(s[2].args().as_ref().unwrap()[0].value(), 8);
        assert_eq!(compile(&p).unwrap().len(), 2);
    }

    #[test]
    fn profile_errors_are_clear() {
        let e = |j: &str| load(j).unwrap_err().to_string();
        assert!(e("{").contains("EOF"), "{}", e("{"));
        assert!(e("{}").contains("defaultAction"));
        let bad_action = e(r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}"#);
        assert!(
            bad_action.contains("SCMP_ACT_EXPLODE") && bad_action.contains("syscalls[0]"),
            "{bad_action}"
        );
        assert!(e(r#"{"defaultAction": "SCMP_ACT_NOPE"}"#).contains("SCMP_ACT_NOPE"));
        assert!(
            e(r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"],
                "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}"#)
            .contains("SCMP_CMP_ABOUT")
        );
        assert!(
            e(
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "x", "names": ["y"],
                "action": "SCMP_ACT_ALLOW"}]}"#
            )
            .contains("'name' or 'names'")
        );
        assert!(
            e(
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#
            )
            .contains("archMap")
        );
        assert!(
            e(r#"{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_AARCH64"]}"#)
                .contains("x86_64")
        );
        assert!(e(r#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#).contains("NOTIFY"));
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(kernel_version("6.1.0-18-amd64"), Some((6, 1)));
        assert_eq!(kernel_version("6.18"), Some((6, 18)));
        assert_eq!(kernel_version("5"), Some((5, 0)));
        assert_eq!(kernel_version("x"), None);
    }

    /// A real profile in docker's format, when one is installed (podman's
    /// containers-common ships one).
    #[test]
    fn loads_installed_containers_profile() {
        let Ok(json) = std::fs::read_to_string("/usr/share/containers/seccomp.json") else {
            eprintln!("skipped: no /usr/share/containers/seccomp.json");
            return;
        };
        let p = load_profile(&json, &caps(&CAPS)).unwrap();
        assert!(names(&p).iter().any(|x| x == "read"));
        // Allowed only with CAP_SYS_MODULE, which `CAPS` lacks.
        let allowed = |n: &str| {
            p.syscalls().iter().flatten().any(|s| {
                s.action() == LinuxSeccompAction::ScmpActAllow && s.names().iter().any(|x| x == n)
            })
        };
        assert!(allowed("read") && !allowed("init_module"));
    }
}
