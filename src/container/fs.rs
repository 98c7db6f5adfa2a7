//! A container's files from outside it: what `cp` and `diff` need.
//!
//! The container's file system is the overlay of its image layers and its
//! `upper/` dir. `berth internal cp-out|cp-in` helpers (single-threaded
//! re-execs) first *enter* it:
//!
//! - running ([`enter_running`]): join the user namespace (rootless) and the
//!   mount namespace of its PID 1 and `chroot` to that process's root, so
//!   volumes and everything else are seen as the container sees them;
//! - stopped or created ([`enter_stopped`]): (rootless, already in a user
//!   namespace with the container's id map) a new mount namespace, the
//!   overlay mounted as the runtime mounts it, `chroot` into it.
//!
//! Either way the helper's `/` is the container's root: a symlink in the
//! container can never lead a path outside it. On top of that, tar input
//! (untrusted twice: from a user's stdin, or a container's files copied to
//! the host) is extracted by [`extract`], which resolves every parent
//! directory with `openat2(RESOLVE_IN_ROOT)` from the extraction root,
//! creates the final component with `*at` calls that never follow it, and
//! refuses names with `..`.
//!
//! Tar output ([`write_tree`]) is what docker's archives hold: one entry per
//! file, directories first and then their entries in byte order, hard links
//! as link entries, numeric owners as the files have them.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, ResolveFlags, Timespec, Timestamps, Uid};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FsError(pub String);

fn err(what: impl std::fmt::Display, e: impl std::fmt::Display) -> FsError {
    FsError(format!("{what}: {e}"))
}

fn errno_io(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// The id map the container was created with (`linux.uidMappings`), if any.
fn spec_mapping(config: &super::record::ContainerConfig) -> Option<crate::userns::IdMapping> {
    use crate::userns::{IdMapping, IdRange};
    let ranges = |key: &str| -> Option<Vec<IdRange>> {
        let list = config.spec.get("linux")?.get(key)?.as_array()?;
        list.iter()
            .map(|m| {
                Some(IdRange {
                    container: m.get("containerID")?.as_u64()? as u32,
                    host: m.get("hostID")?.as_u64()? as u32,
                    size: m.get("size")?.as_u64()? as u32,
                })
            })
            .collect()
    };
    Some(IdMapping {
        uids: ranges("uidMappings")?,
        gids: ranges("gidMappings")?,
    })
}

/// The user namespace a helper reading a container's files needs: the
/// container's own map (rootless), so owners are what the container sees.
/// None as root. `config` must be loaded with its spec.
pub fn container_mapping(
    ctx: &crate::context::Context,
    config: &super::record::ContainerConfig,
) -> Result<Option<crate::userns::IdMapping>, crate::userns::UsernsError> {
    if !ctx.paths.rootless {
        return Ok(None);
    }
    match spec_mapping(config) {
        Some(m) => Ok(Some(m)),
        None => Ok(ctx.id_mapping()?.cloned()),
    }
}

// ---------------------------------------------------------------------------
// Entering the container's file system (helpers only: single-threaded).

/// Joins the namespaces of the running container whose PID 1 is `pid` and
/// makes its root this process's root. Rootless the user namespace comes
/// first (it gives the capabilities the mount namespace needs); as root a
/// container without its own user namespace shares ours and it is skipped.
pub fn enter_running(pid: i32) -> Result<(), FsError> {
    use nix::sched::{CloneFlags, setns};
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let ns_ino = |p: &Path| fs::metadata(p).map(|m| m.ino());
    let theirs = ns_ino(&proc.join("ns/user")).map_err(|e| err("container process", e))?;
    let ours = ns_ino(Path::new("/proc/self/ns/user")).map_err(|e| err("own user ns", e))?;
    if theirs != ours {
        let f = fs::File::open(proc.join("ns/user")).map_err(|e| err("container user ns", e))?;
        setns(f.as_fd(), CloneFlags::CLONE_NEWUSER)
            .map_err(|e| err("joining the container's user namespace", e))?;
    }
    let root = rustix::fs::open(
        proc.join("root"),
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| err("the container's root", e))?;
    let mnt = fs::File::open(proc.join("ns/mnt")).map_err(|e| err("container mount ns", e))?;
    setns(mnt.as_fd(), CloneFlags::CLONE_NEWNS)
        .map_err(|e| err("joining the container's mount namespace", e))?;
    nix::unistd::fchdir(&root).map_err(|e| err("chdir to the container's root", e))?;
    nix::unistd::chroot(".").map_err(|e| err("chroot to the container's root", e))?;
    nix::unistd::chdir("/").map_err(|e| err("chdir /", e))?;
    Ok(())
}

/// Mounts the overlay of a container that is not running (`lower` top
/// first) on `merged` in a new mount namespace and makes it this process's
/// root. Rootless the process must already be in a user namespace (with the
/// container's id map, so owners come out as the container sees them).
pub fn enter_stopped(
    lower: &[PathBuf],
    upper: &Path,
    work: &Path,
    merged: &Path,
) -> Result<(), FsError> {
    use nix::mount::{MsFlags, mount};
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| err("creating a mount namespace", e))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| err("making / private", e))?;
    let plan = crate::runtime::RootfsPlan {
        lower: lower.to_vec(),
        upper: upper.to_path_buf(),
        work: work.to_path_buf(),
        merged: merged.to_path_buf(),
    };
    crate::runtime::mounts::mount_overlay_dirs(&plan)
        .map_err(|e| err("mounting the container's overlay", e))?;
    nix::unistd::chdir(merged).map_err(|e| err(merged.display(), e))?;
    nix::unistd::chroot(".").map_err(|e| err("chroot to the container's root", e))?;
    nix::unistd::chdir("/").map_err(|e| err("chdir /", e))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// docker's path rules.

