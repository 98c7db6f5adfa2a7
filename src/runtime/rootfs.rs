//! The container's root file system and its storage drivers, in the order
//! the init tries them (DESIGN §2):
//!
//! 1. `overlay`: the kernel's overlayfs over the store's layer dirs with
//!    `userxattr`, mounted in the container's user + mount namespace
//!    ([`super::mounts::mount_overlay`]). Needs kernel ≥ 5.11 rootless and an
//!    upper dir on a file system overlay accepts.
//! 2. `fuse-overlayfs`: when the native mount fails, the same layout mounted
//!    by `fuse-overlayfs` (Debian package `fuse-overlayfs`, needs a usable
//!    `/dev/fuse`). It understands the store's conventions as they are (0/0
//!    character-device whiteouts, `user.overlay.opaque=y`). The init runs it
//!    before pivot_root, in the container's user and pid namespaces: the init
//!    mounts FUSE itself and hands the descriptor over (see [`mount_fuse`]),
//!    so the mount exists when fuse-overlayfs returns. The daemon lives in
//!    the container's pid namespace, so the kernel kills it when the
//!    container's PID 1 exits, and the mount goes with the container's mount
//!    namespace: nothing is left behind. It shows in the container's `ps`.
//! 3. `vfs`: a loud last resort: the layers are copied bottom-up into the
//!    container's `vfs/` dir (next to `upper/`), whiteouts and opaque dirs
//!    applied, owners, modes, xattrs, times, hard links, symlinks, FIFOs and
//!    device nodes (where the kernel allows) kept, and that tree is
//!    bind-mounted as the root. The init sends a WARNING naming why overlay
//!    failed and what the copy costs. Later starts of the same container
//!    reuse the copy (it holds the container's changes), whatever the driver.
//!
//! `BERTH_STORAGE_DRIVER=overlay|fuse-overlayfs|vfs` (read by the process that
//! creates the container, i.e. `berth run`/`start` or its monitor) forces one
//! driver, with no fallback; unset, empty or `auto` tries them in order.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};

use super::RootfsPlan;
use super::init::InitError;
use super::mounts;

/// The environment variable that forces a storage driver.
pub const DRIVER_ENV: &str = "BERTH_STORAGE_DRIVER";

/// The copy of a `vfs` container, next to its `upper/` dir.
pub const COPY_DIR: &str = "vfs";

const FUSE_SUPER_MAGIC: i64 = 0x6573_5546;

/// How the rootfs is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Driver {
    /// Native overlay, then fuse-overlayfs, then a copy.
    #[default]
    Auto,
    Overlay,
    FuseOverlayfs,
    Vfs,
}

impl Driver {
    pub fn parse(s: &str) -> Result<Driver, String> {
        match s.trim() {
            "" | "auto" => Ok(Driver::Auto),
            "overlay" | "overlay2" | "overlayfs" => Ok(Driver::Overlay),
            "fuse-overlayfs" => Ok(Driver::FuseOverlayfs),
            "vfs" | "copy" => Ok(Driver::Vfs),
            other => Err(format!(
                "unknown storage driver {other:?} in {DRIVER_ENV} (use overlay, fuse-overlayfs or vfs)"
            )),
        }
    }

    /// The driver asked for in [`DRIVER_ENV`].
    pub fn from_env() -> Result<Driver, String> {
        match std::env::var_os(DRIVER_ENV) {
            None => Ok(Driver::Auto),
            Some(v) => Driver::parse(&v.to_string_lossy()),
        }
    }
}

/// Where a container's copied rootfs lives (`<container>/vfs`).
pub fn copy_dir(r: &RootfsPlan) -> PathBuf {
    r.upper.parent().unwrap_or(Path::new("/")).join(COPY_DIR)
}

