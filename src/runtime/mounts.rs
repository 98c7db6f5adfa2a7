//! The container's file system view, built inside its mount namespace:
//! overlay rootfs, the spec's mounts, /dev nodes, pivot_root, masked and
//! read-only paths.
//!
//! Every path inside the rootfs is resolved with `openat2(RESOLVE_IN_ROOT)`
//! from a descriptor of the merged dir and the mount(2) target handed over
//! as `/proc/self/fd/N`: a symlink in an (untrusted) image can never send a
//! mount outside the container.

use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::stat::{Mode, SFlag};
use nix::sys::statvfs::{FsFlags, statvfs};
use oci_spec::runtime::Mount;
use rustix::fs::{OFlags, ResolveFlags};

use super::RootfsPlan;
use super::fd_path;
use super::init::InitError;

const NONE: Option<&str> = None;

/// Mount options split into flags and file-system data.
#[derive(Debug, PartialEq, Eq)]
pub struct MountOpts {
    pub set: MsFlags,
    pub clear: MsFlags,
    pub propagation: MsFlags,
    pub data: Vec<String>,
    pub bind: bool,
    pub recursive: bool,
}

impl Default for MountOpts {
    fn default() -> Self {
        MountOpts {
            set: MsFlags::empty(),
            clear: MsFlags::empty(),
            propagation: MsFlags::empty(),
            data: Vec::new(),
            bind: false,
            recursive: false,
        }
    }
}

impl MountOpts {
    pub fn parse(opts: &[String]) -> MountOpts {
        let mut o = MountOpts::default();
        for opt in opts {
            let (set, clear, prop) = match opt.as_str() {
                "ro" => (MsFlags::MS_RDONLY, MsFlags::empty(), MsFlags::empty()),
                "rw" => (MsFlags::empty(), MsFlags::MS_RDONLY, MsFlags::empty()),
                "nosuid" => (MsFlags::MS_NOSUID, MsFlags::empty(), MsFlags::empty()),
                "suid" => (MsFlags::empty(), MsFlags::MS_NOSUID, MsFlags::empty()),
                "nodev" => (MsFlags::MS_NODEV, MsFlags::empty(), MsFlags::empty()),
                "dev" => (MsFlags::empty(), MsFlags::MS_NODEV, MsFlags::empty()),
                "noexec" => (MsFlags::MS_NOEXEC, MsFlags::empty(), MsFlags::empty()),
                "exec" => (MsFlags::empty(), MsFlags::MS_NOEXEC, MsFlags::empty()),
                "sync" => (MsFlags::MS_SYNCHRONOUS, MsFlags::empty(), MsFlags::empty()),
                "async" => (MsFlags::empty(), MsFlags::MS_SYNCHRONOUS, MsFlags::empty()),
                "dirsync" => (MsFlags::MS_DIRSYNC, MsFlags::empty(), MsFlags::empty()),
                "mand" => (MsFlags::MS_MANDLOCK, MsFlags::empty(), MsFlags::empty()),
                "nomand" => (MsFlags::empty(), MsFlags::MS_MANDLOCK, MsFlags::empty()),
                "noatime" => (MsFlags::MS_NOATIME, MsFlags::empty(), MsFlags::empty()),
                "atime" => (MsFlags::empty(), MsFlags::MS_NOATIME, MsFlags::empty()),
                "nodiratime" => (MsFlags::MS_NODIRATIME, MsFlags::empty(), MsFlags::empty()),
                "diratime" => (MsFlags::empty(), MsFlags::MS_NODIRATIME, MsFlags::empty()),
                "relatime" => (MsFlags::MS_RELATIME, MsFlags::empty(), MsFlags::empty()),
                "norelatime" => (MsFlags::empty(), MsFlags::MS_RELATIME, MsFlags::empty()),
                "strictatime" => (MsFlags::MS_STRICTATIME, MsFlags::empty(), MsFlags::empty()),
                "nostrictatime" => (MsFlags::empty(), MsFlags::MS_STRICTATIME, MsFlags::empty()),
                "bind" => {
                    o.bind = true;
                    continue;
                }
                "rbind" => {
                    o.bind = true;
                    o.recursive = true;
                    continue;
                }
                "private" => (MsFlags::empty(), MsFlags::empty(), MsFlags::MS_PRIVATE),
                "rprivate" => (
                    MsFlags::empty(),
                    MsFlags::empty(),
                    MsFlags::MS_PRIVATE | MsFlags::MS_REC,
                ),
                "shared" => (MsFlags::empty(), MsFlags::empty(), MsFlags::MS_SHARED),
                "rshared" => (
                    MsFlags::empty(),
                    MsFlags::empty(),
                    MsFlags::MS_SHARED | MsFlags::MS_REC,
                ),
                "slave" => (MsFlags::empty(), MsFlags::empty(), MsFlags::MS_SLAVE),
                "rslave" => (
                    MsFlags::empty(),
                    MsFlags::empty(),
                    MsFlags::MS_SLAVE | MsFlags::MS_REC,
                ),
                "unbindable" => (MsFlags::empty(), MsFlags::empty(), MsFlags::MS_UNBINDABLE),
                "runbindable" => (
                    MsFlags::empty(),
                    MsFlags::empty(),
                    MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
                ),
                // SELinux relabelling and podman's copy-up: no-ops here.
                "z" | "Z" | "tmpcopyup" | "notmpcopyup" => continue,
                _ => {
                    o.data.push(opt.clone());
                    continue;
                }
            };
            o.set = (o.set | set) - clear;
            o.clear = (o.clear | clear) - set;
            o.propagation |= prop;
        }
        o
    }
}