/// A path as `docker cp` reads it: cleaned lexically (`..` stops at `/`),
/// remembering whether it ended with `/` or `/.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyPath {
    /// Cleaned; absolute when the input was (container paths always are).
    pub clean: PathBuf,
    /// Ends with `/` or `/.`: must be a directory (symlinks to one are followed).
    pub asserts_dir: bool,
    /// Ends with `/.`: the directory's contents, not the directory.
    pub contents: bool,
}

impl CopyPath {
    pub fn parse(raw: &str, absolute: bool) -> CopyPath {
        let contents = raw == "." || raw.ends_with("/.");
        let asserts_dir = contents || raw.ends_with('/');
        let mut parts: Vec<&OsStr> = Vec::new();
        let is_abs = absolute || raw.starts_with('/');
        let mut ups = 0usize;
        for c in Path::new(raw).components() {
            match c {
                Component::Normal(n) => parts.push(n),
                Component::ParentDir if parts.pop().is_none() && !is_abs => ups += 1,
                _ => {}
            }
        }
        let mut clean = PathBuf::from(if is_abs { "/" } else { "" });
        for _ in 0..ups {
            clean.push("..");
        }
        for p in parts {
            clean.push(p);
        }
        if clean.as_os_str().is_empty() {
            clean.push(".");
        }
        CopyPath {
            clean,
            asserts_dir,
            contents,
        }
    }

    /// The path to hand to the kernel: with a trailing `/` when it asserts a
    /// directory, so a final symlink to one is followed.
    pub fn os_path(&self) -> PathBuf {
        if self.asserts_dir && self.clean != Path::new("/") {
            let mut s = self.clean.as_os_str().to_os_string();
            s.push("/");
            PathBuf::from(s)
        } else {
            self.clean.clone()
        }
    }

    /// docker's name for what the path copies: `.` for contents, else the base name.
    pub fn base(&self) -> OsString {
        if self.contents {
            return ".".into();
        }
        match self.clean.file_name() {
            Some(n) => n.to_os_string(),
            None => ".".into(),
        }
    }

    /// The directory holding the path (for a rename on extraction).
    pub fn parent(&self) -> PathBuf {
        match self.clean.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            Some(_) => PathBuf::from("."),
            None => self.clean.clone(),
        }
    }
}

/// What a path is, as the other side of a copy needs to know it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PathInfo {
    pub exists: bool,
    pub is_dir: bool,
    /// The path after following a final symlink (the path itself otherwise).
    pub path: PathBuf,
}

/// docker's destination stat: a final symlink is followed (to its target,
/// joined with the link's directory when relative).
pub fn stat_destination(p: &CopyPath) -> PathInfo {
    let mut path = p.clean.clone();
    if let Ok(m) = fs::symlink_metadata(&path)
        && m.file_type().is_symlink()
        && let Ok(target) = fs::read_link(&path)
    {
        path = if target.is_absolute() {
            target
        } else {
            p.parent().join(target)
        };
        path = CopyPath::parse(&path.to_string_lossy(), p.clean.is_absolute()).clean;
    }
    let probe = if p.asserts_dir {
        let mut s = path.as_os_str().to_os_string();
        s.push("/");
        PathBuf::from(s)
    } else {
        path.clone()
    };
    match fs::metadata(&probe) {
        Ok(m) => PathInfo {
            exists: true,
            is_dir: m.is_dir(),
            path,
        },
        Err(_) => PathInfo {
            exists: false,
            is_dir: false,
            path,
        },
    }
}

/// Where docker's `PrepareArchiveCopy` extracts, and the name the copied
/// entry takes there: `(dir, name)`.
pub fn prepare_copy(
    src_is_dir: bool,
    src_name: &OsStr,
    dst: &CopyPath,
    dst_info: &PathInfo,
) -> Result<(PathBuf, OsString), FsError> {
    let resolved = CopyPath {
        clean: dst_info.path.clone(),
        ..dst.clone()
    };
    let dst_base = || {
        resolved
            .clean
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| ".".into())
    };
    if dst_info.exists && dst_info.is_dir {
        return Ok((resolved.clean.clone(), src_name.to_os_string()));
    }
    if dst_info.exists && src_is_dir {
        return Err(FsError("cannot copy directory".into()));
    }
    if !dst_info.exists && !src_is_dir && dst.asserts_dir {
        return Err(FsError("no such directory".into()));
    }
    Ok((resolved.parent(), dst_base()))
}

// ---------------------------------------------------------------------------
// Tar output.

/// Writes `src` (and everything under it, without following symlinks below
/// it) as tar entries named `name`, `name/…`. `follow` follows `src` itself
/// when it is a symlink (`-L`). `name` `.` gives the contents (`./` for
/// `src` itself, then bare names).
pub fn write_tree<W: Write>(out: W, src: &Path, name: &Path, follow: bool) -> Result<W, FsError> {
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Complete);
    b.follow_symlinks(false);
    let meta = if follow {
        fs::metadata(src)
    } else {
        fs::symlink_metadata(src)
    }
    .map_err(|e| err(format!("lstat {}", src.display()), e))?;
    let mut links = HashMap::new();
    add_entry(&mut b, src, name, &meta, &mut links)?;
    b.into_inner().map_err(|e| err("writing the archive", e))
}