/// Makes the container's root file system on `r.merged` with `driver`
/// (inside the container's mount namespace, before pivot_root).
pub fn mount_rootfs(
    r: &RootfsPlan,
    driver: Driver,
    warnings: &mut Vec<String>,
) -> Result<(), InitError> {
    let copy = copy_dir(r);
    if copy.is_dir() {
        // The container was started on a copy: its changes are there.
        bind_copy(&copy, &r.merged)?;
        warnings.push(format!(
            "this container's root file system is a full copy of its image in {} (storage driver vfs), not an overlay",
            copy.display()
        ));
        return Ok(());
    }
    match driver {
        Driver::Overlay => mounts::mount_overlay(r),
        Driver::FuseOverlayfs => mount_fuse(r).map_err(|e| {
            InitError::Other(format!(
                "storage driver fuse-overlayfs ({DRIVER_ENV}=fuse-overlayfs): {e}"
            ))
        }),
        Driver::Vfs => copy_rootfs(
            r,
            &format!("storage driver vfs forced ({DRIVER_ENV}=vfs)"),
            warnings,
        ),
        Driver::Auto => {
            let native = match mounts::mount_overlay(r) {
                Ok(()) => return Ok(()),
                Err(e) => e.to_string(),
            };
            let fuse = match mount_fuse(r) {
                Ok(()) => {
                    warnings.push(format!(
                        "native overlay is not available ({native}); the container's root file system is mounted with fuse-overlayfs"
                    ));
                    return Ok(());
                }
                Err(e) => e,
            };
            copy_rootfs(
                r,
                &format!(
                    "overlay is not available (native overlay: {native}; fuse-overlayfs: {fuse})"
                ),
                warnings,
            )
        }
    }
}

// ---------------------------------------------------------------------------
// fuse-overlayfs

/// The fuse-overlayfs binary: in this process's PATH, or the usual places.
fn find_fuse_overlayfs() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin"].map(PathBuf::from))
        .map(|d| d.join("fuse-overlayfs"))
        .find(|p| p.is_file())
}

/// Why fuse-overlayfs cannot be used here, if it cannot (binary, /dev/fuse).
pub fn fuse_unavailable() -> Option<String> {
    if find_fuse_overlayfs().is_none() {
        return Some("fuse-overlayfs is not installed (Debian package fuse-overlayfs)".into());
    }
    match rustix::fs::open(
        "/dev/fuse",
        OFlags::RDWR | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(_) => None,
        Err(e) if e == rustix::io::Errno::NOENT => Some("/dev/fuse does not exist".into()),
        Err(e) if e == rustix::io::Errno::ACCESS || e == rustix::io::Errno::PERM => Some(
            "/dev/fuse is not accessible (on machines without udev it is 0600 root: run `chmod 0666 /dev/fuse` as root)"
                .into(),
        ),
        Err(e) => Some(format!("opening /dev/fuse: {e}")),
    }
}

/// Whether `path` is where a FUSE file system is mounted.
fn is_fuse(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|s| s.f_type == FUSE_SUPER_MAGIC)
}

/// fuse-overlayfs's `-o` value: `:` separates layers and `,` options; it
/// has no escapes for them, so such paths are refused.
fn fuse_options(r: &RootfsPlan) -> Result<String, String> {
    let check = |p: &Path| -> Result<String, String> {
        let s = p
            .to_str()
            .ok_or_else(|| format!("{} is not UTF-8", p.display()))?;
        if s.contains([':', ',', '\\']) {
            return Err(format!("the path {s} contains ':', ',' or '\\'"));
        }
        Ok(s.to_string())
    };
    let lower = r
        .lower
        .iter()
        .map(|p| check(p))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        check(&r.upper)?,
        check(&r.work)?
    ))
}

