//! Copy-up: docker fills a new, empty volume mounted over a directory of the
//! image with that directory's files (owners, modes, times, symlinks and
//! hard links kept), once.
//!
//! The files are read from the image's layer dirs as overlay would show
//! them (the same rules as [`crate::container::create::read_from_layers`]):
//! top layer first, a whiteout (character device 0/0) hides a name below
//! it, an opaque directory (`user.overlay.opaque=y`) hides the directories
//! below it, symlinks on the way to the directory are followed inside the
//! image. Rootless this runs in `berth internal volume-copy-up`, inside the
//! user namespace with the caller's subuid map, so the copies get their real
//! (subordinate) owners.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::image::store::has_opaque_marker;

fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

/// The first of `contrib` (layer roots, top first) holding `rel`, and what it is there.
fn lookup(contrib: &[PathBuf], rel: &Path) -> Option<(usize, Metadata)> {
    contrib
        .iter()
        .enumerate()
        .find_map(|(i, l)| fs::symlink_metadata(l.join(rel)).ok().map(|m| (i, m)))
}

/// The layers (from `contrib[from]` down) whose `rel` is a directory that
/// shows through: down to the first opaque one, stopping at a non-directory.
fn dir_layers(contrib: &[PathBuf], from: usize, rel: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for l in &contrib[from..] {
        let p = l.join(rel);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                out.push(l.clone());
                if has_opaque_marker(&p) {
                    break;
                }
            }
            Ok(_) => break,
            Err(_) => continue,
        }
    }
    out
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// `path` in the image's merged view, symlinks followed inside the image:
/// the resolved path (relative) and the layers holding it as a directory,
/// top first. None when it is missing or not a directory.
pub fn resolve_dir(layers: &[PathBuf], path: &str) -> Option<(PathBuf, Vec<PathBuf>)> {
    let mut pending = components(Path::new(path));
    pending.reverse();
    let mut cur = PathBuf::new();
    let mut contrib = layers.to_vec();
    let mut hops = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            let mut rest = components(cur.parent().unwrap_or(Path::new("")));
            rest.reverse();
            pending.extend(rest);
            cur = PathBuf::new();
            contrib = layers.to_vec();
            continue;
        }
        let child = cur.join(&c);
        let (i, m) = lookup(&contrib, &child)?;
        if m.is_dir() {
            contrib = dir_layers(&contrib, i, &child);
            cur = child;
        } else if m.file_type().is_symlink() {
            hops += 1;
            if hops > 40 {
                return None;
            }
            let target = fs::read_link(contrib[i].join(&child)).ok()?;
            let full = if target.is_absolute() {
                target
            } else {
                cur.join(target)
            };
            let mut rest = components(&full);
            rest.reverse();
            pending.extend(rest);
            cur = PathBuf::new();
            contrib = layers.to_vec();
        } else {
            return None;
        }
    }
    Some((cur, contrib))
}

/// Copies the image's `path` into `dest` if `dest` is empty. Returns whether
/// the image had a directory there with anything in it.
pub fn copy_up(layers: &[PathBuf], path: &str, dest: &Path) -> io::Result<bool> {
    if fs::read_dir(dest)?.next().is_some() {
        return Ok(false);
    }
    let Some((rel, contrib)) = resolve_dir(layers, path) else {
        return Ok(false);
    };
    let mut links = HashMap::new();
    let copied = copy_dir(&contrib, &rel, dest, &mut links)?;
    let m = fs::symlink_metadata(contrib[0].join(&rel))?;
    set_owner_mode_times(dest, &m)?;
    Ok(copied)
}

/// Hard links already copied: (dev, ino) of the source → the copy.
type Links = HashMap<(u64, u64), PathBuf>;