fn sys(what: impl Into<String>) -> impl FnOnce(Errno) -> InitError {
    let what = what.into();
    move |errno| InitError::Sys { what, errno }
}

fn errno_of(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// Escapes `\`, `:` and `,` in an overlay lowerdir/upperdir path.
fn overlay_escape(p: &Path) -> String {
    let mut s = String::new();
    for c in p.to_string_lossy().chars() {
        if matches!(c, '\\' | ':' | ',') {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

fn overlay_data(r: &RootfsPlan, base: Option<&Path>) -> String {
    let rel = |p: &Path| match base {
        Some(b) => p.strip_prefix(b).unwrap_or(p).to_path_buf(),
        None => p.to_path_buf(),
    };
    let lower: Vec<String> = r.lower.iter().map(|p| overlay_escape(&rel(p))).collect();
    format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        lower.join(":"),
        overlay_escape(&rel(&r.upper)),
        overlay_escape(&rel(&r.work))
    )
}

fn common_parent(paths: &[&Path]) -> Option<PathBuf> {
    let mut common = paths.first()?.parent()?.to_path_buf();
    for p in paths {
        while !p.starts_with(&common) {
            common = common.parent()?.to_path_buf();
        }
    }
    Some(common)
}

/// The container's `/` takes its attributes from the upper dir: give it the
/// image's root permissions (usually 0755), whatever the caller created it
/// with, or a non-root user in the container could not even traverse `/`.
pub(super) fn match_root_mode(r: &RootfsPlan) -> Result<(), InitError> {
    use std::os::unix::fs::PermissionsExt;
    let Some(top) = r.lower.first() else {
        return Err(InitError::Other("the rootfs has no layers".into()));
    };
    let want = std::fs::metadata(top)
        .map_err(|e| InitError::Other(format!("layer {}: {e}", top.display())))?
        .permissions()
        .mode()
        & 0o7777;
    let upper = std::fs::metadata(&r.upper)
        .map_err(|e| InitError::Other(format!("upper dir {}: {e}", r.upper.display())))?;
    if upper.permissions().mode() & 0o7777 != want {
        std::fs::set_permissions(&r.upper, std::fs::Permissions::from_mode(want))
            .map_err(|e| InitError::Other(format!("chmod {}: {e}", r.upper.display())))?;
    }
    Ok(())
}

/// Mounts the overlay rootfs on `merged` (userxattr in both modes: the
/// store's whiteouts and opaque markers are written for it).
pub fn mount_overlay(r: &RootfsPlan) -> Result<(), InitError> {
    match_root_mode(r)?;
    mount_overlay_dirs(r)
}

/// The overlay mount itself (userxattr in both modes, the store's layer
/// conventions), without touching the root dir's mode: also how `cp` and
/// `diff` see a container that is not running.
pub fn mount_overlay_dirs(r: &RootfsPlan) -> Result<(), InitError> {
    let mut data = overlay_data(r, None);
    // The options must fit in one page: with many layers, use paths
    // relative to a common parent and chdir there.
    if data.len() > 4000 {
        let mut all: Vec<&Path> = r.lower.iter().map(|p| p.as_path()).collect();
        all.push(&r.upper);
        all.push(&r.work);
        if let Some(base) = common_parent(&all) {
            nix::unistd::chdir(&base).map_err(sys(format!("chdir {}", base.display())))?;
            data = overlay_data(r, Some(&base));
        }
    }
    mount(
        Some("overlay"),
        &r.merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(|errno| InitError::Sys {
        what: format!(
            "mounting overlay on {} (lowerdir of {} layers, upperdir {})",
            r.merged.display(),
            r.lower.len(),
            r.upper.display()
        ),
        errno,
    })
}

/// The path of `p` relative to the container root (`/a/b` → `a/b`).
fn rel(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

/// Opens `rel` under `root` without ever leaving it.
pub fn open_in_root(root: &OwnedFd, rel: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
    let path: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    rustix::fs::openat2(
        root,
        path,
        OFlags::PATH | OFlags::CLOEXEC | flags,
        rustix::fs::Mode::empty(),
        ResolveFlags::IN_ROOT,
    )
    .map_err(errno_of)
}

/// `mkdir -p` inside the root.
pub fn ensure_dir(root: &OwnedFd, rel: &Path) -> Result<(), Errno> {
    match open_in_root(root, rel, OFlags::DIRECTORY) {
        Ok(_) => Ok(()),
        Err(Errno::ENOENT) => {
            let parent = rel.parent().unwrap_or(Path::new(""));
            ensure_dir(root, parent)?;
            let pfd = open_in_root(root, parent, OFlags::DIRECTORY)?;
            let name = rel.file_name().ok_or(Errno::EINVAL)?;
            match nix::sys::stat::mkdirat(pfd.as_fd(), name, Mode::from_bits_truncate(0o755)) {
                Ok(()) | Err(Errno::EEXIST) => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Creates an empty file (and its parents) inside the root if missing.
pub fn ensure_file(root: &OwnedFd, rel: &Path) -> Result<(), Errno> {
    match open_in_root(root, rel, OFlags::empty()) {
        Ok(_) => Ok(()),
        Err(Errno::ENOENT) => {
            let parent = rel.parent().unwrap_or(Path::new(""));
            ensure_dir(root, parent)?;
            let pfd = open_in_root(root, parent, OFlags::DIRECTORY)?;
            let name = rel.file_name().ok_or(Errno::EINVAL)?;
            rustix::fs::openat(
                &pfd,
                name,
                OFlags::CREATE | OFlags::WRONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                rustix::fs::Mode::from_bits_truncate(0o644),
            )
            .map(drop)
            .map_err(errno_of)
        }
        Err(e) => Err(e),
    }
}

/// nosuid/nodev/noexec of the mount at `path`: a user namespace may not
/// clear them on a mount it inherited, so a remount must repeat them.
fn locked_flags(path: &str) -> MsFlags {
    let mut f = MsFlags::empty();
    if let Ok(st) = statvfs(path) {
        let fl = st.flags();
        if fl.contains(FsFlags::ST_NOSUID) {
            f |= MsFlags::MS_NOSUID;
        }
        if fl.contains(FsFlags::ST_NODEV) {
            f |= MsFlags::MS_NODEV;
        }
        if fl.contains(FsFlags::ST_NOEXEC) {
            f |= MsFlags::MS_NOEXEC;
        }
    }
    f
}

/// Remounts the bind mount at `path` with `flags` (plus its locked flags).
fn remount_bind(path: &str, flags: MsFlags) -> Result<(), Errno> {
    let flags = flags | locked_flags(path) | MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
    mount(NONE, path, NONE, flags, NONE)
}

/// What mounting the spec's list produced.
#[derive(Debug, Default)]
pub struct Mounted {
    pub dev_tmpfs: bool,
    pub dev_pts: bool,
}

/// Mounts the spec's mounts, in order, inside the rootfs.
pub fn mount_all(
    root: &OwnedFd,
    mounts: &[Mount],
    rootless: bool,
    warnings: &mut Vec<String>,
) -> Result<Mounted, InitError> {
    let mut done = Mounted::default();
    for m in mounts {
        let dest = m.destination();
        if !dest.is_absolute() {
            return Err(InitError::Other(format!(
                "mount destination {} is not absolute",
                dest.display()
            )));
        }
        let r = rel(dest);
        let typ = m.typ().as_deref().unwrap_or("");
        let opts = MountOpts::parse(m.options().as_deref().unwrap_or(&[]));
        if typ == "cgroup" || typ == "cgroup2" {
            // DESIGN §6: cgroups are not touched (v1 hybrid, rootless can't use them).
            continue;
        }
        let bind = typ == "bind" || opts.bind;
        let source = m.source().clone().unwrap_or_default();
        let what = format!(
            "mounting {} on {}",
            describe(typ, bind, &source),
            dest.display()
        );
        if bind {
            let meta = std::fs::metadata(&source).map_err(|e| {
                InitError::Other(format!(
                    "bind mount source {} for {}: {e}",
                    source.display(),
                    dest.display()
                ))
            })?;
            if meta.is_dir() {
                ensure_dir(root, &r)
            } else {
                ensure_file(root, &r)
            }
            .map_err(sys(format!("creating mount point {}", dest.display())))?;
            bind_mount(root, &source, &r, &opts).map_err(sys(what))?;
            continue;
        }
        ensure_dir(root, &r).map_err(sys(format!("creating mount point {}", dest.display())))?;
        let target = open_in_root(root, &r, OFlags::DIRECTORY).map_err(sys(what.clone()))?;
        let tpath = fd_path(&target);
        let src = if source.as_os_str().is_empty() {
            PathBuf::from(typ)
        } else {
            source.clone()
        };
        let mut data = opts.data.join(",");
        let mut result = mount(
            Some(&src),
            tpath.as_str(),
            Some(typ),
            opts.set,
            Some(data.as_str()),
        );
        if result == Err(Errno::EINVAL) && typ == "devpts" && data.contains("gid=") {
            // gid 5 (tty) is not mapped in this user namespace.
            data = opts
                .data
                .iter()
                .filter(|d| !d.starts_with("gid="))
                .cloned()
                .collect::<Vec<_>>()
                .join(",");
            result = mount(
                Some(&src),
                tpath.as_str(),
                Some(typ),
                opts.set,
                Some(data.as_str()),
            );
        }
        match result {
            Ok(()) => {}
            Err(Errno::EPERM) if typ == "sysfs" && rootless => {
                // No network namespace of our own: sysfs can't be mounted,
                // bind the host's read-only (as podman does).
                let ro = MountOpts {
                    set: opts.set | MsFlags::MS_RDONLY,
                    bind: true,
                    recursive: true,
                    ..MountOpts::default()
                };
                bind_mount(root, Path::new("/sys"), &r, &ro)
                    .map_err(sys(format!("bind-mounting /sys on {}", dest.display())))?;
            }
            Err(e) if typ == "mqueue" && rootless => {
                warnings.push(format!("{what}: {e}: /dev/mqueue is not available"));
                continue;
            }
            Err(e) => return Err(InitError::Sys { what, errno: e }),
        }
        if !opts.propagation.is_empty() {
            let t = open_in_root(root, &r, OFlags::empty()).map_err(sys(what.clone()))?;
            mount(NONE, fd_path(&t).as_str(), NONE, opts.propagation, NONE).map_err(sys(what))?;
        }
        if r == Path::new("dev") && typ == "tmpfs" {
            done.dev_tmpfs = true;
        }
        if r == Path::new("dev/pts") {
            done.dev_pts = true;
        }
    }
    Ok(done)
}

fn describe(typ: &str, bind: bool, source: &Path) -> String {
    if bind {
        format!("bind mount {}", source.display())
    } else {
        typ.to_string()
    }
}

/// Bind-mounts host `source` on `r` (which exists), then applies flags and propagation.
fn bind_mount(root: &OwnedFd, source: &Path, r: &Path, opts: &MountOpts) -> Result<(), Errno> {
    let target = open_in_root(root, r, OFlags::empty())?;
    let mut flags = MsFlags::MS_BIND;
    if opts.recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(Some(source), fd_path(&target).as_str(), NONE, flags, NONE)?;
    drop(target);
    // The new mount is only visible through a fresh lookup.
    let target = open_in_root(root, r, OFlags::empty())?;
    let tpath = fd_path(&target);
    let extra = opts.set - MsFlags::MS_REC;
    if !extra.is_empty() {
        remount_bind(&tpath, extra)?;
    }
    if !opts.propagation.is_empty() {
        mount(NONE, tpath.as_str(), NONE, opts.propagation, NONE)?;
    }
    Ok(())
}

/// docker's device nodes: name, major, minor.
const DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// Creates the standard nodes in the container's /dev tmpfs: mknod as root,
/// bind mounts of the host's nodes in a user namespace (mknod is not allowed
/// there), plus docker's symlinks.
pub fn populate_dev(root: &OwnedFd, in_userns: bool) -> Result<(), InitError> {
    let dev = open_in_root(root, Path::new("dev"), OFlags::DIRECTORY)
        .map_err(sys("opening the container's /dev"))?;
    for (name, major, minor) in DEVICES {
        let what = format!("creating /dev/{name}");
        if in_userns {
            ensure_file(root, &Path::new("dev").join(name)).map_err(sys(what.clone()))?;
            let host = format!("/dev/{name}");
            let opts = MountOpts {
                bind: true,
                ..MountOpts::default()
            };
            bind_mount(root, Path::new(&host), &Path::new("dev").join(name), &opts)
                .map_err(sys(format!("bind-mounting {host} into the container")))?;
        } else {
            match nix::sys::stat::mknodat(
                dev.as_fd(),
                OsStr::new(name),
                SFlag::S_IFCHR,
                Mode::from_bits_truncate(0o666),
                nix::sys::stat::makedev(major, minor),
            ) {
                Ok(()) | Err(Errno::EEXIST) => {}
                Err(e) => return Err(InitError::Sys { what, errno: e }),
            }
            // mknod honours the umask: set the mode explicitly.
            nix::sys::stat::fchmodat(
                dev.as_fd(),
                OsStr::new(name),
                Mode::from_bits_truncate(0o666),
                nix::sys::stat::FchmodatFlags::NoFollowSymlink,
            )
            .or_else(|e| {
                if e == Errno::EOPNOTSUPP {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(sys(what))?;
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        match nix::unistd::symlinkat(target, dev.as_fd(), name) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => {
                return Err(InitError::Sys {
                    what: format!("creating /dev/{name}"),
                    errno: e,
                });
            }
        }
    }
    Ok(())
}

/// Makes `merged` the root: the pivot_root(".", ".") idiom, then the old
/// root (stacked under the new one) is detached.
pub fn pivot(merged: &Path) -> Result<(), InitError> {
    nix::unistd::chdir(merged).map_err(sys(format!("chdir {}", merged.display())))?;
    nix::unistd::pivot_root(".", ".").map_err(sys("pivot_root into the container's rootfs"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(sys("detaching the host's root"))?;
    nix::unistd::chdir("/").map_err(sys("chdir /"))
}

/// After pivot_root: hides `paths` (/dev/null over files, an empty
/// read-only tmpfs over directories). Missing paths are skipped.
pub fn mask_paths(paths: &[String]) -> Result<(), InitError> {
    for p in paths {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(InitError::Other(format!("masking {p}: {e}"))),
        };
        let r = if meta.is_dir() {
            mount(
                Some("tmpfs"),
                p.as_str(),
                Some("tmpfs"),
                MsFlags::MS_RDONLY,
                NONE,
            )
        } else {
            mount(Some("/dev/null"), p.as_str(), NONE, MsFlags::MS_BIND, NONE)
        };
        match r {
            Ok(()) | Err(Errno::ENOENT) => {}
            Err(e) => {
                return Err(InitError::Sys {
                    what: format!("masking {p}"),
                    errno: e,
                });
            }
        }
    }
    Ok(())
}

/// After pivot_root: makes `paths` read-only (recursive bind on themselves,
/// then a read-only remount). Missing paths are skipped.
pub fn readonly_paths(paths: &[String]) -> Result<(), InitError> {
    for p in paths {
        match mount(
            Some(p.as_str()),
            p.as_str(),
            NONE,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            NONE,
        ) {
            Ok(()) => {}
            Err(Errno::ENOENT) => continue,
            Err(e) => {
                return Err(InitError::Sys {
                    what: format!("making {p} read-only"),
                    errno: e,
                });
            }
        }
        remount_bind(p, MsFlags::MS_RDONLY).map_err(sys(format!("making {p} read-only")))?;
    }
    Ok(())
}

/// After pivot_root: remounts `/` read-only (`--read-only`).
pub fn readonly_root() -> Result<(), InitError> {
    remount_bind("/", MsFlags::MS_RDONLY).map_err(sys("remounting / read-only"))
}

/// True if `p` is a bare name (no `/`): searched in PATH.
pub fn is_bare_name(p: &str) -> bool {
    !OsStr::new(p).as_bytes().contains(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> MountOpts {
        MountOpts::parse(&s.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let o = parse(&["nosuid", "noexec", "mode=755", "size=65536k", "rw"]);
        assert_eq!(o.set, MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC);
        assert_eq!(o.data, vec!["mode=755", "size=65536k"]);
        assert!(!o.bind);
        let o = parse(&["rbind", "ro", "rprivate", "Z"]);
        assert!(o.bind && o.recursive);
        assert_eq!(o.set, MsFlags::MS_RDONLY);
        assert_eq!(o.propagation, MsFlags::MS_PRIVATE | MsFlags::MS_REC);
        assert!(o.data.is_empty());
        let o = parse(&["ro", "rw"]);
        assert_eq!(o.set, MsFlags::empty());
    }

    #[test]
    fn overlay_options_escape_and_order() {
        let r = RootfsPlan {
            lower: vec!["/l/top".into(), "/l/a:b".into()],
            upper: "/c/upper".into(),
            work: "/c/work".into(),
            merged: "/c/merged".into(),
        };
        assert_eq!(
            overlay_data(&r, None),
            "lowerdir=/l/top:/l/a\\:b,upperdir=/c/upper,workdir=/c/work,userxattr"
        );
        assert_eq!(
            common_parent(&[Path::new("/x/l/1/diff"), Path::new("/x/c/upper")]),
            Some(PathBuf::from("/x"))
        );
    }

    #[test]
    fn rel_strips_root_and_dots() {
        assert_eq!(rel(Path::new("/dev/pts")), PathBuf::from("dev/pts"));
        assert_eq!(rel(Path::new("/")), PathBuf::new());
    }
}