fn add_entry<W: Write>(
    b: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
    meta: &fs::Metadata,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<(), FsError> {
    append_node(b, path, name, meta, links, &NodeOptions::default())?;
    if meta.file_type().is_dir() {
        for (child, child_name, m) in children(path, name)? {
            add_entry(b, &child, &child_name, &m, links)?;
        }
    }
    Ok(())
}

/// The entries of directory `path` (archived as `name`) in byte order of names,
/// with their lstat; entries removed meanwhile are skipped.
fn children(path: &Path, name: &Path) -> Result<Vec<(PathBuf, PathBuf, fs::Metadata)>, FsError> {
    let mut names: Vec<OsString> = fs::read_dir(path)
        .map_err(|e| err(format!("reading directory {}", path.display()), e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("reading directory {}", path.display()), e))?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let child = path.join(&n);
        let m = match fs::symlink_metadata(&child) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
            Err(e) => return Err(err(format!("lstat {}", child.display()), e)),
        };
        let child_name = if name == Path::new(".") || name.as_os_str().is_empty() {
            PathBuf::from(&n)
        } else {
            name.join(&n)
        };
        out.push((child, child_name, m));
    }
    Ok(out)
}

/// How [`append_node`] writes one entry.
#[derive(Debug, Clone, Default)]
struct NodeOptions {
    /// Extended attributes as PAX `SCHILY.xattr.*` records (overlay's own left out).
    xattrs: bool,
    /// Write a regular file as empty (a bind-mounted file seen through a mount point).
    no_content: bool,
}

/// Writes one entry (a directory without its contents).
fn append_node<W: Write>(
    b: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
    meta: &fs::Metadata,
    links: &mut HashMap<(u64, u64), PathBuf>,
    opts: &NodeOptions,
) -> Result<(), FsError> {
    let werr = |e: io::Error| err(format!("archiving {}", path.display()), e);
    let ft = meta.file_type();
    let mut h = tar::Header::new_gnu();
    h.set_mode(meta.mode() & 0o7777);
    h.set_uid(meta.uid().into());
    h.set_gid(meta.gid().into());
    h.set_mtime(meta.mtime().max(0) as u64);
    h.set_size(0);
    if opts.xattrs
        && !(ft.is_file() && meta.nlink() > 1 && links.contains_key(&(meta.dev(), meta.ino())))
    {
        let records = xattr_records(path)?;
        if !records.is_empty() {
            append_pax(b, &records).map_err(werr)?;
        }
    }
    if ft.is_dir() {
        h.set_entry_type(tar::EntryType::Directory);
        // Directory names end with `/`, as docker's (and GNU tar's) do; the
        // tar crate drops it, so short names are written by hand.
        let mut slashed = name.as_os_str().as_bytes().to_vec();
        slashed.push(b'/');
        if slashed.len() <= 100 {
            let old = h.as_old_mut();
            old.name.fill(0);
            old.name[..slashed.len()].copy_from_slice(&slashed);
            h.set_cksum();
            b.append(&h, io::empty()).map_err(werr)?;
        } else {
            b.append_data(&mut h, name, io::empty()).map_err(werr)?;
        }
        return Ok(());
    }
    if ft.is_symlink() {
        let target = fs::read_link(path).map_err(werr)?;
        h.set_entry_type(tar::EntryType::Symlink);
        return b.append_link(&mut h, name, &target).map_err(werr);
    }
    if ft.is_file() {
        if meta.nlink() > 1 && !opts.no_content {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = links.get(&key) {
                h.set_entry_type(tar::EntryType::Link);
                return b.append_link(&mut h, name, first).map_err(werr);
            }
            links.insert(key, name.to_path_buf());
        }
        h.set_entry_type(tar::EntryType::Regular);
        if opts.no_content {
            return b.append_data(&mut h, name, io::empty()).map_err(werr);
        }
        let f = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| werr(errno_io(e)))?;
        let f = fs::File::from(f);
        // The size now: a file growing while it is read is cut at this size.
        let len = f.metadata().map_err(werr)?.len();
        h.set_size(len);
        return b
            .append_data(&mut h, name, Exactly { r: f, left: len })
            .map_err(werr);
    }
    let (kind, dev) = if ft.is_char_device() {
        (tar::EntryType::Char, meta.rdev())
    } else if ft.is_block_device() {
        (tar::EntryType::Block, meta.rdev())
    } else if ft.is_fifo() {
        (tar::EntryType::Fifo, 0)
    } else {
        return Ok(()); // sockets: docker skips them too
    };
    h.set_entry_type(kind);
    if dev != 0 {
        let _ = h.set_device_major(rustix::fs::major(dev));
        let _ = h.set_device_minor(rustix::fs::minor(dev));
    }
    b.append_data(&mut h, name, io::empty()).map_err(werr)
}

/// The extended attributes of `path` (not followed) worth keeping in a layer:
/// everything but overlay's own (`*.overlay.*`), sorted by name.
fn xattr_records(path: &Path) -> Result<Vec<(String, Vec<u8>)>, FsError> {
    let mut names = vec![0u8; 4096];
    let n = loop {
        match rustix::fs::llistxattr(path, &mut names) {
            Ok(n) => break n,
            Err(Errno::RANGE) => names.resize(names.len() * 4, 0),
            Err(Errno::NOTSUP) => return Ok(vec![]),
            Err(e) => {
                return Err(err(
                    format!("listing xattrs of {}", path.display()),
                    errno_io(e),
                ));
            }
        }
    };
    let mut out = Vec::new();
    for raw in names[..n].split(|&c| c == 0).filter(|n| !n.is_empty()) {
        let Ok(key) = std::str::from_utf8(raw) else {
            continue;
        };
        if key.starts_with("trusted.overlay.")
            || key.starts_with("user.overlay.")
            || key.starts_with("user.fuseoverlayfs.")
        {
            continue;
        }
        let mut value = vec![0u8; 256];
        let len = loop {
            match rustix::fs::lgetxattr(path, key, &mut value) {
                Ok(n) => break Some(n),
                Err(Errno::RANGE) => value.resize(value.len() * 4, 0),
                Err(Errno::NODATA) => break None,
                Err(e) => {
                    return Err(err(
                        format!("reading xattr {key} of {}", path.display()),
                        errno_io(e),
                    ));
                }
            }
        };
        if let Some(len) = len {
            value.truncate(len);
            out.push((key.to_string(), value));
        }
    }
    out.sort();
    Ok(out)
}