/// Mounts the rootfs with fuse-overlayfs.
///
/// The init makes the FUSE mount itself (`fd=N` of its own `/dev/fuse`) and
/// hands the descriptor to fuse-overlayfs as `/dev/fd/N`; the daemon runs in
/// a mount namespace of its own (a copy of the container's, taken before
/// pivot_root). Were it in the container's, pivot_root would make the FUSE
/// mount its root, and its own path lookups (`/proc/self/fd/…`, which it
/// uses for xattrs) would wait on itself forever.
fn mount_fuse(r: &RootfsPlan) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    if let Some(why) = fuse_unavailable() {
        return Err(why);
    }
    let bin = find_fuse_overlayfs().ok_or("fuse-overlayfs is not installed")?;
    mounts::match_root_mode(r).map_err(|e| e.to_string())?;
    let options = fuse_options(r)?;
    let dev = rustix::fs::open("/dev/fuse", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
        .map_err(io("opening /dev/fuse"))?;
    let fd = dev.as_raw_fd();
    mount(
        Some("fuse-overlayfs"),
        &r.merged,
        Some("fuse.fuse-overlayfs"),
        MsFlags::MS_NODEV,
        Some(
            format!("fd={fd},rootmode=40000,user_id=0,group_id=0,default_permissions,allow_other")
                .as_str(),
        ),
    )
    .map_err(|e| format!("mounting FUSE on {}: {e}", r.merged.display()))?;
    let unmount = || {
        let _ = nix::mount::umount2(&r.merged, nix::mount::MntFlags::MNT_DETACH);
    };
    // Its error messages, without a pipe the daemon could hold open.
    let log = rustix::fs::memfd_create("fuse-overlayfs-log", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(io("memfd_create"))?;
    let mut log = std::fs::File::from(log);
    let stderr = log.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new(&bin);
    cmd.arg("-o")
        .arg(&options)
        .arg(format!("/dev/fd/{fd}"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    // SAFETY: between fork and exec, only async-signal-safe syscalls.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(libc::CLONE_NEWNS) != 0 || libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // It daemonizes once it serves the mount: the parent's exit reports it.
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            unmount();
            return Err(format!("running {}: {e}", bin.display()));
        }
    };
    drop(dev);
    let mut text = String::new();
    let _ = std::io::Seek::rewind(&mut log);
    let _ = log.read_to_string(&mut text);
    let text = text
        .lines()
        .filter(|l| !l.starts_with("unknown argument ignored"))
        .collect::<Vec<_>>()
        .join("; ");
    if !status.success() || !is_fuse(&r.merged) {
        unmount();
        return Err(format!(
            "{} failed ({status}){}",
            bin.display(),
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// vfs: the copy

fn bind_copy(copy: &Path, merged: &Path) -> Result<(), InitError> {
    mount(
        Some(copy),
        merged,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|errno| InitError::Sys {
        what: format!(
            "bind-mounting the copied rootfs {} on {}",
            copy.display(),
            merged.display()
        ),
        errno,
    })
}

/// What a copy cost.
#[derive(Debug, Default)]
struct CopyStats {
    bytes: u64,
    files: u64,
    /// Device nodes the kernel would not let us create (rootless).
    skipped_devices: u64,
}

fn copy_rootfs(r: &RootfsPlan, reason: &str, warnings: &mut Vec<String>) -> Result<(), InitError> {
    let dest = copy_dir(r);
    let tmp = dest.with_file_name(format!("{COPY_DIR}.tmp"));
    let stats = build_copy(&r.lower, &tmp).map_err(|e| {
        InitError::Other(format!(
            "{reason}, and copying the image's layers into {} failed: {e}",
            tmp.display()
        ))
    })?;
    std::fs::rename(&tmp, &dest).map_err(|e| {
        InitError::Other(format!(
            "renaming {} to {}: {e}",
            tmp.display(),
            dest.display()
        ))
    })?;
    bind_copy(&dest, &r.merged)?;
    let mut w = format!(
        "{reason}: the container's root file system is a full COPY of its image's {} layers in {} \
         ({} in {} files, kept until the container is removed; every container started like this costs as much). \
         Install fuse-overlayfs, or use a kernel (5.11 or later) and a file system where overlay works in a user namespace.",
        r.lower.len(),
        dest.display(),
        crate::format::units::human_size(stats.bytes as f64),
        stats.files,
    );
    if stats.skipped_devices > 0 {
        w.push_str(&format!(
            " {} device node(s) of the image could not be created here and were skipped.",
            stats.skipped_devices
        ));
    }
    warnings.push(w);
    Ok(())
}

fn io(what: impl std::fmt::Display) -> impl FnOnce(rustix::io::Errno) -> String {
    move |e| format!("{what}: {e}")
}

/// Copies the layers (top first, as overlay's lowerdir) bottom-up into a
/// fresh `dest`.
fn build_copy(lower: &[PathBuf], dest: &Path) -> Result<CopyStats, String> {
    if lower.is_empty() {
        return Err("the rootfs has no layers".into());
    }
    if let Some(parent) = dest.parent() {
        let name = dest.file_name().unwrap_or_default();
        let pfd = rustix::fs::open(parent, OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(io(parent.display()))?;
        remove_at(&pfd, name).map_err(io(format!("removing {}", dest.display())))?;
        rustix::fs::mkdirat(&pfd, name, Mode::from_raw_mode(0o700))
            .map_err(io(format!("creating {}", dest.display())))?;
    }
    let root = open_dir_at(rustix::fs::CWD, dest).map_err(io(dest.display()))?;
    let mut stats = CopyStats::default();
    let mut buf = vec![0u8; 1 << 16];
    for layer in lower.iter().rev() {
        let mut links = HashMap::new();
        apply_dir(layer, &root, &mut links, &mut stats, &mut buf)?;
        let md =
            std::fs::symlink_metadata(layer).map_err(|e| format!("{}: {e}", layer.display()))?;
        set_meta_fd(&root, &md, layer, &mut buf)?;
    }
    Ok(stats)
}

fn open_dir_at(dir: impl AsFd, name: impl rustix::path::Arg) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Removes `name` in `dir` (a whole tree if it is a directory); absent is fine.
fn remove_at(dir: &OwnedFd, name: &OsStr) -> rustix::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(rustix::io::Errno::ISDIR) => {
            let child = open_dir_at(dir, name)?;
            clear_dir(&child)?;
            rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)
        }
        Err(e) => Err(e),
    }
}

/// Removes everything in a directory.
fn clear_dir(dir: &OwnedFd) -> rustix::io::Result<()> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(std::ffi::OsString::from(OsStr::from_bytes(name)));
        }
    }
    for name in names {
        remove_at(dir, &name)?;
    }
    Ok(())
}