fn copy_dir(contrib: &[PathBuf], rel: &Path, dest: &Path, links: &mut Links) -> io::Result<bool> {
    let mut names: BTreeMap<OsString, usize> = BTreeMap::new();
    for (i, l) in contrib.iter().enumerate() {
        let Ok(entries) = fs::read_dir(l.join(rel)) else {
            continue;
        };
        for e in entries {
            names.entry(e?.file_name()).or_insert(i);
        }
    }
    let mut any = false;
    for (name, i) in names {
        let child = rel.join(&name);
        let src = contrib[i].join(&child);
        let m = fs::symlink_metadata(&src)?;
        if is_whiteout(&m) {
            continue;
        }
        any = true;
        let d = dest.join(&name);
        let t = m.file_type();
        if t.is_dir() {
            fs::create_dir(&d)?;
            let below = dir_layers(contrib, i, &child);
            copy_dir(&below, &child, &d, links)?;
            set_owner_mode_times(&d, &m)?;
        } else if t.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &d)?;
            std::os::unix::fs::lchown(&d, Some(m.uid()), Some(m.gid()))?;
            set_times(&d, &m)?;
        } else if t.is_file() {
            if m.nlink() > 1 {
                if let Some(first) = links.get(&(m.dev(), m.ino())) {
                    fs::hard_link(first, &d)?;
                    continue;
                }
                links.insert((m.dev(), m.ino()), d.clone());
            }
            fs::copy(&src, &d)?;
            set_owner_mode_times(&d, &m)?;
        } else {
            // fifos, sockets, devices: recreated where allowed (not rootless devices).
            let kind = if t.is_fifo() {
                nix::sys::stat::SFlag::S_IFIFO
            } else if t.is_char_device() {
                nix::sys::stat::SFlag::S_IFCHR
            } else if t.is_block_device() {
                nix::sys::stat::SFlag::S_IFBLK
            } else {
                continue;
            };
            let perm = nix::sys::stat::Mode::from_bits_truncate(m.mode() & 0o7777);
            if nix::sys::stat::mknod(&d, kind, perm, m.rdev()).is_ok() {
                set_owner_mode_times(&d, &m)?;
            }
        }
    }
    Ok(any)
}

fn set_owner_mode_times(p: &Path, m: &Metadata) -> io::Result<()> {
    std::os::unix::fs::lchown(p, Some(m.uid()), Some(m.gid()))?;
    // After the chown, which clears setuid/setgid.
    fs::set_permissions(p, fs::Permissions::from_mode(m.mode() & 0o7777))?;
    set_times(p, m)
}

fn set_times(p: &Path, m: &Metadata) -> io::Result<()> {
    use rustix::fs::{AtFlags, Timespec, Timestamps, utimensat};
    let ts = |s: i64, ns: i64| Timespec {
        tv_sec: s,
        tv_nsec: ns as _,
    };
    let times = Timestamps {
        last_access: ts(m.atime(), m.atime_nsec()),
        last_modification: ts(m.mtime(), m.mtime_nsec()),
    };
    utimensat(rustix::fs::CWD, p, &times, AtFlags::SYMLINK_NOFOLLOW)
        .map_err(|e| io::Error::from_raw_os_error(e.raw_os_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_merged_view_with_whiteouts_and_opaque_dirs() {
        let dir = tempfile::tempdir().unwrap();
        let (top, bottom) = (dir.path().join("top"), dir.path().join("bottom"));
        fs::create_dir_all(bottom.join("data/old")).unwrap();
        fs::write(bottom.join("data/a"), "a").unwrap();
        fs::write(bottom.join("data/old/x"), "x").unwrap();
        fs::write(bottom.join("data/gone"), "gone").unwrap();
        fs::create_dir_all(top.join("data/old")).unwrap();
        fs::write(top.join("data/b"), "b").unwrap();
        std::os::unix::fs::symlink("data", top.join("link")).unwrap();
        // An opaque `old` in the top layer hides bottom's `old/x`, if the
        // file system takes user xattrs; `gone` is removed by a whiteout where
        // we may make one (root).
        let opaque = rustix::fs::setxattr(
            top.join("data/old"),
            "user.overlay.opaque",
            b"y",
            rustix::fs::XattrFlags::empty(),
        )
        .is_ok();
        let whiteout = nix::sys::stat::mknod(
            &top.join("data/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .is_ok();
        let layers = vec![top.clone(), bottom.clone()];
        let dest = dir.path().join("dest");
        fs::create_dir(&dest).unwrap();
        assert!(copy_up(&layers, "/link/", &dest).unwrap());
        assert_eq!(fs::read_to_string(dest.join("a")).unwrap(), "a");
        assert_eq!(fs::read_to_string(dest.join("b")).unwrap(), "b");
        assert_eq!(dest.join("old/x").exists(), !opaque);
        assert_eq!(dest.join("gone").exists(), !whiteout);
        // Not empty any more: a second copy-up does nothing.
        fs::write(dest.join("a"), "changed").unwrap();
        assert!(!copy_up(&layers, "/data", &dest).unwrap());
        assert_eq!(fs::read_to_string(dest.join("a")).unwrap(), "changed");
        assert!(resolve_dir(&layers, "/missing").is_none());
        assert!(resolve_dir(&layers, "/data/a").is_none());
    }
}