/// A PAX extended header (`x`) carrying `SCHILY.xattr.*` records for the next entry.
fn append_pax<W: Write>(b: &mut tar::Builder<W>, xattrs: &[(String, Vec<u8>)]) -> io::Result<()> {
    let mut data = Vec::new();
    for (k, v) in xattrs {
        let key = format!("SCHILY.xattr.{k}");
        // "<len> <key>=<value>\n" where len counts itself.
        let rest = 1 + key.len() + 1 + v.len() + 1;
        let mut len = rest + 1;
        while len.to_string().len() + rest != len {
            len = len.to_string().len() + rest;
        }
        data.extend_from_slice(len.to_string().as_bytes());
        data.push(b' ');
        data.extend_from_slice(key.as_bytes());
        data.push(b'=');
        data.extend_from_slice(v);
        data.push(b'\n');
    }
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_path("PaxHeaders.0/xattrs")?;
    h.set_mode(0o644);
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append(&h, &data[..])
}

// ---------------------------------------------------------------------------
// Layer diff (commit) and export.

/// Writes the changes in a container's `upper` dir (against its image
/// layers `lower`, top first) as a layer tar, the way docker's overlay
/// driver does: the upper dir as it is, overlay whiteouts (0/0 character
/// devices) as `.wh.NAME` entries, opaque directories followed by a
/// `.wh..wh..opq` entry, owners as stored (run this where they read as the
/// container sees them), hard links, symlinks, xattrs (file capabilities
/// included) kept. Left out, as docker keeps them in its init layer or
/// never in the container's: the runtime's own mount points
/// (`INIT_PATHS`: `/etc/hosts`, `/proc`, …) and the `skip` paths (bind and volume destinations)
/// when they exist only as an empty directory or file made for the mount.
pub fn write_layer_diff<W: Write>(
    out: W,
    upper: &Path,
    lower: &[PathBuf],
    skip: &[String],
) -> Result<W, FsError> {
    let lowers: Vec<OwnedFd> = lower
        .iter()
        .map(|l| {
            rustix::fs::open(
                l,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| err(l.display(), errno_io(e)))
        })
        .collect::<Result<_, _>>()?;
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Complete);
    let mut links = HashMap::new();
    let mut st = DiffWalk {
        lowers: &lowers,
        skip,
        links: &mut links,
    };
    st.walk(&mut b, upper, Path::new(""))?;
    b.into_inner().map_err(|e| err("writing the layer", e))
}

struct DiffWalk<'a> {
    lowers: &'a [OwnedFd],
    skip: &'a [String],
    links: &'a mut HashMap<(u64, u64), PathBuf>,
}

impl DiffWalk<'_> {
    fn walk<W: Write>(
        &mut self,
        b: &mut tar::Builder<W>,
        dir: &Path,
        rel: &Path,
    ) -> Result<(), FsError> {
        let opts = NodeOptions {
            xattrs: true,
            no_content: false,
        };
        for (path, name, meta) in children(dir, rel)? {
            let ft = meta.file_type();
            let shown = format!("/{}", name.display());
            if ft.is_char_device() && meta.rdev() == 0 {
                let base = name.file_name().unwrap_or_default();
                let mut wh = OsString::from(".wh.");
                wh.push(base);
                let wh_name = name.with_file_name(wh);
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                h.set_mtime(meta.mtime().max(0) as u64);
                b.append_data(&mut h, &wh_name, io::empty())
                    .map_err(|e| err(format!("archiving {}", path.display()), e))?;
                continue;
            }
            let mount_stub = (INIT_PATHS.contains(&shown.as_str())
                || self.skip.iter().any(|s| s.trim_end_matches('/') == shown))
                && in_lower(self.lowers, &name).is_none()
                && ((ft.is_dir() && dir_is_empty(&path)) || (ft.is_file() && meta.len() == 0));
            if mount_stub {
                continue;
            }
            append_node(b, &path, &name, &meta, self.links, &opts)?;
            if ft.is_dir() {
                if is_opaque(&path) {
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(0o644);
                    h.set_size(0);
                    h.set_mtime(meta.mtime().max(0) as u64);
                    b.append_data(&mut h, name.join(".wh..wh..opq"), io::empty())
                        .map_err(|e| err(format!("archiving {}", path.display()), e))?;
                }
                self.walk(b, &path, &name)?;
            }
        }
        Ok(())
    }
}