/// `/proc/self/fd/N/name`: the l*xattr calls' way to a node we hold the parent of.
fn proc_path(dir: &OwnedFd, name: &OsStr) -> PathBuf {
    let mut p = PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()));
    p.push(name);
    p
}

/// Applies one layer directory `src` onto the copy's directory `dst`.
fn apply_dir(
    src: &Path,
    dst: &OwnedFd,
    links: &mut HashMap<(u64, u64), (OwnedFd, std::ffi::OsString)>,
    stats: &mut CopyStats,
    buf: &mut [u8],
) -> Result<(), String> {
    let entries = std::fs::read_dir(src).map_err(|e| format!("reading {}: {e}", src.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", src.display()))?;
        let name = entry.file_name();
        let sp = entry.path();
        let md = std::fs::symlink_metadata(&sp).map_err(|e| format!("{}: {e}", sp.display()))?;
        let ft = md.file_type();
        let here = || sp.display().to_string();
        if ft.is_char_device() && md.rdev() == 0 {
            // A whiteout: hides whatever the layers below have there.
            remove_at(dst, &name).map_err(io(format!("applying the whiteout {}", here())))?;
            continue;
        }
        if ft.is_dir() {
            match rustix::fs::statat(dst, &name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
                Ok(_) => {
                    remove_at(dst, &name).map_err(io(here()))?;
                    rustix::fs::mkdirat(dst, &name, Mode::from_raw_mode(0o700))
                        .map_err(io(here()))?;
                }
                Err(rustix::io::Errno::NOENT) => {
                    rustix::fs::mkdirat(dst, &name, Mode::from_raw_mode(0o700))
                        .map_err(io(here()))?;
                }
                Err(e) => return Err(format!("{}: {e}", here())),
            }
            let child = open_dir_at(dst, &name).map_err(io(here()))?;
            if crate::image::store::has_opaque_marker(&sp) {
                clear_dir(&child).map_err(io(format!("applying the opaque dir {}", here())))?;
            }
            apply_dir(&sp, &child, links, stats, buf)?;
            set_meta_fd(&child, &md, &sp, buf)?;
            continue;
        }
        remove_at(dst, &name).map_err(io(here()))?;
        if ft.is_file() {
            let key = (md.dev(), md.ino());
            if md.nlink() > 1
                && let Some((first_dir, first_name)) = links.get(&key)
            {
                rustix::fs::linkat(first_dir, first_name, dst, &name, AtFlags::empty())
                    .map_err(io(format!("hard-linking {}", here())))?;
                continue;
            }
            let out = rustix::fs::openat(
                dst,
                &name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
            .map_err(io(here()))?;
            let mut input = std::fs::File::open(&sp).map_err(|e| format!("{}: {e}", here()))?;
            let mut output = std::fs::File::from(out);
            let n = std::io::copy(&mut input, &mut output)
                .map_err(|e| format!("copying {}: {e}", here()))?;
            let out = OwnedFd::from(output);
            set_meta_fd(&out, &md, &sp, buf)?;
            stats.bytes += n;
            stats.files += 1;
            if md.nlink() > 1 {
                let dir = dst.try_clone().map_err(|e| format!("dup: {e}"))?;
                links.insert(key, (dir, name.clone()));
            }
            continue;
        }
        if ft.is_symlink() {
            let target = std::fs::read_link(&sp).map_err(|e| format!("{}: {e}", here()))?;
            rustix::fs::symlinkat(&target, dst, &name).map_err(io(here()))?;
        } else {
            let (kind, dev) = if ft.is_fifo() {
                (FileType::Fifo, 0)
            } else if ft.is_socket() {
                (FileType::Socket, 0)
            } else if ft.is_char_device() {
                (FileType::CharacterDevice, md.rdev())
            } else {
                (FileType::BlockDevice, md.rdev())
            };
            match rustix::fs::mknodat(dst, &name, kind, Mode::from_raw_mode(0o600), dev) {
                Ok(()) => {}
                Err(rustix::io::Errno::PERM)
                    if matches!(kind, FileType::CharacterDevice | FileType::BlockDevice) =>
                {
                    stats.skipped_devices += 1;
                    continue;
                }
                Err(e) => return Err(format!("{}: {e}", here())),
            }
        }
        stats.files += 1;
        set_meta_at(dst, &name, &md, &sp, buf)?;
    }
    Ok(())
}

fn timestamps(md: &std::fs::Metadata) -> Timestamps {
    Timestamps {
        last_access: Timespec {
            tv_sec: md.atime(),
            tv_nsec: md.atime_nsec() as _,
        },
        last_modification: Timespec {
            tv_sec: md.mtime(),
            tv_nsec: md.mtime_nsec() as _,
        },
    }
}

/// The xattrs of `src` worth copying: not overlay's own markers.
/// Extended attributes: (name, value) pairs.
type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

fn source_xattrs(src: &Path, buf: &mut [u8]) -> Result<Xattrs, String> {
    let n = match rustix::fs::llistxattr(src, &mut *buf) {
        Ok(n) => n,
        Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
        Err(e) => return Err(format!("listing the xattrs of {}: {e}", src.display())),
    };
    let names: Vec<Vec<u8>> = buf[..n]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .filter(|n| !n.starts_with(b"trusted.overlay.") && !n.starts_with(b"user.overlay."))
        .map(<[u8]>::to_vec)
        .collect();
    let mut out = Vec::new();
    for name in names {
        let os = OsStr::from_bytes(&name);
        match rustix::fs::lgetxattr(src, os, &mut *buf) {
            Ok(len) => out.push((name.clone(), buf[..len].to_vec())),
            Err(rustix::io::Errno::NODATA) => {}
            Err(e) => {
                return Err(format!(
                    "reading xattr {} of {}: {e}",
                    os.to_string_lossy(),
                    src.display()
                ));
            }
        }
    }
    Ok(out)
}

/// Owner, mode, xattrs (exactly the source's) and times of an open file or dir.
fn set_meta_fd(
    fd: &OwnedFd,
    md: &std::fs::Metadata,
    src: &Path,
    buf: &mut [u8],
) -> Result<(), String> {
    let what = || src.display().to_string();
    rustix::fs::fchown(
        fd,
        Some(rustix::fs::Uid::from_raw(md.uid())),
        Some(rustix::fs::Gid::from_raw(md.gid())),
    )
    .map_err(io(format!("chown {}:{} {}", md.uid(), md.gid(), what())))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(md.mode() & 0o7777))
        .map_err(io(format!("chmod {}", what())))?;
    let want = source_xattrs(src, buf)?;
    // A directory of a lower layer may carry xattrs the upper one lacks.
    if let Ok(n) = rustix::fs::flistxattr(fd, &mut *buf) {
        let have: Vec<Vec<u8>> = buf[..n]
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        for name in have {
            if !want.iter().any(|(n, _)| *n == name) && !name.starts_with(b"security.") {
                let _ = rustix::fs::fremovexattr(fd, OsStr::from_bytes(&name));
            }
        }
    }
    for (name, value) in &want {
        let name = OsStr::from_bytes(name);
        rustix::fs::fsetxattr(fd, name, value, XattrFlags::empty()).map_err(io(format!(
            "setting xattr {} on {}",
            name.to_string_lossy(),
            what()
        )))?;
    }
    rustix::fs::futimens(fd, &timestamps(md))
        .map_err(io(format!("setting the times of {}", what())))
}

/// The same for a symlink, FIFO, socket or device node, by name in `dir`.
fn set_meta_at(
    dir: &OwnedFd,
    name: &OsStr,
    md: &std::fs::Metadata,
    src: &Path,
    buf: &mut [u8],
) -> Result<(), String> {
    let what = || src.display().to_string();
    rustix::fs::chownat(
        dir,
        name,
        Some(rustix::fs::Uid::from_raw(md.uid())),
        Some(rustix::fs::Gid::from_raw(md.gid())),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io(format!("chown {}:{} {}", md.uid(), md.gid(), what())))?;
    let symlink = md.file_type().is_symlink();
    if !symlink {
        rustix::fs::chmodat(
            dir,
            name,
            Mode::from_raw_mode(md.mode() & 0o7777),
            AtFlags::empty(),
        )
        .map_err(io(format!("chmod {}", what())))?;
    }
    let path = proc_path(dir, name);
    for (xname, value) in source_xattrs(src, buf)? {
        let xname = OsStr::from_bytes(&xname);
        rustix::fs::lsetxattr(&path, xname, &value, XattrFlags::empty()).map_err(io(format!(
            "setting xattr {} on {}",
            xname.to_string_lossy(),
            what()
        )))?;
    }
    rustix::fs::utimensat(dir, name, &timestamps(md), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(io(format!("setting the times of {}", what())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn drivers_parse() {
        assert_eq!(Driver::parse("").unwrap(), Driver::Auto);
        assert_eq!(Driver::parse("overlay").unwrap(), Driver::Overlay);
        assert_eq!(
            Driver::parse("fuse-overlayfs").unwrap(),
            Driver::FuseOverlayfs
        );
        assert_eq!(Driver::parse("vfs").unwrap(), Driver::Vfs);
        let err = Driver::parse("btrfs").unwrap_err();
        assert!(err.contains("btrfs") && err.contains(DRIVER_ENV), "{err}");
    }

    #[test]
    fn fuse_options_refuse_separators() {
        let plan = |upper: &str| RootfsPlan {
            lower: vec!["/s/l2".into(), "/s/l1".into()],
            upper: upper.into(),
            work: "/c/work".into(),
            merged: "/c/merged".into(),
        };
        assert_eq!(
            fuse_options(&plan("/c/upper")).unwrap(),
            "lowerdir=/s/l2:/s/l1,upperdir=/c/upper,workdir=/c/work"
        );
        assert!(fuse_options(&plan("/c/up,per")).is_err());
        assert!(fuse_options(&plan("/c/up:per")).is_err());
    }

    /// The copy applies whiteouts, opaque dirs, type changes, hard links,
    /// symlinks, modes and xattrs bottom-up (as the caller's own user: the
    /// owners are the caller's).
    #[test]
    fn copy_applies_layers_bottom_up() {
        let t = tempfile::tempdir().unwrap();
        let (l1, l2) = (t.path().join("l1"), t.path().join("l2"));
        for d in ["opq/sub", "d", "tc"] {
            std::fs::create_dir_all(l1.join(d)).unwrap();
        }
        std::fs::write(l1.join("opq/old"), "old").unwrap();
        std::fs::write(l1.join("d/gone"), "gone").unwrap();
        std::fs::write(l1.join("d/kept"), "kept").unwrap();
        std::fs::write(l1.join("tc/inner"), "inner").unwrap();
        for d in ["opq", "d"] {
            std::fs::create_dir_all(l2.join(d)).unwrap();
        }
        let user_xattrs = rustix::fs::setxattr(
            l2.join("opq").as_path(),
            "user.overlay.opaque",
            b"y",
            XattrFlags::empty(),
        )
        .is_ok();
        std::fs::write(l2.join("opq/new"), "new").unwrap();
        std::fs::write(l2.join("tc"), "now a file").unwrap();
        std::fs::write(l2.join("d/target"), "linked").unwrap();
        std::fs::hard_link(l2.join("d/target"), l2.join("d/link")).unwrap();
        std::os::unix::fs::symlink("target", l2.join("d/sym")).unwrap();
        std::fs::set_permissions(l2.join("d/target"), std::fs::Permissions::from_mode(0o4755))
            .unwrap();
        let whiteout = rustix::fs::mknodat(
            rustix::fs::CWD,
            l2.join("d/gone").as_path(),
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .is_ok();
        if user_xattrs {
            rustix::fs::setxattr(
                l2.join("d/target").as_path(),
                "user.test",
                b"v",
                XattrFlags::empty(),
            )
            .unwrap();
        }
        let dest = t.path().join("vfs");
        let stats = build_copy(&[l2.clone(), l1.clone()], &dest).unwrap();
        assert!(stats.bytes > 0 && stats.files > 0);
        let read = |p: &str| std::fs::read_to_string(dest.join(p)).ok();
        assert_eq!(read("d/kept").as_deref(), Some("kept"));
        assert_eq!(read("tc").as_deref(), Some("now a file"));
        assert_eq!(read("opq/new").as_deref(), Some("new"));
        if user_xattrs {
            assert!(!dest.join("opq/old").exists() && !dest.join("opq/sub").exists());
            assert!(
                !crate::image::store::has_opaque_marker(&dest.join("opq")),
                "overlay's markers are not copied"
            );
            let mut v = [0u8; 8];
            let n = rustix::fs::getxattr(dest.join("d/target").as_path(), "user.test", &mut v[..])
                .unwrap();
            assert_eq!(&v[..n], b"v");
        }
        if whiteout {
            assert!(!dest.join("d/gone").exists());
        }
        let (a, b) = (
            std::fs::metadata(dest.join("d/target")).unwrap(),
            std::fs::metadata(dest.join("d/link")).unwrap(),
        );
        assert_eq!(a.ino(), b.ino());
        assert_eq!(a.mode() & 0o7777, 0o4755);
        assert_eq!(
            std::fs::read_link(dest.join("d/sym")).unwrap(),
            Path::new("target")
        );
        // Building again starts from scratch.
        std::fs::write(dest.join("stray"), "x").unwrap();
        build_copy(&[l2, l1], &dest).unwrap();
        assert!(!dest.join("stray").exists());
    }
}