fn dir_is_empty(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

/// Writes the whole file system under `/` (this process's root: the
/// container's, entered with [`enter_running`] or [`enter_stopped`]) as
/// `docker export` does: entries named without a leading `./`, nothing
/// below a mount point (`/proc`, `/sys`, `/dev`, volumes: their directory
/// only), bind-mounted files (`/etc/hosts`, …) as empty files.
pub fn write_export<W: Write>(out: W) -> Result<W, FsError> {
    let mut b = tar::Builder::new(out);
    b.mode(tar::HeaderMode::Complete);
    let root = fs::symlink_metadata("/").map_err(|e| err("lstat /", e))?;
    let mut links = HashMap::new();
    export_dir(
        &mut b,
        Path::new("/"),
        Path::new(""),
        root.dev(),
        &mut links,
    )?;
    b.into_inner().map_err(|e| err("writing the archive", e))
}

fn export_dir<W: Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    rel: &Path,
    dev: u64,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<(), FsError> {
    for (path, name, meta) in children(dir, rel)? {
        let other_fs = meta.dev() != dev;
        let opts = NodeOptions {
            xattrs: true,
            no_content: other_fs,
        };
        append_node(b, &path, &name, &meta, links, &opts)?;
        if meta.is_dir() && !other_fs {
            export_dir(b, &path, &name, dev, links)?;
        }
    }
    Ok(())
}

/// Exactly `left` bytes of `r`: zeros when it ends early (a file truncated
/// while being archived), never more.
struct Exactly<R> {
    r: R,
    left: u64,
}

impl<R: Read> Read for Exactly<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let mut n = self.r.read(&mut buf[..want])?;
        if n == 0 {
            buf[..want].fill(0);
            n = want;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// Safe extraction.

/// Whose files extraction makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The ids in the archive (`cp -a`).
    Archive,
    /// These ids (container root without `-a`).
    Fixed(u32, u32),
    /// Whoever runs the extraction (copying out to the host): no chown.
    Caller,
}

#[derive(Debug, Clone, Copy)]
pub struct ExtractOptions {
    pub owner: Owner,
}

/// Extracts the tar stream `input` into `dir` (relative to `root`, which
/// nothing leaves: parents are resolved with `RESOLVE_IN_ROOT` from it).
/// Existing files are replaced, existing directories merged; a directory
/// never replaces a non-directory nor the reverse (docker's
/// `NoOverwriteDirNonDir`). Names with `..` are refused before anything of
/// the entry is written. Device nodes that cannot be made (rootless) are skipped.
pub fn extract<R: Read>(
    input: R,
    root: BorrowedFd<'_>,
    dir: &Path,
    opts: &ExtractOptions,
) -> Result<(), FsError> {
    let base = relative(dir);
    let mut x = Extractor {
        root,
        base,
        owner: opts.owner,
        dirs: Vec::new(),
    };
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|e| err("reading the archive", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| err("reading the archive", e))?;
        x.entry(&mut entry)?;
    }
    x.finish_dirs()
}

/// `/a/b` → `a/b`; `/` → ``.
fn relative(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

/// An entry name as a relative path; `..` anywhere is refused.
fn entry_name(raw: &[u8]) -> Result<PathBuf, FsError> {
    let mut out = PathBuf::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err(FsError(format!(
                    "refusing to extract {:?}: the name leaves the destination directory",
                    String::from_utf8_lossy(raw)
                )));
            }
            p => out.push(OsStr::from_bytes(p)),
        }
    }
    Ok(out)
}

struct Extractor<'a> {
    root: BorrowedFd<'a>,
    base: PathBuf,
    owner: Owner,
    /// Directories whose mode and times are applied at the end (deepest first).
    dirs: Vec<(PathBuf, u32, i64)>,
}

fn open_dir_in(root: BorrowedFd<'_>, rel: &Path) -> Result<OwnedFd, Errno> {
    let p: &Path = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    rustix::fs::openat2(
        root,
        p,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )
}

/// `mkdir -p` under `root`, every step resolved inside it.
fn ensure_dir_in(root: BorrowedFd<'_>, rel: &Path) -> Result<OwnedFd, Errno> {
    match open_dir_in(root, rel) {
        Err(Errno::NOENT) => {}
        r => return r,
    }
    let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
        return Err(Errno::NOENT);
    };
    let pfd = ensure_dir_in(root, parent)?;
    match rustix::fs::mkdirat(&pfd, name, Mode::from_raw_mode(0o755)) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    open_dir_in(root, rel)
}

impl Extractor<'_> {
    fn ids(&self, h: &tar::Header) -> Option<(u32, u32)> {
        match self.owner {
            Owner::Caller => None,
            Owner::Fixed(u, g) => Some((u, g)),
            Owner::Archive => Some((
                h.uid().unwrap_or(0).try_into().unwrap_or(0),
                h.gid().unwrap_or(0).try_into().unwrap_or(0),
            )),
        }
    }

    fn entry<R: Read>(&mut self, e: &mut tar::Entry<'_, R>) -> Result<(), FsError> {
        let raw = e.path_bytes().into_owned();
        let name = entry_name(&raw)?;
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let h = e.header().clone();
        let kind = h.entry_type();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let mtime = h.mtime().unwrap_or(0) as i64;
        let ids = self.ids(&h);
        let io_err = |op: &str, errno: Errno| err(format!("{shown}: {op}"), errno_io(errno));
        let full = self.base.join(&name);

        if name.as_os_str().is_empty() {
            if !kind.is_dir() {
                return Err(FsError(format!(
                    "{shown}: only a directory may name the destination itself"
                )));
            }
            let fd = open_dir_in(self.root, &full).map_err(|x| io_err("open", x))?;
            if let Some((u, g)) = ids {
                rustix::fs::chownat(
                    &fd,
                    "",
                    Some(Uid::from_raw(u)),
                    Some(Gid::from_raw(g)),
                    AtFlags::EMPTY_PATH,
                )
                .map_err(|x| io_err("chown", x))?;
            }
            self.dirs.push((full, mode, mtime));
            return Ok(());
        }

        let parent = full.parent().unwrap_or(Path::new(""));
        let base = full.file_name().expect("a named entry").to_os_string();
        let pfd = ensure_dir_in(self.root, parent)
            .map_err(|x| io_err("creating its parent directory", x))?;
        let existing = rustix::fs::statat(&pfd, &base, AtFlags::SYMLINK_NOFOLLOW);
        let existing_dir = matches!(&existing, Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory);

        if kind.is_dir() {
            match existing {
                Ok(_) if existing_dir => {}
                Ok(_) => {
                    return Err(FsError(format!(
                        "cannot overwrite non-directory \"/{}\" with directory \"{shown}\"",
                        full.display()
                    )));
                }
                Err(Errno::NOENT) => rustix::fs::mkdirat(&pfd, &base, Mode::from_raw_mode(0o700))
                    .map_err(|x| io_err("mkdir", x))?,
                Err(x) => return Err(io_err("lstat", x)),
            }
            if let Some((u, g)) = ids {
                rustix::fs::chownat(
                    &pfd,
                    &base,
                    Some(Uid::from_raw(u)),
                    Some(Gid::from_raw(g)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|x| io_err("chown", x))?;
            }
            self.dirs.push((full, mode, mtime));
            return Ok(());
        }

        if existing_dir {
            return Err(FsError(format!(
                "cannot overwrite directory \"/{}\" with non-directory \"{shown}\"",
                full.display()
            )));
        }
        if existing.is_ok() {
            rustix::fs::unlinkat(&pfd, &base, AtFlags::empty()).map_err(|x| io_err("unlink", x))?;
        }
        let times = Timestamps {
            last_access: Timespec {
                tv_sec: mtime,
                tv_nsec: 0,
            },
            last_modification: Timespec {
                tv_sec: mtime,
                tv_nsec: 0,
            },
        };
        let chown_at = |ids: Option<(u32, u32)>| -> Result<(), FsError> {
            if let Some((u, g)) = ids {
                rustix::fs::chownat(
                    &pfd,
                    &base,
                    Some(Uid::from_raw(u)),
                    Some(Gid::from_raw(g)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(|x| io_err("chown", x))?;
            }
            Ok(())
        };
        match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let fd = rustix::fs::openat(
                    &pfd,
                    &base,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|x| io_err("create", x))?;
                let mut f = fs::File::from(fd);
                io::copy(e, &mut f).map_err(|x| err(format!("{shown}: write"), x))?;
                if let Some((u, g)) = ids {
                    rustix::fs::fchown(&f, Some(Uid::from_raw(u)), Some(Gid::from_raw(g)))
                        .map_err(|x| io_err("chown", x))?;
                }
                rustix::fs::fchmod(&f, Mode::from_raw_mode(mode))
                    .map_err(|x| io_err("chmod", x))?;
                let _ = rustix::fs::futimens(&f, &times);
            }
            tar::EntryType::Symlink => {
                let target = e
                    .link_name_bytes()
                    .ok_or_else(|| FsError(format!("{shown}: symlink without a target")))?
                    .into_owned();
                rustix::fs::symlinkat(OsStr::from_bytes(&target), &pfd, &base)
                    .map_err(|x| io_err("symlink", x))?;
                chown_at(ids)?;
                let _ = rustix::fs::utimensat(&pfd, &base, &times, AtFlags::SYMLINK_NOFOLLOW);
            }
            tar::EntryType::Link => {
                let target = e
                    .link_name_bytes()
                    .ok_or_else(|| FsError(format!("{shown}: hard link without a target")))?
                    .into_owned();
                let t = self.base.join(entry_name(&target)?);
                let (Some(tparent), Some(tname)) = (t.parent(), t.file_name()) else {
                    return Err(FsError(format!("{shown}: invalid hard link target")));
                };
                let tfd = open_dir_in(self.root, tparent).map_err(|x| io_err("link", x))?;
                rustix::fs::linkat(&tfd, tname, &pfd, &base, AtFlags::empty())
                    .map_err(|x| io_err("link", x))?;
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let ft = match kind {
                    tar::EntryType::Char => FileType::CharacterDevice,
                    tar::EntryType::Block => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                let dev = rustix::fs::makedev(
                    h.device_major().ok().flatten().unwrap_or(0),
                    h.device_minor().ok().flatten().unwrap_or(0),
                );
                match rustix::fs::mknodat(&pfd, &base, ft, Mode::from_raw_mode(mode), dev) {
                    Ok(()) => {}
                    Err(Errno::PERM) if ft != FileType::Fifo => return Ok(()),
                    Err(x) => return Err(io_err("mknod", x)),
                }
                chown_at(ids)?;
                let _ =
                    rustix::fs::chmodat(&pfd, &base, Mode::from_raw_mode(mode), AtFlags::empty());
            }
            // PAX/GNU extension records are consumed by the reader; anything
            // else (sparse files, …) is refused rather than half-written.
            other => {
                return Err(FsError(format!(
                    "{shown}: unsupported entry type {other:?}"
                )));
            }
        }
        Ok(())
    }

    fn finish_dirs(&mut self) -> Result<(), FsError> {
        self.dirs
            .sort_by_key(|d| std::cmp::Reverse(d.0.components().count()));
        for (path, mode, mtime) in &self.dirs {
            let parent = path.parent().unwrap_or(Path::new(""));
            let fd = if path.as_os_str().is_empty() {
                rustix::fs::openat2(
                    self.root,
                    ".",
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    Mode::empty(),
                    ResolveFlags::IN_ROOT,
                )
            } else {
                let Ok(pfd) = open_dir_in(self.root, parent) else {
                    continue;
                };
                let name = path.file_name().expect("named");
                rustix::fs::openat(
                    &pfd,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
            };
            let Ok(fd) = fd else { continue };
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(*mode))
                .map_err(|x| err(format!("chmod {}", path.display()), errno_io(x)))?;
            let t = Timespec {
                tv_sec: *mtime,
                tv_nsec: 0,
            };
            let _ = rustix::fs::futimens(
                &fd,
                &Timestamps {
                    last_access: t,
                    last_modification: t,
                },
            );
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// diff

/// docker's `A`/`C`/`D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    #[serde(rename = "C")]
    Modified,
    #[serde(rename = "A")]
    Added,
    #[serde(rename = "D")]
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Kind")]
    pub kind: ChangeKind,
}

/// Mount points the runtime creates in the upper dir when the image lacks
/// them: docker keeps these in a hidden init layer, so `diff` never shows them.
const INIT_PATHS: &[&str] = &[
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/console",
    "/proc",
    "/sys",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/etc/mtab",
    "/.dockerenv",
];

/// The changes of a container's `upper` dir against its image layers
/// (`lower`, top first), as docker's overlay driver reports them: walked in
/// byte order of names, a directory before its entries; an overlay whiteout
/// (0/0 character device) or an opaque directory is `D`; an entry that
/// exists in a layer is `C`, else `A`. A directory that exists in a layer is
/// only `C` when something under it changed or its mode or owner did
/// (docker compares times too, which the runtime's mount points disturb).
pub fn changes(upper: &Path, lower: &[PathBuf]) -> Result<Vec<Change>, FsError> {
    let lowers: Vec<OwnedFd> = lower
        .iter()
        .map(|l| {
            rustix::fs::open(
                l,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| err(l.display(), errno_io(e)))
        })
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    walk_changes(upper, Path::new(""), &lowers, &mut out)?;
    Ok(out)
}

fn in_lower(lowers: &[OwnedFd], rel: &Path) -> Option<rustix::fs::Stat> {
    for l in lowers {
        let fd = rustix::fs::openat2(
            l,
            rel,
            OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        );
        match fd {
            Ok(fd) => {
                let st = rustix::fs::fstat(&fd).ok()?;
                let whiteout = FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                    && st.st_rdev == 0;
                return if whiteout { None } else { Some(st) };
            }
            Err(Errno::NOENT) | Err(Errno::NOTDIR) => continue,
            Err(_) => return None,
        }
    }
    None
}

fn is_opaque(path: &Path) -> bool {
    let mut buf = [0u8; 4];
    ["user.overlay.opaque", "trusted.overlay.opaque"]
        .iter()
        .any(|name| matches!(rustix::fs::lgetxattr(path, *name, &mut buf), Ok(1) if buf[0] == b'y'))
}

fn walk_changes(
    upper: &Path,
    rel: &Path,
    lowers: &[OwnedFd],
    out: &mut Vec<Change>,
) -> Result<(), FsError> {
    let dir = upper.join(rel);
    let mut names: Vec<OsString> = fs::read_dir(&dir)
        .map_err(|e| err(dir.display(), e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| err(dir.display(), e))?;
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    for n in names {
        let child = rel.join(&n);
        let path = upper.join(&child);
        let shown = format!("/{}", child.display());
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        let ft = meta.file_type();
        if ft.is_char_device() && meta.rdev() == 0 {
            out.push(Change {
                path: shown,
                kind: ChangeKind::Deleted,
            });
            continue;
        }
        let below = in_lower(lowers, &child);
        let stub = INIT_PATHS.contains(&shown.as_str())
            && below.is_none()
            && (ft.is_dir() || (ft.is_file() && meta.len() == 0));
        if ft.is_dir() {
            let mut sub = Vec::new();
            walk_changes(upper, &child, lowers, &mut sub)?;
            let kind = if is_opaque(&path) {
                ChangeKind::Deleted
            } else if let Some(st) = below {
                let same = (st.st_mode & 0o7777) == (meta.mode() & 0o7777)
                    && st.st_uid == meta.uid()
                    && st.st_gid == meta.gid();
                if same && sub.is_empty() {
                    continue;
                }
                ChangeKind::Modified
            } else {
                if stub && sub.is_empty() {
                    continue;
                }
                ChangeKind::Added
            };
            out.push(Change { path: shown, kind });
            out.extend(sub);
            continue;
        }
        if stub {
            continue;
        }
        out.push(Change {
            path: shown,
            kind: if below.is_some() {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            },
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_paths_follow_dockers_cleaning() {
        let p = CopyPath::parse("/a/b/../c/", true);
        assert_eq!(p.clean, Path::new("/a/c"));
        assert!(p.asserts_dir && !p.contents);
        let p = CopyPath::parse("dir/.", true);
        assert_eq!(p.clean, Path::new("/dir"));
        assert!(p.contents);
        assert_eq!(p.base(), ".");
        assert_eq!(CopyPath::parse("../../x", true).clean, Path::new("/x"));
        assert_eq!(CopyPath::parse("../x/", false).clean, Path::new("../x"));
        assert_eq!(CopyPath::parse("x", false).parent(), Path::new("."));
        assert_eq!(CopyPath::parse("/", true).base(), ".");
    }

    #[test]
    fn docker_copy_rules() {
        let info = |exists, is_dir| PathInfo {
            exists,
            is_dir,
            path: PathBuf::from("/d/x"),
        };
        let dst = CopyPath::parse("/d/x", true);
        let dst_slash = CopyPath::parse("/d/x/", true);
        let n = OsStr::new("src");
        assert_eq!(
            prepare_copy(false, n, &dst, &info(true, true)).unwrap(),
            (PathBuf::from("/d/x"), OsString::from("src"))
        );
        assert_eq!(
            prepare_copy(false, n, &dst, &info(true, false)).unwrap(),
            (PathBuf::from("/d"), OsString::from("x"))
        );
        assert!(prepare_copy(true, n, &dst, &info(true, false)).is_err());
        assert_eq!(
            prepare_copy(true, n, &dst_slash, &info(false, false)).unwrap(),
            (PathBuf::from("/d"), OsString::from("x"))
        );
        assert!(prepare_copy(false, n, &dst_slash, &info(false, false)).is_err());
        assert_eq!(
            prepare_copy(false, n, &dst, &info(false, false)).unwrap(),
            (PathBuf::from("/d"), OsString::from("x"))
        );
    }

    #[test]
    fn round_trip_and_hostile_names() {
        let src = tempfile::tempdir().unwrap();
        fs::create_dir(src.path().join("d")).unwrap();
        fs::write(src.path().join("d/f"), b"hello").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", src.path().join("d/l")).unwrap();
        fs::hard_link(src.path().join("d/f"), src.path().join("d/h")).unwrap();
        let tar = write_tree(Vec::new(), &src.path().join("d"), Path::new("n"), false).unwrap();
        let dst = tempfile::tempdir().unwrap();
        let root =
            rustix::fs::open(dst.path(), OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let opts = ExtractOptions {
            owner: Owner::Caller,
        };
        extract(&tar[..], root.as_fd(), Path::new(""), &opts).unwrap();
        assert_eq!(fs::read(dst.path().join("n/f")).unwrap(), b"hello");
        assert_eq!(fs::read(dst.path().join("n/h")).unwrap(), b"hello");
        assert_eq!(
            fs::read_link(dst.path().join("n/l")).unwrap(),
            Path::new("/etc/passwd")
        );
        // Contents (`.`): bare names.
        let tar = write_tree(Vec::new(), &src.path().join("d"), Path::new("."), false).unwrap();
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect();
        assert_eq!(names, ["./", "f", "h", "l"]);

        // `..` is refused; a symlink written by the archive is followed only
        // inside the root.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "esc", "/").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, "esc/inside", &b"x"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let out = tempfile::tempdir().unwrap();
        let sub = out.path().join("root");
        fs::create_dir(&sub).unwrap();
        let root = rustix::fs::open(&sub, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        extract(&tar[..], root.as_fd(), Path::new(""), &opts).unwrap();
        assert!(sub.join("inside").exists());
        let mut raw = tar::Header::new_gnu();
        raw.as_old_mut().name[..7].copy_from_slice(b"../evil");
        raw.set_size(0);
        raw.set_entry_type(tar::EntryType::Regular);
        raw.set_cksum();
        let mut bytes = raw.as_bytes().to_vec();
        bytes.extend([0u8; 1024]);
        let e = extract(&bytes[..], root.as_fd(), Path::new(""), &opts).unwrap_err();
        assert!(e.to_string().contains("leaves"), "{e}");
        assert!(!out.path().join("evil").exists());
    }
}

#[cfg(test)]
mod layer_diff_tests {
    use super::*;

    #[test]
    fn pax_xattr_records_read_back() {
        let mut b = tar::Builder::new(Vec::new());
        let records = vec![
            ("security.capability".to_string(), vec![1u8, 0, 0, 2, 0, 4]),
            ("user.long".to_string(), vec![b'x'; 95]),
        ];
        append_pax(&mut b, &records).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o644);
        b.append_data(&mut h, "f", io::empty()).unwrap();
        let data = b.into_inner().unwrap();
        let mut ar = tar::Archive::new(&data[..]);
        let mut e = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.path().unwrap(), Path::new("f"));
        let ext: Vec<(String, Vec<u8>)> = e
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|x| {
                let x = x.unwrap();
                (x.key().unwrap().to_string(), x.value_bytes().to_vec())
            })
            .collect();
        assert_eq!(
            ext,
            vec![
                (
                    "SCHILY.xattr.security.capability".to_string(),
                    records[0].1.clone()
                ),
                ("SCHILY.xattr.user.long".to_string(), records[1].1.clone()),
            ]
        );
    }

    #[test]
    fn layer_diff_converts_whiteouts_and_skips_mount_stubs() {
        if !nix::unistd::geteuid().is_root() {
            return; // mknod of a whiteout needs root
        }
        let tmp = std::env::temp_dir().join(format!("berth-diff-test-{}", std::process::id()));
        let (upper, lower) = (tmp.join("upper"), tmp.join("lower"));
        fs::create_dir_all(upper.join("etc")).unwrap();
        fs::create_dir_all(upper.join("gone/sub")).unwrap();
        fs::create_dir_all(upper.join("vol")).unwrap();
        fs::create_dir_all(upper.join("proc")).unwrap();
        fs::create_dir_all(lower.join("etc")).unwrap();
        fs::write(upper.join("etc/hosts"), b"").unwrap();
        fs::write(upper.join("etc/new"), b"new\n").unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            upper.join("etc/old"),
            FileType::CharacterDevice,
            Mode::empty(),
            0,
        )
        .unwrap();
        rustix::fs::setxattr(
            upper.join("gone"),
            "user.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .unwrap();
        let out = write_layer_diff(
            Vec::new(),
            &upper,
            std::slice::from_ref(&lower),
            &["/vol".into()],
        )
        .unwrap();
        let names: Vec<String> = tar::Archive::new(&out[..])
            .entries()
            .unwrap()
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect();
        assert_eq!(
            names,
            // In the order of the upper dir's names, as docker's walk.
            [
                "etc/",
                "etc/new",
                "etc/.wh.old",
                "gone/",
                "gone/.wh..wh..opq",
                "gone/sub/"
            ]
        );
        fs::remove_dir_all(&tmp).unwrap();
    }
}
